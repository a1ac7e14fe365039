"""Build or update an index so it holds exactly the documents under the given paths, in whichever
store the settings name (``Settings.store``: the local folder or Milvus).

Only new or changed documents are chunked and embedded; the vectors of unchanged ones are reused,
and documents that are gone are dropped; an index built with another model or chunker is rebuilt
whole. Nothing changed means nothing is written (and the model is not even loaded).

A build holds the store's writer lock (``Store.writing``: the local folder's lock; Milvus has
none) from reading its manifest to the write, so two builds of a folder never interleave; before
the first embedding it checks that the store can take what is read so far, and the whole once reading
ends (the files are read while the model embeds: rag/index/pipeline.py). A document that was indexed and whose file
is still there but cannot be read now keeps its indexed version (with a warning): only a file that
is gone drops its document."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..ingest.bounded import Limits
from ..ingest.chunking import chunk_document
from ..ingest.documents import iter_files
from ..ingest.sentences import sentence_spans
from ..records import Chunk, Document
from ..settings import Settings
from .embedding import Embedder, model_fingerprint
from .pipeline import DocumentReader
from .store.base import BuiltWith, EmbeddedDocument, Manifest, Sentences, Store, Update, WriteSize
from .store.open import open_store

# Chunks are embedded a window of this many batches at a time, as the reader cuts them: the chunks of
# a window are sorted by length (least padding), and the progress bar moves once a window.
WINDOW_BATCHES = 4


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    # Indexed documents whose files cannot be read now: their indexed version was kept.
    kept_unreadable: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    # What the stored vectors were computed in: "fp32", "bf16" or "mixed" (RAG_EMBED_PRECISION).
    precision: str = ""
    written: bool = False
    location: str = ""

    def summary(self) -> str:
        if not self.written:
            return (f"index is up to date: {self.documents} documents, {self.chunks} chunks "
                    f"({self.location}); nothing embedded")
        rate = f", {self.embedded_chunks / self.embed_seconds:.0f} chunks/s" if self.embed_seconds > 0 else ""
        rate += f", {self.precision}" if self.embedded_chunks and self.precision else ""
        kept = f", kept {len(self.kept_unreadable)} unreadable" if self.kept_unreadable else ""
        return (f"indexed {self.documents} documents, {self.chunks} chunks in {self.seconds:.1f}s "
                f"(added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"unchanged {self.unchanged}{kept}; embedded {self.embedded_chunks} chunks{rate}) -> {self.location}")


@dataclass
class Plan:
    """What a build must do, given the documents found and the hashes the index already has."""

    embed: list[Document]
    keep: list[Document]
    removed: list[str]


def plan_update(documents: Sequence[Document], existing: dict[str, str] | None) -> Plan:
    """``existing`` maps doc_id to the content hash whose vectors the index holds."""
    existing = existing or {}
    embed = [d for d in documents if existing.get(d.doc_id) != d.content_hash]
    keep = [d for d in documents if existing.get(d.doc_id) == d.content_hash]
    found = {d.doc_id for d in documents}
    return Plan(embed, keep, sorted(set(existing) - found))


def chunker_settings(settings: Settings) -> dict[str, int]:
    return {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "version": 1}


def build_index(paths: Sequence[str | Path], settings: Settings | None = None, embedder: Embedder | None = None,
                progress: bool = True, warn: Callable[[str], None] | None = None,
                drop_unreadable: bool = False, lock_wait: float | None = None) -> BuildReport:
    """Make the store that ``settings`` names hold exactly the documents under ``paths``.
    ``drop_unreadable`` drops indexed documents whose files cannot be read now instead of keeping
    their indexed version; ``lock_wait`` is how long to wait for another build of the same store
    (default RAG_INDEX_LOCK_WAIT).

    Pipelined: a reader thread (rag/index/pipeline.py) loads and chunks the files while this thread
    embeds the chunks already cut, a window of ``WINDOW_BATCHES`` batches at a time."""
    settings = settings or Settings.from_env()
    warn = warn or _print_warning
    started = time.perf_counter()
    files = list(iter_files(Path(p) for p in paths))  # a missing path is one line, before anything starts
    reader = DocumentReader(files, warn, settings.chunk_size, settings.chunk_overlap,
                            limits=Limits.from_settings(settings)).start()
    try:
        if not reader.wait_first() and not reader.unreadable:
            raise _no_documents(paths)  # before reaching for the store: nothing could be kept
        sources = [str(Path(p).resolve()) for p in paths]
        with closing(open_store(settings.index_dir, settings.store, create=True)) as store, \
                store.writing(lock_wait):
            return _build_locked(store, reader, store.manifest(), settings, embedder, progress, started, sources,
                                 drop_unreadable, warn, paths)
    finally:
        reader.close()


def _print_warning(message: str) -> None:
    # Files are read while the progress bar is on screen (the reader thread warns mid-build): tqdm.write
    # prints the line above the bar instead of onto it.
    from tqdm import tqdm

    tqdm.write(f"warning: {message}", file=sys.stderr)


def _no_documents(paths: Sequence[str | Path]) -> UserError:
    return UserError(f"no documents found under {', '.join(str(p) for p in paths)} "
                     "(supported: .txt .md .html .pdf .docx corpus.jsonl)")


def _keep_unreadable(store: Store, manifest: Manifest, unreadable: list[Path], docs: list[Document],
                     warn: Callable[[str], None]) -> list[Document]:
    """The indexed documents that came from files now unreadable, as the index holds them."""
    bad = {p.resolve() for p in unreadable}
    taken = {d.doc_id for d in docs}
    wanted = [doc_id for doc_id, entry in manifest.documents.items()
              if doc_id not in taken and Path(entry.source.split("#")[0]).resolve() in bad]
    kept = [doc for doc in (store.document(doc_id) for doc_id in wanted) if doc is not None]
    for doc in kept:
        warn(f"kept the indexed version of {doc.doc_id!r}: {doc.source} cannot be read now; fix the file, or "
             "delete it to drop the document from the index")
    return kept


class _Embedding:
    """The chunks of the documents to embed, in reading order, and their vectors as far as embedded:
    ``embed(upto)`` embeds chunks [done, upto) in one call (the model loaded at the first)."""

    def __init__(self, settings: Settings, embedder: Embedder | None, bar: _Progress) -> None:
        self.settings, self.embedder, self.bar = settings, embedder, bar
        self.chunks: list[Chunk] = []
        self.spans: list[list[tuple[int, int]]] = []
        self.vectors: list[np.ndarray] = []
        self.sentence_vectors: list[np.ndarray] = []
        self.done = 0
        self.seconds = 0.0

    def add(self, chunks: list[Chunk], spans: list[list[tuple[int, int]]]) -> None:
        self.chunks += chunks
        self.spans += spans

    @property
    def waiting(self) -> int:
        return len(self.chunks) - self.done

    def embed(self, upto: int) -> None:
        if upto <= self.done:
            return
        # Loaded before the clock starts: the chunks/s figure is the embedding alone.
        self.embedder = self.embedder or Embedder.from_settings(self.settings, loaded=True)
        part = range(self.done, upto)
        texts = [self.chunks[i].text for i in part]
        relative = [[(s - self.chunks[i].start, e - self.chunks[i].start) for s, e in self.spans[i]] for i in part]
        t0 = time.perf_counter()
        vectors, sentence_vectors = self.embedder.encode_with_sentences(texts, relative, progress=False)
        self.seconds += time.perf_counter() - t0
        self.vectors.append(vectors)
        self.sentence_vectors += sentence_vectors
        self.done = upto
        self.bar.embedded(len(texts))


class _Progress:
    """One bar for the whole build: chunks embedded out of the chunks cut so far (the total grows
    while the files are read), and files read out of the files found."""

    def __init__(self, enabled: bool, reader: DocumentReader) -> None:
        self.reader = reader
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, desc="Indexing", unit="chunk")
            self.refresh()

    def refresh(self) -> None:
        if self.bar is not None:
            self.bar.total = max(self.reader.chunks_found, self.bar.n)
            self.bar.set_postfix_str(f"files read {self.reader.files_read}/{len(self.reader.files)}", refresh=False)
            self.bar.refresh()

    def embedded(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)
            self.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.refresh()
            self.bar.close()


def _build_locked(store: Store, reader: DocumentReader, manifest: Manifest | None, settings: Settings,
                  embedder: Embedder | None, progress: bool, started: float, sources: list[str],
                  drop_unreadable: bool, warn: Callable[[str], None], paths: Sequence[str | Path]) -> BuildReport:
    fingerprint = embedder.fingerprint if embedder else model_fingerprint(settings.model)
    chunker = chunker_settings(settings)
    existing = {doc_id: d.content_hash for doc_id, d in manifest.documents.items()} if manifest else {}
    reusable = manifest.reusable(fingerprint, chunker) if manifest else {}
    reader.plan(reusable)  # the reader chunks only what needs embedding
    dimension = embedder.dimension if embedder else (manifest.built_with.dimension if manifest else 384) or 384
    window = WINDOW_BATCHES * settings.batch_size
    bar = _Progress(progress, reader)
    work = _Embedding(settings, embedder, bar)
    docs: list[Document] = []
    to_embed: list[Document] = []
    checked = False
    try:
        for item in reader:
            docs.append(item.document)
            if item.chunks is not None and item.spans is not None:
                to_embed.append(item.document)
                work.add(item.chunks, item.spans)
            bar.refresh()
            if work.waiting >= window:
                if not checked:
                    # What is read so far must fit before the first embedding (the whole is checked
                    # once reading ends): a read-only folder or a full disk fails before the model runs.
                    store.check_room(WriteSize(list(docs), len(work.chunks), sum(len(sp) for sp in work.spans),
                                               dimension))
                    checked = True
                work.embed(work.done + window)
        kept: list[Document] = []
        if reader.unreadable and manifest and not drop_unreadable:
            kept = _keep_unreadable(store, manifest, reader.unreadable, docs, warn)
            docs = docs + kept
        if not docs:
            raise _no_documents(paths)
        plan = plan_update(docs, reusable)
        for doc in kept:
            if reusable.get(doc.doc_id) != doc.content_hash:  # kept from an index being rebuilt: embed it again
                chunks_of = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
                work.add(chunks_of, [sentence_spans(doc.text, c.start, c.end) for c in chunks_of])
                to_embed.append(doc)
        assert [d.doc_id for d in plan.embed] == [d.doc_id for d in to_embed]
        found = {d.doc_id for d in docs}
        report = BuildReport(documents=len(docs), added=[d.doc_id for d in plan.embed if d.doc_id not in existing],
                             changed=[d.doc_id for d in plan.embed if d.doc_id in existing],
                             removed=sorted(set(existing) - found), unchanged=len(plan.keep),
                             location=str(settings.index_dir) if settings.store == "local" else settings.store,
                             kept_unreadable=[d.doc_id for d in kept])
        recorded = manifest.sources if manifest and manifest.sources is not None else tuple(sources)
        if manifest and reusable and not plan.embed and not report.removed and recorded == tuple(sources):
            report.chunks = manifest.chunks
            report.seconds = time.perf_counter() - started
            return report

        chunks, spans = work.chunks, work.spans
        counts: dict[str, int] = {}
        for doc in plan.embed:
            counts[doc.doc_id] = 0
        for c in chunks:
            counts[c.doc_id] += 1
        counts.update(_kept_counts(plan.keep, manifest, settings))
        # Can the store take it all? Checked before the rest of the embedding (reading is done).
        kept_chunks = sum(counts[d.doc_id] for d in plan.keep)
        new_sentences = sum(len(sp) for sp in spans)
        per_chunk = new_sentences / len(chunks) if chunks else 8.0
        store.check_room(WriteSize(docs, len(chunks) + kept_chunks, int(new_sentences + per_chunk * kept_chunks),
                                   dimension))
        while work.waiting:
            work.embed(min(len(chunks), work.done + window))
    finally:
        bar.close()
    if chunks:
        assert work.embedder is not None
        embedder = work.embedder
        vectors = np.concatenate(work.vectors)
        sentence_vectors = work.sentence_vectors
        dimension = embedder.dimension
    else:
        assert manifest is not None  # nothing to embed: every document is kept from it
        dimension = manifest.built_with.dimension
        vectors, sentence_vectors = np.zeros((0, dimension), np.float32), []
    report.embedded_chunks = len(chunks)
    report.embed_seconds = work.seconds
    report.precision = _precision(embedder if chunks else None, manifest if reusable else None, bool(plan.keep))

    fresh: dict[str, EmbeddedDocument] = {}
    at = 0
    for doc in plan.embed:
        n = counts[doc.doc_id]
        fresh[doc.doc_id] = EmbeddedDocument(
            doc, chunks[at:at + n], vectors[at:at + n],
            [Sentences(np.asarray(spans[i], np.int64).reshape(-1, 2), sentence_vectors[i])
             for i in range(at, at + n)])
        at += n
    store.write(Update(documents=docs, fresh=fresh, chunk_counts=counts, stale=report.changed + report.removed,
                       built_with=BuiltWith(settings.model, fingerprint, dimension, chunker, report.precision),
                       rebuild=not reusable, sources=sources, dense_index=settings.faiss_index,
                       ann_threshold=settings.ann_threshold))
    report.chunks = int(sum(counts.values()))
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _precision(embedder: Embedder | None, manifest: Manifest | None, keeps: bool) -> str:
    """What the stored vectors were computed in: the embedder's precision, the stored one when
    nothing was embedded, "mixed" when kept vectors and new ones differ (both search alike: README)."""
    new = getattr(embedder, "precision", "fp32") if embedder is not None else None
    old = manifest.built_with.precision if manifest is not None else None
    if new is None:
        return old or "fp32"
    if keeps and old is not None and old != new:
        return "mixed"
    return new


def _kept_counts(keep: list[Document], manifest: Manifest | None, settings: Settings) -> dict[str, int]:
    """Chunks of each kept document: as the store recorded them, or (where it does not count them)
    as the same chunker cuts them again."""
    counts = {}
    for doc in keep:
        recorded = manifest.documents[doc.doc_id].chunks if manifest else None
        counts[doc.doc_id] = recorded if recorded is not None else \
            len(chunk_document(doc, settings.chunk_size, settings.chunk_overlap))
    return counts
