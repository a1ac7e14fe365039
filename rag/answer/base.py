"""What the answer stage promises the assistant (the trained reader, or a test's fake): answers for a
batch of questions, each with the passages it may read."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..records import Answer, Passage

# One question's answer (None: no answer in these passages) and its distinct alternatives.
Read = tuple[Answer | None, list[Answer]]


@runtime_checkable
class Answerer(Protocol):
    # What the eval report shows ("reader").
    kind: str
    # Whether answering needs the question's vector (the no-answer decision reads the passages' sentence
    # cosines), so a BM25-only question can skip embedding when it does not.
    needs_question_vector: bool
    # How many of the top passages it reads when the settings leave answer_passages unset: a measured
    # choice per answerer (reading more costs time and can let a wrong passage win).
    passages: int

    def warm_up(self) -> None: ...

    def answer_many(self, items: list[tuple[str, list[Passage]]]) -> list[Read]: ...
