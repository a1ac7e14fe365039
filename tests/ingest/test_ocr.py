"""Scanned PDFs (rag/ingest/ocr.py through rag/ingest/pdf.py): image-only pages read by Tesseract,
page by page, with their page numbers; without Tesseract one line saying how to install it, and a
warning naming how many pages went unread when most did."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from rag.ingest.documents import load_documents
from rag.ingest.pdf import load_pdf

from tests.doc_fixtures import write_pdf

PAGES = [["Harbour report", "The new bridge over the river opened in March after four years of work.",
          "Engineers from three countries built its steel arches and the long approach roads."],
         ["Costs", "The council paid 42 million euros for the bridge, the minister said.",
          "Most of the money came from the regional transport budget and a loan."],
         ["Traffic", "About 9,000 cars cross the bridge every day, and the ferry carries fewer.",
          "The old ferry still runs on Sundays for tourists and cyclists."]]
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract not installed (make ocr)")


def rasterise(source: Path, target: Path, keep_text: set[int] = frozenset(), dpi: int = 200) -> Path:
    """A scan of ``source``: each page an image without a text layer (pages in ``keep_text``, 0-based,
    are copied with their text instead)."""
    import pypdfium2 as pdfium

    target.parent.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument(source)
    out = pdfium.PdfDocument.new()
    for i in range(len(pdf)):
        if i in keep_text:
            out.import_pages(pdf, [i])
            continue
        page = pdf[i]
        image = page.render(scale=dpi / 72).to_pil().convert("RGB")
        width, height = page.get_size()
        new = out.new_page(width, height)
        obj = pdfium.PdfImage.new(out)
        jpeg = source.parent / f"{target.stem}-{i}.jpg"
        image.save(jpeg, quality=90)
        obj.load_jpeg(str(jpeg), inline=False)
        obj.set_matrix(pdfium.PdfMatrix().scale(width, height))
        new.insert_obj(obj)
        new.gen_content()
    out.save(str(target))
    return target


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.fixture
def no_tesseract(tmp_path, monkeypatch):
    """Tesseract off the PATH, here and in the loader's worker processes (started afresh)."""
    from rag.ingest.bounded import close_workers

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    close_workers()
    monkeypatch.setenv("PATH", str(empty))
    yield
    close_workers()  # no later test gets a worker without a PATH


def test_without_tesseract_a_scan_is_one_line_saying_how_to_install_it(tmp_path, no_tesseract):
    rasterise(write_pdf(tmp_path / "src.pdf", PAGES), tmp_path / "docs" / "scan.pdf")
    warnings: list[str] = []
    assert load_documents([tmp_path / "docs"], warn=warnings.append) == []
    assert len(warnings) == 1 and "scan.pdf" in warnings[0] and "apt-get install tesseract-ocr" in warnings[0]
    assert "\n" not in warnings[0]


def test_without_tesseract_mostly_unread_pages_are_a_warning_naming_how_many(tmp_path, no_tesseract):
    rasterise(write_pdf(tmp_path / "src.pdf", PAGES), tmp_path / "docs" / "mixed.pdf", keep_text={0})
    warnings: list[str] = []
    [doc] = load_documents([tmp_path / "docs"], warn=warnings.append)
    assert len(warnings) == 1 and "mixed.pdf" in warnings[0] and "2 of 3 pages" in warnings[0]
    assert "tesseract-ocr" in warnings[0]
    assert len(doc.pages) == 3 and "bridge over the river" in doc.text


@pytest.mark.slow  # Tesseract reads a page in seconds
@needs_tesseract
def test_a_rasterised_pdf_is_read_page_by_page(tmp_path):
    source = write_pdf(tmp_path / "src.pdf", PAGES)
    doc = load_pdf(rasterise(source, tmp_path / "scan.pdf"))
    assert len(doc.pages) == 3
    want = _words(" ".join(" ".join(p) for p in PAGES))
    got = set(_words(doc.text))
    assert sum(w in got for w in want) >= 0.9 * len(want)
    start, end = doc.pages[1]
    assert "42 million euros" in doc.text[start:end]


@pytest.mark.slow
@needs_tesseract
def test_image_pages_among_text_pages_are_read_with_their_page_numbers(tmp_path):
    doc = load_pdf(rasterise(write_pdf(tmp_path / "src.pdf", PAGES), tmp_path / "mixed.pdf", keep_text={0, 2}))
    assert [doc.page_at(doc.text.index(s)) for s in ("bridge over the river", "42 million", "ferry still")] == [1, 2, 3]


@pytest.mark.slow  # the real embedding model and reader
@needs_tesseract
def test_a_scanned_pdf_is_indexed_and_answers_from_page_2_cited_p2(tmp_path):
    from rag import Assistant, Settings, build_index
    from rag.ingest import page_at
    from rag.render import render_text

    docs = tmp_path / "docs"
    docs.mkdir()
    rasterise(write_pdf(tmp_path / "src.pdf", PAGES), docs / "bridge.pdf")
    settings = Settings.from_env(index_dir=tmp_path / "index")
    build_index([docs], settings, progress=False)
    result = Assistant.load(settings.index_dir).ask("How much did the council pay for the bridge?")
    # The small document is one chunk (cited by its first page); its best sentence is on page 2.
    top = result.passages[0]
    best = max(top.sentences, key=lambda s: s[2])
    assert page_at(top.doc_pages, best[0]) == 2 and "42 million" in top.chunk.text
    # The answerer is being changed; where it answers, the answer is cited on page 2.
    if result.answer is not None:
        assert result.to_dict()["answer"]["page"] == 2
        assert "p. 2" in render_text(result)
