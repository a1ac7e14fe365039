"""Build or update an index so it holds exactly the documents under the given paths.

Only new or changed documents are chunked and embedded; the vectors of unchanged ones are reused,
and documents that are gone are dropped. Nothing changed means nothing is written (and the model
is not even loaded).

A build holds the index folder's writer lock from reading the old manifest to switching in the new
version, so two builds never interleave; before embedding it checks that the folder can be written
and has room. A document that was indexed and whose file is still there but cannot be read now keeps
its indexed version (with a warning): only a file that is gone drops its document."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..ingest.chunking import chunk_document
from ..ingest.documents import load_documents
from .embedding import Embedder, model_fingerprint
from ..errors import UserError
from ..records import Document
from ..ingest.sentences import sentence_spans
from ..settings import Settings
from .store.local import FORMAT_VERSION, IndexContents, LocalStore, read_manifest, remove_stale, write_index
from .store.lock import check_writable, writer_lock

log = logging.getLogger("rag")


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


def manifest_for(settings: Settings, fingerprint: str, dimension: int, documents: Sequence[Document],
                 chunk_counts: dict[str, int], sources: Sequence[str] = ()) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        # The files and folders the index was built from: `rag index` with no path and uploads re-read them.
        "sources": list(sources),
        "model": {"name": settings.model, "fingerprint": fingerprint, "dimension": dimension},
        "chunker": chunker_settings(settings),
        "documents": {d.doc_id: {"hash": d.content_hash, "title": d.title, "source": d.source,
                                 "chunks": chunk_counts[d.doc_id]} for d in documents},
        "counts": {"documents": len(documents), "chunks": int(sum(chunk_counts.values()))},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def chunker_settings(settings: Settings) -> dict:
    return {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "version": 1}


def reusable_hashes(manifest: dict | None, settings: Settings, fingerprint: str) -> dict[str, str]:
    """Hashes of documents whose stored vectors are still valid for these settings."""
    if not manifest or manifest.get("format_version") != FORMAT_VERSION:
        return {}
    if manifest["model"].get("fingerprint") != fingerprint or manifest.get("chunker") != chunker_settings(settings):
        return {}
    return {doc_id: meta["hash"] for doc_id, meta in manifest.get("documents", {}).items()}


def build_index(paths: Sequence[str | Path], settings: Settings | None = None, embedder: Embedder | None = None,
                progress: bool = True, warn: Callable[[str], None] | None = None,
                drop_unreadable: bool = False, lock_wait: float | None = None) -> BuildReport:
    """Make ``settings.index_dir`` hold exactly the documents under ``paths``. ``drop_unreadable``
    drops indexed documents whose files cannot be read now instead of keeping their indexed version;
    ``lock_wait`` is how long to wait for another build of the same folder (default RAG_INDEX_LOCK_WAIT)."""
    settings = settings or Settings.from_env()
    warn = warn or (lambda m: print(f"warning: {m}", file=sys.stderr))
    started = time.perf_counter()
    unreadable: list[Path] = []
    docs = load_documents(paths, warn=warn, unreadable=unreadable)
    with writer_lock(settings.index_dir, lock_wait):
        manifest = read_manifest(settings.index_dir)
        kept: list[Document] = []
        if unreadable and manifest and not drop_unreadable:
            kept = _keep_unreadable(settings.index_dir, manifest, unreadable, docs, warn)
            docs = docs + kept
        if not docs:
            raise UserError(f"no documents found under {', '.join(str(p) for p in paths)} "
                            "(supported: .txt .md .html .pdf .docx corpus.jsonl)")
        sources = [str(Path(p).resolve()) for p in paths]
        report = _build_locked(docs, manifest, settings, embedder, progress, started, sources)
        report.kept_unreadable = [d.doc_id for d in kept]
        return report


def _keep_unreadable(index_dir: Path, manifest: dict, unreadable: list[Path], docs: list[Document],
                     warn: Callable[[str], None]) -> list[Document]:
    """The indexed documents that came from files now unreadable, as the index holds them."""
    bad = {p.resolve() for p in unreadable}
    taken = {d.doc_id for d in docs}
    wanted = [doc_id for doc_id, meta in manifest.get("documents", {}).items()
              if doc_id not in taken and Path(str(meta.get("source", "")).split("#")[0]).resolve() in bad]
    if not wanted:
        return []
    old = LocalStore.load(index_dir)
    kept = [doc for doc in (old.document(doc_id) for doc_id in wanted) if doc is not None]
    for doc in kept:
        warn(f"kept the indexed version of {doc.doc_id!r}: {doc.source} cannot be read now; fix the file, or "
             "delete it to drop the document from the index")
    return kept


def _estimate_bytes(docs: Sequence[Document], chunks: int, sentences: int, dimension: int) -> int:
    """About what a version of the index takes on disk: the texts (documents and the bm25 index),
    float32 vectors twice (vectors.npy and FAISS), float16 sentence vectors, and the offset rows."""
    text = sum(len(d.text) + len(d.title) + len(d.source) for d in docs)
    return 3 * text + chunks * (8 * dimension + 32) + sentences * (2 * dimension + 24)


def _build_locked(docs: list[Document], manifest: dict | None, settings: Settings, embedder: Embedder | None,
                  progress: bool, started: float, sources: Sequence[str] = ()) -> BuildReport:
    fingerprint = embedder.fingerprint if embedder else model_fingerprint(settings.model)
    existing_all = {k: v["hash"] for k, v in (manifest or {}).get("documents", {}).items()}
    reusable = reusable_hashes(manifest, settings, fingerprint)
    plan = plan_update(docs, reusable)
    report = BuildReport(documents=len(docs), added=[d.doc_id for d in plan.embed if d.doc_id not in existing_all],
                         changed=[d.doc_id for d in plan.embed if d.doc_id in existing_all],
                         removed=sorted(set(existing_all) - {d.doc_id for d in docs}),
                         unchanged=len(plan.keep), location=str(settings.index_dir))
    if not plan.embed and not report.removed and reusable and len(reusable) == len(docs) \
            and manifest.get("sources", list(sources)) == list(sources):  # type: ignore[union-attr]
        # Nothing to write; a build killed earlier may have left its temporary folder behind.
        remove_stale(settings.index_dir, keep=set(), versions=False)
        report.chunks = int(manifest["counts"]["chunks"])  # type: ignore[index]
        report.seconds = time.perf_counter() - started
        return report

    new_chunks = {d.doc_id: chunk_document(d, settings.chunk_size, settings.chunk_overlap) for d in plan.embed}
    chunks = [c for cs in new_chunks.values() for c in cs]
    doc_text = {d.doc_id: d.text for d in plan.embed}
    spans = [sentence_spans(doc_text[c.doc_id], c.start, c.end) for c in chunks]
    # Writable, with room? Checked now, before the embedding, which is the expensive part.
    kept_chunks = sum(int(manifest["documents"][d.doc_id].get("chunks", 0)) for d in plan.keep)  # type: ignore[index]
    new_sentences = sum(len(sp) for sp in spans)
    per_chunk = new_sentences / len(chunks) if chunks else 8.0
    dimension_guess = (embedder.dimension if embedder else
                       int((manifest or {}).get("model", {}).get("dimension", 384)))
    check_writable(settings.index_dir, _estimate_bytes(docs, len(chunks) + kept_chunks,
                                                       int(new_sentences + per_chunk * kept_chunks), dimension_guess))
    if chunks:
        embedder = embedder or Embedder(settings.model, settings.batch_size)
        t0 = time.perf_counter()
        relative = [[(s - c.start, e - c.start) for s, e in sp] for c, sp in zip(chunks, spans)]
        new_vectors, new_sentence_vectors = embedder.encode_with_sentences([c.text for c in chunks], relative,
                                                                           progress=progress)
        report.embed_seconds = time.perf_counter() - t0
        dimension = embedder.dimension
    else:
        dimension = int(manifest["model"]["dimension"])  # type: ignore[index]
        new_vectors, new_sentence_vectors = np.zeros((0, dimension), np.float32), []
    report.embedded_chunks = len(chunks)

    old = LocalStore.load(settings.index_dir) if plan.keep else None
    old_rows = _rows_by_doc(old) if old else {}
    old_vectors = old.vectors() if old else None

    # Assemble the new index in document order: fresh material for embedded documents, stored
    # rows and vectors (unchanged, not re-embedded) for the rest.
    rows: list[tuple[int, int, int, int]] = []
    vec_parts: list[np.ndarray] = []
    sent_rows: list[tuple[int, int, int]] = []
    sent_parts: list[np.ndarray] = []
    counts: dict[str, int] = {}
    first_new = {}
    offset = 0
    for doc_id, cs in new_chunks.items():
        first_new[doc_id] = offset
        offset += len(cs)
    for doc_row, doc in enumerate(docs):
        if doc.doc_id in new_chunks:
            o = first_new[doc.doc_id]
            for n, c in enumerate(new_chunks[doc.doc_id]):
                sent_rows.extend((len(rows), s, e) for s, e in spans[o + n])
                sent_parts.append(new_sentence_vectors[o + n])
                rows.append((doc_row, n, c.start, c.end))
            vec_parts.append(new_vectors[o:o + len(new_chunks[doc.doc_id])])
            counts[doc.doc_id] = len(new_chunks[doc.doc_id])
        else:
            idx = old_rows[doc.doc_id]
            for old_row in idx:
                r = old.chunk_rows[old_row]  # type: ignore[union-attr]
                sp, sv = old.sentences(int(old_row))  # type: ignore[union-attr]
                sent_rows.extend((len(rows), int(s), int(e)) for s, e in sp)
                sent_parts.append(sv)
                rows.append((doc_row, int(r[1]), int(r[2]), int(r[3])))
            vec_parts.append(np.asarray(old_vectors[idx]))  # type: ignore[index]
            counts[doc.doc_id] = len(idx)
    contents = IndexContents(
        documents=docs,
        chunk_rows=np.asarray(rows, dtype=np.int64).reshape(-1, 4),
        vectors=np.concatenate(vec_parts) if vec_parts else np.zeros((0, dimension), np.float32),
        sentence_rows=np.asarray(sent_rows, dtype=np.int64).reshape(-1, 3),
        sentence_vectors=np.concatenate(sent_parts) if sent_parts else np.zeros((0, dimension), np.float32),
    )
    manifest_new = manifest_for(settings, fingerprint, dimension, docs, counts, sources)
    write_index(settings.index_dir, manifest_new, contents, settings.faiss_index, settings.ann_threshold)
    report.chunks = len(rows)
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _rows_by_doc(store: LocalStore) -> dict[str, np.ndarray]:
    doc_rows = store.chunk_rows[:, 0]
    order = np.argsort(doc_rows, kind="stable")
    bounds = np.searchsorted(doc_rows[order], np.arange(len(store.documents()) + 1))
    return {doc.doc_id: order[bounds[i]:bounds[i + 1]] for i, doc in enumerate(store.documents())}
