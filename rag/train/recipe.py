"""The training recipe: every choice that decides what model comes out, with the shipped defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Recipe:
    max_length: int = 192
    stride: int = 64
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.06
    epochs: float = 1.0
    negatives_per_question: int = 1
    # Windows of other paragraphs of the same article, labelled no answer, per answerable question.
    other_passages: int = 0
    # Windows of the paragraphs (any article) BM25 ranks highest for the question that lack its answer,
    # labelled no answer, per answerable question.
    distractor_passages: int = 0
    # Frozen: the word embeddings (shipped once, with the base model) and the encoder's lowest layers.
    frozen_layers: int = 0
    seed: int = 13
    # Caps on the data, for quick runs (0 = all).
    max_examples: int = 0
    # QAMR questions (rag/train/qamr.py; data_dir/qamr) added to the training questions, drawn with the seed.
    qamr: int = 0
