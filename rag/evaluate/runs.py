"""`rag eval --runs A.trec B.trec --qrels Q`: score run files against judgments, no index needed; and
`rag eval --qrels Q --queries F`: the index's retrievers on the user's own queries and judgments.

Both print the BEIR figures (nDCG@10, Recall@100, MRR@10, computed by ranx) with the significance marks
of rag.evaluate.significance against the baseline (``--baseline``, default the first run or retriever)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..settings import RETRIEVERS, Settings
from .beir import DEPTH, LABELS, METRICS, retrieve_runs, write_runs
from .sets import public_figures
from .trec import read_qrels, read_queries, read_run

RUN_SUFFIXES = (".trec", ".run", ".txt", ".tsv")


def run_name(path: Path) -> str:
    """A run's name in the table: its file name without a run suffix (hybrid.trec -> hybrid)."""
    name = Path(path).name
    for suffix in RUN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def load_runs(paths: list[Path]) -> dict[str, dict[str, dict[str, float]]]:
    runs: dict[str, dict[str, dict[str, float]]] = {}
    for path in paths:
        name = run_name(path)
        if name in runs:  # two hybrid.trec from different folders: tell them apart by their folder
            name = f"{Path(path).parent.name}/{name}"
        if name in runs:
            raise UserError(f"two run files are both called {name}: rename one")
        runs[name] = read_run(path)
    return runs


def coverage_notes(qrels: dict[str, dict[str, int]], runs: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """What trec_eval would do silently, said once: queries judged but not run score 0; queries run but
    not judged are not scored."""
    notes = []
    for name, run in runs.items():
        missing = len(set(qrels) - set(run))
        extra = len(set(run) - set(qrels))
        if missing:
            notes.append(f"{name}: {missing} of {len(qrels)} judged queries have no ranking (scored 0)")
        if extra:
            notes.append(f"{name}: {extra} ranked queries have no judgement (not scored)")
    return notes


def print_comparison(figures: dict[str, Any], comparison: Any, args: argparse.Namespace) -> None:
    from .significance import format_comparison, p_value_lines

    if args.json:
        print(json.dumps(public_figures(figures), ensure_ascii=False))
        return
    print(format_comparison(comparison, LABELS))
    print(f"\n{comparison.legend()}")
    print("\n".join(p_value_lines(comparison, ["ndcg@10"])))
    print(comparison.sample_note("ndcg@10"))
    for note in figures.get("notes", []):
        print(f"note: {note}")


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    from .significance import compare

    if args.qrels is None:
        raise UserError("--runs and --queries need --qrels FILE (the judgments to score against)")
    qrels = read_qrels(args.qrels)
    started = time.perf_counter()
    if args.runs:
        if args.queries:
            raise UserError("give --runs (score run files) or --queries (retrieve over the index), not both")
        runs = load_runs(args.runs)
        comparison = compare(qrels, runs, list(METRICS), args.baseline)
        figures: dict[str, Any] = {"qrels": str(args.qrels), "queries": len(qrels),
                                   "runs": {n: {m: comparison.mean(n, m) for m in METRICS} for n in runs},
                                   "significance": comparison.to_dict(), "notes": coverage_notes(qrels, runs)}
    else:
        if args.queries is None:
            raise UserError("--qrels needs --runs FILE... (score run files) or --queries FILE "
                            "(retrieve over the index)")
        figures, comparison = evaluate_index(args, settings, qrels, read_queries(args.queries))
    figures["seconds"] = time.perf_counter() - started
    print_comparison(figures, comparison, args)
    return 0


def evaluate_index(args: argparse.Namespace, settings: Settings, qrels: dict[str, dict[str, int]],
                   queries: dict[str, str]) -> tuple[dict[str, Any], Any]:
    """The index's retrievers on the judged queries. The judgments name documents (doc ids) or passages
    (chunk ids); which one is read from the qrels: any id that is a document id makes it document level."""
    from ..assistant import Assistant
    from .significance import compare

    judged = {q: t for q, t in queries.items() if q in qrels}
    if not judged:
        raise UserError(f"no query in {args.queries} has a judgement in {args.qrels} (the ids must match)")
    assistant = Assistant.load(settings=settings, answer=False)
    doc_ids = {d.doc_id for d in assistant.documents()}
    level = "doc" if any(item in doc_ids for items in qrels.values() for item in items) else "passage"
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    progress = not args.json and sys.stderr.isatty()
    runs, _ = retrieve_runs(assistant, judged, retrievers, progress)
    chosen = {n: (r.documents if level == "doc" else r.passages) for n, r in runs.items()}
    scored = {q: qrels[q] for q in judged}
    comparison = compare(scored, chosen, list(METRICS), args.baseline)
    figures: dict[str, Any] = {"qrels": str(args.qrels), "queries": len(scored), "level": level, "depth": DEPTH,
                               "index": assistant.store.info.location,
                               "runs": {n: {m: comparison.mean(n, m) for m in METRICS} for n in chosen},
                               "significance": comparison.to_dict(),
                               "notes": [f"{len(qrels) - len(scored)} judged queries are not in {args.queries}"]
                               if len(scored) < len(qrels) else []}
    if args.run_out:
        figures["run_files"] = [str(p) for p in write_runs(args.run_out, Path(args.qrels).stem, runs)]
    return figures, comparison
