"""The essay's claims, each turned into a measured effect and a verdict by an explicit rule.

Every comparison is a difference of means with a 95% interval (Welch over seeds for networks,
over random matrices for the collapse experiment). The rule is the same for all of them:

- **supported**: the whole interval lies on the side the claim predicts;
- **contradicted**: the whole interval lies on the other side;
- **inconclusive**: the interval contains zero, or there is too little data (fewer than two
  finished runs on a side).

Collapse claims compare fractions against fixed thresholds (``CollapseRule``) instead, stated in
the verdict's ``rule`` text. Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .stats import diff_ci

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    claim: str
    measure: str
    effect: float
    lo: float
    hi: float
    verdict: str
    rule: str


@dataclass(frozen=True)
class CollapseRule:
    """Thresholds on the fraction of recoverable points (config ``report:``)."""

    low_dim_max: float = 0.9  # at n = m, ReLU must lose more than 10% of the manifold
    high_dim_min: float = 0.95  # at the largest n, it must keep at least 95%
    theory_tolerance: float = 0.05  # largest allowed gap between measured and binomial law
    exact_tolerance: float = 1e-6  # "loses nothing": recoverable 1 and error below this


def directional(lo: float, hi: float, expected_sign: int) -> str:
    """Verdict from an interval for an effect predicted to be > 0 (+1) or < 0 (-1)."""
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if expected_sign * lo > 0 and expected_sign * hi > 0:
        return SUPPORTED
    if expected_sign * lo < 0 and expected_sign * hi < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def _compare(claim_id, claim, measure, a, b, expected_sign) -> Verdict:
    effect, lo, hi = diff_ci(a, b)
    side, other = ("above", "below") if expected_sign > 0 else ("below", "above")
    rule = f"supported if the 95% Welch interval is entirely {side} 0, contradicted if {other}"
    return Verdict(
        claim_id, claim, measure, effect, lo, hi, directional(lo, hi, expected_sign), rule
    )


def collapse_claims(survival: pd.DataFrame, rule: CollapseRule = CollapseRule()) -> list[Verdict]:
    """Claims 1-3 from the collapse table (``survival.csv``), for unbiased matrices."""
    out = []
    relu = survival[(survival["activation"] == "relu") & (survival["bias_std"] == 0)]
    for manifold, rows in relu.groupby("manifold", sort=True):
        rows = rows.sort_values("embed_dim")
        low, high = rows.iloc[0], rows.iloc[-1]
        if low["recoverable_hi"] < rule.low_dim_max and high["recoverable_lo"] > rule.high_dim_min:
            verdict = SUPPORTED
        elif low["recoverable_lo"] >= rule.high_dim_min:
            verdict = CONTRADICTED
        else:
            verdict = INCONCLUSIVE
        out.append(
            Verdict(
                "1",
                "ReLU collapses low-dimensional data; high dimensions keep it",
                f"{manifold}: recoverable fraction at n={int(high['embed_dim'])} minus n="
                f"{int(low['embed_dim'])} (at n={int(low['embed_dim'])}: {low['recoverable']:.3f})",
                float(high["recoverable"] - low["recoverable"]),
                float(high["recoverable_lo"] - low["recoverable_hi"]),
                float(high["recoverable_hi"] - low["recoverable_lo"]),
                verdict,
                f"supported if the interval at n=m is below {rule.low_dim_max} and at the "
                f"largest n above {rule.high_dim_min}; contradicted if above {rule.high_dim_min} "
                "already at n=m",
            )
        )
        gap = (rows["recoverable"] - rows["theory"]).abs()
        worst = float(gap.max())
        out.append(
            Verdict(
                "1b",
                "ReLU survival follows P(Binomial(n, 1/2) >= m)",
                f"{manifold}: largest |measured - theory| over n = {int(low['embed_dim'])}.."
                f"{int(high['embed_dim'])}",
                worst,
                math.nan,
                math.nan,
                SUPPORTED if worst <= rule.theory_tolerance else CONTRADICTED,
                f"supported if the largest gap is at most {rule.theory_tolerance}",
            )
        )
    for claim_id, activation, claim in (
        ("2", "linear", "A linear activation loses nothing"),
        ("3", "residual", "z + ReLU(z) is invertible for every n"),
    ):
        rows = survival[survival["activation"] == activation]
        if rows.empty:
            continue
        lost = float(1.0 - rows["recoverable"].min())
        error = float(rows["recon_error"].max())
        verdict = SUPPORTED if lost <= rule.exact_tolerance else CONTRADICTED
        out.append(
            Verdict(
                claim_id,
                claim,
                f"largest fraction of points lost over all manifolds and n "
                f"(largest reconstruction error {error:.1e})",
                lost,
                math.nan,
                math.nan,
                verdict,
                f"supported if the fraction lost is at most {rule.exact_tolerance}",
            )
        )
    return out


def _values(frame: pd.DataFrame, dataset: str, arch: str, depth: int, column: str) -> np.ndarray:
    rows = frame[
        (frame["dataset"] == dataset) & (frame["arch"] == arch) & (frame["depth"] == depth)
    ]
    return rows[column].to_numpy(dtype=float)


def network_claims(runs: pd.DataFrame, net_runs: pd.DataFrame) -> list[Verdict]:
    """Claims 4-7 from the per-run tables (``runs.csv``, ``network_runs.csv``).

    For each dataset: the shallowest and deepest depths trained for both archs. Diverged runs
    carry NaN and drop out of the intervals.
    """
    out = []
    done = runs.assign(
        **{
            c: runs[c].where(runs["status"] == "completed")
            for c in ("train_err", "test_err", "train_err_auc")
        }
    )
    for dataset, group in done.groupby("dataset", sort=True):
        depths = sorted(
            set(group.loc[group["arch"] == "plain", "depth"])
            & set(group.loc[group["arch"] == "residual", "depth"])
        )
        if not depths:
            continue
        shallow, deep = depths[0], depths[-1]
        tag = f"{dataset}"
        if deep > shallow:
            out.append(
                _compare(
                    "4a",
                    "Deep plain nets degrade: more training error than shallow ones",
                    f"{tag}: train error plain-{deep} minus plain-{shallow}",
                    _values(group, dataset, "plain", deep, "train_err"),
                    _values(group, dataset, "plain", shallow, "train_err"),
                    +1,
                )
            )
            out.append(
                _compare(
                    "4b",
                    "Deep residual nets do not degrade: deeper is better",
                    f"{tag}: test error residual-{deep} minus residual-{shallow}",
                    _values(group, dataset, "residual", deep, "test_err"),
                    _values(group, dataset, "residual", shallow, "test_err"),
                    -1,
                )
            )
        out.append(
            _compare(
                "4c",
                "At the same depth a residual net trains better than a plain one",
                f"{tag}: train error residual-{deep} minus plain-{deep}",
                _values(group, dataset, "residual", deep, "train_err"),
                _values(group, dataset, "plain", deep, "train_err"),
                -1,
            )
        )
        out.append(
            _compare(
                "6",
                "Residual nets converge faster",
                f"{tag}: mean training error over epochs, residual-{deep} minus plain-{deep}",
                _values(group, dataset, "residual", deep, "train_err_auc"),
                _values(group, dataset, "plain", deep, "train_err_auc"),
                -1,
            )
        )
        out.extend(_statistic_claims(net_runs, dataset, deep))
    return out


def _statistic_claims(net_runs: pd.DataFrame, dataset: str, deep: int) -> list[Verdict]:
    out = []
    rows = net_runs[(net_runs["dataset"] == dataset) & (net_runs["depth"] == deep)]
    if rows.empty:
        return out
    first, last = int(rows["epoch"].min()), int(rows["epoch"].max())

    def stat(arch: str, name: str, epoch: int, transform=None) -> np.ndarray:
        sel = rows[(rows["arch"] == arch) & (rows["statistic"] == name) & (rows["epoch"] == epoch)]
        values = sel["value"].to_numpy(dtype=float)
        return transform(values) if transform else values

    log_distance = lambda v: np.abs(np.log10(v))  # how far first/last is from 1, either way
    out.append(
        _compare(
            "5a",
            "Residual nets have fewer dead ReLUs",
            f"{dataset}: dead-unit fraction at epoch {last}, residual-{deep} minus plain-{deep}",
            stat("residual", "dead_fraction", last),
            stat("plain", "dead_fraction", last),
            -1,
        )
    )
    for claim_id, epoch, when in (("5b", first, "initialisation"), ("5c", last, "the end")):
        plain_ratio = (
            float(np.nanmean(stat("plain", "grad_ratio", epoch)))
            if len(stat("plain", "grad_ratio", epoch))
            else math.nan
        )
        direction = "vanishing" if plain_ratio < 1 else "explosion"
        out.append(
            _compare(
                claim_id,
                f"Residual nets have less gradient vanishing: first/last layer ratio closer to 1 "
                f"(at {when})",
                f"{dataset}: |log10(first/last layer gradient norm)| at epoch {epoch}, "
                f"residual-{deep} minus plain-{deep} (plain first/last = {plain_ratio:.3g}: "
                f"{direction})",
                stat("residual", "grad_ratio", epoch, log_distance),
                stat("plain", "grad_ratio", epoch, log_distance),
                -1,
            )
        )
    out.append(
        _compare(
            "7",
            "Residual branches have smaller responses (He et al. Fig. 7)",
            f"{dataset}: mean std of branch BatchNorm outputs at epoch {last}, "
            f"residual-{deep} minus plain-{deep}",
            stat("residual", "response_std", last),
            stat("plain", "response_std", last),
            -1,
        )
    )
    out.append(
        _compare(
            "S",
            "Plain nets shatter gradients more than residual nets (Balduzzi et al.)",
            f"{dataset}: input-gradient autocorrelation at lag 1, epoch {first}, "
            f"residual-{deep} minus plain-{deep}",
            stat("residual", "autocorrelation_lag1", first),
            stat("plain", "autocorrelation_lag1", first),
            +1,
        )
    )
    return out


ORDER = ["1", "1b", "2", "3", "4a", "4b", "4c", "5a", "5b", "5c", "6", "7", "S"]


def claims_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The verdicts as a table, in the essay's order (stable for equal ids)."""
    columns = list(Verdict.__dataclass_fields__)
    ordered = sorted(verdicts, key=lambda v: ORDER.index(v.claim_id))
    return pd.DataFrame([asdict(v) for v in ordered], columns=columns)
