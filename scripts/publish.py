"""Rule publish: copy a finished run's figure, report and claims into docs/{name}/.

The README shows these copies; PROVENANCE.md says which commit, config and wall time produced
them. Run it through Snakemake after the run, e.g.
``snakemake --cores 2 --forcerun publish docs/example/PROVENANCE.md``.
"""

import logging
import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from resnet_essence import report as rp
from resnet_essence.files import atomic_path, write_text
from resnet_essence.provenance import busy_time
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("publish")


def git_commit(directory: Path, published: Path) -> str:
    """HEAD's hash, marked "+ uncommitted changes" when the work tree differs from it (the
    folder being published apart when it lies in the checkout: its old copy is what this rule
    replaces)."""
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
        return "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if dirty else commit


def wall_time(benchmarks: list[str]) -> tuple[float, float]:
    """(seconds during which a computing job ran, summed job seconds).

    A job's end is its benchmark file's time of writing, its start that minus the benchmarked
    seconds. ``benchmarks`` are those of the jobs that compute (report.smk's COMPUTE_BENCHMARKS):
    the figure, panels and report take seconds and may be drawn again later. Pauses between jobs
    (a run resumed later, a table aggregated again) do not count (provenance.busy_time).
    """
    spans = []
    for path in benchmarks:
        seconds = float(pd.read_csv(path, sep="\t")["s"].iloc[-1])
        end = Path(path).stat().st_mtime
        spans.append((end - seconds, end))
    return busy_time(spans), sum(end - start for start, end in spans)


def publish(inputs, outputs, config: dict, workflow_dir: str, name: str) -> None:
    commit = git_commit(Path(workflow_dir), Path(outputs["provenance"]).parent)
    for source, target in (
        (inputs["figure"], outputs["figure"]),
        (inputs["claims"], outputs["claims"]),
    ):
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    figure_link = Path(inputs["figure"]).relative_to(Path(inputs["report"]).parent)
    report = Path(inputs["report"]).read_text(encoding="utf-8")
    write_text(
        outputs["report"], report.replace(f"]({figure_link})", f"]({Path(outputs['figure']).name})")
    )
    claims = pd.read_csv(inputs["claims"], dtype={"claim_id": str})
    text = ["reason", "verdict_half_a", "verdict_half_b", "halves_agree"]
    claims = claims.fillna({column: "" for column in text})
    write_text(outputs["claims_md"], rp.claims_markdown(claims))
    write_text(outputs["config"], yaml.safe_dump(config, sort_keys=False))
    span, busy = wall_time(inputs["benchmarks"])
    write_text(
        outputs["provenance"],
        (
            "# Where this example comes from\n\n"
            f"- commit: `{commit}`\n"
            f"- published: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
            "- config: `config.yaml` beside this file (the full, validated configuration)\n"
            f"- wall time: {span / 60:.1f} min during which a computing job ran "
            f"({busy / 60:.1f} min of jobs in all; the figure and the report, drawn from the "
            "tables in seconds, not counted), from Snakemake's benchmark files, "
            f"on {platform.machine()} with {os.cpu_count()} CPUs\n"
            "- command: `snakemake --cores N` with this config, then "
            f"`snakemake --cores N --forcerun publish docs/{name}/PROVENANCE.md`\n"
        ),
    )
    log.info("published %s", Path(outputs["report"]).parent)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: publish(
            dict(snakemake.input.items()),
            dict(snakemake.output.items()),
            snakemake.config,
            snakemake.params.workflow_dir,
            snakemake.wildcards.name,
        ),
        "publish",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
