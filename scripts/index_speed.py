"""End-to-end `rag index` of a folder: the code of an earlier commit (fp32, reading then embedding)
against this tree (pipelined; fp32 forced, and the default precision), in one run, interleaved.

Each variant is a fresh `rag index DIR --index-dir TMP -q` in its own process, timed from start to
exit (model load included: what a user waits for). The earlier commit's `rag` package is exported
with `git archive` into a temporary folder and put first on PYTHONPATH; the same virtual environment
serves both. Rounds rotate the order so a machine that gets busier does not favour one variant.

    python scripts/index_speed.py DIR [--before REV] [--rounds 2] [--variants before,after-fp32,after]

Prints, per variant, the best and median wall seconds, the CPU seconds of the best run, pages/s and
chunks/s of the best, and each variant's speed-up over `before` (best against best)."""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLI = "import sys; from rag.cli import main; sys.exit(main())"
SUMMARY = re.compile(r"indexed (\d+) documents, (\d+) chunks")


def export(rev: str, dest: Path) -> Path:
    """The ``rag`` package as it was at ``rev`` (read from git, nothing in the work tree touched)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "rag"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def pages_of(folder: Path) -> int:
    from rag.ingest.documents import load_documents

    return sum(len(d.pages) or 1 for d in load_documents([folder], warn=lambda m: None))


def run_once(folder: Path, index_dir: Path, pythonpath: Path, env_extra: dict[str, str]) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), **env_extra}
    env.pop("RAG_INDEX_DIR", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CLI, "index", str(folder), "--index-dir", str(index_dir), "-q"],
                          cwd=str(pythonpath), env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"rag index failed ({pythonpath}): {done.stderr.strip()[-500:]}")
    found = SUMMARY.search(done.stdout)
    if not found:
        raise SystemExit(f"no summary line in: {done.stdout!r}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "chunks": int(found.group(2)), "line": done.stdout.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--before", default="HEAD", help="the commit whose `rag index` is the baseline (default HEAD)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default="before,after-fp32,after")
    args = parser.parse_args()
    variants = args.variants.split(",")
    pages = pages_of(args.folder)
    with tempfile.TemporaryDirectory(prefix="index-speed-") as tmp:
        work = Path(tmp)
        old = export(args.before, (work / "before").resolve()) if "before" in variants else None
        setups = {"before": (old, {}), "after-fp32": (ROOT, {"RAG_EMBED_PRECISION": "fp32"}),
                  "after": (ROOT, {})}
        results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for r in range(args.rounds):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for v in order:
                path, extra = setups[v]
                assert path is not None
                out = run_once(args.folder, work / f"ix-{v}-{r}", path, extra)
                results[v].append(out)
                print(f"round {r + 1} {v:<11} {out['wall']:7.1f}s wall {out['cpu']:7.1f}s cpu  | {out['line']}",
                      flush=True)
    print(f"\n{args.folder}: {pages} pages, before = {args.before}, {args.rounds} rounds, {os.cpu_count()} cores")
    print(f"{'variant':<12}{'best s':>8}{'median s':>10}{'cpu s':>8}{'pages/s':>9}{'chunks/s':>10}{'speed-up':>10}")
    base = min(o["wall"] for o in results["before"]) if "before" in results else None
    for v, outs in results.items():
        best = min(outs, key=lambda o: o["wall"])
        up = f"{base / best['wall']:.2f}x" if base else "-"
        print(f"{v:<12}{best['wall']:8.1f}{statistics.median(o['wall'] for o in outs):10.1f}{best['cpu']:8.1f}"
              f"{pages / best['wall']:9.2f}{best['chunks'] / best['wall']:10.2f}{up:>10}")


if __name__ == "__main__":
    main()
