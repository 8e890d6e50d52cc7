"""The network claims: plain, residual and pre-activation nets of one dataset, seed by seed.

Every comparison between two nets is paired: seed k of one against seed k of the other (the same
initial weights where shapes match, the same batches and augmentation). What each row may use:

- rows at initialisation (epoch 0) use every run: how training later went does not matter;
- rows on the final weights use only seeds where both nets *converged* (final training error at
  most ``report.converged_train_err``), and say how many;
- final errors (4a, 4b, 4c, P) use every run, and a diverged run counts at chance error;
- a run *fails to train* when it diverged or ends at ``report.failure_fraction`` of the chance
  error or above; where any run of a compared pair failed, McNemar's exact test compares the
  failures (4a, 4c).

The runs of a dataset, and what they know (failed, converged, final errors, statistics by
seed), are ``grid.Grid``; here are the rows built from them: ``paired_test`` and the tests of a
statistic, an error rate and failures to train, then the rows of each claim, and
``network_tests``, every row of the network claims.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..nets.interventions import BASES
from ..stats import mcnemar_exact, one_sample, paired
from .catalogue import CLAIM_BY_ID, Rules
from .decision import Test
from .floors import at_range_end, censored_bound, few_errors, unmoved
from .grid import Grid, Net, dead_units, epochs_to, lesion_damage, net_name


def paired_test(
    grid: Grid,
    claim_id: str,
    setting: str,
    a: Net,
    b: Net,
    values_a: pd.Series,
    values_b: pd.Series,
    detail: str = "",
    n_trials: float | None = None,
    seeds: list[int] | None = None,
    why_not: str = "",
    variance_floor: float = 0.0,
    stage: str = "trained",
    error_kind: str = "",
) -> Test:
    """Net a minus net b, seed by seed (only ``seeds``, when given); "uninformative" when
    both arms sit within the margin of the same end of the measure's range, or, for error
    rates (``n_trials``), make a handful of errors (floors.py)."""
    if seeds is not None:
        values_a, values_b = (
            values_a[values_a.index.isin(seeds)],
            values_b[values_b.index.isin(seeds)],
        )
    measure = f"{net_name(a)} minus {net_name(b)}{detail}"
    if why_not:
        return Test(claim_id, setting, measure, reason=why_not, stage=stage)
    estimate, used = paired(values_a, values_b, n_trials, variance_floor=variance_floor)
    total = len(set(grid.rows(a).index) | set(grid.rows(b).index))
    measure += f"; {len(used)} of {total} seed pairs"
    names = (net_name(a), net_name(b))
    va, vb = values_a[values_a.index.isin(used)], values_b[values_b.index.isin(used)]
    floor = at_range_end(CLAIM_BY_ID[claim_id], va, vb, names)
    if n_trials and not floor:
        floor = few_errors(va, vb, n_trials, grid.rules.floor_errors, names, error_kind)
    seeds_used = tuple(int(s) for s in used)
    return Test(claim_id, setting, measure, estimate, seeds=seeds_used, floor=floor, stage=stage)


def statistic_test(
    grid: Grid, claim_id, setting, a, b, statistic, epoch, detail="", transform=None
):
    """Net a minus net b in a network statistic at a snapshot; the final snapshot only on
    seeds where both converged. A dead fraction keeps the variance of counting units."""
    seeds, why_not = (None, "") if epoch == grid.first else grid.end_seeds(a, b)
    if statistic == "response_median" and not grid.batchnorm:
        why_not = "no BatchNorm in these nets: the responses are BatchNorm outputs"
    va, vb = grid.stat(a, statistic, epoch), grid.stat(b, statistic, epoch)
    floor = 0.0
    if statistic == "dead_fraction_branch":
        va, vb, floor = dead_units(grid, a, b, epoch)
    if transform is not None:
        va, vb = transform(va), transform(vb)
    detail = f"{detail}, epoch {epoch}{grid.init_note(epoch)}"
    return paired_test(
        grid,
        claim_id,
        setting,
        a,
        b,
        va,
        vb,
        detail,
        seeds=seeds,
        why_not=why_not,
        variance_floor=floor,
        stage=grid.stage(epoch),
    )


def error_test(grid: Grid, claim_id, setting, a, b, column, end_only=False, note="") -> Test:
    """Net a minus net b in a final error rate (train_err or test_err), seed by seed."""
    n_trials = grid.n_train if column == "train_err" else grid.n_test
    detail = ", test error" if column == "test_err" else ", training error"
    seeds, why_not = (None, "")
    if end_only:
        seeds, why_not = grid.end_seeds(a, b)
    if note and not why_not:
        detail += f" ({note})"
    va, vb = grid.error(a, column), grid.error(b, column)
    kind = "training" if column == "train_err" else "test"
    return paired_test(
        grid, claim_id, setting, a, b, va, vb, detail, n_trials, seeds, why_not, error_kind=kind
    )


def failure_test(grid: Grid, claim_id: str, setting: str, a: Net, b: Net) -> Test | None:
    """McNemar's exact test of failure to train, where any run of either net failed."""
    fa, fb = grid.failed(a), grid.failed(b)
    seeds = sorted(set(fa.index) & set(fb.index))
    fa, fb = fa.loc[seeds].to_numpy(), fb.loc[seeds].to_numpy()
    if not (fa.any() or fb.any()):
        return None
    p, only_a, only_b = mcnemar_exact(fa, fb)
    limit = grid.rules.failure_fraction * grid.chance
    measure = (
        f"runs that fail to train (diverged, or training error >= {limit:.3g}): "
        f"{net_name(a)} {int(fa.sum())} of {len(seeds)}, {net_name(b)} {int(fb.sum())} of "
        f"{len(seeds)}; McNemar's exact test ({only_a} seeds where only {net_name(a)} failed, "
        f"{only_b} where only {net_name(b)})"
    )
    effect = float(fa.mean() - fb.mean())
    return Test(
        claim_id,
        f"{setting}, failures",
        measure,
        exact=(effect, p),
        seeds=tuple(seeds),
        stage="trained",
    )


