"""The measurement scripts of the reader's recipe and decision (scripts/recipe_sweep.py,
scripts/decision_variants.py): they run, and they read the files rag train-reader writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from rag.train import use_run
from rag.train.decide import _records_path
from rag.train.use_run import Candidate, Record

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_sweep_resolves_shares_of_the_control_and_tables_only_trained_variants(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    from recipe_sweep import _resolve

    assert _resolve("x0.25", 6000) == "1500" and _resolve("x2", 6000) == "12000" and _resolve("384", 6000) == "384"
    out = _run("scripts/recipe_sweep.py", "--table-only", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\n") == 2  # the header only: nothing trained there


def test_decision_variants_refits_the_products_decision_on_a_cached_run(tmp_path):
    reader = tmp_path / "reader"
    reader.mkdir()
    (reader / "reader.safetensors").write_bytes(b"weights")
    (reader / "reader.json").write_text(json.dumps({"threshold": 0.3}))
    rng = np.random.default_rng(0)
    records = []
    for i in range(240):
        kind = ("answerable", "absent", "unanswerable")[i % 3]
        good = kind == "answerable" and bool(rng.random() < 0.5)
        feats = rng.normal(size=15)
        feats[0] += 2.0 if good else 0.0  # margin
        records.append(Record(f"q{i}", "s", f"s/a{i % 24}", kind, ("fit", "report")[i % 24 >= 12],
                              ["g"] if kind == "answerable" else [], kind == "answerable",
                              [Candidate("t", float(feats[0]), 0.5, float(good), float(good), feats.tolist())]))
    use_run.save_records(records, _records_path(tmp_path / "cache", reader, 3, 0))
    out = _run("scripts/decision_variants.py", "--reader", str(reader), "--cache", str(tmp_path / "cache"))
    assert out.returncode == 0, out.stderr
    for name in ("joint", "factored", "gbm", "reader margin"):
        assert name in out.stdout
    missing = _run("scripts/decision_variants.py", "--reader", str(reader), "--cache", str(tmp_path / "none"))
    assert missing.returncode != 0 and "rag train-reader --fit-decision" in missing.stderr
