from html.parser import HTMLParser

import pandas as pd

from resnet_essence.report.cells import fmt_ci, markdown_table
from resnet_essence.report.html import to_html
from resnet_essence.report.measurements import paper_comparison
from resnet_essence.report.verdicts import (
    halves_table,
    headline_table,
    power_table,
    stage_counts,
    verdict_table,
)

VOID = {"meta", "img", "br", "hr", "link"}


class _Balance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def assert_well_formed(document: str) -> None:
    parser = _Balance()
    parser.feed(document)
    parser.close()
    assert document.startswith("<!DOCTYPE html>")
    assert not parser.errors and not parser.stack, (parser.errors, parser.stack)


TEXT = """# Title & markup

[TOC]

## Claims

A **bold** word, *emphasis* and `code` & an ampersand; a verdict **supported**.

| a | verdict |
|---|---|
| x<y | **contradicted** |

![main figure](figures/main.png)

- one
- two
"""


def test_html_is_well_formed_escaped_and_dressed():
    document = to_html(TEXT, "report")
    assert_well_formed(document)
    assert "Title &amp; markup" in document
    assert "<em>emphasis</em>" in document and "*" not in document.split("<body>")[1]
    assert "<code>code</code>" in document and "x&lt;y" in document
    assert '<strong class="verdict supported">supported</strong>' in document
    assert '<strong class="verdict contradicted">contradicted</strong>' in document
    assert '<div class="toc">' in document and 'href="#claims"' in document
    assert '<a class="figure" href="figures/main.png"><img alt="main figure"' in document


def test_markdown_tables_escape_pipes():
    text = markdown_table(pd.DataFrame({"a|b": [1, 2], "verdict": ["**supported**", "x<y"]}))
    assert "| a\\|b | verdict |" in text
    assert "x&lt;y" in text  # data never becomes markup
    assert markdown_table(pd.DataFrame()) == "_(no rows)_"


def _claims() -> pd.DataFrame:
    nan = float("nan")
    return pd.DataFrame(
        {
            "family": ["replication", "replication", "essay"],
            "claim_id": ["4a", "4b'", "M1"],
            "setting": ["depth 56 vs 8", "depth 56 vs 8", "depth 20, epoch 0, residual"],
            "measure": ["m", "m", "m"],
            "n": [6, 0, 3],
            "effect": [0.8, nan, -0.05],
            "lo": [0.7, nan, -0.09],
            "hi": [0.9, nan, -0.01],
            "margin": [0.01, 0.005, 0.02],
            "p": [0.0001, nan, 0.04],
            "p_holm": [0.002, nan, 0.2],
            "verdict": ["agrees with the paper", "not testable here", "inconclusive"],
            "reason": ["", "at the ceiling", ""],
            "detectable": [nan, nan, 0.09],
            "seeds_needed": [nan, nan, 12.0],
            "verdict_half_a": ["agrees with the paper", "not testable here", "negligible"],
            "verdict_half_b": ["inconclusive", "not testable here", "negligible"],
            "halves_agree": ["no", "", "yes"],
        }
    )


def test_verdict_table_shows_seeds_margins_p_values_and_reasons():
    table = verdict_table(_claims())
    assert list(table["p (Holm)"]) == ["<0.001 (0.002)", "–", "0.040 (0.200)"]
    assert list(table["verdict"])[:2] == ["**agrees with the paper**", "**not testable here**"]
    assert table["reason"].iloc[1] == "at the ceiling"
    assert list(table["n"]) == ["6", "–", "3"]
    assert list(table["margin"]) == ["0.01", "0.005", "0.02"]


def test_the_verdict_table_prints_the_interval_the_verdict_uses_beside_the_95_percent_one():
    claims = _claims().assign(
        stage=["trained", "trained", "initialisation"],
        level_adj=[0.9975, float("nan"), 0.99],
        lo_adj=[0.6, float("nan"), -0.11],
        hi_adj=[1.0, float("nan"), 0.01],
    )
    table = verdict_table(claims)
    assert list(table["effect [95% CI]"])[0] == "0.8 [0.7, 0.9]"
    assert list(table["[CI the verdict uses] (level)"]) == [
        "0.8 [0.6, 1] (99.75%)",
        "–",
        "-0.05 [-0.11, 0.01] (99.00%)",
    ]
    # tables written before these columns existed still render
    assert verdict_table(_claims())["[CI the verdict uses] (level)"].eq("–").all()
    counts = stage_counts(
        claims.assign(verdict=["agrees with the paper", "uninformative", "bound"])
    )
    assert counts == (
        "at initialisation: 1 (0 decisive, 1 bound); on trained nets: 2 (1 decisive, "
        "1 uninformative)"
    )


def test_the_headline_table_is_one_familys_rows_with_their_halves():
    table = headline_table(_claims())
    assert list(table["#"]) == ["M1"]
    assert table.iloc[0]["halves"] == "negligible / negligible"
    assert table.iloc[0]["effect [95% CI]"] == "-0.05 [-0.09, -0.01]"
    assert list(headline_table(_claims(), "replication")["halves"]) == [
        "agrees with the paper / inconclusive",
        "not testable here / not testable here",
    ]


