"""The forest plot of the claims: each row's effect divided by its margin, with its interval.

A row's effect is measured from the claim's reference and turned so that the side the claim
predicts is positive: ``(effect - reference) * direction / margin``. The band from -1 to 1 is
*negligible* (the effect is smaller than the smallest effect of interest); a verdict for the
claim needs the interval beyond +1, one against it beyond -1. A non-inferiority claim ("no
worse": the effect stays below reference + margin) is turned the same way, lower = predicted,
and decided at -1 (its label says so). Rows are grouped by what they rest on (random maps, the
nets at initialisation, the trained nets), and each run given (``report.beside``) is a column of
its own, its rows matched by claim and setting. Rows with no estimate ("not testable here") and
rows whose margin is 0 (the effect cannot be put in units of it) are not drawn; the panel says
how many.
"""

from __future__ import annotations

import re

import matplotlib.ticker
import numpy as np
import pandas as pd

from ..claims import CLAIM_BY_ID, ORDER
from ..claims.catalogue import NO_WORSE

# what a row rests on, in reading order, with the section's heading
STAGES = {
    "random maps": "random maps (no training)",
    "initialisation": "nets at initialisation",
    "trained": "trained nets",
}
# a verdict's marker: shape, face colour, edge colour (shapes tell them apart without colour;
# the colours are Okabe-Ito's, none of them an architecture's)
VERDICT_MARKERS = {
    "supported": ("o", "black", "black"),
    "agrees with the paper": ("o", "black", "black"),
    "contradicted": ("X", "#CC79A7", "black"),
    "against the paper": ("X", "#CC79A7", "black"),
    "negligible": ("D", "#E69F00", "black"),
    "inconclusive": ("o", "white", "black"),
    "uninformative": ("s", "white", "0.55"),
    "bound": (">", "0.6", "0.4"),
}
# the x axis: linear inside twice the margin, logarithmic beyond (effects reach 30 margins)
LINTHRESH = 2.0
TICKS = (-100, -30, -10, -3, -1, 0, 1, 3, 10, 30, 100)


def _depth(setting: str) -> int:
    found = re.search(r"depth (\d+)", setting)
    return int(found.group(1)) if found else -1


def _label(claim_id: str, setting: str) -> str:
    """The row's name: the claim and its setting, less the epoch (the section says it)."""
    setting = _strip(setting)
    suffix = " (no worse)" if CLAIM_BY_ID[claim_id].predicted == NO_WORSE else ""
    return f"{claim_id}{suffix}  {setting}".strip()


def scaled(claims: pd.DataFrame) -> pd.DataFrame:
    """The drawable rows of one claims table with ``x``, ``x_lo`` and ``x_hi``: the effect and
    its 95% interval from the reference, in margins, the predicted side positive."""
    rows = claims[
        claims["effect"].notna()
        & claims["lo"].notna()
        & claims["hi"].notna()
        & (claims["margin"].fillna(0) > 0)
    ].copy()
    reference = rows["claim_id"].map(lambda c: CLAIM_BY_ID[c].reference)
    sign = rows["claim_id"].map(lambda c: CLAIM_BY_ID[c].direction or -1).astype(float)
    for column, end in (("x", "effect"), ("x_a", "lo"), ("x_b", "hi")):
        rows[column] = (rows[end] - reference) * sign / rows["margin"]
    rows["x_lo"] = rows[["x_a", "x_b"]].min(axis=1)
    rows["x_hi"] = rows[["x_a", "x_b"]].max(axis=1)
    return rows.drop(columns=["x_a", "x_b"])


def forest_rows(runs: dict[str, pd.DataFrame], families) -> pd.DataFrame:
    """The rows of the forest plot of ``families`` for the runs (title -> claims table): one
    row per claim and setting drawable in any run, in the claims' order (then by depth), with
    its stage, label and, per run, ``x``, ``x_lo``, ``x_hi`` and ``verdict`` (column ``run``)."""
    parts = []
    for title, claims in runs.items():
        rows = scaled(claims[claims["family"].isin(families)])
        parts.append(rows.assign(run=title))
    if not parts or not sum(len(p) for p in parts):
        return pd.DataFrame(columns=["claim_id", "setting", "stage", "label", "run"])
    rows = pd.concat(parts, ignore_index=True)
    rows["order"] = rows["claim_id"].map(ORDER.index)
    rows["depth"] = rows["setting"].map(_depth)
    rows["label"] = [_label(c, s) for c, s in zip(rows["claim_id"], rows["setting"], strict=True)]
    rows["stage"] = pd.Categorical(rows["stage"], categories=list(STAGES), ordered=True)
    return rows.sort_values(["stage", "order", "depth", "label"], kind="stable").reset_index(
        drop=True
    )


def skipped(runs: dict[str, pd.DataFrame], families) -> dict[str, int]:
    """Per run, the rows of ``families`` the forest plot cannot draw (no estimate, or margin 0)."""
    return {
        title: int(len(c[c["family"].isin(families)])) - len(scaled(c[c["family"].isin(families)]))
        for title, c in runs.items()
    }


