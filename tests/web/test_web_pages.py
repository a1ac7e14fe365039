"""Page numbers in the web app: "p. N" on answers and passages, the document view split into pages,
and /doc/{id}/file serving the indexed original with its content type, for indexed documents only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag.ingest.pdf import load_pdf
from rag.ingest.text import load_text
from rag.records import Answer, Chunk, Document, Passage, Result
from rag.settings import Settings
from web.app import create_app

from tests.doc_fixtures import write_pdf

PAGES = [["Harbour report", "The new bridge over the river opened in March after four years of work."],
         ["Costs", "The council paid 42 million euros for the bridge, the minister said."]]


class PagedAssistant:
    """The Assistant's public methods over a real PDF and a text file; ``ask`` answers from page 2."""

    def __init__(self, docs: list[Document]) -> None:
        self.docs = {d.doc_id: d for d in docs}
        self.settings = Settings(model="fake")

    def documents(self) -> list[Document]:
        return list(self.docs.values())

    def index_version(self) -> str | None:
        return None  # an index without versions, as Milvus

    def document(self, doc_id: str) -> Document | None:
        return self.docs.get(doc_id)

    def health(self) -> dict[str, Any]:
        return {"status": "ready", "documents": len(self.docs), "chunks": 2, "model": "fake", "dimension": 3,
                "index": "mem", "store": "local", "answerer": True}

    def ask(self, question: str, k: int | None = None, retriever: str | None = None) -> Result:
        doc = self.docs["bridge"]
        start, end = doc.pages[1]
        chunk = Chunk("bridge", "bridge#1", start, end, doc.text[start:end])
        passage = Passage(chunk, 1, 0.9, doc.title, doc.source, page=doc.page_at(start), doc_pages=doc.pages)
        s = doc.text.index("42 million euros")
        answer = Answer("42 million euros", "bridge", s, s + 16, 0.8, start + 6, end)
        return Result(question, answer, [], [passage], {"total": 0.01})

    def ask_many(self, questions, k=None, retriever=None):
        for q in questions:
            yield self.ask(q, k, retriever)


@pytest.fixture
def files(tmp_path) -> Path:
    write_pdf(tmp_path / "bridge.pdf", PAGES, title="Bridge report")
    (tmp_path / "notes.txt").write_text("Notes\nThe ferry runs on Sundays.", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not indexed", encoding="utf-8")
    return tmp_path


@pytest.fixture
def client(files) -> TestClient:
    docs = [load_pdf(files / "bridge.pdf"), load_text(files / "notes.txt"),
            Document("gone", "Gone", str(files / "deleted.pdf"), "text", ((0, 4),)),
            Document("rec", "Record", f"{files / 'corpus.jsonl'}#rec", "record text")]
    return TestClient(create_app(PagedAssistant(docs)))


def test_api_answer_and_passages_carry_the_page(client):
    body = client.post("/api/ask", json={"question": "How much did the council pay?"}).json()
    assert body["answer"]["page"] == 2
    assert [p["page"] for p in body["passages"]] == [2]


def test_search_page_shows_p2_linking_to_the_original_at_that_page(client):
    html = client.get("/", params={"q": "How much did the council pay?"}).text
    assert "p. 2" in html
    assert 'href="/doc/bridge/file#page=2"' in html


def test_document_view_shows_pages_and_highlights_on_the_right_one(client):
    doc_text = client.get("/doc/bridge").text
    assert "Page 1" in doc_text and "Page 2" in doc_text
    assert 'href="/doc/bridge/file#page=2"' in doc_text
    assert 'href="/doc/bridge/file"' in doc_text  # the source name links to the original


def test_document_view_highlight_lands_on_its_page(client, files):
    doc = load_pdf(files / "bridge.pdf")
    s = doc.text.index("42 million euros")
    html = client.get("/doc/bridge", params={"start": s, "end": s + 16}).text
    page2 = html[html.index('id="page-2"'):]
    assert '<mark id="hit">42 million euros</mark>' in page2
    assert "<mark" not in html[html.index('id="page-1"'):html.index('id="page-2"')]
    assert "on p. 2" in html


def test_text_document_view_has_no_pages(client):
    html = client.get("/doc/notes").text
    assert "Page 1" not in html and "The ferry runs on Sundays." in html


def test_file_route_serves_the_indexed_pdf_with_its_type(client, files):
    r = client.get("/doc/bridge/file")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content == (files / "bridge.pdf").read_bytes()
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("inline")
    t = client.get("/doc/notes/file")
    assert t.status_code == 200 and t.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("url", ["/doc/secret/file", "/doc/..%2Fsecret.txt/file", "/doc/../secret.txt/file",
                                 "/doc/%2Fetc%2Fpasswd/file", "/doc/gone/file", "/doc/rec/file"])
def test_file_route_serves_only_indexed_files_that_are_there(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert "not indexed" not in r.text
