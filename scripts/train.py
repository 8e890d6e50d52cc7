"""Rules train (one network, one seed) and train_bottleneck (one small network, every seed).

Writes per-epoch metrics (rewritten after every epoch, so a long run can be followed), the
gradient trace, weight snapshots and the final weights; ``summary.json`` last, since its presence
means the run is complete. Resumes from ``checkpoint.pt`` beside the outputs (not a declared
output, so Snakemake leaves it alone after a kill). Run it through Snakemake, e.g.
``snakemake --cores 1 results/runs/digits/residual-20/seed0/summary.json``.
"""

import logging

import pandas as pd
import torch

from resnet_essence.data import read_dataset
from resnet_essence.files import atomic_path, file_record, write_csv, write_json
from resnet_essence.models import spec_from_dict
from resnet_essence.scripting import guard_shell, run_main, setup_logging
from resnet_essence.training import Interrupted, TrainConfig, Trainer, resolve_device

log = logging.getLogger("train")
TRACE_COLUMNS = ["step", "epoch", "layer_index", "layer", "weight_grad_norm"]


def train_all(data_path, info_path, runs, spec, recipe, job, outputs) -> None:
    """Each run in ``runs`` (its ids and checkpoint) in turn; ``outputs`` maps each output name
    to one path per run."""
    torch.set_num_threads(job["threads"])
    data = read_dataset(data_path, info_path)
    for index, run in enumerate(runs):
        files = {name: paths[index] for name, paths in outputs.items()}
        train(data, run["ids"], spec, recipe, job, files, run["checkpoint"])


def train(data, ids, spec, recipe, job, outputs, checkpoint) -> None:
    spec = spec_from_dict({**spec, "num_classes": data.num_classes, "in_channels": data.channels})
    cfg = TrainConfig.from_config(recipe, seed=int(ids["seed"]))
    net = f"{ids['arch']}-{ids['depth']}" if "arch" in ids else f"{ids['variant']}-b{ids['width']}"
    label = f"{net} seed {ids['seed']}"  # two jobs may write to one stream: say which run
    splits = ("x_train", "y_train", "x_test", "y_test")
    trainer = Trainer(
        spec,
        cfg,
        {name: torch.from_numpy(getattr(data, name)) for name in splits},
        resolve_device(job["device"]),
        checkpoint,
        data_info={"name": data.name, "train": len(data.x_train), "test": len(data.x_test)},
        compile_model=job["compile"],
        label=label,
        on_epoch=lambda state: write_csv(outputs["metrics"], pd.DataFrame(state.metrics)),
    )
    log.info("%s: %d parameters on %s", label, trainer.n_parameters, trainer.device)
    try:
        state = trainer.run()
    except Interrupted as stop:
        log.error("%s", stop)
        raise SystemExit(143) from stop
    summary = {**ids, **trainer.summary(), "dataset": data.name}
    write_csv(outputs["metrics"], pd.DataFrame(state.metrics))
    write_csv(outputs["trace"], pd.DataFrame(trainer.trace_rows(), columns=TRACE_COLUMNS))
    with atomic_path(outputs["snapshots"]) as tmp:
        torch.save({"spec": summary["spec"], "snapshots": state.snapshots}, tmp)
    with atomic_path(outputs["model"]) as tmp:
        torch.save({"spec": summary["spec"], "state_dict": trainer.cpu_weights()}, tmp)
    # size and checksum of each file, for the rules that read them to check first
    files = ("metrics", "trace", "snapshots", "model")
    summary["files"] = {name: file_record(outputs[name]) for name in files}
    write_json(outputs["summary"], summary)  # last: its presence means the run is complete
    trainer.remove_checkpoint()
    log.info(
        "%s: %s after %d epochs, train_err %.4f test_err %.4f",
        label,
        state.status,
        state.epoch,
        summary["final_train_err"],
        summary["final_test_err"],
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    p = snakemake.params
    outputs = {
        name: [paths] if isinstance(paths, str) else list(paths)
        for name, paths in snakemake.output.items()
    }
    run_main(
        lambda: train_all(
            snakemake.input.data,
            snakemake.input.info,
            list(p.runs),
            dict(p.spec),
            dict(p.recipe),
            {**p.job, "threads": snakemake.threads},
            outputs,
        ),
        "train",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
