"""The options of ``rag train-reader``, kept free of torch so that ``rag --help`` stays fast."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from .recipe import Recipe


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rag train-reader``: paths, then one option per recipe field."""
    p.add_argument("--data", type=Path, default=Path("../shared/qa-data"),
                   help="folder of SQuAD 2.0-format files (default ../shared/qa-data)")
    p.add_argument("--out", type=Path, default=Path("models/reader"), help="where the trained reader goes")
    p.add_argument("--work", type=Path, default=Path(".cache/train-reader"), help="checkpoints and the log")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --work")
    p.add_argument("--init", type=Path, default=None, metavar="READER_DIR",
                   help="start from a trained reader folder instead of the base model (a further stage of "
                        "training with a fresh schedule; the earlier stage is kept in the model card)")
    p.add_argument("--device", default="auto", help="auto (a GPU when present), cpu or cuda")
    p.add_argument("--validate-only", action="store_true",
                   help="re-validate and re-calibrate the reader in --out without training")
    p.add_argument("--fit-decision", action="store_true",
                   help="fit the answer decision of the reader in --out on a validation run that looks like use "
                        "(retrieved passages, distractor articles, articles left out of the index) and write it "
                        "into its reader.json; no training")
    p.add_argument("--use-run-cache", type=Path, default=Path(".cache/use-run"),
                   help="where --fit-decision keeps its index and the reader's candidates")
    p.add_argument("--absent-paragraphs", type=float, default=0.0, metavar="SHARE",
                   help="with --fit-decision: also leave this share of the indexed articles' paragraphs out of the "
                        "index, so their questions are same-topic questions the documents do not answer (a "
                        "measurement; the shipped decision is fitted with 0)")
    p.add_argument("--export-validation", type=Path, default=None, metavar="FILE",
                   help="write the validation split as a SQuAD 2.0 file (for rag eval --squad) and stop")
    p.add_argument("--max-validation", type=int, default=0, help="validate on a sample of this many questions")
    for f in fields(Recipe):
        p.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                       help=f"recipe (default {f.default})")
