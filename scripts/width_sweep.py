"""Rule width_sweep: dead branch ReLUs and the backward signal against width, at initialisation.

Run it through Snakemake, e.g. with configs/no_batchnorm.yaml: ``snakemake --cores 1
--configfile configs/no_batchnorm.yaml results/tables/digits-width_sweep.csv``.
"""

import logging

import pandas as pd
import torch

from resnet_essence.data import read_dataset
from resnet_essence.files import write_csv
from resnet_essence.probes import width_sweep
from resnet_essence.scripting import guard_shell, run_main, setup_logging
from resnet_essence.training import normalised_test_batch

log = logging.getLogger("width_sweep")


def sweep(data_path, info_path, params, threads, out) -> None:
    torch.set_num_threads(threads)
    data = read_dataset(data_path, info_path)
    x, y = normalised_test_batch(data, params["batch_size"])
    rows = []
    for arch in params["archs"]:
        rows += width_sweep(
            arch,
            params["depth"],
            list(params["widths"]),
            params["inits"],
            params["norm"],
            x,
            y,
            data.num_classes,
        )
        log.info("%s-%d: widths %s done", arch, params["depth"], list(params["widths"]))
    write_csv(out, pd.DataFrame(rows).assign(dataset=data.name))


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: sweep(
            snakemake.input.data,
            snakemake.input.info,
            dict(snakemake.params.items()),
            snakemake.threads,
            snakemake.output.sweep,
        ),
        "width_sweep",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
