"""From estimates to verdicts: regions beyond a margin, Holm within a family, power.

A row's estimate (a mean of seed-matched differences with its t interval) is set against the
claim's reference r and margin d (its smallest effect of interest). At level a, the row is

- *for* the claim when the (1 - a) interval lies beyond r + d on the predicted side
  (below r + d for a "no worse" claim);
- *against* it when the interval lies beyond r - d on the other side (above r + d for "no worse");
- *negligible* when the interval lies inside (r - d, r + d) (d > 0, not for "no worse").

The row's p-value is the smallest a at which the interval falls in one of these regions (the
regions are disjoint, so there is one), and a wrong region means the interval missed the true
effect: P(wrong) <= a. Holm's correction runs over the family's rows; a row is decided when its
adjusted p is below alpha. A failure-to-train row carries McNemar's exact p instead, and its side
is the sign of the difference in failure rates.

Two outcomes stand apart from these, decided before any p-value (claims.yaml, ``floors``):

- *uninformative*: both arms sit at a floor or ceiling of the measure (within the margin of the
  same bound of its range, every error a handful of images, or a measure that has not moved
  from its value at initialisation in either arm), so no difference beyond the margin can occur
  whatever the nets do: the row can only come out "negligible", and says so instead;
- *bound*: one arm never reaches the event measured on some seed (claim 6: a net that never
  gets to the training error), so the effect is a bound, not a measurement.

Neither takes part in Holm's correction, since neither is a test.

The interval the report prints beside a verdict is the one the verdict uses: at the row's
Holm-adjusted level, 1 - alpha * p / p_holm (the row is decided exactly when that interval lies
in a region), beside the unadjusted 95% interval.

For a row left inconclusive: the smallest effect its seeds can detect (distance from the
reference, 80% power at Holm's strictest level alpha / m), and the seeds that would detect the
effect it observed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as sps

from ..stats import Estimate, detectable, holm, seeds_needed
from .catalogue import (
    BOUND,
    CHECK,
    CLAIM_BY_ID,
    INCONCLUSIVE,
    NEGLIGIBLE,
    NO_WORSE,
    NOT_TESTABLE,
    SANITY_FAILED,
    SANITY_PASSED,
    UNINFORMATIVE,
    WORDS,
    Claim,
    Rules,
)


@dataclass
class Test:
    """One row before its verdict: what was compared, and its estimate or why there is none."""

    claim_id: str
    setting: str
    measure: str
    estimate: Estimate | None = None
    reason: str = ""  # non-empty: not testable here, and why
    exact: tuple[float, float] | None = None  # (effect, exact p): a failure-to-train row
    seeds: tuple[int, ...] = field(default_factory=tuple)  # the seeds (or pairs) it rests on
    floor: str = ""  # non-empty: both arms at a floor or ceiling of the measure, and which
    bound: str = ""  # non-empty: one arm never reaches the event measured, and where
    stage: str = ""  # "initialisation", "trained" or "random maps": what the row rests on

    @property
    def claim(self) -> Claim:
        return CLAIM_BY_ID[self.claim_id]


def _two_sided(t: float, df: float) -> float:
    return float(min(1.0, 2.0 * sps.t.sf(t, df)))


def regions(estimate: Estimate, claim: Claim) -> dict[str, float]:
    """For each region ('for', 'against', 'negligible'), the smallest level a at which the
    (1 - a) interval of ``estimate`` lies inside it (module docstring)."""
    e, se, df = estimate.effect, estimate.se, estimate.df
    r, d = claim.reference, claim.margin
    if claim.predicted == NO_WORSE:
        bound = r + d
        return {
            "for": _two_sided((bound - e) / se, df),
            "against": _two_sided((e - bound) / se, df),
        }
    along = claim.direction * (e - r)  # the effect measured in the predicted direction
    out = {
        "for": _two_sided((along - d) / se, df),
        "against": _two_sided((-along - d) / se, df),
    }
    if d > 0:
        out["negligible"] = max(_two_sided((d - along) / se, df), _two_sided((along + d) / se, df))
    return out


@dataclass(frozen=True)
class Row:
    """One verdict, as a row of claims.csv."""

    family: str
    claim_id: str
    claim: str
    setting: str
    measure: str
    n: int
    effect: float
    lo: float
    hi: float
    margin: float
    p: float
    p_holm: float
    verdict: str
    reason: str
    detectable: float = math.nan
    seeds_needed: float = math.nan
    stage: str = ""
    level_adj: float = math.nan  # the confidence level of the interval the verdict uses
    lo_adj: float = math.nan
    hi_adj: float = math.nan


def _row_p(test: Test) -> tuple[float, str]:
    """(p, region) of a test that can be decided; (NaN, '') otherwise."""
    if test.reason or test.floor or test.bound:
        return math.nan, ""
    if test.exact is not None:
        effect, p = test.exact
        if effect == 0 or not math.isfinite(p):
            return math.nan, ""
        side = "for" if np.sign(effect) == test.claim.direction else "against"
        return p, side
    estimate = test.estimate
    if estimate is None or not estimate.decidable:
        return math.nan, ""
    found = regions(estimate, test.claim)
    region = min(found, key=found.get)
    return found[region], region


def _undecidable_reason(test: Test) -> str:
    estimate = test.estimate
    if test.exact is not None:
        return "no seed where exactly one of the two nets failed: the exact test has nothing to use"
    if estimate is None or estimate.n < 2:
        return "fewer than two measured seeds (runs unfinished, or the measure undefined for them)"
    return "no spread over seeds: nothing to decide from"


def adjusted_interval(
    estimate: Estimate | None, p: float, p_adj: float, alpha: float
) -> tuple[float, float, float]:
    """(level, lo, hi): the t interval of ``estimate`` at the row's Holm-adjusted level
    1 - alpha * p / p_adj, which lies in a region exactly when p_adj < alpha (module
    docstring); NaN where the row has no p-value or no spread."""
    nan = math.nan
    if estimate is None or not estimate.decidable or not (p_adj > 0 and math.isfinite(p)):
        return nan, nan, nan
    a = min(1.0, alpha * p / p_adj)
    if a <= 0:
        return nan, nan, nan
    half = float(sps.t.ppf(1 - a / 2, estimate.df)) * estimate.se
    return 1 - a, estimate.effect - half, estimate.effect + half


def _open_reason(claim: Claim, level, lo, hi, p_adj: float, alpha: float) -> str:
    """Why a row with a p-value stayed inconclusive, in the terms of the interval it prints."""
    if claim.predicted == NO_WORSE:
        where = f"the bound {claim.reference + claim.margin:g}"
    elif claim.margin > 0:
        where = f"a margin ({claim.reference:g} +- {claim.margin:g})"
    else:
        where = f"the reference {claim.reference:g}"
    if math.isfinite(level):
        return (
            f"the {level:.2%} interval the verdict uses, [{lo:.3g}, {hi:.3g}], reaches across "
            f"{where} (p Holm {p_adj:.3g}, not below alpha {alpha:g})"
        )
    return f"p Holm {p_adj:.3g}, not below alpha {alpha:g}"


def _power(test: Test, alpha_row: float, power: float) -> tuple[float, float]:
    """(smallest detectable distance from the reference, seeds needed for the observed effect)
    for an inconclusive row with a usable estimate (module docstring)."""
    estimate, claim = test.estimate, test.claim
    if estimate is None or not estimate.decidable or test.exact is not None:
        return math.nan, math.nan
    d, sd = claim.margin, estimate.sd
    smallest = d + detectable(estimate.n, alpha_row, power) * sd
    if claim.predicted == NO_WORSE:
        distance = abs(estimate.effect - (claim.reference + d))
    else:
        along = abs(estimate.effect - claim.reference)
        distance = along - d if along > d else d - along  # beyond the margin, or inside it
    return smallest, seeds_needed(distance / sd, alpha_row, power)


def decide(tests: list[Test], rules: Rules) -> list[Row]:
    """Holm within each family, then one verdict per test (module docstring)."""
    families = sorted({t.claim.family for t in tests})
    out: dict[int, Row] = {}
    for family in families:
        members = [i for i, t in enumerate(tests) if t.claim.family == family]
        found = [_row_p(tests[i]) for i in members]
        adjusted = holm([p for p, _ in found])
        m = int(np.isfinite([p for p, _ in found]).sum())
        alpha_row = rules.alpha / max(m, 1)
        for i, (p, region), p_adj in zip(members, found, adjusted, strict=True):
            test = tests[i]
            claim = test.claim
            smallest = needed = math.nan
            if test.reason:
                verdict, reason = NOT_TESTABLE, test.reason
            elif test.floor:
                verdict, reason = UNINFORMATIVE, test.floor
            elif test.bound:
                verdict, reason = BOUND, test.bound
            elif not region:
                verdict, reason = INCONCLUSIVE, _undecidable_reason(test)
            elif p_adj < rules.alpha:
                verdict = NEGLIGIBLE if region == "negligible" else WORDS[family][region]
                reason = ""
            else:
                verdict, reason = INCONCLUSIVE, ""
                smallest, needed = _power(test, alpha_row, rules.power)
            est = test.estimate
            effect = test.exact[0] if test.exact is not None else (est.effect if est else math.nan)
            exact = test.exact is not None
            level, lo_adj, hi_adj = adjusted_interval(None if exact else est, p, p_adj, rules.alpha)
            if verdict == INCONCLUSIVE and not reason:
                reason = _open_reason(claim, level, lo_adj, hi_adj, p_adj, rules.alpha)
            out[i] = Row(
                family,
                claim.id,
                claim.statement,
                test.setting,
                test.measure,
                len(test.seeds) if test.seeds else (est.n if est else 0),
                effect,
                est.lo if est is not None else math.nan,
                est.hi if est is not None else math.nan,
                0.0 if test.exact is not None else float(claim.margin),
                p,
                p_adj,
                verdict,
                reason,
                smallest,
                needed,
                test.stage,
                level,
                lo_adj,
                hi_adj,
            )
    return [out[i] for i in range(len(tests))]


def check_row(
    claim_id: str,
    setting: str,
    measure: str,
    value: float,
    passed: bool | None,
    stage: str = "random maps",
    why_not: str = "",
) -> Row:
    """A check (family 'check'): a theorem or identity, passed or failed, no statistics;
    ``passed`` None with ``why_not``: not checked at this size, and why."""
    claim = CLAIM_BY_ID[claim_id]
    assert claim.family == CHECK, claim_id
    nan = math.nan
    verdicts = {None: NOT_TESTABLE, True: SANITY_PASSED, False: SANITY_FAILED}
    verdict = verdicts[None if passed is None else bool(passed)]
    return Row(
        CHECK,
        claim_id,
        claim.statement,
        setting,
        measure,
        0,
        value,
        nan,
        nan,
        nan,
        nan,
        nan,
        verdict,
        why_not,
        stage=stage,
    )
