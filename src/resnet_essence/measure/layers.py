"""Per-layer statistics of a network at one snapshot: gradients, dead ReLUs, responses.

All statistics come from one fixed evaluation batch:

- ``weight_grad_norm`` and ``grad_to_weight``: the gradient of the mean cross-entropy with
  respect to each conv/linear weight, its norm and its ratio to the weight's norm;
- ``signal_grad_norm``: the norm of the backward signal dL/dh at each block's output (and the
  stem's), i.e. how much gradient reaches that depth, and ``signal_grad_rms``, the same divided
  by sqrt(number of elements), which compares layers of different sizes;
- ``relu_active_fraction``: the fraction of (sample, unit, position) entries whose input is
  above zero (one minus it is how often the ReLU outputs 0); ``dead_fraction``: the fraction of
  units (channels) never above zero on the whole batch; each ReLU carries its ``site``
  (nets/resnet.py: ``branch`` between a block's convolutions, ``trunk`` after the addition,
  ``block_input`` and ``head`` in pre-activation nets, ``shortcut`` for the ReLU on the identity
  of a ``-reluid`` net), and sites are never pooled here. Where the zeros are removed (a leaky
  ReLU or an ELU at every site, nets/interventions.py) the same sites are measured, by the same
  rule: "active" is the side where the activation is the identity, one minus it the side where
  it is s x (or e^x - 1), which is no longer an output of 0, and a "dead" unit still passes a
  gradient;
- ``response_std``: the standard deviation of each BatchNorm output, before the addition or
  ReLU (He et al. 2016, Fig. 7).

BatchNorm uses the statistics of the evaluation batch (train mode) for these, on a copy of the
model, so running statistics are untouched and an untrained network is measured as it trains.
The shattering measurement (Balduzzi et al. 2017) needs a function of each input alone, so it
runs in eval mode; at initialisation the running statistics are first estimated on the batch.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..nets.resnet import CifarNet, weight_layers
from ..tables.schema import LAYER_COLUMNS


@contextmanager
def hooks(handles: list) -> Iterator[list]:
    """Remove every hook handle registered inside the block, even on error."""
    try:
        yield handles
    finally:
        for handle in handles:
            handle.remove()
        handles.clear()


def layer_statistics(model: CifarNet, x: torch.Tensor, y: torch.Tensor) -> pd.DataFrame:
    """Tidy per-layer table: one row per (kind, layer) with the statistics of that kind.

    Columns: ``kind`` (weight, signal, relu, bn), ``layer_index`` (depth order within kind),
    ``layer``, ``site``, ``weight_grad_norm``, ``weight_norm``, ``grad_to_weight``,
    ``signal_grad_norm``, ``signal_grad_rms``, ``relu_active_fraction``, ``dead_fraction``,
    ``response_std``.
    """
    net = copy.deepcopy(model)
    net.train()
    net.zero_grad(set_to_none=True)
    relu_rows: list[dict] = []
    bn_rows: list[dict] = []
    signal_outputs: list[tuple[str, torch.Tensor]] = []

    def on_relu(name: str, site: str):
        def hook(_module, inputs, _output):
            active = inputs[0] > 0  # for a ReLU the same as output > 0
            per_unit = active.transpose(0, 1).reshape(active.shape[1], -1).any(dim=1)
            relu_rows.append(
                {
                    "kind": "relu",
                    "layer": name,
                    "site": site,
                    "relu_active_fraction": active.float().mean().item(),
                    "dead_fraction": 1.0 - per_unit.float().mean().item(),
                }
            )

        return hook

    def on_bn(name: str, site: str):
        def hook(_module, _inputs, output):
            bn_rows.append(
                {
                    "kind": "bn",
                    "layer": name,
                    "site": site,
                    "response_std": output.detach().float().std().item(),
                }
            )

        return hook

    def on_block(name: str):
        def hook(_module, _inputs, output):
            output.retain_grad()
            signal_outputs.append((name, output))

        return hook

    with hooks([]) as handles:
        for name, site, module in net.relu_sites():
            handles.append(module.register_forward_hook(on_relu(name, site)))
        for name, site, module in net.bn_sites():
            handles.append(module.register_forward_hook(on_bn(name, site)))
        handles.append(net.relu1.register_forward_hook(on_block("stem")))
        for index, block in enumerate(net.blocks()):
            handles.append(block.register_forward_hook(on_block(f"block{index}")))
        loss = F.cross_entropy(net(x), y)
        loss.backward()

    rows: list[dict] = []
    for index, (name, module) in enumerate(weight_layers(net)):
        grad_norm = module.weight.grad.norm().item()
        weight_norm = module.weight.detach().norm().item()
        rows.append(
            {
                "kind": "weight",
                "layer_index": index,
                "layer": name,
                "site": "",
                "weight_grad_norm": grad_norm,
                "weight_norm": weight_norm,
                "grad_to_weight": grad_norm / weight_norm if weight_norm else np.nan,
            }
        )
    for index, (name, output) in enumerate(signal_outputs):
        rows.append(
            {
                "kind": "signal",
                "layer_index": index,
                "layer": name,
                "site": "trunk",
                "signal_grad_norm": output.grad.norm().item(),
                "signal_grad_rms": output.grad.norm().item() / output.numel() ** 0.5,
            }
        )
    for index, row in enumerate(relu_rows):
        rows.append({**row, "layer_index": index})
    for index, row in enumerate(bn_rows):
        rows.append({**row, "layer_index": index})
    return pd.DataFrame(rows).reindex(columns=LAYER_COLUMNS)


def interpolation_path(a: torch.Tensor, b: torch.Tensor, points: int) -> torch.Tensor:
    """``points`` inputs evenly spaced on the segment from a to b (each of shape C x H x W)."""
    t = torch.linspace(0.0, 1.0, points, dtype=a.dtype, device=a.device).view(-1, 1, 1, 1)
    return (1 - t) * a.unsqueeze(0) + t * b.unsqueeze(0)


def input_gradients(model: nn.Module, x: torch.Tensor, target: int) -> torch.Tensor:
    """d logit_target / d input for each row of x (eval mode: each row on its own)."""
    was_training = model.training
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    logits = model(x)
    (grad,) = torch.autograd.grad(logits[:, target].sum(), x)
    model.train(was_training)
    return grad.flatten(1)


def gradient_autocorrelation(gradients: torch.Tensor, lags: list[int]) -> dict[int, float]:
    """Mean cosine similarity between gradients ``lag`` steps apart along the path.

    A network whose input gradient is the same everywhere (a linear map) gives 1 at every lag;
    shattered gradients (Balduzzi et al. 2017) decorrelate within a few steps.
    """
    g = F.normalize(gradients.double(), dim=1)
    out = {}
    for lag in lags:
        if lag <= 0 or lag >= len(g):
            raise ValueError(f"lag={lag} must be in 1..{len(g) - 1}")
        out[lag] = float((g[:-lag] * g[lag:]).sum(dim=1).mean())
    return out


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, x: torch.Tensor) -> None:
    """Estimate BatchNorm running statistics from ``x`` (one cumulative pass)."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average: one pass gives the batch's statistics
    was_training = model.training
    model.train()
    model(x)
    model.train(was_training)
    for m, momentum in zip(bns, momenta, strict=True):
        m.momentum = momentum


