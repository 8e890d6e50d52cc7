"""The explanation family (claims Z, I, R): rows from synthetic runs of intervention nets.

Every claim of the family reaches a verdict for it, one against it and, where it has a margin
and predicts a side, negligible; a row with nothing to compare says why.
"""

from __future__ import annotations

import pandas as pd
import pytest
from test_claims import DEPTHS, _all, _grid, _one, _verdicts

from resnet_essence.claims import (
    CLAIMS,
    CONTRADICTED,
    EXPLANATION,
    NEGLIGIBLE,
    NOT_TESTABLE,
    SUPPORTED,
)
from resnet_essence.claims.interventions import intervention

ZEROS = ("plain", "residual", "plain-leaky0.2", "plain-elu")
ALPHAS = ("plain", "residual-a0.25", "residual-a0.5", "residual-a0.75", "residual")
NONLINEAR = ("preact", "preact-reluid")


def _family(claims: pd.DataFrame) -> pd.DataFrame:
    return claims[claims["family"] == EXPLANATION]


def _by_depth(arch: str, value) -> dict:
    return {(arch, d): value for d in DEPTHS}


@pytest.mark.parametrize(
    "name, parts",
    [
        ("plain", ("plain", "relu", 1.0, False)),
        ("plain-leaky0.2", ("plain", "leaky", 1.0, False)),
        ("residual-elu", ("residual", "elu", 1.0, False)),
        ("residual-a0.25", ("residual", "relu", 0.25, False)),
        ("preact-reluid", ("preact", "relu", 1.0, True)),
        ("mobilenet", None),
        ("plain-gelu", None),
        ("plain-a0.5", None),  # plain has no shortcut to turn down
    ],
)
def test_intervention_names_are_read_into_base_activation_alpha_and_identity(name, parts):
    found = intervention(name)
    read = found and (found.base, found.activation, found.alpha, found.relu_identity)
    assert read == parts


def test_a_run_without_intervention_nets_has_no_row_of_the_family():
    assert _family(_verdicts(_grid())).empty


def test_the_essays_own_rows_are_judged_on_the_unmodified_nets_only():
    plain_only = _verdicts(_grid())
    with_interventions = _verdicts(_grid(archs=ZEROS))
    essay = lambda c: c[c["family"] == "essay"][["claim_id", "setting", "verdict"]]
    pd.testing.assert_frame_equal(
        essay(plain_only).reset_index(drop=True),
        essay(with_interventions).reset_index(drop=True),
    )


def test_zeros_taken_out_close_the_gap_faster_and_flatter():
    grid = _grid(
        archs=ZEROS,
        train={**_by_depth("plain", 0.05), **_by_depth("plain-elu", 0.3)},
        speed={**_by_depth("plain", 3.0), **_by_depth("plain-leaky0.2", 1.0)},
        stats={
            **_all("signal_norm_slope", "plain", 1.5),
            **_all("signal_norm_slope", "plain-elu", 3),
        },
    )
    claims = _family(_verdicts(grid))
    leaky, elu = "depth 56, leaky0.2", "depth 56, elu"
    assert _one(claims, "Z1", leaky)["verdict"] == SUPPORTED
    assert _one(claims, "Z2", leaky)["verdict"] == SUPPORTED  # as good as the residual net
    assert _one(claims, "Z1", elu)["verdict"] == CONTRADICTED
    assert _one(claims, "Z2", elu)["verdict"] == CONTRADICTED  # a gap remains, and wider
    assert _one(claims, "Z3", leaky)["verdict"] == SUPPORTED
    assert _one(claims, "Z4", f"{leaky}, epoch 0")["verdict"] == SUPPORTED
    assert _one(claims, "Z4", f"{elu}, epoch 0")["verdict"] == CONTRADICTED
    assert "plain-leaky0.2-56 minus plain-56" in _one(claims, "Z1", leaky)["measure"]


def test_where_the_plain_net_trains_as_well_as_the_residual_one_there_is_no_gap_to_close():
    claims = _family(_verdicts(_grid(archs=ZEROS, seeds=20)))
    row = _one(claims, "Z2", "depth 20, leaky0.2")
    assert row["verdict"] == NOT_TESTABLE and "no gap to close" in row["reason"]
    # the plain net's own comparison is decided: the zeros make no difference
    assert _one(claims, "Z3", "depth 20, leaky0.2")["verdict"] == NEGLIGIBLE


