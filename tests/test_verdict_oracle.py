"""The decision rule (claims/decision.py) against an oracle written apart from it: a grid of
estimates on both sides of every margin, for claims that predict "> 0", "< 0" and "no worse",
p-values from the t distribution (scipy), Holm's correction from statsmodels, and rows exactly
at alpha."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import ROOT
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from resnet_essence.claims import (
    AGAINST,
    AGREES,
    CLAIM_BY_ID,
    CONTRADICTED,
    ESSAY,
    INCONCLUSIVE,
    NEGLIGIBLE,
    REPLICATION,
    SUPPORTED,
    Rules,
    decision,
)
from resnet_essence.claims.decision import adjusted_interval, decide
from resnet_essence.stats import Estimate

RULES = Rules.from_config(yaml.safe_load((ROOT / "config.yaml").read_text())["report"])
ALPHA = RULES.alpha
DF = 9  # ten seeds
WORD = {
    ESSAY: {"for": SUPPORTED, "against": CONTRADICTED, "negligible": NEGLIGIBLE},
    REPLICATION: {"for": AGREES, "against": AGAINST, "negligible": NEGLIGIBLE},
}
# one claim of each kind in each family: "> 0" and "< 0" with a margin, "> 0" with none (L2,
# set against 0.5), and "no worse"
ORACLE_CLAIMS = ("V", "5b", "M2", "4c", "4b", "L2")


def _regions(claim) -> dict[str, tuple[float, float]]:
    """Each region as the open interval (low, high) the whole confidence interval must lie in."""
    r, d = claim.reference, claim.margin
    inf = math.inf
    if claim.predicted == "no worse":
        return {"for": (-inf, r + d), "against": (r + d, inf)}
    up, down = (r + d, inf), (-inf, r - d)
    if claim.predicted == "> 0":
        found = {"for": up, "against": down}
    else:
        found = {"for": down, "against": up}
    if d > 0:
        found["negligible"] = (r - d, r + d)
    return found


def _oracle_p(effect: float, se: float, low: float, high: float) -> float:
    """The smallest a at which effect -+ t(1 - a/2, DF) se lies inside (low, high): the interval
    first fits when its half width equals the distance to the nearer edge."""
    room = min(effect - low, high - effect)
    if room <= 0:
        return 1.0
    return float(min(1.0, 2 * sps.t.cdf(-room / se, DF)))


def _inside(effect: float, se: float, a: float, low: float, high: float) -> bool:
    lo, hi = sps.t.interval(1 - a, DF, loc=effect, scale=se)
    return low < lo and hi < high


def _estimate(effect: float, se: float) -> Estimate:
    half = sps.t.ppf(0.975, DF) * se
    return Estimate(effect, se, DF, DF + 1, se * math.sqrt(DF + 1), effect - half, effect + half)


def _grid_of_estimates() -> list[tuple[str, float, float]]:
    """(claim id, effect, se): far beyond, just beyond and just short of every edge of every
    region, and the reference itself."""
    cases = []
    for claim_id in ORACLE_CLAIMS:
        claim = CLAIM_BY_ID[claim_id]
        r, d = claim.reference, claim.margin
        se = d / 10 if d > 0 else 0.02
        edges = {r + d} if claim.predicted == "no worse" else {r - d, r + d}
        effects = [r] + [edge + k * se for edge in sorted(edges) for k in (-7.0, -1.0, 1.0, 7.0)]
        cases += [(claim_id, e, se) for e in effects]
        cases.append((claim_id, r + 2 * d + 0.5, 10.0))  # far out, but measured too coarsely
    return cases


def test_decide_matches_the_oracle_on_both_sides_of_every_margin():
    cases = _grid_of_estimates()
    tests = [
        decision.Test(c, f"case {i}", "m", _estimate(e, se)) for i, (c, e, se) in enumerate(cases)
    ]
    rows = decide(tests, RULES)
    expected_p, regions = [], []
    for claim_id, effect, se in cases:
        claim = CLAIM_BY_ID[claim_id]
        found = {
            name: _oracle_p(effect, se, low, high) for name, (low, high) in _regions(claim).items()
        }
        region = min(found, key=found.get)
        p = found[region]
        low, high = _regions(claim)[region]
        if p < 1:  # the oracle's own check: a hair above p the interval fits, below it does not
            assert _inside(effect, se, p * (1 + 1e-6), low, high)
            assert not _inside(effect, se, p * (1 - 1e-6), low, high)
        expected_p.append(p)
        regions.append(region)
    expected_p = np.array(expected_p)
    families = np.array([CLAIM_BY_ID[c].family for c, _, _ in cases])
    p_holm = np.full(len(cases), np.nan)
    for family in (ESSAY, REPLICATION):
        members = families == family
        p_holm[members] = multipletests(expected_p[members], method="holm")[1]
    reached = {c: set() for c in ORACLE_CLAIMS}
    for row, (claim_id, _, _), p, adjusted, region in zip(
        rows, cases, expected_p, p_holm, regions, strict=True
    ):
        assert row.claim_id == claim_id
        assert row.p == pytest.approx(p, rel=1e-9, abs=1e-300), row
        assert row.p_holm == pytest.approx(adjusted, rel=1e-9, abs=1e-300), row
        want = WORD[row.family][region] if adjusted < ALPHA else INCONCLUSIVE
        assert row.verdict == want, (row, region, adjusted)
        reached[claim_id].add(row.verdict)
    # the grid is not vacuous: every claim reaches each verdict its kind can reach
    for claim_id, verdicts in reached.items():
        claim = CLAIM_BY_ID[claim_id]
        words = WORD[claim.family]
        want = {words["for"], words["against"], INCONCLUSIVE}
        if claim.margin > 0 and claim.predicted != "no worse":
            want.add(NEGLIGIBLE)
        assert verdicts == want, (claim_id, verdicts)


def _failure_row(p: float, setting: str = "depth 56 vs 8, failures") -> decision.Test:
    """A failure-to-train row (McNemar's exact p, given as it is): the net predicted to fail
    more often did, so its side is claim 4a's."""
    return decision.Test("4a", setting, "failures", exact=(1.0, p), seeds=tuple(range(8)))


def test_a_row_exactly_at_alpha_is_not_decided():
    (row,) = decide([_failure_row(ALPHA)], RULES)
    assert (row.p, row.p_holm) == (ALPHA, ALPHA) and row.verdict == INCONCLUSIVE
    (row,) = decide([_failure_row(np.nextafter(ALPHA, 0.0))], RULES)
    assert row.verdict == AGREES  # the next number below alpha is decided
    # Holm's step: two rows at alpha / 2 are each adjusted to alpha exactly, and stay open
    pair = [_failure_row(ALPHA / 2, "a, failures"), _failure_row(ALPHA / 2, "b, failures")]
    rows = decide(pair, RULES)
    assert [r.p_holm for r in rows] == [ALPHA, ALPHA]
    assert multipletests([ALPHA / 2] * 2, method="holm")[1].tolist() == [ALPHA, ALPHA]
    assert {r.verdict for r in rows} == {INCONCLUSIVE}


def test_an_estimate_whose_t_p_value_is_exactly_alpha_is_not_decided():
    """Claim L2 (> 0.5, no margin): an effect whose interval at 95% touches 0.5 exactly. The t
    value is the neighbour of scipy's 97.5% point for which 2 P(T > t) is 0.05 to the bit."""
    start = sps.t.isf(ALPHA / 2, DF)
    candidates = [start]
    for direction in (math.inf, -math.inf):
        t = start
        for _ in range(64):
            t = np.nextafter(t, direction)
            candidates.append(t)
    exact = [t for t in candidates if 2 * sps.t.sf(t, DF) == ALPHA]
    if not exact:
        pytest.skip("no double t with 2 P(T > t) == 0.05 exactly in this scipy")
    t = float(exact[0])
    effect = 0.5 + t  # se 1: (effect - 0.5) / se is t again, exactly
    assert (effect - 0.5) / 1.0 == t
    estimate = Estimate(effect, 1.0, DF, DF + 1, math.sqrt(DF + 1), math.nan, math.nan)
    (row,) = decide([decision.Test("L2", "depth 20, plain", "m", estimate)], RULES)
    assert (row.p, row.p_holm) == (ALPHA, ALPHA) and row.verdict == INCONCLUSIVE
    nearer = Estimate(
        float(np.nextafter(effect, math.inf)), 1.0, DF, DF + 1, math.sqrt(DF + 1), 0, 0
    )
    (row,) = decide([decision.Test("L2", "depth 20, plain", "m", nearer)], RULES)
    assert row.p < ALPHA and row.verdict == AGREES


def test_the_adjusted_interval_of_a_row_at_alpha_is_the_95_percent_interval():
    estimate = _estimate(0.2, 0.05)
    level, lo, hi = adjusted_interval(estimate, 0.01, 0.05, ALPHA)
    assert level == pytest.approx(0.99)
    assert (lo, hi) == pytest.approx(sps.t.interval(0.99, DF, loc=0.2, scale=0.05))
    level, lo, hi = adjusted_interval(estimate, 0.01, 0.01, ALPHA)
    assert level == pytest.approx(0.95)
    assert (lo, hi) == pytest.approx((estimate.lo, estimate.hi))
