"""Whole runs set side by side: how long each stage of two finished runs computed, and the ratio.

Run as ``python benchmarks/bench_runs.py BEFORE AFTER [--out FILE]``, where BEFORE and AFTER are
the working directories of two finished runs (each with its ``results/benchmarks/``, as
Snakemake writes it), e.g. the same config run at two commits. For each stage (rule) it prints
the seconds of its jobs summed and, for the whole run, the time during which at least one
computing job ran (``provenance.busy_time``, as PROVENANCE.md counts it; the figure, panels,
report and publish apart). The ratio is BEFORE over AFTER: above 1, AFTER is faster. With one
directory it prints that run's figures alone (a run's budget, e.g. the confirmatory CIFAR-10
run's hour on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from resnet_essence.files import write_json
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import write_json
from resnet_essence.report.provenance import read_benchmarks, wall_time

DRAWING = {"figure", "panels", "report", "publish"}  # seconds of drawing, redone at will


def run_times(workdir: Path) -> dict:
    """Seconds per stage, summed over its jobs, and the run's busy wall time."""
    paths = sorted(str(p) for p in (workdir / "results" / "benchmarks").glob("*/*.tsv"))
    if not paths:
        raise SystemExit(f"{workdir}: no results/benchmarks/*/*.tsv (not a finished run)")
    computing = [p for p in paths if Path(p).parent.name not in DRAWING]
    rows = read_benchmarks(computing)
    busy, _ = wall_time(computing)
    return {
        "stages_s": rows.groupby("rule")["s"].sum().round(1).to_dict(),
        "jobs": len(computing),
        "busy_wall_s": round(busy, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path, nargs="?", help="leave out for one run's figures")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.after is None:
        return _one_run(args.before, args.out)
    before, after = run_times(args.before), run_times(args.after)
    print(f"{'stage':<18}{'before s':>12}{'after s':>12}{'ratio':>8}")
    for stage in sorted(set(before["stages_s"]) | set(after["stages_s"])):
        b, a = before["stages_s"].get(stage, 0.0), after["stages_s"].get(stage, 0.0)
        ratio = f"{b / a:.2f}" if a and b else "-"
        print(f"{stage:<18}{b:>12.1f}{a:>12.1f}{ratio:>8}")
    ratio = before["busy_wall_s"] / after["busy_wall_s"]
    print(
        f"{'wall (busy)':<18}{before['busy_wall_s']:>12.1f}{after['busy_wall_s']:>12.1f}"
        f"{ratio:>8.2f}"
    )
    result = {
        "before": {"dir": str(args.before), **before},
        "after": {"dir": str(args.after), **after},
        "wall_ratio": round(ratio, 3),
    }
    if args.out:
        write_json(args.out, result)
        print(f"wrote {args.out}")
    return result


def _one_run(workdir: Path, out: Path | None) -> dict:
    times = run_times(workdir)
    print(f"{'stage':<18}{'seconds':>12}")
    for stage, seconds in sorted(times["stages_s"].items()):
        print(f"{stage:<18}{seconds:>12.1f}")
    print(f"{'wall (busy)':<18}{times['busy_wall_s']:>12.1f}")
    result = {"run": {"dir": str(workdir), **times}}
    if out:
        write_json(out, result)
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
