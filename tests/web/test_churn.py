"""Serving while documents come and go (issue 15): clients ask the whole time while the load test's
churn adds 5 documents and removes 2 through the API; no request may fail. A real uvicorn server on
127.0.0.1 over a local index with the fast fake embedder; bounded to a few seconds."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time

import httpx
import pytest
import uvicorn

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.index.store.local import LocalStore
from web.app import create_app

from tests.conftest import ROOT, HashEmbedder


def _loadtest():
    spec = importlib.util.spec_from_file_location("loadtest", ROOT / "scripts" / "loadtest.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["loadtest"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # a load or concurrency run of seconds
def test_questions_never_fail_while_documents_are_added_and_removed(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"n{i}.txt").write_text(f"Note {i}\nThe ferry number {i} runs on Sundays.", encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index", reload_seconds=0.2,
                        documents_dir=str(tmp_path / "uploads"))
    embedder = HashEmbedder()
    build_index([folder], settings, embedder=embedder, progress=False)
    assistant = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        lt = _loadtest()
        done: list[str] = []
        tally, elapsed = lt.run(url, ["When does the ferry run?", "Which note is it?"], clients=8, duration=4.0,
                                body={"retriever": "bm25"}, churn=done)
        assert tally.errors == []
        assert len(done) == lt.UPLOADS + lt.REMOVALS
        assert len(tally.latencies) > 0
        docs = {d["doc_id"] for d in httpx.get(url + "/api/documents").json()}
        assert len(docs) == 3 + lt.UPLOADS - lt.REMOVALS
    finally:
        server.should_exit = True
        thread.join(timeout=10)
