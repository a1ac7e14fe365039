"""Build a realistic BEIR-layout dataset offline from the docstrings of installed Python code.

No download: the text is the docstrings of the standard library and of installed packages
(numpy, torch, transformers, ...), read with ``ast`` (nothing is imported or executed).

- a document is one function's or class's docstring WITHOUT its summary line, under a header with
  its qualified name: what an API reference page says about it;
- a query is that summary line (e.g. "Return the number of items in a deque"): a user describing
  what they need in words the document body mostly does not repeat;
- qrels: the query's source document (and every other document with the same summary line).

    python scripts/make_beir_sample.py OUT_DIR [--docs 6000] [--queries 2000] [--seed 0] [--max-chars 1500]
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import re
import sysconfig
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("numpy", "torch", "transformers", "matplotlib", "sentence_transformers", "faiss", "scipy",
            "sklearn", "fastapi", "starlette", "pydantic", "jinja2", "httpx", "hypothesis", "spacy", "pandas")
SKIP_PARTS = {"test", "tests", "testing", "idlelib", "lib2to3", "site-packages", "turtledemo", "_vendor"}
_PARAM_LINE = re.compile(r"^[\w.*]+\s*(\(|:)")
_SUMMARY_END = re.compile(r"(?<=[.!?])\s|\n\s*\n")


def roots() -> list[tuple[str, Path]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    out = [("stdlib", stdlib)]
    out += [(name, site / name) for name in PACKAGES if (site / name).is_dir()]
    return out


def docstrings(label: str, root: Path) -> Iterator[tuple[str, str]]:
    """(qualified name, docstring) for every documented function and class under ``root``."""
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if SKIP_PARTS & set(rel.parts):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        module = ".".join(rel.with_suffix("").parts).replace(".__init__", "")
        prefix = module if label == "stdlib" else f"{label}.{module}" if module != "__init__" else label
        yield from _walk(tree, prefix)


def _walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{prefix}.{child.name}"
            doc = ast.get_docstring(child)
            if doc:
                yield name, doc
            if isinstance(child, ast.ClassDef):
                yield from _walk(child, name)


def split_summary(doc: str, max_chars: int = 1500) -> tuple[str, str] | None:
    """(summary sentence, the rest) or None when either is too thin to be a query or a document."""
    doc = doc.strip()
    m = _SUMMARY_END.search(doc)
    if not m:
        return None
    summary, rest = " ".join(doc[:m.start()].split()), doc[m.end():].strip()
    if len(summary.split()) < 5 or len(summary) > 200 or len(rest) < 150:
        return None
    if summary.lower().startswith(("see ", "deprecated", "alias", "same as", "this method", "this function")):
        return None
    if _PARAM_LINE.match(summary) or summary.endswith(":"):  # an argument list, not a summary
        return None
    if len(rest) > max_chars:  # cut at a word boundary
        rest = rest[:max_chars].rsplit(None, 1)[0]
    return summary, rest


def build(out: Path, n_docs: int, n_queries: int, seed: int, max_chars: int = 1500) -> dict[str, int]:
    docs: dict[str, tuple[str, str, str]] = {}  # text -> (id, title, summary); identical texts once
    for label, root in roots():
        for name, doc in docstrings(label, root):
            split = split_summary(doc, max_chars)
            if split is None:
                continue
            summary, rest = split
            docs.setdefault(rest, (name, name, summary))
    rng = random.Random(seed)
    chosen = list(docs.items())
    rng.shuffle(chosen)
    chosen = sorted(chosen[:n_docs], key=lambda item: item[1][0])
    by_summary: dict[str, list[str]] = defaultdict(list)
    out.mkdir(parents=True, exist_ok=True)
    (out / "qrels").mkdir(exist_ok=True)
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for i, (rest, (name, title, summary)) in enumerate(chosen):
            doc_id = f"d{i:05d}"
            fh.write(json.dumps({"_id": doc_id, "title": title, "text": f"{name}\n\n{rest}"}, ensure_ascii=False) + "\n")
            by_summary[summary.lower()].append(doc_id)
    summaries = sorted(by_summary)
    rng.shuffle(summaries)
    summaries = summaries[:n_queries]
    originals = {s.lower(): s for _, (_, _, s) in chosen}
    with (out / "queries.jsonl").open("w", encoding="utf-8") as q, (out / "qrels" / "test.tsv").open("w") as r:
        r.write("query-id\tcorpus-id\tscore\n")
        for i, key in enumerate(summaries):
            qid = f"q{i:05d}"
            q.write(json.dumps({"_id": qid, "text": originals[key]}, ensure_ascii=False) + "\n")
            for doc_id in by_summary[key]:
                r.write(f"{qid}\t{doc_id}\t1\n")
    return {"candidates": len(docs), "documents": len(chosen), "queries": len(summaries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--docs", type=int, default=6000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-chars", type=int, default=1500,
                        help="cut each document body at this many characters (500: one chunk a document)")
    args = parser.parse_args()
    counts = build(args.out, args.docs, args.queries, args.seed, args.max_chars)
    print(f"wrote {args.out}: {counts['documents']} documents (of {counts['candidates']} candidates), "
          f"{counts['queries']} queries")


if __name__ == "__main__":
    main()
