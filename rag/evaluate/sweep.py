"""`rag eval --sweep SETTING=V1,V2,... [--sweep ...]`: the question set once per value (a grid when
several settings are swept), one table with the best marked, a chart of the metrics against each
setting, and a warning when the set is too small to tell the best from the rest.

- Retrieval and reading settings (``dense_weight``, ``rrf_k``, ``fusion_depth``, ``rerank_depth``,
  ``answer_passages``) change only the ``Settings`` of an ``Assistant`` over the same store, embedder and
  answerer: nothing is re-embedded.
- Chunker settings (``chunk_size``, ``chunk_overlap``) need their own index: each is built once, from the
  paths the index was built from, under ``--cache-dir`` (default ``.cache/sweep``), and reused by later
  sweeps (``build_index`` re-embeds only what changed; an unchanged corpus costs a hash pass).
- Every configuration is scored per question (rag.evaluate.sets), so the best can be tested against the
  others: a percentile bootstrap interval of each configuration's mean, and the paired tests of
  rag.evaluate.significance against the best."""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..settings import Settings
from ..tables import markdown_table, text_table

# What a sweep may vary, and its type. The chunker's settings need an index each.
SWEEPABLE: dict[str, type] = {"dense_weight": float, "rrf_k": int, "fusion_depth": int, "rerank_depth": int,
                              "answer_passages": int, "chunk_size": int, "chunk_overlap": int}
CHUNKER = ("chunk_size", "chunk_overlap")
DEFAULT_CACHE = Path(".cache/sweep")
DEFAULT_REPORT = Path("eval/sweep.md")


@dataclass(frozen=True)
class Sweep:
    name: str
    values: tuple[float | int, ...]


def parse_sweep(text: str) -> Sweep:
    """``dense_weight=0,0.5,1`` -> Sweep("dense_weight", (0.0, 0.5, 1.0)); each value checked by Settings."""
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in SWEEPABLE:
        raise UserError(f"--sweep {text!r}: use SETTING=V1,V2,... with SETTING one of {', '.join(SWEEPABLE)}")
    kind = SWEEPABLE[name]
    values = []
    for part in raw.split(","):
        try:
            values.append(kind(part.strip()) if kind is float else int(part.strip()))
        except ValueError:
            whole = "whole " if kind is int else ""
            raise UserError(f"--sweep {name}: {part.strip()!r} is not a {whole}number") from None
    if len(values) < 2 or len(set(values)) != len(values):
        raise UserError(f"--sweep {name}: give two or more different values, e.g. {name}=1,2,3")
    return Sweep(name, tuple(values))


def configurations(sweeps: Sequence[Sweep], base: Settings) -> list[dict[str, float | int]]:
    """The grid, each point checked as a whole (e.g. an overlap must stay below the chunk size)."""
    names = [s.name for s in sweeps]
    if len(set(names)) != len(names):
        raise UserError("--sweep: each setting once (give all its values after one =)")
    grid = [dict(zip(names, values)) for values in itertools.product(*(s.values for s in sweeps))]
    for point in grid:
        base.with_(**point)  # raises the one-line UserError naming the bad value
    return grid


def chunk_index_dir(cache: Path, sources: Sequence[Path], settings: Settings) -> Path:
    """One folder per corpus and chunker: the sources' paths name the corpus (their contents are
    checked by build_index, which re-embeds what changed)."""
    key = hashlib.sha256("\n".join(sorted(str(Path(p).resolve()) for p in sources)).encode()).hexdigest()[:10]
    return Path(cache) / f"{key}-cs{settings.chunk_size}-ov{settings.chunk_overlap}"


def label(point: dict[str, float | int]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in point.items())


