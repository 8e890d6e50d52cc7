"""Faults of the file system: a full disk, and the mode of the files we write.

The full-disk tests mount a small tmpfs (root only) so that a write really fails with ENOSPC.
Each test is one row of the table in docs/reliability.md.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import copy_results, net_spec, snakemake, write_config

from resnet_essence.files import (
    DamagedFile,
    atomic_path,
    file_record,
    verify,
    write_csv,
    write_text,
)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs at tmp_path/disk, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("no mount/umount command on this machine")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:  # e.g. a container without CAP_SYS_ADMIN
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        # lazily if something still holds it open, so that nothing stays mounted
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path, leave: int) -> Path:
    """A file that takes all free space on ``disk`` except about ``leave`` bytes."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - leave))
    return filler


def _assert_no_space_error(error: pytest.ExceptionInfo, path: Path) -> None:
    assert error.value.errno == errno.ENOSPC
    assert "no space left on device" in str(error.value)
    assert str(path) in str(error.value)


def test_full_disk_names_the_file_and_keeps_the_old_one(small_disk):
    target = small_disk / "table.csv"
    write_csv(target, pd.DataFrame({"a": [1, 2]}))
    filler = _fill(small_disk, leave=16 * 1024)
    big = pd.DataFrame({"a": range(100_000)})  # about 600 kB of CSV

    with pytest.raises(OSError) as error:
        write_csv(target, big)
    _assert_no_space_error(error, target)
    # torch.save reports a full disk as a RuntimeError ("unexpected pos ..."); it too must
    # come out as ENOSPC with the path (this is how a checkpoint is written)
    checkpoint = small_disk / "checkpoint.pt"
    with pytest.raises(OSError) as error, atomic_path(checkpoint) as tmp:
        torch.save({"weights": torch.zeros(500_000)}, tmp)
    _assert_no_space_error(error, checkpoint)

    assert target.read_text() == "a\n1\n2\n"  # the old file, whole
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "table.csv"]  # no temporary

    filler.unlink()  # space freed: the same write goes through
    write_csv(target, big)
    assert len(pd.read_csv(target)) == len(big)


@pytest.mark.pipeline
def test_full_disk_fails_the_rule_clearly_and_the_rerun_completes(tmp_path, small_disk):
    # results/ on the small disk; Snakemake's own .snakemake/ stays on the normal one
    workdir = tmp_path / "run"
    write_config(workdir)
    (workdir / "results").symlink_to(small_disk)
    snakemake(workdir, "results/data/digits.npz")  # an earlier result
    data = workdir / "results/data/digits.npz"
    before = hashlib.sha256(data.read_bytes()).hexdigest()

    # room for survival.csv (14 kB) and the log, not for examples.csv (500 kB)
    filler = _fill(small_disk, leave=64 * 1024)
    failed = snakemake(workdir, "results/collapse/survival.csv", check=False)
    output = failed.stdout + failed.stderr
    assert failed.returncode != 0
    assert "[Errno 28] no space left on device: 'results/collapse/examples.csv'" in output, output
    # nothing under a final name, no temporary (.examples.*.csv) left behind
    assert [p.name for p in small_disk.rglob("*") if "examples" in p.name] == []
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before

    filler.unlink()
    snakemake(workdir, "results/collapse/survival.csv")  # the same command, now it completes
    assert len(pd.read_csv(workdir / "results/collapse/examples.csv")) > 0
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_the_mode_open_would_give(tmp_path, umask, monkeypatch):
    previous = os.umask(umask)
    try:
        # the writer must not change the umask (not even for a moment: threads share it)
        monkeypatch.setattr(os, "umask", lambda *_: pytest.fail("atomic_path changed the umask"))
        write_text(tmp_path / "report.html", "<html></html>\n")
        with atomic_path(tmp_path / "main.png") as tmp:
            tmp.write_bytes(b"\x89PNG")
        (tmp_path / "plain.txt").write_text("as open() makes it\n")
        monkeypatch.undo()
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask  # 0644 and 0600
    for name in ("report.html", "main.png", "plain.txt"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(expected), name


# -- damaged intermediate files ------------------------------------------------------------------
def test_file_records_catch_truncation_and_alteration(tmp_path):
    path = tmp_path / "data.npz"
    path.write_bytes(b"x" * 1000)
    record = file_record(path)
    verify(path, record, "prepare_data")  # intact: silent
    path.write_bytes(b"x" * 999)
    with pytest.raises(DamagedFile, match="data.npz is damaged.*Delete it and rerun"):
        verify(path, record, "prepare_data")
    path.write_bytes(b"y" + b"x" * 999)  # same size, other content
    with pytest.raises(DamagedFile, match="rule prepare_data wrote 1000 bytes"):
        verify(path, record, "prepare_data")


RUN = "results/runs/digits/plain-8/seed0"


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if how == "truncate" else data[:-8] + b"tampered")


@pytest.mark.pipeline
@pytest.mark.parametrize(
    "target,rule,damaged,how",
    [
        (f"{RUN}/summary.json", "train", "results/data/digits.npz", "truncate"),
        ("results/gradstats/digits/plain-8/seed0.csv", "gradstats", f"{RUN}/snapshots.pt", "alter"),
        ("results/tables/final.csv", "aggregate", f"{RUN}/metrics.csv", "alter"),
    ],
)
def test_a_damaged_file_is_named_and_refused_by_the_rule_that_reads_it(
    smoke_run, tmp_path, target, rule, damaged, how
):
    """Each reader checks what the writer recorded: the job fails naming the file, writes
    nothing, and the rest of the results stay as they were."""
    write_config(tmp_path)
    copy_results(smoke_run, tmp_path, "results")
    _damage(tmp_path / damaged, how)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").rglob("*") if p.is_file()}
    result = snakemake(tmp_path, target, "--forcerun", rule, "--allowed-rules", rule, check=False)
    assert result.returncode != 0
    logs = "".join(p.read_text() for p in (tmp_path / "results/logs").rglob("*.log"))
    assert f"{damaged} is damaged" in logs and "Delete it and rerun" in logs, logs[-2000:]
    assert not (tmp_path / target).exists()  # Snakemake removed the forced output, none written
    untouched = [p for p in before if p.exists() and p != tmp_path / target]
    assert all(p.stat().st_mtime_ns == before[p] for p in untouched if "logs" not in str(p))


# -- untrusted pickles ---------------------------------------------------------------------------
class _Payload:
    """Unpickling this runs ``touch <marker>``: what a tampered checkpoint could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_malicious_checkpoint_is_refused_not_run(tmp_path, tiny_tensors):
    from conftest import recipe

    from resnet_essence.train.trainer import Trainer

    marker = tmp_path / "pwned"
    checkpoint = tmp_path / "checkpoint.pt"
    torch.save({"fingerprint": _Payload(marker)}, checkpoint)
    trainer = Trainer(
        net_spec("plain", 8, in_channels=1, width=2),
        recipe(epochs=1),
        tiny_tensors,
        torch.device("cpu"),
        checkpoint_path=checkpoint,
    )
    assert not trainer.try_resume()  # refused with a warning: the run starts over
    assert not marker.exists()
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        torch.load(checkpoint, weights_only=True)
    assert not marker.exists()
