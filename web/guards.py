"""ASGI guards in front of the app: which Host it answers, how large a body it reads, and the
headers every response carries.

* Host: only the loopback names, the address the connection arrived on, and ``RAG_ALLOWED_HOSTS``
  (comma-separated names, ``*`` for any). Otherwise a web page on another origin could read the
  indexed documents through DNS rebinding (its own name, resolved to 127.0.0.1), and redirects
  would be built from a name the attacker chose.
* Body: at most ``RAG_MAX_BODY_BYTES`` (default 64 KiB; a full-length question is at most 12 KB
  of JSON) are read, else 413 before anything is parsed; a JSON body that is not UTF-8 is the
  documented 422, not the framework's 400.
* Headers: ``X-Content-Type-Options: nosniff`` on every response, whatever produced it.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# How long a refused question's 503 is held back (web/guards.py Shed), seconds.
SHED_HOLD_SECONDS = 0.5
DEFAULT_MAX_BODY_BYTES = 64 * 1024


def env_allowed_hosts() -> tuple[str, ...]:
    raw = os.environ.get("RAG_ALLOWED_HOSTS", "")
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


def env_max_body_bytes() -> int:
    raw = os.environ.get("RAG_MAX_BODY_BYTES", "")
    try:
        return int(raw) if raw.strip() else DEFAULT_MAX_BODY_BYTES
    except ValueError:
        from rag.errors import UserError

        raise UserError(f"RAG_MAX_BODY_BYTES={raw[:40]!r} is not a whole number: set one, or unset it") from None


def host_name(header: str) -> str:
    """The name of a Host header without its port: 'Example.org:80' -> 'example.org', '[::1]:8000' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:header.find("]")] if "]" in header else ""
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


async def _reply(send: Send, status: int, body: dict[str, str], extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HostGuard:
    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)

    def allows(self, name: str, server: Any) -> bool:
        if not name:
            return False
        if "*" in self.allowed or name in LOOPBACK_HOSTS or name in self.allowed or name.endswith(".localhost"):
            return True
        # The address the connection arrived on (a server bound to 0.0.0.0 answers its own IP).
        return bool(server) and name == str(server[0]).lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            name = host_name(_header(scope, b"host") or "")
            if not self.allows(name, scope.get("server")):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await _reply(send, 400, {"detail": "this server does not answer for that Host name: use "
                                         "http://127.0.0.1 or http://localhost, or add the name to RAG_ALLOWED_HOSTS"})
                return
        await self.app(scope, receive, send)


class BodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 larger: Iterable[tuple[str, int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path, limit) for POSTs that carry files: uploads.
        self.larger = tuple(larger)

    def limit(self, scope: Scope) -> int:
        # Exact paths: the upload routes only, not every POST under them (a removal is a small form).
        if scope.get("method") == "POST":
            for path, limit in self.larger:
                if scope.get("path", "") == path:
                    return max(limit, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit(scope)
        too_large = {"detail": f"the request body is larger than the limit of {max_bytes} bytes"}
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > max_bytes):
            await _reply(send, 413, too_large)
            return
        # Read the body here, at most max_bytes of it, then hand it on whole: nothing larger is
        # ever held in memory, whether the client declared its length or streamed it in chunks.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                await _reply(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or "").lower()
        if body and (not content_type or "json" in content_type):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                await _reply(send, 422, {"detail": "the request body is not valid JSON (it is not UTF-8 text): send "
                                                   "{\"question\": \"...\", \"k\": 5, \"retriever\": \"hybrid\"} as UTF-8"})
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class WriteGuard:
    """Decides who may write from the request line and headers, before a byte of the body is read:
    a POST to one of ``paths`` that ``refusal(headers, peer)`` refuses is answered (401/403) here,
    so a client without permission never gets the upload's larger body limit (BodyGuard, inside)."""

    def __init__(self, app: ASGIApp, paths: Iterable[str] = (),
                 refusal: Callable[[dict[str, str], str], Any] | None = None) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and self.refusal is not None and scope.get("method") == "POST"
                and scope.get("path", "") in self.paths):
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            client = scope.get("client")
            problem = self.refusal(headers, str(client[0]) if client else "")
            if problem is not None:
                # The body is left unread; the server closes the connection after this answer.
                await _reply(send, int(getattr(problem, "status", 403)), {"detail": str(problem)},
                             [(b"connection", b"close")])
                return
        await self.app(scope, receive, send)


class Shed:
    """Past the question queue's limit, a question is refused here (503 + Retry-After) before its body
    is read or a route runs, so under overload the cores stay on the questions being answered.
    ``full()`` says whether the queue is at its limit; ``refuse()`` returns the error (message and
    Retry-After) and counts it. The refusal is sent after ``hold`` seconds (an await: no thread, no
    CPU): a client that retries at once, ignoring Retry-After, then asks a few times a second rather
    than hundreds, and cannot spend the server's cores (and the GIL its worker needs) on refusals."""

    def __init__(self, app: ASGIApp, paths: Iterable[str] = (), full: Callable[[], bool] | None = None,
                 refuse: Callable[[], Any] | None = None, hold: float = SHED_HOLD_SECONDS) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.full = full
        self.refuse = refuse
        self.hold = hold

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and self.full is not None and self.refuse is not None
                and scope.get("method") == "POST" and scope.get("path", "") in self.paths and self.full()):
            exc = self.refuse()
            if self.hold > 0:
                await asyncio.sleep(self.hold)
            await _reply(send, 503, {"detail": str(exc)}, [(b"retry-after", str(exc.retry_after).encode())])
            return
        await self.app(scope, receive, send)


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every response (API, /docs, /openapi.json, static files)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)
