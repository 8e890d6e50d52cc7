"""The verdict rules, driven with synthetic tables to every verdict each can reach."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT
from scipy import stats as sps

from resnet_essence.claims import (
    AGAINST,
    AGREES,
    BOUND,
    CHECK,
    CLAIM_BY_ID,
    CLAIMS,
    COLUMNS,
    CONTRADICTED,
    ESSAY,
    EXPLANATION,
    INCONCLUSIVE,
    NEGLIGIBLE,
    NOT_TESTABLE,
    REPLICATION,
    SANITY_FAILED,
    SANITY_PASSED,
    SUPPORTED,
    UNINFORMATIVE,
    VERDICTS,
    Rules,
    _check_rows,
    agreement_counts,
    claims_definitions,
    differences,
    evaluate,
)
from resnet_essence.claims.collapse import collapse_rows
from resnet_essence.claims.design import width_tests
from resnet_essence.claims.grid import Grid, branch_units, dead_units
from resnet_essence.claims.replication import main as compare_main
from resnet_essence.tables import aggregate as agg

# the thresholds of the real default, not a copy
RULES = Rules.from_config(yaml.safe_load((ROOT / "config.yaml").read_text())["report"])
DEPTHS = (8, 20, 56)
STATISTICS = (
    "inactive_fraction_branch",
    "dead_fraction_branch",
    "signal_norm_slope",
    "response_median",
    "autocorrelation_lag1",
    "pr_per_channel_branch",
    "relu_r2_branch",
    "class_acc_change_branch",
    "switch_rho_branch",
)


def _value(table: dict, key, default, seed: int):
    value = table.get(key, default)
    return value[seed] if isinstance(value, tuple) else value


def _grid(
    train=None,
    test=None,
    stats=None,
    speed=None,
    archs=("plain", "residual"),
    seeds=6,
    noise=0.002,
    stat_noise=0.005,
    norm="none",
    status=None,
    seed_effect=0.0,
):
    """runs, epochs and network_runs tables for digits-like runs (1437 training and 360 test
    images, ten classes).

    ``train``/``test``: {(arch, depth): final error, or a tuple with one per seed}; ``stats``:
    {(statistic, arch, depth, epoch): value or tuple}; ``speed``: {(arch, depth): time constant
    of the training-error curve, in epochs}; ``status``: {(arch, depth, seed): status};
    ``seed_effect``: the sd of what each seed does to every net alike (pairing removes it).
    Lesions: by default a deleted block leaves the error where it was.
    """
    rng = np.random.default_rng(0)
    shared = rng.normal(0.0, seed_effect, seeds)
    train, test, stats = train or {}, test or {}, stats or {}
    speed, status = speed or {}, status or {}
    runs, epochs, net = [], [], []
    for arch in archs:
        for depth in DEPTHS:
            for seed in range(seeds):
                ids = {"dataset": "digits", "arch": arch, "depth": depth, "seed": seed}
                final = _value(train, (arch, depth), 0.005, seed) + shared[seed]
                final = float(np.clip(final + noise * rng.random(), 0, 1))
                runs.append(
                    {
                        **ids,
                        "norm": norm,
                        "base_width": 16,
                        "status": status.get((arch, depth, seed), "completed"),
                        "train_err": final,
                        "test_err": _value(test, (arch, depth), 0.02, seed) + noise * rng.random(),
                        "n_train": 1437,
                        "n_test": 360,
                        "num_classes": 10,
                    }
                )
                tau = _value(speed, (arch, depth), 1.0, seed) * (1 + 0.01 * seed)
                for epoch in range(1, 11):
                    err = final + (0.9 - final) * math.exp(-epoch / tau)
                    epochs.append({**ids, "epoch": epoch, "step": 45 * epoch, "train_err": err})
                for epoch in (0, 10):
                    values = {s: 0.5 for s in STATISTICS}
                    values.update(intact_error=0.02, lesion_error_same_shape=0.02)
                    values["lesion_images"] = 192.0
                    for statistic, default in values.items():
                        value = _value(stats, (statistic, arch, depth, epoch), default, seed)
                        if statistic not in ("intact_error", "lesion_images"):
                            value += stat_noise * rng.standard_normal()
                        net.append({**ids, "epoch": epoch, "statistic": statistic, "value": value})
    return pd.DataFrame(runs), pd.DataFrame(epochs), pd.DataFrame(net)


def _survival(
    relu_low=0.25, relu_high=1.0, linear_lost=0.0, theory_gap=0.0, dims=(2, 3, 15, 30), half=0.01
):
    rows = []
    for n in dims:
        rec = relu_low if n <= 3 else relu_high
        base = {"manifold": "spiral", "input_dim": 2, "embed_dim": n, "bias_std": 0.0}
        rows.append(
            {
                **base,
                "activation": "relu",
                "recoverable": rec,
                "recoverable_lo": max(rec - half, 0),
                "recoverable_hi": min(rec + half, 1),
                "theory": rec + theory_gap,
                "recon_error": 0.5,
            }
        )
        for activation in ("linear", "residual"):
            rows.append(
                {
                    **base,
                    "activation": activation,
                    "recoverable": 1 - linear_lost,
                    "recoverable_lo": 1.0,
                    "recoverable_hi": 1.0,
                    "theory": np.nan,
                    "recon_error": 1e-16,
                }
            )
    return pd.DataFrame(rows)


def _tables(grid, **extra) -> dict:
    runs, epochs, net = grid
    return {"survival": _survival(), "runs": runs, "epochs": epochs, "network_runs": net, **extra}


def _verdicts(grid, rules=RULES, **extra) -> pd.DataFrame:
    return evaluate(_tables(grid, **extra), rules)


def _one(claims, claim_id, setting) -> pd.Series:
    rows = claims[(claims["claim_id"] == claim_id) & (claims["setting"] == setting)]
    assert len(rows) == 1, (claim_id, setting, claims[["claim_id", "setting"]].to_string())
    return rows.iloc[0]


def _all(statistic, arch, value, epochs=(0, 10)):
    return {(statistic, arch, d, e): value for d in DEPTHS for e in epochs}


def _with(**changes) -> Rules:
    return Rules(**{**RULES.__dict__, **changes})


# -- paired inference -----------------------------------------------------------------------------
def test_pairing_changes_the_verdict_where_the_seed_does_the_same_to_both_nets():
    # each seed moves both nets' training error by a lot (sd 0.05): the residual net is 2 points
    # better on every seed, which seed-matched differences see and independent samples do not
    train = {("plain", 20): 0.10, ("residual", 20): 0.08}
    grid = _grid(train=train, seeds=8, seed_effect=0.05, noise=0.001)
    row = _one(_verdicts(grid), "4c", "depth 20")
    assert row["verdict"] == AGREES and row["n"] == 8
    runs = grid[0]
    plain = runs[(runs["arch"] == "plain") & (runs["depth"] == 20)]["train_err"]
    residual = runs[(runs["arch"] == "residual") & (runs["depth"] == 20)]["train_err"]
    assert sps.ttest_ind(residual, plain, equal_var=False).pvalue > 0.05  # unpaired: nothing
    # break the pairing (seed k of one net set against seed k + 1 of the other): undecided
    shuffled = runs.copy()
    mask = (shuffled["arch"] == "residual") & (shuffled["depth"] == 20)
    shuffled.loc[mask, "seed"] = (shuffled.loc[mask, "seed"] + 1) % 8
    row = _one(_verdicts((shuffled, grid[1], grid[2])), "4c", "depth 20")
    assert row["verdict"] == INCONCLUSIVE


def test_seeds_are_matched_by_number_and_unmatched_seeds_are_left_out():
    runs, epochs, net = _grid(train={("plain", 56): 0.5}, seeds=6)
    runs = runs[~((runs["arch"] == "residual") & (runs["depth"] == 56) & (runs["seed"] == 5))]
    row = _one(_verdicts((runs, epochs, net)), "4c", "depth 56")
    assert row["n"] == 5 and "5 of 6 seed pairs" in row["measure"]


# -- verdicts, margins, families ------------------------------------------------------------------
def test_a_directional_claim_reaches_each_of_its_verdicts():
    cases = {
        AGREES: {("plain", 56): 0.5},  # plain-56 far worse than plain-8
        AGAINST: {("plain", 8): 0.5},  # the deeper net is the better one
        NEGLIGIBLE: {("plain", 56): 0.1, ("plain", 8): 0.1},  # alike, measured finely enough
        UNINFORMATIVE: {},  # both at 0.5%: a handful of the 1437 images, at the floor
    }
    for expected, train in cases.items():
        row = _one(_verdicts(_grid(train=train, seeds=20)), "4a", "depth 56 vs 8")
        assert row["verdict"] == expected, (expected, row.to_dict())
    floor = _one(_verdicts(_grid()), "4a", "depth 56 vs 8")
    assert floor["reason"].startswith("both at the floor") and "floor 0" in floor["reason"]
    # 1.2% of 1437 images: 17 errors, off the range's floor but a handful of images
    few = {("plain", 56): 0.012, ("plain", 8): 0.012}
    row = _one(_verdicts(_grid(train=few, noise=0.0)), "4a", "depth 56 vs 8")
    assert row["verdict"] == UNINFORMATIVE and "errors of 1437" in row["reason"]
    noisy = _grid(train={("plain", 56): 0.02}, noise=0.05, seeds=3)
    assert _one(_verdicts(noisy), "4a", "depth 56 vs 8")["verdict"] == INCONCLUSIVE


def test_an_interval_across_the_margin_is_inconclusive_not_negligible():
    # a 1.2-point effect measured to +-0.3: beyond 0 but not clearly beyond the 1-point margin
    train = {("plain", 56): tuple(0.017 + 0.003 * (s % 3) for s in range(6))}
    row = _one(_verdicts(_grid(train=train, noise=0.0)), "4a", "depth 56 vs 8")
    assert row["lo"] < 0.01 + 0.005 < row["hi"] and row["verdict"] == INCONCLUSIVE


def test_a_non_inferiority_claim_has_no_negligible_outcome():
    alike = {("residual", 8): 0.05, ("residual", 56): 0.05}
    row = _one(_verdicts(_grid(train=alike, seeds=20)), "4b", "depth 56 vs 8")
    assert row["verdict"] == AGREES  # no worse: below the margin, whatever the sign
    worse = _verdicts(_grid(train={("residual", 56): 0.15}))
    assert _one(worse, "4b", "depth 56 vs 8")["verdict"] == AGAINST
    edge = _verdicts(_grid(train={("residual", 56): 0.015}, noise=0.01, seeds=3))
    assert _one(edge, "4b", "depth 56 vs 8")["verdict"] == INCONCLUSIVE


def test_the_essays_claims_use_their_own_words_and_holm_within_their_family():
    stats = {**_all("relu_r2_branch", "residual", 0.9), **_all("relu_r2_branch", "plain", 0.5)}
    claims = _verdicts(_grid(stats=stats))
    row = _one(claims, "M2", "depth 20, epoch 0, residual")
    assert row["family"] == ESSAY and row["verdict"] == SUPPORTED
    assert _one(claims, "4a", "depth 56 vs 8")["family"] == REPLICATION
    # the essay family's adjustment does not change when replication rows are added
    essay = claims[claims["family"] == ESSAY].set_index(["claim_id", "setting"])["p_holm"]
    bottlenecks = _bottleneck_runs({("linear", 4): 0.05, ("relu", 4): 0.4})
    more = _verdicts(_grid(stats=stats), bottleneck_runs=bottlenecks)
    assert (more["family"] == REPLICATION).sum() > (claims["family"] == REPLICATION).sum()
    again = more[more["family"] == ESSAY].set_index(["claim_id", "setting"])["p_holm"]
    pd.testing.assert_series_equal(essay, again)


def test_holm_makes_a_lone_small_effect_inconclusive_in_a_large_family():
    stats = {("response_median", "residual", 20, 10): 0.40}  # 0.10 below plain's 0.5
    claims = _verdicts(_grid(stats=stats, seeds=4, stat_noise=0.02, norm="batch"))
    row = _one(claims, "7", "depth 20, epoch 10")
    assert row["p"] < 0.05 <= row["p_holm"] and row["verdict"] == INCONCLUSIVE


# -- failures, gates ------------------------------------------------------------------------------
def test_a_failed_arm_gives_an_exact_test_row():
    seeds = 12
    grid = _grid(train={("plain", 56): 0.88}, seeds=seeds)
    claims = _verdicts(grid)
    row = _one(claims, "4a", "depth 56 vs 8, failures")
    assert row["p"] == pytest.approx(2 * 0.5**seeds)  # McNemar: 12 discordant seeds, all one way
    assert "plain-56 12 of 12" in row["measure"] and "plain-8 0 of 12" in row["measure"]
    assert row["verdict"] == AGREES and row["effect"] == 1.0
    assert _one(claims, "4c", "depth 56, failures")["verdict"] == AGREES
    assert _one(claims, "4a", "depth 56 vs 8")["verdict"] == AGREES
    assert "plain-56: all 12 runs fail to train" in _one(claims, "4a", "depth 56 vs 8")["measure"]
    # no failure anywhere: no failure rows
    assert not _verdicts(_grid())["setting"].str.contains("failures").any()


def test_a_diverged_run_counts_at_chance_and_as_a_failure():
    status = {("plain", 56, s): "diverged" for s in range(6)}
    claims = _verdicts(_grid(status=status))
    row = _one(claims, "4a", "depth 56 vs 8")
    assert row["effect"] == pytest.approx(0.9 - 0.005, abs=0.003) and row["verdict"] == AGREES
    assert "plain-56 6 of 6" in _one(claims, "4a", "depth 56 vs 8, failures")["measure"]


def test_initialisation_rows_are_never_gated_by_how_training_went():
    stats = {**_all("pr_per_channel_branch", "residual", 0.3)}
    stats.update(_all("pr_per_channel_branch", "plain", 0.7))
    claims = _verdicts(_grid(train={("plain", 56): 0.88}, stats=stats))
    assert _one(claims, "M1", "depth 56, epoch 0, residual")["verdict"] == SUPPORTED
    assert _one(claims, "S", "depth 56")["verdict"] in (AGREES, AGAINST, NEGLIGIBLE)
    end = _one(claims, "M1", "depth 56, epoch 10, residual")
    assert end["verdict"] == NOT_TESTABLE
    assert "0 seed(s)" in end["reason"] and "plain-56: all 6 runs fail to train" in end["reason"]


def test_end_of_training_rows_use_the_seeds_where_both_nets_converged():
    # plain-20 converges on seeds 0-3, trains partly (8% error) on 4-5
    train = {("plain", 20): (0.01, 0.01, 0.01, 0.01, 0.08, 0.08)}
    stats = {**_all("relu_r2_branch", "residual", 0.9), **_all("relu_r2_branch", "plain", 0.5)}
    claims = _verdicts(_grid(train=train, stats=stats))
    row = _one(claims, "M2", "depth 20, epoch 10, residual")
    assert row["n"] == 4 and "4 of 6 seed pairs" in row["measure"]
    assert row["verdict"] == SUPPORTED
    assert _one(claims, "M2", "depth 20, epoch 0, residual")["n"] == 6
    partly = _one(claims, "4c", "depth 20")["measure"]
    assert "plain-20: 4 of 6 converged, 2 trained partly" in partly


def test_convergence_is_judged_on_the_training_error_in_eval_mode_where_it_was_measured():
    # the running error of plain-20's last epoch says 1% on every seed; in eval mode its final
    # weights make 8% errors on seeds 4-5, which did not converge
    stats = {**_all("relu_r2_branch", "residual", 0.9), **_all("relu_r2_branch", "plain", 0.5)}
    runs, epochs, net = _grid(train={("plain", 20): 0.01}, stats=stats, noise=0.0)
    runs["train_err_eval"] = runs["train_err"]
    late = (runs["arch"] == "plain") & (runs["depth"] == 20) & (runs["seed"] >= 4)
    runs.loc[late, "train_err_eval"] = 0.08
    row = _one(_verdicts((runs, epochs, net)), "M2", "depth 20, epoch 10, residual")
    assert row["n"] == 4 and "4 of 6 seed pairs" in row["measure"]
    # a run from before the measure (empty) is judged on its running error: all 6 converged
    runs.loc[late, "train_err_eval"] = np.nan
    assert _one(_verdicts((runs, epochs, net)), "M2", "depth 20, epoch 10, residual")["n"] == 6
    # and the eval-mode error decides also where the running one is above the criterion
    runs.loc[late, "train_err"], runs.loc[late, "train_err_eval"] = 0.08, 0.01
    assert _one(_verdicts((runs, epochs, net)), "M2", "depth 20, epoch 10, residual")["n"] == 6


# -- the essay's measures -------------------------------------------------------------------------
def test_5a_is_not_testable_at_initialisation_and_judged_after_training_whatever_the_norm():
    stats = {**_all("inactive_fraction_branch", "residual", 0.4)}
    stats.update(_all("inactive_fraction_branch", "plain", 0.6))
    for norm, why in (("batch", "BatchNorm precedes"), ("none", "every bias is zero")):
        claims = _verdicts(_grid(stats=stats, norm=norm))
        init = _one(claims, "5a", "depth 20, epoch 0")
        assert init["verdict"] == NOT_TESTABLE and why in init["reason"], init.to_dict()
        assert init["stage"] == "initialisation"
        end = _one(claims, "5a", "depth 20, epoch 10")
        assert end["verdict"] == SUPPORTED and end["stage"] == "trained"
    reverse = {**_all("inactive_fraction_branch", "residual", 0.6)}
    reverse.update(_all("inactive_fraction_branch", "plain", 0.4))
    row = _one(_verdicts(_grid(stats=reverse, norm="batch")), "5a", "depth 20, epoch 10")
    assert row["verdict"] == CONTRADICTED


def test_no_dead_unit_in_either_net_is_uninformative_not_negligible():
    # a fraction counted on units keeps the uncertainty of counting, as an error rate does
    stats = {
        **_all("dead_fraction_branch", "residual", 0.0),
        **_all("dead_fraction_branch", "plain", 0.0),
    }
    claims = _verdicts(_grid(stats=stats, stat_noise=0.0, seeds=8))
    row = _one(claims, "5a'", "depth 20, epoch 10")
    assert row["effect"] == 0 and row["lo"] < 0 < row["hi"]
    # both nets at the floor of the measure: "negligible" would be a property of the floor
    assert row["verdict"] == UNINFORMATIVE and "both at the floor" in row["reason"]
    assert math.isnan(row["p"]) and math.isnan(row["p_holm"])  # not a test: outside Holm


def test_the_vanishing_premise_is_a_row_that_can_be_contradicted():
    for slope, expected in ((1.5, SUPPORTED), (-1.5, CONTRADICTED), (0.0, NEGLIGIBLE)):
        claims = _verdicts(_grid(stats=_all("signal_norm_slope", "plain", slope)))
        row = _one(claims, "V", "depth 56, epoch 0")
        assert row["verdict"] == expected, (slope, row.to_dict())


def test_5b_and_5c_ask_for_a_flatter_signal_whichever_way_it_bends():
    exploding = {
        **_all("signal_norm_slope", "plain", -1.5),
        **_all("signal_norm_slope", "residual", 0.1),
    }
    claims = _verdicts(_grid(stats=exploding))
    assert _one(claims, "5b", "depth 56")["verdict"] == SUPPORTED  # |0.1| < |-1.5|
    assert _one(claims, "V", "depth 56, epoch 0")["verdict"] == CONTRADICTED
    steeper = {
        **_all("signal_norm_slope", "plain", 0.1),
        **_all("signal_norm_slope", "residual", 2.0),
    }
    assert _one(_verdicts(_grid(stats=steeper)), "5c", "depth 56")["verdict"] == CONTRADICTED
    alike = {
        **_all("signal_norm_slope", "plain", 1.0),
        **_all("signal_norm_slope", "residual", -1.0),
    }
    assert _one(_verdicts(_grid(stats=alike)), "5b", "depth 56")["verdict"] == NEGLIGIBLE


def test_6_counts_a_net_that_never_gets_there_at_the_schedules_length():
    faster = _verdicts(_grid(speed={("plain", 20): 3.0, ("residual", 20): 0.5}))
    assert _one(faster, "6", "depth 20")["verdict"] == SUPPORTED
    slower = _verdicts(_grid(speed={("plain", 20): 0.5, ("residual", 20): 3.0}))
    assert _one(slower, "6", "depth 20")["verdict"] == CONTRADICTED
    never = _one(_verdicts(_grid(train={("plain", 56): 0.5})), "6", "depth 56")
    assert "6 seed(s) where one net never gets there" in never["measure"]
    # the plain net's time is cut at the schedule: the effect is a bound, not a measurement
    assert never["verdict"] == BOUND and never["effect"] < -5
    assert "plain-56 never reaches" in never["reason"] and "at most the estimate" in never["reason"]
    neither = _grid(train={("plain", 56): 0.5, ("residual", 56): 0.5})
    row = _one(_verdicts(neither), "6", "depth 56")
    assert "6 where neither does, left out" in row["measure"] and row["verdict"] == INCONCLUSIVE


@pytest.mark.parametrize(
    "claim_id,statistic,setting",
    [
        ("7", "response_median", "depth 20, epoch 10"),
        ("S", "autocorrelation_lag1", "depth 20"),
        ("5a'", "dead_fraction_branch", "depth 20, epoch 10"),
        ("M1", "pr_per_channel_branch", "depth 20, epoch 10, residual"),
        ("M2", "relu_r2_branch", "depth 20, epoch 0, residual"),
    ],
)
def test_between_arch_statistics_reach_every_verdict(claim_id, statistic, setting):
    claim = CLAIM_BY_ID[claim_id]
    words = {ESSAY: (SUPPORTED, CONTRADICTED), REPLICATION: (AGREES, AGAINST)}[claim.family]
    low, high = 0.2, 0.8
    for residual, plain, expected in (
        (low, high, words[0] if claim.direction < 0 else words[1]),
        (high, low, words[1] if claim.direction < 0 else words[0]),
        # alike: a dead fraction alike at 0.02 (at one half, counting 250 units is too coarse)
        (0.02, 0.02, NEGLIGIBLE) if claim_id == "5a'" else (0.5, 0.5, NEGLIGIBLE),
    ):
        stats = {**_all(statistic, "residual", residual), **_all(statistic, "plain", plain)}
        if claim_id == "7":  # responses start at 1 (|gamma|) and move in training
            stats.update({k: 1.0 for k in _all(statistic, "plain", 1.0, epochs=(0,))})
            stats.update({k: 1.0 for k in _all(statistic, "residual", 1.0, epochs=(0,))})
        norm = "batch" if statistic == "response_median" else "none"  # 7: BatchNorm
        grid = _grid(stats=stats, stat_noise=0.001, norm=norm, seeds=20)
        assert _one(_verdicts(grid), claim_id, setting)["verdict"] == expected


@pytest.mark.parametrize(
    "claim_id,statistic,arch,epoch",
    [("7b", "response_median", "residual", 10), ("S2", "autocorrelation_lag1", "plain", 0)],
)
def test_depth_trends_both_ways(claim_id, statistic, arch, epoch):
    shrink = {(statistic, arch, 8, epoch): 0.9, (statistic, arch, 56, epoch): 0.3}
    claims = _verdicts(_grid(stats=shrink, norm="batch"))
    assert _one(claims, claim_id, "depth 56 vs 8")["verdict"] == AGREES
    grow = {(statistic, arch, 8, epoch): 0.3, (statistic, arch, 56, epoch): 0.9}
    claims = _verdicts(_grid(stats=grow, norm="batch"))
    assert _one(claims, claim_id, "depth 56 vs 8")["verdict"] == AGAINST


def test_lesions_compare_the_damage_on_the_same_blocks():
    # plain: deleting a block takes the error from 2% to 85% (damage 0.94); residual to 5%
    collapse = {**_all("lesion_error_same_shape", "plain", 0.85)}
    collapse.update(_all("lesion_error_same_shape", "residual", 0.05))
    claims = _verdicts(_grid(stats=collapse))
    assert _one(claims, "L1", "depth 20, residual")["verdict"] == AGREES
    assert _one(claims, "L2", "depth 20, plain")["verdict"] == AGREES
    assert _one(claims, "L3", "depth 20, residual")["verdict"] == AGREES
    damage = _one(claims, "L3", "depth 20, residual")["effect"]
    assert damage == pytest.approx((0.05 - 0.02) / (0.9 - 0.02), abs=0.02)
    reverse = {**_all("lesion_error_same_shape", "plain", 0.05)}
    reverse.update(_all("lesion_error_same_shape", "residual", 0.85))
    claims = _verdicts(_grid(stats=reverse))
    assert _one(claims, "L1", "depth 20, residual")["verdict"] == AGAINST
    assert _one(claims, "L2", "depth 20, plain")["verdict"] == AGAINST
    assert _one(claims, "L3", "depth 20, residual")["verdict"] == AGAINST
    # no block changes the error on any seed: still decided, from the counting alone
    none = _verdicts(_grid())
    assert _one(none, "L3", "depth 20, residual")["verdict"] == AGREES


def test_the_lesion_rows_rest_on_the_seeds_where_both_nets_converged():
    """L1 on final weights: seed 5 of plain-20 ends at 50% training error, so the residual net
    is set against the plain one on the other five seeds only."""
    collapse = {**_all("lesion_error_same_shape", "plain", 0.85)}
    collapse.update(_all("lesion_error_same_shape", "residual", 0.05))
    train = {("plain", 20): (0.005,) * 5 + (0.5,)}
    row = _one(_verdicts(_grid(train=train, stats=collapse)), "L1", "depth 20, residual")
    assert row["n"] == 5 and "; 5 of 6 seed pairs" in row["measure"]


def test_switching_correlation_per_site_both_ways():
    for value, expected in ((0.8, SUPPORTED), (-0.8, CONTRADICTED), (0.0, NEGLIGIBLE)):
        archs = ("plain", "residual")
        stats = {("switch_rho_branch", a, d, 10): value for a in archs for d in DEPTHS}
        row = _one(_verdicts(_grid(stats=stats)), "T2", "residual, branch, all depths")
        assert row["verdict"] == expected and row["n"] == 3 * 6


def test_test_error_claims_are_judged_off_the_floor_on_converged_runs():
    # 3.6 and 7.2 of 360 test images: both nets at the floor
    floor = _one(_verdicts(_grid(test={("residual", 8): 0.01})), "4b'", "depth 56 vs 8")
    assert floor["verdict"] == UNINFORMATIVE and "both at the floor" in floor["reason"]
    # the shallow net at the floor, the deep one well off it: informative (it is worse)
    worse = _verdicts(_grid(test={("residual", 8): 0.01, ("residual", 56): 0.3}))
    assert _one(worse, "4b'", "depth 56 vs 8")["verdict"] == AGAINST
    better = _verdicts(_grid(test={("residual", 8): 0.4, ("residual", 56): 0.1}))
    assert _one(better, "4b'", "depth 56 vs 8")["verdict"] == AGREES
    unconverged = _grid(train={("residual", 56): 0.2}, test={("residual", 8): 0.4})
    row = _one(_verdicts(unconverged), "4b'", "depth 56 vs 8")
    assert row["verdict"] == NOT_TESTABLE and "converged runs only" in row["reason"]


def test_preact_claims_both_ways():
    archs = ("plain", "residual", "preact")
    alike = {("residual", 56): 0.05, ("preact", 56): 0.05}
    row = _one(_verdicts(_grid(train=alike, archs=archs, seeds=20)), "P", "depth 56")
    assert row["verdict"] == AGREES
    floor = _one(_verdicts(_grid(archs=archs)), "P", "depth 56")
    assert floor["verdict"] == UNINFORMATIVE
    worse = _grid(train={("preact", 56): 0.3}, archs=archs)
    assert _one(_verdicts(worse), "P", "depth 56")["verdict"] == AGAINST
    off = {("residual", 56): 0.1, ("preact", 56): 0.4}
    assert _one(_verdicts(_grid(test=off, archs=archs)), "P'", "depth 56")["verdict"] == AGAINST


def _bottleneck_runs(test_err: dict, seeds=6) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        [
            {
                "dataset": "digits",
                "variant": variant,
                "width": width,
                "seed": seed,
                "status": "completed",
                "test_err": err + 0.005 * rng.random(),
                "n_test": 360,
                "num_classes": 10,
            }
            for (variant, width), err in test_err.items()
            for seed in range(seeds)
        ]
    )


def test_bottleneck_claims_both_ways():
    grows = {("linear", 4): 0.05, ("relu", 4): 0.5, ("linear", 16): 0.05, ("relu", 16): 0.1}
    grows.update({("expansion", 4): 0.3, ("expansion", 16): 0.06})
    claims = _verdicts(_grid(), bottleneck_runs=_bottleneck_runs(grows))
    assert _one(claims, "B1", "bottleneck 4")["verdict"] == AGREES
    assert _one(claims, "B2", "bottleneck 4 vs 16")["verdict"] == AGREES
    assert _one(claims, "B3", "bottleneck 4")["verdict"] == AGREES
    shrinks = {("linear", 4): 0.5, ("relu", 4): 0.05, ("linear", 16): 0.05, ("relu", 16): 0.05}
    shrinks.update({("expansion", 4): 0.05, ("expansion", 16): 0.05})
    claims = _verdicts(_grid(), bottleneck_runs=_bottleneck_runs(shrinks))
    assert _one(claims, "B1", "bottleneck 4")["verdict"] == AGAINST
    assert _one(claims, "B2", "bottleneck 4 vs 16")["verdict"] == AGAINST
    assert _one(claims, "B3", "bottleneck 4")["verdict"] == AGAINST
    # equal errors: negligible, once enough seeds beat the counting noise of 360 test images
    same = _bottleneck_runs({("linear", 16): 0.1, ("relu", 16): 0.1}, seeds=40)
    claims = _verdicts(_grid(), bottleneck_runs=same)
    assert _one(claims, "B1", "bottleneck 16")["verdict"] == NEGLIGIBLE
    # 18 errors of 360 on average in both: at the floor
    few = _bottleneck_runs({("linear", 16): 0.05, ("relu", 16): 0.05}, seeds=40)
    claims = _verdicts(_grid(), bottleneck_runs=few)
    assert _one(claims, "B1", "bottleneck 16")["verdict"] == UNINFORMATIVE


def _sweep(dead_narrow, dead_wide, slope_narrow, slope_wide, epoch=0, train_err=None, inits=20):
    rng = np.random.default_rng(2)
    rows = []
    for width, dead, slope in ((2, dead_narrow, slope_narrow), (32, dead_wide, slope_wide)):
        for init in range(inits):
            base = {"dataset": "digits", "arch": "plain", "depth": 56, "width": width, "init": init}
            base["epoch"] = epoch
            if train_err is not None:
                rows.append({**base, "statistic": "train_err", "value": train_err(width, init)})
            value = dead + 0.001 * rng.standard_normal()
            rows.append({**base, "statistic": "dead_fraction_branch", "value": value})
            value = slope + 0.01 * rng.standard_normal()
            rows.append({**base, "statistic": "signal_norm_slope", "value": value})
    return pd.DataFrame(rows)


def test_width_claims_all_ways():
    for sweep, expected in (
        (_sweep(0.5, 0.05, 2.0, 0.2), SUPPORTED),
        (_sweep(0.05, 0.5, 0.2, 2.0), CONTRADICTED),
        # dead units alike: negligible once enough inits beat the counting noise of 92 units
        (_sweep(0.02, 0.02, 1.0, 1.0, inits=80), NEGLIGIBLE),
    ):
        claims = _verdicts(_grid(), width_sweep=sweep)
        assert _one(claims, "W1", "plain-56, initialisation")["verdict"] == expected
        assert _one(claims, "W2", "plain-56, initialisation")["verdict"] == expected
    floor = _verdicts(_grid(), width_sweep=_sweep(0.0, 0.0, 0.2, 0.2))
    assert _one(floor, "W1", "plain-56, initialisation")["verdict"] == UNINFORMATIVE
    # a vanishing of 0.2 decades at both widths: within the margin of none, at the floor
    assert _one(floor, "W2", "plain-56, initialisation")["verdict"] == UNINFORMATIVE


def test_width_claims_on_trained_nets_use_the_inits_where_both_widths_converged():
    # the narrow nets converge on inits 0-9 only: the comparison rests on those ten
    trained = _sweep(0.5, 0.05, 2.0, 0.2, 10, lambda width, init: 0.01 if init < 10 else 0.2)
    claims = _verdicts(_grid(), width_sweep=pd.concat([_sweep(0.5, 0.05, 2.0, 0.2), trained]))
    row = _one(claims, "W1", "plain-56, epoch 10")
    assert row["verdict"] == SUPPORTED and row["n"] == 10
    failing = _sweep(0.5, 0.05, 2.0, 0.2, 10, lambda width, init: 0.5 if width == 2 else 0.01)
    row = _one(_verdicts(_grid(), width_sweep=failing), "W2", "plain-56, epoch 10")
    assert row["verdict"] == NOT_TESTABLE
    assert "0 init(s) converged at both width 2 (0 of 20) and width 32 (20 of 20)" in row["reason"]


def test_a_width_sweep_net_that_diverged_adds_no_row_at_its_own_last_epoch():
    # init 3 of width 2 diverged at epoch 6: its training error is recorded there, with no
    # statistic; the rows at epoch 10 rest on the other inits, and epoch 6 has no row at all
    trained = _sweep(0.5, 0.05, 2.0, 0.2, 10, lambda width, init: 0.01)
    trained = trained[~((trained["width"] == 2) & (trained["init"] == 3))]
    diverged = {"dataset": "digits", "arch": "plain", "depth": 56, "width": 2, "init": 3}
    diverged.update(epoch=6, statistic="train_err", value=0.9)
    sweep = pd.concat([_sweep(0.5, 0.05, 2.0, 0.2), trained, pd.DataFrame([diverged])])
    claims = _verdicts(_grid(), width_sweep=sweep)
    width_rows = claims[claims["claim_id"].isin(["W1", "W2"])]
    assert sorted(set(width_rows["setting"])) == [
        "plain-56, epoch 10",
        "plain-56, initialisation",
    ]
    assert not width_rows["measure"].str.contains("nan").any()
    assert _one(claims, "W1", "plain-56, epoch 10")["n"] == 19


# -- collapse claims and checks -------------------------------------------------------------------
def _blocks(recoverable_by_n, plain_by_n=None, spread=0.05):
    """blocks.csv rows: the original and pre-activation blocks keep ``recoverable_by_n``, the
    plain layer ``plain_by_n`` (default: the same), ``spread``: sd over maps of the paired
    difference."""
    plain_by_n = plain_by_n or recoverable_by_n
    rows = []
    for n, r in recoverable_by_n.items():
        for block in ("preact_block", "original_block", "plain_layer"):
            value = plain_by_n[n] if block == "plain_layer" else r
            row = {"manifold": "spiral", "embed_dim": n, "block": block, "n_matrices": 200}
            row.update(recoverable=value, recoverable_lo=max(value - 0.01, 0))
            row["recoverable_hi"] = min(value + 0.01, 1)
            if block != "plain_layer":
                diff = r - plain_by_n[n]
                row.update(vs_plain=diff, vs_plain_lo=diff - 0.01, vs_plain_hi=diff + 0.01)
                row["vs_plain_sd"] = spread
            rows.append(row)
    return pd.DataFrame(rows)


def _collapse(claim_id, survival, blocks=None, setting=None):
    rows = collapse_rows(survival, blocks, RULES)
    return {r.verdict for r in rows if r.claim_id == claim_id and setting in (None, r.setting)}


def test_claim_1_and_3a_are_checks_that_can_fail():
    assert _collapse("1", _survival(0.25, 1.0)) == {SANITY_PASSED}
    assert _collapse("1", _survival(0.99, 1.0)) == {SANITY_FAILED}  # nothing lost at small n
    assert _collapse("1", _survival(0.25, 0.5)) == {SANITY_FAILED}  # lost at large n
    assert _collapse("3a", _survival(), _blocks({2: 1.0, 16: 1.0})) == {SANITY_PASSED}
    assert _collapse("3a", _survival(), _blocks({2: 0.5, 16: 1.0})) == {SANITY_FAILED}


def test_check_1b_names_how_many_random_maps_it_rests_on_or_that_nobody_counted():
    def measure(survival):
        rows = collapse_rows(survival, None, RULES)
        [row] = [r for r in rows if r.claim_id == "1b"]
        return row.measure

    counted = _survival().assign(n_matrices=200)
    assert "over n = 2..30, 200 random maps a width (tolerance" in measure(counted)
    old = measure(_survival())  # a table written before the maps were counted
    assert "random maps (their number not recorded) a width" in old and "0 random" not in old


def _block_verdicts(claim_id, blocks, setting):
    rows = evaluate({**_tables(_grid()), "blocks": blocks}, RULES)
    return _one(rows, claim_id, setting)


def test_3b_and_3c_set_a_block_against_the_plain_layer_of_its_width():
    # the block keeps what the plain layer keeps: the collapse law of any ReLU layer, negligible
    law = {2: 0.27, 8: 0.9, 16: 0.999, 32: 1.0}
    row = _block_verdicts("3b", _blocks(law), "spiral, n < 16")
    assert row["verdict"] == NEGLIGIBLE and row["stage"] == "random maps"
    assert row["effect"] == pytest.approx(0.0) and row["n"] == 200
    # both at the ceiling at the trunk widths of the nets: uninformative, not negligible
    row = _block_verdicts("3b", _blocks(law), "spiral, n >= 16")
    assert row["verdict"] == UNINFORMATIVE and "ceiling" in row["reason"]
    # the block keeps 0.3 more of the manifold than the plain layer at n < 16: supported
    plain = {2: 0.25, 8: 0.5, 16: 0.999, 32: 1.0}
    keeps = {2: 0.55, 8: 0.8, 16: 0.999, 32: 1.0}
    assert _block_verdicts("3c", _blocks(keeps, plain), "spiral, n < 16")["verdict"] == SUPPORTED
    assert _block_verdicts("3b", _blocks(plain, keeps), "spiral, n < 16")["verdict"] == CONTRADICTED
    # a spread over maps too wide to decide
    noisy = _blocks({2: 0.3, 8: 0.6}, {2: 0.25, 8: 0.6}, spread=1.0)
    assert _block_verdicts("3b", noisy, "spiral, n < 16")["verdict"] == INCONCLUSIVE


def test_checks_say_when_the_grid_is_too_small_to_check_them():
    # the smoke config's grid stops at n = 8: claim 1 is stated at n = 15 and 30
    small = _survival(dims=(2, 3, 5, 8))
    rows = [r for r in collapse_rows(small, None, RULES) if r.claim_id == "1"]
    assert [r.verdict for r in rows] == [NOT_TESTABLE]
    assert "reaches n = 8" in rows[0].reason and "not checked at this size" in rows[0].reason
    # a gap of 0.054 to the law, measured on 20 maps (interval +-0.1): what sampling explains
    few_maps = _survival(theory_gap=0.054, half=0.1)
    assert _collapse("1b", few_maps) == {SANITY_PASSED}
    # the same gap measured on many maps (interval +-0.01) is a bug
    assert _collapse("1b", _survival(theory_gap=0.054, half=0.01)) == {SANITY_FAILED}


def test_theorems_are_sanity_checks_that_can_fail():
    assert _collapse("1b", _survival()) == {SANITY_PASSED}
    assert _collapse("1b", _survival(theory_gap=0.2)) == {SANITY_FAILED}
    assert _collapse("2", _survival()) == {SANITY_PASSED}
    assert _collapse("2", _survival(linear_lost=0.2)) == {SANITY_FAILED}
    assert _collapse("3", _survival(linear_lost=0.2)) == {SANITY_FAILED}


# -- the whole vocabulary -------------------------------------------------------------------------
def test_every_comparison_claim_reaches_for_against_and_negligible_somewhere():
    """No rule is unfalsifiable: over the scenarios each comparison reaches both decisive
    verdicts, and negligible where it has a margin."""
    # the explanation family's own scenarios: tests/test_claims_interventions.py
    reached = {c.id: set() for c in CLAIMS if c.family not in (CHECK, EXPLANATION)}
    scenarios = [
        _grid(train={("plain", 56): 0.88}),
        _grid(train={("plain", 8): 0.5, ("residual", 56): 0.5}),
        _grid(),
        _grid(test={("residual", 8): 0.4, ("residual", 56): 0.1}),
        # responses that moved from 1 to 0.5 in every net alike (7, 7b negligible)
        _grid(
            stats={("response_median", a, d, 0): 1.0 for a in ("plain", "residual") for d in DEPTHS}
        ),
        # every net at 10% training error, measured finely: off the floor, alike
        _grid(train={(a, d): 0.1 for a in ("plain", "residual") for d in DEPTHS}, seeds=20),
        _grid(test={("residual", 8): 0.1, ("residual", 56): 0.4}),
        _grid(speed={("plain", 20): 3.0, ("residual", 20): 0.5}),
        _grid(speed={("plain", 20): 0.5, ("residual", 20): 3.0}),
        _grid(stats=_all("signal_norm_slope", "plain", 0.0)),
        _grid(
            stats={
                **_all("dead_fraction_branch", "plain", 0.02),
                **_all("dead_fraction_branch", "residual", 0.02),
            },
            seeds=20,
        ),
    ]
    for low, high in ((0.2, 0.8), (0.8, 0.2)):
        stats = {}
        for statistic in STATISTICS:
            stats.update(_all(statistic, "residual", low))
            stats.update(_all(statistic, "plain", high))
        stats.update(_all("signal_norm_slope", "plain", 3 * (high - 0.5)))
        stats.update(_all("signal_norm_slope", "residual", 0.0 if low < 0.5 else 3.0))
        stats.update(_all("lesion_error_same_shape", "residual", 0.05 if low < 0.5 else 0.85))
        stats.update(_all("lesion_error_same_shape", "plain", 0.85 if low < 0.5 else 0.05))
        for arch, statistic in (("residual", "response_median"), ("plain", "autocorrelation_lag1")):
            for e in (0, 10):
                stats[(statistic, arch, 8, e)] = high
                stats[(statistic, arch, 56, e)] = low
        # responses start at 1 (a BatchNorm's |gamma|) and move in training (claims 7, 7b)
        stats.update(
            {("response_median", a, d, 0): 1.0 for a in ("plain", "residual") for d in DEPTHS}
        )
        scenarios.append(_grid(stats=stats))
    for runs, epochs, net in scenarios:
        # with BatchNorm: 7 and 7b need it, and without it these scenarios reach no verdict that
        # they do not reach with it (5a is judged after training either way; its own test,
        # test_5a_is_not_testable_at_initialisation_and_judged_after_training_whatever_the_norm)
        for row in _verdicts((runs.assign(norm="batch"), epochs, net)).itertuples():
            if row.claim_id in reached:
                reached[row.claim_id].add(row.verdict)
    for claim_id, verdicts in reached.items():
        claim = CLAIM_BY_ID[claim_id]
        if claim_id in {"3b", "3c", "4b'", "P", "P'"} or claim_id[0] in "BWT":
            continue  # reached in their own tests above
        words = {ESSAY: {SUPPORTED, CONTRADICTED}, REPLICATION: {AGREES, AGAINST}}[claim.family]
        assert words <= verdicts, (claim_id, verdicts)
        if claim.margin > 0 and claim.predicted != "no worse":
            assert NEGLIGIBLE in verdicts, (claim_id, verdicts)


def test_the_claims_table_lists_families_margins_and_the_essay():
    definitions = claims_definitions(RULES)
    assert list(definitions["id"]) == [c.id for c in CLAIMS]
    assert set(definitions["family"]) == {ESSAY, EXPLANATION, REPLICATION, CHECK}
    essay = definitions[definitions["family"] == ESSAY]
    assert essay["essay"].str.contains("「").all()  # each quotes the essay in Chinese
    assert (definitions.loc[definitions["family"] != CHECK, "margin_reason"] != "").all()
    row = definitions[definitions["id"] == "4b"].iloc[0]
    assert row["predicted"] == "< 0.01 (no worse)"
    assert definitions[definitions["id"] == "V"].iloc[0]["predicted"] == "> 0, beyond 0.3"
    claims = _verdicts(_grid())
    assert list(claims.columns) == COLUMNS
    assert set(claims["verdict"]) <= set(VERDICTS)
    families = list(dict.fromkeys(claims["family"]))
    assert families == [ESSAY, REPLICATION, CHECK]  # the report leads with the essay's


def test_inconclusive_rows_say_what_would_decide_them():
    noisy = _verdicts(_grid(train={("plain", 56): 0.05}, noise=0.1, seeds=3))
    row = _one(noisy, "4a", "depth 56 vs 8")
    assert row["verdict"] == INCONCLUSIVE
    assert row["detectable"] > 0 and row["seeds_needed"] > 3
    decided = _one(_verdicts(_grid(train={("plain", 56): 0.5})), "4a", "depth 56 vs 8")
    assert math.isnan(decided["detectable"]) and math.isnan(decided["seeds_needed"])


# -- replication ----------------------------------------------------------------------------------
def test_the_halves_are_judged_apart_and_their_agreement_counted():
    # seeds 0-3 and 4-7: the plain net fails to train in the first half only
    train = {("plain", 56): tuple([0.88] * 4 + [0.005] * 4)}
    claims = _verdicts(_grid(train=train, seeds=8), _with(halves=True))
    row = _one(claims, "4a", "depth 56 vs 8")
    assert row["verdict_half_a"] == AGREES and row["verdict_half_b"] == UNINFORMATIVE
    assert row["halves_agree"] == "no"
    same = _one(claims, "S", "depth 20")
    assert same["verdict_half_a"] == same["verdict_half_b"] == NEGLIGIBLE
    assert same["halves_agree"] == "yes"
    agree, judged = agreement_counts(claims)
    assert 0 < agree < judged
    assert (claims.loc[claims["family"] == CHECK, "halves_agree"] == "").all()
    off = _verdicts(_grid(seeds=8))
    assert (off["verdict_half_a"] == "").all()


def test_two_claims_tables_compared_row_by_row(tmp_path, capsys):
    first = _verdicts(_grid(train={("plain", 56): 0.88}))
    second = _verdicts(_grid())
    differ = differences(first, second)
    assert ("4a", "depth 56 vs 8") in set(zip(differ["claim_id"], differ["setting"], strict=True))
    assert (differ["verdict_a"] != differ["verdict_b"]).all()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    first.to_csv(a, index=False)
    second.to_csv(b, index=False)
    assert compare_main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "4a | depth 56 vs 8, failures: A " in out and "B (no such row)" in out
    assert compare_main([str(a), str(a)]) == 0
    assert "same verdict" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    with pytest.raises(SystemExit):
        compare_main([str(a), str(bad)])
    assert "lacks the columns" in capsys.readouterr().err


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
                    "spec": {"norm": "batch"},
                    "status": "completed",
                    "epochs_completed": 2,
                    "final_train_err": 0.1 * seed,
                    "final_test_err": 0.0,
                    "final_train_loss": 1.0,
                    "final_test_loss": 1.0,
                    "train_seconds": 1.0,
                    "n_train": 100,
                    "n_test": 50,
                    "num_classes": 10,
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
                        "test_err": 0.0,
                        "train_loss": 1.0,
                        "test_loss": 1.0,
                    }
                )
            )
    runs = agg.run_table(summaries, metrics)
    assert runs["train_err_auc"].iloc[0] == pytest.approx(0.25)
    assert (runs["norm"] == "batch").all()
    final = agg.final_table(runs)
    assert len(final) == 2
    row = final.iloc[0]
    assert row["train_err_mean"] == pytest.approx(0.1)
    # 0, 0.1 and 0.2 of 100 training images: a variance of 0.01 between seeds against 0.0009
    # from counting, so the 300 images count as 27, with 2.7 errors (Clopper-Pearson)
    lo, hi = sps.beta.ppf(0.025, 2.7, 27 - 2.7 + 1), sps.beta.ppf(0.975, 2.7 + 1, 27 - 2.7)
    assert (row["train_err_lo"], row["train_err_hi"]) == pytest.approx((lo, hi), rel=1e-9)
    # no error on 3 x 50 test images: counting alone, the exact bound of 0 of 150
    assert row["test_err_lo"] == 0
    assert row["test_err_hi"] == pytest.approx(1 - 0.025 ** (1 / 150), rel=1e-9)
    curves = agg.curve_table(pd.concat(metrics), runs)
    assert set(curves["metric"]) == set(agg.FINAL_METRICS)
    assert (curves["n"] == 3).all()
    cells = curves.set_index(["arch", "epoch", "metric"])
    first = cells.loc[("plain", 1, "train_err")]  # 0.5 on every seed: 150 of 300 images
    exact = sps.binomtest(150, 300).proportion_ci(0.95, method="exact")
    assert (first["lo"], first["hi"]) == pytest.approx((exact.low, exact.high), rel=1e-9)
    last = cells.loc[("plain", 2, "test_err")]
    assert (last["lo"], last["hi"]) == pytest.approx((0, 1 - 0.025 ** (1 / 150)), rel=1e-9)


def test_width_claims_name_an_absent_premise_and_responses_need_batchnorm():
    # the signal grows toward the input at both widths: no vanishing for W2 to compare
    claims = _verdicts(_grid(norm="none"), width_sweep=_sweep(0.5, 0.05, -2.0, -1.0))
    row = _one(claims, "W2", "plain-56, initialisation")
    assert row["verdict"] == NOT_TESTABLE and "premise absent" in row["reason"]
    row = _one(claims, "7b", "depth 56 vs 8")
    assert row["verdict"] == NOT_TESTABLE and "no BatchNorm" in row["reason"]
    assert _one(_verdicts(_grid(norm="batch")), "7b", "depth 56 vs 8")["verdict"] != NOT_TESTABLE


def test_every_verdict_agrees_with_the_interval_printed_beside_it():
    """The interval at the row's Holm level (lo_adj, hi_adj) lies in the verdict's region when a
    row is decided and reaches across a margin when it is not; the unadjusted 95% interval is
    printed as well, and an inconclusive row says why."""
    scenarios = [
        _grid(train={("plain", 56): 0.5}),
        _grid(
            stats={
                **_all("relu_r2_branch", "residual", 0.9),
                **_all("relu_r2_branch", "plain", 0.5),
            }
        ),
        _grid(train={(a, d): 0.1 for a in ("plain", "residual") for d in DEPTHS}, seeds=20),
        _grid(train={("plain", 56): 0.02}, noise=0.05, seeds=3),
    ]
    checked = {"decided": 0, "open": 0}
    for grid in scenarios:
        for row in _verdicts(grid).itertuples():
            if not np.isfinite(row.level_adj):
                continue
            claim = CLAIM_BY_ID[row.claim_id]
            r, d = claim.reference, claim.margin
            lo, hi = row.lo_adj, row.hi_adj
            if claim.predicted == "no worse":
                regions = {"for": hi < r + d, "against": lo > r + d}
            else:
                up, down = lo > r + d, hi < r - d
                regions = {
                    "for": up if claim.direction > 0 else down,
                    "against": down if claim.direction > 0 else up,
                    "negligible": d > 0 and lo > r - d and hi < r + d,
                }
            words = {SUPPORTED: "for", AGREES: "for", CONTRADICTED: "against"}
            words.update({AGAINST: "against", NEGLIGIBLE: "negligible"})
            if row.verdict in words:
                assert regions[words[row.verdict]], row
                checked["decided"] += 1
            elif row.verdict == INCONCLUSIVE:
                assert not any(regions.values()), row
                assert "reaches across" in row.reason, row
                checked["open"] += 1
            assert row.level_adj >= 0.95 - 1e-12 or row.verdict == INCONCLUSIVE
    assert checked["decided"] > 20 and checked["open"] > 0, checked


# -- variance floors counted on units, at every depth and width ----------------------------------
def _units(depth: int, width: int) -> float:
    """The branch units of a 6n+2 net as one binomial sample: its dead fraction is the mean over
    the 3n blocks of dead / channels, channels w, 2w and 4w by stage, so its variance is
    p(1 - p) sum(1 / channels) / (3n)^2: the variance of one rate counted on (3n)^2 /
    sum(1 / channels) units."""
    n = (depth - 2) / 6
    assert n == int(n), depth
    channels = [width] * int(n) + [2 * width] * int(n) + [4 * width] * int(n)
    return len(channels) ** 2 / sum(1 / c for c in channels)


def _counting_variance(fraction: float, units: float) -> float:
    """The variance of one fraction counted on ``units``, shrunk as (k + 1/2) / (N + 1)."""
    shrunk = (fraction * units + 0.5) / (units + 1)
    return shrunk * (1 - shrunk) / units


def test_a_nets_branch_relus_have_w_2w_and_4w_channels_by_stage():
    """The channel counts the unit count below rests on, read off a built plain-20."""
    import torch
    from conftest import net_spec

    from resnet_essence.nets.resnet import build_model

    model = build_model(net_spec("plain", 20, in_channels=1, width=4))
    seen = []
    handles = [
        module.register_forward_hook(lambda _m, _i, out: seen.append(out.shape[1]))
        for _, site, module in model.relu_sites()
        if site == "branch"
    ]
    model(torch.zeros(2, 1, 8, 8))
    for handle in handles:
        handle.remove()
    assert seen == [4] * 3 + [8] * 3 + [16] * 3


@pytest.mark.parametrize("width", [4, 16, 64])
def test_branch_units_are_the_closed_form_at_every_depth(width):
    depths = (8, 20, 56, 110)
    runs = pd.DataFrame(
        [
            {"arch": "plain", "depth": d, "seed": s, "base_width": width, "status": "completed"}
            for d in depths
            for s in range(2)
        ]
    ).assign(train_err=0.01, test_err=0.02, num_classes=10, n_train=1437, n_test=360)
    # dead fractions of 0.1 (plain) and 0.3 (residual) at epoch 0, every seed alike
    stats = [
        {"arch": arch, "depth": d, "seed": s, "statistic": "dead_fraction_branch", "epoch": 0}
        | {"value": value}
        for arch, value in (("plain", 0.1), ("residual", 0.3))
        for d in depths
        for s in range(2)
    ]
    runs = pd.concat([runs, runs.assign(arch="residual")], ignore_index=True)
    grid = Grid(runs, pd.DataFrame(columns=["epoch"]), pd.DataFrame(stats), RULES)
    for depth in depths:
        units = _units(depth, width)
        assert branch_units(grid, ("plain", depth)) == pytest.approx(units, rel=1e-12)
        _, _, floor = dead_units(grid, ("plain", depth), ("residual", depth), 0)
        want = _counting_variance(0.1, units) + _counting_variance(0.3, units)
        assert floor == pytest.approx(want, rel=1e-12), depth
    unknown = Grid.of_runs(runs.drop(columns="base_width"), RULES)
    assert math.isnan(branch_units(unknown, ("plain", 20)))  # no width recorded: no units


def _flat_sweep(depth: int, narrow: int, wide: int, dead=(0.4, 0.1), inits=4) -> pd.DataFrame:
    """A width sweep at initialisation with no spread over inits: the variance of the
    difference is the counting floor alone."""
    rows = []
    for width, fraction, slope in ((narrow, dead[0], 2.0), (wide, dead[1], 0.5)):
        for init in range(inits):
            base = {"dataset": "digits", "arch": "plain", "depth": depth, "width": width}
            base.update(init=init, epoch=0)
            rows.append({**base, "statistic": "dead_fraction_branch", "value": fraction})
            rows.append({**base, "statistic": "signal_norm_slope", "value": slope})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "depth, narrow, wide", [(8, 2, 32), (20, 4, 16), (56, 3, 48), (110, 8, 8 * 9)]
)
def test_the_width_sweeps_variance_floor_counts_the_units_of_each_width(depth, narrow, wide):
    (w1,) = [t for t in width_tests(_flat_sweep(depth, narrow, wide), RULES) if t.claim_id == "W1"]
    want = _counting_variance(0.4, _units(depth, narrow))
    want += _counting_variance(0.1, _units(depth, wide))
    assert w1.estimate.sd**2 == pytest.approx(want, rel=1e-12)
    assert w1.estimate.effect == pytest.approx(0.3)


# -- rules exactly at their thresholds ------------------------------------------------------------
def test_a_run_exactly_at_the_convergence_criterion_has_converged():
    at = RULES.converged_train_err
    above = float(np.nextafter(at, 1.0))
    runs, _, _ = _grid(seeds=4, noise=0.0)
    runs = runs.assign(train_err_eval=0.001)
    net = (runs["arch"] == "plain") & (runs["depth"] == 20)
    runs.loc[net, "train_err_eval"] = [at, above, np.nan, np.nan]
    runs.loc[net, "train_err"] = [0.001, 0.001, at, above]  # seeds 2-3: the running error
    grid = Grid.of_runs(runs, RULES)
    assert grid.converged(("plain", 20)).tolist() == [True, False, True, False]
    seeds, why_not = grid.end_seeds(("plain", 20), ("residual", 20))
    assert seeds == [0, 2] and why_not == ""


def test_a_width_exactly_at_the_convergence_criterion_is_compared_after_training():
    at = RULES.converged_train_err
    errors = {0: at, 1: at, 2: float(np.nextafter(at, 1.0))}
    trained = _sweep(0.5, 0.05, 2.0, 0.2, 10, lambda width, init: errors.get(init, 0.5), inits=3)
    (w1,) = [t for t in width_tests(trained, RULES) if t.claim_id == "W1"]
    assert w1.seeds == (0, 1) and not w1.reason


def test_a_run_exactly_at_the_failure_fraction_of_chance_has_failed():
    limit = 0.5 * (1 - 1 / 10)  # report.failure_fraction of the chance error of ten classes
    assert RULES.failure_fraction == 0.5
    runs, _, _ = _grid(seeds=2, noise=0.0)
    net = (runs["arch"] == "plain") & (runs["depth"] == 56)
    runs.loc[net, "train_err"] = [limit, float(np.nextafter(limit, 0.0))]
    assert Grid.of_runs(runs, RULES).failed(("plain", 56)).tolist() == [True, False]


def test_t1_passes_at_the_tolerance_and_fails_just_above_it():
    def rows(worst):
        values = pd.DataFrame({"statistic": "always_active_logit_change", "value": [0.0, worst]})
        return _check_rows(values, RULES)

    (row,) = rows(RULES.exact_tolerance)
    assert (row.claim_id, row.verdict, row.effect) == ("T1", SANITY_PASSED, RULES.exact_tolerance)
    (row,) = rows(float(np.nextafter(RULES.exact_tolerance, 1.0)))
    assert row.verdict == SANITY_FAILED
    assert _check_rows(pd.DataFrame({"statistic": ["x"], "value": [1.0]}), RULES) == []


# -- verdicts no scenario above reaches ----------------------------------------------------------
def _with_t1(grid, worst: float):
    """The grid with T1's measure on every trained net: 0, but ``worst`` on one."""
    runs, epochs, net = grid
    t1 = runs[["dataset", "arch", "depth", "seed"]].assign(
        epoch=10, statistic="always_active_logit_change", value=0.0
    )
    t1.loc[t1.index[0], "value"] = worst
    return runs, epochs, pd.concat([net, t1], ignore_index=True)


