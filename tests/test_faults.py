"""Faults of the file system: a full disk, and the mode of the files we write.

The full-disk tests mount a small tmpfs (root only) so that a write really fails with ENOSPC.
Each test is one row of the table in docs/reliability.md.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import snakemake, write_config

from resnet_essence.io import atomic_path, write_csv, write_text


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


@pytest.mark.snakemake
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
