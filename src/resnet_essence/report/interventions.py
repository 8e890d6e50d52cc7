"""The explanation family in the report: the intervention nets' measures, what the verdicts say
about each link of the essay's chain, and their figure.

- :func:`intervention_table`: per net of the run at each depth (the unmodified nets beside the
  interventions), what was changed, its final training error in eval mode, its epochs to
  ``report.speed_train_err`` and the |slope| of its backward signal at initialisation and at
  the end (converged runs), each with its 95% interval over seeds: the measures the Z, I and R
  rows compare;
- :func:`chain_paragraph`: for each link of the chain (the zeros, how much identity passes,
  whether the identity path is linear), the verdicts of its rows, and what they support by the
  rule stated with it;
- :func:`intervention_figure`: training error and signal slope against alpha and for each
  activation of the plain net.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from ..claims import CONTRADICTED, DECISIVE, EXPLANATION, NEGLIGIBLE, SUPPORTED  # noqa: E402
from ..claims.grid import Grid, epochs_to  # noqa: E402
from ..nets.interventions import BASES, parse_arch  # noqa: E402
from ..stats import mean_ci, pooled_rate_ci  # noqa: E402
from .cells import fmt_ci  # noqa: E402
from .drawing import ARCH_COLORS, depth_colors, errorbar  # noqa: E402

SLOPE = "signal_norm_slope"
# the links of the essay's chain, each with the claims that test it
LINKS = (
    ("the exact zeros of the ReLU hold a plain net back", ("Z1", "Z2", "Z3", "Z4")),
    (
        "the identity path lets the net train, the more of it the better",
        ("I1", "I2", "I3"),
    ),
    ("the identity path must be linear", ("R1", "R2", "R3")),
)


def has_interventions(archs) -> bool:
    """Whether any net of ``archs`` is an intervention on the unmodified nets."""
    return any(arch not in BASES for arch in archs)


def _changed(arch: str) -> tuple[str, float]:
    """What an arch name changes, in words, and its alpha."""
    o = parse_arch(arch)
    words = []
    if o.activation == "leaky":
        words.append(f"leaky ReLU, slope {o.slope:g}")
    elif o.activation == "elu":
        words.append("ELU")
    if o.alpha != 1 and o.base != "plain":
        words.append(f"shortcut x {o.alpha:g}")
    if o.relu_identity:
        words.append("ReLU on the shortcut")
    alpha = 0.0 if o.base == "plain" else o.alpha
    return ", ".join(words) or "nothing (the unmodified net)", alpha


def _measures(grid: Grid, net: tuple[str, int]) -> dict[str, tuple[float, float, float]]:
    """(mean, lo, hi) of each measure of one net over its seeds."""
    out = {"train_err": pooled_rate_ci(grid.clean_error(net), grid.n_train)[:3]}
    speed = epochs_to(grid, net, grid.rules.speed_train_err).fillna(grid.schedule)
    out["speed"] = mean_ci(speed)[:3]
    for key, epoch in (("slope_init", grid.first), ("slope_end", grid.last)):
        values = grid.stat(net, SLOPE, epoch).abs() if epoch is not None else pd.Series()
        if key == "slope_end":
            ok = grid.converged(net)
            values = values[values.index.isin(ok.index[ok])]
        out[key] = mean_ci(values)[:3]
    return out


def intervention_rows(grid: Grid) -> pd.DataFrame:
    """One row per net and depth: arch, depth, base, activation, alpha, what changed, and the
    (mean, lo, hi) of each measure as columns ``<measure>_mean`` etc."""
    rows = []
    for arch, depth in grid.nets():
        options = parse_arch(arch)
        changed, alpha = _changed(arch)
        row = {"arch": arch, "depth": depth, "base": options.base, "changed": changed}
        row |= {"activation": arch.split("-")[1] if options.activation != "relu" else "relu"}
        row |= {"alpha": alpha, "reluid": options.relu_identity}
        for measure, (mean, lo, hi) in _measures(grid, (arch, depth)).items():
            row |= {f"{measure}_mean": mean, f"{measure}_lo": lo, f"{measure}_hi": hi}
        rows.append(row)
    return pd.DataFrame(rows)


def intervention_table(rows: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The report's table of :func:`intervention_rows`."""
    cell = lambda r, m, scale=1.0: fmt_ci(r[f"{m}_mean"], r[f"{m}_lo"], r[f"{m}_hi"], scale)
    return pd.DataFrame(
        {
            "net": [f"{a}-{d}" for a, d in zip(rows["arch"], rows["depth"], strict=True)],
            "changed": rows["changed"],
            "training error % (eval mode)": [cell(r, "train_err", 100) for _, r in rows.iterrows()],
            f"epochs to {rules['speed_train_err']:g} error": [
                cell(r, "speed") for _, r in rows.iterrows()
            ],
            "|signal slope|, init": [cell(r, "slope_init") for _, r in rows.iterrows()],
            "|signal slope|, end (converged)": [cell(r, "slope_end") for _, r in rows.iterrows()],
        }
    )