def _bottlenecks_by_seed(test_err: dict, n_test: int) -> pd.DataFrame:
    """bottleneck_runs.csv: ``test_err`` {(variant, width): one error per seed}."""
    return pd.DataFrame(
        [
            {"dataset": "digits", "variant": variant, "width": width, "seed": seed}
            | {"status": "completed", "test_err": err, "n_test": n_test, "num_classes": 10}
            for (variant, width), errors in test_err.items()
            for seed, err in enumerate(errors)
        ]
    )


def test_alike_nets_on_a_cifar_sized_test_set_are_negligible_or_no_worse_and_t1_passes():
    """Test errors alike at 10% (1000 of CIFAR-10's 10000 test images, well off the floor) over
    24 seeds: 4b', B1 and B2 negligible, P' and B3 no worse (agrees); T1's largest logit change
    exactly at the tolerance passes."""
    seeds = 24
    archs = ("residual", "preact")  # the nets these rows compare
    test = {("residual", 8): 0.1, ("residual", 56): 0.1, ("preact", 56): 0.1}
    runs, epochs, net = _with_t1(_grid(test=test, archs=archs, seeds=seeds), RULES.exact_tolerance)
    rng = np.random.default_rng(3)
    alike = {
        (v, w): tuple(0.1 + 0.002 * rng.random(seeds))
        for v in ("linear", "relu", "expansion")
        for w in (4, 16)
    }
    claims = _verdicts(
        (runs.assign(n_test=10_000), epochs, net),
        bottleneck_runs=_bottlenecks_by_seed(alike, 10_000),
    )
    assert _one(claims, "4b'", "depth 56 vs 8")["verdict"] == NEGLIGIBLE
    assert _one(claims, "P'", "depth 56")["verdict"] == AGREES
    assert _one(claims, "B1", "bottleneck 4")["verdict"] == NEGLIGIBLE
    assert _one(claims, "B2", "bottleneck 4 vs 16")["verdict"] == NEGLIGIBLE
    assert _one(claims, "B3", "bottleneck 16")["verdict"] == AGREES
    row = _one(claims, "T1", "every trained net")
    assert row["verdict"] == SANITY_PASSED and row["effect"] == RULES.exact_tolerance


