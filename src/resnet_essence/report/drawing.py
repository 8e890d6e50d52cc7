"""What every panel of the figures shares: the palette (one Okabe-Ito colour per architecture in
every figure, a colour per depth and per collapse activation), the words for the collapse
activations, the primitives that draw a line with its 95% band or points with their intervals,
clipped to the quantity's range, the legend handles of the architectures and of the line styles,
and the choice of the snapshot epoch a panel shows.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only, never a screen: before seaborn imports pyplot

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

ARCH_COLORS = {"plain": "#D55E00", "residual": "#0072B2", "preact": "#009E73"}
COLLAPSE_LABELS = {
    "relu": "ReLU",
    "linear": "linear",
    "residual": "z + ReLU(z)",
    "relu6": "ReLU6",
    "leaky_relu": "leaky ReLU",
    "gelu": "GELU",
    "softplus": "softplus",
}


def depth_colors(depths) -> dict[int, tuple]:
    """A colour per depth, shallow to deep along viridis."""
    depths = sorted({int(d) for d in depths})
    palette = sns.color_palette("viridis", n_colors=max(len(depths), 2))
    return dict(zip(depths, palette, strict=False))


def activation_color(activation: str) -> tuple:
    """The colour of a collapse activation, the same in every panel that draws it."""
    return sns.color_palette("colorblind")[sorted(COLLAPSE_LABELS).index(activation) % 10]


def band(ax, x, mean, lo, hi, color, label=None, linestyle="-", bounds=(-np.inf, np.inf)):
    """A line with its 95% band; the band is clipped to the quantity's possible range."""
    ax.plot(x, mean, color=color, label=label, linestyle=linestyle, linewidth=1.2)
    lo = np.clip(np.asarray(lo, dtype=float), *bounds)
    hi = np.clip(np.asarray(hi, dtype=float), *bounds)
    if np.isfinite(lo).any():
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)


def errorbar(ax, x, mean, lo, hi, bounds=(-np.inf, np.inf), **style):
    """Points with their 95% intervals, clipped to the quantity's possible range."""
    mean = np.asarray(mean, dtype=float)
    lo = np.clip(np.asarray(lo, dtype=float), *bounds)
    hi = np.clip(np.asarray(hi, dtype=float), *bounds)
    err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
    ax.errorbar(x, mean, yerr=err, markersize=2.5, linewidth=1, capsize=1.5, **style)


def arch_handles(archs, styles=(("-", "test error"), ("--", "training error"))) -> list:
    """Legend handles: a line per architecture in its colour, then the line styles in grey."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=ARCH_COLORS[a], linewidth=1.4, label=a)
        for a in ARCH_COLORS
        if a in set(archs)
    ]
    handles += [
        Line2D([], [], color="0.35", linestyle=dashes, linewidth=1, label=label)
        for dashes, label in styles
    ]
    return handles


def epoch_words(epoch) -> str:
    return "init" if int(epoch) == 0 else f"epoch {int(epoch)}"


def at_epoch(ax, data: pd.DataFrame, which: str = "last") -> pd.DataFrame:
    """The rows of the first or the last snapshot epoch. The statistics of a run that diverged
    stop at its last finite snapshot: such rows are left out rather than mixed with the others,
    and the panel names the archs that have none at the last epoch."""
    if data.empty:
        return data
    epoch = data["epoch"].max() if which == "last" else data["epoch"].min()
    rows = data[data["epoch"] == epoch]
    missing = sorted(set(data["arch"]) - set(rows["arch"]))
    if missing:
        note = f"no finite weights at epoch {epoch}: {', '.join(missing)}"
        ax.text(0.02, 0.02, note, transform=ax.transAxes, fontsize=4.5, color="0.4")
    return rows


def first_and_last(ax, data: pd.DataFrame, order: str):
    """(arch, rows, line style, label) of each arch at the first (dashed) and the last (solid)
    snapshot epoch, rows sorted by ``order``; an arch with no rows at an epoch is left out."""
    for which, dashes in (("first", "--"), ("last", "-")):
        chosen = at_epoch(ax, data, which)
        for arch, rows in chosen.groupby("arch", sort=True):
            epoch = rows["epoch"].iloc[0]
            label = f"{arch}, {epoch_words(epoch)}"
            yield arch, rows.sort_values(order), dashes, label
