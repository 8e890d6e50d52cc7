"""Compare the results of two runs of the pipeline (the SLURM run and the local run).

    python tests/slurm/compare_results.py CLUSTER_DIR LOCAL_DIR [PATTERN ...]

PATTERNs (globs relative to the run directories) default to the final tables and every run's
metrics.csv. Equal means: the same files, the same columns and rows, and exactly the same
values, except wall-time columns (any column whose name contains ``seconds``). Exits 1 with the
differences.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

FILES = [
    "results/tables/final.csv",
    "results/tables/claims.csv",
    "results/runs/*/*/seed*/metrics.csv",
]


def _table(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    return frame.drop(columns=[c for c in frame.columns if "seconds" in c])


def compare(cluster: Path, local: Path, patterns: list[str] = FILES) -> list[str]:
    problems = []
    n_files = 0
    for pattern in patterns:
        found_cluster = sorted(p.relative_to(cluster) for p in cluster.glob(pattern))
        found_local = sorted(p.relative_to(local) for p in local.glob(pattern))
        if not found_local:
            problems.append(f"{pattern}: no such file in the local run")
        if found_cluster != found_local:
            problems.append(
                f"{pattern}: different files: cluster {[str(p) for p in found_cluster]}, "
                f"local {[str(p) for p in found_local]}"
            )
            continue
        for rel in found_cluster:
            n_files += 1
            a, b = _table(cluster / rel), _table(local / rel)
            try:
                pd.testing.assert_frame_equal(a, b, check_exact=True)
            except AssertionError as err:
                problems.append(f"{rel} differs:\n{err}")
            else:
                print(f"  identical: {rel} ({len(a)} rows, {len(a.columns)} columns)")
    print(f"compared {n_files} tables (wall-time columns left out)")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = compare(Path(argv[0]), Path(argv[1]), argv[2:] or FILES)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
