"""Choosing and building the FAISS structure. Exact inner-product search for small corpora; an
approximate index above a threshold (its parameters go in the manifest).

The choice is measured (``python scripts/scale_table.py``, synthetic clustered vectors, 2 cores):
at 100k vectors exact search already takes tens of milliseconds a query, while HNSW (M=32,
efConstruction=80) answers in under a millisecond at recall@10 0.999; IVF-Flat with
nlist=4*sqrt(n), nprobe=nlist/32 built ~4x faster but reached only 0.75 recall. So: HNSW above the
threshold. IVF stays available (``--faiss ivf``) for when build time matters more than recall."""

from __future__ import annotations

import os
from typing import Any

import faiss
import numpy as np

KINDS = ("auto", "flat", "hnsw", "ivf")
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
# Search breadth grows with the graph (scripts/scale_table.py, clustered vectors): efSearch 128 gave
# recall@10 1.000 at 100k and 0.995 at 300k, but only 0.950 at 1M, where 256 gave 0.970 for
# 1.75 ms p50. So 128 up to half a million vectors, 256 beyond.
HNSW_EF_SEARCH = 128
HNSW_EF_SEARCH_LARGE = 256
LARGE = 500_000


def ef_search_for(n: int) -> int:
    return HNSW_EF_SEARCH_LARGE if n >= LARGE else HNSW_EF_SEARCH


def choose_kind(n: int, kind: str, ann_threshold: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    return "flat" if n < ann_threshold else "hnsw"


def build_faiss(vectors: np.ndarray, kind: str = "auto", ann_threshold: int = 50_000) -> tuple[faiss.Index, dict[str, Any]]:
    n, d = vectors.shape if vectors.ndim == 2 else (0, 0)
    chosen = choose_kind(n, kind, ann_threshold)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    # Building is batch work: use every core, then go back to one thread for queries.
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index, params = _build(x, n, d, chosen)
    finally:
        faiss.omp_set_num_threads(1)
    configure_search(index, params)
    return index, params


def _build(x: np.ndarray, n: int, d: int, chosen: str) -> tuple[faiss.Index, dict[str, Any]]:
    if chosen == "flat" or n == 0:
        index = faiss.IndexFlatIP(max(d, 1))
        params: dict[str, Any] = {"type": "flat", "metric": "inner_product"}
    elif chosen == "hnsw":
        m, ef_construction, ef_search = HNSW_M, HNSW_EF_CONSTRUCTION, ef_search_for(n)
        index = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        params = {"type": "hnsw", "metric": "inner_product", "M": m, "efConstruction": ef_construction,
                  "efSearch": ef_search}
    else:
        nlist = int(max(16, min(65536, 4 * np.sqrt(n))))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = x if n <= 64 * nlist else x[np.random.default_rng(0).choice(n, 64 * nlist, replace=False)]
        index.train(sample)
        params = {"type": "ivf", "metric": "inner_product", "nlist": nlist, "nprobe": max(1, nlist // 32)}
    if n:
        index.add(x)
    return index, params


def configure_search(index: faiss.Index, params: dict[str, Any]) -> None:
    """Apply the saved search-time parameters (they are not all kept by faiss.write_index), and
    search with one thread: the retriever asks one query at a time, and an OpenMP team on a busy
    2-core machine costs far more than it saves (scripts/scale_table.py, flat, 10k vectors on a
    busy machine: p50 172 ms with 2 threads, 1.08 ms with 1)."""
    faiss.omp_set_num_threads(1)
    if params.get("type") == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = int(params["efSearch"])
    elif params.get("type") == "ivf":
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
