"""The DAG through Snakemake itself: dry runs, bad configs, the smoke run, each rule alone."""

from __future__ import annotations

import io
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import ROOT, copy_results, snakemake, write_config

from resnet_essence.claims import CLAIMS, VERDICTS

CONFIGS = [ROOT / "config.yaml", *sorted((ROOT / "configs").glob("*.yaml"))]
RUN = "results/runs/digits/plain-8/seed0"
STATS = "results/gradstats/digits/plain-8/seed0"


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    block = output.split("Job stats:")[1].split("total")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", block, re.M)}


@pytest.mark.pipeline
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_dry_run_of_every_config(config, tmp_path):
    write_config(tmp_path, base=config)
    result = snakemake(tmp_path, "-n")
    jobs = job_counts(result.stdout)
    cfg = __import__("yaml").safe_load((tmp_path / "config.yaml").read_text())
    nets = len(cfg["archs"]) * len(cfg["depths"])
    packed = cfg["jobs"]["pack_seeds"]  # one job per network for all its seeds, or per seed
    assert jobs["train"] == nets * (1 if packed else len(cfg["seeds"]))
    assert jobs["gradstats"] == nets  # one job per network, for all its seeds
    assert jobs["collapse"] == jobs["aggregate"] == jobs["figure"] == jobs["report"] == 1


@pytest.mark.pipeline
@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"foo": 1}, "unknown key 'foo'"),
        ({"seed": [0]}, "unknown key 'seed'; did you mean 'seeds'\\?"),
        ({"depths": [8, 30]}, "config key 'depths': \\[30\\] not of the form 6n\\+2"),
        ({"seeds": []}, "should be non-empty"),
        ({"dataset": "mnist"}, "'mnist' is not one of"),
        ({"train": {"lr": -0.1}}, "'train.lr': -0.1 is less than or equal to the minimum of 0"),
        ({"train": {"batch_size": 0}}, "'train.batch_size': 0 is less than the minimum of 1"),
        ({"train": {"epochs": "many"}}, "'many' is not of type 'integer'"),
        ({"device": "gpu"}, "'device': 'gpu' does not match"),
    ],
)
def test_bad_config_stops_before_any_job(overrides, message, tmp_path):
    write_config(tmp_path, overrides)
    result = snakemake(tmp_path, check=False)
    assert result.returncode != 0
    assert re.search(message, result.stdout + result.stderr), result.stderr[-3000:]
    assert not (tmp_path / "results").exists()


@pytest.mark.pipeline
def test_command_line_config_is_typed_and_checked(tmp_path):
    write_config(tmp_path)
    ok = snakemake(tmp_path, "-n", "--config", "depths=[8,20]", "archs=[plain,residual]")
    assert job_counts(ok.stdout)["train"] == 2 * 2  # one job per network, its seeds packed
    alone = ['jobs={"pack_seeds": false}']
    ok = snakemake(tmp_path, "-n", "--config", "depths=[8,20]", "archs=[plain,residual]", *alone)
    assert job_counts(ok.stdout)["train"] == 2 * 2 * 2  # one job per seed
    bad = snakemake(tmp_path, "-n", "--config", "depths=[8,9]", check=False)
    assert bad.returncode != 0 and "config key 'depths': [9]" in bad.stdout + bad.stderr


