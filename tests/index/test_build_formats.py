"""Page ranges through the index: built from a PDF, kept by the local store, on every passage and
answer in the JSON; indexes written before pages existed still load."""

from __future__ import annotations

import json

from rag import Settings, build_index
from rag.index.store.local import LocalStore, current_version
from rag.records import Answer, Result
from rag.retrieve.retriever import Retriever

from tests.doc_fixtures import write_pdf

PAGES = [["Harbour report", "The new bridge over the river opened in March after four years of work."],
         ["Costs", "The council paid 42 million euros for the bridge, the minister said."],
         ["Traffic", "About 9,000 cars cross the bridge every day."]]


def _index(tmp_path, hash_embedder):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "bridge.pdf", PAGES)
    (folder / "notes.txt").write_text("Notes\nThe ferry still runs on Sundays.", encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index")
    build_index([folder], settings, embedder=hash_embedder, progress=False)
    return settings


def test_pages_survive_the_index_and_reach_the_json(tmp_path, hash_embedder):
    settings = _index(tmp_path, hash_embedder)
    store = LocalStore.load(settings.index_dir)
    doc = store.document("bridge")
    assert doc is not None and len(doc.pages) == 3
    assert store.document("notes").pages == ()
    passages = Retriever(store, hash_embedder, settings).search("How much did the council pay for the ferry?", 5, "bm25")
    by_doc = {p.chunk.doc_id: p for p in passages}
    assert "bridge" in by_doc and by_doc["notes"].to_dict()["page"] is None
    for p in passages:
        if p.chunk.doc_id == "bridge":
            assert p.to_dict()["page"] == doc.page_at(p.chunk.start)
    start = doc.text.index("42 million euros")
    answer = Answer("42 million euros", "bridge", start, start + 16, 0.9, start, start + 20)
    body = Result("q", answer, [], passages).to_dict()
    assert body["answer"]["page"] == 2
    assert all("page" in p for p in body["passages"])


def test_answer_page_is_null_without_pages_and_kept_when_set(tmp_path, hash_embedder):
    settings = _index(tmp_path, hash_embedder)
    store = LocalStore.load(settings.index_dir)
    passages = Retriever(store, hash_embedder, settings).search("ferry Sundays", 5, "bm25")
    text = store.document("notes").text
    s = text.index("Sundays")
    plain = Answer("Sundays", "notes", s, s + 7, 0.5, 6, len(text))
    assert Result("q", plain, [plain], passages).to_dict()["answer"]["page"] is None
    given = Answer("x", "bridge", 0, 1, 0.5, 0, 1, page=3)
    assert Result("q", given, [], passages).to_dict()["answer"]["page"] == 3


def test_index_without_page_ranges_still_loads(tmp_path, hash_embedder):
    settings = _index(tmp_path, hash_embedder)
    version = current_version(settings.index_dir)
    path = version / "documents.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert any("pages" in row for row in rows)
    path.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "pages"}) + "\n" for row in rows),
                    encoding="utf-8")
    store = LocalStore.load(settings.index_dir)
    assert all(d.pages == () for d in store.documents())
    passages = Retriever(store, hash_embedder, settings).search("bridge", 3, "bm25")
    assert all(p.to_dict()["page"] is None for p in passages)


def test_second_build_keeps_pages_of_unchanged_pdf(tmp_path, hash_embedder):
    settings = _index(tmp_path, hash_embedder)
    report = build_index([tmp_path / "docs"], settings, embedder=hash_embedder, progress=False)
    assert report is not None
    assert len(LocalStore.load(settings.index_dir).document("bridge").pages) == 3


def test_terminal_output_cites_the_page(tmp_path, hash_embedder):
    from rag.render import render_text

    settings = _index(tmp_path, hash_embedder)
    store = LocalStore.load(settings.index_dir)
    passages = Retriever(store, hash_embedder, settings).search("How much did the council pay?", 5, "bm25")
    doc = store.document("bridge")
    start = doc.text.index("42 million euros")
    answer = Answer("42 million euros", "bridge", start, start + 16, 0.9, start, start + 20)
    text = render_text(Result("How much did the council pay?", answer, [], passages))
    assert "[bridge %d:%d, p. 2]" % (start, start + 16) in text