# -- running ---------------------------------------------------------------------------------
def run_sweep(base: Any, answers: bool, questions: Sequence[Any], grid: list[dict[str, float | int]],
              retriever: str, k: int, cache: Path, progress: bool = True) -> list[dict[str, Any]]:
    """Each configuration's figures (rag.evaluate.sets.evaluate_retriever) over ``base``'s embedder and
    answerer; chunker settings get their cached index."""
    from ..assistant import Assistant
    from ..index.build import build_index
    from ..index.library import recorded_sources
    from ..index.store.open import open_store
    from .sets import evaluate_retriever

    sources = recorded_sources(base.settings)
    out = []
    for i, point in enumerate(grid, 1):
        settings = base.settings.with_(**point)
        store = base.store
        if any(name in point for name in CHUNKER):
            if not sources:
                raise UserError(f"the index at {base.settings.index_dir} does not record the paths it was built "
                                "from: rebuild it with `rag index PATH` to sweep the chunker's settings")
            settings = settings.with_(index_dir=chunk_index_dir(cache, sources, settings))
            report = build_index(sources, settings, embedder=base.embedder, progress=False)
            print(f"[{i}/{len(grid)}] {label(point)}: {report.summary()}", file=sys.stderr)
            store = open_store(settings.index_dir, settings.store)
        assistant = Assistant(store, base.embedder, settings, base.answerer)
        t = time.perf_counter()
        figures = evaluate_retriever(assistant, questions, retriever, k, answers)
        if progress:
            print(f"[{i}/{len(grid)}] {label(point)}: {time.perf_counter() - t:.1f}s", file=sys.stderr)
        out.append({"setting": point, **figures})
    return out


def score(rows: list[dict[str, Any]], k: int, answers: bool) -> tuple[Any, list[str], int]:
    """Per-question scores of every configuration (R@1, MRR, nDCG, and F1 when answers are read), tested
    against the best on nDCG (every swept setting moves retrieval; answer_passages moves F1 only: read
    both columns). Returns the comparison, its metrics, and the best row's position."""
    from .sets import metric_names
    from .significance import compare_scores, per_query_scores

    recalls, mrr, ndcg = metric_names(k)
    metrics = [recalls[0], mrr, ndcg] + (["f1"] if answers else [])
    per_query: dict[str, dict[str, np.ndarray]] = {}
    queries: list[str] = []
    for row in rows:
        queries, scores = per_query_scores(row["_qrels"], row["_run"], metrics[:3])
        if answers:
            scores["f1"] = np.array([row["_answers"][q][1] for q in queries])
        per_query[label(row["setting"])] = scores
    names = list(per_query)
    best = max(range(len(names)), key=lambda i: per_query[names[i]][ndcg].mean())
    return compare_scores(per_query, queries, metrics, names[best]), metrics, best


def warnings_for(comparison: Any, metric: str) -> list[str]:
    """The settings this set cannot tell from the best: not different by the randomisation test after
    Holm's correction, or a paired bootstrap interval of the difference that holds 0."""
    close = [(name, t) for name, per in comparison.tests.items() for m, t in per.items()
             if m == metric and (t.fisher_p_holm >= comparison.alpha or t.ci_low <= 0 <= t.ci_high)]
    if not close:
        return []
    shown = "; ".join(f"{name} ({t.delta:+.3f}, 95% CI [{t.ci_low:+.3f}, {t.ci_high:+.3f}], "
                      f"Holm p={t.fisher_p_holm:.3f})" for name, t in close)
    return [f"warning: {len(comparison.queries)} questions cannot tell the best ({comparison.baseline}) from "
            f"{len(close)} other setting(s) on {metric}: {shown}. A larger set would; and the best is chosen "
            "on these same questions, so its lead is optimistic: confirm it on held-out questions."]


def sweep_table(rows: list[dict[str, Any]], comparison: Any, metrics: list[str], markdown: bool = False) -> str:
    names = list(rows[0]["setting"])
    headline = metrics[2]
    header = names + [m.replace("recall", "R").replace("mrr", "MRR").replace("ndcg", "nDCG").replace("f1", "F1")
                      for m in metrics] + [f"{headline.replace('ndcg', 'nDCG')} 95% CI", ""]
    lines = []
    for row in rows:
        name = label(row["setting"])
        scores = comparison.per_query[name][headline]
        low, high = _mean_ci(scores)
        lines.append([f"{row['setting'][n]:g}" for n in names] + [comparison.cell(name, m) for m in metrics]
                     + [f"[{low:.3f}, {high:.3f}]", "best" if name == comparison.baseline else ""])
    return markdown_table(header, lines) if markdown else text_table(header, lines)


def _mean_ci(scores: np.ndarray) -> tuple[float, float]:
    from .significance import bootstrap_ci

    return bootstrap_ci(scores)


