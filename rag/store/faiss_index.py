"""Choosing and building the FAISS structure. Exact inner-product search for small corpora; an
approximate index above a threshold (its parameters go in the manifest)."""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

KINDS = ("auto", "flat", "hnsw", "ivf")


def choose_kind(n: int, kind: str, ann_threshold: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    return "flat" if n < ann_threshold else "hnsw"


def build_faiss(vectors: np.ndarray, kind: str = "auto", ann_threshold: int = 200_000) -> tuple[faiss.Index, dict[str, Any]]:
    n, d = vectors.shape if vectors.ndim == 2 else (0, 0)
    chosen = choose_kind(n, kind, ann_threshold)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if chosen == "flat" or n == 0:
        index = faiss.IndexFlatIP(max(d, 1))
        params: dict[str, Any] = {"type": "flat", "metric": "inner_product"}
    elif chosen == "hnsw":
        m, ef_construction, ef_search = 32, 80, 64
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
    configure_search(index, params)
    return index, params


def configure_search(index: faiss.Index, params: dict[str, Any]) -> None:
    """Apply the saved search-time parameters (they are not all kept by faiss.write_index)."""
    if params.get("type") == "hnsw":
        faiss.downcast_index(index).hnsw.efSearch = int(params["efSearch"])
    elif params.get("type") == "ivf":
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
