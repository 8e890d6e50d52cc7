"""The fast tier's time: how long ``pytest -m "not pipeline"`` takes here, the goal being under
two minutes on 2 cores (issue #37), as a benchmark rather than a timed test.

Run as ``python benchmarks/bench_tests.py [--repeats N] [--frozen-clock] [--out FILE] [-- ARGS]``
from the repository root. Each repeat runs the tier in a fresh process (``-p no:cacheprovider``: no
cache written into the tree) and records its wall time, the tests that passed and pytest's own
figure; the median of the repeats is compared with the goal. Arguments after ``--`` go to pytest
in place of the fast tier's ``-m "not pipeline"`` (a file, ``-k`` words), e.g. to time one file
before and after a change.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

try:
    from resnet_essence.files import write_json
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import write_json

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 120.0  # the fast tier on 2 cores (issue #37)
SUMMARY = re.compile(r"(?P<passed>\d+) passed(?P<rest>.*?) in (?P<seconds>[\d.]+)s")


def run_once(select: list[str], frozen: bool) -> dict:
    """One run of pytest in a child process: its wall time and what its summary line says."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *select]
    if frozen:
        command.append("--frozen-clock")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    found = SUMMARY.search(last)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"pytest failed (exit {done.returncode}): {last or done.stderr[-2000:]}")
    return {
        "wall_s": round(wall, 2),
        "pytest_s": float(found["seconds"]),
        "passed": int(found["passed"]),
        "summary": last.strip("= "),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs to take the median of")
    parser.add_argument("--frozen-clock", action="store_true", help="run with the clock frozen")
    parser.add_argument(
        "select",
        nargs="*",
        help='what pytest runs, after -- (default: -m "not pipeline", the fast tier)',
    )
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.select = args.select or ["-m", "not pipeline"]
    runs = []
    for k in range(args.repeats):
        runs.append(run_once(args.select, args.frozen_clock))
        print(f"run {k + 1}/{args.repeats}: {runs[-1]['wall_s']:.1f} s ({runs[-1]['summary']})")
    median = statistics.median(r["wall_s"] for r in runs)
    given = sys.argv[1:] if argv is None else argv
    result = {
        "benchmark": "tests",
        "command": " ".join(["python", "benchmarks/bench_tests.py", *given]),
        "select": args.select,
        "frozen_clock": args.frozen_clock,
        "runs": runs,
        "median_wall_s": median,
        "goal_s": GOAL_S,
        "within_goal": median < GOAL_S,
        "environment": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
    }
    verdict = "within" if result["within_goal"] else "over"
    print(f"median {median:.1f} s of {args.repeats} run(s): {verdict} the {GOAL_S:.0f} s goal")
    if args.out:
        write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
