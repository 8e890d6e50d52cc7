"""What a train job writes for one run: metrics, trace, snapshots, final weights and, last,
its summary (whose presence means the run is complete), each file checksummed in the summary
for the rules that read them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from ..files import atomic_path, file_record, read_json, verify, write_csv, write_json
from ..nets.resnet import spec_from_dict
from .packed import PackedTrainer
from .trainer import RunState, TrainConfig, Trainer, resolve_device

log = logging.getLogger(__name__)
TRACE_COLUMNS = ["step", "epoch", "layer_index", "layer", "weight_grad_norm"]
RUN_FILES = ("metrics", "trace", "snapshots", "model")


def label(ids: dict) -> str:
    """How log lines name a run: two jobs may share one stream."""
    if "variant" in ids:
        net = f"{ids['variant']}-b{ids['width']}"
    else:
        net = f"{ids['arch']}-{ids['depth']}" + (f"-w{ids['width']}" if "width" in ids else "")
    return f"{net} seed {ids['seed']}"


def metrics_writer(outputs: dict[str, str | Path]) -> Callable[[RunState], None]:
    """Rewrite the run's metrics after every epoch, so a long run can be followed."""
    return lambda state: write_csv(outputs["metrics"], pd.DataFrame(state.metrics))


def save_run(trainer: Trainer, ids: dict, dataset: str, outputs: dict[str, str | Path]) -> dict:
    """Write a finished run's files (``outputs``: one path per name of RUN_FILES and
    ``summary``), the summary last; remove its checkpoint. Returns the summary."""
    state = trainer.state
    summary = {**ids, **trainer.summary(), "dataset": dataset}
    summary["final_train_err_eval"] = trainer.clean_train_error()
    write_csv(outputs["metrics"], pd.DataFrame(state.metrics))
    write_csv(outputs["trace"], pd.DataFrame(trainer.trace_rows(), columns=TRACE_COLUMNS))
    with atomic_path(outputs["snapshots"]) as tmp:
        torch.save({"spec": summary["spec"], "snapshots": state.snapshots}, tmp)
    with atomic_path(outputs["model"]) as tmp:
        torch.save({"spec": summary["spec"], "state_dict": trainer.cpu_weights()}, tmp)
    summary["files"] = {name: file_record(outputs[name]) for name in RUN_FILES}
    write_json(outputs["summary"], summary)  # last: its presence means the run is complete
    trainer.remove_checkpoint()
    log.info(
        "%s: %s after %d epochs, train_err %.4f (eval mode %.4f) test_err %.4f",
        label(ids),
        state.status,
        state.epoch,
        summary["final_train_err"],
        summary["final_train_err_eval"],
        summary["final_test_err"],
    )
    return summary


def train_runs(data, runs: list[dict], spec: dict, recipe: dict, job: dict, files: list[dict]):
    """Train every run of one job and write its files: packed into one net (``job["pack"]``,
    more than one run) or one after another. ``runs``: each run's ids and checkpoint path;
    ``spec``: the net (models.NetSpec or BottleneckSpec values, the data's classes and channels
    added here); ``recipe``: config ``train:``; ``files``: each run's output paths by name.
    A SIGTERM ends it with training.Interrupted once every checkpoint is written."""
    spec = spec_from_dict({**spec, "num_classes": data.num_classes, "in_channels": data.channels})
    splits = ("x_train", "y_train", "x_test", "y_test")
    tensors = {name: torch.from_numpy(getattr(data, name)) for name in splits}
    # what a checkpoint must match to be resumed: the data by name, size and image shape
    info = {"name": data.name, "train": len(data.x_train), "test": len(data.x_test)}
    info["shape"] = list(data.x_train.shape[1:])
    device = resolve_device(job["device"])
    cfgs = [TrainConfig.from_config(recipe, seed=int(run["ids"]["seed"])) for run in runs]
    labels = [label(run["ids"]) for run in runs]
    if job["pack"] and len(runs) > 1:
        checkpoints = [run["checkpoint"] for run in runs]
        writers = [metrics_writer(f) for f in files]
        packed = PackedTrainer(spec, cfgs, tensors, device, checkpoints, info, labels, writers)
        log.info(
            "%s: %d seeds packed, %d parameters each",
            labels[0],
            len(runs),
            packed.trainers[0].n_parameters,
        )
        packed.run()
        for trainer, run, f in zip(packed.trainers, runs, files, strict=True):
            save_run(trainer, run["ids"], data.name, f)
        return
    for cfg, run, name, f in zip(cfgs, runs, labels, files, strict=True):
        trainer = Trainer(
            spec,
            cfg,
            tensors,
            device,
            run["checkpoint"],
            info,
            compile_model=job["compile"],
            label=name,
            on_epoch=metrics_writer(f),
        )
        log.info("%s: %d parameters on %s", name, trainer.n_parameters, trainer.device)
        trainer.run()
        save_run(trainer, run["ids"], data.name, f)


def read_snapshots(snapshots_path, summary_path, rule: str) -> tuple[dict, object, dict]:
    """(summary, spec, {epoch: weights}) of one finished run, its snapshot file first checked
    against the size and SHA-256 its ``rule`` job wrote in the summary."""
    summary = read_json(summary_path)
    verify(snapshots_path, summary.get("files", {}).get("snapshots"), rule)
    # weights_only: tensors and plain containers only, a tampered file cannot run code
    saved = torch.load(snapshots_path, map_location="cpu", weights_only=True)
    return summary, spec_from_dict(saved["spec"]), saved["snapshots"]
