"""Fixtures for the store tests: a corpus, a reference local index to compare with, and a Milvus
server over the network: Milvus Lite's gRPC server (``python -m milvus_lite server``) speaks the
same protocol as a Milvus cluster, so no cluster is needed."""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rag import Settings, build_index
from rag.index.store.local import LocalStore

from tests.conftest import SEEDS, HashEmbedder

# The Milvus tests need the milvus extra (pymilvus and milvus-lite); without it they are skipped.
milvus = [pytest.mark.milvus, pytest.mark.skipif(
    importlib.util.find_spec("pymilvus") is None or importlib.util.find_spec("milvus_lite") is None,
    reason="needs the milvus extra: pip install 'rag-offline[milvus]'")]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> LocalStore:
    """The seeds in the local store, with the fake embedder: what every store must match."""
    index_dir = tmp_path_factory.mktemp("reference") / "index"
    build_index([SEEDS], Settings(model="unused", index_dir=index_dir), embedder=HashEmbedder(), progress=False)
    return LocalStore.load(index_dir)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MilvusServer:
    """A Milvus server in a child process, on 127.0.0.1:``port``, keeping its data in ``data_dir``."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"milvus://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    def start(self, timeout: float = 60.0) -> MilvusServer:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data_dir),
                 "--host", "127.0.0.1", "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the Milvus server exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        pytest.fail(f"the Milvus server did not listen on port {self.port} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory) -> Iterator[MilvusServer]:
    """One server for the session; each test clears its collections first (see ``clear_milvus``)."""
    server = MilvusServer(tmp_path_factory.mktemp("milvus") / "data").start()
    try:
        yield server
    finally:
        server.stop()


def clear_milvus(uri: str) -> None:
    """Drop the collections a previous test (or run) left, so each test starts from nothing."""
    from rag.index.store.milvus_connect import connect, parse_uri
    from rag.index.store.milvus_schema import drop_collections

    client = connect(parse_uri(uri))
    try:
        drop_collections(client)
    finally:
        client.close()
