"""QAMR -> SQuAD-form questions: PTB tokens detokenised with exact character ranges, paragraphs rebuilt
from their sentences, answers mapped to the paragraph."""

from __future__ import annotations

import gzip

from rag.train.qamr import detokenize, load_qamr


def test_detokenising_keeps_each_tokens_characters():
    tokens = "Liam `` had his life '' , said -LRB- DI -RRB- Andy 's dog , 5 % .".split()
    s = detokenize(tokens)
    assert s.text == 'Liam "had his life", said (DI) Andy\'s dog, 5%.'
    shown = [s.text[a:b] for a, b in s.spans]
    assert shown[tokens.index("Andy")] == "Andy" and shown[tokens.index("-LRB-")] == "("
    assert shown[tokens.index("``")] == '"' and shown[tokens.index("'s")] == "'s"


def _write(path, rows):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join("\t".join(r) + "\n" for r in rows))


def test_questions_get_their_paragraph_and_exact_answer_offsets(tmp_path):
    _write(tmp_path / "wiki-sentences.tsv.gz", [
        ["Wiki1k:wikipedia:7:3:1", "Holder was instructed by the -LRB- new -RRB- president ."],
        ["Wiki1k:wikipedia:7:3:0", "Eric Holder , a lawyer , spoke ."],
        ["Wiki1k:wikipedia:8:0:0", "Unrelated text ."],
    ])
    row = lambda sid, q, a: [sid, "0", "w", "0", "0", q, a, "v:" + a, "v:" + a]  # noqa: E731
    _write(tmp_path / "dev.tsv.gz", [row("Wiki1k:wikipedia:7:3:1", "Who instructed Holder?", "4 5 6 7 8"),
                                     row("Wiki1k:wikipedia:7:3:0", "Who spoke?", "0 1"),
                                     row("Wiki1k:wikipedia:7:3:0", "Who is a lawyer?", "0 4")])  # not contiguous
    _write(tmp_path / "test.tsv.gz", [])
    examples = load_qamr(tmp_path)
    assert [e.question for e in examples] == ["Who instructed Holder?", "Who spoke?"]
    first = examples[0]
    assert first.context == "Eric Holder, a lawyer, spoke. Holder was instructed by the (new) president."
    assert first.answer_texts == ["the (new) president"] and examples[1].answer_texts == ["Eric Holder"]
    assert first.source == "qamr" and first.article == examples[1].article
