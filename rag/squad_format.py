"""SQuAD-format files (1.1 and 2.0 layouts, .json or .json.gz) <-> question records. Shared by
`rag eval --squad` and `rag train-reader`, so it lives below both."""

from __future__ import annotations

import gzip
import json
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
