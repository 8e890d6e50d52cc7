"""The README's commands, read out of the README itself and run on the smoke config.

CI (.ci/run) runs the quick start and the report command on the default config; here the
commands a user types about a finished run (regenerate the figures, Snakemake's report, follow
a training log, one rule alone) run against a smoke run made as the README says, with
``--configfile configs/smoke.yaml`` over the default ``config.yaml``.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMOKE, copy_results, snakemake

README = (ROOT / "README.md").read_text(encoding="utf-8")
SNAKEMAKE = ".venv/bin/snakemake "


def readme_commands() -> list[str]:
    """Every Snakemake command of the README: a line of a bash block or an inline command."""
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    inline = re.findall(r"`(\.venv/bin/snakemake [^`]*)`", README)
    commands = [c for c in lines + inline if c.startswith(SNAKEMAKE) and "&&" not in c]
    return list(dict.fromkeys(commands))


def readme_command(*words: str, without: str = "") -> list[str]:
    """The README's one Snakemake command holding every word of ``words`` (and not the word
    ``without``), as arguments."""
    found = [
        c
        for c in readme_commands()
        if all(w in shlex.split(c) for w in words) and without not in shlex.split(c)
    ]
    assert len(found) == 1, (words, found)
    return shlex.split(found[0])[1:]


def _job_counts(output: str) -> dict[str, int]:
    block = output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


@pytest.fixture(scope="module")
def readme_run(smoke_run, tmp_path_factory) -> Path:
    """The smoke run as a README user has it: the default config.yaml beside the results, the
    smoke config given with --configfile (configs/ copied, so the README's relative path holds)."""
    workdir = tmp_path_factory.mktemp("readme")
    copy_results(smoke_run, workdir, "results", ".snakemake/metadata")
    shutil.copy2(ROOT / "config.yaml", workdir / "config.yaml")
    shutil.copytree(ROOT / "configs", workdir / "configs")
    # the smoke run's config is config.yaml with configs/smoke.yaml laid over it, as Snakemake
    # lays a --configfile over the Snakefile's config
    assert yaml.safe_load(SMOKE.read_text())["depths"] == [8, 14]
    return workdir


def _in(workdir: Path, args: list[str], *extra: str, check: bool = True):
    """A README command in ``workdir``: its arguments as written, --cores left to the helper."""
    if "--cores" in args:
        i = args.index("--cores")
        args = args[:i] + args[i + 2 :]
    return snakemake(workdir, *args, *extra, check=check)


def _words_after(args: list[str], option: str) -> list[str]:
    """The words an option with any number of values takes: up to the next option."""
    if option not in args:
        return []
    rest = args[args.index(option) + 1 :]
    return rest[: next((i for i, w in enumerate(rest) if w.startswith("-")), len(rest))]


def test_no_readme_command_hands_a_target_to_an_option_that_takes_every_word():
    # --config, --configfile and --forcerun take every word after them: a target there is
    # read as a setting, a config file or a job to force (and then all of the DAG is planned)
    for command in readme_commands():
        args = shlex.split(command)[1:]
        assert all("=" in w for w in _words_after(args, "--config")), command
        assert all(w.endswith(".yaml") for w in _words_after(args, "--configfile")), command
        assert all("/" not in w for w in _words_after(args, "--forcerun")), command


@pytest.mark.pipeline
def test_the_readme_regenerate_command_retrains_nothing_on_the_smoke_config(readme_run):
    args = readme_command("--forcerun", "figure", "--configfile")
    dry = _in(readme_run, args, "-n").stdout
    jobs = _job_counts(dry)
    reasons = sorted({line.strip() for line in dry.splitlines() if "reason:" in line})
    assert set(jobs) <= {"figure", "panels", "report", "all"}, (jobs, reasons[:5])
    # and the pitfall it warns of is real: without the config, the default would be trained
    plain = readme_command("--forcerun", "figure", "panels", "report", without="--configfile")
    assert "train" in _job_counts(_in(readme_run, plain, "-n").stdout)


@pytest.mark.pipeline
def test_the_readme_report_command_warns_of_nothing_with_the_runs_config(readme_run):
    args = readme_command("--report", "results/report.zip")
    result = _in(readme_run, args, "--configfile", "configs/smoke.yaml")
    assert "Missing metadata" not in result.stdout + result.stderr
    assert (readme_run / "results/report.zip").stat().st_size > 1000


@pytest.mark.pipeline
def test_the_readme_training_log_pattern_names_the_smoke_runs_logs(readme_run):
    pattern = re.search(r"`tail -f (results/logs/train/\{dataset\}[^`]*)`", README).group(1)
    cfg = yaml.safe_load(SMOKE.read_text())
    for arch in cfg["archs"]:
        for depth in cfg["depths"]:
            log = readme_run / pattern.format(dataset=cfg["dataset"], arch=arch, depth=depth)
            assert "epoch 2/2" in log.read_text(), log


@pytest.mark.pipeline
def test_every_readme_snakemake_command_is_well_formed(readme_run):
    # a dry run of each (targets before --config and --configfile, known options), never
    # --unlock or a cluster profile, which need no check here and would change the directory
    skip = ("--unlock", "--workflow-profile", "--lint", "--report", "publish")
    for command in readme_commands():
        args = shlex.split(command)[1:]
        if any(word in args for word in skip) or any(w.startswith("docs/") for w in args):
            continue
        result = _in(readme_run, args, "-n", check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"{command}\n{output[-2000:]}"


def test_the_readme_image_folder_layout_is_what_the_loader_reads(tmp_path):
    from fixtures_data import fake_image_array
    from PIL import Image

    from resnet_essence.data.imagefolder import load_imagefolder

    block = README.split("### Your own images", 1)[1].split("```text\n", 1)[1].split("```")[0]
    paths = [line.strip() for line in block.splitlines() if line.strip()]
    for k, rel in enumerate(paths):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(fake_image_array(k % 3, k)).save(tmp_path / rel)
    root = tmp_path / paths[0].split("/")[0]
    data = load_imagefolder(
        root, None, False, train_per_class=None, test_per_class=None, subset_seed=0
    )
    assert data.classes == sorted({Path(p).parent.name for p in paths})
    assert len(data.x_train) + len(data.x_test) == len(paths)
