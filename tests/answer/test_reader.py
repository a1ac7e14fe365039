"""The product reader on a tiny saved model: answers are verbatim document spans inside their sentence,
the threshold decides null, alternatives are distinct, and a missing or damaged reader is one clear error."""

from __future__ import annotations

import json

import pytest

from rag.answer.reader import Reader, ReaderUnavailable
from rag.records import Chunk, Passage
from tests.reader_fixtures import tiny_base, tiny_reader

DOC = ("Preamble that the chunk leaves out. Putin met the regional governor in Magadan. "
       "He then flew to Anchorage, Alaska, for the summit. Officials said 120 drones were launched.")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("reader")
    base = tiny_base(root / "base")
    tiny_reader(root / "reader", base)
    return root / "reader", base


def _passages() -> list[Passage]:
    out = []
    for n, (s, e) in enumerate([(36, len(DOC)), (36, 120), (80, len(DOC))]):
        out.append(Passage(Chunk("d1", f"d1:{n}", s, e, DOC[s:e]), n + 1, 1.0, "t", "src"))
    return out


def test_every_answer_is_a_verbatim_span_of_its_document_inside_its_sentence(folders):
    reader_dir, base = folders
    reader = Reader(reader_dir, base, threshold=0.0)
    answer, alternatives = reader.answer("Where did Putin fly?", _passages())
    assert answer is not None
    for a in [answer, *alternatives]:
        assert a.text == DOC[a.start:a.end] and a.text
        assert a.sentence_start <= a.start < a.end <= a.sentence_end
        assert 0.0 <= a.score <= 1.0
    assert len({a.text.lower() for a in [answer, *alternatives]}) == 1 + len(alternatives)
    from rag.ingest.sentences import sentence_spans

    assert all(len(sentence_spans(a.text)) == 1 for a in alternatives)  # none runs over a sentence's end
    assert all(not (a.start < answer.end and answer.start < a.end) for a in alternatives)


def test_the_threshold_decides_null(folders):
    reader_dir, base = folders
    assert Reader(reader_dir, base, threshold=1.01).answer("Where?", _passages()) == (None, [])
    assert Reader(reader_dir, base, threshold=0.0).answer("Where?", []) == (None, [])


def test_batched_reading_gives_each_question_what_it_gets_alone(folders):
    reader_dir, base = folders
    reader = Reader(reader_dir, base, threshold=0.0)
    items = [("Where did Putin fly?", _passages()), ("How many drones?", _passages()[2:]), ("Who?", [])]
    alone = [reader.answer(q, p) for q, p in items]
    together = reader.answer_many(items)
    assert [a for a, _ in together] == [a for a, _ in alone]


def test_a_missing_reader_is_one_clear_error(tmp_path, folders):
    _, base = folders
    with pytest.raises(ReaderUnavailable, match="missing.*--no-answer"):
        Reader(tmp_path / "nowhere", base).warm_up()


@pytest.mark.parametrize("damage", ["weights", "config"])
def test_a_damaged_reader_is_one_clear_error(tmp_path, folders, damage):
    _, base = folders
    broken = tmp_path / "reader"
    tiny_reader(broken, base)
    if damage == "weights":
        (broken / "reader.safetensors").write_bytes(b"not safetensors")
    else:
        (broken / "reader.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match="damaged"):
        Reader(broken, base).warm_up()


def test_reader_config_keeps_its_threshold_and_calibration(tmp_path, folders):
    _, base = folders
    tiny_reader(tmp_path / "r", base, threshold=0.42, calibration={"scale": 2.0, "bias": -1.0})
    raw = json.loads((tmp_path / "r" / "reader.json").read_text())
    assert raw["threshold"] == 0.42
    reader = Reader(tmp_path / "r", base)
    assert reader.threshold == 0.42 and reader.config.calibration == {"scale": 2.0, "bias": -1.0}
    assert Reader(tmp_path / "r", base, threshold=0.1).threshold == 0.1


@pytest.mark.parametrize("question", ["?", "...!?", "x", "Wo hat Putin den Gouverneur getroffen?", "戦争はいつ終わる",
                                      "war " * 200, "Where " + "a" * 990, "\u200b"])
def test_odd_questions_get_an_answer_or_none_never_an_error(folders, question):
    reader_dir, base = folders
    answer, _ = Reader(reader_dir, base, threshold=0.0).answer(question, _passages())
    assert answer is None or answer.text == DOC[answer.start:answer.end]


def test_a_passage_longer_than_the_window_is_read_whole(folders):
    reader_dir, base = folders
    long_doc = ("Filler sentence about nothing at all. " * 80) + "The treaty was signed in Helsinki."
    passage = Passage(Chunk("long", "long:0", 0, len(long_doc), long_doc), 1, 1.0, "t", "s")
    reader = Reader(reader_dir, base, threshold=0.0)
    found = reader.read([("Where was the treaty signed?", [passage])])[0]
    assert found and all(f.text == long_doc[f.start:f.end] for f in found)
    # Its windows reach the last character, so an answer at the far end can be found.
    from rag.answer.windows import make_windows

    windows = make_windows(reader._tokenizer, ["Where was the treaty signed?"], [long_doc],
                           reader.config.max_length, reader.config.stride)
    assert len(windows) > 3 and max(int(w.offsets[:, 1].max()) for w in windows) == len(long_doc)


def test_the_answer_sentence_is_whole_where_a_line_wraps_it(folders):
    from rag.answer.reader import _sentence_around

    text = "Intro line.\nThe tail is at\nthe 99.9th percentile of the distribution. After."
    start = text.index("99.9th")
    s, e = _sentence_around(text, start, start + len("99.9th"))
    assert text[s:e] == "The tail is at\nthe 99.9th percentile of the distribution."