def test_halves_and_power_tables():
    halves = halves_table(_claims())
    assert list(halves["halves agree"]) == ["no", "(neither decisive)", "yes"]
    power = power_table(_claims(), 0.8)
    assert list(power["#"]) == ["M1"]  # only the inconclusive row with an estimate
    assert power.iloc[0]["seeds for 80% power at the observed effect"] == "12"


def test_fmt_ci():
    assert fmt_ci(0.1234, 0.1, 0.15, 100) == "12.3 [10, 15]"
    assert fmt_ci(float("nan"), 0, 0) == "–"
    assert fmt_ci(0.5, float("nan"), float("nan")) == "0.5"


def test_paper_comparison_only_for_cifar10():
    final = pd.DataFrame(
        {
            "dataset": ["cifar10", "digits"],
            "arch": ["residual", "residual"],
            "depth": [20, 20],
            "params": [269722, 269722],
            "test_err_mean": [0.09, 0.01],
            "test_err_lo": [0.08, 0.0],
            "test_err_hi": [0.1, 0.02],
        }
    )
    table = paper_comparison(final)
    assert len(table) == 1
    assert table.iloc[0]["He et al. %"] == "8.75"
    assert table.iloc[0]["params (paper)"] == "0.27M"


def test_the_readmes_table_of_result_files_is_the_contracts():
    from conftest import ROOT

    from resnet_essence.tables.schema import markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- tables: generated by python -m resnet_essence.tables.schema -->")
    end = readme.index("<!-- tables: end -->")
    assert readme[start:end].split("\n", 1)[1].strip() == markdown().strip()


def failed_per_net_in_section(report: str) -> dict[str, int]:
    """The report's 'Diverged or failed runs' section, as failed runs per net."""
    section = report.split("## Diverged or failed runs", 1)[1].split("\n## ", 1)[0]
    counts: dict[str, int] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 3 and cells[2].isdigit():  # dataset | arch | depth | seed | ...
            net = f"{cells[1]}-{cells[2]}"
            counts[net] = counts.get(net, 0) + 1
    return counts


def failed_per_net_in_claims(claims: pd.DataFrame) -> dict[str, int]:
    """What the verdict rows' notes say of each net (Grid.describe): how many runs failed."""
    import re

    text = "; ".join(claims["reason"].fillna("").astype(str))
    counts: dict[str, int] = {}
    for net, total in re.findall(r"(\w+-\d+): all (\d+) runs fail to train", text):
        counts[net] = int(total)
    for net, failed in re.findall(r"(\w+-\d+): [^;)]*?(\d+) failed to train", text):
        counts[net] = int(failed)
    for net in re.findall(r"(\w+-\d+): (?:all \d+ runs converged|\d+ of \d+ converged)", text):
        counts.setdefault(net, 0)
    return counts


def _runs(train_err: dict, status: dict | None = None) -> pd.DataFrame:
    rows = []
    for (arch, depth), errors in train_err.items():
        for seed, err in enumerate(errors):
            done = (status or {}).get((arch, depth, seed), "completed")
            rows.append(
                {"dataset": "digits", "arch": arch, "depth": depth, "seed": seed}
                | {"status": done, "epochs_completed": 10 if done == "completed" else 3}
                | {"train_err": err, "num_classes": 10, "n_train": 1437, "n_test": 360}
                | {"init": "he", "norm": "batch"}
            )
    return pd.DataFrame(rows)


def test_4a_is_called_a_degradation_when_the_deep_plain_net_trains_and_a_failure_when_not():
    from conftest import default_config

    from resnet_essence.claims import AGREES, INCONCLUSIVE
    from resnet_essence.report.measurements import degradation_table

    rules = default_config()["report"]  # a run fails to train at 45% (half of chance)
    runs = _runs(
        {
            ("plain", 8): [0.001, 0.002, 0.003, 0.002],
            ("plain", 14): [0.002, 0.001, 0.003, 0.002],  # no worse than plain-8
            ("plain", 26): [0.24, 0.26, 0.30, 0.46],  # trains, but worse; one run fails
            ("plain", 56): [0.77, 0.79, 0.44, 0.80],  # three of four fail
            ("residual", 56): [0.01, 0.01, 0.01, 0.01],  # not a plain net: no row
        }
    )
    claims = pd.DataFrame(
        {"claim_id": ["4a", "4a"], "setting": ["depth 26 vs 8", "depth 56 vs 8"]}
        | {"verdict": [AGREES, AGREES]}
    )
    table = degradation_table(runs, claims, rules)
    assert list(table["nets"]) == [
        "plain-14 vs plain-8",
        "plain-26 vs plain-8",
        "plain-56 vs plain-8",
    ]
    assert list(table["what it is"]) == [
        "no degradation",
        "degradation: the deep net trains, to a higher training error",
        "failure: most runs of the deep net do not train",
    ]
    assert list(table["runs that fail to train"]) == ["0 of 4", "1 of 4", "3 of 4"]
    assert list(table["training error %"])[1] == "31.5 vs 0.2"
    assert list(table["4a"]) == ["–", f"**{AGREES}**", f"**{AGREES}**"]
    # a higher error that 4a does not decide is not called a degradation
    claims.loc[0, "verdict"] = INCONCLUSIVE
    what = degradation_table(runs, claims, rules)["what it is"].iloc[1]
    assert what == f"a higher training error, which 4a finds {INCONCLUSIVE}"


