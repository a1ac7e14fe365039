"""`rag eval`: run the hand-written question set through the same path as `rag ask` and measure
retrieval (ranx), answers (our SQuAD-style metrics), abstention and latency, per retriever.

Relevance: a passage is relevant to a question when it comes from the question's ``doc_id`` and
contains the evidence or overlaps the evidence's character span in the document. The gold unit
of a question is its evidence: however many overlapping chunks hold it, the first relevant passage
in a ranking is the hit and later ones are ignored (as BEIR counts a document once). So
Recall@k is the share of answerable questions with a relevant passage in the top k, MRR@10 is the
mean of 1/rank of the first one, nDCG@10 its 1/log2(rank+1)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..matching import best_over_gold, exact_match, f1
from ..records import Passage, Result
from ..settings import RETRIEVERS, Settings
from ..tables import cell, markdown_table, text_table

RECALL_CUTOFFS = (1, 5, 10)
DEFAULT_REPORT = Path("eval/report.md")
CHART_NAME = "recall_at_k.png"
RELIABILITY_CHART = "reliability.png"


# -- the question set --------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    doc_id: str | None
    evidence: str | None
    type: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.answers) and self.doc_id is not None


def load_eval_set(path: Path) -> list[EvalQuestion]:
    if not Path(path).is_file():
        raise UserError(f"eval set not found: {path} (one JSON object a line: id, question, answers, doc_id, evidence)")
    out: list[EvalQuestion] = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(EvalQuestion(id=str(row["id"]), question=str(row["question"]),
                                    answers=tuple(str(a) for a in row.get("answers") or []),
                                    doc_id=row.get("doc_id"), evidence=row.get("evidence"),
                                    type=str(row.get("type") or "")))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"{path}:{lineno}: not an eval question ({type(exc).__name__}: {exc})") from None
    if not out:
        raise UserError(f"eval set {path} has no questions")
    return out


# -- relevance ---------------------------------------------------------------------------------
def evidence_spans(text: str, evidence: str | None) -> list[tuple[int, int]]:
    """Every occurrence of the evidence in the document, as (start, end) character offsets."""
    if not evidence:
        return []
    spans, at = [], text.find(evidence)
    while at >= 0:
        spans.append((at, at + len(evidence)))
        at = text.find(evidence, at + 1)
    return spans


def is_relevant(passage: Passage, question: EvalQuestion, spans: Sequence[tuple[int, int]]) -> bool:
    if not question.answerable or passage.chunk.doc_id != question.doc_id:
        return False
    if question.evidence and question.evidence in passage.chunk.text:
        return True
    return any(passage.chunk.start < end and start < passage.chunk.end for start, end in spans)


def gold_unit(question: EvalQuestion) -> str:
    return f"evidence:{question.id}"


def ranking_run(passages: Sequence[Passage], relevant: Callable[[Passage], bool], gold: str) -> dict[str, float]:
    """A ranked list as ranx wants it: item -> score, where the score is 1/rank so that ranx keeps
    our order exactly (retriever scores can tie). The first relevant passage becomes the gold unit;
    later relevant passages are dropped so a question counts once."""
    run: dict[str, float] = {}
    for p in passages:
        item = gold if relevant(p) else p.chunk.chunk_id
        if item not in run:
            run[item] = 1.0 / p.rank
    return run


# -- ranking metrics via ranx -----------------------------------------------------------------
def ranx_evaluate(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]],
                  metrics: Sequence[str]) -> dict[str, float]:
    """Mean of each ranx metric over the qrels' queries. A query with nothing retrieved scores 0."""
    if not qrels:
        return {m: float("nan") for m in metrics}
    with warnings.catch_warnings():
        # numba warns about an int cast inside ranx's own kernels; nothing we can act on.
        warnings.simplefilter("ignore")
        from ..extras import require

        ranx = require("ranx", "eval", "rag eval")
        Qrels, Run, evaluate = ranx.Qrels, ranx.Run, ranx.evaluate

        # ranx rejects empty rankings; a placeholder item that is never relevant scores the same.
        full_run = {q: (run.get(q) or {"__nothing_retrieved__": 0.0}) for q in qrels}
        scores = evaluate(Qrels(qrels), Run(full_run), list(metrics), make_comparable=True)
    if not isinstance(scores, dict):
        scores = {metrics[0]: scores}
    return {m: float(scores[m]) for m in metrics}


