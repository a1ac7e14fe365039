"""Does an index built in bf16 retrieve like one built in fp32? The seeds indexed twice (one loaded
model, fp32 and bf16), every project question set scored on both with `rag eval`'s own scoring
(``rag.evaluate.sets.evaluate_retriever``: questions asked one by one, fp32 question vectors, as `rag
ask` does), and the dense rankings compared question by question.

    python scripts/precision_agreement.py [--sets eval/*.jsonl] [--retrievers dense,hybrid]

Prints per set and retriever nDCG@10 and Recall@5 on each index and the difference, then for dense
the share of questions whose first passage is the same and the mean overlap of the top 10."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant  # noqa: E402
from rag.evaluate.sets import evaluate_retriever, load_eval_set  # noqa: E402
from rag.index.build import build_index  # noqa: E402
from rag.index.embedding import Embedder  # noqa: E402
from rag.index.store import open_store  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", type=Path, nargs="*", default=sorted((ROOT / "eval").glob("*.jsonl")))
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--retrievers", default="dense,hybrid")
    args = parser.parse_args()
    settings = Settings.from_env()
    fp32 = Embedder.loaded(settings.model, settings.batch_size, "fp32")
    embedders = {"fp32": fp32, "bf16": fp32.in_precision("bf16")}
    with tempfile.TemporaryDirectory(prefix="precision-") as tmp:
        assistants = {}
        for name, embedder in embedders.items():
            s = settings.with_(index_dir=Path(tmp) / name, store="local")
            report = build_index([args.seeds], s, embedder=embedder, progress=False, warn=lambda m: None)
            print(report.summary())
            # Questions are embedded by the fp32 embedder on both: one at a time, as `rag ask` does.
            assistants[name] = Assistant(open_store(s.index_dir), fp32, s, None)
        print(f"\n{'set':<16}{'retriever':<10}{'nDCG@10 fp32':>13}{'bf16':>8}{'diff':>9}"
              f"{'R@5 fp32':>10}{'bf16':>8}{'diff':>9}{'top-1 same':>12}{'top-10 overlap':>16}")
        worst = 0.0
        for path in args.sets:
            questions = load_eval_set(path)
            for retriever in args.retrievers.split(","):
                rows = {n: evaluate_retriever(a, questions, retriever, 10, False) for n, a in assistants.items()}
                nd = {n: r["ndcg@10"] for n, r in rows.items()}
                r5 = {n: r["recall@5"] for n, r in rows.items()}
                worst = max(worst, abs(nd["bf16"] - nd["fp32"]))
                same, overlap = [], []
                for qid, passages in rows["fp32"]["_passages"].items():
                    a = [p.chunk.chunk_id for p in passages]
                    b = [p.chunk.chunk_id for p in rows["bf16"]["_passages"][qid]]
                    same.append(bool(a) and bool(b) and a[0] == b[0])
                    overlap.append(len(set(a) & set(b)) / max(len(a), 1))
                print(f"{path.stem:<16}{retriever:<10}{nd['fp32']:13.4f}{nd['bf16']:8.4f}{nd['bf16'] - nd['fp32']:+9.4f}"
                      f"{r5['fp32']:10.4f}{r5['bf16']:8.4f}{r5['bf16'] - r5['fp32']:+9.4f}"
                      f"{np.mean(same):12.3f}{np.mean(overlap):16.3f}", flush=True)
        print(f"\nlargest nDCG@10 difference: {worst:.4f}")


if __name__ == "__main__":
    main()
