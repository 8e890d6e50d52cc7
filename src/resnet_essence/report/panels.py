"""The panels of the figures drawn from the tables a published run keeps (runs, epochs, network
statistics, collapse tables), a function each on the Axes it is given.

Errors that span decades are on a log axis; a line style or marker says which values are at
initialisation and which at the end of training; the architectures keep their colours
(``drawing.ARCH_COLORS``) and their legend is the figure's, outside the panels. The per-layer
panels, which need tables only a run's results hold, are ``layer_panels``'s.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .drawing import ARCH_COLORS, COLLAPSE_LABELS, band, epoch_words, errorbar

# the collapse maps of the survival panel: label, colour, line style, marker (the exact maps sit
# at 1 together: each keeps a marker of its own so that neither hides the other)
SURVIVAL_STYLES = {
    "relu": ("ReLU", "black", "-", "o"),
    "linear": ("linear", "0.45", "-", "s"),
    "residual": ("z + ReLU(z)", "#56B4E9", ":", "^"),
}
BLOCK_STYLES = {
    "original_block": ("ReLU(z + F(z)) block", "#CC79A7", "-.", "v"),
    "preact_block": ("z + F(z) block", "#E69F00", "--", "D"),
}
MANIFOLD_MARKERS = {"spiral": ("o", "-"), "swiss_roll": ("s", "--")}


def _log_floor(values) -> float:
    """A floor for a log axis: a third of the smallest positive value (an error of 0 is
    drawn there rather than lost)."""
    values = np.asarray(values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    return float(positive.min() / 3) if len(positive) else 1e-3


# -- collapse ------------------------------------------------------------------------------------
def collapse_law(ax, survival: pd.DataFrame) -> None:
    """Claims 1 and 1b: the recoverable fraction of each manifold through ReLU (points, 95%
    interval over random maps) beside the law P(Bin(n, 1/2) >= m) it follows (line)."""
    data = survival[(survival["bias_std"] == 0) & (survival["activation"] == "relu")]
    for manifold, rows in data.groupby("manifold", sort=True):
        rows = rows.sort_values("embed_dim")
        marker, dashes = MANIFOLD_MARKERS.get(manifold, ("o", "-"))
        m = int(rows["input_dim"].iloc[0])
        name = manifold.replace("_", " ")
        ax.plot(rows["embed_dim"], rows["theory"], color="0.55", linestyle=dashes, linewidth=1)
        errorbar(
            ax,
            rows["embed_dim"],
            rows["recoverable"],
            rows["recoverable_lo"],
            rows["recoverable_hi"],
            (0, 1),
            color="black",
            marker=marker,
            linestyle="none",
            markerfacecolor="white" if manifold != "spiral" else "black",
            label=f"{name}, m = {m}",
        )
    ax.plot([], [], color="0.55", label="P(Bin(n, ½) ≥ m)")
    reached = data[data["theory"] >= 0.999]["embed_dim"]
    ax.set_xlim(0, (reached.min() if len(reached) else data["embed_dim"].max()) + 4)
    ax.set_xlabel("embedding dimension n")
    ax.set_ylabel("points recoverable after ReLU")
    ax.set_ylim(-0.02, 1.04)
    ax.set_title("ReLU collapse and its law")
    ax.legend(frameon=False, loc="lower right", fontsize=5.5, handlelength=1.5, borderaxespad=0)


def _recoverable_line(ax, rows: pd.DataFrame, style, label: str, **marker) -> None:
    """One map's recoverable fraction against n, in its (label, colour, dashes, marker) style;
    nothing where the run has no rows of it."""
    _, color, dashes, shape = style
    if len(rows):
        rows = rows.sort_values("embed_dim")
        ax.plot(
            rows["embed_dim"],
            rows["recoverable"],
            color=color,
            linestyle=dashes,
            marker=shape,
            linewidth=1,
            label=label,
            **marker,
        )


def survival_maps(ax, survival: pd.DataFrame, blocks: pd.DataFrame | None) -> None:
    """Every collapse map on the spiral: ReLU, linear, z + ReLU(z) and, on the lifted spiral,
    He et al.'s blocks (claims 1-3c)."""
    spiral = survival[(survival["bias_std"] == 0) & (survival["manifold"] == "spiral")]
    for activation, style in SURVIVAL_STYLES.items():
        linear = activation == "linear"  # drawn open and larger: z + ReLU(z) lies on it
        _recoverable_line(
            ax,
            spiral[spiral["activation"] == activation],
            style,
            style[0],
            markersize=4.5 if linear else 3,
            markerfacecolor="none" if linear else style[1],
        )
    if blocks is not None and len(blocks):
        lifted = blocks[blocks["manifold"] == "spiral"]
        for block, style in BLOCK_STYLES.items():
            rows = lifted[lifted["block"] == block]
            _recoverable_line(ax, rows, style, f"{style[0]}, lifted", markersize=2.5)
    ax.set_xlabel("embedding dimension n (spiral)")
    ax.set_ylabel("points recoverable")
    ax.set_ylim(-0.02, 1.06)
    ax.set_title("every map on the spiral")
    ax.legend(frameon=False, loc="lower right", fontsize=5, handlelength=2)


