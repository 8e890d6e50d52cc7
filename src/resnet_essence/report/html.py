"""Markdown to a standalone HTML page, with Python-Markdown (tables, a table of contents).

The report is written once, as Markdown; this module only dresses it: verdicts coloured, the
figure at full width and a link to the full-size image, a style sheet for tables.
"""

from __future__ import annotations

import html
import re

import markdown

from .. import claims

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72em; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.8em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
img { max-width: 100%; }
a.figure img { width: 100%; border: 1px solid #ddd; }
.toc { background: #fafafa; border: 1px solid #ddd; padding: 0.5em 1em; display: inline-block; }
.verdict { font-weight: 600; padding: 0 0.3em; border-radius: 0.2em; white-space: nowrap; }
.verdict.supported { background: #d8f0d8; color: #145214; }
.verdict.contradicted { background: #f6d5d5; color: #7a1414; }
.verdict.negligible { background: #dfeee9; color: #1d4d3c; }
.verdict.inconclusive { background: #f3ecd0; color: #5c4a00; }
.verdict.not-testable { background: #e4e4e4; color: #333; }
.verdict.sanity-passed { background: #dde8f5; color: #123a66; }
.verdict.sanity-failed { background: #f6d5d5; color: #7a1414; }
"""
VERDICT_CLASSES = {  # the verdict words are claims.catalogue's; the classes the style sheet's
    claims.SUPPORTED: "supported",
    claims.AGREES: "supported",
    claims.CONTRADICTED: "contradicted",
    claims.AGAINST: "contradicted",
    claims.NEGLIGIBLE: "negligible",
    claims.INCONCLUSIVE: "inconclusive",
    claims.NOT_TESTABLE: "not-testable",
    claims.SANITY_PASSED: "sanity-passed",
    claims.SANITY_FAILED: "sanity-failed",
}


def to_html(text: str, title: str, contents: bool = False) -> str:
    """A standalone page from Markdown ``text``: tables, a table of contents where ``[TOC]``
    stands (or, with ``contents``, before the first section: the Markdown itself then has no
    ``[TOC]`` line, which a Markdown viewer would show as it is), verdict words (in bold)
    coloured, and images linked to themselves (click to enlarge)."""
    converter = markdown.Markdown(extensions=["tables", "toc", "sane_lists"], output_format="html")
    body = converter.convert(text)
    if contents:
        body = body.replace("<h2", converter.toc + "\n<h2", 1)
    for verdict, css in VERDICT_CLASSES.items():
        body = body.replace(
            f"<strong>{verdict}</strong>", f'<strong class="verdict {css}">{verdict}</strong>'
        )
    body = re.sub(
        r'<p><img alt="([^"]*)" src="([^"]*)" ?/?></p>',
        r'<p><a class="figure" href="\2"><img alt="\1" src="\2"></a></p>',
        body,
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}\n</body>\n</html>\n"
    )
