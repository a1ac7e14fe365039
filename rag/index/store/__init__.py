"""Where chunks, vectors and words are kept. ``LocalStore`` (FAISS + bm25s under a directory) is
the default; every store answers the same questions (see ``Store``)."""

from .base import Store, StoreInfo
from .local import LocalStore, open_store

__all__ = ["Store", "StoreInfo", "LocalStore", "open_store"]
