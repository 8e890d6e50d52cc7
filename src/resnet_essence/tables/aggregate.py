"""From per-run files to tidy tables: one row per observation, means and 95% intervals.

Nothing here judges a claim: the thresholds of the verdict rules live in ``claims.py``. This
module only reshapes and summarises (and imports no torch, so the aggregate job starts fast).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..stats import bounded_mean_ci, depth_profile, mean_ci, pooled_rate_ci
from .schema import AGGREGATED_LAYER_STATISTICS

RUN_KEYS = ["dataset", "arch", "depth", "seed"]
GROUP_KEYS = ["dataset", "arch", "depth"]
# the MobileNetV2-style nets: a variant and a bottleneck width instead of an arch and a depth
BOTTLENECK_KEYS = ["dataset", "variant", "width", "seed"]
FINAL_METRICS = ["train_err", "test_err", "train_loss", "test_loss"]
# error rates, and the column that says on how many images each was counted: their group
# intervals come from the pooled counts (stats.pooled_rate_ci), inside [0, 1]
RATES = {"train_err": "n_train", "test_err": "n_test"}


def _summarise(
    frame: pd.DataFrame, keys: list[str], value: str, bounds=None, trials: str | None = None
) -> pd.DataFrame:
    """Mean and 95% interval of ``value`` per group of ``keys``: a t interval; inside ``bounds``
    (logit scale) when given; from pooled counts when ``trials`` names the column of images
    behind each rate."""
    rows = []
    for key, group in frame.groupby(keys, sort=True, dropna=False):
        if trials is not None:
            mean, lo, hi, n = pooled_rate_ci(group[value], float(group[trials].iloc[0]))
        elif bounds is not None:
            mean, lo, hi, n = bounded_mean_ci(group[value], *bounds)
        else:
            mean, lo, hi, n = mean_ci(group[value])
        rows.append({**dict(zip(keys, key, strict=True)), "mean": mean, "lo": lo, "hi": hi, "n": n})
    return pd.DataFrame(rows, columns=[*keys, "mean", "lo", "hi", "n"])


def run_table(
    summaries: list[dict], metrics: list[pd.DataFrame], keys: list[str] = RUN_KEYS
) -> pd.DataFrame:
    """One row per run: its status, final errors, data sizes and the mean training error over
    epochs (``train_err_auc``, lower = got there sooner)."""
    rows = []
    for summary, curve in zip(summaries, metrics, strict=True):
        rows.append(
            {
                **{k: summary[k] for k in keys},
                "params": summary["params"],
                "norm": summary["spec"].get("norm", "batch"),
                "init": summary["spec"].get("init", "he"),
                # filters in the first stage (a bottleneck net's width is its id instead)
                "base_width": summary["spec"].get("width") if "width" not in keys else None,
                "status": summary["status"],
                "epochs_completed": summary["epochs_completed"],
                **{m: summary[f"final_{m}"] for m in FINAL_METRICS},
                "train_err_auc": float(curve["train_err"].mean()) if len(curve) else np.nan,
                # runs trained before the clean error was measured: not measured
                "train_err_eval": summary.get("final_train_err_eval", np.nan),
                "n_train": summary["n_train"],
                "n_test": summary["n_test"],
                "num_classes": summary["num_classes"],
                "train_seconds": summary["train_seconds"],
                "device": summary["device"],
                # runs from before these were recorded: fp32 alone (bf16 was opt-in, CUDA only)
                "precision": summary.get("precision", "fp32"),
                "packed": summary.get("packed", 1),
            }
        )
    columns = [*keys, "params", "norm", "init", "base_width", "status", "epochs_completed"]
    columns += FINAL_METRICS
    columns += ["train_err_auc", "train_err_eval"]
    columns += ["n_train", "n_test", "num_classes", "train_seconds", "device", "precision"]
    columns.append("packed")
    return pd.DataFrame(rows, columns=columns).sort_values(keys, ignore_index=True)


def final_table(runs: pd.DataFrame, keys: list[str] = GROUP_KEYS) -> pd.DataFrame:
    """One row per dataset, arch and depth (or other ``keys``): mean and 95% interval of each
    final metric.

    Diverged runs are counted in ``n_diverged`` and left out of the means; error rates get
    intervals from their pooled counts, inside [0, 1].
    """
    completed = runs[runs["status"] == "completed"]
    base = (
        runs.groupby(keys, sort=True)
        .agg(
            params=("params", "first"),
            n_runs=("seed", "size"),
            n_diverged=("status", lambda s: int((s == "diverged").sum())),
        )
        .reset_index()
    )
    for metric in [*FINAL_METRICS, "train_err_auc"]:
        summary = _summarise(completed, keys, metric, trials=RATES.get(metric)).drop(columns="n")
        summary = summary.rename(
            columns={"mean": f"{metric}_mean", "lo": f"{metric}_lo", "hi": f"{metric}_hi"}
        )
        base = base.merge(summary, on=keys, how="left")
    return base


def curve_table(metrics: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Per-epoch curves over seeds: dataset, arch, depth, epoch, metric, mean, lo, hi, n
    (``runs``, the run table, says on how many images each error rate was counted)."""
    long = metrics.melt(
        id_vars=[*RUN_KEYS, "epoch"],
        value_vars=FINAL_METRICS,
        var_name="metric",
        value_name="value",
    ).merge(runs[[*RUN_KEYS, *RATES.values()]], on=RUN_KEYS, how="left")
    parts = [
        _summarise(rows, [*GROUP_KEYS, "epoch", "metric"], "value", trials=RATES.get(metric))
        for metric, rows in long.groupby("metric", sort=True)
    ]
    return pd.concat(parts, ignore_index=True).sort_values(
        [*GROUP_KEYS, "epoch", "metric"], ignore_index=True
    )