@pytest.mark.pipeline
def test_smoke_run_end_to_end(smoke_run):
    final = pd.read_csv(smoke_run / "results/tables/final.csv")
    assert len(final) == 6 and set(final["arch"]) == {"plain", "residual", "preact"}
    assert (final["n_runs"] == 2).all()
    survival = pd.read_csv(smoke_run / "results/collapse/survival.csv")
    assert {"activation", "input_dim", "embed_dim", "recoverable", "theory"} <= set(survival)
    claims = pd.read_csv(smoke_run / "results/tables/claims.csv", dtype={"claim_id": str})
    assert set(claims["verdict"]) <= set(VERDICTS)
    # every claim has its rows, but the interventions', whose nets the smoke run does not train
    # (test_an_intervention_run_judges_the_explanation_family trains them)
    assert {c.id for c in CLAIMS if c.family != "explanation"} <= set(claims["claim_id"])
    assert list(dict.fromkeys(claims["family"])) == ["essay", "replication", "check"]
    assert "it needs intervention nets" in (smoke_run / "results/report.md").read_text()
    report = (smoke_run / "results/report.md").read_text()
    assert "The essay's claims" in report and "figures/main.png" in report
    for ext in ("png", "pdf", "svg"):
        assert (smoke_run / f"results/figures/main.{ext}").stat().st_size > 1000
    assert len(list((smoke_run / "results/figures/panels").glob("*.png"))) >= 9
    metrics = pd.read_csv(smoke_run / RUN / "metrics.csv")
    assert list(metrics["epoch"]) == [1, 2]
    summary = json.loads((smoke_run / RUN / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["params"] > 0
    assert not (smoke_run / RUN / "checkpoint.pt").exists()  # removed once the run completed


@pytest.mark.pipeline
def test_a_finished_run_has_nothing_left_to_do(smoke_run):
    result = snakemake(smoke_run, "-n")
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.pipeline
def test_regenerating_the_figure_never_retrains(smoke_run):
    jobs = job_counts(snakemake(smoke_run, "-n", "--forcerun", "figure").stdout)
    assert jobs.get("figure") == 1 and jobs.get("report") == 1
    assert "train" not in jobs and "gradstats" not in jobs and "aggregate" not in jobs


def _single_rule(workdir: Path, rule: str, *targets: str) -> None:
    result = snakemake(workdir, *targets, "--allowed-rules", rule)
    assert f"rule {rule}:" in result.stdout + result.stderr


@pytest.mark.pipeline
def test_rule_collapse_alone(tmp_path):
    write_config(tmp_path)
    _single_rule(tmp_path, "collapse", "results/collapse/survival.csv")
    examples = pd.read_csv(tmp_path / "results/collapse/examples.csv")
    assert {"input", "relu", "linear", "residual"} <= set(examples["activation"])


@pytest.mark.pipeline
def test_rule_prepare_data_digits_alone(tmp_path):
    write_config(tmp_path)
    _single_rule(tmp_path, "prepare_data", "results/data/digits.npz")
    info = json.loads((tmp_path / "results/data/digits.json").read_text())
    assert info["num_classes"] == 10


@pytest.mark.pipeline
def test_rule_prepare_data_cifar10_from_a_fake_archive(tmp_path):
    from fixtures_data import write_fake_cifar10_archive

    md5 = write_fake_cifar10_archive(tmp_path / "cifar" / "cifar-10-python.tar.gz")
    write_config(
        tmp_path,
        {
            "dataset": "cifar10",
            "data_root": str(tmp_path / "cifar"),
            "data": {"cifar10_md5": md5, "download": False},
        },
    )
    _single_rule(tmp_path, "prepare_data", "results/data/cifar10.npz")
    info = json.loads((tmp_path / "results/data/cifar10.json").read_text())
    assert info["image_shape"] == [3, 32, 32]


@pytest.mark.pipeline
def test_rule_prepare_data_rejects_a_wrong_checksum(tmp_path):
    from fixtures_data import write_fake_cifar10_archive

    write_fake_cifar10_archive(tmp_path / "cifar" / "cifar-10-python.tar.gz")
    write_config(
        tmp_path,
        {"dataset": "cifar10", "data_root": str(tmp_path / "cifar"), "data": {"download": False}},
    )
    result = snakemake(tmp_path, "results/data/cifar10.npz", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/logs/prepare_data/cifar10.log").read_text()
    assert "c58f30108f718f92721af3b95e74349a" in log and "cifar-10-python.tar.gz" in log
    assert not (tmp_path / "results/data/cifar10.npz").exists()


@pytest.mark.pipeline
def test_rule_prepare_data_imagefolder(tmp_path):
    from fixtures_data import write_fake_imagefolder

    write_fake_imagefolder(tmp_path / "images", size=8)
    write_config(tmp_path, {"dataset": "imagefolder", "data_root": str(tmp_path / "images")})
    _single_rule(tmp_path, "prepare_data", "results/data/imagefolder.npz")


@pytest.mark.pipeline
def test_rule_train_alone(smoke_run, tmp_path):
    write_config(tmp_path)
    copy_results(smoke_run, tmp_path, "results/data/digits.npz", "results/data/digits.json")
    _single_rule(tmp_path, "train", f"{RUN}/summary.json")
    ours = pd.read_csv(tmp_path / RUN / "metrics.csv").drop(columns="seconds")
    theirs = pd.read_csv(smoke_run / RUN / "metrics.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(ours, theirs)  # same config and seed, same numbers
    # and against the job's own weights, counted another way: model.pt's net, built from the
    # spec it carries, errs on the test split as metrics.csv and summary.json say
    saved = torch.load(tmp_path / RUN / "model.pt", map_location="cpu", weights_only=True)
    model = _saved_net(saved, saved["state_dict"]).eval()  # BatchNorm on its running statistics
    data, x = _test_images(tmp_path)
    summary = json.loads((tmp_path / RUN / "summary.json").read_text())
    assert len(x) <= summary["train"]["eval_batch_size"]  # one batch, as the trainer's
    bf16 = summary["precision"] == "bf16"
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        wrong = int((model(x).argmax(1) != torch.from_numpy(data.y_test)).sum())
    assert summary["final_test_err"] == pytest.approx(wrong / len(x), abs=1e-12)
    assert ours["test_err"].iloc[-1] == summary["final_test_err"]


@pytest.mark.pipeline
def test_rule_gradstats_alone(smoke_run, tmp_path):
    write_config(tmp_path)
    seeds = [f"results/runs/digits/plain-8/seed{s}" for s in (0, 1)]
    files = ("snapshots.pt", "summary.json", "metrics.csv", "trace.csv", "model.pt")
    copy_results(
        smoke_run,
        tmp_path,
        "results/data/digits.npz",
        "results/data/digits.json",
        *(f"{run}/{name}" for run in seeds for name in files),
    )
    _single_rule(tmp_path, "gradstats", f"{STATS}.csv")
    required = {
        "epoch",
        "layer",
        "weight_grad_norm",
        "relu_active_fraction",
        "dead_fraction",
        "response_std",
    }
    for seed in (0, 1):  # one job writes every seed's tables
        stats = STATS.replace("seed0", f"seed{seed}")
        layers = pd.read_csv(tmp_path / f"{stats}.csv")
        assert required <= set(layers.columns)
        assert sorted(layers["epoch"].unique()) == [0, 2]
        assert (tmp_path / f"{stats}.probes.csv").exists()
        pd.testing.assert_frame_equal(layers, pd.read_csv(smoke_run / f"{stats}.csv"))
        _recount_weight_gradients(tmp_path, seed, layers)


def _saved_net(saved: dict, weights: dict) -> torch.nn.Module:
    """The net of a run's saved file (model.pt, snapshots.pt), built from the spec it carries."""
    from resnet_essence.nets.resnet import build_model, spec_from_dict

    model = build_model(spec_from_dict(saved["spec"]))
    model.load_state_dict(weights)
    return model


def _test_images(workdir: Path):
    """(the dataset, its test images normalised by hand with the training set's statistics)."""
    from resnet_essence.data import read_dataset

    data = read_dataset(workdir / "results/data/digits.npz", workdir / "results/data/digits.json")
    train = torch.from_numpy(data.x_train).float() / 255.0
    mean = train.mean(dim=(0, 2, 3)).view(1, -1, 1, 1)
    std = train.std(dim=(0, 2, 3)).clamp_min(1e-3).view(1, -1, 1, 1)
    return data, (torch.from_numpy(data.x_test).float() / 255.0 - mean) / std


def _recount_weight_gradients(workdir: Path, seed: int, layers: pd.DataFrame) -> None:
    """Each conv and linear weight's gradient norm at epoch 0, counted by hand from
    snapshots.pt: the mean cross-entropy of the first gradstats.batch_size test images
    (normalised with the training set's statistics), BatchNorm on that batch, one backward
    pass; the rule's table must say the same, layer by layer in depth order."""
    config = __import__("yaml").safe_load((workdir / "config.yaml").read_text())
    run = workdir / RUN.replace("seed0", f"seed{seed}")
    saved = torch.load(run / "snapshots.pt", map_location="cpu", weights_only=True)
    model = _saved_net(saved, saved["snapshots"][0]).train()
    data, x = _test_images(workdir)
    n = config["gradstats"]["batch_size"]
    torch.nn.functional.cross_entropy(model(x[:n]), torch.from_numpy(data.y_test[:n])).backward()
    expected = [
        (name, float(module.weight.grad.norm()))
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Conv2d | torch.nn.Linear) and "shortcut" not in name
    ]
    rows = layers[(layers["epoch"] == 0) & (layers["kind"] == "weight")]
    rows = rows.sort_values("layer_index")
    assert list(rows["layer"]) == [name for name, _ in expected]
    assert rows["weight_grad_norm"].to_numpy() == pytest.approx(
        [norm for _, norm in expected], rel=1e-5
    )


@pytest.mark.pipeline
def test_rule_aggregate_alone(smoke_run, tmp_path):
    write_config(tmp_path)
    tables = ("results/data", "results/runs", "results/gradstats", "results/bottleneck")
    copy_results(smoke_run, tmp_path, *tables)
    _single_rule(tmp_path, "aggregate", "results/tables/final.csv")
    final = pd.read_csv(tmp_path / "results/tables/final.csv")
    pd.testing.assert_frame_equal(final, pd.read_csv(smoke_run / "results/tables/final.csv"))
    # and against the runs' own files, read another way: the last epoch of each metrics.csv,
    # averaged over seeds by hand; the losses' t intervals by scipy
    import numpy as np
    from scipy import stats as sps

    for row in final.itertuples():
        runs = sorted(
            (tmp_path / "results/runs" / row.dataset).glob(f"{row.arch}-{row.depth}/seed*")
        )
        statuses = [json.loads((run / "summary.json").read_text())["status"] for run in runs]
        assert row.n_runs == len(runs) > 1 and set(statuses) == {"completed"}
        last = pd.DataFrame([pd.read_csv(run / "metrics.csv").iloc[-1] for run in runs])
        for metric in ("train_err", "test_err", "train_loss", "test_loss"):
            assert getattr(row, f"{metric}_mean") == pytest.approx(last[metric].mean(), rel=1e-9)
        losses = last["test_loss"].to_numpy(float)
        half = sps.t.ppf(0.975, len(losses) - 1) * losses.std(ddof=1) / np.sqrt(len(losses))
        assert row.test_loss_lo == pytest.approx(losses.mean() - half, rel=1e-9)
        assert row.test_loss_hi == pytest.approx(losses.mean() + half, rel=1e-9)


@pytest.mark.pipeline
def test_rule_figure_and_report_alone(smoke_run, tmp_path):
    write_config(tmp_path)
    copy_results(
        smoke_run,
        tmp_path,
        "results/data",
        "results/runs",
        "results/gradstats",
        "results/collapse",
        "results/tables",
        "results/benchmarks",
    )
    (tmp_path / "results/tables/claims.csv").unlink()
    _single_rule(tmp_path, "figure", "results/figures/main.png")
    assert (tmp_path / "results/figures/main.pdf").exists()
    _single_rule(tmp_path, "report", "results/report.md")
    from test_report import assert_well_formed

    assert_well_formed((tmp_path / "results/report.html").read_text())


@pytest.mark.pipeline
def test_the_report_sets_the_published_runs_of_report_beside_before_everything(smoke_run, tmp_path):
    published = ROOT / "docs/example-confirm"
    write_config(tmp_path, {"report": {"beside": {"digits, 16 seeds": str(published)}}})
    copy_results(smoke_run, tmp_path, "results")
    for made in ("results/tables/claims.csv", "results/report.md", "results/report.html"):
        (tmp_path / made).unlink()
    _single_rule(tmp_path, "report", "results/report.md")
    report = (tmp_path / "results/report.md").read_text()
    beside = report.index("## This run beside the published ones")
    assert beside < report.index("## How a verdict is reached")
    table = report[beside:].split("\n## ", 1)[0]
    assert "| family | # | setting | margin | this run | digits, 16 seeds |" in table
    # a row only the published run has, with its verdict, effect and interval as published
    claims = pd.read_csv(published / "claims.csv", dtype={"claim_id": str})
    row = claims[(claims["claim_id"] == "5b") & (claims["setting"] == "depth 26")].iloc[0]
    cell = f"**{row['verdict']}** {row['effect']:.3g} [{row['lo']:.3g}, {row['hi']:.3g}]"
    assert f"| essay | 5b | depth 26 | 0.3 | – | {cell} |" in table
    # and claim 4a in words for the published run too, from its own runs
    degradation = report.split("## Degradation or failure (claim 4a)", 1)[1].split("\n## ")[0]
    assert "| digits, 16 seeds | digits | plain-56 vs plain-20 |" in degradation
    assert "failure: most runs of the deep net do not train" in degradation
    # a published folder without claims.csv stops the report, naming the file
    write_config(tmp_path, {"report": {"beside": {"nothing": str(tmp_path / "nowhere")}}})
    failed = snakemake(tmp_path, "results/report.md", "--forcerun", "report", check=False)
    assert failed.returncode != 0
    assert str(tmp_path / "nowhere/claims.csv") in failed.stdout + failed.stderr


@pytest.mark.pipeline
def test_snakemake_report_holds_every_marked_output(smoke_run, tmp_path):
    import zipfile

    target = tmp_path / "report.zip"
    snakemake(smoke_run, "--report", str(target))
    names = zipfile.ZipFile(target).namelist()
    for expected in ("main.png", "claims.csv", "final.csv", "survival.csv", "blocks.csv"):
        assert any(name.endswith(expected) for name in names), expected


@pytest.mark.pipeline
def test_rule_publish_copies_a_run_with_its_provenance(smoke_run):
    snakemake(smoke_run, "docs/example-smoke/PROVENANCE.md")
    example = smoke_run / "docs/example-smoke"
    report = (example / "report.md").read_text()
    assert "![main figure](main.png)" in report and (example / "main.png").exists()
    provenance = (example / "PROVENANCE.md").read_text()
    assert re.search(r"commit: `[0-9a-f]{40}", provenance), provenance
    assert "depths" in (example / "config.yaml").read_text()
    assert (example / "claims.md").read_text().startswith("## The essay's claims")
    assert re.search(r"wall time: \d+\.\d min", provenance), provenance
    pd.testing.assert_frame_equal(
        pd.read_csv(example / "claims.csv"), pd.read_csv(smoke_run / "results/tables/claims.csv")
    )
    assert snakemake(smoke_run, "example", "-n").returncode == 0  # the default's shortcut
    # the tables every verdict comes from, published beside it: the claims recompute from them
    from resnet_essence.report.published import main as recompute_main
    from resnet_essence.report.published import recompute

    published = {p.name for p in (example / "tables").iterdir()}
    for name in ("runs", "epochs", "network_runs", "survival", "blocks", "width_sweep"):
        assert f"{name}.csv" in published or f"{name}.csv.gz" in published, published
    again = io.StringIO(recompute(example).to_csv(index=False))
    pd.testing.assert_frame_equal(
        pd.read_csv(again, dtype={"claim_id": str}),
        pd.read_csv(example / "claims.csv", dtype={"claim_id": str}),
    )
    assert recompute_main([str(example)]) == 0
    (example / "tables" / "runs.csv").unlink()
    with pytest.raises(SystemExit):
        recompute_main([str(example)])  # a missing table is named, not a traceback


def test_rule_environments_install_no_checkout_and_jobs_find_the_library():
    """`--sdm conda` builds each rule's environment from a copy of its file, elsewhere: a
    relative `pip: -e .` there would install the wrong directory. The rules' environment holds
    only dependencies; the Snakefile puts this checkout's src/ on the jobs' PYTHONPATH."""
    import yaml

    rules = "".join(p.read_text() for p in (ROOT / "workflow/rules").glob("*.smk"))
    envs = set(re.findall(r'conda:\s*"([^"]+)"', rules))
    assert envs == {"../envs/pipeline.yaml"}
    env = yaml.safe_load((ROOT / "workflow/envs/pipeline.yaml").read_text())
    assert not any(isinstance(d, dict) for d in env["dependencies"])  # no pip section at all
    names = {re.split(r"[<>=]", d)[0] for d in env["dependencies"]}
    for package in ("pytorch", "numpy", "pandas", "scipy", "seaborn", "pillow", "markdown"):
        assert package in names
    common = (ROOT / "workflow/rules/common.smk").read_text()
    assert "library_for_jobs(SRC)" in common and "sys.path.insert(0, SRC)" in common


def test_jobs_inherit_the_checkout_first_on_their_python_path(monkeypatch):
    from resnet_essence.scripting import library_for_jobs

    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    library_for_jobs("/checkout/src")
    library_for_jobs("/checkout/src")  # the Snakefile is read again by every cluster job
    assert os.environ["PYTHONPATH"] == os.pathsep.join(["/checkout/src", "/elsewhere"])


@pytest.mark.pipeline
def test_each_new_network_family_trains_one_epoch_through_snakemake(smoke_run, tmp_path):
    """The pre-activation nets (rule train) and the three bottleneck variants (rule
    train_bottleneck, every seed of a net in one job), one epoch each."""
    write_config(tmp_path, {"train": {"epochs": 1, "snapshot_epochs": [0]}})
    copy_results(smoke_run, tmp_path, "results/data/digits.npz", "results/data/digits.json")
    preact = "results/runs/digits/preact-8/seed0/summary.json"
    nets = [f"results/bottleneck/digits/{v}-b2/seed1/summary.json" for v in ("linear", "relu")]
    nets.append("results/bottleneck/digits/expansion-b2/seed0/summary.json")
    result = snakemake(tmp_path, preact, *nets, "--allowed-rules", "train", "train_bottleneck")
    assert "rule train_bottleneck:" in result.stdout + result.stderr
    for target in [preact, *nets]:
        summary = json.loads((tmp_path / target).read_text())
        assert summary["status"] == "completed" and summary["epochs_completed"] == 1
    assert json.loads((tmp_path / preact).read_text())["spec"]["arch"] == "preact"
    both = [tmp_path / f"results/bottleneck/digits/linear-b2/seed{s}/summary.json" for s in (0, 1)]
    assert all(path.exists() for path in both)  # the job trained both seeds of the net


@pytest.mark.pipeline
def test_every_table_of_a_run_keeps_its_contract(smoke_run):
    from resnet_essence.tables.schema import TABLES, read_table

    for name, table in TABLES.items():
        # every file the path's wildcards match (a wildcard holds no dot or slash)
        pattern = re.escape(table.path).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{\w+\}", r"[^/.]+", pattern)
        found = [
            path
            for path in sorted((smoke_run / "results").rglob("*.csv"))
            if re.fullmatch(pattern, str(path.relative_to(smoke_run)))
        ]
        assert found, (name, pattern)
        for path in found:
            read_table(path, name)


@pytest.mark.pipeline
def test_a_malformed_table_stops_the_report_with_the_file_column_and_row(smoke_run, tmp_path):
    write_config(tmp_path)
    copy_results(smoke_run, tmp_path, "results")
    runs = tmp_path / "results/tables/runs.csv"
    lines = runs.read_text().splitlines()
    bad = lines[-1].split(",")
    bad[2] = "deep"  # the depth of one run: not a number
    runs.write_text("\n".join([*lines, ",".join(bad)]) + "\n")
    result = snakemake(tmp_path, "--forcerun", "report", "--allowed-rules", "report", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/logs/report.log").read_text()
    assert (
        f"column 'depth', row {len(lines)} (line {len(lines) + 1}): 'deep' is not a number" in log
    )
    assert "results/tables/runs.csv" in log


@pytest.mark.pipeline
def test_an_impossible_interval_stops_the_figure_naming_the_file(smoke_run, tmp_path):
    write_config(tmp_path)
    copy_results(smoke_run, tmp_path, "results")
    final = tmp_path / "results/tables/final.csv"
    table = pd.read_csv(final)
    table.loc[0, "train_err_lo"] = table.loc[0, "train_err_mean"] + 0.1  # well typed, impossible
    table.to_csv(final, index=False)
    result = snakemake(tmp_path, "--forcerun", "figure", "--allowed-rules", "figure", check=False)
    assert result.returncode != 0
    log = (tmp_path / "results/logs/figure.log").read_text()
    assert "results/tables/final.csv: row 1 (line 2): train_err_mean" in log, log[-2000:]
    assert "lies outside its interval" in log and "yerr" not in log


@pytest.mark.pipeline
def test_a_tiny_image_folder_runs_the_whole_dag(tmp_path):
    # 3 classes x 5 images a split at depth 8: the test split (15 images) is smaller than the
    # probe batch (gradstats.batch_size), so the linear-unit probe halves it (probes.py)
    from fixtures_data import write_fake_imagefolder

    root = write_fake_imagefolder(tmp_path / "images", n_train=5, n_test=5, size=8)
    write_config(tmp_path, {"dataset": "imagefolder", "data_root": str(root), "depths": [8]})
    snakemake(tmp_path)
    assert (tmp_path / "results/report.md").exists()
    probes = pd.read_csv(tmp_path / "results/tables/probes.csv")
    delta = probes[probes["statistic"] == "delta_loss_linear_layer"]
    assert len(delta) and delta["mean"].notna().all()
    log = (tmp_path / "results/logs/gradstats/imagefolder/plain-8.log").read_text()
    assert "none beyond the probe batch" in log


@pytest.mark.pipeline
def test_the_failed_runs_section_counts_what_the_verdict_rows_say(smoke_run):
    from test_report import failed_per_net_in_claims, failed_per_net_in_section

    report = (smoke_run / "results/report.md").read_text()
    claims = pd.read_csv(smoke_run / "results/tables/claims.csv", dtype={"claim_id": str})
    said = failed_per_net_in_claims(claims)
    assert said, "the smoke run's verdict rows describe no net"
    counted = failed_per_net_in_section(report)
    assert {net: counted.get(net, 0) for net in said} == said
    runs = pd.read_csv(smoke_run / "results/tables/runs.csv")
    assert f"of {len(runs)} runs" in report.split("## Diverged or failed runs", 1)[1]


@pytest.mark.pipeline
def test_the_report_defines_its_words_and_units(smoke_run):
    report = (smoke_run / "results/report.md").read_text()
    assert "[TOC]" not in report  # a Markdown viewer would show it as it is
    html = (smoke_run / "results/report.html").read_text()
    assert '<div class="toc">' in html  # the page has its contents
    for words in ("*trained partly*", "*reference*", "fractions of 1", "running mean"):
        assert words in report, words
    assert "0.00M" not in report  # the smoke nets' parameters, readable
    assert "at []" not in report and "lr 0.1 (constant)" in report  # no milestone, no drop
    assert "measure (the unit of effect, margin and detectable)" in report or (
        "Power of the inconclusive rows" not in report
    )


@pytest.mark.pipeline
def test_a_deleted_final_weights_file_is_made_again(smoke_run, tmp_path):
    # model.pt is read by no later rule; the DAG still asks for it
    write_config(tmp_path)
    copy_results(smoke_run, tmp_path, "results", ".snakemake/metadata")
    assert "Nothing to be done" in snakemake(tmp_path, "-n").stdout
    (tmp_path / RUN / "model.pt").unlink()
    dry = snakemake(tmp_path, "-n")
    assert "Nothing to be done" not in dry.stdout + dry.stderr
    assert job_counts(dry.stdout).get("train") == 1, dry.stdout[-3000:]
    assert f"{RUN}/model.pt" in dry.stdout


@pytest.mark.pipeline
def test_an_intervention_run_judges_the_explanation_family(tmp_path):
    """Every intervention trains, packed, through Snakemake on a tiny config, is measured, and
    the report judges the explanation family on it (issue 34)."""
    archs = ["plain", "residual", "preact", "plain-leaky0.2", "plain-elu"]
    archs += ["residual-a0.25", "residual-a0.5", "preact-reluid"]
    overrides = {
        "archs": archs,
        "depths": [8],
        "seeds": [0, 1, 2],
        "bottleneck": {"variants": []},
        "probes": {"widths": []},
    }
    write_config(tmp_path, overrides)
    snakemake(tmp_path)
    runs = pd.read_csv(tmp_path / "results/tables/runs.csv")
    assert sorted(set(runs["arch"])) == sorted(archs) and (runs["status"] == "completed").all()
    claims = pd.read_csv(tmp_path / "results/tables/claims.csv", dtype={"claim_id": str})
    family = claims[claims["family"] == "explanation"]
    ids = {c.id for c in CLAIMS if c.family == "explanation"}
    assert set(family["claim_id"]) == ids  # every row of the family, whatever its verdict
    assert list(dict.fromkeys(claims["family"])) == ["essay", "explanation", "replication", "check"]
    assert set(family["setting"]) >= {"depth 8, leaky0.2", "depth 8, elu"}
    z1 = family[(family["claim_id"] == "Z1") & (family["setting"] == "depth 8, leaky0.2")]
    assert z1["measure"].iloc[0].startswith("plain-leaky0.2-8 minus plain-8")
    report = (tmp_path / "results/report.md").read_text()
    assert "## The essay's explanation, by intervention" in report
    assert "### The essay's chain, link by link" in report and "plain-elu-8 | ELU |" in report
    assert "](figures/interventions.png)" in report
    assert (tmp_path / "results/figures/interventions.png").stat().st_size > 10_000
    snakemake(tmp_path, "docs/example-tiny/PROVENANCE.md")  # publish copies the figure too
    published = (tmp_path / "docs/example-tiny/report.md").read_text()
    assert "](interventions.png)" in published
    assert (tmp_path / "docs/example-tiny/interventions.png").exists()
    # the essay's rows rest on the unmodified nets only
    essay = claims[claims["family"] == "essay"]
    assert not essay["measure"].str.contains("leaky|elu|-a0|reluid").any()