def _depth_pair_tests(grid: Grid, shallow: int, deep: int) -> list[Test]:
    """The claims that set a deeper net against the shallowest of the same arch."""
    pair = f"depth {deep} vs {shallow}"
    tests: list[Test] = []
    if "plain" in grid.archs:
        a, b = ("plain", deep), ("plain", shallow)
        tests.append(error_test(grid, "4a", pair, a, b, "train_err", note=grid.describe(a)))
        failures = failure_test(grid, "4a", pair, a, b)
        tests += [failures] if failures else []
        tests.append(statistic_test(grid, "S2", pair, a, b, "autocorrelation_lag1", grid.first))
    if "residual" in grid.archs:
        a, b = ("residual", deep), ("residual", shallow)
        tests.append(error_test(grid, "4b", pair, a, b, "train_err", note=grid.describe(a)))
        tests.append(error_test(grid, "4b'", pair, a, b, "test_err", end_only=True))
        tests.append(_responses(grid, "7b", pair, a, b))
    return tests


def _vanishing_tests(grid: Grid, depth: int) -> list[Test]:
    """V (the premise: the plain net's signal vanishes) and 5b, 5c (the residual net's signal is
    flatter, vanishing and explosion alike)."""
    plain, residual = ("plain", depth), ("residual", depth)
    tests = []
    for claim_id, epoch in (("5b", grid.first), ("5c", grid.last)):
        slopes = grid.stat(plain, "signal_norm_slope", epoch)
        setting = f"depth {depth}, epoch {epoch}"
        measure = (
            f"plain-{depth}: slope of the total norm of the backward signal (signal_norm_slope), "
            "decades (> 0: vanishing)"
        )
        why_not = ""
        if epoch != grid.first:
            seeds, why_not = grid.end_seeds(plain)
            slopes = slopes[slopes.index.isin(seeds)]
        stage = grid.stage(epoch)
        if why_not:
            tests.append(Test("V", setting, measure, reason=why_not, stage=stage))
        else:
            estimate = one_sample(slopes.to_numpy())
            measure += f"; {estimate.n} runs"
            seeds = tuple(slopes.index)
            tests.append(Test("V", setting, measure, estimate, seeds=seeds, stage=stage))
        tests.append(
            statistic_test(
                grid,
                claim_id,
                f"depth {depth}",
                residual,
                plain,
                "signal_norm_slope",
                epoch,
                ", |slope of the total norm of the backward signal| (signal_norm_slope)",
                transform=np.abs,
            )
        )
    return tests


def _same_depth_tests(grid: Grid, depth: int) -> list[Test]:
    """The claims that set a residual net against a plain one of the same depth."""
    plain, residual = ("plain", depth), ("residual", depth)
    setting = f"depth {depth}"
    tests = [
        error_test(grid, "4c", setting, residual, plain, "train_err", note=grid.describe(plain))
    ]
    failures = failure_test(grid, "4c", setting, residual, plain)
    tests += [failures] if failures else []
    tests.append(
        statistic_test(grid, "S", setting, residual, plain, "autocorrelation_lag1", grid.first)
    )
    tests += _vanishing_tests(grid, depth)
    where = f"depth {depth}, epoch {grid.first}"
    measure = f"residual-{depth} minus plain-{depth}, epoch {grid.first}"
    tests.append(
        Test("5a", where, measure, reason=_zeros_by_construction(grid), stage="initialisation")
    )
    where = f"depth {depth}, epoch {grid.last}"
    tests.append(
        statistic_test(grid, "5a", where, residual, plain, "inactive_fraction_branch", grid.last)
    )
    tests.append(
        statistic_test(grid, "5a'", where, residual, plain, "dead_fraction_branch", grid.last)
    )
    tests.append(_responses(grid, "7", where, residual, plain))
    tests.append(speed_test(grid, residual, plain))
    return tests


