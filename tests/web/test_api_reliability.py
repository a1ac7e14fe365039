"""Issue 13 at the HTTP surface: one bad question fails only itself, Host and body-size guards,
security headers, HEAD, non-UTF-8 bodies, and back-pressure. Fake assistants only: fast."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from rag.errors import UserError
from rag.records import Result
from web.app import create_app
from web.batching import Batcher, Overloaded
from web.guards import BodyGuard

from .test_api import FakeAssistant


class TokenizerLike(FakeAssistant):
    """Fails a whole ask_many call when any question cannot be encoded, as the real tokenizer does;
    the first batch waits a moment so concurrent questions share the next one."""

    def ask_many(self, questions, k=None, retriever=None):
        questions = list(questions)
        for q in questions:
            q.encode("utf-8")  # UnicodeEncodeError on a lone surrogate, for the whole batch
        time.sleep(0.05)
        return [self.ask(q, k, retriever) for q in questions]


def _post_raw(client: TestClient, text: str):
    return client.post("/api/ask", content=text.encode("ascii"), headers={"content-type": "application/json"})


# -- 1. a bad question ------------------------------------------------------------------------------
def test_lone_surrogate_question_is_422_not_500():
    client = TestClient(create_app(TokenizerLike()))
    r = _post_raw(client, '{"question": "\\ud800"}')
    assert r.status_code == 422
    assert "not valid text" in r.json()["detail"]
    # In a URL the surrogate's bytes are not UTF-8: the page decodes them to U+FFFD and answers.
    assert client.get("/?q=%ED%A0%80").status_code == 200


def test_lone_surrogate_among_concurrent_questions_fails_only_itself():
    fake = TokenizerLike()
    client = TestClient(create_app(fake))
    for _ in range(5):
        with ThreadPoolExecutor(9) as pool:
            good = [pool.submit(client.post, "/api/ask", json={"question": f"Where will they meet {i}?"})
                    for i in range(8)]
            bad = pool.submit(_post_raw, client, '{"question": "Where \\udfff?"}')
            assert [f.result().status_code for f in good] == [200] * 8
            assert bad.result().status_code == 422


class Poisoned:
    """ask_many fails for a whole batch that holds "poison"; the first batch waits to be released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()

    def ask_many(self, questions, k=None, retriever=None):
        questions = list(questions)
        if not self.batches:
            self.release.wait(timeout=10)
        self.batches.append(questions)
        if "poison" in questions:
            raise RuntimeError("the tokenizer broke")
        return [UserError("bad question") if q == "bad" else Result(q, None, [], []) for q in questions]


def test_batcher_retries_a_failed_batch_question_by_question():
    fake = Poisoned()
    batcher = Batcher(fake, workers=1)
    try:
        with ThreadPoolExecutor(12) as pool:
            first = pool.submit(batcher.ask, "first", 1, "hybrid")
            time.sleep(0.2)  # the worker holds "first"; the rest queue into one batch
            names = [f"q{i}" for i in range(8)]
            good = [pool.submit(batcher.ask, n, 1, "hybrid") for n in names]
            poison = pool.submit(batcher.ask, "poison", 1, "hybrid")
            bad = pool.submit(batcher.ask, "bad", 1, "hybrid")
            time.sleep(0.2)
            fake.release.set()
            assert first.result(timeout=10).question == "first"
            assert [f.result(timeout=10).question for f in good] == names
            with pytest.raises(RuntimeError, match="tokenizer broke"):
                poison.result(timeout=10)
            with pytest.raises(UserError, match="bad question"):
                bad.result(timeout=10)
        # The shared batch failed once, then every question was asked alone.
        assert any(len(b) == 10 and "poison" in b for b in fake.batches)
        assert [b for b in fake.batches if len(b) == 1 and b[0] != "first"] == [[q] for q in names + ["poison", "bad"]]
        assert batcher.ask("after", 1, "hybrid").question == "after"
    finally:
        fake.release.set()
        batcher.close()


