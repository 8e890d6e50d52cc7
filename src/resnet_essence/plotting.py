"""The main figure and its panels, drawn only from the aggregated tables.

One palette for plain against residual, one for depth, used by every panel. Each panel function
draws on an Axes it is given, so the same code makes the multi-panel figure and the single-panel
files. Labels are words, sized for a paper's column width.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

ARCH_COLORS = {"plain": "#D55E00", "residual": "#0072B2"}
ARCH_LABELS = {"plain": "plain", "residual": "residual"}
COLLAPSE_ROWS = ("relu", "linear", "residual")
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
    depths = sorted({int(d) for d in depths})
    palette = sns.color_palette("viridis", n_colors=max(len(depths), 2))
    return dict(zip(depths, palette, strict=False))


def style() -> None:
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


def _band(ax, x, mean, lo, hi, color, label=None, linestyle="-", bounds=(-np.inf, np.inf)):
    """A line with its 95% band; the band is clipped to the quantity's possible range."""
    ax.plot(x, mean, color=color, label=label, linestyle=linestyle, linewidth=1.2)
    lo = np.clip(np.asarray(lo, dtype=float), *bounds)
    hi = np.clip(np.asarray(hi, dtype=float), *bounds)
    if np.isfinite(lo).any():
        ax.fill_between(x, lo, hi, color=color, alpha=0.15, linewidth=0)


def _errorbar(ax, x, mean, lo, hi, bounds=(-np.inf, np.inf), **style):
    mean = np.asarray(mean, dtype=float)
    lo = np.clip(np.asarray(lo, dtype=float), *bounds)
    hi = np.clip(np.asarray(hi, dtype=float), *bounds)
    err = np.nan_to_num(np.vstack([mean - lo, hi - mean]))
    ax.errorbar(x, mean, yerr=err, markersize=2.5, linewidth=1, capsize=1.5, **style)


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=6)
    ax.set_xticks([])
    ax.set_yticks([])


# -- collapse ------------------------------------------------------------------------------------
def collapse_examples(fig, spec, examples: pd.DataFrame) -> None:
    """(a) MobileNetV2 Fig. 1: the input spiral and its pseudo-inverse reconstructions."""
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
            )
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if r == 0:
                ax.set_title("input" if dim == 0 else f"n = {dim}", fontsize=7, fontweight="normal")
            if c == 0:
                ax.set_ylabel(COLLAPSE_LABELS.get(activation, activation), fontsize=7)
            if r == 0 and c == 0:
                ax.set_title("(a) input", fontsize=7)


def survival(ax, table: pd.DataFrame) -> None:
    """(b) Fraction of points recoverable against embedding dimension, with the binomial law."""
    data = table[(table["bias_std"] == 0)]
    colors = {"relu": "#D55E00", "linear": "#009E73", "residual": "#0072B2"}
    for (manifold, activation), rows in data.groupby(["manifold", "activation"], sort=True):
        if activation not in colors:
            continue
        rows = rows.sort_values("embed_dim")
        dashes = "-" if manifold == "spiral" else ":"
        _band(
            ax,
            rows["embed_dim"],
            rows["recoverable"],
            rows["recoverable_lo"],
            rows["recoverable_hi"],
            colors[activation],
            f"{COLLAPSE_LABELS[activation]}, {manifold.replace('_', ' ')}",
            dashes,
            (0, 1),
        )
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
    ax.set_xlabel("embedding dimension n")
    ax.set_ylabel("fraction of points recoverable")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title("(b) survival of the manifold")
    ax.legend(frameon=False, loc="lower right")


def reconstruction(ax, table: pd.DataFrame) -> None:
    """(b') Normalised pseudo-inverse reconstruction error against embedding dimension."""
    data = table[(table["bias_std"] == 0) & (table["manifold"] == table["manifold"].iloc[0])]
    for activation, rows in data.groupby("activation", sort=True):
        rows = rows.sort_values("embed_dim")
        _band(
            ax,
            rows["embed_dim"],
            rows["recon_error"],
            rows["recon_error_lo"],
            rows["recon_error_hi"],
            sns.color_palette("colorblind")[sorted(COLLAPSE_LABELS).index(activation) % 10],
            COLLAPSE_LABELS.get(activation, activation),
            bounds=(1e-17, np.inf),
        )
    ax.set_yscale("log")  # exact maps sit near 1e-16, lossy ones near 0.5 and above
    ax.set_xlabel("embedding dimension n")
    ax.set_ylabel("reconstruction error (relative)")
    ax.set_title(f"(b') pinv reconstruction, {data['manifold'].iloc[0]}")
    ax.legend(frameon=False, ncol=2)


