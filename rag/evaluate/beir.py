"""`rag eval --beir DIR`: evaluate bm25, dense and hybrid on any dataset in BEIR layout.

The dataset gets its own index under a cache directory (built incrementally by ``build_index``,
never the default index). Relevance is per document: a ranking of passages becomes a ranking of
document ids (each document at its first passage's rank), scored with ranx against the qrels."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from .rankings import doc_ranking, passage_ranking
from .sets import public_figures
from ..settings import RETRIEVERS, Settings
from ..tables import cell, text_table

DEPTH = 100  # passages retrieved per query: enough for Recall@100 at the document level
METRICS = ("ndcg@10", "recall@100", "mrr@10")
DEFAULT_CACHE = Path(".cache/beir")


@dataclass
class BeirSet:
    name: str
    corpus: Path
    queries: dict[str, str]  # only the queries that have qrels
    qrels: dict[str, dict[str, int]]


def read_queries(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[str(row["_id"])] = str(row["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{lineno}: not a BEIR query ({type(exc).__name__})") from None
    return out


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query-id, corpus-id, score, tab-separated, after one header line. Score 0 means judged not
    relevant, so it is left out."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if lineno == 1 and not _is_int(parts[-1]):
                continue  # the header
            if not line.strip():
                continue
            if len(parts) < 3 or not _is_int(parts[2]):
                raise UserError(f"{path}:{lineno}: expected query-id<TAB>corpus-id<TAB>score")
            score = int(parts[2])
            if score > 0:
                qrels.setdefault(parts[0], {})[parts[1]] = score
    return qrels


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


def load_beir(root: Path, split: str = "test") -> BeirSet:
    root = Path(root)
    corpus, queries, qrels = root / "corpus.jsonl", root / "queries.jsonl", root / "qrels" / f"{split}.tsv"
    missing = [str(p) for p in (corpus, queries, qrels) if not p.is_file()]
    if missing:
        raise UserError(f"not a BEIR dataset: missing {', '.join(missing)} "
                        "(expected corpus.jsonl, queries.jsonl, qrels/test.tsv)")
    all_queries = read_queries(queries)
    judged = read_qrels(qrels)
    kept = {q: all_queries[q] for q in judged if q in all_queries}
    if not kept:
        raise UserError(f"no query in {queries} has a judgement in {qrels}")
    return BeirSet(name=root.resolve().name, corpus=corpus, queries=kept, qrels={q: judged[q] for q in kept})


def cache_index_dir(dataset: BeirSet, cache_dir: Path | None) -> Path:
    return Path(cache_dir or DEFAULT_CACHE) / dataset.name


def ensure_index(dataset: BeirSet, settings: Settings, progress: bool = True) -> Any:
    """Build or update the dataset's own index; an unchanged corpus costs only a hash pass."""
    from ..index.build import build_index

    return build_index([dataset.corpus], settings, progress=progress)


def retrieve_runs(assistant: Any, queries: dict[str, str], retrievers: Sequence[str], progress: bool = True,
                  depth: int = DEPTH) -> tuple[dict[str, "Runs"], float]:
    """Each retriever's rankings of ``depth`` passages per query, as document and passage runs. Query
    vectors are computed once, in batches, and shared by dense and hybrid (what ``Assistant.ask_many``
    does per batch). Returns the runs and the seconds spent embedding the queries."""
    from tqdm import tqdm

    ids = list(queries)
    texts = [queries[q] for q in ids]
    t = time.perf_counter()
    vectors = None
    if any(r != "bm25" for r in retrievers):
        vectors = assistant.embedder.encode(texts, progress=progress) if texts else None
    embed_seconds = time.perf_counter() - t
    out: dict[str, Runs] = {}
    for name in retrievers:
        t = time.perf_counter()
        docs: dict[str, dict[str, float]] = {}
        passages: dict[str, dict[str, float]] = {}
        for i, (qid, text) in enumerate(tqdm(list(zip(ids, texts)), desc=f"{name:>6}", unit="q",
                                             disable=not progress, file=sys.stderr)):
            vector = vectors[i] if vectors is not None and name != "bm25" else None
            found = assistant.retriever.search(text, depth, name, vector=vector)
            docs[qid] = doc_ranking(found)
            passages[qid] = passage_ranking(found)
        out[name] = Runs(documents=docs, passages=passages, seconds=time.perf_counter() - t)
    return out, embed_seconds


@dataclass
class Runs:
    """One retriever's rankings: query -> id -> 1/rank, by document and by passage."""

    documents: dict[str, dict[str, float]]
    passages: dict[str, dict[str, float]]
    seconds: float


def evaluate_beir(dataset: BeirSet, settings: Settings, retrievers: Sequence[str] = RETRIEVERS,
                  progress: bool = True, baseline: str | None = None) -> dict[str, Any]:
    """Retrieve ``DEPTH`` passages per query with each retriever, score the document rankings and test
    each retriever against the baseline (rag.evaluate.significance). ``figures["runs"]`` keeps the
    rankings (for --run-out); it is dropped from the JSON."""
    from ..assistant import Assistant
    from .significance import compare

    assistant = Assistant.load(settings=settings, answer=False)
    runs, embed_seconds = retrieve_runs(assistant, dataset.queries, retrievers, progress)
    comparison = compare(dataset.qrels, {n: r.documents for n, r in runs.items()}, list(METRICS), baseline)
    rows: dict[str, Any] = {}
    for name, r in runs.items():
        rows[name] = {**{m: comparison.mean(name, m) for m in METRICS}, "search_seconds": r.seconds,
                      "queries_per_second": len(dataset.queries) / r.seconds if r.seconds else None}
    info = assistant.store.info
    return {"dataset": dataset.name, "documents": info.documents, "chunks": info.chunks,
            "queries": len(dataset.queries), "depth": DEPTH, "index": info.location,
            "query_embed_seconds": embed_seconds, "retrievers": rows,
            "significance": comparison.to_dict(), "runs": runs, "comparison": comparison}


