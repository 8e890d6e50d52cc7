"""Several published runs' claims tables side by side: claims in rows, runs (datasets) in
columns, so one look says where the answer depends on the data.

- ``side_by_side``: one row per (family, claim_id, setting) found in any table, one column per
  run whose cell is the verdict in bold with its effect and unadjusted 95% interval, as the
  README's headline table prints them; "–" where a run lacks the row;
- ``side_by_side_values``: the same rows with plain cells and machine-readable columns
  (``<title>: verdict``, ``<title>: effect``, ``<title>: lo``, ``<title>: hi``), for a CSV;
- ``agreement_across``: of the rows two or more runs share, how many have the same verdict in
  all of them and how many are decisive in all.

Rows are matched by exact (family, claim_id, setting): a setting only one run has (another depth,
another epoch) is its own row. ``python -m resnet_essence.report.side_by_side`` (or the console
command ``resnet-essence-side-by-side``) prints the table for ``TITLE=FOLDER`` pairs of
published runs (docs/example*/).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
import yaml

from ..claims.catalogue import DECISIVE, ESSAY, FAMILIES, REPLICATION
from ..claims.replication import KEY
from ..tables.schema import read_table
from .cells import fmt, fmt_ci, markdown_table
from .measurements import degradation_table

ROW = ["family", *KEY]
NO_ROW = "–"  # the cell of a run that lacks the row
DEFAULT_FAMILIES = (ESSAY, REPLICATION)
VALUES = ("verdict", "effect", "lo", "hi")  # a run's machine-readable columns in the CSV
REQUIRED = {*ROW, "verdict"}


def _keyed(table: pd.DataFrame, families: Iterable[str]) -> pd.DataFrame:
    """One table's rows of the given families, indexed by (family, claim_id, setting), in its
    own order; the first of any duplicated key kept."""
    rows = table[table["family"].isin(list(families))].copy()
    rows["claim_id"] = rows["claim_id"].astype(str)
    rows["setting"] = rows["setting"].fillna("").astype(str)
    rows["verdict"] = rows["verdict"].fillna("").astype(str)
    for column in ("effect", "lo", "hi", "margin"):
        rows[column] = pd.to_numeric(rows[column]) if column in rows else math.nan
    return rows.drop_duplicates(ROW).set_index(ROW)


def _aligned(
    tables: Mapping[str, pd.DataFrame], families: Iterable[str]
) -> tuple[pd.MultiIndex, dict[str, pd.DataFrame]]:
    """The rows of the side-by-side table in order (family by family in the order given; within
    a family the first table's order, rows only later tables have appended), and each table
    reindexed onto them (all-NaN where a table lacks the row)."""
    families = list(families)
    for title in tables:
        if title in ROW or title == "margin":
            raise ValueError(f"a run cannot be titled {title!r}: that is a column of the table")
    keyed = {title: _keyed(table, families) for title, table in tables.items()}
    order: list[tuple] = []
    seen: set[tuple] = set()
    for family in families:
        for rows in keyed.values():
            for key in rows.index:
                if key[0] == family and key not in seen:
                    seen.add(key)
                    order.append(key)
    index = pd.MultiIndex.from_tuples(order, names=ROW)
    return index, {title: rows.reindex(index) for title, rows in keyed.items()}


def _margins(aligned: Mapping[str, pd.DataFrame], index: pd.MultiIndex) -> pd.Series:
    """Each row's margin, from the first table that has the row."""
    margin = pd.Series(math.nan, index=index, dtype=float)
    present = pd.Series(False, index=index)
    for rows in aligned.values():
        has = rows["verdict"].notna() & ~present
        margin[has] = rows.loc[has, "margin"]
        present |= has
    return margin


def cell(verdict, effect: float, lo: float, hi: float, bold: bool = True) -> str:
    """A run's cell: the verdict (in bold) with its effect and interval at 3 significant digits,
    ``**supported** -0.544 [-0.561, -0.527]``; only the verdict when there is no effect, "–"
    when the run lacks the row (no verdict)."""
    if not isinstance(verdict, str):
        return NO_ROW
    word = f"**{verdict}**" if bold and verdict else verdict
    if isinstance(effect, float) and math.isnan(effect):
        return word
    return f"{word} {fmt_ci(effect, lo, hi)}".strip()


def _cells(rows: pd.DataFrame, bold: bool) -> list[str]:
    values = zip(rows["verdict"], rows["effect"], rows["lo"], rows["hi"], strict=True)
    return [cell(v, e, lo, hi, bold) for v, e, lo, hi in values]


def _frame(index: pd.MultiIndex, columns: dict) -> pd.DataFrame:
    keys = index.to_frame(index=False)
    return pd.concat([keys, pd.DataFrame(columns, index=keys.index)], axis=1)


def side_by_side(
    tables: Mapping[str, pd.DataFrame], families: Iterable[str] = DEFAULT_FAMILIES
) -> pd.DataFrame:
    """Claims tables side by side: ``tables`` maps a column title ("digits", "CIFAR-10") to a
    claims table. Columns: family, claim_id, setting, margin (from the first table that has the
    row), then one column per title whose cell is the verdict in bold with its effect and
    interval, "–" where that table lacks the row."""
    index, aligned = _aligned(tables, families)
    columns = {"margin": _margins(aligned, index).to_numpy()}
    columns |= {title: _cells(rows, bold=True) for title, rows in aligned.items()}
    return _frame(index, columns)


def side_by_side_values(
    tables: Mapping[str, pd.DataFrame], families: Iterable[str] = DEFAULT_FAMILIES
) -> pd.DataFrame:
    """The rows of ``side_by_side`` for a CSV: per title the cell without Markdown, then
    ``<title>: verdict``, ``<title>: effect``, ``<title>: lo`` and ``<title>: hi`` (empty where
    that table lacks the row)."""
    index, aligned = _aligned(tables, families)
    columns: dict = {"margin": _margins(aligned, index).to_numpy()}
    for title, rows in aligned.items():
        columns[title] = _cells(rows, bold=False)
        columns |= {f"{title}: {value}": rows[value].to_numpy() for value in VALUES}
    return _frame(index, columns)


def agreement_across(
    tables: Mapping[str, pd.DataFrame], families: Iterable[str] = DEFAULT_FAMILIES
) -> dict[str, int]:
    """Counts over the side-by-side rows: ``runs``; ``rows``; ``shared`` (rows two or more
    tables have); of those, ``same`` (the same verdict in every table that has the row),
    ``decisive`` (decisive in every table that has it) and ``decisive_differ`` (decisive in
    every one, yet the verdicts differ: the answer depends on the data)."""
    index, aligned = _aligned(tables, families)
    verdicts = pd.DataFrame({title: rows["verdict"] for title, rows in aligned.items()})
    if verdicts.empty:
        verdicts = pd.DataFrame(index=index)
    shared = verdicts.notna().sum(axis=1) >= 2
    same = verdicts.nunique(axis=1, dropna=True) == 1
    decisive = (verdicts.isin(DECISIVE) | verdicts.isna()).all(axis=1)
    return {
        "runs": len(tables),
        "rows": len(index),
        "shared": int(shared.sum()),
        "same": int((shared & same).sum()),
        "decisive": int((shared & decisive).sum()),
        "decisive_differ": int((shared & decisive & ~same).sum()),
    }


def agreement_line(counts: Mapping[str, int]) -> str:
    """The counts of ``agreement_across`` in one sentence."""
    return (
        f"{counts['runs']} runs, {counts['rows']} rows; {counts['shared']} rows in two or more "
        f"runs, of which {counts['same']} have the same verdict in all and "
        f"{counts['decisive']} are decisive in all ({counts['decisive_differ']} of those with "
        "different verdicts)."
    )


def side_by_side_markdown(frame: pd.DataFrame) -> str:
    """The table of ``side_by_side`` in Markdown, as the README and the report show it."""
    shown = frame.rename(columns={"claim_id": "#"})
    shown["margin"] = [fmt(m) for m in frame["margin"]]
    return markdown_table(shown)


def _run(parser: argparse.ArgumentParser, text: str) -> tuple[str, Path]:
    """A ``TITLE=FOLDER`` argument, or a bare FOLDER titled by its name: (title, claims.csv)."""
    if "=" in text and not Path(text).exists():
        title, _, folder = text.partition("=")
        if not title.strip() or not folder.strip():
            parser.error(f"malformed argument {text!r}: expected TITLE=FOLDER or FOLDER")
        title = title.strip()
    else:
        title, folder = "", text
    path = Path(folder)
    if path.is_file():
        return title or path.resolve().parent.name, path
    if not path.is_dir():
        parser.error(f"{text!r}: no such folder {str(path)!r}")
    if not (path / "claims.csv").is_file():
        parser.error(f"{text!r}: the folder {str(path)!r} has no claims.csv")
    return title or path.resolve().name, path / "claims.csv"


def read_claims(path: str | Path) -> pd.DataFrame:
    """A claims table (claims.csv); ValueError naming the file when it cannot be read or lacks
    the columns a side-by-side table needs."""
    try:
        table = pd.read_csv(path, dtype={"claim_id": str})
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from error
    missing = REQUIRED - set(table.columns)
    if missing:
        raise ValueError(f"{path} is not a claims table: it lacks the columns {sorted(missing)}")
    return table


def beside_setup(
    claims: pd.DataFrame, runs: pd.DataFrame, report: dict, beside: Mapping[str, str | Path]
) -> dict:
    """What the report shows of the published runs of ``report.beside`` (``beside``: a column
    title for each run's claims.csv) beside this run (``claims``, ``runs``; ``report``: its
    config section): ``beside``, the side-by-side table in Markdown with its titles and counts
    (when any run is given), and ``degradation``, claim 4a in words for this run and for each
    published run whose tables/runs.csv is there (judged with that run's own thresholds)."""
    if "this run" in beside:
        raise ValueError("config key 'report.beside': 'this run' is this run's own column")
    tables = {"this run": claims}
    degradation = {"this run": degradation_table(runs, claims, report)}
    for title, path in beside.items():
        tables[title] = read_claims(path)
        folder = Path(path).parent
        if (folder / "tables/runs.csv").exists():
            published = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
            their_runs = read_table(folder / "tables/runs.csv", "runs")
            degradation[title] = degradation_table(their_runs, tables[title], published["report"])
    setup: dict = {"degradation": degradation}
    if beside:
        table = side_by_side_markdown(side_by_side(tables))
        setup["beside"] = (list(tables), table, agreement_line(agreement_across(tables)))
    return setup


def _read(parser: argparse.ArgumentParser, path: Path) -> pd.DataFrame:
    try:
        return read_claims(path)
    except ValueError as error:
        parser.error(str(error))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="resnet-essence-side-by-side",
        description="Set the claims tables of several published runs side by side: claims in "
        "rows, runs in columns (the verdict with its effect and 95% interval), and count the "
        "rows whose verdict is the same in every run.",
    )
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="TITLE=FOLDER",
        help="a published run's folder holding claims.csv, titled (digits=docs/example-confirm) "
        "or bare (titled by the folder's name)",
    )
    parser.add_argument(
        "--families",
        nargs="+",
        choices=list(FAMILIES),
        default=list(DEFAULT_FAMILIES),
        help="the families of claims to show, in this order (default: essay replication)",
    )
    parser.add_argument(
        "--out",
        help="also write the table as CSV here: plain cells, and per run its verdict, effect, "
        "lo and hi in columns of their own",
    )
    args = parser.parse_args(argv)
    tables: dict[str, pd.DataFrame] = {}
    for text in args.runs:
        title, path = _run(parser, text)
        if title in tables:
            parser.error(f"the title {title!r} is given twice; name the runs TITLE=FOLDER")
        if title in ROW or title == "margin":
            parser.error(f"a run cannot be titled {title!r}: that is a column of the table")
        tables[title] = _read(parser, path)
    if args.out:
        from ..files import write_csv

        write_csv(args.out, side_by_side_values(tables, args.families))
    print(side_by_side_markdown(side_by_side(tables, args.families)))
    print()
    print(agreement_line(agreement_across(tables, args.families)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
