"""The essay's claims as data, and the rules that turn measurements into verdicts.

claims.yaml (loaded as :data:`CLAIMS`) is the one table of what is claimed, by whom, how it is
measured, where it is judged, in which direction and against which margin; the computation below,
the report and the tests all read it. The rules were fixed before the data were seen, and each
can come out either way.

Verdicts, one vocabulary (:data:`VERDICTS` explains each):

- network claims: each (claim, depth) is one Welch comparison over seeds (``stats.compare``) with
  a two-sided p-value against its null (0, or a non-inferiority margin). Holm's correction runs
  over every network comparison of the run together. *supported*: adjusted p < alpha and the
  effect on the predicted side; *contradicted*: adjusted p < alpha on the other side;
  *inconclusive*: otherwise, or when the data cannot decide (fewer than two finished runs on a
  side, no spread); *not testable here*: a precondition fails, and the verdict says which
  (nets that do not train, a premise absent, a test set at its ceiling).
- collapse claims compare fractions, with intervals over random matrices, against thresholds.
- theorems (1b, 2, 3) can only fail through a bug: *sanity check passed* / *failed*.

Nothing here reads or writes files.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import partial
from importlib.resources import files

import numpy as np
import pandas as pd
import yaml

from .stats import Comparison, compare, contrast, holm, mean_ci

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
NOT_TESTABLE = "not testable here"
SANITY_PASSED, SANITY_FAILED = "sanity check passed", "sanity check failed"
VERDICTS = {
    SUPPORTED: "the data decide for the claim (after Holm's correction for network claims)",
    CONTRADICTED: "the data decide against the claim",
    INCONCLUSIVE: "the data cannot decide: the interval spans the null, or too few runs",
    NOT_TESTABLE: "a precondition of the test fails here; the reason column says which",
    SANITY_PASSED: "a theorem checked numerically; it can only fail through a bug",
    SANITY_FAILED: "a theorem failed its numerical check: look for a bug",
}


@dataclass(frozen=True)
class Rules:
    """The thresholds of the rules (config ``report:``), fixed before the data are seen."""

    alpha: float = 0.05
    low_dim_max: float = 0.9
    high_dim_min: float = 0.95
    theory_tolerance: float = 0.05
    exact_tolerance: float = 1e-6
    chance_fraction: float = 0.9
    converged_train_err: float = 0.03
    ceiling_test_errors: int = 20
    noninferiority_margin: float = 0.01
    speed_train_err: float = 0.1

    @classmethod
    def from_config(cls, section: dict) -> Rules:
        return cls(**section)


@dataclass(frozen=True)
class Claim:
    """One row of claims.yaml."""

    id: str
    statement: str
    source: str
    measure: str
    judged_at: str  # the depths (or settings) where it is judged
    predicted: str  # the side the claim predicts, e.g. "< 0", "> 0", "< noninferiority_margin"
    kind: str  # "empirical" or "theorem"
    primary: bool  # named in advance as a primary claim


CLAIMS: tuple[Claim, ...] = tuple(
    Claim(**row)
    for row in yaml.safe_load(files("resnet_essence").joinpath("claims.yaml").read_text("utf-8"))
)
CLAIM_BY_ID = {claim.id: claim for claim in CLAIMS}
ORDER = [claim.id for claim in CLAIMS]


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    setting: str
    measure: str
    effect: float
    lo: float
    hi: float
    p: float
    p_holm: float
    verdict: str
    reason: str


def claims_definitions(rules: Rules) -> pd.DataFrame:
    """The claims table itself, with every named threshold replaced by its value."""
    names = {f.name: getattr(rules, f.name) for f in fields(rules)}
    rows = []
    for claim in CLAIMS:
        predicted = claim.predicted
        for name, value in names.items():
            predicted = predicted.replace(name, f"{name} {value:g}")
        rows.append({**asdict(claim), "predicted": predicted})
    return pd.DataFrame(rows)


# -- collapse claims -----------------------------------------------------------------------------
def _fraction_rule(rows: pd.DataFrame, low: pd.DataFrame, high: pd.DataFrame, rules: Rules) -> str:
    """Loses at small n and keeps at large n (both sides must hold), or the opposite of either."""
    if (low["recoverable_hi"] < rules.low_dim_max).all() and (
        high["recoverable_lo"] > rules.high_dim_min
    ).all():
        return SUPPORTED
    if (low["recoverable_lo"] >= rules.high_dim_min).any() or (
        high["recoverable_hi"] < rules.low_dim_max
    ).any():
        return CONTRADICTED
    return INCONCLUSIVE


def _keeps_everywhere(rows: pd.DataFrame, rules: Rules) -> str:
    if (rows["recoverable_lo"] > rules.high_dim_min).all():
        return SUPPORTED
    if (rows["recoverable_hi"] < rules.low_dim_max).any():
        return CONTRADICTED
    return INCONCLUSIVE


def _values_at(rows: pd.DataFrame) -> str:
    return ", ".join(f"n={int(r.embed_dim)}: {r.recoverable:.3f}" for r in rows.itertuples())


def _sanity(claim_id: str, setting: str, measure: str, worst: float, tolerance: float) -> Verdict:
    """A theorem checked numerically: it passes when the worst deviation is within tolerance."""
    verdict = SANITY_PASSED if worst <= tolerance else SANITY_FAILED
    nan = math.nan
    return Verdict(claim_id, setting, measure, worst, nan, nan, nan, nan, verdict, "")


def collapse_verdicts(
    survival: pd.DataFrame, blocks: pd.DataFrame | None, rules: Rules
) -> list[Verdict]:
    """Claims 1-3 from ``survival.csv`` (activations) and ``blocks.csv`` (network maps)."""
    out = []
    nan = math.nan
    relu = survival[(survival["activation"] == "relu") & (survival["bias_std"] == 0)]
    for manifold, rows in relu.groupby("manifold", sort=True):
        rows = rows.sort_values("embed_dim")
        m = int(rows["input_dim"].iloc[0])
        low = rows[rows["embed_dim"].isin([m, m + 1])]
        high = rows[rows["embed_dim"].isin([15, 30])]
        if high.empty:
            high = rows.tail(1)
        out.append(
            Verdict(
                "1",
                manifold,
                f"recoverable {_values_at(low)}; {_values_at(high)}",
                float(high["recoverable"].mean() - low["recoverable"].mean()),
                float(high["recoverable_lo"].min() - low["recoverable_hi"].max()),
                float(high["recoverable_hi"].max() - low["recoverable_lo"].min()),
                nan,
                nan,
                _fraction_rule(rows, low, high, rules),
                "",
            )
        )
        worst = float((rows["recoverable"] - rows["theory"]).abs().max())
        measure = f"largest gap to the law over n = {m}..{int(rows['embed_dim'].max())}"
        out.append(_sanity("1b", manifold, measure, worst, rules.theory_tolerance))
    for claim_id, activation in (("2", "linear"), ("3", "residual")):
        rows = survival[survival["activation"] == activation]
        if rows.empty:
            continue
        lost = float(1.0 - rows["recoverable"].min())
        measure = f"largest reconstruction error {rows['recon_error'].max():.1e}"
        out.append(_sanity(claim_id, "all manifolds", measure, lost, rules.exact_tolerance))
    if blocks is not None and len(blocks):
        for claim_id, block in (("3a", "preact_block"), ("3b", "original_block")):
            for manifold, rows in blocks[blocks["block"] == block].groupby("manifold", sort=True):
                rows = rows.sort_values("embed_dim")
                worst = rows.loc[rows["recoverable"].idxmin()]
                out.append(
                    Verdict(
                        claim_id,
                        manifold,
                        f"lowest recoverable fraction {worst['recoverable']:.3f} at "
                        f"n={int(worst['embed_dim'])} (n = {int(rows['embed_dim'].min())}.."
                        f"{int(rows['embed_dim'].max())})",
                        float(worst["recoverable"]),
                        float(worst["recoverable_lo"]),
                        float(worst["recoverable_hi"]),
                        nan,
                        nan,
                        _keeps_everywhere(rows, rules),
                        "",
                    )
                )
    return out


# -- network claims ------------------------------------------------------------------------------
@dataclass
class _Test:
    claim_id: str
    setting: str
    measure: str
    comparison: Comparison | None = None
    reason: str = ""  # non-empty: not testable here, and why


class _Grid:
    """One dataset's runs, with the run-level labels the rules need."""

    def __init__(self, runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules):
        self.rules = rules
        self.runs = runs
        self.epochs = epochs
        self.net = net_runs
        self.done = runs[runs["status"] == "completed"]
        self.archs = set(runs["arch"])
        self.chance = 1.0 - 1.0 / float(runs["num_classes"].iloc[0])  # one dataset, one count
        epochs_measured = sorted(set(net_runs["epoch"])) if len(net_runs) else []
        self.first = epochs_measured[0] if epochs_measured else None
        self.last = epochs_measured[-1] if epochs_measured else None

    def group(self, arch: str, depth: int) -> pd.DataFrame:
        return self.done[(self.done["arch"] == arch) & (self.done["depth"] == depth)]

    def values(self, arch: str, depth: int, column: str) -> np.ndarray:
        return self.group(arch, depth)[column].to_numpy(dtype=float)

    def n_images(self, column: str) -> float:
        return float(self.runs[column].iloc[0])

    def at_chance(self, arch: str, depth: int) -> int:
        """How many finished runs end at chance (training error near 1 - 1/classes)."""
        rows = self.group(arch, depth)
        return int((rows["train_err"] >= self.rules.chance_fraction * self.chance).sum())

    def total(self, arch: str, depth: int) -> int:
        """How many runs of the net there are, finished or not."""
        return len(self.runs[(self.runs["arch"] == arch) & (self.runs["depth"] == depth)])

    def state(self, arch: str, depth: int) -> str:
        rows = self.group(arch, depth)
        total = self.total(arch, depth)
        unfinished = f", {total - len(rows)} of {total} did not finish" if len(rows) < total else ""
        if not len(rows):
            return f"{arch}-{depth}: no run finished (all {total} diverged or unfinished)"
        failed = self.at_chance(arch, depth)
        if failed:
            return (
                f"{arch}-{depth} fails to train ({failed}/{len(rows)} runs at chance{unfinished})"
            )
        if unfinished:
            return f"{arch}-{depth} trains (no finished run at chance{unfinished})"
        return f"{arch}-{depth} trains (no run at chance)"

    def trains(self, *groups: tuple[str, int]) -> str:
        """'' when every run of every group finished and none is at chance, else why not."""
        for arch, depth in groups:
            total = self.total(arch, depth)
            finished = len(self.group(arch, depth))
            if finished < total:
                return f"{arch}-{depth}: {total - finished} of {total} runs did not finish"
            if self.at_chance(arch, depth):
                return self.state(arch, depth)
        return ""

    def stat(self, arch: str, depth: int, statistic: str, epoch) -> np.ndarray:
        net = self.net
        rows = net[
            (net["arch"] == arch)
            & (net["depth"] == depth)
            & (net["statistic"] == statistic)
            & (net["epoch"] == epoch)
        ]
        return rows["value"].to_numpy(dtype=float)

    def _versus(self, claim_id, setting, a, b, sample, detail, null=0.0, n_trials=None, why_not=""):
        """Net a minus net b in ``sample(arch, depth)`` (skipped when ``why_not`` says why)."""
        measure = f"{a[0]}-{a[1]} minus {b[0]}-{b[1]}{detail}"
        comparison = None if why_not else compare(sample(*a), sample(*b), null, n_trials)
        return _Test(claim_id, setting, measure, comparison, why_not)

    def errors(
        self,
        claim_id: str,
        setting: str,
        a: tuple[str, int],
        b: tuple[str, int],
        column: str,
        null: float = 0.0,
        note: str = "",
        why_not: str = "",
    ) -> _Test:
        """Net a minus net b in a final error rate (train_err, test_err), against ``null``."""
        detail = (", test error" if column == "test_err" else "") + (
            f" (margin {null:g})" if null else ""
        )
        detail += f"; {note}" if note else ""
        n_images = self.n_images("n_train" if column == "train_err" else "n_test")
        sample = partial(self.values, column=column)
        return self._versus(claim_id, setting, a, b, sample, detail, null, n_images, why_not)

    def statistics(
        self,
        claim_id: str,
        setting: str,
        a: tuple[str, int],
        b: tuple[str, int],
        statistic: str,
        epoch,
        why_not: str = "",
        n_trials: float | None = None,
        what: str = "",
    ) -> _Test:
        """Net a minus net b in a network statistic at one snapshot epoch."""
        sample = partial(self.stat, statistic=statistic, epoch=epoch)
        detail = f"{what}, epoch {epoch}"
        return self._versus(claim_id, setting, a, b, sample, detail, 0.0, n_trials, why_not)

    def steps_to(self, arch: str, depth: int, threshold: float) -> np.ndarray:
        """Per run: the optimisation step at which the running training error first reaches
        ``threshold``, interpolated linearly between epoch ends (the start counts as chance);
        NaN for a run that never gets there."""
        out = []
        for _, curve in self.epochs[
            (self.epochs["arch"] == arch) & (self.epochs["depth"] == depth)
        ].groupby("seed", sort=True):
            curve = curve.sort_values("epoch")
            steps = np.concatenate([[0.0], curve["step"].to_numpy(dtype=float)])
            errs = np.concatenate([[self.chance], curve["train_err"].to_numpy(dtype=float)])
            below = np.flatnonzero(errs <= threshold)
            if len(below) == 0 or below[0] == 0:
                out.append(math.nan if len(below) == 0 else 0.0)
                continue
            i = below[0]
            frac = (errs[i - 1] - threshold) / (errs[i - 1] - errs[i])
            out.append(steps[i - 1] + frac * (steps[i] - steps[i - 1]))
        return np.asarray(out)


