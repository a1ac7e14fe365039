"""Shared fixtures: a fast fake embedder for unit tests, and the real seeds index for end-to-end
tests (built once per session with the real model)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


class HashEmbedder:
    """Deterministic bag-of-words vectors: enough to test storage and ranking plumbing without
    the neural model."""

    name = "hash-embedder"
    fingerprint = "hash-embedder-v1"
    dimension = 64

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts, progress: bool = False) -> np.ndarray:
        self.calls.append(len(texts))
        return self._vectors(texts)

    def _vectors(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest()[:8], 16)
                out[i, h % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])

    def encode_with_sentences(self, texts, spans, progress: bool = False):
        vectors = self.encode(texts)
        return vectors, [self._vectors([t[s:e] for s, e in sp]) for t, sp in zip(texts, spans)]


# -- the fast tier stays model-free ----------------------------------------------------------------
# `make test-fast` (-m "not slow") must never load the real embedding model or the real reader: a test
# that does fails here, naming itself, so the tier stays fast. Checked where the model is loaded, so a
# session fixture built for the test (seeds_index) counts too. Tiny test models are free to load.
_RUNNING: list[pytest.Item] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _RUNNING.append(item)
    try:
        yield
    finally:
        _RUNNING.pop()


def _is_real_model(folder) -> bool:
    from rag.settings import default_model

    return Path(folder).resolve() == Path(default_model()).resolve()


def _guard(cls, what: str, folder) -> None:
    load = cls._load

    def guarded(self, *args, **kwargs):
        out = load(self, *args, **kwargs)
        item = _RUNNING[-1] if _RUNNING else None
        if item is not None and item.get_closest_marker("slow") is None and _is_real_model(folder(self)):
            # pytest.fail is a BaseException: no `except Exception` in the code under test hides it.
            pytest.fail(f"{item.nodeid} loads the real {what} but is not marked slow "
                        "(@pytest.mark.slow; `make test-fast` must not load it)", pytrace=False)
        return out

    cls._load = guarded


def pytest_configure(config):
    from rag.answer.reader import Reader
    from rag.index.embedding import Embedder

    _guard(Embedder, "embedding model", lambda e: e.name)
    # The reader's encoder is the real MiniLM when its base folder is the shipped model.
    _guard(Reader, "reader", lambda r: r.base_dir)


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory) -> Path:
    """The seeds indexed with the real model, once per test session."""
    from rag import Settings, build_index

    index_dir = tmp_path_factory.mktemp("seeds-index")
    build_index([SEEDS], Settings.from_env(index_dir=index_dir), progress=False)
    return index_dir


@pytest.fixture(scope="session")
def assistant(seeds_index):
    from rag import Assistant

    return Assistant.load(seeds_index)
