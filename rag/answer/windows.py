"""Question + passage -> fixed-length token windows that remember each token's character offsets.

Training and reading use this one function, so the reader sees at run time exactly the kind of window
it was trained on. A passage longer than the window is cut into overlapping windows (``stride`` tokens
shared between neighbours), and the question is repeated in each."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

# A question longer than this (in word pieces) is cut: it must leave room for the passage, and no real
# question needs more.
MAX_QUESTION_TOKENS = 48
_TRUNCATION = threading.Lock()


@dataclass(frozen=True)
class Window:
    """One model input. ``pair`` is the index of the (question, context) pair it came from;
    ``offsets[i]`` is token i's character range in that context, (-1, -1) for question and special
    tokens, so only passage tokens can start or end an answer."""

    pair: int
    input_ids: np.ndarray  # int64 [n]
    type_ids: np.ndarray   # int64 [n]
    offsets: np.ndarray    # int32 [n, 2]

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def context_tokens(self) -> np.ndarray:
        return self.offsets[:, 0] >= 0


def load_tokenizer(model_dir: str | Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _trim_question(tokenizer: Tokenizer, question: str) -> str:
    encoding = tokenizer.encode(question, add_special_tokens=False)
    if len(encoding.ids) <= MAX_QUESTION_TOKENS:
        return question
    return question[:encoding.offsets[MAX_QUESTION_TOKENS - 1][1]]


def make_windows(tokenizer: Tokenizer, questions: list[str], contexts: list[str], max_length: int = 192,
                 stride: int = 64) -> list[Window]:
    """Windows for every (question, context) pair, in pair order."""
    if len(questions) != len(contexts):
        raise ValueError("one context per question")
    # The truncation setting lives on the shared tokenizer: one caller at a time sets and uses it.
    with _TRUNCATION:
        pairs = [(_trim_question(tokenizer, q), c) for q, c in zip(questions, contexts)]
        tokenizer.enable_truncation(max_length=max_length, stride=stride, strategy="only_second")
        try:
            encodings = tokenizer.encode_batch(pairs)
        finally:
            tokenizer.no_truncation()
    windows: list[Window] = []
    for pair, encoding in enumerate(encodings):
        for enc in [encoding, *encoding.overflowing]:
            offsets = np.array(enc.offsets, dtype=np.int32).reshape(-1, 2)
            in_context = np.array([s == 1 for s in enc.sequence_ids], dtype=bool)
            offsets[~in_context] = -1
            windows.append(Window(pair, np.array(enc.ids, dtype=np.int64), np.array(enc.type_ids, dtype=np.int64),
                                  offsets))
    return windows


def answer_tokens(window: Window, start_char: int, end_char: int) -> tuple[int, int] | None:
    """The first and last token of the answer ``context[start_char:end_char]`` in this window, or None
    when the window does not hold the whole answer."""
    ctx = np.flatnonzero(window.context_tokens)
    if len(ctx) == 0:
        return None
    starts, ends = window.offsets[ctx, 0], window.offsets[ctx, 1]
    if starts[0] > start_char or ends[-1] < end_char:
        return None
    first = ctx[np.flatnonzero(ends > start_char)[0]]
    last = ctx[np.flatnonzero(starts < end_char)[-1]]
    if last < first:
        return None
    return int(first), int(last)


def pad_batch(windows: list[Window]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input_ids, type_ids, attention_mask), padded to the longest window of the batch."""
    n = max(len(w) for w in windows)
    ids = np.zeros((len(windows), n), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for row, w in enumerate(windows):
        ids[row, :len(w)] = w.input_ids
        types[row, :len(w)] = w.type_ids
        mask[row, :len(w)] = 1
    return ids, types, mask
