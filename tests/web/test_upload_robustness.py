"""Uploads that cannot take the server down: permission decided before the body, jobs answered at
once, bombs refused within bounds while questions are answered, what a crash left settled at start,
the writer lock a conflict, names and titles kept as text, X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.index.library import STAGED_PREFIX, documents_dir, recover
from rag.index.store.local import LocalStore, read_manifest
from rag.index.store.lock import writer_lock
from web.app import create_app
from web.uploads import client_host

from tests.bombs import flate_bomb_pdf, text_bomb_pdf, zip_bomb_docx
from tests.conftest import HashEmbedder
from tests.web.test_uploads import LOCAL, _upload, wait_job

REMOTE = ("192.0.2.7", 40000)


def _setup(tmp_path, embedder=None, **settings):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry\nThe ferry runs on Sundays.", encoding="utf-8")
    s = Settings(model="unused", index_dir=tmp_path / "index", reload_seconds=0, **settings)
    embedder = embedder or HashEmbedder()
    build_index([folder], s, embedder=embedder, progress=False)
    return s, Assistant(LocalStore.load(s.index_dir), embedder, s)


@pytest.fixture
def app_parts(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    return _setup(tmp_path, upload_max_bytes=60_000_000)


def _rss_peak_reset() -> None:
    with open("/proc/self/clear_refs", "w") as fh:  # resets VmHWM, the peak resident size
        fh.write("5")


def _rss_peak() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


# -- permission before the body ----------------------------------------------------------------
def _asgi_post(app, path: str, headers: list[tuple[bytes, bytes]], body_size: int, client=REMOTE) -> tuple[int, int]:
    """POST through the app as ASGI; returns (status, bytes of the body the app asked for)."""
    read = 0
    status = 0
    chunk = b"x" * (1 << 20)
    left = body_size

    async def receive():
        nonlocal read, left
        n = min(left, len(chunk))
        left -= n
        read += n
        return {"type": "http.request", "body": chunk[:n], "more_body": left > 0}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(body_size).encode()), *headers],
             "client": client, "server": ("127.0.0.1", 8000), "scheme": "http", "http_version": "1.1",
             "root_path": "", "asgi": {"version": "3.0"}}
    asyncio.run(app(scope, receive, send))
    return status, read


@pytest.mark.parametrize("path", ["/api/documents", "/documents"])
def test_a_client_without_permission_is_refused_before_a_byte_of_the_body(app_parts, path, monkeypatch):
    settings, assistant = app_parts
    app = create_app(assistant)
    multipart = [(b"content-type", b"multipart/form-data; boundary=x")]
    assert _asgi_post(app, path, multipart, 45_000_000) == (403, 0)
    monkeypatch.setenv("RAG_API_TOKEN", "s3cret")
    app = create_app(assistant)
    assert _asgi_post(app, path, multipart, 45_000_000) == (401, 0)
    assert _asgi_post(app, path, [*multipart, (b"origin", b"http://evil.example")], 45_000_000, LOCAL) == (403, 0)
    # with the token, the upload limit applies (and only then is the body read)
    status, read = _asgi_post(app, path, [*multipart, (b"authorization", b"Bearer s3cret")], 1000)
    assert read == 1000 and status != 401


def test_the_upload_limit_is_only_the_upload_routes(app_parts):
    settings, assistant = app_parts
    client = TestClient(create_app(assistant), client=LOCAL)
    r = client.post("/documents/ferry/remove", content=b"x" * 200_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_x_forwarded_for_is_trusted_only_from_the_named_proxies(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    assert client_host("127.0.0.1", "192.0.2.7", frozenset()) == "127.0.0.1"
    assert client_host("127.0.0.1", "192.0.2.7", frozenset({"127.0.0.1"})) == "192.0.2.7"
    assert client_host("127.0.0.1", "127.0.0.1, 192.0.2.7", frozenset({"127.0.0.1"})) == "192.0.2.7"
    assert client_host("127.0.0.1", None, frozenset({"127.0.0.1"})) == ""  # unknown: not local
    settings, assistant = _setup(tmp_path, trusted_proxies="127.0.0.1")
    client = TestClient(create_app(assistant), client=LOCAL)
    text = [("files", ("a.txt", b"A\nText.", "text/plain"))]
    assert client.post("/api/documents", files=text, headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403
    assert client.post("/api/documents", files=text).status_code == 403  # a proxy that names no client
    assert client.post("/api/documents", files=text, headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 202


def test_a_45_mb_upload_without_permission_barely_grows_the_server(app_parts):
    import socket

    import uvicorn

    settings, assistant = app_parts
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    def post_45_mb() -> bytes:
        with socket.create_connection(("127.0.0.1", port)) as conn:
            size = 45_000_000
            conn.sendall(b"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                         b"Content-Type: multipart/form-data; boundary=x\r\n"
                         + f"Content-Length: {size}\r\n\r\n".encode())
            block = b"x" * (1 << 20)
            try:
                for _ in range(size // len(block)):
                    conn.sendall(block)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed without reading the rest
            return conn.recv(4096)

    try:
        _rss_peak_reset()
        before = _rss_peak()
        # Eight at once, as the audit sent them: a server that read the bodies first held them all.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: post_45_mb(), range(8)))
        assert all(r.startswith(b"HTTP/1.1 403") for r in replies), [r[:60] for r in replies]
        growth = _rss_peak() - before
        print(f"RSS peak growth over 8 x 45 MB refused uploads at once: {growth / 1e6:.1f} MB")
        assert growth < 100_000_000
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- jobs ----------------------------------------------------------------------------------------
class SlowEmbedder(HashEmbedder):
    def encode_with_sentences(self, texts, spans, progress: bool = False):
        time.sleep(0.05 * len(texts) / 8)
        return super().encode_with_sentences(texts, spans, progress)


def test_an_upload_is_answered_at_once_and_its_job_shows_progress(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    from tests.doc_fixtures import write_pdf

    settings, assistant = _setup(tmp_path, embedder=SlowEmbedder())
    client = TestClient(create_app(assistant), client=LOCAL)
    pages = [[f"Page {p} of the harbour report.", *(f"Line {i} on page {p}: the crane lifts containers every "
                                                  f"day, {p * 100 + i} of them." for i in range(40))]
             for p in range(1, 31)]
    data = write_pdf(tmp_path / "long.pdf", pages).read_bytes()
    started = time.monotonic()
    r = client.post("/api/documents", files=[("files", ("long.pdf", data, "application/pdf"))])
    took = time.monotonic() - started
    assert r.status_code == 202 and took < 1.0, (r.status_code, took)
    seen = set()
    deadline = time.monotonic() + 60
    while True:
        job = client.get(r.json()["url"]).json()
        f = job["files"][0]
        seen.add((f["state"], f["chunks_embedded"] > 0))
        if job["state"] in ("done", "failed"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["state"] == "done" and f["doc_id"] == "long" and f["pages"] == 30 and f["pages_read"] == 30
    assert ("embedding", True) in seen  # seen part way, chunks counted as they were embedded
    assert f["chunks_embedded"] == f["chunks"] > 8
    assert client.get("/api/jobs/nope").status_code == 404


# -- bombs through the API, a question answered meanwhile ------------------------------------------
def test_bombs_are_refused_within_bounds_while_questions_are_answered(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    settings, assistant = _setup(tmp_path, max_text_chars=100_000, extract_memory_mb=256)
    client = TestClient(create_app(assistant), client=LOCAL)
    bombs = {"text.pdf": text_bomb_pdf(tmp_path / "text.pdf", 1_000_000),
             "flate.pdf": flate_bomb_pdf(tmp_path / "flate.pdf", 400_000_000),
             "zip.docx": zip_bomb_docx(tmp_path / "zip.docx", 100_000_000),
             "lie.docx": zip_bomb_docx(tmp_path / "lie.docx", 100_000_000, lie=True)}
    _rss_peak_reset()
    before = _rss_peak()
    for name, path in bombs.items():
        started = time.monotonic()
        r = client.post("/api/documents", files=[("files", (name, path.read_bytes(), "application/octet-stream"))])
        assert r.status_code == 202
        asked = client.post("/api/ask", json={"question": "When does the ferry run?", "retriever": "bm25"})
        assert asked.status_code == 200 and time.monotonic() - started < 30
        job = wait_job(client, r.json()["url"], timeout=60)
        print(name, "answered in", round(time.monotonic() - started, 2), "s")
        f = job["files"][0]
        assert f["state"] == "failed" and f["status"] == 422, f
        assert any(s in f["error"] for s in ("RAG_MAX_TEXT_CHARS", "RAG_EXTRACT_MEMORY_MB", "zip bomb")), f
    growth = _rss_peak() - before
    print(f"RSS peak growth over 4 bombs: {growth / 1e6:.1f} MB")
    assert growth < 1 << 30
    assert [p.name for p in documents_dir(settings).iterdir()] == []


# -- the rest of the table ---------------------------------------------------------------------
def test_writes_while_another_writer_holds_the_lock_are_a_conflict(app_parts, monkeypatch):
    import web.uploads

    settings, assistant = app_parts
    monkeypatch.setattr(web.uploads, "JOB_LOCK_WAIT", 0.2)
    client = TestClient(create_app(assistant), client=LOCAL)
    assert _upload(client, "a.txt", b"Alpha\nThe alpha text.").status_code == 202
    with writer_lock(settings.index_dir, wait=0):
        r = _upload(client, "b.txt", b"Beta\nThe beta text.")
        assert r.status_code == 409 and "another build" in r.json()["detail"]
        r = client.delete("/api/documents/a")
        assert r.status_code == 409 and "another build" in r.json()["detail"]
    assert sorted(p.name for p in documents_dir(settings).iterdir()) == ["a.txt"]
    assert _upload(client, "b.txt", b"Beta\nThe beta text.").status_code == 202


def test_unicode_names_are_kept(app_parts):
    settings, assistant = app_parts
    client = TestClient(create_app(assistant), client=LOCAL)
    name = "résumé 日本語 файл.txt"
    r = _upload(client, name, "Résumé\nLe texte du résumé.".encode())
    assert r.status_code == 202 and r.json()["added"][0]["doc_id"] == "résumé 日本語 файл"
    assert [p.name for p in documents_dir(settings).iterdir()] == [name]
    assert "résumé 日本語 файл" in {d["doc_id"] for d in client.get("/api/documents").json()}
    assert client.get(r.json()["added"][0]["url"]).status_code == 200
    original = client.get(r.json()["added"][0]["url"] + "/file")
    assert original.status_code == 200 and original.content == "Résumé\nLe texte du résumé.".encode()


def test_names_are_sanitised_but_keep_their_letters():
    from rag.index.library import sanitise_name

    assert sanitise_name("re\u0301sume\u0301.TXT") == "résumé.txt"  # NFC
    assert sanitise_name("a\x00b\u202e\nc.md") == "a_b__c.md"  # control and format characters
    assert sanitise_name("x:y|z?.pdf") == "x_y_z.pdf"
    long = sanitise_name("日" * 150 + ".txt")
    assert long.endswith(".txt") and len(long.encode()) <= 204 and set(long[:-4]) == {"日"}


def test_html_titles_are_text_never_markup(app_parts):
    settings, assistant = app_parts
    client = TestClient(create_app(assistant), client=LOCAL)
    page = b"<html><head><title><script>alert(3)</script>Title</title></head><body><p>Body text.</p></body></html>"
    r = _upload(client, "t.html", page)
    assert r.status_code == 202 and r.json()["added"][0]["title"] == "Title"
    assert "alert" not in client.get("/").text


# -- what a crash leaves -------------------------------------------------------------------------
def test_recover_settles_what_a_crash_left(app_parts):
    settings, assistant = app_parts
    client = TestClient(create_app(assistant), client=LOCAL)
    assert _upload(client, "kept.txt", b"Kept\nThe kept text.").status_code == 202
    folder = documents_dir(settings)
    (folder / ".upload-abc.txt").write_bytes(b"half an upload")
    (folder / "orphan.txt").write_text("Orphan\nNever indexed.", encoding="utf-8")
    (folder / f"{STAGED_PREFIX}orphan.txt").touch()
    (folder / f"{STAGED_PREFIX}kept.txt").touch()  # its index was written before the crash
    (folder / "kept.txt").rename(folder / ".removed-kept.txt")  # a removal that never reached the index
    notes = recover(settings)
    assert sorted(p.name for p in folder.iterdir()) == ["kept.txt"]
    assert len(notes) == 3
    # consistent with the list: the orphan can be uploaded again, the kept one removed
    assert _upload(client, "orphan.txt", b"Orphan\nNever indexed.").status_code == 202
    assert client.delete("/api/documents/kept").status_code == 200
    assert "kept" not in read_manifest(settings.index_dir)["documents"]


# -- goodput under overload: the queue follows the measured rate, refusals cost nothing ------------
def test_questions_are_refused_once_the_queue_head_has_waited_too_long():
    from collections import deque

    from web.batching import MIN_QUEUE, Batcher, Overloaded

    class Slow:
        def ask_many(self, questions, k, retriever):
            time.sleep(0.2)  # a batch of any size takes 0.2 s
            return [f"answer to {q}" for q in questions]

    batcher = Batcher(Slow(), max_batch=4, max_queue=100, max_wait=0.5)
    threads = [threading.Thread(target=lambda i=i: batcher.ask(f"q{i}", 5, "bm25")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # batches of 1 to 4 questions in 0.2 s each: 5 to 20 a second, smoothed; the queue is empty again
    assert 4 <= batcher.rate <= 21 and batcher.stats()["batches"] >= 2 and batcher.head_wait() == 0
    assert batcher.limit() == max(MIN_QUEUE, int(batcher.rate * 0.5))
    batcher.rate = 20.0  # 0.5 s of answers: 10
    assert batcher.limit() == 10
    now = time.perf_counter()
    for waiting, head_waited, refused in ((MIN_QUEUE, 0.1, False), (MIN_QUEUE, 0.6, True),
                                          (MIN_QUEUE - 1, 5.0, False), (10, 0.0, True), (100, 0.0, True)):
        batcher._waiting, batcher._enqueued = waiting, deque([now - head_waited])
        assert batcher.full() is refused, (waiting, head_waited)
    # batches cut to what 0.5 s allows at the measured cost a question (0.05 to 0.2 s here)
    assert batcher.batch_limit() == max(1, min(4, int(0.5 / batcher.cost)))
    batcher.cost = 0.25
    assert batcher.batch_limit() == 2
    with pytest.raises(Overloaded) as error:
        batcher.ask("one too many", 5, "bm25")
    assert error.value.retry_after >= 1
    batcher._waiting, batcher._enqueued = 0, deque()
    batcher.close()


def test_past_the_limit_a_question_is_refused_before_its_body_is_read(app_parts):
    settings, assistant = app_parts
    app = create_app(assistant, max_queue=1)
    batcher = app.state.batcher
    batcher._waiting = 1
    try:
        status, read = _asgi_post(app, "/api/ask", [(b"content-type", b"application/json")], 50, LOCAL)
    finally:
        batcher._waiting = 0
    assert (status, read) == (503, 0)
    r = TestClient(app, client=LOCAL).post("/api/ask", json={"question": "When does the ferry run?"})
    assert r.status_code == 200
    batcher._waiting = 1
    r = TestClient(app, client=LOCAL).post("/api/ask", json={"question": "When does the ferry run?"})
    batcher._waiting = 0
    assert r.status_code == 503 and r.headers["retry-after"].isdigit()
