"""`rag eval`: which evaluation the arguments ask for (TREC runs or qrels, a sweep, BEIR datasets, a
SQuAD file, a judgments file, or the question set). Only the CLI imports this module, so the
evaluation modules never import one another to dispatch."""

from __future__ import annotations

import argparse

from ..settings import Settings


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: each evaluation pulls in its own heavy dependencies, so load only the one asked for.
    if getattr(args, "runs", None) or getattr(args, "qrels", None) or getattr(args, "queries", None):
        from .runs import run_cli as run_trec

        return run_trec(args, settings)
    if getattr(args, "sweep", None):
        from .sweep import run_cli as run_sweep

        return run_sweep(args, settings)
    if getattr(args, "beir", None):
        from .beir import run_cli as run_beir

        return run_beir(args, settings)
    if getattr(args, "squad", None):
        from .squad import run_cli as run_squad

        return run_squad(args, settings)
    from .judgments import is_judgments_file

    if is_judgments_file(args.eval_set):
        from .judgments import run_cli as run_judged

        return run_judged(args, settings)
    from .sets import run_cli as run_set

    return run_set(args, settings)