def test_few_noisy_seeds_leave_error_bottleneck_width_and_response_rows_inconclusive():
    """Three seeds that disagree by tens of points: 4b', P, P', 7b, B1-B3, W1 and W2 cannot
    decide; T1 with one net whose logits moved by 1e-5 fails."""
    archs = ("residual", "preact")  # the nets these rows compare
    train = {("preact", 56): (0.029, 0.0, 0.029)}  # converged, 28 errors of 1437 on average
    test = {
        ("residual", 8): (0.1, 0.3, 0.2),
        ("residual", 56): (0.3, 0.1, 0.25),
        ("preact", 56): (0.15, 0.3, 0.1),
    }
    stats = {("response_median", "residual", d, 0): 1.0 for d in DEPTHS}
    stats[("response_median", "residual", 8, 10)] = (0.6, 0.4, 0.7)
    stats[("response_median", "residual", 56, 10)] = (0.3, 0.9, 0.5)
    grid = _grid(train=train, test=test, stats=stats, archs=archs, seeds=3, noise=0.0)
    runs, epochs, net = _with_t1(grid, 1e-5)
    bottlenecks = {
        ("linear", 4): (0.1, 0.4, 0.2),
        ("relu", 4): (0.3, 0.1, 0.35),
        ("expansion", 4): (0.3, 0.1, 0.3),
        ("linear", 16): (0.2, 0.3, 0.1),
        ("relu", 16): (0.1, 0.35, 0.3),
    }
    sweep = []
    for width, dead, slope in (
        (2, (0.1, 0.5, 0.3), (2.0, 0.5, 1.5)),
        (32, (0.3, 0.1, 0.2), (0.5, 2.0, 1.0)),
    ):
        for init in range(3):
            base = {"dataset": "digits", "arch": "plain", "depth": 56, "width": width}
            base.update(init=init, epoch=0)
            sweep.append({**base, "statistic": "dead_fraction_branch", "value": dead[init]})
            sweep.append({**base, "statistic": "signal_norm_slope", "value": slope[init]})
    claims = _verdicts(
        (runs.assign(norm="batch"), epochs, net),
        bottleneck_runs=_bottlenecks_by_seed(bottlenecks, 360),
        width_sweep=pd.DataFrame(sweep),
    )
    for claim_id, setting in (
        ("4b'", "depth 56 vs 8"),
        ("P", "depth 56"),
        ("P'", "depth 56"),
        ("7b", "depth 56 vs 8"),
        ("B1", "bottleneck 4"),
        ("B2", "bottleneck 4 vs 16"),
        ("B3", "bottleneck 4"),
        ("W1", "plain-56, initialisation"),
        ("W2", "plain-56, initialisation"),
    ):
        row = _one(claims, claim_id, setting)
        assert row["verdict"] == INCONCLUSIVE, row.to_dict()
        assert "reaches across" in row["reason"], row.to_dict()
    assert _one(claims, "T1", "every trained net")["verdict"] == SANITY_FAILED


