"""Reading a file within a set amount of memory, time and text, whatever the file holds.

PDF and Word parsers run in a worker process (``python -m rag.ingest.bounded``) that limits its own
address space (``RLIMIT_AS``) and is killed past a deadline: a hostile file (a Flate stream that
inflates to gigabytes, a zip bomb, a page with millions of glyphs) kills only its worker, never the
server or the build. Before a Word file is parsed, every zip member's declared size, compression
ratio and actual inflated size are checked by streaming through it, a bounded amount at a time. Any
file's text is capped (``Settings.max_text_chars``). Each failure is ``Unusable`` with one line that
names the setting to change, so ``rag index`` warns and goes on, and an upload gets a 422.

Workers are reused (spawning one costs ~0.3 s) and replaced after a file kills one."""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..records import Document
from .base import Unusable

# Formats whose parser runs in a worker; plain text and HTML are read in process, bounded by the
# file's size (checked before reading) and the text cap.
WORKER_SUFFIXES = frozenset({".pdf", ".docx"})
# Word XML compresses ~5-20x; deflate itself tops out near 1032x. A member past this ratio is a bomb.
MAX_ZIP_RATIO = 200
# All members inflated together (bytes): far above any real document's XML and media.
MAX_ZIP_TOTAL = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
# UTF-8 text is at most 4 bytes a character: a file larger than this many bytes per allowed
# character is refused before a byte of it is read.
_BYTES_PER_CHAR = 4
_HEADER = struct.Struct("!Q")
_IDLE_WORKERS = 2


class TextTooLong(Unusable):
    pass


@dataclass(frozen=True)
class Limits:
    """What reading one file may take: text characters, worker memory (MiB) and seconds."""

    max_chars: int = 10_000_000
    memory_mb: int = 1024
    seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: object) -> Limits:
        return cls(int(getattr(settings, "max_text_chars", cls.max_chars)),
                   int(getattr(settings, "extract_memory_mb", cls.memory_mb)),
                   float(getattr(settings, "extract_seconds", cls.seconds)))

    @classmethod
    def from_env(cls) -> Limits:
        from ..settings import Settings

        return cls.from_settings(Settings.from_env())


def too_long(chars: int, limits: Limits) -> TextTooLong:
    return TextTooLong(f"its text is longer than the limit of {limits.max_chars:,} characters (RAG_MAX_TEXT_CHARS; "
                       f"{'at least ' if chars < 0 else ''}{abs(chars):,} found)")


def check_text(doc: Document, limits: Limits) -> Document:
    if len(doc.text) > limits.max_chars:
        raise too_long(len(doc.text), limits)
    return doc


