"""A validation run that looks like use, where the answer decision is fitted and measured.

In use the reader reads retrieved passages, often of documents that do not hold the answer. So: the
validation split's articles become documents (paragraphs joined, chunked and indexed by the product's
own build), together with distractor articles nobody trains or validates on (fairytaleqa-test); a
fixed share of the validation articles is left out of the index, and their questions become "not in
these documents" questions. Every question goes through the product's retrieval; the reader reads the
passages it would read, and each candidate span is recorded with its features
(rag/answer/decision.py) and its F1 against the gold answers.

Questions are split by article into a *fit* half and a *report* half: the decision is fitted and its
threshold chosen on the fit half only; the report half's figures are the ones quoted. Nothing here
reads the project's own question sets (eval/*.jsonl).

With ``--absent-paragraphs SHARE`` some paragraphs of the indexed articles are left out as well, so the
run also holds same-topic questions whose answer is not in the documents (the seeds' kind of
unanswerable question)."""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..answer.calibration import choose_threshold_one_se, expected_calibration_error, reliability
from ..answer.decision import CANDIDATES, DECISION_FEATURES, Decision, candidate_features, fit_decision
from ..ingest.documents import write_corpus_jsonl
from ..matching import best_over_gold, exact_match, f1
from ..squad_format import QAExample, load_squad
from .data import load_split

# Validation articles left out of the index, per source (at least one each): their questions are
# "not in these documents".
ABSENT_SHARE = 0.25
# ``rag train-reader --fit-decision --absent-paragraphs SHARE``: of the indexed articles, this share of
# paragraphs (of articles with more than one) is left out too, and their questions become "same topic, not
# in these documents" questions (the documents are about the right thing; the answer is not there). A
# measurement: the shipped decision is fitted without them (0); the README has what it showed.
PARAGRAPH_ABSENT_SHARE = 0.0
# Articles nobody trains or validates on, indexed as distractors.
DISTRACTOR_FILES = ("fairytaleqa-test",)
SEED = 13
KINDS = ("answerable", "unanswerable", "absent", "absent_paragraph")


@dataclass
class Candidate:
    text: str
    margin: float
    platt: float  # the margin's calibrated probability (the decision before this one)
    f1: float
    em: float
    features: list[float]


@dataclass
class Record:
    """One question of the run, as the reader saw it."""

    qid: str
    source: str
    article: str
    # answerable | unanswerable (SQuAD 2.0, article indexed) | absent (article not indexed) |
    # absent_paragraph (article indexed, the paragraph holding the answer not)
    kind: str
    half: str  # fit | report
    golds: list[str]
    hit: bool  # a gold answer's text is in the passages read
    candidates: list[Candidate]


def article_key(e: QAExample) -> str:
    return f"{e.source}/{e.article}"


def half_of(key: str) -> str:
    return "fit" if hashlib.sha1(key.encode("utf-8")).digest()[0] % 2 == 0 else "report"


def absent_articles(examples: Sequence[QAExample], share: float = ABSENT_SHARE) -> set[str]:
    """A fixed ``share`` of each source's articles (at least one), left out of the index."""
    by_source: dict[str, list[str]] = {}
    for key in sorted({article_key(e) for e in examples}):
        by_source.setdefault(key.split("/", 1)[0], []).append(key)
    rng = random.Random(SEED)
    out: set[str] = set()
    for keys in by_source.values():
        out.update(rng.sample(keys, max(1, round(share * len(keys)))))
    return out


def absent_paragraphs(examples: Sequence[QAExample], skip_articles: set[str],
                      share: float = PARAGRAPH_ABSENT_SHARE) -> set[tuple[str, str]]:
    """(article, paragraph) pairs left out of the indexed articles: a fixed ``share`` of the paragraphs of
    each article that has more than one (at least one of them), never all; none when ``share`` is 0."""
    if share <= 0:
        return set()
    paragraphs: dict[str, list[str]] = {}
    for e in examples:
        key = article_key(e)
        if key not in skip_articles and e.context not in paragraphs.setdefault(key, []):
            paragraphs[key].append(e.context)
    rng = random.Random(SEED)
    out: set[tuple[str, str]] = set()
    for key in sorted(paragraphs):
        ps = paragraphs[key]
        if len(ps) > 1:
            out.update((key, p) for p in rng.sample(ps, min(len(ps) - 1, max(1, round(share * len(ps))))))
    return out


def corpus_rows(examples: Sequence[QAExample], skip: set[str],
                skip_paragraphs: set[tuple[str, str]] = frozenset()) -> list[dict[str, str]]:
    """One document per article not in ``skip``: its distinct paragraphs not in ``skip_paragraphs``, in
    order, joined by a blank line."""
    paragraphs: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for e in examples:
        key = article_key(e)
        if key in skip or (key, e.context) in skip_paragraphs:
            continue
        titles.setdefault(key, e.article.replace("_", " "))
        if e.context not in paragraphs.setdefault(key, []):
            paragraphs[key].append(e.context)
    return [{"_id": "a" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16], "title": titles[k],
             "text": "\n\n".join(ps)} for k, ps in paragraphs.items()]


