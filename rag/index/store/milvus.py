"""The Milvus store: the ``Store`` protocol on Milvus through ``pymilvus``, Milvus Lite or a server
(``milvus_connect``), in three collections (``milvus_schema``).

Rows of the protocol are the chunk rows' primary keys. Reads go to Milvus as it is now (it changes
in place); fetched chunks and documents are cached, bounded. A write upserts the fresh rows, then
deletes the stale ones, then updates the metadata row."""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import IndexIncompatible, IndexMissing, UserError
from ...records import Chunk, Document
from .base import BuiltWith, Hits, IndexedDocument, Manifest, Sentences, StoreInfo, Update, WriteSize
from .milvus_connect import MilvusTarget, connect, parse_uri, query_all, rebuild_command
from .milvus_schema import (
    CHUNK_FIELDS,
    CHUNKS,
    DOCUMENT_FIELDS,
    DOCUMENTS,
    FORMAT_VERSION,
    MAX_LIMIT,
    MAX_PAGE_PARTS,
    MAX_VARCHAR,
    META,
    assemble_documents,
    batches,
    chunk_pk,
    create_collections,
    decode_sentences,
    delete_stale,
    dense_index_params,
    dense_search_params,
    document_rows,
    drop_collections,
    encode_sentences,
    ensure_dense_index,
    read_meta,
    stored_documents,
    vector_dimension,
)

__all__ = ["MilvusStore", "chunk_pk", "parse_uri"]


