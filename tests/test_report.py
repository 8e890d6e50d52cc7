from html.parser import HTMLParser

import pandas as pd

from resnet_essence.render import to_html
from resnet_essence.report import fmt_ci, markdown_table, paper_comparison, verdict_table

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


def test_verdict_table_shows_p_values_and_reasons():
    claims = pd.DataFrame(
        {
            "claim_id": ["4a", "4b'"],
            "setting": ["depth 56 vs 8", "depth 56 vs 8"],
            "measure": ["m", "m"],
            "effect": [0.8, float("nan")],
            "lo": [0.7, float("nan")],
            "hi": [0.9, float("nan")],
            "p": [0.0001, float("nan")],
            "p_holm": [0.002, float("nan")],
            "verdict": ["supported", "not testable here"],
            "reason": ["", "at the ceiling"],
        }
    )
    table = verdict_table(claims)
    assert list(table["p (Holm)"]) == ["<0.001 (0.002)", "–"]
    assert list(table["verdict"]) == ["**supported**", "**not testable here**"]
    assert table["reason"].iloc[1] == "at the ceiling"


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