def signal_profiles(layers: pd.DataFrame) -> dict[str, float]:
    """The depth profile of the backward signal at the block outputs of one net and snapshot
    (``layers``: its gradstats rows), two ways:

    - ``signal_norm_*``: the total norm of dL/dh at each block output. A map that hands the
      gradient on unchanged in norm (an isometry: an identity block, an orthogonal layer) scores
      slope 0 whatever the shape of its output: the measure the claims use.
    - ``signal_rms_*``: the same divided by the square root of the output's element count. The
      count halves at every stage transition (twice the channels, a quarter of the positions), so
      a conserved signal scores about +0.35 decades per two transitions toward "vanishing" from
      the bookkeeping alone: kept under its own name, never judged.
    """
    signal = layers[(layers["kind"] == "signal") & layers["layer"].str.startswith("block")]
    signal = signal.sort_values("layer_index")
    values: dict[str, float] = {}
    for name, column in (("norm", "signal_grad_norm"), ("rms", "signal_grad_rms")):
        ratio, slope = depth_profile(signal[column])
        values[f"signal_{name}_ratio"], values[f"signal_{name}_slope"] = ratio, slope
    return values


def _site_statistics(relu: pd.DataFrame, bn: pd.DataFrame) -> dict[str, float]:
    values: dict[str, float] = {}
    for site, rows in relu.groupby("site", sort=True):
        values[f"inactive_fraction_{site}"] = 1.0 - rows["relu_active_fraction"].mean()
        values[f"dead_fraction_{site}"] = rows["dead_fraction"].mean()
    block_bn = bn[bn["layer"].str.startswith("block")]["response_std"].to_numpy(dtype=float)
    if len(block_bn):
        # He et al. Fig. 7's responses; a BN output's std is about |gamma|, and a few early
        # layers can sit near 100: a median is not led by them
        values["response_median"] = float(np.median(block_bn))
        values["response_logmean"] = float(10 ** np.mean(np.log10(block_bn)))
    return values


def _switching_correlation(layers: pd.DataFrame) -> float:
    """Spearman correlation over layers between the switching fraction and the held-out loss
    change when the layer becomes linear (NaN with fewer than three layers, no spread, or no
    loss change measured: a probe without held-out images has none, probes.probe_snapshots)."""
    wide = layers.pivot_table(index="layer_index", columns="statistic", values="value")
    columns = ["switching_fraction", "delta_loss_linear_layer"]
    if not set(columns) <= set(wide.columns):
        return np.nan
    pair = wide[columns].dropna()
    if len(pair) > 2 and pair.nunique().min() > 1:
        return float(sps.spearmanr(pair["switching_fraction"], pair["delta_loss_linear_layer"])[0])
    return np.nan


