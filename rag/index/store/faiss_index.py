"""Building the FAISS structure that ``ann.choose_kind`` picks: exact inner-product search for small
corpora, an approximate index above a threshold (its parameters go in the manifest)."""

from __future__ import annotations

import os
from typing import Any

import faiss
import numpy as np

from .ann import HNSW_EF_CONSTRUCTION, HNSW_M, choose_kind, ef_search_for, ivf_nlist


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
        nlist = ivf_nlist(n)
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
