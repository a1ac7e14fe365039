"""The fixed train / validation split of the shared QA data (the files are read by rag/squad_format.py)."""

from __future__ import annotations

import random
from pathlib import Path

from ..squad_format import QAExample, load_squad

# The split the data's README suggests: validate on 5 of the 35 squad2-dev articles (chosen with a fixed
# seed), qed-dev and fairytaleqa-val; train on everything else. fairytaleqa-test is left unused.
TRAIN_FILES = ("squad2-train-first10", "squad2-dev", "qed-train", "policyqa-devtest", "fairytaleqa-train",
               "covidqa")
VALIDATION_FILES = ("squad2-dev", "qed-dev", "fairytaleqa-val")
SQUAD_DEV_VALIDATION_ARTICLES = 5
SPLIT_SEED = 13


def _file(data_dir: Path, name: str) -> Path:
    return data_dir / f"{name}.json.gz"


def validation_articles(dev: list[QAExample]) -> set[str]:
    titles = sorted({e.article for e in dev})
    return set(random.Random(SPLIT_SEED).sample(titles, SQUAD_DEV_VALIDATION_ARTICLES))


def load_split(data_dir: str | Path) -> tuple[list[QAExample], list[QAExample]]:
    """(train, validation) from the files in ``data_dir`` (the project's shared/qa-data)."""
    data_dir = Path(data_dir)
    missing = [n for n in set(TRAIN_FILES) | set(VALIDATION_FILES) if not _file(data_dir, n).is_file()]
    if missing:
        raise FileNotFoundError(f"{data_dir} lacks {', '.join(sorted(missing))}")
    dev = load_squad(_file(data_dir, "squad2-dev"))
    held = validation_articles(dev)
    train: list[QAExample] = []
    for name in TRAIN_FILES:
        rows = dev if name == "squad2-dev" else load_squad(_file(data_dir, name))
        train.extend(e for e in rows if not (name == "squad2-dev" and e.article in held))
    validation = [e for e in dev if e.article in held]
    for name in VALIDATION_FILES[1:]:
        validation.extend(load_squad(_file(data_dir, name)))
    return train, validation
