"""The tables the figures are drawn from, read from a run's results or from a published run.

A published run (docs/example*/) keeps its claims table, its config and the source tables
every verdict is computed from (``published.SOURCES``, and the width sweep where there is one);
the main figure and most supplementary figures need nothing else: the per-group tables a run
aggregates (final errors, curves, network statistics, bottleneck errors) are recomputed from
them here exactly as ``tables.aggregate`` computes them. The per-layer tables and the collapse
examples live in a run's results alone: the figures that need them are drawn where they exist.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from ..claims.catalogue import Rules
from ..claims.grid import Grid
from ..nets.interventions import BASES
from ..papers import paper_table
from ..tables.aggregate import BOTTLENECK_KEYS, curve_table, final_table, network_table
from ..tables.schema import read_table
from .published import read_published
from .side_by_side import read_claims

THIS_RUN = "this run"


def derive(tables: dict, claims: dict[str, pd.DataFrame], rules: Rules) -> dict:
    """Everything a figure reads: the source ``tables`` of the unmodified nets (the intervention
    nets have a figure of their own), the claims tables (title -> table, this run's first), the
    rules, and the tables recomputed from them (``final``, ``curves``, ``networks``,
    ``bottleneck`` where there are bottleneck nets; He et al.'s errors beside CIFAR-10's)."""
    data = {
        name: table[table["arch"].isin(BASES)] if "arch" in table else table
        for name, table in tables.items()
    }
    runs, epochs = data["runs"], data["epochs"]
    if "final" not in data:  # a run's results hold them, aggregated; a published run does not
        data["final"] = final_table(runs)
        data["curves"] = curve_table(epochs, runs)
        data["networks"] = network_table(data["network_runs"])
    bottleneck = data.get("bottleneck_runs")
    if bottleneck is not None and len(bottleneck) and "bottleneck" not in data:
        data["bottleneck"] = final_table(bottleneck, BOTTLENECK_KEYS[:-1])
    if "bottleneck" in data and data["bottleneck"].empty:
        data.pop("bottleneck")
    if (runs["dataset"] == "cifar10").any():
        data["paper"] = paper_table()
    data["claims"] = claims
    data["rules"] = rules
    return data


def trainable_depths(runs: pd.DataFrame, rules: Rules) -> list[int]:
    """The depths at which every unmodified architecture converged in at least half its runs
    (``report.converged_train_err``): where the trained nets can be compared, and where the
    verdicts on the trained nets are judged."""
    grid = Grid.of_runs(runs, rules)
    depths = []
    for depth in grid.depths:
        nets = [(arch, depth) for arch in sorted(set(runs["arch"]) & set(BASES))]
        if nets and all(grid.converged(net).mean() >= 0.5 for net in nets):
            depths.append(int(depth))
    return depths


def compared_depths(data: dict, most: int = 2) -> list[int]:
    """The depths the main figure shows: the deepest ``most`` depths where every architecture
    trains, else the shallowest depth alone (where the plain net comes nearest to training)."""
    depths = trainable_depths(data["runs"], data["rules"])
    return depths[-most:] if depths else [int(data["runs"]["depth"].min())]


def _beside(folder: Path, config: dict) -> dict[str, pd.DataFrame]:
    """The claims tables of the published runs ``config['report']['beside']`` names, their
    folders read from the working directory or, failing that, the repository holding
    ``folder``."""
    found = {}
    for title, path in (config.get("report", {}).get("beside") or {}).items():
        candidates = [Path(path), folder.resolve().parent.parent / path]
        existing = [p / "claims.csv" for p in candidates if (p / "claims.csv").exists()]
        if not existing:
            raise FileNotFoundError(f"report.beside: no claims.csv in {path}")
        found[title] = read_claims(existing[0])
    return found


def published_data(folder: str | Path) -> dict:
    """A published run's figure data, from its folder alone (and the claims tables of the runs
    its config sets beside it)."""
    folder = Path(folder)
    config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    rules = Rules.from_config(config["report"])
    claims = {THIS_RUN: read_claims(folder / "claims.csv"), **_beside(folder, config)}
    return derive(read_published(folder / "tables"), claims, rules)


def run_data(inputs: dict, claims: pd.DataFrame, beside: dict[str, str], rules: Rules) -> dict:
    """A run's figure data from the figure rule's inputs: the source tables by name, the tables
    the aggregate job made of them, the results-only tables (``layers``, ``probes``,
    ``examples``) and the width sweeps; each checked against its contract as it is read."""
    tables = {
        name: read_table(inputs[name], name)
        for name in ("runs", "epochs", "network_runs", "bottleneck_runs", "survival", "blocks")
    }
    for name in ("final", "curves", "networks", "bottleneck", "layers", "probes", "examples"):
        tables[name] = read_table(inputs[name], name)
    sweeps = [read_table(p, "width_sweep") for p in inputs.get("width_sweep", [])]
    if sweeps:
        tables["width_sweep"] = pd.concat(sweeps, ignore_index=True)
    runs = {THIS_RUN: claims, **{title: read_claims(path) for title, path in beside.items()}}
    return derive(tables, runs, rules)
