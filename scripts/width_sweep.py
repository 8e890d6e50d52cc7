"""Rule width_sweep: dead branch ReLUs and the backward signal against width, at initialisation.

Run it through Snakemake, e.g. with configs/no_batchnorm.yaml: ``snakemake --cores 1
--configfile configs/no_batchnorm.yaml results/tables/digits-width_sweep.csv``.
"""

import logging

import pandas as pd
import torch

from resnet_essence.data import read_dataset
from resnet_essence.data.normalise import normalised_test_batch
from resnet_essence.files import write_csv
from resnet_essence.measure.width import trained_width_rows, width_sweep
from resnet_essence.scripting import rule_script
from resnet_essence.train.job import read_snapshots

log = logging.getLogger("width_sweep")


def sweep(data_path, info_path, params, threads, out, trained=((), ())) -> None:
    """The sweep at initialisation, then the trained nets' final weights (``trained``: their
    snapshot files and summaries)."""
    torch.set_num_threads(threads)
    data = read_dataset(data_path, info_path)
    x, y = normalised_test_batch(data, params["batch_size"])
    rows, measured = [], set()
    for snapshots_path, summary_path in zip(*trained, strict=True):
        summary, spec, snapshots = read_snapshots(snapshots_path, summary_path, "train_width")
        rows += trained_width_rows(spec, snapshots, summary, x, y)
        measured.add((spec.arch, spec.width))
    if trained[0]:
        log.info(
            "%d trained nets of the width sweep measured, at epoch 0 and the end", len(trained[0])
        )
    for arch in params["archs"]:
        # a trained width's epoch 0 is its own snapshot, above: the same weights
        widths = [w for w in params["widths"] if (arch, w) not in measured]
        rows += width_sweep(
            arch,
            params["depth"],
            widths,
            params["inits"],
            dict(params["model"]),
            x,
            y,
            data.num_classes,
        )
        log.info("%s-%d: widths %s done", arch, params["depth"], widths)
    write_csv(out, pd.DataFrame(rows).assign(dataset=data.name))


def main(smk) -> None:
    sweep(
        smk.input.data,
        smk.input.info,
        dict(smk.params.items()),
        smk.threads,
        smk.output.sweep,
        (smk.input.snapshots, smk.input.summaries),
    )


rule_script(globals(), main, "width_sweep")