LABELS = (("nDCG@10", "ndcg@10"), ("Recall@100", "recall@100"), ("MRR@10", "mrr@10"))


def dataset_dirs(paths: Sequence[Path]) -> list[Path]:
    """The datasets named: each a BEIR folder, or a folder of BEIR folders."""
    out: list[Path] = []
    for path in map(Path, paths):
        inner = sorted(d for d in path.iterdir() if (d / "corpus.jsonl").is_file()) if path.is_dir() else []
        if not (path / "corpus.jsonl").is_file() and inner:
            out.extend(inner)
        else:
            out.append(path)  # load_beir names what is missing
    return out


def format_table(figures: dict[str, Any], markdown: bool = False) -> str:
    from .significance import format_comparison

    comparison = figures["comparison"]
    seconds = [cell(figures["retrievers"][n]["search_seconds"], 1) for n in comparison.per_query]
    return format_comparison(comparison, LABELS, {"search s": seconds}, markdown=markdown)


def format_datasets(all_figures: Sequence[dict[str, Any]], metric: str = "ndcg@10") -> str:
    """BEIR's table: datasets by rows, retrievers by columns (marks against each dataset's baseline), and
    the average over datasets."""
    names = list(all_figures[0]["retrievers"])
    header = ["dataset", "queries"] + names
    rows = [[f["dataset"], str(f["queries"])] + [f["comparison"].cell(n, metric) for n in names] for f in all_figures]
    rows.append(["average", str(sum(f["queries"] for f in all_figures))]
                + [cell(sum(f["retrievers"][n][metric] for f in all_figures) / len(all_figures)) for n in names])
    return text_table(header, rows)


def write_runs(out_dir: Path, dataset: str, runs: dict[str, Runs]) -> list[Path]:
    """Each retriever's rankings as TREC runs: OUT/<dataset>/doc/<retriever>.trec and .../passage/<retriever>.trec."""
    from .trec import write_run

    written = []
    for name, r in runs.items():
        for level, run in (("doc", r.documents), ("passage", r.passages)):
            path = Path(out_dir) / dataset / level / f"{name}.trec"
            write_run(path, run, f"rag-{name}")
            written.append(path)
    return written


def evaluate_dataset(root: Path, args: argparse.Namespace, settings: Settings, progress: bool) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = load_beir(root)
    settings = settings.with_(index_dir=cache_index_dir(dataset, args.cache_dir))
    report = ensure_index(dataset, settings, progress=progress)
    print(report.summary(), file=sys.stderr)
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    figures = evaluate_beir(dataset, settings, retrievers, progress=progress, baseline=getattr(args, "baseline", None))
    figures["index_seconds"] = report.seconds
    figures["index_written"] = report.written
    if getattr(args, "run_out", None):
        figures["run_files"] = [str(p) for p in write_runs(args.run_out, dataset.name, figures["runs"])]
    figures["seconds"] = time.perf_counter() - started
    return figures


def _public(figures: dict[str, Any]) -> dict[str, Any]:
    return public_figures({k: v for k, v in figures.items() if k not in ("runs", "comparison")})


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    progress = not args.json or sys.stderr.isatty()
    roots = dataset_dirs(args.beir if isinstance(args.beir, (list, tuple)) else [args.beir])
    all_figures = [evaluate_dataset(root, args, settings, progress) for root in roots]
    if len(all_figures) == 1:
        figures = all_figures[0]
        if args.json:
            print(json.dumps(_public(figures), ensure_ascii=False))
            return 0
        from .significance import p_value_lines

        comparison = figures["comparison"]
        print(format_table(figures))
        print(f"\n{comparison.legend()}")
        print("\n".join(p_value_lines(comparison, ["ndcg@10"])))
        print(comparison.sample_note("ndcg@10"))
        print(f"{figures['dataset']}: {figures['documents']} documents, {figures['chunks']} chunks, "
              f"{figures['queries']} queries, {figures['depth']} passages per query; "
              f"index {figures['index_seconds']:.1f}s "
              f"({'built' if figures['index_written'] else 'cached'}), total {figures['seconds']:.1f}s")
        if figures.get("run_files"):
            print(f"TREC runs: {len(figures['run_files'])} files under {Path(args.run_out) / figures['dataset']}")
        return 0
    from .significance import FISHER_MARK, STUDENT_MARK

    names = list(all_figures[0]["retrievers"])
    average = {n: {m: sum(f["retrievers"][n][m] for f in all_figures) / len(all_figures) for m in METRICS}
               for n in names}
    if args.json:
        print(json.dumps({"datasets": [_public(f) for f in all_figures], "average": public_figures(average),
                          "seconds": time.perf_counter() - started}, ensure_ascii=False))
        return 0
    print(format_datasets(all_figures))
    first = all_figures[0]["comparison"]
    print(f"\nnDCG@10. Within each dataset: {FISHER_MARK} Fisher's randomisation test, {STUDENT_MARK} paired t-test: "
          f"different from {first.baseline} at p < {first.alpha:g} after Holm's correction.")
    print(f"{len(all_figures)} datasets, {sum(f['queries'] for f in all_figures)} queries; "
          f"total {time.perf_counter() - started:.1f}s")
    return 0
