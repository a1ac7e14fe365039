"""rag.tokens, the one tokenising module: index terms and the same words with offsets, through one
stemmer and one stopword list."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from rag.tokens import STOPWORDS, stem, term, tokenize, words


def test_index_terms_are_stemmed_content_words():
    # Question words and stopwords go, single characters go ("S" of "U.S."), "1,200" is cut at the comma.
    assert tokenize("How did the meetings in Anchorage, Alaska go? U.S. officials said 1,200 won’t.") == \
        ["meet", "anchorag", "alaska", "go", "offici", "said", "200", "won"]
    assert tokenize("") == [] and tokenize("the of and") == []


def test_the_offset_view_is_the_index_view():
    text = "The Meetings ended; Putin met Trump."
    found = [(m.start(), m.end(), term(m.group(0))) for m in words(text)]
    assert [t for _, _, t in found if t] == tokenize(text)
    assert all(text[s:e].lower().startswith(t[:3]) for s, e, t in found if t)
    assert term("the") is None and term("Meetings") == "meet"


# Lower-casing the whole text and lower-casing each word find the same words for this alphabet; a few
# letters (such as "İ", two characters once lower-cased) are the exception, for both views alike.
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,;’'-_é", max_size=60))
def test_words_with_their_terms_give_the_index_terms(text):
    assert [t for m in words(text) if (t := term(m.group(0)))] == tokenize(text)


def test_one_stemmer_and_one_stopword_list():
    assert stem("meetings") == "meet" == tokenize("meetings")[0]
    assert {"how", "did", "the", "were"} <= STOPWORDS
