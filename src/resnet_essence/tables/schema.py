"""The tidy tables that rules hand each other: each table's columns and their types, declared
once, and checked where a rule reads a table.

A table that breaks its contract (a column missing or unknown, a value of the wrong type) stops
the reading job with the file, the column and the first bad row, instead of an error deep in
pandas. The README's table of result files is generated from these declarations
(``python -m resnet_essence.tables.schema``; a test checks the two agree).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TEXT, INT, NUMBER, FLAG = "text", "integer", "number", "flag"  # a flag: True or False
RUN_IDS = {"dataset": TEXT, "arch": TEXT, "depth": INT, "seed": INT}
GROUP_IDS = {"dataset": TEXT, "arch": TEXT, "depth": INT}
INTERVAL = {"mean": NUMBER, "lo": NUMBER, "hi": NUMBER, "n": INT}
FINAL = {
    f"{metric}_{part}": NUMBER
    for metric in ("train_err", "test_err", "train_loss", "test_loss", "train_err_auc")
    for part in ("mean", "lo", "hi")
}
RUN_ROW = {
    "params": INT,
    "norm": TEXT,
    "init": TEXT,
    "base_width": NUMBER,
    "status": TEXT,
    "epochs_completed": INT,
    "train_err": NUMBER,
    "test_err": NUMBER,
    "train_loss": NUMBER,
    "test_loss": NUMBER,
    "train_err_auc": NUMBER,
    # the final weights' error on the training set in eval mode, no augmentation (empty for
    # runs trained before it was measured, 2026-12-07): what report.converged_train_err judges
    "train_err_eval": NUMBER,
    "n_train": INT,
    "n_test": INT,
    "num_classes": INT,
    "train_seconds": NUMBER,
    "device": TEXT,
    "precision": TEXT,
    "packed": INT,
}
METRICS = {
    "epoch": INT,
    "step": INT,
    "lr": NUMBER,
    "train_loss": NUMBER,
    "train_err": NUMBER,
    "test_loss": NUMBER,
    "test_err": NUMBER,
    "seconds": NUMBER,
    "status": TEXT,
}
LAYER_STATISTICS = {
    "weight_grad_norm": NUMBER,
    "weight_norm": NUMBER,
    "grad_to_weight": NUMBER,
    "signal_grad_norm": NUMBER,
    "signal_grad_rms": NUMBER,
    "relu_active_fraction": NUMBER,
    "dead_fraction": NUMBER,
    "response_std": NUMBER,
}
# the per-layer table as measure.layers.layer_statistics writes it: what identifies a row, then
# the statistics (weight_norm, on weight rows, beside the weight-gradient norm it scales)
LAYER_COLUMNS = ["kind", "layer_index", "layer", "site", *LAYER_STATISTICS]
# the statistics the aggregation summarises across layers (weight_norm only scales one of them)
AGGREGATED_LAYER_STATISTICS = [s for s in LAYER_STATISTICS if s != "weight_norm"]
BOTTLENECK_IDS = {"dataset": TEXT, "variant": TEXT, "width": INT}
COLLAPSE_CELL = {"manifold": TEXT, "input_dim": INT, "embed_dim": INT}


def _ranged(name: str) -> dict[str, str]:
    return {name: NUMBER, f"{name}_lo": NUMBER, f"{name}_hi": NUMBER}


@dataclass(frozen=True)
class Table:
    """A table's place (with its wildcards), its columns in order with their types, and what a
    row is."""

    path: str
    columns: dict[str, str]
    row: str

    def check(self, frame: pd.DataFrame, source: str | Path) -> pd.DataFrame:
        """``frame`` with each column of its declared type; ValueError naming ``source``, the
        column and the first bad row (line numbers count the header as line 1)."""
        missing = [c for c in self.columns if c not in frame.columns]
        unknown = [c for c in frame.columns if c not in self.columns]
        if missing or unknown:
            parts = [f"lacks the columns {missing}"] if missing else []
            parts += [f"has columns its contract does not name: {unknown}"] if unknown else []
            where = f"tables/schema.py declares {self.path}"
            raise ValueError(f"{source}: {'; '.join(parts)} ({where})")
        out = frame.copy()
        for column, kind in self.columns.items():
            out[column] = _typed(frame[column], kind, source, column)
        for value, lo, hi in self.intervals():
            _check_interval(out, value, lo, hi, frame, source)
        return out[list(self.columns)]

    def intervals(self) -> list[tuple[str, str, str]]:
        """Every (value, lo, hi) column triple: an estimate with its interval (``x_mean``,
        ``x_lo``, ``x_hi``; ``x``, ``x_lo``, ``x_hi``; or ``mean``, ``lo``, ``hi``)."""
        found = []
        for lo in (c for c in self.columns if c == "lo" or c.endswith("_lo")):
            stem = lo[: -len("lo")]
            hi = f"{stem}hi"
            value = next((c for c in (f"{stem}mean", stem.rstrip("_")) if c in self.columns), None)
            if hi in self.columns and value:
                found.append((value, lo, hi))
        return found


def _typed(values: pd.Series, kind: str, source, column: str) -> pd.Series:
    if kind == TEXT:
        return values.astype(object).where(values.notna(), "").astype(str)
    raw = values.astype(object)
    empty = raw.isna() | (raw.astype(str).str.strip() == "")
    if kind == FLAG:
        words = raw.astype(str).str.lower()
        good = words.isin(["true", "false"])
        _fail_first(~good, raw, source, column, "is not True or False")
        return words == "true"
    numbers = pd.to_numeric(raw.where(~empty), errors="coerce")
    _fail_first(numbers.isna() & ~empty, raw, source, column, "is not a number")
    if kind == INT:
        whole = numbers.notna() & np.isclose(numbers, np.round(numbers))
        _fail_first(~whole, raw, source, column, "is not a whole number")
        return numbers.astype("int64")
    return numbers.astype(float)


def _check_interval(typed: pd.DataFrame, value: str, lo: str, hi: str, raw, source) -> None:
    """An interval that holds its estimate (lo <= value <= hi where all three are set): any
    other is well-typed but impossible, and would reach a plot as a negative error bar."""
    v, low, high = (typed[c].to_numpy(dtype=float) for c in (value, lo, hi))
    slack = 1e-9 * np.maximum(1.0, np.abs(v))
    with np.errstate(invalid="ignore"):
        bad = (low > v + slack) | (v > high + slack)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{source}: row {position + 1} (line {position + 2}): {value} "
            f"{raw[value].iloc[position]!r} lies outside its interval [{lo} "
            f"{raw[lo].iloc[position]!r}, {hi} {raw[hi].iloc[position]!r}]"
        )


def _fail_first(bad: pd.Series, raw: pd.Series, source, column: str, what: str) -> None:
    if bad.any():
        position = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{source}: column {column!r}, row {position + 1} (line {position + 2}): "
            f"{raw.iloc[position]!r} {what}"
        )


TABLES: dict[str, Table] = {
    # what one run writes (rule train, train_bottleneck, train_width)
    "metrics": Table(
        "results/runs/{dataset}/{arch}-{depth}/seed{seed}/metrics.csv",
        METRICS,
        "one epoch (running training means over the epoch; test columns empty where the test set "
        "was not evaluated)",
    ),
    "run_trace": Table(
        "results/runs/{dataset}/{arch}-{depth}/seed{seed}/trace.csv",
        {"step": INT, "epoch": INT, "layer_index": INT, "layer": TEXT, "weight_grad_norm": NUMBER},
        "one layer at one recorded step (every train.trace_every)",
    ),
    # rule gradstats, per run
    "layer_statistics": Table(
        "results/gradstats/{dataset}/{arch}-{depth}/seed{seed}.csv",
        {
            **RUN_IDS,
            "epoch": INT,
            "kind": TEXT,
            "layer_index": INT,
            "layer": TEXT,
            "site": TEXT,
            **LAYER_STATISTICS,
        },
        "one layer (kind: weight, signal, relu or bn) at one snapshot",
    ),
    "shattering_run": Table(
        "results/gradstats/{dataset}/{arch}-{depth}/seed{seed}.shattering.csv",
        {**RUN_IDS, "epoch": INT, "path": INT, "lag": INT, "autocorrelation": NUMBER},
        "one path between two images and one lag, at one snapshot",
    ),
    "probes_run": Table(
        "results/gradstats/{dataset}/{arch}-{depth}/seed{seed}.probes.csv",
        {
            **RUN_IDS,
            "probe": TEXT,
            "epoch": INT,
            "layer_index": INT,
            "layer": TEXT,
            "site": TEXT,
            "statistic": TEXT,
            "value": NUMBER,
        },
        "one probe's statistic at one layer (or -1: the whole net) and snapshot",
    ),
    # rule collapse
    "survival": Table(
        "results/collapse/survival.csv",
        {
            **COLLAPSE_CELL,
            "activation": TEXT,
            "distribution": TEXT,
            "bias_std": NUMBER,
            "n_matrices": INT,
            "n_points": INT,
            **_ranged("recoverable"),
            "theory": NUMBER,
            **_ranged("recon_error"),
            **_ranged("collapsed_neighbours"),
        },
        "one manifold, embedding dimension and activation, over the random matrices",
    ),
    "blocks": Table(
        "results/collapse/blocks.csv",
        {
            **COLLAPSE_CELL,
            "block": TEXT,
            "n_matrices": INT,
            "n_points": INT,
            **_ranged("recoverable"),
            **_ranged("collapsed_neighbours"),
            **_ranged("vs_plain"),
            "vs_plain_sd": NUMBER,
        },
        "one manifold, trunk width and block map (plain_layer, original_block, preact_block); "
        "vs_plain: its recoverable fraction minus the plain layer's on the same maps",
    ),
    "examples": Table(
        "results/collapse/examples.csv",
        {
            "manifold": TEXT,
            "activation": TEXT,
            "embed_dim": INT,
            "point": INT,
            "x": NUMBER,
            "y": NUMBER,
            "z": NUMBER,
        },
        "one point of a reconstruction drawn in panel (a)",
    ),
    # rule aggregate
    "runs": Table(
        "results/tables/runs.csv", {**RUN_IDS, **RUN_ROW}, "one run: how it ended and trained"
    ),
    "epochs": Table(
        "results/tables/epochs.csv", {**RUN_IDS, **METRICS}, "one epoch of one run (metrics.csv)"
    ),
    "final": Table(
        "results/tables/final.csv",
        {**GROUP_IDS, "params": INT, "n_runs": INT, "n_diverged": INT, **FINAL},
        "one net over its seeds (error rates: pooled counts; diverged runs left out of the means)",
    ),
    "curves": Table(
        "results/tables/curves.csv",
        {**GROUP_IDS, "epoch": INT, "metric": TEXT, **INTERVAL},
        "one net, epoch and metric over seeds",
    ),
    "layers": Table(
        "results/tables/layers.csv",
        {
            **GROUP_IDS,
            "epoch": INT,
            "kind": TEXT,
            "layer_index": INT,
            "layer": TEXT,
            "site": TEXT,
            "statistic": TEXT,
            **INTERVAL,
        },
        "one net, snapshot, layer and statistic over seeds",
    ),
    "network_runs": Table(
        "results/tables/network_runs.csv",
        {**RUN_IDS, "epoch": INT, "statistic": TEXT, "value": NUMBER},
        "one network statistic of one run at one snapshot (aggregate.network_runs says each)",
    ),
    "networks": Table(
        "results/tables/networks.csv",
        {**GROUP_IDS, "epoch": INT, "statistic": TEXT, **INTERVAL},
        "one network statistic over seeds",
    ),
    "shattering": Table(
        "results/tables/shattering.csv",
        {**GROUP_IDS, "epoch": INT, "lag": INT, **INTERVAL},
        "one net, snapshot and lag over seeds (each run's value the mean over its paths)",
    ),
    "probes": Table(
        "results/tables/probes.csv",
        {
            **GROUP_IDS,
            "epoch": INT,
            "probe": TEXT,
            "layer_index": INT,
            "layer": TEXT,
            "site": TEXT,
            "statistic": TEXT,
            **INTERVAL,
        },
        "one probe's statistic at one layer over seeds",
    ),
    "trace": Table(
        "results/tables/trace.csv",
        {
            **GROUP_IDS,
            "step": INT,
            "epoch": INT,
            "layer_index": INT,
            "weight_grad_norm": NUMBER,
            "relative_depth": NUMBER,
        },
        "one net, recorded step and layer, the mean over seeds",
    ),
    "bottleneck_runs": Table(
        "results/tables/bottleneck_runs.csv",
        {**BOTTLENECK_IDS, "seed": INT, **RUN_ROW},
        "one run of a MobileNetV2-style net",
    ),
    "bottleneck": Table(
        "results/tables/bottleneck.csv",
        {**BOTTLENECK_IDS, "params": INT, "n_runs": INT, "n_diverged": INT, **FINAL},
        "one MobileNetV2-style net over its seeds",
    ),
    # rule width_sweep
    "width_sweep": Table(
        "results/tables/{dataset}-width_sweep.csv",
        {
            "arch": TEXT,
            "depth": INT,
            "width": INT,
            "init": INT,
            "epoch": INT,
            "statistic": TEXT,
            "value": NUMBER,
            "dataset": TEXT,
        },
        "one net of the width sweep at initialisation (epoch 0) or trained",
    ),
    # rule report
    "claims": Table(
        "results/tables/claims.csv",
        {
            "family": TEXT,
            "claim_id": TEXT,
            "claim": TEXT,
            "setting": TEXT,
            "measure": TEXT,
            "n": INT,
            "effect": NUMBER,
            "lo": NUMBER,
            "hi": NUMBER,
            "margin": NUMBER,
            "p": NUMBER,
            "p_holm": NUMBER,
            "verdict": TEXT,
            "reason": TEXT,
            "detectable": NUMBER,
            "seeds_needed": NUMBER,
            "stage": TEXT,
            "level_adj": NUMBER,
            "lo_adj": NUMBER,
            "hi_adj": NUMBER,
            "verdict_half_a": TEXT,
            "verdict_half_b": TEXT,
            "halves_agree": TEXT,
        },
        "one verdict: a claim in one setting (workflow/report/claims.rst says each column)",
    ),
}


# Columns added to a contract after runs were published without them: a table that lacks one
# is read with the column empty (not measured), so a published run stays readable as it was.
ADDED_LATER = {"train_err_eval"}


def read_table(path: str | Path, name: str) -> pd.DataFrame:
    """The table at ``path``, checked against its contract ``TABLES[name]`` and typed."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    for column in ADDED_LATER & set(TABLES[name].columns) - set(frame.columns):
        frame[column] = pd.NA
    return TABLES[name].check(frame, path)


def markdown() -> str:
    """The README's table of result files, from the declarations."""
    lines = ["| file | one row is | columns |", "|---|---|---|"]
    for table in TABLES.values():
        columns = ", ".join(f"`{c}`" for c in table.columns)
        lines.append(f"| `{table.path}` | {table.row} | {columns} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown() + "\n")


def read_rule_inputs(inputs, named=("survival", "blocks")) -> dict[str, pd.DataFrame]:
    """The tables a drawing rule reads, checked: the aggregated ``tables`` by their stems, the
    ``named`` ones (collapse tables) by name, and the width sweeps concatenated when any."""
    tables = {Path(path).stem: read_table(path, Path(path).stem) for path in inputs["tables"]}
    for name in named:
        tables[name] = read_table(inputs[name], name)
    sweeps = [read_table(p, "width_sweep") for p in inputs["width_sweep"]]
    if sweeps:
        tables["width_sweep"] = pd.concat(sweeps, ignore_index=True)
    return tables
