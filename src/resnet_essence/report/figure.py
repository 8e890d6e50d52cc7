"""The main figure, the supplementary figures and each panel alone: their layout on a journal
page (180 mm wide, read at 100 %), the checks that every text lies inside the canvas and that no
panel is drawn without data, and the command that redraws a published run's figures.

Which panels each figure holds is ``figures``'s; the data are ``figure_data``'s. Redraw a
published run's figures from its folder alone (claims.csv, config.yaml and tables/, plus the
claims of the runs its ``report.beside`` names)::

    python -m resnet_essence.report.figure docs/example-confirm [--out DIR]

writes main.png, main.pdf and main.svg (fonts embedded) and supplementary/S<k>_<kind>.png into
the folder (or DIR), replacing the supplementary figures there.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import argparse  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ..files import atomic_path, write_text  # noqa: E402
from .drawing import arch_handles  # noqa: E402
from .figures import RESULTS_ONLY, Panel, main_panels, supplementary  # noqa: E402

WIDTH = 180 / 25.4  # a journal page's text width, inches
ROW = 1.9  # a row of ordinary panels, inches
FOREST_ROW = 0.085  # one row of a forest plot, inches
COLUMNS = 4  # ordinary panels per row


def style() -> None:
    """The look of every figure: seaborn's paper context, fonts of 6-7.5 pt (legible printed
    at 100 % on a 180 mm page), fonts embedded in the PDF and drawn as paths in the SVG."""
    sns.set_theme(context="paper", style="ticks", font_scale=0.9)
    plt.rcParams.update(
        {
            "axes.titlesize": 7,
            "axes.labelsize": 6.5,
            "legend.fontsize": 6,
            "xtick.labelsize": 6,
            "ytick.labelsize": 6,
            "axes.titleweight": "bold",
            "savefig.dpi": 200,
            "figure.dpi": 100,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "path",
        }
    )


def _height(panels: list[Panel], columns: int) -> tuple[list[float], list[list[Panel]]]:
    """The rows of a figure: each wide panel a row of its own, the others ``columns`` a row."""
    rows: list[list[Panel]] = []
    for panel in panels:
        if panel.wide or not rows or rows[-1][0].wide or len(rows[-1]) == columns:
            rows.append([panel])
        else:
            rows[-1].append(panel)
    heights = [0.6 + FOREST_ROW * r[0].rows if r[0].wide else ROW for r in rows]
    return heights, rows


def _letter(ax, letter: str) -> None:
    title = ax.get_title(loc="left") or ax.get_title()
    if ax.get_title(loc="left"):
        ax.set_title(f"({letter}) {title}", loc="left")
    else:
        ax.set_title(f"({letter}) {title}")


def compose(panels: list[Panel], data: dict, styles=None, columns: int = COLUMNS):
    """A figure of ``panels`` in rows (a wide panel alone on its row), each panel lettered, and
    the architectures' legend below them all."""
    style()
    heights, rows = _height(panels, columns)
    legend = 0.35 + (0.3 if panels[0].name == "forest" else 0)
    fig = plt.figure(figsize=(WIDTH, sum(heights) + legend), layout="constrained")
    grid = fig.add_gridspec(len(rows), 1, height_ratios=heights)
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for r, row in enumerate(rows):
        cells = grid[r].subgridspec(1, 1 if row[0].wide else columns)
        for c, panel in enumerate(row):
            ax = panel.draw(fig, cells[c])
            _letter(ax, next(letters))
            for axes in fig.axes:
                sns.despine(ax=axes)
    if not all(panel.wide for panel in panels):  # forest plots and examples have no archs
        fig.legend(
            handles=arch_handles(data["runs"]["arch"], **({"styles": styles} if styles else {})),
            loc="outside lower center",
            ncol=6,
            frameon=False,
            fontsize=6,
        )
    return fig


INIT_END = (("--", "initialisation (open markers)"), ("-", "end of training (filled)"))
FIGURE_STYLES = {"networks": INIT_END, "by_layer": INIT_END, "designs": INIT_END}


def main_figure(data: dict):
    """The main figure from the figure data (``figure_data``)."""
    return compose(main_panels(data), data)


