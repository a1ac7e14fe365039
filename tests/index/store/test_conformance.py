"""The store conformance suite (``conformance.py``), once per backend. A new backend is one more
class here with its ``backend`` fixture: a store that holds nothing yet."""

from __future__ import annotations

import os

import pytest

from tests.index.store.conformance import Backend, StoreConformance
from tests.index.store.conftest import clear_milvus, milvus


class TestLocalStore(StoreConformance):
    @pytest.fixture
    def backend(self, tmp_path) -> Backend:
        return Backend("local", tmp_path / "index")


class TestMilvusLite(StoreConformance):
    pytestmark = milvus

    @pytest.fixture
    def backend(self, tmp_path) -> Backend:
        return Backend(f"milvus://{tmp_path / 'rag.db'}", tmp_path / "index")


class TestMilvusServer(StoreConformance):
    """Over the network, through the gRPC protocol a Milvus cluster speaks."""

    pytestmark = milvus

    @pytest.fixture
    def backend(self, milvus_server, tmp_path) -> Backend:
        clear_milvus(milvus_server.uri)
        return Backend(milvus_server.uri, tmp_path / "index")


if os.environ.get("RAG_MILVUS_URI"):  # only where one is named, so the suite's summary stays short

    class TestMilvusExternal(StoreConformance):
        """A real Milvus server or cluster of your own (RAG_MILVUS_URI); the tests drop its rag_* collections."""

        pytestmark = milvus

        @pytest.fixture
        def backend(self, tmp_path) -> Backend:
            uri = os.environ["RAG_MILVUS_URI"]
            clear_milvus(uri)
            return Backend(uri, tmp_path / "index")
