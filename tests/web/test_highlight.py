"""The document view's marks (web/highlight.py): the answer's sentence light, the span strong inside
it, built from escaped pieces."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from web.highlight import mark_in_sentence, sentence_around

TEXT = "The bridge opened in March. The council paid 42 million euros for it. Traffic is heavy."


def test_sentence_around_a_span_is_the_indexs_sentence():
    s = TEXT.index("42 million")
    assert TEXT[slice(*sentence_around(TEXT, s, s + 16))] == "The council paid 42 million euros for it."
    assert sentence_around(TEXT, 0, len(TEXT)) is None  # a whole passage has no one sentence


def test_span_strong_inside_its_sentence_light():
    s = TEXT.index("42 million")
    html = mark_in_sentence(TEXT, sentence_around(TEXT, s, s + 16), s, s + 16, mark_id="hit")
    assert ('<mark class="sentence">The council paid <mark id="hit">42 million euros</mark> for it.</mark>'
            in html)


def test_without_a_sentence_only_the_span_is_marked():
    assert mark_in_sentence("a <b> c", None, 2, 5) == Markup("a <mark>&lt;b&gt;</mark> c")


@given(st.text(max_size=60), st.data())
def test_marks_never_change_the_text_and_escape_it(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    sentence = sentence_around(text, start, end)
    html = str(mark_in_sentence(text, sentence, start, end, mark_id="hit"))
    plain = (html.replace('<mark class="sentence">', "").replace('<mark id="hit">', "").replace("</mark>", ""))
    assert plain == str(Markup.escape(text))
    assert html.count('<mark id="hit">') == 1
