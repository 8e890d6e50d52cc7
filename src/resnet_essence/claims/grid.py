"""One dataset's runs as the network claims read them: per net (arch, depth), values by seed.

``Grid`` is the table of runs by net, depth and seed, and what it knows of them: which runs
failed to train and which converged (the rules of ``report.failure_fraction`` and
``report.converged_train_err``), the final errors (a diverged run at chance), the network
statistics of each snapshot, how the runs of a net ended in words, and which seeds a row on the
final weights may use. The functions after it compute one measure each from a grid: the dead
branch units of two nets with the variance of counting them, the damage of deleting a block,
the epochs a run takes to reach a training error. The rows built from them (``Test``) are
``networks``'s.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from ..stats import binomial_variance
from .catalogue import Rules

Net = tuple[str, int]

# the tables a grid of the runs alone lacks: the rule for a failed run reads neither
_NO_EPOCHS = pd.DataFrame(columns=["epoch"])
_NO_NET_RUNS = pd.DataFrame(columns=["arch", "depth", "seed", "statistic", "epoch", "value"])


def net_name(net: Net) -> str:
    """A net as the rows name it: plain-20."""
    return f"{net[0]}-{net[1]}"


def _per_net(method):
    """A Grid method of one net (and its other arguments) worked out once per grid: the rules
    ask the same of a net for every row it is in, and a grid never changes."""

    @functools.wraps(method)
    def remembered(self, net: Net, *args) -> pd.Series:
        key = (method.__name__, net, *args)
        if key not in self._memo:
            self._memo[key] = method(self, net, *args)
        return self._memo[key]

    return remembered


class Grid:
    """One dataset's runs, indexed for the rules: per net (arch, depth), values by seed."""

    def __init__(self, runs: pd.DataFrame, epochs: pd.DataFrame, net_runs: pd.DataFrame, rules):
        self.rules: Rules = rules
        self.runs = runs
        self.epochs = epochs
        self.archs = set(runs["arch"])
        self.depths = sorted(set(runs["depth"]))
        self.chance = 1.0 - 1.0 / float(runs["num_classes"].iloc[0])  # one dataset, one count
        self.n_train = float(runs["n_train"].iloc[0])
        self.n_test = float(runs["n_test"].iloc[0])
        self.batchnorm = "norm" not in runs or bool((runs["norm"] == "batch").any())
        inits = sorted(set(runs["init"])) if "init" in runs else ["he"]
        self.init = next((i for i in inits if i != "he"), "he")  # of the residual nets
        self.schedule = float(epochs["epoch"].max()) if len(epochs) else math.nan
        measured = sorted(set(net_runs["epoch"])) if len(net_runs) else []
        self.first = measured[0] if measured else None
        self.last = measured[-1] if measured else None
        self._rows = {
            (arch, depth): rows.set_index("seed").sort_index()
            for (arch, depth), rows in runs.groupby(["arch", "depth"], sort=False)
        }
        self._stats = _by_snapshot(net_runs)
        self._memo: dict[tuple, pd.Series] = {}  # what _per_net methods worked out

    @classmethod
    def of_runs(cls, runs: pd.DataFrame, rules: Rules) -> Grid:
        """A grid of the runs alone, without curves or network statistics: enough for which
        runs failed or converged and their final errors (what the report counts)."""
        return cls(runs, _NO_EPOCHS, _NO_NET_RUNS, rules)

    # -- runs ---------------------------------------------------------------------------------
    def nets(self) -> list[Net]:
        """Every net (arch, depth) of the grid, sorted."""
        return sorted(self._rows)

    def rows(self, net: Net) -> pd.DataFrame:
        """The runs of one net, indexed by seed (none when the grid lacks the net)."""
        found = self._rows.get(net)
        return found if found is not None else self.runs.iloc[:0].set_index("seed")

    @_per_net
    def failed(self, net: Net) -> pd.Series:
        """Per seed: the run diverged or ends at failure_fraction of the chance error or above."""
        rows = self.rows(net)
        limit = self.rules.failure_fraction * self.chance
        return (rows["status"] != "completed") | (rows["train_err"] >= limit)

    @_per_net
    def converged(self, net: Net) -> pd.Series:
        """Per seed: the final weights' training error is at most report.converged_train_err,
        measured in eval mode without augmentation (train_err_eval); runs trained before that
        was measured are judged on the last epoch's running error, as they were published."""
        done = self.rows(net)["status"] == "completed"
        return done & (self.clean_error(net) <= self.rules.converged_train_err)

    @_per_net
    def error(self, net: Net, column: str) -> pd.Series:
        """Final error per seed; a diverged run (non-finite weights) counts at chance."""
        rows = self.rows(net)
        return rows[column].where(rows["status"] == "completed", self.chance).astype(float)

    @_per_net
    def clean_error(self, net: Net) -> pd.Series:
        """Final training error per seed in eval mode (train_err_eval) where the run measured
        it, else the last epoch's running error; a diverged run counts at chance."""
        rows = self.rows(net)
        error = self.error(net, "train_err")
        if "train_err_eval" in rows:
            done = rows["status"] == "completed"
            error = rows["train_err_eval"].where(done & rows["train_err_eval"].notna(), error)
        return error.astype(float)

    def describe(self, net: Net) -> str:
        """How the runs of a net ended, in words: converged, trained partly, failed."""
        total = len(self.rows(net))
        fails, converges = self.failed(net), self.converged(net)
        failed, converged = int(fails.sum()), int(converges.sum())
        partly = total - int((fails | converges).sum())  # each run counted once
        if failed == total:
            return f"{net_name(net)}: all {total} runs fail to train"
        if converged == total:
            return f"{net_name(net)}: all {total} runs converged"
        parts = [f"{converged} of {total} converged"]
        if partly:
            parts.append(f"{partly} trained partly")
        if failed:
            parts.append(f"{failed} failed to train")
        return f"{net_name(net)}: " + ", ".join(parts)

    def both_converged(self, *nets: Net) -> list[int]:
        seeds = None
        for net in nets:
            ok = self.converged(net)
            these = set(ok.index[ok])
            seeds = these if seeds is None else seeds & these
        return sorted(seeds or [])

    # -- network statistics by snapshot -----------------------------------------------------
    def stat(self, net: Net, statistic: str, epoch) -> pd.Series:
        found = self._stats.get((net[0], net[1], statistic, epoch))
        return found if found is not None else pd.Series(dtype=float)

    def statistic_names(self) -> set[str]:
        """The network statistics measured on any net of the grid."""
        return {key[2] for key in self._stats}

    def stage(self, epoch) -> str:
        """What a row at ``epoch`` rests on: the nets at initialisation, or trained ones."""
        return "initialisation" if epoch == self.first else "trained"

    def init_note(self, epoch) -> str:
        """Which initialisation a row at ``epoch`` rests on, where the residual nets started
        from another than He's (epoch 0 is then measured on their He-initialised twins)."""
        if self.init == "he":
            return ""
        if epoch == self.first:
            return " (He initialisation)"
        return f" (trained from {self.init})"

    def end_seeds(self, *nets: Net) -> tuple[list[int], str]:
        """(seeds where every net converged, '' or why an end-of-training row cannot be judged)."""
        seeds = self.both_converged(*nets)
        if len(seeds) >= 2:
            return seeds, ""
        states = "; ".join(self.describe(net) for net in nets)
        return seeds, (
            f"judged on converged runs only (final training error <= "
            f"{self.rules.converged_train_err:g}): {len(seeds)} seed(s) have them ({states})"
        )


