"""Rule aggregate: every run's files -> tidy tables with means and 95% intervals over seeds.

From a shell:
    python scripts/aggregate.py --runs results/runs --gradstats results/gradstats \
        --outdir results/tables
"""

import argparse
import logging
from pathlib import Path

import pandas as pd

from resnet_essence import aggregate as agg
from resnet_essence.io import read_json, write_csv
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("aggregate")


def _with_ids(frame: pd.DataFrame, summary: dict) -> pd.DataFrame:
    ids = {key: summary[key] for key in agg.RUN_KEYS}
    return frame.assign(**ids)[[*agg.RUN_KEYS, *frame.columns]]


def aggregate(summaries, metrics, traces, layers, shattering, outputs) -> None:
    summary_dicts = [read_json(path) for path in summaries]
    metric_frames = [
        _with_ids(pd.read_csv(p), s) for p, s in zip(metrics, summary_dicts, strict=True)
    ]
    trace = pd.concat(
        [_with_ids(pd.read_csv(p), s) for p, s in zip(traces, summary_dicts, strict=True)]
    )
    layer_frame = pd.concat([pd.read_csv(p) for p in layers], ignore_index=True)
    shatter_frame = pd.concat([pd.read_csv(p) for p in shattering], ignore_index=True)
    runs = agg.run_table(summary_dicts, metric_frames)
    net_runs = agg.network_runs(layer_frame, shatter_frame)
    tables = {
        "runs": runs,
        "final": agg.final_table(runs),
        "curves": agg.curve_table(pd.concat(metric_frames, ignore_index=True)),
        "layers": agg.layer_table(layer_frame),
        "network_runs": net_runs,
        "networks": agg.network_table(net_runs),
        "shattering": agg.shattering_table(shatter_frame),
        "trace": agg.trace_table(trace),
    }
    for name, frame in tables.items():
        write_csv(outputs[name], frame)
        log.info("wrote %s (%d rows)", outputs[name], len(frame))
    diverged = runs[runs["status"] != "completed"]
    if len(diverged):
        log.warning(
            "%d run(s) did not complete: %s",
            len(diverged),
            diverged[agg.RUN_KEYS + ["status"]].to_dict("records"),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="results/runs")
    parser.add_argument("--gradstats", default="results/gradstats")
    parser.add_argument("--outdir", default="results/tables")
    args = parser.parse_args()
    summaries = sorted(Path(args.runs).glob("*/*/seed*/summary.json"))
    dirs = [p.parent for p in summaries]
    stats = [
        Path(args.gradstats) / d.parent.parent.name / d.parent.name / f"{d.name}.csv" for d in dirs
    ]
    outputs = {
        name: Path(args.outdir) / f"{name}.csv"
        for name in (
            "runs",
            "final",
            "curves",
            "layers",
            "network_runs",
            "networks",
            "shattering",
            "trace",
        )
    }
    aggregate(
        summaries,
        [d / "metrics.csv" for d in dirs],
        [d / "trace.csv" for d in dirs],
        stats,
        [p.with_suffix(".shattering.csv") for p in stats],
        outputs,
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    i = snakemake.input
    run_main(
        lambda: aggregate(
            i.summaries, i.metrics, i.traces, i.layers, i.shattering, dict(snakemake.output.items())
        ),
        "aggregate",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "aggregate")
