"""The Milvus store: the same Store interface as the local one, on Milvus through ``pymilvus``.

URIs: ``milvus:///path/file.db`` is Milvus Lite (embedded, a local directory), ``milvus://host:19530``
a Milvus server or cluster. Three collections hold an index:

    rag_chunks     one row per chunk: offsets, verbatim text (analyzed, feeding Milvus's BM25 function
                   into a sparse vector), the dense vector, and its document's title, source and hash,
                   so a citation needs no second lookup
    rag_documents  the full document texts (for /doc/ and the answerer's sentence offsets), split into
                   parts 0, 1, ... because a VARCHAR holds at most 65,535 bytes; a paged document's page
                   ranges as JSON in parts -1, -2, ... (collections written before pages have none)
    rag_meta       one row: format, model name/fingerprint/dimension, chunker settings, counts

Rows of the Store interface are the chunk rows' primary keys. A key is a hash of (doc_id, content
hash, ordinal), so re-running an interrupted build upserts the same rows instead of duplicating them.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ...errors import IndexIncompatible, IndexMissing, UserError
from ...records import Chunk, Document
from .base import StoreInfo

FORMAT_VERSION = 2
CHUNKS = "rag_chunks"
DOCUMENTS = "rag_documents"
META = "rag_meta"
# A VARCHAR's limit is 65,535 bytes; 16,000 characters stay under it even at 4 bytes a character.
PART_CHARS = 16_000
# Page ranges of up to ~100,000 pages (16,000 characters of JSON a part).
_MAX_PAGE_PARTS = 100
MAX_VARCHAR = 65_535
# Milvus caps one search's limit at 16,384.
MAX_LIMIT = 16_384
_CHUNK_FIELDS = ["pk", "chunk_id", "doc_id", "ordinal", "char_start", "char_end", "text", "title", "source",
                 "sentences"]
# Milvus Lite logs a full traceback when it cannot open a file; our one-line error says it instead.
logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
# gRPC's C core prints keepalive chatter ("too_many_pings") from Milvus Lite's embedded server on
# stderr; real failures still raise. Set GRPC_VERBOSITY yourself to see it.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")


@dataclass(frozen=True)
class MilvusTarget:
    """Where a milvus:// URI points: a Milvus Lite path or a server address."""

    uri: str  # as the user wrote it
    client_uri: str  # as pymilvus takes it
    lite_path: Path | None


def parse_uri(uri: str) -> MilvusTarget:
    if not uri.startswith("milvus://"):
        raise UserError(f"not a Milvus URI: {uri!r} (use milvus:///path/file.db or milvus://host:19530)")
    rest = uri[len("milvus://"):]
    if rest.startswith("/") or rest.endswith(".db"):  # milvus:///abs/x.db, or milvus://rel/x.db
        path = Path(rest).absolute()
        if path.suffix != ".db":
            raise UserError(f"a Milvus Lite path must end in .db, got {path} (e.g. milvus:///data/rag.db)")
        return MilvusTarget(uri, str(path), path)
    parsed = urlparse(f"http://{rest}")
    if not parsed.hostname:
        raise UserError(f"no host in {uri!r}: use milvus://host:19530")
    return MilvusTarget(uri, f"http://{parsed.hostname}:{parsed.port or 19530}", None)


def connect(target: MilvusTarget, create: bool = False) -> Any:
    """A ``MilvusClient``, or a one-line UserError that says what to do."""
    from pymilvus import MilvusClient

    if target.lite_path is not None:
        path = target.lite_path
        if not path.parent.is_dir():
            raise UserError(f"cannot open Milvus Lite file {path}: folder {path.parent} does not exist")
        if not create and not path.exists():
            raise IndexMissing(f"no Milvus index at {target.uri}: build it with: rag index --store {target.uri} PATH ...")
        _check_not_locked(path, target.uri)
    else:
        _check_reachable(target)
    try:
        client = MilvusClient(uri=target.client_uri, timeout=10)
        client._rag_lite = target.lite_path is not None
        return client
    except Exception as exc:
        if target.lite_path is not None:
            _check_not_locked(target.lite_path, target.uri)
            raise UserError(f"cannot open Milvus Lite file {target.lite_path} ({_short(exc)})") from exc
        raise UserError(f"cannot connect to Milvus at {target.client_uri} ({_short(exc)}): check that the "
                        "server is running and reachable, or use --store local") from exc


