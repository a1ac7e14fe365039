"""The validation run that looks like use: which articles are left out, how the halves and the corpus
are made, and the figures and threshold computed from recorded candidates."""

from __future__ import annotations

import numpy as np

from rag.squad_format import QAExample
from rag.train import use_run
from rag.train.use_run import Candidate, Record


def _example(qid: str, source: str, article: str, context: str, answer: str | None) -> QAExample:
    spans = ((context.index(answer), context.index(answer) + len(answer)),) if answer else ()
    return QAExample(qid, "q?", context, spans, source, article)


def test_a_share_of_each_sources_articles_is_left_out_at_least_one():
    examples = [_example(f"{s}{a}", s, f"art{a}", "text", None) for s in ("x", "y") for a in range(8)]
    examples.append(_example("z0", "z", "only", "text", None))
    absent = use_run.absent_articles(examples, share=0.25)
    assert sum(k.startswith("x/") for k in absent) == 2 and sum(k.startswith("y/") for k in absent) == 2
    assert "z/only" in absent
    assert absent == use_run.absent_articles(examples, share=0.25)  # fixed


def test_the_corpus_has_one_document_per_indexed_article_with_its_paragraphs_once():
    examples = [_example("1", "s", "A", "First para.", None), _example("2", "s", "A", "First para.", None),
                _example("3", "s", "A", "Second para.", None), _example("4", "s", "B", "Other.", None)]
    rows = use_run.corpus_rows(examples, skip={"s/B"})
    assert len(rows) == 1 and rows[0]["text"] == "First para.\n\nSecond para." and rows[0]["title"] == "A"


def _record(kind: str, half: str, cands: list[tuple[float, float]]) -> Record:
    """cands: (platt probability, f1) per candidate, best margin first."""
    return Record(f"{kind}{len(cands)}{half}", "s", "s/a", kind, half, ["g"] if kind == "answerable" else [], True,
                  [Candidate("t", 1.0, p, f, float(f == 1.0), [0.0] * 15) for p, f in cands])


def test_figures_count_each_kind_of_question():
    records = [_record("answerable", "report", [(0.9, 1.0)]), _record("answerable", "report", [(0.2, 1.0)]),
               _record("absent", "report", [(0.1, 0.0)]), _record("absent", "report", [(0.8, 0.0)]),
               _record("unanswerable", "report", [])]
    fig = use_run.figures(records, use_run.choose_by_margin(records), threshold=0.5)
    assert fig["answerable_f1"] == 50.0 and fig["answerable_null"] == 50.0 and fig["answered_f1"] == 100.0
    assert fig["absent_abstained"] == 50.0 and fig["unanswerable_abstained"] == 100.0
    assert fig["score"] == 60.0  # right: the first answer, one absent abstention, the unanswerable one


def test_ceilings_bound_answerable_f1_by_what_was_read_and_the_candidates():
    miss = _record("answerable", "report", [(0.9, 0.0), (0.1, 0.5)])
    miss.hit = False
    records = [_record("answerable", "report", [(0.2, 1.0)]), miss, _record("answerable", "report", []),
               _record("absent", "report", [(0.9, 1.0)])]  # not answerable: not counted
    c = use_run.ceilings(records)
    assert np.isclose(c["answer_in_passages"], 200 / 3)
    assert np.isclose(c["never_null_f1"], 100 / 3) and np.isclose(c["best_candidate_f1"], 50.0)
    # No threshold beats the never-null figure on answerable questions.
    for t in (0.0, 0.15, 0.5, 1.0):
        assert use_run.figures(records, use_run.choose_by_margin(records), t)["answerable_f1"] <= c["never_null_f1"] + 1e-9


def test_the_threshold_rule_trades_missed_answers_against_wrong_ones():
    records = [_record("answerable", "fit", [(0.9, 1.0)]), _record("answerable", "fit", [(0.4, 1.0)]),
               _record("absent", "fit", [(0.3, 0.0)]), _record("absent", "fit", [(0.35, 0.0)])]
    t = use_run.pick_threshold(records, use_run.choose_by_margin(records))
    assert 0.35 < t <= 0.4  # answers the 0.4 one, abstains on both absent ones
    assert use_run.figures(records, use_run.choose_by_margin(records), t)["score"] == 100.0


