"""Rules figure (the main figure and the supplementary figures) and panels (every panel of them
alone), from the run's tables: the claims are computed from the same tables as the report's.

Run it through Snakemake: ``snakemake --cores 1 --forcerun figure results/figures/main.png``.
A published run's figures are redrawn from its folder alone by
``python -m resnet_essence.report.figure docs/example-confirm``.
"""

import logging
from pathlib import Path

from resnet_essence import claims as cl
from resnet_essence.report import figure as plotting
from resnet_essence.report.figure_data import run_data
from resnet_essence.report.published import SOURCES
from resnet_essence.scripting import rule_script
from resnet_essence.tables.schema import read_table

log = logging.getLogger("figure")


def read_data(inputs, config) -> dict:
    rules = cl.Rules.from_config(config["report"])
    claims = cl.evaluate({name: read_table(inputs[name], name) for name in SOURCES}, rules)
    beside = dict(zip(config["report"]["beside"], inputs["beside"], strict=True))
    return run_data(inputs, claims, beside, rules)


def figure(inputs, outputs, config) -> None:
    data = read_data(inputs, config)
    main = [outputs[ext] for ext in ("png", "pdf", "svg")]
    written = plotting.write_figures(data, main, outputs["supplementary"])
    log.info("wrote %s and %d supplementary figures", ", ".join(main), len(written))


def panels(inputs, outputs, config) -> None:
    data = read_data(inputs, config)
    folder = Path(outputs["panels"])
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for stem, fig in plotting.panel_figures(data):
        plotting.save(fig, folder / f"{stem}.png")
        count += 1
    log.info("wrote %d panels", count)


def main(smk) -> None:
    draw = figure if smk.rule == "figure" else panels
    draw(dict(smk.input.items()), dict(smk.output.items()), smk.config)


rule_script(globals(), main, "figure")
