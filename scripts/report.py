"""Rule report: verdicts for the essay's claims and the report, from the aggregated tables only.

Run it through Snakemake: ``snakemake --cores 1 --forcerun report results/report.md``.
"""

import logging
import os
import platform
from pathlib import Path

from resnet_essence import claims as cl
from resnet_essence.files import write_csv, write_text
from resnet_essence.report import html as render
from resnet_essence.report import markdown as rp
from resnet_essence.report import provenance
from resnet_essence.report.side_by_side import beside_setup
from resnet_essence.scripting import rule_script
from resnet_essence.tables.schema import read_rule_inputs

log = logging.getLogger("report")


def report(inputs, config, outputs) -> None:
    tables = read_rule_inputs(inputs)
    rules = cl.Rules.from_config(config["report"])
    claims = cl.evaluate(tables, rules)
    devices = ", ".join(sorted(set(tables["runs"]["device"].astype(str))))
    setup = {
        "config": config,
        "versions": provenance.versions(),
        "hardware": f"{provenance.processor()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"training ran on {devices}",
        "benchmarks": provenance.read_benchmarks(inputs["benchmarks"]),
    }
    titles = dict(zip(config["report"]["beside"], inputs["beside"], strict=True))
    setup.update(beside_setup(claims, tables["runs"], config["report"], titles))
    here = Path(outputs["md"]).parent
    figure = os.path.relpath(inputs["figure"], here)
    # every supplementary figure the figure rule drew, in its order (S1, S2, ...)
    setup["supplementary"] = [
        os.path.relpath(path, here) for path in rp.supplementary_files(inputs["supplementary"])
    ]
    for path in inputs["interventions"]:  # the explanation family's figure, where there is one
        setup["interventions"] = os.path.relpath(path, Path(outputs["md"]).parent)
    text = rp.build_report(tables, claims, cl.claims_definitions(rules), setup, figure)
    write_csv(outputs["claims"], claims)
    write_text(outputs["md"], text)
    write_text(outputs["html"], render.to_html(text, "resnet-essence report", contents=True))
    for row in claims.itertuples():
        log.info("claim %s (%s): %s %s", row.claim_id, row.setting, row.verdict, row.reason)


def main(smk) -> None:
    report(dict(smk.input.items()), smk.config, dict(smk.output.items()))


rule_script(globals(), main, "report")
