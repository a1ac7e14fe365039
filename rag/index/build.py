"""Build or update an index so it holds exactly the documents under the given paths, in whichever
store the settings name (``Settings.store``: the local folder or Milvus).

Only new or changed documents are chunked and embedded; the vectors of unchanged ones are reused,
and documents that are gone are dropped; an index built with another model or chunker is rebuilt
whole. Nothing changed means nothing is written (and the model is not even loaded).

A build holds the store's writer lock (``Store.writing``: the local folder's lock; Milvus has
none) from reading its manifest to the write, so two builds of a folder never interleave; before
embedding it checks that the store can take the write. A document that was indexed and whose file
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
from ..ingest.chunking import chunk_document
from ..ingest.documents import load_documents
from ..ingest.sentences import sentence_spans
from ..records import Document
from ..settings import Settings
from .embedding import Embedder, model_fingerprint
from .store.base import BuiltWith, EmbeddedDocument, Manifest, Sentences, Store, Update, WriteSize
from .store.open import open_store


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
    written: bool = False
    location: str = ""

    def summary(self) -> str:
        if not self.written:
            return (f"index is up to date: {self.documents} documents, {self.chunks} chunks "
                    f"({self.location}); nothing embedded")
        rate = f", {self.embedded_chunks / self.embed_seconds:.0f} chunks/s" if self.embed_seconds > 0 else ""
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
    (default RAG_INDEX_LOCK_WAIT)."""
    settings = settings or Settings.from_env()
    warn = warn or (lambda m: print(f"warning: {m}", file=sys.stderr))
    started = time.perf_counter()
    unreadable: list[Path] = []
    docs = load_documents(paths, warn=warn, unreadable=unreadable)
    if not docs and not unreadable:
        raise _no_documents(paths)  # before reaching for the store: nothing could be kept
    sources = [str(Path(p).resolve()) for p in paths]
    with closing(open_store(settings.index_dir, settings.store, create=True)) as store, store.writing(lock_wait):
        manifest = store.manifest()
        kept: list[Document] = []
        if unreadable and manifest and not drop_unreadable:
            kept = _keep_unreadable(store, manifest, unreadable, docs, warn)
            docs = docs + kept
        if not docs:
            raise _no_documents(paths)
        report = _build_locked(store, docs, manifest, settings, embedder, progress, started, sources)
        report.kept_unreadable = [d.doc_id for d in kept]
        return report


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


def _build_locked(store: Store, docs: list[Document], manifest: Manifest | None, settings: Settings,
                  embedder: Embedder | None, progress: bool, started: float, sources: list[str]) -> BuildReport:
    fingerprint = embedder.fingerprint if embedder else model_fingerprint(settings.model)
    chunker = chunker_settings(settings)
    existing = {doc_id: d.content_hash for doc_id, d in manifest.documents.items()} if manifest else {}
    reusable = manifest.reusable(fingerprint, chunker) if manifest else {}
    plan = plan_update(docs, reusable)
    found = {d.doc_id for d in docs}
    report = BuildReport(documents=len(docs), added=[d.doc_id for d in plan.embed if d.doc_id not in existing],
                         changed=[d.doc_id for d in plan.embed if d.doc_id in existing],
                         removed=sorted(set(existing) - found), unchanged=len(plan.keep),
                         location=str(settings.index_dir) if settings.store == "local" else settings.store)
    recorded = manifest.sources if manifest and manifest.sources is not None else tuple(sources)
    if manifest and reusable and not plan.embed and not report.removed and recorded == tuple(sources):
        report.chunks = manifest.chunks
        report.seconds = time.perf_counter() - started
        return report

    new_chunks = {d.doc_id: chunk_document(d, settings.chunk_size, settings.chunk_overlap) for d in plan.embed}
    chunks = [c for cs in new_chunks.values() for c in cs]
    doc_text = {d.doc_id: d.text for d in plan.embed}
    spans = [sentence_spans(doc_text[c.doc_id], c.start, c.end) for c in chunks]
    counts = {doc_id: len(cs) for doc_id, cs in new_chunks.items()}
    counts.update(_kept_counts(plan.keep, manifest, settings))
    # Can the store take it? Checked now, before the embedding, which is the expensive part.
    kept_chunks = sum(counts[d.doc_id] for d in plan.keep)
    new_sentences = sum(len(sp) for sp in spans)
    per_chunk = new_sentences / len(chunks) if chunks else 8.0
    dimension = embedder.dimension if embedder else (manifest.built_with.dimension if manifest else 384) or 384
    store.check_room(WriteSize(docs, len(chunks) + kept_chunks, int(new_sentences + per_chunk * kept_chunks),
                               dimension))
    if chunks:
        # Loaded before the clock starts: the chunks/s figure is the embedding alone.
        embedder = embedder or Embedder.loaded(settings.model, settings.batch_size)
        t0 = time.perf_counter()
        relative = [[(s - c.start, e - c.start) for s, e in sp] for c, sp in zip(chunks, spans)]
        vectors, sentence_vectors = embedder.encode_with_sentences([c.text for c in chunks], relative,
                                                                   progress=progress)
        report.embed_seconds = time.perf_counter() - t0
        dimension = embedder.dimension
    else:
        assert manifest is not None  # nothing to embed: every document is kept from it
        dimension = manifest.built_with.dimension
        vectors, sentence_vectors = np.zeros((0, dimension), np.float32), []
    report.embedded_chunks = len(chunks)

    fresh: dict[str, EmbeddedDocument] = {}
    at = 0
    for doc in plan.embed:
        cs = new_chunks[doc.doc_id]
        fresh[doc.doc_id] = EmbeddedDocument(
            doc, cs, vectors[at:at + len(cs)],
            [Sentences(np.asarray(spans[i], np.int64).reshape(-1, 2), sentence_vectors[i])
             for i in range(at, at + len(cs))])
        at += len(cs)
    store.write(Update(documents=docs, fresh=fresh, chunk_counts=counts, stale=report.changed + report.removed,
                       built_with=BuiltWith(settings.model, fingerprint, dimension, chunker), rebuild=not reusable,
                       sources=sources, dense_index=settings.faiss_index, ann_threshold=settings.ann_threshold))
    report.chunks = int(sum(counts.values()))
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _kept_counts(keep: list[Document], manifest: Manifest | None, settings: Settings) -> dict[str, int]:
    """Chunks of each kept document: as the store recorded them, or (where it does not count them)
    as the same chunker cuts them again."""
    counts = {}
    for doc in keep:
        recorded = manifest.documents[doc.doc_id].chunks if manifest else None
        counts[doc.doc_id] = recorded if recorded is not None else \
            len(chunk_document(doc, settings.chunk_size, settings.chunk_overlap))
    return counts
