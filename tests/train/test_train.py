"""Training code on a handful of examples and a tiny model: the data split, labelled windows, a loss
that falls, a checkpoint that resumes where it stopped, and a saved reader that loads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import torch

from rag.answer.model import SpanReader, load_reader
from rag.answer.windows import load_tokenizer
from rag.settings import default_model
from rag.squad_format import QAExample, load_squad
from rag.train.loop import _tensors, train
from rag.train.recipe import Recipe
from rag.train.windows import training_windows
from tests.reader_fixtures import tiny_base

CONTEXT = "The summit was held in Anchorage, Alaska. About 120 drones were launched overnight by Russia."


def _examples() -> list[QAExample]:
    rows = [("Where was the summit held?", "Anchorage, Alaska"), ("How many drones were launched?", "About 120"),
            ("Who launched the drones?", "Russia"), ("What was held in Anchorage?", "The summit")]
    out = [QAExample(str(i), q, CONTEXT, ((CONTEXT.index(a), CONTEXT.index(a) + len(a)),), "t", "a")
           for i, (q, a) in enumerate(rows)]
    out.append(QAExample("x", "Who won the election?", CONTEXT, (), "t", "a"))
    return out


def test_load_squad_keeps_checked_answers_and_unanswerable_questions(tmp_path):
    data = {"data": [{"title": "T", "paragraphs": [{"context": CONTEXT, "qas": [
        {"id": "1", "question": "Where?", "answers": [{"text": "Anchorage", "answer_start": CONTEXT.index("Anchorage")}]},
        {"id": "2", "question": "Bad offset?", "answers": [{"text": "Anchorage", "answer_start": 0}]},
        {"id": "3", "question": "Nothing?", "answers": [], "is_impossible": True}]}]}]}
    path = tmp_path / "set.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(data, f)
    examples = load_squad(path)
    assert [e.qid for e in examples] == ["1", "3"]
    assert examples[0].answer_texts == ["Anchorage"] and examples[1].answers == ()


def test_training_windows_label_answers_and_cap_the_empty_ones():
    tokenizer = load_tokenizer(default_model())
    long = QAExample("l", "Where was the summit held?", "Filler words here. " * 60 + CONTEXT,
                     ((19 * 60 + CONTEXT.index("Anchorage"), 19 * 60 + CONTEXT.index("Anchorage") + 9),), "t", "a")
    windows = training_windows(tokenizer, _examples() + [long], 64, 16, negatives_per_question=1, seed=0)
    by_pair: dict[int, list] = {}
    for w in windows:
        by_pair.setdefault(w.window.pair, []).append(w)
    assert sum(w.start == 0 for w in by_pair[5]) <= 1  # the long context: one empty window, not ten
    for w in windows:
        if w.start:
            text = CONTEXT if w.window.pair < 5 else long.context
            got = text[w.window.offsets[w.start, 0]:w.window.offsets[w.end, 1]]
            assert got in {"Anchorage, Alaska", "About 120", "Russia", "The summit", "Anchorage"}
    assert all(w.start == 0 == w.end for w in by_pair[4])  # unanswerable: [CLS]


def _added_windows(tokenizer, examples, **option):
    """The windows an option adds: the plain windows come first and unchanged, the added ones are all
    labelled no answer."""
    plain = training_windows(tokenizer, examples, 64, 16, 1, seed=0)
    more = training_windows(tokenizer, examples, 64, 16, 1, seed=0, **option)
    assert [(w.window.pair, w.start, w.end) for w in more[:len(plain)]] == [(w.window.pair, w.start, w.end)
                                                                             for w in plain]
    extra = more[len(plain):]
    assert extra and all(w.start == 0 == w.end for w in extra)
    return extra


def test_other_passages_add_empty_windows_of_the_same_article_that_lack_the_answer():
    tokenizer = load_tokenizer(default_model())
    other = "Talks resumed in Geneva on Monday. Delegations met for six hours."
    holds_answer = "Officials flew to Anchorage, Alaska, a day early."
    elsewhere = "A different story about Russia and drones entirely."
    examples = [*_examples(),
                QAExample("o1", "When did talks resume?", other, ((other.index("Monday"), other.index("Monday") + 6),),
                          "t", "a"),
                QAExample("o2", "Who flew early?", holds_answer, ((0, 9),), "t", "a"),
                QAExample("e", "What story?", elsewhere, ((2, 11),), "t", "another article")]
    extra = _added_windows(tokenizer, examples, other_passages=5)
    decoded = {tokenizer.decode([int(t) for t in w.window.input_ids]) for w in extra}
    # "Where was the summit held?" (answer "Anchorage, Alaska") never gets the paragraph that says it;
    # the unanswerable question gets none; the other article's paragraph is never anyone's negative.
    assert not any("where was the summit held" in d and "anchorage" in d.split("?", 1)[1] for d in decoded)
    assert not any(d.startswith("who won the election") for d in decoded)
    assert not any("different story" in d for d in decoded)
    assert any(d.startswith("when did talks resume") and "summit" in d for d in decoded)
    per_question = {}
    for w in extra:
        q = tokenizer.decode([int(t) for t in w.window.input_ids]).split("?")[0]
        per_question[q] = per_question.get(q, 0) + 1
    assert max(per_question.values()) <= 2  # at most the other paragraphs there are, one window each


def test_distractor_passages_add_empty_windows_of_the_paragraphs_bm25_ranks_highest_that_lack_the_answer():
    tokenizer = load_tokenizer(default_model())
    gold = "The drones struck a refinery near Tuapse on Wednesday night, officials said."
    near = "Drones struck a depot near Belgorod on Sunday night, the governor said."
    holds_answer = "A refinery near Tuapse burned after Wednesday's drone strike."
    unrelated = "The orchestra played Mahler in Vienna to a full hall."
    examples = [QAExample("q", "Which refinery did the drones strike on Wednesday?", gold,
                          ((gold.index("a refinery near Tuapse"), gold.index(" on Wednesday")),), "t", "a"),
                QAExample("n", "What did the governor say?", near, (), "t", "b"),
                QAExample("h", "What burned?", holds_answer, ((0, 24),), "t", "c"),
                QAExample("u", "What did the orchestra play?", unrelated, ((unrelated.index("Mahler"),
                                                                           unrelated.index(" in Vienna")),), "t", "d")]
    decoded = [tokenizer.decode([int(t) for t in w.window.input_ids])
               for w in _added_windows(tokenizer, examples, distractor_passages=1)]
    refinery = [d for d in decoded if d.startswith("which refinery")]
    # The nearest paragraph that lacks "a refinery near Tuapse" is the Belgorod one (another article),
    # not the one that repeats the answer; the unanswerable question gets none.
    assert len(refinery) == 1 and "belgorod" in refinery[0] and "tuapse" not in refinery[0].split("?", 1)[1]
    assert not any(d.startswith("what did the governor say") for d in decoded)
    assert len(decoded) <= 3  # one per answerable question at most


def _loss(model: SpanReader, windows) -> float:
    model.eval()
    ids, types, mask, starts, ends = _tensors(windows, torch.device("cpu"))
    with torch.no_grad():
        s, e = model(ids, types, mask)
    loss = torch.nn.functional.cross_entropy(s, starts) + torch.nn.functional.cross_entropy(e, ends)
    return float(loss) / 2


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return tiny_base(tmp_path_factory.mktemp("base"))


def test_loss_falls_and_a_checkpoint_resumes_where_it_stopped(tmp_path, base):
    tokenizer = load_tokenizer(base)
    windows = training_windows(tokenizer, _examples(), 64, 16, 1, seed=0)
    recipe = Recipe(max_length=64, stride=16, batch_size=4, learning_rate=3e-3, warmup=0.1, epochs=12, seed=0)
    torch.manual_seed(0)
    model = SpanReader.from_base(base)
    before = _loss(model, windows)
    train(model, windows, recipe, tmp_path, torch.device("cpu"), log=lambda _: None)
    assert _loss(model, windows) < 0.7 * before

    # Stop halfway, resume: the same steps, so the same weights as one uninterrupted run.
    lines: list[str] = []
    torch.manual_seed(0)
    half = SpanReader.from_base(base)
    train(half, windows, recipe, tmp_path / "b", torch.device("cpu"), log=lines.append, stop_at_step=7)
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=False)["step"] == 7
    resumed = SpanReader.from_base(base)
    train(resumed, windows, recipe, tmp_path / "b", torch.device("cpu"), resume=True, log=lines.append)
    assert any("resumed" in line and "at step 7" in line for line in lines)
    for (name, a), b in zip(model.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-4), name


def test_word_embeddings_stay_frozen_and_are_not_saved(tmp_path, base):
    from rag.answer.model import WORD_EMBEDDINGS, ReaderConfig, save_reader

    tokenizer = load_tokenizer(base)
    windows = training_windows(tokenizer, _examples(), 64, 16, 1, seed=0)
    model = SpanReader.from_base(base)
    frozen = model.state_dict()[WORD_EMBEDDINGS].clone()
    train(model, windows, Recipe(batch_size=4, epochs=1, learning_rate=1e-2), tmp_path, torch.device("cpu"),
          log=lambda _: None)
    assert torch.equal(model.state_dict()[WORD_EMBEDDINGS], frozen)
    save_reader(model, ReaderConfig(), tmp_path / "out")
    from safetensors.torch import load_file

    assert WORD_EMBEDDINGS not in load_file(str(tmp_path / "out" / "reader.safetensors"))
    loaded, _ = load_reader(tmp_path / "out", base)
    assert _loss(loaded, windows) == pytest.approx(_loss(model, windows), abs=5e-2)


def test_write_squad_round_trips(tmp_path):
    from rag.squad_format import write_squad

    examples = _examples()
    write_squad(examples, tmp_path / "v.json.gz")
    back = load_squad(tmp_path / "v.json.gz")
    assert [(e.qid, e.question, e.context, e.answers) for e in back] == \
           [(e.qid, e.question, e.context, e.answers) for e in examples]


def test_model_card_lists_every_stage_and_the_commands_that_train_it_again():
    from rag.answer.model import ReaderConfig
    from rag.train.card import render

    stage1 = {"recipe": {"learning_rate": 1e-4, "warmup": 0.06, "batch_size": 32, "epochs": 1.0, "seed": 13},
              "device": "cpu", "train_minutes": 83.1, "train_questions": 34691, "train_windows": 45076,
              "validation": {"gold": {"exact_match": 46.8, "f1": 54.4, "questions": 624}}}
    training = {"recipe": {"learning_rate": 5e-5, "warmup": 0.02, "batch_size": 32, "epochs": 1.0, "seed": 14,
                           "other_passages": 1, "max_examples": 14000},
                "device": "cpu", "train_minutes": 92.2, "train_questions": 14000, "train_windows": 27413,
                "stages": [stage1]}
    card = render(ReaderConfig(training=training), 21_700_000)
    assert "| 1 | 34691 | 45076 | 0 | 0.0001 | 6% | 32 | 1.0 | 13 | cpu | 83.1 | 46.8 | 54.4 | 624 |" in card
    assert "| 2 | 14000 | 27413 | 1 | 5e-05 | 2% | 32 | 1.0 | 14 | cpu | 92.2 | - | - | - |" in card
    assert "rag train-reader --out .cache/stage1\n" in card
    assert ("rag train-reader --out models/reader --init .cache/stage1 --learning-rate 5e-05 --warmup 0.02 "
            "--other-passages 1 --seed 14 --max-examples 14000") in card


def test_init_from_something_that_is_not_a_reader_is_one_clear_error(tmp_path, base):
    from rag.errors import UserError
    from rag.train.command import run
    from rag.train.recipe import Recipe

    data = tmp_path / "data"
    data.mkdir()
    with pytest.raises(UserError, match="--init .*not a trained reader folder"):
        run(data, tmp_path / "out", tmp_path / "work", Recipe(max_examples=2), base, init=tmp_path / "nothing")
