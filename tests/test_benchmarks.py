"""The benchmarks run end to end at toy sizes and write results files of the right shape.

No timing claims: these only check structure (keys present, figures positive and finite).
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

TINY = ["--device", "cpu", "--depths", "8", "--width", "4", "--steps", "2", "--warmup", "1"]
TINY += ["--repeats", "2", "--images", "64", "--batch-size", "16", "--threads", "1"]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        names = ("bench_train", "bench_trace", "bench_pack", "bench_runs", "bench_tests")
        yield {name: importlib.import_module(name) for name in names}
    finally:
        sys.path.remove(str(BENCHMARKS))


def _positive(value) -> bool:
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_textbook_dataset_serves_normalised_crops(bench):
    data = bench["bench_train"].synthetic_data(4, image_size=8, channels=3)
    dataset = bench["bench_train"].TextbookDataset(data["x_train"], data["y_train"], padding=2)
    image, label = dataset[0]
    assert image.shape == (3, 8, 8) and image.dtype == torch.float32
    assert label == int(data["y_train"][0])
    # without padding or flip, the sample is exactly the normalised stored image
    plain = bench["bench_train"].TextbookDataset(
        data["x_train"], data["y_train"], padding=0, flip=False
    )
    expected = (data["x_train"][1].float() / 255 - plain.mean) / plain.std
    assert torch.allclose(plain[1][0], expected)


def test_bench_train_writes_results(bench, tmp_path, capsys):
    out = tmp_path / "train.json"
    result = bench["bench_train"].main([*TINY, "--grid-seeds", "2", "--out", str(out)])
    assert "ratio" in capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved["command"].startswith("python benchmarks/bench_train.py")
    assert saved["benchmark"] == "train" and len(saved["rows"]) == 2
    for key in ("device_name", "torch", "cuda", "cudnn", "threads"):
        assert key in saved["environment"]
    assert saved["environment"]["threads"] == 1
    assert {row["arch"] for row in saved["rows"]} == {"plain", "residual"}
    for row in result["rows"]:
        assert row["depth"] == 8
        for key in ("ratio", "ours_img_per_s", "textbook_img_per_s"):
            assert _positive(row[key])
        for key in ("ours_s_per_epoch", "textbook_s_per_epoch"):
            assert _positive(row[key])
        assert len(row["ours_seconds"]) == len(row["textbook_seconds"]) == 2
    expected = sum(r["ours_s_per_epoch"] for r in result["rows"]) * 164 * 2 / 3600
    assert math.isclose(saved["grid"]["ours_hours"], expected)


def test_bench_trace_writes_results(bench, tmp_path):
    out = tmp_path / "trace.json"
    argv = [*TINY, "--trace-every", "2", "--direct-calls", "2", "--out", str(out)]
    argv += ["--run-epochs", "2", "--run-steps-per-epoch", "10"]
    result = bench["bench_trace"].main(argv)
    saved = json.loads(out.read_text())
    assert saved["benchmark"] == "trace" and len(saved["rows"]) == 2
    for row in result["rows"]:
        assert math.isfinite(row["overhead_percent"])
        assert len(row["overhead_percent_rounds"]) == 2
        assert _positive(row["record_seconds"]) and _positive(row["direct_overhead_percent"])
        assert row["layers"] == 8  # depth counts the weight layers
        assert row["trace_records_on"] >= 1
        assert row["run_trace_records"] == 10
        assert _positive(row["checkpoint_seconds_full_trace"])
        assert math.isfinite(row["checkpoint_overhead_percent"])
    assert saved["max_overhead_percent"] == max(r["overhead_percent"] for r in saved["rows"])
    assert "max_checkpoint_overhead_percent" in saved


def test_bench_trace_digits_like_defaults(bench, tmp_path):
    argv = [*TINY[:-6], "--images", "64", "--threads", "1", "--image-size", "8"]
    argv += ["--trace-every", "1", "--run-epochs", "1", "--out", str(tmp_path / "t")]
    result = bench["bench_trace"].main(argv)
    settings = result["settings"]
    assert (settings["channels"], settings["crop_padding"], settings["flip"]) == (1, 1, False)
    assert settings["batch_size"] == 32 and settings["run_steps_per_epoch"] == 45


def test_bench_pack_writes_results(bench, tmp_path):
    out = tmp_path / "pack.json"
    bench["bench_pack"].main(
        ["--depths", "8", "--width", "4", "--seeds", "2", "--steps", "1", "--repeats", "2"]
        + ["--train", "64", "--test", "32", "--out", str(out)]
    )
    result = json.loads(out.read_text())
    row = result["results"][0]
    assert row["net"] == "residual-8" and row["seeds"] == 2
    for precision in ("fp32", "bf16"):
        assert _positive(row[precision]["packed_speedup"])
        assert _positive(row[precision]["alone_images_per_s"])
    assert _positive(row["bf16_speedup_alone"])
    assert all(_positive(v) for v in row["epoch_costs_s"].values())


def test_bench_runs_sets_two_runs_side_by_side(bench, tmp_path, capsys):
    import os

    for name, seconds in (("before", 20.0), ("after", 10.0)):
        for rule, end in (("train", 1000.0), ("figure", 1001.0)):
            path = tmp_path / name / "results" / "benchmarks" / rule / f"{rule}.tsv"
            path.parent.mkdir(parents=True)
            path.write_text(f"s\th:m:s\n{seconds}\t0:00:{int(seconds)}\n")
            os.utime(path, (end, end))
    result = bench["bench_runs"].main([str(tmp_path / "before"), str(tmp_path / "after")])
    assert result["wall_ratio"] == pytest.approx(2.0)  # the figure does not count
    assert "train" in capsys.readouterr().out
    # one run alone: its stages and busy wall time, the drawing left out as before
    alone = bench["bench_runs"].main([str(tmp_path / "after"), "--out", str(tmp_path / "a.json")])
    assert alone["run"]["busy_wall_s"] == pytest.approx(10.0)
    assert alone["run"]["stages_s"] == {"train": 10.0}
    assert json.loads((tmp_path / "a.json").read_text()) == alone


def test_bench_tests_times_a_selection_of_tests_against_the_goal(bench, tmp_path, capsys):
    out = tmp_path / "tests.json"
    select = ["tests/test_clock.py", "-k", "wall_clock"]
    result = bench["bench_tests"].main(["--repeats", "2", "--out", str(out), "--", *select])
    assert len(result["runs"]) == 2 and result["select"] == select
    assert result["command"].endswith(
        "bench_tests.py --repeats 2 --out " + f"{out} -- {' '.join(select)}"
    )
    for run in result["runs"]:
        assert run["passed"] >= 1 and _positive(run["wall_s"]) and run["wall_s"] >= run["pytest_s"]
    assert result["median_wall_s"] == pytest.approx(
        sum(r["wall_s"] for r in result["runs"]) / 2
    )  # the median of two
    assert result["within_goal"] is (result["median_wall_s"] < 120.0)
    assert json.loads(out.read_text()) == result
    assert "median" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="pytest failed"):  # a selection that does not pass
        bench["bench_tests"].main(["--", "tests/no_such_file.py"])
    with pytest.raises(SystemExit):
        bench["bench_tests"].main(["--repeats", "0"])
