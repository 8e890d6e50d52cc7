"""The report, as Markdown, built from the aggregated tables and the verdicts alone.

Regenerating it never needs a training run. ``render.to_html`` turns the same text into the
HTML page; the published numbers it compares with come from ``papers.py``.
"""

from __future__ import annotations

import math

import pandas as pd

from . import papers
from .claims import VERDICTS


def fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


def fmt_ci(mean: float, lo: float, hi: float, scale: float = 1.0, digits: int = 3) -> str:
    if isinstance(mean, float) and math.isnan(mean):
        return "–"
    if isinstance(lo, float) and math.isnan(lo):
        return fmt(mean * scale, digits)
    return f"{fmt(mean * scale, digits)} [{fmt(lo * scale, digits)}, {fmt(hi * scale, digits)}]"


def fmt_p(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table; ``|``, ``<`` and ``>`` inside cells are escaped (data never becomes
    markup), an empty frame is said so."""
    if frame is None or frame.empty:
        return "_(no rows)_"

    def cell(value) -> str:
        text = str(value).replace("<", "&lt;").replace(">", "&gt;")
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(c) for c in frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per verdict: where it was judged, what was measured, and the result."""
    return pd.DataFrame(
        {
            "#": claims["claim_id"],
            "setting": claims["setting"],
            "measure": claims["measure"],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(claims["effect"], claims["lo"], claims["hi"], strict=True)
            ],
            "p (Holm)": [
                fmt_p(p) if math.isnan(q) else f"{fmt_p(p)} ({fmt_p(q)})"
                for p, q in zip(claims["p"], claims["p_holm"], strict=True)
            ],
            "verdict": [f"**{v}**" for v in claims["verdict"]],
            "reason": claims["reason"].fillna(""),
        }
    )


def definitions_table(definitions: pd.DataFrame) -> pd.DataFrame:
    """The claims table: each claim once, with its source, measure and rule."""
    return pd.DataFrame(
        {
            "#": definitions["id"],
            "claim": [
                f"**{s}**" if p else s
                for s, p in zip(definitions["statement"], definitions["primary"], strict=True)
            ],
            "source": definitions["source"],
            "measure": definitions["measure"],
            "judged at": definitions["judged_at"],
            "predicted": definitions["predicted"],
            "kind": definitions["kind"],
        }
    )


def summary_table(claims: pd.DataFrame) -> pd.DataFrame:
    """How many settings of each claim came out which way."""
    rows = []
    for claim_id, group in claims.groupby("claim_id", sort=False):
        counts = group["verdict"].value_counts()
        rows.append(
            {
                "#": claim_id,
                "claim": group["claim"].iloc[0],
                "verdicts": ", ".join(f"{n}× **{v}**" for v, n in counts.items()),
            }
        )
    return pd.DataFrame(rows)


def ci_column(frame: pd.DataFrame, metric: str, scale: float = 1.0) -> list[str]:
    """``metric``'s mean [lo, hi] from its ``_mean``, ``_lo`` and ``_hi`` columns, formatted."""
    columns = (frame[f"{metric}_{part}"] for part in ("mean", "lo", "hi"))
    return [fmt_ci(m, lo, hi, scale) for m, lo, hi in zip(*columns, strict=True)]


def final_block(final: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": final["dataset"],
            "net": final["arch"] + "-" + final["depth"].astype(str),
            "params": [f"{p / 1e6:.2f}M" for p in final["params"]],
            "runs (diverged)": [
                f"{n} ({d})" for n, d in zip(final["n_runs"], final["n_diverged"], strict=True)
            ],
            "train error % [95% CI]": ci_column(final, "train_err", 100),
            "test error % [95% CI]": ci_column(final, "test_err", 100),
        }
    )


