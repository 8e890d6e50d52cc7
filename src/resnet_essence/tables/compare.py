"""Two runs' results compared cell for cell: every CSV file under two ``results/`` folders (the
per-run files and the tidy tables), the columns that time something left out. It answers "does
this change move a number?": run the same config before and after it on one CPU, then

    python -m resnet_essence.tables.compare BEFORE/results AFTER/results

which prints each file that differs with its columns, and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# what differs from run to run by the clock alone, and the logs and timings of Snakemake
SKIPPED_FOLDERS = ("benchmarks", "logs")


def timed(column: str) -> bool:
    """A column that measures time (seconds, images per second), which no rerun repeats."""
    return "second" in column


@dataclass
class Comparison:
    """What two results folders share and where they differ."""

    equal: list[str] = field(default_factory=list)
    only_in_one: list[str] = field(default_factory=list)
    differ: dict[str, list[str]] = field(default_factory=dict)  # file: columns (or why)

    @property
    def same(self) -> bool:
        return not self.only_in_one and not self.differ


def _csv_files(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*.csv")
        if p.relative_to(folder).parts[0] not in SKIPPED_FOLDERS
    }


def compare(before: Path, after: Path) -> Comparison:
    """Every CSV file of both folders, cell for cell (exact floats), timed columns left out."""
    out = Comparison()
    names_a, names_b = _csv_files(before), _csv_files(after)
    out.only_in_one = sorted(names_a ^ names_b)
    for name in sorted(names_a & names_b):
        a, b = pd.read_csv(before / name), pd.read_csv(after / name)
        a = a[[c for c in a.columns if not timed(c)]]
        b = b[[c for c in b.columns if not timed(c)]]
        if list(a.columns) != list(b.columns):
            out.differ[name] = [f"columns {sorted(set(a.columns) ^ set(b.columns))}"]
        elif a.shape != b.shape:
            out.differ[name] = [f"rows {len(a)} and {len(b)}"]
        else:
            columns = [c for c in a.columns if not a[c].equals(b[c])]
            if columns:
                out.differ[name] = columns
            else:
                out.equal.append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="a results/ folder")
    parser.add_argument("after", type=Path, help="another results/ folder")
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not folder.is_dir():
            parser.error(f"{folder}: no such folder")
    found = compare(args.before, args.after)
    for name in found.only_in_one:
        print(f"only in one folder: {name}")
    for name, columns in found.differ.items():
        print(f"differs: {name}: {', '.join(columns)}")
    total = len(found.equal) + len(found.differ) + len(found.only_in_one)
    print(f"{len(found.equal)} of {total} CSV files equal cell for cell (timed columns left out)")
    return 0 if found.same else 1


if __name__ == "__main__":
    sys.exit(main())
