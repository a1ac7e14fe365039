"""Marking in a real browser (headless Chromium): one click marks the answer and one a passage right,
with no JavaScript; `rag eval --set` then scores the index against those marks."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from tests.web.test_browser import ARGS, CHROMIUM, _serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

QUESTION = "Where will Trump and Putin meet?"


def test_mark_an_answer_and_a_passage_then_score_them(tmp_path, assistant, seeds_index):
    from playwright.sync_api import sync_playwright

    from rag.assistant import Assistant
    from rag.cli import main

    judgments = tmp_path / "eval" / "judgments.jsonl"
    # The session's index, model and answerer; only the marks file is this test's.
    marking = Assistant(assistant.store, assistant.embedder, assistant.settings.with_(judgments=judgments),
                        assistant.answerer)
    with _serve(marking) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(java_script_enabled=False).new_page()  # the forms need no script
        page.goto(f"{url}/?q={QUESTION.replace(' ', '+')}&retriever=hybrid")
        answer = page.inner_text("#answer").strip()
        page.click("button[aria-label='Mark this answer right']")
        page.wait_for_selector("#answer")
        assert "judged=answer-right" in page.url and page.inner_text("#answer").strip() == answer
        first = page.inner_text(".passage >> nth=0 >> .passage-text")
        page.click("button[aria-label='Mark passage 1 right']")
        page.wait_for_selector(".passages")
        browser.close()

    rows = [json.loads(line) for line in judgments.read_text().splitlines()]
    assert [(r["kind"], r["mark"]) for r in rows] == [("answer", "right"), ("passage", "right")]
    assert rows[0]["text"] == answer and rows[1]["text"] == first and rows[0]["question"] == QUESTION

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["eval", "--set", str(judgments), "--index-dir", str(seeds_index), "--retriever", "hybrid",
                     "--json"]) == 0
    figures = json.loads(out.getvalue())
    assert (figures["marks"], figures["kept"], figures["dropped"]) == (2, 2, 0)
    assert figures["passage_questions"] == 1 and figures["answer_questions"] == 1
    row = figures["retrievers"]["hybrid"]
    # The same question through the same path: the marked passage comes first and the answer is the same.
    assert row["recall@1"] == 1.0 and row["exact_match"] == 1.0