# -- 7. Host header -------------------------------------------------------------------------------
@pytest.mark.parametrize("host, status", [
    ("evil.example", 400), ("evil.example:8000", 400), ("127.0.0.1.evil.example", 400), ("", 400),
    ("127.0.0.1:8000", 200), ("localhost", 200), ("LOCALHOST:1", 200), ("[::1]:8000", 200), ("app.localhost", 200),
])
def test_only_loopback_hosts_are_answered(host, status):
    client = TestClient(create_app(FakeAssistant(), allowed_hosts=()), base_url="http://127.0.0.1")
    for path in ("/", "/api/documents", "/doc/summit"):
        r = client.get(path, headers={"host": host})
        assert r.status_code == status, (host, path, r.text[:200])
        if status == 400:
            assert "Summit" not in r.text and "RAG_ALLOWED_HOSTS" in r.json()["detail"]


def test_allowed_hosts_setting_adds_names(monkeypatch):
    monkeypatch.setenv("RAG_ALLOWED_HOSTS", "qa.example.org, other.example")
    client = TestClient(create_app(FakeAssistant()), base_url="http://127.0.0.1")
    assert client.get("/healthz", headers={"host": "qa.example.org:8000"}).status_code == 200
    assert client.get("/healthz", headers={"host": "evil.example"}).status_code == 400


# -- 8. body size and echoed values ------------------------------------------------------------------
def test_large_body_is_413_and_bad_values_are_not_echoed_whole():
    client = TestClient(create_app(FakeAssistant(), max_body_bytes=64 * 1024))
    big = client.post("/api/ask", json={"question": "Where?", "extra": "x" * 10_000_000})
    assert big.status_code == 413 and len(big.content) < 300
    r = client.post("/api/ask", json={"question": "Where?", "retriever": "r" * 50_000})
    assert r.status_code == 422 and len(r.text) < 300
    r = client.post("/api/ask", json={"question": "Where?", "k": "9" * 5000})
    assert r.status_code == 422 and len(r.text) < 300


def test_body_guard_stops_reading_a_streamed_body_at_the_limit():
    """Chunked, with no Content-Length: at most the limit plus one chunk is read, and the app is never called."""
    called, sent, reads = [], [], []

    async def app(scope, receive, send):
        called.append(scope)

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 1_000_000, "more_body": True}  # endless

    async def send(message):
        sent.append(message)

    guard = BodyGuard(app, max_bytes=2_500_000)
    asyncio.run(guard({"type": "http", "method": "POST", "path": "/api/ask", "headers": []}, receive, send))
    assert called == [] and len(reads) == 3
    assert sent[0]["status"] == 413


def test_body_guard_rejects_a_declared_length_without_reading():
    sent, reads = [], []

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    guard = BodyGuard(lambda *a: None, max_bytes=1000)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "POST", "path": "/api/ask", "headers": [(b"content-length", b"100000000")]}
    asyncio.run(guard(scope, receive, send))
    assert reads == [] and sent[0]["status"] == 413


