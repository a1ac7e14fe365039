"""The JSON API and the pages through FastAPI's TestClient: the contract, every bad input, escaping.

Most tests use a fake assistant returning hand-made records, so they are fast and can check the
rendering of answers exactly; one slow test runs the real index and model."""

from __future__ import annotations

import html
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from rag.errors import UserError
from rag.records import Answer, Chunk, Document, Passage, Result
from rag.settings import MAX_QUESTION_CHARS, Settings
from rag.validation import check_k, check_question, check_retriever
from web.app import MAX_K, create_app
from web.batching import Batcher
from web.highlight import mark_span, mark_words, question_stems

SUMMIT = ("Trump and Putin will meet in Anchorage, Alaska, on Friday. The talks aim at a ceasefire.\n"
          "Zelenskyy will not attend the meeting.")
EVIL = "Notes <script>window.__pwned=1</script> and <img src=x onerror=\"window.__pwned=2\"> end."


def _span(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


@dataclass
class FakeAssistant:
    """The Assistant's public methods over two documents; ``ask`` answers from whatever
    ``answer_text`` names, or abstains when it is None."""

    answer_text: str | None = "Anchorage, Alaska"
    answerer: bool = True
    calls: list[tuple[str, int | None, str | None]] = field(default_factory=list)
    settings: Settings = field(default_factory=lambda: Settings(model="fake"))

    def __post_init__(self) -> None:
        self.docs = {d.doc_id: d for d in [Document("summit", "Summit in Alaska", "/srv/corpus/summit.txt", SUMMIT),
                                           Document("evil", "Evil <b>title</b>", "/srv/corpus/evil.md", EVIL)]}

    def documents(self) -> list[Document]:
        return list(self.docs.values())

    def index_version(self) -> str | None:
        return None  # an index without versions, as Milvus

    def document(self, doc_id: str) -> Document | None:
        return self.docs.get(doc_id)

    def health(self) -> dict[str, Any]:
        return {"status": "ready", "documents": len(self.docs), "chunks": 2, "model": "fake", "dimension": 3,
                "index": "mem", "store": "local", "answerer": self.answerer}

    def ask(self, question: str, k: int | None = None, retriever: str | None = None) -> Result:
        self.calls.append((question, k, retriever))
        passages = []
        for rank, doc in enumerate(self.docs.values(), 1):
            chunk = Chunk(doc.doc_id, f"{doc.doc_id}:0", 0, len(doc.text), doc.text)
            passages.append(Passage(chunk, rank, 1.0 / (60 + rank), doc.title, doc.source))
        answer, alternatives = None, []
        if self.answer_text is not None:
            s, e = _span(SUMMIT, self.answer_text)
            sentence_end = SUMMIT.index(".") + 1
            answer = Answer(self.answer_text, "summit", s, e, 0.82, 0, sentence_end)
            a0, a1 = _span(SUMMIT, "Friday")
            alternatives = [Answer("Friday", "summit", a0, a1, 0.31, 0, sentence_end)]
        return Result(question, answer, alternatives, passages[: k or 5], {"total": 0.012})

    def ask_many(self, questions, k=None, retriever=None):
        for q in questions:
            yield self.ask(q, k, retriever)


@pytest.fixture
def fake() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def client(fake) -> TestClient:
    return TestClient(create_app(fake))


def _message(check, *args) -> str:
    with pytest.raises(UserError) as info:
        check(*args)
    return str(info.value)


def _visible(fragment: str) -> str:
    """Text as a browser shows it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


# -- POST /api/ask -----------------------------------------------------------------------------
def test_ask_returns_the_contract(client, fake):
    r = client.post("/api/ask", json={"question": "  Where will they meet?  ", "k": 2, "retriever": "bm25"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"question", "answer", "alternatives", "passages"}
    assert body == fake.ask("Where will they meet?", 2, "bm25").to_dict()
    assert fake.calls[0] == ("Where will they meet?", 2, "bm25")
    a = body["answer"]
    assert set(a) == {"text", "doc_id", "start", "end", "score", "sentence", "page"}
    assert a["page"] is None  # a text file has no pages
    assert SUMMIT[a["start"]:a["end"]] == a["text"] and 0 <= a["score"] <= 1
    for p in body["passages"]:
        assert set(p) == {"rank", "doc_id", "title", "source", "chunk_id", "start", "end", "text", "score", "page"}
        assert fake.document(p["doc_id"]).text[p["start"]:p["end"]] == p["text"]


def test_ask_defaults_come_from_settings(client, fake):
    assert client.post("/api/ask", json={"question": "Where?"}).status_code == 200
    assert fake.calls == [("Where?", fake.settings.k, fake.settings.retriever)]


def test_ask_accepts_the_limits(client):
    assert client.post("/api/ask", json={"question": "x" * MAX_QUESTION_CHARS, "k": MAX_K}).status_code == 200
    assert client.post("/api/ask", json={"question": "x", "k": 1}).status_code == 200


@pytest.mark.parametrize("body, expected", [
    ({"question": ""}, lambda: _message(check_question, "")),
    ({"question": " \t\n "}, lambda: _message(check_question, " ")),
    ({}, lambda: _message(check_question, None)),
    ({"question": 42}, lambda: _message(check_question, 42)),
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, lambda: _message(check_question, "x" * (MAX_QUESTION_CHARS + 1))),
    ({"question": "Where?", "k": 0}, lambda: _message(check_k, 0, MAX_K)),
    ({"question": "Where?", "k": MAX_K + 1}, lambda: _message(check_k, MAX_K + 1, MAX_K)),
    ({"question": "Where?", "k": -3}, lambda: _message(check_k, -3, MAX_K)),
    ({"question": "Where?", "k": "5"}, lambda: _message(check_k, "5", MAX_K)),
    ({"question": "Where?", "k": 2.5}, lambda: _message(check_k, 2.5, MAX_K)),
    ({"question": "Where?", "k": True}, lambda: _message(check_k, True, MAX_K)),
    ({"question": "Where?", "retriever": "magic"}, lambda: _message(check_retriever, "magic")),
    ({"question": "Where?", "retriever": ""}, lambda: _message(check_retriever, "")),
])
def test_bad_input_is_422_with_the_shared_message(client, fake, body, expected):
    r = client.post("/api/ask", json=body)
    assert r.status_code == 422
    assert r.json() == {"detail": expected()}
    assert fake.calls == []


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\"Where?\"", b""])
def test_malformed_body_is_422_with_one_message(client, content):
    r = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "question" in detail


def test_user_error_from_the_assistant_is_422(fake):
    def refuse(*args, **kwargs):
        raise UserError("the index is being rebuilt")

    fake.ask = refuse  # type: ignore[method-assign]
    r = TestClient(create_app(fake)).post("/api/ask", json={"question": "Where?"})
    assert (r.status_code, r.json()) == (422, {"detail": "the index is being rebuilt"})


# -- documents, health, OpenAPI ----------------------------------------------------------------
def test_documents_and_health(client, fake):
    docs = client.get("/api/documents").json()
    assert [d["doc_id"] for d in docs] == list(fake.docs)
    assert all(d["characters"] == len(fake.docs[d["doc_id"]].text) for d in docs)
    assert all(client.get(d["url"]).status_code == 200 for d in docs)
    health = client.get("/healthz").json()
    assert health["status"] == "ready" and health["documents"] == 2 and health["chunks"] == 2
    assert health["model"] == "fake"


def test_openapi_and_docs_are_served_locally(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/documents", "/healthz"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    for url in re.findall(r"""(?:src|href)=["']([^"']+)""", docs.text):
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url


# -- the search page ---------------------------------------------------------------------------
def test_page_without_question_lists_documents(client):
    r = client.get("/")
    assert r.status_code == 200
    assert 'name="q"' in r.text and 'name="retriever"' in r.text
    assert "Summit in Alaska" in r.text and "/doc/summit" in r.text


def test_page_shows_answer_in_its_sentence_and_cited_passages(client):
    r = client.get("/", params={"q": "Where will they meet?", "retriever": "dense", "k": "2"})
    assert r.status_code == 200
    page = r.text
    sentence = re.search(r'<blockquote class="sentence">(.*?)</blockquote>', page, re.S).group(1)
    assert "<mark>Anchorage, Alaska</mark>" in sentence
    assert _visible(sentence) == SUMMIT[: SUMMIT.index(".") + 1]
    assert "82% confidence" in page
    assert "Friday" in re.search(r'<details class="alternatives".*?</details>', page, re.S).group(0)
    s, e = _span(SUMMIT, "Anchorage, Alaska")
    assert f"/doc/summit?start={s}&amp;end={e}#hit" in page
    # Ranked citations, each linking to its span in the source document.
    ranks = re.findall(r'<span class="rank">(\d+)</span>', page)
    assert ranks == ["1", "2"]
    assert f"/doc/summit?start=0&amp;end={len(SUMMIT)}#hit" in page
    assert 'value="dense" selected' in page


def test_page_highlights_question_words_where_the_answer_is_not(client):
    page = client.get("/", params={"q": "evil notes"}).text
    evil = re.findall(r'<p class="passage-text">(.*?)</p>', page, re.S)[1]
    assert "<mark>Notes</mark>" in evil
    assert _visible(evil) == EVIL


def test_page_says_no_answer_and_still_shows_passages():
    fake = FakeAssistant(answer_text=None)
    page = TestClient(create_app(fake)).get("/", params={"q": "What is the capital of Mars?"}).text
    assert "No answer in these documents" in page
    assert len(re.findall(r'<li class="passage', page)) == 2


def test_page_says_when_answering_is_off():
    fake = FakeAssistant(answer_text=None, answerer=False)
    page = TestClient(create_app(fake)).get("/", params={"q": "Where?"}).text
    assert "Answer extraction is off" in page and "No answer in these documents" not in page


@pytest.mark.parametrize("params, expected", [
    ({"q": ""}, lambda: _message(check_question, "")),
    ({"q": "   "}, lambda: _message(check_question, " ")),
    ({"q": "x" * (MAX_QUESTION_CHARS + 1)}, lambda: _message(check_question, "x" * (MAX_QUESTION_CHARS + 1))),
    ({"q": "Where?", "k": "0"}, lambda: _message(check_k, 0, MAX_K)),
    ({"q": "Where?", "k": "99"}, lambda: _message(check_k, 99, MAX_K)),
    ({"q": "Where?", "k": "five"}, lambda: _message(check_k, "five", MAX_K)),
    ({"q": "Where?", "retriever": "magic"}, lambda: _message(check_retriever, "magic")),
])
def test_page_shows_the_message_next_to_the_box(client, fake, params, expected):
    r = client.get("/", params=params)
    assert r.status_code == 422
    alert = re.search(r'<p id="error" class="error" role="alert">(.*?)</p>', r.text, re.S)
    assert alert and html.unescape(alert.group(1)) == expected()
    assert r.text.index('name="q"') < alert.start()
    assert fake.calls == []


def test_question_with_html_is_echoed_as_text(client):
    q = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    page = client.get("/", params={"q": q}).text
    assert "<script>alert(2)" not in page and "<img src=x" not in page
    value = re.search(r'<input id="q" name="q" type="search" value="([^"]*)"', page).group(1)
    assert html.unescape(value) == q
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert html.unescape(title).startswith(q)


# -- document pages ----------------------------------------------------------------------------
def test_document_page_highlights_the_span(client):
    s, e = _span(SUMMIT, "Anchorage, Alaska")
    r = client.get(f"/doc/summit?start={s}&end={e}")
    assert r.status_code == 200
    assert '<mark id="hit">Anchorage, Alaska</mark>' in r.text
    body = re.search(r'<div class="doc-text">(.*?)</div>', r.text, re.S).group(1)
    assert _visible(body) == SUMMIT
    assert "/srv/corpus" not in r.text


def test_document_with_script_is_shown_as_text(client):
    r = client.get("/doc/evil", params={"start": 0, "end": 5})
    assert "<script>window" not in r.text and "<img src=x" not in r.text
    body = re.search(r'<div class="doc-text">(.*?)</div>', r.text, re.S).group(1)
    assert _visible(body) == EVIL
    assert "Evil &lt;b&gt;title&lt;/b&gt;" in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none' covers scripts


@pytest.mark.parametrize("path", ["/doc/nope", "/doc/..%2F..%2Fetc%2Fpasswd", "/doc/../../etc/passwd",
                                  "/doc/%2Fetc%2Fpasswd", "/doc/seeds/summit"])
def test_unknown_document_is_404(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert "root:" not in r.text


@pytest.mark.parametrize("query, fragment", [
    ("start=0&end=99999", "outside the document"),
    ("start=-1&end=3", "outside the document"),
    ("start=5&end=5", "outside the document"),
    ("start=9&end=3", "outside the document"),
    ("start=3", "both start and end"),
    ("start=a&end=3", "start must be a whole number"),
    ("start=1&end=2.5", "end must be a whole number"),
])
def test_bad_offsets_are_422(client, query, fragment):
    r = client.get(f"/doc/summit?{query}")
    assert r.status_code == 422
    assert fragment in html.unescape(r.text)


def test_pages_load_nothing_from_elsewhere(client):
    pages = [client.get("/").text, client.get("/", params={"q": "Where?"}).text, client.get("/doc/summit").text,
             client.get("/static/style.css").text]
    for text in pages:
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), text[:200]
        assert "@import" not in text


# -- batching concurrent questions --------------------------------------------------------------
class SlowBatches:
    """Records each ask_many batch; the first batch waits until released, so others queue up."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int, str]]] = []
        self.release = threading.Event()

    def ask_many(self, questions, k=None, retriever=None):
        questions = list(questions)
        if not self.batches:
            self.release.wait(timeout=10)
        self.batches.append([(q, k, retriever) for q in questions])
        for q in questions:
            if q == "bad":
                yield UserError("bad question")
            else:
                yield Result(q, None, [], [], {"k": float(k)})


def test_batcher_coalesces_and_routes_each_result_to_its_caller():
    fake = SlowBatches()
    batcher = Batcher(fake, workers=1)
    asks = [(f"q{i}", 1 + i % 2, "hybrid") for i in range(9)]
    with ThreadPoolExecutor(len(asks) + 2) as pool:
        first = pool.submit(batcher.ask, "first", 3, "bm25")
        while not first.running():
            time.sleep(0.01)
        time.sleep(0.1)  # the worker has taken "first" and waits in ask_many
        futures = [pool.submit(batcher.ask, *a) for a in asks]
        bad = pool.submit(batcher.ask, "bad", 1, "hybrid")
        time.sleep(0.2)
        fake.release.set()
        assert first.result().question == "first" and first.result().timings["k"] == 3
        for (q, k, _), f in zip(asks, futures):
            assert f.result().question == q and f.result().timings["k"] == k
        with pytest.raises(UserError, match="bad question"):
            bad.result()
    batcher.close()
    # The ten questions queued behind the first arrived as one batch per (k, retriever).
    assert len(fake.batches) == 3
    assert sorted(len(b) for b in fake.batches[1:]) == [4, 6]
    assert all(len({(k, r) for _, k, r in b}) == 1 for b in fake.batches)


def test_batcher_passes_on_a_failure_and_keeps_working():
    class Flaky:
        calls = 0

        def ask_many(self, questions, k=None, retriever=None):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("boom")
            return [Result(q, None, [], []) for q in questions]

    batcher = Batcher(Flaky(), workers=1)
    with pytest.raises(RuntimeError, match="boom"):
        batcher.ask("one", 1, "bm25")
    assert batcher.ask("two", 1, "bm25").question == "two"
    batcher.close()


# -- highlighting invariants -------------------------------------------------------------------
@given(st.text(max_size=200), st.integers(-5, 210), st.integers(-5, 210))
def test_mark_span_keeps_the_text(text, start, end):
    out = str(mark_span(text, start, end))
    assert out.count("<mark>") == 1
    _assert_only_marks(out, text)


@given(st.text(max_size=200), st.text(max_size=60))
def test_mark_words_keeps_the_text(text, question):
    _assert_only_marks(mark_words(text, question_stems(question)), text)


def _assert_only_marks(out: str, text: str) -> None:
    """The only markup is <mark>; everything else is the text, escaped."""
    bare = str(out).replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare
    assert html.unescape(bare) == text


def test_mark_words_matches_by_stem():
    out = str(mark_words("The meetings were met; a meeting in Alaska.", question_stems("Where is the meeting?")))
    assert out == "The <mark>meetings</mark> were met; a <mark>meeting</mark> in Alaska."


# -- the real index and model ------------------------------------------------------------------
def _rounded(value):
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.mark.slow
def test_api_matches_the_library_on_the_real_index(assistant):
    client = TestClient(create_app(assistant))
    question = "Where will Trump and Putin meet?"
    r = client.post("/api/ask", json={"question": question, "k": 3, "retriever": "hybrid"})
    assert r.status_code == 200
    expected = assistant.ask(question, k=3, retriever="hybrid").to_dict()
    # The server embeds on its own thread with one torch thread: floats may differ in the last bits.
    assert _rounded(r.json()) == _rounded(expected)
    for p in expected["passages"]:
        assert assistant.document(p["doc_id"]).text[p["start"]:p["end"]] == p["text"]
    top = expected["passages"][0]
    page = client.get(f"/doc/{top['doc_id']}", params={"start": top["start"], "end": top["end"]})
    assert page.status_code == 200
    hit = re.search(r'<mark id="hit">(.*?)</mark>', page.text, re.S)
    assert hit and html.unescape(hit.group(1)) == top["text"]
    health = client.get("/healthz").json()
    assert health["documents"] == 5 and health["status"] == "ready"
