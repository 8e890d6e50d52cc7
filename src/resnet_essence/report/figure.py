"""The main figure and its single-panel files, drawn only from the aggregated tables.

Here: the style, the registry of panels (``PANELS``: each panel's name, its letter from its
place, and the file it is saved to, ``PANEL_FILES``, which workflow/rules/report.smk's captions
must match), the tables as the panels read them, the layout of the whole figure and of one
panel, and the check that no title or label is cut off. The panels themselves are ``panels``'s.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..nets.interventions import BASES  # noqa: E402
from ..papers import paper_table  # noqa: E402
from .panels import (  # noqa: E402
    bottleneck_errors,
    branch_zeros,
    collapse_examples,
    final_errors,
    lesion_curves,
    linear_unit_scatter,
    reconstruction,
    redundancy_profile,
    relu_loss_profile,
    response_profile,
    shattered_gradients,
    signal_profile,
    survival,
    training_curves,
    width_panel,
)


def style() -> None:
    """The look of every figure: seaborn's paper context, fonts sized for a column."""
    sns.set_theme(context="paper", style="ticks", font_scale=0.9)
    plt.rcParams.update(
        {
            "axes.titlesize": 8,
            "axes.labelsize": 7,
            "legend.fontsize": 6,
            "xtick.labelsize": 6,
            "ytick.labelsize": 6,
            "axes.titleweight": "bold",
            "savefig.dpi": 200,
            "figure.dpi": 100,
        }
    )


# Every panel drawn on one Axes, in reading order; its letter comes from its place here, so the
# letters are unique and run in order. The main figure puts the collapse examples on top.
PANELS = {
    "survival": lambda ax, t: survival(ax, t["survival"], t.get("blocks")),
    "reconstruction": lambda ax, t: reconstruction(ax, t["survival"]),
    "final_errors": lambda ax, t: final_errors(ax, t["final"], t.get("paper")),
    "curves_plain": lambda ax, t: training_curves(ax, t["curves"], "plain"),
    "curves_residual": lambda ax, t: training_curves(ax, t["curves"], "residual"),
    "curves_preact": lambda ax, t: training_curves(ax, t["curves"], "preact"),
    "backward_signal": lambda ax, t: signal_profile(ax, t["layers"]),
    "branch_zeros": lambda ax, t: branch_zeros(ax, t["networks"]),
    "responses": lambda ax, t: response_profile(ax, t["layers"]),
    "shattering": lambda ax, t: shattered_gradients(ax, t["networks"]),
    "bottleneck": lambda ax, t: bottleneck_errors(ax, t.get("bottleneck")),
    "redundancy": lambda ax, t: redundancy_profile(ax, t.get("probes")),
    "relu_loss": lambda ax, t: relu_loss_profile(ax, t.get("probes")),
    "linear_units": lambda ax, t: linear_unit_scatter(ax, t.get("probes")),
    "lesions": lambda ax, t: lesion_curves(ax, t.get("probes")),
    "width": lambda ax, t: width_panel(ax, t.get("width_sweep")),
}
COLLAPSE_PANEL = "collapse"
LETTERS = {
    name: letter
    for name, letter in zip([COLLAPSE_PANEL, *PANELS], "abcdefghijklmnopqrstuvwxyz", strict=False)
}
PANEL_FILES = [f"{LETTERS[name]}_{name}" for name in [COLLAPSE_PANEL, *PANELS]]


def _draw(name: str, ax, tables: dict[str, pd.DataFrame]) -> None:
    PANELS[name](ax, tables)
    ax.set_title(f"({LETTERS[name]}) {ax.get_title()}")
    sns.despine(ax=ax)


def figure_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables as the panels read them: the unmodified nets only (the intervention nets have
    a table of their own in the report), no bottleneck table when no such net was trained, and
    He et al.'s published errors beside a CIFAR-10 run's."""
    tables = {
        name: table[table["arch"].isin(BASES)] if "arch" in table else table
        for name, table in tables.items()
    }
    if "bottleneck" in tables and tables["bottleneck"].empty:
        tables.pop("bottleneck")
    if (tables["final"]["dataset"] == "cifar10").any():
        tables["paper"] = paper_table()
    return tables


def clipped_labels(fig) -> list[str]:
    """The titles and axis labels that leave the figure or run into another panel's title (a
    constrained layout makes room for labels above and beside a panel, not for one wider than
    its panel): each as '<its text>: <what it runs into>'."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    texts = [
        (t, t.get_window_extent(renderer))
        for ax in fig.axes
        if ax.get_visible() and ax.axison
        for t in (ax.title, ax.xaxis.label, ax.yaxis.label)
        if t.get_text()
    ]
    found = []
    for text, box in texts:
        if box.x0 < -0.5 or box.x1 > width + 0.5 or box.y0 < -0.5 or box.y1 > height + 0.5:
            found.append(f"{text.get_text()}: the figure's edge")
    titles = [(t, b) for t, b in texts if any(t is ax.title for ax in fig.axes)]
    for i, (a, box_a) in enumerate(titles):
        for b, box_b in titles[i + 1 :]:
            if box_a.overlaps(box_b):
                found.append(f"{a.get_text()}: {b.get_text()}")
    return found


def main_figure(tables: dict[str, pd.DataFrame]):
    """The whole figure from the aggregated tables; returns the matplotlib Figure.

    The width panel, last, is left out when the run has no width sweep (its letter is the last,
    so no other panel's letter changes).
    """
    style()
    names = [n for n in PANELS if n != "width" or tables.get("width_sweep") is not None]
    rows = math.ceil(len(names) / 3)
    fig = plt.figure(figsize=(7.2, 1.0 + 2.45 * rows), layout="constrained")
    outer = fig.add_gridspec(2, 1, height_ratios=[0.75, rows])
    collapse_examples(fig, outer[0], tables["examples"])
    axes = outer[1].subgridspec(rows, 3).subplots()
    for ax in axes.flat[len(names) :]:
        ax.set_axis_off()
    for ax, name in zip(axes.flat, names, strict=False):
        _draw(name, ax, tables)
    return fig


def panel_figure(file: str, tables: dict[str, pd.DataFrame]):
    """One panel alone (``file`` from :data:`PANEL_FILES`), sized for a single column."""
    style()
    name = file.split("_", 1)[1]
    if name == COLLAPSE_PANEL:
        fig = plt.figure(figsize=(7.2, 3.2), layout="constrained")
        collapse_examples(fig, fig.add_gridspec(1, 1)[0], tables["examples"])
        return fig
    fig, ax = plt.subplots(figsize=(3.4, 2.6), layout="constrained")
    _draw(name, ax, tables)
    return fig