# -- zip members, checked before anything inflates them ------------------------------------------
def check_zip(path: Path, limits: Limits) -> None:
    """Refuse a zip whose members claim, or turn out, to inflate past the bounds: declared sizes and
    ratios from the central directory first, then each deflated member inflated as a stream, at most
    a megabyte at a time, counting what comes out against what it declared."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Unusable(f"not a Word document (a .docx is a zip archive: {exc})") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise Unusable(f"a zip archive with {len(infos):,} members (more than {MAX_ZIP_MEMBERS:,}): refused as a zip bomb")
    total = 0
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > MAX_ZIP_RATIO:
            raise Unusable(f"the zip member {info.filename!r} inflates {ratio:,.0f} times (more than {MAX_ZIP_RATIO}): "
                           "refused as a zip bomb")
        total += info.file_size
    if total > MAX_ZIP_TOTAL:
        raise Unusable(f"the zip members inflate to {total:,} bytes (more than {MAX_ZIP_TOTAL:,}): refused as a zip bomb")
    with path.open("rb") as fh:
        for info in infos:
            _check_member(fh, info)


def _check_member(fh, info: zipfile.ZipInfo) -> None:  # fh: a binary file
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return  # stored members are their own size; other methods: zipfile stops at the declared size
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise Unusable(f"a damaged zip archive (member {info.filename!r})")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    inflater = zlib.decompressobj(-15)
    left, out = info.compress_size, 0
    limit = info.file_size
    while left > 0:
        data = fh.read(min(left, 1 << 16))
        if not data:
            break
        left -= len(data)
        while data:
            chunk = inflater.decompress(data, 1 << 20)
            out += len(chunk)
            if out > limit:
                raise Unusable(f"the zip member {info.filename!r} inflates past the {limit:,} bytes it declares: "
                               "refused as a zip bomb")
            data = inflater.unconsumed_tail
        if inflater.eof:
            break


# -- the worker process ------------------------------------------------------------------------
def _send(fd: int, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    payload = _HEADER.pack(len(data)) + data
    view = memoryview(payload)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes | None:
    parts, left = [], n
    while left:
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([fd], [], [], timeout)[0]:
                raise TimeoutError
        data = os.read(fd, min(left, 1 << 20))
        if not data:
            return None  # the other side is gone
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _receive(fd: int, deadline: float | None = None) -> object:
    header = _read_exact(fd, _HEADER.size, deadline)
    if header is None:
        raise EOFError
    data = _read_exact(fd, _HEADER.unpack(header)[0], deadline)
    if data is None:
        raise EOFError
    return pickle.loads(data)


def _extract(path: Path, limits: Limits) -> Document:
    from . import LOADERS

    suffix = path.suffix.lower()
    if suffix == ".docx":
        check_zip(path, limits)
    return check_text(LOADERS[suffix](path), limits)


def _portable(exc: BaseException) -> BaseException:
    """The error as the parent can rebuild it: the loaders' own kinds as they are, anything else as
    one line (a parser's exception may not unpickle outside its module)."""
    if isinstance(exc, MemoryError):
        return MemoryError()
    try:
        if type(exc).__module__.startswith(("rag.", "builtins")):
            pickle.loads(pickle.dumps(exc))
            return exc
    except Exception:
        pass
    return Unusable(f"cannot be parsed ({type(exc).__name__}: {exc})")


def worker_main(memory_bytes: int) -> None:
    """Serve requests (path, limits) on stdin until it closes; answer each on the saved stdout."""
    import resource

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    out = os.dup(1)
    os.dup2(2, 1)  # a parser's stray print must not break the framing
    while True:
        try:
            request = _receive(0)
        except EOFError:
            return
        path, limits = request  # type: ignore[misc]
        try:
            reply: object = ("ok", _extract(Path(path), limits))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            reply = ("error", _portable(exc))
        try:
            _send(out, reply)
        except MemoryError:
            _send(out, ("error", MemoryError()))


class _Worker:
    def __init__(self, memory_mb: int) -> None:
        env = dict(os.environ)
        # One thread: BLAS and OpenMP pools reserve address space per thread, which RLIMIT_AS counts.
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]),
                                                         env.get("PYTHONPATH", "")]))
        self.memory_mb = memory_mb
        self.proc = subprocess.Popen([sys.executable, "-m", "rag.ingest.bounded", str(memory_mb * 1024 * 1024)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     start_new_session=True)  # a Ctrl+C meant for the parent is the parent's

    def load(self, path: Path, limits: Limits) -> Document:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        deadline = time.monotonic() + limits.seconds
        try:
            _send(self.proc.stdin.fileno(), (str(path), limits))
            kind, value = _receive(self.proc.stdout.fileno(), deadline)  # type: ignore[misc]
        except TimeoutError:
            self.kill()
            raise Unusable(f"reading it took longer than {limits.seconds:g} s (RAG_EXTRACT_SECONDS)") from None
        except (EOFError, BrokenPipeError, OSError):
            code = self.kill()
            # A parser that cannot allocate aborts or faults rather than raise: at the limit, that is
            # the memory; a crash without it is rarer, and says its code.
            raise Unusable(f"reading it needed more than the {limits.memory_mb} MB it may use (RAG_EXTRACT_MEMORY_MB)"
                           if code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS, 1)
                           or code is None else f"its reader stopped (exit code {code})") from None
        if kind == "ok":
            return value  # type: ignore[return-value]
        if isinstance(value, MemoryError):
            raise Unusable(f"reading it needed more than the {limits.memory_mb} MB it may use (RAG_EXTRACT_MEMORY_MB)")
        raise value  # type: ignore[misc]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            return self.proc.wait(timeout=10)
        finally:
            for stream in (self.proc.stdin, self.proc.stdout):
                if stream is not None:
                    stream.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()


def _take(memory_mb: int) -> _Worker:
    with _idle_lock:
        for i, w in enumerate(_idle):
            if w.memory_mb == memory_mb and w.alive:
                return _idle.pop(i)
    return _Worker(memory_mb)


def _give_back(worker: _Worker) -> None:
    with _idle_lock:
        if worker.alive and len(_idle) < _IDLE_WORKERS:
            _idle.append(worker)
            return
    worker.kill()


def close_workers() -> None:
    with _idle_lock:
        workers = list(_idle)
        _idle.clear()
    for w in workers:
        w.kill()


def load_bounded(path: Path, loader, limits: Limits) -> Document:  # loader: rag.ingest.Loader
    """``loader(path)`` within ``limits``: PDF and Word in a worker process, other formats here with
    the size and text caps. Raises ``Unusable`` (one line) for anything past a limit."""
    suffix = path.suffix.lower()
    if suffix not in WORKER_SUFFIXES:
        size = path.stat().st_size
        if size > limits.max_chars * _BYTES_PER_CHAR:
            raise too_long(-(size // _BYTES_PER_CHAR), limits)
        return check_text(loader(path), limits)
    worker = _take(limits.memory_mb)
    try:
        doc = worker.load(path, limits)
    finally:
        _give_back(worker)
    # The worker read the file by its name with the loader registered for it; its document says so.
    return doc


if __name__ == "__main__":
    # Through the package's module, so the errors it sends unpickle as rag.ingest.bounded's own.
    from rag.ingest.bounded import worker_main as _main

    _main(int(sys.argv[1]))