def _check_reachable(target: MilvusTarget) -> None:
    # pymilvus would wait for its own long timeout and then raise a wordy error; ask the port first.
    parsed = urlparse(target.client_uri)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 19530), timeout=3):
            pass
    except OSError as exc:
        raise UserError(f"cannot reach Milvus at {parsed.hostname}:{parsed.port} ({exc.strerror or exc}): "
                        "start the server or fix the address, or use --store local") from None


def _check_not_locked(path: Path, uri: str) -> None:
    """Milvus Lite holds an flock on <path>/LOCK while a process has it open."""
    from milvus_lite.server_manager import server_manager_instance

    if os.path.abspath(path) in getattr(server_manager_instance, "_servers", {}):
        return  # open in this very process: pymilvus reuses it
    lock = path / "LOCK"
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        raise UserError(f"the Milvus Lite file {path} is in use by another process (Milvus Lite allows one): "
                        f"stop that process (e.g. a running `rag serve --store {uri}`) and try again") from None
    finally:
        os.close(fd)


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def chunk_pk(doc_id: str, content_hash: str, ordinal: int) -> int:
    digest = hashlib.blake2b(f"{doc_id}\0{content_hash}\0{ordinal}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 62) - 1)


def _quote(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


# -- the store ---------------------------------------------------------------------------------
class MilvusStore:
    """A Milvus index, read side. Fetched chunks and documents are cached (bounded)."""

    def __init__(self, target: MilvusTarget, client: Any, meta: dict[str, Any]) -> None:
        self.target = target
        self.client = client
        self.meta = meta
        model = meta["model"]
        self.info = StoreInfo(
            documents=int(meta["counts"]["documents"]), chunks=int(meta["counts"]["chunks"]), model=model["name"],
            model_fingerprint=model["fingerprint"], dimension=int(model["dimension"]), location=target.uri,
            details={"milvus": meta.get("index", {}), "chunker": meta.get("chunker", {})},
        )
        self._lock = threading.Lock()
        self._chunks: OrderedDict[int, Chunk] = OrderedDict()
        self._docs: OrderedDict[str, Document | None] = OrderedDict()
        self._titles: dict[int, tuple[str, str]] = {}
        self._sentences: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @classmethod
    def open(cls, uri: str) -> "MilvusStore":
        target = parse_uri(uri)
        client = connect(target)
        meta = read_meta(client)
        if meta is None:
            raise IndexMissing(f"no index in Milvus at {uri}: build it with: rag index --store {uri} PATH ...")
        if meta.get("format_version") != FORMAT_VERSION:
            raise IndexIncompatible(f"the Milvus index at {uri} has format {meta.get('format_version')}, this "
                                    f"version reads {FORMAT_VERSION}: rebuild it with: rag index --store {uri} PATH ...")
        dim = vector_dimension(client)
        if dim != int(meta["model"]["dimension"]):
            raise IndexIncompatible(f"the Milvus collection {CHUNKS} at {uri} holds {dim}-dimensional vectors but "
                                    f"its metadata says {meta['model']['dimension']}: rebuild it with: "
                                    f"rag index --store {uri} PATH ...")
        client.load_collection(CHUNKS)
        client.load_collection(DOCUMENTS)
        return cls(target, client, meta)

    def check_settings(self, fingerprint: str, dimension: int, chunker: dict[str, Any]) -> None:
        """Mismatch with the model or chunker in use -> IndexIncompatible, one line."""
        m = self.meta["model"]
        if m["fingerprint"] != fingerprint or int(m["dimension"]) != dimension:
            raise IndexIncompatible(
                f"the Milvus index at {self.target.uri} was built with the model {m['name']} (dimension "
                f"{m['dimension']}), not the one in use (dimension {dimension}): rebuild it with: "
                f"rag index --store {self.target.uri} PATH ..., or set RAG_MODEL to the model it was built with")
        if self.meta.get("chunker") != chunker:
            raise IndexIncompatible(f"the Milvus index at {self.target.uri} was chunked with {self.meta.get('chunker')}, "
                                    f"not {chunker}: rebuild it with: rag index --store {self.target.uri} PATH ...")

    # -- rows ------------------------------------------------------------------------------------
    def _remember(self, rows: Iterable[dict[str, Any]]) -> None:
        with self._lock:
            for r in rows:
                pk = int(r["pk"])
                self._chunks[pk] = Chunk(doc_id=r["doc_id"], chunk_id=r["chunk_id"], start=int(r["char_start"]),
                                         end=int(r["char_end"]), text=r["text"])
                self._chunks.move_to_end(pk)
                self._titles[pk] = (r.get("title", ""), r.get("source", ""))
                if "sentences" in r:
                    self._sentences[pk] = decode_sentences(r["sentences"], self.info.dimension)
                while len(self._chunks) > 50_000:
                    old, _ = self._chunks.popitem(last=False)
                    self._titles.pop(old, None)
                    self._sentences.pop(old, None)

    def chunk(self, row: int) -> Chunk:
        with self._lock:
            hit = self._chunks.get(int(row))
        if hit is not None:
            return hit
        rows = self.client.get(CHUNKS, ids=[int(row)], output_fields=_CHUNK_FIELDS)
        if not rows:
            raise KeyError(f"no chunk with key {row} in {self.target.uri}")
        self._remember(rows)
        return self._chunks[int(row)]

    def sentences(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The sentences of chunk ``row``: (spans as (k, 2) document offsets, (k, d) vectors), as
        the local store gives them, so dense re-ranking by best sentence works the same here."""
        with self._lock:
            hit = self._sentences.get(int(row))
        if hit is None:
            rows = self.client.get(CHUNKS, ids=[int(row)], output_fields=_CHUNK_FIELDS)
            self._remember(rows)
            hit = self._sentences.get(int(row), (np.zeros((0, 2), np.int64), np.zeros((0, self.info.dimension), np.float32)))
        return hit

    def document(self, doc_id: str) -> Document | None:
        with self._lock:
            if doc_id in self._docs:
                return self._docs[doc_id]
        rows = self.client.query(DOCUMENTS, filter=f"doc_id == {json.dumps(doc_id)}",
                                 output_fields=["doc_id", "part", "title", "source", "text"])
        doc = _assemble(rows)[0] if rows else None
        with self._lock:
            self._docs[doc_id] = doc
            while len(self._docs) > 1000:
                self._docs.popitem(last=False)
        return doc

    def documents(self) -> list[Document]:
        rows = _query_all(self.client, DOCUMENTS, f"part >= {-_MAX_PAGE_PARTS}",
                          ["doc_id", "part", "title", "source", "text"])
        return _assemble(rows)

    # -- search ----------------------------------------------------------------------------------
    def _hits(self, results: Any) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        for hits in results:
            # pymilvus names the key after the primary field ("pk"); older versions say "id".
            pks = [int(h["pk"] if "pk" in h.keys() else h["id"]) for h in hits]
            self._remember([dict(h["entity"]) | {"pk": pk} for h, pk in zip(hits, pks)])
            out.append((np.array([h["distance"] for h in hits], np.float32), np.array(pks, np.int64)))
        return out

    def dense_search(self, vectors: np.ndarray, k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        k = min(k, self.info.chunks, MAX_LIMIT)
        if k <= 0:
            return [(np.zeros(0, np.float32), np.zeros(0, np.int64)) for _ in range(len(vectors))]
        res = self.client.search(CHUNKS, data=np.asarray(vectors, np.float32).tolist(), anns_field="vector",
                                 limit=k, search_params=_dense_params(k), output_fields=_CHUNK_FIELDS[1:])
        return self._hits(res)

    def lexical_search(self, question: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.info.chunks, MAX_LIMIT)
        if k <= 0 or not question.strip():
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        res = self.client.search(CHUNKS, data=[question], anns_field="sparse", limit=k,
                                 search_params={"metric_type": "BM25"}, output_fields=_CHUNK_FIELDS[1:])
        scores, rows = self._hits(res)[0]
        # Milvus Lite reports BM25 as a negated distance (best first either way); a server, positive.
        scores = np.abs(scores)
        keep = scores > 0
        return scores[keep], rows[keep]

    def hybrid_search(self, question: str, vector: np.ndarray, k: int, rrf_k: int,
                      depth: int = 50) -> tuple[np.ndarray, np.ndarray]:
        """Dense + BM25 fused by Milvus's own RRFRanker; each side contributes ``depth`` candidates."""
        from pymilvus import AnnSearchRequest, RRFRanker

        depth = min(max(depth, k), MAX_LIMIT)
        k = min(k, self.info.chunks, MAX_LIMIT)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        reqs = [AnnSearchRequest(data=np.asarray(vector, np.float32).reshape(1, -1).tolist(), anns_field="vector",
                                 param=_dense_params(depth), limit=depth)]
        if question.strip():
            reqs.append(AnnSearchRequest(data=[question], anns_field="sparse", param={"metric_type": "BM25"},
                                         limit=depth))
        res = self.client.hybrid_search(CHUNKS, reqs, RRFRanker(rrf_k), limit=k, output_fields=_CHUNK_FIELDS[1:])
        return self._hits(res)[0]

    def close(self) -> None:
        self.client.close()


def _dense_params(k: int) -> dict[str, Any]:
    # ef is HNSW's search breadth; other index types ignore it. It must be at least the limit.
    return {"metric_type": "IP", "params": {"ef": max(k, 64), "nprobe": 32}}


def _assemble(rows: list[dict[str, Any]]) -> list[Document]:
    """Documents from their part rows, in doc_id order of first appearance."""
    parts: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        parts.setdefault(r["doc_id"], []).append(r)
    docs = []
    for doc_id, ps in parts.items():
        ps.sort(key=lambda r: int(r["part"]))
        text_parts = [p for p in ps if int(p["part"]) >= 0]
        # Page parts -1, -2, ... sort before the text, in reverse: their JSON reads from -1 down.
        page_json = "".join(p["text"] for p in reversed([p for p in ps if int(p["part"]) < 0]))
        pages = tuple((int(a), int(b)) for a, b in json.loads(page_json)) if page_json else ()
        head = text_parts[0] if text_parts else ps[0]
        docs.append(Document(doc_id, head["title"], head["source"], "".join(p["text"] for p in text_parts), pages))
    return docs


def page_parts(doc: Document) -> list[str]:
    """The document's page ranges as JSON, in pieces that fit a VARCHAR (stored as parts -1, -2, ...)."""
    if not doc.pages:
        return []
    blob = json.dumps([list(r) for r in doc.pages], separators=(",", ":"))
    pieces = [blob[i:i + PART_CHARS] for i in range(0, len(blob), PART_CHARS)]
    # Past the limit the pages are left out (answers then say no page) rather than cut into bad JSON.
    return pieces if len(pieces) <= _MAX_PAGE_PARTS else []


def encode_sentences(spans: Sequence[tuple[int, int]], vectors: np.ndarray) -> str:
    """Spans and float16 vectors as one JSON string (a VARCHAR; Milvus has no per-row matrix type)."""
    v = np.asarray(vectors, np.float16).reshape(len(spans), -1)
    text = json.dumps({"spans": [[int(a), int(b)] for a, b in spans], "v": base64.b64encode(v.tobytes()).decode()})
    # Past the VARCHAR limit (a chunk of very many sentences) keep none: re-ranking falls back to
    # the chunk's own score.
    return text if len(text) <= MAX_VARCHAR else json.dumps({"spans": [], "v": ""})


def decode_sentences(text: str, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    data = json.loads(text or '{"spans": [], "v": ""}')
    spans = np.asarray(data["spans"], np.int64).reshape(-1, 2)
    v = np.frombuffer(base64.b64decode(data["v"]), np.float16).astype(np.float32).reshape(len(spans), dimension)
    return spans, v


def _query_all(client: Any, collection: str, filter: str, fields: list[str]) -> list[dict[str, Any]]:
    """All matching rows. A server caps one query's window, so it is paged with an iterator; Milvus
    Lite has no cap (and no timestamp RPC for iterators)."""
    if not _is_lite(client):
        out: list[dict[str, Any]] = []
        it = client.query_iterator(collection, filter=filter, output_fields=fields, batch_size=1000)
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out
    return list(client.query(collection, filter=filter, output_fields=fields))


def _is_lite(client: Any) -> bool:
    return bool(getattr(client, "_rag_lite", False))


def _index_kwargs(client: Any) -> dict[str, Any]:
    # Waiting for an index needs the AllocTimestamp RPC, which Milvus Lite lacks (pymilvus would
    # retry it for ~40 s); Lite builds indexes synchronously anyway.
    return {"sync": False} if _is_lite(client) else {}


def read_meta(client: Any) -> dict[str, Any] | None:
    if not client.has_collection(META):
        return None
    client.load_collection(META)
    rows = client.query(META, filter="key == 'index'", output_fields=["value"])
    if not rows:
        return None
    try:
        return json.loads(rows[0]["value"])
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


def vector_dimension(client: Any) -> int:
    if not client.has_collection(CHUNKS):
        return -1
    for f in client.describe_collection(CHUNKS)["fields"]:
        if f["name"] == "vector":
            return int(f["params"]["dim"])
    return -1


# -- building ----------------------------------------------------------------------------------
def _create_collections(client: Any, dimension: int) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from ..lexical import _STOP

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("pk", DataType.INT64, is_primary=True)
    s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
    s.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    s.add_field("ordinal", DataType.INT64)
    s.add_field("char_start", DataType.INT64)
    s.add_field("char_end", DataType.INT64)
    # The same stopwords as the local BM25; a Milvus server also stems, as the local store does
    # (Milvus Lite's analyzer only lowercases and drops stopwords).
    analyzer = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(_STOP)},
                                                    {"type": "stemmer", "language": "english"}]}
    s.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True, analyzer_params=analyzer)
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    s.add_field("title", DataType.VARCHAR, max_length=4096)
    s.add_field("source", DataType.VARCHAR, max_length=4096)
    s.add_field("content_hash", DataType.VARCHAR, max_length=64)
    # Each sentence's span and vector (late chunking, see Embedder.encode_with_sentences), packed.
    s.add_field("sentences", DataType.VARCHAR, max_length=MAX_VARCHAR)
    s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                            output_field_names=["sparse"]))
    client.create_collection(CHUNKS, schema=s)
    idx = client.prepare_index_params()
    idx.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", index_name="sparse")
    client.create_index(CHUNKS, idx, **_index_kwargs(client))

    d = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    d.add_field("key", DataType.VARCHAR, max_length=1100, is_primary=True)
    d.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    d.add_field("part", DataType.INT64)
    d.add_field("title", DataType.VARCHAR, max_length=4096)
    d.add_field("source", DataType.VARCHAR, max_length=4096)
    d.add_field("content_hash", DataType.VARCHAR, max_length=64)
    d.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    _create_keyed_collection(client, DOCUMENTS, d)

    m = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    m.add_field("key", DataType.VARCHAR, max_length=64, is_primary=True)
    m.add_field("value", DataType.VARCHAR, max_length=MAX_VARCHAR)
    _create_keyed_collection(client, META, m)


