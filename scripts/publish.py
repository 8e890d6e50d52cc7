"""Rule publish: copy a finished run's figures (main.png, .pdf, .svg and supplementary/S*.png),
report and claims into docs/{name}/, with the tables the claims are computed from
(docs/{name}/tables/: ``resnet-essence-claims docs/{name}`` recomputes the claims table from them
alone, and ``python -m resnet_essence.report.figure docs/{name}`` redraws the figures).

The README shows these copies; PROVENANCE.md says which commit, config and wall time produced
them. Run it through Snakemake after the run, e.g.
``snakemake --cores 2 --forcerun publish docs/example/PROVENANCE.md``.
"""

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import yaml

from resnet_essence.files import atomic_path, write_text
from resnet_essence.report import provenance
from resnet_essence.report.markdown import supplementary_files
from resnet_essence.report.published import SOURCES, publish_tables
from resnet_essence.report.verdicts import claims_markdown
from resnet_essence.scripting import rule_script
from resnet_essence.tables.schema import read_table

log = logging.getLogger("publish")


def publish(inputs, outputs, config: dict, workflow_dir: str, name: str) -> None:
    commit = provenance.git_commit(Path(workflow_dir), Path(outputs["provenance"]).parent)
    figures = {key: inputs[key] for key in ("figure", "pdf", "svg")}  # output name: run's file
    if inputs["interventions"]:  # the explanation family's figure, in runs that have one
        figures["interventions"] = inputs["interventions"][0]
    for source, target in [
        *((path, outputs[key]) for key, path in figures.items()),
        (inputs["claims"], outputs["claims"]),
    ]:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    # the supplementary figures (S1, S2, ...) into their own folder, its earlier ones removed
    folder = Path(outputs["supplementary"])
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("S*_*.png"):
        old.unlink()
    for source in supplementary_files(inputs["supplementary"]):
        with atomic_path(folder / source.name) as tmp:
            shutil.copyfile(source, tmp)
    # the report links each figure beside it, not where the run keeps it
    report = Path(inputs["report"]).read_text(encoding="utf-8")
    here = Path(inputs["report"]).parent
    for key, path in figures.items():
        link = Path(path).relative_to(here)
        report = report.replace(f"]({link})", f"]({Path(outputs[key]).name})")
    link = Path(inputs["supplementary"]).relative_to(here)
    report = report.replace(f"]({link}/", f"]({folder.name}/")
    write_text(outputs["report"], report)
    sources = {name: inputs[name] for name in SOURCES}
    publish_tables(sources, list(inputs["width_sweep"]), outputs["tables"])
    claims = read_table(inputs["claims"], "claims")
    write_text(outputs["claims_md"], claims_markdown(claims))
    write_text(outputs["config"], yaml.safe_dump(config, sort_keys=False))
    span, busy = provenance.wall_time(inputs["benchmarks"])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    write_text(
        outputs["provenance"], provenance.provenance_markdown(commit, span, busy, name, when)
    )
    log.info("published %s", Path(outputs["report"]).parent)


def main(smk) -> None:
    publish(
        dict(smk.input.items()),
        dict(smk.output.items()),
        smk.config,
        smk.params.workflow_dir,
        smk.wildcards.name,
    )


rule_script(globals(), main, "publish")
