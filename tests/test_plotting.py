"""The panels and the checks of the figures, on small hand-made tables: the errors on a log axis
inside 0-100 %, He et al.'s errors beside CIFAR-10's, a diverged run left out of the lesion
curve, and the checks that find a text outside the canvas and a panel drawn without data."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from resnet_essence.papers import paper_table
from resnet_essence.report import figure as plotting
from resnet_essence.report import layer_panels, panels


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
    assert ax.get_yscale() == "log"  # errors from a fraction of a percent to tens of percent
    plt.close(fig)


def test_error_bars_stay_above_zero_on_the_log_axis():
    fig, ax = plt.subplots()
    final = _final("digits")
    final["train_err_lo"] = -0.5  # a t interval of three seeds can reach below zero
    panels.final_errors(ax, final)
    for container in ax.containers:
        for segment in container.lines[2][0].get_segments():
            assert segment[:, 1].min() > 0
    plt.close(fig)


def _lesion_rows(arch: str, epoch: int, error: float) -> list[dict]:
    base = {"dataset": "digits", "arch": arch, "depth": 20, "epoch": epoch, "probe": "lesion"}
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
        + _lesion_rows("residual", 0, 0.9)  # every residual run diverged
        + _lesion_rows("preact", 0, 0.9)
        + _lesion_rows("preact", 10, 0.1)  # one preact run diverged, the others did not
    )
    fig, ax = plt.subplots()
    layer_panels.lesion_curves(ax, probes, 20)
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


def test_a_legend_or_tick_label_outside_the_canvas_is_found():
    fig, ax = plt.subplots(figsize=(3, 2))  # no layout engine: nothing moves to make room
    ax.plot([0, 1], [0, 1], label="a line")
    assert plotting.texts_outside(fig) == []
    ax.legend(loc="upper left", bbox_to_anchor=(1.5, 1.0))  # beyond the right edge
    assert any("a line" in found for found in plotting.texts_outside(fig))
    ax.get_legend().remove()
    ax.set_xticks([0, 1], ["0", "a tick label far too long " * 3], fontsize=8)
    assert any("x tick labels" in found for found in plotting.texts_outside(fig))
    plt.close(fig)


def test_a_panel_drawn_without_data_is_found():
    """Yesterday's panel (l): a note in the middle, 'no bottleneck nets in this run', and a
    title, over axes without a point; a reference line or a shaded band is no data either."""
    fig, (full, empty) = plt.subplots(1, 2)
    full.plot([1, 2], [3, 4])
    empty.text(0.5, 0.5, "no bottleneck nets in this run", transform=empty.transAxes)
    empty.axhline(0)
    empty.axvspan(-1, 1)
    empty.set_title("(l) linear against ReLU bottlenecks")
    assert plotting.empty_axes(fig) == ["(l) linear against ReLU bottlenecks"]
    empty.errorbar([1], [np.nan], yerr=[[np.nan], [np.nan]])  # a point at NaN is not drawn
    assert plotting.empty_axes(fig) == ["(l) linear against ReLU bottlenecks"]
    empty.scatter([1], [2])
    assert plotting.empty_axes(fig) == []
    plt.close(fig)
