"""The main figure and its panels, drawn only from the aggregated tables.

One palette for plain against residual, one for depth, used by every panel. Each panel function
draws on an Axes it is given, so the same code makes the multi-panel figure and the single-panel
files. Labels are words, sized for a paper's column width.

One job, drawing, in one module of about 640 lines: a function per panel of the figure, each
short, and the layout that places them; splitting them would only scatter the shared palette.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from ..papers import paper_table  # noqa: E402

ARCH_COLORS = {"plain": "#D55E00", "residual": "#0072B2", "preact": "#009E73"}
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
    _band(
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
    if data.empty:
        _empty(ax, f"no {arch} nets in this run")
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
    ax.set_title("final error against depth")
    ax.legend(frameon=False)


# -- statistics ----------------------------------------------------------------------------------
def _deepest(table: pd.DataFrame) -> int:
    return int(table["depth"].max())


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
            label = f"{arch}, {'init' if epoch == 0 else f'epoch {epoch}'}"
            yield arch, rows.sort_values(order), dashes, label


def signal_profile(ax, layers: pd.DataFrame) -> None:
    """Total norm of the backward signal at each block output of the deepest nets (claims V,
    5b, 5c: the measure they judge)."""
    depth = _deepest(layers)
    data = layers[
        (layers["depth"] == depth)
        & (layers["statistic"] == "signal_grad_norm")
        & layers["layer"].str.startswith("block")
    ]
    if data.empty:
        _empty(ax, "no backward-signal rows")
        return
    for arch, r, dashes, label in first_and_last(ax, data, "layer_index"):
        # a log axis cannot show a band that reaches zero: keep it above the smallest mean
        floor = (r["mean"].min() / 10, np.inf)
        blocks = np.arange(1, len(r) + 1)
        _band(ax, blocks, r["mean"], r["lo"], r["hi"], ARCH_COLORS[arch], label, dashes, floor)
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
        _empty(ax, f"no {statistic}")
        return
    data = at_epoch(ax, data, epoch)
    chosen = data["epoch"].iloc[0]
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
    """He et al. Fig. 7: std of each BatchNorm output, in depth order, at the end."""
    depth = _deepest(layers)
    data = layers[(layers["depth"] == depth) & (layers["statistic"] == "response_std")]
    if data.empty:
        _empty(ax, "no BatchNorm layers")
        return
    data = at_epoch(ax, data)
    last = data["epoch"].iloc[0]
    for arch, rows in data.groupby("arch", sort=True):
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
    ax.set_xlabel(f"BN layer (input → output), depth {depth}")
    ax.set_ylabel("response std")
    ax.set_title(f"layer responses (epoch {last})")
    ax.legend(frameon=False)


def branch_zeros(ax, networks: pd.DataFrame) -> None:
    """How often the branch ReLU outputs 0, at initialisation and at the end (claim 5a)."""
    data = networks[networks["statistic"] == "inactive_fraction_branch"]
    if data.empty:
        _empty(ax, "no branch ReLUs")
        return
    for arch, r, dashes, label in first_and_last(ax, data, "depth"):
        style = {"color": ARCH_COLORS[arch], "marker": "o", "linestyle": dashes, "label": label}
        _errorbar(ax, r["depth"], r["mean"], r["lo"], r["hi"], (0, 1), **style)
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
        _empty(ax, "no bottleneck nets in this run")
        ax.set_title("linear against ReLU bottlenecks")
        return
    for variant, rows in bottleneck.groupby("variant", sort=True):
        label, color, dashes = BOTTLENECK_STYLES[variant]
        rows = rows.sort_values("width")
        _errorbar(
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
        _empty(ax, "no probes in this run")
        return
    depth = _deepest(probes)
    data = probes[
        (probes["depth"] == depth)
        & (probes["statistic"] == statistic)
        & (probes["site"] == "branch")
    ]
    for arch, r, dashes, label in first_and_last(ax, data, "layer_index"):
        blocks = np.arange(1, len(r) + 1)
        _band(ax, blocks, r["mean"], r["lo"], r["hi"], ARCH_COLORS[arch], label, dashes, bounds)
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
        _empty(ax, "no probes in this run")
        return
    depth = _deepest(probes)
    data = at_epoch(ax, probes[(probes["depth"] == depth) & (probes["probe"] == "lesion")])
    for arch, rows in data.groupby("arch", sort=True):
        intact = rows[rows["statistic"] == "intact_error"]
        curve = rows[rows["statistic"] == "k_deleted_error"].sort_values("layer_index")
        k = [0, *curve["layer_index"]]
        _band(
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
        _empty(ax, "no probes in this run")
        return
    depth = _deepest(probes)
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
        _empty(ax, "no width sweep in this run\n(configs/no_batchnorm.yaml has one)")
        return
    sweep = sweep if "epoch" in sweep else sweep.assign(epoch=0)
    data = sweep[sweep["statistic"] == "dead_fraction_branch"]
    for (arch, trained), rows in data.groupby(["arch", data["epoch"] > 0], sort=True):
        summary = rows.groupby("width")["value"].agg(["mean", "min", "max"]).reset_index()
        when = f"epoch {int(rows['epoch'].max())}" if trained else "init"
        _errorbar(
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
    """The tables as the panels read them: no bottleneck table when no such net was trained,
    and He et al.'s published errors beside a CIFAR-10 run's."""
    tables = dict(tables)
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
