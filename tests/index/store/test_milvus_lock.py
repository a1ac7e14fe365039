"""A Milvus build takes a writer lock as the local store's does: a second writer of the same Milvus
Lite file or server stops with IndexBusy (no Milvus is needed: the lock is a file on this machine)."""

from __future__ import annotations

import pytest

from rag.index.store.lock import IndexBusy
from rag.index.store.milvus import MilvusStore, parse_uri


@pytest.mark.parametrize("uri", ["milvus:///{tmp}/rag.db", "milvus://127.0.0.1:19999"])
def test_a_second_milvus_writer_is_refused(tmp_path, uri):
    target = parse_uri(uri.format(tmp=tmp_path))
    first, second = MilvusStore(target, None, None), MilvusStore(target, None, None)
    with first.writing(0):
        with pytest.raises(IndexBusy, match="another build is writing the index at milvus://"):
            with second.writing(0):
                pass
    with second.writing(0):  # released with the first
        pass
