"""How long a published run's computing jobs took."""

import pytest

from resnet_essence.report.provenance import busy_time


def test_busy_time_counts_overlapping_jobs_once_and_no_pause():
    assert busy_time([]) == 0
    # two jobs side by side on two cores, then a third: 0-10 and 2-8 overlap, 10-15 follows
    assert busy_time([(0, 10), (2, 8), (10, 15)]) == pytest.approx(15)
    # a job rerun an hour later (the tables aggregated again): its own 4 s, not the hour between
    assert busy_time([(0, 10), (3600, 3604)]) == pytest.approx(14)
    assert busy_time([(5, 9), (0, 6)]) == pytest.approx(9)  # the order of the files is no matter


def test_git_commit_names_the_head_and_says_when_the_tree_differs(tmp_path):
    import subprocess

    from resnet_essence.report.provenance import git_commit

    git = lambda *a: subprocess.run(["git", *a], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    git("config", "user.email", "t@example.org")
    git("config", "user.name", "t")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("add", "code.py")
    git("commit", "-qm", "one")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True
    ).stdout.strip()
    published = tmp_path / "docs" / "example"
    assert git_commit(tmp_path, published) == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert git_commit(tmp_path, published) == f"{head} + uncommitted changes"
    assert git_commit(tmp_path.parent / "nowhere", published).startswith("unknown")


def test_a_copy_without_git_takes_the_commit_its_launcher_recorded(tmp_path, monkeypatch):
    from resnet_essence.report.provenance import git_commit

    copy = tmp_path / "copy"  # the GPU route's copy of the tree: no .git
    copy.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # no checkout above it either
    monkeypatch.delenv("SOURCE_COMMIT", raising=False)
    assert git_commit(copy, copy / "docs" / "example").startswith("unknown")
    monkeypatch.setenv("SOURCE_COMMIT", "0123abcd")
    assert git_commit(copy, copy / "docs" / "example") == "0123abcd"


def test_wall_time_and_provenance_from_benchmark_files(tmp_path):
    import os

    from resnet_essence.report.provenance import provenance_markdown, read_benchmarks, wall_time

    files = []
    for name, seconds, end in (("train", 10.0, 1000.0), ("gradstats", 4.0, 1003.0)):
        path = tmp_path / name / f"{name}.tsv"
        path.parent.mkdir()
        path.write_text(f"s\th:m:s\n{seconds}\t0:00:{int(seconds):02d}\n")
        os.utime(path, (end, end))
        files.append(str(path))
    span, busy = wall_time(files)
    assert span == pytest.approx(13.0) and busy == pytest.approx(14.0)  # 990-1000, 999-1003
    assert set(read_benchmarks(files)["rule"]) == {"train", "gradstats"}
    text = provenance_markdown("abc", span, busy, "example-x", "2026-01-01 00:00 UTC")
    assert "commit: `abc`" in text and "0.2 min during which a computing job ran" in text
    assert "--forcerun publish docs/example-x/PROVENANCE.md" in text


def test_the_processor_says_whether_the_cpu_computes_bf16(tmp_path):
    import platform

    from resnet_essence.report.provenance import processor

    amd = tmp_path / "amd"
    amd.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 fma\n\n" * 2)
    assert processor(amd) == f"{platform.machine()} (AMD EPYC, no bf16 units)"
    intel = tmp_path / "intel"
    intel.write_text("model name\t: Intel Xeon\nflags\t: avx512f avx512_bf16 amx_tile amx_bf16\n")
    assert processor(intel) == f"{platform.machine()} (Intel Xeon, bf16 units)"
    assert processor(tmp_path / "absent") == platform.machine()
