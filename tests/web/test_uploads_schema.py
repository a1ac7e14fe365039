"""The write endpoints (POST and DELETE /api/documents) against their OpenAPI schema with schemathesis,
on a server that can write: a real local index with the fast fake embedder. Bounded examples."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.index.store.local import LocalStore

from tests.conftest import HashEmbedder

schemathesis = pytest.importorskip("schemathesis")
TOKEN = "schema-test-token"


def _writable_app():
    from web.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="rag-schema-"))
    atexit.register(shutil.rmtree, tmp, True)
    folder = tmp / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry\nThe ferry runs on Sundays.", encoding="utf-8")
    s = Settings(model="unused", index_dir=tmp / "index", reload_seconds=0, upload_max_bytes=100_000,
                 documents_dir=str(tmp / "uploads"))
    embedder = HashEmbedder()
    build_index([folder], s, embedder=embedder, progress=False)
    previous = os.environ.get("RAG_API_TOKEN")
    os.environ["RAG_API_TOKEN"] = TOKEN  # the schema client is not on loopback: it sends the token
    try:
        return create_app(Assistant(LocalStore.load(s.index_dir), embedder, s))
    finally:
        if previous is None:
            del os.environ["RAG_API_TOKEN"]
        else:
            os.environ["RAG_API_TOKEN"] = previous


schema = schemathesis.openapi.from_asgi("/openapi.json", _writable_app())


@schema.include(path_regex="^/api/documents").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_write_endpoints_conform_to_their_schema(case):
    from schemathesis.checks import positive_data_acceptance

    # A schema cannot say "a real PDF": generated files are rightly refused (415/422, documented),
    # so "valid data accepted" is the one check left out; status codes, bodies, headers all apply.
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=[positive_data_acceptance])
