"""The embedding model computed other ways, each against torch fp32 in the same run: its speed and
its cost in dense retrieval quality.

Variants: ``fp32`` (torch, the reference), ``bf16`` (torch under bf16 autocast: RAG_EMBED_PRECISION),
``ort`` (ONNX Runtime, the same fp32 weights exported), ``ort8`` (that ONNX file quantised to int8,
dynamic, per channel). ONNX Runtime is not a dependency of the product: `pip install onnxruntime onnx`.

- Speed: texts/s of each variant encoding the same chunk texts (batches of 64, sorted by length),
  rounds interleaved so a busy machine slows all alike; ratio to fp32.
- Length bucketing (the build's ``encode_with_sentences``, in the chosen precision): chunks embedded a
  batch per call in reading order (no bucketing), a window of 4 batches per call (what the build does,
  sorted within the window) and all in one call (sorted globally).
- Quality: dense retrieval, exact search over chunk vectors, a document scored by its best chunk:
  nDCG@10 and Recall@5 per variant on each project set (questions with a gold document, over the
  seeds) and on a BEIR-layout folder (scripts/make_beir_sample.py), and the lowest cosine of each
  variant's chunk vectors to fp32's.

    python scripts/encoder_variants.py --beir DIR [--sets eval/*.jsonl] [--variants fp32,bf16,ort,ort8]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.index.embedding import Embedder  # noqa: E402
from rag.ingest.chunking import chunk_document  # noqa: E402
from rag.ingest.documents import load_documents  # noqa: E402
from rag.settings import Settings  # noqa: E402

Encode = Callable[[Sequence[str]], np.ndarray]


# -- the ONNX variants -------------------------------------------------------------------------
def export_onnx(embedder: Embedder, folder: Path, int8: bool) -> dict[str, str]:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Hidden(torch.nn.Module):  # keyword arguments: the transformer's positional order is not stable
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    fp32 = str(folder / "encoder.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
    torch.onnx.export(Hidden(embedder.model[0].auto_model).eval(), (ids, ids, torch.zeros_like(ids)), fp32, input_names=names[:3], output_names=names[3:],
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}, opset_version=17, dynamo=False)
    out = {"ort": fp32}
    if int8:
        out["ort8"] = str(folder / "encoder.int8.onnx")
        quantize_dynamic(fp32, out["ort8"], weight_type=QuantType.QInt8, per_channel=True)
    return out


def onnx_encoder(path: str, embedder: Embedder, batch: int = 64) -> Encode:
    """Mean pooling over the real tokens and L2 normalisation, as the sentence-transformers modules do."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    tokenizer = embedder.model.tokenizer
    max_length = embedder.model.get_max_seq_length() or 512

    def encode(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), embedder.dimension), np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for b in range(0, len(texts), batch):
            idx = order[b:b + batch]
            enc = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                            return_tensors="np")
            hidden = session.run(None, {"input_ids": enc["input_ids"].astype(np.int64),
                                        "attention_mask": enc["attention_mask"].astype(np.int64),
                                        "token_type_ids": enc["token_type_ids"].astype(np.int64)})[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            out[idx] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out

    return encode


# -- retrieval quality -------------------------------------------------------------------------
def ndcg_at(ranked: list[str], rel: dict[str, int], k: int = 10) -> float:
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sum(r / math.log2(i + 2) for i, r in enumerate(sorted(rel.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], rel: dict[str, int], k: int = 5) -> float:
    wanted = {d for d, r in rel.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def doc_rankings(chunk_vectors: np.ndarray, chunk_docs: list[str], query_vectors: np.ndarray,
                 depth: int = 100) -> list[list[str]]:
    scores = query_vectors @ chunk_vectors.T
    out = []
    for row in scores:
        ranked: list[str] = []
        for i in np.argsort(-row, kind="stable")[:depth]:
            if chunk_docs[i] not in ranked:
                ranked.append(chunk_docs[i])
        out.append(ranked)
    return out


def quality(encoders: dict[str, Encode], chunks: list[str], chunk_docs: list[str], queries: list[str],
            qrels: list[dict[str, int]]) -> dict[str, dict[str, float]]:
    vectors = {name: enc(chunks) for name, enc in encoders.items()}
    out = {}
    for name, enc in encoders.items():
        rankings = doc_rankings(vectors[name], chunk_docs, enc(queries))
        out[name] = {"ndcg@10": float(np.mean([ndcg_at(r, q) for r, q in zip(rankings, qrels)])),
                     "recall@5": float(np.mean([recall_at(r, q) for r, q in zip(rankings, qrels)])),
                     "min_cosine_to_fp32": float((vectors[name] * vectors["fp32"]).sum(1).min())}
    return out


def chunk_corpus(paths: Sequence[Path], settings: Settings) -> tuple[list[str], list[str]]:
    texts, docs = [], []
    for d in load_documents(paths, warn=lambda m: None):
        for c in chunk_document(d, settings.chunk_size, settings.chunk_overlap):
            texts.append(c.text)
            docs.append(d.doc_id)
    return texts, docs


def project_set(path: Path) -> tuple[list[str], list[dict[str, int]]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("doc_id")]
    return [r["question"] for r in rows], [{r["doc_id"]: 1} for r in rows]


def beir_set(folder: Path) -> tuple[list[str], list[dict[str, int]]]:
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        q, d, r = line.split("\t")[:3]
        qrels.setdefault(q, {})[d] = int(r)
    ids = [q for q in queries if q in qrels]
    return [queries[q] for q in ids], [qrels[q] for q in ids]


# -- speed -------------------------------------------------------------------------------------
def speed(encoders: dict[str, Encode], texts: list[str], rounds: int) -> dict[str, float]:
    for enc in encoders.values():
        enc(texts[:64])  # warm-up
    best = {name: math.inf for name in encoders}
    for r in range(rounds):
        names = list(encoders)
        for name in names[r % len(names):] + names[:r % len(names)]:
            t = time.perf_counter()
            encoders[name](texts)
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: len(texts) / s for name, s in best.items()}


def bucketing(embedder: Embedder, texts: list[str], rounds: int) -> dict[str, float]:
    spans = [[(0, len(t))] for t in texts]
    b = embedder.batch_size

    def calls(size: int) -> Callable[[], None]:
        return lambda: [embedder.encode_with_sentences(texts[i:i + size], spans[i:i + size])
                        for i in range(0, len(texts), size)]

    ways = {"a batch a call (no bucketing)": calls(b), "a window of 4 batches (the build)": calls(4 * b),
            "all in one call (global sort)": calls(len(texts))}
    best = {name: math.inf for name in ways}
    for r in range(rounds):
        for name, run in ways.items():
            t = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - t)
    return {name: len(texts) / s for name, s in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--beir", type=Path, required=True, help="a BEIR-layout folder (scripts/make_beir_sample.py)")
    parser.add_argument("--sets", type=Path, nargs="*", default=sorted((ROOT / "eval").glob("*.jsonl")))
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--variants", default="fp32,bf16,ort,ort8")
    parser.add_argument("--quality-variants", default=None,
                        help="the variants whose retrieval quality is measured (default: all; fp32 always)")
    parser.add_argument("--speed-only", action="store_true", help="speed and bucketing, no retrieval quality")
    parser.add_argument("--speed-texts", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    settings = Settings.from_env()
    wanted = args.variants.split(",")
    fp32 = Embedder.loaded(settings.model, settings.batch_size, "fp32")
    encoders: dict[str, Encode] = {"fp32": fp32.encode}
    if "bf16" in wanted:
        encoders["bf16"] = fp32.in_precision("bf16").encode
    tmp = Path(tempfile.mkdtemp(prefix="encoder-onnx-"))
    if {"ort", "ort8"} & set(wanted):
        for name, path in export_onnx(fp32, tmp, "ort8" in wanted).items():
            if name in wanted:
                encoders[name] = onnx_encoder(path, fp32)
    beir_chunks, beir_docs = chunk_corpus([args.beir / "corpus.jsonl"], settings)
    print(f"{os.cpu_count()} cores; BEIR folder {args.beir}: {len(beir_chunks)} chunks", flush=True)

    rates = speed(encoders, beir_chunks[:args.speed_texts], args.rounds)
    print(f"\nspeed: {min(args.speed_texts, len(beir_chunks))} chunk texts, batches of {fp32.batch_size}, "
          f"best of {args.rounds}")
    for name, rate in rates.items():
        print(f"  {name:<6}{rate:8.1f} texts/s   x{rate / rates['fp32']:.2f} of fp32")

    chosen = Embedder.from_settings(settings)
    chosen._model, chosen._dimension = fp32.model, fp32.dimension  # the same weights, the chosen precision
    buckets = bucketing(chosen, beir_chunks[:args.speed_texts], args.rounds)
    print(f"\nlength bucketing (encode_with_sentences, {chosen.precision}):")
    for name, rate in buckets.items():
        print(f"  {name:<36}{rate:8.1f} chunks/s")

    if args.speed_only:
        return
    seed_chunks, seed_docs = chunk_corpus([args.seeds], settings)
    tables = [(p.name, seed_chunks, seed_docs, *project_set(p)) for p in args.sets]
    tables.append((f"BEIR {args.beir.name}", beir_chunks, beir_docs, *beir_set(args.beir)))
    print("\nquality: dense retrieval, documents ranked by their best chunk")
    judged_names = [n for n in encoders if n == "fp32" or args.quality_variants is None
                    or n in args.quality_variants.split(",")]
    print(f"  {'set':<22}{'queries':>8}" + "".join(f"{n + ' nDCG@10':>14}{'R@5':>7}" for n in judged_names)
          + f"{'min cos':>9}")
    judged = {n: e for n, e in encoders.items()
              if n == "fp32" or args.quality_variants is None or n in args.quality_variants.split(",")}
    for name, chunks, docs, queries, qrels in tables:
        q = quality(judged, chunks, docs, queries, qrels)
        cells = "".join(f"{q[n]['ndcg@10']:14.4f}{q[n]['recall@5']:7.3f}" for n in judged)
        worst = min(v["min_cosine_to_fp32"] for v in q.values())
        print(f"  {name:<22}{len(queries):8d}{cells}{worst:9.4f}", flush=True)
        for n in judged:
            if n != "fp32":
                print(f"      {n}: nDCG@10 {q[n]['ndcg@10'] - q['fp32']['ndcg@10']:+.4f}, "
                      f"R@5 {q[n]['recall@5'] - q['fp32']['recall@5']:+.4f}, "
                      f"min cosine to fp32 {q[n]['min_cosine_to_fp32']:.5f}")


if __name__ == "__main__":
    main()
