"""What the answer stage promises the assistant, whichever answerer the settings choose (the trained
reader, or the rules): answers for a batch of questions, each with the passages it may read."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..records import Answer, Passage

# One question's answer (None: no answer in these passages) and its distinct alternatives.
Read = tuple[Answer | None, list[Answer]]


@runtime_checkable
class Answerer(Protocol):
    # "reader" or "rules": which bench target applies, and what the eval report shows.
    kind: str
    # Whether answering needs the question's vector (the rules score sentences by cosine; the reader
    # reads tokens), so a BM25-only question can skip embedding.
    needs_question_vector: bool
    # How many of the top passages it reads when the settings leave answer_passages unset: a measured
    # choice per answerer (reading more costs time and can let a wrong passage win).
    passages: int

    def warm_up(self) -> None: ...

    def answer_many(self, items: list[tuple[str, list[Passage]]]) -> list[Read]: ...
