"""The training recipe: its settings and what they do to a batch, the learning rate and the
test set, with no state of a run (that is :class:`.trainer.Trainer`'s).

:class:`TrainConfig` is the config's ``train:`` section; :func:`learning_rate` the rate of a step
(He et al.'s step schedule or a cosine, with either warm-up); :func:`augment` the pad-and-crop
and flip of a whole batch on its device; :func:`evaluate` the loss and error of a split in eval
mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..data.normalise import Normaliser


@dataclass(frozen=True)
class TrainConfig:
    """The training recipe: the ``train:`` section of the config, whole, plus the run's seed.

    Every field is documented (with its range) in ``workflow/schemas/config.schema.yaml``, which
    validates it before any job; ``config.yaml`` holds the values. Nothing here has a default, so
    no second copy of a value can drift from those two files.
    """

    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    lr_schedule: str  # "step" (He et al.'s milestones) or "cosine" (annealed to 0)
    lr_milestones: tuple[float, ...]
    milestone_unit: str  # "epoch", "iteration" or "fraction" (of the whole run)
    lr_gamma: float
    warmup_epochs: float  # the gradual warm-up (Goyal et al. 2017); 0 = none
    warmup_lr: float  # He et al.'s constant warm-up of very deep nets ...
    warmup_until_train_err: float  # ... until the training error falls below this ...
    warmup_min_depth: int  # ... for depths from this one up
    crop_padding: int
    flip: bool
    eval_batch_size: int
    eval_every: int  # epochs between evaluations of the test set; 0: the last epoch only
    trace_every: int  # steps between per-layer gradient-norm records; 0 turns it off
    snapshot_epochs: tuple[int, ...]  # the final epoch is always snapshotted
    precision: str  # auto (bf16 on CUDA, fp32 on the CPU), fp32 or bf16
    seed: int

    @classmethod
    def from_config(cls, section: dict[str, Any], seed: int) -> TrainConfig:
        """The recipe from the config's ``train:`` section (lists become tuples)."""
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
        return cls(**values, seed=seed)


def augment(x: torch.Tensor, padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random pad-and-crop and horizontal flip of a whole batch, on its own device.

    Each image gets its own offset and flip from ``generator``; zero padding as in He et al.
    """
    batch, _, height, width = x.shape
    if padding > 0:
        padded = F.pad(x, (padding, padding, padding, padding))
        dy = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=x.device)
        dx = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=x.device)
        rows = (dy[:, None] + torch.arange(height, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(width, device=x.device))[:, None, None, :]
        idx = torch.arange(batch, device=x.device)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[idx, chans, rows, cols]
    if flip:
        mask = torch.rand(batch, generator=generator, device=x.device) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


def learning_rate(cfg: TrainConfig, step: int, steps_per_epoch: int, warming_up: bool) -> float:
    """The rate for optimisation step ``step`` (0-based).

    ``warming_up`` is He et al.'s constant warm-up of very deep nets (``warmup_lr`` until the
    training error falls below ``warmup_until_train_err``); ``warmup_epochs`` is the gradual one.
    """
    if warming_up:
        return cfg.warmup_lr
    total = cfg.epochs * steps_per_epoch
    warmup = round(cfg.warmup_epochs * steps_per_epoch)
    if step < warmup:
        return cfg.lr * (step + 1) / warmup
    if cfg.lr_schedule == "cosine":
        progress = (step - warmup) / max(1, total - warmup)
        return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    position = {
        "iteration": step,
        "epoch": step / steps_per_epoch,
        "fraction": step / total,
    }[cfg.milestone_unit]
    drops = sum(1 for m in cfg.lr_milestones if position >= m)
    return cfg.lr * cfg.lr_gamma**drops


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    normalise: Normaliser,
    batch_size: int,
    autocast: Callable[[], Any],
) -> tuple[float, float]:
    """Mean cross-entropy and error rate over a whole split, in eval mode, in large batches."""
    was_training = model.training
    model.eval()
    loss_sum, wrong = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = normalise(x[start : start + batch_size]), y[start : start + batch_size]
        with autocast():
            logits = model(xb)
        loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum").item()
        wrong += (logits.argmax(1) != yb).sum().item()
    model.train(was_training)
    return loss_sum / len(x), wrong / len(x)
