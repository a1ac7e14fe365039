"""How cleanly the PDF loader reads real PDFs, against pdftotext (poppler) as the reference: glued
words per 10,000 words, running header/footer lines left, number-only lines left, and pages/s of
today's extractor (PDFium's text, `rag.ingest.pages`) beside the new one (`rag.ingest.pdf`), same run.

The corpus is real, redistributable PDFs from Debian documentation packages, fetched at run time with
`apt-get download` into a cache folder (never committed): R's manuals (running chapter headers),
ReportLab's user guide (tables), Gri's manual, and one- and two-column article samples of TeX Live's
publisher classes (ACM, Elsevier, IEEE, ASME, AAS, TUGboat, DAFx).

    apt-get install poppler-utils      # pdftotext: the reference only, not a dependency
    python scripts/pdf_quality.py [--cache DIR] [--only NAME]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# (Debian package, path inside it, short name). Paths ending in .gz are gunzipped.
CORPUS = [
    ("r-doc-pdf", "usr/share/R/doc/manual/R-FAQ.pdf", "R-FAQ"),
    ("r-doc-pdf", "usr/share/R/doc/manual/R-intro.pdf", "R-intro"),
    ("r-doc-pdf", "usr/share/R/doc/manual/R-data.pdf", "R-data"),
    ("python-reportlab-doc", "usr/share/doc/python-reportlab-doc/reportlab-userguide.pdf", "reportlab-guide"),
    ("gri-pdf-doc", "usr/share/doc/gri/gri.pdf.gz", "gri"),
    ("camlidl-doc", "usr/share/doc/camlidl/camlidl-1.04.doc.pdf", "camlidl"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/acmart/samples/sample-sigconf.pdf", "acm-sigconf-2col"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/elsarticle/elstest-5p.pdf", "elsevier-5p-2col"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/ieeetran/testflow_doc.pdf", "ieee-testflow"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/aastex/sample631.pdf", "aastex-sample"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/tugboat/ltubguid.pdf", "tugboat-2col"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/asmeconf/asmeconf-template.pdf", "asme-2col"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/confproc/example/papers/p_001.pdf", "dafx-2col"),
    ("texlive-publishers-doc", "usr/share/doc/texlive-doc/latex/dccpaper/dccpaper.pdf", "dccpaper"),
]

_ALPHA = re.compile(r"[^\W\d_]+")
_NUMBER_LINE = re.compile(r"^[\s\-\u2013\u2014.()\[\]|]*\d{1,4}[\s\-\u2013\u2014.()\[\]|]*$")
_DIGITS = re.compile(r"\d+")
_EDGE = 2
_MIN_REPEATS = 3


def fetch(cache: Path) -> list[tuple[str, Path]]:
    """The corpus files, downloading and unpacking each package once into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    out = []
    for package, inner, name in CORPUS:
        target = cache / "files" / (name + ".pdf")
        if not target.exists():
            debs = sorted(cache.glob(f"{package}_*.deb"))
            if not debs:
                subprocess.run(["apt-get", "download", package], cwd=cache, check=True,
                               stdout=subprocess.DEVNULL)
                debs = sorted(cache.glob(f"{package}_*.deb"))
            unpack = cache / "unpacked"
            unpack.mkdir(exist_ok=True)
            tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(debs[-1])], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(unpack), "./" + inner], stdin=tar.stdout, check=True)
            tar.wait()
            got = unpack / inner
            target.parent.mkdir(exist_ok=True)
            if inner.endswith(".gz"):
                with target.open("wb") as fh:
                    subprocess.run(["gunzip", "-c", str(got)], stdout=fh, check=True)
            else:
                target.write_bytes(got.read_bytes())
        out.append((name, target))
    return out


