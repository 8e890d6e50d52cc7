"""The report's Setup section: what the run trained and how (dataset, nets, seeds, the training
schedule in words), the versions and hardware it ran on, and the wall time of each stage.
"""

from __future__ import annotations

import pandas as pd


def setup_list(cfg: dict, setup: dict) -> str:
    """The Setup section's list: the run's config ``cfg`` in words, and ``setup``'s versions
    (dict) and hardware (str)."""
    train, model = cfg.get("train", {}), cfg.get("model", {})
    schedule = lr_schedule(train)
    items = [
        f"dataset `{cfg.get('dataset')}`; archs {cfg.get('archs')}; depths {cfg.get('depths')}; "
        f"seeds {cfg.get('seeds')}; device `{cfg.get('device')}`",
        f"training: {train.get('epochs')} epochs, batch {train.get('batch_size')}, lr "
        f"{train.get('lr')} ({schedule}), momentum {train.get('momentum')}, weight decay "
        f"{train.get('weight_decay')}, crop padding {train.get('crop_padding')}, flips "
        f"{train.get('flip')}",
        f"network: width {model.get('width')}, shortcut option {model.get('shortcut')}, norm "
        f"{model.get('norm')}, residual nets initialised {model.get('init', 'he')} (plain nets "
        "and every row at epoch 0: He)",
        "versions: " + ", ".join(f"{k} {v}" for k, v in setup["versions"].items()),
        f"hardware: {setup['hardware']}",
    ]
    return "\n".join(f"- {item}" for item in items)


def lr_schedule(train: dict) -> str:
    """The learning-rate schedule of config ``train:`` in words (training.learning_rate)."""
    warmup = train.get("warmup_epochs") or 0
    ramp = f" after a {warmup:g}-epoch linear warm-up" if warmup else ""
    if train.get("lr_schedule") == "cosine":
        return f"cosine decay{ramp}"
    milestones = list(train.get("lr_milestones") or [])
    if not milestones:
        return f"constant{ramp}"
    unit = {"iteration": "iterations", "epoch": "epochs", "fraction": "of the schedule"}
    at = ", ".join(f"{m:g}" for m in milestones)
    where = unit.get(train.get("milestone_unit"), train.get("milestone_unit"))
    return f"×{train.get('lr_gamma'):g} at {at} {where}{ramp}"


def stage_times(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Wall time per rule from Snakemake benchmark rows (columns ``rule`` and ``s``)."""
    if benchmarks.empty:
        return pd.DataFrame(columns=["stage", "jobs", "total s", "longest s"])
    grouped = benchmarks.groupby("rule", sort=False)["s"]
    return pd.DataFrame(
        {
            "stage": list(grouped.groups),
            "jobs": grouped.size().to_numpy(),
            "total s": [f"{v:.1f}" for v in grouped.sum()],
            "longest s": [f"{v:.1f}" for v in grouped.max()],
        }
    )
