"""rag/evaluate/judgments.py: the append-only marks file, which marks still hold when documents change,
the rankings it scores (fast); scoring an index against marks (slow: ranx)."""

from __future__ import annotations

import json

import pytest

from rag.errors import UserError
from rag.evaluate.judgments import (Judgment, append, is_judgments_file, judged_run, load, make_judgment,
                                    resolve, span_id)
from rag.records import Chunk, Document, Passage

TEXT = "The ferry runs on Sundays. It leaves at nine. The bus runs daily."


def doc(text: str = TEXT, doc_id: str = "ferry") -> Document:
    return Document(doc_id=doc_id, title="Ferry", text=text, source="ferry.txt")


def mark(kind: str, m: str, text: str, question: str = "When does the ferry run?", document: Document | None = None):
    d = document or doc()
    at = d.text.index(text)
    return make_judgment(question, kind, m, d, at, at + len(text), "v1")


def test_append_only_round_trip_and_detection(tmp_path):
    path = tmp_path / "eval" / "judgments.jsonl"
    append(path, mark("passage", "right", "The ferry runs on Sundays."))
    append(path, mark("answer", "wrong", "nine"))
    first = path.read_text()
    append(path, mark("answer", "right", "Sundays"))
    assert path.read_text().startswith(first)  # appended, never rewritten
    back = load(path)
    assert [(j.kind, j.mark, j.text) for j in back] == [("passage", "right", "The ferry runs on Sundays."),
                                                       ("answer", "wrong", "nine"), ("answer", "right", "Sundays")]
    assert is_judgments_file(path)
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": "x", "answers": []}) + "\n")
    assert not is_judgments_file(questions)


def test_make_judgment_takes_the_text_from_the_document_and_checks_the_span():
    j = mark("answer", "right", "Sundays")
    assert j.text == "Sundays" and j.index_version == "v1"
    with pytest.raises(UserError, match="outside the document"):
        make_judgment("q", "passage", "right", doc(), 10, 10_000, None)
    with pytest.raises(UserError, match="mark must be one of"):
        make_judgment("q", "passage", "maybe", doc(), 0, 5, None)


def test_marks_hold_where_the_judged_text_is_unchanged():
    marks = [mark("passage", "right", "The ferry runs on Sundays."), mark("answer", "right", "Sundays"),
             mark("answer", "wrong", "nine"), mark("passage", "wrong", "The bus runs daily.")]
    # The document changed: a line added above (the marks move with their text), "nine" became "ten"
    # (that mark is dropped), and the last sentence is unchanged.
    edited = doc("Timetable.\n" + TEXT.replace("nine", "ten"))
    judged = resolve(marks, lambda d: edited if d == "ferry" else None)
    assert (judged.marks, judged.kept, judged.moved, judged.dropped) == (4, 3, 3, 1)
    [q] = judged.questions
    at = edited.text.index("The ferry")
    assert q.relevant == [("ferry", at, at + len("The ferry runs on Sundays."))]
    assert q.answers == ["Sundays"] and q.wrong_answers == []
    assert resolve(marks, lambda d: None).dropped == 4  # the document is gone


def test_the_last_mark_on_a_span_wins():
    right, wrong = mark("answer", "right", "nine"), mark("answer", "wrong", "nine")
    [q] = resolve([right, wrong], lambda d: doc()).questions
    assert q.answers == [] and q.wrong_answers == ["nine"]


def test_ambiguous_moved_text_is_dropped():
    j = Judgment("q", "answer", "right", "ferry", 0, 3, "The", None, "")
    judged = resolve([j], lambda d: doc("Now: The ferry. The bus."))
    assert judged.dropped == 1 and not judged.questions


def passage(doc_id: str, start: int, end: int, rank: int) -> Passage:
    return Passage(chunk=Chunk(doc_id, f"{doc_id}#{start}", start, end, "x" * (end - start)), rank=rank, score=1.0,
                   title="", source="")


def test_judged_run_counts_each_right_span_once():
    relevant = [("a", 10, 20), ("b", 0, 5)]
    run = judged_run([passage("a", 0, 12, 1), passage("a", 8, 30, 2), passage("c", 0, 9, 3), passage("b", 3, 9, 4)],
                     relevant)
    assert run == {span_id("a", 10, 20): 1.0, "a#8": 0.5, "c#0": pytest.approx(1 / 3), span_id("b", 0, 5): 0.25}


@pytest.mark.slow
def test_scoring_an_index_against_marks(tmp_path):
    from rag import Settings, build_index
    from rag.assistant import Assistant
    from rag.evaluate.judgments import evaluate
    from rag.index.store.local import LocalStore
    from tests.conftest import HashEmbedder

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ferry.txt").write_text(TEXT, encoding="utf-8")
    (folder / "zoo.txt").write_text("The zoo opens at ten. Lions sleep all day.", encoding="utf-8")
    settings = Settings(model="unused", index_dir=tmp_path / "index", chunk_size=30, chunk_overlap=0)
    embedder = HashEmbedder()
    build_index([folder], settings, embedder=embedder, progress=False)
    assistant = Assistant(LocalStore.load(settings.index_dir), embedder, settings)
    ferry, zoo = assistant.document("ferry"), assistant.document("zoo")
    marks = [mark("passage", "right", "The ferry runs on Sundays.", "ferry sundays", ferry),
             mark("passage", "right", "Lions sleep all day.", "when do lions sleep", zoo)]
    figures = evaluate(assistant, resolve(marks, assistant.document), ["bm25"], k=5)
    row = figures["retrievers"]["bm25"]
    # Both questions share words with their marked sentence only: BM25 ranks it first.
    assert row["recall@1"] == 1.0 and row["mrr@5"] == 1.0 and figures["passage_questions"] == 2
    assert row["exact_match"] is None  # no answer was marked
