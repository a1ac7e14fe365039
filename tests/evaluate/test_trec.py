"""rag/evaluate/trec.py: TREC run, qrels and queries files."""

from __future__ import annotations

import pytest

from rag.errors import UserError
from rag.evaluate.trec import read_qrels, read_queries, read_run, write_run


def test_run_round_trip_keeps_the_order_even_when_scores_tie(tmp_path):
    run = {"q1": {"d3": 1.0, "d1": 0.5, "d2": 1 / 3}, "q2": {"x": 1.0}}
    path = tmp_path / "r.trec"
    assert write_run(path, run, "my run") == 4
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 d3 1 3 my_run" and lines[2] == "q1 Q0 d2 3 1 my_run"
    back = read_run(path)
    assert [list(back[q]) for q in back] == [["d3", "d1", "d2"], ["x"]]
    assert sorted(back["q1"], key=lambda d: -back["q1"][d]) == ["d3", "d1", "d2"]


def test_read_run_names_the_bad_line(tmp_path):
    path = tmp_path / "r.trec"
    path.write_text("q1 Q0 d1 1 2.0 t\nq1 Q0 d2 2 1.0\n")
    with pytest.raises(UserError, match=":2: not a TREC run line"):
        read_run(path)
    path.write_text("q1 Q0 d1 1 2.0 t\nq1 Q0 d1 2 1.0 t\n")
    with pytest.raises(UserError, match="listed twice"):
        read_run(path)
    with pytest.raises(UserError, match="no such run file"):
        read_run(tmp_path / "missing.trec")


def test_read_qrels_takes_trec_and_beir_layouts_and_drops_zero(tmp_path):
    trec = tmp_path / "q.txt"
    trec.write_text("q1 0 d1 1\nq1 0 d2 0\nq2 0 d3 2\n")
    beir = tmp_path / "q.tsv"
    beir.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\t0\nq2\td3\t2\n")
    assert read_qrels(trec) == read_qrels(beir) == {"q1": {"d1": 1}, "q2": {"d3": 2}}
    trec.write_text("q1 0 d1 high\n")
    with pytest.raises(UserError, match="not a whole number"):
        read_qrels(trec)


def test_read_queries_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "q.tsv"
    tsv.write_text("1\twho wrote it?\n2\twhere\tis it?\n")
    assert read_queries(tsv) == {"1": "who wrote it?", "2": "where\tis it?"}
    jl = tmp_path / "q.jsonl"
    jl.write_text('{"_id": "a", "text": "x"}\n{"qid": 2, "query": "y"}\n')
    assert read_queries(jl) == {"a": "x", "2": "y"}
    jl.write_text('{"name": "a"}\n')
    with pytest.raises(UserError, match=":1: expected a JSON object"):
        read_queries(jl)