def _pair_tests(grid: _Grid, depths: list[int]) -> list[_Test]:
    """The claims that set a deeper net against the shallowest of the same arch."""
    r = grid.rules
    tests: list[_Test] = []
    shallow = depths[0]
    for deep in depths[1:]:
        pair = f"depth {deep} vs {shallow}"
        if "plain" in grid.archs:
            tests.append(
                grid.errors(
                    "4a",
                    pair,
                    ("plain", deep),
                    ("plain", shallow),
                    "train_err",
                    note=grid.state("plain", deep),
                )
            )
            tests.append(
                grid.statistics(
                    "S2",
                    pair,
                    ("plain", deep),
                    ("plain", shallow),
                    "autocorrelation_lag1",
                    grid.first,
                )
            )
        if "residual" not in grid.archs:
            continue
        tests.append(
            grid.errors(
                "4b",
                pair,
                ("residual", deep),
                ("residual", shallow),
                "train_err",
                r.noninferiority_margin,
                grid.state("residual", deep),
            )
        )
        reason = _unconverged_or_at_ceiling(grid, [("residual", shallow), ("residual", deep)])
        tests.append(
            grid.errors(
                "4b'",
                pair,
                ("residual", deep),
                ("residual", shallow),
                "test_err",
                why_not=reason,
            )
        )
        tests.append(
            grid.statistics(
                "7b",
                pair,
                ("residual", deep),
                ("residual", shallow),
                "response_median",
                grid.last,
            )
        )
    return tests


