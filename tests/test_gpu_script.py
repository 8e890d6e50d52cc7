"""The one-shot GPU call (benchmarks/gpu_run.sh) end to end in --tiny mode, and its planner."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tarfile
from datetime import datetime
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
# what the device tool brings back from $OUT
MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_BYTES = 8, 16 * 2**20, 64 * 2**20
EXPECTED = {
    "gpu_run.log",
    "run-info.txt",
    "train-cpu-tiny.json",
    "results.tar.gz",
    "example-cifar10-gpu.tar.gz",
}


@pytest.fixture(scope="module")
def plan():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("gpu_plan")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_scripts_parse():
    for script in ("gpu_run.sh", "fetch_gpu_wheels.sh"):
        subprocess.run(["bash", "-n", str(BENCHMARKS / script)], check=True)


@pytest.mark.pipeline
def test_tiny_run_fills_outdir_within_the_device_limits(tmp_path):
    out, work = tmp_path / "out", tmp_path / "work"
    env = {**os.environ, "PYTHON": sys.executable, "GPU_RUN_WORKDIR": str(work)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        ["bash", str(BENCHMARKS / "gpu_run.sh"), str(out), "--tiny"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "pipeline: done" in result.stdout

    files = list(out.rglob("*"))
    assert all(f.is_file() for f in files), "no folders in OUTDIR"
    assert {f.name for f in files} == EXPECTED
    assert len(files) <= MAX_FILES
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", f.name) for f in files)
    sizes = [f.stat().st_size for f in files]
    assert max(sizes) <= MAX_FILE_BYTES and sum(sizes) <= MAX_TOTAL_BYTES

    info = (out / "run-info.txt").read_text()
    assert "exit status 0" in info and "pipeline:" in info and "nvidia-smi" in info
    bench = json.loads((out / "train-cpu-tiny.json").read_text())
    assert {row["arch"] for row in bench["rows"]} == {"plain", "residual"}

    with tarfile.open(out / "example-cifar10-gpu.tar.gz") as tar:
        names = set(tar.getnames())
        config = yaml.safe_load(tar.extractfile("example-cifar10-gpu/config.yaml").read())
        provenance = tar.extractfile("example-cifar10-gpu/PROVENANCE.md").read().decode()
    for name in ("main.png", "report.md", "claims.csv", "claims.md", "PROVENANCE.md"):
        assert f"example-cifar10-gpu/{name}" in names
    assert config["dataset"] == "imagefolder" and config["device"] == "cpu"
    assert config["train"]["epochs"] == 2  # the plan's overlay, bounded by the tiny config
    assert "gpu_run.sh OUT --tiny" in provenance

    with tarfile.open(out / "results.tar.gz") as tar:
        names = set(tar.getnames())
    for name in (
        "results/report.md",
        "results/tables/final.csv",
        "results/figures/main.png",
        "gpu-run-logs/pipeline.log",
        "gpu-run-logs/plan.yaml",
    ):
        assert name in names
    assert not any(n.endswith((".pt", ".npz")) for n in names)
    # nothing written into the checkout
    assert not (ROOT / "benchmarks/results/train-cpu-tiny.json").exists()


# -- the planner ------------------------------------------------------------------------------
RATES = {("plain", 20): 25_000.0, ("residual", 20): 25_000.0, ("plain", 56): 10_000.0}


def test_rates_fall_back_to_the_depth_then_scale_by_depth(plan):
    assert plan.images_per_second(RATES, "residual", 20) == 25_000.0
    assert plan.images_per_second(RATES, "residual", 56) == 10_000.0  # same depth, other arch
    assert plan.images_per_second(RATES, "preact", 110) == pytest.approx(10_000.0 * 56 / 110)


def test_plan_fits_the_grid_into_the_time_left(plan):
    runs = [(a, d, s) for a in ("plain", "residual") for d in (20, 56) for s in (0, 1, 2)]
    # one epoch alone: 2.0 s at depth 20, 5.0 s at 56 (x1 overhead); 6 x 2 + 6 x 5 = 42 s an
    # epoch one after the other, 21 s side by side at a speed-up of 2: 220 s less 10 s start-up
    # hold 10 epochs
    result = plan.plan_epochs(RATES, runs, 220, speedup=2, overhead=1, startup=10, max_epochs=40)
    assert result.wall_per_epoch == pytest.approx(21) and result.epochs == 10
    # side by side, no run goes faster than alone
    alone = plan.plan_epochs(RATES, runs[:1], 220, speedup=8, overhead=1, startup=10)
    assert alone.wall_per_epoch == pytest.approx(2.0)
    assert plan.plan_epochs(RATES, runs, 5, startup=10, min_epochs=2).epochs == 2
    assert plan.plan_epochs(RATES, runs, 1e6, max_epochs=40).epochs == 40


def _log(start: float, epochs: list[float], done: bool = False) -> str:
    stamp = lambda t: datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    lines = [f"{stamp(start)} INFO train: plain-20 seed 0: 272474 parameters on cuda, 1 threads"]
    lines += [
        f"{stamp(t)} INFO resnet_essence.train.trainer: epoch {i + 1}/10 train_loss 1 "
        f"train_err 0.5 test_err 0.5 (1.0s)"
        for i, t in enumerate(epochs)
    ]
    if done:
        lines.append(f"{stamp(epochs[-1])} INFO train: completed after {len(epochs)} epochs: x")
    return "\n".join(lines) + "\n"


def test_projection_waits_for_every_first_epoch_then_restarts_only_when_it_helps(plan):
    t0 = 1_000_000.0
    slow = plan.parse_log(_log(t0, [t0 + 20]))
    assert slow.epochs == 1 and slow.seconds_per_epoch() == pytest.approx(20)
    waiting = {"a": slow, "b": plan.RunProgress(started=t0)}
    assert plan.projection(waiting, 10, t0 + 21) is None
    progress = {"a": slow, "b": plan.parse_log(_log(t0, [t0 + 10, t0 + 20]))}
    end, rate = plan.projection(progress, 10, t0 + 21)
    assert end == pytest.approx(t0 + 20 + 9 * 20) and rate == pytest.approx(20)
    # past a deadline at t0 + 120: a fresh start at t0 + 21 (15 s to restart) fits 4 epochs
    assert plan.restart_epochs(10, end, rate, t0 + 120, t0 + 21, 15) == 4
    assert plan.restart_epochs(10, end, rate, t0 + 400, t0 + 21, 15) is None  # fits anyway
    # every run finished: nothing to gain from a restart, however late
    done = {"a": plan.parse_log(_log(t0, [t0 + 10, t0 + 20], done=True))}
    end, rate = plan.projection(done, 2, t0 + 21)
    assert plan.restart_epochs(10, end, rate, t0, t0 + 21, 15) is None


def test_watch_advises_a_restart_and_ends_with_the_pipeline(plan, tmp_path, capsys):
    config = tmp_path / "config.yaml"
    grid = {"dataset": "imagefolder", "archs": ["plain"], "depths": [20], "seeds": [0]}
    config.write_text(yaml.safe_dump({**grid, "train": {"epochs": 10}}))
    log = tmp_path / "results/logs/train/imagefolder/plain-20/seed0.log"
    log.parent.mkdir(parents=True)
    now = datetime.now().timestamp()
    log.write_text(_log(now - 21, [now - 1]))  # 20 s an epoch: 180 s to go
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        args = ["watch", "--workdir", str(tmp_path), "--config", str(config), "--interval", "0.1"]
        args += ["--pid", str(sleeper.pid), "--deadline", str(now + 100), "--startup", "5"]
        assert plan.main(args) == plan.RESTART_STATUS
        assert "RESTART EPOCHS=4" in capsys.readouterr().out  # (100 - 5 - 10) // 20
        # once the pipeline's process has ended, the watch ends too
        sleeper.kill()
        sleeper.wait()
        assert plan.main([*args, "--no-restart"]) == 0
    finally:
        sleeper.kill()
