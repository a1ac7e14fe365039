"""FastAPI app: the search page, document pages and the JSON API over one loaded ``Assistant``.

The index and model are loaded once (``create_app_from_env``) and shared by every request; the
endpoints that run the model are plain ``def`` functions, so FastAPI runs them in its thread pool,
off the event loop."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import UserError
from rag.index.library import UploadRejected
from rag.index.store.lock import IndexBusy
from rag.settings import MAX_QUESTION_CHARS, RETRIEVERS, Settings
from rag.validation import check_k, check_question, check_retriever, shown

from .batching import Batcher, Unavailable
from .guards import BodyGuard, HostGuard, NoSniff, Shed, WriteGuard, env_allowed_hosts, env_max_body_bytes
from .files import file_headers, original_file
from .highlight import mark_in_sentence, sentence_around
from .judgments import add_routes as add_judgment_routes
from .reload import IndexWatcher
from .uploads import MULTIPART_OVERHEAD, UPLOAD_PATHS, Library
from .views import doc_href, example_question, file_href, page_views, result_view, source_name

HERE = Path(__file__).resolve().parent
MAX_K = 50
# Questions waiting for the batcher before new ones get 503 + Retry-After (RAG_MAX_QUEUE; 0: no limit).
# At about 75 questions a second, 32 waiting is under half a second of queue.
DEFAULT_MAX_QUEUE = 32
# The pages run no script at all; this also stops any markup that ever slipped through escaping.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the page's own
    # form posts, which the upload form's cross-site check must refuse; other sites still get nothing.
    "Referrer-Policy": "same-origin",
}


# -- API schema (for /docs; validation itself is rag.validation, so every surface says the same) --
class AskRequest(BaseModel):
    # Required in the schema; a missing question is still the shared 422 message, not pydantic's.
    model_config = ConfigDict(json_schema_extra={"required": ["question"]})

    question: Annotated[Any, WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS,
                                             "pattern": r"\S",
                                             "examples": ["Where will Trump and Putin meet?"]})] = None
    # null means the server's default, as an absent field does.
    k: Annotated[Any, WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_K}, {"type": "null"}],
                                      "default": 5})] = None
    retriever: Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "enum": list(RETRIEVERS)},
                                                        {"type": "null"}], "default": "hybrid"})] = None


# The response models describe ``Result.to_dict`` (rag/records.py), the one source of the contract that
# `rag ask --json` prints too; they only document it (api_ask returns to_dict as it is), and
# tests/web/test_response_schema.py keeps the two equal field for field. Extra fields are forbidden so
# the schema promises exactly what is sent.
class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SentenceOut(_Out):
    start: int
    end: int


class AnswerOut(_Out):
    text: str
    doc_id: str
    start: int
    end: int
    score: float = Field(ge=0, le=1)
    sentence: SentenceOut
    page: int | None = Field(default=None, ge=1, description="1-based page of `start`; null for formats without pages")


class PassageOut(_Out):
    rank: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(default=None, ge=1, description="1-based page of `start`; null for formats without pages")


class AskResponse(_Out):
    question: str
    answer: AnswerOut | None
    alternatives: list[AnswerOut]
    passages: list[PassageOut]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    source: str
    characters: int
    url: str


class JobFileOut(_Out):
    name: str = Field(description="the file's name as it will be stored")
    state: Literal["queued", "reading", "embedding", "done", "failed"]
    pages: int = Field(ge=0, description="pages of a PDF once read; 0 for formats without pages")
    pages_read: int = Field(ge=0)
    chunks: int = Field(ge=0, description="chunks to embed, once the file is read")
    chunks_embedded: int = Field(ge=0)
    doc_id: str | None = Field(description="the document, once done")
    title: str | None
    url: str | None
    error: str | None = Field(description="why it failed: what the status code says, in one line")
    status: int | None = Field(description="the HTTP status that fits the failure (409, 415, 422, ...)")


class JobOut(_Out):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    url: str
    files: list[JobFileOut]


class RemoveResponse(BaseModel):
    removed: str


class ErrorOut(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "the request body is over the size limit"},
    422: {"model": ErrorOut, "description": "what is wrong with the request"},
    503: {"model": ErrorOut, "description": "too many questions waiting: retry after the Retry-After seconds"},
}


# -- helpers -----------------------------------------------------------------------------------
def _int_or_raw(text: str | None) -> object:
    """A query-string number as int when it is one; otherwise the raw text, so the shared check
    reports exactly what was given."""
    if text is None or text.strip() == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def check_span(doc_id: str, length: int, start: str | None, end: str | None) -> tuple[int, int] | None:
    """The highlighted span of a document page, or None when none was asked for."""
    s, e = _int_or_raw(start), _int_or_raw(end)
    if s is None and e is None:
        return None
    if s is None or e is None:
        raise UserError("give both start and end to highlight a span, e.g. ?start=0&end=100")
    for name, value in (("start", s), ("end", e)):
        if not isinstance(value, int):
            raise UserError(f"{name} must be a whole number, got {shown(value)}")
    if not 0 <= s < e <= length:  # type: ignore[operator]
        raise UserError(f"the span {s}:{e} is outside the document {shown(doc_id)}, which has {length} characters: "
                        f"use 0 <= start < end <= {length}")
    return s, e  # type: ignore[return-value]


def _validation_message(exc: RequestValidationError) -> str:
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return "the request body is not valid JSON: send {\"question\": \"...\", \"k\": 5, \"retriever\": \"hybrid\"}"
    return "the request body must be a JSON object: {\"question\": \"...\", \"k\": 5, \"retriever\": \"hybrid\"}"


# -- the app -----------------------------------------------------------------------------------
def create_app(assistant: Any, batch_workers: int = 1, max_queue: int | None = None,
               allowed_hosts: tuple[str, ...] | None = None, max_body_bytes: int | None = None,
               reload_seconds: float | None = None) -> FastAPI:
    """The app over an already-loaded assistant (anything with ask_many, documents, document,
    health). Questions go through a ``Batcher``: one worker embeds a batch on one core while the other
    core serves HTTP; measured no slower than two workers, with a lower p99, on a busy 2-core machine.
    Unset limits come from RAG_MAX_QUEUE, RAG_ALLOWED_HOSTS and RAG_MAX_BODY_BYTES (web/guards.py)."""
    if max_queue is None:
        max_queue = _env_int("RAG_MAX_QUEUE", DEFAULT_MAX_QUEUE)
    batcher = Batcher(assistant, workers=batch_workers, max_queue=max_queue or None)
    if reload_seconds is None:
        reload_seconds = float(getattr(getattr(assistant, "settings", None), "reload_seconds", 0.0))
    watcher = IndexWatcher(assistant, reload_seconds)
    can_write = callable(getattr(assistant, "refresh", None)) and hasattr(assistant, "embedder") \
        and getattr(getattr(assistant, "settings", None), "store", "") == "local"
    library = Library(assistant) if can_write else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()  # a no-op the first time; after an earlier shutdown, the workers again
        watcher.start()
        yield
        watcher.close()
        batcher.close()

    app = FastAPI(title="rag — offline question answering",
                  description="Ask questions about the indexed documents; every answer is a verbatim span "
                              "with character offsets into its source document.",
                  version="0.1.0", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.assistant = assistant
    app.state.batcher = batcher
    app.state.watcher = watcher
    # Outermost first: every response gets nosniff, then the Host is checked, then the body's size.
    # Uploads get their own, larger limit (the file's, plus room for the multipart framing).
    upload_limit = (library.max_bytes + MULTIPART_OVERHEAD) if library is not None else 0
    app.add_middleware(BodyGuard, max_bytes=env_max_body_bytes() if max_body_bytes is None else max_body_bytes,
                       larger=tuple((path, upload_limit) for path in UPLOAD_PATHS) if library else ())
    # Outside the body guard: who may upload is decided from the headers, before the body is read.
    app.add_middleware(WriteGuard, paths=UPLOAD_PATHS if library else (),
                       refusal=library.refusal if library is not None else None)
    app.add_middleware(Shed, paths=("/api/ask",), full=batcher.full, refuse=batcher.refuse)
    app.add_middleware(HostGuard, allowed=env_allowed_hosts() if allowed_hosts is None else allowed_hosts)
    app.add_middleware(NoSniff)
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    health = assistant.health()
    answering = bool(health.get("answerer", True))
    settings = getattr(assistant, "settings", None)
    default_k = getattr(settings, "k", 5)
    default_retriever = getattr(settings, "retriever", "hybrid")

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _mount_docs(app)

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("notice", None)
        context.setdefault("problem", None)
        context.setdefault("upload", {"csrf": library.csrf_token, "max_mb": library.max_bytes // 1_000_000,
                                      "token": bool(library.token)} if library is not None else None)
        context.setdefault("retrievers", RETRIEVERS)
        context.setdefault("max_chars", MAX_QUESTION_CHARS)
        context.setdefault("example", None)  # a question from the documents for the empty box
        html = env.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and request.url.path in UPLOAD_PATHS:
            # The framework's "error parsing the body": the documented 422, saying what to send.
            return JSONResponse({"detail": "the request body is not valid multipart/form-data: send the files in "
                                           "the field `files`"}, status_code=422)
        if exc.status_code != 405:
            return await http_exception_handler(request, exc)
        # Starlette's Allow names the first route on the path only; GET and POST /api/documents are two.
        methods: set[str] = set()
        for route in app.router.routes:
            regex, route_methods = getattr(route, "path_regex", None), getattr(route, "methods", None)
            if regex is not None and route_methods and regex.match(request.url.path):
                methods |= set(route_methods)
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405,
                            headers={"Allow": ", ".join(sorted(methods))})

    @app.exception_handler(UploadRejected)
    async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> JSONResponse:
        # Another writer (a `rag index` run) holds the index: a conflict, not bad input.
        return JSONResponse({"detail": str(exc)}, status_code=409 if isinstance(exc, IndexBusy) else 422)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)})

    # -- pages ---------------------------------------------------------------------------------
    examples: dict[str, str | None] = {}

    def corpus_example(docs: list[Any]) -> str | None:
        # The scan reads up to 200 documents' openings (0.1 s on such a corpus): once per local index
        # version, not on every page; a store without versions (Milvus) is scanned each time.
        version = assistant.index_version()
        if version is None:
            return example_question(docs)
        if version not in examples:
            examples.clear()
            examples[version] = example_question(docs)
        return examples[version]

    def home(status: int = 200, notice: str | None = None, problem: str | None = None) -> HTMLResponse:
        form = {"q": "", "k": "", "retriever": default_retriever}
        docs = sorted(assistant.documents(), key=lambda d: d.title.lower())
        listed = [{"title": d.title, "href": doc_href(d.doc_id), "doc_id": d.doc_id,
                   "remove": f"/documents/{quote(d.doc_id, safe='')}/remove"
                   if library is not None and library.removable(d.source) else ""} for d in docs]
        return page("index.html", status=status, form=form, error=None, result=None, answering=answering,
                    documents=listed, notice=notice, problem=problem, example=corpus_example(docs))

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def search_page(q: str | None = None, k: str | None = None, retriever: str | None = None) -> HTMLResponse:
        form = {"q": q or "", "k": k or "", "retriever": retriever or default_retriever}
        if q is None:
            return home()
        try:
            question = check_question(q)
            k_raw = _int_or_raw(k)
            k_value = check_k(default_k if k_raw is None else k_raw, maximum=MAX_K)
            name = check_retriever(retriever or default_retriever)
            result = batcher.ask(question, k_value, name)
        except UserError as exc:
            return page("index.html", status=422, form=form, error=str(exc), result=None, answering=answering,
                        documents=[])
        except Unavailable as exc:
            response = page("index.html", status=503, form=form, error=str(exc), result=None, answering=answering,
                            documents=[])
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        view = result_view(result, assistant.document)
        return page("index.html", form=form, error=None, result=view, answering=answering, documents=[])

    @app.api_route("/doc/{doc_id:path}/file", methods=["GET", "HEAD"], include_in_schema=False)
    def document_file(doc_id: str) -> Response:
        doc = assistant.document(doc_id)
        if doc is None:
            # An id that itself ends in "/file" is a document page, not a file.
            if assistant.document(f"{doc_id}/file") is not None:
                return document_page(f"{doc_id}/file")
            return page("error.html", status=404, title="Document not found",
                        message=f"there is no document {shown(doc_id)} in the index")
        found = original_file(doc)
        if found is None:
            return page("error.html", status=404, title="No original file",
                        message=f"the document {shown(doc_id)} has no original file here (a corpus record, "
                                "or the file was moved or deleted since it was indexed)")
        path, media_type = found
        return FileResponse(path, media_type=media_type, headers=file_headers(path),
                            content_disposition_type="inline", filename=path.name)

    @app.api_route("/doc/{doc_id:path}", methods=["GET", "HEAD"], response_class=HTMLResponse,
                   include_in_schema=False)
    def document_page(doc_id: str, start: str | None = None, end: str | None = None) -> HTMLResponse:
        # Only indexed documents: the id is looked up in the index, never joined to a path.
        doc = assistant.document(doc_id)
        if doc is None:
            return page("error.html", status=404, title="Document not found",
                        message=f"there is no document {shown(doc_id)} in the index")
        try:
            span = check_span(doc_id, len(doc.text), start, end)
        except UserError as exc:
            return page("error.html", status=422, title="Cannot show that part", message=str(exc))
        # The span marked strong inside its sentence, marked light.
        sentence = sentence_around(doc.text, span[0], span[1]) if span else None
        body = mark_in_sentence(doc.text, sentence, span[0], span[1], mark_id="hit") if span else doc.text
        pages = page_views(doc.text, doc.pages, span, sentence) if doc.pages else []
        return page("doc.html", doc=doc, source=source_name(doc.source), body=body, span=span,
                    characters=len(doc.text), pages=pages, span_page=doc.page_at(span[0]) if span else None,
                    file_href=file_href(doc.doc_id) if original_file(doc) else "")

    # -- adding and removing documents (no JavaScript: multipart form posts) ----------------------
    def writable() -> Library:
        if library is None:
            raise UploadRejected("this server cannot add or remove documents", 503)
        return library

    @app.post("/documents", response_class=HTMLResponse, include_in_schema=False)
    def form_add(request: Request, files: list[UploadFile] = File(default=[]), csrf: str = Form("")) -> Response:
        try:
            lib = writable()
            lib.check_access(request)
            lib.check_csrf(csrf)
            job = lib.submit([(f.filename or "document", f.file.read(lib.max_bytes + 1)) for f in files if f.filename])
        except UploadRejected as exc:
            return home(exc.status, problem=str(exc))
        except UserError as exc:
            return home(422, problem=str(exc))
        # At once: the job's page shows its progress, then the document.
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.api_route("/jobs/{job_id}", methods=["GET", "HEAD"], response_class=HTMLResponse, include_in_schema=False)
    def job_page(job_id: str) -> Response:
        job = library.jobs.get(job_id) if library is not None else None
        if job is None:
            return page("error.html", status=404, title="No such upload",
                        message=f"there is no upload job {shown(job_id)} (jobs are forgotten when the server restarts)")
        files = [f.to_dict() for f in job.files]
        if job.state == "done" and len(files) == 1 and files[0]["url"]:
            return RedirectResponse(files[0]["url"], status_code=303)
        return page("job.html", job=job.to_dict(), files=files, running=job.state in ("queued", "running"))

    @app.post("/documents/{doc_id:path}/remove", response_class=HTMLResponse, include_in_schema=False)
    def form_remove(request: Request, doc_id: str, csrf: str = Form(""), token: str = Form("")) -> HTMLResponse:
        try:
            lib = writable()
            lib.check_access(request, token)
            lib.check_csrf(csrf)
            lib.remove(doc_id)
        except UploadRejected as exc:
            return home(exc.status, problem=str(exc))
        except UserError as exc:
            return home(422, problem=str(exc))
        return home(notice=f"removed {doc_id}")

    # -- API -----------------------------------------------------------------------------------
    @app.post("/api/ask", response_model=AskResponse, responses=ERRORS, tags=["api"],
              summary="Answer a question with cited passages (the JSON of `rag ask --json`)")
    def api_ask(body: AskRequest) -> JSONResponse:
        question = check_question(body.question)
        k = check_k(default_k if body.k is None else body.k, maximum=MAX_K)
        name = check_retriever(default_retriever if body.retriever is None else body.retriever)
        result = batcher.ask(question, k, name)
        # to_dict is the contract; returning it directly skips re-validating every field.
        return JSONResponse(result.to_dict())

    @app.get("/api/documents", response_model=list[DocumentOut], tags=["api"], summary="The indexed documents")
    def api_documents() -> JSONResponse:
        return JSONResponse([{"doc_id": d.doc_id, "title": d.title, "source": d.source,
                              "characters": len(d.text), "url": doc_href(d.doc_id)}
                             for d in assistant.documents()])

    write_errors: dict[int | str, dict[str, Any]] = {
        401: {"model": ErrorOut, "description": "a token is needed (clients not on this machine)"},
        403: {"model": ErrorOut, "description": "writing is off for this client, or the request came from another site"},
        404: {"model": ErrorOut, "description": "no such document"},
        409: {"model": ErrorOut, "description": "already there (same content), or not an uploaded document"},
        413: {"model": ErrorOut, "description": "the file is over the size limit"},
        415: {"model": ErrorOut, "description": "the type is not supported, or the content is not what the name says"},
        422: {"model": ErrorOut, "description": "the file cannot be indexed (e.g. a PDF without a text layer)"},
    }

    # Only a server that can write advertises the write endpoints (in the schema too).
    if library is not None:
        @app.post("/api/documents", status_code=202, response_model=JobOut, responses=write_errors, tags=["api"],
                  summary="Add documents (multipart field `files`; .txt .md .html .pdf .docx): checked, then "
                          "indexed in a job; the answer comes at once, with the job (GET its url for progress)")
        def api_add(request: Request, files: list[UploadFile] = File(...)) -> JSONResponse:
            lib = writable()
            lib.check_access(request)
            job = lib.submit([(f.filename or "document", f.file.read(lib.max_bytes + 1)) for f in files])
            return JSONResponse(job.to_dict(), status_code=202, headers={"Location": job.url})

        @app.get("/api/jobs/{job_id}", response_model=JobOut, responses={404: {"model": ErrorOut,
                 "description": "no such job (jobs are kept in memory: the last 200)"}}, tags=["api"],
                 summary="An upload job: each file's state (queued, reading, embedding, done, failed) and progress")
        def api_job(job_id: str) -> JSONResponse:
            job = writable().jobs.get(job_id)
            if job is None:
                raise UploadRejected(f"there is no upload job {shown(job_id)}", 404)
            return JSONResponse(job.to_dict())

        @app.delete("/api/documents/{doc_id:path}", response_model=RemoveResponse, responses=write_errors, tags=["api"],
                    summary="Remove an uploaded document (its file is deleted) from the index")
        def api_remove(request: Request, doc_id: str) -> JSONResponse:
            lib = writable()
            lib.check_access(request)
            lib.remove(doc_id)
            return JSONResponse({"removed": doc_id})

        base_openapi = app.openapi

        def openapi() -> dict[str, Any]:
            # What the server refuses before looking at a file, said in the schema: no files, an empty one.
            spec = base_openapi()
            files = spec.get("components", {}).get("schemas", {}).get("Body_api_add_api_documents_post", {}) \
                .get("properties", {}).get("files")
            if files is not None:
                files["minItems"] = 1
                # A file part is bytes, whatever they spell: no "type" that a number could violate
                # (a multipart part "123" is the same bytes as the string "123").
                files["items"] = {"contentMediaType": "application/octet-stream", "minLength": 1}
            return spec

        app.openapi = openapi  # type: ignore[method-assign]

    # Right/wrong marks on passages and answers, for `rag eval --set` (web/judgments.py).
    add_judgment_routes(app, assistant, library, lambda status, title, message: page(
        "error.html", status=status, title=title, message=message), ErrorOut)

    @app.get("/healthz", tags=["api"], summary="The loaded index (documents, chunks, model) and readiness")
    def healthz() -> dict[str, Any]:
        return {**assistant.health(), "status": "ready", "batching": batcher.stats()}

    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the fastapi-offline package's files: nothing from a CDN."""
    try:
        import fastapi_offline
    except ImportError:  # pragma: no cover - a declared dependency; /openapi.json still works
        return
    app.mount("/docs-static", StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"),
              name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url="/openapi.json", title=app.title,
                                   swagger_js_url="/docs-static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-static/swagger-ui.css",
                                   swagger_favicon_url="/docs-static/favicon.png")
        page.headers["Content-Security-Policy"] = docs_csp(bytes(page.body).decode("utf-8"))
        page.headers["Referrer-Policy"] = "no-referrer"
        return page


def docs_csp(html: str) -> str:
    """Swagger UI's page: its own files, plus exactly the inline start-up script it carries (by hash)."""
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
                      for body in re.findall(r"<script>(.*?)</script>", html, re.S))
    return (f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        return int(raw) if raw.strip() else default
    except ValueError:
        raise UserError(f"{name}={raw[:40]!r} is not a whole number: set one, or unset it for the default") from None


def create_app_from_env() -> FastAPI:
    """The factory `rag serve` runs: settings from RAG_* variables, index and model loaded once."""
    from rag.assistant import Assistant

    return create_app(Assistant.load(settings=Settings.from_env()))
