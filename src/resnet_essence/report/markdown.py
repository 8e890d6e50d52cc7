"""The report, as Markdown, built from the aggregated tables and the verdicts alone.

Regenerating it never needs a training run. ``render.to_html`` turns the same text into the
HTML page; the published numbers it compares with come from ``papers.py``.
"""

from __future__ import annotations

import math

import pandas as pd

from .. import papers
from ..claims import (
    AGREES,
    BOUND,
    CHECK,
    DECISIVE,
    ESSAY,
    FAMILIES,
    INCONCLUSIVE,
    NEGLIGIBLE,
    REPLICATION,
    UNINFORMATIVE,
    VERDICTS,
    agreement_counts,
)
from ..claims.catalogue import Rules
from ..claims.networks import Grid

STAGES = ("initialisation", "trained", "random maps")


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


def _verdict_cell(verdict: str) -> str:
    return f"**{verdict}**" if verdict else ""


def _p_cell(p: float, q: float) -> str:
    return fmt_p(p) if math.isnan(q) else f"{fmt_p(p)} ({fmt_p(q)})"


def _column(claims: pd.DataFrame, name: str, default=math.nan) -> pd.Series:
    """A claims column, or ``default`` for tables written before it existed."""
    return claims[name] if name in claims else pd.Series(default, index=claims.index)


def _adjusted_cell(effect: float, level: float, lo: float, hi: float) -> str:
    """The interval the verdict uses, at the row's Holm-adjusted level."""
    if isinstance(level, float) and math.isnan(level):
        return "–"
    return f"{fmt_ci(effect, lo, hi)} ({level:.2%})"


def verdict_table(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per verdict: where it was judged, what was measured, and the result; the effect
    with its unadjusted 95% interval and with the interval the verdict uses (Holm-adjusted)."""
    margins = _column(claims, "margin")
    seeds = _column(claims, "n", 0)
    adjusted = zip(
        claims["effect"],
        _column(claims, "level_adj"),
        _column(claims, "lo_adj"),
        _column(claims, "hi_adj"),
        strict=True,
    )
    return pd.DataFrame(
        {
            "#": claims["claim_id"],
            "setting": claims["setting"],
            "measure": claims["measure"],
            "n": [str(int(n)) if n else "–" for n in seeds.fillna(0)],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(claims["effect"], claims["lo"], claims["hi"], strict=True)
            ],
            "[CI the verdict uses] (level)": [_adjusted_cell(*cells) for cells in adjusted],
            "margin": [fmt(m) for m in margins],
            "p (Holm)": [_p_cell(p, q) for p, q in zip(claims["p"], claims["p_holm"], strict=True)],
            "verdict": [_verdict_cell(v) for v in claims["verdict"]],
            "reason": claims["reason"].fillna(""),
        }
    )


def headline_table(claims: pd.DataFrame, family: str = ESSAY) -> pd.DataFrame:
    """One family's rows in short, as the README shows them: the effect with its unadjusted 95%
    interval, the margin, the verdict and the verdicts of the two halves of the seeds."""
    rows = claims[claims["family"] == family]
    halves = [
        f"{a} / {b}" if isinstance(a, str) and a else "–"
        for a, b in zip(
            _column(rows, "verdict_half_a", ""), _column(rows, "verdict_half_b", ""), strict=True
        )
    ]
    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "effect [95% CI]": [
                fmt_ci(e, lo, hi)
                for e, lo, hi in zip(rows["effect"], rows["lo"], rows["hi"], strict=True)
            ],
            "margin": [fmt(m) for m in rows["margin"]],
            "verdict": [_verdict_cell(v) for v in rows["verdict"]],
            "halves": halves,
        }
    )


def halves_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The seed-based rows judged on each half of the seeds, and whether the halves agree."""
    rows = claims[claims["halves_agree"].fillna("").isin(["yes", "no", ""])]
    rows = rows[rows["verdict_half_a"].fillna("") != ""]
    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "all seeds": [_verdict_cell(v) for v in rows["verdict"]],
            "first half": [_verdict_cell(v) for v in rows["verdict_half_a"]],
            "second half": [_verdict_cell(v) for v in rows["verdict_half_b"]],
            "halves agree": rows["halves_agree"].fillna("").replace("", "(neither decisive)"),
        }
    )


