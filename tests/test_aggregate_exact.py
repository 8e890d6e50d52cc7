"""tables/aggregate.py cell by cell on tables small enough to work out by hand: the run table's
columns and its defaults for old runs, the network statistics of one hand-built net (gradient and
signal profiles, ReLU sites, BatchNorm responses, probes, lesions, shattering), and the per-layer,
probe and trace tables over seeds. Every expectation is typed out or computed another way (numpy's
polyfit, scipy's t interval, a Spearman correlation by ranks)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from resnet_essence.tables import aggregate as agg

RUN_COLUMNS = [
    "dataset", "arch", "depth", "seed", "params", "norm", "init", "base_width", "status",
    "epochs_completed", "train_err", "test_err", "train_loss", "test_loss", "train_err_auc",
    "train_err_eval", "n_train", "n_test", "num_classes", "train_seconds", "device", "precision",
    "packed",
]  # fmt: skip
NET_COLUMNS = ["dataset", "arch", "depth", "seed", "epoch", "statistic", "value"]


def _t_cells(values) -> tuple[float, float, float]:
    """(mean, lo, hi): the 95% Student-t interval, from scipy."""
    values = np.asarray(values, dtype=float)
    lo, hi = sps.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=sps.sem(values))
    return float(values.mean()), float(lo), float(hi)


# -- run_table ------------------------------------------------------------------------------------


def _summary(arch: str, seed: int, **extra) -> dict:
    """A run summary as the oldest runs wrote it: no norm, init, precision, packed or clean
    training error recorded."""
    return {
        "dataset": "digits",
        "arch": arch,
        "depth": 8,
        "seed": seed,
        "params": 100 + seed,
        "spec": {"width": 16},
        "status": "completed",
        "epochs_completed": 3,
        "final_train_err": 0.1 + seed / 100,
        "final_test_err": 0.3 + seed / 100,
        "final_train_loss": 0.5,
        "final_test_loss": 0.9,
        "n_train": 1437,
        "n_test": 360,
        "num_classes": 7,
        "train_seconds": 12.5,
        "device": "cpu",
        **extra,
    }


def _curve(*train_errs: float) -> pd.DataFrame:
    n = len(train_errs)
    return pd.DataFrame(
        {"epoch": range(1, n + 1), "train_err": train_errs, "test_err": [0.5] * n}
        | {"train_loss": [1.0] * n, "test_loss": [1.0] * n}
    )


def test_run_table_fills_what_old_runs_did_not_record_and_names_every_column():
    summaries = [
        _summary("residual", 1),
        _summary("plain", 0, spec={"width": 32, "norm": "none", "init": "orthogonal"})
        | {"precision": "bf16", "packed": 3, "final_train_err_eval": 0.05},
    ]
    runs = agg.run_table(summaries, [_curve(0.6, 0.2, 0.11), _curve(0.4, 0.1)])
    assert list(runs.columns) == RUN_COLUMNS
    assert list(runs["arch"]) == ["plain", "residual"]  # sorted by the run keys
    new, old = runs.iloc[0], runs.iloc[1]
    # the old run: batch norm, He init, fp32, one seed at a time, no clean error
    assert (old["norm"], old["init"], old["precision"], old["packed"]) == ("batch", "he", "fp32", 1)
    assert math.isnan(old["train_err_eval"])
    assert (new["norm"], new["init"], new["precision"], new["packed"]) == (
        "none",
        "orthogonal",
        "bf16",
        3,
    )
    assert new["train_err_eval"] == 0.05
    assert (new["base_width"], old["base_width"]) == (32, 16)
    assert (old["num_classes"], old["n_train"], old["n_test"]) == (7, 1437, 360)
    assert (old["train_err"], old["test_err"], old["params"]) == (0.11, 0.31, 101)
    assert old["train_err_auc"] == pytest.approx((0.6 + 0.2 + 0.11) / 3)
    assert new["train_err_auc"] == pytest.approx(0.25)
    assert (old["train_seconds"], old["device"], old["epochs_completed"]) == (12.5, "cpu", 3)


def test_run_table_of_bottleneck_nets_has_no_base_width():
    summary = _summary("unused", 0, variant="linear", width=4, spec={"width": 4})
    runs = agg.run_table([summary], [_curve(0.3)], agg.BOTTLENECK_KEYS)
    assert list(runs.columns[:4]) == ["dataset", "variant", "width", "seed"]
    assert runs["width"].iloc[0] == 4
    assert runs["base_width"].isna().all()  # the width is the net's id, not a stage's filters


def test_run_table_without_runs_still_has_its_columns():
    runs = agg.run_table([], [], agg.BOTTLENECK_KEYS)
    assert runs.empty
    assert list(runs.columns) == ["dataset", "variant", "width", "seed", *RUN_COLUMNS[4:]]


# -- network_runs ---------------------------------------------------------------------------------


def _layers(seed: int, arch: str = "plain", scale: float = 1.0) -> pd.DataFrame:
    """gradstats rows of one net at epoch 0, in no particular order:

    - weight-gradient norms 0.01, 0.1, 1 from input to output: ratio 0.01, slope +2 decades;
    - backward signal: the stem (left out), then blocks at total norm 1 and 10 (ratio 0.1,
      slope +1) and at rms 0.5 and 0.5 (ratio 1, slope 0);
    - ReLUs: two of the branch (active 0.6 and 0.8, dead 0.1 and 0.3), one of the trunk (active
      0.9, dead 0);
    - BatchNorm: the stem's (left out) and two blocks' at response std 1 and 100.
    """
    ids = {"dataset": "digits", "arch": arch, "depth": 8, "seed": seed, "epoch": 0}
    rows = [
        {"kind": "weight", "layer_index": 2, "layer": "fc", "weight_grad_norm": 1.0 * scale},
        {"kind": "weight", "layer_index": 0, "layer": "stem.conv", "weight_grad_norm": 0.01},
        {"kind": "weight", "layer_index": 1, "layer": "block0.conv1", "weight_grad_norm": 0.1},
        {"kind": "signal", "layer_index": 2, "layer": "block1", "signal_grad_norm": 10.0}
        | {"signal_grad_rms": 0.5},
        {"kind": "signal", "layer_index": 0, "layer": "stem", "signal_grad_norm": 1e3}
        | {"signal_grad_rms": 1e3},
        {"kind": "signal", "layer_index": 1, "layer": "block0", "signal_grad_norm": 1.0}
        | {"signal_grad_rms": 0.5},
        {"kind": "relu", "layer_index": 0, "layer": "block0.relu1", "site": "branch"}
        | {"relu_active_fraction": 0.6, "dead_fraction": 0.1},
        {"kind": "relu", "layer_index": 1, "layer": "block1.relu1", "site": "branch"}
        | {"relu_active_fraction": 0.8, "dead_fraction": 0.3},
        {"kind": "relu", "layer_index": 2, "layer": "block1.relu2", "site": "trunk"}
        | {"relu_active_fraction": 0.9, "dead_fraction": 0.0},
        {"kind": "bn", "layer_index": 0, "layer": "stem.bn", "response_std": 7.0},
        {"kind": "bn", "layer_index": 1, "layer": "block0.bn1", "response_std": 1.0},
        {"kind": "bn", "layer_index": 2, "layer": "block1.bn1", "response_std": 100.0},
    ]
    frame = pd.DataFrame([ids | {"site": "trunk"} | r for r in rows])
    for column in ("weight_grad_norm", "grad_to_weight", "signal_grad_norm", "signal_grad_rms"):
        frame[column] = frame.get(column, np.nan)
    for column in ("relu_active_fraction", "dead_fraction", "response_std"):
        frame[column] = frame.get(column, np.nan)
    return frame


# the statistics of _layers' net, worked out by hand (see its docstring)
LAYER_VALUES = {
    "grad_ratio": 0.01,
    "grad_slope": 2.0,
    "signal_norm_ratio": 0.1,
    "signal_norm_slope": 1.0,
    "signal_rms_ratio": 1.0,
    "signal_rms_slope": 0.0,
    "inactive_fraction_branch": 0.3,
    "dead_fraction_branch": 0.2,
    "inactive_fraction_trunk": 0.1,
    "dead_fraction_trunk": 0.0,
    "response_median": 50.5,
    "response_logmean": 10.0,  # 10 ** mean(log10 1, log10 100)
}


def _probes(seed: int) -> pd.DataFrame:
    """Every probe of one net at epoch 0:

    - redundancy at two branch layers (2 and 4) and class evidence at two trunk layers (0.1 and
      0.3): means 3 and 0.2;
    - the linear-units probe at six layers (four branch, two trunk), switching fraction 0.1 ..
      0.6 against a held-out loss change whose ranks are 4 2 3 1 5 6: Spearman 1 - 6 * 18 /
      (6 * 35) = 17/35 over all six, 1 - 6 * 18 / (4 * 15) = -0.8 over the branch's four, none
      over the trunk's two; and its two network-level rows (layer_index -1);
    - the lesion probe: the intact error 0.02 on 192 images, single-block lesions 0.05 (a
      same-shape block) and 0.25 (a downsampling one), and k blocks deleted: 0.08 (k 1), 0.3
      (k 2).
    """
    ids = {"dataset": "digits", "arch": "plain", "depth": 8, "seed": seed, "epoch": 0}
    rows = [
        ("redundancy", 1, "block0.relu1", "branch", "pr_per_channel", 2.0),
        ("redundancy", 2, "block1.relu1", "branch", "pr_per_channel", 4.0),
        ("class_evidence", 1, "block0", "trunk", "class_acc_change", 0.1),
        ("class_evidence", 2, "block1", "trunk", "class_acc_change", 0.3),
    ]
    switching = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    delta = (0.4, 0.3, 0.35, 0.1, 0.5, 0.6)
    for index, (s, d) in enumerate(zip(switching, delta, strict=True)):
        site = "branch" if index < 4 else "trunk"
        rows.append(("linear_units", index, f"layer{index}", site, "switching_fraction", s))
        rows.append(("linear_units", index, f"layer{index}", site, "delta_loss_linear_layer", d))
    rows += [
        ("linear_units", -1, "", None, "always_active_logit_change", 0.7),
        ("linear_units", -1, "", None, "always_active_delta_loss", 0.05),
        ("lesion", -1, "", None, "intact_error", 0.02),
        ("lesion", -1, "", None, "images", 192.0),
        ("lesion", 1, "block0", "same_shape", "lesion_error", 0.05),
        ("lesion", 2, "block1", "downsample", "lesion_error", 0.25),
        ("lesion", 1, "", None, "k_deleted_error", 0.08),
        ("lesion", 2, "", None, "k_deleted_error", 0.3),
    ]
    names = ["probe", "layer_index", "layer", "site", "statistic", "value"]
    return pd.DataFrame([ids | dict(zip(names, r, strict=True)) for r in rows])


PROBE_VALUES = {
    "pr_per_channel_branch": 3.0,
    "class_acc_change_trunk": 0.2,
    "switch_rho": 17 / 35,
    "switch_rho_branch": -0.8,
    "always_active_logit_change": 0.7,
    "always_active_delta_loss": 0.05,
    "intact_error": 0.02,
    "lesion_images": 192.0,
    "lesion_error_mean": 0.15,
    "lesion_error_same_shape": 0.05,
    "k_deleted_error_1": 0.08,
    "k_deleted_error_2": 0.3,
}


def _shattering() -> pd.DataFrame:
    """Seed 0: two paths at lag 1 (0.9, 0.7) and one at lag 4 (0.1); seed 1: lag 1 only (0.5)."""
    ids = {"dataset": "digits", "arch": "plain", "depth": 8, "epoch": 0}
    rows = [(0, 1, 0, 0.9), (0, 1, 1, 0.7), (0, 4, 0, 0.1), (1, 1, 0, 0.5)]
    names = ["seed", "lag", "path", "autocorrelation"]
    return pd.DataFrame([ids | dict(zip(names, r, strict=True)) for r in rows])


def _by_statistic(net_runs: pd.DataFrame, seed: int) -> dict[str, float]:
    rows = net_runs[net_runs["seed"] == seed]
    assert not rows["statistic"].duplicated().any()
    return dict(zip(rows["statistic"], rows["value"], strict=True))


def test_network_runs_of_one_hand_built_net_with_every_probe_and_shattering():
    layers = pd.concat([_layers(1), _layers(0)], ignore_index=True)
    net_runs = agg.network_runs(layers, _shattering(), _probes(0))
    assert list(net_runs.columns) == NET_COLUMNS
    # seed 0: the layer statistics, every probe's, and shattering at the smallest lag
    found = _by_statistic(net_runs, 0)
    expected = LAYER_VALUES | PROBE_VALUES | {"autocorrelation_lag1": 0.8}
    assert set(found) == set(expected)
    for name, value in expected.items():
        assert found[name] == pytest.approx(value, abs=1e-12), name
    # seed 1 has no probe rows: the layer statistics and its shattering only
    found = _by_statistic(net_runs, 1)
    assert set(found) == set(LAYER_VALUES) | {"autocorrelation_lag1"}
    assert found["autocorrelation_lag1"] == pytest.approx(0.5)
    # the ids of every row are its run's
    assert set(net_runs["epoch"]) == {0} and set(net_runs["arch"]) == {"plain"}
    assert (net_runs["dataset"] == "digits").all() and (net_runs["depth"] == 8).all()


def test_the_profiles_of_network_runs_agree_with_a_least_squares_fit():
    """The slopes of the hand-built net, against numpy's polyfit over relative depth."""
    net_runs = agg.network_runs(_layers(0, scale=3.0), pd.DataFrame())
    found = _by_statistic(net_runs, 0)
    fit = np.polyfit([0.0, 0.5, 1.0], np.log10([0.01, 0.1, 3.0]), 1)[0]
    assert found["grad_slope"] == pytest.approx(fit)
    assert found["grad_ratio"] == pytest.approx(0.01 / 3.0)
    assert "autocorrelation_lag1" not in found  # no shattering measured


