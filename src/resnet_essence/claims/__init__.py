"""The essay's claims as data, and the rules that turn measurements into verdicts.

- ``catalogue``: claims.yaml (what is claimed, by whom, in which family, where in the essay, how
  it is measured, which side it predicts and its smallest effect of interest), the verdict words
  and the thresholds (``Rules``);
- ``collapse``: claims 1-3 from the collapse experiment;
- ``grid``: one dataset's runs by net and seed (failed, converged, final errors, statistics);
- ``networks``: the claims about trained networks, seed by seed (the rows built from a grid);
- ``interventions``: the essay's explanation put to interventions on the nets (Z, I, R);
- ``design``: bottlenecks and the width sweep;
- ``decision``: estimates to verdicts (margins, Holm within a family, power);
- ``replication``: the two halves of the seeds, and two claims tables compared.

Nothing here reads or writes files.
"""

from __future__ import annotations

from dataclasses import asdict, fields

import pandas as pd

from .catalogue import (
    AGAINST,
    AGREES,
    BOUND,
    CHECK,
    CLAIM_BY_ID,
    CLAIMS,
    CONTRADICTED,
    DECISIVE,
    ESSAY,
    EXPLANATION,
    FAMILIES,
    INCONCLUSIVE,
    NEGLIGIBLE,
    NOT_TESTABLE,
    ORDER,
    REPLICATION,
    SANITY_FAILED,
    SANITY_PASSED,
    SUPPORTED,
    UNINFORMATIVE,
    VERDICTS,
    Claim,
    Rules,
    claims_definitions,
)
from .collapse import collapse_rows, collapse_tests
from .decision import Row, Test, check_row, decide
from .design import bottleneck_tests, width_tests
from .interventions import intervention_tests
from .networks import network_tests
from .replication import agreement, agreement_counts, differences, split_seeds

__all__ = [
    "AGAINST",
    "AGREES",
    "BOUND",
    "CHECK",
    "CLAIMS",
    "CLAIM_BY_ID",
    "COLUMNS",
    "CONTRADICTED",
    "DECISIVE",
    "ESSAY",
    "EXPLANATION",
    "FAMILIES",
    "INCONCLUSIVE",
    "NEGLIGIBLE",
    "NOT_TESTABLE",
    "ORDER",
    "REPLICATION",
    "SANITY_FAILED",
    "SANITY_PASSED",
    "SUPPORTED",
    "UNINFORMATIVE",
    "VERDICTS",
    "Claim",
    "Rules",
    "agreement_counts",
    "claims_definitions",
    "differences",
    "evaluate",
    "seed_tests",
]

HALVES = ["verdict_half_a", "verdict_half_b", "halves_agree"]
COLUMNS = [f.name for f in fields(Row)] + HALVES
FAMILY_ORDER = [ESSAY, EXPLANATION, REPLICATION, CHECK]


def _with_seeds(table: pd.DataFrame | None, seeds) -> pd.DataFrame | None:
    if table is None or "seed" not in table:
        return table
    return table[table["seed"].isin(seeds)]


def seed_tests(tables: dict[str, pd.DataFrame], rules: Rules, seeds=None) -> list[Test]:
    """Every row that rests on seeds (trained nets, bottlenecks), before a verdict; only the runs
    of ``seeds`` when given."""
    keep = (lambda t: t) if seeds is None else (lambda t: _with_seeds(t, seeds))
    nets = keep(tables["runs"]), keep(tables["epochs"]), keep(tables["network_runs"])
    tests = network_tests(*nets, rules) + intervention_tests(*nets, rules)
    return tests + bottleneck_tests(keep(tables.get("bottleneck_runs")), rules)


def _check_rows(net_runs: pd.DataFrame, rules: Rules) -> list[Row]:
    """T1 on every trained net: always-active units made linear leave the output on the probe
    images unchanged, to float tolerance."""
    rows = net_runs[net_runs["statistic"] == "always_active_logit_change"]
    if rows.empty:
        return []
    worst = float(rows["value"].max())
    measure = f"largest relative logit change over {len(rows)} trained nets"
    passed = worst <= rules.exact_tolerance
    return [check_row("T1", "every trained net", measure, worst, passed)]


def evaluate(tables: dict[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    """Every verdict of the run, as the claims table (claims.csv, columns ``COLUMNS``).

    ``tables``: ``survival`` and ``blocks`` (collapse), ``runs``, ``epochs`` and
    ``network_runs`` (the 6n+2 nets), optionally ``bottleneck_runs`` and ``width_sweep``. With
    ``rules.halves`` and at least four seeds, the seed-based rows are judged again on each half
    of the seeds (``replication.split_seeds``), and each row says whether the halves agree.
    """
    rows = collapse_rows(tables["survival"], tables.get("blocks"), rules)
    rows += _check_rows(tables["network_runs"], rules)
    sweep = width_tests(tables.get("width_sweep"), rules)
    maps = collapse_tests(tables.get("blocks"))
    seeded = decide(maps + seed_tests(tables, rules) + sweep, rules)
    rows += seeded
    table = pd.DataFrame([asdict(r) for r in rows], columns=COLUMNS[: -len(HALVES)])
    table = table.assign(**{c: "" for c in HALVES})
    seeds = sorted(set(tables["runs"]["seed"]))
    if rules.halves and len(seeds) >= 4:
        verdicts = []
        for half in split_seeds(seeds):
            found = decide(seed_tests(tables, rules, half), rules)
            verdicts.append({(r.claim_id, r.setting): r.verdict for r in found})
        keys = list(zip(table["claim_id"], table["setting"], strict=True))
        seed_based = {(r.claim_id, r.setting) for r in seeded} - {
            (t.claim_id, t.setting) for t in sweep + maps
        }
        for column, found in zip(HALVES[:2], verdicts, strict=True):
            table[column] = [found.get(k, NOT_TESTABLE) if k in seed_based else "" for k in keys]
        based = [k in seed_based for k in keys]
        agree = agreement(table["verdict_half_a"], table["verdict_half_b"])
        table["halves_agree"] = agree.where(based, "")
    return _ordered(table)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Families in the report's order (the essay's first), claims in claims.yaml's order."""
    family = table["family"].map(FAMILY_ORDER.index)
    claim = table["claim_id"].map(ORDER.index)
    order = pd.DataFrame({"f": family, "c": claim}).sort_values(["f", "c"], kind="stable").index
    return table.loc[order].reset_index(drop=True)