def test_the_decision_scores_the_readers_answer_and_is_fitted_on_it():
    from rag.answer.decision import FEATURES, Decision

    w = [0.0] * len(FEATURES)
    w[FEATURES.index("sentence_cosine")] = 3.0
    d = Decision(list(FEATURES), [0.0] * len(FEATURES), [1.0] * len(FEATURES), w, 0.0, 0.5)
    rec = _record("answerable", "report", [(0.1, 1.0), (0.9, 0.0)])
    rec.candidates[0].features[FEATURES.index("sentence_cosine")] = 2.0
    choice = use_run.choose_by_decision([rec, _record("absent", "report", [])], d)
    assert choice.index.tolist() == [0, -1] and choice.probability[0] > 0.99
    assert np.isclose(use_run.figures([rec], use_run.choose_by_decision([rec], d), 0.5)["answerable_f1"], 100.0)
    # Fitted on each question's first candidate: the cosine separates right from wrong answers.
    records = []
    for i in range(40):
        r = _record("answerable" if i % 2 else "absent", "fit", [(0.5, float(i % 2)), (0.5, 1.0)])
        r.candidates[0].features[FEATURES.index("sentence_cosine")] = float(i % 2)
        records.append(r)
    fitted = use_run.fit(records)
    assert use_run.figures(records, use_run.choose_by_decision(records, fitted), fitted.threshold)["score"] == 100.0


def test_paragraphs_left_out_are_a_share_of_each_indexed_article_never_all_of_it():
    examples = [_example(f"q{a}{i}", "s", a, f"Para {a}{i}.", None) for a in "ABC" for i in range(10)]
    examples += [_example("lone", "s", "D", "Only para.", None)]
    assert use_run.absent_paragraphs(examples, skip_articles={"s/C"}) == set()  # the shipped run leaves none out
    gone = use_run.absent_paragraphs(examples, skip_articles={"s/C"}, share=0.2)
    assert {k for k, _ in gone} == {"s/A", "s/B"}  # C is left out whole; D has one paragraph
    assert all(sum(k == key for k, _ in gone) == 2 for key in ("s/A", "s/B"))  # 20% of 10
    assert gone == use_run.absent_paragraphs(examples, skip_articles={"s/C"}, share=0.2)  # fixed by the seed
    rows = use_run.corpus_rows(examples, {"s/C"}, gone)
    text = "\n".join(r["text"] for r in rows)
    assert all(p not in text for _, p in gone) and "Para A" in text and "Para C" not in text


def test_a_left_out_paragraphs_question_is_same_topic_absent_unless_its_answer_is_elsewhere_in_the_article():
    kept = _example("kept", "s", "A", "Rome was founded in 753 BC.", "753 BC")
    lost = _example("lost", "s", "A", "The Senate met in the Curia.", "the Curia")
    echoed = _example("echo", "s", "A", "It lasted until 753 BC too.", "753 BC")  # answer in `kept`'s text
    unans = _example("unans", "s", "A", "The Senate met in the Curia.", None)
    away = _example("away", "s", "B", "Paris is in France.", "France")
    gone = {("s/A", lost.context), ("s/A", echoed.context)}
    kinds = {e.qid: k for e, k in use_run.question_kinds([kept, lost, echoed, unans, away], {"s/B"}, gone)}
    assert kinds == {"kept": "answerable", "lost": "absent_paragraph", "unans": "unanswerable", "away": "absent"}
    records = [_record("absent_paragraph", "report", [(0.9, 0.0)]), _record("absent_paragraph", "report", [(0.1, 0.0)])]
    assert use_run.figures(records, use_run.choose_by_margin(records), 0.5)["absent_paragraph_abstained"] == 50.0