def _zeros_by_construction(grid: Grid) -> str:
    """Why claim 5a cannot be judged at initialisation in the nets of this grid."""
    if grid.batchnorm:
        return (
            "at initialisation a BatchNorm precedes every branch ReLU and centres its input: it "
            "outputs 0 on half of its inputs by construction; judged after training, where the "
            "learned shift sets it"
        )
    return (
        "at initialisation every weight is drawn with mean zero and every bias is zero, so a "
        "branch ReLU outputs 0 on half of its inputs by construction; judged after training"
    )


def _responses(grid: Grid, claim_id: str, setting: str, a: Net, b: Net) -> Test:
    """7, 7b: the median response std on the final weights, a minus b; uninformative when
    neither net's responses moved from initialisation by the margin (a BatchNorm output's std
    is about |gamma|, 1 at initialisation)."""
    test = statistic_test(grid, claim_id, setting, a, b, "response_median", grid.last)
    if test.reason or test.floor or grid.first is None or grid.first == grid.last:
        return test
    seeds = list(test.seeds)
    start, end = [], []
    for net in (a, b):
        for epoch, out in ((grid.first, start), (grid.last, end)):
            values = grid.stat(net, "response_median", epoch)
            out.append(values[values.index.isin(seeds)])
    test.floor = unmoved(
        CLAIM_BY_ID[claim_id], tuple(start), tuple(end), (net_name(a), net_name(b))
    )
    return test


def speed_test(grid: Grid, a: Net, b: Net, claim_id: str = "6", setting: str = "") -> Test:
    """6 (and the speed rows of the interventions): epochs to reach speed_train_err, a minus b;
    a run that never gets there counts at the schedule's length (a lower bound), a seed where
    neither does is left out."""
    threshold = grid.rules.speed_train_err
    ea, eb = epochs_to(grid, a, threshold), epochs_to(grid, b, threshold)
    seeds = sorted(set(ea.index) & set(eb.index))
    ea, eb = ea.loc[seeds], eb.loc[seeds]
    neither = ea.isna() & eb.isna()
    censored = int((ea.isna() ^ eb.isna()).sum())
    detail = f", epochs to {threshold:g} training error{grid.init_note(grid.last)}"
    if censored or neither.any():
        detail += (
            f" ({censored} seed(s) where one net never gets there, counted at the schedule's "
            f"{grid.schedule:g} epochs; {int(neither.sum())} where neither does, left out)"
        )
    keep = ~neither
    event = f"reaches training error {threshold:g} in {grid.schedule:g} epochs"
    bound = censored_bound(ea[keep].isna(), eb[keep].isna(), (net_name(a), net_name(b)), event)
    ea, eb = ea[keep].fillna(grid.schedule), eb[keep].fillna(grid.schedule)
    test = paired_test(grid, claim_id, setting or f"depth {a[1]}", a, b, ea, eb, detail)
    if not test.reason and not test.floor:
        test.bound = bound
    return test