def question_kinds(examples: Sequence[QAExample], absent: set[str],
                   gone: set[tuple[str, str]]) -> list[tuple[QAExample, str]]:
    """Each question with its kind (``KINDS``). A question whose paragraph was left out but whose answer's
    text is elsewhere in its indexed article is neither surely answerable nor surely absent: it is dropped."""
    indexed_text: dict[str, str] = {}
    for e in examples:
        key = article_key(e)
        if key not in absent and (key, e.context) not in gone:
            indexed_text[key] = indexed_text.get(key, "") + "\n" + e.context.lower()
    out: list[tuple[QAExample, str]] = []
    for e in examples:
        key = article_key(e)
        if key in absent:
            out.append((e, "absent"))
        elif not e.answers:
            out.append((e, "unanswerable"))
        elif (key, e.context) not in gone:
            out.append((e, "answerable"))
        elif not any(a.lower() in indexed_text.get(key, "") for a in e.answer_texts):
            out.append((e, "absent_paragraph"))
    return out


def collect(data_dir: Path, reader, settings, cache: Path, progress: bool = True,
            limit: int = 0, paragraph_share: float = PARAGRAPH_ABSENT_SHARE) -> list[Record]:
    """Index the run's documents (cached under ``cache``), then retrieve and read every question."""
    from ..assistant import Assistant
    from ..index.build import build_index

    _, validation = load_split(data_dir)
    if limit:
        validation = random.Random(SEED).sample(validation, min(limit, len(validation)))
    absent = absent_articles(validation)
    gone = absent_paragraphs(validation, absent, paragraph_share)
    distractors = [e for name in DISTRACTOR_FILES for e in load_squad(data_dir / f"{name}.json.gz")]
    rows = corpus_rows(validation, absent, gone) + corpus_rows(distractors, set())
    planned = question_kinds(validation, absent, gone)
    run_settings = settings.with_(index_dir=cache / "index", store="local")
    report = build_index([write_corpus_jsonl(rows, cache)], run_settings, progress=progress)
    print(report.summary(), file=sys.stderr)
    assistant = Assistant.load(settings=run_settings, answer=False)
    read = reader.passages if settings.answer_passages is None else settings.answer_passages
    records: list[Record] = []
    started = time.perf_counter()
    batch = 64
    for i in range(0, len(planned), batch):
        examples = [e for e, _ in planned[i:i + batch]]
        kinds = [k for _, k in planned[i:i + batch]]
        results = list(assistant.ask_many([e.question for e in examples], k=max(settings.k, read)))
        items = [(e.question, r.passages[:read]) for e, r in zip(examples, results)]
        for e, kind, (question, passages), found in zip(examples, kinds, items, reader.read(items)):
            key = article_key(e)
            golds = e.answer_texts if kind == "answerable" else []
            feats = candidate_features(question, passages, found)
            cands = [Candidate(f.text, f.margin, f.probability,
                               best_over_gold(f1, f.text, golds) if golds else 0.0,
                               best_over_gold(exact_match, f.text, golds) if golds else 0.0, row.tolist())
                     for f, row in zip(found[:CANDIDATES], feats)]
            hit = any(g.lower() in p.chunk.text.lower() for g in golds for p in passages)
            records.append(Record(e.qid, e.source, key, kind, half_of(key), golds, hit, cands))
        if progress:
            done = min(i + batch, len(planned))
            print(f"\rread {done}/{len(planned)} questions ({time.perf_counter() - started:.0f} s)",
                  end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return records


def save_records(records: list[Record], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(r) for r in records]) + "\n", encoding="utf-8")


def load_records(path: Path) -> list[Record]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [Record(**{**r, "candidates": [Candidate(**c) for c in r["candidates"]]}) for r in raw]


# -- choosing and scoring --------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """Per question: the chosen candidate (index, or -1 for none), its probability."""

    index: np.ndarray
    probability: np.ndarray


def choose_by_margin(records: Sequence[Record]) -> Choice:
    """The reader's own choice: the best margin, its calibrated probability."""
    return Choice(np.array([0 if r.candidates else -1 for r in records]),
                  np.array([r.candidates[0].platt if r.candidates else 0.0 for r in records]))


def choose_by_decision(records: Sequence[Record], decision: Decision) -> Choice:
    """The reader's choice (the best margin), with the decision's probability."""
    has = [r for r in records if r.candidates]
    probs = iter(decision.probabilities(np.array([r.candidates[0].features for r in has])) if has else [])
    return Choice(np.array([0 if r.candidates else -1 for r in records]),
                  np.array([float(next(probs)) if r.candidates else 0.0 for r in records]))


