"""`rag bench`: corpus copies, the interleaved question timing (fakes), the synthetic fallback and
the printed report; one slow end-to-end run."""

from __future__ import annotations

import contextlib
import io
import json
import time
from types import SimpleNamespace
from pathlib import Path

import pytest

from rag.bench.run import bench_questions, copy_corpus, format_report, summarize, synthetic_exact
from rag.errors import UserError
from rag.records import Result

ROOT = Path(__file__).resolve().parents[2]


def test_copy_corpus_makes_distinct_documents(tmp_path):
    from rag.ingest.documents import load_documents

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("Alpha.")
    (tmp_path / "src" / "b.md").write_text("# Beta")
    assert copy_corpus(tmp_path / "src", tmp_path / "out", 3) == 6
    docs = load_documents([tmp_path / "out"])
    assert len({d.doc_id for d in docs}) == 6
    assert sorted({d.text for d in docs}) == ["# Beta", "Alpha."]


def test_copy_corpus_of_an_empty_folder_is_a_user_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError):
        copy_corpus(tmp_path / "empty", tmp_path / "out", 2)


def test_summarize_reports_milliseconds():
    s = summarize([0.001, 0.002, 0.003])
    assert s["p50_ms"] == pytest.approx(2.0) and s["n"] == 3 and s["p95_ms"] == pytest.approx(2.9)


class SlowEmbedder:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def encode_query(self, text: str) -> None:
        self.calls += 1
        time.sleep(self.seconds)


class FakeAssistant:
    def __init__(self, embedder: SlowEmbedder, total: float, answer: float | None) -> None:
        self.embedder, self.total, self.answer_s = embedder, total, answer
        self.answerer = SimpleNamespace(kind="reader") if answer is not None else None
        self.asked: list[str] = []

    def ask(self, q: str, retriever: str) -> Result:
        self.asked.append(q)
        timings = {"embed": self.total / 2, "dense": 0.0001, "bm25": 0.0002, "fusion": 0.00005, "total": self.total}
        if self.answer_s is not None:
            timings["answer"] = self.answer_s
            timings["total"] += self.answer_s
        return Result(q, None, [], [], timings=timings)


def test_bench_questions_cycles_questions_and_relates_stages_to_the_floor():
    embedder = SlowEmbedder(0.002)
    full = FakeAssistant(embedder, total=0.004, answer=0.003)
    ro = FakeAssistant(embedder, total=0.004, answer=None)
    out = bench_questions(full, ro, ["a", "b", "c"], 7)
    assert full.asked == ["a"] + ["a", "b", "c"] * 2 + ["a"]  # warm-up, then cycled
    assert embedder.calls == 8 and out["questions"] == 7
    assert set(out["stages"]) == {"embed", "dense", "bm25", "fusion", "answer", "total"}
    assert out["answer_added_median_ms"] == pytest.approx(3.0)
    assert out["stages"]["total"]["p50_ms"] == pytest.approx(7.0)
    # retrieval-only 4 ms against a floor of at least 2 ms (sleep never returns early)
    floor = out["floor_encode_query"]["p50_ms"]
    assert floor >= 2.0 and out["ratio_retrieval_to_floor"] == pytest.approx(4.0 / floor)
    assert "encode_query_bf16" not in out  # an fp32 embedder: nothing to compare


class Bf16Embedder(SlowEmbedder):
    """Batches in bf16: one question is timed both ways."""

    precision = "bf16"

    def __init__(self) -> None:
        super().__init__(0.001)
        self.forced: list[tuple[list[str], bool]] = []

    def encode(self, texts, bf16=None):
        self.forced.append((list(texts), bf16))
        time.sleep(0.003)


def test_bench_questions_times_one_question_in_bf16_beside_fp32():
    embedder = Bf16Embedder()
    out = bench_questions(FakeAssistant(embedder, 0.004, None), FakeAssistant(embedder, 0.004, None), ["a", "b"], 4)
    assert embedder.forced == [(["a"], True)] + [([q], True) for q in ["a", "b", "a", "b"]]
    assert out["encode_query_bf16"]["n"] == 4 and out["encode_query_bf16"]["p50_ms"] >= 3.0
    assert out["floor_encode_query"]["p50_ms"] < out["encode_query_bf16"]["p50_ms"]


def test_synthetic_fallback_is_labelled_and_exact():
    s = synthetic_exact(2000, dim=16, queries=20)
    assert "SYNTHETIC" in s["vectors"] and s["n"] == 2000 and s["recall_at_10"] == 1.0
    assert 0 < s["query_p50_ms"] <= s["query_p95_ms"]


