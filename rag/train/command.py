"""``rag train-reader``: data -> windows -> training -> validation + calibration -> the shipped reader
folder (weights, reader.json; the model card is written from reader.json by ``rag.train.card``)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import torch

from ..answer.model import ReaderConfig, SpanReader, save_reader
from ..answer.precision import bf16_available
from ..answer.reader import Reader
from ..answer.windows import load_tokenizer
from ..errors import UserError
from .card import write_card
from .data import TRAIN_FILES, VALIDATION_FILES, load_split
from .loop import pick_device, train
from .recipe import Recipe
from .validate import validate
from .windows import training_windows


def run(data_dir: Path, out_dir: Path, work_dir: Path, recipe: Recipe, base_dir: Path, resume: bool = False,
        device_name: str = "auto", max_validation: int = 0, init: Path | None = None) -> dict:
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / "train.log"

    def log(line: str) -> None:
        stamped = f"{time.strftime('%H:%M:%S')} {line}"
        print(stamped, flush=True)
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(stamped + "\n")

    device = pick_device(device_name)
    if device.type == "cpu" and not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(os.cpu_count() or 1)
    # A bad --init fails before minutes of data preparation. The new head's initial weights come from
    # the seed too, so it is set before the model is made.
    torch.manual_seed(recipe.seed)
    earlier: dict = {}
    if init is None:
        model = SpanReader.from_base(base_dir)
    else:
        from ..answer.model import load_reader

        try:
            model, init_config = load_reader(init, base_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise UserError(f"--init {init}: not a trained reader folder ({exc})") from None
        if (init_config.max_length, init_config.stride) != (recipe.max_length, recipe.stride):
            raise UserError(f"--init {init} reads {init_config.max_length}-token windows with stride "
                            f"{init_config.stride}; pass the same --max-length and --stride")
        # The stages before this one, oldest first, for the model card.
        earlier_stages = init_config.training.get("stages", [])
        stage = {k: v for k, v in init_config.training.items() if k != "stages"}
        earlier = {"stages": earlier_stages + [stage]}
        log(f"starting from {init} ({len(earlier['stages'])} earlier stage(s) of training)")
    started = time.time()
    train_set, validation_set = load_split(data_dir)
    if recipe.max_examples:
        import random

        random.Random(recipe.seed).shuffle(train_set)
        train_set = train_set[:recipe.max_examples]
    if recipe.qamr:
        import random

        from .qamr import load_qamr

        qamr = load_qamr(data_dir / "qamr")
        train_set = train_set + random.Random(recipe.seed).sample(qamr, min(recipe.qamr, len(qamr)))
    if max_validation:
        import random

        validation_set = random.Random(recipe.seed).sample(validation_set, min(max_validation, len(validation_set)))
    tokenizer = load_tokenizer(base_dir)
    windows = training_windows(tokenizer, train_set, recipe.max_length, recipe.stride,
                               recipe.negatives_per_question, recipe.seed, recipe.other_passages,
                               recipe.distractor_passages)
    negatives = sum(w.start == 0 for w in windows)
    log(f"recipe {json.dumps(asdict(recipe))}")
    log(f"device {device} bf16 {bf16_available(device)}; {len(train_set)} training questions -> {len(windows)} "
        f"windows ({negatives} without an answer); {len(validation_set)} validation questions; "
        f"prepared in {time.time() - started:.0f} s")
    t = time.time()
    train(model, windows, recipe, work_dir, device, resume=resume, log=log)
    train_seconds = time.time() - t
    config = ReaderConfig(max_length=recipe.max_length, stride=recipe.stride)
    model.to(device)
    t = time.time()
    v = validate(Reader.from_model(model, tokenizer, config), validation_set)
    log(f"validation ({time.time() - t:.0f} s) {json.dumps(asdict(v))}")
    config.training = {
        "recipe": asdict(recipe), "train_files": list(TRAIN_FILES) + (["qamr"] if recipe.qamr else []),
        "validation_files": list(VALIDATION_FILES),
        "train_questions": len(train_set), "train_windows": len(windows), "device": _describe(device),
        "train_minutes": round(train_seconds / 60, 1), "validation": asdict(v), **earlier,
    }
    save_reader(model.cpu(), config, out_dir)
    write_card(out_dir)
    log(f"saved the reader to {out_dir} ({(out_dir / 'reader.safetensors').stat().st_size / 1e6:.1f} MB); "
        f"total {(time.time() - started) / 60:.1f} min")
    return config.training


def _describe(device: torch.device) -> str:
    if device.type == "cpu":
        return f"cpu ({os.cpu_count()} cores{', bf16 autocast' if bf16_available(device) else ''})"
    return f"{device.type} ({torch.cuda.get_device_name(device)}{', bf16' if bf16_available(device) else ''})"


def revalidate(data_dir: Path, reader_dir: Path, base_dir: Path, max_validation: int = 0, seed: int = 13) -> dict:
    """Validate and re-calibrate a trained reader in place (its reader.json gets the new calibration,
    threshold and figures); the weights are not touched."""
    import random

    from ..answer.model import CONFIG_FILE, load_reader

    _, validation_set = load_split(data_dir)
    if max_validation:
        validation_set = random.Random(seed).sample(validation_set, min(max_validation, len(validation_set)))
    model, config = load_reader(reader_dir, base_dir)
    t = time.time()
    v = validate(Reader.from_model(model, load_tokenizer(base_dir), config), validation_set)
    print(f"validation ({time.time() - t:.0f} s) {json.dumps(asdict(v))}", flush=True)
    config.training["validation"] = asdict(v)
    config.save(reader_dir / CONFIG_FILE)
    write_card(reader_dir)
    return config.training


def run_from_args(args) -> int:
    from dataclasses import fields

    from ..settings import default_model

    recipe = Recipe(**{f.name: getattr(args, f.name) for f in fields(Recipe)})
    if not args.data.is_dir():
        raise UserError(f"no training data at {args.data}: point --data at a folder of SQuAD 2.0-format files")
    if args.export_validation:
        from ..squad_format import write_squad

        write_squad(load_split(args.data)[1], args.export_validation)
        print(f"wrote the validation split to {args.export_validation}")
        return 0
    if not 0 <= args.absent_paragraphs < 1:
        raise UserError(f"--absent-paragraphs is a share of paragraphs, from 0 up to 1, not {args.absent_paragraphs}")
    if args.fit_decision:
        from ..settings import Settings
        from .decide import run as fit_decision

        fit_decision(args.data, args.out, Path(default_model()), Settings.from_env(), args.use_run_cache,
                     limit=args.max_validation, paragraph_share=args.absent_paragraphs)
        return 0
    if args.validate_only:
        revalidate(args.data, args.out, Path(default_model()), args.max_validation, recipe.seed)
        return 0
    run(args.data, args.out, args.work, recipe, Path(default_model()), resume=args.resume,
        device_name=args.device, max_validation=args.max_validation, init=args.init)
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    from .options import add_arguments

    p = argparse.ArgumentParser(prog="rag train-reader", description=__doc__)
    add_arguments(p)
    return run_from_args(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
