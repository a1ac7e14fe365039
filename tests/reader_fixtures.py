"""A tiny reader (one layer, 32 wide, the real tokenizer) saved like the shipped one: enough to test
loading, windows, decoding and offsets in well under a second, without the real weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from rag.answer.model import ReaderConfig, SpanReader, save_reader
from rag.settings import default_model


def tiny_base(folder: Path) -> Path:
    """A one-layer BERT with MiniLM's vocabulary, saved as a base model folder."""
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=256)
    BertModel(config, add_pooling_layer=False).save_pretrained(str(folder))
    shutil.copy(Path(default_model()) / "tokenizer.json", folder / "tokenizer.json")
    return folder


def tiny_reader(folder: Path, base: Path, **config: object) -> SpanReader:
    model = SpanReader.from_base(base)
    save_reader(model, ReaderConfig(**config), folder)  # type: ignore[arg-type]
    return model