def _vanishing_tests(grid: _Grid, depth: int) -> list[_Test]:
    tests = []
    for claim_id, epoch, when in (("5b", grid.first, "initialisation"), ("5c", grid.last, "end")):
        plain = grid.stat("plain", depth, "signal_slope", epoch)
        residual = grid.stat("residual", depth, "signal_slope", epoch)
        mean, lo, hi, _ = mean_ci(plain)
        setting = f"depth {depth}"
        measure = (
            f"epoch {epoch}: signal slope plain {mean:.3g} [{lo:.3g}, {hi:.3g}], residual "
            f"{np.mean(residual) if len(residual) else math.nan:.3g} decades (> 0: vanishing)"
        )
        reason = ""
        undefined = [
            f"{arch}-{depth}: {int(np.isfinite(v).sum())} of {grid.total(arch, depth)} runs"
            for arch, v in (("plain", plain), ("residual", residual))
            if np.isfinite(v).sum() < 2
        ]
        if undefined:  # diverged before this snapshot, or a backward signal of zero somewhere
            reason = f"the signal slope is defined at epoch {epoch} for {'; '.join(undefined)}"
        elif not (lo > 0):
            kind = "grows toward the input (explosion)" if hi < 0 else "shows no clear vanishing"
            reason = f"premise absent: the plain net's backward signal {kind} at the {when}"
        comparison = None
        if not reason:
            comparison = compare(np.maximum(residual, 0.0), np.maximum(plain, 0.0))
        tests.append(_Test(claim_id, setting, measure, comparison, reason))
    return tests


