"""Which number format the reader computes in: bf16 where the hardware does bf16 natively (it was trained
under bf16 autocast), fp32 elsewhere (emulated bf16 is slower than fp32)."""

from __future__ import annotations

import torch

from ..precision import cpu_has_bf16
from ..settings import READER_PRECISIONS as PRECISIONS


def bf16_available(device: torch.device) -> bool:
    """Native bf16: a CUDA device that supports it, or a CPU with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return cpu_has_bf16()  # the one CPU check, shared with the embedder


def use_bf16(precision: str, device: torch.device) -> bool:
    """``auto``: bf16 if native; ``bf16`` and ``fp32`` force one (forced bf16 still runs where emulated)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    return precision == "bf16" or (precision == "auto" and bf16_available(device))
