"""The FAISS structure choice, its saved parameters, and the synthetic scale measurement."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.bench.scale import clustered_vectors, format_table, measure
from rag.index.store.ann import KINDS, choose_kind
from rag.index.store.faiss_index import build_faiss, configure_search


def _exact_top(corpus: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(queries @ corpus.T), axis=1, kind="stable")[:, :k]


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / truth.shape[1] for f, t in zip(found.tolist(), truth.tolist())]))


def test_choice_by_size_and_forced():
    assert choose_kind(999, "auto", 1000) == "flat"
    assert choose_kind(1000, "auto", 1000) == "hnsw"
    for kind in ("flat", "hnsw", "ivf"):
        assert choose_kind(10, kind, 1000) == kind
    with pytest.raises(ValueError, match="unknown FAISS index kind"):
        choose_kind(10, "lsh", 1000)
    assert set(KINDS) == {"auto", "flat", "hnsw", "ivf"}


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), d=st.integers(2, 16), seed=st.integers(0, 2**16))
def test_flat_is_exact(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.standard_normal((3, d)).astype(np.float32)
    index, params = build_faiss(x, "auto", ann_threshold=10**6)
    assert params["type"] == "flat" and index.ntotal == n
    scores, rows = index.search(q, n)
    assert np.allclose(scores, np.take_along_axis(q @ x.T, rows, axis=1), atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first


def test_empty_corpus_builds():
    index, params = build_faiss(np.zeros((0, 8), np.float32))
    assert params["type"] == "flat" and index.ntotal == 0


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_recall_and_saved_parameters(tmp_path, kind):
    corpus, queries = clustered_vectors(4000, 50, seed=1)
    index, params = build_faiss(corpus, "auto", ann_threshold=1000) if kind == "hnsw" else build_faiss(corpus, kind)
    assert params["type"] == kind and index.ntotal == len(corpus)
    truth = _exact_top(corpus, queries, 10)
    _, found = index.search(queries, 10)
    if kind == "hnsw":
        assert _recall(found, truth) >= 0.9
    else:
        # IVF trades recall for build time; probing every list is exact search again.
        ivf = faiss.extract_index_ivf(index)
        ivf.nprobe = ivf.nlist
        assert _recall(index.search(queries, 10)[1], truth) >= 0.99 > _recall(found, truth) > 0.3
        configure_search(index, params)
    # Search parameters are not all kept by write_index: configure_search restores them.
    path = tmp_path / "dense.faiss"
    faiss.write_index(index, str(path))
    loaded = faiss.read_index(str(path))
    configure_search(loaded, params)
    if kind == "hnsw":
        assert faiss.downcast_index(loaded).hnsw.efSearch == params["efSearch"]
    else:
        assert faiss.extract_index_ivf(loaded).nprobe == params["nprobe"]
    assert np.array_equal(loaded.search(queries, 10)[1], index.search(queries, 10)[1])


def test_synthetic_vectors_are_clustered_not_uniform():
    corpus, queries = clustered_vectors(3000, 40, seed=2)
    assert corpus.shape == (3000, 384) and queries.shape == (40, 384) and corpus.dtype == np.float32
    assert np.allclose(np.linalg.norm(corpus, axis=1), 1, atol=1e-5)
    again, _ = clustered_vectors(3000, 40, seed=2)
    assert np.array_equal(corpus, again)
    best = (queries @ corpus.T).max(axis=1)
    rng = np.random.default_rng(0)
    a, b = corpus[rng.choice(3000, 500)], corpus[rng.choice(3000, 500)]
    # A query's nearest neighbour is far closer than two random corpus vectors are.
    assert best.mean() > 0.3 > abs(float((a * b).sum(axis=1).mean())) + 0.2


def test_measure_reports_every_figure():
    r = measure(3000, kind="hnsw", queries=30)
    assert r["n"] == 3000 and r["dim"] == 384 and "synthetic clustered" in r["vectors"]
    assert r["index"]["type"] == "hnsw" and r["build_seconds"] >= 0 and r["index_bytes"] > 3000 * 384 * 4
    assert r["peak_rss_bytes"] > r["index_bytes"]
    assert 0 < r["query_p50_ms"] <= r["query_p95_ms"] and 0.8 <= r["recall_at_10"] <= 1
    assert [s["efSearch"] for s in r["sweep"]] == sorted(s["efSearch"] for s in r["sweep"])
    assert r["index"]["efSearch"] in [s["efSearch"] for s in r["sweep"]]
    table = format_table([r])
    assert "| 3,000 | HNSW M=32" in table and f"{r['recall_at_10']:.3f}" in table


def test_hnsw_search_breadth_grows_with_the_corpus():
    from rag.index.store.ann import ef_search_for

    assert ef_search_for(100_000) == 128
    assert ef_search_for(1_000_000) == 256