def write_chart(rows: list[dict[str, Any]], comparison: Any, metrics: list[str], path: Path) -> None:
    """One panel per swept setting: each metric's mean against the setting's values (the other settings
    at each of their values, one line each), with the headline metric's 95% bootstrap interval."""
    from ..extras import require

    matplotlib = require("matplotlib", "eval", "the sweep chart")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows[0]["setting"])
    fig, axes = plt.subplots(1, len(names), figsize=(5.5 * len(names), 4), dpi=110, squeeze=False)
    headline = metrics[2]
    for ax, name in zip(axes[0], names):
        others = [n for n in names if n != name]
        groups: dict[tuple, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row["setting"][o] for o in others), []).append(row)
        for key, group in groups.items():
            xs = [row["setting"][name] for row in group]
            suffix = f" ({', '.join(f'{o}={v:g}' for o, v in zip(others, key))})" if others else ""
            for metric in metrics:
                ys = [comparison.mean(label(row["setting"]), metric) for row in group]
                if metric == headline:
                    cis = [_mean_ci(comparison.per_query[label(row["setting"])][metric]) for row in group]
                    err = [[y - lo for y, (lo, _) in zip(ys, cis)], [hi - y for y, (_, hi) in zip(ys, cis)]]
                    ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"{metric}{suffix}")
                    for x, y, row in zip(xs, ys, group):
                        if label(row["setting"]) == comparison.baseline:
                            ax.plot([x], [y], marker="*", markersize=16, color="gold", markeredgecolor="black",
                                    ls="none", label="best")
                else:
                    ax.plot(xs, ys, marker=".", ls="--", alpha=0.7, label=f"{metric}{suffix}")
        ax.set_xlabel(name)
        ax.set_ylabel("mean over the questions")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Sweep on {len(comparison.queries)} questions (bars: 95% bootstrap interval of {headline})",
                 fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    from ..settings import RETRIEVERS
    from .sets import load_assistant, load_eval_set, public_figures
    from .significance import report_lines

    from .judgments import is_judgments_file

    if getattr(args, "beir", None) or getattr(args, "squad", None) or is_judgments_file(args.eval_set):
        raise UserError("--sweep runs on a question set (--set FILE of questions), not with --beir, --squad "
                        "or a judgments file")
    sweeps = [parse_sweep(s) for s in args.sweep]
    grid = configurations(sweeps, settings)
    questions = load_eval_set(args.eval_set)
    # The fusion settings move only hybrid: it is the one swept unless --retriever names another.
    retriever = settings.retriever if args.retriever == "all" else args.retriever
    if retriever not in RETRIEVERS:
        retriever = "hybrid"
    started = time.perf_counter()
    base, answers = load_assistant(settings)
    rows = run_sweep(base, answers, questions, grid, retriever, args.k, Path(args.cache_dir or DEFAULT_CACHE),
                     progress=not args.json)
    comparison, metrics, best = score(rows, args.k, answers)
    warned = warnings_for(comparison, metrics[2])
    figures: dict[str, Any] = {
        "set": str(args.eval_set), "retriever": retriever, "k": args.k, "questions": len(comparison.queries),
        "sweeps": {s.name: list(s.values) for s in sweeps}, "best": rows[best]["setting"],
        "configurations": [{"setting": r["setting"], **{m: comparison.mean(label(r["setting"]), m) for m in metrics}}
                           for r in rows],
        "significance": comparison.to_dict(), "warnings": warned, "seconds": time.perf_counter() - started}
    if not args.no_report:
        report = args.report or DEFAULT_REPORT
        chart = report.with_name(f"{report.stem}.png")
        write_chart(rows, comparison, metrics, chart)
        lines = [f"# Sweep: {', '.join(s.name for s in sweeps)}", "",
                 f"`rag eval --set {args.eval_set} {' '.join('--sweep ' + s for s in args.sweep)} -k {args.k}` on "
                 f"{time.strftime('%Y-%m-%d %H:%M')}: {retriever}, {len(comparison.queries)} answerable questions.", "",
                 sweep_table(rows, comparison, metrics, markdown=True), "", f"![Sweep]({chart.name})", ""]
        lines += [w for w in warned] + [""] if warned else []
        lines += report_lines(comparison, metrics[2])
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text("\n".join(lines) + "\n", encoding="utf-8")
        figures["report"], figures["chart"] = str(report), str(chart)
    if args.json:
        print(json.dumps(public_figures(figures), ensure_ascii=False))
        return 0
    print(sweep_table(rows, comparison, metrics))
    print(f"\n{comparison.legend().replace('different from', 'different from the best,')}")
    print(comparison.sample_note(metrics[2]))
    for w in warned:
        print(w)
    print(f"{retriever}, k={args.k}, {len(grid)} settings; {figures['seconds']:.1f}s")
    if "report" in figures:
        print(f"report: {figures['report']}  chart: {figures['chart']}")
    return 0
