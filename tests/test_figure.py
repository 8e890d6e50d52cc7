"""The figures of every published run (docs/example*/), drawn from its published files alone:
the main figure is a handful of panels led by the forest plot of the essay's claims, whose
points are the claims table's effects in margins; no panel is drawn without data and no text
leaves the canvas; the supplementary figures are numbered among those the data allow, and the
report embeds each under its own heading."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import ROOT

from resnet_essence.claims import CLAIM_BY_ID
from resnet_essence.report import figure as plotting
from resnet_essence.report.figure_data import THIS_RUN, compared_depths, published_data
from resnet_essence.report.figures import main_panels, supplementary
from resnet_essence.report.markdown import (
    FIGURE_CAPTION,
    refresh_figure_sections,
    supplementary_files,
    supplementary_section,
)

PUBLISHED = sorted(p.parent.parent for p in (ROOT / "docs").glob("example*/tables/runs.csv"))


@pytest.fixture(scope="module")
def data():
    return {run.name: published_data(run) for run in PUBLISHED}


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible()]


@pytest.mark.parametrize("run", PUBLISHED, ids=lambda p: p.name)
def test_the_main_figure_is_a_handful_of_panels_led_by_the_forest_plot(run, data):
    panels = main_panels(data[run.name])
    assert panels[0].name == "forest" and len(panels) <= 6, [p.name for p in panels]
    fig = plotting.main_figure(data[run.name])
    assert plotting.empty_axes(fig) == []
    assert plotting.clipped_labels(fig) == []
    assert not [t for t in _texts(fig) if "in this run" in t]
    assert fig.get_figwidth() == pytest.approx(180 / 25.4)  # a journal page's width
    plt.close(fig)


@pytest.mark.parametrize("run", PUBLISHED, ids=lambda p: p.name)
def test_no_supplementary_panel_is_empty_or_cut_off(run, data):
    for stem, _, fig in plotting.supplementary_figures(data[run.name]):
        assert plotting.empty_axes(fig) == [], stem
        assert plotting.clipped_labels(fig) == [], stem
        plt.close(fig)


def _expected(claims: pd.DataFrame, family: str) -> dict[str, float]:
    """Each drawable row's effect from its reference, in margins, the predicted side positive,
    computed here from claims.yaml's sides and references."""
    out = {}
    for row in claims[claims["family"] == family].itertuples():
        if pd.isna(row.effect) or pd.isna(row.lo) or not row.margin > 0:
            continue
        claim = CLAIM_BY_ID[row.claim_id]
        sign = -1 if claim.predicted != "> 0" else 1
        out[f"{row.claim_id}|{row.setting}"] = (row.effect - claim.reference) * sign / row.margin
    return out


@pytest.mark.parametrize("run", ["example-confirm", "example-confirm-cifar10"])
def test_the_forest_plots_points_are_the_claims_tables_effects(run, data):
    """Every column of the forest plot: one point per row of that run's claims table with an
    estimate, at its effect divided by its margin, and no other point."""
    figure = data[run]
    fig = plotting.main_figure(figure)
    points: dict[str, dict[str, float]] = {}
    for line in fig.findobj(lambda a: getattr(a, "get_gid", lambda: None)() == "forest-point"):
        title, key = line.get_label().split("|", 1)
        assert key not in points.setdefault(title, {})
        points[title][key] = float(line.get_xdata()[0])
    assert list(points) == list(figure["claims"])  # a column per run, this run first
    for title, claims in figure["claims"].items():
        expected = _expected(claims, "essay")
        assert set(points[title]) == set(expected)
        for key, x in expected.items():
            assert points[title][key] == pytest.approx(x, rel=1e-9), key
    assert len(points) == (3 if run == "example-confirm-cifar10" else 1)
    plt.close(fig)


def test_the_curves_are_at_the_depths_where_every_architecture_trains(data):
    """Digits with BatchNorm: no plain net of depth 56 trains, so the main figure shows 20 and
    26, and depth 56 only in the supplementary figure, beside them."""
    confirm = data["example-confirm"]
    assert compared_depths(confirm) == [20, 26]
    names = [p.name for p in main_panels(confirm)]
    assert "curves_depth20" in names and "curves_depth26" in names
    assert not [n for n in names if "56" in n]
    training = next(p for stem, _, p in supplementary(confirm) if stem.endswith("_training"))
    assert [p.name for p in training][1:] == ["curves_depth20", "curves_depth26", "curves_depth56"]


def test_a_figure_whose_data_the_run_lacks_is_left_out_and_the_next_takes_its_number(data):
    confirm = [stem for stem, _, _ in supplementary(data["example-confirm"])]
    assert confirm == ["S1_replications", "S2_training", "S3_networks", "S4_collapse"]
    assert not data["example-confirm"].get("bottleneck")  # no bottleneck nets: no such panel
    example = [stem for stem, _, _ in supplementary(data["example"])]
    assert example[-1] == "S5_designs"  # the default trains bottleneck nets
    interventions = [stem for stem, _, _ in supplementary(data["example-interventions"])]
    assert interventions[1] == "S2_interventions"


