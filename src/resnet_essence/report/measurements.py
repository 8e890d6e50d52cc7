"""The tables of what the runs measured: final errors per net (beside He et al.'s for CIFAR-10),
claim 4a's degradation or failure in words, the runs that diverged or failed to train, the
bottleneck nets and the collapse experiment.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import papers
from ..claims import AGREES, NEGLIGIBLE
from ..claims.catalogue import Rules
from ..claims.grid import Grid
from ..nets.interventions import BASES
from .cells import ci_column, fmt, fmt_ci, fmt_params, markdown_table, verdict_cell


def final_block(final: pd.DataFrame, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Final errors per net; with ``runs``, how its runs were trained (the precision, and how
    many seeds were stepped together)."""
    table = pd.DataFrame(
        {
            "dataset": final["dataset"],
            "net": final["arch"] + "-" + final["depth"].astype(str),
            "params": [fmt_params(p) for p in final["params"]],
            "runs (diverged)": [
                f"{n} ({d})" for n, d in zip(final["n_runs"], final["n_diverged"], strict=True)
            ],
            "train error % [95% CI]": ci_column(final, "train_err", 100),
            "test error % [95% CI]": ci_column(final, "test_err", 100),
        }
    )
    if runs is not None and {"precision", "packed"} <= set(runs):
        keys = ["dataset", "arch", "depth"]
        how = runs.groupby(keys, sort=False).agg(
            precision=("precision", lambda v: "/".join(sorted(set(v)))),
            packed=("packed", "max"),
        )
        found = [how.loc[tuple(r)] for r in final[keys].itertuples(index=False)]
        table["precision"] = [h["precision"] for h in found]
        table["seeds trained together"] = [int(h["packed"]) for h in found]
    if runs is not None and "train_err_eval" in runs and runs["train_err_eval"].notna().any():
        keys = ["dataset", "arch", "depth"]
        completed = runs[runs["status"] == "completed"]  # as final.csv's means
        clean = completed.groupby(keys, sort=False)["train_err_eval"].mean()
        table["train error in eval mode %"] = [
            fmt(100 * clean.get(tuple(r), math.nan)) for r in final[keys].itertuples(index=False)
        ]
    return table


