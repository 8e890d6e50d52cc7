"""Claims 1-3 from the collapse experiment: ``survival.csv`` (activations) and ``blocks.csv``
(the maps a network applies to the lifted manifold).

These rest on 200 random maps per width, not on seeds: a row's interval is over the maps and
its rule compares fractions against ``report.low_dim_max`` and ``report.high_dim_min``, with no
p-value and no Holm. All are checks except 3b, the essay's claim about He et al.'s original block.
"""

from __future__ import annotations

import math

import pandas as pd

from .catalogue import CLAIM_BY_ID, CONTRADICTED, ESSAY, INCONCLUSIVE, SUPPORTED, Rules
from .decision import Row, check_row

# the narrowest trunk of the networks trained here (width 16): 3b is judged apart above it
TRUNK_MIN = 16


def _loses_then_keeps(low: pd.DataFrame, high: pd.DataFrame, rules: Rules) -> bool:
    """Claim 1's rule: loses the manifold at small n and keeps it at large n, both sides."""
    return bool(
        (low["recoverable_hi"] < rules.low_dim_max).all()
        and (high["recoverable_lo"] > rules.high_dim_min).all()
    )


def _keeps_everywhere(rows: pd.DataFrame, rules: Rules) -> str:
    if (rows["recoverable_lo"] > rules.high_dim_min).all():
        return SUPPORTED
    if (rows["recoverable_hi"] < rules.low_dim_max).any():
        return CONTRADICTED
    return INCONCLUSIVE


def _values_at(rows: pd.DataFrame) -> str:
    return ", ".join(f"n={int(r.embed_dim)}: {r.recoverable:.3f}" for r in rows.itertuples())


def _lowest(rows: pd.DataFrame) -> tuple[pd.Series, str]:
    worst = rows.loc[rows["recoverable"].idxmin()]
    measure = (
        f"lowest recoverable fraction {worst['recoverable']:.3f} at n={int(worst['embed_dim'])} "
        f"(n = {int(rows['embed_dim'].min())}..{int(rows['embed_dim'].max())})"
    )
    return worst, measure


def collapse_rows(survival: pd.DataFrame, blocks: pd.DataFrame | None, rules: Rules) -> list[Row]:
    out = []
    relu = survival[(survival["activation"] == "relu") & (survival["bias_std"] == 0)]
    for manifold, rows in relu.groupby("manifold", sort=True):
        rows = rows.sort_values("embed_dim")
        m = int(rows["input_dim"].iloc[0])
        low = rows[rows["embed_dim"].isin([m, m + 1])]
        high = rows[rows["embed_dim"].isin([15, 30])]
        if high.empty:
            high = rows.tail(1)
        gap = float(high["recoverable"].mean() - low["recoverable"].mean())
        measure = f"recoverable {_values_at(low)}; {_values_at(high)}"
        passed = _loses_then_keeps(low, high, rules)
        out.append(check_row("1", manifold, measure, gap, passed))
        worst = float((rows["recoverable"] - rows["theory"]).abs().max())
        measure = f"largest gap to the law over n = {m}..{int(rows['embed_dim'].max())}"
        out.append(check_row("1b", manifold, measure, worst, worst <= rules.theory_tolerance))
    for claim_id, activation in (("2", "linear"), ("3", "residual")):
        rows = survival[survival["activation"] == activation]
        if rows.empty:
            continue
        lost = float(1.0 - rows["recoverable"].min())
        measure = f"largest reconstruction error {rows['recon_error'].max():.1e}"
        out.append(
            check_row(claim_id, "all manifolds", measure, lost, lost <= rules.exact_tolerance)
        )
    if blocks is None or blocks.empty:
        return out
    for manifold, rows in blocks[blocks["block"] == "preact_block"].groupby("manifold", sort=True):
        worst, measure = _lowest(rows)
        passed = _keeps_everywhere(rows, rules) == SUPPORTED
        out.append(check_row("3a", manifold, measure, float(worst["recoverable"]), passed))
    claim = CLAIM_BY_ID["3b"]
    nan = math.nan
    for manifold, rows in blocks[blocks["block"] == "original_block"].groupby(
        "manifold", sort=True
    ):
        for narrow in (False, True):
            part = rows[(rows["embed_dim"] < TRUNK_MIN) == narrow]
            if part.empty:
                continue
            worst, measure = _lowest(part)
            out.append(
                Row(
                    ESSAY,
                    "3b",
                    claim.statement,
                    f"{manifold}, n {'<' if narrow else '>='} {TRUNK_MIN}",
                    measure,
                    int(worst["n_matrices"]),
                    float(worst["recoverable"]),
                    float(worst["recoverable_lo"]),
                    float(worst["recoverable_hi"]),
                    0.0,
                    nan,
                    nan,
                    _keeps_everywhere(part, rules),
                    "",
                )
            )
    return out