def _row_positions(rows: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Each row's place in its section, by claim and setting (the epoch left out)."""
    keys = list(dict.fromkeys(zip(rows["claim_id"], rows["setting"].map(_strip), strict=True)))
    return {key: i for i, key in enumerate(keys)}


def _strip(setting: str) -> str:
    """A setting less what the stage says: its epoch, or 'initialisation'."""
    setting = re.sub(r",? ?(epoch \d+|initialisation|trained)\b", "", setting)
    return setting.strip(", ")


def stage_sizes(rows: pd.DataFrame) -> dict[str, int]:
    """How many rows each stage has (the sections' heights), in reading order."""
    sizes = {}
    for stage in STAGES:
        part = rows[rows["stage"] == stage]
        if len(part):
            sizes[stage] = len(_row_positions(part))
    return sizes


def draw_stage(ax, rows: pd.DataFrame, stage: str, run: str, labels: bool) -> None:
    """One section (``stage``) of one run's column: the negligible band, every row's interval
    and its verdict's marker; the row labels on the first column only."""
    part = rows[rows["stage"] == stage]
    positions = _row_positions(part)
    ax.axvspan(-1, 1, color="0.88", linewidth=0, zorder=0)
    ax.axvline(0, color="0.5", linewidth=0.5, zorder=1)
    for y in range(0, len(positions), 2):  # every other row shaded, for the eye
        ax.axhspan(y - 0.5, y + 0.5, color="0.96", linewidth=0, zorder=0)
    mine = part[part["run"] == run]
    for row in mine.itertuples():
        y = positions[(row.claim_id, _strip(row.setting))]
        ax.plot([row.x_lo, row.x_hi], [y, y], color="0.2", linewidth=0.8, zorder=2)
        marker, face, edge = VERDICT_MARKERS.get(row.verdict, ("o", "0.5", "0.5"))
        ax.plot(
            [row.x],
            [y],
            marker=marker,
            markersize=3.2,
            markerfacecolor=face,
            markeredgecolor=edge,
            markeredgewidth=0.6,
            linestyle="none",
            zorder=3,
            gid="forest-point",
            label=f"{run}|{row.claim_id}|{row.setting}",
        )
    ax.set_xscale("symlog", linthresh=LINTHRESH, linscale=1.0)
    ax.set_ylim(len(positions) - 0.5, -0.5)
    ax.set_yticks(range(len(positions)))
    names = dict(
        zip(
            zip(part["claim_id"], part["setting"].map(_strip), strict=False),
            part["label"],
            strict=False,
        )
    )
    ax.set_yticklabels([names[key] for key in positions] if labels else [])
    ax.tick_params(axis="y", length=0, labelsize=5.5)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)


def forest_limits(rows: pd.DataFrame) -> tuple[float, float]:
    """One x range for every column: the intervals' reach, at least the negligible band."""
    if rows.empty:
        return -3.0, 3.0
    low = float(np.nanmin(rows["x_lo"]))
    high = float(np.nanmax(rows["x_hi"]))
    return min(low * 1.3, -3.0), max(high * 1.3, 3.0)


def verdict_handles(verdicts) -> list:
    """Legend handles for the verdicts present, in the order of VERDICT_MARKERS."""
    from matplotlib.lines import Line2D

    handles = []
    for verdict, (marker, face, edge) in VERDICT_MARKERS.items():
        if verdict in set(verdicts):
            handles.append(
                Line2D(
                    [],
                    [],
                    marker=marker,
                    markerfacecolor=face,
                    markeredgecolor=edge,
                    markeredgewidth=0.6,
                    markersize=4,
                    linestyle="none",
                    label=verdict,
                )
            )
    return handles


def draw_forest(fig, spec, rows: pd.DataFrame, runs: list[str], title: str, note: str):
    """The forest plot on the grid cell ``spec``: a header naming each run's column, then a
    section per stage (rows) by a column per run; returns the header's first Axes (the
    panel's title and letter go on it)."""
    sizes = stage_sizes(rows)
    header = 1.6 if len(runs) > 1 else 0.2
    grid = spec.subgridspec(
        len(sizes) + 1,
        len(runs),
        height_ratios=[header, *(n + 1.4 for n in sizes.values())],
        hspace=0.04,
    )
    limits = forest_limits(rows)
    ticks = [t for t in TICKS if limits[0] <= t <= limits[1]]
    heads = [fig.add_subplot(grid[0, c]) for c in range(len(runs))]
    for head, run in zip(heads, runs, strict=True):
        head.set_axis_off()
        if len(runs) > 1:
            head.text(0.5, 0.0, run, ha="center", va="bottom", fontsize=6.5, fontweight="bold")
    heads[0].set_title(title, loc="left", fontsize=7, fontweight="bold")
    for r, stage in enumerate(sizes):
        for c, run in enumerate(runs):
            ax = fig.add_subplot(grid[r + 1, c])
            draw_stage(ax, rows, stage, run, labels=c == 0)
            ax.set_xlim(*limits)
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
            ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            ax.tick_params(axis="x", labelsize=5.5)
            ax.set_title(STAGES[stage] if c == 0 else "", fontsize=6.5, loc="left")
            if r < len(sizes) - 1:
                ax.tick_params(axis="x", labelbottom=False)
            else:
                ax.set_xlabel("effect ÷ margin (the predicted side > 0)", fontsize=6)
    handles = verdict_handles(rows["verdict"])
    fig.legend(
        handles=[_band_handle(), *handles],
        loc="outside upper center",
        ncol=min(len(handles) + 1, 8),
        fontsize=5.5,
        frameon=False,
        title=note,
        title_fontsize=5.5,
    )
    return heads[0]


def _band_handle():
    from matplotlib.patches import Patch

    return Patch(color="0.88", label="negligible: within ±1 margin")
