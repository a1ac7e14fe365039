"""`rag eval --squad FILE`: the answer reader on any SQuAD-format file (1.1 or 2.0 layout, .json or .json.gz).

Two modes:
- ``reader``: each question with its gold paragraph as the only passage, read in batches through
  ``Reader.answer_many`` (the call the assistant makes), deciding by the reader's own margin
  calibration (there is no retrieval for the answer decision to weigh), so the figures are the reader's alone.
- ``e2e``: every distinct paragraph of the file becomes one document of an index kept under a cache
  folder (re-embedded only when the file changes, as for `rag eval --beir`); the questions go through
  ``Assistant.ask_many`` (retrieval, then reading), so retrieval misses count too.

EM and F1 follow SQuAD 2.0 (rag.matching): an unanswerable question scores 1 only for a null answer."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sys
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from ..errors import UserError
from ..ingest.documents import write_corpus_jsonl
from .sets import percentile, public_figures
from ..matching import best_over_gold, exact_match, f1
from ..records import Answer, Chunk, Passage, Result
from ..settings import RETRIEVERS, Settings
from ..tables import cell, text_table
from ..squad_format import QAExample, load_squad

MODES = ("reader", "e2e")
SAMPLE_SEED = 0  # --limit draws the same questions every run, so runs compare
READ_BATCH = 64  # questions per Reader.answer_many call: ask_many's batch size
DEFAULT_CACHE = Path(".cache/squad")


class AnswerReader(Protocol):
    def answer_many(self, items: list[tuple[str, list[Passage]]]) -> list[tuple[Answer | None, list[Answer]]]: ...


@dataclass(frozen=True)
class ModeFigures:
    """One mode's figures. Rates are percentages; None where they do not apply."""

    mode: str
    questions: int
    answerable: int
    unanswerable: int
    exact_match: float  # all questions (SQuAD 2.0: a null answer is right on an unanswerable one)
    f1: float
    has_ans_exact_match: float | None
    has_ans_f1: float | None
    no_ans_accuracy: float | None  # unanswerable questions answered null; None when the file has none
    answerable_null_rate: float | None  # answerable questions answered null
    retrieval_hit_rate: float | None = None  # e2e: the gold paragraph among the passages read
    rejected: int = 0  # e2e: questions ask_many refused (e.g. over the length limit), scored as null
    seconds: float = 0.0
    seconds_per_question: float = 0.0  # wall time / questions: the cost of batched reading
    latency_p50_ms: float | None = None  # e2e: per question, Result.timings["total"]
    latency_p95_ms: float | None = None


# -- the file ------------------------------------------------------------------------------------
def load_file(path: Path) -> list[QAExample]:
    """``load_squad`` with what a user can get wrong turned into one UserError line."""
    if not path.is_file():
        raise UserError(f"no such SQuAD file: {path}")
    shape = 'expected SQuAD JSON: {"data": [{"title", "paragraphs": [{"context", "qas": [...]}]}]}'
    try:
        examples = load_squad(path)
    except (gzip.BadGzipFile, EOFError, zlib.error):
        raise UserError(f"{path} is not a readable gzip file") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{path} is not UTF-8 JSON: {shape}") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UserError(f"{path} is not in SQuAD format ({type(exc).__name__}: {exc}): {shape}") from None
    if not examples:
        raise UserError(f"{path} holds no question with a usable answer")
    return examples


def sample(examples: Sequence[QAExample], limit: int | None) -> list[QAExample]:
    """``limit`` questions drawn with a fixed seed, kept in file order; all of them without a limit."""
    if limit is None or limit >= len(examples):
        return list(examples)
    picked = sorted(random.Random(SAMPLE_SEED).sample(range(len(examples)), limit))
    return [examples[i] for i in picked]


def context_id(context: str) -> str:
    # From the text alone: the same paragraph gets the same document id whatever questions are sampled.
    return "c" + hashlib.sha1(context.encode("utf-8")).hexdigest()[:16]


def gold_passage(example: QAExample) -> Passage:
    doc_id = context_id(example.context)
    chunk = Chunk(doc_id, f"{doc_id}#0", 0, len(example.context), example.context)
    return Passage(chunk=chunk, rank=1, score=1.0, title=example.article, source=example.source)


# -- scoring -------------------------------------------------------------------------------------
def _percent(values: Sequence[float]) -> float | None:
    return 100.0 * sum(values) / len(values) if values else None


