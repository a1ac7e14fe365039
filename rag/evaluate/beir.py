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
from .sets import public_figures, ranx_evaluate
from ..records import Passage
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


def doc_ranking(passages: Sequence[Passage]) -> dict[str, float]:
    """Document ids in the order of their first passage, scored 1/rank so ranx keeps that order."""
    run: dict[str, float] = {}
    for p in passages:
        if p.chunk.doc_id not in run:
            run[p.chunk.doc_id] = 1.0 / (len(run) + 1)
    return run


def ensure_index(dataset: BeirSet, settings: Settings, progress: bool = True) -> Any:
    """Build or update the dataset's own index; an unchanged corpus costs only a hash pass."""
    from ..index.build import build_index

    return build_index([dataset.corpus], settings, progress=progress)


def evaluate_beir(dataset: BeirSet, settings: Settings, retrievers: Sequence[str] = RETRIEVERS,
                  progress: bool = True, batch_size: int = 64) -> dict[str, Any]:
    """Retrieve ``DEPTH`` passages per query with each retriever and score the document rankings.
    Query vectors are computed once, in batches, and shared by dense and hybrid (what
    ``Assistant.ask_many`` does per batch)."""
    from tqdm import tqdm

    from ..assistant import Assistant

    assistant = Assistant.load(settings=settings, answer=False)
    ids = list(dataset.queries)
    texts = [dataset.queries[q] for q in ids]
    t = time.perf_counter()
    vectors = None
    if any(r != "bm25" for r in retrievers):
        vectors = assistant.embedder.encode(texts, progress=progress) if texts else None
    embed_seconds = time.perf_counter() - t
    rows: dict[str, Any] = {}
    for name in retrievers:
        t = time.perf_counter()
        run: dict[str, dict[str, float]] = {}
        for i, (qid, text) in enumerate(tqdm(list(zip(ids, texts)), desc=f"{name:>6}", unit="q",
                                             disable=not progress, file=sys.stderr)):
            vector = vectors[i] if vectors is not None and name != "bm25" else None
            passages = assistant.retriever.search(text, DEPTH, name, vector=vector)
            run[qid] = doc_ranking(passages)
        search_seconds = time.perf_counter() - t
        scores = ranx_evaluate(dataset.qrels, run, list(METRICS))
        rows[name] = {**scores, "search_seconds": search_seconds,
                      "queries_per_second": len(ids) / search_seconds if search_seconds else None}
    info = assistant.store.info
    return {"dataset": dataset.name, "documents": info.documents, "chunks": info.chunks,
            "queries": len(ids), "depth": DEPTH, "index": info.location,
            "query_embed_seconds": embed_seconds, "retrievers": rows}


def format_table(figures: dict[str, Any]) -> str:
    header = ["retriever", "nDCG@10", "Recall@100", "MRR@10", "search s"]
    lines = [[name, cell(r["ndcg@10"]), cell(r["recall@100"]), cell(r["mrr@10"]), cell(r["search_seconds"], 1)]
             for name, r in figures["retrievers"].items()]
    return text_table(header, lines)


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    dataset = load_beir(args.beir)
    index_dir = cache_index_dir(dataset, args.cache_dir)
    settings = settings.with_(index_dir=index_dir)
    progress = not args.json or sys.stderr.isatty()
    report = ensure_index(dataset, settings, progress=progress)
    print(report.summary(), file=sys.stderr)
    retrievers = list(RETRIEVERS) if args.retriever == "all" else [args.retriever]
    figures = evaluate_beir(dataset, settings, retrievers, progress=progress)
    figures["index_seconds"] = report.seconds
    figures["index_written"] = report.written
    figures["seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(public_figures(figures), ensure_ascii=False))
    else:
        print(format_table(figures))
        print(f"\n{figures['dataset']}: {figures['documents']} documents, {figures['chunks']} chunks, "
              f"{figures['queries']} queries, {figures['depth']} passages per query; index {report.seconds:.1f}s "
              f"({'built' if report.written else 'cached'}), total {figures['seconds']:.1f}s")
    return 0