def test_the_identity_turned_down_orders_the_nets_by_alpha():
    alphas = (0.0, 0.25, 0.5, 0.75, 1.0)
    train, speed, stats = {}, {}, {}
    for arch, alpha in zip(ALPHAS, alphas, strict=True):
        train |= _by_depth(arch, 0.1 * (1 - alpha))
        speed |= _by_depth(arch, 4.0 - 3 * alpha)
        stats |= _all("signal_norm_slope", arch, 2.0 * alpha)  # |slope| grows with alpha
    claims = _family(_verdicts(_grid(archs=ALPHAS, train=train, speed=speed, stats=stats)))
    where = "depth 20, residual alpha"
    assert _one(claims, "I1", f"{where}, training error")["verdict"] == SUPPORTED
    assert _one(claims, "I2", f"{where}, speed")["verdict"] == SUPPORTED
    assert _one(claims, "I3", f"{where}, epoch 0")["verdict"] == CONTRADICTED
    row = _one(claims, "I1", f"{where}, training error")
    assert row["effect"] == pytest.approx(-1.0)  # every seed ranks the five nets alike
    assert "plain-20, residual-a0.25-20" in row["measure"]


def test_an_identity_that_does_not_order_the_nets_is_negligible():
    # two orders of the five nets by alpha, Spearman -0.1 and +0.1, on alternate seeds
    down, up = (0.11, 0.05, 0.0, 0.06, 0.10), (0.10, 0.06, 0.0, 0.05, 0.11)
    seeds = 20
    train = {}
    for i, arch in enumerate(ALPHAS):
        train |= _by_depth(arch, tuple((down if s % 2 else up)[i] for s in range(seeds)))
    claims = _family(_verdicts(_grid(archs=ALPHAS, train=train, seeds=seeds, noise=0.0)))
    row = _one(claims, "I1", "depth 20, residual alpha, training error")
    assert row["effect"] == pytest.approx(0.0, abs=1e-12)
    assert row["verdict"] == NEGLIGIBLE


def test_fewer_than_three_alphas_make_no_identity_row():
    claims = _family(_verdicts(_grid(archs=("residual-a0.5", "residual"))))
    assert claims.empty
    # the plain net is the residual net at alpha 0: three alphas
    claims = _family(_verdicts(_grid(archs=("plain", "residual-a0.5", "residual"))))
    assert {"I1", "I2", "I3"} <= set(claims["claim_id"])


def test_a_relu_on_the_identity_path_costs_or_does_not():
    hurt = _grid(
        archs=NONLINEAR,
        train=_by_depth("preact-reluid", 0.04),
        speed=_by_depth("preact-reluid", 3.0),
        stats=_all("signal_norm_slope", "preact-reluid", 1.5),
    )
    claims = _family(_verdicts(hurt))
    for claim_id, setting in (("R1", ""), ("R2", ""), ("R3", ", epoch 0")):
        assert _one(claims, claim_id, f"depth 56{setting}")["verdict"] == SUPPORTED
    helps = _grid(archs=NONLINEAR, train=_by_depth("preact", 0.04), speed=_by_depth("preact", 3))
    claims = _family(_verdicts(helps))
    assert _one(claims, "R1", "depth 56")["verdict"] == CONTRADICTED
    assert _one(claims, "R2", "depth 56")["verdict"] == CONTRADICTED
    same = _family(_verdicts(_grid(archs=NONLINEAR, seeds=20)))
    assert _one(same, "R3", "depth 20, epoch 0")["verdict"] == NEGLIGIBLE


def test_every_claim_of_the_family_states_both_outcomes_before_the_data():
    family = [c for c in CLAIMS if c.family == EXPLANATION]
    assert [c.id for c in family] == ["Z1", "Z2", "Z3", "Z4", "I1", "I2", "I3", "R1", "R2", "R3"]
    for claim in family:
        assert claim.outcomes["for"] and claim.outcomes["against"]
        assert "「" not in claim.essay["quote"] and claim.essay["quote"]  # the passage itself