def score(mode: str, examples: Sequence[QAExample], predictions: Sequence[str | None]) -> ModeFigures:
    """EM/F1 over all questions, then split into answerable (HasAns) and unanswerable (NoAns)."""
    em_all, f1_all, em_has, f1_has, no_ans, null_has = [], [], [], [], [], []
    for example, prediction in zip(examples, predictions, strict=True):
        golds = example.answer_texts
        em = best_over_gold(exact_match, prediction, golds)
        f = best_over_gold(f1, prediction, golds)
        em_all.append(em)
        f1_all.append(f)
        if golds:
            em_has.append(em)
            f1_has.append(f)
            null_has.append(float(prediction is None))
        else:
            no_ans.append(em)  # 1 exactly when the answer is null (or empty after normalisation)
    return ModeFigures(mode=mode, questions=len(examples), answerable=len(em_has), unanswerable=len(no_ans),
                       exact_match=_percent(em_all) or 0.0, f1=_percent(f1_all) or 0.0,
                       has_ans_exact_match=_percent(em_has), has_ans_f1=_percent(f1_has),
                       no_ans_accuracy=_percent(no_ans), answerable_null_rate=_percent(null_has))


# -- reader mode ---------------------------------------------------------------------------------
def evaluate_reader(reader: AnswerReader, examples: Sequence[QAExample], progress: bool = False,
                    batch_size: int = READ_BATCH) -> ModeFigures:
    """Each question with its gold paragraph alone. The reader must be warmed up already: loading the
    model is not charged to the questions."""
    from tqdm import tqdm

    predictions: list[str | None] = []
    started = time.perf_counter()
    with tqdm(total=len(examples), desc="reader", unit="q", disable=not progress, file=sys.stderr) as bar:
        for i in range(0, len(examples), batch_size):
            batch = examples[i:i + batch_size]
            read = reader.answer_many([(e.question, [gold_passage(e)]) for e in batch])
            predictions.extend(answer.text if answer else None for answer, _ in read)
            bar.update(len(batch))
    seconds = time.perf_counter() - started
    return replace(score("reader", examples, predictions), seconds=seconds,
                   seconds_per_question=seconds / len(examples) if examples else 0.0)


# -- end-to-end mode -----------------------------------------------------------------------------
def cache_dir_for(path: Path, cache_dir: Path | None) -> Path:
    return Path(cache_dir or DEFAULT_CACHE) / path.name.split(".json")[0]


def write_corpus(examples: Iterable[QAExample], folder: Path) -> Path:
    """Every distinct paragraph as one corpus.jsonl record. Rewritten only when its bytes would change;
    the index build then skips every paragraph whose text it already holds."""
    rows: dict[str, dict[str, str]] = {}
    for e in examples:
        doc_id = context_id(e.context)
        rows.setdefault(doc_id, {"_id": doc_id, "title": e.article.replace("_", " "), "text": e.context})
    return write_corpus_jsonl(rows.values(), folder)


def evaluate_e2e(assistant: Any, examples: Sequence[QAExample], k: int, retriever: str,
                 progress: bool = False) -> ModeFigures:
    """Ask every question through ``Assistant.ask_many``; a hit is the gold paragraph among the passages
    the reader was given (the first ``answer_passages`` of the k)."""
    from tqdm import tqdm

    read = assistant.read_passages
    predictions: list[str | None] = []
    hits: list[float] = []
    latencies: list[float] = []
    rejected = 0
    started = time.perf_counter()
    results = assistant.ask_many([e.question for e in examples], k=k, retriever=retriever)
    for example, result in zip(examples, tqdm(results, total=len(examples), desc="e2e", unit="q",
                                              disable=not progress, file=sys.stderr), strict=True):
        if not isinstance(result, Result):  # a UserError in the question's place
            rejected += 1
            predictions.append(None)
            hits.append(0.0)
            continue
        predictions.append(result.answer.text if result.answer else None)
        gold = context_id(example.context)
        hits.append(float(any(p.chunk.doc_id == gold for p in result.passages[:read])))
        latencies.append(result.timings.get("total", float("nan")))
    seconds = time.perf_counter() - started
    figures = score("e2e", examples, predictions)
    return replace(figures, retrieval_hit_rate=_percent(hits), rejected=rejected, seconds=seconds,
                   seconds_per_question=seconds / len(examples) if examples else 0.0,
                   latency_p50_ms=1000 * percentile(latencies, 50) if latencies else None,
                   latency_p95_ms=1000 * percentile(latencies, 95) if latencies else None)


