"""Eval sets that grow from use: passages and answers marked right or wrong (in the web page or through the
API) go to an append-only JSONL file (``RAG_JUDGMENTS``, default ``eval/judgments.jsonl``), and
`rag eval --set eval/judgments.jsonl` scores the index against them.

One line a mark: the question, what was marked (a passage or an answer), its document, character offsets
and text, the mark, the index version it was seen in, and the time. Reading the file:

- the last mark of a question on the same span wins (a user can correct a click);
- a mark keeps counting while its text is unchanged: at the same offsets, or moved (the same text found
  once elsewhere in the document, after an edit above it); when the judged text is gone or ambiguous, or
  the document is no longer indexed, the mark is left out and counted;
- passages marked right are the question's qrels (each marked span is one relevant unit; a retrieved
  passage that overlaps it finds it, and it counts once), so R@k is the share of right passages found
  in the top k; passages marked wrong are judged not relevant;
- answers marked right are the question's gold answers (EM/F1, SQuAD normalisation); answers marked wrong
  are checked too: how often the system gives a wrong-marked answer again."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..matching import best_over_gold, exact_match, f1, normalize_answer
from ..settings import RETRIEVERS, Settings

KINDS = ("passage", "answer")
MARKS = ("right", "wrong")
_WRITE = threading.Lock()


@dataclass(frozen=True)
class Judgment:
    question: str
    kind: str  # "passage" or "answer"
    mark: str  # "right" or "wrong"
    doc_id: str
    start: int
    end: int
    text: str  # the document's text[start:end] when it was marked
    index_version: str | None
    time: str  # UTC, ISO 8601

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.question, self.kind, self.doc_id, self.start, self.end)


def make_judgment(question: str, kind: str, mark: str, document: Any, start: int, end: int,
                  index_version: str | None) -> Judgment:
    """A mark on ``document.text[start:end]``, checked: the text is taken from the document, never from
    the client."""
    if kind not in KINDS:
        raise UserError(f"what is marked must be one of {', '.join(KINDS)}, not {str(kind)[:40]!r}")
    if mark not in MARKS:
        raise UserError(f"the mark must be one of {', '.join(MARKS)}, not {str(mark)[:40]!r}")
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{name} must be a whole number, not {str(value)[:40]!r}")
    if not 0 <= start < end <= len(document.text):
        raise UserError(f"the span {start}:{end} is outside the document {document.doc_id!r}, which has "
                        f"{len(document.text)} characters")
    return Judgment(question=question, kind=kind, mark=mark, doc_id=document.doc_id, start=start, end=end,
                    text=document.text[start:end], index_version=index_version,
                    time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def append(path: Path, judgment: Judgment) -> None:
    """One line, appended and flushed to disk; never rewrites what is there. One writer at a time in this
    process; O_APPEND keeps whole lines apart between processes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(asdict(judgment), ensure_ascii=False) + "\n").encode("utf-8")
    with _WRITE:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def load(path: Path) -> list[Judgment]:
    if not Path(path).is_file():
        raise UserError(f"no judgments file at {path}: mark passages or answers in the web page first")
    out: list[Judgment] = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            j = Judgment(question=str(row["question"]), kind=str(row["kind"]), mark=str(row["mark"]),
                         doc_id=str(row["doc_id"]), start=int(row["start"]), end=int(row["end"]),
                         text=str(row["text"]), index_version=row.get("index_version"), time=str(row.get("time", "")))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UserError(f"{path}:{lineno}: not a judgment ({type(exc).__name__}: {exc})") from None
        if j.kind not in KINDS or j.mark not in MARKS:
            raise UserError(f"{path}:{lineno}: kind must be passage or answer and mark right or wrong")
        out.append(j)
    return out


def is_judgments_file(path: Path) -> bool:
    """A judgments file rather than a question set: its first record has a ``mark`` and a ``kind``."""
    try:
        with Path(path).open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and "mark" in row and "kind" in row
    except (OSError, ValueError):
        return False
    return False


