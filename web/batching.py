"""Coalesce concurrent questions into one ``Assistant.ask_many`` call.

Embedding eight short questions in one batch costs about as much as two or three single ones, so
under concurrent load the server answers more questions per second at a lower latency; alone, a
question waits for nothing (a worker takes whatever is queued the moment it is free).

Two guards keep one request's trouble its own: a batch that fails is answered again question by
question, so only the question that fails gets the error; and past ``max_queue`` waiting questions
``ask`` refuses at once (``Overloaded``: the API answers 503 with Retry-After) instead of letting every
caller queue for seconds."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from rag.errors import UserError
from rag.records import Result

log = logging.getLogger("rag")


class Unavailable(Exception):
    """The question cannot be taken now; the caller may try again after ``retry_after`` seconds (503)."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Overloaded(Unavailable):
    """More questions are waiting than the server answers in reasonable time; try again shortly."""

    def __init__(self, waiting: int, retry_after: int = 1) -> None:
        super().__init__(f"the server is busy ({waiting} questions waiting): try again in {retry_after} s", retry_after)


@dataclass
class _Job:
    question: str
    k: int
    retriever: str
    future: Future = field(default_factory=Future)


class Batcher:
    """``ask`` blocks its caller (a thread-pool thread, never the event loop) until a worker has
    answered the question as part of a batch of up to ``max_batch`` queued questions."""

    def __init__(self, assistant: Any, workers: int = 1, max_batch: int = 16, max_queue: int | None = None) -> None:
        self.assistant = assistant
        self.workers = workers
        self.max_batch = max_batch
        self.max_queue = max_queue
        self._waiting = 0  # asked and not yet answered
        self._closed = False
        # Guards _waiting, _closed and the order of jobs and stop marks in the queue.
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.start()

    def start(self) -> None:
        """Start the workers (again, after ``close``: an app's lifespan may run more than once)."""
        with self._lock:
            self._closed = False
            self._threads = [t for t in self._threads if t.is_alive()]
            for i in range(len(self._threads), self.workers):
                t = threading.Thread(target=self._work, name=f"rag-batcher-{i}", daemon=True)
                t.start()
                self._threads.append(t)

    def ask(self, question: str, k: int, retriever: str) -> Result:
        job = _Job(question, k, retriever)
        with self._lock:
            if self._closed:  # no worker would ever take it
                raise Unavailable("the server is shutting down: try again in a moment")
            if self.max_queue is not None and self._waiting >= self.max_queue:
                raise Overloaded(self._waiting)
            self._waiting += 1
            self._queue.put(job)
        try:
            return job.future.result()
        finally:
            with self._lock:
                self._waiting -= 1

    def close(self) -> None:
        """Answer what is queued, then stop the workers."""
        with self._lock:
            self._closed = True
            threads = list(self._threads)
            for _ in threads:
                self._queue.put(None)
        for t in threads:
            t.join(timeout=10)

    def _work(self) -> None:
        torch = sys.modules.get("torch")
        if torch is not None:
            # One core per worker, the rest serve HTTP (see create_app): a second intra-op thread
            # would only fight them (and on a busy machine, spin) for the same cores.
            torch.set_num_threads(1)
        while True:
            job = self._queue.get()
            if job is None:
                return
            jobs = [job]
            while len(jobs) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # closing: finish this batch, then stop
                    self._queue.put(None)
                    break
                jobs.append(more)
            self._answer(jobs)

    def _answer(self, jobs: list[_Job]) -> None:
        groups: dict[tuple[int, str], list[_Job]] = defaultdict(list)
        for job in jobs:
            groups[(job.k, job.retriever)].append(job)
        for (k, retriever), group in groups.items():
            try:
                self._settle(group, list(self.assistant.ask_many([j.question for j in group], k=k, retriever=retriever)))
            except Exception as exc:
                if len(group) == 1:  # the worker lives on; the caller gets the error
                    group[0].future.set_exception(exc)
                    continue
                # One question must not fail the others that happened to share its batch.
                log.warning("a batch of %d questions failed (%s: %s); answering them one by one",
                            len(group), type(exc).__name__, exc)
                for j in group:
                    self._answer_alone(j, k, retriever)

    def _answer_alone(self, job: _Job, k: int, retriever: str) -> None:
        try:
            self._settle([job], list(self.assistant.ask_many([job.question], k=k, retriever=retriever)))
        except Exception as exc:
            job.future.set_exception(exc)

    @staticmethod
    def _settle(group: list[_Job], results: list[Any]) -> None:
        for j, result in zip(group, results):
            if isinstance(result, UserError):
                j.future.set_exception(result)
            else:
                j.future.set_result(result)
        for j in group[len(results):]:  # never leave a caller waiting forever
            j.future.set_exception(RuntimeError("the assistant returned fewer results than questions"))
