"""Adding and removing documents through the API and the no-JavaScript form, over a real local index
with the fast fake embedder: incremental indexing, the live swap, and every limit and safety rule."""

from __future__ import annotations

import io
import re
import time

import pytest
from fastapi.testclient import TestClient

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.ingest.chunking import chunk_document
from rag.index.library import documents_dir, index_sources, recorded_sources, sanitise_name
from rag.index.store.local import LocalStore, read_manifest
from web.app import create_app

from tests.conftest import HashEmbedder
from tests.doc_fixtures import write_docx, write_pdf

LOCAL = ("127.0.0.1", 50000)


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry\nThe ferry runs on Sundays.", encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index", reload_seconds=0, upload_max_bytes=200_000)
    embedder = HashEmbedder()
    build_index([folder], settings, embedder=embedder, progress=False)
    assistant = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    return tmp_path, settings, embedder, assistant


def _client(assistant, client=LOCAL) -> TestClient:
    return TestClient(create_app(assistant), client=client)


def _pdf_bytes(tmp_path, name="bridge.pdf") -> bytes:
    path = write_pdf(tmp_path / name, [["Harbour report", "The bridge opened in March."],
                                       ["Costs", "The council paid 42 million euros for the bridge."]])
    return path.read_bytes()


class Outcome:
    """Where an upload ended: the POST's own refusal, or its job's end (an upload is answered with 202
    and a job, web/jobs.py): a failed file as its status and detail, a done job as 202 and what it added."""

    def __init__(self, status_code: int, body: dict) -> None:
        self.status_code, self.body, self.text = status_code, body, str(body)

    def json(self) -> dict:
        return self.body


def wait_job(client, url: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url).json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def _upload(client, name, data, **kw):
    r = client.post("/api/documents", files=[("files", (name, data, "application/octet-stream"))], **kw)
    if r.status_code != 202:
        return r
    assert r.headers["location"] == r.json()["url"]
    job = wait_job(client, r.json()["url"])
    failed = [f for f in job["files"] if f["state"] == "failed"]
    if failed:
        return Outcome(failed[0]["status"], {"detail": failed[0]["error"]})
    return Outcome(202, {"added": [{"doc_id": f["doc_id"], "title": f["title"], "url": f["url"],
                                    "pages": f["pages"]} for f in job["files"]]})