# -- from marks to a set -----------------------------------------------------------------------
@dataclass
class JudgedQuestion:
    question: str
    relevant: list[tuple[str, int, int]] = field(default_factory=list)  # passages marked right
    not_relevant: list[tuple[str, int, int]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # answers marked right
    wrong_answers: list[str] = field(default_factory=list)


@dataclass
class JudgedSet:
    questions: list[JudgedQuestion]
    marks: int  # lines read
    kept: int
    moved: int  # kept at new offsets: the document changed above the judged text
    dropped: int  # the judged text changed or the document is gone


def resolve(judgments: Sequence[Judgment], document_of: Any) -> JudgedSet:
    """The marks that still hold against the documents as indexed now, grouped by question."""
    latest: dict[tuple[str, str, str, int, int], Judgment] = {}
    for j in judgments:
        latest.pop(j.key, None)  # re-inserted at the end: the question order follows the latest marks
        latest[j.key] = j
    by_question: dict[str, JudgedQuestion] = {}
    kept = moved = dropped = 0
    for j in latest.values():
        doc = document_of(j.doc_id)
        if doc is None:
            dropped += 1
            continue
        start, end = j.start, j.end
        if doc.text[start:end] != j.text:
            at = doc.text.find(j.text)
            if at < 0 or doc.text.find(j.text, at + 1) >= 0:
                dropped += 1
                continue
            start, end = at, at + len(j.text)
            moved += 1
        kept += 1
        q = by_question.setdefault(j.question, JudgedQuestion(j.question))
        if j.kind == "passage":
            (q.relevant if j.mark == "right" else q.not_relevant).append((j.doc_id, start, end))
        else:
            (q.answers if j.mark == "right" else q.wrong_answers).append(j.text)
    return JudgedSet(list(by_question.values()), len(judgments), kept, moved, dropped)


def span_id(doc_id: str, start: int, end: int) -> str:
    return f"{doc_id}:{start}-{end}"


def judged_run(passages: Sequence[Any], relevant: Sequence[tuple[str, int, int]]) -> dict[str, float]:
    """A ranking for ranx: a passage that overlaps a right-marked span becomes that span (each span
    counts once, at its first passage); any other passage is its chunk id. Scores are 1/rank."""
    run: dict[str, float] = {}
    for p in passages:
        c = p.chunk
        item = c.chunk_id
        for doc_id, start, end in relevant:
            sid = span_id(doc_id, start, end)
            if doc_id == c.doc_id and c.start < end and start < c.end and sid not in run:
                item = sid
                break
        run.setdefault(item, 1.0 / p.rank)
    return run


# -- scoring -----------------------------------------------------------------------------------
def evaluate(assistant: Any, judged: JudgedSet, retrievers: Sequence[str], k: int,
             baseline: str | None = None) -> dict[str, Any]:
    """Ask each judged question with each retriever (``Assistant.ask``, the `rag ask` path) and score."""
    from .sets import metric_names
    from .significance import compare_scores, per_query_scores

    recalls, mrr, ndcg = metric_names(k)
    metrics = recalls + [mrr, ndcg]
    with_passages = [q for q in judged.questions if q.relevant]
    with_answers = [q for q in judged.questions if q.answers]
    with_wrong = [q for q in judged.questions if q.wrong_answers]
    qrels = {q.question: {span_id(*s): 1 for s in q.relevant} for q in with_passages}
    per_query: dict[str, dict[str, Any]] = {}
    queries: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    for name in retrievers:
        results = {q.question: assistant.ask(q.question, k=k, retriever=name) for q in judged.questions}
        row: dict[str, Any] = {}
        scores: dict[str, Any] = {}
        if qrels:
            run = {q.question: judged_run(results[q.question].passages, q.relevant) for q in with_passages}
            queries, scores = per_query_scores(qrels, run, metrics)
            row.update({m: float(scores[m].mean()) for m in metrics})
        else:
            row.update({m: None for m in metrics})

        def said(q: JudgedQuestion) -> str | None:
            a = results[q.question].answer
            return a.text if a else None

        answering = getattr(assistant, "answerer", None) is not None  # else the answer columns are n/a
        em = [best_over_gold(exact_match, said(q), q.answers) for q in with_answers if answering]
        f = [best_over_gold(f1, said(q), q.answers) for q in with_answers if answering]
        row["exact_match"] = sum(em) / len(em) if em else None
        row["f1"] = sum(f) / len(f) if f else None
        again = [normalize_answer(said(q) or "") in {normalize_answer(w) for w in q.wrong_answers} for q in with_wrong
                 if answering]
        row["wrong_again"] = sum(again) / len(again) if again else None
        rows[name] = row
        per_query[name] = scores
    comparison = None
    if qrels and len(rows) > 1:
        comparison = compare_scores(per_query, queries, metrics, baseline or list(rows)[0])
    return {"questions": len(judged.questions), "passage_questions": len(with_passages),
            "answer_questions": len(with_answers), "wrong_answer_questions": len(with_wrong),
            "marks": judged.marks, "kept": judged.kept, "moved": judged.moved, "dropped": judged.dropped,
            "k": k, "retrievers": rows, "significance": comparison.to_dict() if comparison else None,
            "_comparison": comparison, "_metrics": metrics}


def format_table(figures: dict[str, Any]) -> str:
    from ..tables import cell, text_table

    metrics = figures["_metrics"]
    comparison = figures["_comparison"]
    labels = [m.replace("recall", "R").replace("mrr", "MRR").replace("ndcg", "nDCG") for m in metrics]
    header = ["retriever"] + labels + ["EM", "F1", "wrong again"]
    rows = []
    for name, row in figures["retrievers"].items():
        rows.append([name] + [cell(row[m]) + (comparison.mark(name, m) if comparison else "") for m in metrics]
                    + [cell(row["exact_match"]), cell(row["f1"]), cell(row["wrong_again"])])
    return text_table(header, rows)


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """`rag eval --set judgments.jsonl` (rag.evaluate.command sends a judgments file here)."""
    from .sets import load_assistant, public_figures

    judgments = load(args.eval_set)
    assistant, _ = load_assistant(settings)  # without a reader, the answer columns are n/a
    judged = resolve(judgments, assistant.document)
    if not judged.questions:
        raise UserError(f"none of the {judged.marks} marks in {args.eval_set} holds against the index now "
                        "(their documents changed or are gone)")
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    started = time.perf_counter()
    figures = evaluate(assistant, judged, retrievers, args.k, getattr(args, "baseline", None))
    figures["seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(public_figures(figures), ensure_ascii=False))
        return 0
    print(format_table(figures))
    comparison = figures["_comparison"]
    if comparison is not None:
        print(f"\n{comparison.legend()}\n{comparison.sample_note(figures['_metrics'][-1])}")
    print(f"\n{figures['marks']} marks in {args.eval_set}: {figures['kept']} hold ({figures['moved']} moved with "
          f"their text), {figures['dropped']} dropped (judged text changed or document gone); "
          f"{figures['passage_questions']} questions with right passages, {figures['answer_questions']} with right "
          f"answers, {figures['wrong_answer_questions']} with wrong ones; k={args.k}; {figures['seconds']:.1f}s",
          file=sys.stdout)
    return 0
