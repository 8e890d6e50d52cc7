"""The statistics the verdicts rest on: intervals, paired estimates, exact tests, Holm, power."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.special import expit
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from statsmodels.stats.proportion import proportion_confint

from resnet_essence.stats import (
    bounded_mean_ci,
    clopper_pearson,
    detectable,
    holm,
    mcnemar_exact,
    mean_ci,
    one_sample,
    paired,
    paired_power,
    pooled_rate_ci,
    seeds_needed,
)


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


def _logit_t_interval(values, lower, upper):
    """The 95% t interval of the logits of the values rescaled to (0, 1) (kept 1e-6 from the
    ends), mapped back into [lower, upper]."""
    share = np.clip((np.asarray(values) - lower) / (upper - lower), 1e-6, 1 - 1e-6)
    logits = np.log(share / (1 - share))
    lo, hi = sps.t.interval(0.95, len(logits) - 1, loc=logits.mean(), scale=sps.sem(logits))
    return lower + (upper - lower) * expit(lo), lower + (upper - lower) * expit(hi)


@pytest.mark.parametrize(
    "values, lower, upper",
    [
        ([-0.9, -0.95, -0.5], -1, 1),  # a correlation
        ([0.99, 1.0, 0.97], 0, 1),  # one value at the end: its logit is taken 1e-6 from it
        ([0.2, 0.3, 0.25, 0.28], 0, 1),
    ],
)
def test_bounded_intervals_are_the_logit_t_interval_mapped_back(values, lower, upper):
    mean, lo, hi, n = bounded_mean_ci(values, lower, upper)
    assert (mean, n) == (pytest.approx(np.mean(values)), len(values))
    assert (lo, hi) == pytest.approx(_logit_t_interval(values, lower, upper), rel=1e-9)


def test_a_bounded_interval_the_transform_moved_off_the_mean_is_widened_to_it():
    # nine values at 0.001 and one at 0.9: the logits' interval maps back below the mean 0.0909
    values = [0.001] * 9 + [0.9]
    lo_logit, hi_logit = _logit_t_interval(values, 0, 1)
    assert hi_logit < np.mean(values)
    mean, lo, hi, _ = bounded_mean_ci(values)
    assert lo == pytest.approx(lo_logit, rel=1e-9) and hi == mean == pytest.approx(0.0909)


@pytest.mark.parametrize(
    "rates,n_trials",
    [
        ([0.0, 0.0, 0.0], 360),  # no spread at all: the interval of counting 0 of 1080
        ([1.0, 1.0], 50),
        ([0.0, 0.003, 0.01], 360),
        ([0.81, 0.85, 0.69], 1437),  # seeds that disagree: wider than the pooled binomial
        ([0.2, 0.9], 50),
    ],
)
def test_group_intervals_of_error_rates_are_never_narrower_than_counting_alone(rates, n_trials):
    # the exact cells (Clopper-Pearson from scipy's beta): tests/test_table_writers.py
    mean, lo, hi, n = pooled_rate_ci(rates, n_trials)
    assert mean == pytest.approx(np.mean(rates)) and n == len(rates)
    assert hi > lo  # a zero-variance arm still has the uncertainty of counting
    pooled = sps.binomtest(round(mean * n * n_trials), n * n_trials).proportion_ci()
    assert hi - lo >= (pooled.high - pooled.low) - 1e-9  # never narrower than pure counting


def test_group_interval_of_identical_zero_rates_is_clopper_pearson_of_the_pooled_images():
    mean, lo, hi, _ = pooled_rate_ci([0.0, 0.0, 0.0], 100)
    assert (mean, lo) == (0.0, 0.0)
    assert hi == pytest.approx(1 - 0.025 ** (1 / 300))  # the exact upper bound for 0 of 300


@pytest.mark.parametrize(
    "count, trials, level",
    [
        (0.0, 300.0, 0.95),
        (300.0, 300.0, 0.95),
        (3.0, 1080.0, 0.95),
        (123.4, 987.6, 0.95),  # the effective counts of an over-dispersed group are not whole
        (0.5, 2.25, 0.9),
        (4310.0, 4311.0, 0.99),
    ],
)
def test_clopper_pearson_is_statsmodels_beta_interval(count, trials, level):
    lo, hi = clopper_pearson(count, trials, level)
    want = proportion_confint(count, trials, alpha=1 - level, method="beta")
    assert (lo, hi) == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_disagreeing_seeds_widen_the_group_interval():
    tight = pooled_rate_ci([0.5, 0.5, 0.5], 1000)
    spread = pooled_rate_ci([0.3, 0.5, 0.7], 1000)
    assert (spread[2] - spread[1]) > 3 * (tight[2] - tight[1])


def test_paired_differences_match_the_paired_t_test():
    a = pd.Series([1.0, 2.5, 3.1, 4.2], index=[0, 1, 2, 3])
    b = pd.Series([0.5, 2.0, 2.9, 3.5, 9.9], index=[0, 1, 2, 3, 4])  # seed 4 has no partner
    estimate, seeds = paired(a, b)
    assert list(seeds) == [0, 1, 2, 3] and estimate.n == 4
    diffs = (a - b.loc[[0, 1, 2, 3]]).to_numpy()
    assert estimate.effect == pytest.approx(diffs.mean())
    test = sps.ttest_rel(a.to_numpy(), b.loc[[0, 1, 2, 3]].to_numpy())
    t = estimate.t(0.0)
    assert 2 * sps.t.sf(abs(t), estimate.df) == pytest.approx(test.pvalue)
    low, high = sps.t.interval(0.95, 3, loc=diffs.mean(), scale=sps.sem(diffs))
    assert (estimate.lo, estimate.hi) == pytest.approx((low, high))


def test_pairing_removes_what_the_seed_does_to_both_arms():
    rng = np.random.default_rng(0)
    shared = rng.normal(0, 0.05, 8)  # what the seed does to both nets
    a = pd.Series(0.10 + shared + rng.normal(0, 0.002, 8))
    b = pd.Series(0.12 + shared + rng.normal(0, 0.002, 8))
    estimate, _ = paired(a, b)
    assert estimate.hi < 0  # the paired interval excludes 0
    assert sps.ttest_ind(a, b, equal_var=False).pvalue > 0.05  # independent samples cannot tell


def test_rate_differences_keep_the_binomial_floor_and_stay_in_minus_one_one():
    same = pd.Series([0.0, 0.0, 0.0])
    estimate, _ = paired(same, same + 0.3, n_trials=360)
    assert estimate.decidable and estimate.sd > 0  # identical differences still count
    assert estimate.effect == pytest.approx(-0.3)
    # differences -0.9, -0.8, -0.2: the t interval [-1.57, 0.31] is cut at -1, not at its top
    a, b = pd.Series([0.05, 0.1, 0.6]), pd.Series([0.95, 0.9, 0.8])
    wide, _ = paired(a, b, n_trials=360)
    diffs = (a - b).to_numpy()
    assert diffs.var(ddof=1) > 0.1  # far above the binomial floor (< 0.001): the t interval
    low, high = sps.t.interval(0.95, 2, loc=diffs.mean(), scale=sps.sem(diffs))
    assert low < -1.5 and wide.lo == -1.0
    assert wide.hi == pytest.approx(high) and high == pytest.approx(0.307, abs=1e-3)


def test_no_decision_from_zero_spread_or_one_value():
    assert not one_sample([1.0, 1.0, 1.0]).decidable
    assert not one_sample([1.0]).decidable
    assert one_sample([1.0, 1.0, 1.0], variance_floor=0.01).decidable


def test_mcnemar_exact_counts_only_discordant_seeds():
    failed_plain = [True] * 10
    failed_residual = [False] * 10
    p, only_a, only_b = mcnemar_exact(failed_plain, failed_residual)
    assert (only_a, only_b) == (10, 0) and p == pytest.approx(2 * 0.5**10)
    p, only_a, only_b = mcnemar_exact([True, True, False], [True, True, False])
    assert (p, only_a, only_b) == (1.0, 0, 0)


def test_holm_against_the_step_down_definition():
    p = [0.01, 0.04, 0.03, float("nan"), 0.005]
    adjusted = holm(p)
    assert adjusted[4] == pytest.approx(4 * 0.005)
    assert adjusted[0] == pytest.approx(3 * 0.01)
    assert adjusted[2] == pytest.approx(max(0.03, 2 * 0.03))
    assert adjusted[1] == pytest.approx(max(0.06, 0.04))
    assert math.isnan(adjusted[3])
    many = np.random.default_rng(0).uniform(0, 0.2, 40)
    np.testing.assert_allclose(holm(many), multipletests(many, method="holm")[1])


@pytest.mark.parametrize("effect,n,alpha", [(0.5, 20, 0.05), (1.0, 8, 0.01), (0.3, 50, 0.005)])
def test_power_agrees_with_statsmodels_where_it_answers(effect, n, alpha):
    assert paired_power(effect, n, alpha) == pytest.approx(
        TTestPower().power(effect, n, alpha), abs=1e-6
    )
    assert detectable(n, alpha, 0.8) == pytest.approx(
        TTestPower().solve_power(nobs=n, alpha=alpha, power=0.8), rel=1e-4
    )


def test_seeds_needed_for_large_effects_and_few_seeds():
    # where statsmodels' TTestPower returns NaN (few seeds, a large effect), ours still answers
    assert seeds_needed(6.4, 0.003, 0.8) == 4
    assert paired_power(6.4, 4, 0.003) >= 0.8 > paired_power(6.4, 3, 0.003)
    needed = seeds_needed(0.5, 0.01, 0.8)
    assert paired_power(0.5, needed, 0.01) >= 0.8 > paired_power(0.5, needed - 1, 0.01)
    assert seeds_needed(0.0, 0.05, 0.8) == math.inf
    assert math.isnan(detectable(1, 0.05, 0.8))


def test_the_remembered_detectable_effect_is_the_one_computed_afresh():
    import scipy.stats

    from resnet_essence.stats import detectable, paired_power, t_critical

    first = detectable(8, 0.05 / 12, 0.8)
    again = detectable.__wrapped__(8, 0.05 / 12, 0.8)
    assert first == again
    assert detectable(8, 0.05 / 12, 0.8) == first and detectable.cache_info().hits >= 1
    assert t_critical(0.05, 7) == pytest.approx(2.364624, abs=1e-6)  # a t table's 2.365
    assert t_critical(0.05, 7) == pytest.approx(float(scipy.stats.t.ppf(0.975, 7)), rel=1e-12)
    # at the effect found, the power reaches 80%, and just below it falls short
    assert paired_power(first, 8, 0.05 / 12) >= 0.8 > paired_power(first * 0.999, 8, 0.05 / 12)


def test_paired_takes_numbers_of_any_dtype_as_floats():
    """Seeds' values as integers, or as Python objects (a column read with a stray text cell
    before it was cleaned), pair as the same floats."""
    a = pd.Series([1, 2, 4], index=[0, 1, 2])
    b = pd.Series([0.5, 1.0, 2.0], index=[0, 1, 2])
    floats, _ = paired(a.astype(float), b)
    as_ints, _ = paired(a, b)
    as_objects, seeds = paired(a.astype(object), b.astype(object))
    assert as_ints == floats and as_objects == floats and list(seeds) == [0, 1, 2]
    assert floats.effect == pytest.approx((0.5 + 1.0 + 2.0) / 3)