def test_few_noisy_seeds_leave_the_interventions_inconclusive():
    """The explanation family (claims Z and R) on three seeds that disagree: the zeros taken
    out (Z1, Z2, Z4) and a ReLU on the identity (R1-R3) cannot decide."""
    archs = ("plain", "residual", "plain-leaky0.2", "preact", "preact-reluid")
    train = {
        ("plain", 56): (0.2, 0.25, 0.3),  # a gap to the residual net's 0.5%: Z2 is judged
        ("plain-leaky0.2", 56): (0.3, 0.1, 0.25),
        ("preact", 56): (0.1, 0.2, 0.15),
        ("preact-reluid", 56): (0.2, 0.1, 0.18),
    }
    speed = {("preact", 20): (1.0, 3.0, 2.0), ("preact-reluid", 20): (3.0, 1.0, 2.5)}
    stats = {
        ("signal_norm_slope", arch, 56, 0): values
        for arch, values in (
            ("plain", (1.0, 2.0, 1.5)),
            ("plain-leaky0.2", (2.0, 1.0, 1.8)),
            ("preact", (1.0, 2.0, 1.5)),
            ("preact-reluid", (2.0, 1.0, 1.8)),
        )
    }
    grid = _grid(train=train, speed=speed, stats=stats, archs=archs, seeds=3, noise=0.0)
    claims = _verdicts(tuple(t[t["depth"] != 8] for t in grid))  # depths 20 and 56 suffice
    for claim_id, setting in (
        ("Z1", "depth 56, leaky0.2"),
        ("Z2", "depth 56, leaky0.2"),
        ("Z4", "depth 56, leaky0.2, epoch 0"),
        ("R1", "depth 56"),
        ("R2", "depth 20"),
        ("R3", "depth 56, epoch 0"),
    ):
        row = _one(claims, claim_id, setting)
        assert row["verdict"] == INCONCLUSIVE, row.to_dict()
        assert "reaches across" in row["reason"], row.to_dict()
