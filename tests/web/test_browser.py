"""The pages in a real browser: headless Debian Chromium driven by Playwright, against uvicorn on
loopback, over a real index of the seeds plus a document full of markup that must never run."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SEEDS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]
EVIL_ID = "zz_markup_notes"
EVIL_SCRIPT = "<script>window.__pwned=1</script>"
EVIL_IMG = '<img src=x onerror="window.__pwned=2">'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    # In CI the browser must be there (make test installs it); elsewhere its absence skips.
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(assistant) -> Iterator[str]:
    """The app over ``assistant`` in uvicorn on a free loopback port, for as long as the block runs."""
    import uvicorn

    from web.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(assistant), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:

    from rag import Assistant, Settings, build_index

    corpus = tmp_path_factory.mktemp("corpus")
    for f in SEEDS.iterdir():
        shutil.copy(f, corpus / f.name)
    (corpus / f"{EVIL_ID}.md").write_text(
        "# Markup notes\n\nThis page quotes raw markup that a browser must show as text: "
        f"{EVIL_SCRIPT} and {EVIL_IMG} are both quoted here.\n", encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("index")
    build_index([corpus], Settings.from_env(index_dir=index_dir), progress=False)
    assistant = Assistant.load(index_dir)

    with _serve(assistant) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    p = context.new_page()
    yield p
    context.close()


def test_ask_see_answer_and_follow_citation(page, base_url):
    question = "Where will Trump and Putin meet?"
    page.goto(base_url + "/")
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_selector(".passages")
    assert "q=" in page.url
    answer = page.inner_text("#answer").strip()
    assert answer
    assert page.inner_text("blockquote.sentence mark") == answer
    assert "confidence" in page.inner_text("section.answer")
    citations = page.locator(".passage a.cite")
    assert citations.count() >= 1

    expected = page.request.post(base_url + "/api/ask", data={"question": question}).json()["passages"][0]
    assert citations.first.inner_text() == expected["title"]
    citations.first.click()
    page.wait_for_url("**/doc/**")
    assert f"/doc/{expected['doc_id']}?start={expected['start']}&end={expected['end']}" in page.url
    hit = page.locator("mark#hit")
    assert hit.inner_text() == expected["text"]
    assert hit.is_visible()
    top = page.evaluate("document.getElementById('hit').getBoundingClientRect().top")
    assert 0 <= top < page.viewport_size["height"]


def test_document_with_script_tag_does_not_run(page, base_url):
    page.goto(f"{base_url}/doc/{EVIL_ID}")
    text = page.inner_text(".doc-text")
    assert EVIL_SCRIPT in text and EVIL_IMG in text
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(".doc-text script, .doc-text img").count() == 0

    # The same text in a cited passage, found by a question that itself carries markup.
    page.goto(base_url + "/")
    question = "raw markup quoted <b>here</b>"
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_selector(".passages")
    passage = page.locator(".passage", has_text="Markup notes")
    assert passage.count() == 1
    assert EVIL_SCRIPT in passage.inner_text()
    assert page.input_value("#q") == question
    assert page.locator(".passages b, .passages script, .passages img").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_bad_question_shows_message_next_to_box(page, base_url):
    page.goto(base_url + "/")
    page.fill("#q", "   ")
    page.press("#q", "Enter")
    alert = page.locator("#error")
    alert.wait_for()
    assert "question is empty" in alert.inner_text()


@pytest.fixture(scope="module")
def upload_url(tmp_path_factory) -> Iterator[str]:
    """A server of its own (seeds only), whose documents folder takes uploads."""

    from rag import Assistant, Settings, build_index

    index_dir = tmp_path_factory.mktemp("upload-index")
    build_index([SEEDS], Settings.from_env(index_dir=index_dir), progress=False)
    with _serve(Assistant.load(index_dir)) as url:
        yield url


def _ask(page, base_url: str, question: str) -> None:
    page.goto(base_url + "/")
    page.fill("#q", question)
    page.press("#q", "Enter")
    page.wait_for_selector(".passages")


def test_upload_a_pdf_answer_from_its_page_2_then_remove_it(page, upload_url, tmp_path):
    from tests.doc_fixtures import write_pdf

    # Two pages that matter and 40 of tide tables: enough chunks that the embedding takes seconds, so
    # the job's progress page is there to be seen.
    tides = [[f"Appendix {p}: tide table of week {p}."] + [f"Day {d} of week {p}: high water {d + p % 7}:{10 + d} "
                                                          f"at gauge {p * 10 + d}, low water at {d + 6}:{20 + d}."
                                                          for d in range(1, 40)] for p in range(1, 41)]
    pdf = write_pdf(tmp_path / "harbour.pdf", [
        ["Harbour works report", "The harbour of Kiel handles ferries to Oslo and Gothenburg every day."],
        ["The new Kiel harbour crane was built by the engineer Margit Solberg.",
         "It lifts containers of up to forty tonnes."],
        *tides,
    ], title="Harbour works report")
    page.goto(upload_url + "/")
    page.set_input_files("form.upload input[type=file]", str(pdf))
    # The upload is answered at once (a redirect to its job), whatever the indexing takes.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents")) as posted:
        started = time.monotonic()
        page.click("form.upload button[type=submit]")
    took = time.monotonic() - started
    assert posted.value.status == 303 and took < 1.0, (posted.value.status, took)
    # The job's page shows the progress (it refreshes itself), then the document.
    page.wait_for_selector("text=chunks embedded", timeout=30_000)
    progress = page.inner_text(".job")
    page.screenshot(path=str(tmp_path / "upload-progress.png"))
    assert "harbour.pdf" in progress and "42 pages read" in progress
    page.wait_for_url("**/doc/harbour", timeout=180_000)
    assert "Margit Solberg" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "upload.png"))

    question = "Who built the new Kiel harbour crane?"
    _ask(page, upload_url, question)
    assert "Margit Solberg" in page.inner_text("#answer")
    assert "p. 2" in page.inner_text("section.answer")
    page.locator("section.answer a.cite").first.click()
    page.wait_for_url("**/doc/**")
    assert "Margit Solberg" in page.inner_text("mark#hit")

    page.goto(upload_url + "/")
    page.click("button[aria-label='Remove Harbour works report']")
    page.wait_for_selector("text=removed")
    _ask(page, upload_url, question)
    assert page.locator("#answer").count() == 0 or "Margit Solberg" not in page.inner_text("#answer")
    assert "Margit Solberg" not in page.inner_text(".passages")
