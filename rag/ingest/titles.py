"""A document's title: the metadata's title only when it looks like one, by a measured rule rather
than a list of junk names: most of its words must be words of the document's opening (its first
lines or its title heading). "paper.dvi" and "Microsoft Word - Kalman15.doc" are not on the first
page; a real title is."""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W_]+")
# Share of the metadata title's words that must appear in the opening.
_SHARE = 0.8
MAX_TITLE = 200


def looks_like_title(candidate: str, opening: str) -> bool:
    words = [w.lower() for w in _WORD.findall(candidate)]
    if not words:
        return False
    seen = {w.lower() for w in _WORD.findall(opening)}
    return sum(w in seen for w in words) >= _SHARE * len(words)


def choose_title(metadata: str, heading: str, opening: str, fallback: str) -> str:
    """The metadata title if it looks like a title, else the heading, else the fallback."""
    metadata = " ".join(metadata.split())
    if metadata and looks_like_title(metadata, heading + "\n" + opening):
        return metadata[:MAX_TITLE]
    heading = " ".join(heading.split())
    return (heading or fallback)[:MAX_TITLE]
