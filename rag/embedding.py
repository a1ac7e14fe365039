"""The sentence-transformers model: loaded once, offline, batched, normalised vectors."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .errors import UserError

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


class Embedder:
    """Wraps one ``SentenceTransformer``. ``encode`` returns float32, L2-normalised rows, so inner
    product is cosine similarity."""

    def __init__(self, model: str, batch_size: int = 64) -> None:
        if not Path(model).is_dir():
            raise UserError(
                f"embedding model directory not found: {model} "
                "(set RAG_MODEL to a local sentence-transformers directory)"
            )
        import torch
        from sentence_transformers import SentenceTransformer

        # Two cores: more threads than cores only adds contention.
        torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))
        try:
            self.model = SentenceTransformer(model, device="cpu", local_files_only=True)
        except Exception as exc:  # a broken directory is a user error, not a traceback
            raise UserError(f"cannot load the embedding model from {model}: {exc}") from exc
        self.name = model
        self.fingerprint = model_fingerprint(model)
        self.batch_size = batch_size
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dimension = int(dim) if dim else int(self.encode(["dimension probe"]).shape[1])

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])


def describe(model: str) -> dict[str, str]:
    config = Path(model) / "config.json"
    arch = ""
    if config.is_file():
        arch = ",".join(json.loads(config.read_text()).get("architectures", []))
    return {"model": model, "architecture": arch}
