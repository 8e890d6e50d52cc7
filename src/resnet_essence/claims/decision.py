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
    CHECK,
    CLAIM_BY_ID,
    INCONCLUSIVE,
    NEGLIGIBLE,
    NO_WORSE,
    NOT_TESTABLE,
    SANITY_FAILED,
    SANITY_PASSED,
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


def _row_p(test: Test) -> tuple[float, str]:
    """(p, region) of a test that can be decided; (NaN, '') otherwise."""
    if test.reason:
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
            )
    return [out[i] for i in range(len(tests))]


def check_row(claim_id: str, setting: str, measure: str, value: float, passed: bool) -> Row:
    """A check (family 'check'): a theorem or identity, passed or failed, no statistics."""
    claim = CLAIM_BY_ID[claim_id]
    assert claim.family == CHECK, claim_id
    nan = math.nan
    verdict = SANITY_PASSED if passed else SANITY_FAILED
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
        "",
    )
