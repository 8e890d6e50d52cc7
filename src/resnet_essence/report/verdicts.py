"""The tables of verdicts: each row's effect, interval, margin, p-value and verdict, one family
in short (the README's headline table), the two halves of the seeds, the power of what stayed
inconclusive, the claims with their rules, the claims a run has no row for, and claims.md.
"""

from __future__ import annotations

import math

import pandas as pd

from ..claims import (
    BOUND,
    CHECK,
    DECISIVE,
    ESSAY,
    INCONCLUSIVE,
    REPLICATION,
    UNINFORMATIVE,
    agreement_counts,
)
from .cells import fmt, fmt_ci, fmt_p, markdown_table, verdict_cell

STAGES = ("initialisation", "trained", "random maps")


def _column(claims: pd.DataFrame, name: str, default=math.nan) -> pd.Series:
    """A claims column, or ``default`` for tables written before it existed."""
    return claims[name] if name in claims else pd.Series(default, index=claims.index)


def _p_cell(p: float, q: float) -> str:
    return fmt_p(p) if math.isnan(q) else f"{fmt_p(p)} ({fmt_p(q)})"


def _adjusted_cell(effect: float, level: float, lo: float, hi: float) -> str:
    """The interval the verdict uses, at the row's Holm-adjusted level."""
    if isinstance(level, float) and math.isnan(level):
        return "–"
    return f"{fmt_ci(effect, lo, hi)} ({level:.2%})"


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per verdict: where it was judged, what was measured, and the result; the effect
    with its unadjusted 95% interval and with the interval the verdict uses (Holm-adjusted)."""
    margins = _column(claims, "margin")
    seeds = _column(claims, "n", 0)
    adjusted = zip(
        claims["effect"],
        _column(claims, "level_adj"),
        _column(claims, "lo_adj"),
        _column(claims, "hi_adj"),
        strict=True,
    )
    return pd.DataFrame(
        {
            "#": claims["claim_id"],
            "setting": claims["setting"],
            "measure": claims["measure"],
            "n": [str(int(n)) if n else "–" for n in seeds.fillna(0)],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(claims["effect"], claims["lo"], claims["hi"], strict=True)
            ],
            "[CI the verdict uses] (level)": [_adjusted_cell(*cells) for cells in adjusted],
            "margin": [fmt(m) for m in margins],
            "p (Holm)": [_p_cell(p, q) for p, q in zip(claims["p"], claims["p_holm"], strict=True)],
            "verdict": [verdict_cell(v) for v in claims["verdict"]],
            "reason": claims["reason"].fillna(""),
        }
    )


def headline_table(claims: pd.DataFrame, family: str = ESSAY) -> pd.DataFrame:
    """One family's rows in short, as the README shows them: the effect with its unadjusted 95%
    interval, the margin, the verdict and the verdicts of the two halves of the seeds."""
    rows = claims[claims["family"] == family]
    halves = [
        f"{a} / {b}" if isinstance(a, str) and a else "–"
        for a, b in zip(
            _column(rows, "verdict_half_a", ""), _column(rows, "verdict_half_b", ""), strict=True
        )
    ]
    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(rows["effect"], rows["lo"], rows["hi"], strict=True)
            ],
            "margin": [fmt(m) for m in rows["margin"]],
            "verdict": [verdict_cell(v) for v in rows["verdict"]],
            "halves": halves,
        }
    )


def halves_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The seed-based rows judged on each half of the seeds, and whether the halves agree."""
    rows = claims[claims["halves_agree"].fillna("").isin(["yes", "no", ""])]
    rows = rows[rows["verdict_half_a"].fillna("") != ""]
    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "all seeds": [verdict_cell(v) for v in rows["verdict"]],
            "first half": [verdict_cell(v) for v in rows["verdict_half_a"]],
            "second half": [verdict_cell(v) for v in rows["verdict_half_b"]],
            "halves agree": rows["halves_agree"].fillna("").replace("", "(neither decisive)"),
        }
    )


def power_table(claims: pd.DataFrame, power: float) -> pd.DataFrame:
    """For every inconclusive row with an estimate: the smallest effect its seeds detect, and
    the seeds that would detect the effect it observed."""
    rows = claims[claims["verdict"] == INCONCLUSIVE]
    rows = rows[pd.to_numeric(rows["detectable"], errors="coerce").notna()]

    def seeds(value: float) -> str:
        return "more than 10000" if not math.isfinite(value) else f"{int(value)}"

    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "seeds now": rows["n"].astype(int),
            "effect": [fmt(e) for e in rows["effect"]],
            "margin": [fmt(m) for m in rows["margin"]],
            "measure (the unit of effect, margin and detectable)": rows["measure"],
            f"smallest detectable (distance from the reference, {power:.0%} power)": [
                fmt(d) for d in rows["detectable"]
            ],
            f"seeds for {power:.0%} power at the observed effect": [
                seeds(v) for v in rows["seeds_needed"]
            ],
        }
    )


