"""Validate the hand-written evaluation set in eval/questions.jsonl.

This module deliberately does not import anything from the ``rag`` package:
it only checks the data file against the seed documents.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = REPO_ROOT / "seeds"
QUESTIONS_PATH = REPO_ROOT / "eval" / "questions.jsonl"

REQUIRED_KEYS = {"id", "question", "answers", "doc_id", "evidence", "type"}
ALLOWED_TYPES = {
    "who",
    "what",
    "where",
    "when",
    "which",
    "how_many",
    "why",
    "how",
    "unanswerable",
}
MIN_QUESTIONS = 60
MIN_UNANSWERABLE = 10
MIN_PER_DOC = 5


def _load_docs() -> dict[str, str]:
    # Document text is the file's full content decoded as UTF-8, no stripping.
    return {p.stem: p.read_bytes().decode("utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))}


def _load_lines() -> list[tuple[int, str]]:
    text = QUESTIONS_PATH.read_bytes().decode("utf-8")
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


DOCS = _load_docs()
LINES = _load_lines()


def _parse_all() -> list[dict]:
    return [json.loads(line) for _, line in LINES]


def _answerable(questions: list[dict]) -> list[dict]:
    return [q for q in questions if q.get("type") != "unanswerable"]


@pytest.fixture(scope="module")
def questions() -> list[dict]:
    return _parse_all()


def test_seed_documents_exist():
    assert DOCS, f"no seed documents found in {SEEDS_DIR}"


def test_questions_file_exists():
    assert QUESTIONS_PATH.is_file(), f"missing {QUESTIONS_PATH}"


@pytest.mark.parametrize("lineno,line", LINES, ids=[f"line{n}" for n, _ in LINES])
def test_line_parses_to_object(lineno, line):
    obj = json.loads(line)
    assert isinstance(obj, dict), f"line {lineno} is not a JSON object"


def test_required_keys_and_value_types(questions):
    for q in questions:
        missing = REQUIRED_KEYS - q.keys()
        assert not missing, f"{q.get('id')}: missing keys {sorted(missing)}"
        assert isinstance(q["id"], str) and q["id"], q
        assert isinstance(q["question"], str) and q["question"].strip(), q["id"]
        assert isinstance(q["answers"], list), q["id"]
        assert all(isinstance(a, str) and a for a in q["answers"]), q["id"]
        assert q["doc_id"] is None or isinstance(q["doc_id"], str), q["id"]
        assert q["evidence"] is None or isinstance(q["evidence"], str), q["id"]
        assert q["type"] in ALLOWED_TYPES, f"{q['id']}: bad type {q['type']!r}"


def test_ids_unique(questions):
    counts = Counter(q["id"] for q in questions)
    dupes = sorted(i for i, c in counts.items() if c > 1)
    assert not dupes, f"duplicate ids: {dupes}"


def test_minimum_question_count(questions):
    assert len(questions) >= MIN_QUESTIONS


def test_minimum_unanswerable_count(questions):
    n = sum(1 for q in questions if q["type"] == "unanswerable")
    assert n >= MIN_UNANSWERABLE


def test_unanswerable_shape(questions):
    for q in questions:
        if q["type"] == "unanswerable":
            assert q["answers"] == [], q["id"]
            assert q["doc_id"] is None, q["id"]
            assert q["evidence"] is None, q["id"]


def test_answerable_have_answers_doc_and_evidence(questions):
    for q in _answerable(questions):
        assert q["answers"], f"{q['id']}: no answers"
        assert q["doc_id"] in DOCS, f"{q['id']}: unknown doc_id {q['doc_id']!r}"
        assert isinstance(q["evidence"], str) and q["evidence"], f"{q['id']}: no evidence"


def test_evidence_verbatim_in_document(questions):
    for q in _answerable(questions):
        doc = DOCS[q["doc_id"]]
        assert q["evidence"] in doc, f"{q['id']}: evidence not verbatim in {q['doc_id']}"


def test_answers_verbatim_in_document_and_evidence(questions):
    for q in _answerable(questions):
        doc = DOCS[q["doc_id"]]
        for a in q["answers"]:
            assert a in doc, f"{q['id']}: answer {a!r} not verbatim in {q['doc_id']}"
            assert a in q["evidence"], f"{q['id']}: answer {a!r} not inside evidence"


def test_every_document_has_enough_questions(questions):
    counts = Counter(q["doc_id"] for q in _answerable(questions))
    thin = {d: counts.get(d, 0) for d in DOCS if counts.get(d, 0) < MIN_PER_DOC}
    assert not thin, f"documents with fewer than {MIN_PER_DOC} questions: {thin}"


# -- held-out sets: each written by a pass that read only the articles, after the rules before it --
# holdout .. holdout4 became development sets; holdout5 is the test set (see the README).

HELD_OUT = [REPO_ROOT / "eval" / f"holdout{n}.jsonl" for n in ("", "2", "3", "4", "5")]
UNANSWERABLE = {"holdout.jsonl": 8, "holdout2.jsonl": 8, "holdout3.jsonl": 8, "holdout4.jsonl": 12,
                "holdout5.jsonl": 12}


@pytest.mark.parametrize("path", HELD_OUT, ids=lambda p: p.name)
def test_held_out_set_is_well_formed(path):
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 40 and len({r["id"] for r in rows}) == len(rows)
    seen = {q["question"] for q in _parse_all()}
    for r in rows:
        assert list(r) == ["id", "question", "answers", "doc_id", "evidence", "type"], r["id"]
        assert r["type"] in ALLOWED_TYPES and r["question"] not in seen, r["id"]
        if r["type"] == "unanswerable":
            assert r["answers"] == [] and r["doc_id"] is None and r["evidence"] is None, r["id"]
        else:
            assert r["evidence"] in DOCS[r["doc_id"]], r["id"]
            assert r["answers"] and all(a in r["evidence"] for a in r["answers"]), r["id"]
    assert sum(r["type"] == "unanswerable" for r in rows) == UNANSWERABLE[path.name]
    others = {json.loads(line)["question"] for p in HELD_OUT if p != path
              for line in p.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert not others & {r["question"] for r in rows}, "a question repeats another held-out set's"
