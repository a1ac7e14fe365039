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


def main() -> None:
    import numpy as np

    from rag.answer.reader import Reader
    from rag.matching import best_over_gold, exact_match, f1
    from rag.settings import Settings
    from rag.train.data import load_split
    from rag.train.validate import as_passages, halves

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reader", type=Path, default=Path("models/reader"))
    p.add_argument("--data", type=Path, default=Path("../shared/qa-data"))
    args = p.parse_args()

    _, validation = load_split(args.data)
    _, report = halves(validation)  # the half the model card's figures come from
    answerable = [e for e in report if e.answers]
    reader = Reader(args.reader, Settings.from_env().model)
    found = reader.read([(e.question, as_passages([e.context])) for e in answerable])
    texts = [f[0].text if f else "" for f in found]
    em = np.array([best_over_gold(exact_match, t, e.answer_texts) for e, t in zip(answerable, texts)]) * 100
    f = np.array([best_over_gold(f1, t, e.answer_texts) for e, t in zip(answerable, texts)]) * 100
    print(f"{args.reader}: {len(answerable)} answerable questions of the report half, gold paragraph, never null")
    print(f"{'source':18s} {'questions':>9s} {'HasAns EM':>9s} {'HasAns F1':>9s}")
    for source in sorted({e.source for e in answerable}):
        m = np.array([e.source == source for e in answerable])
        print(f"{source:18s} {int(m.sum()):9d} {em[m].mean():9.1f} {f[m].mean():9.1f}")
    print(f"{'all':18s} {len(answerable):9d} {em.mean():9.1f} {f.mean():9.1f}")


if __name__ == "__main__":
    main()