def test_upload_indexes_only_the_new_file_and_answers_cite_its_page(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    before = len(embedder.calls)
    r = _upload(client, "bridge.pdf", _pdf_bytes(tmp_path))
    assert r.status_code == 202, r.text
    assert r.json()["added"] == [{"doc_id": "bridge", "title": "Harbour report", "url": "/doc/bridge", "pages": 2}]
    new_doc = LocalStore.load(settings.index_dir).document("bridge")
    # only the new file was embedded
    assert embedder.calls[before:] == [len(chunk_document(new_doc, settings.chunk_size, settings.chunk_overlap))]
    assert (documents_dir(settings) / "bridge.pdf").is_file()
    body = client.post("/api/ask", json={"question": "How much did the council pay for the bridge?",
                                         "retriever": "bm25"}).json()
    top = body["passages"][0]
    assert top["doc_id"] == "bridge" and top["page"] == new_doc.page_at(top["start"])
    assert client.get("/doc/bridge/file").headers["content-type"] == "application/pdf"
    # removed again: gone from the index, the folder and the answers
    assert client.delete("/api/documents/bridge").json() == {"removed": "bridge"}
    assert not (documents_dir(settings) / "bridge.pdf").exists()
    assert "bridge" not in {d["doc_id"] for d in client.get("/api/documents").json()}
    body = client.post("/api/ask", json={"question": "How much did the council pay for the bridge?",
                                         "retriever": "bm25"}).json()
    assert all(p["doc_id"] != "bridge" for p in body["passages"])


def test_docx_upload_and_same_name_gets_a_new_name(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    one = write_docx(tmp_path / "a.docx", ["Minutes", "We met on Monday."]).read_bytes()
    two = write_docx(tmp_path / "b.docx", ["Minutes", "We met on Tuesday."]).read_bytes()
    assert _upload(client, "notes.docx", one).status_code == 202
    r = _upload(client, "notes.docx", two)
    assert r.status_code == 202 and r.json()["added"][0]["doc_id"] == "notes-2"
    assert (documents_dir(settings) / "notes.docx").read_bytes() == one


@pytest.mark.parametrize("name, data, status, words", [
    ("x.pdf", b"just text, named pdf", 415, "not a PDF"),
    ("x.docx", b"plain text named docx", 415, "not a Word document"),
    ("x.exe", b"MZ\x90\x00", 415, "not supported"),
    ("x.txt", b"\xff\xfe\x00binary", 415, "binary"),
    ("x.txt", b"", 422, "empty"),
    ("big.txt", b"a" * 200_001, 413, "limit"),
])
def test_bad_uploads_are_one_clear_error_and_nothing_is_stored(setup, name, data, status, words):
    tmp_path, settings, embedder, assistant = setup
    r = _upload(_client(assistant), name, data)
    assert r.status_code == status and words in r.json()["detail"]
    folder = documents_dir(settings)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_scanned_pdf_says_why(setup):
    tmp_path, settings, embedder, assistant = setup
    data = write_pdf(tmp_path / "scan.pdf", [], image_pages=1).read_bytes()
    r = _upload(_client(assistant), "scan.pdf", data)
    assert r.status_code == 422 and "no text layer" in r.json()["detail"]
    assert list(documents_dir(settings).iterdir()) == []


def test_duplicates_are_recognised_by_content(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    data = _pdf_bytes(tmp_path)
    assert _upload(client, "bridge.pdf", data).status_code == 202
    r = _upload(client, "other-name.pdf", data)
    assert r.status_code == 409 and "bridge.pdf" in r.json()["detail"]
    # the same text as a document indexed from a folder
    r = _upload(client, "copy.txt", b"Ferry\nThe ferry runs on Sundays.")
    assert r.status_code == 409 and "ferry" in r.json()["detail"]


def test_file_names_are_sanitised():
    assert sanitise_name("../../etc/passwd") == "passwd"
    assert sanitise_name("..\\..\\win.TXT") == "win.txt"
    assert sanitise_name(".hidden.md") == "hidden.md"
    assert sanitise_name("a b<script>.pdf") == "a b_script.pdf"
    assert sanitise_name("....pdf") == "document.pdf"


def test_traversal_name_lands_inside_the_documents_folder(setup):
    tmp_path, settings, embedder, assistant = setup
    r = _upload(_client(assistant), "../../evil.txt", b"Evil\nNothing here but words.")
    assert r.status_code == 202
    assert [p.name for p in documents_dir(settings).iterdir()] == ["evil.txt"]
    assert not (tmp_path / "evil.txt").exists()


def test_only_uploaded_documents_can_be_removed(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    r = client.delete("/api/documents/ferry")
    assert r.status_code == 409 and "not from the documents folder" in r.json()["detail"]
    assert (tmp_path / "docs" / "ferry.txt").exists()
    assert client.delete("/api/documents/nothing").status_code == 404


def test_other_clients_need_the_token(setup, monkeypatch):
    tmp_path, settings, embedder, assistant = setup
    remote = ("192.0.2.7", 40000)
    r = _upload(_client(assistant, remote), "a.txt", b"A\nText.")
    assert r.status_code == 403 and "RAG_API_TOKEN" in r.json()["detail"]
    monkeypatch.setenv("RAG_API_TOKEN", "s3cret-token")
    client = _client(assistant, remote)
    assert _upload(client, "a.txt", b"A\nText.", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert _upload(client, "a.txt", b"A\nText.", headers={"Authorization": "Bearer s3cret-token"}).status_code == 202


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Origin": "null"}])
def test_cross_site_writes_are_refused(setup, headers):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    assert _upload(client, "a.txt", b"A\nText.", headers=headers).status_code == 403
    assert client.delete("/api/documents/ferry", headers=headers).status_code == 403


def test_form_upload_and_remove_without_javascript(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    page = client.get("/").text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    assert 'enctype="multipart/form-data"' in page
    files = [("files", ("bridge.pdf", _pdf_bytes(tmp_path), "application/pdf"))]
    started = time.monotonic()
    r = client.post("/documents", data={"csrf": csrf}, files=files, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    assert time.monotonic() - started < 1.0  # answered at once; the job indexes it
    job_id = r.headers["location"].rsplit("/", 1)[1]
    wait_job(client, f"/api/jobs/{job_id}")
    r = client.get(f"/jobs/{job_id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/doc/bridge"
    r = client.get("/")
    assert 'action="/documents/bridge/remove"' in r.text
    assert 'action="/documents/ferry/remove"' not in r.text  # not an upload
    r = client.post("/documents/bridge/remove", data={"csrf": csrf})
    assert r.status_code == 200 and "removed bridge" in r.text
    assert "/doc/bridge" not in r.text


def test_form_without_its_csrf_token_is_refused(setup):
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    files = [("files", ("a.txt", b"A\nText.", "text/plain"))]
    r = client.post("/documents", data={"csrf": "forged"}, files=files)
    assert r.status_code == 403 and "reload the page" in r.text
    assert not documents_dir(settings).exists() or list(documents_dir(settings).iterdir()) == []


def test_index_remembers_sources_and_keeps_uploads(setup):
    tmp_path, settings, embedder, assistant = setup
    assert recorded_sources(settings) == [(tmp_path / "docs").resolve()]
    _upload(_client(assistant), "a.txt", b"A\nText.")
    paths, note = index_sources(settings)
    assert set(paths) == {(tmp_path / "docs").resolve(), documents_dir(settings)} and note == ""
    other = tmp_path / "other"
    other.mkdir()
    (other / "o.txt").write_text("O\nOther text.", encoding="utf-8")
    paths, note = index_sources(settings, [other])
    assert documents_dir(settings) in paths and "kept the uploaded documents" in note
    assert "sources" in read_manifest(settings.index_dir)


def test_writes_are_off_without_a_writable_assistant():
    from .test_api import FakeAssistant

    client = TestClient(create_app(FakeAssistant()), client=LOCAL)
    assert client.post("/api/documents", files=[("files", ("a.txt", io.BytesIO(b"x"), "text/plain"))]).status_code == 405
    assert "/api/documents" not in str(client.get("/openapi.json").json()["paths"].get("/api/documents", {}).get("post"))


def test_error_page_shows_no_empty_library(setup):
    tmp_path, settings, embedder, assistant = setup
    html = _client(assistant).get("/", params={"q": ""}).text
    assert "0 documents" not in html and 'action="/documents"' not in html


def test_the_pages_own_form_post_is_accepted_even_with_a_null_origin(setup):
    # A browser may send "Origin: null" on a same-origin form post (e.g. under a strict referrer
    # policy); its Sec-Fetch-Site still says same-origin, and that is what counts.
    tmp_path, settings, embedder, assistant = setup
    client = _client(assistant)
    r = _upload(client, "a.txt", b"A\nText.", headers={"Sec-Fetch-Site": "same-origin", "Origin": "null"})
    assert r.status_code == 202
