"""Adding and removing documents from the page and the API: who may (decided from the headers alone,
before a byte of the body is read), cross-site protection, and the upload jobs (web/jobs.py) that
index one file at a time while the request that brought it has long been answered. The checks on the
files themselves and the indexing are the library's (rag/index/library.py); this module only guards
and schedules."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import Request

from rag.errors import UserError
from rag.index.library import (UploadRejected, add_staged, discard, documents_dir, recover,
                               remove_document, stage_upload)
from rag.index.store.lock import IndexBusy

from .jobs import Job, JobFile, Jobs, ProgressEmbedder

log = logging.getLogger("rag")

# Beyond the file itself, a multipart body carries boundaries and headers.
MULTIPART_OVERHEAD = 1 << 20
# The routes that take files: only these get the upload size limit, and only for clients allowed to write.
UPLOAD_PATHS = ("/api/documents", "/documents")
# How long an upload job waits for another writer (a `rag index` run) before it fails with 409.
JOB_LOCK_WAIT = 30.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def trusted_proxies(raw: str) -> frozenset[str]:
    return frozenset(p.strip() for p in raw.split(",") if p.strip())


def client_host(peer: str, forwarded: str | None, trusted: frozenset[str]) -> str:
    """The client's address: the connection's peer, unless the peer is a proxy named in
    RAG_TRUSTED_PROXIES, then the last X-Forwarded-For hop that is not one of them. A trusted proxy
    that names no client leaves it unknown (""), never local."""
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in (forwarded or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else ""  # every hop a trusted proxy: the first is the client


class Library:
    """The write side of the app over one assistant (an ``Assistant`` with settings, embedder, refresh)."""

    def __init__(self, assistant: Any, token: str | None = None) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.token = os.environ.get("RAG_API_TOKEN", "") if token is None else token
        self.trusted = trusted_proxies(str(getattr(self.settings, "trusted_proxies", "")))
        self._writing = threading.Lock()  # one indexing job (or removal) at a time
        # Per process: a form from this server carries it, a page on another site cannot read it.
        self._csrf = hmac.new(secrets.token_bytes(32), b"rag-form", hashlib.sha256).hexdigest()
        # What a crash (kill -9) left half done: finished or undone before the first request.
        for note in recover(self.settings):
            log.warning("%s", note)
        self.jobs = Jobs(self._run)

    @property
    def max_bytes(self) -> int:
        return int(self.settings.upload_max_bytes)

    @property
    def csrf_token(self) -> str:
        return self._csrf

    # -- who may write (from the headers only) -----------------------------------------------------
    def refusal(self, headers: Mapping[str, str], peer: str, form_token: str | None = None) -> UploadRejected | None:
        """Why this request may not write, or None. ``headers`` with lower-case names. Sec-Fetch-Site
        is the browser's own verdict on where a request comes from; Origin is checked too, for
        clients that send only that. Loopback clients may write; others need RAG_API_TOKEN as a
        bearer token, compared in constant time."""
        site = headers.get("sec-fetch-site", "")
        cross = UploadRejected("a page on another site cannot add or remove documents here", 403)
        if site in ("cross-site", "same-site"):
            return cross
        if site not in ("same-origin", "none"):
            origin = headers.get("origin")
            if origin == "null":
                return cross
            if origin and origin.split("://", 1)[-1].lower() != (headers.get("host") or "").lower():
                return cross
        client = client_host(peer, headers.get("x-forwarded-for"), self.trusted)
        if client and is_loopback(client):
            return None
        if not self.token:
            return UploadRejected("adding and removing documents is off for clients that are not on this machine: "
                                  "set RAG_API_TOKEN on the server and send it as a bearer token", 403)
        auth = headers.get("authorization", "")
        # A removal's small form may carry the token in a field; an upload's never reaches here
        # without it in the header (web/guards.py WriteGuard decides before reading the body).
        sent = auth[7:].strip() if auth.lower().startswith("bearer ") else (form_token or "")
        if not hmac.compare_digest(sent.encode(), self.token.encode()):
            return UploadRejected("a valid token is needed to add or remove documents (Authorization: Bearer ...)", 401)
        return None

    def check_access(self, request: Request, form_token: str | None = None) -> None:
        problem = self.refusal({k.lower(): v for k, v in request.headers.items()},
                               request.client.host if request.client else "", form_token)
        if problem is not None:
            raise problem

    def check_csrf(self, sent: str | None) -> None:
        if not sent or not hmac.compare_digest(sent.encode(), self._csrf.encode()):
            raise UploadRejected("the form has expired or came from another site: reload the page and try again", 403)

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, files: list[tuple[str, bytes]]) -> Job:
        """Check and stage the files now (the quick checks: type, size, duplicates), index them in a
        job; the caller answers at once with the job."""
        if not files:
            raise UploadRejected("choose one or more files to add")
        staged = []
        try:
            for name, data in files:
                staged.append(stage_upload(self.settings, name, data))
        except BaseException:
            for up in staged:
                discard(up)
            raise
        return self.jobs.submit([JobFile(name=up.name) for up in staged], staged)

    def _build(self, paths: list[Path], embedder: Any) -> None:
        from rag.index.build import build_index

        warnings: list[str] = []
        build_index(paths, self.settings, embedder=embedder, progress=False, warn=warnings.append,
                    lock_wait=JOB_LOCK_WAIT)

    def _run(self, job: Job, staged: list[Any]) -> None:
        """One job, in the jobs' thread: each file read, embedded and made visible in turn."""
        for i, (entry, up) in enumerate(zip(job.files, staged)):
            if job.state == "failed":  # an earlier file failed: the rest are not indexed
                discard(up)
                entry.state, entry.error, entry.status = "failed", "not indexed: an earlier file failed", 424
                continue
            entry.state = "reading"

            def loaded(doc: Any, chunks: int, entry: JobFile = entry) -> None:
                entry.pages, entry.pages_read, entry.chunks = len(doc.pages), len(doc.pages), chunks
                entry.state = "embedding"

            def embedded(n: int, entry: JobFile = entry) -> None:
                entry.chunks_embedded = min(entry.chunks, entry.chunks_embedded + n) if entry.chunks else 0

            embedder = ProgressEmbedder(self.assistant.embedder, embedded)
            try:
                with self._writing:
                    added = add_staged(self.settings, up, lambda paths: self._build(paths, embedder), loaded)
                    self.assistant.refresh()
            except UploadRejected as exc:
                job.fail(entry, str(exc), exc.status)
                continue
            except Exception as exc:
                status = 409 if isinstance(exc, IndexBusy) else 422 if isinstance(exc, UserError) else 500
                if status == 500:
                    log.exception("indexing %s failed", entry.name)
                job.fail(entry, str(exc) if status != 500 else f"indexing failed ({type(exc).__name__})", status)
                continue
            entry.finish(added)

    def remove(self, doc_id: str) -> None:
        with self._writing:
            remove_document(self.settings, doc_id, lambda paths: self._build(paths, self.assistant.embedder))
            self.assistant.refresh()

    def removable(self, source: str) -> bool:
        """Only uploaded documents are removed from here (their file is deleted)."""
        try:
            return Path(source).resolve().parent == documents_dir(self.settings).resolve()
        except OSError:
            return False

    def close(self) -> None:
        self.jobs.close()
