from html.parser import HTMLParser

import pandas as pd

from resnet_essence.report import Block, fmt_ci, paper_comparison, to_html, to_markdown

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


BLOCKS = [
    Block("heading", "Title <with> markup", level=1),
    Block("paragraph", "A **bold** word and `code` & an ampersand."),
    Block("table", table=pd.DataFrame({"a|b": [1, 2], "verdict": ["**supported**", "x<y"]})),
    Block("image", "figures/main.png", items=["main figure"]),
    Block("bullets", items=["one", "two"]),
    Block("table", table=pd.DataFrame()),
]


def test_html_is_well_formed_and_escaped():
    document = to_html(BLOCKS, "report")
    assert_well_formed(document)
    assert "Title &lt;with&gt; markup" in document
    assert "<strong>bold</strong>" in document and "<code>code</code>" in document
    assert "x&lt;y" in document


def test_markdown_tables_escape_pipes():
    text = to_markdown(BLOCKS)
    assert "| a\\|b | verdict |" in text
    assert "![main figure](figures/main.png)" in text
    assert "_(no rows)_" in text


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
