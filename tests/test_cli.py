"""The `rag` command as a user runs it: exit status and one-line errors, and the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SEEDS


def rag(*args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", [["--help"], ["index", "--help"], ["ask", "--help"], ["serve", "--help"],
                                     ["eval", "--help"], ["bench", "--help"]])
def test_help_everywhere(command):
    proc = rag(*command)
    assert proc.returncode == 0 and "usage: rag" in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (["ask", ""], "question is empty"),
    (["ask", "   \t "], "question is empty"),
    (["ask", "x" * 1001], "limit is 1000"),
    (["ask", "Who?", "-k", "0"], "at least 1"),
    (["ask", "Who?", "--retriever", "magic"], "invalid choice"),
    (["index", "/definitely/not/here"], "does not exist"),
])
def test_bad_input_is_one_line_and_non_zero(args, fragment, tmp_path):
    assert_one_line_error(rag(*args, "--index-dir", str(tmp_path / "ix")), fragment)


def test_missing_index(tmp_path):
    assert_one_line_error(rag("ask", "Where is the summit?", "--index-dir", str(tmp_path / "none")), "rag index")


def test_empty_corpus(tmp_path):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(rag("index", str(tmp_path / "empty"), "--index-dir", str(tmp_path / "ix")), "no documents")


def test_corrupt_index(tmp_path):
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "CURRENT").write_text("v-1")
    (tmp_path / "ix" / "v-1").mkdir()
    (tmp_path / "ix" / "v-1" / "manifest.json").write_text("{broken")
    assert_one_line_error(rag("ask", "Where?", "--index-dir", str(tmp_path / "ix")), "rebuild")


@pytest.mark.slow
def test_index_twice_then_ask_json_and_batch(tmp_path):
    ix = str(tmp_path / "ix")
    first = rag("index", str(SEEDS), "--index-dir", ix, "-q")
    assert first.returncode == 0, first.stderr
    assert "indexed 5 documents" in first.stdout
    second = rag("index", str(SEEDS), "--index-dir", ix, "-q")
    assert second.returncode == 0 and "up to date" in second.stdout and "nothing embedded" in second.stdout

    proc = rag("ask", "Where will Trump and Putin meet?", "--json", "-k", "3", "--index-dir", ix)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) >= {"question", "answer", "alternatives", "passages"}
    assert [p["rank"] for p in result["passages"]] == [1, 2, 3]
    for p in result["passages"]:
        assert set(p) >= {"rank", "doc_id", "title", "source", "chunk_id", "start", "end", "text", "score"}
        text = (SEEDS / f"{p['doc_id']}.txt").read_bytes().decode("utf-8")
        assert text[p["start"]:p["end"]] == p["text"]

    questions = ["Who is the governor of Belgorod?", "", "x" * 1001, "How many drones did Ukraine shoot down?"]
    proc = rag("ask", "--json", "-", "-k", "100", "--index-dir", ix, stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert "error" in rows[1] and "error" in rows[2] and "error" not in rows[0] and "error" not in rows[3]
    assert len(rows[0]["passages"]) == len(rows[3]["passages"]) > 40  # k=100 > chunks: every chunk
