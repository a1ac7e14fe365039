"""What only the local store has: atomic versions, damaged files, vectors kept byte for byte; and the
fusion arithmetic. What every store does is in store/test_conformance.py."""

import json
import shutil

import numpy as np
import pytest

from rag import Settings, build_index
from rag.errors import IndexIncompatible, IndexMissing
from rag.index.store.local import LocalStore, current_version
from rag.retrieve.retriever import convex, rrf

from tests.conftest import SEEDS


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


def _settings(tmp_path, **kw):
    return Settings(model="unused", index_dir=tmp_path / "index", **kw)


def test_changed_and_removed_documents(tmp_path, corpus, hash_embedder):
    s = _settings(tmp_path)
    build_index([corpus], s, embedder=hash_embedder, progress=False)
    store_before = LocalStore.load(s.index_dir)
    old = {store_before.chunk(i).chunk_id: np.array(v) for i, v in enumerate(store_before.vectors())}
    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nA new closing sentence about Oslo.", encoding="utf-8")
    removed = sorted(corpus.glob("*.txt"))[1]
    removed.unlink()
    report = build_index([corpus], s, embedder=hash_embedder, progress=False)
    assert report.changed == [changed.stem] and report.removed == [removed.stem] and report.added == []
    store = LocalStore.load(s.index_dir)
    assert report.embedded_chunks == len([r for r in store.chunk_rows if store.documents()[r[0]].doc_id == changed.stem])
    assert {d.doc_id for d in store.documents()} == {p.stem for p in corpus.glob("*.txt")}
    # Unchanged documents keep their exact vectors.
    unchanged = sorted(corpus.glob("*.txt"))[-1].stem
    for i, v in enumerate(store.vectors()):
        c = store.chunk(i)
        assert c.text == store.document(c.doc_id).text[c.start:c.end]
        if c.doc_id == unchanged:
            np.testing.assert_array_equal(v, old[c.chunk_id])