class MilvusStore:
    """A Milvus index. ``open(uri)`` for reading checks that it is there and readable;
    ``open(uri, create=True)`` is for writing and takes whatever is there."""

    def __init__(self, target: MilvusTarget, client: Any, meta: dict[str, Any] | None) -> None:
        self.target = target
        self.client = client
        self.meta = meta or {}
        self.info = _info(target, self.meta)
        self._lock = threading.Lock()
        self._chunks: OrderedDict[int, Chunk] = OrderedDict()
        self._docs: OrderedDict[str, Document | None] = OrderedDict()
        self._sentences: dict[int, Sentences] = {}

    @classmethod
    def open(cls, uri: str, create: bool = False) -> MilvusStore:
        target = parse_uri(uri)
        client = connect(target, create=create)
        try:
            meta = read_meta(client)
            if not create:
                _check_readable(client, meta, uri)
            for name in (CHUNKS, DOCUMENTS):
                if client.has_collection(name):
                    client.load_collection(name)
        except BaseException:
            client.close()
            raise
        return cls(target, client, meta)

    # -- reading ---------------------------------------------------------------------------------
    def _remember(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for r in rows:
                pk = int(r["pk"])
                self._chunks[pk] = Chunk(doc_id=r["doc_id"], chunk_id=r["chunk_id"], start=int(r["char_start"]),
                                         end=int(r["char_end"]), text=r["text"])
                self._chunks.move_to_end(pk)
                if "sentences" in r:
                    self._sentences[pk] = decode_sentences(r["sentences"], self.info.dimension)
                while len(self._chunks) > 50_000:
                    old, _ = self._chunks.popitem(last=False)
                    self._sentences.pop(old, None)

    def chunk(self, row: int) -> Chunk:
        with self._lock:
            hit = self._chunks.get(int(row))
        if hit is not None:
            return hit
        rows = self.client.get(CHUNKS, ids=[int(row)], output_fields=CHUNK_FIELDS)
        if not rows:
            raise KeyError(f"no chunk with key {row} in {self.target.uri}")
        self._remember(rows)
        return self._chunks[int(row)]

    def sentences(self, row: int) -> Sentences:
        with self._lock:
            hit = self._sentences.get(int(row))
        if hit is None:
            self._remember(self.client.get(CHUNKS, ids=[int(row)], output_fields=CHUNK_FIELDS))
            hit = self._sentences.get(int(row), Sentences(np.zeros((0, 2), np.int64),
                                                          np.zeros((0, self.info.dimension), np.float32)))
        return hit

    def document(self, doc_id: str) -> Document | None:
        with self._lock:
            if doc_id in self._docs:
                return self._docs[doc_id]
        rows = self.client.query(DOCUMENTS, filter=f"doc_id == {json.dumps(doc_id)}", output_fields=DOCUMENT_FIELDS)
        doc = assemble_documents(rows)[0] if rows else None
        with self._lock:
            self._docs[doc_id] = doc
            while len(self._docs) > 1000:
                self._docs.popitem(last=False)
        return doc

    def documents(self) -> list[Document]:
        return assemble_documents(query_all(self.client, DOCUMENTS, f"part >= {-MAX_PAGE_PARTS}", DOCUMENT_FIELDS))

    def _hits(self, results: Any) -> list[Hits]:
        out = []
        for hits in results:
            # pymilvus names the key after the primary field ("pk"); older versions say "id".
            pks = [int(h["pk"] if "pk" in h.keys() else h["id"]) for h in hits]
            self._remember([dict(h["entity"]) | {"pk": pk} for h, pk in zip(hits, pks)])
            out.append(Hits(np.array([h["distance"] for h in hits], np.float32), np.array(pks, np.int64)))
        return out

    def dense_search(self, vectors: np.ndarray, k: int) -> list[Hits]:
        k = min(k, self.info.chunks, MAX_LIMIT)
        if k <= 0:
            return [Hits.empty() for _ in range(len(vectors))]
        res = self.client.search(CHUNKS, data=np.asarray(vectors, np.float32).tolist(), anns_field="vector",
                                 limit=k, search_params=dense_search_params(k), output_fields=CHUNK_FIELDS[1:])
        return self._hits(res)

    def lexical_search(self, question: str, k: int) -> Hits:
        k = min(k, self.info.chunks, MAX_LIMIT)
        if k <= 0 or not question.strip():
            return Hits.empty()
        res = self.client.search(CHUNKS, data=[question], anns_field="sparse", limit=k,
                                 search_params={"metric_type": "BM25"}, output_fields=CHUNK_FIELDS[1:])
        scores, rows = self._hits(res)[0]
        # Milvus Lite reports BM25 as a negated distance (best first either way); a server, positive.
        scores = np.abs(scores)
        keep = scores > 0
        return Hits(scores[keep], rows[keep])

    def version(self) -> str | None:
        return None  # Milvus changes in place

    def latest_version(self) -> str | None:
        return None

    # -- writing ---------------------------------------------------------------------------------
    def writing(self, wait: float | None = None) -> AbstractContextManager[None]:
        # The same flock as the local store's: beside a Milvus Lite file; for a server, a lock file
        # named after its URI in the temporary folder, so builds from this machine take turns.
        from .lock import writer_lock

        lite = self.target.lite_path
        if lite is not None:
            return writer_lock(lite.parent, wait, name=f".{lite.name}.lock", label=self.target.uri)
        digest = hashlib.sha256(self.target.client_uri.encode()).hexdigest()[:16]
        return writer_lock(Path(tempfile.gettempdir()), wait, name=f"rag-milvus-{digest}.lock", label=self.target.uri)

    def manifest(self) -> Manifest | None:
        meta = read_meta(self.client)
        if meta is None:
            return None
        model = meta.get("model", {})
        dimension = int(model.get("dimension", 0))
        documents = {r["doc_id"]: IndexedDocument(r["content_hash"], r.get("source", ""), None)
                     for r in stored_documents(self.client)}
        return Manifest(
            built_with=BuiltWith(model.get("name", ""), model.get("fingerprint", ""), dimension,
                                 meta.get("chunker", {}), str(model.get("precision", "fp32"))),
            documents=documents, chunks=int(meta.get("counts", {}).get("chunks", 0)),
            readable=meta.get("format_version") == FORMAT_VERSION and vector_dimension(self.client) == dimension)

    def check_room(self, size: WriteSize) -> None:
        pass  # the server's own business; a Milvus Lite file grows like any other

    def write(self, update: Update) -> None:
        client = self.client
        if update.rebuild:
            # Another model, chunker or format: nothing stored can be reused, so start over.
            drop_collections(client)
        if not client.has_collection(CHUNKS):
            create_collections(client, update.built_with.dimension)
        rows = [_chunk_row(fresh.document, n, c, fresh.vectors[n], s)
                for fresh in update.fresh.values() for n, (c, s) in enumerate(zip(fresh.chunks, fresh.sentences))]
        for batch in batches(rows, 500):
            client.upsert(CHUNKS, list(batch))
        # Rows of changed or removed documents that the new rows did not overwrite.
        delete_stale(client, CHUNKS, "pk", update.stale, {r["pk"] for r in rows})
        doc_rows = [r for fresh in update.fresh.values() for r in document_rows(fresh.document)]
        for batch in batches(doc_rows, 200):
            client.upsert(DOCUMENTS, list(batch))
        delete_stale(client, DOCUMENTS, "key", update.stale, {r["key"] for r in doc_rows})
        total = int(sum(update.chunk_counts.values()))
        wanted = dense_index_params(total, update.dense_index, update.ann_threshold)
        ensure_dense_index(client, wanted)
        b = update.built_with
        meta = {"format_version": FORMAT_VERSION,
                "model": {"name": b.model, "fingerprint": b.fingerprint, "dimension": b.dimension,
                          "precision": b.precision},
                "chunker": dict(b.chunker), "index": wanted,
                "counts": {"documents": len(update.documents), "chunks": total},
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        client.upsert(META, [{"key": "index", "value": json.dumps(meta), "unused": [0.0, 0.0]}])
        for name in (CHUNKS, DOCUMENTS, META):
            client.flush(name)
        client.load_collection(CHUNKS)

    def close(self) -> None:
        self.client.close()


def _check_readable(client: Any, meta: dict[str, Any] | None, uri: str) -> None:
    """Is there an index this code reads? One line if not."""
    if meta is None:
        raise IndexMissing(f"no index in Milvus at {uri}: build it with: {rebuild_command(uri)}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise IndexIncompatible(f"the Milvus index at {uri} has format {meta.get('format_version')}, this "
                                f"version reads {FORMAT_VERSION}: rebuild it with: {rebuild_command(uri)}")
    dim = vector_dimension(client)
    if dim != int(meta["model"]["dimension"]):
        raise IndexIncompatible(f"the Milvus collection {CHUNKS} at {uri} holds {dim}-dimensional vectors but "
                                f"its metadata says {meta['model']['dimension']}: rebuild it with: "
                                f"{rebuild_command(uri)}")


def _info(target: MilvusTarget, meta: dict[str, Any]) -> StoreInfo:
    model = meta.get("model", {})
    counts = meta.get("counts", {})
    return StoreInfo(
        documents=int(counts.get("documents", 0)), chunks=int(counts.get("chunks", 0)), model=model.get("name", ""),
        model_fingerprint=model.get("fingerprint", ""), dimension=int(model.get("dimension", 0)),
        location=target.uri, details={"milvus": meta.get("index", {}), "chunker": meta.get("chunker", {})},
        rebuild=rebuild_command(target.uri))


def _chunk_row(doc: Document, n: int, c: Chunk, vector: np.ndarray, sentences: Sentences) -> dict[str, Any]:
    if len(c.text.encode("utf-8")) > MAX_VARCHAR:
        raise UserError(f"a chunk of {doc.doc_id} is longer than Milvus's VARCHAR limit; lower RAG_CHUNK_SIZE")
    return {"pk": chunk_pk(doc.doc_id, doc.content_hash, n), "chunk_id": c.chunk_id, "doc_id": doc.doc_id,
            "ordinal": n, "char_start": c.start, "char_end": c.end, "text": c.text,
            "vector": vector.tolist(), "title": doc.title[:1000], "source": doc.source[:1000],
            "content_hash": doc.content_hash, "sentences": encode_sentences(sentences.spans, sentences.vectors)}