def _create_keyed_collection(client: Any, name: str, schema: Any) -> None:
    """A collection whose rows are only fetched by key. Milvus requires a vector field (and an
    index on it) in every collection, so it gets a tiny unused one."""
    from pymilvus import DataType

    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)
    client.create_collection(name, schema=schema)
    idx = client.prepare_index_params()
    idx.add_index(field_name="unused", index_type="FLAT", metric_type="L2")
    client.create_index(name, idx, **_index_kwargs(client))


def dense_index_params(n: int, kind: str, ann_threshold: int) -> dict[str, Any]:
    """The Milvus index for the dense field, chosen by size like the local FAISS index."""
    from .faiss_index import choose_kind

    chosen = choose_kind(n, kind, ann_threshold)
    if chosen == "hnsw":
        return {"index_type": "HNSW", "metric_type": "IP", "params": {"M": 32, "efConstruction": 80}}
    if chosen == "ivf":
        nlist = int(max(16, min(65536, 4 * np.sqrt(max(n, 1)))))
        return {"index_type": "IVF_FLAT", "metric_type": "IP", "params": {"nlist": nlist}}
    return {"index_type": "FLAT", "metric_type": "IP", "params": {}}


def _ensure_dense_index(client: Any, wanted: dict[str, Any]) -> None:
    names = client.list_indexes(CHUNKS, field_name="vector")
    if names:
        have = client.describe_index(CHUNKS, index_name=names[0])
        if str(have.get("index_type")) == wanted["index_type"]:
            return
        client.release_collection(CHUNKS)
        client.drop_index(CHUNKS, index_name=names[0])
    idx = client.prepare_index_params()
    idx.add_index(field_name="vector", index_name="vector", index_type=wanted["index_type"],
                  metric_type=wanted["metric_type"], params=wanted["params"])
    client.create_index(CHUNKS, idx, **_index_kwargs(client))


