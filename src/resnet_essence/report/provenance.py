"""Where a run's report and a published example come from: the code's commit, the software's
versions, and how long the computing jobs took (from Snakemake's benchmark files)."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

PACKAGES = ("torch", "numpy", "pandas", "seaborn", "snakemake", "resnet-essence")


def busy_time(spans: list[tuple[float, float]]) -> float:
    """Seconds during which at least one of the (start, end) spans was running: the wall time of
    a run's computing jobs, without the pauses between them (a run resumed later, or a table
    aggregated again after the figure was redrawn, adds no idle time)."""
    total, covered_until = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end <= covered_until:
            continue
        total += end - max(start, covered_until)
        covered_until = end
    return total


def wall_time(benchmarks: list[str]) -> tuple[float, float]:
    """(seconds during which a computing job ran, summed job seconds).

    A job's end is its benchmark file's time of writing, its start that minus the benchmarked
    seconds. ``benchmarks`` are those of the jobs that compute (report.smk's COMPUTE_BENCHMARKS):
    the figure, panels and report take seconds and may be drawn again later.
    """
    spans = []
    for path in benchmarks:
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
        end = Path(path).stat().st_mtime
        spans.append((end - seconds, end))
    return busy_time(spans), sum(end - start for start, end in spans)


def read_benchmarks(paths) -> pd.DataFrame:
    """Snakemake's benchmark rows of ``paths``, each with its ``rule`` (its folder's name)."""
    frames = [pd.read_csv(path, sep="\t").assign(rule=Path(path).parent.name) for path in paths]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def versions() -> dict[str, str]:
    """Python's version and those of the packages the results depend on."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit(directory: Path, published: Path) -> str:
    """HEAD's hash, marked "+ uncommitted changes" when the work tree differs from it (the
    folder being published apart when it lies in the checkout: its old copy is what publishing
    replaces); outside a git checkout, $SOURCE_COMMIT where the launcher set it."""
    try:
        run = lambda *a: subprocess.run(
            ["git", *a], cwd=directory, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        top = Path(run("rev-parse", "--show-toplevel")).resolve()
        inside = published.resolve().is_relative_to(top)  # a --directory elsewhere is not
        exclude = [f":!{published.resolve().relative_to(top)}"] if inside else []
        dirty = run("status", "--porcelain", "--untracked-files=no", "--", ".", *exclude)
    except (OSError, subprocess.CalledProcessError):
        # a copy without .git (the GPU route's): the commit its launcher recorded, if any
        return os.environ.get("SOURCE_COMMIT") or "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if dirty else commit


def processor(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The machine as timings need it said: its architecture, the CPU's model name and whether
    it computes bf16 natively (avx512_bf16 or AMX; without, bf16 is emulated and slow), where
    ``cpuinfo`` can be read (Linux); the architecture alone elsewhere."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.machine()
    fields = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in text.splitlines())
        if key.strip() in ("model name", "flags")
    )
    flags = set(fields.get("flags", "").split())
    bf16 = "bf16 units" if flags & {"avx512_bf16", "amx_bf16"} else "no bf16 units"
    model = fields.get("model name", "")
    return f"{platform.machine()} ({model + ', ' if model else ''}{bf16})"


def provenance_markdown(commit: str, span: float, busy: float, name: str, when: str) -> str:
    """PROVENANCE.md of a published example: its commit, config, wall time and command."""
    return (
        "# Where this example comes from\n\n"
        f"- commit: `{commit}`\n"
        f"- published: {when}\n"
        "- config: `config.yaml` beside this file (the full, validated configuration)\n"
        f"- wall time: {span / 60:.1f} min during which a computing job ran "
        f"({busy / 60:.1f} min of jobs in all; the figure and the report, drawn from the "
        "tables in seconds, not counted), from Snakemake's benchmark files, "
        f"on {processor()} with {os.cpu_count()} CPUs\n"
        "- command: `snakemake --cores N` with this config, then "
        f"`snakemake --cores N --forcerun publish docs/{name}/PROVENANCE.md`\n"
    )
