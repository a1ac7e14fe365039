"""Issue 13 at the command line: a question that is not text is one error line for `rag ask`, and one
error row for `rag ask -`, whose other questions are answered; a batch that breaks is retried one
question at a time."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest

from rag.cli import _ask_batch
from rag.errors import UserError
from rag.records import Result
from rag.validation import check_question

from tests.conftest import ROOT
from .test_cli import assert_one_line_error


class TokenizerLike:
    """An assistant whose whole ask_many call fails on a question with "boom" or that is not
    encodable text, as the real tokenizer does for a lone surrogate; asked alone, only that one fails."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def ask_many(self, questions, k=None, retriever=None):
        questions = list(questions)
        self.calls.append(questions)
        if any("boom" in q for q in questions):
            raise RuntimeError("the tokenizer broke")
        out = []
        for q in questions:
            try:
                out.append(Result(check_question(q), None, [], []))
            except UserError as exc:
                out.append(exc)
        return out


def _run_batch(monkeypatch, capsys, stdin: bytes, assistant) -> tuple[int, list[dict]]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    status = _ask_batch(assistant, argparse.Namespace(k=None, retriever=None, json=True))
    return status, [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_undecodable_stdin_line_is_an_error_row_and_the_batch_goes_on(monkeypatch, capsys):
    status, rows = _run_batch(monkeypatch, capsys, b"Where?\nWh\xffo?\n\nWhen?\r\n", TokenizerLike())
    assert status == 0
    assert [r["question"] for r in rows] == ["Where?", "Wh\ufffdo?", "", "When?"]
    assert ["error" in r for r in rows] == [False, True, True, False]
    assert "not valid text" in rows[1]["error"]


def test_a_batch_that_breaks_is_retried_question_by_question(monkeypatch, capsys):
    fake = TokenizerLike()
    status, rows = _run_batch(monkeypatch, capsys, b"one\nboom\ntwo\n", fake)
    assert [r["question"] for r in rows] == ["one", "boom", "two"]
    assert "error" not in rows[0] and "error" not in rows[2]
    assert "tokenizer broke" in rows[1]["error"]
    assert fake.calls == [["one", "boom", "two"], ["one"], ["boom"], ["two"]]
    assert status == 1  # a question the program failed on is not a user error


def test_question_that_is_not_utf8_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", b"\xff", "--index-dir", str(tmp_path / "ix")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert_one_line_error(proc, "not valid text")


@pytest.mark.slow
def test_real_batch_with_an_undecodable_line(seeds_index):
    stdin = b"Where will Trump and Putin meet?\n\xff\xfe\nWho is the governor of Belgorod?\n"
    proc = subprocess.run([sys.executable, "-m", "rag.cli", "ask", "--json", "-", "--index-dir", str(seeds_index)],
                          input=stdin, capture_output=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(rows) == 3 and "error" in rows[1] and "passages" in rows[0] and "passages" in rows[2]
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace")


def test_an_unforeseen_failure_is_one_line_unless_verbose(monkeypatch, capsys):
    from rag import cli

    def broken(args):
        raise OSError(5, "Input/output error", "/srv/index/v-1/vectors.npy")

    monkeypatch.setattr(cli.build_parser().__class__, "parse_args", lambda self, argv=None: argparse.Namespace(
        func=broken, verbose=False))
    assert cli.main(["index"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Input/output error" in err and "-v" in err
    monkeypatch.setattr(cli.build_parser().__class__, "parse_args", lambda self, argv=None: argparse.Namespace(
        func=broken, verbose=True))
    with pytest.raises(OSError):
        cli.main(["index"])
