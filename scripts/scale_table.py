"""Print the scale table: build time, size on disk, peak RSS, query p50/p95 and recall@10 against
exact search, for synthetic clustered vectors of dimension 384.

    python scripts/scale_table.py                  # N = 10k, 100k, 1M (1M takes a while)
    python scripts/scale_table.py 10000 50000      # any sizes
    python scripts/scale_table.py --kind ivf 100000

Each size runs in its own child process, so peak RSS is that size's alone.
"""

from __future__ import annotations

import argparse
import json
import sys

from rag.bench.scale import VECTORS_NOTE, format_table, scale_report
from rag.index.store.ann import KINDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--kind", choices=KINDS, default="auto",
                        help="FAISS structure (default auto: what `rag index` would choose)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="one JSON object per size instead of the table")
    args = parser.parse_args(argv)
    rows = []
    if not args.json:
        print(f"Vectors: {VECTORS_NOTE}. Latency: one query at a time; recall@10 against exact search on "
              f"the same vectors ({args.queries} queries).\n", flush=True)
    for n in args.sizes:
        row = scale_report(n, kind=args.kind, queries=args.queries)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            # Each row as soon as it is measured: a long run that is stopped keeps what it had.
            table = format_table([row]).splitlines()
            print("\n".join(table if not rows else table[2:]), flush=True)
        rows.append(row)
    if not args.json:
        for r in rows:
            if r["sweep"]:
                name = next(k for k in r["sweep"][0] if k not in ("p50_ms", "recall_at_10"))
                cells = ", ".join(f"{s[name]}: {s['recall_at_10']:.3f} @ {s['p50_ms']:.2f} ms" for s in r["sweep"])
                print(f"\n{r['n']:,} chunks, recall@10 @ p50 ms by {name}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
