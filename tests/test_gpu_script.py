"""The one-shot GPU call (benchmarks/gpu_run.sh): what it refuses, and its --tiny route end to end
on the CPU, cut by its time budget and resumed."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_run.sh"
# what the device tool brings back from $OUT
MAX_FILES, MAX_FILE_BYTES, MAX_TOTAL_BYTES = 8, 16 * 2**20, 64 * 2**20
OUTPUTS = {"gpu_run.log", "snakemake.log", "results.tar.gz", "example-cifar10-gpu.tar.gz"}
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The CIFAR-10 JPEG archive in miniature: cifar10/{train,test}/CLASS/*.jpg, 30 training and
    10 test images a class (what --tiny takes of the real one)."""
    path = tmp_path_factory.mktemp("archive") / "cifar10-tiny.tar.xz"
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:xz") as tar:
        for split, count in {"train": 30, "test": 10}.items():
            for name in CLASSES:
                colour = rng.integers(0, 256, size=3)
                for i in range(count):
                    pixels = np.clip(colour + rng.integers(-40, 40, size=(32, 32, 3)), 0, 255)
                    jpeg = io.BytesIO()
                    Image.fromarray(pixels.astype(np.uint8)).save(jpeg, "JPEG", quality=75)
                    info = tarfile.TarInfo(f"cifar10/{split}/{name}/{i:04d}.jpg")
                    info.size = jpeg.tell()
                    jpeg.seek(0)
                    tar.addfile(info, jpeg)
    return path


def gpu_run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``bash benchmarks/gpu_run.sh ARGS`` from the repository root, with this Python."""
    full_env = {**os.environ, "PYTHON": sys.executable}
    full_env.pop("PYTHONPATH", None)
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        cwd=ROOT,
        env={**full_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def tail(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-4000:] + result.stderr[-4000:]


def test_scripts_parse():
    for script in ("gpu_run.sh", "fetch_gpu_wheels.sh"):
        subprocess.run(["bash", "-n", str(ROOT / "benchmarks" / script)], check=True)


def test_help_names_every_option():
    result = gpu_run("--help")
    assert result.returncode == 0
    for option in ("OUTDIR", "--archive", "--budget", "--workdir", "--tiny", "PYTHON"):
        assert option in result.stdout


@pytest.mark.parametrize("budget", ["soon", "39", "-5", "9.5"])
def test_a_bad_budget_is_refused_before_anything_runs(tmp_path, budget):
    out = tmp_path / "out"
    result = gpu_run(str(out), "--tiny", "--budget", budget)
    assert result.returncode == 2, tail(result)
    assert "--budget must be a whole number of seconds, at least 40" in result.stderr
    assert f"got '{budget}'" in result.stderr
    assert not out.exists()


def test_a_missing_archive_is_named(tmp_path):
    out, missing = tmp_path / "out", tmp_path / "nowhere.tar.xz"
    work = str(tmp_path / "w")
    result = gpu_run(str(out), "--tiny", "--archive", str(missing), "--workdir", work)
    assert result.returncode == 1, tail(result)
    assert f"ERROR: no data archive {missing}" in result.stdout
    assert "cp ../shared/data/cifar10-jpeg.tar.xz .gpu-carry/" in result.stdout  # the remedy
    assert "no data archive" in (out / "gpu_run.log").read_text()


def test_no_snakemake_and_no_wheels_is_named(tmp_path, archive):
    if any((ROOT / ".whl").glob("*.whl")):
        pytest.skip("wheels fetched into .whl/: the script would install them")
    hidden = tmp_path / "hidden" / "snakemake"  # shadows the installed Snakemake
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    out = tmp_path / "out"
    args = (str(out), "--tiny", "--archive", str(archive), "--workdir", str(tmp_path / "w"))
    result = gpu_run(*args, env={"PYTHONPATH": str(hidden.parent)})
    assert result.returncode == 1, tail(result)
    assert "cannot import snakemake" in result.stdout
    assert f"{ROOT}/.whl holds no wheels" in result.stdout
    assert "bash benchmarks/fetch_gpu_wheels.sh" in result.stdout


def test_the_gpu_route_wants_a_gpu_and_the_real_archive(tmp_path, archive):
    out = tmp_path / "out"
    args = (str(out), "--archive", str(archive), "--workdir", str(tmp_path / "w"))
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    smi = fake_bin / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'NVIDIA Test GPU, 1.0, 0 MiB, 80000 MiB, 0 %'\n")
    smi.chmod(0o755)
    # nvidia-smi where the tests run: only the second check applies
    if subprocess.run(["sh", "-c", "command -v nvidia-smi"], capture_output=True).returncode:
        result = gpu_run(*args)
        assert result.returncode == 1, tail(result)
        assert "no nvidia-smi: no GPU here" in result.stdout
    result = gpu_run(*args, env={"PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 1, tail(result)
    assert "GPU: NVIDIA Test GPU" in result.stdout
    wrong = r"has sha256 [0-9a-f]{64}, not that of the CIFAR-10 JPEG archive"
    assert re.search(wrong, result.stdout)
    assert not (tmp_path / "w" / "data").exists()


def _steps(log: str) -> tuple[int, int]:
    """(jobs done, jobs in the DAG) by Snakemake's last progress line; (0, 0) without one."""
    found = re.findall(r"^(\d+) of (\d+) steps", log, re.M)
    return tuple(map(int, found[-1])) if found else (0, 0)


