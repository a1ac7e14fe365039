"""Batched reading: (question, context) pairs -> each pair's best spans, from one forward pass per
batch of windows."""

from __future__ import annotations

import numpy as np
import torch
from tokenizers import Tokenizer

from .decode import Span, best_spans
from .model import ReaderConfig, SpanReader
from .windows import Window, make_windows, pad_batch


def read_pairs(model: SpanReader, tokenizer: Tokenizer, config: ReaderConfig, questions: list[str],
               contexts: list[str], top: int = 5, batch_size: int = 64,
               device: torch.device | None = None, bf16: bool = False) -> list[list[Span]]:
    """For every pair, its ``top`` spans by margin over no-answer, best first (every window of a long
    context competes). Windows are batched by length, so padding costs little. ``bf16``: autocast the
    forward pass (scripts/reader_variants.py measures what it saves and costs)."""
    windows = make_windows(tokenizer, questions, contexts, config.max_length, config.stride)
    device = device or next(model.parameters()).device
    spans: list[list[Span]] = [[] for _ in questions]
    order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
    with torch.inference_mode():
        for at in range(0, len(order), batch_size):
            batch: list[Window] = [windows[i] for i in order[at:at + batch_size]]
            ids, types, mask = (torch.from_numpy(a).to(device) for a in pad_batch(batch))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                start, end = model(ids, types, mask)
            start_np, end_np = start.float().cpu().numpy(), end.float().cpu().numpy()
            for row, w in enumerate(batch):
                spans[w.pair].extend(best_spans(w, start_np[row], end_np[row], top, config.max_answer_tokens))
    for i, found in enumerate(spans):
        found.sort(key=lambda s: -s.margin)
        # The same characters from two overlapping windows are one span.
        seen: set[tuple[int, int]] = set()
        spans[i] = [s for s in found if not ((s.start, s.end) in seen or seen.add((s.start, s.end)))][:top]
    return spans


def margins(spans: list[list[Span]]) -> np.ndarray:
    """The best span's margin per pair (-inf where a pair produced no span)."""
    return np.array([s[0].margin if s else -np.inf for s in spans], dtype=np.float64)
