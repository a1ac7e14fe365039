"""Reading within bounds (rag/ingest/bounded.py): small files that expand are refused with one line
naming the limit, a worker that dies is replaced, and the other files are read as usual."""

from __future__ import annotations

import time

import pytest

from rag.ingest.bounded import Limits, check_zip, close_workers
from rag.ingest.base import Unusable
from rag.ingest.documents import load_documents

from tests.bombs import flate_bomb_pdf, text_bomb_pdf, zip_bomb_docx
from tests.doc_fixtures import write_docx, write_pdf


def _load(path, **limits):
    warnings: list[str] = []
    docs = load_documents([path], warn=warnings.append, limits=Limits(**limits))
    return docs, warnings


def test_text_bomb_is_refused_naming_the_setting(tmp_path):
    bomb = text_bomb_pdf(tmp_path / "text.pdf", 300_000)
    assert bomb.stat().st_size < 20_000
    docs, warnings = _load(bomb, max_chars=100_000)
    assert docs == [] and len(warnings) == 1
    assert "longer than the limit of 100,000 characters (RAG_MAX_TEXT_CHARS" in warnings[0]


def test_flate_bomb_kills_only_its_worker(tmp_path):
    bomb = flate_bomb_pdf(tmp_path / "flate.pdf", 400_000_000)
    assert bomb.stat().st_size < 1_000_000
    started = time.monotonic()
    docs, warnings = _load(bomb, memory_mb=256)
    assert docs == [] and len(warnings) == 1 and "RAG_EXTRACT_MEMORY_MB" in warnings[0]
    assert time.monotonic() - started < 30
    # the next file gets a fresh worker and reads as usual
    good = write_pdf(tmp_path / "good.pdf", [["Harbour", "The bridge opened in March."]])
    docs, warnings = _load(good, memory_mb=256)
    assert [d.doc_id for d in docs] == ["good"] and warnings == []


@pytest.mark.parametrize("lie, words", [(False, "inflates 1,029 times"), (True, "inflates past the")])
def test_zip_bombs_are_refused_before_inflating(tmp_path, lie, words):
    bomb = zip_bomb_docx(tmp_path / "bomb.docx", 100_000_000, lie=lie)
    with pytest.raises(Unusable, match=words):
        check_zip(bomb, Limits())
    docs, warnings = _load(bomb)
    assert docs == [] and len(warnings) == 1 and "zip bomb" in warnings[0]


def test_a_real_word_file_passes_the_zip_checks(tmp_path):
    path = write_docx(tmp_path / "n.docx", ["Meeting notes", "We met.", [["a", "b"], ["c", "d"]]])
    check_zip(path, Limits())
    docs, warnings = _load(path)
    assert [d.doc_id for d in docs] == ["n"] and warnings == []


def test_a_slow_file_is_stopped_at_the_deadline(tmp_path):
    close_workers()  # a fresh worker still importing its parsers cannot answer within 50 ms
    path = write_pdf(tmp_path / "slow.pdf", [["Slow", "Words."]])
    docs, warnings = _load(path, seconds=0.05)
    assert docs == [] and "longer than 0.05 s (RAG_EXTRACT_SECONDS)" in warnings[0]


def test_plain_text_past_the_cap_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 10_000, encoding="utf-8")
    docs, warnings = _load(path, max_chars=1_000)
    assert docs == [] and "RAG_MAX_TEXT_CHARS" in warnings[0]


def test_one_bad_file_is_one_warning_and_the_rest_is_indexed(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "good.pdf", [["Harbour", "The bridge opened in March."]])
    (folder / "notes.txt").write_text("Notes\nThe ferry runs on Sundays.", encoding="utf-8")
    zip_bomb_docx(folder / "bomb.docx", 50_000_000)
    flate_bomb_pdf(folder / "flate.pdf", 400_000_000)
    docs, warnings = _load(folder, memory_mb=256)
    assert sorted(d.doc_id for d in docs) == ["good", "notes"]
    assert len(warnings) == 2 and all(w.startswith("skipped ") and "\n" not in w for w in warnings)