def _depth_tests(grid: _Grid, depth: int) -> list[_Test]:
    """The claims that set a residual net against a plain one of the same depth."""
    r = grid.rules
    nets = (("residual", depth), ("plain", depth))
    tests = [
        grid.errors("4c", f"depth {depth}", *nets, "train_err", note=grid.state("plain", depth)),
        grid.statistics("S", f"depth {depth}", *nets, "autocorrelation_lag1", grid.first),
    ]
    tests += _vanishing_tests(grid, depth)
    why_not = grid.trains(*nets)
    for claim_id, statistic, epochs in (
        ("5a", "inactive_fraction_branch", (grid.first, grid.last)),
        ("5a'", "dead_fraction_branch", (grid.last,)),
        ("7", "response_median", (grid.last,)),
    ):
        for epoch in epochs:
            setting = f"depth {depth}, epoch {epoch}"
            tests.append(grid.statistics(claim_id, setting, *nets, statistic, epoch, why_not))
    steps = {arch: grid.steps_to(arch, depth, r.speed_train_err) for arch in ("residual", "plain")}
    missing = [
        f"{arch}-{depth}: {int(np.isnan(v).sum())} of {len(v)} runs never reach "
        f"{r.speed_train_err:g} training error"
        for arch, v in steps.items()
        if len(v) == 0 or np.isnan(v).any()
    ]
    tests.append(
        _Test(
            "6",
            f"depth {depth}",
            f"residual-{depth} minus plain-{depth}, steps to {r.speed_train_err:g} training error",
            None if missing else compare(steps["residual"], steps["plain"]),
            "; ".join(missing),
        )
    )
    return tests


