"""The tables the runs are written into, fed asymmetric runs (training and test errors that differ,
n_train unlike n_test), cell by cell: each interval of an error rate is Clopper-Pearson from
scipy's beta distribution on the pooled images, each other mean a t interval, each report cell
typed out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from resnet_essence.report.measurements import bottleneck_block, final_block
from resnet_essence.stats import pooled_rate_ci
from resnet_essence.tables import aggregate as agg

N_TRAIN, N_TEST = 500, 200  # images behind each training and each test error
TRAIN = (0.10, 0.12, 0.14)  # spread over seeds: over-dispersed against 500 images
TEST = (0.20, 0.21, 0.22)  # spread within counting noise against 200 images


def _beta_interval(errors: float, images: float) -> tuple[float, float]:
    """Clopper-Pearson, 95%, straight from the beta distribution (counts need not be whole)."""
    lo = 0.0 if errors == 0 else sps.beta.ppf(0.025, errors, images - errors + 1)
    hi = 1.0 if errors == images else sps.beta.ppf(0.975, errors + 1, images - errors)
    return float(lo), float(hi)


def _pooled(rates, images_per_seed: int) -> tuple[float, float, float]:
    """(mean, lo, hi) as stats.pooled_rate_ci defines it: the pooled images of every seed,
    divided by the over-dispersion between seeds (never below 1)."""
    rates = np.asarray(rates, dtype=float)
    mean = rates.mean()
    binomial = mean * (1 - mean) / images_per_seed
    dispersion = max(1.0, rates.var(ddof=1) / binomial) if 0 < mean < 1 else 1.0
    images = len(rates) * images_per_seed / dispersion
    return (mean, *_beta_interval(mean * images, images))


def _summary(arch: str, seed: int, status: str, train: float, test: float, **extra) -> dict:
    return {
        "dataset": "digits",
        "arch": arch,
        "depth": 8,
        "seed": seed,
        "params": 1234,
        "spec": {"norm": "batch"},
        "status": status,
        "epochs_completed": 2,
        "final_train_err": train,
        "final_test_err": test,
        "final_train_loss": 0.3 + seed / 10,
        "final_test_loss": 0.9,
        "train_seconds": 1.0,
        "n_train": N_TRAIN,
        "n_test": N_TEST,
        "num_classes": 10,
        "device": "cpu",
        **extra,
    }


def _metrics(summary: dict) -> pd.DataFrame:
    """Two epochs: the first at (0.5 training, 0.6 test) error, the second at the final ones."""
    train, test = summary["final_train_err"], summary["final_test_err"]
    return pd.DataFrame(
        {
            "epoch": [1, 2],
            "train_err": [0.5, train],
            "test_err": [0.6, test],
            "train_loss": [2.0, 1.0],
            "test_loss": [2.0, 1.0],
        }
    )


def _runs():
    """plain-8: three completed seeds and one diverged; residual-8: three completed seeds with
    the training and test errors of plain-8's the other way round."""
    summaries = [_summary("plain", s, "completed", TRAIN[s], TEST[s]) for s in range(3)]
    summaries.append(_summary("plain", 3, "diverged", math.nan, math.nan))
    summaries += [_summary("residual", s, "completed", TEST[s], TRAIN[s]) for s in range(3)]
    metrics = [agg.with_ids(_metrics(s), s) for s in summaries]
    return summaries, metrics


def test_final_table_cells_of_training_and_test_errors_counted_on_their_own_images():
    summaries, metrics = _runs()
    final = agg.final_table(agg.run_table(summaries, metrics)).set_index("arch")
    plain = final.loc["plain"]
    assert (plain["n_runs"], plain["n_diverged"]) == (4, 1)
    # the training errors: over-dispersed, 1500 images shrunk by the spread between seeds
    cells = [plain[f"train_err_{part}"] for part in ("mean", "lo", "hi")]
    assert cells == pytest.approx(_pooled(TRAIN, N_TRAIN), rel=1e-9)
    dispersion = np.var(TRAIN, ddof=1) / (0.12 * 0.88 / N_TRAIN)
    assert dispersion == pytest.approx(1.894, abs=1e-3)  # the case is the over-dispersed one
    # the test errors: within counting noise, 126 errors of 600 images, exactly
    exact = sps.binomtest(126, 3 * N_TEST).proportion_ci(0.95, method="exact")
    cells = [plain[f"test_err_{part}"] for part in ("mean", "lo", "hi")]
    assert cells == pytest.approx((0.21, exact.low, exact.high), rel=1e-9)
    # the same errors the other way round: the residual net's training errors counted on 500
    # images each, its test errors on 200 each (both within counting noise there)
    residual = final.loc["residual"]
    cells = [residual[f"train_err_{part}"] for part in ("mean", "lo", "hi")]
    assert cells == pytest.approx(_pooled(TEST, N_TRAIN), rel=1e-9)
    cells = [residual[f"test_err_{part}"] for part in ("mean", "lo", "hi")]
    assert cells == pytest.approx(_pooled(TRAIN, N_TEST), rel=1e-9)
    # a loss is no rate: a t interval over the completed seeds
    losses = [0.3, 0.4, 0.5]
    low, high = sps.t.interval(0.95, 2, loc=0.4, scale=sps.sem(losses))
    cells = [plain[f"train_loss_{part}"] for part in ("mean", "lo", "hi")]
    assert cells == pytest.approx((0.4, low, high), rel=1e-9)
    # the mean training error over the epochs of each run, then over the runs
    assert plain["train_err_auc_mean"] == pytest.approx(np.mean([(0.5 + e) / 2 for e in TRAIN]))


