"""Rows decided by a floor or a bound (claims.yaml, each claim's ``floor``), found before any
p-value: both arms at a floor or ceiling of their measure make a row "uninformative", an arm
that never reaches the event measured makes it a "bound" (decision.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .catalogue import Claim


def _mean(values: pd.Series) -> float:
    finite = values[np.isfinite(values.astype(float))]
    return float(finite.mean()) if len(finite) else math.nan


def at_range_end(claim: Claim, a: pd.Series, b: pd.Series, names: tuple[str, str]) -> str:
    """'' or why both arms lie within the claim's margin of the same end of the measure's range
    (``claim.bounds``): the two means then differ by at most the margin, whatever the nets do,
    so no verdict but "negligible" could come out."""
    if claim.bounds is None or not claim.margin:
        return ""
    ma, mb = _mean(a), _mean(b)
    if not (math.isfinite(ma) and math.isfinite(mb)):
        return ""
    for end, value in zip(("floor", "ceiling"), claim.bounds, strict=True):
        if value is None:
            continue
        if abs(ma - value) <= claim.margin and abs(mb - value) <= claim.margin:
            return (
                f"both at the {end}: {names[0]} {ma:.3g} and {names[1]} {mb:.3g} lie within the "
                f"margin ({claim.margin:g}) of the measure's {end} {value:g}, so no difference "
                "beyond the margin can occur"
            )
    return ""


def few_errors(
    a: pd.Series, b: pd.Series, images: float, fewest: int, names: tuple[str, str], what: str
) -> str:
    """'' or why an error comparison rests on a handful of images: both arms make fewer than
    ``fewest`` (report.floor_errors) errors on the ``images`` they are counted on, on average."""
    ea, eb = _mean(a) * images, _mean(b) * images
    if not (ea < fewest and eb < fewest):
        return ""
    return (
        f"both at the floor: {names[0]} makes {ea:.1f} and {names[1]} {eb:.1f} {what} errors of "
        f"{images:.0f} on average (fewer than report.floor_errors = {fewest}): too few to show "
        "a difference"
    )


def unmoved(
    claim: Claim,
    start: tuple[pd.Series, pd.Series],
    end: tuple[pd.Series, pd.Series],
    names: tuple[str, str],
) -> str:
    """'' or why a measure on the final weights still sits where it started in both arms (each
    arm's mean moved by less than the margin since initialisation): it then reads the
    initialisation, not what training did."""
    moves = [_mean(e) - _mean(s) for s, e in zip(start, end, strict=True)]
    if not all(math.isfinite(m) and abs(m) < claim.margin for m in moves):
        return ""
    said = ", ".join(
        f"{name} {_mean(s):.3g} -> {_mean(e):.3g}"
        for name, s, e in zip(names, start, end, strict=True)
    )
    return (
        f"unmoved since initialisation: {said}; neither moved by the margin ({claim.margin:g}), "
        "so the row reads the initialisation, not what training did"
    )


def censored_bound(
    a_never: pd.Series, b_never: pd.Series, names: tuple[str, str], event: str
) -> str:
    """'' or why an effect is a bound: on some seed pair one arm never reaches ``event`` and is
    counted at the end of the schedule, so its true value is larger than the one used."""
    only_a, only_b = int((a_never & ~b_never).sum()), int((b_never & ~a_never).sum())
    if not (only_a or only_b):
        return ""
    parts = [
        f"{name} never {event} on {k} of {len(a_never)} seed pairs"
        for name, k in zip(names, (only_a, only_b), strict=True)
        if k
    ]
    if only_a and not only_b:
        side = "the true difference is at least the estimate"
    elif only_b and not only_a:
        side = "the true difference is at most the estimate"
    else:
        side = "the arms are cut on both sides: not even the sign is measured"
    return "a bound: " + "; ".join(parts) + f" (counted at the end of the schedule): {side}"