def test_interrupted_build_leaves_previous_index_whole(tmp_path, corpus, hash_embedder, monkeypatch):
    s = _settings(tmp_path)
    build_index([corpus], s, embedder=hash_embedder, progress=False)
    before = current_version(s.index_dir)
    (corpus / "extra.txt").write_text("Extra document about the Arctic Council.", encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("rag.index.store.local_version.LexicalIndex.build", boom)
    with pytest.raises(KeyboardInterrupt):
        build_index([corpus], s, embedder=hash_embedder, progress=False)
    assert current_version(s.index_dir) == before
    store = LocalStore.load(s.index_dir)
    assert "extra" not in {d.doc_id for d in store.documents()}
    assert [p.name for p in s.index_dir.iterdir() if p.name.startswith(".tmp")] == []


def test_missing_corrupt_and_foreign_indexes_give_one_clear_message(tmp_path, corpus, hash_embedder):
    s = _settings(tmp_path)
    with pytest.raises(IndexMissing, match="rag index"):
        LocalStore.load(s.index_dir)
    build_index([corpus], s, embedder=hash_embedder, progress=False)
    version = current_version(s.index_dir)
    (version / "dense.faiss").write_bytes(b"garbage")
    with pytest.raises(IndexIncompatible, match="damaged.*rag index"):
        LocalStore.load(s.index_dir)
    manifest = json.loads((version / "manifest.json").read_text())
    manifest["format_version"] = 999
    (version / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatible, match="format"):
        LocalStore.load(s.index_dir)


def test_convex_fusion_hand_computed():
    dense = (np.array([0.9, 0.7, 0.5], dtype=np.float32), np.array([1, 2, 3]))
    lexical = (np.array([12.0, 4.0, 2.0], dtype=np.float32), np.array([3, 4, 1]))
    scores, rows = convex([dense, lexical], [0.5, 0.5], k=4)
    # Normalised: dense 1 -> 1, 2 -> 0.5, 3 -> 0; lexical 3 -> 1, 4 -> 0.2, 1 -> 0.
    assert rows.tolist() == [1, 3, 2, 4]
    np.testing.assert_allclose(scores, [0.5, 0.5, 0.25, 0.1], rtol=1e-6)
    # The weight decides between the two lists; a list whose scores are all equal counts them all as 1.
    assert convex([dense, lexical], [0.2, 0.8], k=1)[1].tolist() == [3]
    flat = (np.array([3.0, 3.0], dtype=np.float32), np.array([7, 8]))
    assert convex([flat], [1.0], k=2)[0].tolist() == [1.0, 1.0]
    assert convex([(np.array([], dtype=np.float32), np.array([], dtype=np.int64))], [1.0], k=3)[1].tolist() == []


def test_bad_settings_are_user_errors(monkeypatch):
    from rag.errors import UserError
    from rag.settings import Settings

    Settings(fusion="convex", dense_weight=0.5)
    with pytest.raises(UserError, match="unknown fusion"):
        Settings(fusion="max")
    with pytest.raises(UserError, match="between 0 and 1"):
        Settings(fusion="convex", dense_weight=1.5)
    with pytest.raises(UserError, match="unknown fusion"):
        Settings().with_(fusion="max")
    monkeypatch.setenv("RAG_DENSE_WEIGHT", "abc")
    with pytest.raises(UserError, match="RAG_DENSE_WEIGHT='abc' is not a number"):
        Settings.from_env()
    monkeypatch.setenv("RAG_DENSE_WEIGHT", "0.3")
    monkeypatch.setenv("RAG_K", "five")
    with pytest.raises(UserError, match="RAG_K='five' is not a whole number"):
        Settings.from_env()


def test_rrf_hand_computed():
    scores, rows = rrf([np.array([1, 2, 3]), np.array([3, 1])], rrf_k=60, k=3)
    assert rows.tolist() == [1, 3, 2]
    np.testing.assert_allclose(scores, [1 / 61 + 1 / 62, 1 / 63 + 1 / 61, 1 / 62], rtol=1e-6)


# -- the precision the vectors were computed in (Manifest.built_with.precision) ------------------------
class _PrecisionEmbedder:
    """The hash embedder, claiming a precision."""

    def __init__(self, inner, precision):
        self._inner, self.precision = inner, precision

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_the_manifest_records_the_precision_and_either_reuses_the_other(tmp_path, corpus, hash_embedder):
    s = _settings(tmp_path)
    report = build_index([corpus], s, embedder=_PrecisionEmbedder(hash_embedder, "bf16"), progress=False)
    assert report.precision == "bf16" and "bf16" in report.summary()
    assert LocalStore.at(s.index_dir).manifest().built_with.precision == "bf16"
    # An fp32 embedder reuses the bf16 vectors: nothing re-embedded, nothing written.
    calls = len(hash_embedder.calls)
    assert not build_index([corpus], s, embedder=_PrecisionEmbedder(hash_embedder, "fp32"), progress=False).written
    assert len(hash_embedder.calls) == calls
    # A new document embedded in fp32 beside bf16 ones: the index says "mixed".
    (corpus / "new.txt").write_text("A new document about the Arctic Council.", encoding="utf-8")
    report = build_index([corpus], s, embedder=_PrecisionEmbedder(hash_embedder, "fp32"), progress=False)
    assert report.added == ["new"] and report.unchanged > 0 and report.precision == "mixed"
    assert LocalStore.at(s.index_dir).manifest().built_with.precision == "mixed"
    # Rebuilt whole (another chunker) in fp32: fp32 again.
    report = build_index([corpus], _settings(tmp_path, chunk_size=500),
                         embedder=_PrecisionEmbedder(hash_embedder, "fp32"), progress=False)
    assert report.unchanged == 0 and LocalStore.at(s.index_dir).manifest().built_with.precision == "fp32"


def test_an_index_written_before_precision_was_recorded_reads_as_fp32(tmp_path, corpus, hash_embedder):
    s = _settings(tmp_path)
    build_index([corpus], s, embedder=hash_embedder, progress=False)
    path = s.index_dir / current_version(s.index_dir) / "manifest.json"
    raw = json.loads(path.read_text())
    del raw["model"]["precision"]
    path.write_text(json.dumps(raw))
    manifest = LocalStore.at(s.index_dir).manifest()
    assert manifest.built_with.precision == "fp32" and manifest.reusable(hash_embedder.fingerprint,
                                                                         manifest.built_with.chunker)
