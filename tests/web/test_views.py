"""The page fits the corpus (web/views.py, web/app.py): the question box suggests a question the
documents hold, or none; the document view marks the answer's sentence and span."""

from __future__ import annotations

from fastapi.testclient import TestClient

from rag.ingest.pdf import load_pdf
from rag.records import Document
from web.app import create_app
from web.views import example_question

from tests.doc_fixtures import write_pdf
from tests.web.test_web_pages import PAGES, PagedAssistant


def _doc(doc_id: str, text: str) -> Document:
    return Document(doc_id, doc_id, f"/x/{doc_id}.txt", text)


def test_example_question_comes_from_the_documents():
    faq = _doc("faq", "R FAQ\n2.1 What is R?\nR is a system for statistics.")
    prose = _doc("news", "The summit ended. Will the talks go on? Nobody knows yet.")
    assert example_question([faq, prose]) == "What is R?"
    assert example_question([prose]) == "Will the talks go on?"


def test_no_question_in_the_documents_means_no_suggestion():
    assert example_question([_doc("a", "The bridge opened in March. It cost a lot.")]) is None
    assert example_question([]) is None


def test_home_page_placeholder_fits_the_corpus(tmp_path):
    write_pdf(tmp_path / "bridge.pdf", PAGES)
    docs = [load_pdf(tmp_path / "bridge.pdf")]
    html = TestClient(create_app(PagedAssistant(docs))).get("/").text
    assert 'placeholder="Ask a question"' in html and "Trump" not in html
    docs.append(_doc("faq", "FAQ\nHow long is the bridge?\nIt is 800 m long."))
    html = TestClient(create_app(PagedAssistant(docs))).get("/").text
    assert 'placeholder="Ask a question, e.g. How long is the bridge?"' in html


def test_document_view_marks_the_answer_sentence_light_and_the_span_strong(tmp_path):
    doc = load_pdf(write_pdf(tmp_path / "bridge.pdf", PAGES))
    client = TestClient(create_app(PagedAssistant([doc])))
    s = doc.text.index("42 million euros")
    html = client.get("/doc/bridge", params={"start": s, "end": s + 16}).text
    page2 = html[html.index('id="page-2"'):]
    assert ('<mark class="sentence">The council paid <mark id="hit">42 million euros</mark> for the bridge, '
            'the minister said.</mark>') in page2
