"""Where chunks, vectors and words are kept. ``LocalStore`` (FAISS + bm25s under a directory) is
the default, Milvus the alternative; every store reads and writes through ``Store``.

The names below load on first use (PEP 562): importing ``rag.index.store.ann`` for its constants, as
the settings and the CLI do, must not pull in FAISS, bm25s and numba."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_WHERE = {"Hits": "base", "Manifest": "base", "Sentences": "base", "Store": "base", "StoreInfo": "base",
          "Update": "base", "LocalStore": "local", "open_store": "open"}

if TYPE_CHECKING:
    from .base import Hits, Manifest, Sentences, Store, StoreInfo, Update
    from .local import LocalStore
    from .open import open_store

__all__ = ["Hits", "Manifest", "Sentences", "Store", "StoreInfo", "Update", "LocalStore", "open_store"]


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
