"""One writer at a time per index folder, and a check that the folder can take a new version.

The lock is ``flock`` on ``<index_dir>/.lock``: the kernel drops it when its holder exits, however
it exits (``kill -9`` included), so a crashed build never leaves the folder locked. flock locks
belong to an open file, so two threads of one process (the server indexing uploads) exclude each
other too. The holder's pid is written into the file for the message the next writer sees.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...errors import UserError

LOCK_NAME = ".lock"
# How long a second writer waits for the first before it gives up (RAG_INDEX_LOCK_WAIT, seconds).
DEFAULT_LOCK_WAIT = 0.0
# Room kept free on top of the estimate: a full disk also breaks everything else on it.
FREE_SPACE_MARGIN = 16 * 1024 * 1024


class IndexBusy(UserError):
    pass


class IndexNotWritable(UserError):
    pass


def lock_wait_from_env() -> float:
    raw = os.environ.get("RAG_INDEX_LOCK_WAIT", "")
    try:
        return float(raw) if raw.strip() else DEFAULT_LOCK_WAIT
    except ValueError:
        raise UserError(f"RAG_INDEX_LOCK_WAIT={raw[:40]!r} is not a number of seconds: set one, or unset it") from None


@contextmanager
def writer_lock(index_dir: Path, wait: float | None = None, name: str = LOCK_NAME,
                label: str | None = None) -> Iterator[None]:
    """Hold the index folder's writer lock (the file ``name`` in it) for the block; another writer
    means ``IndexBusy`` after ``wait`` seconds (default RAG_INDEX_LOCK_WAIT, 0: at once). ``label``
    names the index in that message (default: the folder)."""
    index_dir = Path(index_dir)
    wait = lock_wait_from_env() if wait is None else wait
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / name, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise not_writable(index_dir, exc) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    who = f" (process {holder})" if holder.isdigit() else ""
                    raise IndexBusy(f"another build is writing the index at {label or index_dir}{who}: wait for it to "
                                    "finish and run this again, or set RAG_INDEX_LOCK_WAIT=SECONDS to wait") from None
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def not_writable(index_dir: Path, exc: OSError) -> IndexNotWritable:
    """One line for a write that failed: what, where, and that the old index is still there."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) or "requested and" in str(exc):  # numpy's short write
        what = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        what = "permission denied"
    elif exc.errno == errno.EROFS:
        what = "the file system is read-only"
    else:
        what = exc.strerror or str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename else ""
    return IndexNotWritable(f"cannot write the index at {index_dir}: {what}{where}; the previous index, if any, "
                            "is unchanged")


def check_writable(index_dir: Path, needed_bytes: int) -> None:
    """Before the expensive part of a build: can a file be created here, and is there room for
    about ``needed_bytes`` more?"""
    try:
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=index_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise not_writable(index_dir, exc) from None
    free = shutil.disk_usage(index_dir).free
    if free < needed_bytes + FREE_SPACE_MARGIN:
        raise IndexNotWritable(
            f"not enough free space for the index at {index_dir}: about {_mb(needed_bytes + FREE_SPACE_MARGIN)} "
            f"needed, {_mb(free)} free; free some space and run this again (the previous index is unchanged)")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"
