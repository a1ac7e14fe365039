"""HTML: the text a browser would show, whitespace tidied line by line."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from ..records import Document
from .base import first_line_title, read_text, register


class _VisibleText(HTMLParser):
    """Collects the text a browser would show: no script, style, template or head metadata."""

    HIDDEN = {"script", "style", "template", "noscript", "head", "svg"}
    BLOCK = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
             "article", "header", "footer", "blockquote", "pre", "table", "title", "hr", "dd", "dt"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._hidden = 0
        self._in_title = False
        self._title_depth = 0  # hidden elements open where the title began (it sits in <head>)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
            self._title_depth = self._hidden
        elif tag in self.HIDDEN:
            self._hidden += 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self.HIDDEN and self._hidden:
            self._hidden -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            # Text only: what a script or style inside the title holds is not part of it.
            if self._hidden == self._title_depth:
                self.title_parts.append(data)
        elif not self._hidden:
            self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str]:
    """Return (title, visible text) with whitespace tidied line by line."""
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    title = " ".join("".join(parser.title_parts).split())
    return title, text


@register(".html", ".htm")
def load_html(path: Path) -> Document:
    title, text = html_to_text(read_text(path))
    return Document(doc_id=path.stem, title=title or first_line_title(text, path.stem), source=str(path), text=text)
