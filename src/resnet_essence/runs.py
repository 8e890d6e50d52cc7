"""What a train job writes for one run: metrics, trace, snapshots, final weights and, last,
its summary (whose presence means the run is complete), each file checksummed in the summary
for the rules that read them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from .files import atomic_path, file_record, write_csv, write_json
from .training import RunState, Trainer

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
        "%s: %s after %d epochs, train_err %.4f test_err %.4f",
        label(ids),
        state.status,
        state.epoch,
        summary["final_train_err"],
        summary["final_test_err"],
    )
    return summary
