"""One run's snapshots measured: layer statistics and shattering (layers.py) and the mechanism
probes (probes.py), as rule gradstats writes them.

Epoch 0 is always the He initialisation: a run that started from Fixup or SkipInit (whose
residual branches start at zero, which makes every comparison at initialisation trivial) is
measured at epoch 0 on its He-initialised twin, the net the same seed builds with init "he".
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pandas as pd
import torch

from ..nets.resnet import NetSpec, build_model
from .layers import measure_snapshots
from .probes import probe_snapshots

log = logging.getLogger(__name__)


def finite_snapshots(snapshots: dict[int, dict[str, torch.Tensor]]) -> dict:
    """The snapshots whose weights are all finite (a diverged run's last ones are not)."""
    return {
        epoch: state
        for epoch, state in snapshots.items()
        if all(torch.isfinite(t).all() for t in state.values() if t.is_floating_point())
    }


def he_twin(spec: NetSpec, seed: int) -> tuple[NetSpec, dict[str, torch.Tensor]]:
    """The He-initialised net that ``seed`` builds in place of ``spec``'s initialisation (the
    trainer seeds torch with the run's seed, then builds the net)."""
    twin = replace(spec, init="he")
    torch.manual_seed(seed)
    return twin, build_model(twin).state_dict()


def _measure(spec, snapshots, x, y, test_x, test_y, cfg, probes_cfg, seed, last, class_sets):
    model = build_model(spec)
    layers, shatter = measure_snapshots(
        model, snapshots, x, y, cfg["path_points"], list(cfg["lags"]), cfg["paths"]
    )
    probes = probe_snapshots(
        model,
        snapshots,
        x,
        test_x,
        test_y,
        probes_cfg["max_deleted"],
        probes_cfg["draws"],
        seed,
        last=last,
        class_sets=class_sets,
    )
    return layers, shatter, pd.DataFrame(probes)


def measure_run(
    spec,
    snapshots,
    summary: dict,
    test_x,
    test_y,
    cfg: dict,
    probes_cfg: dict,
    class_sets: tuple | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(layers, shattering, probes) of one run (``summary``: its summary.json), every finite
    snapshot, each row with the run's ids first; the probe batch is the first
    ``cfg['batch_size']`` images of ``test_x``, the held-out images the next as many;
    ``class_sets`` as :func:`probes.probe_snapshots` takes them."""
    seed = summary["seed"]
    if summary["status"] != "completed":
        # a diverged run's final weights are not finite; only the snapshots before it count
        snapshots = finite_snapshots(snapshots)
        log.warning(
            "run %s: measuring only the finite snapshots %s", summary["status"], sorted(snapshots)
        )
    x, y = test_x[: cfg["batch_size"]], test_y[: cfg["batch_size"]]
    parts = []
    if getattr(spec, "init", "he") != "he" and 0 in snapshots:
        twin, state = he_twin(spec, seed)
        parts.append(
            _measure(
                twin, {0: state}, x, y, test_x, test_y, cfg, probes_cfg, seed, False, class_sets
            )
        )
        snapshots = {e: s for e, s in snapshots.items() if e != 0}
        log.info("%s seed %d: epoch 0 measured on the He-initialised twin", spec.init, seed)
    parts.append(
        _measure(spec, snapshots, x, y, test_x, test_y, cfg, probes_cfg, seed, True, class_sets)
    )
    ids = {key: summary[key] for key in ("dataset", "arch", "depth", "seed")}
    tables = []
    for frames in zip(*parts, strict=True):
        frame = pd.concat(frames, ignore_index=True)
        tables.append(frame.assign(**ids)[[*ids, *frame.columns]])
    return tuple(tables)