def test_curve_table_counts_each_epochs_error_on_its_own_images():
    summaries, metrics = _runs()
    runs = agg.run_table(summaries, metrics)
    epochs = pd.concat(metrics, ignore_index=True)
    epochs = epochs[epochs["seed"] != 3]  # the diverged run's curve: none written
    curves = agg.curve_table(epochs, runs).set_index(["arch", "epoch", "metric"])
    for arch, train, test in (("plain", TRAIN, TEST), ("residual", TEST, TRAIN)):
        for metric, rates, images in (("train_err", train, N_TRAIN), ("test_err", test, N_TEST)):
            row = curves.loc[(arch, 2, metric)]
            assert (row["mean"], row["lo"], row["hi"]) == pytest.approx(
                _pooled(rates, images), rel=1e-9
            ), (arch, metric)
            assert row["n"] == 3
    # epoch 1: every seed at 0.5 training and 0.6 test error, no spread: counting alone
    first = curves.loc[("plain", 1, "train_err")]
    exact = sps.binomtest(750, 3 * N_TRAIN).proportion_ci(0.95, method="exact")
    assert (first["lo"], first["hi"]) == pytest.approx((exact.low, exact.high), rel=1e-9)
    first = curves.loc[("plain", 1, "test_err")]
    exact = sps.binomtest(360, 3 * N_TEST).proportion_ci(0.95, method="exact")
    assert (first["lo"], first["hi"]) == pytest.approx((exact.low, exact.high), rel=1e-9)


def test_run_table_keeps_each_runs_own_image_counts_and_errors():
    summaries, metrics = _runs()
    summaries[0] = {**summaries[0], "n_train": 480, "n_test": 190, "final_train_err_eval": 0.07}
    runs = agg.run_table(summaries, metrics).set_index(["arch", "seed"])
    first = runs.loc[("plain", 0)]
    assert (first["n_train"], first["n_test"]) == (480, 190)
    assert (first["train_err"], first["test_err"], first["train_err_eval"]) == (0.10, 0.20, 0.07)
    assert math.isnan(runs.loc[("plain", 1), "train_err_eval"])  # not measured: left empty
    assert runs.loc[("residual", 2), "train_err"] == 0.22
    assert runs.loc[("residual", 2), "test_err"] == 0.14


@pytest.mark.parametrize(
    "rates, images",
    [
        ((0.0, 0.0, 0.0), 360),  # 0 of 1080: the exact one-sided bound
        ((1.0, 1.0), 50),
        ((0.0, 0.003, 0.01), 360),
        ((0.81, 0.85, 0.69), 1437),  # over-dispersed: fewer effective images
        ((0.2, 0.9), 50),
        ((0.12, 0.12, 0.13, 0.11), 10000),
    ],
)
def test_pooled_rate_ci_is_clopper_pearson_from_the_beta_distribution(rates, images):
    mean, lo, hi, n = pooled_rate_ci(list(rates), images)
    assert n == len(rates)
    assert (mean, lo, hi) == pytest.approx(_pooled(rates, images), rel=1e-9, abs=1e-15)


def test_pooled_rate_ci_of_no_errors_is_the_exact_upper_bound_of_the_pooled_images():
    _, lo, hi, _ = pooled_rate_ci([0.0, 0.0, 0.0], 360)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 1080), rel=1e-12)


