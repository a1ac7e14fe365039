"""OCR of image-only PDF pages with Tesseract (Debian's ``tesseract-ocr``), run as a program: no
Python binding is needed, and without it a scan is refused with one line saying how to install it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

INSTALL_HINT = "install Tesseract to read scans: apt-get install tesseract-ocr (or brew install tesseract)"
# 300 dpi is what Tesseract is tuned for; lower loses small print.
_DPI = 300
_TIMEOUT_S = 120
_LINE_END_HYPHEN = re.compile(r"(?<=[^\W\d_])-\n(?=[a-z])")


def available() -> bool:
    return shutil.which("tesseract") is not None


def has_image(page) -> bool:  # pypdfium2 PdfPage
    """Whether the page holds an image (a scan); a blank or drawn-only page is not worth OCR."""
    import pypdfium2.raw as pdfium_c

    return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def ocr_page(page) -> str:  # pypdfium2 PdfPage
    """The page's text read by Tesseract: paragraphs (blank-line separated in its output) on one
    line each, words hyphenated at a line end joined."""
    bitmap = page.render(scale=_DPI / 72, grayscale=True)
    # A PGM image: Tesseract (Leptonica) reads it from stdin, and it needs no imaging library.
    pixels = bitmap.to_numpy()
    height, width = pixels.shape[:2]
    image = b"P5\n%d %d\n255\n" % (width, height) + pixels.reshape(height, width).tobytes()
    # One thread each: the machine's cores are better spent on pages than inside one.
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(["tesseract", "stdin", "stdout", "--dpi", str(_DPI), "-l", "eng"], input=image,
                         capture_output=True, timeout=_TIMEOUT_S, env=env, check=True).stdout.decode("utf-8", "replace")
    out = _LINE_END_HYPHEN.sub("", out.replace("\f", ""))
    paragraphs = (" ".join(block.split()) for block in re.split(r"\n\s*\n", out))
    return "\n".join(p for p in paragraphs if p)
