"""Rules figure (the main multi-panel figure) and panels (every panel alone), from the tables.

Run it through Snakemake: ``snakemake --cores 1 --forcerun figure results/figures/main.png``.
"""

import logging

import matplotlib.pyplot as plt
import pandas as pd

from resnet_essence.files import atomic_path
from resnet_essence.report import figure as plotting
from resnet_essence.scripting import rule_script
from resnet_essence.tables.schema import read_rule_inputs

log = logging.getLogger("figure")


def save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp)  # constrained layout already fits every label


def read_tables(inputs) -> dict[str, pd.DataFrame]:
    return plotting.figure_tables(read_rule_inputs(inputs, ("survival", "blocks", "examples")))


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


def main(smk) -> None:
    draw = figure if smk.rule == "figure" else panels
    draw(dict(smk.input.items()), dict(smk.output.items()))


rule_script(globals(), main, "figure")
