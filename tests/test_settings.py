"""Settings check every field: a wrong value, from the environment, the command line or the library,
is one line that names the field (its RAG_ variable) and what it accepts, never a traceback."""

from __future__ import annotations

import contextlib
import io
from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from rag.errors import UserError
from rag.settings import BOUNDS, CHOICES, Settings

NUMBERS = {f.name: str(f.type) for f in fields(Settings) if str(f.type).startswith(("int", "float"))}

# A wrong value for every field that can have one, as it would be written in the environment; the
# rest (model, index_dir, reader, documents_dir) take any path or text.
WRONG = {
    "chunk_size": "0", "chunk_overlap": "-1", "batch_size": "0", "k": "0", "retriever": "semantic",
    "fusion": "max", "dense_weight": "1.5", "rrf_k": "-1", "fusion_depth": "0", "rerank_depth": "-5",
    "answer_passages": "0", "answer_threshold": "-0.5", "faiss_index": "bogus",
    "ann_threshold": "-1", "store": "postgres://x", "reload_seconds": "-1", "upload_max_bytes": "0",
    "reader_precision": "fp8", "embed_precision": "int4",
    "max_text_chars": "0", "extract_memory_mb": "16", "extract_seconds": "0", "trusted_proxies": "proxy.example",
}


def _env_name(field: str) -> str:
    return f"RAG_{field.upper()}"


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for f in fields(Settings):
        monkeypatch.delenv(_env_name(f.name), raising=False)


def test_every_field_is_checked_or_free_on_purpose():
    free = {"model", "index_dir", "reader", "documents_dir", "judgments"}
    assert set(WRONG) | free == {f.name for f in fields(Settings)}
    assert set(CHOICES) | set(BOUNDS) | {"store", "trusted_proxies"} == set(WRONG)


def test_the_defaults_pass():
    Settings()


@pytest.mark.parametrize("field", sorted(WRONG))
def test_a_wrong_environment_value_is_one_line_naming_the_field(monkeypatch, field):
    _clean_env(monkeypatch)
    monkeypatch.setenv(_env_name(field), WRONG[field])
    with pytest.raises(UserError) as caught:
        Settings.from_env()
    message = str(caught.value)
    assert _env_name(field) in message and "\n" not in message
    for choice in CHOICES.get(field, ()):
        assert choice in message


@pytest.mark.parametrize("field", sorted(WRONG))
def test_the_command_line_says_it_in_one_line_before_loading_anything(monkeypatch, tmp_path, field):
    from rag.cli import EXIT_USER_ERROR, main

    _clean_env(monkeypatch)
    monkeypatch.setenv(_env_name(field), WRONG[field])
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["ask", "Where will they meet?", "--index-dir", str(tmp_path / "none")])
    lines = err.getvalue().strip().splitlines()
    assert status == EXIT_USER_ERROR
    assert len(lines) == 1 and lines[0].startswith("error: ") and _env_name(field) in lines[0]



def test_cli_store_option_is_checked_too(tmp_path):
    from rag.cli import EXIT_USER_ERROR, main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main(["ask", "x", "--store", "bogus", "--index-dir", str(tmp_path)])
    assert status == EXIT_USER_ERROR and "RAG_STORE" in err.getvalue() and "milvus://" in err.getvalue()


def test_overlap_must_be_smaller_than_the_chunk():
    with pytest.raises(UserError, match="RAG_CHUNK_OVERLAP.*smaller"):
        Settings(chunk_size=100, chunk_overlap=100)
    Settings(chunk_size=100, chunk_overlap=99)


@examples(deadline=None)  # the first Settings() imports the model package
@given(field=st.sampled_from(sorted(CHOICES)), value=st.text(max_size=12))
def test_only_the_listed_names_pass(field, value):
    if value in CHOICES[field]:
        assert getattr(Settings(**{field: value}), field) == value
        return
    with pytest.raises(UserError, match=f"unknown .*\\({_env_name(field)}\\): use one of"):
        Settings(**{field: value})


@examples(deadline=None)
@given(field=st.sampled_from(sorted(BOUNDS)), value=st.floats(allow_nan=True, allow_infinity=True) | st.integers())
def test_numbers_pass_exactly_inside_their_bounds(field, value):
    low, high = BOUNDS[field]
    whole = NUMBERS[field].startswith("int")
    changes = {field: value}
    if field == "chunk_size":
        changes["chunk_overlap"] = 0  # the default overlap would be too large for a small chunk
    fits = (isinstance(value, int) or not whole) and value == value and abs(value) != float("inf") \
        and (low is None or value >= low) and (high is None or value <= high)
    if field == "chunk_overlap":
        fits = fits and value < Settings().chunk_size
    if fits:
        assert getattr(Settings(**changes), field) == value
        return
    with pytest.raises(UserError, match=_env_name(field)):
        Settings(**changes)


# What an environment variable can hold: any text but NUL and lone surrogates.
ENV_TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1, max_size=8)


@examples(deadline=None)
@given(field=st.sampled_from(sorted(NUMBERS)), raw=ENV_TEXT | st.sampled_from(["nan", "inf", "-0", "1e3", " 7 "]))
def test_environment_numbers_are_numbers_or_one_line(field, raw):
    with pytest.MonkeyPatch.context() as mp:
        _clean_env(mp)
        mp.setenv(_env_name(field), raw)
        try:
            settings = Settings.from_env()
        except UserError as exc:
            assert _env_name(field) in str(exc) and "\n" not in str(exc)
        else:
            assert getattr(settings, field) == (int if NUMBERS[field] == "int" else float)(raw)


@pytest.mark.parametrize("field,value", [("k", "5"), ("k", True), ("dense_weight", "0.5"), ("model", 3),
                                         ("index_dir", 3), ("answer_threshold", "high")])
def test_wrong_types_from_the_library_are_user_errors(field, value):
    with pytest.raises(UserError, match=_env_name(field)):
        Settings(**{field: value})
