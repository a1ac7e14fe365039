"""The one library API that the CLI, the web app, eval and bench all call."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .answer.base import Answerer
from .answer.reader import Reader
from .errors import IndexIncompatible, UserError
from .index.embedding import Embedder
from .index.store import Store, open_store
from .records import Document, Result
from .retrieve.retriever import Retriever
from .settings import Settings
from .validation import check_k, check_question, check_retriever


def make_answerer(settings: Settings) -> Answerer:
    """The answer stage, loaded: the trained reader the settings name (a missing or damaged reader is
    one clear error here, before any question)."""
    return Reader.loaded(settings)


class Assistant:
    """A loaded index, the embedding model and the reader; ``ask`` answers one question.

    Thread-safe for concurrent ``ask`` calls: the store is read-only and the models are stateless."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings, answerer: Answerer | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.retriever = Retriever(store, embedder, settings)
        self.answerer = answerer
        self._refresh_lock = threading.Lock()

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             answer: bool = True, warm: bool = True) -> "Assistant":
        """The index, checked against the model, and the answer stage. ``warm=False`` leaves the
        embedding model unloaded until ``warm_up`` or the first question needs it."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        store = open_store(settings.index_dir, settings.store)
        info = store.info
        embedder = Embedder.from_settings(settings)
        if not info.built_with(embedder.fingerprint, embedder.dimension):
            raise IndexIncompatible(
                f"the index at {info.location} was built with the model {info.model} "
                f"(dimension {info.dimension}) but the model in use is {settings.model} "
                f"(dimension {embedder.dimension}): rebuild it with: {info.rebuild}, "
                "or set RAG_MODEL to the model it was built with")
        assistant = cls(store, embedder, settings, make_answerer(settings) if answer else None)
        if warm:
            assistant.warm_up()
        return assistant

    def warm_up(self, retriever: str | None = None) -> None:
        """Load now the models that questions will need (those ``retriever`` needs, or all), so that no
        question's timings hold a model load."""
        if retriever is None or self._needs_vector(retriever):
            warm = getattr(self.embedder, "warm_up", None)  # test fakes have nothing to load
            if warm is not None:
                warm()
        if self.answerer is not None:
            self.answerer.warm_up()

    # -- questions ---------------------------------------------------------------------------
    def ask(self, question: str, k: int | None = None, retriever: str | None = None) -> Result:
        question = check_question(question)
        k = check_k(self.settings.k if k is None else k)
        retriever = check_retriever(retriever or self.settings.retriever)
        return self._answer(question, k, retriever, vector=None)

    def ask_many(self, questions: Iterable[str], k: int | None = None, retriever: str | None = None,
                 batch_size: int = 64) -> Iterator[Result | UserError]:
        """Answer many questions with batched embedding. A bad question yields its ``UserError``
        in its place, and the batch goes on."""
        k = check_k(self.settings.k if k is None else k)
        retriever = check_retriever(retriever or self.settings.retriever)
        batch: list[str] = []
        for q in questions:
            batch.append(q)
            if len(batch) >= batch_size:
                yield from self._batch(batch, k, retriever)
                batch = []
        if batch:
            yield from self._batch(batch, k, retriever)

    def _batch(self, raw: list[str], k: int, retriever: str) -> Iterator[Result | UserError]:
        checked: list[str | UserError] = []
        for q in raw:
            try:
                checked.append(check_question(q))
            except UserError as exc:
                checked.append(exc)
        good = [q for q in checked if isinstance(q, str)]
        vectors = self.embedder.encode(good) if good and self._needs_vector(retriever) else None
        results = [self._retrieve(q, k, retriever, vectors[i] if vectors is not None else None)
                   for i, q in enumerate(good)]
        # One batched reading pass over every question's passages.
        self._read(results)
        done = iter(results)
        for q in checked:
            yield q if isinstance(q, UserError) else next(done)

    def _answer(self, question: str, k: int, retriever: str, vector: Any) -> Result:
        result = self._retrieve(question, k, retriever, vector)
        self._read([result])
        return result

    def _retrieve(self, question: str, k: int, retriever: str, vector: Any) -> Result:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if vector is None and self._needs_vector(retriever):
            # BM25 needs no question vector; an answerer may (Answerer.needs_question_vector).
            vector = self.embedder.encode_query(question)
            timings["embed"] = time.perf_counter() - started
        passages = self.retriever.search(question, k, retriever, vector=vector, timings=timings)
        timings["total"] = time.perf_counter() - started
        return Result(question=question, answer=None, alternatives=[], passages=passages, timings=timings)

    def _read(self, results: list[Result]) -> None:
        if self.answerer is None or not results:
            return
        t = time.perf_counter()
        # The answer comes from the best few passages whatever k is, so `-k 100` (or eval at k=10) gives
        # the same answer as the default k and costs no more to read.
        items = [(r.question, r.passages[:self.read_passages]) for r in results]
        read = self.answerer.answer_many(items)  # the reader: one batched forward pass for all
        share = (time.perf_counter() - t) / len(results)
        for r, (answer, alternatives) in zip(results, read):
            r.answer, r.alternatives = answer, alternatives
            r.timings["answer"] = share
            r.timings["total"] += share

    @property
    def read_passages(self) -> int:
        """How many of the top passages the answer stage reads: the setting, else the answerer's own."""
        if self.settings.answer_passages is not None:
            return self.settings.answer_passages
        return self.answerer.passages if self.answerer is not None else 0

    def _needs_vector(self, retriever: str) -> bool:
        return retriever != "bm25" or (self.answerer is not None and self.answerer.needs_question_vector)

    # -- live index --------------------------------------------------------------------------
    def index_version(self) -> str | None:
        """The local index version this assistant serves (None for other stores, which change in place)."""
        return self.store.version()

    def refresh(self) -> bool:
        """Switch to the index's current version if a build (``rag index``, an upload) made a new one.

        The new store is loaded beside the old one and swapped in with plain attribute assignments:
        a question in flight finishes on the store it started with, and nothing restarts. An index the
        loaded model cannot read is refused with IndexIncompatible, and the old one stays in use."""
        if self.index_version() is None:
            return False
        with self._refresh_lock:
            latest = self.store.latest_version()
            if latest is None or latest == self.index_version():
                return False
            store = open_store(self.settings.index_dir, self.settings.store)
            info = store.info
            if not info.built_with(self.embedder.fingerprint, self.embedder.dimension):
                raise IndexIncompatible(f"the new index at {info.location} was built with the model {info.model}, "
                                        f"not the one this server runs: keeping the index it loaded")
            # The retriever first: a reader of .store then sees the new documents no earlier than the
            # passages that cite them.
            self.retriever = Retriever(store, self.embedder, self.settings)
            self.store = store
            return True

    # -- documents ---------------------------------------------------------------------------
    def documents(self) -> list[Document]:
        return self.store.documents()

    def document(self, doc_id: str) -> Document | None:
        return self.store.document(doc_id)

    def health(self) -> dict[str, Any]:
        info = self.store.info
        return {"status": "ready", "documents": info.documents, "chunks": info.chunks, "model": info.model,
                "dimension": info.dimension, "index": info.location, "store": self.settings.store,
                "answerer": self.answerer is not None}