def _probe_statistics(run: pd.DataFrame) -> dict[str, float]:
    """A run's probes at one epoch, per network: means per site, the switching correlation, the
    lesion errors (probes.py says what each probe measures)."""
    values: dict[str, float] = {}
    per_layer = run[run["probe"].isin(["redundancy", "class_evidence"])]
    for (site, statistic), rows in per_layer.groupby(["site", "statistic"], sort=True):
        values[f"{statistic}_{site}"] = rows["value"].mean()
    units = run[run["probe"] == "linear_units"]
    if len(units):
        layers = units[units["layer_index"] >= 0]
        for site, rows in [("all", layers), *layers.groupby("site", sort=True)]:
            rho = _switching_correlation(rows)
            if np.isfinite(rho):
                values["switch_rho" if site == "all" else f"switch_rho_{site}"] = rho
        overall = units[units["layer_index"] < 0].set_index("statistic")["value"]
        values.update({k: float(v) for k, v in overall.items()})
    lesion = run[run["probe"] == "lesion"]
    if len(lesion):
        for statistic, name in (("intact_error", "intact_error"), ("images", "lesion_images")):
            values[name] = float(lesion.loc[lesion["statistic"] == statistic, "value"].mean())
        single = lesion[lesion["statistic"] == "lesion_error"]
        values["lesion_error_mean"] = float(single["value"].mean()) if len(single) else np.nan
        shared = single[single["site"] == "same_shape"]["value"]
        values["lesion_error_same_shape"] = float(shared.mean()) if len(shared) else np.nan
        for row in lesion[lesion["statistic"] == "k_deleted_error"].itertuples():
            values[f"k_deleted_error_{int(row.layer_index)}"] = float(row.value)
    return values