def _ordered(seeds: int, values) -> dict:
    """Per net of ALPHAS, the value that ``values(alpha, seed)`` gives, at every depth."""
    alphas = (0.0, 0.25, 0.5, 0.75, 1.0)
    return {
        (arch, d): tuple(values(alpha, s) for s in range(seeds))
        for arch, alpha in zip(ALPHAS, alphas, strict=True)
        for d in DEPTHS
    }


def _stats_ordered(seeds: int, values) -> dict:
    ordered = _ordered(seeds, values)
    return {("signal_norm_slope", a, d, e): v for (a, d), v in ordered.items() for e in (0, 10)}


def _alike(ordered: dict) -> dict:
    """The plain net's values given to plain-leaky0.2 too."""
    return ordered | {("plain-leaky0.2", d): ordered[("plain", d)] for d in DEPTHS}


def test_every_claim_of_the_family_reaches_for_against_and_negligible():
    """No rule of the family is unfalsifiable (as for the other families in test_claims.py)."""
    n = 20
    # alternate seeds rank the five nets by alpha at Spearman -0.1 and +0.1: no order
    patterns = ((0.11, 0.05, 0.0, 0.06, 0.10), (0.10, 0.06, 0.0, 0.05, 0.11))
    index = {0.0: 0, 0.25: 1, 0.5: 2, 0.75: 3, 1.0: 4}
    flat = lambda scale, base: lambda a, s: base + scale * patterns[s % 2][index[a]]
    scenarios = [
        _grid(  # the zeros hurt (not elu's), and the identity orders the nets
            archs=ZEROS + ALPHAS[1:4],
            train={
                **_ordered(6, lambda a, s: 0.05 * (1 - a)),
                **_by_depth("plain-elu", 0.3),  # a gap to the residual net remains (Z2)
            },
            speed={**_by_depth("plain", 3.0), **_by_depth("plain-leaky0.2", 1.0)},
            stats={
                **_all("signal_norm_slope", "plain", 1.5),
                **_stats_ordered(6, lambda a, s: 2 - 2 * a),
            },
        ),
        _grid(  # taking the zeros out hurts, and more identity is worse
            archs=ZEROS + ALPHAS[1:4],
            train={**_by_depth("plain-leaky0.2", 0.03), **_ordered(6, lambda a, s: 0.05 * a)},
            speed={**_by_depth("plain-leaky0.2", 3.0), **_ordered(6, lambda a, s: 1 + 2 * a)},
            stats={
                **_all("signal_norm_slope", "plain-leaky0.2", 1.5),
                **_stats_ordered(6, lambda a, s: 2 * a),
            },
        ),
        _grid(  # no difference: every net alike, off the floor of 0 error
            archs=ZEROS[:3] + ALPHAS[1:4],
            train=_alike(_ordered(n, flat(1, 0.0))),
            speed=_alike(_ordered(n, flat(5, 1.0))),
            stats=_stats_ordered(n, flat(5, 0.5))
            | {
                ("signal_norm_slope", "plain-leaky0.2", d, e): 0.5 + 5 * patterns[0][0]
                for d in DEPTHS
                for e in (0, 10)
            },
            seeds=n,
        ),
        _grid(
            archs=NONLINEAR,
            train=_by_depth("preact-reluid", 0.04),
            speed=_by_depth("preact-reluid", 3.0),
            stats=_all("signal_norm_slope", "preact-reluid", 1.5),
        ),
        _grid(
            archs=NONLINEAR,
            train=_by_depth("preact", 0.04),
            speed=_by_depth("preact", 3.0),
            stats=_all("signal_norm_slope", "preact", 1.5),
        ),
        _grid(
            archs=NONLINEAR,
            train={**_by_depth("preact", 0.04), **_by_depth("preact-reluid", 0.04)},
            seeds=n,
        ),
    ]
    reached = {c.id: set() for c in CLAIMS if c.family == EXPLANATION}
    for grid in scenarios:
        for row in _family(_verdicts(grid)).itertuples():
            reached[row.claim_id].add(row.verdict)
    for claim in (c for c in CLAIMS if c.family == EXPLANATION):
        assert {SUPPORTED, CONTRADICTED} <= reached[claim.id], (claim.id, reached[claim.id])
        if claim.predicted != "no worse":
            assert NEGLIGIBLE in reached[claim.id], (claim.id, reached[claim.id])
