"""Which dense index a store builds, and its parameters: one definition for FAISS (``faiss_index``),
Milvus (``milvus``) and the CLI's ``--faiss`` choices. Plain Python, so importing it loads neither
FAISS nor pymilvus.

The choice is measured (``python scripts/scale_table.py``, synthetic clustered vectors, 2 cores):
at 100k vectors exact search already takes tens of milliseconds a query, while HNSW (M=32,
efConstruction=80) answers in under a millisecond at recall@10 0.999; IVF-Flat with
nlist=4*sqrt(n), nprobe=nlist/32 built ~4x faster but reached only 0.75 recall. So: HNSW above the
threshold. IVF stays available (``--faiss ivf``) for when build time matters more than recall."""

from __future__ import annotations

import math

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


def ivf_nlist(n: int) -> int:
    """IVF lists for ``n`` vectors: 4 * sqrt(n), within [16, 65536]."""
    return int(max(16, min(65536, 4 * math.sqrt(max(n, 1)))))


def choose_kind(n: int, kind: str, ann_threshold: int) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown FAISS index kind {kind!r}: use one of {', '.join(KINDS)}")
    if kind != "auto":
        return kind
    return "flat" if n < ann_threshold else "hnsw"
