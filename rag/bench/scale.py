"""How the dense index behaves as the corpus grows, measured on synthetic vectors.

The vectors are SYNTHETIC and CLUSTERED, never uniform: uniform random vectors in 384 dimensions are
all nearly orthogonal, so "nearest neighbour" means nothing and recall would be noise. Real sentence
embeddings sit in clusters (topics) of low intrinsic dimension, so each synthetic cluster is a random
centre plus a point in a random low-dimensional subspace plus a little isotropic noise, and cluster
sizes vary. Queries come from the same clusters but are not in the corpus.

``scale_report(n)`` builds the index the way ``rag index`` would (``build_faiss`` with the same
auto choice), and measures build time, size on disk, peak RSS, single-query latency and recall@10
against exact search on the same vectors. Each measurement runs in a child process so that peak RSS
is that of one corpus size alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..tables import markdown_table
from .memory import peak_rss

DIM = 384
VECTORS_NOTE = ("synthetic clustered vectors (dim 384, ~1000 per cluster, 32-dim subspace per cluster "
                "plus isotropic noise), not real embeddings")
# Cluster shape: at 20k vectors a query's best match has cosine ~0.56 and its 10th ~0.43, while two
# random vectors have ~0.0, close to what MiniLM gives for related and unrelated passages.
_SUBSPACE = 32
_SPREAD = 0.6
_NOISE = 0.25


def clustered_vectors(n: int, queries: int, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(corpus, queries): L2-normalised float32 rows drawn from the same clusters."""
    rng = np.random.default_rng(seed)
    clusters = max(1, n // 1000)
    # Uneven cluster sizes (some topics are much bigger than others).
    weights = rng.lognormal(0.0, 0.7, clusters)
    sizes = rng.multinomial(n, weights / weights.sum())
    q_of = rng.choice(clusters, size=queries, p=weights / weights.sum())
    q_sizes = np.bincount(q_of, minlength=clusters)
    corpus = np.empty((n, dim), np.float32)
    qs = np.empty((queries, dim), np.float32)
    at = q_at = 0
    for c in range(clusters):
        m, mq = int(sizes[c]), int(q_sizes[c])
        if m == 0 and mq == 0:
            continue
        centre = rng.standard_normal(dim, dtype=np.float32)
        centre /= np.linalg.norm(centre)
        basis = rng.standard_normal((_SUBSPACE, dim), dtype=np.float32) * (_SPREAD / np.sqrt(_SUBSPACE))
        for out, start, count in ((corpus, at, m), (qs, q_at, mq)):
            if count:
                pts = centre + rng.standard_normal((count, _SUBSPACE), dtype=np.float32) @ basis
                pts += rng.standard_normal((count, dim), dtype=np.float32) * (_NOISE / np.sqrt(dim))
                out[start:start + count] = pts
        at += m
        q_at += mq
    corpus /= np.linalg.norm(corpus, axis=1, keepdims=True)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    return corpus, qs


def measure(n: int, kind: str = "auto", ann_threshold: int | None = None, queries: int = 200,
            seed: int = 0) -> dict[str, Any]:
    """Measure one corpus size in this process (``scale_report`` runs it in a child)."""
    import faiss

    from ..settings import Settings
    from ..index.store.faiss_index import build_faiss

    threshold = Settings().ann_threshold if ann_threshold is None else ann_threshold
    corpus, qs = clustered_vectors(n, queries, seed=seed)
    t = time.perf_counter()
    index, params = build_faiss(corpus, kind, threshold)
    build_seconds = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        path = Path(tmp) / "dense.faiss"
        faiss.write_index(index, str(path))
        index_bytes = path.stat().st_size

    k = 10
    latencies = []
    found = np.empty((queries, k), np.int64)
    for i in range(queries):  # one query at a time, as the retriever asks
        t = time.perf_counter()
        _, rows = index.search(qs[i:i + 1], k)
        latencies.append(time.perf_counter() - t)
        found[i] = rows[0]
    exact = faiss.IndexFlatIP(DIM)
    exact.add(corpus)
    _, truth = exact.search(qs, k)
    recall = _recall(found, truth)
    ms = np.asarray(latencies) * 1000.0
    # The same single-query timing for exact search, measured in this run so the ratio holds even
    # when the machine is busy (fewer queries: at 1M each takes a while).
    exact_ms = _timed(exact, qs[:max(1, min(queries, 50))], k)[0]
    sweep = _sweep(index, params, qs, truth, k)
    return {
        "n": n,
        "dim": DIM,
        "vectors": VECTORS_NOTE,
        "index": params,
        "build_seconds": round(build_seconds, 2),
        "index_bytes": int(index_bytes),
        "peak_rss_bytes": peak_rss(),
        "queries": queries,
        "query_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "query_p95_ms": round(float(np.percentile(ms, 95)), 3),
        "recall_at_10": round(recall, 4),
        "exact_query_p50_ms": round(float(np.percentile(exact_ms, 50)), 3),
        "sweep": sweep,
        "threads": faiss.omp_get_max_threads(),  # for queries (builds use every core)
    }


def _timed(index: Any, qs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(milliseconds per query, rows), one query at a time."""
    ms, rows = [], []
    for q in qs:
        t = time.perf_counter()
        _, r = index.search(q.reshape(1, -1), k)
        ms.append((time.perf_counter() - t) * 1000.0)
        rows.append(r[0])
    return np.asarray(ms), np.asarray(rows)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f.tolist()) & set(g.tolist())) / k for f, g in zip(found, truth)]))


def _sweep(index: Any, params: dict[str, Any], qs: np.ndarray, truth: np.ndarray, k: int) -> list[dict[str, Any]]:
    """Recall and p50 at other search breadths, so the saved parameter is a measured choice."""
    from ..index.store.faiss_index import configure_search

    name = {"hnsw": "efSearch", "ivf": "nprobe"}.get(params.get("type", ""))
    if name is None:
        return []
    base = int(params[name])
    out = []
    for value in sorted({max(1, base // 4), max(1, base // 2), base, base * 2}):
        configure_search(index, {**params, name: value})
        ms, found = _timed(index, qs, k)
        out.append({name: value, "p50_ms": round(float(np.percentile(ms, 50)), 3),
                    "recall_at_10": round(_recall(found, truth), 4)})
    configure_search(index, params)
    return out


def scale_report(n: int, kind: str = "auto", ann_threshold: int | None = None, queries: int = 200,
                 seed: int = 0) -> dict[str, Any]:
    """Measure ``n`` synthetic chunks in a fresh child process (so peak RSS is this size's alone)."""
    if n < 10:
        raise ValueError("scale runs need at least 10 vectors")
    args = json.dumps({"n": n, "kind": kind, "ann_threshold": ann_threshold, "queries": queries, "seed": seed})
    proc = subprocess.run([sys.executable, "-m", "rag.bench.scale", args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"scale run for n={n} failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of scale reports."""
    header = ["chunks", "index", "build s", "on disk MiB", "peak RSS MiB", "p50 ms", "p95 ms", "recall@10",
              "exact p50 ms"]
    lines = [[f"{r['n']:,}", describe_index(r["index"]), f"{r['build_seconds']:.1f}", f"{r['index_bytes'] / 2**20:.0f}",
              f"{r['peak_rss_bytes'] / 2**20:.0f}", f"{r['query_p50_ms']:.2f}", f"{r['query_p95_ms']:.2f}",
              f"{r['recall_at_10']:.3f}", f"{r['exact_query_p50_ms']:.2f}"] for r in rows]
    return markdown_table(header, lines, align="rlrrrrrrr")


def describe_index(params: dict[str, Any]) -> str:
    kind = params.get("type", "?")
    if kind == "hnsw":
        return f"HNSW M={params['M']} efC={params['efConstruction']} efS={params['efSearch']}"
    if kind == "ivf":
        return f"IVF nlist={params['nlist']} nprobe={params['nprobe']}"
    return "flat (exact)"


if __name__ == "__main__":  # the child process of scale_report
    spec = json.loads(sys.argv[1])
    print(json.dumps(measure(**spec)))
