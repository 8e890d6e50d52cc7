"""How the report writes a value: numbers, intervals, p-values, parameter counts and verdict
words as cells, and a table as a Markdown pipe table. Every table of the report goes through
these, so a number reads the same wherever it appears.
"""

from __future__ import annotations

import math

import pandas as pd


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


def fmt_params(count: float) -> str:
    """A parameter count readable at any size: 0.27M, 12.3k, 868."""
    if count >= 1e5:
        return f"{count / 1e6:.2f}M"
    if count >= 1e3:
        return f"{count / 1e3:.1f}k"
    return f"{int(count)}"


def ci_column(frame: pd.DataFrame, metric: str, scale: float = 1.0) -> list[str]:
    """``metric``'s mean [lo, hi] from its ``_mean``, ``_lo`` and ``_hi`` columns, formatted."""
    columns = (frame[f"{metric}_{part}"] for part in ("mean", "lo", "hi"))
    return [fmt_ci(m, lo, hi, scale) for m, lo, hi in zip(*columns, strict=True)]


def verdict_cell(verdict: str) -> str:
    """A verdict word in bold (the HTML page colours it); nothing where there is none."""
    return f"**{verdict}**" if verdict else ""


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