def _final(**columns) -> pd.DataFrame:
    """Two rows of final.csv: training and test errors (and their bounds) unlike each other."""
    frame = pd.DataFrame(
        {
            "dataset": ["digits", "digits"],
            "arch": ["plain", "residual"],
            "depth": [8, 20],
            "params": [78_042, 272_474],
            "n_runs": [4, 3],
            "n_diverged": [1, 0],
            "train_err_mean": [0.012, 0.25],
            "train_err_lo": [0.008, 0.2],
            "train_err_hi": [0.02, 0.3],
            "test_err_mean": [0.085, 0.4],
            "test_err_lo": [0.07, 0.35],
            "test_err_hi": [0.1, 0.45],
        }
    )
    return frame.assign(**columns)


def test_final_block_puts_the_training_error_under_training_and_the_test_error_under_test():
    table = final_block(_final())
    assert list(table["net"]) == ["plain-8", "residual-20"]
    assert list(table["params"]) == ["78.0k", "0.27M"]
    assert list(table["runs (diverged)"]) == ["4 (1)", "3 (0)"]
    assert list(table["train error % [95% CI]"]) == ["1.2 [0.8, 2]", "25 [20, 30]"]
    assert list(table["test error % [95% CI]"]) == ["8.5 [7, 10]", "40 [35, 45]"]


def test_final_block_says_how_runs_were_trained_and_their_error_in_eval_mode():
    runs = pd.DataFrame(
        {
            "dataset": "digits",
            "arch": ["plain"] * 4 + ["residual"] * 3,
            "depth": [8] * 4 + [20] * 3,
            "seed": [0, 1, 2, 3, 0, 1, 2],
            "status": ["completed"] * 3 + ["diverged"] + ["completed"] * 3,
            "precision": ["fp32", "bf16", "fp32", "fp32", "fp32", "fp32", "fp32"],
            "packed": [2, 2, 1, 1, 3, 3, 3],
            # the diverged run's 0.9 is left out, as final.csv's means leave it out
            "train_err_eval": [0.01, 0.02, 0.03, 0.9, 0.2, 0.3, np.nan],
        }
    )
    table = final_block(_final(), runs)
    assert list(table["precision"]) == ["bf16/fp32", "fp32"]
    assert list(table["seeds trained together"]) == [2, 3]
    assert list(table["train error in eval mode %"]) == ["2", "25"]


def test_bottleneck_block_cells():
    bottleneck = pd.DataFrame(
        {
            "variant": ["linear", "relu"],
            "width": [4, 16],
            "params": [868, 12_345],
            "n_runs": [6, 5],
            "train_err_mean": [0.05, 0.125],
            "train_err_lo": [0.04, 0.1],
            "train_err_hi": [0.06, 0.15],
            "test_err_mean": [0.3, 0.5],
            "test_err_lo": [0.25, 0.45],
            "test_err_hi": [0.35, 0.55],
        }
    )
    table = bottleneck_block(bottleneck)
    assert list(table["variant"]) == ["linear", "relu"]
    assert list(table["bottleneck"]) == [4, 16]
    assert list(table["params"]) == ["868", "12.3k"]
    assert list(table["runs"]) == [6, 5]
    assert list(table["train error % [95% CI]"]) == ["5 [4, 6]", "12.5 [10, 15]"]
    assert list(table["test error % [95% CI]"]) == ["30 [25, 35]", "50 [45, 55]"]


def test_bottleneck_block_of_the_aggregated_bottleneck_runs():
    """From run summaries to the report's cells: a bottleneck net's training and test errors
    stay in their own columns through bottleneck.csv."""
    summaries, metrics = [], []
    for seed in range(2):
        summary = {
            **_summary("unused", seed, "completed", 0.02, 0.3),
            "variant": "linear",
            "width": 4,
            "spec": {},
        }
        del summary["arch"], summary["depth"]
        summaries.append(summary)
        metrics.append(agg.with_ids(_metrics(summary), summary, agg.BOTTLENECK_KEYS))
    runs = agg.run_table(summaries, metrics, agg.BOTTLENECK_KEYS)
    table = bottleneck_block(agg.final_table(runs, agg.BOTTLENECK_KEYS[:-1]))
    train = _pooled((0.02, 0.02), N_TRAIN)
    test = _pooled((0.3, 0.3), N_TEST)
    as_cell = lambda m, lo, hi: f"{100 * m:.3g} [{100 * lo:.3g}, {100 * hi:.3g}]"
    assert table["train error % [95% CI]"].iloc[0] == as_cell(*train)
    assert table["test error % [95% CI]"].iloc[0] == as_cell(*test)
    assert as_cell(*train).startswith("2 [") and as_cell(*test).startswith("30 [")
