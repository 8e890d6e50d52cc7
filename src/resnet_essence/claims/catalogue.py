"""The claims table (claims.yaml), the words a verdict can take, and the thresholds of the rules.

A claim belongs to one of four families, named in claims.yaml before any data were seen: the
essay's own claims (confirmatory), the essay's explanation put to interventions on the nets,
replications of published results, and checks (theorems and identities, which can only fail
through a bug). Holm's correction runs within a family.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from importlib.resources import files
from typing import Any

import pandas as pd
import yaml

ESSAY, REPLICATION, CHECK = "essay", "replication", "check"
EXPLANATION = "explanation"
FAMILIES = {
    ESSAY: "the essay's own claims (confirmatory)",
    EXPLANATION: "the essay's explanation, by intervention",
    REPLICATION: "replications of published results",
    CHECK: "checks: theorems and identities, numerically",
}

SUPPORTED, CONTRADICTED = "supported", "contradicted"
AGREES, AGAINST = "agrees with the paper", "against the paper"
NEGLIGIBLE, INCONCLUSIVE = "negligible", "inconclusive"
NOT_TESTABLE = "not testable here"
UNINFORMATIVE, BOUND = "uninformative", "bound"
SANITY_PASSED, SANITY_FAILED = "sanity check passed", "sanity check failed"
VERDICTS = {
    SUPPORTED: "an essay's claim: the interval lies beyond the smallest effect of interest on the "
    "side the claim predicts (after Holm's correction within the family)",
    CONTRADICTED: "an essay's claim: the interval lies beyond the smallest effect of interest on "
    "the other side",
    AGREES: "a published result: reproduced here, beyond its smallest effect of interest",
    AGAINST: "a published result: the opposite found here, beyond its smallest effect of interest",
    NEGLIGIBLE: "the interval lies inside the smallest effect of interest: whatever the effect, it "
    "is too small to matter (a decisive outcome)",
    INCONCLUSIVE: "the data cannot decide: the interval reaches across a margin, or too few runs; "
    "the power columns say how many seeds would decide it",
    NOT_TESTABLE: "a precondition of the test fails here; the reason column says which",
    UNINFORMATIVE: "both arms sit at a floor or ceiling of the measure (the reason column says "
    "which), so no difference beyond the margin could occur whatever the nets do: no evidence "
    "either way, counted apart from the decisive rows",
    BOUND: "one arm never reaches the event measured on some seed: the effect is a bound, not a "
    "measurement (the reason column says which way it points); counted apart",
    SANITY_PASSED: "a theorem checked numerically; it can only fail through a bug",
    SANITY_FAILED: "a theorem failed its numerical check: look for a bug",
}
DECISIVE = (SUPPORTED, CONTRADICTED, AGREES, AGAINST, NEGLIGIBLE)
# the outcome of a decision in the words of each family
WORDS = {
    ESSAY: {"for": SUPPORTED, "against": CONTRADICTED},
    EXPLANATION: {"for": SUPPORTED, "against": CONTRADICTED},
    REPLICATION: {"for": AGREES, "against": AGAINST},
}
NO_WORSE = "no worse"  # a non-inferiority claim: the effect stays below reference + margin


@dataclass(frozen=True)
class Rules:
    """The thresholds of the rules: config ``report:``, whole (the schema documents each).

    No field has a default: config.yaml and the schema are the only places a value lives."""

    alpha: float
    power: float
    low_dim_max: float
    high_dim_min: float
    theory_tolerance: float
    exact_tolerance: float
    failure_fraction: float
    converged_train_err: float
    floor_errors: int
    speed_train_err: float
    halves: bool

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> Rules:
        """The rules of config ``report:``, less what decides no verdict (``beside``: published
        runs the report sets beside this one)."""
        return cls(**{key: value for key, value in section.items() if key != "beside"})


@dataclass(frozen=True)
class Claim:
    """One row of claims.yaml."""

    id: str
    family: str
    statement: str
    source: str
    measure: str
    judged_at: str
    predicted: str  # "> 0", "< 0", "no worse", or a check's rule in words
    margin: float | None = None  # the smallest effect of interest (None for checks)
    margin_reason: str = ""
    reference: float = 0.0
    essay: dict[str, str] | None = None  # where in the essay, and its key phrase (Chinese)
    rule: str = "comparison"
    # the range of each arm's measure, [low, high] (None: unbounded on that side): both arms
    # within the margin of the same end make the row "uninformative" (decision.py)
    bounds: tuple | None = None
    floor: str = ""  # the floor or bound rule of the claim in words, for the report
    changes: tuple = ()  # changes of the registered rule, each dated, with its reason
    # what each verdict would mean, stated before the data (the explanation family): "for",
    # "against" and, for a claim that can be negligible, "negligible"
    outcomes: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"claims.yaml: claim {self.id} has unknown family {self.family!r}")
        if self.family != CHECK and (self.margin is None or self.margin < 0):
            raise ValueError(f"claims.yaml: claim {self.id} needs a margin of at least 0")
        if self.bounds is not None and len(self.bounds) != 2:
            raise ValueError(f"claims.yaml: claim {self.id}: bounds must be [low, high]")
        comparison = self.family != CHECK and self.rule == "comparison"
        if comparison and self.predicted not in ("> 0", "< 0", NO_WORSE):
            raise ValueError(f"claims.yaml: claim {self.id}: predicted {self.predicted!r}")
        if self.family in (ESSAY, EXPLANATION) and not (self.essay and self.essay.get("quote")):
            raise ValueError(f"claims.yaml: the essay's claim {self.id} must quote the essay")
        if self.family == EXPLANATION and not (
            self.outcomes and {"for", "against"} <= set(self.outcomes)
        ):
            raise ValueError(
                f"claims.yaml: the intervention {self.id} must state in `outcomes` what a verdict "
                "for it and one against it would mean, before the data"
            )

    @property
    def direction(self) -> int:
        """+1 when the claim predicts an effect above the reference, -1 below, 0 for 'no worse'
        (non-inferiority: below reference + margin)."""
        return {"> 0": 1, "< 0": -1}.get(self.predicted, 0)


def _load() -> tuple[Claim, ...]:
    text = files("resnet_essence.claims").joinpath("claims.yaml").read_text("utf-8")
    return tuple(Claim(**row) for row in yaml.safe_load(text))


CLAIMS: tuple[Claim, ...] = _load()
CLAIM_BY_ID = {claim.id: claim for claim in CLAIMS}
ORDER = [claim.id for claim in CLAIMS]


def claims_definitions(rules: Rules) -> pd.DataFrame:
    """The claims table itself, with every named threshold of ``rules`` replaced by its value."""
    names = {f.name: getattr(rules, f.name) for f in fields(rules)}
    rows = []
    for claim in CLAIMS:
        predicted = claim.predicted
        for name, value in names.items():
            predicted = predicted.replace(name, f"{name} {value:g}")
        if claim.predicted == NO_WORSE:
            predicted = f"< {claim.reference + claim.margin:g} (no worse)"
        elif claim.family != CHECK and claim.rule == "comparison":
            side = claim.predicted[0]
            predicted = f"{side} {claim.reference:g}, beyond {claim.margin:g}"
        row = {**asdict(claim), "predicted": predicted}
        row["essay"] = f"{claim.essay['where']}: 「{claim.essay['quote']}」" if claim.essay else ""
        rows.append(row)
    return pd.DataFrame(rows)