# -- training ------------------------------------------------------------------------------------
def training_curves(ax, curves: pd.DataFrame, arch: str, panel: str) -> None:
    """(c) He et al. Fig. 6: training error dashed, test error solid, one colour per depth."""
    data = curves[curves["arch"] == arch]
    colors = depth_colors(curves["depth"])
    for depth, rows in data.groupby("depth", sort=True):
        for metric, dashes in (("train_err", "--"), ("test_err", "-")):
            r = rows[rows["metric"] == metric].sort_values("epoch")
            _band(
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
    ax.set_title(f"({panel}) {ARCH_LABELS[arch]} nets: train - -, test —")
    ax.legend(frameon=False)


def final_errors(ax, final: pd.DataFrame, paper: pd.DataFrame | None = None) -> None:
    """(d) Final training and test error against depth, 95% intervals over seeds."""
    for arch, rows in final.groupby("arch", sort=True):
        rows = rows.sort_values("depth")
        for metric, dashes, marker in (("train_err", "--", "s"), ("test_err", "-", "o")):
            _errorbar(
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
    ax.set_title("(d) final error against depth")
    ax.legend(frameon=False)


# -- statistics ----------------------------------------------------------------------------------
def _deepest(table: pd.DataFrame) -> int:
    return int(table["depth"].max())


def gradient_profile(ax, layers: pd.DataFrame) -> None:
    """(e) Weight-gradient norm per layer of the deepest nets, at initialisation and the end."""
    depth = _deepest(layers)
    data = layers[(layers["depth"] == depth) & (layers["statistic"] == "weight_grad_norm")]
    epochs = sorted(data["epoch"].unique())
    for arch, rows in data.groupby("arch", sort=True):
        for epoch, dashes in ((epochs[0], "--"), (epochs[-1], "-")):
            r = rows[rows["epoch"] == epoch].sort_values("layer_index")
            label = f"{arch}, {'init' if epoch == 0 else f'epoch {epoch}'}"
            # a log axis cannot show a band that reaches zero: keep it above the smallest mean
            _band(
                ax,
                r["layer_index"] + 1,
                r["mean"],
                r["lo"],
                r["hi"],
                ARCH_COLORS[arch],
                label,
                dashes,
                (r["mean"].min() / 10, np.inf),
            )
    ax.set_yscale("log")
    ax.set_xlabel(f"layer (input → output), depth {depth}")
    ax.set_ylabel("weight-gradient norm")
    ax.set_title("(e) gradient norm per layer")
    ax.legend(frameon=False)


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
        _empty(ax, f"no {statistic}")
        return
    chosen = data["epoch"].max() if epoch == "last" else data["epoch"].min()
    data = data[data["epoch"] == chosen]
    for arch, rows in data.groupby("arch", sort=True):
        rows = rows.sort_values("depth")
        _errorbar(
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
    """(g) He et al. Fig. 7: std of each BatchNorm output, in depth order, at the end."""
    depth = _deepest(layers)
    data = layers[(layers["depth"] == depth) & (layers["statistic"] == "response_std")]
    if data.empty:
        _empty(ax, "no BatchNorm layers")
        return
    last = data["epoch"].max()
    for arch, rows in data[data["epoch"] == last].groupby("arch", sort=True):
        r = rows.sort_values("layer_index")
        _band(
            ax,
            r["layer_index"] + 1,
            r["mean"],
            r["lo"],
            r["hi"],
            ARCH_COLORS[arch],
            arch,
            bounds=(0, np.inf),
        )
    ax.set_xlabel(f"BatchNorm layer (input → output), depth {depth}")
    ax.set_ylabel("response std")
    ax.set_title(f"(g) layer responses (epoch {last})")
    ax.legend(frameon=False)


def dead_relus(ax, networks: pd.DataFrame) -> None:
    """(f) Fraction of ReLU units never active on the evaluation batch, against depth."""
    network_statistic(ax, networks, "dead_fraction", "dead ReLU units (fraction)", "(f) dead ReLUs")


def shattered_gradients(ax, networks: pd.DataFrame) -> None:
    """(h) Input-gradient autocorrelation at lag 1 at initialisation (Balduzzi et al. 2017)."""
    network_statistic(
        ax,
        networks,
        "autocorrelation_lag1",
        "input-gradient autocorrelation (lag 1)",
        "(h) shattering",
        epoch="first",
        bounds=(-1, 1),
    )


# Every panel drawn on one Axes, by file name; the main figure places them on a 3x3 grid.
PANELS = {
    "b_survival": lambda ax, t: survival(ax, t["survival"]),
    "b_reconstruction": lambda ax, t: reconstruction(ax, t["survival"]),
    "h_shattering": lambda ax, t: shattered_gradients(ax, t["networks"]),
    "c_curves_plain": lambda ax, t: training_curves(ax, t["curves"], "plain", "c"),
    "c_curves_residual": lambda ax, t: training_curves(ax, t["curves"], "residual", "c"),
    "d_final_errors": lambda ax, t: final_errors(ax, t["final"], t.get("paper")),
    "e_gradient_profile": lambda ax, t: gradient_profile(ax, t["layers"]),
    "f_dead_relus": lambda ax, t: dead_relus(ax, t["networks"]),
    "g_responses": lambda ax, t: response_profile(ax, t["layers"]),
}
COLLAPSE_PANEL = "a_collapse"
PANEL_NAMES = [COLLAPSE_PANEL, *PANELS]


def main_figure(tables: dict[str, pd.DataFrame]):
    """The whole figure from the aggregated tables; returns the matplotlib Figure."""
    style()
    fig = plt.figure(figsize=(7.2, 10), layout="constrained")
    outer = fig.add_gridspec(2, 1, height_ratios=[0.75, 3])
    collapse_examples(fig, outer[0], tables["examples"])
    axes = outer[1].subgridspec(3, 3).subplots()
    for ax, draw in zip(axes.flat, PANELS.values(), strict=True):
        draw(ax, tables)
        sns.despine(ax=ax)
    return fig


def panel_figure(name: str, tables: dict[str, pd.DataFrame]):
    """One panel alone, sized for a single column."""
    style()
    if name == COLLAPSE_PANEL:
        fig = plt.figure(figsize=(7.2, 3.2), layout="constrained")
        collapse_examples(fig, fig.add_gridspec(1, 1)[0], tables["examples"])
        return fig
    fig, ax = plt.subplots(figsize=(3.4, 2.6), layout="constrained")
    PANELS[name](ax, tables)
    sns.despine(ax=ax)
    return fig
