"""Rule figure: the main multi-panel figure and every panel alone, from the tables only.

From a shell (after a run):
    python scripts/figure.py --tables results/tables --collapse results/collapse \
        --outdir results/figures
"""

import argparse
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from resnet_essence import plotting
from resnet_essence.io import atomic_path
from resnet_essence.report import paper_table
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("figure")
TABLES = ("final", "curves", "layers", "networks")


def save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, bbox_inches="tight")


def figure(table_paths, survival, examples, main_outputs, panel_dir) -> None:
    tables = {Path(path).stem: pd.read_csv(path) for path in table_paths}
    tables["survival"] = pd.read_csv(survival)
    tables["examples"] = pd.read_csv(examples)
    if (tables["final"]["dataset"] == "cifar10").any():
        tables["paper"] = paper_table()
    fig = plotting.main_figure(tables)
    for path in main_outputs:
        save(fig, path)
        log.info("wrote %s", path)
    plt.close(fig)
    for name in plotting.PANEL_NAMES:
        fig = plotting.panel_figure(name, tables)
        save(fig, Path(panel_dir) / f"{name}.png")
        plt.close(fig)
    log.info("wrote %d panels to %s", len(plotting.PANEL_NAMES), panel_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="results/tables")
    parser.add_argument("--collapse", default="results/collapse")
    parser.add_argument("--outdir", default="results/figures")
    args = parser.parse_args()
    out = Path(args.outdir)
    figure(
        [Path(args.tables) / f"{name}.csv" for name in TABLES],
        Path(args.collapse) / "survival.csv",
        Path(args.collapse) / "examples.csv",
        [out / f"main.{ext}" for ext in ("png", "pdf", "svg")],
        out / "panels",
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: figure(
            snakemake.input.tables,
            snakemake.input.survival,
            snakemake.input.examples,
            [snakemake.output.png, snakemake.output.pdf, snakemake.output.svg],
            snakemake.output.panels,
        ),
        "figure",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "figure")
