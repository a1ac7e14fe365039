"""SQuAD 2.0-format files -> question records, and the fixed train / validation split."""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class QAExample:
    qid: str
    question: str
    context: str
    # Gold answers as (start, end) character ranges of ``context``; empty when unanswerable.
    answers: tuple[tuple[int, int], ...]
    source: str   # the file it came from
    article: str  # the article's title (the unit of the validation split)

    @property
    def answer_texts(self) -> list[str]:
        return [self.context[s:e] for s, e in self.answers]


def load_squad(path: str | Path) -> list[QAExample]:
    """Every question of a SQuAD-format file (.json or .json.gz). Answers whose offset does not point
    at their text are dropped (and a question left with none is skipped unless it was unanswerable)."""
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        raw = json.load(f)
    source = path.name.split(".json")[0]
    examples: list[QAExample] = []
    for article in raw["data"]:
        title = str(article.get("title", ""))
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                spans = []
                for a in qa.get("answers", []):
                    start, text = int(a["answer_start"]), a["text"]
                    if text and context[start:start + len(text)] == text:
                        spans.append((start, start + len(text)))
                impossible = bool(qa.get("is_impossible", False))
                if impossible:
                    spans = []
                elif not spans:
                    continue
                examples.append(QAExample(str(qa["id"]), qa["question"], context, tuple(dict.fromkeys(spans)),
                                          source, title))
    return examples


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


def write_squad(examples: list[QAExample], path: str | Path) -> None:
    """Examples as a SQuAD 2.0-format file (.json or .json.gz), one article per source article, one
    paragraph per distinct context: e.g. the validation split for `rag eval --squad`."""
    articles: dict[str, dict[str, list[dict]]] = {}
    for e in examples:
        qa = {"id": e.qid, "question": e.question, "is_impossible": not e.answers,
              "answers": [{"text": e.context[s:t], "answer_start": s} for s, t in e.answers]}
        articles.setdefault(f"{e.source}/{e.article}", {}).setdefault(e.context, []).append(qa)
    data = {"version": "v2.0", "data": [
        {"title": title, "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs.items()]}
        for title, paragraphs in articles.items()]}
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
