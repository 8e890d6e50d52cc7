"""Edges of the decision code that the catalogue and the synthetic grids of test_claims.py do not
reach: a Claim refused or accepted as it is built (claims.yaml is loaded once, at import), the
reason of a row with no spread, Z2's gap measured against the binomial floor, and I1-I3 on
pre-activation nets with the identity turned down."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_claims import DEPTHS, RULES, _grid, _one, _verdicts

from resnet_essence.claims import (
    EXPLANATION,
    INCONCLUSIVE,
    NOT_TESTABLE,
    SUPPORTED,
    decision,
)
from resnet_essence.claims.catalogue import Claim, _load
from resnet_essence.claims.grid import Grid, epochs_to
from resnet_essence.claims.interventions import intervention_tests
from resnet_essence.claims.replication import main as compare_main
from resnet_essence.stats import one_sample

ESSAY_QUOTE = {"where": "§1", "quote": "一句话"}


def _by_depth_all(arch: str, value) -> dict:
    return {(arch, d): value for d in DEPTHS}


def _claim(**fields) -> Claim:
    base = {
        "id": "x9",
        "family": "essay",
        "statement": "a statement",
        "source": "a source",
        "measure": "a measure",
        "judged_at": "the end",
        "predicted": "> 0",
        "margin": 0.1,
        "essay": ESSAY_QUOTE,
    }
    return Claim(**(base | fields))


@pytest.mark.parametrize("predicted, direction", [("> 0", 1), ("< 0", -1), ("no worse", 0)])
def test_a_comparison_claim_predicts_a_side_or_no_worse(predicted, direction):
    assert _claim(predicted=predicted).direction == direction


def test_a_comparison_claim_that_predicts_anything_else_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^claims.yaml: claim x9: predicted 'sideways'$"):
        _claim(predicted="sideways")
    # a claim with a rule of its own states its prediction in words
    assert _claim(predicted="sideways", rule="exact").predicted == "sideways"


def test_only_the_essays_claims_must_quote_the_essay():
    with pytest.raises(ValueError, match="the essay's claim x9 must quote the essay"):
        _claim(essay=None)
    with pytest.raises(ValueError, match="must quote the essay"):
        _claim(essay={"where": "§1", "quote": ""})
    # a check and a replication may stand without a quote
    check = _claim(family="check", predicted="at most exact_tolerance", margin=None, essay=None)
    assert check.essay is None
    assert _claim(family="replication", essay=None).family == "replication"
    # and the catalogue itself loads, each claim checked as it is built
    assert len(_load()) > 40


def test_a_row_whose_seeds_do_not_spread_says_so():
    flat = one_sample([0.5] * 6)
    assert flat.n == 6 and math.isnan(flat.se)  # six seeds, all alike
    single = one_sample([0.5])
    tests = [decision.Test("3b", "flat", "m", flat), decision.Test("3b", "one seed", "m", single)]
    rows = decision.decide(tests, RULES)
    assert [r.verdict for r in rows] == [INCONCLUSIVE, INCONCLUSIVE]
    assert rows[0].reason == "no spread over seeds: nothing to decide from"
    assert rows[1].reason == (
        "fewer than two measured seeds (runs unfinished, or the measure undefined for them)"
    )


def test_z2_measures_the_gap_to_close_against_counting_noise():
    """plain-56 at 25% training error on every seed, residual-56 at 6.25% (both exact in binary):
    the same gap on all six seeds, 0.1875, with no spread at all. Counted on 1437 images a seed,
    its variance is at least 0.25 * 0.75 / 1437 + 0.0625 * 0.9375 / 1437 (sd 0.0131, se 0.0053
    over six seeds): the gap's interval, 0.1875 -+ 2.571 * 0.0053, lies above 0, so Z2 is judged.
    Without the counting noise the gap would have no spread, no interval, and Z2 no gap to
    close."""
    grid = _grid(
        archs=("plain", "residual", "plain-leaky0.2"),
        train={**_by_depth_all("plain", 0.25), **_by_depth_all("residual", 0.0625)}
        | _by_depth_all("plain-leaky0.2", 0.0625),
        noise=0.0,
    )
    assert set(grid[0]["train_err"]) == {0.25, 0.0625}  # no noise: the gap is exactly constant
    claims = _verdicts(grid)
    row = _one(claims[claims["family"] == EXPLANATION], "Z2", "depth 56, leaky0.2")
    # judged: an estimate with its interval (leaky exactly as good as the residual net, within
    # the counting noise of both)
    assert row["verdict"] != NOT_TESTABLE and "no gap to close" not in row["reason"]
    assert row["effect"] == 0.0 and math.isfinite(row["lo"]) and row["lo"] < 0 < row["hi"]
    sd = math.sqrt(0.25 * 0.75 / 1437 + 0.0625 * 0.9375 / 1437)
    assert 0.1875 - 2.571 * sd / math.sqrt(6) > 0  # the gap's interval, worked out above


def test_the_identity_turned_down_in_preactivation_nets_is_judged_too():
    """preact-a0.25, preact-a0.5 and preact (alpha 1): training errors 7.5%, 5% and 2.5%, every
    seed in that order: a Spearman correlation of -1 between alpha and the error on each seed."""
    archs = ("preact-a0.25", "preact-a0.5", "preact")
    train = {}
    for arch, error in zip(archs, (0.075, 0.05, 0.025), strict=True):
        train |= _by_depth_all(arch, error)
    claims = _verdicts(_grid(archs=archs, train=train))
    row = _one(claims, "I1", "depth 20, preact alpha, training error")
    assert row["effect"] == pytest.approx(-1.0)
    assert row["verdict"] == SUPPORTED
    assert "preact-a0.25-20, preact-a0.5-20, preact-20" in row["measure"]
    preact = claims[claims["setting"].str.contains("preact alpha")]
    assert {"I2", "I3"} <= set(preact["claim_id"])
    assert not claims["setting"].str.contains("residual alpha").any()  # no residual-a<alpha> net


def test_the_compare_command_documents_its_two_arguments(capsys):
    with pytest.raises(SystemExit) as done:
        compare_main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "usage: resnet-essence-compare-claims [-h] first second" in text
    assert "first a claims.csv" in text and "second another claims.csv" in text


def test_an_estimate_of_no_values_or_no_spread_has_no_interval():
    empty = one_sample([], reference=0.5)
    assert empty.n == 0 and empty.reference == 0.5
    assert all(math.isnan(v) for v in (empty.effect, empty.se, empty.lo, empty.hi))
    flat = one_sample([0.25] * 4)
    assert (flat.effect, flat.df, flat.n, flat.sd) == (0.25, 3, 4, 0.0)
    assert math.isnan(flat.lo) and math.isnan(flat.hi) and not flat.decidable


def test_a_decided_row_gives_no_reason():
    # six seeds around 1 (sd 0.0707): far beyond 3b's margin, supported
    clear = one_sample([1.0, 1.1, 0.9, 1.05, 0.95, 1.0])
    (row,) = decision.decide([decision.Test("3b", "clear", "m", clear)], RULES)
    assert row.verdict == SUPPORTED and row.reason == ""


def _curve_grid(epochs: list[int], errors: list[float]) -> Grid:
    """One plain-8 run whose training error was recorded at ``epochs`` only."""
    runs, _, net = _grid(archs=("plain",), seeds=1)
    ids = {"dataset": "digits", "arch": "plain", "depth": 8, "seed": 0}
    points = zip(epochs, errors, strict=True)
    curve = pd.DataFrame([ids | {"epoch": e, "train_err": r} for e, r in points])
    return Grid(runs, curve, net, RULES)


def test_epochs_to_interpolates_between_epochs_recorded_two_apart():
    """Chance (0.9) at the start, then 0.5, 0.1 and 0.05 at epochs 2, 4 and 6: 0.7 is reached
    half way to epoch 2 (epoch 1), 0.3 half way from 2 to 4 (epoch 3)."""
    grid = _curve_grid([2, 4, 6], [0.5, 0.1, 0.05])
    at = {t: float(epochs_to(grid, ("plain", 8), t).loc[0]) for t in (0.95, 0.7, 0.3, 0.01)}
    assert at[0.95] == 0.0  # already there at the start
    assert at[0.7] == pytest.approx(1.0) and at[0.3] == pytest.approx(3.0)
    assert math.isnan(at[0.01])  # never reached


def test_a_grid_of_one_run_reads_its_image_counts():
    runs, _, _ = _grid(archs=("plain",), seeds=1)
    grid = Grid.of_runs(runs[runs["depth"] == 8], RULES)
    assert (grid.n_train, grid.n_test, grid.chance) == (1437.0, 360.0, pytest.approx(0.9))


def test_intervention_rows_of_a_later_dataset_are_made_after_one_without_interventions():
    """Two datasets: 'blobs' (first in order) trains plain and residual nets only, 'digits'
    the intervention nets too: the explanation family's rows are the digits ones."""
    first = _grid(archs=("plain", "residual"))
    second = _grid(archs=("plain", "residual", "plain-leaky0.2"))
    runs, epochs, net = (
        pd.concat([a.assign(dataset="blobs"), b], ignore_index=True)
        for a, b in zip(first, second, strict=True)
    )
    tests = intervention_tests(runs, epochs, net, RULES)
    assert tests and all(t.setting.startswith("digits, depth ") for t in tests)
    assert {t.claim_id for t in tests} >= {"Z1", "Z2", "Z3", "Z4"}


