import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from resnet_essence import aggregate as agg
from resnet_essence.claims import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    CollapseRule,
    claims_table,
    collapse_claims,
    directional,
    network_claims,
)
from resnet_essence.stats import diff_ci, mean_ci


def test_mean_ci_against_the_t_formula():
    values = [1.0, 2.0, 3.0, 4.0]
    mean, lo, hi, n = mean_ci(values)
    half = sps.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2
    assert (mean, n) == (2.5, 4)
    assert lo == pytest.approx(2.5 - half) and hi == pytest.approx(2.5 + half)


def test_mean_ci_drops_non_finite_values_and_handles_one_value():
    mean, lo, hi, n = mean_ci([1.0, float("nan"), float("inf")])
    assert mean == 1.0 and n == 1 and math.isnan(lo) and math.isnan(hi)
    assert mean_ci([])[3] == 0


def test_diff_ci_welch():
    a, b = [10.0, 11.0, 12.0], [1.0, 2.0, 3.0]
    diff, lo, hi = diff_ci(a, b)
    assert diff == pytest.approx(9.0)
    se = math.sqrt(1 / 3 + 1 / 3)
    assert hi - diff == pytest.approx(sps.t.ppf(0.975, 4) * se)
    assert diff_ci([1.0, 1.0], [2.0, 2.0]) == (-1.0, -1.0, -1.0)
    assert math.isnan(diff_ci([1.0], [2.0, 3.0])[1])


@pytest.mark.parametrize(
    "lo,hi,sign,expected",
    [
        (0.1, 0.3, +1, SUPPORTED),
        (-0.3, -0.1, +1, CONTRADICTED),
        (-0.1, 0.2, +1, INCONCLUSIVE),
        (-0.3, -0.1, -1, SUPPORTED),
        (0.1, 0.3, -1, CONTRADICTED),
        (math.nan, 1.0, +1, INCONCLUSIVE),
    ],
)
def test_directional_rule(lo, hi, sign, expected):
    assert directional(lo, hi, sign) == expected


def _runs(plain_deep_err, residual_deep_err, seeds=3, noise=0.01):
    rng = np.random.default_rng(0)
    rows = []
    means = {
        ("plain", 8): 0.05,
        ("plain", 56): plain_deep_err,
        ("residual", 8): 0.05,
        ("residual", 56): residual_deep_err,
    }
    for (arch, depth), err in means.items():
        for seed in range(seeds):
            e = err + noise * rng.standard_normal()
            rows.append(
                {
                    "dataset": "digits",
                    "arch": arch,
                    "depth": depth,
                    "seed": seed,
                    "status": "completed",
                    "train_err": e,
                    "test_err": e + 0.01,
                    "train_err_auc": e + 0.1,
                }
            )
    return pd.DataFrame(rows)


def _net_runs(plain_dead, residual_dead, seeds=3):
    rows = []
    for arch, dead in (("plain", plain_dead), ("residual", residual_dead)):
        for seed in range(seeds):
            for epoch in (0, 5):
                base = {
                    "dataset": "digits",
                    "arch": arch,
                    "depth": 56,
                    "seed": seed,
                    "epoch": epoch,
                }
                rows.append({**base, "statistic": "dead_fraction", "value": dead + 0.01 * seed})
                rows.append(
                    {
                        **base,
                        "statistic": "grad_ratio",
                        "value": (0.01 if arch == "plain" else 0.5) * (1 + 0.1 * seed),
                    }
                )
                rows.append({**base, "statistic": "response_std", "value": 1.0 + 0.01 * seed})
                rows.append(
                    {
                        **base,
                        "statistic": "autocorrelation_lag1",
                        "value": (0.2 if arch == "plain" else 0.9) + 0.01 * seed,
                    }
                )
    return pd.DataFrame(rows)


def _by_id(verdicts):
    return {v.claim_id: v for v in verdicts}


def test_network_claims_supported_when_the_data_say_so():
    verdicts = _by_id(network_claims(_runs(0.6, 0.05), _net_runs(0.4, 0.1)))
    assert verdicts["4a"].verdict == SUPPORTED
    assert verdicts["4a"].effect == pytest.approx(0.55, abs=0.03)
    assert verdicts["4c"].verdict == SUPPORTED
    assert verdicts["6"].verdict == SUPPORTED
    assert verdicts["5a"].verdict == SUPPORTED
    assert verdicts["5b"].verdict == SUPPORTED and "vanishing" in verdicts["5b"].measure
    assert verdicts["S"].verdict == SUPPORTED
    assert verdicts["7"].verdict == INCONCLUSIVE  # identical responses: no difference


