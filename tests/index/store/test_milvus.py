"""What only Milvus has: URIs, chunk keys, a Milvus Lite file held by another process, and a server
that cannot be reached or restarts. Everything every store must do is in ``test_conformance.py``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rag import Settings, build_index
from rag.errors import UserError
from rag.index.store import open_store
from rag.index.store.milvus import chunk_pk, parse_uri

from tests.conftest import ROOT, HashEmbedder
from tests.index.store.conftest import MilvusServer, free_port, milvus

pytestmark = milvus


def _settings(tmp_path: Path, uri: str) -> Settings:
    return Settings(model="unused", index_dir=tmp_path / "index", store=uri)


def _build(corpus: Path, settings: Settings):
    return build_index([corpus], settings, embedder=HashEmbedder(), progress=False)


def test_uris():
    assert parse_uri("milvus:///data/x.db").lite_path == Path("/data/x.db")
    assert parse_uri("milvus://data/x.db").lite_path == Path.cwd() / "data/x.db"
    assert parse_uri("milvus://db.example:19531").client_uri == "http://db.example:19531"
    assert parse_uri("milvus://db.example").client_uri == "http://db.example:19530"
    for bad in ("milvus:///data/x", "milvus://", "http://x"):
        with pytest.raises(UserError):
            parse_uri(bad)


def test_chunk_keys_are_stable_and_distinct():
    keys = {chunk_pk(d, h, n) for d in ("a", "b") for h in ("h1", "h2") for n in range(50)}
    assert len(keys) == 200 and all(0 <= k < 2**62 for k in keys)
    assert chunk_pk("a", "h1", 3) == chunk_pk("a", "h1", 3)


def test_without_the_milvus_extra_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # as if it were not installed
    with pytest.raises(UserError, match=r"needs the milvus extra: pip install 'rag-offline\[milvus\]'") as err:
        open_store(tmp_path / "index", f"milvus://{tmp_path / 'rag.db'}")
    assert "\n" not in str(err.value)


def test_unreachable_server_is_one_line_and_local_index_untouched(tmp_path, corpus):
    uri = f"milvus://127.0.0.1:{free_port()}"  # nothing listens there
    settings = _settings(tmp_path, uri)
    with pytest.raises(UserError, match="cannot reach Milvus") as err:
        _build(corpus, settings)
    assert "\n" not in str(err.value)
    assert not settings.index_dir.exists()
    with pytest.raises(UserError, match="cannot reach Milvus"):
        open_store(settings.index_dir, uri)


def test_cli_reports_errors_in_one_line(tmp_path, corpus, capsys):
    from rag.cli import main

    index_dir = tmp_path / "index"
    build_index([corpus], Settings(model="unused", index_dir=index_dir), embedder=HashEmbedder(), progress=False)
    before = sorted(p.name for p in index_dir.rglob("*"))
    code = main(["index", "-q", "--store", f"milvus://127.0.0.1:{free_port()}", "--index-dir", str(index_dir),
                 str(corpus)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot reach Milvus") and err.count("\n") == 1
    assert sorted(p.name for p in index_dir.rglob("*")) == before


def test_server_restart_keeps_the_data_and_a_stopped_server_is_one_line(tmp_path, corpus):
    server = MilvusServer(tmp_path / "milvus").start()
    try:
        report = _build(corpus, _settings(tmp_path, server.uri))
        store = open_store(tmp_path / "index", server.uri)
        v = HashEmbedder().encode(["Russia Ukraine drones"])
        before = store.dense_search(v, 5)[0]
        store.close()
        server.stop()
        # A server that went away: one line from the real command, no traceback.
        run = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--no-answer", "--store", server.uri, "drones"],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert run.returncode == 2 and run.stderr.startswith("error: cannot reach Milvus at 127.0.0.1")
        assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
        server.start()
        store = open_store(tmp_path / "index", server.uri)
        try:
            assert store.info.chunks == report.chunks and len(store.documents()) == report.documents
            after = store.dense_search(v, 5)[0]
            assert np.array_equal(after.rows, before.rows) and np.allclose(after.scores, before.scores)
            assert not _build(corpus, _settings(tmp_path, server.uri)).written  # nothing lost, nothing to redo
        finally:
            store.close()
    finally:
        server.stop()


def test_locked_lite_file(tmp_path, corpus):
    uri = f"milvus://{tmp_path / 'rag.db'}"
    path = parse_uri(uri).lite_path
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from pymilvus import MilvusClient
        MilvusClient({str(path)!r})
        print("ready", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        with pytest.raises(UserError, match="in use by another process") as err:
            _build(corpus, _settings(tmp_path, uri))
        assert "\n" not in str(err.value) and time.perf_counter() - started < 10
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
