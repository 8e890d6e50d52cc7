"""Shared fixtures: a tiny data set, and Snakemake runs in scratch directories."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "configs" / "smoke.yaml"


def default_config() -> dict:
    """config.yaml, the one place where every setting has its value."""
    with open(ROOT / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def recipe(seed: int = 0, **overrides):
    """The default training recipe (config.yaml's ``train:``) with some values changed."""
    from resnet_essence.train.trainer import TrainConfig

    return TrainConfig.from_config({**default_config()["train"], **overrides}, seed=seed)


# a short recipe for tiny tensors: three epochs, step schedule, no warm-up, a trace every 2 steps
QUICK = {
    "epochs": 3,
    "batch_size": 32,
    "lr": 0.05,
    "lr_schedule": "step",
    "warmup_epochs": 0,
    "crop_padding": 1,
    "flip": True,
    "trace_every": 2,
    "snapshot_epochs": (0, 1),
}


def quick(seed: int = 0, **overrides):
    """``recipe`` with the QUICK values, then the test's own changes."""
    return recipe(seed, **{**QUICK, **overrides})


def net_spec(arch: str, depth: int, num_classes: int = 10, in_channels: int = 3, **model):
    """A 6n+2 net as the pipeline builds one: config.yaml's ``model:`` section with the test's
    ``model`` changes (the classes and channels are the test's data's)."""
    from resnet_essence.nets.resnet import NetSpec

    section = {**default_config()["model"], **model}
    return NetSpec.from_config(section, arch, depth, num_classes, in_channels)


def bottleneck_spec(
    variant: str, width: int, num_classes: int = 10, in_channels: int = 3, **changes
):
    """A MobileNetV2-style net from config.yaml's ``bottleneck:`` section, with changes."""
    from resnet_essence.nets.bottleneck import BottleneckSpec

    section = {**default_config()["bottleneck"], **changes}
    return BottleneckSpec.from_config(section, variant, width, num_classes, in_channels)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _no_remembered_power():
    """Each test computes its own power figures: ``stats.detectable`` remembers them within a
    process, which must not carry one test's (or a mutant's) figures into the next."""
    from resnet_essence.stats import detectable, t_critical

    detectable.cache_clear()
    t_critical.cache_clear()


@pytest.fixture(scope="session")
def tiny_tensors() -> dict[str, torch.Tensor]:
    """A learnable 10-class problem of 8x8 one-channel images, 200 train and 50 test."""
    rng = np.random.default_rng(0)
    templates = rng.integers(0, 256, size=(10, 1, 8, 8))

    def make(n):
        y = rng.integers(0, 10, size=n)
        noise = rng.integers(-30, 30, size=(n, 1, 8, 8))
        x = np.clip(templates[y] + noise, 0, 255).astype(np.uint8)
        return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    x_train, y_train = make(200)
    x_test, y_test = make(50)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


SNAKEMAKE_ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def snakemake_command(workdir: Path, *args: str, cores: int = 2) -> list[str]:
    """The command line that runs this project's Snakefile in ``workdir``."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        str(cores),
        *args,
    ]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run this project's Snakefile in ``workdir`` (its config.yaml is the one used)."""
    result = subprocess.run(
        snakemake_command(workdir, *args),
        capture_output=True,
        text=True,
        env=SNAKEMAKE_ENV,
        timeout=900,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-6000:]}"
        )
    return result


def write_config(workdir: Path, overrides: dict | None = None, base: Path = SMOKE) -> dict:
    """config.yaml in ``workdir``: the base config (smoke) updated with ``overrides``."""
    with open(ROOT / "config.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    with open(base, encoding="utf-8") as fh:
        _merge(config, yaml.safe_load(fh))
    _merge(config, overrides or {})
    workdir.mkdir(parents=True, exist_ok=True)
    # in config.yaml's order, to read beside it
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return config


def _merge(into: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The whole smoke config, end to end, once per test session; returns its directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    write_config(workdir)
    snakemake(workdir)
    return workdir


def copy_results(source: Path, target: Path, *relative: str) -> None:
    """Copy result files (keeping times) from one run directory into another."""
    for rel in relative:
        src, dst = source / rel, target / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)


# -- a frozen wall clock (issue 37): `pytest -m "not pipeline" --frozen-clock` runs the fast tier
# with time.time() and datetime's now() fixed, so that a test that depends on when it runs, or
# on how much wall time passes, fails there. The interval timers (time.monotonic,
# time.perf_counter) keep running: durations in logs and subprocess timeouts need them.
FROZEN_AT = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def pytest_addoption(parser):
    parser.addoption(
        "--frozen-clock",
        action="store_true",
        help="freeze the wall clock (time.time, datetime.now) at 2026-01-01 for every test",
    )


@pytest.fixture(autouse=True)
def _frozen_clock(request, monkeypatch):
    if not request.config.getoption("--frozen-clock"):
        return
    import datetime as dt
    import time

    class FrozenDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls.fromtimestamp(FROZEN_AT, tz)

        @classmethod
        def utcnow(cls):
            return cls.fromtimestamp(FROZEN_AT, dt.UTC).replace(tzinfo=None)

        @classmethod
        def today(cls):
            return cls.fromtimestamp(FROZEN_AT)

    monkeypatch.setattr(time, "time", lambda: FROZEN_AT)
    monkeypatch.setattr(time, "time_ns", lambda: int(FROZEN_AT * 1e9))
    monkeypatch.setattr(dt, "datetime", FrozenDatetime)
    assert time.time() == FROZEN_AT and dt.datetime.now(dt.UTC).year == 2026
