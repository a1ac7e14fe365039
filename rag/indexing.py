"""Build or update an index so it holds exactly the documents under the given paths.

Only new or changed documents are chunked and embedded; the vectors of unchanged ones are reused,
and documents that are gone are dropped. Nothing changed means nothing is written (and the model
is not even loaded)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import chunk_document
from .documents import load_documents
from .embedding import Embedder, model_fingerprint
from .errors import UserError
from .records import Document
from .settings import Settings
from .store.local import FORMAT_VERSION, IndexContents, LocalStore, read_manifest, write_index

log = logging.getLogger("rag")


@dataclass
class BuildReport:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
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
        return (f"indexed {self.documents} documents, {self.chunks} chunks in {self.seconds:.1f}s "
                f"(added {len(self.added)}, changed {len(self.changed)}, removed {len(self.removed)}, "
                f"unchanged {self.unchanged}; embedded {self.embedded_chunks} chunks{rate}) -> {self.location}")


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
                 chunk_counts: dict[str, int]) -> dict:
    return {
        "format_version": FORMAT_VERSION,
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
                progress: bool = True, warn: Callable[[str], None] | None = None) -> BuildReport:
    """Make ``settings.index_dir`` hold exactly the documents under ``paths``."""
    settings = settings or Settings.from_env()
    started = time.perf_counter()
    docs = load_documents(paths, warn=warn or (lambda m: print(f"warning: {m}", file=sys.stderr)))
    if not docs:
        raise UserError(f"no documents found under {', '.join(str(p) for p in paths)} "
                        "(supported: .txt .md .html corpus.jsonl)")
    fingerprint = embedder.fingerprint if embedder else model_fingerprint(settings.model)
    manifest = read_manifest(settings.index_dir)
    existing_all = {k: v["hash"] for k, v in (manifest or {}).get("documents", {}).items()}
    reusable = reusable_hashes(manifest, settings, fingerprint)
    plan = plan_update(docs, reusable)
    report = BuildReport(documents=len(docs), added=[d.doc_id for d in plan.embed if d.doc_id not in existing_all],
                         changed=[d.doc_id for d in plan.embed if d.doc_id in existing_all],
                         removed=sorted(set(existing_all) - {d.doc_id for d in docs}),
                         unchanged=len(plan.keep), location=str(settings.index_dir))
    if not plan.embed and not report.removed and reusable and len(reusable) == len(docs):
        report.chunks = int(manifest["counts"]["chunks"])  # type: ignore[index]
        report.seconds = time.perf_counter() - started
        return report

    new_chunks = {d.doc_id: chunk_document(d, settings.chunk_size, settings.chunk_overlap) for d in plan.embed}
    texts = [c.text for cs in new_chunks.values() for c in cs]
    if texts:
        embedder = embedder or Embedder(settings.model, settings.batch_size)
        t0 = time.perf_counter()
        new_vectors = embedder.encode(texts, progress=progress)
        report.embed_seconds = time.perf_counter() - t0
        dimension = embedder.dimension
    else:
        new_vectors = np.zeros((0, int(manifest["model"]["dimension"])), np.float32)  # type: ignore[index]
        dimension = new_vectors.shape[1]
    report.embedded_chunks = len(texts)

    old = LocalStore.load(settings.index_dir) if plan.keep else None
    old_rows = _rows_by_doc(old) if old else {}
    old_vectors = old.vectors() if old else None

    rows, vec_parts, counts = [], [], {}
    offset = 0
    new_offsets: dict[str, int] = {}
    for doc_id, cs in new_chunks.items():
        new_offsets[doc_id] = offset
        offset += len(cs)
    for doc_row, doc in enumerate(docs):
        if doc.doc_id in new_chunks:
            cs = new_chunks[doc.doc_id]
            rows.extend((doc_row, n, c.start, c.end) for n, c in enumerate(cs))
            o = new_offsets[doc.doc_id]
            vec_parts.append(new_vectors[o:o + len(cs)])
            counts[doc.doc_id] = len(cs)
        else:
            idx = old_rows[doc.doc_id]
            stored = old.chunk_rows[idx]  # type: ignore[union-attr]
            rows.extend((doc_row, int(r[1]), int(r[2]), int(r[3])) for r in stored)
            vec_parts.append(np.asarray(old_vectors[idx]))  # type: ignore[index]
            counts[doc.doc_id] = len(idx)
    chunk_rows = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, dimension), np.float32)
    manifest_new = manifest_for(settings, fingerprint, dimension, docs, counts)
    write_index(settings.index_dir, manifest_new, IndexContents(docs, chunk_rows, vectors),
                settings.faiss_index, settings.ann_threshold)
    report.chunks = len(chunk_rows)
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _rows_by_doc(store: LocalStore) -> dict[str, np.ndarray]:
    doc_rows = store.chunk_rows[:, 0]
    order = np.argsort(doc_rows, kind="stable")
    bounds = np.searchsorted(doc_rows[order], np.arange(len(store.documents()) + 1))
    return {doc.doc_id: order[bounds[i]:bounds[i + 1]] for i, doc in enumerate(store.documents())}
