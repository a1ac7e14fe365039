"""How well the reader places answers when it may never abstain: each answerable question of the
validation split's report half, read with its gold paragraph, scored on its best span whatever the
threshold. The gap to the model card's HasAns figures is what the no-answer threshold costs; what is
left is the span-finding itself, which no threshold can fix.

    .venv/bin/python scripts/reader_never_null.py --reader models/reader
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def never_null(reader_dir: Path, data_dir: Path = Path("../shared/qa-data")) -> dict[str, dict[str, float]]:
    """Per source and over all: questions, HasAns EM and F1 (percent) of the best span, never null."""
    import numpy as np

    from rag.answer.reader import Reader
    from rag.matching import best_over_gold, exact_match, f1
    from rag.settings import Settings
    from rag.train.data import load_split
    from rag.train.validate import as_passages, halves

    _, validation = load_split(data_dir)
    _, report = halves(validation)  # the half the model card's figures come from
    answerable = [e for e in report if e.answers]
    reader = Reader(reader_dir, Settings.from_env().model)
    found = reader.read([(e.question, as_passages([e.context])) for e in answerable])
    texts = [f[0].text if f else "" for f in found]
    em = np.array([best_over_gold(exact_match, t, e.answer_texts) for e, t in zip(answerable, texts)]) * 100
    f = np.array([best_over_gold(f1, t, e.answer_texts) for e, t in zip(answerable, texts)]) * 100
    out = {}
    for source in sorted({e.source for e in answerable}):
        m = np.array([e.source == source for e in answerable])
        out[source] = {"questions": int(m.sum()), "em": float(em[m].mean()), "f1": float(f[m].mean())}
    out["all"] = {"questions": len(answerable), "em": float(em.mean()), "f1": float(f.mean())}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reader", type=Path, default=Path("models/reader"))
    p.add_argument("--data", type=Path, default=Path("../shared/qa-data"))
    args = p.parse_args()
    rows = never_null(args.reader, args.data)
    print(f"{args.reader}: {rows['all']['questions']} answerable questions of the report half, gold paragraph, "
          "never null")
    print(f"{'source':18s} {'questions':>9s} {'HasAns EM':>9s} {'HasAns F1':>9s}")
    for source, r in rows.items():
        print(f"{source:18s} {r['questions']:9d} {r['em']:9.1f} {r['f1']:9.1f}")


if __name__ == "__main__":
    main()
