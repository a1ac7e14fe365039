"""The Embedder: construction loads nothing, the width comes from the model's config files, and
``warm_up`` loads once however many threads ask."""

from __future__ import annotations

import json
import threading
import time

import pytest

from rag.errors import UserError
from rag.index.embedding import Embedder, configured_dimension
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