# -- answer metrics ----------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def sentence_correct(result: Result, question: EvalQuestion, spans: Sequence[tuple[int, int]]) -> bool:
    """The answer's sentence is in the right document and overlaps the evidence."""
    a = result.answer
    if a is None or not question.answerable or a.doc_id != question.doc_id:
        return False
    return any(a.sentence_start < end and start < a.sentence_end for start, end in spans)


def answer_metrics(questions: Sequence[EvalQuestion], results: Sequence[Result],
                   spans: dict[str, list[tuple[int, int]]]) -> dict[str, float]:
    """EM, F1 and sentence accuracy over the answerable questions (a null answer scores 0);
    abstention precision and recall over null answers vs the unanswerable questions."""
    em, f, sent = [], [], []
    abstained = abstained_right = unanswerable = 0
    for q, r in zip(questions, results):
        prediction = r.answer.text if r.answer else None
        if q.answerable:
            em.append(best_over_gold(exact_match, prediction, q.answers))
            f.append(best_over_gold(f1, prediction, q.answers))
            sent.append(float(sentence_correct(r, q, spans.get(q.id, []))))
        else:
            unanswerable += 1
        if r.answer is None:
            abstained += 1
            abstained_right += not q.answerable
    mean = (lambda xs: sum(xs) / len(xs) if xs else float("nan"))
    return {
        "exact_match": mean(em), "f1": mean(f), "sentence_accuracy": mean(sent),
        "abstention_precision": abstained_right / abstained if abstained else float("nan"),
        "abstention_recall": abstained_right / unanswerable if unanswerable else float("nan"),
        "abstentions": abstained,
    }


# -- one retriever over the set ----------------------------------------------------------------
def metric_names(k: int) -> tuple[list[str], str, str]:
    recalls = [f"recall@{c}" for c in RECALL_CUTOFFS if c <= k]
    if k not in RECALL_CUTOFFS and k < max(RECALL_CUTOFFS):
        recalls.append(f"recall@{k}")
    depth = min(10, k)
    return recalls, f"mrr@{depth}", f"ndcg@{depth}"


