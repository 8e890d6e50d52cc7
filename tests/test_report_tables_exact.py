"""The report's verdict and measurement tables (report/verdicts.py, report/measurements.py) and
the cells they are written in (report/cells.py), cell by cell, on small tables whose every cell
is typed out by hand: the column names, the words of each reason, the defaults for tables
written before a column existed, and claims.md as a whole."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from conftest import default_config

from resnet_essence.claims import (
    AGREES,
    BOUND,
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    UNINFORMATIVE,
)
from resnet_essence.report.cells import (
    ci_column,
    fmt,
    fmt_ci,
    fmt_p,
    fmt_params,
    markdown_table,
    verdict_cell,
)
from resnet_essence.report.measurements import (
    block_summary,
    collapse_summary,
    degradation_table,
    failed_runs_section,
    final_block,
    paper_comparison,
)
from resnet_essence.report.verdicts import (
    claims_markdown,
    claims_without_rows,
    definitions_table,
    halves_table,
    headline_table,
    power_table,
    stage_counts,
    summary_table,
    verdict_table,
)

NAN = math.nan

# -- verdicts.py ----------------------------------------------------------------------------------


def _claims() -> pd.DataFrame:
    """Two essay rows (one decisive, on trained nets; one open, at initialisation) whose halves
    agree once and disagree once, and one replication row whose halves agree."""
    columns = [
        "family", "claim_id", "setting", "measure", "n", "effect", "lo", "hi", "margin", "p",
        "p_holm", "verdict", "reason", "verdict_half_a", "verdict_half_b", "halves_agree", "stage",
    ]  # fmt: skip
    rows = [
        ("essay", "3b", "depth 20", "m1", 6, 0.5, 0.25, 0.75, 0.1, 0.0004, 0.0008, SUPPORTED, NAN)
        + (SUPPORTED, SUPPORTED, "yes", "trained"),
        ("essay", "V", "depth 56", "m2", 6, 0.05, -0.1, 0.2, 0.3, 0.2, 0.4, INCONCLUSIVE, "open")
        + (SUPPORTED, INCONCLUSIVE, "no", "initialisation"),
        ("replication", "7", "depth 20", "m3", 4, 1.0, 0.5, 1.5, 0.2, 0.01, 0.01, AGREES, "")
        + (AGREES, AGREES, "yes", "trained"),
    ]
    return pd.DataFrame(rows, columns=columns)


HEADER = (
    "| # | setting | measure | n | effect [95% CI] | [CI the verdict uses] (level) | margin | "
    "p (Holm) | verdict | reason |\n|---|---|---|---|---|---|---|---|---|---|"
)


def test_claims_markdown_is_one_section_a_family_with_its_own_counts():
    expected = "\n\n".join(
        [
            "## The essay's claims",
            "2 rows, 1 decisive; at initialisation: 1 (0 decisive); on trained nets: 1 "
            "(1 decisive).",
            "The two halves of the seeds agree on 1 of the 2 rows decisive in either.",
            HEADER
            + "\n| 3b | depth 20 | m1 | 6 | 0.5 [0.25, 0.75] | – | 0.1 | &lt;0.001 (&lt;0.001) "
            "| **supported** |  |"
            + "\n| V | depth 56 | m2 | 6 | 0.05 [-0.1, 0.2] | – | 0.3 | 0.200 (0.400) "
            "| **inconclusive** | open |",
            "## Replications",
            "1 rows, 1 decisive; on trained nets: 1 (1 decisive).",
            "The two halves of the seeds agree on 1 of the 1 rows decisive in either.",
            HEADER + "\n| 7 | depth 20 | m3 | 4 | 1 [0.5, 1.5] | – | 0.2 | 0.010 (0.010) "
            "| **agrees with the paper** |  |",
        ]
    )
    assert claims_markdown(_claims()) == expected + "\n"


def test_claims_markdown_without_halves_says_nothing_of_their_agreement():
    unsplit = pd.Series([None] * 3, dtype=object)  # as claims.csv reads a run without halves
    claims = _claims().assign(verdict_half_a=unsplit, verdict_half_b=unsplit, halves_agree=unsplit)
    text = claims_markdown(claims[claims["family"] == "replication"])
    first = "## Replications\n\n1 rows, 1 decisive; on trained nets: 1 (1 decisive)."
    assert text.startswith(first)
    assert "halves" not in text and "## The essay" not in text and "## Checks" not in text


def test_halves_table_says_when_neither_half_was_decisive():
    claims = pd.DataFrame(
        {
            "claim_id": ["3b", "V", "4a", "5b"],
            "setting": ["s1", "s2", "s3", "s4"],
            "verdict": [SUPPORTED, INCONCLUSIVE, CONTRADICTED, SUPPORTED],
            "verdict_half_a": [SUPPORTED, INCONCLUSIVE, NAN, SUPPORTED],
            "verdict_half_b": [SUPPORTED, INCONCLUSIVE, NAN, CONTRADICTED],
            "halves_agree": ["yes", NAN, NAN, "no"],
        }
    )
    table = halves_table(claims)
    assert list(table.columns) == [
        "#", "setting", "all seeds", "first half", "second half", "halves agree",
    ]  # fmt: skip
    assert list(table["#"]) == ["3b", "V", "5b"]  # 4a was not split
    assert list(table["halves agree"]) == ["yes", "(neither decisive)", "no"]
    assert list(table["second half"]) == ["**supported**", "**inconclusive**", "**contradicted**"]


def test_stage_counts_of_a_table_written_before_stages_counts_every_row_as_other():
    rows = pd.DataFrame({"verdict": [SUPPORTED, UNINFORMATIVE, INCONCLUSIVE, BOUND, UNINFORMATIVE]})
    assert stage_counts(rows) == "other: 5 (1 decisive, 2 uninformative, 1 bound)"
    rows["stage"] = ["random maps", "", "random maps", np.nan, "trained"]
    assert stage_counts(rows) == (
        "on trained nets: 1 (0 decisive, 1 uninformative); on random maps: 2 (1 decisive); "
        "other: 2 (0 decisive, 1 uninformative, 1 bound)"
    )


def test_summary_table_counts_the_verdicts_of_each_claim_in_order_of_appearance():
    claims = pd.DataFrame(
        {
            "claim_id": ["V", "3b", "3b", "3b"],
            "claim": ["the signal vanishes", "blocks keep more", "-", "-"],
            "verdict": [CONTRADICTED, SUPPORTED, INCONCLUSIVE, SUPPORTED],
        }
    )
    table = summary_table(claims)
    assert table.to_dict("list") == {
        "#": ["V", "3b"],
        "claim": ["the signal vanishes", "blocks keep more"],
        "verdicts": ["1× **contradicted**", "2× **supported**, 1× **inconclusive**"],
    }


def _definitions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["3b", "V"],
            "family": ["essay", "essay"],
            "statement": ["blocks keep more", "the signal vanishes"],
            "essay": ["§2: 「q1」", "§3: 「q2」"],
            "source": ["src1", "src2"],
            "measure": ["meas1", "meas2"],
            "judged_at": ["end", "init"],
            "predicted": ["> 0, beyond 0.1", "< 0, beyond 0.3"],
            "margin": [0.1, 0.3],
            "margin_reason": ["a tenth", ""],
            "floor": ["both at 0", np.nan],
            "outcomes": [{"for": "A", "against": "B"}, None],
            "changes": [["2026-11: x", "2026-12: y"], []],
        }
    )


def test_definitions_table_cell_by_cell():
    table = definitions_table(_definitions(), essay=True)
    assert table.to_dict("list") == {
        "#": ["3b", "V"],
        "claim": ["blocks keep more", "the signal vanishes"],
        "in the essay": ["§2: 「q1」", "§3: 「q2」"],
        "source": ["src1", "src2"],
        "measure": ["meas1", "meas2"],
        "judged at": ["end", "init"],
        "predicted": ["> 0, beyond 0.1", "< 0, beyond 0.3"],
        "smallest effect of interest": ["0.1: a tenth", "–"],
        "floor or bound": ["both at 0", "–"],
        "what a verdict would mean": ["for: A; against: B", "–"],
        "rule changes": ["2026-11: x; 2026-12: y", "–"],
    }


def test_definitions_table_leaves_out_what_the_family_does_not_have():
    definitions = _definitions().drop(columns=["floor", "changes"]).assign(outcomes=None)
    table = definitions_table(definitions)
    assert list(table.columns) == [
        "#", "claim", "source", "measure", "judged at", "predicted", "smallest effect of interest",
    ]  # fmt: skip


INTERVENTIONS = (
    "it needs intervention nets (archs such as plain-leaky0.2, residual-a0.5, preact-reluid: "
    "configs/interventions.yaml)"
)


def _unjudged(*rows) -> pd.DataFrame:
    columns = ["id", "family", "statement", "measure", "judged_at"]
    return pd.DataFrame([("1", "check", "judged", "m", "end"), *rows], columns=columns)


def test_claims_without_rows_says_what_each_claim_needs():
    definitions = _unjudged(
        ("Z1", "explanation", "zeros taken out (plain-<act>)", "train error", "end"),
        ("R1", "explanation", "a ReLU on the identity path", "preact-reluid - preact", "end"),
        ("B1", "essay", "a bottleneck loses", "test error", "end"),
    )
    claims = pd.DataFrame({"claim_id": [1]})  # read from a CSV: a number, the same claim as "1"
    plain = {"archs": ["plain", "residual"], "depths": [8, 20]}
    table = claims_without_rows(claims, definitions, plain)
    assert list(table.columns) == ["#", "family", "claim", "why no row"]
    assert table.to_dict("list") == {
        "#": ["Z1", "R1", "B1"],
        "family": ["explanation", "explanation", "essay"],
        "claim": list(definitions["statement"][1:]),
        "why no row": [
            INTERVENTIONS,
            "it compares preact nets; this run trains plain, residual; " + INTERVENTIONS,
            "it needs the bottleneck nets (bottleneck.variants is empty)",
        ],
    }
    # preact is a base net, not an intervention; with the bottleneck nets trained, B1 lacks none
    # of what it names
    preact = {"archs": ["plain", "residual", "preact"], "depths": [8, 20]}
    preact["bottleneck"] = {"variants": ["linear"]}
    table = claims_without_rows(claims, definitions, preact)
    assert list(table["why no row"]) == [
        INTERVENTIONS,
        INTERVENTIONS,
        "no net of this run gives its measure (archs ['plain', 'residual', 'preact'], "
        "depths [8, 20])",
    ]
    # an intervention net trained: nothing missing for Z1 and R1
    table = claims_without_rows(claims, definitions, {**preact, "archs": ["preact-reluid"]})
    assert table["why no row"].iloc[1].startswith("it compares preact nets; this run trains")
    assert INTERVENTIONS not in " ".join(table["why no row"])


# -- measurements.py ------------------------------------------------------------------------------


def _final() -> pd.DataFrame:
    """final.csv of four nets: three CIFAR-10 nets of He et al.'s bases (one at a depth they
    did not train), one intervention net, one digits net."""
    rows = [
        ("cifar10", "residual", 20, 272_474, 0.0875, 0.08, 0.095),
        ("cifar10", "plain", 8, 78_042, 0.1, 0.09, 0.11),
        ("cifar10", "preact", 110, 1_700_000, 0.0637, 0.06, 0.07),
        ("cifar10", "plain-leaky0.2", 20, 272_474, 0.2, 0.1, 0.3),
        ("digits", "plain", 20, 272_474, 0.02, 0.01, 0.03),
    ]
    columns = ["dataset", "arch", "depth", "params", "test_err_mean", "test_err_lo", "test_err_hi"]
    return pd.DataFrame(rows, columns=columns).assign(
        n_runs=3, n_diverged=0, train_err_mean=0.01, train_err_lo=0.005, train_err_hi=0.02
    )


def test_final_block_names_its_columns():
    assert list(final_block(_final()).columns) == [
        "dataset", "net", "params", "runs (diverged)", "train error % [95% CI]",
        "test error % [95% CI]",
    ]  # fmt: skip
    assert list(final_block(_final())["dataset"]) == ["cifar10"] * 4 + ["digits"]


def test_paper_comparison_sets_he_et_al_beside_each_of_their_nets():
    table = paper_comparison(_final())
    assert table.to_dict("list") == {
        "net": ["plain-8", "preact-110", "residual-20"],
        "params (ours)": ["78.0k", "1.70M", "0.27M"],
        "params (paper)": ["–", "1.7M", "0.27M"],
        "test error % (ours)": ["10 [9, 11]", "6.37 [6, 7]", "8.75 [8, 9.5]"],
        "He et al. %": ["–", "6.37", "8.75"],
        "akamaster reproduction %": ["–", "–", "8.27"],
    }


def _runs(train_err: dict) -> pd.DataFrame:
    rows = []
    for (arch, depth), errors in train_err.items():
        for seed, err in enumerate(errors):
            rows.append(
                {"dataset": "digits", "arch": arch, "depth": depth, "seed": seed}
                | {"status": "completed", "epochs_completed": 10, "train_err": err}
                | {"num_classes": 10, "n_train": 1437, "n_test": 360}
                | {"init": "he", "norm": "batch"}
            )
    return pd.DataFrame(rows)


def test_a_failure_is_when_more_than_half_of_the_runs_fail():
    rules = default_config()["report"]
    assert rules["failure_fraction"] == 0.5  # of chance 0.9: a run fails at 45% error
    runs = _runs(
        {
            ("plain", 8): [0.01] * 5,
            ("plain", 20): [0.8, 0.8, 0.1, 0.1, 0.1],  # two of five fail
            ("plain", 32): [0.8, 0.8, 0.1, 0.1],  # half
            ("plain", 44): [0.8, 0.8, 0.8, 0.1, 0.1],  # three of five
        }
    )
    settings = ["depth 20 vs 8", "depth 32 vs 8", "depth 44 vs 8"]
    claims = pd.DataFrame({"claim_id": "4a", "setting": settings, "verdict": AGREES})
    table = degradation_table(runs, claims, rules)
    assert list(table["runs that fail to train"]) == ["2 of 5", "2 of 4", "3 of 5"]
    degradation = "degradation: the deep net trains, to a higher training error"
    assert list(table["what it is"]) == [
        degradation,
        degradation,
        "failure: most runs of the deep net do not train",
    ]
    assert list(table["training error %"]) == ["38.0 vs 1.0", "45.0 vs 1.0", "52.0 vs 1.0"]


def test_the_failed_runs_section_of_no_runs():
    rules = default_config()["report"]
    runs = _runs({}).reindex(columns=["dataset", "arch", "depth", "seed", "status", "train_err"])
    runs["num_classes"] = pd.Series(dtype=int)
    runs["epochs_completed"] = pd.Series(dtype=int)
    assert failed_runs_section(runs, rules) == [
        "None of the 0 runs: all completed and trained. A run fails to train when it diverges or "
        "ends at 0.5 of the chance error or above (here a final training error of at least nan%, "
        "chance nan%): the rule of the verdicts, whose rows count these runs."
    ]


def _survival() -> pd.DataFrame:
    columns = [
        "manifold", "activation", "bias_std", "embed_dim", "recoverable", "recoverable_lo",
        "recoverable_hi", "theory", "recon_error",
    ]  # fmt: skip
    rows = [
        ("spiral", "relu", 0.0, 2, 0.25, 0.2, 0.3, 0.25, 0.5),
        ("spiral", "relu", 0.0, 5, 0.9, 0.8, 1.0, 0.8, 0.1),  # not a panel's dimension
        ("spiral", "relu", 0.5, 2, 0.6, 0.5, 0.7, 0.25, 0.2),  # with a bias
        ("spiral", "linear", 0.0, 2, 1.0, 1.0, 1.0, 1.0, 0.0),  # no ReLU
        ("circle", "relu", 0.0, 30, 1.0, 0.95, 1.0, 0.99999, 0.001),
    ]
    return pd.DataFrame(rows, columns=columns)


def test_collapse_summary_of_the_relu_rows_without_bias_at_the_panels_dimensions():
    table = collapse_summary(_survival(), (2, 30))
    assert table.to_dict("list") == {
        "manifold": ["spiral", "circle"],
        "n": [2, 30],
        "recoverable [95% CI]": ["0.25 [0.2, 0.3]", "1 [0.95, 1]"],
        "theory P(Bin(n,1/2) ≥ m)": ["0.25", "1"],
        "reconstruction error": ["0.5", "0.001"],
    }


def _blocks(paired: bool = True) -> pd.DataFrame:
    rows = [
        ("spiral", 2, "plain_layer", 0.25, NAN),
        ("spiral", 2, "residual", 0.75, 0.5),
        ("spiral", 5, "residual", 0.9, 0.1),  # not among the dimensions shown
        ("circle", 3, "plain_layer", 0.5, NAN),
        ("circle", 3, "residual", 0.875, 0.375),
    ]
    columns = ["manifold", "embed_dim", "block", "recoverable", "vs_plain"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame if paired else frame.drop(columns="vs_plain")


def test_block_summary_sets_each_block_beside_the_plain_layer():
    table = block_summary(_blocks())
    assert table.to_dict("list") == {
        "manifold": ["circle", "spiral"],
        "n": [3, 2],
        "plain_layer recoverable": ["0.5", "0.25"],
        "residual recoverable": ["0.875", "0.75"],
        "residual minus plain_layer": ["0.375", "0.5"],
    }
    table = block_summary(_blocks(paired=False), dims=(2, 5))
    assert table.to_dict("list") == {
        "manifold": ["spiral", "spiral"],
        "n": [2, 5],
        "plain_layer recoverable": ["0.25", "–"],
        "residual recoverable": ["0.75", "0.9"],
    }


def test_verdict_table_every_column_of_every_row():
    claims = _claims().assign(
        level_adj=[0.9975, NAN, 0.99], lo_adj=[0.3, NAN, 0.4], hi_adj=[0.7, NAN, 1.6]
    )
    claims.loc[1, "n"] = 0  # no seed measured
    table = verdict_table(claims)
    assert table.to_dict("list") == {
        "#": ["3b", "V", "7"],
        "setting": ["depth 20", "depth 56", "depth 20"],
        "measure": ["m1", "m2", "m3"],
        "n": ["6", "–", "4"],
        "effect [95% CI]": ["0.5 [0.25, 0.75]", "0.05 [-0.1, 0.2]", "1 [0.5, 1.5]"],
        "[CI the verdict uses] (level)": ["0.5 [0.3, 0.7] (99.75%)", "–", "1 [0.4, 1.6] (99.00%)"],
        "margin": ["0.1", "0.3", "0.2"],
        "p (Holm)": ["<0.001 (<0.001)", "0.200 (0.400)", "0.010 (0.010)"],
        "verdict": ["**supported**", "**inconclusive**", "**agrees with the paper**"],
        "reason": ["", "open", ""],
    }
    # a table written before n, margin and the adjusted interval: dashes, not errors
    old = verdict_table(_claims().drop(columns=["n", "margin"]))
    assert list(old["n"]) == ["–"] * 3 and list(old["margin"]) == ["–"] * 3
    assert list(old["[CI the verdict uses] (level)"]) == ["–"] * 3
    # a p-value without its Holm-adjusted one
    assert list(verdict_table(claims.assign(p_holm=NAN))["p (Holm)"]) == [
        "<0.001",
        "0.200",
        "0.010",
    ]


def test_headline_table_every_cell():
    table = headline_table(_claims())
    assert table.to_dict("list") == {
        "#": ["3b", "V"],
        "setting": ["depth 20", "depth 56"],
        "effect [95% CI]": ["0.5 [0.25, 0.75]", "0.05 [-0.1, 0.2]"],
        "margin": ["0.1", "0.3"],
        "verdict": ["**supported**", "**inconclusive**"],
        "halves": ["supported / supported", "supported / inconclusive"],
    }
    unsplit = _claims().drop(columns=["verdict_half_a", "verdict_half_b"])
    assert list(headline_table(unsplit, "replication")["halves"]) == ["–"]


def test_power_table_every_cell():
    claims = pd.DataFrame(
        {
            "claim_id": ["3b", "V", "M1", "M2"],
            "setting": ["s1", "s2", "s3", "s4"],
            "verdict": [INCONCLUSIVE, INCONCLUSIVE, SUPPORTED, INCONCLUSIVE],
            "n": [6.0, 4.0, 6.0, 5.0],
            "effect": [0.05, 0.001, 0.5, 0.2],
            "margin": [0.1, 0.3, 0.1, 0.2],
            "measure": ["m1", "m2", "m3", "m4"],
            "detectable": [0.123, 0.456, 0.1, "–"],  # M2: no estimate to size
            "seeds_needed": [12.0, math.inf, 3.0, NAN],
        }
    )
    table = power_table(claims, 0.9)
    assert table.to_dict("list") == {
        "#": ["3b", "V"],
        "setting": ["s1", "s2"],
        "seeds now": [6, 4],
        "effect": ["0.05", "0.001"],
        "margin": ["0.1", "0.3"],
        "measure (the unit of effect, margin and detectable)": ["m1", "m2"],
        "smallest detectable (distance from the reference, 90% power)": ["0.123", "0.456"],
        "seeds for 90% power at the observed effect": ["12", "more than 10000"],
    }


# -- cells.py -------------------------------------------------------------------------------------


def test_numbers_become_cells_at_three_significant_digits():
    assert [fmt(v) for v in (0.123456, 1234.5, 12.0, -0.00012345, 0)] == [
        "0.123",
        "1.23e+03",
        "12",
        "-0.000123",
        "0",
    ]
    assert fmt(math.pi, 5) == "3.1416" and fmt(None) == "–" and fmt(NAN) == "–"
    assert fmt_ci(0.5, 0.25, 0.75) == "0.5 [0.25, 0.75]"
    assert fmt_ci(0.01234, 0.01, 0.015, 100, 2) == "1.2 [1, 1.5]"
    assert fmt_ci(0.5, NAN, NAN, 100) == "50"


def test_p_values_and_parameter_counts_at_their_edges():
    assert [fmt_p(p) for p in (0.0009999, 0.001, 0.0456, 1.0, NAN)] == [
        "<0.001",
        "0.001",
        "0.046",
        "1.000",
        "–",
    ]
    counts = (999, 1000, 99_999, 100_000, 2_500_000)
    assert [fmt_params(c) for c in counts] == ["999", "1.0k", "100.0k", "0.10M", "2.50M"]


def test_ci_column_and_verdict_cells():
    frame = pd.DataFrame({"err_mean": [0.1, NAN], "err_lo": [0.05, 0.1], "err_hi": [0.2, 0.2]})
    assert ci_column(frame, "err", 100) == ["10 [5, 20]", "–"]
    assert ci_column(frame, "err") == ["0.1 [0.05, 0.2]", "–"]
    assert verdict_cell(SUPPORTED) == "**supported**" and verdict_cell("") == ""


def test_markdown_table_escapes_markup_and_line_breaks():
    frame = pd.DataFrame({"a": ["x|y", "line\nbreak"], "<b>": [1, 2.5]})
    assert markdown_table(frame) == (
        "| a | &lt;b&gt; |\n|---|---|\n| x\\|y | 1.0 |\n| line break | 2.5 |"
    )
    assert markdown_table(None) == "_(no rows)_"
    assert markdown_table(frame.iloc[:0]) == "_(no rows)_"
