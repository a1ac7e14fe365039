"""The sentence-transformers model: loaded once, offline, batched, normalised vectors.

Construction is cheap (no torch): ``warm_up()`` loads the model, and the first ``encode`` does it when
nobody did. The fingerprint and the dimension come from the model directory's files, so checking that
an index fits the model (``rag ask --retriever bm25 --no-answer`` does only that) loads nothing."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..precision import choose, cpu_has_bf16
from ..warm import WarmUp

# Never reach for a model hub at run time: the model is a local directory.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def model_fingerprint(model: str) -> str:
    """Identifies a model directory by its contents, not its path, so a venv moved elsewhere
    still matches the index it built."""
    root = Path(model)
    digest = hashlib.sha256()
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"):
        file = root / name
        if file.is_file():
            digest.update(name.encode())
            digest.update(file.read_bytes())
    for file in sorted(root.glob("*.safetensors")) + sorted(root.glob("*.bin")):
        digest.update(f"{file.name}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def configured_dimension(model: str) -> int | None:
    """The vector width that the directory's sentence-transformers configs declare, read without
    loading the model; None when a module is one whose width we cannot read (then the model is
    loaded and asked)."""
    root = Path(model)
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        dimension = None
        for module in modules:
            kind = str(module.get("type", "")).rsplit(".", 1)[-1]
            config = root / module.get("path", "") / "config.json"
            if kind == "Transformer":
                continue  # its width shows in the pooling config that follows
            if kind == "Pooling":
                pooling = json.loads(config.read_text(encoding="utf-8"))
                # Several pooling modes are concatenated (sentence_transformers.models.Pooling).
                modes = sum(1 for k, v in pooling.items() if k.startswith("pooling_mode_") and v is True)
                dimension = int(pooling["word_embedding_dimension"]) * modes or None
            elif kind == "Dense":
                dimension = int(json.loads(config.read_text(encoding="utf-8"))["out_features"])
            elif kind != "Normalize":
                return None
        return dimension
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


# Below this many texts in one call the embedder computes in fp32 even when its precision is bf16:
# on a 2-core AMX CPU one short question takes longer under bf16 autocast (`rag bench`: p50 14.8 ms
# against 11.9 ms; casting the weights costs more than the small matrix products save), while batches
# of chunks run 1.7-2.4x faster (README, "Indexing speed").
BF16_MIN_TEXTS = 8


class Embedder(WarmUp):
    """Wraps one ``SentenceTransformer``. ``encode`` returns float32, L2-normalised rows, so inner
    product is cosine similarity.

    ``precision`` ("auto", "fp32", "bf16"; RAG_EMBED_PRECISION) says how batches are computed: bf16 runs
    the model under ``torch.autocast`` (weights stay fp32, so one model serves both precisions and a
    single question still gets fp32); the vectors returned are float32 either way."""

    def __init__(self, model: str, batch_size: int = 64, precision: str = "auto") -> None:
        if not Path(model).is_dir():
            raise UserError(
                f"embedding model directory not found: {model} "
                "(set RAG_MODEL to a local sentence-transformers directory)"
            )
        try:
            chosen = choose(precision, cpu_has_bf16())
        except ValueError as exc:
            raise UserError(f"{exc} (RAG_EMBED_PRECISION)") from None
        super().__init__()
        self.name = model
        self.fingerprint = model_fingerprint(model)
        self.batch_size = batch_size
        # "bf16" or "fp32": what a batch of BF16_MIN_TEXTS or more is computed in (the manifest records it).
        self.precision = chosen
        self._dimension = configured_dimension(model)

    @classmethod
    def loaded(cls, model: str, batch_size: int = 64, precision: str = "auto") -> Embedder:
        """An embedder whose model is already loaded (for callers that time what follows)."""
        embedder = cls(model, batch_size, precision)
        embedder.warm_up()
        return embedder

    @classmethod
    def from_settings(cls, settings: Any, loaded: bool = False) -> Embedder:
        """The embedder that ``settings`` (a ``rag.settings.Settings``) name: model, batch, precision."""
        make = cls.loaded if loaded else cls
        return make(settings.model, settings.batch_size, settings.embed_precision)

    def in_precision(self, precision: str) -> Embedder:
        """The same model (loaded once, shared) computing in ``precision``: `rag bench` and the
        measurement scripts compare fp32 and bf16 in one process."""
        other = type(self)(self.name, self.batch_size, precision)
        self.warm_up()
        other._dimension, other._model = self._dimension, self._model
        return other

    def uses_bf16(self, texts: int) -> bool:
        """Whether ``encode`` of ``texts`` texts computes in bf16 (see BF16_MIN_TEXTS). Chunks and their
        sentences (``encode_with_sentences``) always get the chosen precision, which the manifest records."""
        return self.precision == "bf16" and texts >= BF16_MIN_TEXTS

    @staticmethod
    def _compute(bf16: bool) -> AbstractContextManager[Any]:
        if not bf16:
            return nullcontext()
        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16)

    def _load(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        # Two cores: more threads than cores only adds contention.
        torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
        try:
            model = SentenceTransformer(self.name, device="cpu", local_files_only=True)
        except Exception as exc:  # a broken directory is a user error, not a traceback
            raise UserError(f"cannot load the embedding model from {self.name}: {exc}") from exc
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = get_dim()
        if not dim:
            dim = model.encode(["dimension probe"], convert_to_numpy=True).shape[1]
        self._dimension = int(dim)  # the model's own word wins over the configs'
        self._model = model  # last: a model that is set is ready to use

    @property
    def model(self) -> Any:
        """The ``SentenceTransformer``, loaded on first use."""
        self.warm_up()
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self.warm_up()
        return self._dimension  # type: ignore[return-value]

    def encode(self, texts: Sequence[str], progress: bool = False, bf16: bool | None = None) -> np.ndarray:
        """``bf16`` None follows the rule (``uses_bf16``); True or False forces it (`rag bench` times both)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._compute(self.uses_bf16(len(texts)) if bf16 is None else bf16):
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])

    def encode_with_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                              progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        """Chunk vectors and, from the same forward pass, one vector per sentence span ("late
        chunking": the mean of the sentence's contextual token vectors). ``spans[i]`` are character
        offsets into ``texts[i]``. The chunk vectors equal ``encode(texts)`` (computed in the chosen
        precision, whatever the number of texts); the sentence vectors cost no extra model call, and let
        retrieval and the answerer score single sentences."""
        import torch

        n = len(texts)
        chunk_vectors = np.zeros((n, self.dimension), dtype=np.float32)
        sentence_vectors: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * n
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths pad least
        tokenizer = self.model.tokenizer
        max_length = self.model.get_max_seq_length() or 512
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, desc="Embedding", unit="chunk")
        for b in range(0, n, self.batch_size):
            idx = order[b:b + self.batch_size]
            batch = [texts[i] for i in idx]
            enc = tokenizer(batch, padding=True, truncation="longest_first", max_length=max_length,
                            return_tensors="pt", return_offsets_mapping=True)
            offsets = enc.pop("offset_mapping").numpy()
            with torch.inference_mode(), self._compute(self.precision == "bf16"):
                out = self.model(dict(enc))
            # Under bf16 autocast the outputs are bf16: back to float32 before numpy and the norms.
            pooled = torch.nn.functional.normalize(out["sentence_embedding"].float(), dim=-1).numpy()
            tokens = out["token_embeddings"].float().numpy()
            mask = enc["attention_mask"].numpy().astype(bool)
            for j, i in enumerate(idx):
                chunk_vectors[i] = pooled[j]
                real = mask[j] & (offsets[j, :, 1] > offsets[j, :, 0])  # no padding or special tokens
                rows = []
                for s, e in spans[i]:
                    sel = real & (offsets[j, :, 0] >= s) & (offsets[j, :, 1] <= e)
                    # A sentence past the model's window (truncated) falls back to the chunk vector.
                    v = tokens[j][sel].mean(axis=0) if sel.any() else pooled[j]
                    rows.append(v / (np.linalg.norm(v) or 1.0))
                sentence_vectors[i] = np.asarray(rows, dtype=np.float32).reshape(-1, self.dimension)
            if bar:
                bar.update(len(idx))
        if bar:
            bar.close()
        return chunk_vectors, sentence_vectors


def describe(model: str) -> dict[str, str]:
    config = Path(model) / "config.json"
    arch = ""
    if config.is_file():
        arch = ",".join(json.loads(config.read_text()).get("architectures", []))
    return {"model": model, "architecture": arch}
