"""Rule aggregate: every run's files -> tidy tables with means and 95% intervals over seeds.

Run it through Snakemake: ``snakemake --cores 1 results/tables/final.csv``.
"""

import logging

import pandas as pd

from resnet_essence.files import read_json, verify, write_csv
from resnet_essence.scripting import rule_script
from resnet_essence.tables import aggregate as agg
from resnet_essence.tables.schema import read_table

log = logging.getLogger("aggregate")


def run_files(summaries, paths, name: str, table: str) -> list[pd.DataFrame]:
    """A run's table each: each file checked against the record its train job wrote in the
    run's summary, then against its contract."""
    frames = []
    for path, summary in zip(paths, summaries, strict=True):
        verify(path, summary.get("files", {}).get(name), "train")
        frames.append(read_table(path, table))
    return frames


def concat(paths, table: str) -> pd.DataFrame:
    return pd.concat([read_table(p, table) for p in paths], ignore_index=True)


def aggregate(inputs, outputs) -> None:
    summaries = [read_json(path) for path in inputs["summaries"]]
    metrics = run_files(summaries, inputs["metrics"], "metrics", "metrics")
    traces = run_files(summaries, inputs["traces"], "trace", "run_trace")
    bottleneck_summaries = [read_json(path) for path in inputs["bottleneck_summaries"]]
    bottleneck = (
        bottleneck_summaries,
        run_files(bottleneck_summaries, inputs["bottleneck_metrics"], "metrics", "metrics"),
    )
    tables = agg.all_tables(
        summaries,
        metrics,
        traces,
        concat(inputs["layers"], "layer_statistics"),
        concat(inputs["shattering"], "shattering_run"),
        concat(inputs["probes"], "probes_run"),
        *bottleneck,
    )
    for name, frame in tables.items():
        write_csv(outputs[name], frame)
        log.info("wrote %s (%d rows)", outputs[name], len(frame))
    runs = tables["runs"]
    unfinished = runs[runs["status"] != "completed"]
    if len(unfinished):
        log.warning(
            "%d run(s) did not complete: %s",
            len(unfinished),
            unfinished[[*agg.RUN_KEYS, "status"]].to_dict("records"),
        )


def main(smk) -> None:
    aggregate(dict(smk.input.items()), dict(smk.output.items()))


rule_script(globals(), main, "aggregate")
