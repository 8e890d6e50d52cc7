"""The report, as Markdown, built from the aggregated tables and the verdicts alone.

Regenerating it never needs a training run. ``html.to_html`` turns the same text into the HTML
page; the published numbers it compares with come from ``papers.py``. Here: ``build_report``
and its sections, in the order a reader meets them, with the prose each section opens with.
The tables they show are made elsewhere: ``cells`` (how a value is written), ``verdicts`` (the
tables of verdicts), ``measurements`` (final errors, degradation, failed runs, bottlenecks,
collapse) and ``run_setup`` (the Setup section).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..claims import (
    CHECK,
    DECISIVE,
    ESSAY,
    EXPLANATION,
    FAMILIES,
    REPLICATION,
    VERDICTS,
    agreement_counts,
)
from ..claims.catalogue import Rules
from ..claims.grid import Grid
from .captions import caption
from .cells import markdown_table
from .interventions import chain_paragraph, intervention_rows, intervention_table
from .measurements import (
    block_summary,
    bottleneck_block,
    collapse_summary,
    degradation_table,
    failed_runs_section,
    final_block,
    paper_comparison,
)
from .run_setup import setup_list, stage_times
from .verdicts import (
    claims_without_rows,
    definitions_table,
    halves_table,
    power_table,
    stage_counts,
    summary_table,
    verdict_table,
)

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
# what the main figure shows, under it
FIGURE_CAPTION = (
    "(a) The essay's claims: each row's effect divided by its margin, with its 95% interval, "
    "turned so that the side the claim predicts is positive; the grey band is negligible "
    "(within one margin), the marker the verdict; rows on random maps, on the nets at "
    "initialisation and on the trained nets apart, a column per run where published runs are "
    "set beside this one. (b) The fraction of each manifold recoverable through ReLU beside the "
    "binomial law it follows. Then the training (dashed) and test (solid) error by epoch, on a "
    "log axis, at the depths where every architecture trains, and the slope of the backward "
    "signal across the blocks at the deepest of them, at initialisation (open markers) and at "
    "the end (filled). The supplementary figures below hold the rest."
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
            definitions_table(
                definitions[definitions["family"] == family], family in (ESSAY, EXPLANATION)
            )
        ),
    ]
    return parts


def _interventions_section(
    tables: dict[str, pd.DataFrame], claims: pd.DataFrame, rules: dict, figure: str | None
) -> list[str]:
    """The explanation family's measures, net by net, its figure, and the chain link by link."""
    grid = Grid(tables["runs"], tables["epochs"], tables["network_runs"], Rules.from_config(rules))
    parts = [
        "### What the intervention nets measured",
        "Each net beside the unmodified ones at its depth: the measures the rows above compare, "
        "with 95% intervals over seeds (the training error pooled over seeds' images; the "
        "signal's |slope| at the end on converged runs only).",
        markdown_table(intervention_table(intervention_rows(grid), rules)),
    ]
    if figure:
        parts.append(f"![the intervention nets]({figure})")
    parts += [
        "### The essay's chain, link by link",
        "A link is *supported* when most of its decisive rows support it, *contradicted* when "
        "most contradict it, *not what matters here* when most are negligible, and *open* "
        "otherwise (a rule fixed with the family, before its run). " + chain_paragraph(claims),
    ]
    return parts