def chain_paragraph(claims: pd.DataFrame) -> str:
    """What the explanation family's verdicts say about each link of the essay's chain.

    The rule, fixed with the family (before its run): a link is *supported* when most of its
    decisive rows (supported, contradicted or negligible) are supported, *contradicted* when most
    are contradicted, *not what matters here* when most are negligible, and *open* otherwise
    (no decisive row, or no majority)."""
    rows = claims[claims["family"] == EXPLANATION]
    sentences = []
    for statement, ids in LINKS:
        verdicts = rows.loc[rows["claim_id"].isin(ids), "verdict"]
        decisive = verdicts[verdicts.isin(DECISIVE)]
        counts = {v: int((decisive == v).sum()) for v in (SUPPORTED, CONTRADICTED, NEGLIGIBLE)}
        reading = "open"
        for verdict, word in (
            (SUPPORTED, "supported"),
            (CONTRADICTED, "contradicted"),
            (NEGLIGIBLE, "not what matters here"),
        ):
            if len(decisive) and counts[verdict] > len(decisive) / 2:
                reading = word
        if not len(verdicts):
            continue
        tally = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
        sentences.append(
            f"*{statement}* ({', '.join(ids)}): **{reading}**; {len(verdicts)} rows, "
            f"{len(decisive)} decisive ({tally or 'none'})."
        )
    return " ".join(sentences)


def _category_axis(ax, rows: pd.DataFrame, measure: str, scale: float, log: bool) -> None:
    """The plain net's activations (and preact against preact-reluid) side by side."""
    plain = rows[(rows["base"] == "plain")].sort_values(["activation"])
    order = ["relu", *sorted(a for a in set(plain["activation"]) if a != "relu")]
    groups = [(f"plain, {a}", plain[plain["activation"] == a]) for a in order]
    preact = rows[(rows["base"] == "preact") & (rows["alpha"] == 1)]
    groups += [(f"{a}", preact[preact["arch"] == a]) for a in sorted(set(preact["arch"]))]
    colors = depth_colors(rows["depth"])
    for depth in sorted(set(rows["depth"])):
        for x, (_, group) in enumerate(groups):
            r = group[group["depth"] == depth]
            if len(r):
                r = r.iloc[0]
                errorbar(
                    ax, [x], [scale * r[f"{measure}_mean"]], [scale * r[f"{measure}_lo"]],
                    [scale * r[f"{measure}_hi"]], color=colors[depth], marker="o", linestyle="",
                    label=f"depth {depth}" if x == 0 else None,
                )  # fmt: skip
        residual = rows[(rows["arch"] == "residual") & (rows["depth"] == depth)]
        if len(residual):
            ax.axhline(
                scale * residual[f"{measure}_mean"].iloc[0], color=ARCH_COLORS["residual"],
                linestyle=":", linewidth=0.8, label=f"residual-{depth}",
            )  # fmt: skip
    ax.set_xticks(range(len(groups)), [name for name, _ in groups], rotation=30, ha="right")
    if log:
        ax.set_yscale("symlog", linthresh=0.1)  # errors of 0 and across decades
        ax.set_ylim(bottom=0)


def _alpha_axis(ax, rows: pd.DataFrame, measure: str, scale: float, log: bool) -> None:
    """Training error or signal slope against alpha, one line per base and depth."""
    for base in ("residual", "preact"):
        nets = rows[((rows["base"] == base) | (rows["base"] == "plain") & (base == "residual"))]
        nets = nets[(nets["activation"] == "relu") & ~nets["reluid"]]
        for depth, line in nets.groupby("depth"):
            line = line.sort_values("alpha")
            if line["alpha"].nunique() < 2 or (line["base"] == base).sum() < 2:
                continue
            label = f"{base}-{depth}" + (" (alpha 0: plain)" if base == "residual" else "")
            errorbar(
                ax, line["alpha"], scale * line[f"{measure}_mean"], scale * line[f"{measure}_lo"],
                scale * line[f"{measure}_hi"], color=ARCH_COLORS[base], marker="o", label=label,
            )  # fmt: skip
    ax.set_xlabel("alpha (shortcut x alpha + F(x))")
    if log:
        ax.set_yscale("symlog", linthresh=0.1)  # errors of 0 and across decades
        ax.set_ylim(bottom=0)


def intervention_figure(rows: pd.DataFrame):
    """Training error and the |slope| of the backward signal (end of training, converged runs):
    against alpha (left), and for each activation of the plain net (right)."""
    fig, axes = plt.subplots(2, 2, figsize=(7.1, 5.2), layout="constrained")
    panels = (
        ("train_err", 100, True, "training error, eval mode (%)"),
        ("slope_end", 1, False, "|slope of backward signal|, end"),
    )
    for row, (measure, scale, log, label) in enumerate(panels):
        _alpha_axis(axes[row, 0], rows, measure, scale, log)
        _category_axis(axes[row, 1], rows, measure, scale, log)
        for ax in axes[row]:
            ax.set_ylabel(label)
    titles = (
        "(a) the identity turned down",
        "(b) zeros taken out; ReLU on the identity",
    )
    for ax, title in zip(axes[0], titles, strict=True):
        ax.set_title(title, fontsize=8)
    for ax in axes.flat:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(frameon=False, fontsize=6, loc="best")
    return fig
