"""Rule interventions_figure: the intervention nets' training error and backward signal, against
alpha and by activation (resnet_essence.report.interventions), from the aggregated tables.

Run it through Snakemake, with intervention nets in the config's archs, e.g.
``snakemake --cores 1 --configfile configs/interventions.yaml results/figures/interventions.png``.
"""

import logging
from pathlib import Path

import matplotlib.pyplot as plt

from resnet_essence import claims as cl
from resnet_essence.claims.grid import Grid
from resnet_essence.files import atomic_path
from resnet_essence.report.figure import style
from resnet_essence.report.interventions import intervention_figure, intervention_rows
from resnet_essence.scripting import rule_script
from resnet_essence.tables.schema import read_table

log = logging.getLogger("interventions_figure")


def main(smk) -> None:
    tables = {Path(path).stem: read_table(path, Path(path).stem) for path in smk.input["tables"]}
    rules = cl.Rules.from_config(smk.config["report"])
    grid = Grid(tables["runs"], tables["epochs"], tables["network_runs"], rules)
    style()
    fig = intervention_figure(intervention_rows(grid))
    with atomic_path(smk.output["png"]) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    log.info("wrote %s", smk.output["png"])


rule_script(globals(), main, "interventions_figure")