def shattering(
    model: nn.Module, a: torch.Tensor, b: torch.Tensor, target: int, points: int, lags: list[int]
) -> dict[int, float]:
    """Input-gradient autocorrelation along the segment from image a to image b."""
    path = interpolation_path(a, b, points)
    return gradient_autocorrelation(input_gradients(model, path, target), lags)


def measure_snapshots(
    model: CifarNet,
    snapshots: dict[int, dict[str, torch.Tensor]],
    x: torch.Tensor,
    y: torch.Tensor,
    path_points: int,
    lags: list[int],
    paths: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Layer statistics and shattering for every snapshot of one run.

    ``x`` is the normalised evaluation batch, ``y`` its labels. Shattering path k runs from image
    2k to image 2k + 1, for the class of image 2k; one path is a noisy measurement, so several
    are taken. Returns (layers, shattering), both tidy with an ``epoch`` column; shattering has a
    ``path`` column.
    """
    if len(x) < 2 * paths:
        raise ValueError(
            f"the evaluation batch has {len(x)} images; {2 * paths} are needed for "
            f"gradstats.paths={paths}"
        )
    layers, shatter = [], []
    for epoch in sorted(snapshots):
        model.load_state_dict(snapshots[epoch])
        if epoch == 0:
            calibrate_batchnorm(model, x)
        table = layer_statistics(model, x, y)
        table.insert(0, "epoch", epoch)
        layers.append(table)
        for path in range(paths):
            a, b = x[2 * path], x[2 * path + 1]
            autocorr = shattering(model, a, b, int(y[2 * path]), path_points, lags)
            shatter.extend(
                {"epoch": epoch, "path": path, "lag": lag, "autocorrelation": value}
                for lag, value in autocorr.items()
            )
    return pd.concat(layers, ignore_index=True), pd.DataFrame(shatter)