def stage_counts(rows: pd.DataFrame) -> str:
    """How many rows of each stage (at initialisation, on trained nets, on random maps) came
    out decisive, at a floor (uninformative), as a bound, or neither: in words."""
    stages = _column(rows, "stage", "").fillna("")
    parts = []
    for stage in (*STAGES, ""):
        these = rows[stages == stage]
        if these.empty:
            continue
        verdicts = these["verdict"]
        counts = [f"{int(verdicts.isin(DECISIVE).sum())} decisive"]
        for word in (UNINFORMATIVE, BOUND):
            if (verdicts == word).any():
                counts.append(f"{int((verdicts == word).sum())} {word}")
        name = {"": "other", "trained": "on trained nets", "random maps": "on random maps"}
        parts.append(f"{name.get(stage, 'at ' + stage)}: {len(these)} ({', '.join(counts)})")
    return "; ".join(parts)


def summary_table(claims: pd.DataFrame) -> pd.DataFrame:
    """How many settings of each claim came out which way."""
    rows = []
    for claim_id, group in claims.groupby("claim_id", sort=False):
        counts = group["verdict"].value_counts()
        rows.append(
            {
                "#": claim_id,
                "claim": group["claim"].iloc[0],
                "verdicts": ", ".join(f"{n}× **{v}**" for v, n in counts.items()),
            }
        )
    return pd.DataFrame(rows)


def definitions_table(definitions: pd.DataFrame, essay: bool = False) -> pd.DataFrame:
    """The claims of one family: each claim once, with its source, measure and rule."""
    table = {"#": definitions["id"], "claim": definitions["statement"]}
    if essay:
        table["in the essay"] = definitions["essay"]
    table.update(
        {
            "source": definitions["source"],
            "measure": definitions["measure"],
            "judged at": definitions["judged_at"],
            "predicted": definitions["predicted"],
            "smallest effect of interest": [
                f"{fmt(m)}: {why}" if why else "–"
                for m, why in zip(definitions["margin"], definitions["margin_reason"], strict=True)
            ],
        }
    )
    if "floor" in definitions:
        table["floor or bound"] = [f or "–" for f in definitions["floor"].fillna("")]
    if "outcomes" in definitions and definitions["outcomes"].notna().any():
        table["what a verdict would mean"] = [
            "; ".join(f"{side}: {text}" for side, text in o.items()) if isinstance(o, dict) else "–"
            for o in definitions["outcomes"]
        ]
    if "changes" in definitions:
        table["rule changes"] = [
            "; ".join(c) if isinstance(c, list | tuple) and c else "–"
            for c in definitions["changes"]
        ]
    return pd.DataFrame(table)


def claims_without_rows(claims: pd.DataFrame, definitions: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The claims with no row in ``claims``, each with what its measure needs that the run's
    config ``cfg`` lacks (read from the claim's measure and setting in claims.yaml)."""
    judged = set(claims["claim_id"].astype(str))
    rows = []
    for claim in definitions.itertuples(index=False):
        if str(claim.id) not in judged:
            rows.append(
                {
                    "#": claim.id,
                    "family": claim.family,
                    "claim": claim.statement,
                    "why no row": _what_is_missing(
                        f"{claim.statement} {claim.measure} {claim.judged_at}", cfg
                    ),
                }
            )
    return pd.DataFrame(rows, columns=["#", "family", "claim", "why no row"])


def _what_is_missing(text: str, cfg: dict) -> str:
    archs = list(cfg.get("archs", []))
    needs = [f"{arch} nets" for arch in ("plain", "residual", "preact") if arch in text]
    missing = [need for need in needs if need.split()[0] not in archs]
    found = []
    if missing:
        found.append(f"it compares {' and '.join(needs)}; this run trains {', '.join(archs)}")
    if "shallowest" in text and len(cfg.get("depths", [])) < 2:
        found.append(f"it compares two depths; this run has {cfg.get('depths')}")
    if "width sweep" in text and not cfg.get("probes", {}).get("widths"):
        found.append("it needs the width sweep (probes.widths is empty)")
    intervened = [a for a in archs if a not in ("plain", "residual", "preact")]
    if any(m in text for m in ("plain-<act>", "alpha", "preact-reluid")) and not intervened:
        found.append(
            "it needs intervention nets (archs such as plain-leaky0.2, residual-a0.5, "
            "preact-reluid: configs/interventions.yaml)"
        )
    if "bottleneck" in text and not cfg.get("bottleneck", {}).get("variants"):
        found.append("it needs the bottleneck nets (bottleneck.variants is empty)")
    return "; ".join(found) or (
        f"no net of this run gives its measure (archs {archs}, depths {cfg.get('depths')})"
    )


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims table as Markdown for a published run (docs/example*/claims.md): one section
    per family, the essay's first, and the agreement of the halves where they were judged."""
    parts = []
    for family, title in (
        (ESSAY, "The essay's claims"),
        (REPLICATION, "Replications"),
        (CHECK, "Checks"),
    ):
        rows = claims[claims["family"] == family]
        if rows.empty:
            continue
        decisive = int(rows["verdict"].isin(DECISIVE).sum())
        parts += [f"## {title}", f"{len(rows)} rows, {decisive} decisive; {stage_counts(rows)}."]
        if rows["verdict_half_a"].fillna("").ne("").any():
            agree, judged = agreement_counts(claims, family)
            parts.append(
                f"The two halves of the seeds agree on {agree} of the {judged} rows decisive in "
                "either."
            )
        parts.append(markdown_table(verdict_table(rows)))
    return "\n\n".join(parts) + "\n"
