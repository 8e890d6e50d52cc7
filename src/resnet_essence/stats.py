"""Confidence intervals over seeds and the two-sample comparison the verdicts rest on."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as sps

LEVEL = 0.95


def mean_ci(values, level: float = LEVEL) -> tuple[float, float, float, int]:
    """(mean, low, high, n) with a Student-t interval; NaN bounds when n < 2.

    Non-finite values (diverged runs) are left out; n counts the finite ones.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = sps.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def diff_ci(a, b, level: float = LEVEL) -> tuple[float, float, float]:
    """mean(a) - mean(b) with a Welch interval (unequal variances, independent samples).

    With fewer than two finite values on either side the bounds are NaN. When both samples have
    zero spread the interval collapses onto the difference itself.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return math.nan, math.nan, math.nan
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = sps.t.ppf(0.5 + level / 2, dof) * se
    return diff, diff - half, diff + half
