"""The panels that need more than a published run keeps: every measure by layer (the layer and
probe tables of a run's results/tables/), the collapse examples (results/collapse/examples.csv),
and the designs a run may add (bottleneck nets, the width sweep).

Each profile is drawn at one depth, chosen by the figure: a depth where the plain net trains, so
the architectures can be compared. Initialisation is dashed with open markers, the end of
training solid; a net with no finite weights at the last snapshot is named in the panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drawing import ARCH_COLORS, at_epoch, band, errorbar, first_and_last

COLLAPSE_ROWS = ("relu", "linear", "residual")


def collapse_examples(fig, spec, examples: pd.DataFrame):
    """MobileNetV2 Fig. 1: the input spiral and its pseudo-inverse reconstructions through
    ReLU, linear and z + ReLU(z) at a few embedding dimensions. Returns the first Axes."""
    from .drawing import COLLAPSE_LABELS

    manifold = "spiral" if "spiral" in set(examples["manifold"]) else examples["manifold"].iloc[0]
    data = examples[examples["manifold"] == manifold]
    dims = sorted(d for d in data["embed_dim"].unique() if d > 0)
    rows = [a for a in COLLAPSE_ROWS if a in set(data["activation"])]
    grid = spec.subgridspec(len(rows), len(dims) + 1, wspace=0.02, hspace=0.02)
    source = data[data["activation"] == "input"]
    first = None
    for r, activation in enumerate(rows):
        for c, dim in enumerate([0, *dims]):
            ax = fig.add_subplot(grid[r, c])
            first = first or ax
            points = (
                source
                if dim == 0
                else data[(data["activation"] == activation) & (data["embed_dim"] == dim)]
            )
            ax.scatter(
                points["x"],
                points["y"],
                c=np.linspace(0, 1, len(points)),
                cmap="viridis",
                s=0.6,
                linewidths=0,
                rasterized=True,  # thousands of dots: a bitmap inside the PDF and SVG
            )
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if r == 0:
                ax.set_title("input" if dim == 0 else f"n = {dim}", fontsize=6.5)
            if c == 0:
                ax.set_ylabel(COLLAPSE_LABELS.get(activation, activation), fontsize=6.5)
    return first


def _profile(ax, data: pd.DataFrame, order: str, bounds=(-np.inf, np.inf), log=False) -> None:
    for arch, r, dashes, _ in first_and_last(ax, data, order):
        floor = (r["mean"].min() / 10, np.inf) if log else bounds
        blocks = np.arange(1, len(r) + 1)
        band(ax, blocks, r["mean"], r["lo"], r["hi"], ARCH_COLORS[arch], None, dashes, floor)
    if log:
        ax.set_yscale("log")


def signal_profile(ax, layers: pd.DataFrame, depth: int) -> None:
    """Total norm of the backward signal at each block output (claims V, 5b, 5c)."""
    data = layers[
        (layers["depth"] == depth)
        & (layers["statistic"] == "signal_grad_norm")
        & layers["layer"].str.startswith("block")
    ]
    _profile(ax, data, "layer_index", log=True)
    ax.set_xlabel(f"block (input → output), depth {depth}")
    ax.set_ylabel("backward signal, total norm")
    ax.set_title("gradient reaching each block")


def response_profile(ax, layers: pd.DataFrame, depth: int) -> None:
    """He et al. Fig. 7: std of each BatchNorm output, in depth order, at the end."""
    data = layers[(layers["depth"] == depth) & (layers["statistic"] == "response_std")]
    data = at_epoch(ax, data)
    for arch, rows in data.groupby("arch", sort=True):
        r = rows.sort_values("layer_index")
        band(
            ax,
            r["layer_index"] + 1,
            r["mean"],
            r["lo"],
            r["hi"],
            ARCH_COLORS[arch],
            bounds=(0, np.inf),
        )
    ax.set_xlabel(f"BN layer (input → output), depth {depth}")
    ax.set_ylabel("response std")
    ax.set_title(f"layer responses ({'init' if not len(data) else 'end'})")


def branch_probe(ax, probes: pd.DataFrame, depth: int, statistic: str, ylabel: str, title: str):
    """A probe of the branch ReLU in each block (claims M1, M2)."""
    data = probes[
        (probes["depth"] == depth)
        & (probes["statistic"] == statistic)
        & (probes["site"] == "branch")
    ]
    bounds = (0, 1) if statistic == "pr_per_channel" else (-np.inf, 1)
    _profile(ax, data, "layer_index", bounds)
    ax.set_xlabel(f"block (input → output), depth {depth}")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def lesion_curves(ax, probes: pd.DataFrame, depth: int) -> None:
    """Veit et al.: test error against the number of blocks deleted at random (L1-L3), on a
    log axis (an intact net's error and a broken one's are decades apart)."""
    data = at_epoch(ax, probes[(probes["depth"] == depth) & (probes["probe"] == "lesion")])
    for arch, rows in data.groupby("arch", sort=True):
        intact = rows[rows["statistic"] == "intact_error"]
        curve = rows[rows["statistic"] == "k_deleted_error"].sort_values("layer_index")
        k = [0, *curve["layer_index"]]
        mean = 100 * np.r_[intact["mean"].to_numpy(), curve["mean"].to_numpy()]
        floor = max(float(np.nanmin(mean)) / 3, 1e-2)
        band(
            ax,
            k,
            np.clip(mean, floor, None),
            100 * np.r_[intact["lo"].to_numpy(), curve["lo"].to_numpy()],
            100 * np.r_[intact["hi"].to_numpy(), curve["hi"].to_numpy()],
            ARCH_COLORS[arch],
            arch,
            bounds=(floor, 100),
        )
    ax.set_yscale("log")
    ax.set_xlabel(f"blocks deleted at random, depth {depth}")
    ax.set_ylabel("test error (%)")
    ax.set_title("lesions (end of training)")


def linear_units(ax, probes: pd.DataFrame, depth: int) -> None:
    """Tip 1: held-out loss change when a whole ReLU layer becomes linear, against the share of
    its units that switch (every layer, mean over seeds; claim T2)."""
    data = at_epoch(ax, probes[(probes["depth"] == depth) & (probes["probe"] == "linear_units")])
    for arch, rows in data.groupby("arch", sort=True):
        wide = rows.pivot_table(index="layer_index", columns="statistic", values="mean")
        if {"switching_fraction", "delta_loss_linear_layer"} <= set(wide.columns):
            ax.scatter(
                wide["switching_fraction"],
                wide["delta_loss_linear_layer"],
                s=5,
                color=ARCH_COLORS[arch],
                linewidths=0,
            )
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("units that switch (fraction)")
    ax.set_ylabel("loss change, layer made linear")
    ax.set_title(f"linear units (depth {depth}, end)")


BOTTLENECK_STYLES = {
    "linear": ("linear bottleneck", "black", "-", "o"),
    "relu": ("ReLU bottleneck", "#CC79A7", "-", "s"),
    "expansion": ("shortcut between expansions", "#E69F00", "--", "^"),
}


def bottleneck_errors(ax, bottleneck: pd.DataFrame) -> None:
    """Test error of the MobileNetV2-style nets against bottleneck width (claims B1-B3)."""
    for variant, rows in bottleneck.groupby("variant", sort=True):
        label, color, dashes, marker = BOTTLENECK_STYLES[variant]
        rows = rows.sort_values("width")
        errorbar(
            ax,
            rows["width"],
            100 * rows["test_err_mean"],
            100 * rows["test_err_lo"],
            100 * rows["test_err_hi"],
            (0, 100),
            color=color,
            linestyle=dashes,
            marker=marker,
            label=label,
        )
    ax.set_xscale("log", base=2)
    widths = sorted(bottleneck["width"].unique())
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_xlabel("bottleneck channels")
    ax.set_ylabel("test error (%)")
    ax.set_title("linear against ReLU bottlenecks")
    ax.legend(frameon=False, fontsize=5, loc="upper right")


def width_panel(ax, sweep: pd.DataFrame) -> None:
    """Tip 2: dead branch units against width at initialisation (dashed, open circles) and, for
    the widths trained, at the end of training (solid, filled squares) (claim W1)."""
    sweep = sweep if "epoch" in sweep else sweep.assign(epoch=0)
    data = sweep[sweep["statistic"] == "dead_fraction_branch"]
    for (arch, trained), rows in data.groupby(["arch", data["epoch"] > 0], sort=True):
        summary = rows.groupby("width")["value"].agg(["mean", "min", "max"]).reset_index()
        errorbar(
            ax,
            summary["width"],
            summary["mean"],
            summary["min"],
            summary["max"],
            (0, 1),
            color=ARCH_COLORS[arch],
            marker="s" if trained else "o",
            linestyle="-" if trained else "--",
            markerfacecolor=ARCH_COLORS[arch] if trained else "white",
        )
    ax.set_xscale("log", base=2)
    widths = sorted(data["width"].unique())
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_xlabel(f"first-stage width, depth {int(data['depth'].max())}")
    ax.set_ylabel("dead branch units (range over inits)")
    ax.set_title("dead units against width")
