"""Replication built in: the seeds' two disjoint halves judged apart, and two claims tables set
side by side (two runs, two machines, two halves), row by row.

``python -m resnet_essence.claims.replication A.csv B.csv`` (or the console command
``resnet-essence-compare-claims``) lists every row whose verdict differs between two claims.csv
files, and exits with status 1 when any does.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from .catalogue import DECISIVE

KEY = ["claim_id", "setting"]


def split_seeds(seeds) -> tuple[list[int], list[int]]:
    """Two disjoint halves of the seeds, in order: the first half and the rest."""
    ordered = sorted(int(s) for s in seeds)
    middle = (len(ordered) + 1) // 2
    return ordered[:middle], ordered[middle:]


def agreement(first: pd.Series, second: pd.Series) -> pd.Series:
    """Per row: 'yes' when both verdicts are the same and decisive in either, 'no' when they
    differ and one is decisive, '' when neither is decisive."""
    decisive = first.isin(DECISIVE) | second.isin(DECISIVE)
    same = first == second
    return pd.Series(
        ["" if not d else ("yes" if s else "no") for d, s in zip(decisive, same, strict=True)],
        index=first.index,
    )


def agreement_counts(claims: pd.DataFrame, family: str | None = None) -> tuple[int, int]:
    """(rows where the halves agree, rows decisive in either half), over one family or all."""
    rows = claims if family is None else claims[claims["family"] == family]
    judged = rows["halves_agree"].fillna("")
    return int((judged == "yes").sum()), int(judged.isin(["yes", "no"]).sum())


def differences(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Every row of two claims tables whose verdict differs, or that only one table has."""
    a = first[[*KEY, "verdict"]].astype({"claim_id": str})
    b = second[[*KEY, "verdict"]].astype({"claim_id": str})
    both = a.merge(b, on=KEY, how="outer", suffixes=("_a", "_b"), indicator=True)
    both[["verdict_a", "verdict_b"]] = both[["verdict_a", "verdict_b"]].fillna("(no such row)")
    differ = both[both["verdict_a"] != both["verdict_b"]]
    return differ[[*KEY, "verdict_a", "verdict_b"]].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="resnet-essence-compare-claims",
        description="List every row whose verdict differs between two claims.csv files "
        "(results/tables/claims.csv or docs/example*/claims.csv). Exit status 1 when any does.",
    )
    parser.add_argument("first", help="a claims.csv")
    parser.add_argument("second", help="another claims.csv")
    args = parser.parse_args(argv)
    tables = []
    for path in (args.first, args.second):
        try:
            table = pd.read_csv(path, dtype={"claim_id": str})
        except (OSError, pd.errors.ParserError) as error:
            parser.error(f"cannot read {path}: {error}")
        missing = {*KEY, "verdict"} - set(table.columns)
        if missing:
            parser.error(f"{path} is not a claims table: it lacks the columns {sorted(missing)}")
        tables.append(table)
    rows = len(set(map(tuple, tables[0][KEY].astype(str).values)))
    same = f"all {rows} rows have the same verdict in {args.first} and {args.second}"
    return say_differences(*tables, same, f"(A = {args.first}, B = {args.second})")


def say_differences(first: pd.DataFrame, second: pd.DataFrame, same: str, names: str) -> int:
    """Print the rows whose verdict differs between two claims tables (``names`` says which is
    A and which B), or ``same`` when none does; the exit status: 1 when any differs."""
    differ = differences(first, second)
    if differ.empty:
        print(same)
        return 0
    print(f"{len(differ)} row(s) differ {names}:")
    for row in differ.itertuples():
        print(f"  {row.claim_id} | {row.setting}: A {row.verdict_a}; B {row.verdict_b}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
