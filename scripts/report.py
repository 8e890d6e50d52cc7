"""Rule report: verdicts for the essay's claims and the report, from the aggregated tables only.

Run it through Snakemake: ``snakemake --cores 1 --forcerun report results/report.md``.
"""

import logging
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from resnet_essence import claims as cl
from resnet_essence import render
from resnet_essence import report as rp
from resnet_essence.files import write_csv, write_text
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("report")
PACKAGES = ("torch", "numpy", "pandas", "seaborn", "snakemake", "resnet-essence")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def read_benchmarks(paths) -> pd.DataFrame:
    frames = []
    for path in paths:
        frame = pd.read_csv(path, sep="\t")
        frames.append(frame.assign(rule=Path(path).parent.name))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def report(inputs, config, outputs) -> None:
    tables = {Path(path).stem: pd.read_csv(path) for path in inputs["tables"]}
    tables["survival"] = pd.read_csv(inputs["survival"])
    tables["blocks"] = pd.read_csv(inputs["blocks"])
    if inputs["width_sweep"]:
        tables["width_sweep"] = pd.concat(pd.read_csv(p) for p in inputs["width_sweep"])
    rules = cl.Rules.from_config(config["report"])
    claims = cl.evaluate(tables, rules)
    devices = ", ".join(sorted(set(tables["runs"]["device"].astype(str))))
    setup = {
        "config": config,
        "versions": versions(),
        "hardware": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"training ran on {devices}",
        "benchmarks": read_benchmarks(inputs["benchmarks"]),
    }
    figure = os.path.relpath(inputs["figure"], Path(outputs["md"]).parent)
    text = rp.build_report(tables, claims, cl.claims_definitions(rules), setup, figure)
    write_csv(outputs["claims"], claims)
    write_text(outputs["md"], text)
    write_text(outputs["html"], render.to_html(text, "resnet-essence report"))
    for row in claims.itertuples():
        log.info("claim %s (%s): %s %s", row.claim_id, row.setting, row.verdict, row.reason)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: report(
            dict(snakemake.input.items()),
            snakemake.config,
            dict(snakemake.output.items()),
        ),
        "report",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
