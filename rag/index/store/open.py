"""Opening the store that a setting names: ``local`` or a ``milvus://`` URI."""

from __future__ import annotations

from pathlib import Path

from ...errors import UserError
from .base import Store
from .local import LocalStore


def open_store(index_dir: Path, store: str = "local", mmap: bool = False, create: bool = False) -> Store:
    """The store for reading (a missing or unreadable index is one line here), or with ``create``
    for writing: a store that holds nothing yet, or an index to be rebuilt, is no error then."""
    if store == "local":
        return LocalStore.at(index_dir) if create else LocalStore.load(index_dir, mmap=mmap)
    if store.startswith("milvus://"):
        # Imported only when asked for: it quiets gRPC's and Milvus Lite's logging as it loads.
        from .milvus import MilvusStore

        return MilvusStore.open(store, create=create)
    raise UserError(f"unknown store {store!r}: use 'local' or a milvus:// URI")
