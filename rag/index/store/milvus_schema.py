"""The collections a Milvus index lives in, and how values are packed into their rows.

    rag_chunks     one row per chunk: offsets, verbatim text (analyzed, feeding Milvus's BM25 function
                   into a sparse vector), the dense vector, and its document's title, source and hash,
                   so a citation needs no second lookup
    rag_documents  the full document texts (for /doc/ and the answerer's sentence offsets), split into
                   parts 0, 1, ... because a VARCHAR holds at most 65,535 bytes; a paged document's page
                   ranges as JSON in parts -1, -2, ... (collections written before pages have none)
    rag_meta       one row: format, model name/fingerprint/dimension, chunker settings, counts

A chunk row's primary key is a hash of (doc_id, content hash, ordinal), so re-running an
interrupted build upserts the same rows instead of duplicating them."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ...records import Document
from .ann import HNSW_EF_CONSTRUCTION, HNSW_M, choose_kind, ivf_nlist
from .base import Sentences
from .milvus_connect import index_kwargs, query_all

FORMAT_VERSION = 2
CHUNKS = "rag_chunks"
DOCUMENTS = "rag_documents"
META = "rag_meta"
COLLECTIONS = (CHUNKS, DOCUMENTS, META)
# A VARCHAR's limit is 65,535 bytes; 16,000 characters stay under it even at 4 bytes a character.
PART_CHARS = 16_000
# Page ranges of up to ~100,000 pages (16,000 characters of JSON a part).
MAX_PAGE_PARTS = 100
MAX_VARCHAR = 65_535
# Milvus caps one search's limit at 16,384.
MAX_LIMIT = 16_384
CHUNK_FIELDS = ["pk", "chunk_id", "doc_id", "ordinal", "char_start", "char_end", "text", "title", "source",
                "sentences"]
DOCUMENT_FIELDS = ["doc_id", "part", "title", "source", "text"]


def chunk_pk(doc_id: str, content_hash: str, ordinal: int) -> int:
    digest = hashlib.blake2b(f"{doc_id}\0{content_hash}\0{ordinal}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << 62) - 1)


# -- reading -----------------------------------------------------------------------------------
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


def stored_documents(client: Any) -> list[dict[str, Any]]:
    """doc_id, content_hash and source of every stored document."""
    if not client.has_collection(DOCUMENTS):
        return []
    client.load_collection(DOCUMENTS)
    return query_all(client, DOCUMENTS, "part == 0", ["doc_id", "content_hash", "source"])


def dense_search_params(k: int) -> dict[str, Any]:
    # ef is HNSW's search breadth; other index types ignore it. It must be at least the limit.
    return {"metric_type": "IP", "params": {"ef": max(k, 64), "nprobe": 32}}


def assemble_documents(rows: list[dict[str, Any]]) -> list[Document]:
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


def decode_sentences(text: str, dimension: int) -> Sentences:
    data = json.loads(text or '{"spans": [], "v": ""}')
    spans = np.asarray(data["spans"], np.int64).reshape(-1, 2)
    v = np.frombuffer(base64.b64decode(data["v"]), np.float16).astype(np.float32).reshape(len(spans), dimension)
    return Sentences(spans, v)


# -- writing -----------------------------------------------------------------------------------
def document_rows(doc: Document) -> list[dict[str, Any]]:
    """A document's text parts 0, 1, ... and page-range parts -1, -2, ..."""
    pieces = [doc.text[i:i + PART_CHARS] for i in range(0, len(doc.text), PART_CHARS)] or [""]
    common = {"doc_id": doc.doc_id, "title": doc.title[:1000], "source": doc.source[:1000],
              "content_hash": doc.content_hash, "unused": [0.0, 0.0]}
    rows = [{"key": f"{doc.doc_id}#{p}", "part": p, "text": piece, **common} for p, piece in enumerate(pieces)]
    rows += [{"key": f"{doc.doc_id}#pages{p}", "part": -p, "text": piece, **common}
             for p, piece in enumerate(page_parts(doc), 1)]
    return rows


def page_parts(doc: Document) -> list[str]:
    """The document's page ranges as JSON, in pieces that fit a VARCHAR (stored as parts -1, -2, ...)."""
    if not doc.pages:
        return []
    blob = json.dumps([list(r) for r in doc.pages], separators=(",", ":"))
    pieces = [blob[i:i + PART_CHARS] for i in range(0, len(blob), PART_CHARS)]
    # Past the limit the pages are left out (answers then say no page) rather than cut into bad JSON.
    return pieces if len(pieces) <= MAX_PAGE_PARTS else []


def encode_sentences(spans: Sequence[Sequence[int]] | np.ndarray, vectors: np.ndarray) -> str:
    """Spans and float16 vectors as one JSON string (a VARCHAR; Milvus has no per-row matrix type)."""
    v = np.asarray(vectors, np.float16).reshape(len(spans), -1)
    text = json.dumps({"spans": [[int(a), int(b)] for a, b in spans], "v": base64.b64encode(v.tobytes()).decode()})
    # Past the VARCHAR limit (a chunk of very many sentences) keep none: re-ranking falls back to
    # the chunk's own score.
    return text if len(text) <= MAX_VARCHAR else json.dumps({"spans": [], "v": ""})


def create_collections(client: Any, dimension: int) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from ...tokens import STOPWORDS

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("pk", DataType.INT64, is_primary=True)
    s.add_field("chunk_id", DataType.VARCHAR, max_length=1024)
    s.add_field("doc_id", DataType.VARCHAR, max_length=1024)
    s.add_field("ordinal", DataType.INT64)
    s.add_field("char_start", DataType.INT64)
    s.add_field("char_end", DataType.INT64)
    # The same stopwords as the local BM25; a Milvus server also stems, as the local store does
    # (Milvus Lite's analyzer only lowercases and drops stopwords).
    analyzer = {"tokenizer": "standard", "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS)},
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
    client.create_index(CHUNKS, idx, **index_kwargs(client))

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
    client.create_index(name, idx, **index_kwargs(client))


def drop_collections(client: Any) -> None:
    for name in COLLECTIONS:
        if client.has_collection(name):
            client.drop_collection(name)


def dense_index_params(n: int, kind: str, ann_threshold: int) -> dict[str, Any]:
    """The Milvus index for the dense field, chosen by size like the local FAISS index."""
    chosen = choose_kind(n, kind, ann_threshold)
    if chosen == "hnsw":
        return {"index_type": "HNSW", "metric_type": "IP",
                "params": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}}
    if chosen == "ivf":
        return {"index_type": "IVF_FLAT", "metric_type": "IP", "params": {"nlist": ivf_nlist(n)}}
    return {"index_type": "FLAT", "metric_type": "IP", "params": {}}


def ensure_dense_index(client: Any, wanted: dict[str, Any]) -> None:
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
    client.create_index(CHUNKS, idx, **index_kwargs(client))


def delete_stale(client: Any, collection: str, key: str, doc_ids: list[str], keep: set[Any]) -> None:
    """Delete the rows of ``doc_ids`` whose primary key is not in ``keep`` (the rows just written)."""
    if not doc_ids:
        return
    client.load_collection(collection)
    for batch in batches(doc_ids, 100):
        old = query_all(client, collection, f"doc_id in {_quote(batch)}", [key])
        stale = [r[key] for r in old if r[key] not in keep]
        for ids in batches(stale, 1000):
            client.delete(collection, ids=list(ids))


def _quote(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def batches(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