def bottleneck_block(bottleneck: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": bottleneck["variant"],
            "bottleneck": bottleneck["width"],
            "params": [f"{p / 1e3:.1f}k" for p in bottleneck["params"]],
            "runs": bottleneck["n_runs"],
            "train error % [95% CI]": ci_column(bottleneck, "train_err", 100),
            "test error % [95% CI]": ci_column(bottleneck, "test_err", 100),
        }
    )


def paper_comparison(final: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in final[final["dataset"] == "cifar10"].sort_values(["arch", "depth"]).iterrows():
        depth = int(r["depth"])
        paper = papers.HE_PLAIN_TEST_ERR if r["arch"] == "plain" else papers.HE_RESNET_TEST_ERR
        if r["arch"] == "preact":
            paper = {110: papers.HE_PREACT_110["preact"]}
        rows.append(
            {
                "net": f"{r['arch']}-{depth}",
                "params (ours)": f"{r['params'] / 1e6:.2f}M",
                "params (paper)": papers.HE_PARAMS.get(depth, "–"),
                "test error % (ours)": ci_column(r.to_frame().T, "test_err", 100)[0],
                "He et al. %": fmt(paper.get(depth, math.nan)),
                "akamaster reproduction %": fmt(
                    papers.AKAMASTER_RESNET_TEST_ERR.get(depth, math.nan)
                )
                if r["arch"] == "residual"
                else "–",
            }
        )
    return pd.DataFrame(rows)


def collapse_summary(survival: pd.DataFrame, dims=(2, 3, 5, 15, 30)) -> pd.DataFrame:
    data = survival[
        (survival["activation"] == "relu")
        & (survival["bias_std"] == 0)
        & survival["embed_dim"].isin(dims)
    ]
    return pd.DataFrame(
        {
            "manifold": data["manifold"],
            "n": data["embed_dim"],
            "recoverable [95% CI]": [
                fmt_ci(m, lo, hi)
                for m, lo, hi in zip(
                    data["recoverable"], data["recoverable_lo"], data["recoverable_hi"], strict=True
                )
            ],
            "theory P(Bin(n,1/2) ≥ m)": [fmt(t) for t in data["theory"]],
            "reconstruction error": [fmt(e) for e in data["recon_error"]],
        }
    )


def block_summary(blocks: pd.DataFrame, dims=(2, 3, 4, 8, 16, 32)) -> pd.DataFrame:
    data = blocks[blocks["embed_dim"].isin(dims)]
    wide = data.pivot_table(
        index=["manifold", "embed_dim"], columns="block", values="recoverable", sort=True
    )
    wide.columns = [f"{c} recoverable" for c in wide.columns]
    wide = wide.map(fmt).reset_index().rename(columns={"embed_dim": "n"})
    return wide


def stage_times(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Wall time per rule from Snakemake benchmark rows (columns ``rule`` and ``s``)."""
    if benchmarks.empty:
        return pd.DataFrame(columns=["stage", "jobs", "total s", "longest s"])
    grouped = benchmarks.groupby("rule", sort=False)["s"]
    return pd.DataFrame(
        {
            "stage": list(grouped.groups),
            "jobs": grouped.size().to_numpy(),
            "total s": [f"{v:.1f}" for v in grouped.sum()],
            "longest s": [f"{v:.1f}" for v in grouped.max()],
        }
    )


def _setup(cfg: dict, setup: dict) -> str:
    train, model = cfg.get("train", {}), cfg.get("model", {})
    if train.get("lr_schedule") == "cosine":
        schedule = f"cosine decay after a {train.get('warmup_epochs')}-epoch linear warm-up"
    else:
        unit = train.get("milestone_unit")
        schedule = f"×{train.get('lr_gamma')} at {train.get('lr_milestones')} ({unit}s)"
    items = [
        f"dataset `{cfg.get('dataset')}`; archs {cfg.get('archs')}; depths {cfg.get('depths')}; "
        f"seeds {cfg.get('seeds')}; device `{cfg.get('device')}`",
        f"training: {train.get('epochs')} epochs, batch {train.get('batch_size')}, lr "
        f"{train.get('lr')} ({schedule}), momentum {train.get('momentum')}, weight decay "
        f"{train.get('weight_decay')}, crop padding {train.get('crop_padding')}, flips "
        f"{train.get('flip')}",
        f"network: width {model.get('width')}, shortcut option {model.get('shortcut')}, norm "
        f"{model.get('norm')}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in setup["versions"].items()),
        f"hardware: {setup['hardware']}",
    ]
    return "\n".join(f"- {item}" for item in items)


def build_report(
    tables: dict[str, pd.DataFrame],
    claims: pd.DataFrame,
    definitions: pd.DataFrame,
    setup: dict,
    figure: str,
) -> str:
    """The report in Markdown. ``setup`` holds ``config`` (dict), ``versions`` (dict),
    ``hardware`` (str) and ``benchmarks`` (DataFrame of Snakemake benchmark rows)."""
    cfg = setup["config"]
    runs, final = tables["runs"], tables["final"]
    primary = ", ".join(definitions.loc[definitions["primary"], "id"])
    meanings = pd.DataFrame(
        {"verdict": [f"**{v}**" for v in VERDICTS], "meaning": list(VERDICTS.values())}
    )
    parts = [
        "# resnet-essence: why residual networks work, measured",
        "Every number below was computed by this pipeline from the run described under Setup; "
        "each verdict follows the rule of its claim, fixed before the data were seen.",
        "[TOC]",
        "## Claims of the essay",
        f"Primary claims, named in advance: {primary} (bold in the claims table). A network claim "
        "is judged at every depth where it applies, each a Welch comparison over seeds with a "
        "two-sided p-value; Holm's correction runs over all network comparisons of this run "
        f"together (family-wise alpha {cfg['report']['alpha']}). Error rates carry at least "
        "the binomial uncertainty of counting errors on the test or training images, so identical "
        "values on every seed never make a decision by themselves.",
        markdown_table(meanings),
        "### Summary",
        markdown_table(summary_table(claims)),
        "### Verdicts",
        markdown_table(verdict_table(claims)),
        "### The claims and their rules",
        markdown_table(definitions_table(definitions)),
        "## Figure",
        f"![main figure]({figure})",
        "## Final errors",
        markdown_table(final_block(final)),
    ]
    if (final["dataset"] == "cifar10").any():
        parts += [
            "## Against He et al. (2016), CIFAR-10",
            markdown_table(paper_comparison(final)),
        ]
    bottleneck = tables.get("bottleneck")
    if bottleneck is not None and len(bottleneck):
        parts += [
            "## Linear and ReLU bottlenecks (MobileNetV2-style nets)",
            "Expanded layer held at the same width; the bottleneck narrows from right to left of "
            "the figure's panel. *linear*: MobileNetV2's block; *relu*: a ReLU6 after each "
            "projection; *expansion*: the shortcut between the expanded layers (claims B1-B3).",
            markdown_table(bottleneck_block(bottleneck)),
        ]
    parts += [
        "## ReLU collapse (2-D spiral and 3-D swiss roll)",
        markdown_table(collapse_summary(tables["survival"])),
    ]
    if "blocks" in tables and len(tables["blocks"]):
        parts += [
            "### Network maps on the lifted manifold",
            "The fraction of points at which each block map stays locally injective, the trunk "
            "carrying the manifold lifted to n channels (claims 3a, 3b).",
            markdown_table(block_summary(tables["blocks"])),
        ]
    failed = runs[runs["status"] != "completed"]
    parts.append("## Diverged or failed runs")
    if failed.empty:
        parts.append(f"None: all {len(runs)} runs completed.")
    else:
        columns = ["dataset", "arch", "depth", "seed", "status", "epochs_completed"]
        parts.append(markdown_table(failed[columns]))
    parts += [
        "## Setup",
        _setup(cfg, setup),
        "### Wall time of each stage",
        markdown_table(stage_times(setup["benchmarks"])),
    ]
    return "\n\n".join(parts) + "\n"
