"""Intervals over seeds, the paired estimates the verdicts rest on, exact tests and power.

Choices fixed before any data were seen:

- A group mean gets a Student-t interval; a bounded quantity that is not an error rate (a
  correlation) gets it on the logit scale of its range and back, so the interval never leaves
  the range. A group's *error rate* gets an interval from its pooled counts: the errors of all
  seeds over all their images, Clopper-Pearson, with the number of images shrunk by the
  over-dispersion between seeds (quasi-binomial), so the interval stays in [0, 1], an arm with
  identical rates on every seed keeps the uncertainty of counting, and seeds that disagree widen
  it.
- Architectures are compared by **seed-matched differences**: seed k gives every net the same
  initial weights where shapes match and the same batches, so the difference on seed k removes
  what the seed does to both. The estimate is the mean difference with a paired t interval
  (``paired``); a single arm against a reference is the same with one sample (``one_sample``).
  For error rates the variance of a difference is never taken below the binomial variance of
  counting errors on N images, so three identical differences still do not make a decision.
- Failure to train is compared between two arms with McNemar's exact test (the paired exact
  test: only seeds where one arm failed and the other did not count).
- Multiplicity: Holm's step-down procedure within a family.
- Power of the paired t test, from the noncentral t distribution (scipy; statsmodels'
  ``TTestPower`` returns NaN for few seeds and large effects): the smallest effect a row can
  detect with its seeds, and the seeds it would need for the effect it observed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95


def _finite(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def depth_profile(values) -> tuple[float, float]:
    """(first / last ratio, slope of log10 value against relative depth 0..1).

    Values run from the input to the output. Ratio below 1 (slope above 0): the quantity
    shrinks toward the input (for a gradient: vanishing); above 1 (slope below 0): it grows
    (explosion). The slope is fitted on log10, so +1 means a tenfold drop from output to input.
    """
    values = np.asarray(values, dtype=float)
    if len(values) < 2 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        return float("nan"), float("nan")
    depth = np.linspace(0.0, 1.0, len(values))
    slope = np.polyfit(depth, np.log10(values), 1)[0]
    return float(values[0] / values[-1]), float(slope)


def mean_ci(values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean, low, high, n) with a Student-t interval; NaN bounds when n < 2.

    Non-finite values (diverged runs) are left out; n counts the finite ones.
    """
    x = _finite(values)
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = sps.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def bounded_mean_ci(
    values, lower: float = 0.0, upper: float = 1.0, level: float = LEVEL
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) for a quantity confined to [lower, upper], the interval inside it.

    The t interval is taken on the logit of (x - lower) / (upper - lower), kept 1e-6 from the
    ends, and mapped back; it is widened to contain the mean if the transform moved it.
    """
    mean, _, _, n = mean_ci(values, level)
    if n < 2:
        return mean, math.nan, math.nan, n
    span = upper - lower
    p = np.clip((_finite(values) - lower) / span, 1e-6, 1 - 1e-6)
    _, lo, hi, _ = mean_ci(np.log(p / (1 - p)), level)
    lo, hi = (lower + span / (1 + math.exp(-v)) for v in (lo, hi))
    return mean, min(lo, mean), max(hi, mean), n


def pooled_rate_ci(rates, n_trials: float, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of an error rate over seeds, each rate measured on ``n_trials``
    images: Clopper-Pearson on the pooled errors, the images divided by the over-dispersion
    ``max(1, s^2 / (p(1 - p) / N))`` between seeds (module docstring). Inside [0, 1] always."""
    x = np.clip(_finite(rates), 0.0, 1.0)
    n = len(x)
    if n == 0 or not n_trials:
        return math.nan, math.nan, math.nan, n
    mean = float(x.mean())
    images = n * float(n_trials)
    dispersion = 1.0
    if n >= 2 and 0.0 < mean < 1.0:
        dispersion = max(1.0, float(x.var(ddof=1)) / (mean * (1 - mean) / n_trials))
    effective = images / dispersion
    lo, hi = clopper_pearson(mean * effective, effective, level)
    return mean, float(min(lo, mean)), float(max(hi, mean)), n


def clopper_pearson(count: float, trials: float, level: float = LEVEL) -> tuple[float, float]:
    """The Clopper-Pearson ("exact", beta) interval of ``count`` successes in ``trials``; counts
    need not be whole (the effective counts of :func:`pooled_rate_ci`). The same numbers as
    statsmodels' ``proportion_confint(method="beta")`` (a test checks)."""
    tail = (1 - level) / 2
    rate = count / trials
    lo = 0.0 if rate == 0 else float(sps.beta.ppf(tail, count, trials - count + 1))
    hi = 1.0 if rate == 1 else float(sps.beta.isf(tail, count + 1, trials - count))
    return lo, hi


def binomial_variance(rates, n_trials: float | None) -> float:
    """The variance of one rate counted on ``n_trials`` images, at the mean of ``rates``
    (shrunk to (k + 1/2) / (N + 1), so a rate of 0 or 1 still counts)."""
    x = _finite(rates)
    if not n_trials or len(x) == 0:
        return 0.0
    p = (x.mean() * n_trials + 0.5) / (n_trials + 1)
    return float(p * (1 - p) / n_trials)


@dataclass(frozen=True)
class Estimate:
    """A mean (of seed-matched differences, or of one arm) with its t interval.

    ``sd`` is the spread of one observation (floored at the binomial variance for rates); ``lo``
    and ``hi`` the ``LEVEL`` interval, cut to what the quantity can reach; ``reference`` the value
    the mean is set against (0 for a difference)."""

    effect: float
    se: float
    df: float
    n: int
    sd: float
    lo: float
    hi: float
    reference: float = 0.0

    @property
    def decidable(self) -> bool:
        return self.n >= 2 and math.isfinite(self.se) and self.se > 0

    def t(self, against: float) -> float:
        """(effect - against) / se."""
        return (self.effect - against) / self.se


