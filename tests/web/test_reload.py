"""A running assistant and server switch to a new index version (a `rag index` run, an upload) by
themselves, atomically: questions in flight finish, none fails, nothing restarts."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from rag import Settings, build_index
from rag.assistant import Assistant
from rag.errors import IndexIncompatible
from rag.index.store.local import LocalStore
from web.app import create_app

from tests.conftest import HashEmbedder
from tests.doc_fixtures import write_pdf


def _setup(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry\nThe ferry runs on Sundays.", encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index", reload_seconds=0.1)
    embedder = HashEmbedder()
    build_index([folder], settings, embedder=embedder, progress=False)
    assistant = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    return folder, settings, embedder, assistant


def _add_pdf(folder, settings, embedder):
    write_pdf(folder / "bridge.pdf", [["Harbour"], ["The council paid 42 million euros for the bridge."]])
    build_index([folder], settings, embedder=embedder, progress=False)


def test_refresh_switches_to_the_new_version_once(tmp_path):
    folder, settings, embedder, assistant = _setup(tmp_path)
    assert assistant.refresh() is False
    old = assistant.index_version()
    _add_pdf(folder, settings, embedder)
    assert assistant.refresh() is True
    assert assistant.index_version() != old
    assert assistant.document("bridge") is not None
    result = assistant.ask("How much did the council pay for the bridge?", 3, "bm25")
    top = result.passages[0]
    assert top.chunk.doc_id == "bridge"
    assert result.to_dict()["passages"][0]["page"] == assistant.document("bridge").page_at(top.chunk.start)
    assert assistant.refresh() is False


def test_index_of_another_model_is_refused_and_the_old_one_kept(tmp_path):
    folder, settings, embedder, assistant = _setup(tmp_path)
    other = HashEmbedder()
    other.fingerprint = "another-model"
    (folder / "more.txt").write_text("More\nMore text.", encoding="utf-8")
    build_index([folder], settings, embedder=other, progress=False)
    old = assistant.index_version()
    with pytest.raises(IndexIncompatible):
        assistant.refresh()
    assert assistant.index_version() == old and assistant.document("more") is None


@pytest.mark.slow  # a load or concurrency run of seconds
def test_questions_during_swaps_all_succeed(tmp_path):
    folder, settings, embedder, assistant = _setup(tmp_path)
    errors: list[BaseException] = []
    answered = [0]
    stop = time.monotonic() + 3.0

    def ask() -> None:
        while time.monotonic() < stop:
            try:
                result = assistant.ask("When does the ferry run?", 3, "bm25")
                assert result.passages and result.passages[0].chunk.doc_id == "ferry"
                answered[0] += 1
            except BaseException as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    swaps = 0
    for i in range(4):
        (folder / f"note{i}.txt").write_text(f"Note {i}\nNumber {i} is written down.", encoding="utf-8")
        build_index([folder], settings, embedder=embedder, progress=False)
        swaps += assistant.refresh()
    for t in threads:
        t.join(timeout=30)
    assert errors == [] and answered[0] > 0 and swaps == 4


def test_server_picks_up_a_cli_build_within_seconds(tmp_path):
    folder, settings, embedder, assistant = _setup(tmp_path)
    with TestClient(create_app(assistant, reload_seconds=0.1)) as client:
        assert "bridge" not in {d["doc_id"] for d in client.get("/api/documents").json()}
        _add_pdf(folder, settings, embedder)
        deadline = time.monotonic() + 5.0
        seen = False
        while time.monotonic() < deadline and not seen:
            seen = "bridge" in {d["doc_id"] for d in client.get("/api/documents").json()}
            time.sleep(0.05)
        assert seen
        assert client.get("/healthz").json()["documents"] == 2


def test_watcher_is_off_at_zero(tmp_path):
    folder, settings, embedder, assistant = _setup(tmp_path)
    app = create_app(assistant, reload_seconds=0)
    with TestClient(app) as client:
        _add_pdf(folder, settings, embedder)
        time.sleep(0.3)
        assert "bridge" not in {d["doc_id"] for d in client.get("/api/documents").json()}
    assert app.state.watcher.swaps == 0