def _chosen(records: Sequence[Record], choice: Choice, attr: str) -> np.ndarray:
    return np.array([getattr(r.candidates[i], attr) if i >= 0 else 0.0 for r, i in zip(records, choice.index)])


def in_documents(records: Sequence[Record]) -> np.ndarray:
    """Whether the right output is an answer (the question is answerable and its article indexed)."""
    return np.array([r.kind == "answerable" for r in records])


def pick_threshold(records: Sequence[Record], choice: Choice) -> float:
    """The stated rule: the mean score over the questions, where an answer scores its F1 and "no
    answer" scores 1 on a question whose answer is not in the documents (SQuAD 2.0's best threshold,
    with absent articles counted as unanswerable); of the thresholds within one standard error of the
    best score, the lowest (rag/answer/calibration.py)."""
    return choose_threshold_one_se(choice.probability, _chosen(records, choice, "f1"), in_documents(records))


def figures(records: Sequence[Record], choice: Choice, threshold: float) -> dict[str, float]:
    """Percentages: per kind of question, and over all."""
    answered = (choice.probability >= threshold) & (choice.index >= 0)
    f = np.where(answered, _chosen(records, choice, "f1"), 0.0)
    em = np.where(answered, _chosen(records, choice, "em"), 0.0)
    kinds = np.array([r.kind for r in records])
    has = kinds == "answerable"
    score = np.where(answered, f, (~has).astype(float))

    def pct(x: np.ndarray) -> float:
        return float(100 * x.mean()) if len(x) else float("nan")

    return {
        "questions": len(records), "answerable": int(has.sum()),
        "unanswerable": int((kinds == "unanswerable").sum()), "absent": int((kinds == "absent").sum()),
        "absent_paragraph": int((kinds == "absent_paragraph").sum()),
        "answerable_em": pct(em[has]), "answerable_f1": pct(f[has]), "answerable_null": pct(~answered[has]),
        "answered_f1": pct(f[has & answered]),
        "unanswerable_abstained": pct(~answered[kinds == "unanswerable"]),
        "absent_abstained": pct(~answered[kinds == "absent"]),
        "absent_paragraph_abstained": pct(~answered[kinds == "absent_paragraph"]),
        "score": pct(score), "threshold": threshold,
    }


def ceilings(records: Sequence[Record]) -> dict[str, float]:
    """What bounds the answerable questions' F1, whatever the decision: how often a gold answer's text is
    in the passages read at all, the F1 of the reader's answer if it never abstained (a perfect decision
    reaches exactly this: abstaining never scores on an answerable question), and the F1 if the best of
    its candidates were always chosen. Percent."""
    has = [r for r in records if r.kind == "answerable"]
    if not has:
        return {"answer_in_passages": float("nan"), "never_null_f1": float("nan"), "best_candidate_f1": float("nan")}
    return {
        "answer_in_passages": 100 * float(np.mean([r.hit for r in has])),
        "never_null_f1": 100 * float(np.mean([r.candidates[0].f1 if r.candidates else 0.0 for r in has])),
        "best_candidate_f1": 100 * float(np.mean([max((c.f1 for c in r.candidates), default=0.0) for r in has])),
    }


def fit(records: Sequence[Record], features: Sequence[str] = DECISION_FEATURES, l2: float = 1.0) -> Decision:
    """The decision fitted on each question's answer (its best-margin candidate; label: F1 >= 0.5),
    threshold by the rule."""
    rows = np.array([r.candidates[0].features for r in records if r.candidates])
    right = np.array([r.candidates[0].f1 >= 0.5 for r in records if r.candidates], dtype=float)
    decision = fit_decision(rows, right, features, l2)
    decision.threshold = pick_threshold(records, choose_by_decision(records, decision))
    return decision


def cross_validated_score(records: Sequence[Record], features: Sequence[str], folds: int = 4,
                          l2: float = 1.0) -> float:
    """Mean score over article-grouped folds of ``records`` (the fit half): how a feature set or an L2
    is chosen without touching the report half."""
    groups = [hashlib.sha1(r.article.encode("utf-8")).digest()[1] % folds for r in records]
    total, count = 0.0, 0
    for k in range(folds):
        train = [r for r, g in zip(records, groups) if g != k]
        test = [r for r, g in zip(records, groups) if g == k]
        if not train or not test:
            continue
        d = fit(train, features, l2)
        total += figures(test, choose_by_decision(test, d), d.threshold)["score"] * len(test)
        count += len(test)
    return total / max(count, 1)


def calibration_of(records: Sequence[Record], choice: Choice) -> tuple[float, list[tuple[float, float, int]]]:
    """(ECE, reliability rows) of the chosen answers' probabilities against whether they are right."""
    right = _chosen(records, choice, "f1") >= 0.5
    has = choice.index >= 0
    return expected_calibration_error(choice.probability[has], right[has]), reliability(choice.probability[has], right[has])
