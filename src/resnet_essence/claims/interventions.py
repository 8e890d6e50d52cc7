"""The essay's explanation put to interventions on the nets: the rows of claims Z, I and R.

The essay explains why residual nets train: a ReLU outputs 0 for about half its inputs and
passes no gradient there; the identity path is linear and loses neither information nor
gradient. Each family of rows changes one link of that chain in nets of the same depth and
seeds (the nets: ``resnet_essence.nets.interventions``):

- Z (zeros removed): ``plain-<act>``, every ReLU replaced by a nonlinearity without exact
  zeros, against the plain net (Z1 final training error, Z3 speed, Z4 backward signal) and
  against the residual net (Z2, only where the plain net trains worse than the residual one:
  elsewhere there is no gap to close);
- I (identity turned down): for each seed, the Spearman correlation between alpha and a
  measure over the nets ``alpha * x + F(x)`` of the run (alpha 0 is the plain net for residual
  blocks, the same function of the same weights; alpha 1 the unmodified net), the mean over
  seeds with a one-sample interval (I1 final training error, I2 speed, I3 backward signal);
- R (identity made nonlinear): ``preact-reluid`` against ``preact`` (R1 error, R2 speed, R3
  signal).

Rows compare nets of the same depth, seed by seed, with the rules of the network claims
(``networks``): final errors over every run (a diverged run at chance), end-of-training
statistics on converged seeds only.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..nets.interventions import BASES, ArchOptions, parse_arch
from ..stats import one_sample, paired
from .decision import Test
from .grid import Grid, Net, epochs_to
from .networks import error_test, grids, speed_test, statistic_test

SLOPE = "signal_norm_slope"
SLOPE_DETAIL = ", |slope of the total norm of the backward signal| (signal_norm_slope)"


def intervention(arch: str) -> ArchOptions | None:
    """What an arch name says (``nets.interventions.parse_arch``); None for a name that is
    not one of the 6n+2 family's."""
    try:
        return parse_arch(arch)
    except ValueError:
        return None


def _zeros_tests(grid: Grid, depth: int) -> list[Test]:
    """Z1-Z4: each plain-<act> net against the plain net, and against the residual net where
    the plain net trains worse than it."""
    plain, residual = ("plain", depth), ("residual", depth)
    tests: list[Test] = []
    for arch in sorted(grid.archs):
        parts = intervention(arch)
        if not parts or parts.base != "plain" or parts.activation == "relu":
            continue
        net, act = (arch, depth), arch.removeprefix("plain-")
        if grid.rows(net).empty or grid.rows(plain).empty:
            continue
        setting = f"depth {depth}, {act}"
        tests.append(
            error_test(grid, "Z1", setting, net, plain, "train_err", note=grid.describe(net))
        )
        if not grid.rows(residual).empty:
            tests.append(_closing_test(grid, setting, net, plain, residual))
        tests.append(speed_test(grid, net, plain, "Z3", setting))
        tests += _slope_tests(grid, "Z4", setting, net, plain)
    return tests


def _slope_tests(grid: Grid, claim_id: str, setting: str, a: Net, b: Net) -> list[Test]:
    """|slope| of the backward signal, a minus b, at initialisation and at the end."""
    return [
        statistic_test(
            grid, claim_id, f"{setting}, epoch {epoch}", a, b, SLOPE, epoch, SLOPE_DETAIL,
            transform=np.abs,
        )
        for epoch in (grid.first, grid.last)
        if epoch is not None
    ]  # fmt: skip


def _closing_test(grid: Grid, setting: str, net: Net, plain: Net, residual: Net) -> Test:
    """Z2: the intervention net against the residual net, judged only where the plain net
    trains worse than the residual one (their paired difference's 95% interval above 0); no
    floor rule: there, both nets near 0 error is the gap closed (claims.yaml)."""
    test = error_test(grid, "Z2", setting, net, residual, "train_err", note=grid.describe(net))
    gap, _ = paired(grid.error(plain, "train_err"), grid.error(residual, "train_err"), grid.n_train)
    test.floor = ""  # both nets near 0 error where the plain net has a gap: the gap closed
    if not test.reason and not (gap.n >= 2 and math.isfinite(gap.lo) and gap.lo > 0):
        test.estimate = None
        test.reason = (
            f"no gap to close: plain-{plain[1]} minus residual-{residual[1]} training error "
            f"{gap.effect:.3g} [{gap.lo:.3g}, {gap.hi:.3g}] does not lie above 0"
        )
    return test


