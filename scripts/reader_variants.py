"""What the reader's speed options cost in accuracy, measured in one run: fp32, bf16 autocast over fp32
weights, bf16 autocast over weights stored in bf16 (bf16w: no per-call weight casts), int8 dynamic
quantisation (PyTorch, Linear layers), or ONNX Runtime over the same weights exported to ONNX (ort: fp32,
ort8: its int8 dynamic quantisation, per channel; `pip install onnxruntime onnx`, not a dependency of the product),
one or two threads, reading 5 or 3 passages.

Retrieval runs once per question (hybrid, the product's default); then every variant reads the same
passages, question by question (as `rag ask` does), interleaved so a busy machine slows them alike.
Prints, per variant: the reader's own time per question (p50/p95) and EM/F1 on the given sets, with
unanswerable questions scored SQuAD 2.0 style (no answer is right). Pass development sets only.

    python scripts/reader_variants.py --reader models/reader eval/questions.jsonl eval/holdout.jsonl
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    import torch

    from rag.answer.reader import Reader
    from rag.assistant import Assistant
    from rag.matching import best_over_gold, exact_match, f1
    from rag.evaluate.sets import load_eval_set
    from rag.settings import Settings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("sets", nargs="+", type=Path)
    p.add_argument("--reader", type=Path, default=Path("models/reader"))
    p.add_argument("--index-dir", default="index")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to compare")
    p.add_argument("--passages", type=int, nargs="+", default=[5, 3], help="passage counts to compare")
    p.add_argument("--kinds", nargs="+", default=["fp32", "bf16", "int8"], choices=["fp32", "bf16", "bf16w", "int8", "ort", "ort8"])
    p.add_argument("--limit", type=int, default=0, help="the first N questions only")
    args = p.parse_args()

    settings = Settings.from_env(index_dir=args.index_dir)
    assistant = Assistant.load(args.index_dir, settings, answer=False)  # retrieval only; the variants read
    questions = [q for path in args.sets for q in load_eval_set(path)]
    if args.limit:
        questions = questions[:args.limit]
    passages = [assistant.ask(q.question, k=5, retriever="hybrid").passages for q in questions]

    fp32 = Reader(args.reader, settings.model, precision="fp32")
    fp32.warm_up()
    bf16 = Reader(args.reader, settings.model, precision="bf16")
    bf16.warm_up()
    int8 = Reader(args.reader, settings.model, precision="fp32")
    int8.warm_up()
    int8._model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(fp32._model), {torch.nn.Linear},
                                                         dtype=torch.qint8)
    bf16w = Reader(args.reader, settings.model, precision="bf16")
    bf16w.warm_up()
    bf16w._model = copy.deepcopy(fp32._model).to(torch.bfloat16)
    readers = {"fp32": fp32, "bf16": bf16, "bf16w": bf16w, "int8": int8}
    # ONNX Runtime fixes its thread count when a session is made: one reader per kind and thread count.
    for kind, path in export_onnx(fp32._model, {"ort", "ort8"} & set(args.kinds)).items():
        for threads in args.threads:
            ort_reader = Reader(args.reader, settings.model, precision="fp32")
            ort_reader.warm_up()
            ort_reader._model = OnnxModel(path, threads)
            readers[kind, threads] = ort_reader

    variants = {f"{kind} {threads}t {n}p": (readers.get((kind, threads)) or readers[kind], threads, n)
                for kind in args.kinds for threads in args.threads for n in args.passages}

    def read(reader, threads: int, question: str, ps):
        torch.set_num_threads(threads)
        return reader.answer_many([(question, ps)])[0][0]

    seconds = {name: [] for name in variants}
    texts: dict[str, list[str | None]] = {name: [] for name in variants}
    for reader, threads, n in variants.values():  # one untimed pass each: first calls allocate
        read(reader, threads, questions[0].question, passages[0][:n])
    for q, ps in zip(questions, passages):
        for name, (reader, threads, n) in variants.items():
            t = time.perf_counter()
            answer = read(reader, threads, q.question, ps[:n])
            seconds[name].append(time.perf_counter() - t)
            texts[name].append(answer.text if answer else None)

    gold = [q.answers if q.answerable else () for q in questions]
    answerable = sum(q.answerable for q in questions)
    print(f"{len(questions)} questions ({answerable} answerable) from {', '.join(str(s) for s in args.sets)}; "
          f"reader {args.reader}; variant = weights, torch threads, passages read")
    print(f"{'variant':14s} {'p50 ms':>8s} {'p95 ms':>8s} {'EM':>6s} {'F1':>6s} {'null':>5s}")
    for name in variants:
        ms = np.array(seconds[name]) * 1000
        em = np.mean([best_over_gold(exact_match, t, g) for t, g in zip(texts[name], gold)])
        f = np.mean([best_over_gold(f1, t, g) for t, g in zip(texts[name], gold)])
        nulls = sum(t is None for t in texts[name])
        print(f"{name:14s} {np.percentile(ms, 50):8.1f} {np.percentile(ms, 95):8.1f} {em:6.3f} {f:6.3f} {nulls:5d}")


def export_onnx(model, kinds: set[str]) -> dict[str, str]:
    """Of ``kinds``, the reader's fp32 weights as ONNX (ort) and that file's int8 dynamic quantisation
    (ort8), in a temporary folder: kind -> file."""
    if not kinds:
        return {}
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(tempfile.mkdtemp(prefix="reader-onnx-"))
    fp32, int8 = str(folder / "reader.onnx"), str(folder / "reader.int8.onnx")
    ids = torch.ones((2, 16), dtype=torch.long)
    names = ["input_ids", "type_ids", "attention_mask", "start", "end"]
    torch.onnx.export(model, (ids, torch.zeros_like(ids), ids), fp32, input_names=names[:3], output_names=names[3:],
                      dynamic_axes={n: {0: "windows", 1: "tokens"} for n in names}, opset_version=17, dynamo=False)
    if "ort8" in kinds:
        # Per channel: one scale per output row. On dev 1-4 it lost 0.016 EM to fp32, where
        # one scale per matrix lost 0.074.
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)
    return {kind: {"ort": fp32, "ort8": int8}[kind] for kind in kinds}


class OnnxModel:
    """An ONNX Runtime session in the place of the torch model: same call, same outputs."""

    def __init__(self, path: str, threads: int) -> None:
        import onnxruntime as ort
        import torch

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self._device = torch.zeros(1)  # read_pairs asks the model's parameters for the device

    def parameters(self):
        yield self._device

    def __call__(self, ids, types, mask):
        import torch

        start, end = self.session.run(None, {"input_ids": ids.numpy(), "type_ids": types.numpy(),
                                             "attention_mask": mask.numpy()})
        return torch.from_numpy(start), torch.from_numpy(end)


if __name__ == "__main__":
    main()
