"""The reader's training loop: AdamW with warm-up and linear decay, length-grouped batches, bf16
autocast where the hardware has it, checkpoints that ``--resume`` continues from."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from ..answer.model import WORD_EMBEDDINGS, SpanReader
from ..answer.precision import bf16_available
from ..answer.windows import pad_batch
from .recipe import Recipe
from .windows import TrainWindow


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def freeze(model: SpanReader, frozen_layers: int) -> None:
    for name, p in model.named_parameters():
        layer = name.split("encoder.encoder.layer.")
        if name == WORD_EMBEDDINGS:
            p.requires_grad = False
        elif len(layer) == 2 and int(layer[1].split(".")[0]) < frozen_layers:
            p.requires_grad = False


def batches(windows: list[TrainWindow], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length (less padding): shuffle, sort each run of 50 batches by
    length, cut, shuffle the batches."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(windows)))
    rng.shuffle(order)
    chunk = batch_size * 50
    out: list[list[int]] = []
    for i in range(0, len(order), chunk):
        part = sorted(order[i:i + chunk], key=lambda j: len(windows[j].window))
        out.extend(part[k:k + batch_size] for k in range(0, len(part), batch_size))
    rng.shuffle(out)
    return out


def _tensors(windows: list[TrainWindow], device: torch.device):
    ids, types, mask = pad_batch([w.window for w in windows])
    starts = torch.tensor([w.start for w in windows])
    ends = torch.tensor([w.end for w in windows])
    return (torch.from_numpy(ids).to(device), torch.from_numpy(types).to(device), torch.from_numpy(mask).to(device),
            starts.to(device), ends.to(device))


def train(model: SpanReader, windows: list[TrainWindow], recipe: Recipe, checkpoint_dir: Path,
          device: torch.device, resume: bool = False, checkpoint_minutes: float = 10.0,
          log=print, stop_at_step: int | None = None) -> SpanReader:
    """Train in place and return the model. A checkpoint (model, optimiser, schedule, step) is written
    every ``checkpoint_minutes``, at the end, and on Ctrl+C; ``resume`` continues from the last one.
    ``stop_at_step`` ends the run early with a checkpoint, as an interruption would."""
    torch.manual_seed(recipe.seed)
    freeze(model, recipe.frozen_layers)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.requires_grad and p.ndim <= 1]
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": recipe.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=recipe.learning_rate)
    per_epoch = math.ceil(len(windows) / recipe.batch_size)
    total = max(1, int(per_epoch * recipe.epochs))
    warm = max(1, int(total * recipe.warmup))

    def lr_at(step: int) -> float:
        return step / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lr_at)
    step = 0
    ckpt = checkpoint_dir / "checkpoint.pt"
    if resume and ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        step = int(state["step"])
        # Dropout draws from here: restoring it makes a resumed run the same as an uninterrupted one.
        torch.set_rng_state(state["rng"])
        log(f"resumed from {ckpt} at step {step}/{total}")

    def save() -> None:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(), "step": step, "recipe": asdict(recipe),
                    "rng": torch.get_rng_state()}, tmp)
        tmp.replace(ckpt)

    autocast = bf16_available(device)
    loss_fn = nn.CrossEntropyLoss()
    from tqdm import tqdm

    end = total if stop_at_step is None else min(total, stop_at_step)
    bar = tqdm(total=total, initial=step, unit="step", file=sys.stderr, dynamic_ncols=True, mininterval=2.0)
    started, last_save, seen, running = time.time(), time.time(), 0, None
    try:
        while step < end:
            epoch = step // per_epoch
            for b in batches(windows, recipe.batch_size, recipe.seed, epoch)[step - epoch * per_epoch:]:
                if step >= end:
                    break
                ids, types, mask, starts, ends = _tensors([windows[i] for i in b], device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
                    start_logits, end_logits = model(ids, types, mask)
                loss = (loss_fn(start_logits, starts) + loss_fn(end_logits, ends)) / 2
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimiser.step()
                schedule.step()
                step += 1
                seen += len(b)
                running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
                rate = seen / (time.time() - started)
                bar.set_postfix(loss=f"{running:.3f}", win_s=f"{rate:.1f}", refresh=False)
                bar.update(1)
                if step % 200 == 0:
                    eta = (total - step) * recipe.batch_size / max(rate, 1e-9)
                    log(json.dumps({"step": step, "of": total, "loss": round(running, 4),
                                    "windows_per_s": round(rate, 2), "lr": schedule.get_last_lr()[0],
                                    "eta_min": round(eta / 60, 1)}))
                if time.time() - last_save > checkpoint_minutes * 60:
                    save()
                    last_save = time.time()
    except KeyboardInterrupt:
        save()
        log(f"interrupted at step {step}/{total}: checkpoint saved, continue with --resume")
        raise
    finally:
        bar.close()
    save()
    model.eval()
    return model
