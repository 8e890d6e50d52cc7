"""From per-run files to tidy tables: one row per observation, means and 95% intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .gradstats import depth_profile
from .stats import mean_ci

RUN_KEYS = ["dataset", "arch", "depth", "seed"]
GROUP_KEYS = ["dataset", "arch", "depth"]
FINAL_METRICS = ["train_err", "test_err", "train_loss", "test_loss"]


def _summarise(frame: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    rows = []
    for key, group in frame.groupby(keys, sort=True, dropna=False):
        mean, lo, hi, n = mean_ci(group[value])
        rows.append({**dict(zip(keys, key, strict=True)), "mean": mean, "lo": lo, "hi": hi, "n": n})
    return pd.DataFrame(rows, columns=[*keys, "mean", "lo", "hi", "n"])


def run_table(summaries: list[dict], metrics: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per run: its status, final errors and the mean training error over epochs.

    ``train_err_auc`` (the mean of the per-epoch training error) measures how fast a run
    converges: lower means it got there sooner.
    """
    rows = []
    for summary, curve in zip(summaries, metrics, strict=True):
        rows.append(
            {
                **{k: summary[k] for k in RUN_KEYS},
                "params": summary["params"],
                "status": summary["status"],
                "epochs_completed": summary["epochs_completed"],
                **{m: summary[f"final_{m}"] for m in FINAL_METRICS},
                "train_err_auc": float(curve["train_err"].mean()) if len(curve) else np.nan,
                "train_seconds": summary["train_seconds"],
                "device": summary["device"],
            }
        )
    return pd.DataFrame(rows).sort_values(RUN_KEYS, ignore_index=True)


def final_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, arch and depth: mean and 95% interval of each final metric.

    Diverged runs are counted in ``n_diverged`` and left out of the means.
    """
    completed = runs[runs["status"] == "completed"]
    base = (
        runs.groupby(GROUP_KEYS, sort=True)
        .agg(
            params=("params", "first"),
            n_runs=("seed", "size"),
            n_diverged=("status", lambda s: int((s == "diverged").sum())),
        )
        .reset_index()
    )
    for metric in [*FINAL_METRICS, "train_err_auc"]:
        summary = _summarise(completed, GROUP_KEYS, metric).drop(columns="n")
        summary = summary.rename(
            columns={"mean": f"{metric}_mean", "lo": f"{metric}_lo", "hi": f"{metric}_hi"}
        )
        base = base.merge(summary, on=GROUP_KEYS, how="left")
    return base


def curve_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch curves over seeds: dataset, arch, depth, epoch, metric, mean, lo, hi, n."""
    long = metrics.melt(
        id_vars=[*RUN_KEYS, "epoch"],
        value_vars=FINAL_METRICS,
        var_name="metric",
        value_name="value",
    )
    return _summarise(long, [*GROUP_KEYS, "epoch", "metric"], "value")


def network_runs(layers: pd.DataFrame, shatter: pd.DataFrame) -> pd.DataFrame:
    """Per run and snapshot epoch, the network-level statistics in long form.

    ``grad_ratio``/``grad_slope``: the depth profile of the weight-gradient norm (first over last
    layer; slope of log10 against relative depth); ``signal_ratio``/``signal_slope``: the same
    for the backward signal at block outputs; ``dead_fraction`` and ``relu_active_fraction``:
    means over all ReLUs (``_branch``/``_trunk`` for each site); ``response_std``: mean over the
    branch BatchNorm outputs; ``autocorrelation_lag1``: shattering at lag 1.
    """
    rows = []
    for key, run in layers.groupby([*RUN_KEYS, "epoch"], sort=True):
        values: dict[str, float] = {}
        weights = run[run["kind"] == "weight"].sort_values("layer_index")
        values["grad_ratio"], values["grad_slope"] = depth_profile(weights["weight_grad_norm"])
        signal = run[run["kind"] == "signal"].sort_values("layer_index")
        values["signal_ratio"], values["signal_slope"] = depth_profile(signal["signal_grad_norm"])
        relu = run[run["kind"] == "relu"]
        values["dead_fraction"] = relu["dead_fraction"].mean()
        values["relu_active_fraction"] = relu["relu_active_fraction"].mean()
        for site in ("branch", "trunk"):
            values[f"dead_fraction_{site}"] = relu.loc[relu["site"] == site, "dead_fraction"].mean()
        bn = run[(run["kind"] == "bn") & (run["site"] == "branch")]
        values["response_std"] = bn["response_std"].mean() if len(bn) else np.nan
        base = dict(zip([*RUN_KEYS, "epoch"], key, strict=True))
        rows.extend({**base, "statistic": k, "value": float(v)} for k, v in values.items())
    out = pd.DataFrame(rows, columns=[*RUN_KEYS, "epoch", "statistic", "value"])
    if len(shatter):
        lag1 = shatter[shatter["lag"] == shatter["lag"].min()]
        extra = lag1.assign(statistic="autocorrelation_lag1", value=lag1["autocorrelation"])
        out = pd.concat([out, extra[[*RUN_KEYS, "epoch", "statistic", "value"]]], ignore_index=True)
    return out


def network_table(net_runs: pd.DataFrame) -> pd.DataFrame:
    return _summarise(net_runs, [*GROUP_KEYS, "epoch", "statistic"], "value")


def layer_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Per layer over seeds: one row per (group, epoch, kind, layer_index, statistic)."""
    value_columns = [
        "weight_grad_norm",
        "grad_to_weight",
        "signal_grad_norm",
        "relu_active_fraction",
        "dead_fraction",
        "response_std",
    ]
    long = layers.melt(
        id_vars=[*RUN_KEYS, "epoch", "kind", "layer_index", "layer", "site"],
        value_vars=value_columns,
        var_name="statistic",
        value_name="value",
    )
    long = long.dropna(subset=["value"])
    return _summarise(
        long, [*GROUP_KEYS, "epoch", "kind", "layer_index", "layer", "site", "statistic"], "value"
    )


def shattering_table(shatter: pd.DataFrame) -> pd.DataFrame:
    return _summarise(shatter, [*GROUP_KEYS, "epoch", "lag"], "autocorrelation")


def trace_table(trace: pd.DataFrame) -> pd.DataFrame:
    """The training-time gradient trace, mean over seeds, with depth as a fraction 0..1."""
    out = (
        trace.groupby([*GROUP_KEYS, "step", "epoch", "layer_index"], sort=True)["weight_grad_norm"]
        .mean()
        .reset_index()
    )
    layers = out.groupby(GROUP_KEYS)["layer_index"].transform("max").clip(lower=1)
    out["relative_depth"] = out["layer_index"] / layers
    return out
