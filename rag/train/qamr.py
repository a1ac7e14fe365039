"""QAMR (uwnlp/qamr, MIT) -> question records in SQuAD form, for `rag train-reader --qamr N`.

QAMR's Wikipedia part has about 38 predicate-argument questions per sentence ("Who instructed Eric
Holder?"), each answered by token indices into one PTB-tokenised sentence. Here each paragraph is
rebuilt from its sentences (ids ``Wiki1k:<source>:<doc>:<paragraph>:<sentence>``, in order), the tokens
are detokenised (``-LRB-`` -> "(", quotes, no space before punctuation) with each token's character
range kept, and every answer becomes the character range of its first to last token in the paragraph."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from ..squad_format import QAExample

FILES = ("dev.tsv.gz", "test.tsv.gz")
SENTENCES = "wiki-sentences.tsv.gz"
_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}
# No space before these tokens, or after the opening ones.
_CLOSE = {",", ".", ";", ":", "!", "?", "%", ")", "]", "}", "'s", "'S", "n't", "'re", "'ve", "'ll", "'d", "'m", "''", "'"}
_OPEN = {"(", "[", "{", "$", "``", "#"}


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: tuple[tuple[int, int], ...]  # each token's character range in ``text``


def detokenize(tokens: list[str]) -> Sentence:
    """PTB tokens -> text, with each token's (start, end) in it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    previous = None
    for raw in tokens:
        token = _BRACKETS.get(raw, raw)
        shown = '"' if token in ("``", "''") else ("'" if token == "`" else token)
        glue = previous is None or raw in _CLOSE or token in (")", "]", "}") or previous in _OPEN \
            or previous in ("(", "[", "{")
        if not glue:
            out.append(" ")
            pos += 1
        spans.append((pos, pos + len(shown)))
        out.append(shown)
        pos += len(shown)
        previous = raw if raw in _OPEN else token
    return Sentence("".join(out), tuple(spans))


def _read_tsv(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def load_qamr(folder: str | Path) -> list[QAExample]:
    """Every QAMR question whose answer is a contiguous run of tokens, with its paragraph as context."""
    folder = Path(folder)
    sentences: dict[str, Sentence] = {}
    for sid, text in (row[:2] for row in _read_tsv(folder / SENTENCES)):
        sentences[sid] = detokenize(text.split(" "))
    # Paragraphs: sentences sharing source:doc:paragraph, in sentence order, joined by one space.
    paragraphs: dict[str, list[tuple[int, str]]] = {}
    for sid in sentences:
        head, _, number = sid.rpartition(":")
        paragraphs.setdefault(head, []).append((int(number), sid))
    context: dict[str, str] = {}
    offset: dict[str, int] = {}
    for head, members in paragraphs.items():
        pos, parts = 0, []
        for _, sid in sorted(members):
            offset[sid] = pos
            parts.append(sentences[sid].text)
            pos += len(sentences[sid].text) + 1
        context[head] = " ".join(parts)
    examples: list[QAExample] = []
    seen: set[tuple[str, str]] = set()
    for name in FILES:
        for row in _read_tsv(folder / name):
            sid, question, answer = row[0], row[5], row[6]
            if sid not in sentences or (sid, question) in seen:
                continue
            indices = sorted(int(i) for i in answer.split())
            if not indices or indices != list(range(indices[0], indices[-1] + 1)):
                continue
            sentence = sentences[sid]
            if indices[-1] >= len(sentence.spans):
                continue
            seen.add((sid, question))
            head = sid.rpartition(":")[0]
            start = offset[sid] + sentence.spans[indices[0]][0]
            end = offset[sid] + sentence.spans[indices[-1]][1]
            examples.append(QAExample(f"qamr-{len(examples)}", question, context[head], ((start, end),), "qamr",
                                      head.split(":")[2] if head.count(":") >= 2 else head))
    return examples
