from html.parser import HTMLParser

import pandas as pd

from resnet_essence.render import to_html
from resnet_essence.report import (
    fmt_ci,
    halves_table,
    headline_table,
    markdown_table,
    paper_comparison,
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

    from resnet_essence.tables import markdown

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- tables: generated by python -m resnet_essence.tables -->")
    end = readme.index("<!-- tables: end -->")
    assert readme[start:end].split("\n", 1)[1].strip() == markdown().strip()