def test_network_runs_of_no_layers_is_an_empty_table_with_its_columns():
    out = agg.network_runs(_layers(0).iloc[:0], pd.DataFrame())
    assert out.empty and list(out.columns) == NET_COLUMNS


def test_network_table_is_sorted_by_net_whatever_the_order_of_its_runs():
    values = {("residual", 0): 1.0, ("residual", 1): 2.0, ("plain", 0): 4.0, ("plain", 1): 8.0}
    net_runs = pd.DataFrame(
        [
            {"dataset": "digits", "arch": arch, "depth": 8, "seed": seed, "epoch": 0}
            | {"statistic": "grad_slope", "value": value}
            for (arch, seed), value in values.items()
        ]
    )
    table = agg.network_table(net_runs)
    assert list(table["arch"]) == ["plain", "residual"]
    for arch, row in zip(("plain", "residual"), table.itertuples(), strict=True):
        seeds = [values[(arch, 0)], values[(arch, 1)]]
        assert (row.mean, row.lo, row.hi) == pytest.approx(_t_cells(seeds))
        assert row.n == 2


# -- the per-layer tables over seeds ---------------------------------------------------------------


def test_layer_table_summarises_each_layer_and_statistic_over_seeds():
    layers = pd.concat([_layers(0), _layers(1, scale=3.0)], ignore_index=True)
    table = agg.layer_table(layers)
    assert list(table.columns) == [
        "dataset", "arch", "depth", "epoch", "kind", "layer_index", "layer", "site", "statistic",
        "mean", "lo", "hi", "n",
    ]  # fmt: skip
    fc = table[(table["layer"] == "fc") & (table["statistic"] == "weight_grad_norm")]
    assert len(fc) == 1
    assert (fc["mean"].iloc[0], fc["lo"].iloc[0], fc["hi"].iloc[0]) == pytest.approx(
        _t_cells([1.0, 3.0])
    )
    assert fc["kind"].iloc[0] == "weight" and fc["n"].iloc[0] == 2
    # a statistic a layer does not have is no row: the fc layer has one, a ReLU two
    assert len(table[table["layer"] == "fc"]) == 1
    relu = table[table["layer"] == "block1.relu1"]
    assert sorted(relu["statistic"]) == ["dead_fraction", "relu_active_fraction"]
    assert relu.set_index("statistic").loc["dead_fraction", "mean"] == pytest.approx(0.3)
    assert "weight_norm" not in set(table["statistic"])
    # the rows: 3 weight layers x 1 statistic, 3 signal x 2, 3 ReLUs x 2, 3 BatchNorms x 1
    counted = {"weight": 3, "signal": 6, "relu": 6, "bn": 3}
    assert table["kind"].value_counts().to_dict() == counted


