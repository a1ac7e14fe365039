"""The product's reader: a question and its retrieved passages -> the answer span, its sentence, a
calibrated score, and the alternatives; or None ("no answer in these documents").

Construction is cheap; ``warm_up()`` loads the model (the first ``answer`` does it otherwise)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..matching import normalize_answer
from ..records import Answer, Passage
from ..warm import WarmUp
from ..ingest.sentences import sentence_spans
from .calibration import sigmoid
from .decision import Decision, candidate_features
from .decode import Span

if TYPE_CHECKING:
    from ..settings import Settings

MAX_ALTERNATIVES = 3
# Spans kept per passage before the answer and its alternatives are chosen.
SPANS_PER_PASSAGE = 5

FIX_READER = ("train one with `rag train-reader` (or point RAG_READER at a trained reader), "
              "or ask with --no-answer for passages only")


class ReaderUnavailable(UserError):
    pass


@dataclass(frozen=True)
class Found:
    """A span placed in its document: the reader's margin over no-answer and its calibrated probability."""

    doc_id: str
    start: int
    end: int
    text: str
    logit: float       # start + end logit of the span
    null_logit: float  # its window's no-answer logit
    probability: float  # the margin's calibrated probability (ReaderConfig.calibration)
    sentence: tuple[int, int]
    passage: int = 0  # which of the question's passages it was read from (0: the first)

    @property
    def margin(self) -> float:
        return self.logit - self.null_logit


