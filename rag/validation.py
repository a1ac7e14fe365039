"""Checks on what a user asks, shared by the CLI, the API and the page, so all say the same."""

from __future__ import annotations

from .errors import UserError
from .settings import MAX_QUESTION_CHARS, RETRIEVERS

# A bad value is quoted in the message, but never whole: a 10 MB value must not come back as a 10 MB error.
SHOWN_CHARS = 60


def shown(value: object) -> str:
    """``repr(value)``, cut to SHOWN_CHARS characters."""
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        value = value[:SHOWN_CHARS]  # cut first: repr of the whole value would cost its full size
    try:
        text = repr(value)
    except ValueError:  # an integer too long to print
        return "a value too long to show"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise UserError("the question is empty: ask something, e.g. rag ask \"Where will Trump and Putin meet?\"")
    if len(question) > MAX_QUESTION_CHARS:
        raise UserError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}")
    _check_unicode(question)
    return question.strip()


def _check_unicode(question: str) -> None:
    """A lone surrogate (legal in JSON as "\\ud800", or what an undecodable byte of a command line or
    stdin line becomes) cannot be encoded, so the tokenizer would fail on it: reject it here, as the
    question's own error."""
    try:
        question.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UserError(f"the question is not valid text: character {exc.start + 1} is not a Unicode character "
                        "(a lone surrogate, or a byte that is not UTF-8): send the question as UTF-8") from None


def check_k(k: object, maximum: int | None = None) -> int:
    if isinstance(k, float) and k.is_integer():
        k = int(k)  # JSON Schema counts 5.0 as an integer, so the API's schema promises to take it
    if isinstance(k, bool) or not isinstance(k, int) or k < 1 or (maximum is not None and k > maximum):
        bound = f" and at most {maximum}" if maximum is not None else ""
        raise UserError(f"k must be a whole number of at least 1{bound}, got {shown(k)}")
    return k


def check_retriever(name: object) -> str:
    if name not in RETRIEVERS:
        raise UserError(f"unknown retriever {shown(name)}: use one of {', '.join(RETRIEVERS)}")
    return name  # type: ignore[return-value]