def evaluate_retriever(assistant: Any, questions: Sequence[EvalQuestion], retriever: str, k: int,
                       answers: bool, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Ask every question one by one with ``Assistant.ask`` (the `rag ask` path; one at a time so
    each latency is one question's), then score. The first question is asked once before, untimed,
    so lazy set-up is not charged to it."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for q in questions:
        if q.answerable:
            doc = assistant.document(q.doc_id)
            if doc is None:
                raise UserError(f"eval question {q.id} cites document {q.doc_id!r}, which is not in the index "
                                f"at {assistant.settings.index_dir}: index the documents the set was written for")
            spans[q.id] = evidence_spans(doc.text, q.evidence)
    assistant.ask(questions[0].question, k=k, retriever=retriever)
    results: list[Result] = []
    for q in questions:
        results.append(assistant.ask(q.question, k=k, retriever=retriever))
    qrels, run = {}, {}
    for q, r in zip(questions, results):
        if not q.answerable:
            continue
        gold = gold_unit(q)
        qrels[q.id] = {gold: 1}
        run[q.id] = ranking_run(r.passages, lambda p, q=q: is_relevant(p, q, spans[q.id]), gold)
    recalls, mrr, ndcg = metric_names(k)
    curve = [f"recall@{c}" for c in range(1, k + 1)]
    t = time.perf_counter()
    ranked = ranx_evaluate(qrels, run, sorted(set(recalls + [mrr, ndcg] + curve)))
    ranx_seconds = time.perf_counter() - t
    latencies = [r.timings.get("total", float("nan")) for r in results]
    figures: dict[str, Any] = {m: ranked[m] for m in recalls + [mrr, ndcg]}
    figures["recall_curve"] = [ranked[m] for m in curve]
    if answers:
        figures.update(answer_metrics(questions, results, spans))
    else:
        figures.update({m: None for m in ("exact_match", "f1", "sentence_accuracy", "abstention_precision",
                                          "abstention_recall", "abstentions")})
    figures["latency_p50_ms"] = 1000 * percentile(latencies, 50)
    figures["latency_p95_ms"] = 1000 * percentile(latencies, 95)
    figures["ranx_seconds"] = ranx_seconds
    figures["misses"] = [q.id for q in questions if q.answerable and gold_unit(q) not in run[q.id]]
    # Per question, for the significance tests and the TREC runs (keys with "_" stay out of the JSON).
    figures["_qrels"], figures["_run"] = qrels, run
    figures["_passages"] = {q.id: r.passages for q, r in zip(questions, results)}
    if answers:
        figures["_answers"] = {q.id: (best_over_gold(exact_match, r.answer.text if r.answer else None, q.answers),
                                      best_over_gold(f1, r.answer.text if r.answer else None, q.answers))
                               for q, r in zip(questions, results) if q.answerable}
    figures["wrong_answers"] = [
        {"id": q.id, "gold": list(q.answers), "predicted": r.answer.text if r.answer else None}
        for q, r in zip(questions, results)
        if answers and best_over_gold(exact_match, r.answer.text if r.answer else None, q.answers) < 1.0
    ]
    return figures


def load_assistant(settings: Settings) -> tuple[Any, bool]:
    """The assistant with its answerer, or without one when the reader cannot be loaded (then the answer
    metrics are reported as not available rather than as all-null answers, and a note says why)."""
    from ..answer.reader import ReaderUnavailable
    from ..assistant import Assistant

    try:
        return Assistant.load(settings=settings, answer=True), True
    except ReaderUnavailable as exc:
        print(f"note: {exc}; answer metrics are n/a", file=sys.stderr)
        return Assistant.load(settings=settings, answer=False), False


def compare_retrievers(rows: dict[str, dict[str, Any]], k: int, baseline: str | None = None) -> Any:
    """Each retriever against the baseline (default the first), per answerable question: the ranking
    metrics (ranx) and, when answers were read, EM and F1 (rag.evaluate.significance)."""
    import numpy as np

    from .significance import compare_scores, per_query_scores

    recalls, mrr, ndcg = metric_names(k)
    metrics = recalls + [mrr, ndcg]
    names = list(rows)
    baseline = baseline or names[0]
    if baseline not in rows:
        raise UserError(f"--baseline {baseline!r} is not one of the retrievers evaluated: {', '.join(names)}")
    per_query: dict[str, dict[str, Any]] = {}
    queries: list[str] = []
    for name, row in rows.items():
        queries, per_query[name] = per_query_scores(row["_qrels"], row["_run"], metrics)
        if "_answers" in row:
            per_query[name]["exact_match"] = np.array([row["_answers"][q][0] for q in queries])
            per_query[name]["f1"] = np.array([row["_answers"][q][1] for q in queries])
    answer_metrics_ = ["exact_match", "f1"] if all("_answers" in r for r in rows.values()) else []
    return compare_scores(per_query, queries, metrics + answer_metrics_, baseline)


def run_eval(assistant: Any, questions: Sequence[EvalQuestion], retrievers: Iterable[str], k: int,
             answers: bool, baseline: str | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    rows = {name: evaluate_retriever(assistant, questions, name, k, answers) for name in retrievers}
    comparison = compare_retrievers(rows, k, baseline) if len(rows) > 1 else None
    info = assistant.store.info
    return {
        "_comparison": comparison,
        "significance": comparison.to_dict() if comparison else None,
        "questions": len(questions),
        "answerable": sum(q.answerable for q in questions),
        "unanswerable": sum(not q.answerable for q in questions),
        "k": k,
        "answerer": answers,
        "index": info.location,
        "documents": info.documents,
        "chunks": info.chunks,
        "model": info.model,
        "reader": _reader_card(assistant.answerer),
        "seconds": time.perf_counter() - started,
        # Latencies mean little without the machine's load: say how busy it was.
        "load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count(),
        "retrievers": rows,
    }


def write_set_runs(out_dir: Path, name: str, questions: Sequence[EvalQuestion], figures: dict[str, Any]) -> list[Path]:
    """TREC runs of each retriever (OUT/<set>/doc|passage/<retriever>.trec) and the set's document-level
    qrels (OUT/<set>/qrels.doc.txt: each answerable question's document), so `rag eval --runs` can score them."""
    from .rankings import doc_ranking, passage_ranking
    from .trec import write_run

    root = Path(out_dir) / name
    written = []
    for retriever, row in figures["retrievers"].items():
        for level, rank in (("doc", doc_ranking), ("passage", passage_ranking)):
            path = root / level / f"{retriever}.trec"
            write_run(path, {q: rank(ps) for q, ps in row["_passages"].items()}, f"rag-{retriever}")
            written.append(path)
    qrels = root / "qrels.doc.txt"
    qrels.write_text("".join(f"{q.id} 0 {q.doc_id} 1\n" for q in questions if q.answerable), encoding="utf-8")
    return written + [qrels]


def _reader_card(reader: Any) -> dict[str, Any] | None:
    """The reader's threshold and its calibration (from reader.json): the answer decision's, measured
    on the report half of its validation run, or else the margin calibration's on the validation split."""
    config = getattr(reader, "config", None)
    if config is None:
        return None
    decision = getattr(reader, "decision", None)
    if decision is not None:
        fitted = decision.fitted
        return {"threshold": reader.threshold, "validation_threshold": decision.threshold, "kind": "decision",
                "reliability": fitted.get("reliability", []), "ece": fitted.get("ece"),
                "fit_questions": fitted.get("fit_questions"), "report_questions": fitted.get("report_questions")}
    validation = config.training.get("validation", {})
    return {"threshold": reader.threshold, "validation_threshold": config.threshold, "kind": "margin",
            "calibration": config.calibration, "reliability": validation.get("reliability", []),
            "ece": validation.get("ece"), "fit_questions": validation.get("fit_questions")}


# -- output ------------------------------------------------------------------------------------
def table_columns(k: int) -> list[tuple[str, str, int]]:
    recalls, mrr, ndcg = metric_names(k)
    cols = [(m.replace("recall", "R"), m, 3) for m in recalls]
    cols += [(mrr.upper().replace("MRR", "MRR"), mrr, 3), (ndcg.replace("ndcg", "nDCG"), ndcg, 3),
             ("EM", "exact_match", 3), ("F1", "f1", 3), ("Sent", "sentence_accuracy", 3),
             ("AbstP", "abstention_precision", 3), ("AbstR", "abstention_recall", 3),
             ("p50 ms", "latency_p50_ms", 1), ("p95 ms", "latency_p95_ms", 1)]
    return cols


def format_table(figures: dict[str, Any], markdown: bool = False) -> str:
    cols = table_columns(figures["k"])
    header = ["retriever"] + [c[0] for c in cols]
    comparison = figures.get("_comparison")
    lines = [[name] + [cell(row[key], d) + (comparison.mark(name, key) if comparison else "") for _, key, d in cols]
             for name, row in figures["retrievers"].items()]
    return markdown_table(header, lines) if markdown else text_table(header, lines)


def write_chart(figures: dict[str, Any], path: Path) -> None:
    from ..extras import require

    matplotlib = require("matplotlib", "eval", "the eval report's chart")
    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    for name, row in figures["retrievers"].items():
        curve = row["recall_curve"]
        ax.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
    ax.set_xlabel("k (passages)")
    ax.set_ylabel("Recall@k")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Recall@k on {figures['answerable']} answerable questions")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def write_reliability_chart(card: dict[str, Any], path: Path) -> None:
    from ..extras import require

    matplotlib = require("matplotlib", "eval", "the eval report's chart")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = card["reliability"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=110)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", label="reader")
    for p, a, n in rows:
        ax.annotate(str(n), (p, a), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.axvline(card["validation_threshold"], color="tab:red", lw=1, label="threshold")
    ax.set_xlabel("predicted probability that the answer is right")
    ax.set_ylabel("share of answers that were right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Answer calibration (validation run)" if card.get("kind") == "decision"
                 else "Reader calibration (validation split)")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _calibration_lines(card: dict[str, Any] | None, chart: Path | None) -> list[str]:
    if not card or not card["reliability"]:
        return []
    ece = card.get("ece")
    if card.get("kind") == "decision":
        how = (f"The answer's `score` is the probability that it is right, from the answer decision (a logistic "
               f"model over the reader's and the retrieval's features) fitted on a validation run that looks like "
               f"use ({card.get('fit_questions')} questions over retrieved passages, with distractor articles and "
               f"articles left out of the index: `rag train-reader --fit-decision`); below {card['threshold']:.3f} "
               f"the assistant answers null. The reliability curve is measured on the other half of that run "
               f"({card.get('report_questions')} questions)")
    else:
        how = (f"The answer's `score` is the probability that it is right, Platt-scaled on the reader's validation "
               f"split ({card.get('fit_questions')} questions, each read with its gold paragraph and four BM25 "
               f"distractors); below {card['threshold']:.3f} the assistant answers null. The reliability curve "
               f"is measured on the other half of that split")
    lines = ["## Reader calibration", "", how + (f" (expected calibration error {ece:.3f})." if ece is not None
                                               else "."), ""]
    if chart is not None:
        lines += [f"![Reliability curve]({RELIABILITY_CHART})", ""]
    lines.append(markdown_table(["predicted (mean)", "right (share)", "answers"],
                                [[f"{p:.2f}", f"{a:.2f}", str(n)] for p, a, n in card["reliability"]]))
    return lines + [""]


def render_report(figures: dict[str, Any], set_path: Path, chart: Path | None) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"Generated by `rag eval --set {set_path} -k {figures['k']}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}: {figures['questions']} questions "
        f"({figures['answerable']} answerable, {figures['unanswerable']} unanswerable) over "
        f"{figures['documents']} documents, {figures['chunks']} chunks (index `{figures['index']}`); "
        f"{figures['cpus']} CPUs, load average {figures['load_average_1min']:.1f} at the end of the run.",
        "",
        format_table(figures, markdown=True),
        "",
    ]
    if chart is not None:
        lines += [f"![Recall@k by retriever]({chart.name})", ""]
    if figures.get("_comparison") is not None:
        from .significance import report_lines

        lines += report_lines(figures["_comparison"], metric_names(figures["k"])[2])
    if not figures["answerer"]:
        lines += ["The answerer could not be loaded, so the answer columns are n/a.", ""]
    lines += _calibration_lines(figures.get("reader"), chart)
    lines += [
        "## What the columns mean",
        "",
        "- **R@k, MRR, nDCG** (computed with ranx, answerable questions only): a passage is relevant when it "
        "comes from the question's document and contains the evidence or overlaps its character span; a "
        "question's first relevant passage counts, later ones are ignored, so R@k is the share of questions "
        "with a relevant passage in the top k.",
        "- **EM, F1**: SQuAD normalisation (lower case, no punctuation, no articles), best over the gold "
        "answers, answerable questions only; no answer scores 0.",
        "- **Sent**: the answer's sentence is in the right document and overlaps the evidence.",
        "- **AbstP / AbstR**: a null answer is an abstention. Precision = abstentions on unanswerable questions "
        "/ all abstentions; recall = unanswerable questions with a null answer / all unanswerable.",
        "- **p50 / p95 ms**: `Result.timings['total']` of `Assistant.ask`, one question at a time "
        "(retrieval + answer; the model is loaded once before).",
        "",
        "## Retrieval misses (no relevant passage in the top k)",
        "",
    ]
    for name, row in figures["retrievers"].items():
        lines.append(f"- {name}: {', '.join(row['misses']) or 'none'}")
    if figures["answerer"]:
        lines += ["", "## Answers that are not an exact match", ""]
        for name, row in figures["retrievers"].items():
            lines.append(f"### {name} ({len(row['wrong_answers'])})")
            lines.append("")
            for w in row["wrong_answers"]:
                gold = " | ".join(w["gold"]) or "(no answer)"
                lines.append(f"- {w['id']}: gold `{gold}`, predicted `{w['predicted']}`")
            lines.append("")
    return "\n".join(lines) + "\n"


def public_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """The JSON form: NaN becomes null so the output is strict JSON."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if not str(k).startswith("_")}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    return clean(figures)


# -- command line ------------------------------------------------------------------------------
def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """`rag eval --set FILE` (rag.evaluate.command chooses between this, --beir and --squad)."""
    questions = load_eval_set(args.eval_set)
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    assistant, answers = load_assistant(settings)
    figures = run_eval(assistant, questions, retrievers, args.k, answers, getattr(args, "baseline", None))
    if getattr(args, "run_out", None):
        figures["run_files"] = [str(p) for p in write_set_runs(args.run_out, Path(args.eval_set).stem, questions,
                                                               figures)]
    if not args.no_report:
        report = args.report or DEFAULT_REPORT
        chart = report.with_name(CHART_NAME)
        write_chart(figures, chart)
        if figures.get("reader") and figures["reader"]["reliability"]:
            write_reliability_chart(figures["reader"], report.with_name(RELIABILITY_CHART))
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render_report(figures, args.eval_set, chart), encoding="utf-8")
        figures["report"], figures["chart"] = str(report), str(chart)
    if args.json:
        print(json.dumps(public_figures(figures), ensure_ascii=False))
    else:
        print(format_table(figures))
        if figures["_comparison"] is not None:
            print(f"\n{figures['_comparison'].legend()}\n{figures['_comparison'].sample_note(metric_names(args.k)[2])}")
        print(f"\n{figures['questions']} questions ({figures['answerable']} answerable), k={figures['k']}, "
              f"{figures['chunks']} chunks; {figures['seconds']:.1f}s")
        if "report" in figures:
            print(f"report: {figures['report']}  chart: {figures['chart']}")
    return 0
