"""What every store must do, as test mixins (after Haystack's ``haystack/testing/document_store.py``).

A backend gets the whole suite with one class in ``test_conformance.py`` that inherits
``StoreConformance`` and provides one fixture, ``backend``: a ``Backend`` naming the store (what
``Settings.store`` takes) in a state that holds nothing. Everything goes through the public
interface: ``build_index``, ``open_store`` and the ``Store`` protocol, with the fast fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from rag import Settings, build_index
from rag.errors import IndexMissing, UserError
from rag.index.build import BuildReport, chunker_settings
from rag.index.store import Hits, Sentences, Store, open_store
from rag.index.store.base import BuiltWith, EmbeddedDocument, Update
from rag.ingest.chunking import chunk_document
from rag.records import Document
from rag.retrieve.retriever import Retriever

from tests.conftest import HashEmbedder

QUESTIONS = ["How many drones did Russia launch?", "ceasefire talks", "What did Zelenskyy warn?"]


class Wider(HashEmbedder):
    """Another model: other fingerprint, other dimension."""

    fingerprint, dimension = "wider-v1", 96


@dataclass
class Backend:
    """One store under test: ``store`` as ``Settings.store`` takes it, empty to begin with."""

    store: str
    index_dir: Path
    opened: list[Store] = field(default_factory=list)

    def settings(self, **overrides) -> Settings:
        return Settings(model="unused", index_dir=self.index_dir, store=self.store, **overrides)

    def build(self, corpus: Path, embedder: HashEmbedder | None = None, **kw) -> BuildReport:
        return build_index([corpus], self.settings(), embedder=embedder or HashEmbedder(), progress=False, **kw)

    def open(self, create: bool = False) -> Store:
        store = open_store(self.index_dir, self.store, create=create)
        self.opened.append(store)
        return store

    def close(self) -> None:
        for store in self.opened:
            store.close()


class StoreFixtures:
    @pytest.fixture
    def backend(self) -> Backend:
        raise NotImplementedError("a backend's test class provides the `backend` fixture")

    @pytest.fixture
    def store_of(self, backend: Backend) -> Iterator[Backend]:
        """``backend``, with every store it opened closed afterwards."""
        yield backend
        backend.close()


def _all_rows(store: Store) -> np.ndarray:
    return store.dense_search(HashEmbedder().encode(["anything"]), 100_000)[0].rows


class ReadContract(StoreFixtures):
    def test_build_and_every_citation_is_exact(self, store_of, corpus):
        report = store_of.build(corpus)
        assert report.written and report.chunks > 0 and len(report.added) == report.documents
        assert report.embedded_chunks == report.chunks
        store = store_of.open()
        assert isinstance(store, Store)
        assert store.info.chunks == report.chunks and store.info.documents == report.documents
        assert {d.doc_id for d in store.documents()} == {p.stem for p in corpus.glob("*.txt")}
        # Every stored chunk, reached through a search, cites its document's text exactly.
        scores, rows = store.dense_search(HashEmbedder().encode(["Russia Ukraine drones"]), report.chunks)[0]
        assert len(rows) == report.chunks and np.all(np.diff(scores) <= 1e-6)
        for row in rows.tolist():
            c = store.chunk(row)
            doc = store.document(c.doc_id)
            assert doc is not None and c.text == doc.text[c.start:c.end] != ""
        assert store.document("no-such-document") is None

    def test_same_rankings_and_sentences_as_the_reference(self, store_of, corpus, reference):
        store_of.build(corpus)
        store = store_of.open()
        by_id = {reference.chunk(i).chunk_id: i for i in range(reference.info.chunks)}
        for q in QUESTIONS:
            v = HashEmbedder().encode([q])
            (ms, mr), (rs, rr) = store.dense_search(v, 5)[0], reference.dense_search(v, 5)[0]
            # Exact search on both sides: the same chunks in the same order, the same cosines.
            assert [store.chunk(r).chunk_id for r in mr] == [reference.chunk(r).chunk_id for r in rr]
            assert np.allclose(ms, rs, atol=1e-4)
            for row in mr.tolist():
                (spans, vectors), (ref_spans, ref_vectors) = store.sentences(row), \
                    reference.sentences(by_id[store.chunk(row).chunk_id])
                assert len(spans) > 0 and np.array_equal(spans, ref_spans)
                assert np.allclose(vectors, ref_vectors, atol=1e-3)

    def test_search_results_are_typed_and_bounded(self, store_of, corpus):
        report = store_of.build(corpus)
        store = store_of.open()
        vectors = HashEmbedder().encode(QUESTIONS)
        hits = store.dense_search(vectors, 3)
        assert len(hits) == len(QUESTIONS)
        for h in hits + [store.lexical_search("Belgorod drones", 3)]:
            assert isinstance(h, Hits) and h.scores.dtype == np.float32 and h.rows.dtype == np.int64
            assert 0 < len(h.rows) <= 3 and len(h.scores) == len(h.rows)
        assert all(len(h.rows) == 0 for h in store.dense_search(vectors, 0))
        assert len(store.dense_search(vectors[:1], 10 * report.chunks)[0].rows) == report.chunks
        assert len(store.lexical_search("Belgorod", 0).rows) == 0
        s = store.sentences(int(hits[0].rows[0]))
        assert isinstance(s, Sentences) and s.vectors.shape == (len(s.spans), HashEmbedder.dimension)

    def test_lexical_search(self, store_of, corpus):
        store_of.build(corpus)
        store = store_of.open()
        # A word that occurs in one document only must bring that document first.
        doc = next(d for d in store.documents() if "Belgorod" in d.text)
        scores, rows = store.lexical_search("Belgorod", 3)
        assert len(rows) and np.all(scores > 0) and np.all(np.diff(scores) <= 1e-6)
        assert store.chunk(int(rows[0])).doc_id == doc.doc_id
        assert len(store.lexical_search("the of and", 3).rows) == 0  # stopwords only: no match
        assert len(store.lexical_search("", 3).rows) == 0

    @pytest.mark.parametrize("fusion", ["convex", "rrf"])
    def test_dense_bm25_and_hybrid_through_the_retriever(self, store_of, corpus, fusion):
        report = store_of.build(corpus)
        store = store_of.open()
        retriever = Retriever(store, HashEmbedder(), store_of.settings(fusion=fusion))
        for name in ("dense", "bm25", "hybrid"):
            timings: dict[str, float] = {}
            passages = retriever.search("Vyacheslav Gladkov Belgorod governor", 4, name, timings=timings)
            assert 0 < len(passages) <= 4 and [p.rank for p in passages] == list(range(1, len(passages) + 1))
            assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
            for p in passages:
                doc = store.document(p.chunk.doc_id)
                assert p.title and doc is not None and p.chunk.text == doc.text[p.chunk.start:p.chunk.end]
            # The fake embedder is crude, so only BM25 is asked to rank the right passage first.
            assert "002_0e236a77829a789a" in [p.chunk.doc_id for p in passages[: 1 if name == "bm25" else 4]]
        # Dense candidates are re-ranked by sentence here, so the retriever fuses for every store.
        assert "fusion" in timings
        assert len(retriever.search("drones", 1000, "hybrid")) == report.chunks

    def test_pdf_page_ranges_survive(self, store_of, corpus):
        from tests.doc_fixtures import write_pdf

        write_pdf(corpus / "bridge.pdf", [["Harbour report", "The bridge opened in March."],
                                          ["Costs", "The council paid 42 million euros."]])
        store_of.build(corpus)
        store = store_of.open()
        doc = store.document("bridge")
        assert doc is not None and len(doc.pages) == 2
        assert doc.page_at(doc.text.index("42 million")) == 2
        listed = {d.doc_id: d for d in store.documents()}
        assert listed["bridge"].pages == doc.pages and listed["bridge"].text == doc.text
        assert all(d.pages == () for k, d in listed.items() if k != "bridge")

    def test_missing_index_is_one_line(self, store_of):
        with pytest.raises(IndexMissing, match="rag index") as err:
            store_of.open()
        assert "\n" not in str(err.value)

    def test_model_check_and_rebuild_hint(self, store_of, corpus):
        store_of.build(corpus)
        info = store_of.open().info
        assert info.built_with(HashEmbedder.fingerprint, HashEmbedder.dimension)
        assert not info.built_with(Wider.fingerprint, Wider.dimension)
        assert not info.built_with(HashEmbedder.fingerprint, 384)
        assert info.rebuild.startswith("rag index") and (store_of.store in info.rebuild
                                                         or str(store_of.index_dir) in info.rebuild)

    def test_a_store_reads_the_version_it_opened(self, store_of, corpus):
        store_of.build(corpus)
        store = store_of.open()
        before = {d.doc_id for d in store.documents()}
        (corpus / "extra.txt").write_text("Extra document about the Arctic Council.", encoding="utf-8")
        store_of.build(corpus)
        if store.version() is None:  # changes in place: the new document is there at once
            assert store.latest_version() is None and store.document("extra") is not None
        else:  # a snapshot: the new version is for a store opened again
            assert store.latest_version() != store.version()
            assert {d.doc_id for d in store.documents()} == before
        assert store_of.open().document("extra") is not None


class BuildContract(StoreFixtures):
    def test_second_build_embeds_nothing(self, store_of, corpus):
        embedder = HashEmbedder()
        first = store_of.build(corpus, embedder)
        again = store_of.build(corpus, embedder)
        assert not again.written and again.embedded_chunks == 0 and again.chunks == first.chunks
        assert embedder.calls == [first.chunks]
        assert "up to date" in again.summary()

    def test_changed_and_removed_documents(self, store_of, corpus):
        first = store_of.build(corpus)
        changed, removed = sorted(corpus.glob("*.txt"))[:2]
        changed.write_text(changed.read_text(encoding="utf-8") + "\nA closing sentence about Oslo.", encoding="utf-8")
        removed.unlink()
        embedder = HashEmbedder()
        report = store_of.build(corpus, embedder)
        assert report.changed == [changed.stem] and report.removed == [removed.stem] and report.added == []
        store = store_of.open()
        assert {d.doc_id for d in store.documents()} == {p.stem for p in corpus.glob("*.txt")}
        assert store.document(removed.stem) is None
        assert store.document(changed.stem).text.endswith("about Oslo.")
        # Only the changed document was embedded, and no stale chunk of it or of the removed one is left.
        assert embedder.calls == [report.embedded_chunks]
        rows = _all_rows(store)
        assert len(rows) == report.chunks == store.info.chunks < first.chunks + report.embedded_chunks
        assert removed.stem not in {store.chunk(r).doc_id for r in rows.tolist()}
        assert sum(store.chunk(r).doc_id == changed.stem for r in rows.tolist()) == report.embedded_chunks
        assert store.chunk(int(store.lexical_search("Oslo", 1).rows[0])).doc_id == changed.stem

    def test_other_model_rebuilds_whole(self, store_of, corpus):
        store_of.build(corpus)
        report = store_of.build(corpus, Wider())
        assert report.written and report.embedded_chunks == report.chunks
        assert sorted(report.changed) == sorted(p.stem for p in corpus.glob("*.txt"))
        info = store_of.open().info
        assert info.dimension == 96 and info.built_with(Wider.fingerprint, Wider.dimension)

    def test_other_chunker_re_embeds_everything(self, store_of, corpus):
        first = store_of.build(corpus)
        s = store_of.settings(chunk_size=300, chunk_overlap=50)
        report = build_index([corpus], s, embedder=HashEmbedder(), progress=False)
        assert report.written and report.embedded_chunks == report.chunks > first.chunks
        assert sorted(report.changed) == sorted(p.stem for p in corpus.glob("*.txt"))
        assert len(_all_rows(store_of.open())) == report.chunks

    def test_empty_corpus_is_one_line(self, store_of, tmp_path):
        (tmp_path / "empty").mkdir()
        with pytest.raises(UserError, match="no documents") as err:
            store_of.build(tmp_path / "empty")
        assert "\n" not in str(err.value)

    def test_unreadable_indexed_file_keeps_its_indexed_version(self, store_of, corpus):
        store_of.build(corpus)
        target = sorted(corpus.glob("*.txt"))[0]
        indexed_text = target.read_text(encoding="utf-8")
        target.write_bytes(target.read_bytes() + b"\xff")  # one undecodable byte
        warnings: list[str] = []
        report = store_of.build(corpus, warn=warnings.append)
        assert report.removed == [] and report.kept_unreadable == [target.stem]
        assert any("kept the indexed version" in w and target.stem in w for w in warnings)
        assert store_of.open().document(target.stem).text == indexed_text
        report = store_of.build(corpus, warn=warnings.append, drop_unreadable=True)
        assert report.removed == [target.stem] and store_of.open().document(target.stem) is None


class WriteContract(StoreFixtures):
    """The writing half of the protocol, without ``build_index``."""

    def test_manifest_says_what_is_stored_and_what_is_reusable(self, store_of, corpus):
        assert store_of.open(create=True).manifest() is None
        store_of.build(corpus)
        manifest = store_of.open(create=True).manifest()
        hashes = {d.doc_id: d.content_hash for d in store_of.open().documents()}
        assert manifest is not None and manifest.readable and set(manifest.documents) == set(hashes)
        chunker = chunker_settings(store_of.settings())
        reusable = manifest.reusable(HashEmbedder.fingerprint, chunker)
        assert reusable == hashes
        assert manifest.reusable(Wider.fingerprint, chunker) == {}
        assert manifest.reusable(HashEmbedder.fingerprint, {**chunker, "size": 1}) == {}
        assert manifest.built_with.dimension == HashEmbedder.dimension
        assert manifest.chunks == store_of.open().info.chunks

    def test_write_keeps_replaces_adds_and_drops(self, store_of):
        a, b, c = (Document(n, n.upper(), f"/{n}.txt", f"{n} is about {topic}. " * 40)
                   for n, topic in (("a", "harbours"), ("b", "bridges"), ("c", "ferries")))
        self._write(store_of, [a, b], fresh=[a, b], stale=[], rebuild=True)
        store = store_of.open()
        first = {store.chunk(r).chunk_id for r in _all_rows(store).tolist()}
        b2 = Document("b", "B", "/b.txt", "b is now about tunnels. " * 10)
        self._write(store_of, [a, b2, c], fresh=[b2, c], stale=["b"], rebuild=False)
        store = store_of.open()
        assert [d.doc_id for d in sorted(store.documents(), key=lambda d: d.doc_id)] == ["a", "b", "c"]
        assert store.document("b").text == b2.text
        chunks = [store.chunk(r) for r in _all_rows(store).tolist()]
        assert len(chunks) == store.info.chunks == sum(len(self._chunks(d)) for d in (a, b2, c))
        assert {x.chunk_id for x in chunks if x.doc_id == "a"} == {x for x in first if x.startswith("a#")}
        assert all(x.text == store.document(x.doc_id).text[x.start:x.end] for x in chunks)
        self._write(store_of, [c], fresh=[], stale=["a", "b"], rebuild=False)
        store = store_of.open()
        assert [d.doc_id for d in store.documents()] == ["c"] and store.info.chunks == len(self._chunks(c))
        assert {store.chunk(r).doc_id for r in _all_rows(store).tolist()} == {"c"}

    @staticmethod
    def _chunks(doc: Document):
        return chunk_document(doc, 600, 150)

    def _write(self, backend: Backend, documents: list[Document], fresh: list[Document], stale: list[str],
               rebuild: bool) -> None:
        emb = HashEmbedder()
        embedded = {}
        for d in fresh:
            cs = self._chunks(d)
            spans = [np.array([[x.start, x.end]], np.int64) for x in cs]
            embedded[d.doc_id] = EmbeddedDocument(d, cs, emb.encode([x.text for x in cs]),
                                                  [Sentences(sp, emb.encode([x.text])) for sp, x in zip(spans, cs)])
        store = backend.open(create=True)
        with store.writing():
            store.write(Update(
                documents=documents, fresh=embedded, chunk_counts={d.doc_id: len(self._chunks(d)) for d in documents},
                stale=stale, built_with=BuiltWith("unused", emb.fingerprint, emb.dimension,
                                                  chunker_settings(backend.settings())),
                rebuild=rebuild))


class StoreConformance(ReadContract, BuildContract, WriteContract):
    """Everything a store must do."""
