"""TREC files: run files out and in, qrels in, queries in.

- A **run** line is ``query-id Q0 doc-id rank score tag`` (whitespace-separated). trec_eval and ranx
  order a query's items by score, not by the rank column, so the score written is what keeps our order:
  ``depth - rank + 1`` for the item at ``rank`` (retriever scores can tie, and ties would be broken by
  id instead of our order).
- A **qrels** line is ``query-id iteration doc-id relevance`` (TREC), or BEIR's ``query-id<TAB>corpus-id
  <TAB>score`` after a header. Relevance 0 means judged not relevant: kept out, as trec_eval scores it.
- **Queries**: a TSV (``id<TAB>text``, TREC topics as Anserini and MS MARCO ship them) or JSONL with an
  id (``_id``, ``id`` or ``qid``) and a text (``text``, ``query`` or ``question``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import UserError

RunDict = dict[str, dict[str, float]]
QrelsDict = dict[str, dict[str, int]]


def write_run(path: Path, run: Mapping[str, Mapping[str, float]], tag: str) -> int:
    """Write ``run`` (query -> item -> score; items in ranked order) as a TREC run. Returns the lines written."""
    tag = "".join(ch if not ch.isspace() else "_" for ch in tag) or "rag"
    lines: list[str] = []
    for qid, items in run.items():
        ranked = sorted(items.items(), key=lambda kv: -kv[1])
        depth = len(ranked)
        for rank, (item, _) in enumerate(ranked, 1):
            if any(ch.isspace() for ch in f"{qid}{item}"):
                raise UserError(f"cannot write a TREC run: the id {qid!r} or {item!r} contains whitespace")
            lines.append(f"{qid} Q0 {item} {rank} {depth - rank + 1} {tag}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def _fields(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """(line number, whitespace-split fields) of each non-blank line of a TREC-style file."""
    if not Path(path).is_file():
        raise UserError(f"no such {what} file: {path}")
    with Path(path).open(encoding="utf-8") as fh:
        return [(lineno, parts) for lineno, line in enumerate(fh, 1) if (parts := line.split())]


def read_run(path: Path) -> RunDict:
    """A TREC run file: query -> item -> score. An item listed twice for a query is an error (trec_eval
    refuses it too)."""
    run: RunDict = {}
    for lineno, parts in _fields(path, "run"):
        if len(parts) != 6:
            raise UserError(f"{path}:{lineno}: not a TREC run line (query-id Q0 doc-id rank score tag)")
        qid, _, item, _, score, _ = parts
        try:
            value = float(score)
        except ValueError:
            raise UserError(f"{path}:{lineno}: the score {score!r} is not a number") from None
        items = run.setdefault(qid, {})
        if item in items:
            raise UserError(f"{path}:{lineno}: {item} is listed twice for query {qid}")
        items[item] = value
    if not run:
        raise UserError(f"the run file {path} is empty")
    return run


def read_qrels(path: Path) -> QrelsDict:
    """TREC qrels (4 columns) or BEIR qrels (3 columns, tab-separated, with a header line)."""
    qrels: QrelsDict = {}
    for lineno, parts in _fields(path, "qrels"):
        if len(parts) == 4:
            qid, _, item, rel = parts
        elif len(parts) == 3:
            qid, item, rel = parts
        else:
            raise UserError(f"{path}:{lineno}: not a qrels line (query-id 0 doc-id relevance, "
                            "or query-id<TAB>doc-id<TAB>relevance)")
        try:
            relevance = int(rel)
        except ValueError:
            if lineno == 1 and len(parts) == 3:
                continue  # BEIR's header
            raise UserError(f"{path}:{lineno}: the relevance {rel!r} is not a whole number") from None
        if relevance > 0:
            qrels.setdefault(qid, {})[item] = relevance
    if not qrels:
        raise UserError(f"the qrels file {path} has no relevant judgement (relevance > 0)")
    return qrels


def read_queries(path: Path) -> dict[str, str]:
    """Queries from a TSV (``id<TAB>text``) or a JSONL file (chosen by the first non-empty line)."""
    if not Path(path).is_file():
        raise UserError(f"no such queries file: {path}")
    out: dict[str, str] = {}
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    first = next((line for line in lines if line.strip()), "")
    as_json = first.lstrip().startswith("{")
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if as_json:
            try:
                row = json.loads(line)
                qid = next(row[k] for k in ("_id", "id", "qid") if k in row)
                text = next(row[k] for k in ("text", "query", "question") if k in row)
            except (json.JSONDecodeError, StopIteration, TypeError):
                raise UserError(f"{path}:{lineno}: expected a JSON object with an id (_id, id or qid) and a text "
                                "(text, query or question)") from None
        else:
            if "\t" not in line:
                raise UserError(f"{path}:{lineno}: expected query-id<TAB>text")
            qid, text = line.split("\t", 1)
        out[str(qid).strip()] = str(text).strip()
    if not out:
        raise UserError(f"the queries file {path} is empty")
    return out
