"""The `rag` command: a thin shell over the library API. User errors become one line on stderr
and a non-zero exit status, never a traceback."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from .errors import UserError
from .index.store.ann import KINDS
from .settings import RETRIEVERS, Settings

EXIT_USER_ERROR = 2


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(index_dir=getattr(args, "index_dir", None), model=getattr(args, "model", None),
                             store=getattr(args, "store", None))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


# -- index -------------------------------------------------------------------------------------
def cmd_index(args: argparse.Namespace) -> int:
    from .index.build import build_index

    settings = _settings(args)
    if args.faiss:
        settings = settings.with_(faiss_index=args.faiss)
    # No path: the paths the index was built from (and the uploads); with paths, the uploads are kept.
    from .index.library import index_sources

    sources, note = index_sources(settings, args.paths) if settings.store == "local" else (args.paths, "")
    paths = sources or ["seeds"]
    if note:
        print(f"note: {note}", file=sys.stderr)
    report = build_index(paths, settings, progress=not args.quiet)  # into the store that settings.store names
    print(report.summary())
    return 0


# -- ask ---------------------------------------------------------------------------------------
def cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import Assistant
    from .render import render_text

    if args.question != "-":
        # Check the question before paying for the model load.
        from .validation import check_question

        check_question(args.question)
    settings = _settings(args)
    assistant = Assistant.load(settings=settings, answer=not args.no_answer, warm=False)
    # Only what this command needs: BM25 passages alone load no model (and import no torch).
    assistant.warm_up(args.retriever or settings.retriever)
    if args.question == "-":
        return _ask_batch(assistant, args)
    result = assistant.ask(args.question, k=args.k, retriever=args.retriever)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        print(render_text(result, color=sys.stdout.isatty()))
    return 0


BATCH_LINES = 64  # questions embedded together; a batch that fails is retried one question at a time


def _stdin_questions() -> Iterator[str]:
    """One question a line. A line that is not UTF-8 keeps its bad bytes as lone surrogates
    (surrogateescape), so the shared check turns it into that line's error row, not a crash."""
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    for raw in binary:
        yield raw.decode("utf-8", "surrogateescape").removesuffix("\n").removesuffix("\r")


def _printable(question: str) -> str:
    """The question as it can be printed: undecodable bytes become U+FFFD."""
    return question.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _answer_batch(assistant, questions: list[str], args: argparse.Namespace) -> list[object]:
    """One result or error per question. If the whole batch fails, each question is asked alone,
    so one question that breaks the model costs only its own row."""
    try:
        return list(assistant.ask_many(questions, k=args.k, retriever=args.retriever))
    except Exception:
        pass
    out: list[object] = []
    for q in questions:
        try:
            out.extend(assistant.ask_many([q], k=args.k, retriever=args.retriever))
        except Exception as exc:
            out.append(exc)
    return out


def _ask_batch(assistant, args: argparse.Namespace) -> int:
    from .render import render_text

    out = sys.stdout
    failed = 0
    batch: list[str] = []

    def flush() -> None:
        nonlocal failed
        for question, result in zip(batch, _answer_batch(assistant, batch, args)):
            if isinstance(result, Exception):
                error = str(result) if isinstance(result, UserError) else \
                    f"could not answer this question ({type(result).__name__}: {result})"
                failed += not isinstance(result, UserError)
                out.write(json.dumps({"question": _printable(question), "error": error}, ensure_ascii=False) + "\n")
            elif args.json:
                out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            else:
                out.write(render_text(result, color=False) + "\n\n")  # type: ignore[arg-type]
        out.flush()
        batch.clear()

    for question in _stdin_questions():
        batch.append(question)
        if len(batch) >= BATCH_LINES:
            flush()
    if batch:
        flush()
    # User errors are rows like any answer; a question the program itself failed on is a failure.
    return 1 if failed else 0


