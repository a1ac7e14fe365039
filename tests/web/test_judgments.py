"""web/judgments.py: marking passages and answers right or wrong from the page's form and the API,
protected like the other writes, appended to settings.judgments (fast: the fake embedder)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.index.store.local import LocalStore
from web.app import create_app

from tests.conftest import HashEmbedder

LOCAL = ("127.0.0.1", 50000)
TEXT = "Ferry\nThe ferry runs on Sundays. It leaves at nine."


@pytest.fixture
def app_setup(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_API_TOKEN", raising=False)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text(TEXT, encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index", reload_seconds=0,
                        judgments=tmp_path / "eval" / "judgments.jsonl")
    embedder = HashEmbedder()
    build_index([folder], settings, embedder=embedder, progress=False)
    assistant = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    return settings, assistant


def marks(settings) -> list[dict]:
    return [json.loads(line) for line in settings.judgments.read_text().splitlines()]


def test_the_results_page_marks_a_passage_with_a_form_post(app_setup):
    settings, assistant = app_setup
    client = TestClient(create_app(assistant), client=LOCAL)
    page = client.get("/", params={"q": "When does the ferry run?", "retriever": "bm25"}).text
    form = re.search(r'<form class="judge" method="post" action="/judgments" aria-label="Mark passage 1">(.*?)</form>',
                     page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert fields["kind"] == "passage" and fields["question"] == "When does the ferry run?"
    r = client.post("/judgments", data={**fields, "mark": "right"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/?q=When+does+the+ferry+run%3F")
    [row] = marks(settings)
    doc = assistant.document(fields["doc_id"])
    assert row["mark"] == "right" and row["text"] == doc.text[int(fields["start"]):int(fields["end"])]
    assert row["index_version"] == Path(assistant.index_version()).name and row["time"].endswith("Z")


def test_the_form_needs_the_page_csrf_token_and_the_same_site(app_setup):
    settings, assistant = app_setup
    client = TestClient(create_app(assistant), client=LOCAL)
    doc_id = assistant.documents()[0].doc_id
    data = {"question": "q?", "kind": "passage", "mark": "right", "doc_id": doc_id, "start": "0", "end": "5"}
    assert client.post("/judgments", data={**data, "csrf": "forged"}).status_code == 403
    r = client.post("/api/judgments", json={**data, "start": 0, "end": 5}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "cannot record marks" in r.json()["detail"]
    remote = TestClient(create_app(assistant), client=("203.0.113.9", 4000))
    assert remote.post("/api/judgments", json={**data, "start": 0, "end": 5}).status_code == 403
    assert not settings.judgments.exists()


def test_the_api_appends_and_checks_what_is_marked(app_setup):
    settings, assistant = app_setup
    client = TestClient(create_app(assistant), client=LOCAL)
    doc_id = assistant.documents()[0].doc_id
    at = TEXT.index("Sundays")
    body = {"question": "When does the ferry run?", "kind": "answer", "mark": "right", "doc_id": doc_id,
            "start": at, "end": at + len("Sundays")}
    r = client.post("/api/judgments", json=body)
    assert r.status_code == 201 and r.json()["text"] == "Sundays"
    assert client.post("/api/judgments", json={**body, "mark": "wrong"}).status_code == 201
    assert [m["mark"] for m in marks(settings)] == ["right", "wrong"]  # appended, never rewritten
    for bad, message in (({"mark": "maybe"}, "mark must be one of"), ({"end": 10_000}, "outside the document"),
                         ({"doc_id": "nope"}, "no document"), ({"start": "x"}, "whole number"),
                         ({"question": " "}, "")):
        r = client.post("/api/judgments", json={**body, **bad})
        assert r.status_code == 422 and message in r.json()["detail"]
    assert len(marks(settings)) == 2