def test_format_report_prints_every_figure_and_verdict():
    figures = {
        "model_load_seconds": 1.0,
        "indexing": {"documents": 10, "copies": 2, "chunks": 86, "repeats": 2, "raw_encode_chunks_per_s": 100.0,
                     "raw_encode_seconds": 0.86, "index_chunks_per_s": 80.0, "index_seconds": 1.07,
                     "index_embed_seconds": 0.9, "ratio": 0.8, "target_ratio": 0.85},
        "queries": {"questions": 200, "retriever": "hybrid", "chunks": 43, "answerer": True,
                    "stages": {s: {"p50_ms": 1.0, "p95_ms": 2.0} for s in
                               ("embed", "dense", "bm25", "fusion", "answer", "total")},
                    "floor_encode_query": {"p50_ms": 10.0, "p95_ms": 12.0},
                    "retrieval_only_total": {"p50_ms": 11.0, "p95_ms": 13.0},
                    "ratio_retrieval_to_floor": 1.1, "target_ratio": 1.3, "answer_added_median_ms": 1.0,
                    "target_answer_ms": 5.0},
        "peak_rss_bytes": 500 * 2**20, "scale": [],
    }
    text = format_report(figures)
    for label in ("raw encode", "build_index", "ratio index/raw", "embed question", "dense search", "BM25",
                  "fusion", "answer", "end to end", "floor", "peak RSS 500 MiB"):
        assert label in text
    assert "0.800   (target >= 0.85: MISSES target)" in text
    assert "1.100   (target <= 1.3: meets target)" in text
    assert "fp32)" in text and "ratio bf16/fp32" not in text and "--docs" not in text


def test_format_report_sets_the_precision_beside_fp32_and_the_documents_folder():
    figures = {
        "model_load_seconds": 1.0,
        "indexing": {"documents": 10, "copies": 2, "chunks": 86, "repeats": 2, "raw_encode_chunks_per_s": 160.0,
                     "raw_encode_seconds": 0.54, "index_chunks_per_s": 150.0, "index_seconds": 0.57,
                     "index_embed_seconds": 0.5, "ratio": 0.9375, "target_ratio": 0.9, "precision": "bf16",
                     "fp32_raw_encode_chunks_per_s": 100.0, "precision_ratio": 1.6, "target_precision_ratio": 1.5,
                     "raw_encode_cpu_seconds": 1.0, "fp32_raw_encode_cpu_seconds": 1.7},
        "docs": {"folder": "pdfs", "documents": 3, "pages": 120, "chunks": 600, "seconds": 30.0,
                 "embed_seconds": 28.0, "precision": "bf16", "pages_per_s": 4.0, "chunks_per_s": 20.0},
        "queries": {"questions": 1, "retriever": "hybrid", "chunks": 43, "answerer": False, "stages": {},
                    "floor_encode_query": {"p50_ms": 10.0, "p95_ms": 12.0},
                    "retrieval_only_total": {"p50_ms": 11.0, "p95_ms": 13.0},
                    "ratio_retrieval_to_floor": 1.1, "target_ratio": 1.3, "answer_added_median_ms": None,
                    "target_answer_ms": 5.0, "encode_query_bf16": {"p50_ms": 12.5, "p95_ms": 14.0}},
        "peak_rss_bytes": 500 * 2**20, "scale": [],
    }
    text = format_report(figures)
    assert "    one question in bf16          12.50    14.00   (not used: a lone question is embedded in fp32)" in text
    assert "160.0 chunks/s  (0.54s, bf16)" in text and "raw encode in fp32               100.0 chunks/s" in text
    assert "ratio bf16/fp32                  1.600   (target >= 1.5: meets target)" in text
    assert "CPU seconds fp32/bf16            1.700   (1.7s against 1.0s)" in text
    assert "0.938   (target >= 0.9: meets target)" in text
    assert "--docs pdfs: 3 documents, 120 pages, 600 chunks in 30.0s (bf16)" in text
    assert "4.00 pages/s, 20.0 chunks/s end to end" in text


def test_a_docs_folder_that_is_not_there_is_one_line(tmp_path, monkeypatch):
    from rag.cli import EXIT_USER_ERROR, main

    monkeypatch.chdir(ROOT)
    assert main(["bench", "--docs", str(tmp_path / "nowhere"), "--questions", "1"]) == EXIT_USER_ERROR


@pytest.mark.slow
def test_rag_bench_end_to_end(monkeypatch):
    from rag.cli import main

    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["bench", "--questions", "3", "--copies", "1", "--json"]) == 0
    f = json.loads(out.getvalue())
    assert f["indexing"]["chunks"] > 0 and f["indexing"]["ratio"] > 0
    assert f["queries"]["questions"] == 3 and f["queries"]["floor_encode_query"]["p50_ms"] > 0
    assert f["peak_rss_bytes"] > 0