def pdftotext_pages(path: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    pages = text.decode("utf-8").split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def today(path: Path) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The extractor before issue 23: PDFium's text lines, edges repeated on 60 % of pages dropped."""
    from rag.ingest import pages as paged
    from rag.ingest.pdf import _open

    pdf = _open(path)
    pages = []
    for i in range(len(pdf)):
        page = pdf[i]
        tp = page.get_textpage()
        pages.append(paged.page_lines(tp.get_text_range()))
        tp.close()
        page.close()
    pdf.close()
    repeated = paged.repeated_edges(pages)
    return paged.join_pages(paged.reflow(paged.strip_edges(ls, repeated, i)) for i, ls in enumerate(pages))


def new(path: Path) -> tuple[str, tuple[tuple[int, int], ...]]:
    from rag.ingest.pdf import load_pdf

    doc = load_pdf(path)
    return doc.text, doc.pages


def _key(line: str) -> str:
    return " ".join(_DIGITS.sub("#", line.lower()).split())


def reference_edges(ref: list[str]) -> tuple[set[str], str]:
    """Header/footer keys (digits as #): a line with a letter at the top or bottom edge of at least 3
    pages of pdftotext's output; and the text of the pages' middles after the first (the body)."""
    seen: Counter[str] = Counter()
    middles = []
    for number, page in enumerate(ref):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        seen.update({_key(line) for line in lines[:_EDGE] + lines[-_EDGE:]})
        if number:  # the first page's title is not a running header
            middles.append("\n".join(lines[_EDGE:-_EDGE]))
    body = "\n\n".join(middles)
    # A phrase the body uses more often than the edges do ("Note", a code line) is not a running
    # header, and counting it would only measure the body.
    keys = {k for k, n in seen.items() if n >= _MIN_REPEATS and _ALPHA.search(k) and len(k) >= 4
            and n >= _count(k, body)}
    return keys, body


def _count(key: str, text: str) -> int:
    words = (re.escape(w).replace("\\#", r"\d+").replace("#", r"\d+") for w in key.split())
    return len(re.findall(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", text.lower()))


def headers_left(text: str, pages, keys: set[str], body: str) -> int:
    """Occurrences of a header/footer key in our text (pages after the first) beyond the occurrences
    pdftotext has in the body of the same pages (a phrase the text itself uses is not a header)."""
    rest = text[pages[1][0]:] if len(pages) > 1 else ""
    return sum(max(0, _count(key, rest) - _count(key, body)) for key in keys)


def glued(text: str, ref_text: str) -> tuple[int, int, Counter[str]]:
    """(glued tokens, words): a token of ours that pdftotext has nowhere as a word but has as two
    adjacent words split by a space (not by a line-end hyphen)."""
    vocab: set[str] = set()
    pairs: set[str] = set()
    prev, prev_end = None, 0
    for m in _ALPHA.finditer(ref_text):
        word = m.group(0).lower()
        vocab.add(word)
        gap = ref_text[prev_end:m.start()]
        if prev is not None and gap.strip() == "" and gap:
            pairs.add(prev + word)
        prev, prev_end = word, m.end()
    words = [m.group(0).lower() for m in _ALPHA.finditer(text)]
    bad = Counter(w for w in words if w not in vocab and w in pairs)
    return sum(bad.values()), len(words), bad


def split(text: str, ref_text: str) -> int:
    """Words of pdftotext's that we cut in two: adjacent words of ours (a space apart) that joined
    are a word of pdftotext's while one of them is not (so "in to" / "into" does not count)."""
    vocab = {m.group(0).lower() for m in _ALPHA.finditer(ref_text)}
    count, prev, prev_end = 0, None, 0
    for m in _ALPHA.finditer(text):
        word = m.group(0).lower()
        gap = text[prev_end:m.start()]
        if prev is not None and gap and gap.strip() == "" and prev + word in vocab \
                and (prev not in vocab or word not in vocab):
            count += 1
        prev, prev_end = word, m.end()
    return count


def number_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if _NUMBER_LINE.match(line))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rag-pdf-corpus")
    ap.add_argument("--only", default=None, help="one file of the corpus by its short name")
    ap.add_argument("--show", type=int, default=0, help="print this many glued words a file")
    args = ap.parse_args()
    files = [(n, p) for n, p in fetch(args.cache) if args.only in (None, n)]
    cols = f"{'glued/10k':>9s} {'split/10k':>9s} {'hdr left':>8s} {'num lines':>9s} {'pages/s':>7s}"
    head = f"{'file':18s} {'pages':>5s} | {cols} | {cols} | {'pdftotext num':>13s}"
    print(f"{'':18s} {'':5s} | {'today (PDFium text)':^48s} | {'new (rag.ingest.pdf)':^48s} |")
    print(head)
    totals = {k: Counter() for k in ("today", "new")}
    for name, path in files:
        ref = pdftotext_pages(path)
        ref_text = "\n".join(ref)
        keys, body = reference_edges(ref)
        row = [f"{name:18s} {len(ref):5d}"]
        for label, fn in (("today", today), ("new", new)):
            seconds = float("inf")
            for _ in range(2):  # the faster of two runs: the machine is shared and noisy
                t = time.perf_counter()
                text, pages = fn(path)
                seconds = min(seconds, time.perf_counter() - t)
            g, words, bad = glued(text, ref_text)
            sp = split(text, ref_text)
            h = headers_left(text, pages, keys, body)
            nl = number_lines(text)
            tot = totals[label]
            tot.update(glued=g, split=sp, words=words, headers=h, numbers=nl, pages=len(pages), seconds=seconds)
            tot["files"] += 1
            row.append(f"{g * 1e4 / max(words, 1):9.1f} {sp * 1e4 / max(words, 1):9.1f} {h:8d} {nl:9d} "
                       f"{len(pages) / seconds:7.0f}")
            if args.show and bad:
                print(f"  {name} {label}: " + ", ".join(f"{w}x{n}" for w, n in bad.most_common(args.show)))
        row.append(f"{number_lines(ref_text):13d}")
        print(" | ".join(row), flush=True)
    row = [f"{'total':18s} {totals['new']['pages']:5d}"]
    for label in ("today", "new"):
        tot = totals[label]
        row.append(f"{tot['glued'] * 1e4 / max(tot['words'], 1):9.1f} {tot['split'] * 1e4 / max(tot['words'], 1):9.1f} "
                   f"{tot['headers']:8d} "
                   f"{tot['numbers'] / max(tot['files'], 1):9.1f} {tot['pages'] / tot['seconds']:7.0f}")
    print(" | ".join(row) + " |  (number lines: mean a file)")


if __name__ == "__main__":
    main()
