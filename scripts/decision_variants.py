"""Answer decisions compared on the validation run that looks like use (rag/train/use_run.py), on its report
half: the shipped one, others fitted on the fit half, and each also at equal answerable-null rates, where
the threshold no longer decides and only the separation of right from wrong answers counts.

Variants fitted here (on the fit half; the choice among them by article-grouped cross-validation there):
- joint: the product's model, one logistic regression over both stages' features (rag/answer/decision.py);
- factored: P(the documents hold the answer | retrieval features) x P(the reader's span is right | reader
  features, on questions whose answer was in the passages read), each a logistic regression;
- gbm: gradient-boosted trees (scikit-learn, depth 3) over the same features as joint.

The candidates come from `rag train-reader --fit-decision [--absent-paragraphs SHARE]`, which caches them;
run that first (with --out pointing at a copy when the shipped reader.json must stay as it is).

    python scripts/decision_variants.py --decisions models/reader/reader.json
    python scripts/decision_variants.py --absent-paragraphs 0.2 --decisions models/reader/reader.json \\
        .cache/reader-v2/reader.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.decision import DECISION_FEATURES, FEATURES, Decision  # noqa: E402
from rag.train import use_run  # noqa: E402
from rag.train.decide import _records_path  # noqa: E402

READER_FEATURES = ("margin", "span_logit", "null_logit", "span_words", "agreement", "answer_in_question")
RETRIEVAL_FEATURES = tuple(f for f in DECISION_FEATURES if f not in READER_FEATURES)
NULL_RATES = (15, 25)


def _x(records, names) -> np.ndarray:
    cols = [FEATURES.index(n) for n in names]
    return np.array([np.asarray(r.candidates[0].features)[cols] for r in records])


def _right(records) -> np.ndarray:
    return np.array([r.candidates[0].f1 >= 0.5 for r in records], dtype=float)


def _logistic(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000))


class Joint:
    def __init__(self, l2: float = 10.0):
        self.l2 = l2

    def fit(self, records):
        self.decision = use_run.fit(records, DECISION_FEATURES, self.l2)
        return self

    def probabilities(self, records) -> np.ndarray:
        return self.decision.probabilities(np.array([r.candidates[0].features for r in records]))


class Factored:
    def __init__(self, c: float = 0.1):
        self.c = c

    def fit(self, records):
        in_docs = np.array([r.kind == "answerable" and r.hit for r in records], dtype=float)
        self.retrieval = _logistic(self.c).fit(_x(records, RETRIEVAL_FEATURES), in_docs)
        held = [r for r in records if r.kind == "answerable" and r.hit]
        self.reader = _logistic(self.c).fit(_x(held, READER_FEATURES), _right(held))
        return self

    def probabilities(self, records) -> np.ndarray:
        return (self.retrieval.predict_proba(_x(records, RETRIEVAL_FEATURES))[:, 1]
                * self.reader.predict_proba(_x(records, READER_FEATURES))[:, 1])


class Trees:
    def fit(self, records):
        from sklearn.ensemble import HistGradientBoostingClassifier

        self.model = HistGradientBoostingClassifier(max_depth=3, learning_rate=0.05, max_iter=150,
                                                    l2_regularization=1.0, min_samples_leaf=40, random_state=13)
        self.model.fit(_x(records, DECISION_FEATURES), _right(records))
        return self

    def probabilities(self, records) -> np.ndarray:
        return self.model.predict_proba(_x(records, DECISION_FEATURES))[:, 1]


VARIANTS = {"joint": Joint, "factored": Factored, "gbm": Trees}


def _choice(records, p: np.ndarray) -> use_run.Choice:
    return use_run.Choice(np.zeros(len(records), dtype=int), p)


def _threshold(records, p: np.ndarray) -> float:
    return use_run.pick_threshold(records, _choice(records, p))


def cross_validated(records, make, folds: int = 4) -> float:
    groups = [hashlib.sha1(r.article.encode("utf-8")).digest()[1] % folds for r in records]
    total = 0.0
    for k in range(folds):
        train = [r for r, g in zip(records, groups) if g != k]
        test = [r for r, g in zip(records, groups) if g == k]
        model = make().fit(train)
        t = _threshold(train, model.probabilities(train))
        total += use_run.figures(test, _choice(test, model.probabilities(test)), t)["score"] * len(test)
    return total / len(records)


def line(name: str, records, p: np.ndarray, threshold: float) -> str:
    f = use_run.figures(records, _choice(records, p), threshold)
    same = f["absent_paragraph_abstained"]
    out = (f"{name:30s} {f['answerable_f1']:5.1f} {f['answerable_null']:5.1f} {f['absent_abstained']:6.1f} "
           f"{'   -  ' if same != same else f'{same:6.1f}'} {f['unanswerable_abstained']:6.1f} {f['score']:5.1f}")
    has = np.array([r.kind == "answerable" for r in records])
    for rate in NULL_RATES:
        g = use_run.figures(records, _choice(records, p), float(np.quantile(p[has], rate / 100)))
        out += f" | {g['answerable_f1']:5.1f} {g['absent_abstained']:6.1f} {g['unanswerable_abstained']:6.1f}"
    return out


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reader", type=Path, default=Path("models/reader"), help="whose candidates (its weights)")
    p.add_argument("--cache", type=Path, default=Path(".cache/use-run"))
    p.add_argument("--passages", type=int, default=3)
    p.add_argument("--absent-paragraphs", type=float, default=0.0)
    p.add_argument("--decisions", type=Path, nargs="*", default=[], help="reader.json files whose decision to score")
    args = p.parse_args()
    path = _records_path(args.cache, args.reader, args.passages, 0, args.absent_paragraphs)
    if not path.is_file():
        sys.exit(f"no cached run at {path}: run `rag train-reader --fit-decision"
                 f"{f' --absent-paragraphs {args.absent_paragraphs}' if args.absent_paragraphs else ''}` first")
    records = [r for r in use_run.load_records(path) if r.candidates]
    fit = [r for r in records if r.half == "fit"]
    report = [r for r in records if r.half == "report"]
    kinds = {k: n for k in use_run.KINDS if (n := sum(r.kind == k for r in report))}
    print(f"{path.name}: report half {len(report)} questions {kinds}, fit half {len(fit)}\n")
    print("cross-validated score on the fit half (article-grouped, 4 folds):")
    for name, make in VARIANTS.items():
        print(f"  {name:10s} {cross_validated(fit, make):.2f}")
    print("\nreport half, percent; after |: at answerable null " + " and ".join(f"{r}%" for r in NULL_RATES)
          + " (F1, absent abstained, SQuAD2 unanswerable abstained)")
    print(f"{'decision':30s} {'ansF1':>5s} {'null':>5s} {'absent':>6s} {'same':>6s} {'unans':>6s} {'score':>5s}")
    margin = use_run.choose_by_margin(report)
    print(line("reader margin (Platt)", report, margin.probability,
               json.loads((args.reader / "reader.json").read_text())["threshold"]))
    for file in args.decisions:
        d = Decision.from_dict(json.loads(file.read_text())["decision"])
        print(line(f"{file.parent.name}/{file.name}", report, use_run.choose_by_decision(report, d).probability,
                   d.threshold))
    for name, make in VARIANTS.items():
        model = make().fit(fit)
        print(line(f"{name}, fitted here", report, model.probabilities(report),
                   _threshold(fit, model.probabilities(fit))))


if __name__ == "__main__":
    main()
