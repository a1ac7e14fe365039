"""The pipelined build (rag/index/pipeline.py and build.py): reading overlaps embedding, the documents
come out as ``load_documents`` gives them, only what needs embedding is chunked, the progress bar
counts both, and a failure on either side stops the other."""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from rag import Settings, build_index

from rag.index import pipeline
from rag.index.pipeline import DocumentReader
from rag.index.store.lock import IndexBusy, writer_lock
from rag.ingest.documents import iter_files, load_documents

from tests.conftest import SEEDS, HashEmbedder


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    # Two corpora with a shared id: the second is skipped with a warning, as load_documents does.
    for name, ids in (("a", ["x1", "dup"]), ("b", ["dup", "x2"])):
        (folder / name).mkdir()
        (folder / name / "corpus.jsonl").write_text(
            "".join(json.dumps({"_id": i, "title": i, "text": f"Document {i} of corpus {name}. It has two sentences."})
                    + "\n" for i in ids), encoding="utf-8")
    return folder


def _read(reader: DocumentReader, reuse=None):
    reader.start()
    try:
        reader.wait_first()
        reader.plan(reuse or {})
        return list(reader)
    finally:
        reader.close()


def test_documents_come_out_as_load_documents_gives_them(corpus):
    expected_warnings, warnings = [], []
    expected = load_documents([corpus], warn=expected_warnings.append)
    got = _read(DocumentReader(list(iter_files([corpus])), warnings.append, 600, 150))
    assert [r.document for r in got] == expected
    assert warnings == expected_warnings and any("already taken" in w for w in warnings)


def test_only_documents_to_embed_are_chunked(corpus):
    docs = load_documents([corpus], warn=lambda m: None)
    reuse = {d.doc_id: d.content_hash for d in docs[:3]}
    reuse[docs[3].doc_id] = "an older version"
    got = _read(DocumentReader(list(iter_files([corpus])), lambda m: None, 600, 150), reuse)
    assert [r.chunks is None for r in got] == [d.doc_id in reuse and d.doc_id != docs[3].doc_id for d in docs]
    for r in got[3:]:
        assert r.chunks and len(r.spans) == len(r.chunks)
        assert all(c.text == r.document.text[c.start:c.end] for c in r.chunks)


class GatedEmbedder(HashEmbedder):
    """Sets ``started`` on its first call."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    def encode_with_sentences(self, texts, spans, progress=False):
        self.started.set()
        return super().encode_with_sentences(texts, spans, progress)


def test_embedding_starts_while_files_are_still_being_read(tmp_path, corpus, monkeypatch):
    """The last file is read only once the model has started on the first chunks: a build that read
    everything before embedding would wait here in vain (and fail the assertion)."""
    embedder = GatedEmbedder()
    files = list(iter_files([corpus]))
    seen = {}

    def load(paths, warn, unreadable, limits=None):
        if paths[0] == files[-1]:
            seen["embedding had started"] = embedder.started.wait(timeout=20)
        return load_documents(paths, warn=warn, unreadable=unreadable, limits=limits)

    monkeypatch.setattr(pipeline, "load_documents", load)
    # batch 1: a window is 4 chunks, so the first seed file alone starts the model.
    report = build_index([corpus], Settings(model="unused", index_dir=tmp_path / "index", batch_size=1),
                         embedder=embedder, progress=False, warn=lambda m: None)
    assert seen == {"embedding had started": True}
    assert report.written and report.embedded_chunks == sum(embedder.calls)
    assert len(embedder.calls) > 2 and max(embedder.calls) <= 4  # window by window, not one call at the end


def test_the_progress_bar_counts_chunks_and_files(tmp_path, corpus, capsys):
    report = build_index([corpus], Settings(model="unused", index_dir=tmp_path / "index", batch_size=2),
                         embedder=HashEmbedder(), progress=True, warn=lambda m: None)
    err = capsys.readouterr().err
    files = len(list(iter_files([corpus])))
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert f"{report.embedded_chunks}/{report.embedded_chunks}" in last and f"files read {files}/{files}" in last


def test_a_loader_failure_stops_the_build_with_its_error(tmp_path, corpus, monkeypatch):
    def load(paths, warn, unreadable, limits=None):
        if paths[0].suffix == ".jsonl":
            raise RuntimeError("the loader broke")
        return load_documents(paths, warn=warn, unreadable=unreadable, limits=limits)

    monkeypatch.setattr(pipeline, "load_documents", load)
    with pytest.raises(RuntimeError, match="the loader broke"):
        build_index([corpus], Settings(model="unused", index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                    progress=False, warn=lambda m: None)
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_busy_index_stops_the_reader(tmp_path, corpus, monkeypatch):
    readers = []
    real = pipeline.DocumentReader.start

    def start(self):
        readers.append(self)
        return real(self)

    monkeypatch.setattr(pipeline.DocumentReader, "start", start)
    index_dir = tmp_path / "index"
    with writer_lock(index_dir):
        with pytest.raises(IndexBusy):
            build_index([corpus], Settings(model="unused", index_dir=index_dir), embedder=HashEmbedder(),
                        progress=False, lock_wait=0.1)
    assert readers and readers[0].finished


def test_nothing_to_read_is_one_line_before_the_store_exists(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "empty.txt").write_text("   \n", encoding="utf-8")
    from rag.errors import UserError

    with pytest.raises(UserError, match="no documents found"):
        build_index([folder], Settings(model="unused", index_dir=tmp_path / "index"), embedder=HashEmbedder(),
                    progress=False, warn=lambda m: None)
    assert not (tmp_path / "index").exists()


def test_a_kept_unreadable_document_is_embedded_again_when_the_index_is_rebuilt(tmp_path, corpus):
    """Another chunker rebuilds the index whole; a file that cannot be read now keeps its indexed text,
    which the build chunks and embeds itself (the reader never saw it)."""
    index_dir = tmp_path / "index"
    build_index([corpus], Settings(model="unused", index_dir=index_dir), embedder=HashEmbedder(), progress=False,
                warn=lambda m: None)
    target = sorted(corpus.glob("*.txt"))[0]
    target.write_bytes(target.read_bytes() + b"\xff")  # one undecodable byte
    report = build_index([corpus], Settings(model="unused", index_dir=index_dir, chunk_size=400),
                         embedder=HashEmbedder(), progress=False, warn=lambda m: None)
    assert report.kept_unreadable == [target.stem] and report.unchanged == 0
    from rag.index.store.local import LocalStore

    store = LocalStore.load(index_dir)
    rows = [store.chunk(i) for i in range(store.info.chunks)]
    kept = [c for c in rows if c.doc_id == target.stem]
    assert kept and all(len(c.text) <= 400 for c in kept)  # cut by the new chunker
    assert report.embedded_chunks == len(rows)
