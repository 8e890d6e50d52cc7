"""Faults and bad input through the whole DAG: kills, SIGTERM, divergence, typos.

Each test is one row of the table in docs/reliability.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT, SNAKEMAKE_ENV, snakemake, snakemake_command, write_config

from resnet_essence.files import atomic_path, write_csv

# one network long enough to be killed in the middle: 45 steps an epoch, 12 epochs; two seeds
# trained packed in one job (jobs.pack_seeds, the default), which logs per network
LONG = {
    "archs": ["plain"],
    "depths": [14],
    "seeds": [0, 1],
    "train": {"epochs": 12, "batch_size": 32, "trace_every": 5, "snapshot_epochs": [0, 3]},
}
RUN = "results/runs/digits/plain-14/seed0"
TRAIN_TARGET = f"{RUN}/summary.json"
TRAIN_LOG = "results/logs/train/digits/plain-14.log"


def _start(workdir: Path, *args: str) -> subprocess.Popen:
    """Snakemake in the background, in its own process group (so it can be killed whole)."""
    return subprocess.Popen(
        snakemake_command(workdir, *args, cores=1),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=SNAKEMAKE_ENV,
    )


def _wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def _checkpoint_epoch(path: Path) -> int:
    if not path.exists():
        return -1
    try:
        return torch.load(path, map_location="cpu", weights_only=False)["state"]["epoch"]
    except Exception:  # replaced while being read: look again
        return -1


def _training_pids(workdir: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", "train.py"], capture_output=True, text=True).stdout
    pids = []
    for pid in out.split():
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if Path(cwd) == workdir:
            pids.append(int(pid))
    return pids


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> pd.DataFrame:
    workdir = tmp_path_factory.mktemp("straight")
    write_config(workdir, LONG)
    snakemake(workdir, TRAIN_TARGET)
    return pd.read_csv(workdir / RUN / "metrics.csv").drop(columns="seconds")


@pytest.mark.pipeline
def test_sigkill_mid_run_resumes_to_identical_metrics(tmp_path, uninterrupted):
    write_config(tmp_path, LONG)
    job = _start(tmp_path, TRAIN_TARGET)
    _wait_for(lambda: _checkpoint_epoch(tmp_path / RUN / "checkpoint.pt") >= 2)
    os.killpg(job.pid, signal.SIGKILL)  # Snakemake and the training job, no warning
    job.wait()
    assert not (tmp_path / RUN / "summary.json").exists()
    before_kill = (tmp_path / TRAIN_LOG).read_text().splitlines()
    # the README's recovery: the killed Snakemake left its lock behind, so it says to unlock
    # once, then run the same command (profiles/default reruns the incomplete outputs)
    locked = snakemake(tmp_path, TRAIN_TARGET, check=False)
    assert locked.returncode != 0 and "--unlock" in locked.stdout + locked.stderr
    snakemake(tmp_path, "--unlock")
    rerun = snakemake(tmp_path, TRAIN_TARGET)
    log = (tmp_path / TRAIN_LOG).read_text()
    assert "resumed from" in log, rerun.stdout[-2000:]
    # the resumed job appended to the log: every line from before the kill is still there
    assert before_kill and log.startswith("\n".join(before_kill))
    assert not (tmp_path / f"{TRAIN_LOG}.unfinished").exists()
    resumed = pd.read_csv(tmp_path / RUN / "metrics.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    assert not (tmp_path / RUN / "checkpoint.pt").exists()


@pytest.mark.pipeline
def test_sigterm_checkpoints_and_exits_within_seconds_then_resumes(tmp_path, uninterrupted):
    write_config(tmp_path, LONG)
    job = _start(tmp_path, TRAIN_TARGET)
    _wait_for(
        lambda: (
            _checkpoint_epoch(tmp_path / RUN / "checkpoint.pt") >= 1 and _training_pids(tmp_path)
        )
    )
    pids = _training_pids(tmp_path)
    sent = time.monotonic()
    for pid in pids:
        os.kill(pid, signal.SIGTERM)  # what SLURM sends at a time limit or on preemption
    _wait_for(lambda: not _training_pids(tmp_path), timeout=30)
    assert time.monotonic() - sent < 10
    output, _ = job.communicate(timeout=60)
    assert job.returncode != 0, output[-2000:]
    log = (tmp_path / TRAIN_LOG).read_text()
    assert "stopped by SIGTERM" in log
    snakemake(tmp_path, TRAIN_TARGET)  # the same command: profiles/default reruns incomplete
    resumed = pd.read_csv(tmp_path / RUN / "metrics.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(resumed, uninterrupted)


@pytest.mark.pipeline
def test_divergence_is_recorded_and_the_dag_goes_on(tmp_path):
    write_config(
        tmp_path,
        {"model": {"norm": "none"}, "train": {"lr": 1000.0}, "depths": [8], "seeds": [0, 1]},
    )
    snakemake(tmp_path)
    runs = pd.read_csv(tmp_path / "results/tables/runs.csv")
    assert (runs["status"] == "diverged").all()
    report = (tmp_path / "results/report.md").read_text()
    assert "Diverged or failed runs" in report and "| diverged |" in report
    final = pd.read_csv(tmp_path / "results/tables/final.csv")
    assert (final["n_diverged"] == 2).all()


def test_atomic_write_leaves_the_old_file_on_a_crash(tmp_path):
    target = tmp_path / "table.csv"
    write_csv(target, pd.DataFrame({"a": [1, 2]}))
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("a\n9\n")  # half a new file ...
        raise RuntimeError("killed mid-write")  # ... and the writer dies
    assert target.read_text() == "a\n1\n2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # no temporary left over


def test_rule_scripts_write_only_through_atomic_helpers():
    direct = (".to_csv(", ".savefig(", "torch.save(", "np.savez", ".write_text(", "open(")
    for script in sorted((ROOT / "scripts").glob("*.py")):
        for number, line in enumerate(script.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if any(call in code for call in direct):
                # allowed only on a temporary path handed out by atomic_path, or for reading
                assert "tmp" in code or "encoding=" in code and '"w"' not in code, (
                    f"{script.name}:{number} writes directly: {line.strip()}"
                )


@pytest.mark.pipeline
@pytest.mark.parametrize(
    "overrides,message",
    [({"dataset": "cifar10", "data": {"download": False}}, "cifar-10-python.tar.gz")],
)
def test_bad_input_found_at_job_time_is_a_clear_error(overrides, message, tmp_path):
    overrides = {"data_root": str(tmp_path / "no-data"), **overrides}
    write_config(tmp_path, overrides)
    result = snakemake(tmp_path, "--keep-going", check=False)
    assert result.returncode != 0
    logs = "".join(p.read_text() for p in (tmp_path / "results/logs").rglob("*.log"))
    assert message in logs
    # what could be computed was computed and kept
    assert (tmp_path / "results/collapse/survival.csv").exists()


@pytest.mark.pipeline
def test_imagefolder_with_a_class_missing_from_test(tmp_path):
    from fixtures_data import write_fake_imagefolder

    root = write_fake_imagefolder(tmp_path / "images", size=8)
    for image in (root / "test" / "dog").iterdir():
        image.unlink()
    (root / "test" / "dog").rmdir()
    write_config(tmp_path, {"dataset": "imagefolder", "data_root": str(root)})
    result = snakemake(tmp_path, "results/data/imagefolder.npz", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/logs/prepare_data/imagefolder.log").read_text()
    assert "dog" in log


@pytest.mark.pipeline
def test_a_bad_config_loses_nothing_already_computed(smoke_run):
    final = smoke_run / "results/tables/final.csv"
    before = (final.read_bytes(), final.stat().st_mtime_ns)
    (smoke_run / "bad.yaml").write_text("depths: [8, 9]\n")
    result = snakemake(smoke_run, "--configfile", str(smoke_run / "bad.yaml"), check=False)
    assert result.returncode != 0 and "'depths'" in result.stdout + result.stderr
    assert (final.read_bytes(), final.stat().st_mtime_ns) == before
    assert "Nothing to be done" in snakemake(smoke_run, "-n").stdout


def _result_files(workdir: Path) -> dict[str, int]:
    return {
        str(p.relative_to(workdir)): p.stat().st_mtime_ns
        for p in (workdir / "results").rglob("*")
        if p.is_file() and "logs" not in p.parts
    }


@pytest.mark.pipeline
def test_a_device_this_machine_lacks_stops_before_any_job_and_deletes_nothing(smoke_run):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    before = _result_files(smoke_run)
    # a job to run (the figure, forced), whose outputs Snakemake would delete as it starts
    result = snakemake(smoke_run, "--forcerun", "figure", "--config", "device=cuda", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "config key 'device': 'cuda' but CUDA is not available" in output, output[-3000:]
    assert "rule figure:" not in output  # no job started
    assert _result_files(smoke_run) == before  # nothing deleted, nothing rewritten
    # the device is not an output-changing setting: auto (the CPU here) has nothing to rerun
    auto = snakemake(smoke_run, "-n", "--config", "device=auto")
    assert "Nothing to be done" in auto.stdout + auto.stderr, auto.stdout[-3000:]
