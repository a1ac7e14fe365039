"""The Embedder: construction loads nothing, the width comes from the model's config files, and
``warm_up`` loads once however many threads ask."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import UserError
from rag.index.embedding import BF16_MIN_TEXTS, Embedder, configured_dimension
from rag.settings import default_model


def _model_dir(folder, *modules: tuple[str, str, dict | None]):
    """A sentence-transformers layout: modules.json and each module's config.json (no weights)."""
    folder.mkdir(exist_ok=True)
    rows = []
    for i, (kind, path, config) in enumerate(modules):
        rows.append({"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"})
        if config is not None:
            (folder / path).mkdir(exist_ok=True)
            (folder / path / "config.json").write_text(json.dumps(config))
    (folder / "modules.json").write_text(json.dumps(rows))
    return folder


MEAN = {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}


def test_the_shipped_model_declares_384():
    assert configured_dimension(default_model()) == 384


@pytest.mark.parametrize("modules, expected", [
    ([("Transformer", "", None), ("Pooling", "1_Pooling", MEAN), ("Normalize", "2_Normalize", None)], 384),
    ([("Transformer", "", None), ("Pooling", "1_Pooling", {**MEAN, "pooling_mode_max_tokens": True})], 768),
    ([("Transformer", "", None), ("Pooling", "1_Pooling", MEAN), ("Dense", "2_Dense", {"out_features": 256})], 256),
    # A module whose width we cannot read: unknown, so the model is loaded and asked.
    ([("Transformer", "", None), ("Pooling", "1_Pooling", MEAN), ("LayerNorm", "2_LayerNorm", {})], None),
    ([("Transformer", "", None), ("Pooling", "1_Pooling", {"word_embedding_dimension": 384})], None),
])
def test_configured_dimension(tmp_path, modules, expected):
    assert configured_dimension(str(_model_dir(tmp_path / "m", *modules))) == expected


def test_no_or_broken_modules_json_is_unknown(tmp_path):
    assert configured_dimension(str(tmp_path)) is None
    (tmp_path / "modules.json").write_text("{broken")
    assert configured_dimension(str(tmp_path)) is None


def test_construction_loads_nothing():
    embedder = Embedder(default_model())
    assert embedder.dimension == 384 and embedder.fingerprint and embedder._model is None


def test_a_missing_directory_is_one_clear_error_at_construction(tmp_path):
    with pytest.raises(UserError, match="embedding model directory not found"):
        Embedder(str(tmp_path / "nowhere"))


def test_warm_up_loads_once_for_concurrent_callers(monkeypatch):
    loads = []

    def slow_load(self):
        loads.append(1)
        time.sleep(0.05)
        self._model = object()

    monkeypatch.setattr(Embedder, "_load", slow_load)
    embedder = Embedder(default_model())
    threads = [threading.Thread(target=embedder.warm_up) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    embedder.warm_up()
    assert loads == [1]


def test_an_unreadable_width_is_asked_of_the_model(monkeypatch):
    def load(self):
        self._dimension, self._model = 512, object()

    monkeypatch.setattr(Embedder, "_load", load)
    monkeypatch.setattr("rag.index.embedding.configured_dimension", lambda model: None)
    embedder = Embedder(default_model())
    assert embedder._model is None
    assert embedder.dimension == 512 and embedder._model is not None


@pytest.mark.slow
def test_the_loaded_model_agrees_with_its_configs():
    embedder = Embedder.loaded(default_model())
    assert embedder._model is not None
    assert embedder.model.get_sentence_embedding_dimension() == configured_dimension(default_model()) == 384
    assert embedder.encode(["a sentence"]).shape == (1, 384)


# -- precision: bf16 where the CPU has it, fp32 for a lone question (RAG_EMBED_PRECISION) ---------------
def tiny_sentence_model(folder):
    """A one-layer, 32-wide sentence-transformers model with MiniLM's tokenizer: loads in a moment."""
    import shutil

    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config, add_pooling_layer=False).save_pretrained(str(folder))
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(Path(default_model()) / name, folder / name)
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128, "do_lower_case": False}))
    pooling = {**MEAN, "word_embedding_dimension": 32}
    return str(_model_dir(folder, ("Transformer", "", None), ("Pooling", "1_Pooling", pooling),
                          ("Normalize", "2_Normalize", None)))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_sentence_model(tmp_path_factory.mktemp("tiny-st"))


