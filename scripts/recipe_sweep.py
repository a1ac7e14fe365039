"""One recipe change at a time, each trained from the base model on the same questions and validated on the
same validation sample: which of the reader's recipe choices matter (issue 22, section 3).

Every variant is `rag train-reader` with the control's options plus one change (a second epoch, longer
windows, another learning rate, frozen lower layers, less data), so the figures are paired: the same
training questions (drawn by the seed), the same validation questions, the same machine. A variant whose
folder already holds a reader is not trained again, so the sweep resumes after a stop. Prints a table of
each variant's validation (report half of the sample; gold paragraph, then the four BM25 distractors) and,
because a small run's EM and F1 are mostly its no-answer threshold, where its spans land: HasAns F1 of its
best span, never null, over the 1,427 answerable questions of the whole split's report half
(scripts/reader_never_null.py; cached in each variant's folder).

    nohup python scripts/recipe_sweep.py > .cache/sweep.log 2>&1 &
    python scripts/recipe_sweep.py --table-only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

# name -> the one option that differs from the control.
VARIANTS: dict[str, list[str]] = {
    "control": [],
    "windows-384": ["--max-length", "384"],
    "windows-256": ["--max-length", "256"],
    "epochs-2": ["--epochs", "2"],
    "lr-2e-4": ["--learning-rate", "2e-4"],
    "lr-5e-5": ["--learning-rate", "5e-5"],
    "frozen-2-layers": ["--frozen-layers", "2"],
    # Learning-curve points: the control's recipe on a share of its questions, or on more of them.
    "quarter-data": ["--max-examples", "x0.25"],
    "half-data": ["--max-examples", "x0.5"],
    "double-data": ["--max-examples", "x2"],
    # The learning rate again, on twice the questions (one change from double-data).
    "double-data-lr-2e-4": ["--max-examples", "x2", "--learning-rate", "2e-4"],
}


def _resolve(option: str, questions: int) -> str:
    """``xF``: F times the control's question count."""
    return str(int(questions * float(option[1:]))) if option.startswith("x") else option


def train(name: str, extra: list[str], args: argparse.Namespace) -> None:
    out = args.out / name
    if (out / "reader.json").exists():
        return
    extra = [_resolve(x, args.questions) for x in extra]
    options = ["--max-examples", str(args.questions), "--max-validation", str(args.max_validation),
               "--seed", str(args.seed)]
    # The variant's own option wins over the control's (argparse keeps the last).
    cmd = [sys.executable, "-m", "rag.cli", "train-reader", "--out", str(out), "--work", str(out / "work"),
           *options, *extra]
    print(time.strftime("%H:%M:%S"), name, " ".join(cmd[3:]), flush=True)
    subprocess.run(cmd, check=True)


def never_null_f1(reader_dir: Path) -> float:
    cached = reader_dir / "never_null.json"
    if not cached.exists():
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from reader_never_null import never_null

        cached.write_text(json.dumps(never_null(reader_dir)))
    return json.loads(cached.read_text())["all"]["f1"]


def row(name: str, out: Path) -> str | None:
    path = out / name / "reader.json"
    if not path.exists():
        return None
    t = json.loads(path.read_text())["training"]
    v = t["validation"]
    g, d = v["gold"], v["distractors"]
    return (f"| {name} | {' '.join(VARIANTS[name]) or '-'} | {t['train_questions']} "
            f"| {t['train_windows']} | {t['train_minutes']} | {g['exact_match']:.1f} | {g['f1']:.1f} "
            f"| {g['has_answer_f1']:.1f} | {g['no_answer_accuracy']:.1f} | {d['exact_match']:.1f} | {d['f1']:.1f} "
            f"| {g['questions']} | {never_null_f1(out / name):.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(".cache/sweep"))
    p.add_argument("--questions", type=int, default=6000, help="training questions of the control")
    p.add_argument("--max-validation", type=int, default=1200)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--table-only", action="store_true")
    args = p.parse_args()
    if not args.table_only:
        for name in args.only:
            train(name, VARIANTS[name], args)
    print("| variant | change | questions | windows | minutes | gold EM | gold F1 | HasAns F1 | NoAns acc "
          "| distractors EM | distractors F1 | over | never-null HasAns F1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in VARIANTS:
        line = row(name, args.out)
        if line:
            print(line)


if __name__ == "__main__":
    main()
