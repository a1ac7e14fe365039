"""Marking a passage or an answer right or wrong: a small form POST from the results page (no JavaScript)
and ``POST /api/judgments``. Protected like the other writes (web/uploads.py: same-site only, loopback
or the token, and the page's CSRF token for the form); the marks are appended to ``settings.judgments``
by rag.evaluate.judgments, which `rag eval --set` reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, WithJsonSchema

from rag.errors import UserError
from rag.evaluate.judgments import KINDS, MARKS, append, make_judgment
from rag.index.library import UploadRejected
from rag.validation import check_question, shown

from .uploads import Library


class JudgmentRequest(BaseModel):
    question: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1})] = None
    kind: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(KINDS)})] = None
    mark: Annotated[Any, WithJsonSchema({"type": "string", "enum": list(MARKS)})] = None
    doc_id: Annotated[Any, WithJsonSchema({"type": "string"})] = None
    start: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 0})] = None
    end: Annotated[Any, WithJsonSchema({"type": "integer", "minimum": 1})] = None


class JudgmentOut(BaseModel):
    question: str
    kind: str
    mark: str
    doc_id: str
    start: int
    end: int
    text: str
    index_version: str | None
    time: str


def _number(value: Any, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise UserError(f"{name} must be a whole number, got {shown(value)}")


def add_routes(app: FastAPI, assistant: Any, library: Library | None,
               error_page: Callable[[int, str, str], Response], error_model: type[BaseModel]) -> None:
    """The form route and the API route, over ``assistant`` (its settings name the file). ``error_model``
    is the app's ``{"detail": ...}`` model, so the schema documents every refusal as the others."""
    described = {401: "a token is needed (clients not on this machine)",
                 403: "writing is off for this client, or the request came from another site",
                 413: "the request body is over the size limit",
                 422: "what is wrong with the mark (unknown document, span outside it, bad kind or mark)"}
    errors: dict[int | str, dict[str, Any]] = {code: {"model": error_model, "description": text}
                                               for code, text in described.items()}

    def record(question: Any, kind: Any, mark: Any, doc_id: Any, start: Any, end: Any) -> dict[str, Any]:
        question = check_question(question)
        if not isinstance(doc_id, str):
            raise UserError(f"doc_id must be a document id, got {shown(doc_id)}")
        doc = assistant.document(doc_id)
        if doc is None:
            raise UserError(f"there is no document {shown(doc_id)} in the index")
        version = assistant.index_version() if callable(getattr(assistant, "index_version", None)) else None
        version = Path(str(version)).name if version else None  # the version folder's name, not the server's path
        judgment = make_judgment(question, str(kind), str(mark), doc, _number(start, "start"), _number(end, "end"),
                                 version)
        append(assistant.settings.judgments, judgment)
        return judgment.__dict__

    if library is None:
        return  # as for uploads: only a server that can write advertises the write endpoints
    writer: Library = library

    def check(request: Request, form_token: str | None = None) -> Library:
        """The uploads' checks (same site, loopback or the token), their refusals worded for marks."""
        try:
            writer.check_access(request, form_token)
        except UploadRejected as exc:
            raise UploadRejected(str(exc).replace("add or remove documents", "record marks")
                                 .replace("adding and removing documents", "recording marks"), exc.status) from None
        return writer

    @app.post("/judgments", include_in_schema=False)
    def form_judge(request: Request, question: str = Form(""), kind: str = Form(""), mark: str = Form(""),
                   doc_id: str = Form(""), start: str = Form(""), end: str = Form(""), k: str = Form(""),
                   retriever: str = Form(""), csrf: str = Form(""), token: str = Form("")) -> Response:
        try:
            check(request, token).check_csrf(csrf)
            record(question, kind, mark, doc_id, start, end)
        except UploadRejected as exc:
            return error_page(exc.status, "Cannot record that mark", str(exc))
        except UserError as exc:
            return error_page(422, "Cannot record that mark", str(exc))
        # Back to the same results (a GET: reloading the page does not mark twice).
        query = {"q": question, **({"k": k} if k else {}), **({"retriever": retriever} if retriever else {})}
        return RedirectResponse(f"/?{urlencode(query)}&judged={kind}-{mark}", status_code=303)

    @app.post("/api/judgments", status_code=201, response_model=JudgmentOut, responses=errors, tags=["api"],
              summary="Mark a passage or an answer (document, character offsets) right or wrong for a question")
    def api_judge(request: Request, body: JudgmentRequest) -> JSONResponse:
        check(request)
        return JSONResponse(record(body.question, body.kind, body.mark, body.doc_id, body.start, body.end),
                            status_code=201)