class Reader(WarmUp):
    """The trained span reader as an ``Answerer`` (rag/answer/base.py)."""

    kind = "reader"
    # The decision reads the passages' sentence cosines to the question (rag/answer/decision.py).
    needs_question_vector = True
    # Three passages read as well as five on the development sets, in 60% of the time
    # (scripts/reader_variants.py; README, "The reader").
    passages = 3

    def __init__(self, reader_dir: str | Path, base_dir: str | Path, threshold: float | None = None,
                 batch_size: int = 64, precision: str = "auto") -> None:
        super().__init__()
        self.reader_dir = Path(reader_dir)
        self.base_dir = Path(base_dir)
        self._threshold = threshold
        self.batch_size = batch_size
        self.precision = precision  # rag/answer/precision.py: "auto" is bf16 where the CPU has it natively
        self._bf16 = False
        self._tokenizer = None
        self.config = None
        self.decision: Decision | None = None

    @classmethod
    def loaded(cls, settings: "Settings") -> "Reader":
        """The reader the settings name, loaded (a missing or damaged one is one clear error here)."""
        reader = cls(settings.reader, settings.model, settings.answer_threshold, precision=settings.reader_precision)
        reader.warm_up()
        return reader

    @classmethod
    def from_model(cls, model, tokenizer, config, batch_size: int = 64) -> "Reader":
        """A reader over a model already in memory (validation right after training). It reads as the
        product will, in bf16 where the hardware has it, so the calibration is fitted on what ships; it
        reads a copy, so the caller's model keeps its fp32 weights."""
        import copy

        reader = cls(Path(), Path(), batch_size=batch_size)
        reader._ready(copy.deepcopy(model), tokenizer, config)
        return reader

    def without_decision(self) -> "Reader":
        """The same loaded model deciding by its own margin calibration: for reading a gold paragraph
        alone, where the answer decision's retrieval features mean nothing."""
        import copy

        self.warm_up()
        plain = copy.copy(self)
        plain.decision = None
        return plain

    @property
    def number_format(self) -> str:
        """"bf16" or "fp32": what reading computes in (rag/answer/precision.py)."""
        self.warm_up()
        return "bf16" if self._bf16 else "fp32"

    @property
    def threshold(self) -> float:
        """Under this an answer's score means "no answer": the setting, else the decision's, else the
        margin calibration's."""
        self.warm_up()
        if self._threshold is not None:
            return self._threshold
        return self.decision.threshold if self.decision is not None else self.config.threshold

    def _load(self) -> None:
        # torch comes in here, not at import: `rag ask --no-answer` and `rag --help` never need it.
        from .model import load_reader
        from .windows import load_tokenizer

        try:
            model, config = load_reader(self.reader_dir, self.base_dir)
        except FileNotFoundError as exc:
            raise ReaderUnavailable(f"the reader's weights are missing ({exc}): {FIX_READER}") from None
        except (ValueError, OSError, RuntimeError) as exc:
            raise ReaderUnavailable(f"the reader's weights are damaged ({exc}): {FIX_READER}") from None
        self._ready(model, load_tokenizer(self.base_dir), config)

    def _ready(self, model, tokenizer, config) -> None:
        from .precision import use_bf16

        self._tokenizer, self.config = tokenizer, config
        self.decision = Decision.from_dict(config.decision) if config.decision else None
        self._bf16 = use_bf16(self.precision, next(model.parameters()).device)
        if self._bf16:
            import torch

            # Weights kept in bf16: autocast would cast every weight again on every call, 9% of the
            # reader's time (scripts/reader_variants.py, kinds bf16 and bf16w), and they take half the memory.
            model = model.to(torch.bfloat16)
        self._model = model  # last: a model that is set is ready to use

    # -- answering ---------------------------------------------------------------------------
    def answer(self, question: str, passages: list[Passage]) -> tuple[Answer | None, list[Answer]]:
        return self.answer_many([(question, passages)])[0]

    def answer_many(self, items: list[tuple[str, list[Passage]]]) -> list[tuple[Answer | None, list[Answer]]]:
        """Every question with its passages, read in one batched pass over all their windows."""
        return [self._choose(self.scored(q, passages, found)) for (q, passages), found in zip(items, self.read(items))]

    def scored(self, question: str, passages: list[Passage], found: list[Found]) -> list[Found]:
        """The candidates, best margin first; the first (the answer) scored by the decision's probability
        that it is right. The decision was fitted on answers, not on alternatives, so these keep the
        margin's calibrated probability (and are held to its threshold: ``_choose``)."""
        if self.decision is None or not found:
            return found
        p = self.decision.probabilities(candidate_features(question, passages, found)[:1])[0]
        return [replace(found[0], probability=float(p)), *found[1:]]

    def read(self, items: list[tuple[str, list[Passage]]]) -> list[list[Found]]:
        """Each question's candidate spans, one per document span, best margin first."""
        from .reading import read_pairs

        self.warm_up()
        questions, contexts, owners = [], [], []
        for i, (question, passages) in enumerate(items):
            for n, p in enumerate(passages):
                questions.append(question)
                contexts.append(p.chunk.text)
                owners.append((i, n, p))
        spans = read_pairs(self._model, self._tokenizer, self.config, questions, contexts, top=SPANS_PER_PASSAGE,
                           batch_size=self.batch_size, bf16=self._bf16) if questions else []
        found: list[list[Found]] = [[] for _ in items]
        for (i, n, passage), pair_spans in zip(owners, spans):
            found[i].extend(self._place(passage, n, s) for s in pair_spans)
        return [_distinct(f) for f in found]

    def _place(self, passage: Passage, n: int, span: Span) -> Found:
        chunk = passage.chunk
        sentence = _sentence_around(chunk.text, span.start, span.end)
        cal = self.config.calibration
        probability = float(sigmoid(cal["scale"] * span.margin + cal["bias"]))
        return Found(chunk.doc_id, chunk.start + span.start, chunk.start + span.end, chunk.text[span.start:span.end],
                     span.logit, span.null_logit, probability, (chunk.start + sentence[0], chunk.start + sentence[1]), n)

    def _choose(self, ranked: list[Found]) -> tuple[Answer | None, list[Answer]]:
        threshold = self.threshold
        if not ranked or ranked[0].probability < threshold:
            return None, []
        # Alternatives carry the margin's probability: with a decision, the margin's own threshold applies.
        floor = self.config.threshold if self.decision is not None and self._threshold is None else threshold
        best = ranked[0]
        # Alternatives: other answers (different words, not part of the best span), each counted once,
        # best-supported first: the summed probability of every passage that gives it.
        support: dict[str, float] = {}
        first: dict[str, Found] = {}
        best_key = normalize_answer(best.text)
        for f in ranked[1:]:
            key = normalize_answer(f.text)
            if not key or key == best_key or f.probability < floor or _overlaps(f, best):
                continue
            if len(sentence_spans(f.text)) > 1:
                continue  # a span running over a sentence's end is the reader overreaching, not another answer
            support[key] = support.get(key, 0.0) + f.probability
            first.setdefault(key, f)
        alternatives = sorted(first, key=lambda k: -support[k])[:MAX_ALTERNATIVES]
        return _answer(best), [_answer(first[k]) for k in alternatives]


def _distinct(found: list[Found]) -> list[Found]:
    """Overlapping chunks read the same characters twice: one entry per document span, its best score."""
    best_of: dict[tuple[str, int, int], Found] = {}
    for f in found:
        key = (f.doc_id, f.start, f.end)
        if key not in best_of or f.probability > best_of[key].probability:
            best_of[key] = f
    return sorted(best_of.values(), key=lambda f: (-f.margin, f.end - f.start))


def _answer(f: Found) -> Answer:
    return Answer(f.text, f.doc_id, f.start, f.end, round(f.probability, 4), f.sentence[0], f.sentence[1])


def _overlaps(a: Found, b: Found) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence(s) of ``text`` that hold ``text[start:end]``: from the start of the sentence the
    span starts in to the end of the one it ends in."""
    spans = sentence_spans(text)
    s = next((a for a, b in spans if a <= start < b), start)
    e = next((b for a, b in reversed(spans) if a < end <= b), end)
    return min(s, start), max(e, end)
