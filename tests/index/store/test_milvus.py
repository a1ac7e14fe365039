"""The Milvus store on Milvus Lite (a real Milvus engine, embedded), with the fast fake embedder.

Set RAG_MILVUS_URI=milvus://host:19530 to run the same tests against a server too; they create
and drop the rag_* collections there, so point it at a throwaway server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rag import Settings, build_index
from rag.errors import IndexIncompatible, IndexMissing, UserError
from rag.retrieve.retriever import Retriever, rrf
from rag.index.store.local import LocalStore, open_store
from rag.index.store.milvus import MilvusStore, build_milvus_index, chunk_pk, parse_uri

from tests.conftest import SEEDS, HashEmbedder

pytestmark = pytest.mark.milvus

TARGETS = ["lite"] + (["server"] if os.environ.get("RAG_MILVUS_URI") else [])


@pytest.fixture(params=TARGETS)
def uri(request, tmp_path) -> str:
    if request.param == "server":
        return os.environ["RAG_MILVUS_URI"]
    return f"milvus://{tmp_path / 'rag.db'}"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


def _settings(tmp_path, uri: str, **kw) -> Settings:
    return Settings(model="unused", index_dir=tmp_path / "index", store=uri, **kw)


def _build(corpus, settings, embedder=None):
    return build_milvus_index([corpus], settings, embedder=embedder or HashEmbedder(), progress=False)


def test_build_and_every_citation_is_exact(tmp_path, corpus, uri):
    report = _build(corpus, _settings(tmp_path, uri))
    assert report.written and report.chunks > 0 and len(report.added) == report.documents
    store = MilvusStore.open(uri)
    assert store.info.chunks == report.chunks and store.info.documents == report.documents
    docs = {d.doc_id: d for d in store.documents()}
    files = {p.stem: p.read_text(encoding="utf-8") for p in corpus.glob("*.txt")}
    assert set(docs) == set(files)
    # Every stored chunk, reached through a search, cites its document's text exactly.
    vec = HashEmbedder().encode(["Russia Ukraine drones"])
    scores, rows = store.dense_search(vec, report.chunks)[0]
    assert len(rows) == report.chunks and np.all(np.diff(scores) <= 1e-6)
    for row in rows.tolist():
        c = store.chunk(row)
        doc = store.document(c.doc_id)
        assert doc is not None and c.text == doc.text[c.start:c.end] != ""


def _both_stores(tmp_path, corpus, uri):
    """The same corpus indexed into Milvus and into the local store, with the same fake embedder."""
    emb = HashEmbedder()
    settings = _settings(tmp_path, uri)
    _build(corpus, settings, emb)
    build_index([corpus], settings, embedder=emb, progress=False)
    return emb, MilvusStore.open(uri), LocalStore.load(settings.index_dir)


def test_same_rankings_as_the_local_store(tmp_path, corpus, uri):
    emb, milvus, local = _both_stores(tmp_path, corpus, uri)
    for q in ["How many drones did Russia launch?", "ceasefire talks", "What did Zelenskyy warn?"]:
        v = emb.encode([q])
        (ms, mr), (ls, lr) = milvus.dense_search(v, 5)[0], local.dense_search(v, 5)[0]
        # Exact search on both sides: the same chunks in the same order, the same cosines.
        assert [milvus.chunk(r).chunk_id for r in mr] == [local.chunk(r).chunk_id for r in lr]
        assert np.allclose(ms, ls, atol=1e-4)


def test_bm25_and_hybrid_through_the_retriever(tmp_path, corpus, uri):
    emb = HashEmbedder()
    settings = _settings(tmp_path, uri)
    _build(corpus, settings, emb)
    store = MilvusStore.open(uri)
    # A word that occurs in one document only must bring that document first.
    doc = next(d for d in store.documents() if "Belgorod" in d.text)
    scores, rows = store.lexical_search("Belgorod", 3)
    assert len(rows) and np.all(scores > 0) and store.chunk(int(rows[0])).doc_id == doc.doc_id
    assert len(store.lexical_search("the of and", 3)[1]) == 0  # stopwords only: no match
    retriever = Retriever(store, emb, settings)
    for name in ("dense", "bm25", "hybrid"):
        timings: dict[str, float] = {}
        passages = retriever.search("Belgorod drones", 4, name, timings=timings)
        assert 0 < len(passages) <= 4 and [p.rank for p in passages] == list(range(1, len(passages) + 1))
        assert all(p.title and p.chunk.text == store.document(p.chunk.doc_id).text[p.chunk.start:p.chunk.end]
                   for p in passages)
    # With sentence vectors the dense side is re-ranked, so the retriever fuses; Milvus's own
    # RRFRanker fuses the raw rankings with the same formula.
    assert "fusion" in timings
    v = emb.encode(["Belgorod drones"])
    scores, rows = store.hybrid_search("Belgorod drones", v, 4, 60, depth=50)
    dense_rows, bm25_rows = store.dense_search(v, 50)[0][1], store.lexical_search("Belgorod drones", 50)[1]
    want = rrf([dense_rows, bm25_rows], 60, 4)
    assert np.allclose(scores, want[0], atol=1e-6) and set(rows.tolist()) == set(want[1].tolist())


def test_sentences_match_the_local_store(tmp_path, corpus, uri):
    emb, milvus, local = _both_stores(tmp_path, corpus, uri)
    if not hasattr(local, "sentences"):
        pytest.skip("the local store keeps no sentence vectors")
    _, rows = milvus.dense_search(emb.encode(["drones"]), 5)[0]
    by_id = {local.chunk(i).chunk_id: i for i in range(local.info.chunks)}
    for row in rows.tolist():
        (ms, mv), (ls, lv) = milvus.sentences(row), local.sentences(by_id[milvus.chunk(row).chunk_id])
        assert len(ms) > 0 and np.array_equal(ms, ls) and np.allclose(mv, lv, atol=1e-3)


def test_incremental_updates(tmp_path, corpus, uri):
    settings = _settings(tmp_path, uri)
    first = _build(corpus, settings)
    emb = HashEmbedder()
    again = _build(corpus, settings, emb)
    assert not again.written and again.embedded_chunks == 0 and emb.calls == []
    changed, removed = sorted(corpus.glob("*.txt"))[:2]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA closing sentence about Oslo.", encoding="utf-8")
    removed.unlink()
    emb = HashEmbedder()
    report = _build(corpus, settings, emb)
    assert report.changed == [changed.stem] and report.removed == [removed.stem] and report.added == []
    store = MilvusStore.open(uri)
    assert {d.doc_id for d in store.documents()} == {p.stem for p in corpus.glob("*.txt")}
    assert store.document(removed.stem) is None
    assert store.document(changed.stem).text.endswith("about Oslo.")
    # Only the changed document was embedded, and no stale chunk of it or of the removed one is left.
    assert emb.calls == [report.embedded_chunks]
    _, rows = store.dense_search(emb.encode(["Oslo"]), 10_000)[0]
    assert len(rows) == report.chunks < first.chunks + report.embedded_chunks
    assert removed.stem not in {store.chunk(r).doc_id for r in rows.tolist()}
    assert store.chunk(int(store.lexical_search("Oslo", 1)[1][0])).doc_id == changed.stem


def test_other_model_or_dimension(tmp_path, corpus, uri):
    settings = _settings(tmp_path, uri)
    _build(corpus, settings)
    store = MilvusStore.open(uri)
    with pytest.raises(IndexIncompatible, match="rebuild it with"):
        store.check_settings("another-model", 384, store.meta["chunker"])
    store.check_settings(HashEmbedder.fingerprint, HashEmbedder.dimension, store.meta["chunker"])

    class Wider(HashEmbedder):
        fingerprint, dimension = "wider-v1", 96

    # `rag index` with another model rebuilds the collection whole, like the local store does.
    report = _build(corpus, settings, Wider())
    assert report.written and report.embedded_chunks == report.chunks
    assert MilvusStore.open(uri).info.dimension == 96


def test_missing_index_is_one_line(tmp_path):
    with pytest.raises(IndexMissing, match="rag index --store") as err:
        open_store(tmp_path / "index", f"milvus://{tmp_path / 'nothing.db'}")
    assert "\n" not in str(err.value)


def test_unreachable_server_is_one_line_and_local_index_untouched(tmp_path, corpus):
    settings = _settings(tmp_path, "milvus://127.0.0.1:9")
    with pytest.raises(UserError, match="cannot reach Milvus") as err:
        _build(corpus, settings)
    assert "\n" not in str(err.value)
    assert not settings.index_dir.exists()
    with pytest.raises(UserError, match="cannot reach Milvus"):
        MilvusStore.open("milvus://127.0.0.1:9")


def test_cli_reports_errors_in_one_line(tmp_path, corpus, capsys):
    from rag.cli import main

    index_dir = tmp_path / "index"
    build_index([corpus], Settings(model="unused", index_dir=index_dir), embedder=HashEmbedder(), progress=False)
    before = sorted(p.name for p in index_dir.rglob("*"))
    code = main(["index", "-q", "--store", "milvus://127.0.0.1:9", "--index-dir", str(index_dir), str(corpus)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot reach Milvus") and err.count("\n") == 1
    assert sorted(p.name for p in index_dir.rglob("*")) == before


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


def test_pdf_page_ranges_survive_milvus(tmp_path, corpus, uri):
    from tests.doc_fixtures import write_pdf

    write_pdf(corpus / "bridge.pdf", [["Harbour report", "The bridge opened in March."],
                                      ["Costs", "The council paid 42 million euros."]])
    s = _settings(tmp_path, uri)
    _build(corpus, s)
    store = MilvusStore.open(s.store)
    try:
        doc = store.document("bridge")
        assert doc is not None and len(doc.pages) == 2
        assert doc.page_at(doc.text.index("42 million")) == 2
        listed = {d.doc_id: d for d in store.documents()}
        assert listed["bridge"].pages == doc.pages and listed["bridge"].text == doc.text
        assert all(d.pages == () for k, d in listed.items() if k != "bridge")
    finally:
        store.close()
