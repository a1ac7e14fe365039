"""The reader's number format: auto follows the hardware, forcing works, bf16 reads the same answers."""

from __future__ import annotations

import pytest
import torch

from rag.answer import precision
from rag.answer.reader import Reader
from rag.records import Chunk, Passage
from tests.reader_fixtures import tiny_base, tiny_reader

CPU = torch.device("cpu")


@pytest.mark.parametrize("native", [True, False])
def test_auto_follows_the_hardware_and_forcing_overrides_it(monkeypatch, native):
    monkeypatch.setattr(precision, "bf16_available", lambda device: native)
    assert precision.use_bf16("auto", CPU) is native
    assert precision.use_bf16("bf16", CPU) is True
    assert precision.use_bf16("fp32", CPU) is False


def test_an_unknown_precision_is_refused():
    with pytest.raises(ValueError, match="fp8"):
        precision.use_bf16("fp8", CPU)


def test_bf16_reads_the_same_spans_as_fp32(tmp_path):
    base = tiny_base(tmp_path / "base")
    tiny_reader(tmp_path / "reader", base)
    text = "Putin met the regional governor in Magadan. He then flew to Anchorage, Alaska, for the summit."
    passages = [Passage(Chunk("d", "d:0", 0, len(text), text), 1, 1.0, "t", "src")]
    fp32 = Reader(tmp_path / "reader", base, threshold=0.0, precision="fp32")
    bf16 = Reader(tmp_path / "reader", base, threshold=0.0, precision="bf16")
    a32 = fp32.read([("Where did Putin fly?", passages)])[0]
    a16 = bf16.read([("Where did Putin fly?", passages)])[0]
    assert (bf16.number_format, fp32.number_format) == ("bf16", "fp32")
    # bf16 keeps 8 bits of mantissa: the scores move a little, the candidates stay the same.
    assert {(f.start, f.end) for f in a16} & {(f.start, f.end) for f in a32}
    assert a16[0].probability == pytest.approx(a32[0].probability, abs=0.05)



def test_bf16_keeps_the_weights_in_bf16_and_fp32_leaves_them(tmp_path):
    base = tiny_base(tmp_path / "base")
    tiny_reader(tmp_path / "reader", base)
    for name, dtype in (("bf16", torch.bfloat16), ("fp32", torch.float32)):
        reader = Reader(tmp_path / "reader", base, precision=name)
        reader.warm_up()
        assert {p.dtype for p in reader._model.parameters()} == {dtype}


def test_a_model_in_memory_is_read_in_bf16_from_a_copy(tmp_path, monkeypatch):
    from rag.answer.model import load_reader
    from rag.answer.windows import load_tokenizer

    monkeypatch.setattr(precision, "bf16_available", lambda device: True)
    base = tiny_base(tmp_path / "base")
    tiny_reader(tmp_path / "reader", base)
    model, config = load_reader(tmp_path / "reader", base)
    reader = Reader.from_model(model, load_tokenizer(base), config)
    assert reader.number_format == "bf16"
    assert {p.dtype for p in reader._model.parameters()} == {torch.bfloat16}
    # The trainer saves this model right after validating it: its weights must stay fp32.
    assert {p.dtype for p in model.parameters()} == {torch.float32}
