"""Issue 13 for index writes: one writer at a time, failed writes leave the old index and say so in
one line (checked before embedding where possible), loaders survive a concurrent switch, and an
indexed document whose file turns unreadable is kept, not dropped. Fast fake embedder throughout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from rag import Settings, build_index
from rag.errors import UserError
from rag.index.store import local_version, versions
from rag.index.store.local import LocalStore, current_version
from rag.index.store.lock import IndexBusy, IndexNotWritable, writer_lock

from tests.conftest import SEEDS, HashEmbedder


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


def _settings(index_dir: Path) -> Settings:
    return Settings(model="unused", index_dir=index_dir)


class SlowEmbedder(HashEmbedder):
    """Embedding takes a moment, as it does for real, so two builds reach their writes together."""

    def encode_with_sentences(self, texts, spans, progress: bool = False):
        time.sleep(0.05)
        return super().encode_with_sentences(texts, spans, progress)


def _assert_whole(index_dir: Path, expected_ids: set[str] | None = None) -> set[str]:
    """The index loads, every chunk's text is its document's slice, and no temporary folder is left."""
    store = LocalStore.load(index_dir)
    for i in range(store.info.chunks):
        c = store.chunk(i)
        assert c.text == store.document(c.doc_id).text[c.start:c.end]
    assert store.vectors().shape[0] == store.info.chunks
    ids = {d.doc_id for d in store.documents()}
    if expected_ids is not None:
        assert ids == expected_ids
    return ids


# -- 2. one writer ---------------------------------------------------------------------------------
@pytest.mark.slow  # a load or concurrency run of seconds
def test_two_concurrent_builds_never_lose_the_index(tmp_path, corpus):
    """Two builds of one folder at once, 12 rounds: each either succeeds or stops with the one-line
    'another build' error; afterwards the index is whole and holds one build's documents."""
    other = tmp_path / "other"
    other.mkdir()
    for i, path in enumerate(sorted(corpus.glob("*.txt"))[:3]):
        (other / f"other-{i}.txt").write_text(path.read_text(encoding="utf-8") + f"\nVariant {i}.", encoding="utf-8")
    index_dir = tmp_path / "index"
    sets = [{p.stem for p in corpus.glob("*.txt")} | {"round"}, {p.stem for p in other.glob("*.txt")} | {"round"}]
    for round_ in range(12):
        wait = 30.0 if round_ % 2 else 0.0  # odd rounds: the second build waits for the first
        # Both corpora change every round, so both builds must write (without the lock, 8 of 12
        # rounds lost or broke the index).
        (corpus / "round.txt").write_text(f"Round {round_} of the first corpus.", encoding="utf-8")
        (other / "round.txt").write_text(f"Round {round_} of the second corpus.", encoding="utf-8")
        outcomes: dict[str, object] = {}
        start = threading.Barrier(2)

        def run(name: str, folder: Path) -> None:
            start.wait()
            try:
                outcomes[name] = build_index([folder], _settings(index_dir), embedder=SlowEmbedder(),
                                             progress=False, lock_wait=wait)
            except Exception as exc:  # recorded, asserted below
                outcomes[name] = exc

        threads = [threading.Thread(target=run, args=("a", corpus)), threading.Thread(target=run, args=("b", other))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        errors = [o for o in outcomes.values() if isinstance(o, Exception)]
        assert all(isinstance(e, IndexBusy) and "another build" in str(e) for e in errors), errors
        assert len(errors) < 2 and (wait == 0 or not errors)
        ids = _assert_whole(index_dir)
        assert ids in sets
        assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
        assert len([p for p in index_dir.iterdir() if p.name.startswith("v-")]) <= 2


def test_a_build_stops_with_one_line_while_another_process_holds_the_lock(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    before = current_version(index_dir)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time\n"
         f"fd = os.open({str(index_dir / '.lock')!r}, os.O_RDWR)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX); os.pwrite(fd, str(os.getpid()).encode(), 0)\n"
         "print('locked', flush=True); time.sleep(30)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        (corpus / "new.txt").write_text("A new document about the Arctic Council.", encoding="utf-8")
        embedder = HashEmbedder()
        with pytest.raises(IndexBusy, match=f"another build is writing the index at .*process {holder.pid}"):
            build_index([corpus], _settings(index_dir), embedder=embedder, progress=False, lock_wait=0.2)
        assert embedder.calls == [] and current_version(index_dir) == before
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the killed holder's lock: the next build goes ahead.
    assert build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False).written


def test_cleanup_spares_a_live_writers_temporary_folder_and_up_to_date_run_removes_a_dead_ones(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    dead = index_dir / ".tmp-v-killed"
    dead.mkdir()
    (dead / "vectors.npy").write_bytes(b"half")
    assert not build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False).written
    assert not dead.exists()  # left by a killed build: cleaned even when nothing is written
    with writer_lock(index_dir):  # a live writer: a second build cannot start, so cannot clean its files
        live = index_dir / ".tmp-v-live"
        live.mkdir()
        with pytest.raises(IndexBusy):
            build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
        assert live.exists()


# -- 3. failed writes ------------------------------------------------------------------------------
@contextmanager
def _read_only(folder: Path):
    """The folder made read-only: by permissions, or for root (whom permissions do not stop) by a
    read-only bind mount; skipped where neither is possible."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(mode)
        return
    mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only folder here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_read_only_index_folder_is_one_line_before_embedding(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    before = current_version(index_dir)
    (corpus / "new.txt").write_text("A new document about the Arctic Council.", encoding="utf-8")
    embedder = HashEmbedder()
    with _read_only(index_dir):
        with pytest.raises(IndexNotWritable) as info:
            build_index([corpus], _settings(index_dir), embedder=embedder, progress=False)
    message = str(info.value)
    assert "\n" not in message and str(index_dir) in message and "previous index" in message
    assert ("read-only" in message) or ("permission denied" in message)
    assert embedder.calls == []  # checked before the expensive part
    assert current_version(index_dir) == before
    _assert_whole(index_dir)


def test_too_little_free_space_is_one_line_before_embedding(tmp_path, corpus, monkeypatch):
    index_dir = tmp_path / "index"
    real = shutil.disk_usage
    monkeypatch.setattr("rag.index.store.lock.shutil.disk_usage",
                        lambda p: real(p)._replace(free=1000))
    embedder = HashEmbedder()
    with pytest.raises(IndexNotWritable, match="not enough free space .* MB needed, 0.0 MB free"):
        build_index([corpus], _settings(index_dir), embedder=embedder, progress=False)
    assert embedder.calls == []


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (root only; skipped elsewhere)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_disk_full_mid_write_is_one_line_and_keeps_the_old_index(small_disk, corpus, monkeypatch):
    index_dir = small_disk / "index"
    monkeypatch.setattr("rag.index.store.local.check_writable", lambda *a: None)  # reach the real write
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    before = current_version(index_dir)
    ids = _assert_whole(index_dir)
    # Fill the disk to within a few KB, then change a document so a new version must be written.
    free = shutil.disk_usage(small_disk).free
    (small_disk / "filler").write_bytes(b"\0" * max(0, free - 8 * 1024))
    first = sorted(corpus.glob("*.txt"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nOne more sentence.", encoding="utf-8")
    with pytest.raises(IndexNotWritable) as info:
        build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    assert "the disk is full" in str(info.value) and "\n" not in str(info.value)
    assert current_version(index_dir) == before
    _assert_whole(index_dir, ids)
    assert not [p for p in index_dir.iterdir() if p.name.startswith(".tmp-")]


def test_disk_full_is_caught_by_the_free_space_check_on_a_small_disk(small_disk, corpus):
    embedder = HashEmbedder()
    (small_disk / "filler").write_bytes(b"\0" * (2 * 1024 * 1024))
    with pytest.raises(IndexNotWritable, match="not enough free space"):
        build_index([corpus], _settings(small_disk / "index"), embedder=embedder, progress=False)
    assert embedder.calls == []


# -- 4. loading while a build switches -------------------------------------------------------------------
def test_load_racing_a_switch_reads_the_new_version(tmp_path, corpus, monkeypatch):
    """The worst case: between reading CURRENT and reading the files, a build switches and its
    cleanup removes the version being loaded. The loader sees CURRENT changed and reads again."""
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    old = current_version(index_dir)
    (corpus / "new.txt").write_text("A new document about the Arctic Council.", encoding="utf-8")
    real_load = local_version.LexicalIndex.load
    raced = []

    def racing_load(path, *args, **kwargs):
        if not raced:
            raced.append(path)
            build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
            shutil.rmtree(old)  # as an eager cleanup would
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(local_version.LexicalIndex, "load", staticmethod(racing_load))
    store = LocalStore.load(index_dir)
    assert raced and store.path == current_version(index_dir) != old
    assert "new" in {d.doc_id for d in store.documents()}


def test_loads_during_repeated_rebuilds_never_fail(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    extra = corpus / "extra.txt"
    stop = time.monotonic() + 3.0
    errors: list[Exception] = []

    def rebuild() -> None:
        for i in range(10):
            if time.monotonic() > stop:
                break
            extra.write_text(f"Extra document number {i} about the Arctic Council.", encoding="utf-8")
            build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)

    writer = threading.Thread(target=rebuild)
    writer.start()
    loads = 0
    while writer.is_alive() and loads < 500:
        try:
            LocalStore.load(index_dir)
        except UserError as exc:
            errors.append(exc)
        loads += 1
    writer.join(timeout=30)
    assert loads > 0 and errors == []


# -- 5. an indexed file that turns unreadable ------------------------------------------------------------
def test_unreadable_indexed_file_keeps_its_indexed_version(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    ids = _assert_whole(index_dir)
    target = sorted(corpus.glob("*.txt"))[0]
    indexed_text = LocalStore.load(index_dir).document(target.stem).text
    target.write_bytes(target.read_bytes() + b"\xff")  # one undecodable byte
    warnings: list[str] = []
    report = build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False,
                         warn=warnings.append)
    assert report.removed == [] and report.kept_unreadable == [target.stem]
    assert any("kept the indexed version" in w and target.stem in w for w in warnings)
    _assert_whole(index_dir, ids)
    assert LocalStore.load(index_dir).document(target.stem).text == indexed_text
    # An explicit choice drops it; so does the file being gone.
    report = build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False,
                         warn=warnings.append, drop_unreadable=True)
    assert report.removed == [target.stem]
    target.write_bytes(target.read_bytes()[:-1])
    assert build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False).added == [target.stem]
    target.unlink()
    assert build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False).documents == len(ids) - 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_file_that_loses_read_permission_keeps_its_indexed_version(tmp_path, corpus):
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    target = sorted(corpus.glob("*.txt"))[0]
    target.chmod(0)
    try:
        report = build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False,
                             warn=lambda m: None)
    finally:
        target.chmod(0o644)
    assert report.removed == [] and report.kept_unreadable == [target.stem]


# -- 9. power loss ---------------------------------------------------------------------------------------
def test_version_files_and_folder_are_fsynced_before_the_switch(tmp_path, corpus, monkeypatch):
    synced: list[str] = []
    real = versions._fsync

    def record(path):
        synced.append(Path(path).name)
        real(path)

    monkeypatch.setattr(versions, "_fsync", record)
    index_dir = tmp_path / "index"
    build_index([corpus], _settings(index_dir), embedder=HashEmbedder(), progress=False)
    for name in ("documents.jsonl", "vectors.npy", "dense.faiss", "manifest.json", ".CURRENT.tmp", "index"):
        assert name in synced, name
    # Every file of the version is on disk before the pointer is.
    assert synced.index("manifest.json") < synced.index(".CURRENT.tmp") < len(synced) - 1
    assert synced[-1] == "index"  # the folder, after the pointer's rename
