"""``rag train-reader --fit-decision``: fit the answer decision (rag/answer/decision.py) of a trained
reader on the validation run that looks like use (rag/train/use_run.py), choose its threshold there,
and write it into the reader's reader.json, with the report half's figures beside today's."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from pathlib import Path

from ..answer.decision import DECISION_FEATURES
from ..tables import cell, text_table
from . import use_run

DEFAULT_CACHE = Path(".cache/use-run")
L2_CHOICES = (0.1, 1.0, 10.0)


def _records_path(cache: Path, reader_dir: Path, passages: int, limit: int, paragraph_share: float = 0.0) -> Path:
    """The candidates depend on the weights, the passages read and the sample: one file per combination."""
    digest = hashlib.sha1()
    with open(reader_dir / "reader.safetensors", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(f"{passages}/{limit}".encode())
    if paragraph_share:
        digest.update(f"/paragraphs {paragraph_share}".encode())
    return cache / f"records-{digest.hexdigest()[:12]}.json"


def records_for(data_dir: Path, reader, settings, cache: Path, limit: int = 0,
                paragraph_share: float = 0.0) -> list[use_run.Record]:
    reader.warm_up()
    passages = reader.passages if settings.answer_passages is None else settings.answer_passages
    path = _records_path(cache, Path(reader.reader_dir), passages, limit, paragraph_share)
    if path.is_file():
        return use_run.load_records(path)
    records = use_run.collect(data_dir, reader, settings, cache, limit=limit, paragraph_share=paragraph_share)
    use_run.save_records(records, path)
    return records


FIGURE_COLUMNS = [("answerable F1", "answerable_f1"), ("EM", "answerable_em"), ("answerable null %", "answerable_null"),
                  ("F1 answered", "answered_f1"), ("absent abstained %", "absent_abstained"),
                  ("same-topic absent abstained %", "absent_paragraph_abstained"),
                  ("SQuAD2 unanswerable abstained %", "unanswerable_abstained"), ("score", "score"),
                  ("threshold", "threshold")]


def figure_table(rows: dict[str, dict[str, float]]) -> str:
    return text_table(["on the report half"] + [c for c, _ in FIGURE_COLUMNS],
                      [[name] + [cell(fig[key], 3 if key == "threshold" else 1) for _, key in FIGURE_COLUMNS]
                       for name, fig in rows.items()])


def fit_and_report(records: list[use_run.Record], stored_threshold: float,
                   paragraph_share: float = 0.0) -> tuple[use_run.Decision, dict]:
    """Choose L2 by article-grouped cross-validation on the fit half, fit there, report on the other."""
    fit_half = [r for r in records if r.half == "fit"]
    report = [r for r in records if r.half == "report"]
    cv = {l2: use_run.cross_validated_score(fit_half, DECISION_FEATURES, l2=l2) for l2 in L2_CHOICES}
    l2 = max(cv, key=lambda k: cv[k])
    decision = use_run.fit(fit_half, DECISION_FEATURES, l2)
    margin = use_run.choose_by_margin(report)
    chosen = use_run.choose_by_decision(report, decision)
    margin_fit = use_run.pick_threshold(fit_half, use_run.choose_by_margin(fit_half))
    rows = {
        "reader margin, its threshold (today)": use_run.figures(report, margin, stored_threshold),
        "reader margin, threshold re-chosen here": use_run.figures(report, margin, margin_fit),
        "decision (both stages' features)": use_run.figures(report, chosen, decision.threshold),
    }
    ece, curve = use_run.calibration_of(report, chosen)
    ece_margin, _ = use_run.calibration_of(report, margin)
    counts = {kind: n for kind in use_run.KINDS if (n := sum(r.kind == kind for r in report))}
    decision.fitted = {
        "run": "validation split articles + fairytaleqa-test distractors, "
               f"{int(use_run.ABSENT_SHARE * 100)}% of articles left out of the index"
               + (f", and {paragraph_share:.0%} of the indexed articles' paragraphs" if paragraph_share else ""),
        "fit_questions": len(fit_half), "report_questions": len(report), "report_kinds": counts,
        "l2": l2, "cross_validated_score": {str(k): round(v, 2) for k, v in cv.items()},
        "report": rows, "ece": ece, "ece_margin": ece_margin, "reliability": curve,
        "gold_in_passages": 100 * sum(r.hit for r in report if r.kind == "answerable")
        / max(counts.get("answerable", 0), 1),
        "ceilings": use_run.ceilings(report),
    }
    return decision, rows


def run(data_dir: Path, reader_dir: Path, base_dir: Path, settings, cache: Path = DEFAULT_CACHE,
        limit: int = 0, write: bool = True, paragraph_share: float = 0.0) -> dict:
    from ..answer.model import CONFIG_FILE
    from ..answer.reader import Reader
    from .card import write_card

    started = time.time()
    reader = Reader(reader_dir, base_dir, precision=settings.reader_precision)
    records = records_for(data_dir, reader, settings, cache, limit, paragraph_share)
    decision, rows = fit_and_report(records, reader.config.threshold, paragraph_share)
    print(figure_table(rows))
    f = decision.fitted
    print(f"\nreport half: {f['report_questions']} questions ({f['report_kinds']}); fit half {f['fit_questions']}; "
          f"L2 {f['l2']} (article-grouped CV score on the fit half: {f['cross_validated_score']}); "
          f"ECE of the chosen answers {100 * f['ece']:.1f}% (margin calibration {100 * f['ece_margin']:.1f}%); "
          f"gold answer in the passages read {f['gold_in_passages']:.1f}%; {time.time() - started:.0f} s")
    c = f["ceilings"]
    print(f"ceilings of answerable F1 on the report half: the reader's answer never withheld (what a perfect "
          f"decision reaches) {c['never_null_f1']:.1f}; the best of its {use_run.CANDIDATES} candidates always chosen "
          f"{c['best_candidate_f1']:.1f}")
    if write:
        config = reader.config
        config.decision = decision.to_dict()
        config.save(reader_dir / CONFIG_FILE)
        write_card(reader_dir)
        print(f"wrote the decision into {reader_dir / CONFIG_FILE}")
    return json.loads(json.dumps(asdict(decision)))
