"""Rules train (one network, one seed) and train_bottleneck (one small network, every seed).

Writes per-epoch metrics (rewritten after every epoch, so a long run can be followed), the
gradient trace, weight snapshots and the final weights; ``summary.json`` last, since its presence
means the run is complete. Resumes from ``checkpoint.pt`` beside the outputs (not a declared
output, so Snakemake leaves it alone after a kill). Run it through Snakemake, e.g.
``snakemake --cores 1 results/runs/digits/residual-20/seed0/summary.json``.
"""

import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.models import spec_from_dict
from resnet_essence.packed import PackedTrainer
from resnet_essence.runs import label, metrics_writer, save_run
from resnet_essence.scripting import guard_shell, run_main, setup_logging
from resnet_essence.training import Interrupted, TrainConfig, Trainer, resolve_device

log = logging.getLogger("train")
SPLITS = ("x_train", "y_train", "x_test", "y_test")


def train_all(data_path, info_path, runs, spec, recipe, job, outputs) -> None:
    """Every run in ``runs`` (its ids and checkpoint): packed into one vectorised net with
    ``job["pack"]`` and more than one run, else one after another; ``outputs`` maps each output
    name to one path per run."""
    torch.set_num_threads(job["threads"])
    data = read_dataset(data_path, info_path)
    spec = spec_from_dict({**spec, "num_classes": data.num_classes, "in_channels": data.channels})
    tensors = {name: torch.from_numpy(getattr(data, name)) for name in SPLITS}
    info = {"name": data.name, "train": len(data.x_train), "test": len(data.x_test)}
    device = resolve_device(job["device"])
    files = [{name: paths[i] for name, paths in outputs.items()} for i in range(len(runs))]
    cfgs = [TrainConfig.from_config(recipe, seed=int(run["ids"]["seed"])) for run in runs]
    labels = [label(run["ids"]) for run in runs]
    if job.get("pack", False) and len(runs) > 1:
        packed = PackedTrainer(
            spec,
            cfgs,
            tensors,
            device,
            [run["checkpoint"] for run in runs],
            info,
            labels,
            [metrics_writer(f) for f in files],
        )
        trainers = packed.trainers
        log.info(
            "%s: %d seeds packed, %d parameters each",
            labels[0],
            len(runs),
            trainers[0].n_parameters,
        )
        stopped(packed.run)
    else:
        trainers = []
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
            stopped(trainer.run)
            save_run(trainer, run["ids"], data.name, f)
        return
    for trainer, run, f in zip(trainers, runs, files, strict=True):
        save_run(trainer, run["ids"], data.name, f)


def stopped(run) -> None:
    """Run ``run``; a SIGTERM (after the checkpoint is written) ends the job with status 143."""
    try:
        run()
    except Interrupted as stop:
        log.error("%s", stop)
        raise SystemExit(143) from stop


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
