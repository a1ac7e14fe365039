"""Windows over question + passage: offsets always point into the passage, long passages overlap,
and an answer's tokens cover exactly its characters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.answer.windows import MAX_QUESTION_TOKENS, answer_tokens, load_tokenizer, make_windows, pad_batch
from rag.settings import default_model


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(default_model())


WORDS = st.sampled_from(["Putin", "met", "the", "governor", "of", "Belgorod", "in", "2025", "Anchorage,",
                         "Alaska", "—", "drones", "café", "“quoted”", "x", "U.S.", "10km"])


@settings(max_examples=60, deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=120), pick=st.data())
def test_offsets_point_into_the_context_and_answers_round_trip(tokenizer, words, pick):
    context = " ".join(words)
    windows = make_windows(tokenizer, ["Who met the governor?"], [context], max_length=48, stride=16)
    assert windows and all(w.pair == 0 for w in windows)
    for w in windows:
        ctx = w.offsets[w.context_tokens]
        assert (ctx[:, 0] >= 0).all() and (ctx[:, 1] <= len(context)).all() and (ctx[:, 0] < ctx[:, 1]).all()
        assert len(w) <= 48
    # A span of whole words: some window holds it, and its tokens cover exactly those characters.
    i = pick.draw(st.integers(0, len(words) - 1))
    j = pick.draw(st.integers(i, min(len(words) - 1, i + 3)))
    start = sum(len(x) + 1 for x in words[:i])
    end = start + len(" ".join(words[i:j + 1]))
    hits = [(w, answer_tokens(w, start, end)) for w in windows]
    hits = [(w, t) for w, t in hits if t]
    assert hits, "no window holds the answer"
    for w, (first, last) in hits:
        assert context[w.offsets[first, 0]:w.offsets[last, 1]] == context[start:end]


def test_a_long_passage_becomes_overlapping_windows_each_with_the_question(tokenizer):
    context = " ".join(f"word{i}" for i in range(300))
    windows = make_windows(tokenizer, ["What is here?"], [context], max_length=64, stride=16)
    assert len(windows) > 5
    for a, b in zip(windows, windows[1:]):
        # Neighbours share passage tokens, so an answer cut by one window is whole in the next.
        assert a.offsets[a.context_tokens][-1, 1] > b.offsets[b.context_tokens][0, 0]
    question_ids = windows[0].input_ids[:windows[0].type_ids.argmax()]
    assert all((w.input_ids[:len(question_ids)] == question_ids).all() for w in windows)


def test_a_huge_question_is_cut_and_still_leaves_room_for_the_passage(tokenizer):
    windows = make_windows(tokenizer, ["war " * 200], ["Peace talks resumed in Geneva."], max_length=64, stride=16)
    assert windows and windows[0].context_tokens.sum() > 0
    assert (windows[0].type_ids == 0).sum() <= MAX_QUESTION_TOKENS + 2


def test_answer_outside_the_window_is_none_and_pad_batch_pads(tokenizer):
    context = "Alpha beta gamma delta."
    w = make_windows(tokenizer, ["q?"], [context])[0]
    assert answer_tokens(w, 0, 5) is not None
    assert answer_tokens(w, 100, 105) is None
    ids, types, mask = pad_batch([w, make_windows(tokenizer, ["a longer question here?"], [context])[0]])
    assert ids.shape == types.shape == mask.shape and mask[0].sum() == len(w)