def _unconverged_or_at_ceiling(grid: _Grid, groups: list[tuple[str, int]]) -> str:
    """Why a test-error comparison cannot show a small gain here ('' when it can).

    Every run of every group must have converged (final training error at most
    ``converged_train_err``), and the reference group ``groups[0]`` must make at least
    ``ceiling_test_errors`` test errors on average.
    """
    r = grid.rules
    for arch, depth in groups:
        errs = grid.values(arch, depth, "train_err")
        if len(errs) == 0 or (errs > r.converged_train_err).any():
            return (
                f"not every {arch}-{depth} run converged (final training error "
                f"<= {r.converged_train_err:g}): {np.round(errs, 4).tolist()}"
            )
    arch, depth = groups[0]
    n_test = grid.n_images("n_test")
    errors = grid.values(arch, depth, "test_err").mean() * n_test
    if errors < r.ceiling_test_errors:
        return (
            f"{arch}-{depth} is at the ceiling: {errors:.1f} test errors of {n_test:.0f} "
            f"on average (< {r.ceiling_test_errors}), too few to show a difference"
        )
    return ""


def _preact_tests(grid: _Grid, depth: int) -> list[_Test]:
    r = grid.rules
    nets = (("preact", depth), ("residual", depth))
    reason = _unconverged_or_at_ceiling(grid, [("residual", depth), ("preact", depth)])
    setting = f"depth {depth}"
    return [
        grid.errors(
            "P", setting, *nets, "train_err", r.noninferiority_margin, grid.state("preact", depth)
        ),
        grid.errors("P'", setting, *nets, "test_err", r.noninferiority_margin, why_not=reason),
    ]


def bottleneck_tests(runs: pd.DataFrame, rules: Rules) -> list[_Test]:
    """Claims B1-B3 from ``bottleneck_runs.csv`` (test error of the MobileNetV2-style nets)."""
    if runs is None or runs.empty:
        return []
    done = runs[runs["status"] == "completed"]
    n_test = float(runs["n_test"].iloc[0])

    def errs(variant: str, width: int) -> np.ndarray:
        rows = done[(done["variant"] == variant) & (done["width"] == width)]
        return rows["test_err"].to_numpy(dtype=float)

    variants, widths = set(runs["variant"]), sorted(set(runs["width"]))
    tests = []
    for width in widths:
        if {"linear", "relu"} <= variants:
            tests.append(
                _Test(
                    "B1",
                    f"bottleneck {width}",
                    f"linear minus ReLU bottleneck, {width} channels",
                    compare(errs("linear", width), errs("relu", width), 0.0, n_test),
                )
            )
        if {"linear", "expansion"} <= variants:
            tests.append(
                _Test(
                    "B3",
                    f"bottleneck {width}",
                    f"shortcut between bottlenecks minus between expansions, {width} channels "
                    f"(margin {rules.noninferiority_margin:g})",
                    compare(
                        errs("linear", width),
                        errs("expansion", width),
                        rules.noninferiority_margin,
                        n_test,
                    ),
                )
            )
    if {"linear", "relu"} <= variants and len(widths) > 1:
        narrow, wide = widths[0], widths[-1]
        samples = [errs("relu", narrow), errs("linear", narrow), errs("relu", wide)]
        samples.append(errs("linear", wide))
        tests.append(
            _Test(
                "B2",
                f"bottleneck {narrow} vs {wide}",
                f"(ReLU minus linear) at {narrow} channels minus at {wide}",
                contrast(samples, [1.0, -1.0, -1.0, 1.0], 0.0, n_test),
            )
        )
    return tests


