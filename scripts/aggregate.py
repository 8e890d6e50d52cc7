"""Rule aggregate: every run's files -> tidy tables with means and 95% intervals over seeds.

Run it through Snakemake: ``snakemake --cores 1 results/tables/final.csv``.
"""

import logging

import pandas as pd

from resnet_essence import aggregate as agg
from resnet_essence.files import read_json, verify, write_csv
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("aggregate")


def read_checked(path, summary: dict, name: str) -> pd.DataFrame:
    """A run's CSV file, after checking it is the one its train job recorded."""
    verify(path, summary.get("files", {}).get(name), "train")
    return pd.read_csv(path)


def _with_ids(frame: pd.DataFrame, summary: dict, keys=agg.RUN_KEYS) -> pd.DataFrame:
    ids = {key: summary[key] for key in keys}
    return frame.assign(**ids)[[*keys, *frame.columns]]


def bottleneck_tables(summaries, metrics) -> dict[str, pd.DataFrame]:
    summary_dicts = [read_json(path) for path in summaries]
    keys = agg.BOTTLENECK_KEYS
    frames = [
        _with_ids(read_checked(p, s, "metrics"), s, keys)
        for p, s in zip(metrics, summary_dicts, strict=True)
    ]
    runs = agg.run_table(summary_dicts, frames, keys)
    return {"bottleneck_runs": runs, "bottleneck": agg.final_table(runs, keys[:-1])}


def aggregate(summaries, metrics, traces, layers, shattering, probes, bottleneck, outputs) -> None:
    summary_dicts = [read_json(path) for path in summaries]
    metric_frames = [
        _with_ids(read_checked(p, s, "metrics"), s)
        for p, s in zip(metrics, summary_dicts, strict=True)
    ]
    epochs = pd.concat(metric_frames, ignore_index=True)
    trace = pd.concat(
        [
            _with_ids(read_checked(p, s, "trace"), s)
            for p, s in zip(traces, summary_dicts, strict=True)
        ]
    )
    layer_frame = pd.concat([pd.read_csv(p) for p in layers], ignore_index=True)
    shatter_frame = pd.concat([pd.read_csv(p) for p in shattering], ignore_index=True)
    probe_frame = pd.concat([pd.read_csv(p) for p in probes], ignore_index=True)
    runs = agg.run_table(summary_dicts, metric_frames)
    net_runs = agg.network_runs(layer_frame, shatter_frame, probe_frame)
    tables = {
        "runs": runs,
        "epochs": epochs,
        "final": agg.final_table(runs),
        "curves": agg.curve_table(epochs, runs),
        "layers": agg.layer_table(layer_frame),
        "network_runs": net_runs,
        "networks": agg.network_table(net_runs),
        "shattering": agg.shattering_table(shatter_frame),
        "probes": agg.probe_table(probe_frame),
        "trace": agg.trace_table(trace),
        **bottleneck_tables(*bottleneck),
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


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    i = snakemake.input
    run_main(
        lambda: aggregate(
            i.summaries,
            i.metrics,
            i.traces,
            i.layers,
            i.shattering,
            i.probes,
            (i.bottleneck_summaries, i.bottleneck_metrics),
            dict(snakemake.output.items()),
        ),
        "aggregate",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