def _existing_hashes(client: Any) -> dict[str, str]:
    if not client.has_collection(DOCUMENTS):
        return {}
    client.load_collection(DOCUMENTS)
    rows = _query_all(client, DOCUMENTS, "part == 0", ["doc_id", "content_hash"])
    return {r["doc_id"]: r["content_hash"] for r in rows}


def _delete_stale(client: Any, collection: str, key: str, doc_ids: list[str], keep: set[Any]) -> None:
    """Delete the rows of ``doc_ids`` whose primary key is not in ``keep`` (the rows just written)."""
    if not doc_ids:
        return
    client.load_collection(collection)
    for batch in _batches(doc_ids, 100):
        old = _query_all(client, collection, f"doc_id in {_quote(batch)}", [key])
        stale = [r[key] for r in old if r[key] not in keep]
        for ids in _batches(stale, 1000):
            client.delete(collection, ids=list(ids))


def _batches(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def build_milvus_index(paths: Sequence[str | Path], settings: Any, embedder: Any = None,
                       progress: bool = True) -> Any:
    """Make the Milvus store named by ``settings.store`` hold exactly the documents under ``paths``.

    Same rules as the local build (``rag.index.build``): only new or changed documents are embedded,
    removed ones are dropped, and an index built with another model or chunker is rebuilt whole."""
    from ...ingest.chunking import chunk_document
    from ...ingest.documents import load_documents
    from ..embedding import Embedder, model_fingerprint
    from ..build import BuildReport, chunker_settings, plan_update
    from ...ingest.sentences import sentence_spans

    started = time.perf_counter()
    target = parse_uri(settings.store)
    docs = load_documents(paths, warn=lambda m: print(f"warning: {m}", file=sys.stderr))
    if not docs:
        raise UserError(f"no documents found under {', '.join(str(p) for p in paths)} "
                        "(supported: .txt .md .html corpus.jsonl)")
    client = connect(target, create=True)
    try:
        fingerprint = embedder.fingerprint if embedder else model_fingerprint(settings.model)
        meta = read_meta(client)
        chunker = chunker_settings(settings)
        compatible = (meta is not None and meta.get("format_version") == FORMAT_VERSION
                      and meta["model"].get("fingerprint") == fingerprint and meta.get("chunker") == chunker)
        existing_all = _existing_hashes(client)
        reusable = existing_all if compatible else {}
        plan = plan_update(docs, reusable)
        found = {d.doc_id for d in docs}
        report = BuildReport(documents=len(docs), added=[d.doc_id for d in plan.embed if d.doc_id not in existing_all],
                             changed=[d.doc_id for d in plan.embed if d.doc_id in existing_all],
                             removed=sorted(set(existing_all) - found), unchanged=len(plan.keep),
                             location=target.uri)
        if compatible and not plan.embed and not report.removed:
            report.chunks = int(meta["counts"]["chunks"])  # type: ignore[index]
            report.seconds = time.perf_counter() - started
            return report

        new_chunks = {d.doc_id: chunk_document(d, settings.chunk_size, settings.chunk_overlap) for d in plan.embed}
        chunks = [c for cs in new_chunks.values() for c in cs]
        texts = [c.text for c in chunks]
        doc_text = {d.doc_id: d.text for d in plan.embed}
        spans = [sentence_spans(doc_text[c.doc_id], c.start, c.end) for c in chunks]
        embedder = embedder or Embedder(settings.model, settings.batch_size)
        t0 = time.perf_counter()
        if hasattr(embedder, "encode_with_sentences"):
            relative = [[(a - c.start, b - c.start) for a, b in sp] for c, sp in zip(chunks, spans)]
            vectors, sentence_vectors = embedder.encode_with_sentences(texts, relative, progress=progress)
        else:
            vectors = embedder.encode(texts, progress=progress)
            sentence_vectors = [np.zeros((0, embedder.dimension), np.float32) for _ in chunks]
            spans = [[] for _ in chunks]
        report.embed_seconds = time.perf_counter() - t0
        report.embedded_chunks = len(texts)
        dimension = embedder.dimension

        if not compatible or vector_dimension(client) not in (-1, dimension):
            # Another model, chunker or format: nothing stored can be reused, so start over.
            for name in (CHUNKS, DOCUMENTS, META):
                if client.has_collection(name):
                    client.drop_collection(name)
        if not client.has_collection(CHUNKS):
            _create_collections(client, dimension)

        by_id = {d.doc_id: d for d in docs}
        rows, at = [], 0
        for doc_id, cs in new_chunks.items():
            doc = by_id[doc_id]
            for n, c in enumerate(cs):
                if len(c.text.encode("utf-8")) > MAX_VARCHAR:
                    raise UserError(f"a chunk of {doc_id} is longer than Milvus's VARCHAR limit; lower RAG_CHUNK_SIZE")
                rows.append({"pk": chunk_pk(doc_id, doc.content_hash, n), "chunk_id": c.chunk_id, "doc_id": doc_id,
                             "ordinal": n, "char_start": c.start, "char_end": c.end, "text": c.text,
                             "vector": vectors[at].tolist(), "title": doc.title[:1000], "source": doc.source[:1000],
                             "content_hash": doc.content_hash,
                             "sentences": encode_sentences(spans[at], sentence_vectors[at])})
                at += 1
        for batch in _batches(rows, 500):
            client.upsert(CHUNKS, list(batch))
        # Rows of changed or removed documents that the new rows did not overwrite.
        stale_docs = [d.doc_id for d in plan.embed if d.doc_id in existing_all] + report.removed
        _delete_stale(client, CHUNKS, "pk", stale_docs, {r["pk"] for r in rows})
        doc_rows = []
        for d in plan.embed:
            pieces = [d.text[i:i + PART_CHARS] for i in range(0, len(d.text), PART_CHARS)] or [""]
            for p, piece in enumerate(pieces):
                doc_rows.append({"key": f"{d.doc_id}#{p}", "doc_id": d.doc_id, "part": p, "title": d.title[:1000],
                                 "source": d.source[:1000], "content_hash": d.content_hash, "text": piece,
                                 "unused": [0.0, 0.0]})
            for p, piece in enumerate(page_parts(d), 1):
                doc_rows.append({"key": f"{d.doc_id}#pages{p}", "doc_id": d.doc_id, "part": -p,
                                 "title": d.title[:1000], "source": d.source[:1000], "content_hash": d.content_hash,
                                 "text": piece, "unused": [0.0, 0.0]})
        for batch in _batches(doc_rows, 200):
            client.upsert(DOCUMENTS, list(batch))
        _delete_stale(client, DOCUMENTS, "key", stale_docs, {r["key"] for r in doc_rows})

        counts = {d.doc_id: len(chunk_document(d, settings.chunk_size, settings.chunk_overlap))
                  if d.doc_id not in new_chunks else len(new_chunks[d.doc_id]) for d in docs}
        total = int(sum(counts.values()))
        wanted = dense_index_params(total, settings.faiss_index, settings.ann_threshold)
        _ensure_dense_index(client, wanted)
        meta_new = {"format_version": FORMAT_VERSION,
                    "model": {"name": settings.model, "fingerprint": fingerprint, "dimension": dimension},
                    "chunker": chunker, "index": wanted,
                    "counts": {"documents": len(docs), "chunks": total},
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        client.upsert(META, [{"key": "index", "value": json.dumps(meta_new), "unused": [0.0, 0.0]}])
        for name in (CHUNKS, DOCUMENTS, META):
            client.flush(name)
        client.load_collection(CHUNKS)
        report.chunks = total
        report.written = True
        report.seconds = time.perf_counter() - started
        return report
    finally:
        client.close()