def _mechanism_tests(grid: Grid, depth: int) -> list[Test]:
    """M1, M2 (the branch ReLU's redundancy and loss) and the lesions L1-L3, at one depth."""
    plain = ("plain", depth)
    tests = []
    lesions = grid.last is not None and bool(len(grid.stat(plain, "intact_error", grid.last)))
    for arch in ("residual", "preact"):
        if arch not in grid.archs:
            continue
        net = (arch, depth)
        for claim_id, statistic in (
            ("M1", "pr_per_channel_branch"),
            ("M2", "relu_r2_branch"),
            ("M3", "class_acc_change_branch"),
        ):
            if not len(grid.stat(plain, statistic, grid.first)):
                continue  # tables measured before this probe existed (M3 since 2026-12)
            for epoch in (grid.first, grid.last):
                setting = f"depth {depth}, epoch {epoch}, {arch}"
                tests.append(statistic_test(grid, claim_id, setting, net, plain, statistic, epoch))
        if lesions:
            seeds, why_not = grid.end_seeds(net, plain)
            (damage, floor), (plain_damage, plain_floor) = (
                lesion_damage(grid, net, grid.last),
                lesion_damage(grid, plain, grid.last),
            )
            tests.append(
                paired_test(
                    grid,
                    "L1",
                    f"depth {depth}, {arch}",
                    net,
                    plain,
                    damage,
                    plain_damage,
                    f", damage of deleting one block{grid.init_note(grid.last)}",
                    seeds=seeds,
                    why_not=why_not,
                    variance_floor=floor + plain_floor,
                )
            )
    if not lesions:
        return tests
    for arch, claim_id in (("plain", "L2"), ("residual", "L3"), ("preact", "L3")):
        if arch not in grid.archs:
            continue
        net = (arch, depth)
        seeds, why_not = grid.end_seeds(net)
        note = grid.init_note(grid.last) if arch != "plain" else ""
        measure = f"{net_name(net)}: damage of deleting one block (0: none, 1: chance){note}"
        if why_not:
            where = f"depth {depth}, {arch}"
            tests.append(Test(claim_id, where, measure, reason=why_not, stage="trained"))
            continue
        damage, floor = lesion_damage(grid, net, grid.last)
        damage = damage[damage.index.isin(seeds)]
        estimate = one_sample(damage.to_numpy(), 0.5, floor)
        measure += f"; {estimate.n} runs"
        where, seeds = f"depth {depth}, {arch}", tuple(damage.index)
        tests.append(Test(claim_id, where, measure, estimate, seeds=seeds, stage="trained"))
    return tests


def _linear_unit_tests(grid: Grid) -> list[Test]:
    """T2 per arch and ReLU site, every depth pooled: one Spearman correlation per converged run."""
    tests = []
    prefix = "switch_rho_"
    names = grid.statistic_names()
    sites = sorted({name[len(prefix) :] for name in names if name.startswith(prefix)})
    depths = sorted(set(grid.runs["depth"]))
    for arch in sorted(grid.archs & set(BASES)):  # the unmodified nets: the essay's nets
        for site in sites:
            values = []
            for depth in depths:
                rho = grid.stat((arch, depth), prefix + site, grid.last)
                ok = grid.converged((arch, depth))
                values += list(rho[rho.index.isin(ok.index[ok])].to_numpy())
            measured = any(len(grid.stat((arch, d), prefix + site, grid.last)) for d in depths)
            if not measured:
                continue  # this arch has no ReLUs at this site
            setting = f"{arch}, {site}, all depths"
            note = grid.init_note(grid.last) if arch != "plain" else ""
            measure = f"{arch}, {site} ReLUs: mean Spearman correlation{note}"
            if not values:
                why = f"judged on converged runs only, and no {arch} run converged"
                tests.append(Test("T2", setting, measure, reason=why, stage="trained"))
                continue
            estimate = one_sample(values)
            measure += f" over {estimate.n} runs"
            tests.append(Test("T2", setting, measure, estimate, stage="trained"))
    return tests


def _preact_tests(grid: Grid, depth: int) -> list[Test]:
    preact, residual = ("preact", depth), ("residual", depth)
    setting = f"depth {depth}"
    return [
        error_test(grid, "P", setting, preact, residual, "train_err", note=grid.describe(preact)),
        error_test(grid, "P'", setting, preact, residual, "test_err", end_only=True),
    ]


def grids(runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules: Rules):
    """For each dataset of the runs, its grid and the list its rows go into; on leaving, rows of
    a run with several datasets get the dataset in their setting."""
    many = runs["dataset"].nunique() > 1
    for dataset, group in runs.groupby("dataset", sort=True):
        grid = Grid(
            group,
            epochs[epochs["dataset"] == dataset],
            net_runs[net_runs["dataset"] == dataset],
            rules,
        )
        found: list[Test] = []
        yield grid, found
        if many:
            for test in found:
                test.setting = f"{dataset}, {test.setting}"


def network_tests(
    runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules: Rules
) -> list[Test]:
    """Every row of claims 4-7, S, V, M, L and T2, before any verdict."""
    tests: list[Test] = []
    for grid, found in grids(runs, epochs, net_runs, rules):
        depths = grid.depths
        for deep in depths[1:]:
            found += _depth_pair_tests(grid, depths[0], deep)
        if {"plain", "residual"} <= grid.archs:
            for depth in depths:
                found += _same_depth_tests(grid, depth)
        if "plain" in grid.archs and grid.first is not None:
            for depth in depths:
                found += _mechanism_tests(grid, depth)
            found += _linear_unit_tests(grid)
        if {"preact", "residual"} <= grid.archs:
            for depth in depths:
                found += _preact_tests(grid, depth)
        tests += found
    return tests
