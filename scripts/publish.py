"""Rule example: copy a finished run's figure, report and claims into docs/example/.

The README shows this copy; PROVENANCE.md says which commit and config produced it. Run with
    snakemake --cores 2 --forcerun example example
"""

import logging
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from resnet_essence.io import atomic_path, write_text
from resnet_essence.report import Block, claims_block, to_markdown
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("example")


def git_commit(directory: Path) -> str:
    """HEAD's hash, marked "+ uncommitted changes" when the work tree differs from it."""
    try:
        run = lambda *a: subprocess.run(
            ["git", *a], cwd=directory, capture_output=True, text=True, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if dirty else commit


def publish(inputs, outputs, config: dict, workflow_dir: str) -> None:
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
    claims = claims_block(pd.read_csv(inputs["claims"], dtype={"claim_id": str}))
    write_text(
        outputs["claims_md"], to_markdown([Block("table", table=claims.drop(columns="rule"))])
    )
    write_text(outputs["config"], yaml.safe_dump(config, sort_keys=False))
    write_text(
        outputs["provenance"],
        (
            "# Where this example comes from\n\n"
            f"- commit: `{git_commit(Path(workflow_dir))}`\n"
            f"- published: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
            "- config: `config.yaml` beside this file (the full, validated configuration)\n"
            "- command: `snakemake --cores 2` on the embedded default, then "
            "`snakemake --cores 2 --forcerun example example`\n"
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
        ),
        "example",
    )