def test_with_out_the_command_draws_elsewhere_and_leaves_the_published_folder_alone(
    tmp_path, monkeypatch, capsys
):
    run = tmp_path / "run"
    shutil.copytree(ROOT / "docs/example-no-batchnorm", run)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    calls = []

    def record(data, main, folder, keep=()):
        calls.append((main, Path(folder), keep))
        return []

    monkeypatch.setattr(plotting, "write_figures", record)
    assert plotting.main([str(run), "--out", str(tmp_path / "out")]) == 0
    [(main, folder, keep)] = calls
    assert main == [tmp_path / "out" / f"main.{ext}" for ext in ("png", "pdf", "svg")]
    assert folder == tmp_path / "out" / "supplementary" and keep == ("by_layer", "examples")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    assert "updated" not in capsys.readouterr().out
    with pytest.raises(SystemExit):  # a folder that is no published run
        plotting.main([str(tmp_path / "nothing")])


def test_the_report_embeds_each_supplementary_figure_under_its_own_heading():
    paths = ["figures/supplementary/S1_replications.png", "figures/supplementary/S2_training.png"]
    text = "\n\n".join(supplementary_section(paths))
    assert "### Figure S1. Replications of published results" in text
    assert "![Figure S2. Training at every depth](figures/supplementary/S2_training.png)" in text
    assert text.index("Figure S1.") < text.index("Figure S2.")
    assert supplementary_section([]) == []


def test_this_runs_column_comes_first(data):
    assert list(data["example-confirm-cifar10"]["claims"]) == [
        THIS_RUN,
        "digits",
        "digits, no BatchNorm",
    ]


def test_redrawn_in_its_folder_a_published_run_says_so_in_its_report_and_provenance(tmp_path):
    run = tmp_path / "example-no-batchnorm"
    shutil.copytree(ROOT / "docs/example-no-batchnorm", run)
    before = (run / "report.md").read_text()
    # published by a run: its figures of the run's results alone (by layer, the examples) are
    # kept, since the folder's tables cannot draw them
    kept = sorted((run / "supplementary").glob("S*_by_layer.png"))
    kept += sorted((run / "supplementary").glob("S*_examples.png"))
    assert len(kept) == 2
    kept_bytes = [p.read_bytes() for p in kept]
    (run / "supplementary/S9_old.png").write_bytes(b"")  # a stale figure is removed
    assert plotting.main([str(run)]) == 0
    assert [p.read_bytes() for p in kept] == kept_bytes
    assert not (run / "supplementary/S9_old.png").exists()
    assert (run / "main.png").stat().st_size > 50_000
    assert b"/FontFile2" in (run / "main.pdf").read_bytes()  # TrueType fonts embedded
    assert "<text" not in (run / "main.svg").read_text()  # glyphs as paths: no font needed
    kinds = ["replications", "training", "networks", "collapse", "designs", "by_layer", "examples"]
    assert [p.stem for p in supplementary_files(run / "supplementary")] == [
        f"S{k}_{kind}" for k, kind in enumerate(kinds, start=1)
    ]
    report = (run / "report.md").read_text()
    stems = sorted(p.name for p in (run / "supplementary").glob("S*.png"))
    for name in stems:  # every figure drawn is embedded once, under its heading
        assert report.count(f"](supplementary/{name})") == 1
    assert report.count("## Supplementary figures") == 1
    assert report.index("## Supplementary figures") < report.index("## Setup")
    assert report.count(FIGURE_CAPTION) == 1
    assert report.index("![main figure](main.png)") < report.index(FIGURE_CAPTION)
    # the rest of the report is untouched: its blocks are the old ones, in order
    old_blocks = before.rstrip("\n").split("\n\n")
    assert [b for b in report.rstrip("\n").split("\n\n") if b in old_blocks] == old_blocks
    provenance = (run / "PROVENANCE.md").read_text()
    assert provenance.count("- figures: redrawn at `") == 1
    # the commit of the checkout that drew them, marked where any tracked file differs from it
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout
    dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    commit = git("rev-parse", "HEAD").strip() + (" + uncommitted changes" if dirty else "")
    assert f"- figures: redrawn at `{commit}` (" in provenance
    assert "- commit: `" in provenance  # the run's own commit stays
    # again (the figures as they are: redrawing them is what the test above times): the same
    # report, one redraw line
    plotting.refresh_published(run, supplementary_files(run / "supplementary"))
    assert (run / "report.md").read_text() == report
    assert (run / "PROVENANCE.md").read_text().count("- figures: redrawn") == 1


def test_refreshing_replaces_an_earlier_supplementary_section():
    old = "# R\n\n![main figure](main.png)\n\n## Supplementary figures\n\nold\n\n## Setup\n\nx\n"
    new = refresh_figure_sections(old, ["supplementary/S1_training.png"])
    assert "old" not in new.split("\n\n")
    assert "![Figure S1. Training at every depth](supplementary/S1_training.png)" in new
    assert new.index("### Figure S1.") < new.index("## Setup")
    assert refresh_figure_sections(new, ["supplementary/S1_training.png"]) == new