def power_table(claims: pd.DataFrame, power: float) -> pd.DataFrame:
    """For every inconclusive row with an estimate: the smallest effect its seeds detect, and
    the seeds that would detect the effect it observed."""
    rows = claims[claims["verdict"] == INCONCLUSIVE]
    rows = rows[pd.to_numeric(rows["detectable"], errors="coerce").notna()]

    def seeds(value: float) -> str:
        return "more than 10000" if not math.isfinite(value) else f"{int(value)}"

    return pd.DataFrame(
        {
            "#": rows["claim_id"],
            "setting": rows["setting"],
            "seeds now": rows["n"].astype(int),
            "effect": [fmt(e) for e in rows["effect"]],
            "margin": [fmt(m) for m in rows["margin"]],
            "measure (the unit of effect, margin and detectable)": rows["measure"],
            f"smallest detectable (distance from the reference, {power:.0%} power)": [
                fmt(d) for d in rows["detectable"]
            ],
            f"seeds for {power:.0%} power at the observed effect": [
                seeds(v) for v in rows["seeds_needed"]
            ],
        }
    )


def stage_counts(rows: pd.DataFrame) -> str:
    """How many rows of each stage (at initialisation, on trained nets, on random maps) came
    out decisive, at a floor (uninformative), as a bound, or neither: in words."""
    stages = _column(rows, "stage", "").fillna("")
    parts = []
    for stage in (*STAGES, ""):
        these = rows[stages == stage]
        if these.empty:
            continue
        verdicts = these["verdict"]
        counts = [f"{int(verdicts.isin(DECISIVE).sum())} decisive"]
        for word in (UNINFORMATIVE, BOUND):
            if (verdicts == word).any():
                counts.append(f"{int((verdicts == word).sum())} {word}")
        name = {"": "other", "trained": "on trained nets", "random maps": "on random maps"}
        parts.append(f"{name.get(stage, 'at ' + stage)}: {len(these)} ({', '.join(counts)})")
    return "; ".join(parts)


def definitions_table(definitions: pd.DataFrame, essay: bool = False) -> pd.DataFrame:
    """The claims of one family: each claim once, with its source, measure and rule."""
    table = {"#": definitions["id"], "claim": definitions["statement"]}
    if essay:
        table["in the essay"] = definitions["essay"]
    table.update(
        {
            "source": definitions["source"],
            "measure": definitions["measure"],
            "judged at": definitions["judged_at"],
            "predicted": definitions["predicted"],
            "smallest effect of interest": [
                f"{fmt(m)}: {why}" if why else "–"
                for m, why in zip(definitions["margin"], definitions["margin_reason"], strict=True)
            ],
        }
    )
    if "floor" in definitions:
        table["floor or bound"] = [f or "–" for f in definitions["floor"].fillna("")]
    if "changes" in definitions:
        table["rule changes"] = [
            "; ".join(c) if isinstance(c, list | tuple) and c else "–"
            for c in definitions["changes"]
        ]
    return pd.DataFrame(table)


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


def degradation_table(runs: pd.DataFrame, claims: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """Claim 4a in words: for each deeper plain net against the shallowest, whether the deep net
    *degrades* (it trains, as in He et al. Fig. 1, but to a higher training error), *fails* (most
    of its runs fail to train, the verdicts' rule) or neither, beside 4a's verdict."""
    rows = []
    plain = runs[runs["arch"] == "plain"]
    several = runs["dataset"].nunique() > 1  # claims' settings then start with the dataset
    for dataset, group in plain.groupby("dataset", sort=False):
        grid = Grid(group, _NO_EPOCHS, _NO_NET_RUNS, Rules.from_config(rules))
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
                    "4a": _verdict_cell(said) if said else "–",
                    "what it is": what,
                }
            )
    return pd.DataFrame(rows)


def claims_without_rows(claims: pd.DataFrame, definitions: pd.DataFrame, cfg: dict) -> pd.DataFrame:
    """The claims with no row in ``claims``, each with what its measure needs that the run's
    config ``cfg`` lacks (read from the claim's measure and setting in claims.yaml)."""
    judged = set(claims["claim_id"].astype(str))
    rows = []
    for claim in definitions.itertuples(index=False):
        if str(claim.id) not in judged:
            rows.append(
                {
                    "#": claim.id,
                    "family": claim.family,
                    "claim": claim.statement,
                    "why no row": _what_is_missing(
                        f"{claim.statement} {claim.measure} {claim.judged_at}", cfg
                    ),
                }
            )
    return pd.DataFrame(rows, columns=["#", "family", "claim", "why no row"])