def test_probe_table_keeps_the_rows_without_a_site():
    probes = pd.concat([_probes(0), _probes(1).assign(value=lambda f: 2 * f["value"])])
    table = agg.probe_table(probes)
    assert list(table.columns) == [
        "dataset", "arch", "depth", "epoch", "probe", "layer_index", "layer", "site", "statistic",
        "mean", "lo", "hi", "n",
    ]  # fmt: skip
    intact = table[table["statistic"] == "intact_error"]
    assert len(intact) == 1 and intact["site"].iloc[0] == ""
    assert (intact["mean"].iloc[0], intact["lo"].iloc[0], intact["hi"].iloc[0]) == pytest.approx(
        _t_cells([0.02, 0.04])
    )
    assert len(table) == len(_probes(0))  # one row a probe row, over the two seeds
    assert set(table["n"]) == {2} and set(table["epoch"]) == {0}


def test_trace_table_averages_over_seeds_and_puts_depth_on_0_to_1():
    rows = []
    for seed in (0, 1):
        for arch, indices in (("plain", (0, 1, 2, 3)), ("residual", (0, 1)), ("tiny", (0,))):
            rows += [
                {"dataset": "digits", "arch": arch, "depth": 8, "seed": seed, "step": 45}
                | {"epoch": 1, "layer_index": i, "weight_grad_norm": (1 + seed) * (i + 1)}
                for i in indices
            ]
    table = agg.trace_table(pd.DataFrame(rows))
    assert list(table.columns) == [
        "dataset", "arch", "depth", "step", "epoch", "layer_index", "weight_grad_norm",
        "relative_depth",
    ]  # fmt: skip
    by_net = {a: t for a, t in table.groupby("arch")}
    assert list(by_net["plain"]["relative_depth"]) == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert list(by_net["residual"]["relative_depth"]) == [0.0, 1.0]
    assert list(by_net["tiny"]["relative_depth"]) == [0.0]  # one layer: no division by 0
    # the mean over the two seeds: (i + 1) and 2 (i + 1)
    assert list(by_net["plain"]["weight_grad_norm"]) == [1.5, 3.0, 4.5, 6.0]