def _how_a_verdict_is_reached(rules: dict) -> list[str]:
    """How a verdict is reached, from the config's ``report`` section ``rules``, and what each
    verdict word means."""
    meanings = pd.DataFrame(
        {"verdict": [f"**{v}**" for v in VERDICTS], "meaning": list(VERDICTS.values())}
    )
    return [
        "## How a verdict is reached",
        "The claims come in four families, named in advance (`claims.yaml`): the essay's own "
        "claims, the essay's explanation put to interventions on the nets (in runs that train "
        "them), replications of published results, and checks of theorems. Nets are compared "
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


def _beside_section(beside: tuple | None) -> list[str]:
    """This run beside the published runs of ``report.beside`` (``beside``: their titles, the
    side-by-side table and the counts of agreement), or nothing when there are none."""
    if not beside:
        return []
    titles, table, counts = beside
    return [
        "## This run beside the published ones",
        "The essay's claims and the replications (rows) in this run and in the published "
        f"runs of `report.beside` ({', '.join(titles[1:])}), each cell the verdict with its "
        "effect and unadjusted 95% interval; – where a run has no such row (another depth "
        f"or schedule). {counts}",
        table,
    ]


def _unjudged_section(claims: pd.DataFrame, definitions: pd.DataFrame, cfg: dict) -> list[str]:
    """The claims with no row in this run, each with what the run's config lacks for it."""
    unjudged = claims_without_rows(claims, definitions, cfg)
    if not len(unjudged):
        return []
    return [
        "## Claims this run cannot judge",
        f"{len(unjudged)} of the {len(definitions)} claims have no row here: each needs nets "
        "or data that this run's config does not include.",
        markdown_table(unjudged),
    ]


def _checks_section(claims: pd.DataFrame, definitions: pd.DataFrame) -> list[str]:
    checks = claims[claims["family"] == CHECK]
    return [
        "## Checks",
        "Theorems and identities the pipeline checks numerically (including claims 1 and 3a, "
        "which follow from the binomial law and from I + J_F having full rank): they can only "
        "fail through a bug, and count as no evidence for the essay.",
        markdown_table(verdict_table(checks)),
        markdown_table(definitions_table(definitions[definitions["family"] == CHECK])),
    ]


def _degradation_section(
    runs: pd.DataFrame, claims: pd.DataFrame, rules: dict, beside: dict[str, pd.DataFrame]
) -> list[str]:
    """Claim 4a in words, for this run, or with ``beside`` (``setup['degradation']``: a table
    per run) for this run and the published runs of report.beside, a column naming the run."""
    if len(beside) > 1:  # the published runs of report.beside too
        degradation = pd.concat(
            [table.assign(run=title) for title, table in beside.items()],
            ignore_index=True,
        )
        degradation = degradation[["run", *degradation.columns[:-1]]]
    else:
        degradation = degradation_table(runs, claims, rules)
    if not len(degradation):
        return []
    return [
        "## Degradation or failure (claim 4a)",
        "He et al.'s degradation is a deep plain net that trains, only to a higher training "
        "error than a shallow one (their Fig. 1); a deep net most of whose runs fail to train "
        f"(training error at least {rules['failure_fraction']:g} of chance) is a failure, "
        "a stronger outcome that the same verdict also counts as agreeing.",
        markdown_table(degradation),
    ]


def _trained_nets_sections(
    tables: dict[str, pd.DataFrame], claims: pd.DataFrame, rules: dict, setup: dict
) -> list[str]:
    """The final errors, claim 4a's degradation, He et al.'s errors beside a CIFAR-10 run's, and
    the bottleneck nets."""
    runs, final = tables["runs"], tables["final"]
    parts = [
        "## Final errors",
        FINAL_ERRORS_NOTE,
        markdown_table(final_block(final, runs)),
        *_degradation_section(runs, claims, rules, setup.get("degradation", {})),
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
    return parts


def _collapse_section(tables: dict[str, pd.DataFrame], dims) -> list[str]:
    """The collapse experiment at the embedding dimensions ``dims`` of the figure's panels, and
    the network maps on the lifted manifold where the run has them."""
    parts = [
        "## ReLU collapse (2-D spiral and 3-D swiss roll)",
        markdown_table(collapse_summary(tables["survival"], dims)),
    ]
    if "blocks" in tables and len(tables["blocks"]):
        parts += [
            "### Network maps on the lifted manifold",
            "The fraction of points at which each block map stays locally injective, the trunk "
            "carrying the manifold lifted to n channels, and each block's difference from the "
            "plain layer on the same random maps (claims 3a, 3b, 3c).",
            markdown_table(block_summary(tables["blocks"])),
        ]
    return parts


def supplementary_files(folder: str | Path) -> list[Path]:
    """The supplementary figures in ``folder`` (S<k>_<kind>.png), in their numbers' order."""
    found = Path(folder).glob("S*_*.png")
    return sorted(found, key=lambda p: int(p.stem.split("_", 1)[0][1:]))


def supplementary_section(paths: list[str]) -> list[str]:
    """Each supplementary figure under its own heading (Figure S1. ..., in order), its caption
    beneath it; nothing when the run drew none."""
    if not paths:
        return []
    parts = [
        "## Supplementary figures",
        "What the main figure leaves out, a figure each, numbered among those this run has data "
        "for (a figure whose data the run lacks is left out).",
    ]
    for path in paths:
        title, text = caption(Path(path).stem)
        parts += [f"### {title}", f"![{title}]({path})", text]
    return parts


def refresh_figure_sections(report: str, paths: list[str]) -> str:
    """A published report with the figure sections of today's code: the main figure's caption
    under it, and the supplementary figures ``paths`` under their headings, the section
    replacing an earlier one or coming before the Setup (where ``build_report`` puts it), for
    the figures of a published run redrawn from its folder (``python -m
    resnet_essence.report.figure``). Running it twice gives the same text."""
    blocks = report.rstrip("\n").split("\n\n")
    main = [i for i, b in enumerate(blocks) if b.startswith("![main figure](")]
    if main and blocks[main[0] + 1 : main[0] + 2] != [FIGURE_CAPTION]:
        blocks.insert(main[0] + 1, FIGURE_CAPTION)
    heading = "## Supplementary figures"
    if heading in blocks:  # the section runs to the next second-level heading
        start = blocks.index(heading)
        end = next(
            (i for i in range(start + 1, len(blocks)) if blocks[i].startswith("## ")),
            len(blocks),
        )
        del blocks[start:end]
    else:
        start = blocks.index("## Setup") if "## Setup" in blocks else len(blocks)
    blocks[start:start] = supplementary_section(paths)
    return "\n\n".join(blocks) + "\n"


def build_report(
    tables: dict[str, pd.DataFrame],
    claims: pd.DataFrame,
    definitions: pd.DataFrame,
    setup: dict,
    figure: str,
) -> str:
    """The report in Markdown. ``setup`` holds ``config`` (dict), ``versions`` (dict),
    ``hardware`` (str) and ``benchmarks`` (DataFrame of Snakemake benchmark rows); and, from
    ``side_by_side.beside_setup``, ``beside`` and ``degradation`` where report.beside names
    published runs."""
    cfg = setup["config"]
    rules = cfg["report"]
    parts = [
        "# resnet-essence: why residual networks work, measured",
        "Every number below was computed by this pipeline from the run described under Setup; "
        "each verdict follows the rule of its claim, fixed before the data were seen.",
        *_beside_section(setup.get("beside")),
        *_how_a_verdict_is_reached(rules),
    ]
    for family, title in (
        (ESSAY, "The essay's claims"),
        (EXPLANATION, "The essay's explanation, by intervention"),
        (REPLICATION, "Replications"),
    ):
        if family != EXPLANATION or (claims["family"] == EXPLANATION).any():
            parts += _family_section(claims, definitions, family, title, rules)
        if family == EXPLANATION and (claims["family"] == EXPLANATION).any():
            parts += _interventions_section(tables, claims, rules, setup.get("interventions"))
    parts += [
        *_unjudged_section(claims, definitions, cfg),
        *_checks_section(claims, definitions),
        "## Figure",
        f"![main figure]({figure})",
        FIGURE_CAPTION,
        *_trained_nets_sections(tables, claims, rules, setup),
        *_collapse_section(tables, cfg["collapse"]["example_dims"]),
        "## Diverged or failed runs",
        *failed_runs_section(tables["runs"], rules),
        *supplementary_section(setup.get("supplementary", [])),
        "## Setup",
        setup_list(cfg, setup),
        "### Wall time of each stage",
        markdown_table(stage_times(setup["benchmarks"])),
    ]
    return "\n\n".join(parts) + "\n"
