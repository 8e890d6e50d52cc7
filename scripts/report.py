"""Rule report: verdicts for the essay's claims and the report, from the aggregated tables only.

From a shell (after a run):
    python scripts/report.py --tables results/tables --collapse results/collapse/survival.csv \
        --out results/report.md
"""

import argparse
import logging
import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd
import yaml

from resnet_essence import claims as cl
from resnet_essence import report as rp
from resnet_essence.io import write_csv, write_text
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("report")
TABLES = ("runs", "final", "network_runs")
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


def report(
    table_paths,
    survival_path,
    figure_path,
    config,
    benchmark_paths,
    rule_cfg,
    out_md,
    out_html,
    out_claims,
) -> None:
    tables = {Path(path).stem: pd.read_csv(path) for path in table_paths}
    tables["survival"] = pd.read_csv(survival_path)
    rule = cl.CollapseRule(**rule_cfg)
    verdicts = cl.collapse_claims(tables["survival"], rule)
    verdicts += cl.network_claims(tables["runs"], tables["network_runs"])
    claims = cl.claims_table(verdicts)
    devices = ", ".join(sorted(set(tables["runs"]["device"].astype(str))))
    setup = {
        "config": config,
        "versions": versions(),
        "hardware": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"training ran on {devices}",
        "benchmarks": read_benchmarks(benchmark_paths),
    }
    figure = os.path.relpath(figure_path, Path(out_md).parent)
    blocks = rp.build_report(tables, claims, setup, figure)
    write_csv(out_claims, claims)
    write_text(out_md, rp.to_markdown(blocks))
    write_text(out_html, rp.to_html(blocks, "resnet-essence report"))
    for row in claims.itertuples():
        log.info("claim %s: %s (%s)", row.claim_id, row.verdict, row.measure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default="results/tables")
    parser.add_argument("--collapse", default="results/collapse/survival.csv")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--out", default="results/report.md")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    benchmarks = sorted(Path(args.out).parent.glob("benchmarks/*/*.tsv"))
    tables = [Path(args.tables) / f"{name}.csv" for name in TABLES]
    figure = Path(args.out).parent / "figures" / "main.png"
    report(
        tables,
        args.collapse,
        figure,
        config,
        benchmarks,
        {},
        args.out,
        args.out.replace(".md", ".html"),
        Path(args.tables) / "claims.csv",
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: report(
            snakemake.input.tables,
            snakemake.input.survival,
            snakemake.input.figure,
            snakemake.config,
            snakemake.input.benchmarks,
            snakemake.params.rule,
            snakemake.output.md,
            snakemake.output.html,
            snakemake.output.claims,
        ),
        "report",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "report")
