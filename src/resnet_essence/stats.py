"""Intervals over seeds, the two-sample comparison the verdicts rest on, and Holm's correction.

Three choices, fixed before any data were seen:

- A group mean gets a Student-t interval; a quantity confined to a range (an error rate, a
  fraction, a correlation) gets it on the logit scale of that range and back, so the interval
  never leaves the range.
- Two groups are compared with Welch's t (unequal variances). For error rates each run's rate is
  itself a binomial measurement on N images, so a group's variance is never taken below the
  binomial variance p(1 - p)/N of its mean rate (with p shrunk to (k + 1/2)/(N + 1)): three
  identical rates then still carry the uncertainty of counting errors on N images, and no
  decision comes from an interval of zero width.
- p-values are two-sided, and the family of network claims is corrected with Holm's step-down
  procedure, which controls the chance of any false decisive verdict at ``alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

LEVEL = 0.95


def _finite(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


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
    values,
    lower: float = 0.0,
    upper: float = 1.0,
    n_trials: float | None = None,
    level: float = LEVEL,
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) for a quantity confined to [lower, upper], the interval inside it.

    The t interval is taken on the logit of (x - lower) / (upper - lower) and mapped back; with
    ``n_trials`` (images behind each rate) the fractions are first shrunk to (k + 1/2)/(N + 1),
    which keeps rates of exactly 0 or 1 finite; without it they are kept 1e-6 from the ends.
    The mean is the plain mean; the interval is widened to contain it if the transform moved it.
    """
    mean, _, _, n = mean_ci(values, level)
    if n < 2:
        return mean, math.nan, math.nan, n
    x = _finite(values)
    span = upper - lower
    p = np.clip((x - lower) / span, 0.0, 1.0)
    p = (p * n_trials + 0.5) / (n_trials + 1) if n_trials else np.clip(p, 1e-6, 1 - 1e-6)
    _, lo, hi, _ = mean_ci(np.log(p / (1 - p)), level)
    lo, hi = (lower + span / (1 + math.exp(-v)) for v in (lo, hi))
    return mean, min(lo, mean), max(hi, mean), n


def rate_variance_floor(rates, n_trials: float | None) -> float:
    """The binomial variance of one rate measured on ``n_trials`` images, at the group's rate."""
    x = _finite(rates)
    if not n_trials or len(x) == 0:
        return 0.0
    p = (x.mean() * n_trials + 0.5) / (n_trials + 1)
    return float(p * (1 - p) / n_trials)


@dataclass(frozen=True)
class Comparison:
    """mean(a) - mean(b), its 95% interval, and the two-sided p-value against ``null``."""

    effect: float
    lo: float
    hi: float
    p: float
    null: float
    n_a: int
    n_b: int

    @property
    def decidable(self) -> bool:
        return math.isfinite(self.p)


def contrast(
    samples, weights, null: float = 0.0, n_trials: float | None = None, level: float = LEVEL
) -> Comparison:
    """sum_i w_i mean(sample_i) with a Welch-Satterthwaite interval, tested against ``null``.

    ``compare(a, b)`` is the contrast (1, -1); a difference of two differences (does a gap
    grow?) is (1, -1, -1, 1). ``n_trials`` marks every sample as error rates on that many images
    (module docstring). With fewer than two finished values in a sample, or no spread at all in
    a quantity that is not a rate, the interval and p are NaN: nothing can be decided from it.
    The interval of a contrast of rates is cut to the range the contrast can reach ([-1, 1]
    for a difference); the p-value is Welch's.
    """
    samples = [_finite(x) for x in samples]
    sizes = [len(x) for x in samples]
    n_a = sizes[0]
    n_b = sizes[1] if len(sizes) > 1 else sizes[0]  # a one-sample test has one side
    if min(sizes) == 0:
        return Comparison(math.nan, math.nan, math.nan, math.nan, null, n_a, n_b)
    effect = float(sum(w * x.mean() for w, x in zip(weights, samples, strict=True)))
    if min(sizes) < 2:
        return Comparison(effect, math.nan, math.nan, math.nan, null, n_a, n_b)
    parts = [
        w**2 * max(x.var(ddof=1), rate_variance_floor(x, n_trials)) / len(x)
        for w, x in zip(weights, samples, strict=True)
    ]
    variance = sum(parts)
    if variance == 0:
        return Comparison(effect, math.nan, math.nan, math.nan, null, n_a, n_b)
    se = math.sqrt(variance)
    dof = variance**2 / sum(v**2 / (len(x) - 1) for v, x in zip(parts, samples, strict=True))
    half = sps.t.ppf(0.5 + level / 2, dof) * se
    p = float(2 * sps.t.sf(abs(effect - null) / se, dof))
    lo, hi = effect - half, effect + half
    if n_trials is not None:  # rates in [0, 1]: the contrast cannot leave its reachable range
        lo = max(lo, sum(min(w, 0.0) for w in weights))
        hi = min(hi, sum(max(w, 0.0) for w in weights))
    return Comparison(effect, lo, hi, p, null, n_a, n_b)


def compare(
    a,
    b,
    null: float = 0.0,
    n_trials: float | None = None,
    level: float = LEVEL,
) -> Comparison:
    """Welch's comparison mean(a) - mean(b) of two independent samples (seeds), against
    ``null``; see :func:`contrast`."""
    return contrast([a, b], [1.0, -1.0], null, n_trials, level)


def holm(pvalues) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (NaN stays NaN and does not count in the family)."""
    p = np.asarray(pvalues, dtype=float)
    adjusted = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[index]))
        adjusted[index] = running
    return adjusted
