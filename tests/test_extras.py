"""Optional extras (rag/extras.py): a missing one is one line naming the extra to install, from the
helpers and from the commands that need them. The package is made missing with sys.modules[name] = None,
which makes its import fail as if it were not installed."""

from __future__ import annotations

import sys

import pytest

from rag.cli import main
from rag.extras import MissingExtra, check, require


def _missing(monkeypatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_require_returns_the_module_when_installed():
    import json

    assert require("json", "eval", "x") is json


def test_require_names_the_extra(monkeypatch):
    _missing(monkeypatch, "ranx")
    with pytest.raises(MissingExtra) as err:
        require("ranx", "eval", "rag eval")
    assert str(err.value) == "rag eval needs the eval extra: pip install 'rag-offline[eval]'"


def test_a_missing_parent_package_names_the_extra_too(monkeypatch):
    _missing(monkeypatch, "milvus_lite", "milvus_lite.server_manager")  # the latter may be imported already
    with pytest.raises(MissingExtra, match=r"^Milvus Lite needs the milvus extra: pip install 'rag-offline\[milvus\]'$"):
        require("milvus_lite.server_manager", "milvus", "Milvus Lite")


def test_a_broken_install_says_what_failed(monkeypatch):
    def broken(name, *args, **kwargs):
        raise ModuleNotFoundError("No module named 'numba'", name="numba")

    monkeypatch.setattr("importlib.import_module", broken)
    with pytest.raises(MissingExtra, match=r"rag-offline\[eval\]' \(importing ranx failed: No module named 'numba'\)"):
        require("ranx", "eval", "rag eval")


def test_check_finds_without_importing(monkeypatch):
    check("json", "eval", "x")
    _missing(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtra, match="the eval report's chart needs the eval extra"):
        check("matplotlib", "eval", "the eval report's chart")


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_rag_eval_without_the_eval_extra_is_one_line_before_any_work(monkeypatch, capsys, tmp_path):
    _missing(monkeypatch, "ranx")
    # No index there: the extra is checked first, so the message is about the extra.
    assert main(["eval", "--index-dir", str(tmp_path / "none")]) == 2
    assert _one_line(capsys) == "error: rag eval needs the eval extra: pip install 'rag-offline[eval]'"


def test_rag_eval_report_chart_needs_matplotlib_unless_no_report(monkeypatch, capsys, tmp_path):
    _missing(monkeypatch, "matplotlib")
    assert main(["eval", "--index-dir", str(tmp_path / "none")]) == 2
    assert "the eval report's chart needs the eval extra" in _one_line(capsys)
    assert main(["eval", "--no-report", "--index-dir", str(tmp_path / "none")]) == 2
    assert "rag index" in _one_line(capsys)  # past the check: the missing index is what stops it


def test_ranking_metrics_without_ranx(monkeypatch):
    from rag.evaluate.sets import ranx_evaluate

    _missing(monkeypatch, "ranx")
    with pytest.raises(MissingExtra, match=r"pip install 'rag-offline\[eval\]'"):
        ranx_evaluate({"q": {"d": 1}}, {"q": {"d": 1.0}}, ["recall@1"])


def test_milvus_store_without_the_milvus_extra_is_one_line(monkeypatch, capsys, tmp_path):
    _missing(monkeypatch, "pymilvus")
    uri = f"milvus://{tmp_path / 'rag.db'}"
    assert main(["ask", "Where?", "--store", uri, "--no-answer"]) == 2
    assert _one_line(capsys).endswith(" needs the milvus extra: pip install 'rag-offline[milvus]'")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("A\nSome words.")
    assert main(["index", str(tmp_path / "docs"), "--store", uri, "-q"]) == 2
    assert _one_line(capsys).endswith(" needs the milvus extra: pip install 'rag-offline[milvus]'")


def test_milvus_lite_without_the_milvus_extra_is_one_line(monkeypatch, capsys, tmp_path):
    _missing(monkeypatch, "milvus_lite", "milvus_lite.server_manager")
    (tmp_path / "rag.db").mkdir()
    assert main(["ask", "Where?", "--store", f"milvus://{tmp_path / 'rag.db'}", "--no-answer"]) == 2
    assert _one_line(capsys) == "error: Milvus Lite needs the milvus extra: pip install 'rag-offline[milvus]'"
