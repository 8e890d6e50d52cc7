"""The report: one list of blocks rendered both as Markdown and as standalone HTML.

The blocks are built from the aggregated tables and the verdicts alone, so regenerating the
report never needs a training run. Rendering is deliberately small: headings, paragraphs,
tables, images and lists are all the report uses.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

# He et al. 2016, Table 6 (CIFAR-10 test error, %), and the plain nets read off their Fig. 6
# (as tabulated by a-martyn/resnet); the DESIGN notes list the sources.
PAPER_RESNET = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43}
PAPER_PARAMS = {20: "0.27M", 32: "0.46M", 44: "0.66M", 56: "0.85M", 110: "1.7M"}
REPRODUCTION_RESNET = {20: 8.27, 32: 7.37, 44: 6.90, 56: 6.61, 110: 6.32}
PAPER_PLAIN = {20: 9.5, 32: 9.9, 44: 11.4, 56: 12.8}


@dataclass
class Block:
    kind: str  # heading, paragraph, table, image, bullets
    text: str = ""
    level: int = 2
    table: pd.DataFrame | None = None
    items: list[str] = field(default_factory=list)


def paper_table() -> pd.DataFrame:
    rows = [{"arch": "residual", "depth": d, "test_err": e} for d, e in PAPER_RESNET.items()]
    rows += [{"arch": "plain", "depth": d, "test_err": e} for d, e in PAPER_PLAIN.items()]
    return pd.DataFrame(rows)


def fmt(value: float, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}"


def fmt_ci(mean: float, lo: float, hi: float, scale: float = 1.0, digits: int = 3) -> str:
    if isinstance(mean, float) and math.isnan(mean):
        return "–"
    if isinstance(lo, float) and math.isnan(lo):
        return fmt(mean * scale, digits)
    return f"{fmt(mean * scale, digits)} [{fmt(lo * scale, digits)}, {fmt(hi * scale, digits)}]"


def claims_block(claims: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "#": claims["claim_id"],
            "claim": claims["claim"],
            "measure": claims["measure"],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(claims["effect"], claims["lo"], claims["hi"], strict=True)
            ],
            "verdict": ["**" + v + "**" for v in claims["verdict"]],
            "rule": claims["rule"],
        }
    )


def final_block(final: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "dataset": final["dataset"],
            "net": final["arch"] + "-" + final["depth"].astype(str),
            "params": [f"{p / 1e6:.2f}M" for p in final["params"]],
            "runs (diverged)": [
                f"{n} ({d})" for n, d in zip(final["n_runs"], final["n_diverged"], strict=True)
            ],
            "train error % [95% CI]": [
                fmt_ci(m, lo, hi, 100)
                for m, lo, hi in zip(
                    final["train_err_mean"],
                    final["train_err_lo"],
                    final["train_err_hi"],
                    strict=True,
                )
            ],
            "test error % [95% CI]": [
                fmt_ci(m, lo, hi, 100)
                for m, lo, hi in zip(
                    final["test_err_mean"], final["test_err_lo"], final["test_err_hi"], strict=True
                )
            ],
        }
    )


def paper_comparison(final: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in final[final["dataset"] == "cifar10"].sort_values(["arch", "depth"]).iterrows():
        depth = int(r["depth"])
        paper = PAPER_RESNET if r["arch"] == "residual" else PAPER_PLAIN
        rows.append(
            {
                "net": f"{r['arch']}-{depth}",
                "params (ours)": f"{r['params'] / 1e6:.2f}M",
                "params (paper)": PAPER_PARAMS.get(depth, "–"),
                "test error % (ours)": fmt_ci(
                    r["test_err_mean"], r["test_err_lo"], r["test_err_hi"], 100
                ),
                "He et al. %": fmt(paper.get(depth, math.nan)),
                "akamaster reproduction %": fmt(REPRODUCTION_RESNET.get(depth, math.nan))
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


# -- rendering -----------------------------------------------------------------------------------
def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append(f"{'#' * b.level} {b.text}")
        elif b.kind == "paragraph":
            out.append(b.text)
        elif b.kind == "image":
            out.append(f"![{b.items[0] if b.items else ''}]({b.text})")
        elif b.kind == "bullets":
            out.append("\n".join(f"- {item}" for item in b.items))
        elif b.kind == "table":
            t = b.table
            if t is None or t.empty:
                out.append("_(no rows)_")
                continue
            lines = [
                "| " + " | ".join(_md_cell(c) for c in t.columns) + " |",
                "|" + "---|" * len(t.columns),
            ]
            lines += [
                "| " + " | ".join(_md_cell(v) for v in row) + " |"
                for row in t.itertuples(index=False)
            ]
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _inline_html(text: str) -> str:
    """Escape, then turn **bold** and `code` into tags (the only inline marks used)."""
    escaped = html.escape(str(text))
    parts = escaped.split("**")
    escaped = "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))
    parts = escaped.split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def to_html(blocks: list[Block], title: str) -> str:
    body = []
    for b in blocks:
        if b.kind == "heading":
            body.append(f"<h{b.level}>{_inline_html(b.text)}</h{b.level}>")
        elif b.kind == "paragraph":
            body.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "image":
            alt = html.escape(b.items[0] if b.items else "")
            body.append(f'<p><img src="{html.escape(b.text)}" alt="{alt}"></p>')
        elif b.kind == "bullets":
            items = "".join(f"<li>{_inline_html(i)}</li>" for i in b.items)
            body.append(f"<ul>{items}</ul>")
        elif b.kind == "table":
            t = b.table
            if t is None or t.empty:
                body.append("<p><em>(no rows)</em></p>")
                continue
            head = "".join(f"<th>{_inline_html(c)}</th>" for c in t.columns)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_inline_html(v)}</td>" for v in row) + "</tr>"
                for row in t.itertuples(index=False)
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
        "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;"
        "padding:0.2em 0.5em;text-align:left}img{max-width:100%}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


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


def build_report(
    tables: dict[str, pd.DataFrame], claims: pd.DataFrame, setup: dict, figure: str
) -> list[Block]:
    """The report's blocks. ``setup`` holds ``config`` (dict), ``versions`` (dict), ``hardware``
    (str) and ``benchmarks`` (DataFrame of Snakemake benchmark rows)."""
    cfg = setup["config"]
    runs, final = tables["runs"], tables["final"]
    blocks = [
        Block("heading", "resnet-essence: why residual networks work, measured", level=1),
        Block(
            "paragraph",
            "Every number below was computed by this pipeline from the run described in "
            "*Setup*; the verdicts follow the rules stated in the claims table.",
        ),
        Block("heading", "Claims of the essay"),
        Block("table", table=claims_block(claims)),
        Block(
            "paragraph",
            "Verdict rule for networks: the 95% Welch interval of the difference of means over "
            "seeds lies entirely on the predicted side of 0 (supported), entirely on the other "
            "side (contradicted), or contains 0 (inconclusive). Collapse claims use the "
            "thresholds in their rule column; 1b compares with the binomial law.",
        ),
        Block("heading", "Figure"),
        Block("image", figure, items=["main figure"]),
        Block("heading", "Final errors"),
        Block("table", table=final_block(final)),
    ]
    if (final["dataset"] == "cifar10").any():
        blocks += [
            Block("heading", "Against He et al. (2016), CIFAR-10"),
            Block("table", table=paper_comparison(final)),
        ]
    blocks += [
        Block("heading", "ReLU collapse (2-D spiral and 3-D swiss roll)"),
        Block("table", table=collapse_summary(tables["survival"])),
    ]
    failed = runs[runs["status"] != "completed"]
    blocks.append(Block("heading", "Diverged or failed runs"))
    if failed.empty:
        blocks.append(Block("paragraph", f"None: all {len(runs)} runs completed."))
    else:
        blocks.append(
            Block(
                "table",
                table=failed[["dataset", "arch", "depth", "seed", "status", "epochs_completed"]],
            )
        )
    train = cfg.get("train", {})
    blocks += [
        Block("heading", "Setup"),
        Block(
            "bullets",
            items=[
                f"dataset `{cfg.get('dataset')}`; archs {cfg.get('archs')}; depths "
                f"{cfg.get('depths')}; seeds {cfg.get('seeds')}; device `{cfg.get('device')}`",
                f"training: {train.get('epochs')} epochs, batch {train.get('batch_size')}, "
                f"lr {train.get('lr')} (milestones {train.get('lr_milestones')} "
                f"{train.get('milestone_unit')}s, ×{train.get('lr_gamma')}), momentum "
                f"{train.get('momentum')}, weight decay {train.get('weight_decay')}",
                f"network: width {cfg.get('model', {}).get('width')}, shortcut option "
                f"{cfg.get('model', {}).get('shortcut')}, norm {cfg.get('model', {}).get('norm')}",
                "versions: " + ", ".join(f"{k} {v}" for k, v in setup["versions"].items()),
                f"hardware: {setup['hardware']}",
            ],
        ),
        Block("heading", "Wall time of each stage", level=3),
        Block("table", table=stage_times(setup["benchmarks"])),
    ]
    return blocks
