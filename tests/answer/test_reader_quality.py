"""The shipped reader end to end on the real seeds: verbatim answers inside their whole sentence, no
answer where the documents hold none, and quality floors on the project's development sets.

The floors sit a little under what the shipped reader and its answer decision measured (README, "The
reader"); they catch a regression, they do not describe unseen questions (the README's test set does)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_seeds_end_to_end(assistant):
    cases = {
        "Who is the governor of Belgorod?": "Gladkov",
        "Which German chancellor did Zelenskyy meet in Berlin?": "Merz",
    }
    for question, expected in cases.items():
        result = assistant.ask(question)
        assert result.answer is not None, question
        assert expected in result.answer.text
        doc = assistant.document(result.answer.doc_id)
        assert doc.text[result.answer.start:result.answer.end] == result.answer.text
        sentence = doc.text[result.answer.sentence_start:result.answer.sentence_end]
        assert result.answer.text in sentence and sentence.rstrip()[-1] in ".!?\"”’"
        assert 0.0 <= result.answer.score <= 1.0
        assert result.to_dict()["answer"]["sentence"] == {"start": result.answer.sentence_start,
                                                          "end": result.answer.sentence_end}
    assert assistant.ask("What is the capital of Australia?").answer is None


def _metrics(assistant, names: tuple[str, ...]):
    from rag.evaluate.sets import answer_metrics, evidence_spans, load_eval_set

    from tests.conftest import ROOT

    questions = [q for n in names for q in load_eval_set(ROOT / "eval" / f"{n}.jsonl")]
    results = list(assistant.ask_many([q.question for q in questions]))
    spans = {q.id: evidence_spans(assistant.document(q.doc_id).text, q.evidence) for q in questions if q.answerable}
    m = answer_metrics(questions, results, spans)
    m["unanswerable_null"] = sum(r.answer is None for q, r in zip(questions, results) if not q.answerable)
    m["answerable_null"] = sum(r.answer is None for q, r in zip(questions, results) if q.answerable)
    return m


@pytest.mark.slow
@pytest.mark.eval
def test_eval_set_answers_hold_the_measured_level(assistant):
    """eval/questions.jsonl (107 answerable, 16 unanswerable), hybrid: FLOORS below."""
    m = _metrics(assistant, ("questions",))
    assert m["exact_match"] >= FLOORS["questions"]["exact_match"], m
    assert m["f1"] >= FLOORS["questions"]["f1"], m
    assert m["unanswerable_null"] >= FLOORS["questions"]["unanswerable_null"], m
    assert m["answerable_null"] <= FLOORS["questions"]["answerable_null"], m


@pytest.mark.slow
@pytest.mark.eval
def test_development_sets_hold_their_level(assistant):
    """The four development sets pooled (152 answerable, 36 unanswerable), hybrid: FLOORS below."""
    m = _metrics(assistant, ("holdout", "holdout2", "holdout3", "holdout4"))
    assert m["exact_match"] >= FLOORS["dev"]["exact_match"], m
    assert m["unanswerable_null"] >= FLOORS["dev"]["unanswerable_null"], m
    assert m["answerable_null"] <= FLOORS["dev"]["answerable_null"], m


# Measured with the shipped reader and decision (README, "The reader": questions EM 0.701, F1 0.753, 13 of
# 16 unanswerable null, 7 of 107 answerable null; dev pooled EM 0.645, 12 of 36 and 19 of 152), held a
# little lower for machines that read in fp32 or embed in another precision: EM and F1 0.03 under, null
# counts 2 questions looser.
FLOORS = {
    "questions": {"exact_match": 0.67, "f1": 0.72, "unanswerable_null": 11, "answerable_null": 9},
    "dev": {"exact_match": 0.615, "unanswerable_null": 10, "answerable_null": 21},
}
