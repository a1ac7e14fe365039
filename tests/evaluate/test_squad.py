"""`rag eval --squad FILE`: scoring arithmetic, file errors and the CLI with a fake reader and assistant;
one slow run of the real reader and index on a tiny SQuAD file."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os

import pytest

from rag.evaluate import squad as squad_eval
from rag.errors import UserError
from rag.records import Answer, Chunk, Passage, Result
from rag.settings import Settings
from rag.evaluate.squad import (context_id, evaluate_e2e, evaluate_reader, load_file, sample, score,
                            write_corpus)
from rag.squad_format import QAExample

DENVER = "Super Bowl 50 was won by the Denver Broncos, who beat the Carolina Panthers 24 to 10."
PARIS = "Paris is the capital and most populous city of France."


def example(qid: str, question: str, context: str, gold: str | None) -> QAExample:
    spans = () if gold is None else ((context.index(gold), context.index(gold) + len(gold)),)
    return QAExample(qid, question, context, spans, "toy", "Toy")


EXAMPLES = [
    example("q1", "Who won Super Bowl 50?", DENVER, "Denver Broncos"),
    example("q2", "Who lost Super Bowl 50?", DENVER, "Carolina Panthers"),
    example("q3", "What is the capital of Spain?", PARIS, None),
    example("q4", "What is the largest city of Germany?", PARIS, None),
]


def answer(text: str) -> Answer:
    return Answer(text, "d", 0, len(text), 0.9, 0, len(text))


# -- scoring -------------------------------------------------------------------------------------
def test_score_splits_answerable_and_unanswerable():
    # q1 partly right ("the Broncos": F1 2/3), q2 null, q3 null (right), q4 answered (wrong).
    figures = score("reader", EXAMPLES, ["the Broncos", None, None, "Paris"])
    assert (figures.questions, figures.answerable, figures.unanswerable) == (4, 2, 2)
    assert figures.has_ans_exact_match == 0.0
    assert figures.has_ans_f1 == pytest.approx(100 * (2 / 3) / 2)
    assert figures.no_ans_accuracy == 50.0
    assert figures.answerable_null_rate == 50.0
    assert figures.exact_match == 25.0  # only q3's null answer is exact
    assert figures.f1 == pytest.approx(100 * (2 / 3 + 1) / 4)


def test_score_without_unanswerable_questions_has_no_noans_figure():
    figures = score("reader", EXAMPLES[:2], ["Denver Broncos", "carolina panthers."])
    assert figures.exact_match == 100.0 and figures.has_ans_f1 == 100.0
    assert figures.no_ans_accuracy is None and figures.answerable_null_rate == 0.0


def test_sample_is_fixed_and_keeps_file_order():
    many = [example(f"q{i}", "q?", DENVER, "Denver Broncos") for i in range(50)]
    picked = sample(many, 10)
    assert len(picked) == 10 and picked == sample(many, 10)
    assert [int(e.qid[1:]) for e in picked] == sorted(int(e.qid[1:]) for e in picked)
    assert sample(many, 80) == many and sample(many, None) == many


# -- the two modes with fakes --------------------------------------------------------------------
class FakeReader:
    """Answers EXAMPLES' answerable questions with their gold text, anything else with null; records
    what it was given."""

    threshold = 0.5

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, list[Passage]]]] = []

    def answer_many(self, items):
        self.calls.append(items)
        gold = {e.question: e.answer_texts for e in EXAMPLES}
        return [(answer(gold[q][0]) if gold.get(q) else None, []) for q, _ in items]


def test_reader_mode_reads_each_question_with_its_gold_paragraph_alone():
    reader = FakeReader()
    figures = evaluate_reader(reader, EXAMPLES, batch_size=3)
    assert [len(c) for c in reader.calls] == [3, 1]
    for (question, passages), e in zip([i for c in reader.calls for i in c], EXAMPLES):
        assert question == e.question and len(passages) == 1
        assert passages[0].chunk.text == e.context and passages[0].chunk.doc_id == context_id(e.context)
    assert figures.exact_match == 100.0 and figures.no_ans_accuracy == 100.0
    assert figures.retrieval_hit_rate is None and figures.seconds_per_question > 0


class FakeAssistant:
    """ask_many over a fixed ranking: q1 retrieves its paragraph only beyond the passages read."""

    settings = Settings(answer_passages=2)
    read_passages = 2

    def ask_many(self, questions, k=None, retriever=None):
        assert k == 5 and retriever == "hybrid"
        for q in questions:
            if q.startswith("What is the largest"):
                yield UserError("the question is too long")
                continue
            gold_third = q.startswith("Who won")
            docs = ["x", "y", context_id(DENVER)] if gold_third else [context_id(DENVER), context_id(PARIS)]
            passages = [Passage(Chunk(d, d, 0, 1, "t"), i + 1, 1.0, "", "") for i, d in enumerate(docs)]
            text = "Carolina Panthers" if q.startswith("Who lost") else None
            yield Result(q, answer(text) if text else None, [], passages, {"total": 0.01})


def test_e2e_mode_counts_hits_among_the_passages_read_and_rejected_questions_as_null():
    figures = evaluate_e2e(FakeAssistant(), EXAMPLES, k=5, retriever="hybrid")
    assert figures.retrieval_hit_rate == 50.0  # q2 and q3 hit; q1 beyond answer_passages; q4 rejected
    assert figures.rejected == 1
    assert figures.has_ans_exact_match == 50.0 and figures.answerable_null_rate == 50.0
    assert figures.no_ans_accuracy == 100.0  # q3 null; q4 rejected, so null too
    assert figures.latency_p50_ms == pytest.approx(10.0)


def test_corpus_has_one_record_per_paragraph_and_is_not_rewritten_when_unchanged(tmp_path):
    corpus = write_corpus(EXAMPLES, tmp_path / "c")
    rows = [json.loads(line) for line in corpus.read_text().splitlines()]
    assert [r["_id"] for r in rows] == [context_id(DENVER), context_id(PARIS)]
    assert [r["text"] for r in rows] == [DENVER, PARIS]
    os.utime(corpus, (1, 1))
    write_corpus(EXAMPLES, tmp_path / "c")
    assert corpus.stat().st_mtime == 1  # unchanged: not rewritten
    write_corpus(EXAMPLES[:2], tmp_path / "c")
    assert len(corpus.read_text().splitlines()) == 1


# -- the file ------------------------------------------------------------------------------------
def squad_json(paragraphs: list[tuple[str, list[tuple[str, str | None]]]]) -> dict:
    """SQuAD 2.0 layout; a None answer is an unanswerable question."""
    out = []
    for n, (context, qas) in enumerate(paragraphs):
        rows = [{"id": f"p{n}q{i}", "question": q, "is_impossible": a is None,
                 "answers": [] if a is None else [{"text": a, "answer_start": context.index(a)}]}
                for i, (q, a) in enumerate(qas)]
        out.append({"context": context, "qas": rows})
    return {"version": "v2.0", "data": [{"title": "Toy", "paragraphs": out}]}


TOY = squad_json([(DENVER, [("Who won Super Bowl 50?", "Denver Broncos"),
                            ("Who lost Super Bowl 50?", "Carolina Panthers")]),
                  (PARIS, [("What is the capital of France?", "Paris"),
                           ("What is the capital of Spain?", None)])])


def test_load_file_reads_gzip(tmp_path):
    path = tmp_path / "toy.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(TOY, fh)
    loaded = load_file(path)
    assert [e.qid for e in loaded] == ["p0q0", "p0q1", "p1q0", "p1q1"] and loaded[3].answers == ()


@pytest.mark.parametrize("name, content, message", [
    ("missing.json", None, "no such SQuAD file"),
    ("text.json", b"hello", "not UTF-8 JSON"),
    ("list.json", b"[1, 2]", "not in SQuAD format"),
    ("flat.json", b'{"data": [{"title": "t", "paragraphs": "nope"}]}', "not in SQuAD format"),
    ("empty.json", b'{"data": []}', "no question"),
    ("fake.json.gz", b"not gzip at all", "not a readable gzip file"),
])
def test_load_file_turns_bad_files_into_one_user_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UserError, match=message) as caught:
        load_file(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


# -- the command line ----------------------------------------------------------------------------
def run_main(argv: list[str]) -> tuple[int, str, str]:
    from rag.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def test_cli_bad_file_is_one_error_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": 3}')
    for path, message in ((tmp_path / "absent.json", "no such SQuAD file"), (bad, "not in SQuAD format")):
        code, out, err = run_main(["eval", "--squad", str(path)])
        assert code == 2 and out == ""
        assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_reader_mode_with_a_fake_reader(tmp_path, monkeypatch):
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(TOY))
    reader = FakeReader()
    monkeypatch.setattr(squad_eval, "make_reader", lambda settings: reader)
    code, out, _ = run_main(["eval", "--squad", str(path), "--squad-mode", "reader", "--limit", "3", "--json"])
    assert code == 0
    figures = json.loads(out)
    assert figures["questions_in_file"] == 4 and figures["questions"] == 3 and list(figures["modes"]) == ["reader"]
    assert sum(len(c) for c in reader.calls) == 3
    row = figures["modes"]["reader"]
    assert 0.0 <= row["exact_match"] <= 100.0 and row["retrieval_hit_rate"] is None
    code, out, _ = run_main(["eval", "--squad", str(path), "--squad-mode", "reader"])
    assert code == 0 and out.splitlines()[0].split()[:3] == ["mode", "EM", "F1"] and "4 of 4 questions" in out


# -- the real thing ------------------------------------------------------------------------------
@pytest.mark.slow
def test_squad_eval_with_the_shipped_reader(tmp_path, monkeypatch):
    if not (Settings().reader / "reader.safetensors").is_file():
        pytest.skip(f"the shipped reader is not there yet ({Settings().reader / 'reader.safetensors'} is missing)")
    monkeypatch.delenv("RAG_READER", raising=False)  # the shipped reader, whatever the environment says
    # Threshold 0: every question gets an answer, so the figures below do not hang on the calibration.
    monkeypatch.setenv("RAG_ANSWER_THRESHOLD", "0")
    monkeypatch.chdir(tmp_path)  # nothing may land in the default index
    berlin = "Berlin is the capital of Germany. It has about 3.7 million inhabitants."
    toy = squad_json([(DENVER, [("Who won Super Bowl 50?", "Denver Broncos")]),
                      (PARIS, [("What is the capital of France?", "Paris"),
                               ("What is the capital of Spain?", None)]),
                      (berlin, [("How many people live in Berlin?", "about 3.7 million")])])
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(toy))
    argv = ["eval", "--squad", str(path), "--cache-dir", str(tmp_path / "cache"), "--json"]
    code, out, err = run_main(argv)
    assert code == 0, err
    first = json.loads(out)
    assert first["index_written"] and first["documents"] == 3 and not (tmp_path / "index").exists()
    reader, e2e = first["modes"]["reader"], first["modes"]["e2e"]
    print({m: {k: v for k, v in row.items() if isinstance(v, float)} for m, row in first["modes"].items()})
    assert e2e["retrieval_hit_rate"] == 100.0  # three paragraphs, five passages read: all are read
    assert first["threshold"] == 0.0
    assert reader["has_ans_f1"] > 0.0  # plain questions over one-sentence paragraphs
    for row in (reader, e2e):
        assert row["answerable_null_rate"] == 0.0 and row["no_ans_accuracy"] == 0.0  # never null at threshold 0
        for key in ("exact_match", "f1", "has_ans_exact_match", "has_ans_f1", "no_ans_accuracy"):
            assert 0.0 <= row[key] <= 100.0
    code, out, err = run_main(argv)
    second = json.loads(out)
    assert not second["index_written"]  # unchanged file: the cached index is reused
    assert second["modes"]["e2e"]["f1"] == pytest.approx(e2e["f1"])