def test_a_block_that_keeps_what_the_plain_layer_keeps_on_every_map_has_no_interval():
    """3b/3c where block and plain layer recover the same on every map (no spread of the paired
    difference): the row has its effect, 0, but no standard error and no interval, and is
    inconclusive for want of spread, not decided."""
    from test_claims import _blocks

    from resnet_essence.claims.collapse import TRUNK_MIN, collapse_tests

    tests = collapse_tests(_blocks({2: 0.5, TRUNK_MIN: 0.75}, spread=0.0))
    assert len(tests) == 4  # 3b and 3c, narrow and wide
    for test in tests:
        assert test.estimate.effect == 0.0 and test.estimate.n == 200
        assert math.isnan(test.estimate.se) and math.isnan(test.estimate.lo)
        assert not test.estimate.decidable
    rows = decision.decide(tests, RULES)
    assert {r.verdict for r in rows} == {INCONCLUSIVE}
    assert {r.reason for r in rows} == {"no spread over seeds: nothing to decide from"}


def test_a_diverged_bottleneck_net_counts_at_chance_error():
    """B1 pairs seed by seed; a ReLU-bottleneck run that diverged (its final weights not finite,
    its test error not measured) counts at chance, 0.9 for ten classes, and stays in the
    pairing."""
    from resnet_essence.claims.design import bottleneck_tests

    rows = []
    for seed, (linear, relu) in enumerate([(0.05, 0.10), (0.06, 0.12), (0.04, math.nan)]):
        for variant, err in (("linear", linear), ("relu", relu)):
            status = "diverged" if math.isnan(err) else "completed"
            rows.append(
                {"variant": variant, "width": 4, "seed": seed, "status": status, "test_err": err}
            )
    runs = pd.DataFrame(rows).assign(dataset="digits", n_test=360, num_classes=10)
    [b1] = [t for t in bottleneck_tests(runs, RULES) if t.claim_id == "B1"]
    assert b1.estimate.n == 3 and b1.seeds == (0, 1, 2)
    assert b1.estimate.effect == pytest.approx(((0.05 - 0.10) + (0.06 - 0.12) + (0.04 - 0.9)) / 3)


def test_a_rank_row_counts_every_seed_whose_nets_all_tie():
    """I1-I3's Spearman rows leave out a seed whose nets all give the same value, and say how
    many they left out: here two of five."""
    from resnet_essence.claims.interventions import _rank_test

    nets = {0.0: ("residual-a0", 26), 0.5: ("residual-a0.5", 26), 1.0: ("residual", 26)}
    by_seed = {0: (0.1, 0.2, 0.3), 1: (0.2, 0.2, 0.2), 2: (0.3, 0.1, 0.2), 3: (0.4, 0.4, 0.4)}
    by_seed[4] = (0.1, 0.3, 0.2)
    values = {
        alpha: pd.Series({seed: v[i] for seed, v in by_seed.items()})
        for i, alpha in enumerate(nets)
    }
    test = _rank_test("I1", "depth 26", "training error", nets, values)
    assert "; 3 seeds (2 with every net equal, left out)" in test.measure
    assert test.estimate.n == 3 and test.seeds == (0, 1, 2, 3, 4)
    assert test.estimate.effect == pytest.approx((1.0 - 0.5 + 0.5) / 3)
