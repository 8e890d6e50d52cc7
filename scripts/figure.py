"""Rule figure: the main multi-panel figure and every panel alone, from the tables only.

Run it through Snakemake: ``snakemake --cores 1 --forcerun figure results/figures/main.png``.
"""

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from resnet_essence import plotting
from resnet_essence.io import atomic_path
from resnet_essence.papers import paper_table
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("figure")


def save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight")


def figure(inputs, main_outputs, panel_dir) -> None:
    tables = {Path(path).stem: pd.read_csv(path) for path in inputs["tables"]}
    if tables["bottleneck"].empty:
        tables.pop("bottleneck")
    for name in ("survival", "blocks", "examples"):
        tables[name] = pd.read_csv(inputs[name])
    if inputs["width_sweep"]:
        tables["width_sweep"] = pd.concat(pd.read_csv(p) for p in inputs["width_sweep"])
    if (tables["final"]["dataset"] == "cifar10").any():
        tables["paper"] = paper_table()
    fig = plotting.main_figure(tables)
    for path in main_outputs:
        save(fig, path)
        log.info("wrote %s", path)
    plt.close(fig)
    for file in plotting.PANEL_FILES:
        fig = plotting.panel_figure(file, tables)
        save(fig, Path(panel_dir) / f"{file}.png")
        plt.close(fig)
    log.info("wrote %d panels to %s", len(plotting.PANEL_FILES), panel_dir)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    out = snakemake.output
    run_main(
        lambda: figure(
            dict(snakemake.input.items()),
            [out.png, out.pdf, out.svg],
            out.panels,
        ),
        "figure",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
