"""The design rule's claims: MobileNetV2-style bottlenecks (B1-B3, seed by seed) and the width
sweep at initialisation (W1, W2, initialisation by initialisation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import binomial_variance, one_sample, paired
from .catalogue import CLAIM_BY_ID, Rules
from .decision import Test
from .floors import at_range_end, few_errors


def bottleneck_tests(runs: pd.DataFrame | None, rules: Rules) -> list[Test]:
    """B1-B3 from ``bottleneck_runs.csv``: final test errors, paired by seed (a diverged run
    counts at chance error); both nets at the floor (a handful of test errors) make a row
    uninformative."""
    if runs is None or runs.empty:
        return []
    n_test = float(runs["n_test"].iloc[0])
    chance = 1.0 - 1.0 / float(runs["num_classes"].iloc[0])

    def errs(variant: str, width: int) -> pd.Series:
        rows = runs[(runs["variant"] == variant) & (runs["width"] == width)].set_index("seed")
        return rows["test_err"].where(rows["status"] == "completed", chance).astype(float)

    def versus(claim_id: str, setting: str, a, b, what: str, names) -> Test:
        estimate, used = paired(a, b, n_trials=n_test)
        measure = f"{what}, test error; {len(used)} seed pairs"
        a, b = a[a.index.isin(used)], b[b.index.isin(used)]
        floor = at_range_end(CLAIM_BY_ID[claim_id], a, b, names)
        floor = floor or few_errors(a, b, n_test, rules.floor_errors, names, "test")
        seeds = tuple(int(s) for s in used)
        return Test(claim_id, setting, measure, estimate, seeds=seeds, floor=floor, stage="trained")

    variants, widths = set(runs["variant"]), sorted(set(runs["width"]))
    tests = []
    for width in widths:
        setting = f"bottleneck {width}"
        if {"linear", "relu"} <= variants:
            what = f"linear minus ReLU bottleneck, {width} channels"
            a, b = errs("linear", width), errs("relu", width)
            tests.append(versus("B1", setting, a, b, what, ("linear", "relu")))
        if {"linear", "expansion"} <= variants:
            what = f"shortcut between bottlenecks minus between expansions, {width} channels"
            a, b = errs("linear", width), errs("expansion", width)
            tests.append(versus("B3", setting, a, b, what, ("linear", "expansion")))
    if {"linear", "relu"} <= variants and len(widths) > 1:
        narrow, wide = widths[0], widths[-1]
        parts = [errs("relu", narrow), -errs("linear", narrow), -errs("relu", wide)]
        parts.append(errs("linear", wide))
        per_seed = pd.concat(parts, axis=1, join="inner").dropna()
        floor = sum(binomial_variance(per_seed[c].abs(), n_test) for c in per_seed.columns)
        estimate = one_sample(per_seed.sum(axis=1).to_numpy(), 0.0, floor, (-2.0, 2.0))
        measure = (
            f"(ReLU minus linear) at {narrow} channels minus at {wide}, test error; "
            f"{estimate.n} seeds"
        )
        seeds = tuple(int(s) for s in per_seed.index)
        where = f"bottleneck {narrow} vs {wide}"
        tests.append(Test("B2", where, measure, estimate, seeds=seeds, stage="trained"))
    return tests


def width_tests(sweep: pd.DataFrame | None, rules: Rules) -> list[Test]:
    """W1, W2 from the width sweep: narrowest minus widest, initialisation by initialisation; at
    epoch 0 (the nets as initialised for training: a trained width's own first snapshot) and at
    the end of training (the trained widths, on the inits where the nets of both widths
    converged)."""
    converged_train_err = rules.converged_train_err
    if sweep is None or sweep.empty:
        return []
    sweep = sweep if "epoch" in sweep else sweep.assign(epoch=0)
    tests = []
    for (arch, epoch), rows in sweep.groupby(["arch", "epoch"], sort=True):
        measured = rows[rows["statistic"] != "train_err"]
        if measured.empty:  # a diverged net's last epoch: its error alone, no width measured
            continue
        narrow, wide = measured["width"].min(), measured["width"].max()
        depth = int(rows["depth"].iloc[0])
        setting = f"{arch}-{depth}, " + ("initialisation" if epoch == 0 else f"epoch {epoch}")
        stage = "initialisation" if epoch == 0 else "trained"

        def values(width, statistic, rows=rows) -> pd.Series:
            v = rows[(rows["width"] == width) & (rows["statistic"] == statistic)]
            return v.set_index("init")["value"].astype(float)

        inits, why_not = None, ""
        if epoch != 0:  # trained nets: compare only where both widths converged
            ok = [values(w, "train_err") <= converged_train_err for w in (narrow, wide)]
            both = ok[0] & ok[1].reindex(ok[0].index, fill_value=False)
            inits = list(both.index[both])
            if len(inits) < 2:
                why_not = (
                    f"judged on converged runs only (final training error <= "
                    f"{converged_train_err:g}): {len(inits)} init(s) converged at both width "
                    f"{narrow} ({int(ok[0].sum())} of {len(ok[0])}) and width {wide} "
                    f"({int(ok[1].sum())} of {len(ok[1])})"
                )
        for claim_id, statistic, transform in (
            ("W1", "dead_fraction_branch", lambda v: v),
            ("W2", "signal_norm_slope", lambda v: np.maximum(v, 0.0)),
        ):
            measure = f"width {narrow} minus width {wide}"
            if why_not:
                tests.append(Test(claim_id, setting, measure, reason=why_not, stage=stage))
                continue
            a = transform(values(narrow, statistic))
            b = transform(values(wide, statistic))
            if inits is not None:
                a, b = a[a.index.isin(inits)], b[b.index.isin(inits)]
            if claim_id == "W2" and len(a) and (a == 0).all() and (b == 0).all():
                why = "premise absent: the backward signal vanishes at neither width (slopes <= 0)"
                tests.append(Test(claim_id, setting, measure, reason=why, stage=stage))
                continue
            floor = 0.0
            if statistic == "dead_fraction_branch":  # counted on units, as in claim 5a'
                n = (depth - 2) // 6
                floor = binomial_variance(a, 36 * n * narrow / 7)
                floor += binomial_variance(b, 36 * n * wide / 7)
            estimate, used = paired(a, b, variance_floor=floor)
            measure += f"; {len(used)} initialisations"
            names = (f"width {narrow}", f"width {wide}")
            at_floor = at_range_end(CLAIM_BY_ID[claim_id], a[a.index.isin(used)], b, names)
            seeds = tuple(used)
            tests.append(
                Test(claim_id, setting, measure, estimate, seeds=seeds, floor=at_floor, stage=stage)
            )
    return tests