@pytest.mark.pipeline
def test_tiny_run_cut_by_its_budget_then_resumed_fills_outdir(tmp_path, archive):
    work = tmp_path / "work"
    tiny = ("--tiny", "--archive", str(archive), "--workdir", str(work))

    # a budget that ends the pipeline part way: SIGTERM, exit status 124, the logs come back.
    # The smallest budget leaves the pipeline ~18 s, and every rule script of this call starts
    # 3 s late (a sitecustomize on PYTHONPATH, which the jobs inherit), so the DAG's chain of
    # jobs cannot finish in time however fast the machine: the whole tiny run took 38 s on
    # CI's machine, where a 60 s budget was once not enough to cut it.
    slow = tmp_path / "slow"
    slow.mkdir()
    (slow / "sitecustomize.py").write_text(
        "import sys, time\n"
        "if any('.snakemake/scripts/' in arg for arg in sys.orig_argv):\n"
        "    time.sleep(3)\n"
    )
    cut = gpu_run(str(tmp_path / "cut"), *tiny, "--budget", "40", env={"PYTHONPATH": str(slow)})
    assert cut.returncode == 124, tail(cut)
    assert "pipeline: TIMED OUT" in cut.stdout and "resumes them" in cut.stdout
    assert {"gpu_run.log", "snakemake.log"} <= {f.name for f in (tmp_path / "cut").iterdir()}
    cut_log = (tmp_path / "cut" / "snakemake.log").read_text()
    assert f"Using workflow specific profile {ROOT}/profiles/workstation" in cut_log
    cut_done, cut_total = _steps(cut_log)

    # the same call again, the same work folder: the data stay, the finished jobs are not rerun
    out = tmp_path / "out"
    result = gpu_run(str(out), *tiny)
    assert result.returncode == 0, tail(result)
    assert f"data: {work}/data/cifar10 is there already" in result.stdout
    assert "pipeline: done" in result.stdout
    done, total = _steps((out / "snakemake.log").read_text())
    assert done == total and total <= cut_total - cut_done

    files = list(out.iterdir())
    assert {f.name for f in files} == OUTPUTS and all(f.is_file() for f in files)
    assert len(files) <= MAX_FILES
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", f.name) for f in files)
    sizes = [f.stat().st_size for f in files]
    assert max(sizes) <= MAX_FILE_BYTES and sum(sizes) <= MAX_TOTAL_BYTES

    with tarfile.open(out / "example-cifar10-gpu.tar.gz") as tar:
        names = set(tar.getnames())
        config = yaml.safe_load(tar.extractfile("example-cifar10-gpu/config.yaml").read())
        provenance = tar.extractfile("example-cifar10-gpu/PROVENANCE.md").read().decode()
    for name in ("main.png", "report.md", "claims.csv", "claims.md", "tables/runs.csv"):
        assert f"example-cifar10-gpu/{name}" in names
    assert not any(n.endswith(".snakemake_timestamp") for n in names)
    # the GPU config (pack_seeds, eval_batch_size), the smoke config over it, then --tiny's keys
    assert config["dataset"] == "imagefolder" and config["device"] == "cpu"
    assert config["jobs"]["pack_seeds"] is False and config["train"]["eval_batch_size"] == 2000
    assert config["model"]["width"] == 4 and config["train"]["epochs"] == 2
    assert config["depths"] == [8] and config["seeds"] == [0]
    assert config["data"]["train_per_class"] == 30
    assert provenance.startswith("# Where this example comes from") and "- commit: `" in provenance

    with tarfile.open(out / "results.tar.gz") as tar:
        names = set(tar.getnames())
    for name in (
        "results/report.md",
        "results/tables/final.csv",
        "results/figures/main.png",
        "results/runs/imagefolder/residual-8/seed0/metrics.csv",
        "results/logs/train/imagefolder/residual-8/seed0.log",
    ):
        assert name in names
    assert not any(n.endswith((".pt", ".npz")) for n in names)
    # the pipeline ran in the work folder, never in the checkout
    assert (work / "docs/example-cifar10-gpu/PROVENANCE.md").is_file()
    assert not (ROOT / "docs/example-cifar10-gpu").exists()
