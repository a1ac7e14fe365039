"""The local store's folder: complete versions side by side, and ``CURRENT`` naming the live one.

A write fills a temporary folder and then swaps ``CURRENT`` with ``os.replace``, so an interrupted
write leaves the previous index whole and loadable. The version's files, the folder and the pointer
are fsynced in that order, so after a power loss ``CURRENT`` never names a version whose files are
not on disk. Writers hold the folder's writer lock (``lock.py``); the version ``CURRENT`` named
before the switch is kept until the next write, so a reader that read the old pointer can still
finish loading it."""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .lock import not_writable

CURRENT = "CURRENT"


def pointer(index_dir: Path) -> str | None:
    """The version name CURRENT holds, or None when there is none."""
    try:
        return (index_dir / CURRENT).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def current_version(index_dir: Path) -> Path | None:
    name = pointer(index_dir)
    path = index_dir / name if name else None
    return path if path is not None and path.is_dir() else None


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    version = current_version(index_dir)
    if version is None:
        return None
    try:
        return json.loads((version / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def write_version(index_dir: Path, fill: Callable[[Path], None]) -> Path:
    """``fill`` writes a complete version into an empty folder; then CURRENT points at it. The
    caller holds the writer lock; a failed write (disk full, permissions) is one ``IndexNotWritable``
    line and leaves CURRENT and its version as they were."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise not_writable(index_dir, exc) from None
    previous = pointer(index_dir)
    name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 1_000_000}"
    tmp = index_dir / f".tmp-{name}"
    try:
        tmp.mkdir()
        fill(tmp)
        _fsync_tree(tmp)  # the files reach the disk before any name points at them
        final = index_dir / name
        os.replace(tmp, final)
        pointer_tmp = index_dir / f".{CURRENT}.tmp"
        pointer_tmp.write_text(name)
        _fsync(pointer_tmp)
        _fsync(index_dir)  # the version's new name
        os.replace(pointer_tmp, index_dir / CURRENT)
        _fsync(index_dir)  # the pointer's switch
    except BaseException as exc:
        # FAISS reports a short write as a RuntimeError: a nearly full disk says what it was.
        full = isinstance(exc, RuntimeError) and _nearly_full(index_dir)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise not_writable(index_dir, exc) from exc
        if full:
            raise not_writable(index_dir, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))) from exc
        raise
    remove_stale(index_dir, keep={name, previous})
    return final


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path).free < 1024 * 1024
    except OSError:
        return False


def remove_stale(index_dir: Path, keep: set[str | None], versions: bool = True) -> None:
    """Remove temporary folders and (with ``versions``) versions other than ``keep``. Only the lock
    holder calls this, so a ``.tmp-*`` here is a killed build's, never a live writer's; the previous
    version is kept for readers that may still be loading it (it goes with the next build)."""
    try:
        entries = list(index_dir.iterdir())
    except OSError:
        return
    for old in entries:
        stale = old.name.startswith(".tmp-") or (versions and old.name.startswith("v-"))
        if stale and old.name not in keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for f in files:
            _fsync(Path(folder) / f)
        _fsync(Path(folder))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
