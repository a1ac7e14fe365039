"""Score TREC run files with trec_eval itself (its Python bindings), to check `rag eval --runs` against it.

    pip install pytrec-eval-terrier   # not a project dependency: a one-off check, best in a scratch venv
    python scripts/check_with_trec_eval.py QRELS RUN...

Prints nDCG@10 (ndcg_cut_10), Recall@100 (recall_100) and the reciprocal rank (recip_rank: trec_eval's
has no cut-off, so it is MRR over the whole ranking, not MRR@10) averaged over every judged query, a query
without a ranking counting 0 (trec_eval -c), as `rag eval --runs` and ranx do. QRELS: TREC (4 columns) or
BEIR (3 columns after a header)."""

from __future__ import annotations

import sys

try:
    import pytrec_eval
except ImportError:
    sys.exit("needs trec_eval's bindings: pip install pytrec-eval-terrier")

MEASURES = ("ndcg_cut_10", "recall_100", "recip_rank")


def read_qrels(path: str) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            p = line.split()
            if not p or (i == 0 and len(p) == 3 and not p[2].lstrip("-").isdigit()):
                continue  # BEIR's header
            qid, doc, rel = (p[0], p[1], p[2]) if len(p) == 3 else (p[0], p[2], p[3])
            if int(rel) > 0:
                qrels.setdefault(qid, {})[doc] = int(rel)
    return qrels


def read_run(path: str) -> dict[str, dict[str, float]]:
    run: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                qid, _, doc, _, score, _ = line.split()
                run.setdefault(qid, {})[doc] = float(score)
    return run


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.exit(__doc__)
    qrels = read_qrels(argv[0])
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "recip_rank"})
    for path in argv[1:]:
        scores = evaluator.evaluate(read_run(path))
        means = {m: sum(scores.get(q, {}).get(m, 0.0) for q in qrels) / len(qrels) for m in MEASURES}
        print(path, "  ".join(f"{m} {v:.4f}" for m, v in means.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
