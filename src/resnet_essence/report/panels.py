"""The panels of the main figure, a function each, drawn from the aggregated tables alone.

Each draws on an Axes (the collapse examples on a grid cell) it is given, so the same code makes
the multi-panel figure and the single-panel files (``figure``). Labels are words, sized for a
paper's column width; the palette and the primitives are ``drawing``'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drawing import (
    ARCH_COLORS,
    COLLAPSE_LABELS,
    activation_color,
    at_epoch,
    band,
    deepest,
    depth_colors,
    empty,
    errorbar,
    first_and_last,
)

COLLAPSE_ROWS = ("relu", "linear", "residual")


# -- collapse ------------------------------------------------------------------------------------
def collapse_examples(fig, spec, examples: pd.DataFrame) -> None:
    """MobileNetV2 Fig. 1: the input spiral and its pseudo-inverse reconstructions."""
    manifold = "spiral" if "spiral" in set(examples["manifold"]) else examples["manifold"].iloc[0]
    data = examples[examples["manifold"] == manifold]
    dims = sorted(d for d in data["embed_dim"].unique() if d > 0)
    rows = [a for a in COLLAPSE_ROWS if a in set(data["activation"])]
    grid = spec.subgridspec(len(rows), len(dims) + 1, wspace=0.02, hspace=0.02)
    source = data[data["activation"] == "input"]
    for r, activation in enumerate(rows):
        for c, dim in enumerate([0, *dims]):
            ax = fig.add_subplot(grid[r, c])
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
                title = "(a) input" if dim == 0 else f"n = {dim}"
                ax.set_title(title, fontsize=7, fontweight="bold" if dim == 0 else "normal")
            if c == 0:
                ax.set_ylabel(COLLAPSE_LABELS.get(activation, activation), fontsize=7)


def _recoverable_band(ax, rows: pd.DataFrame, color, label: str, dashes: str) -> None:
    band(
        ax,
        rows["embed_dim"],
        rows["recoverable"],
        rows["recoverable_lo"],
        rows["recoverable_hi"],
        color,
        label,
        dashes,
        (0, 1),
    )


BLOCK_STYLES = {
    "original_block": ("ReLU(z + F(z)), original block", "#CC79A7"),
    "preact_block": ("z + F(z), pre-activation block", "#56B4E9"),
}


def survival(ax, table: pd.DataFrame, blocks: pd.DataFrame | None = None) -> None:
    """Fraction of points recoverable against embedding dimension, with the binomial law, and
    the same for the residual blocks on the lifted spiral."""
    data = table[(table["bias_std"] == 0)]
    colors = {"relu": "#D55E00", "linear": "#009E73", "residual": "#0072B2"}
    for (manifold, activation), rows in data.groupby(["manifold", "activation"], sort=True):
        if activation not in colors:
            continue
        rows = rows.sort_values("embed_dim")
        dashes = "-" if manifold == "spiral" else ":"
        label = f"{COLLAPSE_LABELS[activation]}, {manifold.replace('_', ' ')}"
        _recoverable_band(ax, rows, colors[activation], label, dashes)
        if activation == "relu":
            ax.plot(
                rows["embed_dim"],
                rows["theory"],
                color="black",
                linewidth=0.6,
                linestyle=dashes,
                marker="o",
                markersize=1.5,
                label=f"theory P(Bin(n,1/2) ≥ {int(rows['input_dim'].iloc[0])})",
            )
    if blocks is not None and len(blocks):
        spiral = blocks[blocks["manifold"] == blocks["manifold"].iloc[0]]
        for block, (label, color) in BLOCK_STYLES.items():
            rows = spiral[spiral["block"] == block].sort_values("embed_dim")
            if len(rows):
                manifold = rows["manifold"].iloc[0].replace("_", " ")
                _recoverable_band(ax, rows, color, f"{label}, {manifold}", "-.")
    ax.set_xlabel("embedding dimension n")
    ax.set_ylabel("fraction of points recoverable")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("survival of the manifold")
    ax.legend(frameon=False, loc="lower right", fontsize=4.5)


def reconstruction(ax, table: pd.DataFrame) -> None:
    """Normalised pseudo-inverse reconstruction error against embedding dimension."""
    data = table[(table["bias_std"] == 0) & (table["manifold"] == table["manifold"].iloc[0])]
    for activation, rows in data.groupby("activation", sort=True):
        rows = rows.sort_values("embed_dim")
        band(
            ax,
            rows["embed_dim"],
            rows["recon_error"],
            rows["recon_error_lo"],
            rows["recon_error_hi"],
            activation_color(activation),
            COLLAPSE_LABELS.get(activation, activation),
            bounds=(1e-17, np.inf),
        )
    ax.set_yscale("log")  # exact maps sit near 1e-16, lossy ones near 0.5 and above
    ax.set_xlabel("embedding dimension n")
    ax.set_ylabel("reconstruction error (relative)")
    ax.set_title(f"pinv reconstruction, {data['manifold'].iloc[0]}")
    ax.legend(frameon=False, ncol=2)


# -- training ------------------------------------------------------------------------------------
def training_curves(ax, curves: pd.DataFrame, arch: str) -> None:
    """He et al. Fig. 6: training error dashed, test error solid, one colour per depth."""
    data = curves[curves["arch"] == arch]
    colors = depth_colors(curves["depth"])
    for depth, rows in data.groupby("depth", sort=True):
        for metric, dashes in (("train_err", "--"), ("test_err", "-")):
            r = rows[rows["metric"] == metric].sort_values("epoch").dropna(subset=["mean"])
            if metric == "test_err" and len(r) < len(rows) / 4:  # evaluated rarely: points
                label = f"{arch}-{depth}"
                ax.plot(r["epoch"], 100 * r["mean"], "o", color=colors[depth], ms=3, label=label)
                continue
            band(
                ax,
                r["epoch"],
                100 * r["mean"],
                100 * r["lo"],
                100 * r["hi"],
                colors[depth],
                f"{arch}-{depth}" if metric == "test_err" else None,
                dashes,
                (0, 100),
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    if data.empty:
        empty(ax, f"no {arch} nets in this run")
    # the line styles in the legend, not the title: a title wider than its panel is cut off
    for dashes, label in (("--", "train"), ("-", "test")):
        ax.plot([], [], dashes, color="0.4", label=label)
    ax.set_title(f"{arch} nets by epoch")
    ax.legend(frameon=False)


def final_errors(ax, final: pd.DataFrame, paper: pd.DataFrame | None = None) -> None:
    """Final training and test error against depth, 95% intervals over seeds."""
    for arch, rows in final.groupby("arch", sort=True):
        rows = rows.sort_values("depth")
        for metric, dashes, marker in (("train_err", "--", "s"), ("test_err", "-", "o")):
            errorbar(
                ax,
                rows["depth"],
                100 * rows[f"{metric}_mean"],
                100 * rows[f"{metric}_lo"],
                100 * rows[f"{metric}_hi"],
                (0, 100),
                color=ARCH_COLORS[arch],
                linestyle=dashes,
                marker=marker,
                label=f"{arch}, {'train' if metric == 'train_err' else 'test'}",
            )
    if paper is not None and len(paper):
        for arch, rows in paper.groupby("arch"):
            ax.plot(
                rows["depth"],
                rows["test_err"],
                color=ARCH_COLORS[arch],
                marker="x",
                linestyle=":",
                linewidth=0.8,
                label=f"{arch}, He et al. test",
            )
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("final error (%)")
    ax.set_title("final error against depth")
    ax.legend(frameon=False)


# -- statistics ----------------------------------------------------------------------------------
def signal_profile(ax, layers: pd.DataFrame) -> None:
    """Total norm of the backward signal at each block output of the deepest nets (claims V,
    5b, 5c: the measure they judge)."""
    depth = deepest(layers)
    data = layers[
        (layers["depth"] == depth)
        & (layers["statistic"] == "signal_grad_norm")
        & layers["layer"].str.startswith("block")
    ]
    if data.empty:
        empty(ax, "no backward-signal rows")
        return
    for arch, r, dashes, label in first_and_last(ax, data, "layer_index"):
        # a log axis cannot show a band that reaches zero: keep it above the smallest mean
        floor = (r["mean"].min() / 10, np.inf)
        blocks = np.arange(1, len(r) + 1)
        band(ax, blocks, r["mean"], r["lo"], r["hi"], ARCH_COLORS[arch], label, dashes, floor)
    ax.set_yscale("log")
    ax.set_xlabel(f"block (input → output), depth {depth}")
    ax.set_ylabel("backward signal, total norm")
    ax.set_title("gradient reaching each block")
    ax.legend(frameon=False, fontsize=4.5)


def network_statistic(
    ax,
    networks: pd.DataFrame,
    statistic: str,
    ylabel: str,
    title: str,
    epoch: str = "last",
    bounds=(0, 1),
) -> None:
    """A network-level statistic against depth, plain against residual (fractions by default)."""
    data = networks[networks["statistic"] == statistic]
    if data.empty:
        empty(ax, f"no {statistic}")
        return
    data = at_epoch(ax, data, epoch)
    chosen = data["epoch"].iloc[0]
    for arch, rows in data.groupby("arch", sort=True):
        rows = rows.sort_values("depth")
        errorbar(
            ax,
            rows["depth"],
            rows["mean"],
            rows["lo"],
            rows["hi"],
            bounds,
            color=ARCH_COLORS[arch],
            marker="o",
            label=arch,
        )
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title} ({'init' if chosen == 0 else f'epoch {chosen}'})")
    ax.legend(frameon=False)


def response_profile(ax, layers: pd.DataFrame) -> None:
    """He et al. Fig. 7: std of each BatchNorm output, in depth order, at the end."""
    depth = deepest(layers)
    data = layers[(layers["depth"] == depth) & (layers["statistic"] == "response_std")]
    if data.empty:
        empty(ax, "no BatchNorm layers")
        return
    data = at_epoch(ax, data)
    last = data["epoch"].iloc[0]
    for arch, rows in data.groupby("arch", sort=True):
        r = rows.sort_values("layer_index")
        band(
            ax,
            r["layer_index"] + 1,
            r["mean"],
            r["lo"],
            r["hi"],
            ARCH_COLORS[arch],
            arch,
            bounds=(0, np.inf),
        )
    ax.set_xlabel(f"BN layer (input → output), depth {depth}")
    ax.set_ylabel("response std")
    ax.set_title(f"layer responses (epoch {last})")
    ax.legend(frameon=False)


def branch_zeros(ax, networks: pd.DataFrame) -> None:
    """How often the branch ReLU outputs 0, at initialisation and at the end (claim 5a)."""
    data = networks[networks["statistic"] == "inactive_fraction_branch"]
    if data.empty:
        empty(ax, "no branch ReLUs")
        return
    for arch, r, dashes, label in first_and_last(ax, data, "depth"):
        style = {"color": ARCH_COLORS[arch], "marker": "o", "linestyle": dashes, "label": label}
        errorbar(ax, r["depth"], r["mean"], r["lo"], r["hi"], (0, 1), **style)
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("branch ReLU outputs that are 0")
    ax.set_title("branch ReLUs at zero")
    ax.legend(frameon=False, fontsize=4.5)


def shattered_gradients(ax, networks: pd.DataFrame) -> None:
    """Input-gradient autocorrelation at lag 1 at initialisation (Balduzzi et al. 2017)."""
    network_statistic(
        ax,
        networks,
        "autocorrelation_lag1",
        "input-gradient autocorrelation (lag 1)",
        "shattering",
        epoch="first",
        bounds=(-1, 1),
    )


BOTTLENECK_STYLES = {
    "linear": ("linear bottleneck", "#0072B2", "-"),
    "relu": ("ReLU bottleneck", "#D55E00", "-"),
    "expansion": ("shortcut between expansions", "#009E73", "--"),
}


def bottleneck_errors(ax, bottleneck: pd.DataFrame | None) -> None:
    """Test error of the MobileNetV2-style nets against bottleneck width (claims B1-B3)."""
    if bottleneck is None or bottleneck.empty:
        empty(ax, "no bottleneck nets in this run")
        ax.set_title("linear against ReLU bottlenecks")
        return
    for variant, rows in bottleneck.groupby("variant", sort=True):
        label, color, dashes = BOTTLENECK_STYLES[variant]
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
            marker="o",
            label=label,
        )
    ax.set_xscale("log", base=2)
    widths = sorted(bottleneck["width"].unique())
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.set_xlabel("bottleneck channels")
    ax.set_ylabel("test error (%)")
    ax.set_title("linear against ReLU bottlenecks")
    ax.legend(frameon=False, fontsize=4.5)


def branch_probe_profile(
    ax, probes: pd.DataFrame | None, statistic: str, ylabel: str, bounds=(-np.inf, np.inf)
) -> None:
    """A probe of the branch ReLU in each block of the deepest nets, at initialisation (dashed)
    and at the end (claims M1, M2)."""
    if probes is None or probes.empty:
        empty(ax, "no probes in this run")
        return
    depth = deepest(probes)
    data = probes[
        (probes["depth"] == depth)
        & (probes["statistic"] == statistic)
        & (probes["site"] == "branch")
    ]
    for arch, r, dashes, label in first_and_last(ax, data, "layer_index"):
        blocks = np.arange(1, len(r) + 1)
        band(ax, blocks, r["mean"], r["lo"], r["hi"], ARCH_COLORS[arch], label, dashes, bounds)
    ax.set_xlabel(f"block (input → output), depth {depth}")
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=4.5)


def redundancy_profile(ax, probes: pd.DataFrame | None) -> None:
    # the participation ratio per channel lies in (0, 1]
    branch_probe_profile(ax, probes, "pr_per_channel", "effective dimension per channel", (0, 1))
    ax.set_title("redundancy, branch ReLU")


def relu_loss_profile(ax, probes: pd.DataFrame | None) -> None:
    # a held-out R² is at most 1 (below 0 when the ridge fit is worse than the mean)
    branch_probe_profile(ax, probes, "relu_r2", "input recoverable from output (R²)", (-np.inf, 1))
    ax.set_title("kept by the branch ReLU")


def lesion_curves(ax, probes: pd.DataFrame | None) -> None:
    """Veit et al.: test error against the number of blocks deleted, deepest nets (L1-L3)."""
    if probes is None or probes.empty:
        empty(ax, "no probes in this run")
        return
    depth = deepest(probes)
    data = at_epoch(ax, probes[(probes["depth"] == depth) & (probes["probe"] == "lesion")])
    for arch, rows in data.groupby("arch", sort=True):
        intact = rows[rows["statistic"] == "intact_error"]
        curve = rows[rows["statistic"] == "k_deleted_error"].sort_values("layer_index")
        k = [0, *curve["layer_index"]]
        band(
            ax,
            k,
            100 * np.r_[intact["mean"].to_numpy(), curve["mean"].to_numpy()],
            100 * np.r_[intact["lo"].to_numpy(), curve["lo"].to_numpy()],
            100 * np.r_[intact["hi"].to_numpy(), curve["hi"].to_numpy()],
            ARCH_COLORS[arch],
            arch,
            bounds=(0, 100),
        )
    ax.set_xlabel(f"blocks deleted at random, depth {depth}")
    ax.set_ylabel("test error (%)")
    ax.set_title("lesions")
    ax.legend(frameon=False, fontsize=4.5)


def linear_unit_scatter(ax, probes: pd.DataFrame | None) -> None:
    """Tip 1: held-out loss change when a whole ReLU layer becomes linear, against the share of
    its units that switch (every layer of the deepest nets, mean over seeds; claim T2)."""
    if probes is None or probes.empty:
        empty(ax, "no probes in this run")
        return
    depth = deepest(probes)
    data = at_epoch(ax, probes[(probes["depth"] == depth) & (probes["probe"] == "linear_units")])
    for arch, rows in data.groupby("arch", sort=True):
        wide = rows.pivot_table(index="layer_index", columns="statistic", values="mean")
        if {"switching_fraction", "delta_loss_linear_layer"} <= set(wide.columns):
            ax.scatter(
                wide["switching_fraction"],
                wide["delta_loss_linear_layer"],
                s=4,
                color=ARCH_COLORS[arch],
                label=arch,
                linewidths=0,
            )
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("units that switch (fraction)")
    ax.set_ylabel("held-out loss change, layer made linear")
    ax.set_title(f"linear units (depth {depth})")
    ax.legend(frameon=False, fontsize=4.5)


def width_panel(ax, sweep: pd.DataFrame | None) -> None:
    """Tip 2: dead branch units against width at initialisation (solid) and, for the widths
    trained, at the end of training (dashed) (claim W1)."""
    ax.set_title("dead units against width")
    if sweep is None or sweep.empty:
        empty(ax, "no width sweep in this run\n(configs/no_batchnorm.yaml has one)")
        return
    sweep = sweep if "epoch" in sweep else sweep.assign(epoch=0)
    data = sweep[sweep["statistic"] == "dead_fraction_branch"]
    for (arch, trained), rows in data.groupby(["arch", data["epoch"] > 0], sort=True):
        summary = rows.groupby("width")["value"].agg(["mean", "min", "max"]).reset_index()
        when = f"epoch {int(rows['epoch'].max())}" if trained else "init"
        errorbar(
            ax,
            summary["width"],
            summary["mean"],
            summary["min"],
            summary["max"],
            (0, 1),
            color=ARCH_COLORS[arch],
            marker="s" if trained else "o",
            linestyle="--" if trained else "-",
            label=f"{arch}-{int(rows['depth'].iloc[0])}, {when}",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("first-stage width")
    ax.set_ylabel("dead branch units (fraction, range over inits)")
    ax.legend(frameon=False, fontsize=4.5)
