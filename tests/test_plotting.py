import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import ROOT

from resnet_essence.papers import paper_table
from resnet_essence.report import figure as plotting
from resnet_essence.report import panels


def _final(dataset: str) -> pd.DataFrame:
    rows = []
    for arch in ("plain", "residual"):
        for depth in (20, 56):
            err = 0.1 if arch == "residual" else 0.12
            rows.append(
                {
                    "dataset": dataset,
                    "arch": arch,
                    "depth": depth,
                    "train_err_mean": err,
                    "train_err_lo": err - 0.01,
                    "train_err_hi": err + 0.01,
                    "test_err_mean": err,
                    "test_err_lo": err - 0.02,
                    "test_err_hi": err + 0.02,
                }
            )
    return pd.DataFrame(rows)


def test_final_errors_show_he_et_al_beside_ours_for_cifar10():
    fig, ax = plt.subplots()
    panels.final_errors(ax, _final("cifar10"), paper_table())
    labels = ax.get_legend_handles_labels()[1]
    assert "residual, He et al. test" in labels and "plain, He et al. test" in labels
    paper_line = next(
        line for line in ax.get_lines() if line.get_label() == "residual, He et al. test"
    )
    assert list(paper_line.get_ydata()) == [8.75, 7.51, 7.17, 6.97, 6.43]
    plt.close(fig)


def test_error_bands_stay_within_zero_and_hundred_percent():
    fig, ax = plt.subplots()
    final = _final("digits")
    final["train_err_lo"] = -0.5  # a t interval of three seeds can reach below zero
    panels.final_errors(ax, final)
    for container in ax.containers:
        for segment in container.lines[2][0].get_segments():
            assert segment[:, 1].min() >= 0
    plt.close(fig)


def test_panel_letters_are_unique_and_in_reading_order():
    letters = [file.split("_", 1)[0] for file in plotting.PANEL_FILES]
    assert letters == sorted(letters) and len(set(letters)) == len(letters)
    assert letters[0] == "a"


def test_every_panel_has_its_own_caption_in_the_snakemake_report():
    captions = sorted(p.stem for p in (ROOT / "workflow/report/panels").glob("*.rst"))
    assert captions == plotting.PANEL_FILES


def _lesion_rows(arch: str, epoch: int, error: float) -> list[dict]:
    base = {"dataset": "digits", "arch": arch, "depth": 56, "epoch": epoch, "probe": "lesion"}
    rows = [{**base, "layer_index": -1, "statistic": "intact_error", "mean": error}]
    rows += [
        {**base, "layer_index": k, "statistic": "k_deleted_error", "mean": error + 0.01 * k}
        for k in (1, 2, 3)
    ]
    return [{**r, "lo": r["mean"] - 0.01, "hi": r["mean"] + 0.01} for r in rows]


def test_lesion_panel_leaves_out_nets_that_diverged_before_the_last_epoch():
    """A diverged run's probes stop at its last finite snapshot (epoch 0): its curve is not
    drawn beside the others' final curves, and the panel says which net is missing."""
    probes = pd.DataFrame(
        _lesion_rows("plain", 10, 0.5)
        + _lesion_rows("residual", 0, 0.9)  # every residual-56 run diverged
        + _lesion_rows("preact", 0, 0.9)
        + _lesion_rows("preact", 10, 0.1)  # one preact-56 run diverged, the others did not
    )
    fig, ax = plt.subplots()
    panels.lesion_curves(ax, probes)
    drawn = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert set(drawn) == {"plain", "preact"}
    assert drawn["preact"] == pytest.approx([10.0, 11.0, 12.0, 13.0])
    assert any("epoch 10: residual" in text.get_text() for text in ax.texts)
    plt.close(fig)


def test_a_label_wider_than_its_panel_is_found():
    fig, axes = plt.subplots(1, 3, figsize=(7.2, 2.4), layout="constrained")
    for ax in axes:
        ax.set_title("short")
    assert plotting.clipped_labels(fig) == []
    axes[2].set_title("a title far too long for one of three panels side by side")
    found = plotting.clipped_labels(fig)
    assert "a title far too long for one of three panels side by side: the figure's edge" in found
    plt.close(fig)


@pytest.mark.pipeline
def test_no_title_or_label_of_the_main_figure_is_cut_off(smoke_run):
    from resnet_essence.tables.schema import read_rule_inputs

    results = smoke_run / "results"
    names = ["final", "curves", "layers", "networks", "bottleneck", "probes"]
    inputs = {
        "tables": [results / f"tables/{name}.csv" for name in names],
        "width_sweep": sorted(results.glob("tables/*-width_sweep.csv")),
        **{name: results / f"collapse/{name}.csv" for name in ("survival", "blocks", "examples")},
    }
    tables = plotting.figure_tables(read_rule_inputs(inputs, ("survival", "blocks", "examples")))
    for name in ("final", "curves", "layers", "networks", "probes"):  # the default's labels
        tables[name]["depth"] = tables[name]["depth"].replace({8: 20, 14: 56})
    fig = plotting.main_figure(tables)
    assert plotting.clipped_labels(fig) == []
    plt.close(fig)