def test_invalid_utf8_json_body_is_the_documented_422():
    client = TestClient(create_app(FakeAssistant()))
    r = client.post("/api/ask", content=b'{"question": "Wh\xffere?"}', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "UTF-8" in r.json()["detail"]


# -- 9. schema, headers, HEAD, back-pressure ---------------------------------------------------------
def test_schema_requires_question_and_allows_null_defaults(client):
    spec = client.get("/openapi.json").json()
    body = spec["components"]["schemas"]["AskRequest"]
    assert body["required"] == ["question"]
    for name in ("k", "retriever"):
        assert {"type": "null"} in body["properties"][name]["anyOf"]
    assert client.post("/api/ask", json={"question": "Where?", "k": None, "retriever": None}).status_code == 200
    responses = spec["paths"]["/api/ask"]["post"]["responses"]
    assert {"200", "413", "422", "503"} <= set(responses)


@pytest.fixture
def client() -> TestClient:
    return TestClient(create_app(FakeAssistant()))


def test_every_response_says_nosniff_and_docs_has_a_csp(client):
    for method, path in [("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/api/documents"), ("GET", "/healthz"),
                         ("GET", "/static/style.css"), ("GET", "/docs-static/swagger-ui.css"),
                         ("POST", "/api/ask"), ("GET", "/nowhere")]:
        r = client.request(method, path)
        assert r.headers.get("x-content-type-options") == "nosniff", path
    docs = client.get("/docs")
    csp = docs.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split(
        "script-src")[1].split(";")[0]
    for script in re.findall(r"<script>(.*?)</script>", docs.text, re.S):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp


def test_head_on_pages(client):
    assert client.head("/").status_code == 200
    assert client.head("/doc/summit").status_code == 200


class Blocking(FakeAssistant):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def ask_many(self, questions, k=None, retriever=None):
        self.entered.release()
        self.release.wait(timeout=10)
        return [self.ask(q, k, retriever) for q in questions]


def test_overload_is_503_with_retry_after():
    fake = Blocking()
    client = TestClient(create_app(fake, max_queue=2))
    try:
        with ThreadPoolExecutor(2) as pool:
            waiting = [pool.submit(client.post, "/api/ask", json={"question": f"q{i}"}) for i in range(2)]
            assert fake.entered.acquire(timeout=5)  # the worker holds one; the other waits in the queue
            deadline = time.monotonic() + 5
            while client.app.state.batcher._waiting < 2 and time.monotonic() < deadline:  # type: ignore[attr-defined]
                time.sleep(0.01)
            r = client.post("/api/ask", json={"question": "one too many"})
            assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1 and "busy" in r.json()["detail"]
            page = client.get("/", params={"q": "one too many"})
            assert page.status_code == 503 and "Retry-After" in page.headers
            fake.release.set()
            assert [f.result(timeout=10).status_code for f in waiting] == [200, 200]
        assert client.post("/api/ask", json={"question": "later"}).status_code == 200
    finally:
        fake.release.set()


def test_overloaded_batcher_refuses_at_once():
    fake = Blocking()
    batcher = Batcher(fake, max_queue=1)
    try:
        with ThreadPoolExecutor(1) as pool:
            held = pool.submit(batcher.ask, "held", 1, "hybrid")
            assert fake.entered.acquire(timeout=5)
            started = time.monotonic()
            with pytest.raises(Overloaded):
                batcher.ask("more", 1, "hybrid")
            assert time.monotonic() - started < 1
            fake.release.set()
            assert held.result(timeout=10).question == "held"
    finally:
        fake.release.set()
        batcher.close()


# -- the load test's bad-question mode, against a real server on loopback -------------------------------
@pytest.mark.slow  # a load or concurrency run of seconds
def test_loadtest_mixing_bad_questions_has_no_errors_for_the_good_ones():
    import importlib.util
    import socket

    import uvicorn

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("loadtest", ROOT / "scripts" / "loadtest.py")
    loadtest = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["loadtest"] = loadtest  # its dataclasses look their module up
    spec.loader.exec_module(loadtest)  # type: ignore[union-attr]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(TokenizerLike()), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started
        tally, _ = loadtest.run(f"http://127.0.0.1:{port}", ["Where will they meet?", "Who attends?"], clients=4,
                                duration=1.5, body={}, bad_every=3)
        assert tally.errors == [] and tally.bad_sent >= 4 and len(tally.latencies) >= 8
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_app_answers_after_its_lifespan_ran_before():
    """A client that starts and stops the app (schemathesis does, to read the schema) must not leave
    it with no batch worker, where every question would wait forever."""
    app = create_app(FakeAssistant())
    for _ in range(2):
        with TestClient(app) as client:
            assert client.post("/api/ask", json={"question": "Where?"}).status_code == 200
    closed = Batcher(FakeAssistant())
    closed.close()
    with pytest.raises(Exception, match="shutting down"):
        closed.ask("Where?", 1, "hybrid")