def network_runs(
    layers: pd.DataFrame, shatter: pd.DataFrame, probes: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per run and snapshot epoch, the network-level statistics in long form.

    - ``grad_ratio``/``grad_slope``: the depth profile (:func:`depth_profile`) of the
      weight-gradient norm over every conv and linear layer;
    - ``signal_norm_ratio``/``signal_norm_slope``: the same for the total norm of the backward
      signal at the block outputs (stem and classifier excluded): slope above 0 = vanishing
      toward the input; the measure of claims V, 5b, 5c and W2 (:func:`signal_profiles`);
    - ``signal_rms_ratio``/``signal_rms_slope``: the same per element (the norm over the square
      root of the element count), the measure before 2026-12 (kept, never judged: it leans);
    - ``inactive_fraction_<site>``, ``dead_fraction_<site>``: how often the ReLUs of one site
      output 0, and the share of their units that never fire (sites are never pooled);
    - ``response_median``/``response_logmean``: the BatchNorm output std over a net's blocks;
    - ``autocorrelation_lag1``: shattering at the smallest lag, mean over the paths;
    - from the probes: ``pr_per_channel_<site>``, ``relu_r2_<site>``,
      ``class_acc_input_<site>``, ``class_acc_output_<site>``, ``class_acc_change_<site>``
      (the class-evidence probe, output minus input), ``switch_rho`` (all
      layers) and ``switch_rho_<site>``, ``always_active_logit_change``,
      ``always_active_delta_loss``, ``intact_error``, ``lesion_images`` (the images the lesion
      errors count on), ``lesion_error_mean`` (every deletable
      block), ``lesion_error_same_shape`` (the blocks a plain net could lose too),
      ``k_deleted_error_<k>`` (:func:`_probe_statistics`).
    """
    rows = []
    keys = [*RUN_KEYS, "epoch"]
    has_probes = probes is not None and len(probes) > 0
    probe_groups = dict(list(probes.groupby(keys, sort=False))) if has_probes else {}
    for key, run in layers.groupby(keys, sort=True):
        values: dict[str, float] = {}
        weights = run[run["kind"] == "weight"].sort_values("layer_index")
        values["grad_ratio"], values["grad_slope"] = depth_profile(weights["weight_grad_norm"])
        values.update(signal_profiles(run))
        values.update(_site_statistics(run[run["kind"] == "relu"], run[run["kind"] == "bn"]))
        if has_probes:
            values.update(_probe_statistics(probe_groups.get(key, probes.iloc[:0])))
        base = dict(zip(keys, key, strict=True))
        rows.extend({**base, "statistic": k, "value": float(v)} for k, v in values.items())
    out = pd.DataFrame(rows, columns=[*RUN_KEYS, "epoch", "statistic", "value"])
    if len(shatter):
        lag1 = shatter[shatter["lag"] == shatter["lag"].min()]
        mean = lag1.groupby([*RUN_KEYS, "epoch"], sort=True)["autocorrelation"].mean()
        extra = mean.reset_index().rename(columns={"autocorrelation": "value"})
        extra.insert(len(RUN_KEYS) + 1, "statistic", "autocorrelation_lag1")
        out = pd.concat([out, extra], ignore_index=True)
    return out


def network_table(net_runs: pd.DataFrame) -> pd.DataFrame:
    return _summarise(net_runs, [*GROUP_KEYS, "epoch", "statistic"], "value")


def layer_table(layers: pd.DataFrame) -> pd.DataFrame:
    """Per layer over seeds: one row per (group, epoch, kind, layer_index, statistic)."""
    long = layers.melt(
        id_vars=[*RUN_KEYS, "epoch", "kind", "layer_index", "layer", "site"],
        value_vars=AGGREGATED_LAYER_STATISTICS,
        var_name="statistic",
        value_name="value",
    )
    long = long.dropna(subset=["value"])
    return _summarise(
        long, [*GROUP_KEYS, "epoch", "kind", "layer_index", "layer", "site", "statistic"], "value"
    )


def probe_table(probes: pd.DataFrame) -> pd.DataFrame:
    """Per layer over seeds: the probes of probes.py, one row per (group, epoch, probe, layer,
    statistic)."""
    keys = [*GROUP_KEYS, "epoch", "probe", "layer_index", "layer", "site", "statistic"]
    return _summarise(probes.fillna({"site": ""}), keys, "value")


def shattering_table(shatter: pd.DataFrame) -> pd.DataFrame:
    """Autocorrelation by lag over seeds (each run's value the mean over its paths)."""
    per_run = shatter.groupby([*RUN_KEYS, "epoch", "lag"], sort=True)["autocorrelation"].mean()
    return _summarise(
        per_run.reset_index(), [*GROUP_KEYS, "epoch", "lag"], "autocorrelation", (-1, 1)
    )


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


def with_ids(frame: pd.DataFrame, summary: dict, keys: list[str] = RUN_KEYS) -> pd.DataFrame:
    """A run's own table with the run's ids (from its summary) as its first columns."""
    return frame.assign(**{key: summary[key] for key in keys})[[*keys, *frame.columns]]


def all_tables(
    summaries: list[dict],
    metrics: list[pd.DataFrame],
    traces: list[pd.DataFrame],
    layers: pd.DataFrame,
    shattering: pd.DataFrame,
    probes: pd.DataFrame,
    bottleneck_summaries: list[dict],
    bottleneck_metrics: list[pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """Every table of rule aggregate, by name (tables.TABLES declares each), from the runs'
    summaries and their own tables (metrics and traces one per run, in the summaries' order;
    the gradstats tables already carry their run's ids)."""
    metric_frames = [with_ids(m, s) for m, s in zip(metrics, summaries, strict=True)]
    epochs = pd.concat(metric_frames, ignore_index=True)
    trace = pd.concat([with_ids(t, s) for t, s in zip(traces, summaries, strict=True)])
    runs = run_table(summaries, metric_frames)
    net_runs = network_runs(layers, shattering, probes)
    bottleneck_frames = [
        with_ids(m, s, BOTTLENECK_KEYS)
        for m, s in zip(bottleneck_metrics, bottleneck_summaries, strict=True)
    ]
    bottleneck_runs = run_table(bottleneck_summaries, bottleneck_frames, BOTTLENECK_KEYS)
    return {
        "runs": runs,
        "epochs": epochs,
        "final": final_table(runs),
        "curves": curve_table(epochs, runs),
        "layers": layer_table(layers),
        "network_runs": net_runs,
        "networks": network_table(net_runs),
        "shattering": shattering_table(shattering),
        "probes": probe_table(probes),
        "trace": trace_table(trace),
        "bottleneck_runs": bottleneck_runs,
        "bottleneck": final_table(bottleneck_runs, BOTTLENECK_KEYS[:-1]),
    }