# -- serve -------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    settings = _settings(args)
    # Load once here so a missing index is one clear line before the server starts.
    from .index.store import open_store

    open_store(settings.index_dir, settings.store)
    os.environ["RAG_INDEX_DIR"] = str(settings.index_dir)
    os.environ["RAG_STORE"] = settings.store
    os.environ["RAG_MODEL"] = settings.model
    print(f"serving on http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    # The web package is a shell over this library; uvicorn imports it by name so that rag/
    # itself never imports web/.
    # proxy_headers off: uvicorn would take X-Forwarded-For from any loopback peer as the client, and
    # loopback clients may write; the app trusts it only from RAG_TRUSTED_PROXIES (web/uploads.py).
    uvicorn.run("web.app:create_app_from_env", factory=True, host=args.host, port=args.port,
                log_level="warning", workers=1, proxy_headers=False)
    return 0


# -- eval / bench --------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    from .extras import check

    # The eval extra, checked before any model load or question rather than failing at the end.
    if not args.squad:
        check("ranx", "eval", "rag eval")
        if not args.beir and not args.no_report:
            check("matplotlib", "eval", "the eval report's chart")
    from .evaluate.command import run_cli

    return run_cli(args, _settings(args))


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench.run import run_cli

    return run_cli(args, _settings(args))


# -- train-reader -------------------------------------------------------------------------------
def cmd_train_reader(args: argparse.Namespace) -> int:
    from .train.command import run_from_args

    return run_from_args(args)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line too: what is wrong and where to look."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(EXIT_USER_ERROR, f"error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rag", description="Offline question answering over your own documents, with verbatim citations.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", type=Path, default=None,
                       help="directory of the index (default: index/, or RAG_INDEX_DIR)")
        p.add_argument("--model", default=None, help="local sentence-transformers model directory (RAG_MODEL)")
        p.add_argument("--store", default=None,
                       help="'local' (default) or milvus:///path/file.db or milvus://host:19530 (RAG_STORE)")

    p = sub.add_parser("index", help="build or update the index from files and folders",
                       description="Make the index hold exactly the documents under PATH...: new or changed "
                                   "documents are embedded, unchanged ones reused, missing ones dropped.")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders (.txt .md .html .pdf .docx corpus.jsonl); default: the paths the index "
                        "was built from, or seeds/; the documents folder of uploads is always kept")
    p.add_argument("--faiss", choices=KINDS, default=None,
                   help="FAISS structure (default auto: exact when small, approximate when large)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    common(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question with cited passages",
                       description="Answer QUESTION from the index. With '-' read one question per line "
                                   "from standard input (use with --json for one JSON object per line).")
    p.add_argument("question", metavar="QUESTION", help="the question, or '-' for one per line on stdin")
    p.add_argument("-k", type=_positive_int, default=None, help="passages to return (default 5)")
    p.add_argument("--retriever", choices=RETRIEVERS, default=None, help="default: hybrid")
    p.add_argument("--json", action="store_true", help="print the JSON contract")
    p.add_argument("--no-answer", action="store_true", help="retrieve passages only, no answer extraction")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="serve the web UI and the JSON API",
                       description="Serve the search page, document pages and /api/ask on HOST:PORT.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="evaluate retrieval and answers on a question set or a BEIR dataset",
                       description="Run the eval set through the same path as `rag ask` and print Recall@k, "
                                   "MRR, nDCG, exact match, F1, abstention and latency.")
    p.add_argument("--set", dest="eval_set", type=Path, default=Path("eval/questions.jsonl"),
                   help="a question set (JSONL), or a judgments file marked in the web page (eval/judgments.jsonl)")
    p.add_argument("--retriever", choices=[*RETRIEVERS, "all"], default="all")
    p.add_argument("-k", type=_positive_int, default=10)
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--beir", type=Path, nargs="+", default=None, metavar="DIR",
                   help="evaluate on BEIR-layout datasets (corpus.jsonl, queries.jsonl, qrels/test.tsv), or folders "
                        "of them: several give one table, datasets by rows")
    p.add_argument("--baseline", default=None, metavar="NAME",
                   help="the retriever (or run) the others are tested against (default: the first)")
    p.add_argument("--run-out", type=Path, default=None, metavar="DIR",
                   help="write each retriever's rankings as TREC run files (document and passage level) under DIR")
    p.add_argument("--qrels", type=Path, default=None, metavar="FILE",
                   help="TREC (or BEIR) qrels: score --runs files, or with --queries, the index's retrievers")
    p.add_argument("--queries", type=Path, default=None, metavar="FILE",
                   help="queries for --qrels: id<TAB>text, or JSONL with _id/id and text/query")
    p.add_argument("--runs", type=Path, nargs="+", default=None, metavar="RUN",
                   help="score TREC run files against --qrels (no index needed); the first is the baseline")
    p.add_argument("--sweep", action="append", default=None, metavar="SETTING=V1,V2,...",
                   help="evaluate the set for each value of a setting (dense_weight, rrf_k, fusion_depth, "
                        "rerank_depth, chunk_size, chunk_overlap, answer_passages); repeat for a grid; "
                        "report eval/sweep.md and its chart")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="where BEIR, SQuAD and sweep indexes are kept (default .cache/beir, .cache/squad, "
                        ".cache/sweep)")
    p.add_argument("--squad", type=Path, default=None, metavar="FILE",
                   help="evaluate the answer reader on a SQuAD-format file (.json or .json.gz)")
    p.add_argument("--squad-mode", choices=["reader", "e2e", "both"], default="both",
                   help="reader: gold paragraph only; e2e: retrieval over the file's paragraphs, then reading")
    p.add_argument("--limit", type=_positive_int, default=None, help="SQuAD questions to sample (fixed seed)")
    p.add_argument("--report", type=Path, default=None, help="report path (default eval/report.md)")
    p.add_argument("--no-report", action="store_true", help="do not write the report and chart")
    common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", help="measure indexing throughput, query latency and memory",
                       description="Indexing throughput beside raw model encode throughput, per-stage query "
                                   "latency beside one bare query embedding, peak memory; --scale N adds a "
                                   "synthetic corpus of N chunks.")
    p.add_argument("--questions", type=_positive_int, default=200, help="questions to time (default 200)")
    p.add_argument("--scale", type=_positive_int, nargs="*", default=None, metavar="N",
                   help="also measure a synthetic corpus of N chunks (several N allowed)")
    p.add_argument("--copies", type=_positive_int, default=8,
                   help="index the seeds copied N times, so the throughput figure is stable (default 8)")
    p.add_argument("--seeds", type=Path, default=Path("seeds"), help="documents to index and ask (default seeds/)")
    p.add_argument("--set", dest="eval_set", type=Path, default=Path("eval/questions.jsonl"),
                   help="questions to time, cycled (default eval/questions.jsonl)")
    p.add_argument("--docs", type=Path, default=None, metavar="DIR",
                   help="also index this folder of real documents (e.g. PDFs): pages/s and chunks/s end to end")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    common(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("train-reader", help="train the answer reader on SQuAD 2.0-format data",
                       description="Fine-tune the span reader from the shipped MiniLM on open QA data, validate, "
                                   "calibrate its score and choose its no-answer threshold on the validation split.")
    from .train.options import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_train_reader)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USER_ERROR
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a failure no check foresaw: still one line; -v shows the traceback
        if args.verbose:
            raise
        print(f"error: {type(exc).__name__}: {str(exc)[:300]} (run with -v for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