def _by_snapshot(net_runs: pd.DataFrame) -> dict[tuple, pd.Series]:
    """The network statistics as one Series of values by seed per (arch, depth, statistic,
    epoch), in the order the rows come."""
    if net_runs.empty:
        return {}
    seeds, values = net_runs["seed"].to_numpy(), net_runs["value"].to_numpy(dtype=float)
    keys = ["arch", "depth", "statistic", "epoch"]
    return {
        key: pd.Series(values[at], index=pd.Index(seeds[at], name="seed"), name="value")
        for key, at in net_runs.groupby(keys, sort=False).indices.items()
    }


def branch_units(grid: Grid, net: Net) -> float:
    """The branch ReLU units a dead fraction is counted on, as one binomial sample: the
    fraction is the mean over the 3n blocks of dead/channels, channels w, 2w, 4w by stage,
    whose variance is p(1 - p) times sum(1 / channels) / (3n)^2 = p(1 - p) * 7 / (36 n w)."""
    rows = grid.rows(net)
    if "base_width" not in rows or rows.empty or pd.isna(rows["base_width"].iloc[0]):
        return math.nan
    n = (net[1] - 2) // 6
    return 36.0 * n * float(rows["base_width"].iloc[0]) / 7.0


def dead_units(grid: Grid, a: Net, b: Net, epoch) -> tuple[pd.Series, pd.Series, float]:
    """The dead fractions of two nets by seed, and the variance floor of their difference:
    the counting variance of both (a fraction of 0 on every seed still carries it)."""
    va = grid.stat(a, "dead_fraction_branch", epoch)
    vb = grid.stat(b, "dead_fraction_branch", epoch)
    floor = 0.0
    for values, net in ((va, a), (vb, b)):
        units = branch_units(grid, net)
        if math.isfinite(units):
            floor += binomial_variance(values, units)
    return va, vb, floor


def lesion_damage(grid: Grid, net: Net, epoch) -> tuple[pd.Series, float]:
    """Per seed: the damage of deleting one block, (lesioned - intact) / (chance - intact),
    over the blocks both plain and residual nets can lose; and the smallest variance one
    value can have: the binomial variance of counting the lesioned errors, scaled alike."""
    lesioned = grid.stat(net, "lesion_error_same_shape", epoch)
    intact = grid.stat(net, "intact_error", epoch)
    room = (grid.chance - intact).where(lambda r: r > 0)
    damage = ((lesioned - intact) / room).dropna()
    images = grid.stat(net, "lesion_images", epoch)
    if damage.empty or images.empty:
        return damage, 0.0
    counting = binomial_variance(lesioned.loc[damage.index], float(images.iloc[0]))
    return damage, counting / float((room.loc[damage.index] ** 2).mean())


def epochs_to(grid: Grid, net: Net, threshold: float) -> pd.Series:
    """Per seed: the epoch (fractional, linear between epoch ends, the start counting as
    chance) at which the running training error first reaches ``threshold``; NaN when the
    run never does."""
    arch, depth = net
    out = {}
    rows = grid.epochs[(grid.epochs["arch"] == arch) & (grid.epochs["depth"] == depth)]
    for seed, curve in rows.groupby("seed", sort=True):
        curve = curve.sort_values("epoch")
        epochs = np.concatenate([[0.0], curve["epoch"].to_numpy(dtype=float)])
        errs = np.concatenate([[grid.chance], curve["train_err"].to_numpy(dtype=float)])
        below = np.flatnonzero(errs <= threshold)
        if len(below) == 0:
            out[seed] = math.nan
            continue
        i = below[0]
        if i == 0:
            out[seed] = 0.0
            continue
        frac = (errs[i - 1] - threshold) / (errs[i - 1] - errs[i])
        out[seed] = epochs[i - 1] + frac * (epochs[i] - epochs[i - 1])
    return pd.Series(out, dtype=float)
