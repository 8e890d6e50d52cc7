"""The essay's tip 2 (Lu et al. 2019): how the width of a net changes its dead branch-ReLU units
and the slope of its backward signal, at initialisation (:func:`width_sweep`, nothing trained)
and after training with the recipe (:func:`trained_width_rows`).
"""

from __future__ import annotations

import torch

from ..nets.resnet import CifarNet, NetSpec, build_model
from ..tables.aggregate import signal_profiles
from .layers import calibrate_batchnorm, layer_statistics


def _width_statistics(model: CifarNet, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Dead branch-ReLU units and the slope of the backward signal over the blocks (> 0: it
    shrinks toward the input), on one batch."""
    table = layer_statistics(model, x, y)
    relu = table[(table["kind"] == "relu") & (table["site"] == "branch")]
    signal = signal_profiles(table)
    return {
        "dead_fraction_branch": float(relu["dead_fraction"].mean()),
        "signal_norm_slope": signal["signal_norm_slope"],
        "signal_rms_slope": signal["signal_rms_slope"],
    }


def width_sweep(
    arch: str,
    depth: int,
    widths: list[int],
    inits: int,
    model_config: dict,
    x: torch.Tensor,
    y: torch.Tensor,
    num_classes: int,
) -> list[dict]:
    """The essay's tip 2 at initialisation (Lu et al. 2019): for each width and random init, the
    net config ``model:`` describes at that width, initialised as config ``model.init`` says
    (the nets the sweep trains start from exactly these weights: seed ``init``, the same spec):
    the share of dead branch-ReLU units and the slope of the backward signal
    (``_width_statistics``); epoch 0. Nothing is trained."""
    rows = []
    for width in widths:
        for init in range(inits):
            torch.manual_seed(init)
            config = {**model_config, "width": width}
            spec = NetSpec.from_config(config, arch, depth, num_classes, x.shape[1])
            model = build_model(spec)
            calibrate_batchnorm(model, x)
            base = {"arch": arch, "depth": depth, "width": width, "init": init, "epoch": 0}
            for statistic, value in _width_statistics(model, x, y).items():
                rows.append({**base, "statistic": statistic, "value": value})
    return rows


def trained_width_rows(
    spec: NetSpec,
    snapshots: dict[int, dict[str, torch.Tensor]],
    summary: dict,
    x: torch.Tensor,
    y: torch.Tensor,
) -> list[dict]:
    """A net of the width sweep trained with the recipe (its run's summary and snapshots): the
    same statistics on its own initial weights (epoch 0) and at its last epoch, and its final
    training error (NaN: it diverged)."""
    ids = {"arch": spec.arch, "depth": spec.depth, "width": spec.width, "init": summary["seed"]}
    finished = summary["status"] == "completed"
    end = summary["epochs_completed"]
    rows = [
        {**ids, "epoch": end, "statistic": "train_err"}
        # in eval mode where the run measured it (claims.yaml: what "converged" judges)
        | {
            "value": summary.get("final_train_err_eval", summary["final_train_err"])
            if finished
            else float("nan")
        }
    ]
    model = build_model(spec)
    measured = [0] if 0 in snapshots else []
    measured += [max(snapshots)] if finished and max(snapshots) != 0 else []
    for epoch in measured:
        model.load_state_dict(snapshots[epoch])
        stats = _width_statistics(model, x, y)
        rows += [
            {**ids, "epoch": 0 if epoch == 0 else end, "statistic": k, "value": v}
            for k, v in stats.items()
        ]
    return rows