def test_runs_that_fail_to_train_are_counted_with_the_verdicts_rule():
    from conftest import default_config

    from resnet_essence.claims.catalogue import Rules
    from resnet_essence.claims.grid import Grid
    from resnet_essence.report.measurements import failed_runs_section

    rules = default_config()["report"]  # failure_fraction 0.5 of chance 0.9: 45%
    runs = _runs(
        {
            ("plain", 56): [0.773, 0.77, 0.78],  # the default run's plain-56
            ("plain", 20): [0.03, 0.45, 0.2],  # one at the line exactly
            ("residual", 56): [0.019, 0.02, float("nan")],
        },
        status={("residual", 56, 2): "diverged"},
    )
    text = "\n\n".join(failed_runs_section(runs, rules))
    assert "5 of 9 runs: 1 diverged, 4 completed but failed to train" in text
    assert "at least 45.0%, chance 90.0%" in text
    assert "| digits | plain | 56 | 0 | completed | 10 | 77.3 |" in text
    assert "| digits | residual | 56 | 2 | diverged | 3 | – |" in text
    counted = failed_per_net_in_section("## Diverged or failed runs\n\n" + text)
    assert counted == {"plain-56": 3, "plain-20": 1, "residual-56": 1}
    # the verdicts' notes (Grid.describe) count the same runs
    grid = Grid.of_runs(runs, Rules.from_config(rules))
    notes = pd.DataFrame({"reason": [grid.describe(net) for net in grid._rows]})
    assert failed_per_net_in_claims(notes) == counted
    # and none failed: the section says so, with the rule
    ok = "\n".join(failed_runs_section(_runs({("residual", 20): [0.01, 0.02]}), rules))
    assert ok.startswith("None of the 2 runs: all completed and trained.")


def test_the_learning_rate_schedule_in_words():
    from resnet_essence.report.run_setup import lr_schedule

    step = {"lr_schedule": "step", "lr_milestones": [], "warmup_epochs": 0, "lr_gamma": 0.1}
    assert lr_schedule(step) == "constant"  # the smoke config: no milestone, no drop
    he = {**step, "lr_milestones": [32000, 48000], "milestone_unit": "iteration"}
    assert lr_schedule(he) == "×0.1 at 32000, 48000 iterations"
    assert lr_schedule({**he, "milestone_unit": "epoch", "warmup_epochs": 1}) == (
        "×0.1 at 32000, 48000 epochs after a 1-epoch linear warm-up"
    )
    assert lr_schedule({"lr_schedule": "cosine", "warmup_epochs": 0}) == "cosine decay"


def test_parameter_counts_are_readable_at_any_size():
    from resnet_essence.report.cells import fmt_params

    assert [fmt_params(p) for p in (868, 12345, 269722, 1.7e6)] == [
        "868",
        "12.3k",
        "0.27M",
        "1.70M",
    ]


def test_the_html_page_has_its_contents_without_a_toc_line_in_the_markdown():
    text = TEXT.replace("[TOC]\n", "")
    document = to_html(text, "report", contents=True)
    assert_well_formed(document)
    assert '<div class="toc">' in document and 'href="#claims"' in document
    assert document.index('<div class="toc">') < document.index('id="claims"')


def test_claims_without_a_row_say_what_this_run_lacks():
    from conftest import default_config

    from resnet_essence import claims as cl
    from resnet_essence.report.verdicts import claims_without_rows

    cfg = {**default_config(), "archs": ["residual"], "depths": [20]}
    cfg["bottleneck"] = {**cfg["bottleneck"], "variants": []}
    definitions = cl.claims_definitions(cl.Rules.from_config(cfg["report"]))
    judged = pd.DataFrame({"claim_id": ["3b", "1", "1b", "2", "3", "3a", "T1"]})
    table = claims_without_rows(judged, definitions, cfg).set_index("#")["why no row"]
    assert "3b" not in table.index and len(table) == len(definitions) - len(judged)
    assert table["V"] == "it compares plain nets; this run trains residual"
    assert table["5b"].startswith("it compares plain nets and residual nets; this run trains")
    assert "it compares two depths; this run has [20]" in table["4b"]
    assert table["W1"].endswith("it needs the width sweep (probes.widths is empty)")
    assert table["B1"] == "it needs the bottleneck nets (bottleneck.variants is empty)"
    assert table["5c"] == "it compares plain nets and residual nets; this run trains residual"
    # a measure that names no net: the run's nets, for the reader to compare with the rule
    assert table["T2"] == "no net of this run gives its measure (archs ['residual'], depths [20])"