# -- all_tables -----------------------------------------------------------------------------------


def test_all_tables_wires_every_table_from_two_runs():
    summaries = [
        _summary("plain", 0) | {"final_train_err": 0.1, "final_test_err": 0.3},
        _summary("plain", 1) | {"final_train_err": 0.2, "final_test_err": 0.3},
    ]
    metrics = [_curve(0.5, 0.1), _curve(0.7, 0.2)]
    traces = [
        pd.DataFrame({"step": [45, 45], "epoch": [1, 1], "layer_index": [0, 2]})
        .assign(weight_grad_norm=[1.0 + s, 3.0]) for s in (0, 1)
    ]  # fmt: skip
    layers = pd.concat([_layers(0), _layers(1)], ignore_index=True)
    tables = agg.all_tables(summaries, metrics, traces, layers, _shattering(), _probes(0), [], [])
    assert set(tables) == {
        "runs", "epochs", "final", "curves", "layers", "network_runs", "networks", "shattering",
        "probes", "trace", "bottleneck_runs", "bottleneck",
    }  # fmt: skip
    epochs = tables["epochs"]
    assert list(epochs.index) == [0, 1, 2, 3]
    assert list(epochs.columns[:4]) == ["dataset", "arch", "depth", "seed"]
    assert list(epochs["seed"]) == [0, 0, 1, 1]
    assert list(epochs["train_err"]) == [0.5, 0.1, 0.7, 0.2]
    assert list(tables["runs"]["train_err"]) == [0.1, 0.2]
    assert tables["runs"]["train_err_auc"].tolist() == pytest.approx([0.3, 0.45])
    final = tables["final"].iloc[0]
    assert (final["n_runs"], final["n_diverged"]) == (2, 0)
    assert final["train_err_mean"] == pytest.approx(0.15)
    curve = tables["curves"].set_index(["epoch", "metric"]).loc[(1, "train_err")]
    assert curve["mean"] == pytest.approx(0.6) and curve["n"] == 2
    assert list(tables["trace"]["relative_depth"]) == [0.0, 1.0]
    assert list(tables["trace"]["weight_grad_norm"]) == [1.5, 3.0]
    assert _by_statistic(tables["network_runs"], 0)["intact_error"] == pytest.approx(0.02)
    networks = tables["networks"].set_index("statistic")
    assert networks.loc["autocorrelation_lag1", "mean"] == pytest.approx((0.8 + 0.5) / 2)
    assert networks.loc["grad_slope", "mean"] == pytest.approx(2.0)
    shattering = tables["shattering"].set_index("lag")
    assert shattering.loc[1, "n"] == 2 and shattering.loc[4, "n"] == 1
    assert len(tables["layers"]) == 18 and len(tables["probes"]) == len(_probes(0))
    # no bottleneck net trained: empty tables that still have their columns
    assert tables["bottleneck_runs"].empty and "variant" in tables["bottleneck_runs"]
    assert tables["bottleneck"].empty


def test_the_switching_correlation_needs_three_layers_and_no_more():
    """Spearman over three layers: switching 0.1, 0.2, 0.3 against loss changes ranked 3, 1, 2
    gives 1 - 6 * (4 + 1 + 1) / (3 * 8) = -0.5; over two layers there is none."""
    rows = [(i, "switching_fraction", s) for i, s in enumerate((0.1, 0.2, 0.3))]
    rows += [(i, "delta_loss_linear_layer", d) for i, d in enumerate((0.3, 0.1, 0.2))]
    layers = pd.DataFrame(rows, columns=["layer_index", "statistic", "value"])
    assert agg._switching_correlation(layers) == pytest.approx(-0.5, abs=1e-12)
    assert math.isnan(agg._switching_correlation(layers[layers["layer_index"] < 2]))
