"""kill -9 while an upload is being indexed, at ten moments from before its job starts to after it
ends: after each restart the documents folder, the list and the index agree (a file is there if and
only if it is listed), no hidden leftovers remain, and re-uploading and DELETE answer accordingly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag import Settings, build_index
from rag.index.library import documents_dir

from tests.conftest import HashEmbedder

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(index_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.web.crash_server", str(index_dir), str(port)], cwd=ROOT,
                            env={**os.environ, "RAG_API_TOKEN": ""})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "the crash server did not start"
        time.sleep(0.05)


def _text(i: int) -> bytes:
    lines = [f"Report {i}"] + [f"Sentence {j} of report {i}: the harbour crane number {i} lifted {j * 7} "
                               f"containers on day {j}." for j in range(200)]
    return "\n".join(lines).encode()


def _wait(url: str, job_url: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = httpx.get(url + job_url).json()
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_kill_9_at_any_moment_leaves_the_upload_all_in_or_all_out(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text("Ferry\nThe ferry runs on Sundays.", encoding="utf-8")
    index_dir = tmp_path / "index"
    settings = Settings(model="unused", index_dir=index_dir, reload_seconds=0)
    build_index([folder], settings, embedder=HashEmbedder(), progress=False)
    uploads = documents_dir(settings)
    proc, url = _start(index_dir)
    outcomes = []
    try:
        for i in range(10):
            name = f"report-{i}.txt"
            r = httpx.post(url + "/api/documents", files=[("files", (name, _text(i), "text/plain"))], timeout=30)
            assert r.status_code == 202, r.text
            time.sleep(0.08 * i)  # 0 to 0.72 s: queued, reading, embedding, writing, done
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc, url = _start(index_dir)  # the restart settles what the kill left
            listed = {d["doc_id"] for d in httpx.get(url + "/api/documents").json()}
            files = {p.stem for p in uploads.iterdir() if not p.name.startswith(".")}
            hidden = [p.name for p in uploads.iterdir() if p.name.startswith(".")]
            assert hidden == [], hidden
            assert files == listed - {"ferry"}, (files, listed)
            stem = name[:-4]
            outcomes.append(stem in listed)
            again = httpx.post(url + "/api/documents", files=[("files", (name, _text(i), "text/plain"))], timeout=30)
            if stem in listed:  # all in: it is already there, and DELETE removes it
                assert again.status_code == 409, again.text
                assert httpx.delete(url + f"/api/documents/{stem}").status_code == 200
            else:  # all out: uploading it again works
                assert again.status_code == 202
                assert _wait(url, again.json()["url"])["state"] == "done"
                assert httpx.delete(url + f"/api/documents/{stem}").status_code == 200
            assert not (uploads / name).exists()
    finally:
        proc.kill()
        proc.wait()
    print(f"kill -9 at 10 moments: {sum(outcomes)} uploads were all in, {10 - sum(outcomes)} all out")
    assert len(outcomes) == 10
