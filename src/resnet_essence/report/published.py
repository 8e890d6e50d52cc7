"""A published run's tables, and its claims table recomputed from them alone.

``docs/example*/tables/`` holds the tidy per-run tables every verdict is computed from (rule
publish copies them): the runs, their per-epoch curves, the network statistics, the bottleneck
runs, the collapse tables and the width sweep. A reader who doubts a row of ``claims.csv`` can
recompute the whole table from these and the published ``config.yaml`` (its ``report:`` section
holds the thresholds)::

    resnet-essence-claims docs/example-confirm

prints how many rows agree with the published ``claims.csv`` and exits with status 1 when any
verdict differs; ``--out FILE`` writes the recomputed table.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

import pandas as pd
import yaml

from .. import claims as cl
from ..claims.replication import say_differences
from ..files import atomic_path, write_csv
from ..tables.schema import read_table

# the tables claims.evaluate reads, by name (tables.TABLES), as published
SOURCES = ("runs", "epochs", "network_runs", "bottleneck_runs", "survival", "blocks")
# above this many bytes a table is published gzip-compressed (pandas reads either)
COMPRESS_ABOVE = 256 * 1024


def publish_tables(paths: dict[str, str], widths: list[str], folder: str | Path) -> list[Path]:
    """Copy the source tables (``paths``: name -> file; ``widths``: the width sweeps) into
    ``folder``, each as ``<name>.csv``, or ``<name>.csv.gz`` when large. Returns the files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv*"):
        old.unlink()
    sources = dict(paths)
    if widths:
        sweep = pd.concat([read_table(p, "width_sweep") for p in widths], ignore_index=True)
        write_csv(folder / "width_sweep.csv", sweep)
    written = [folder / "width_sweep.csv"] if widths else []
    for name, source in sources.items():
        source = Path(source)
        if source.stat().st_size > COMPRESS_ABOVE:
            target = folder / f"{name}.csv.gz"
            with atomic_path(target) as tmp, open(source, "rb") as raw, gzip.open(tmp, "wb") as gz:
                shutil.copyfileobj(raw, gz)
        else:
            target = folder / f"{name}.csv"
            with atomic_path(target) as tmp:
                shutil.copyfile(source, tmp)
        written.append(target)
    return written


def read_published(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The tables of a published run (``folder``/tables), checked against their contracts."""
    folder = Path(folder)
    tables = {}
    for name in (*SOURCES, "width_sweep"):
        found = [p for p in (folder / f"{name}.csv", folder / f"{name}.csv.gz") if p.exists()]
        if found:
            tables[name] = read_table(found[0], name)
        elif name not in ("bottleneck_runs", "width_sweep"):
            raise FileNotFoundError(f"{folder}: the table {name}.csv (or .csv.gz) is missing")
    return tables


def recompute(run: str | Path) -> pd.DataFrame:
    """The claims table of a published run (``run``: docs/example*), from its tables and the
    thresholds of its config.yaml alone."""
    run = Path(run)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    rules = cl.Rules.from_config(config["report"])
    return cl.evaluate(read_published(run / "tables"), rules)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="resnet-essence-claims",
        description="Recompute a published run's claims table (docs/example*/claims.csv) from "
        "the tables it publishes (docs/example*/tables/) and its config.yaml, and compare it "
        "with the published one. Exit status 1 when any verdict differs.",
    )
    parser.add_argument("run", help="a published run's folder, e.g. docs/example-confirm")
    parser.add_argument("--out", help="write the recomputed claims table here")
    parser.add_argument(
        "--headline",
        action="store_true",
        help="print the essay's rows of the recomputed table as the README shows them",
    )
    args = parser.parse_args(argv)
    try:
        table = recompute(args.run)
    except (OSError, KeyError, ValueError) as error:
        parser.error(f"cannot recompute {args.run}: {error}")
    if args.out:
        write_csv(args.out, table)
    if args.headline:
        from .cells import markdown_table
        from .verdicts import headline_table

        print(markdown_table(headline_table(table)))
    published = Path(args.run) / "claims.csv"
    if not published.exists():
        print(f"{len(table)} rows recomputed; no {published} to compare with")
        return 0
    same = f"all {len(table)} rows recomputed with the verdicts of {published}"
    published_table = pd.read_csv(published, dtype={"claim_id": str})
    return say_differences(table, published_table, same, f"from {published} (A: recomputed)")


if __name__ == "__main__":
    sys.exit(main())