def _mechanism_tests(grid: _Grid, depth: int) -> list[_Test]:
    """M1, M2 (redundancy at the branch ReLU), L1-L3 (lesions) at one depth."""
    r = grid.rules
    tests = []
    threshold = r.chance_fraction * grid.chance
    for arch in ("residual", "preact"):
        if arch not in grid.archs:
            continue
        nets = ((arch, depth), ("plain", depth))
        why_not = grid.trains(*nets)
        for claim_id, statistic in (("M1", "pr_per_channel_branch"), ("M2", "relu_r2_branch")):
            for epoch in (grid.first, grid.last):
                setting = f"depth {depth}, epoch {epoch}, {arch}"
                tests.append(grid.statistics(claim_id, setting, *nets, statistic, epoch, why_not))
        tests.append(
            grid.statistics(
                "L1",
                f"depth {depth}, {arch}",
                *nets,
                "lesion_error_mean",
                grid.last,
                why_not,
                grid.n_images("n_test"),
                ", test error with one block deleted",
            )
        )
    for arch, claim_id in (("plain", "L2"), ("residual", "L3"), ("preact", "L3")):
        if arch not in grid.archs:
            continue
        why_not = grid.trains((arch, depth))
        errors = grid.stat(arch, depth, "lesion_error_mean", grid.last)
        tests.append(
            _Test(
                claim_id,
                f"depth {depth}, {arch}",
                f"{arch}-{depth}: mean {np.mean(errors) if len(errors) else math.nan:.3f} against "
                f"{threshold:.3f} ({r.chance_fraction:g} of chance error)",
                None if why_not else contrast([errors], [1.0], threshold, grid.n_images("n_test")),
                why_not,
            )
        )
    return tests


def _linear_unit_tests(grid: _Grid) -> list[_Test]:
    """T2 per arch, all depths pooled (one Spearman correlation per run)."""
    tests = []
    for arch in sorted(grid.archs):
        rho = np.concatenate(
            [grid.stat(arch, d, "switch_rho", grid.last) for d in sorted(set(grid.runs["depth"]))]
        )
        tests.append(
            _Test(
                "T2",
                f"{arch}, all depths",
                f"{arch}: mean Spearman correlation over {len(rho)} runs",
                contrast([rho], [1.0], 0.0),
            )
        )
    return tests


def width_tests(sweep: pd.DataFrame | None) -> list[_Test]:
    """W1, W2 from the width sweep at initialisation (one row per width, init and statistic)."""
    if sweep is None or sweep.empty:
        return []
    tests = []
    for arch, rows in sweep.groupby("arch", sort=True):
        narrow, wide = rows["width"].min(), rows["width"].max()

        def values(width, statistic, rows=rows):
            v = rows[(rows["width"] == width) & (rows["statistic"] == statistic)]["value"]
            return v.to_numpy(dtype=float)

        for claim_id, statistic, transform in (
            ("W1", "dead_fraction_branch", lambda v: v),
            ("W2", "signal_slope", lambda v: np.maximum(v, 0.0)),
        ):
            tests.append(
                _Test(
                    claim_id,
                    f"{arch}-{int(rows['depth'].iloc[0])}",
                    f"width {narrow} minus width {wide}",
                    compare(
                        transform(values(narrow, statistic)), transform(values(wide, statistic))
                    ),
                )
            )
    return tests


def linear_unit_checks(net_runs: pd.DataFrame, rules: Rules) -> list[Verdict]:
    """T1, a theorem checked on every trained net: always-active units made linear leave the
    output on the probe images unchanged (to float tolerance)."""
    rows = net_runs[net_runs["statistic"] == "always_active_logit_change"]
    if rows.empty:
        return []
    measure = f"largest relative logit change over {len(rows)} trained nets"
    worst = float(rows["value"].max())
    return [_sanity("T1", "every trained net", measure, worst, rules.exact_tolerance)]


