"""What a word is, in one place: the lexical index and the web page's highlighting both tokenise
through this module.

One pattern (``WORD``: two or more word characters) and one normaliser (lower case, stopwords out,
Snowball stem) give the two views of the index's words:
- ``tokenize(text)``: index terms, for documents and questions alike (BM25);
- ``words(text)`` with ``term(word)``: the same words with their offsets, so a page can mark every
  word whose term the question has."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

WORD = re.compile(r"(?u)\b\w\w+\b")
# Question words carry no topic, so they must not pull passages that merely contain "how" or "did".
STOPWORDS = frozenset(STOPWORDS_EN) | frozenset(
    "how many much did does do what which who whom whose when where why is are was were".split()
)

@lru_cache(maxsize=1)
def _stemmer() -> "Stemmer.Stemmer":
    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The Snowball (English) stem of one lowercase word."""
    return _stemmer().stemWord(word)


def tokenize(text: str) -> list[str]:
    """Index terms: lowercase words of two or more characters, stopwords dropped, Snowball-stemmed."""
    found = [w for w in WORD.findall(text.lower()) if w not in STOPWORDS]
    return _stemmer().stemWords(found) if found else []


def words(text: str) -> Iterator[re.Match[str]]:
    """The words ``tokenize`` reads, as matches (offsets into ``text``)."""
    return WORD.finditer(text)


@lru_cache(maxsize=4096)
def term(word: str) -> str | None:
    """The index term of one word of ``words`` (what ``tokenize`` makes of it); None for a stopword."""
    found = tokenize(word)
    return found[0] if found else None
