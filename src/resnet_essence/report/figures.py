"""Which panels each figure holds, chosen from the data a run has: a panel whose data the run
lacks is left out, never drawn empty.

- The main figure: (a) the forest plot of the essay's claims (every run of ``report.beside`` a
  column), (b) the collapse law beside its measurement, the learning curves at the depths where
  every architecture trains (``figure_data.compared_depths``), and one mechanism panel, the
  backward signal at the deepest of those depths.
- The supplementary figures, numbered S1, S2, ... in the order of ``SUPPLEMENTARY`` among those
  the run has data for: the replications' forest plot, the interventions' (where a run trains
  them), the training of every net at every depth, the network statistics against depth, every
  collapse map, the designs a run adds (bottlenecks, width sweep), and, from a run's results
  alone, every measure by layer and the collapse examples (last, so that a published run's
  figures keep the numbers its run gave them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..claims import ESSAY, EXPLANATION, REPLICATION
from . import layer_panels as lp
from . import panels as pn
from .captions import SUPPLEMENTARY_CAPTIONS
from .figure_data import compared_depths
from .forest import draw_forest, forest_rows, skipped


@dataclass(frozen=True)
class Panel:
    """One panel: its name (for the file of the panel alone) and how it draws itself on a grid
    cell of a figure (``draw(fig, spec)``, returning the Axes its letter goes on); ``wide``
    panels (forest plots, the collapse examples) take a whole row."""

    name: str
    draw: Callable
    wide: bool = False
    rows: int = 0  # a forest plot's rows, for its height


def single(name: str, function: Callable, *args) -> Panel:
    """A panel on one Axes: ``function(ax, *args)``."""

    def draw(fig, spec):
        ax = fig.add_subplot(spec)
        function(ax, *args)
        return ax

    return Panel(name, draw)


def forest_panel(data: dict, families, title: str) -> Panel | None:
    """The forest plot of ``families`` over every run given, or None when no row has an
    estimate in units of its margin."""
    runs = data["claims"]
    rows = forest_rows(runs, families)
    if rows.empty:
        return None
    left = skipped(runs, families)
    note = "not drawn (no estimate, or margin 0): " + ", ".join(
        f"{n} rows" + (f" ({t})" if len(runs) > 1 else "") for t, n in left.items()
    )
    titles = [t for t in runs if (rows["run"] == t).any()]
    n_rows = rows.drop_duplicates(["stage", "label"]).shape[0]

    def draw(fig, spec):
        return draw_forest(fig, spec, rows, titles, title, note)

    return Panel("forest", draw, wide=True, rows=n_rows)


def _has(data: dict, name: str) -> bool:
    table = data.get(name)
    return table is not None and len(table) > 0


def _statistic(data: dict, statistic: str, depth: int | None = None) -> bool:
    networks = data["networks"]
    rows = networks[networks["statistic"] == statistic].dropna(subset=["mean"])
    return len(rows) > 0 if depth is None else bool((rows["depth"] == depth).any())


def main_panels(data: dict) -> list[Panel]:
    """The main figure's panels, in reading order."""
    panels = [forest_panel(data, [ESSAY], "the essay's claims: effect in margins, 95% interval")]
    depths = compared_depths(data)
    if _has(data, "survival"):
        panels.append(single("collapse_law", pn.collapse_law, data["survival"]))
    curves = data["curves"]
    for depth in depths:
        if (curves["depth"] == depth).any():
            panels.append(single(f"curves_depth{depth}", pn.curves_at, curves, depth))
    if _statistic(data, "signal_norm_slope", depths[-1]):
        panels.append(single("mechanism", pn.mechanism, data["networks"], depths[-1]))
    return [p for p in panels if p is not None]


def _training(data: dict) -> list[Panel]:
    panels = [single("final_errors", pn.final_errors, data["final"], data.get("paper"))]
    for depth in sorted(data["curves"]["depth"].unique()):
        panels.append(single(f"curves_depth{depth}", pn.curves_at, data["curves"], int(depth)))
    return panels


def _networks(data: dict) -> list[Panel]:
    return [
        single(name, pn.by_depth, data["networks"], *spec)
        for name, spec in pn.NETWORK_PANELS.items()
        if _statistic(data, spec[0])
    ]


def _collapse(data: dict) -> list[Panel]:
    if not _has(data, "survival"):
        return []
    return [single("survival_maps", pn.survival_maps, data["survival"], data.get("blocks"))]


def _designs(data: dict) -> list[Panel]:
    panels = []
    if _has(data, "bottleneck"):
        panels.append(single("bottleneck", lp.bottleneck_errors, data["bottleneck"]))
    sweep = data.get("width_sweep")
    if sweep is not None and (sweep["statistic"] == "dead_fraction_branch").any():
        panels.append(single("width", lp.width_panel, sweep))
    return panels


def _by_layer(data: dict) -> list[Panel]:
    depth = compared_depths(data)[-1]
    panels = []
    layers, probes = data.get("layers"), data.get("probes")
    if layers is not None and len(layers):
        here = layers[layers["depth"] == depth]
        if (here["statistic"] == "signal_grad_norm").any():
            panels.append(single("signal_profile", lp.signal_profile, layers, depth))
        if (here["statistic"] == "response_std").any():
            panels.append(single("responses", lp.response_profile, layers, depth))
    if probes is not None and len(probes):
        here = probes[probes["depth"] == depth]
        for statistic, label, title in (
            ("pr_per_channel", "effective dim. per channel", "redundancy, branch ReLU"),
            ("relu_r2", "input recovered (R²)", "kept by the branch ReLU"),
        ):
            if ((here["statistic"] == statistic) & (here["site"] == "branch")).any():
                panels.append(
                    single(statistic, lp.branch_probe, probes, depth, statistic, label, title)
                )
        if (here["probe"] == "linear_units").any():
            panels.append(single("linear_units", lp.linear_units, probes, depth))
        if (here["probe"] == "lesion").any():
            panels.append(single("lesions", lp.lesion_curves, probes, depth))
    return panels


def _examples(data: dict) -> list[Panel]:
    if not _has(data, "examples"):
        return []

    def draw(fig, spec):
        return lp.collapse_examples(fig, spec, data["examples"])

    return [Panel("examples", draw, wide=True, rows=12)]


def _forest(families, title):
    def panels(data: dict) -> list[Panel]:
        found = forest_panel(data, families, title)
        return [found] if found else []

    return panels


# every supplementary figure in its order: kind -> its panels from the data (the titles and
# captions are ``captions.SUPPLEMENTARY_CAPTIONS``'s, in the same order)
SUPPLEMENTARY = {
    "replications": _forest([REPLICATION], "replications: effect in margins, 95% interval"),
    "interventions": _forest([EXPLANATION], "interventions: effect in margins, 95% interval"),
    "training": _training,
    "networks": _networks,
    "collapse": _collapse,
    "designs": _designs,
    "by_layer": _by_layer,
    "examples": _examples,
}


# the figures drawn from a run's results alone (per-layer tables, the collapse examples), never
# from a published folder: a redraw there keeps the ones its run drew
RESULTS_ONLY = ("by_layer", "examples")


def supplementary(data: dict) -> list[tuple[str, str, list[Panel]]]:
    """The supplementary figures the data allow, in order: (file stem S<k>_<kind>, title,
    panels); a figure with no panel is left out and the next takes its number."""
    found = []
    for kind, make in SUPPLEMENTARY.items():
        panels = make(data)
        if panels:
            found.append((f"S{len(found) + 1}_{kind}", SUPPLEMENTARY_CAPTIONS[kind][0], panels))
    return found
