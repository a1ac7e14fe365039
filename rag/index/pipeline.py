"""The build's reading side, run beside the embedding: one background thread loads the files (PDF
extraction, OCR) and chunks the documents that need embedding, while the build's thread embeds the
chunks already cut. One thread, because the machine this runs on has two cores and the model uses
both: reading is mostly C (pdfium, the OCR engine) that releases the GIL, so it fills the gaps the
model leaves rather than fighting it for cores (README, "Benchmarks").

The documents come out in the order ``load_documents(paths)`` gives them (files in ``iter_files``
order, a duplicate id keeps the first and warns), each file read through ``load_documents`` itself,
so the loaders' contract (warnings, unreadable files) is the one the build always had."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..ingest.bounded import Limits
from ..ingest.chunking import chunk_document
from ..ingest.documents import load_documents
from ..ingest.sentences import sentence_spans
from ..records import Chunk, Document


@dataclass(frozen=True)
class ReadDocument:
    """A document as read; ``chunks`` and ``spans`` (each chunk's sentence spans, document offsets)
    are None for a document whose stored vectors are reused."""

    document: Document
    chunks: list[Chunk] | None
    spans: list[list[tuple[int, int]]] | None


_END = object()


class DocumentReader:
    """Reads ``files`` in a background thread. ``wait_first()`` blocks until a document was read or
    reading ended; documents are chunked only once ``plan(reuse)`` said which ones need embedding
    (``reuse``: doc_id -> content hash whose stored vectors are still valid). Iterate for the
    ``ReadDocument``s in order; ``close()`` stops the thread (at the next file) and is always safe."""

    def __init__(self, files: Sequence[Path], warn: Callable[[str], None], chunk_size: int, chunk_overlap: int,
                 load: Callable[..., list[Document]] | None = None, limits: Limits | None = None) -> None:
        self.files = list(files)
        self.unreadable: list[Path] = []
        # Progress, written by the reading thread and read by the build's (ints: a stale read is harmless).
        self.files_read = 0
        self.chunks_found = 0
        self.documents_read = 0
        self._warn = warn
        self._size, self._overlap = chunk_size, chunk_overlap
        self._load = load or load_documents  # looked up now, so a test can patch the module's name
        self._limits = limits or Limits.from_env()  # read once, not once a file
        self._queue: queue.Queue[object] = queue.Queue()
        self._first = threading.Event()
        self._planned = threading.Event()
        self._stop = threading.Event()
        self._reuse: Mapping[str, str] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="rag-index-reader", daemon=True)

    def start(self) -> DocumentReader:
        self._thread.start()
        return self

    def wait_first(self) -> bool:
        """True once a document was read; False when reading ended without one (errors re-raised)."""
        self._first.wait()
        if self._error is not None and self.documents_read == 0:
            raise self._error
        return self.documents_read > 0

    def plan(self, reuse: Mapping[str, str]) -> None:
        self._reuse = dict(reuse)
        self._planned.set()

    def __iter__(self) -> Iterator[ReadDocument]:
        while True:
            item = self._queue.get()
            if item is _END:
                if self._error is not None:
                    raise self._error
                return
            assert isinstance(item, ReadDocument)
            yield item

    def close(self) -> None:
        self._stop.set()
        self._planned.set()  # a reader waiting for the plan wakes up and stops
        self._thread.join()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    def _run(self) -> None:
        taken: dict[str, Document] = {}
        try:
            for file in self.files:
                if self._stop.is_set():
                    return
                for doc in self._load([file], warn=self._warn, unreadable=self.unreadable, limits=self._limits):
                    if doc.doc_id in taken:
                        self._warn(f"skipped {doc.source}: document id {doc.doc_id!r} already taken by "
                                   f"{taken[doc.doc_id].source}")
                        continue
                    taken[doc.doc_id] = doc
                    self.documents_read += 1
                    self._first.set()
                    self._planned.wait()
                    if self._stop.is_set():
                        return
                    self._queue.put(self._chunk(doc))
                self.files_read += 1
        except BaseException as exc:  # handed to the build's thread, which raises it
            self._error = exc
        finally:
            self._first.set()
            self._queue.put(_END)

    def _chunk(self, doc: Document) -> ReadDocument:
        if self._reuse.get(doc.doc_id) == doc.content_hash:
            return ReadDocument(doc, None, None)
        chunks = chunk_document(doc, self._size, self._overlap)
        spans = [sentence_spans(doc.text, c.start, c.end) for c in chunks]
        self.chunks_found += len(chunks)
        return ReadDocument(doc, chunks, spans)
