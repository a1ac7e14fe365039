"""Coalesce concurrent questions into one ``Assistant.ask_many`` call.

Embedding eight short questions in one batch costs about as much as two or three single ones, so
under concurrent load the server answers more questions per second at a lower latency; alone, a
question waits for nothing (a worker takes whatever is queued the moment it is free).

Two guards keep one request's trouble its own: a batch that fails is answered again question by
question, so only the question that fails gets the error; and past ``max_queue`` waiting questions
``ask`` refuses at once (``Overloaded``: the API answers 503 with Retry-After) instead of letting every
caller queue for seconds."""

from __future__ import annotations

import collections
import logging
import math
import queue
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from rag.errors import UserError
from rag.records import Result

log = logging.getLogger("rag")

# Past capacity, questions are refused once the oldest one still queued has waited this long (seconds),
# or once as many wait as the worker answers in this long at its measured rate: the queue then holds
# about this much work at whatever rate the machine answers now (CoDel's idea: judge a queue by how
# long its head has waited; the count also cuts a burst of clients arriving together). So the answered
# questions keep a wait near max_wait plus one batch.
MAX_WAIT = 0.75
# Never refused below this many waiting, so a brief stall does not turn away a handful of questions.
MIN_QUEUE = 4
# A batch is cut to what the worker answers in about this long at its measured cost a question, so on a
# slow or busy machine a question does not wait for a long batch and then sit in one (a fast machine
# never reaches it: max_batch questions take far less).
MAX_BATCH_SECONDS = 0.5
# /healthz's p99 from ask to answer covers the questions answered in this many recent seconds.
RECENT_SECONDS = 10.0
_SMOOTHING = 0.3


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

    def __init__(self, assistant: Any, workers: int = 1, max_batch: int = 16, max_queue: int | None = None,
                 max_wait: float = MAX_WAIT, max_batch_seconds: float | None = MAX_BATCH_SECONDS) -> None:
        self.assistant = assistant
        self.workers = workers
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.max_wait = max_wait
        self.max_batch_seconds = max_batch_seconds
        # Seconds a question of a batch costs, smoothed over recent batches (0 until measured).
        self.cost = 0.0
        # Questions answered a second while busy, smoothed over recent batches (0 until measured): how
        # long a refused client is told to wait (Retry-After).
        self.rate = 0.0
        # When each question still in the queue was put there, oldest first (FIFO, as the queue).
        self._enqueued: collections.deque[float] = collections.deque()
        # (when, seconds from ask to answer) of the last answered questions, as the server sees them.
        self._answered: collections.deque[tuple[float, float]] = collections.deque(maxlen=5000)
        self._waiting = 0  # asked and not yet answered
        # Measured, for the load test and /healthz: batches answered, questions in them, and refusals.
        self.batches = 0
        self.batched = 0
        self.shed = 0
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
            if self._over_limit():
                self.shed += 1
                raise Overloaded(self._waiting, self._retry_after())
            self._waiting += 1
            self._enqueued.append(time.perf_counter())
            self._queue.put(job)
        started = time.perf_counter()
        try:
            result = job.future.result()
            now = time.perf_counter()
            self._answered.append((now, now - started))
            return result
        finally:
            with self._lock:
                self._waiting -= 1

    def batch_limit(self) -> int:
        """The most questions the next batch takes: max_batch, or what max_batch_seconds allows at the
        measured cost a question (it converges on the batch that takes that long); None: max_batch."""
        if self.cost <= 0 or self.max_batch_seconds is None:
            return self.max_batch
        return max(1, min(self.max_batch, int(self.max_batch_seconds / self.cost)))

    def head_wait(self) -> float:
        """Seconds the oldest question still in the queue has waited (0 when none is)."""
        return time.perf_counter() - self._enqueued[0] if self._enqueued else 0.0

    def limit(self) -> int | None:
        """How many may wait: what the workers answer in max_wait at the measured rate (a burst of
        clients arriving together is cut there too, before their wait shows at the queue's head),
        at least MIN_QUEUE, at most max_queue."""
        if self.max_queue is None:
            return None
        if self.rate <= 0:
            return self.max_queue
        return min(self.max_queue, max(MIN_QUEUE, int(self.rate * self.workers * self.max_wait)))

    def _over_limit(self) -> bool:
        limit = self.limit()
        if limit is None:
            return False
        return self._waiting >= limit or (self._waiting >= MIN_QUEUE and self.head_wait() > self.max_wait)

    def _retry_after(self) -> int:
        return max(1, math.ceil(self._waiting / (self.rate * self.workers))) if self.rate > 0 else 1

    def full(self) -> bool:
        """True when a new question would be refused: the check a guard makes before reading a body."""
        return self._over_limit()

    def refuse(self) -> Overloaded:
        with self._lock:
            self.shed += 1
            return Overloaded(self._waiting, self._retry_after())

    def stats(self) -> dict[str, float | int | None]:
        since = time.perf_counter() - RECENT_SECONDS
        answered = sorted(took for when, took in list(self._answered) if when >= since)
        p99 = answered[min(len(answered) - 1, int(0.99 * len(answered)))] if answered else 0.0
        return {"max_queue": self.max_queue, "limit": self.limit(), "max_wait": self.max_wait, "rate": round(self.rate, 1),
                "batch_limit": self.batch_limit(), "p99_ms_recent": round(1000 * p99, 1),
                "max_batch": self.max_batch, "batches": self.batches, "questions": self.batched, "shed": self.shed}

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
            batch = self.batch_limit()
            while len(jobs) < batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:  # closing: finish this batch, then stop
                    self._queue.put(None)
                    break
                jobs.append(more)
            with self._lock:  # these are out of the queue now
                for _ in jobs:
                    if self._enqueued:
                        self._enqueued.popleft()
            self.batches += 1
            self.batched += len(jobs)
            started = time.perf_counter()
            self._answer(jobs)
            took = time.perf_counter() - started
            # The first batch is not measured (it pays for warming the model up), and one slow batch
            # (a pause, a long question) moves the estimates at most 2x at a time.
            if took > 0 and self.batches > 1:
                measured, each = len(jobs) / took, took / len(jobs)
                self.rate = measured if self.rate <= 0 else \
                    (1 - _SMOOTHING) * self.rate + _SMOOTHING * max(measured, self.rate / 2)
                self.cost = each if self.cost <= 0 else \
                    (1 - _SMOOTHING) * self.cost + _SMOOTHING * min(each, 2 * self.cost)

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