def test_network_claims_contradicted_when_the_data_say_the_opposite():
    verdicts = _by_id(network_claims(_runs(0.01, 0.3), _net_runs(0.1, 0.4)))
    assert verdicts["4a"].verdict == CONTRADICTED
    assert verdicts["4c"].verdict == CONTRADICTED
    assert verdicts["5a"].verdict == CONTRADICTED


def test_diverged_runs_leave_the_interval_and_can_make_it_inconclusive():
    runs = _runs(0.6, 0.05)
    deep_plain = (runs["arch"] == "plain") & (runs["depth"] == 56)
    runs.loc[deep_plain & (runs["seed"] > 0), "status"] = "diverged"
    verdicts = _by_id(network_claims(runs, _net_runs(0.4, 0.1)))
    assert verdicts["4a"].verdict == INCONCLUSIVE  # one finished run: no interval


def _survival(relu_low, relu_high, linear_lost=0.0):
    rows = []
    for n, rec in ((2, relu_low), (30, relu_high)):
        rows.append(
            {
                "manifold": "spiral",
                "activation": "relu",
                "embed_dim": n,
                "bias_std": 0.0,
                "recoverable": rec,
                "recoverable_lo": rec - 0.01,
                "recoverable_hi": rec + 0.01,
                "theory": rec,
                "recon_error": 0.5,
            }
        )
        rows.append(
            {
                "manifold": "spiral",
                "activation": "linear",
                "embed_dim": n,
                "bias_std": 0.0,
                "recoverable": 1 - linear_lost,
                "recoverable_lo": 1.0,
                "recoverable_hi": 1.0,
                "theory": np.nan,
                "recon_error": 1e-16,
            }
        )
    return pd.DataFrame(rows)


def test_collapse_claims_both_ways():
    good = _by_id(collapse_claims(_survival(0.25, 1.0)))
    assert good["1"].verdict == SUPPORTED and good["1b"].verdict == SUPPORTED
    assert good["2"].verdict == SUPPORTED
    bad = _by_id(collapse_claims(_survival(0.99, 1.0, linear_lost=0.2)))
    assert bad["1"].verdict == CONTRADICTED
    assert bad["2"].verdict == CONTRADICTED
    strict = _by_id(collapse_claims(_survival(0.25, 0.9), CollapseRule(high_dim_min=0.95)))
    assert strict["1"].verdict == INCONCLUSIVE


def test_claims_table_columns():
    table = claims_table(collapse_claims(_survival(0.25, 1.0)))
    assert list(table.columns) == [
        "claim_id",
        "claim",
        "measure",
        "effect",
        "lo",
        "hi",
        "verdict",
        "rule",
    ]


def test_aggregate_tables_from_synthetic_runs():
    summaries, metrics = [], []
    for arch in ("plain", "residual"):
        for seed in range(3):
            summaries.append(
                {
                    "dataset": "d",
                    "arch": arch,
                    "depth": 8,
                    "seed": seed,
                    "params": 100,
                    "status": "completed",
                    "epochs_completed": 2,
                    "final_train_err": 0.1 * seed,
                    "final_test_err": 0.2,
                    "final_train_loss": 1.0,
                    "final_test_loss": 1.0,
                    "train_seconds": 1.0,
                    "device": "cpu",
                }
            )
            metrics.append(
                pd.DataFrame(
                    {
                        "dataset": "d",
                        "arch": arch,
                        "depth": 8,
                        "seed": seed,
                        "epoch": [1, 2],
                        "train_err": [0.5, 0.1 * seed],
                        "test_err": 0.2,
                        "train_loss": 1.0,
                        "test_loss": 1.0,
                    }
                )
            )
    runs = agg.run_table(summaries, metrics)
    assert runs["train_err_auc"].iloc[0] == pytest.approx(0.25)
    final = agg.final_table(runs)
    assert len(final) == 2
    row = final.iloc[0]
    assert row["train_err_mean"] == pytest.approx(0.1)
    assert row["train_err_lo"] < 0.1 < row["train_err_hi"]
    curves = agg.curve_table(pd.concat(metrics))
    assert set(curves["metric"]) == set(agg.FINAL_METRICS)
    assert (curves["n"] == 3).all()