def supplementary_figures(data: dict):
    """Each supplementary figure the data allow: (file stem, title, Figure)."""
    for stem, title, panels in supplementary(data):
        kind = stem.split("_", 1)[1]
        yield stem, title, compose(panels, data, FIGURE_STYLES.get(kind), columns=3)


def panel_figures(data: dict):
    """Every panel of every figure alone: (file stem, Figure), the stem naming the figure,
    the panel's letter and its name (main_a_forest, S2_c_curves_depth20, ...)."""
    figures = [("main", main_panels(data))]
    figures += [(stem.split("_")[0], panels) for stem, _, panels in supplementary(data)]
    for prefix, panels in figures:
        for letter, panel in zip("abcdefghijklmnopqrstuvwxyz", panels, strict=False):
            fig = compose([panel], data, columns=1) if panel.wide else _alone(panel, data)
            yield f"{prefix}_{letter}_{panel.name}", fig


def _alone(panel: Panel, data: dict):
    style()
    fig = plt.figure(figsize=(3.5, 2.8), layout="constrained")
    ax = panel.draw(fig, fig.add_gridspec(1, 1)[0])
    sns.despine(ax=ax)
    fig.legend(
        handles=arch_handles(data["runs"]["arch"]),
        loc="outside lower center",
        ncol=3,
        frameon=False,
        fontsize=5.5,
    )
    return fig


# -- checks --------------------------------------------------------------------------------------
def _outside(box, width: float, height: float) -> bool:
    return box.x0 < -0.5 or box.x1 > width + 0.5 or box.y0 < -0.5 or box.y1 > height + 0.5


def texts_outside(fig) -> list[str]:
    """Every text drawn outside the canvas: titles, axis labels, tick labels (each axis as
    drawn), legends, notes; each as '<its text>: the figure's edge'."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    found = []
    for ax in fig.axes:
        if not (ax.get_visible() and ax.axison):
            continue
        for axis in (ax.xaxis, ax.yaxis):
            box = axis.get_tightbbox(renderer)
            if box is not None and _outside(box, width, height):
                found.append(f"{axis.axis_name} tick labels of '{ax.get_title()}': the edge")
    axis_texts = {id(t) for ax in fig.axes for a in (ax.xaxis, ax.yaxis) for t in a.findobj(Text)}
    for text in fig.findobj(Text):
        if id(text) in axis_texts or not text.get_visible() or not text.get_text().strip():
            continue
        if _outside(text.get_window_extent(renderer), width, height):
            found.append(f"{text.get_text()}: the figure's edge")
    return found


def clipped_labels(fig) -> list[str]:
    """The texts that leave the figure (``texts_outside``) or titles that run into another
    panel's title, each as '<its text>: <what it runs into>'."""
    found = texts_outside(fig)
    renderer = fig.canvas.get_renderer()
    titles = [
        (t, t.get_window_extent(renderer))
        for ax in fig.axes
        if ax.get_visible() and ax.axison
        for t in (ax.title, ax._left_title)
        if t.get_text()
    ]
    for i, (a, box_a) in enumerate(titles):
        for b, box_b in titles[i + 1 :]:
            if box_a.overlaps(box_b):
                found.append(f"{a.get_text()}: {b.get_text()}")
    return found


def _has_data(ax, artist) -> bool:
    """Whether ``artist`` draws data: a line, marker, bar or band in data coordinates with at
    least one finite point (a reference line across the axes is in axes coordinates)."""
    data = ax.transData
    if hasattr(artist, "get_xydata"):  # a line
        xy = np.asarray(artist.get_xydata(), dtype=float)
        return artist.get_transform() is data and bool(np.isfinite(xy).all(axis=1).any())
    offsets = np.asarray(artist.get_offsets(), dtype=float)
    if len(offsets) and artist.get_offset_transform() is data:  # markers of a scatter
        return bool(np.isfinite(offsets).all(axis=1).any())
    if artist.get_transform() is data:  # bands, error bars
        return any(np.isfinite(p.vertices).all(axis=1).any() for p in artist.get_paths())
    return False


