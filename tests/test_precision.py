"""The shared precision rule (rag/precision.py): the CPU's flags decide "auto", forcing overrides them."""

from __future__ import annotations

import builtins
import io

import pytest

from rag import precision


@pytest.fixture
def cpuinfo(monkeypatch):
    """Serve /proc/cpuinfo from a string (None: the file is missing); the cached answer is dropped."""
    real_open = builtins.open

    def serve(text):
        def fake_open(path, *args, **kwargs):
            if str(path) == "/proc/cpuinfo":
                if text is None:
                    raise FileNotFoundError(path)
                return io.StringIO(text)
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", fake_open)
        precision.cpu_has_bf16.cache_clear()

    yield serve
    precision.cpu_has_bf16.cache_clear()


@pytest.mark.parametrize("flags, native", [
    ("fpu sse avx2 avx512f avx512_bf16", True),
    ("fpu sse avx2 amx_bf16 amx_tile", True),
    ("fpu sse avx2 avx512f avx512_vnni", False),
    (None, False),  # no /proc/cpuinfo (not Linux): fp32, the safe side
])
def test_the_cpu_flags_decide(cpuinfo, flags, native):
    cpuinfo(None if flags is None else f"processor\t: 0\nflags\t\t: {flags}\n")
    assert precision.cpu_has_bf16() is native


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_the_hardware_and_forcing_overrides_it(native):
    assert precision.choose("auto", native) == ("bf16" if native else "fp32")
    assert precision.choose("bf16", native) == "bf16"
    assert precision.choose("fp32", native) == "fp32"


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="int8.*auto, fp32, bf16"):
        precision.choose("int8", True)


def test_the_reader_uses_the_same_cpu_check(monkeypatch):
    torch = pytest.importorskip("torch")
    from rag.answer import precision as reader_precision

    for native in (True, False):
        monkeypatch.setattr(reader_precision, "cpu_has_bf16", lambda: native)
        assert reader_precision.bf16_available(torch.device("cpu")) is native
