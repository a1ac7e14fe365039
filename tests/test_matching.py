"""SQuAD-style answer metrics, on cases computed by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.matching import best_over_gold, exact_match, f1, normalize_answer


@pytest.mark.parametrize("raw,expected", [
    ("The Eiffel Tower", "eiffel tower"),
    ("  an   apple,  a pear! ", "apple pear"),
    ("Ukraine’s “air force”", "ukraines air force"),  # typographic punctuation goes too
    ("Ukraine's air-force", "ukraines airforce"),
    ("theatre", "theatre"),  # an article only as a whole word
    ("$5 billion", "5 billion"),  # SQuAD's ASCII set holds symbols too ($ + < = > ^ ` | ~)
    ("+3 °C", "3 °c"),  # a Unicode symbol that is not punctuation stays
    ("", ""),
])
def test_normalize_answer(raw, expected):
    assert normalize_answer(raw) == expected


def test_exact_match_ignores_case_articles_and_punctuation():
    assert exact_match("the Kremlin.", "Kremlin") == 1.0
    assert exact_match("Kremlin", "the White House") == 0.0


def test_f1_partial_overlap_by_hand():
    # pred "cat sat on mat" (4 words), gold "cat sat" (2): common 2, P = 2/4, R = 2/2,
    # F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
    assert f1("the cat sat on the mat", "a cat sat") == pytest.approx(2 / 3)


def test_f1_counts_repeated_words_once_each():
    # pred "97 97 drones" vs gold "97 drones": common = min(2,1) + 1 = 2, P = 2/3, R = 1 -> 0.8.
    assert f1("97 97 drones", "97 drones") == pytest.approx(0.8)


def test_f1_no_overlap_and_empty_cases():
    assert f1("Moscow", "Kyiv") == 0.0
    assert f1("", "") == 1.0
    assert f1("", "Kyiv") == 0.0
    assert f1("the", "Kyiv") == 0.0  # normalises to nothing


def test_best_over_gold_takes_the_best_answer():
    golds = ["97 drones", "97"]
    assert best_over_gold(exact_match, "97", golds) == 1.0
    # "about 97 drones" vs "97 drones": P = 2/3, R = 1 -> 0.8; vs "97": P = 1/3, R = 1 -> 0.5.
    assert best_over_gold(f1, "about 97 drones", golds) == pytest.approx(0.8)


def test_best_over_gold_null_prediction_and_unanswerable():
    assert best_over_gold(exact_match, None, ["Kyiv"]) == 0.0
    assert best_over_gold(f1, None, []) == 1.0  # abstaining on an unanswerable question is right
    assert best_over_gold(exact_match, "Kyiv", []) == 0.0


words = st.text(alphabet="abc the,.’", max_size=30)


@given(words, words)
def test_f1_is_symmetric_and_bounded(a, b):
    assert f1(a, b) == pytest.approx(f1(b, a))
    assert 0.0 <= f1(a, b) <= 1.0


@given(words, words)
def test_exact_match_implies_full_f1(a, b):
    if exact_match(a, b) == 1.0:
        assert f1(a, b) == 1.0


@given(words)
def test_normalisation_is_idempotent(a):
    assert normalize_answer(normalize_answer(a)) == normalize_answer(a)
