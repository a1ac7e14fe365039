"""Which number format a model computes in on this CPU, shared by the reader (rag/answer/precision.py)
and the embedder (rag/index/embedding.py): bf16 where the CPU does bf16 natively (AVX512-BF16 or AMX),
fp32 elsewhere, because emulated bf16 is slower than fp32. Read from /proc/cpuinfo, without torch, so
building an ``Embedder`` stays cheap."""

from __future__ import annotations

from functools import lru_cache

from .settings import READER_PRECISIONS as PRECISIONS


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 among the CPU's flags (Linux; False where /proc/cpuinfo is missing)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose(precision: str, native: bool) -> str:
    """``auto`` -> "bf16" if ``native`` else "fp32"; "bf16" and "fp32" force one (forced bf16 still runs
    where it is emulated)."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "auto":
        return "bf16" if native else "fp32"
    return precision
