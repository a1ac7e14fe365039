"""Reaching Milvus: ``milvus://`` URIs, a client or one clear line saying what to do, and the few
calls where Milvus Lite and a server differ.

``milvus:///path/file.db`` is Milvus Lite (embedded, a local directory), ``milvus://host:19530`` a
Milvus server or cluster."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ...errors import IndexMissing, UserError
from ...extras import require

# Milvus Lite logs a full traceback when it cannot open a file; our one-line error says it instead.
logging.getLogger("milvus_lite").setLevel(logging.CRITICAL)
# gRPC's C core prints keepalive chatter ("too_many_pings") from Milvus Lite's embedded server on
# stderr; real failures still raise. Set GRPC_VERBOSITY yourself to see it.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")


@dataclass(frozen=True)
class MilvusTarget:
    """Where a milvus:// URI points: a Milvus Lite path or a server address."""

    uri: str  # as the user wrote it
    client_uri: str  # as pymilvus takes it
    lite_path: Path | None


def parse_uri(uri: str) -> MilvusTarget:
    if not uri.startswith("milvus://"):
        raise UserError(f"not a Milvus URI: {uri!r} (use milvus:///path/file.db or milvus://host:19530)")
    rest = uri[len("milvus://"):]
    if rest.startswith("/") or rest.endswith(".db"):  # milvus:///abs/x.db, or milvus://rel/x.db
        path = Path(rest).absolute()
        if path.suffix != ".db":
            raise UserError(f"a Milvus Lite path must end in .db, got {path} (e.g. milvus:///data/rag.db)")
        return MilvusTarget(uri, str(path), path)
    parsed = urlparse(f"http://{rest}")
    if not parsed.hostname:
        raise UserError(f"no host in {uri!r}: use milvus://host:19530")
    return MilvusTarget(uri, f"http://{parsed.hostname}:{parsed.port or 19530}", None)


def rebuild_command(uri: str) -> str:
    return f"rag index --store {uri} PATH ..."


def connect(target: MilvusTarget, create: bool = False) -> Any:
    """A ``MilvusClient``, or a one-line UserError that says what to do."""
    MilvusClient = require("pymilvus", "milvus", "the Milvus store").MilvusClient

    if target.lite_path is not None:
        path = target.lite_path
        if not path.parent.is_dir():
            raise UserError(f"cannot open Milvus Lite file {path}: folder {path.parent} does not exist")
        if not create and not path.exists():
            raise IndexMissing(f"no Milvus index at {target.uri}: build it with: {rebuild_command(target.uri)}")
        _check_not_locked(path, target.uri)
    else:
        _check_reachable(target)
    try:
        client = MilvusClient(uri=target.client_uri, timeout=10)
        client._rag_lite = target.lite_path is not None
        return client
    except Exception as exc:
        if target.lite_path is not None:
            _check_not_locked(target.lite_path, target.uri)
            raise UserError(f"cannot open Milvus Lite file {target.lite_path} ({_short(exc)})") from exc
        raise UserError(f"cannot connect to Milvus at {target.client_uri} ({_short(exc)}): check that the "
                        "server is running and reachable, or use --store local") from exc


def _check_reachable(target: MilvusTarget) -> None:
    # pymilvus would wait for its own long timeout and then raise a wordy error; ask the port first.
    parsed = urlparse(target.client_uri)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 19530), timeout=3):
            pass
    except OSError as exc:
        raise UserError(f"cannot reach Milvus at {parsed.hostname}:{parsed.port} ({exc.strerror or exc}): "
                        "start the server or fix the address, or use --store local") from None


def _check_not_locked(path: Path, uri: str) -> None:
    """Milvus Lite holds an flock on <path>/LOCK while a process has it open."""
    server_manager_instance = require("milvus_lite.server_manager", "milvus", "Milvus Lite").server_manager_instance
    if os.path.abspath(path) in getattr(server_manager_instance, "_servers", {}):
        return  # open in this very process: pymilvus reuses it
    lock = path / "LOCK"
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        raise UserError(f"the Milvus Lite file {path} is in use by another process (Milvus Lite allows one): "
                        f"stop that process (e.g. a running `rag serve --store {uri}`) and try again") from None
    finally:
        os.close(fd)


def _short(exc: Exception) -> str:
    text = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


# -- where Milvus Lite and a server differ ------------------------------------------------------
def query_all(client: Any, collection: str, filter: str, fields: list[str]) -> list[dict[str, Any]]:
    """All matching rows. A server caps one query's window, so it is paged with an iterator; Milvus
    Lite has no cap (and no timestamp RPC for iterators)."""
    if not is_lite(client):
        out: list[dict[str, Any]] = []
        it = client.query_iterator(collection, filter=filter, output_fields=fields, batch_size=1000)
        try:
            while batch := it.next():
                out.extend(batch)
        finally:
            it.close()
        return out
    return list(client.query(collection, filter=filter, output_fields=fields))


def is_lite(client: Any) -> bool:
    return bool(getattr(client, "_rag_lite", False))


def index_kwargs(client: Any) -> dict[str, Any]:
    # Waiting for an index needs the AllocTimestamp RPC, which Milvus Lite lacks (pymilvus would
    # retry it for ~40 s); Lite builds indexes synchronously anyway.
    return {"sync": False} if is_lite(client) else {}
