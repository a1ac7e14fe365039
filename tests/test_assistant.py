"""The assistant hands the answer stage the passages it should read: the setting when it is set, else
the answerer's own measured number, whatever k is."""

from __future__ import annotations

import pytest

from rag.assistant import Assistant
from rag.index.build import build_index
from rag.index.store import open_store
from rag.settings import Settings


class Recorder:
    """An answerer that answers nothing and records how many passages it was given."""

    kind = "reader"
    needs_question_vector = False
    passages = 2

    def __init__(self) -> None:
        self.given: list[int] = []

    def warm_up(self) -> None:
        pass

    def answer_many(self, items):
        self.given.extend(len(passages) for _, passages in items)
        return [(None, []) for _ in items]


@pytest.fixture
def index_settings(tmp_path, hash_embedder) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(8):
        (corpus / f"d{n}.txt").write_text(f"Document {n} says the summit was held in city number {n}.\n")
    settings = Settings(model="unused", index_dir=tmp_path / "index")
    build_index([corpus], settings, embedder=hash_embedder, progress=False)
    return settings


@pytest.mark.parametrize("setting, expected", [(None, 2), (4, 4), (1, 1)])
def test_the_answer_stage_reads_the_setting_or_the_answerers_own_number(index_settings, hash_embedder,
                                                                        setting, expected):
    settings = index_settings.with_(answer_passages=setting)
    recorder = Recorder()
    assistant = Assistant(open_store(settings.index_dir), hash_embedder, settings, recorder)
    assert assistant.read_passages == expected
    assistant.ask("Where was the summit held?", k=6, retriever="bm25")
    list(assistant.ask_many(["Where was the summit?", "Which city?"], k=8, retriever="bm25"))
    assert recorder.given == [expected] * 3


def test_an_unset_answer_passages_comes_from_the_environment_as_a_whole_number(monkeypatch):
    monkeypatch.setenv("RAG_ANSWER_PASSAGES", "7")
    assert Settings.from_env().answer_passages == 7
    monkeypatch.delenv("RAG_ANSWER_PASSAGES")
    assert Settings.from_env().answer_passages is None