def _what_is_missing(text: str, cfg: dict) -> str:
    archs = list(cfg.get("archs", []))
    needs = [f"{arch} nets" for arch in ("plain", "residual", "preact") if arch in text]
    missing = [need for need in needs if need.split()[0] not in archs]
    found = []
    if missing:
        found.append(f"it compares {' and '.join(needs)}; this run trains {', '.join(archs)}")
    if "shallowest" in text and len(cfg.get("depths", [])) < 2:
        found.append(f"it compares two depths; this run has {cfg.get('depths')}")
    if "width sweep" in text and not cfg.get("probes", {}).get("widths"):
        found.append("it needs the width sweep (probes.widths is empty)")
    if "bottleneck" in text and not cfg.get("bottleneck", {}).get("variants"):
        found.append("it needs the bottleneck nets (bottleneck.variants is empty)")
    return "; ".join(found) or (
        f"no net of this run gives its measure (archs {archs}, depths {cfg.get('depths')})"
    )


# Grid's other tables, which the rule for a failed run does not read
_NO_EPOCHS = pd.DataFrame(columns=["epoch"])
_NO_NET_RUNS = pd.DataFrame(columns=["arch", "depth", "seed", "statistic", "epoch", "value"])


def failed_runs(runs: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The runs that diverged or failed to train, by the verdicts' own rule
    (claims.networks.Grid.failed), each with its final training error."""
    found = []
    for _, group in runs.groupby("dataset", sort=False):
        grid = Grid(group, _NO_EPOCHS, _NO_NET_RUNS, Rules.from_config(rules))
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


def lr_schedule(train: dict) -> str:
    """The learning-rate schedule of config ``train:`` in words (training.learning_rate)."""
    warmup = train.get("warmup_epochs") or 0
    ramp = f" after a {warmup:g}-epoch linear warm-up" if warmup else ""
    if train.get("lr_schedule") == "cosine":
        return f"cosine decay{ramp}"
    milestones = list(train.get("lr_milestones") or [])
    if not milestones:
        return f"constant{ramp}"
    unit = {"iteration": "iterations", "epoch": "epochs", "fraction": "of the schedule"}
    at = ", ".join(f"{m:g}" for m in milestones)
    where = unit.get(train.get("milestone_unit"), train.get("milestone_unit"))
    return f"×{train.get('lr_gamma'):g} at {at} {where}{ramp}"


def fmt_params(count: float) -> str:
    """A parameter count readable at any size: 0.27M, 12.3k, 868."""
    if count >= 1e5:
        return f"{count / 1e6:.2f}M"
    if count >= 1e3:
        return f"{count / 1e3:.1f}k"
    return f"{int(count)}"


def _setup(cfg: dict, setup: dict) -> str:
    train, model = cfg.get("train", {}), cfg.get("model", {})
    schedule = lr_schedule(train)
    items = [
        f"dataset `{cfg.get('dataset')}`; archs {cfg.get('archs')}; depths {cfg.get('depths')}; "
        f"seeds {cfg.get('seeds')}; device `{cfg.get('device')}`",
        f"training: {train.get('epochs')} epochs, batch {train.get('batch_size')}, lr "
        f"{train.get('lr')} ({schedule}), momentum {train.get('momentum')}, weight decay "
        f"{train.get('weight_decay')}, crop padding {train.get('crop_padding')}, flips "
        f"{train.get('flip')}",
        f"network: width {model.get('width')}, shortcut option {model.get('shortcut')}, norm "
        f"{model.get('norm')}, residual nets initialised {model.get('init', 'he')} (plain nets "
        "and every row at epoch 0: He)",
        "versions: " + ", ".join(f"{k} {v}" for k, v in setup["versions"].items()),
        f"hardware: {setup['hardware']}",
    ]
    return "\n".join(f"- {item}" for item in items)


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims table as Markdown for a published run (docs/example*/claims.md): one section
    per family, the essay's first, and the agreement of the halves where they were judged."""
    parts = []
    for family, title in (
        (ESSAY, "The essay's claims"),
        (REPLICATION, "Replications"),
        (CHECK, "Checks"),
    ):
        rows = claims[claims["family"] == family]
        if rows.empty:
            continue
        decisive = int(rows["verdict"].isin(DECISIVE).sum())
        parts += [f"## {title}", f"{len(rows)} rows, {decisive} decisive; {stage_counts(rows)}."]
        if rows["verdict_half_a"].fillna("").ne("").any():
            agree, judged = agreement_counts(claims, family)
            parts.append(
                f"The two halves of the seeds agree on {agree} of the {judged} rows decisive in "
                "either."
            )
        parts.append(markdown_table(verdict_table(rows)))
    return "\n\n".join(parts) + "\n"


def _family_section(
    claims: pd.DataFrame, definitions: pd.DataFrame, family: str, title: str, rules: dict
) -> list[str]:
    """One family's section: its verdicts, the halves, the power of what stayed inconclusive,
    and its claims with their rules."""
    rows = claims[claims["family"] == family]
    decisive = int(rows["verdict"].isin(DECISIVE).sum())
    parts = [
        f"## {title}",
        f"{FAMILIES[family].capitalize()}: {len(rows)} rows, {decisive} decisive (a verdict for "
        f"or against, or negligible). By what they rest on: {stage_counts(rows)}. Rows at a "
        "floor (*uninformative*) or a *bound* are no evidence either way and are counted apart.",
        "### Summary",
        markdown_table(summary_table(rows)),
        "### Verdicts",
        markdown_table(verdict_table(rows)),
    ]
    if rows["verdict_half_a"].fillna("").ne("").any():
        agree, judged = agreement_counts(claims, family)
        parts += [
            "### The two halves of the seeds",
            "The same rows judged on each half of the seeds alone (the first half of the sorted "
            f"seeds, and the rest): the halves agree on {agree} of the {judged} rows decisive in "
            "either.",
            markdown_table(halves_table(rows)),
        ]
    power = power_table(rows, rules["power"])
    if len(power):
        parts += [
            "### Power of the inconclusive rows",
            "For each inconclusive row: the smallest effect (its distance from the reference) "
            f"its seeds detect with {rules['power']:.0%} power, and the seeds that would give that "
            "power for the effect it observed, both for a paired t test at Holm's strictest "
            "level, alpha over the family's number of rows.",
            markdown_table(power),
        ]
    parts += [
        "### The claims and their rules",
        markdown_table(
            definitions_table(definitions[definitions["family"] == family], family == ESSAY)
        ),
    ]
    return parts


# the words the verdict rows use, defined once (a newcomer meets them in every table)
WORDS = (
    "**Words and units.** A run *converged* when its final weights' training error in eval "
    "mode (the last epoch's running error for runs that predate that measure) is at most "
    "report.converged_train_err, *failed to train* as just said, and *trained partly* in "
    "between. Each claim predicts its effect on one side of a *reference* value (0, a "
    "difference of nothing, unless the claim's rule below says otherwise, under *predicted*), "
    "and the margin is measured from it; the power tables give an effect's distance from it. "
    "An effect, its interval, its margin and its smallest detectable value are in the unit of "
    "the row's measure: error rates and other fractions as fractions of 1 (0.01 is one "
    "percentage point), slopes of the backward signal in decades per network, speeds in "
    "epochs. Only the tables of final errors give percent."
)
# why a final training error can sit above the test error
FINAL_ERRORS_NOTE = (
    "Error rates in percent. The training error is the running mean over the last epoch's "
    "batches, as He et al. plot it: measured on augmented images while the weights still "
    "change, so it can be above the test error. The training error in eval mode (where the "
    "runs measured it) is one pass over the training set with the final weights, without "
    "augmentation: what the convergence criterion judges. The test error is one pass over the "
    "test set with the final weights."
)


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
    rules = cfg["report"]
    meanings = pd.DataFrame(
        {"verdict": [f"**{v}**" for v in VERDICTS], "meaning": list(VERDICTS.values())}
    )
    parts = [
        "# resnet-essence: why residual networks work, measured",
        "Every number below was computed by this pipeline from the run described under Setup; "
        "each verdict follows the rule of its claim, fixed before the data were seen.",
        "## How a verdict is reached",
        "The claims come in three families, named in advance (`claims.yaml`): the essay's own "
        "claims, replications of published results, and checks of theorems. Nets are compared "
        "**seed by seed**: seed k gives every architecture the same initial weights where shapes "
        "match and the same batches and augmentation, so each row's effect is the mean of "
        "seed-matched differences with a paired t interval (95%), and `n` counts the seeds (or "
        "seed pairs) it rests on. Each claim has a smallest effect of interest (`margin`, with "
        "its reason below): a verdict for or against needs the interval beyond the margin, an "
        "interval inside it is *negligible*. Holm's correction runs within each family "
        f"(family-wise alpha {rules['alpha']}); p is the smallest level at which the row's "
        "interval falls on one side of a margin, and p (Holm) must be below alpha. Each row "
        "prints its unadjusted 95% interval and, beside it, the interval the verdict uses: at "
        "the row's Holm-adjusted level, 1 - alpha p / p (Holm), which lies beyond (or inside) a "
        "margin exactly when the row is decided. Before any p-value, a row whose two arms sit "
        "at a floor or ceiling of the measure (within the margin of the same end of its range, "
        f"fewer than {rules['floor_errors']} errors each, or responses that never moved from "
        "initialisation) is *uninformative*, and one where an arm never reaches the event "
        "measured is a *bound*; neither takes part in Holm's correction. Rows on the "
        "final weights use only seeds where both nets converged (the final weights' training "
        f"error in eval mode at most {rules['converged_train_err']:g}; the last epoch's running "
        "error for runs that predate that measure); rows at initialisation use every run. A run "
        "fails "
        f"to train when it diverges or ends at {rules['failure_fraction']:g} of the chance error "
        "or above; failures are counted and compared with McNemar's exact test. Error rates "
        "carry at least the binomial uncertainty of counting errors on the images.",
        WORDS,
        markdown_table(meanings),
    ]
    if setup.get("beside"):
        titles, table, counts = setup["beside"]
        parts[2:2] = [
            "## This run beside the published ones",
            "The essay's claims and the replications (rows) in this run and in the published "
            f"runs of `report.beside` ({', '.join(titles[1:])}), each cell the verdict with its "
            "effect and unadjusted 95% interval; – where a run has no such row (another depth "
            f"or schedule). {counts}",
            table,
        ]
    for family, title in ((ESSAY, "The essay's claims"), (REPLICATION, "Replications")):
        parts += _family_section(claims, definitions, family, title, rules)
    unjudged = claims_without_rows(claims, definitions, cfg)
    if len(unjudged):
        parts += [
            "## Claims this run cannot judge",
            f"{len(unjudged)} of the {len(definitions)} claims have no row here: each needs nets "
            "or data that this run's config does not include.",
            markdown_table(unjudged),
        ]
    checks = claims[claims["family"] == CHECK]
    parts += [
        "## Checks",
        "Theorems and identities the pipeline checks numerically (including claims 1 and 3a, "
        "which follow from the binomial law and from I + J_F having full rank): they can only "
        "fail through a bug, and count as no evidence for the essay.",
        markdown_table(verdict_table(checks)),
        markdown_table(definitions_table(definitions[definitions["family"] == CHECK])),
        "## Figure",
        f"![main figure]({figure})",
        "## Final errors",
        FINAL_ERRORS_NOTE,
        markdown_table(final_block(final, runs)),
    ]
    degradation = degradation_table(runs, claims, rules)
    if len(setup.get("degradation", {})) > 1:  # the published runs of report.beside too
        degradation = pd.concat(
            [table.assign(run=title) for title, table in setup["degradation"].items()],
            ignore_index=True,
        )
        degradation = degradation[["run", *degradation.columns[:-1]]]
    if len(degradation):
        parts += [
            "## Degradation or failure (claim 4a)",
            "He et al.'s degradation is a deep plain net that trains, only to a higher training "
            "error than a shallow one (their Fig. 1); a deep net most of whose runs fail to train "
            f"(training error at least {rules['failure_fraction']:g} of chance) is a failure, "
            "a stronger outcome that the same verdict also counts as agreeing.",
            markdown_table(degradation),
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
        markdown_table(collapse_summary(tables["survival"], cfg["collapse"]["example_dims"])),
    ]
    if "blocks" in tables and len(tables["blocks"]):
        parts += [
            "### Network maps on the lifted manifold",
            "The fraction of points at which each block map stays locally injective, the trunk "
            "carrying the manifold lifted to n channels, and each block's difference from the "
            "plain layer on the same random maps (claims 3a, 3b, 3c).",
            markdown_table(block_summary(tables["blocks"])),
        ]
    parts += ["## Diverged or failed runs", *failed_runs_section(runs, rules)]
    parts += [
        "## Setup",
        _setup(cfg, setup),
        "### Wall time of each stage",
        markdown_table(stage_times(setup["benchmarks"])),
    ]
    return "\n\n".join(parts) + "\n"
