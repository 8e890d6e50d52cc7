"""Rules figure (the main multi-panel figure) and panels (every panel alone), from the tables.

Run it through Snakemake: ``snakemake --cores 1 --forcerun figure results/figures/main.png``.
"""

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from resnet_essence import plotting
from resnet_essence.files import atomic_path
from resnet_essence.papers import paper_table
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("figure")


def save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp)  # constrained layout already fits every label


def read_tables(inputs) -> dict[str, pd.DataFrame]:
    tables = {Path(path).stem: pd.read_csv(path) for path in inputs["tables"]}
    if tables["bottleneck"].empty:
        tables.pop("bottleneck")
    for name in ("survival", "blocks", "examples"):
        tables[name] = pd.read_csv(inputs[name])
    if inputs["width_sweep"]:
        tables["width_sweep"] = pd.concat(pd.read_csv(p) for p in inputs["width_sweep"])
    if (tables["final"]["dataset"] == "cifar10").any():
        tables["paper"] = paper_table()
    return tables


def figure(inputs, outputs) -> None:
    fig = plotting.main_figure(read_tables(inputs))
    for path in outputs.values():
        save(fig, path)
        log.info("wrote %s", path)
    plt.close(fig)


def panels(inputs, outputs) -> None:
    tables = read_tables(inputs)
    for name, path in outputs.items():
        fig = plotting.panel_figure(name, tables)
        save(fig, path)
        plt.close(fig)
    log.info("wrote %d panels", len(outputs))


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    draw = figure if snakemake.rule == "figure" else panels
    run_main(lambda: draw(dict(snakemake.input.items()), dict(snakemake.output.items())), "figure")
elif __name__ == "__main__":
    guard_shell(__doc__)
