"""Where the answerer loses the evidence: for each eval set, how often the evidence sentence is the
best-scoring sentence of the top five passages (before any span rule), among the best three, and
how often the sentence of the final answer holds it. A final figure below the top-1 figure means the
span rules pull answers away from the best sentence.

    .venv/bin/python scripts/answer_sentences.py eval/questions.jsonl eval/holdout.jsonl eval/holdout2.jsonl
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag import Assistant  # noqa: E402
from rag.answer.rules.text import analyse  # noqa: E402
from rag.evaluate.sets import evidence_spans, load_eval_set, sentence_correct  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--index-dir", default=None)
    args = parser.parse_args()
    assistant = Assistant.load(args.index_dir)
    answerer = assistant.answerer
    print(f"{'set':24s} {'questions':>9s} {'top-1 sentence':>15s} {'top-3':>6s} {'answer sentence':>16s}")
    for path in args.sets:
        questions = [q for q in load_eval_set(path) if q.answerable]
        top1 = top3 = final = 0
        for q in questions:
            result = assistant.ask(q.question)
            passages = result.passages[:assistant.read_passages]
            spans = evidence_spans(assistant.document(q.doc_id).text, q.evidence)
            parsed = analyse(q.question)
            stems = list(dict.fromkeys(parsed.stems))
            scored = sorted(answerer.score_sentences(parsed, stems, passages), key=lambda s: -s.score)
            hits = [i for i, s in enumerate(scored)
                    if s.sent.doc_id == q.doc_id and any(s.sent.start < e and b < s.sent.end for b, e in spans)]
            top1 += bool(hits and hits[0] == 0)
            top3 += bool(hits and hits[0] < 3)
            final += sentence_correct(result, q, spans)
        n = len(questions) or 1
        print(f"{path.name:24s} {len(questions):9d} {top1 / n:15.3f} {top3 / n:6.3f} {final / n:16.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
