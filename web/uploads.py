"""Adding and removing documents from the page and the API: who may, cross-site protection, and one
indexing job at a time (others wait their turn). The checks on the files themselves and the indexing
are the library's (rag/library.py); this module only guards and schedules."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from fastapi import Request

from rag.index.library import Added, UploadRejected, add_document, documents_dir, remove_document

# Beyond the file itself, a multipart body carries boundaries and headers.
MULTIPART_OVERHEAD = 1 << 20


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Library:
    """The write side of the app over one assistant (an ``Assistant`` with settings, embedder, refresh)."""

    def __init__(self, assistant: Any, token: str | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.token = os.environ.get("RAG_API_TOKEN", "") if token is None else token
        self._jobs = threading.Lock()
        # Per process: a form from this server carries it, a page on another site cannot read it.
        self._csrf = hmac.new(secrets.token_bytes(32), b"rag-form", hashlib.sha256).hexdigest()

    @property
    def max_bytes(self) -> int:
        return int(self.settings.upload_max_bytes)

    @property
    def csrf_token(self) -> str:
        return self._csrf

    # -- who may write --------------------------------------------------------------------------
    def check_origin(self, request: Request) -> None:
        """A browser says where a request comes from; writes from another site are refused. Sec-Fetch-Site
        is the browser's own verdict; Origin is checked too, for clients that send only that."""
        site = request.headers.get("sec-fetch-site", "")
        if site in ("cross-site", "same-site"):
            raise UploadRejected("a page on another site cannot add or remove documents here", 403)
        if site in ("same-origin", "none"):
            return
        origin = request.headers.get("origin")
        if origin and origin != "null":
            origin_host = origin.split("://", 1)[-1]
            if origin_host.lower() != (request.headers.get("host") or "").lower():
                raise UploadRejected("a page on another site cannot add or remove documents here", 403)
        elif origin == "null":
            raise UploadRejected("a page on another site cannot add or remove documents here", 403)

    def check_access(self, request: Request, form_token: str | None = None) -> None:
        """Loopback clients may write; others need RAG_API_TOKEN (a bearer token, or the form's token
        field), compared in constant time. Without a token set, writing is off for them."""
        self.check_origin(request)
        client = request.client.host if request.client else ""
        if is_loopback(client):
            return
        if not self.token:
            raise UploadRejected("adding and removing documents is off for clients that are not on this machine: "
                                 "set RAG_API_TOKEN on the server and send it as a bearer token", 403)
        sent = form_token or ""
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            sent = auth[7:].strip()
        if not hmac.compare_digest(sent.encode(), self.token.encode()):
            raise UploadRejected("a valid token is needed to add or remove documents (Authorization: Bearer ...)", 401)

    def check_csrf(self, sent: str | None) -> None:
        if not sent or not hmac.compare_digest(sent.encode(), self._csrf.encode()):
            raise UploadRejected("the form has expired or came from another site: reload the page and try again", 403)

    # -- jobs -------------------------------------------------------------------------------------
    def _build(self, paths: list[Path]) -> None:
        from rag.index.build import build_index

        warnings: list[str] = []
        build_index(paths, self.settings, embedder=self.assistant.embedder, progress=False, warn=warnings.append)

    def add(self, filename: str, data: bytes) -> Added:
        with self._jobs:  # one indexing job at a time; the others wait here in turn
            added = add_document(self.settings, filename, data, self._build)
            self.assistant.refresh()
            return added

    def remove(self, doc_id: str) -> None:
        with self._jobs:
            remove_document(self.settings, doc_id, self._build)
            self.assistant.refresh()

    def removable(self, source: str) -> bool:
        """Only uploaded documents are removed from here (their file is deleted)."""
        try:
            return Path(source).resolve().parent == documents_dir(self.settings).resolve()
        except OSError:
            return False