def _alphas(grid: Grid, base: str, depth: int) -> dict[float, Net]:
    """The nets of ``base`` at ``depth`` by alpha: base-a<alpha>, the base itself at 1 and, for
    residual blocks, the plain net at 0 (the same function of the same weights)."""
    nets: dict[float, Net] = {}
    for arch in grid.archs:
        parts = intervention(arch)
        if parts and parts.base == base and parts.activation == "relu" and not parts.relu_identity:
            nets[parts.alpha] = (arch, depth)
    if base == "residual" and "plain" in grid.archs:
        nets.setdefault(0.0, ("plain", depth))
    return {a: n for a, n in sorted(nets.items()) if not grid.rows(n).empty}


def _rank_test(
    claim_id: str,
    setting: str,
    what: str,
    nets: dict[float, Net],
    values: dict[float, pd.Series],
    stage: str = "trained",
) -> Test:
    """One Spearman correlation per seed between alpha and the values of its nets, the mean
    over seeds with a one-sample t interval in [-1, 1]; a seed whose nets all give the same
    value (or that lacks one) is left out. A correlation of k values moves in steps of
    12 / (k (k^2 - 1)) (0.1 for five nets): its variance is never taken below that step's
    rounding variance, step^2 / 12, so seeds that all rank the nets alike still decide."""
    names = ", ".join(f"{n[0]}-{n[1]}" for n in nets.values())
    seeds = sorted(set.intersection(*(set(v.dropna().index) for v in values.values())))
    rhos, ties = [], 0
    for seed in seeds:
        column = [float(values[a].loc[seed]) for a in nets]
        if len(set(column)) < 2:
            ties += 1
            continue
        rhos.append(float(sps.spearmanr(list(nets), column).statistic))
    measure = f"Spearman correlation of alpha with the {what} over {names}"
    measure += f"; {len(rhos)} seeds ({ties} with every net equal, left out)"
    k = len(nets)
    step = 12.0 / (k * (k * k - 1))  # the smallest change of a Spearman correlation of k values
    estimate = one_sample(rhos, variance_floor=step**2 / 12, reach=(-1.0, 1.0))
    return Test(claim_id, setting, measure, estimate, seeds=tuple(seeds), stage=stage)


def _identity_tests(grid: Grid, depth: int) -> list[Test]:
    """I1-I3 for each base whose run trained at least three alphas at ``depth``."""
    tests: list[Test] = []
    threshold, schedule = grid.rules.speed_train_err, grid.schedule
    for base in ("residual", "preact"):
        nets = _alphas(grid, base, depth)
        if len(nets) < 3:
            continue
        where = f"depth {depth}, {base} alpha"
        errors = {a: grid.error(n, "train_err") for a, n in nets.items()}
        what = "final training error"
        tests.append(_rank_test("I1", f"{where}, training error", what, nets, errors))
        speed = {a: epochs_to(grid, n, threshold).fillna(schedule) for a, n in nets.items()}
        what = f"epochs to {threshold:g} training error (never: the schedule's {schedule:g})"
        tests.append(_rank_test("I2", f"{where}, speed", what, nets, speed))
        for epoch in (grid.first, grid.last):
            if epoch is None:
                continue
            slopes = {a: grid.stat(n, SLOPE, epoch).abs() for a, n in nets.items()}
            setting = f"{where}, epoch {epoch}"
            what = f"|slope of the total norm of the backward signal|, epoch {epoch}"
            stage = grid.stage(epoch)
            if epoch != grid.first:
                seeds, why = grid.end_seeds(*nets.values())
                if why:
                    tests.append(Test("I3", setting, what, reason=why, stage=stage))
                    continue
                slopes = {a: v[v.index.isin(seeds)] for a, v in slopes.items()}
            tests.append(_rank_test("I3", setting, what, nets, slopes, stage))
    return tests


def _nonlinear_identity_tests(grid: Grid, depth: int) -> list[Test]:
    """R1-R3: preact-reluid against preact."""
    net, preact = ("preact-reluid", depth), ("preact", depth)
    if grid.rows(net).empty or grid.rows(preact).empty:
        return []
    setting = f"depth {depth}"
    tests = [error_test(grid, "R1", setting, net, preact, "train_err", note=grid.describe(net))]
    tests.append(speed_test(grid, net, preact, "R2", setting))
    return tests + _slope_tests(grid, "R3", setting, net, preact)


def intervention_tests(
    runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules
) -> list[Test]:
    """Every row of the explanation family, before any verdict; none where the run trained no
    intervention net."""
    tests: list[Test] = []
    for grid, found in grids(runs, epochs, net_runs, rules):
        if not any(a not in BASES and intervention(a) for a in grid.archs):  # none trained
            continue
        for depth in grid.depths:
            found += _zeros_tests(grid, depth)
            found += _identity_tests(grid, depth)
            found += _nonlinear_identity_tests(grid, depth)
        tests += found
    return tests
