"""Upload jobs: an upload is answered at once (202 and the job), and one thread indexes the jobs in
the order they came, one at a time. A job says how far each file got: queued, reading, embedding
(pages read, chunks embedded of how many), then done (the document) or failed (the status and the
one-line reason the synchronous API used to answer). Jobs live in memory: the last ``KEEP`` are kept;
a server restart forgets them (what a crash left half done is finished or undone at start,
rag/index/library.py ``recover``)."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import numpy as np

log = logging.getLogger("rag")

KEEP = 200
STATES = ("queued", "reading", "embedding", "done", "failed")


@dataclass
class JobFile:
    name: str
    state: str = "queued"
    pages: int = 0
    pages_read: int = 0
    chunks: int = 0
    chunks_embedded: int = 0
    added: Any = None  # rag.index.library.Added once done
    error: str | None = None
    status: int | None = None  # the HTTP status that fits the failure

    def finish(self, added: Any) -> None:
        self.added, self.state, self.chunks_embedded = added, "done", self.chunks

    def to_dict(self) -> dict[str, Any]:
        a = self.added
        return {"name": self.name, "state": self.state, "pages": self.pages, "pages_read": self.pages_read,
                "chunks": self.chunks, "chunks_embedded": self.chunks_embedded,
                "doc_id": a.doc_id if a else None, "title": a.title if a else None,
                "url": f"/doc/{quote(a.doc_id, safe='')}" if a else None, "error": self.error, "status": self.status}


@dataclass
class Job:
    id: str
    files: list[JobFile]
    state: str = "queued"  # queued, running, done, failed
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def fail(self, entry: JobFile, message: str, status: int) -> None:
        entry.state, entry.error, entry.status = "failed", message, status
        self.state = "failed"

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    @property
    def url(self) -> str:
        return f"/api/jobs/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "url": self.url, "files": [f.to_dict() for f in self.files]}


class Jobs:
    """The job registry and its one worker thread; ``run(job, staged)`` does a job's work."""

    def __init__(self, run: Callable[[Job, list[Any]], None]) -> None:
        self._run = run
        self._queue: queue.SimpleQueue[tuple[Job, list[Any]] | None] = queue.SimpleQueue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="rag-upload-jobs", daemon=True)
        self._thread.start()

    def submit(self, files: list[JobFile], staged: list[Any]) -> Job:
        job = Job(secrets.token_hex(8), files)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        self._queue.put((job, staged))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            job, staged = item
            job.state = "running"
            try:
                self._run(job, staged)
            except Exception:  # the thread lives on; the job says it failed
                log.exception("upload job %s failed", job.id)
                for f in job.files:
                    if f.state not in ("done", "failed"):
                        job.fail(f, "indexing failed (an internal error; see the server log)", 500)
            finally:
                if job.state != "failed":
                    job.state = "done"
                job.finished.set()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)


class ProgressEmbedder:
    """The assistant's embedder, embedding a build's chunks a batch at a time and counting them for the
    job's progress; everything else passes through."""

    def __init__(self, inner: Any, embedded: Callable[[int], None], batch: int = 64) -> None:
        self._inner = inner
        self._embedded = embedded
        self._batch = batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def encode_with_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
                              progress: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
        vectors, sentences = [], []
        for at in range(0, len(texts), self._batch):
            v, s = self._inner.encode_with_sentences(texts[at:at + self._batch], spans[at:at + self._batch])
            vectors.append(v)
            sentences.extend(s)
            self._embedded(len(v))
        if not vectors:
            return self._inner.encode_with_sentences(texts, spans)
        return np.concatenate(vectors), sentences