def network_tests(
    runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules: Rules
) -> list[_Test]:
    """Every (claim, depth) comparison of claims 4-7 and S, before any verdict."""
    tests: list[_Test] = []
    for dataset, group in runs.groupby("dataset", sort=True):
        found: list[_Test] = []
        grid = _Grid(
            group,
            epochs[epochs["dataset"] == dataset],
            net_runs[net_runs["dataset"] == dataset],
            rules,
        )
        archs = {"plain", "residual"} & grid.archs
        depths = (
            sorted(set.intersection(*(set(group.loc[group["arch"] == a, "depth"]) for a in archs)))
            if archs
            else []
        )
        depths = depths or sorted(set(group["depth"]))
        if len(depths) > 1:
            found += _pair_tests(grid, depths)
        if {"plain", "residual"} <= grid.archs:
            for depth in depths:
                found += _depth_tests(grid, depth)
        if "plain" in grid.archs and "lesion_error_mean" in set(grid.net["statistic"]):
            for depth in depths:
                found += _mechanism_tests(grid, depth)
            found += _linear_unit_tests(grid)
        if {"preact", "residual"} <= grid.archs:
            for depth in depths:
                found += _preact_tests(grid, depth)
        if runs["dataset"].nunique() > 1:
            for test in found:
                test.setting = f"{dataset}, {test.setting}"
        tests += found
    return tests


def decide(tests: list[_Test], rules: Rules) -> list[Verdict]:
    """Holm over the family of decidable comparisons, then one verdict per test."""
    p = [t.comparison.p if t.comparison is not None else math.nan for t in tests]
    adjusted = holm(p)
    out = []
    nan = math.nan
    for test, p_raw, p_adj in zip(tests, p, adjusted, strict=True):
        c = test.comparison
        direction = -1 if CLAIM_BY_ID[test.claim_id].predicted.startswith("<") else 1
        if test.reason:
            verdict, reason = NOT_TESTABLE, test.reason
        elif c is None or not c.decidable:
            verdict = INCONCLUSIVE
            reason = (
                "fewer than two measured runs on a side (runs unfinished, or the measure "
                "undefined for them)"
                if c is None or min(c.n_a, c.n_b) < 2
                else "no spread over seeds: nothing to decide from"
            )
        elif p_adj < rules.alpha:
            verdict = SUPPORTED if direction * (c.effect - c.null) > 0 else CONTRADICTED
            reason = ""
        else:
            verdict, reason = INCONCLUSIVE, ""
        out.append(
            Verdict(
                test.claim_id,
                test.setting,
                test.measure,
                c.effect if c is not None else nan,
                c.lo if c is not None else nan,
                c.hi if c is not None else nan,
                p_raw,
                p_adj,
                verdict,
                reason,
            )
        )
    return out


def evaluate(tables: dict[str, pd.DataFrame], rules: Rules) -> pd.DataFrame:
    """Every verdict of the run, as the claims table (claims.csv).

    ``tables``: ``survival`` and ``blocks`` (collapse), ``runs``, ``epochs`` and
    ``network_runs`` (the 6n+2 nets), optionally ``bottleneck_runs`` and ``width_sweep``. One
    Holm family holds every network comparison.
    """
    verdicts = collapse_verdicts(tables["survival"], tables.get("blocks"), rules)
    verdicts += linear_unit_checks(tables["network_runs"], rules)
    tests = network_tests(tables["runs"], tables["epochs"], tables["network_runs"], rules)
    tests += bottleneck_tests(tables.get("bottleneck_runs"), rules)
    tests += width_tests(tables.get("width_sweep"))
    verdicts += decide(tests, rules)
    return claims_table(verdicts)


def claims_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """The verdicts as a table in the order of :data:`CLAIMS` (stable within a claim)."""
    columns = ["claim_id", "claim", *[f.name for f in fields(Verdict)][1:], "primary"]
    rows = [
        {
            **asdict(v),
            "claim": CLAIM_BY_ID[v.claim_id].statement,
            "primary": CLAIM_BY_ID[v.claim_id].primary,
        }
        for v in sorted(verdicts, key=lambda v: ORDER.index(v.claim_id))
    ]
    return pd.DataFrame(rows, columns=columns)
