"""Rules train (one network: its seeds packed into one job, or one seed), train_bottleneck (one
small network, every seed) and train_width (one net of the width sweep, every init).

Writes per-epoch metrics (rewritten after every epoch, so a long run can be followed), the
gradient trace, weight snapshots and the final weights; ``summary.json`` last, since its presence
means the run is complete. Resumes from ``checkpoint.pt`` beside the outputs (not a declared
output, so Snakemake leaves it alone after a kill). Run it through Snakemake, e.g.
``snakemake --cores 1 results/runs/digits/residual-20/seed0/summary.json``.
"""

import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.scripting import rule_script
from resnet_essence.train.job import train_runs
from resnet_essence.train.trainer import Interrupted

log = logging.getLogger("train")


def main(smk) -> None:
    torch.set_num_threads(smk.threads)
    data = read_dataset(smk.input.data, smk.input.info)
    runs = list(smk.params.runs)
    # one path per run for every output name (a job of one run has plain strings)
    outputs = {
        name: [paths] if isinstance(paths, str) else list(paths)
        for name, paths in smk.output.items()
    }
    files = [{name: paths[i] for name, paths in outputs.items()} for i in range(len(runs))]
    # the device from the config, not from params, where a change would retrain finished runs
    job = {**smk.params.job, "device": smk.config["device"]}
    try:
        train_runs(data, runs, dict(smk.params.spec), dict(smk.params.recipe), job, files)
    except Interrupted as stop:  # the checkpoints are written: SLURM's requeue resumes them
        log.error("%s", stop)
        raise SystemExit(143) from stop


# resumable: a rerun after a kill resumes from the checkpoints, and its log keeps the lines
# written before the kill
rule_script(globals(), main, "train", resumable=True)
