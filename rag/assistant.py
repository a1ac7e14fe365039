"""The one library API that the CLI, the web app, eval and bench all call."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .embedding import Embedder
from .errors import IndexIncompatible, UserError
from .records import Document, Result
from .retrieval import Retriever
from .settings import Settings
from .store import open_store
from .validation import check_k, check_question, check_retriever


class Assistant:
    """A loaded index, the embedding model and the answerer; ``ask`` answers one question.

    Thread-safe for concurrent ``ask`` calls: the store is read-only and the model is stateless."""

    def __init__(self, store: Any, embedder: Embedder, settings: Settings, answerer: Any = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.retriever = Retriever(store, embedder, settings)
        self.answerer = answerer

    @classmethod
    def load(cls, index_dir: str | Path | None = None, settings: Settings | None = None,
             answer: bool = True) -> "Assistant":
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        store = open_store(settings.index_dir, settings.store)
        info = store.info
        embedder = Embedder(settings.model, settings.batch_size)
        if embedder.fingerprint != info.model_fingerprint or embedder.dimension != info.dimension:
            raise IndexIncompatible(
                f"the index at {info.location} was built with the model {info.model} "
                f"(dimension {info.dimension}) but the model in use is {settings.model} "
                f"(dimension {embedder.dimension}): rebuild it with: rag index --index-dir {settings.index_dir} PATH ..., "
                "or set RAG_MODEL to the model it was built with")
        answerer = None
        if answer:
            from .answering import Answerer

            answerer = Answerer(settings, embedder)
        return cls(store, embedder, settings, answerer)

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
        needs_vector = retriever != "bm25" or self.answerer is not None
        vectors = self.embedder.encode(good) if good and needs_vector else None
        i = 0
        for q in checked:
            if isinstance(q, UserError):
                yield q
                continue
            vector = vectors[i] if vectors is not None else None
            i += 1
            yield self._answer(q, k, retriever, vector)

    def _answer(self, question: str, k: int, retriever: str, vector: Any) -> Result:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        if vector is None and retriever == "bm25" and self.answerer is not None:
            # BM25 needs no question vector, but the answerer scores sentences with it.
            vector = self.embedder.encode_query(question)
            timings["embed"] = time.perf_counter() - started
        passages = self.retriever.search(question, k, retriever, vector=vector, timings=timings)
        answer, alternatives = None, []
        if self.answerer is not None:
            t = time.perf_counter()
            # The answer comes from the best few passages whatever k is, so `-k 100` (or eval at
            # k=10) gives the same answer as the default k and costs no more to answer.
            answer, alternatives = self.answerer.answer(question, passages[:self.settings.answer_passages])
            timings["answer"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - started
        return Result(question=question, answer=answer, alternatives=alternatives, passages=passages,
                      timings=timings)

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