def paper_comparison(final: pd.DataFrame) -> pd.DataFrame:
    rows = []
    ours = final[(final["dataset"] == "cifar10") & final["arch"].isin(BASES)]  # He et al.'s nets
    for _, r in ours.sort_values(["arch", "depth"]).iterrows():
        depth = int(r["depth"])
        paper = papers.HE_PLAIN_TEST_ERR if r["arch"] == "plain" else papers.HE_RESNET_TEST_ERR
        if r["arch"] == "preact":
            paper = {110: papers.HE_PREACT_110["preact"]}
        rows.append(
            {
                "net": f"{r['arch']}-{depth}",
                "params (ours)": fmt_params(r["params"]),
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


def degradation_table(runs: pd.DataFrame, claims: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Claim 4a in words: for each deeper plain net against the shallowest, whether the deep net
    *degrades* (it trains, as in He et al. Fig. 1, but to a higher training error), *fails* (most
    of its runs fail to train, the verdicts' rule) or neither, beside 4a's verdict."""
    rows = []
    plain = runs[runs["arch"] == "plain"]
    several = runs["dataset"].nunique() > 1  # claims' settings then start with the dataset
    for dataset, group in plain.groupby("dataset", sort=False):
        grid = Grid.of_runs(group, Rules.from_config(rules))
        depths = sorted(int(d) for d in set(group["depth"]))
        shallow = ("plain", depths[0])
        for depth in depths[1:]:
            deep = ("plain", depth)
            failed = grid.failed(deep)
            err_deep = grid.error(deep, "train_err").mean()
            err_shallow = grid.error(shallow, "train_err").mean()
            setting = (f"{dataset}, " if several else "") + f"depth {depth} vs {depths[0]}"
            verdict = claims.loc[
                (claims["claim_id"] == "4a") & (claims["setting"] == setting), "verdict"
            ]
            said = verdict.iloc[0] if len(verdict) else ""
            if 2 * int(failed.sum()) > len(failed):
                what = "failure: most runs of the deep net do not train"
            elif said == NEGLIGIBLE or err_deep <= err_shallow:
                what = "no degradation"
            elif said in (AGREES, ""):
                what = "degradation: the deep net trains, to a higher training error"
            else:
                what = f"a higher training error, which 4a finds {said}"
            rows.append(
                {
                    "dataset": dataset,
                    "nets": f"plain-{depth} vs plain-{depths[0]}",
                    "training error %": f"{100 * err_deep:.1f} vs {100 * err_shallow:.1f}",
                    "runs that fail to train": f"{int(failed.sum())} of {len(failed)}",
                    "4a": verdict_cell(said) if said else "–",
                    "what it is": what,
                }
            )
    return pd.DataFrame(rows)


def failed_runs(runs: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The runs that diverged or failed to train, by the verdicts' own rule
    (claims.grid.Grid.failed), each with its final training error."""
    found = []
    for _, group in runs.groupby("dataset", sort=False):
        grid = Grid.of_runs(group, Rules.from_config(rules))
        for (arch, depth), rows in group.groupby(["arch", "depth"], sort=False):
            failed = grid.failed((arch, int(depth)))
            found.append(rows[rows["seed"].map(failed).astype(bool).to_numpy()])
    columns = ["dataset", "arch", "depth", "seed", "status", "epochs_completed", "train_err"]
    if not found:
        return pd.DataFrame(columns=columns)
    return pd.concat(found)[columns].reset_index(drop=True)


def failed_runs_section(runs: pd.DataFrame, rules: dict) -> list[str]:
    """The report's section on runs that diverged or failed to train: what counts as failed,
    and every such run (the verdict rows' notes count the same runs)."""
    failed = failed_runs(runs, rules)
    chance = 1.0 - 1.0 / float(runs["num_classes"].iloc[0]) if len(runs) else float("nan")
    rule = (
        f"A run fails to train when it diverges or ends at {rules['failure_fraction']:g} of the "
        f"chance error or above (here a final training error of at least "
        f"{100 * rules['failure_fraction'] * chance:.1f}%, chance {100 * chance:.1f}%): the "
        "rule of the verdicts, whose rows count these runs."
    )
    if failed.empty:
        return [f"None of the {len(runs)} runs: all completed and trained. {rule}"]
    diverged = int((failed["status"] != "completed").sum())
    table = failed.assign(
        train_err=[
            "–" if status != "completed" else f"{100 * err:.1f}"
            for status, err in zip(failed["status"], failed["train_err"], strict=True)
        ]
    ).rename(columns={"train_err": "final training error %"})
    return [
        f"{len(failed)} of {len(runs)} runs: {diverged} diverged, "
        f"{len(failed) - diverged} completed but failed to train. {rule}",
        markdown_table(table),
    ]


def bottleneck_block(bottleneck: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": bottleneck["variant"],
            "bottleneck": bottleneck["width"],
            "params": [fmt_params(p) for p in bottleneck["params"]],
            "runs": bottleneck["n_runs"],
            "train error % [95% CI]": ci_column(bottleneck, "train_err", 100),
            "test error % [95% CI]": ci_column(bottleneck, "test_err", 100),
        }
    )


def collapse_summary(survival: pd.DataFrame, dims) -> pd.DataFrame:
    """The recoverable fraction at the embedding dimensions of the figure's panels (config
    ``collapse.example_dims``), beside the binomial law."""
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
    if "vs_plain" in data:
        paired = data.dropna(subset=["vs_plain"]).pivot_table(
            index=["manifold", "embed_dim"], columns="block", values="vs_plain", sort=True
        )
        paired.columns = [f"{c} minus plain_layer" for c in paired.columns]
        wide = wide.join(paired)
    wide = wide.map(fmt).reset_index().rename(columns={"embed_dim": "n"})
    return wide