def empty_axes(fig) -> list[str]:
    """The panels drawn without data: visible axes with no line, marker or band in data
    coordinates (a note in the middle, reference lines and shaded bands do not count)."""
    found = []
    for ax in fig.axes:
        if not (ax.get_visible() and ax.axison):
            continue
        if not any(_has_data(ax, a) for a in (*ax.lines, *ax.collections)):
            found.append(ax.get_title() or ax.get_title(loc="left") or "(untitled)")
    return found


# -- files ---------------------------------------------------------------------------------------
def save(fig, *paths) -> None:
    for path in paths:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix[1:])  # constrained layout fits the labels
    plt.close(fig)


def write_figures(data: dict, main: list, folder: str | Path, keep=()) -> list[Path]:
    """The main figure into ``main`` (its files: .png, .pdf, .svg) and every supplementary
    figure into ``folder`` as S<k>_<kind>.png, the folder's earlier ones removed except those
    of a kind in ``keep`` that this drawing does not make. Returns the supplementary files,
    the kept ones included, in their numbers' order."""
    from .markdown import supplementary_files

    save(main_figure(data), *main)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    made = {stem.split("_", 1)[1] for stem, _, _ in supplementary(data)}
    for old in folder.glob("S*_*.png"):
        kind = old.stem.split("_", 1)[1]
        if kind not in keep or kind in made:
            old.unlink()
    for stem, _, fig in supplementary_figures(data):
        save(fig, folder / f"{stem}.png")
    return supplementary_files(folder)


def main(argv: list[str] | None = None) -> int:
    from .figure_data import published_data

    parser = argparse.ArgumentParser(
        prog="python -m resnet_essence.report.figure",
        description="Redraw a published run's figures (docs/example*/) from its published "
        "files alone: main.png, main.pdf, main.svg and supplementary/S<k>_<kind>.png.",
    )
    parser.add_argument("run", help="a published run's folder, e.g. docs/example-confirm")
    parser.add_argument("--out", help="write the figures here instead of into the run's folder")
    args = parser.parse_args(argv)
    try:
        data = published_data(args.run)
    except (OSError, KeyError, ValueError) as error:
        parser.error(f"cannot read {args.run}: {error}")
    out = Path(args.out or args.run)
    out.mkdir(parents=True, exist_ok=True)
    main_files = [out / f"main.{ext}" for ext in ("png", "pdf", "svg")]
    # a published folder cannot draw the figures of a run's results alone: those stay
    written = write_figures(data, main_files, out / "supplementary", keep=RESULTS_ONLY)
    print(f"wrote {', '.join(p.name for p in main_files)} and {len(written)} supplementary")
    if args.out is None:  # the published folder itself: its report and provenance say so
        refresh_published(Path(args.run), written)
        print(f"updated {args.run}/report.md and PROVENANCE.md")
    return 0


REDRAWN = "- figures: redrawn"


def refresh_published(run: Path, written: list[Path]) -> None:
    """After redrawing a published run's figures in its folder: its report's figure sections
    rewritten for them (``markdown.refresh_figure_sections``), and a line in PROVENANCE.md naming
    the commit of the code that drew them (replacing an earlier such line), since the run's
    numbers are older than its figures."""
    from datetime import UTC, datetime

    from .markdown import refresh_figure_sections
    from .provenance import git_commit

    report = run / "report.md"
    if report.is_file():
        links = [str(path.relative_to(run)) for path in written]
        text = refresh_figure_sections(report.read_text(encoding="utf-8"), links)
        write_text(report, text)
    provenance = run / "PROVENANCE.md"
    if provenance.is_file():
        # the checkout this code lies in (src/resnet_essence/report/figure.py), all of it
        commit = git_commit(Path(__file__).resolve().parents[3], run)
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            line
            for line in provenance.read_text(encoding="utf-8").splitlines()
            if not line.startswith(REDRAWN)
        ]
        lines.append(
            f"{REDRAWN} at `{commit}` ({when}) from this folder's tables alone by "
            f"`python -m resnet_essence.report.figure {run.as_posix()}`, after the numbers "
            "above were computed; the report's figure sections were rewritten for them"
        )
        write_text(provenance, "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