# -- training ------------------------------------------------------------------------------------
def curves_at(ax, curves: pd.DataFrame, depth: int) -> None:
    """Training (dashed, the running mean over each epoch) and test error (solid) by epoch of
    every architecture at one depth, on a log axis (He et al. Fig. 6)."""
    data = curves[(curves["depth"] == depth) & curves["metric"].isin(["train_err", "test_err"])]
    floor = _log_floor(100 * data["mean"])
    for (arch, metric), rows in data.groupby(["arch", "metric"], sort=True):
        rows = rows.sort_values("epoch").dropna(subset=["mean"])
        dashes = "--" if metric == "train_err" else "-"
        if metric == "test_err" and len(rows) < len(data[data["arch"] == arch]) / 8:
            ax.plot(rows["epoch"], 100 * rows["mean"], "o", color=ARCH_COLORS[arch], ms=2.5)
            continue
        band(
            ax,
            rows["epoch"],
            np.clip(100 * rows["mean"], floor, None),
            100 * rows["lo"],
            100 * rows["hi"],
            ARCH_COLORS[arch],
            None,
            dashes,
            (floor, 100),
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error (%)")
    ax.set_title(f"curves, depth {depth}")


def final_errors(ax, final: pd.DataFrame, paper: pd.DataFrame | None = None) -> None:
    """Final training (dashed, squares) and test error (solid, circles) against depth, 95%
    intervals over seeds, on a log axis; on CIFAR-10, He et al.'s test errors (crosses)."""
    floor = _log_floor(100 * final[["train_err_mean", "test_err_mean"]].to_numpy())
    for arch, rows in final.groupby("arch", sort=True):
        rows = rows.sort_values("depth")
        for metric, dashes, marker in (("train_err", "--", "s"), ("test_err", "-", "o")):
            errorbar(
                ax,
                rows["depth"],
                np.clip(100 * rows[f"{metric}_mean"], floor, None),
                100 * rows[f"{metric}_lo"],
                100 * rows[f"{metric}_hi"],
                (floor, 100),
                color=ARCH_COLORS[arch],
                linestyle=dashes,
                marker=marker,
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
        ax.legend(frameon=False, fontsize=5, loc="upper left")
    ax.set_yscale("log")
    ax.set_xticks(sorted(final["depth"].unique()))
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel("final error (%)")
    ax.set_title("final error against depth")


# -- network statistics --------------------------------------------------------------------------
def _ends(data: pd.DataFrame) -> list[tuple[int, str, str]]:
    """The first and the last snapshot epoch of ``data``: (epoch, line style, marker face)."""
    epochs = sorted(set(data["epoch"]))
    ends = [(epochs[0], "--", "white")]
    if epochs[-1] != epochs[0]:
        ends.append((epochs[-1], "-", None))
    return ends


def mechanism(ax, networks: pd.DataFrame, depth: int) -> None:
    """Claims V, 5b, 5c: the slope of the backward signal's total norm across the blocks of
    each net at one depth, at initialisation and at the end (95% intervals over seeds); above 0
    the signal shrinks toward the input (vanishing)."""
    data = networks[(networks["statistic"] == "signal_norm_slope") & (networks["depth"] == depth)]
    ends = _ends(data)
    archs = [a for a in ARCH_COLORS if a in set(data["arch"])]
    for i, (epoch, _, face) in enumerate(ends):
        for j, arch in enumerate(archs):
            rows = data[(data["epoch"] == epoch) & (data["arch"] == arch)]
            x = i + (j - (len(archs) - 1) / 2) * 0.18
            errorbar(
                ax,
                [x] * len(rows),
                rows["mean"],
                rows["lo"],
                rows["hi"],
                color=ARCH_COLORS[arch],
                marker="o",
                markerfacecolor=face or ARCH_COLORS[arch],
                linestyle="none",
            )
    ax.axhline(0, color="0.5", linewidth=0.6)
    ax.set_xticks(range(len(ends)), [epoch_words(e) for e, _, _ in ends])
    ax.set_xlim(-0.6, len(ends) - 0.4)
    ax.set_xlabel(f"depth {depth}")
    ax.set_ylabel("backward-signal slope\n(decades per net, > 0: vanishing)")
    ax.set_title("gradient flow")


def by_depth(ax, networks: pd.DataFrame, statistic: str, ylabel: str, title: str) -> None:
    """A network statistic against depth, per architecture, at initialisation (dashed, open
    markers) and at the end of training (solid, filled)."""
    data = networks[networks["statistic"] == statistic]
    for epoch, dashes, face in _ends(data):
        for arch, rows in data[data["epoch"] == epoch].groupby("arch", sort=True):
            rows = rows.sort_values("depth")
            errorbar(
                ax,
                rows["depth"],
                rows["mean"],
                rows["lo"],
                rows["hi"],
                color=ARCH_COLORS[arch],
                marker="o",
                markerfacecolor=face or ARCH_COLORS[arch],
                linestyle=dashes,
            )
    ax.set_xticks(sorted(data["depth"].unique()))
    ax.set_xlabel("depth (layers)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)


# the network statistics of the supplementary figure: (statistic, axis label, title)
NETWORK_PANELS = {
    "signal_slope": ("signal_norm_slope", "signal slope (decades/net)", "backward signal"),
    "branch_zeros": ("inactive_fraction_branch", "branch ReLU outputs at 0", "branch ReLUs at 0"),
    "dead_units": ("dead_fraction_branch", "branch units never active", "dead branch units"),
    "redundancy": ("pr_per_channel_branch", "effective dim. per channel", "redundancy (M1)"),
    "relu_kept": ("relu_r2_branch", "input recovered from output (R²)", "kept by branch ReLU"),
    "shattering": ("autocorrelation_lag1", "gradient autocorrelation (lag 1)", "shattering"),
    "responses": ("response_median", "median BN response std", "layer responses"),
}


def collapse_label(activation: str) -> str:
    return COLLAPSE_LABELS.get(activation, activation)
