"""Checks on what a user asks, shared by the CLI, the API and the page, so all say the same."""

from __future__ import annotations

from .errors import UserError
from .settings import MAX_QUESTION_CHARS, RETRIEVERS


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise UserError("the question is empty: ask something, e.g. rag ask \"Where will Trump and Putin meet?\"")
    if len(question) > MAX_QUESTION_CHARS:
        raise UserError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return question.strip()


def check_k(k: object, maximum: int | None = None) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or (maximum is not None and k > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise UserError(f"k must be a whole number of at least 1{bound}, got {k!r}")
    return k


def check_retriever(name: object) -> str:
    if name not in RETRIEVERS:
        raise UserError(f"unknown retriever {name!r}: use one of {', '.join(RETRIEVERS)}")
    return name  # type: ignore[return-value]