TEXTS = [f"Sentence number {i} about the river bridge, the council budget and {i * 7} tonnes of coal."
         for i in range(12)]


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_the_cpu_and_forcing_overrides_it(monkeypatch, native):
    monkeypatch.setattr("rag.index.embedding.cpu_has_bf16", lambda: native)
    assert Embedder(default_model()).precision == ("bf16" if native else "fp32")
    assert Embedder(default_model(), precision="fp32").precision == "fp32"
    assert Embedder(default_model(), precision="bf16").precision == "bf16"


def test_an_unknown_precision_is_one_line_naming_the_variable():
    with pytest.raises(UserError, match="RAG_EMBED_PRECISION") as caught:
        Embedder(default_model(), precision="fp16")
    assert "\n" not in str(caught.value)


def test_the_settings_choose_the_precision(monkeypatch):
    from rag.settings import Settings

    monkeypatch.setattr("rag.index.embedding.cpu_has_bf16", lambda: True)
    assert Embedder.from_settings(Settings(embed_precision="fp32")).precision == "fp32"
    assert Embedder.from_settings(Settings()).precision == "bf16"


def test_bf16_is_for_batches_only():
    bf16, fp32 = Embedder(default_model(), precision="bf16"), Embedder(default_model(), precision="fp32")
    assert not bf16.uses_bf16(1) and not bf16.uses_bf16(BF16_MIN_TEXTS - 1)
    assert bf16.uses_bf16(BF16_MIN_TEXTS) and bf16.uses_bf16(1000)
    assert not fp32.uses_bf16(1000)


def test_bf16_batches_are_close_to_fp32_but_computed_in_bf16(tiny):
    fp32 = Embedder(tiny, precision="fp32").encode(TEXTS)
    bf16 = Embedder(tiny, precision="bf16").encode(TEXTS)
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape == (len(TEXTS), 32)
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cosine = (fp32 * bf16).sum(axis=1)
    assert cosine.min() > 0.99  # the same vectors, up to bf16 rounding...
    assert np.abs(fp32 - bf16).max() > 1e-5  # ...which is there: bf16 was used


def test_a_lone_question_is_embedded_in_fp32(tiny):
    question = "How many tonnes of coal?"
    assert np.allclose(Embedder(tiny, precision="bf16").encode_query(question),
                       Embedder(tiny, precision="fp32").encode_query(question), atol=1e-6)


def test_chunk_and_sentence_vectors_follow_the_precision(tiny):
    spans = [[(0, 18), (19, len(t))] for t in TEXTS[:3]]  # even a small call: the index gets one precision
    vectors = {}
    for p in ("fp32", "bf16"):
        chunks, sentences = Embedder(tiny, precision=p).encode_with_sentences(TEXTS[:3], spans)
        assert chunks.dtype == np.float32 and all(s.dtype == np.float32 and s.shape == (2, 32) for s in sentences)
        vectors[p] = chunks, np.concatenate(sentences)
    for a, b in zip(vectors["fp32"], vectors["bf16"]):
        assert (a * b).sum(axis=1).min() > 0.99 and np.abs(a - b).max() > 1e-5


@pytest.mark.slow
def test_the_real_model_in_bf16_ranks_like_fp32():
    """The shipped model under bf16 autocast: vectors within rounding of fp32's, and the seeds' chunks
    ranked alike for the eval questions (what lets an index of one precision serve the other)."""
    from rag.evaluate.sets import load_eval_set
    from rag.ingest.chunking import chunk_document
    from rag.ingest.documents import load_documents
    from tests.conftest import ROOT, SEEDS

    fp32 = Embedder.loaded(default_model(), precision="fp32")
    bf16 = fp32.in_precision("bf16")
    texts = [c.text for d in load_documents([SEEDS]) for c in chunk_document(d, 600, 150)]
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert (a * b).sum(axis=1).min() >= 0.999 and np.abs(a - b).max() > 0  # close, and really bf16
    questions = [q.question for q in load_eval_set(ROOT / "eval" / "questions.jsonl")][:40]
    q = fp32.encode(questions)
    assert np.allclose(bf16.encode_query(questions[0]), fp32.encode_query(questions[0]), atol=1e-6)
    same_top = np.mean(np.argmax(q @ a.T, axis=1) == np.argmax(q @ b.T, axis=1))
    assert same_top >= 0.95