def one_sample(
    values,
    reference: float = 0.0,
    variance_floor: float = 0.0,
    reach: tuple[float, float] | None = None,
    level: float = LEVEL,
) -> Estimate:
    """The mean of ``values`` (one per seed: a difference, or one arm's measure) with a t
    interval; the variance of one value is never taken below ``variance_floor``, and the
    interval is cut to ``reach``. Fewer than two values, or no spread at all, decide nothing."""
    x = _finite(values)
    n = len(x)
    nan = math.nan
    if n == 0:
        return Estimate(nan, nan, nan, 0, nan, nan, nan, reference)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean, nan, nan, n, nan, nan, nan, reference)
    sd = math.sqrt(max(float(x.var(ddof=1)), variance_floor))
    if sd == 0:
        return Estimate(mean, nan, n - 1, n, 0.0, nan, nan, reference)
    se = sd / math.sqrt(n)
    half = sps.t.ppf(0.5 + level / 2, n - 1) * se
    lo, hi = mean - half, mean + half
    if reach is not None:
        lo, hi = max(lo, reach[0]), min(hi, reach[1])
    return Estimate(mean, se, n - 1, n, sd, lo, hi, reference)


def paired(
    a, b, n_trials: float | None = None, level: float = LEVEL, variance_floor: float = 0.0
) -> tuple[Estimate, np.ndarray]:
    """Seed-matched differences a - b (two pandas Series indexed by seed; only seeds finite in
    both count). With ``n_trials`` the values are error rates: the variance of a difference is
    at least the binomial variance of both, and the interval stays in [-1, 1]; otherwise it is
    at least ``variance_floor``. Returns the estimate and the seeds used."""
    seeds = a.index.intersection(b.index, sort=False)  # in a's order, as an inner join
    va = np.asarray(a, dtype=float)[a.index.get_indexer(seeds)]
    vb = np.asarray(b, dtype=float)[b.index.get_indexer(seeds)]
    both = np.isfinite(va) & np.isfinite(vb)
    va, vb = va[both], vb[both]
    floor = variance_floor
    if n_trials:
        floor = binomial_variance(va, n_trials) + binomial_variance(vb, n_trials)
    reach = (-1.0, 1.0) if n_trials else None
    return one_sample(va - vb, 0.0, floor, reach, level), seeds.to_numpy()[both]


def mcnemar_exact(failed_a, failed_b) -> tuple[float, int, int]:
    """McNemar's exact test of two paired binary outcomes (bool arrays, one entry per seed):
    (two-sided p, seeds where only a failed, seeds where only b failed)."""
    a, b = np.asarray(failed_a, dtype=bool), np.asarray(failed_b, dtype=bool)
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    if only_a + only_b == 0:
        return 1.0, only_a, only_b
    return float(sps.binomtest(only_a, only_a + only_b, 0.5).pvalue), only_a, only_b


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and does not count in the family).

    statsmodels' ``multipletests(method="holm")`` gives the same numbers (a test checks), but
    runs a full garbage collection on every call, a fifth of a second in a large process."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    steps = np.arange(len(order), 0, -1)  # m, m - 1, ..., 1
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate(steps * p[order]))
    return adjusted


@functools.lru_cache(maxsize=65536)
def t_critical(alpha: float, df: int) -> float:
    """The two-sided critical value of Student's t at ``alpha`` with ``df`` degrees of freedom,
    remembered: the power searches ask for the same few again and again."""
    return float(sps.t.isf(alpha / 2, df))


def paired_power(standardised: float, n: int, alpha: float) -> float:
    """The power of a two-sided paired t test at ``alpha`` with ``n`` seeds against a true
    effect of ``standardised`` sds (the noncentral t; its far tail, which scipy can return as
    NaN when it is negligible, counts as 0)."""
    if n < 2:
        return math.nan
    df, critical = n - 1, t_critical(alpha, n - 1)
    shift = abs(standardised) * math.sqrt(n)
    upper = float(sps.nct.sf(critical, df, shift))
    lower = float(sps.nct.cdf(-critical, df, shift))
    return float(np.nan_to_num(upper) + np.nan_to_num(lower))


@functools.lru_cache(maxsize=4096)
def detectable(n: int, alpha: float, power: float) -> float:
    """The smallest standardised effect (in units of one observation's sd) a two-sided paired t
    test at ``alpha`` detects with probability ``power`` from ``n`` seeds (NaN below 2).
    Remembered: it depends on the design alone, and every row of a run shares a few designs."""
    if n < 2:
        return math.nan
    low, high = 0.0, 1.0
    while paired_power(high, n, alpha) < power:
        high *= 2
        if high > 1e6:
            return math.inf
    for _ in range(30):  # bisection: the power grows with the effect
        middle = (low + high) / 2
        low, high = (middle, high) if paired_power(middle, n, alpha) < power else (low, middle)
    return high


def seeds_needed(standardised: float, alpha: float, power: float, cap: int = 10_000) -> float:
    """Seeds that give a two-sided paired t test at ``alpha`` the ``power`` to detect a
    standardised effect (inf when the effect is 0 or more seeds than ``cap`` would be needed)."""
    if not math.isfinite(standardised) or standardised <= 0:
        return math.inf
    if paired_power(standardised, cap, alpha) < power:
        return math.inf
    low, high = 2, cap  # the power grows with n: bisect for the first n that reaches it
    while low < high:
        middle = (low + high) // 2
        if paired_power(standardised, middle, alpha) >= power:
            high = middle
        else:
            low = middle + 1
    return float(low)