# -- command line --------------------------------------------------------------------------------
def make_reader(settings: Settings) -> Any:
    """The product's reader, loaded (a missing one is one UserError line before any index is built)."""
    from ..answer.reader import Reader

    return Reader.loaded(settings)


def format_table(rows: dict[str, ModeFigures]) -> str:
    cols = [("EM", "exact_match", 1), ("F1", "f1", 1), ("HasAns EM", "has_ans_exact_match", 1),
            ("HasAns F1", "has_ans_f1", 1), ("NoAns acc", "no_ans_accuracy", 1),
            ("null on ans", "answerable_null_rate", 1), ("hit", "retrieval_hit_rate", 1),
            ("s/q", "seconds_per_question", 3), ("p50 ms", "latency_p50_ms", 1), ("p95 ms", "latency_p95_ms", 1)]
    header = ["mode"] + [c[0] for c in cols]
    lines = [[name] + [cell(getattr(row, key), d) for _, key, d in cols] for name, row in rows.items()]
    return text_table(header, lines)


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    path = Path(args.squad)
    everything = load_file(path)  # before any model loads: a wrong file costs nothing
    examples = sample(everything, getattr(args, "limit", None))
    mode = getattr(args, "squad_mode", "both")
    modes = MODES if mode == "both" else (mode,)
    retriever = args.retriever if getattr(args, "retriever", None) in RETRIEVERS else settings.retriever
    progress = not getattr(args, "json", False) or sys.stderr.isatty()
    reader = make_reader(settings)
    figures: dict[str, Any] = {
        "file": str(path), "questions_in_file": len(everything), "questions": len(examples),
        "answerable": sum(bool(e.answers) for e in examples),
        "unanswerable": sum(not e.answers for e in examples),
        "limit": getattr(args, "limit", None), "seed": SAMPLE_SEED,
        "reader": str(settings.reader), "threshold": getattr(reader, "threshold", None),
        "reader_alone_threshold": getattr(getattr(reader, "config", None), "threshold", None),
    }
    rows: dict[str, ModeFigures] = {}
    if "reader" in modes:
        # The gold paragraph alone has no retrieval to speak of: the reader decides by its own margin.
        alone = reader.without_decision() if hasattr(reader, "without_decision") else reader
        rows["reader"] = evaluate_reader(alone, examples, progress=progress)
    if "e2e" in modes:
        from ..assistant import Assistant
        from ..index.build import build_index

        folder = cache_dir_for(path, getattr(args, "cache_dir", None))
        e2e_settings = settings.with_(index_dir=folder / "index")
        # Index the whole file's paragraphs (not only the sampled questions'): retrieval has the real haystack.
        report = build_index([write_corpus(everything, folder)], e2e_settings, progress=progress)
        print(report.summary(), file=sys.stderr)
        assistant = Assistant.load(settings=e2e_settings, answer=False)
        assistant.answerer = reader  # the reader already loaded, not a second copy
        rows["e2e"] = evaluate_e2e(assistant, examples, e2e_settings.k, retriever, progress=progress)
        info = assistant.store.info
        figures.update({"index": info.location, "documents": info.documents, "chunks": info.chunks,
                        "k": e2e_settings.k, "answer_passages": assistant.read_passages,
                        "retriever": retriever, "index_seconds": report.seconds, "index_written": report.written})
    figures["modes"] = {name: asdict(row) for name, row in rows.items()}
    figures["seconds"] = time.perf_counter() - started
    if getattr(args, "json", False):
        print(json.dumps(public_figures(figures), ensure_ascii=False))
        return 0
    print(format_table(rows))
    print(f"\n{path.name}: {figures['questions']} of {figures['questions_in_file']} questions "
          f"({figures['answerable']} answerable, {figures['unanswerable']} unanswerable; seed {SAMPLE_SEED}); "
          f"reader {figures['reader']}, threshold {cell(figures['threshold'])} (reader alone: its margin's "
          f"{cell(figures['reader_alone_threshold'])}); percentages; total "
          f"{figures['seconds']:.1f}s")
    if "e2e" in rows:
        print(f"e2e: {figures['documents']} paragraphs, {figures['chunks']} chunks, {retriever}, k={figures['k']}, "
              f"hit = gold paragraph in the {figures['answer_passages']} passages read; index "
              f"{figures['index_seconds']:.1f}s ({'built' if figures['index_written'] else 'cached'})"
              + (f"; {rows['e2e'].rejected} questions rejected" if rows["e2e"].rejected else ""))
    return 0
