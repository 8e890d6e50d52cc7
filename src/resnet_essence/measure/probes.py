"""The essay's mechanism, measured inside a network: redundancy, linear units, lesions.

All probes read a trained (or initial) 6n+2 network as a function, in eval mode (at
initialisation the BatchNorm running statistics are first estimated on the probe batch, as
gradstats does), and never retrain it.

``redundancy``
    For every ReLU, on the probe batch: the participation ratio of the channel covariance of its
    input, (sum lambda)^2 / sum lambda^2, divided by the number of channels C (effective dimension
    per channel: 1 when every channel carries its own information, 1/C when all carry the same:
    low means redundant), and the share of its input that survives it: the R^2 of a ridge
    regression of the input from the output, fitted on the even probe images and scored on the
    odd ones (1: nothing lost; 0: nothing recoverable).
``linear units`` (the essay's tip 1: a nonlinearity everything passes through is linear)
    Per ReLU layer, the fraction of units (neurons: a channel at one position) active on every
    probe image, and the fraction that switch (active on some images, not on others).
    Replacing exactly the always-active units by the identity, everywhere at once, cannot change
    the output on the probe images (checked to float tolerance); replacing a whole layer's ReLU
    by the identity
    changes the loss on held-out test images by an amount the switching units explain.
    Where the zeros are removed (a leaky ReLU or an ELU at every ReLU site) the same holds: an
    active unit is one whose input is above zero, where these too are the identity.
``lesions`` (Veit et al. 2016)
    Delete one block at a time (a residual block keeps what its shortcut adds: alpha times the
    shortcut, through the identity's ReLU in a ``-reluid`` net; a block without a shortcut, plain
    or at alpha 0, passes its input on, so it can only go where its input and output shapes
    agree) and measure the test error, each block's row with
    its ``site``: ``same_shape`` (a plain net could lose it too) or ``downsampling``; then
    delete k random blocks together, k = 1..K.

Each probe returns tidy rows: ``probe``, ``epoch``, ``layer_index``, ``layer``, ``site``,
``statistic``, ``value``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nets.resnet import CifarNet, scaled_shortcut
from .layers import calibrate_batchnorm, hooks

log = logging.getLogger(__name__)

MAX_ROWS = 4096  # feature vectors per ReLU for the covariance and the regression
# the linear-unit probe's statistics measured on its held-out images
HELD_OUT_STATISTICS = ("delta_loss_linear_layer", "always_active_delta_loss")


# -- pure measures -------------------------------------------------------------------------------
def participation_ratio(features: torch.Tensor) -> float:
    """(sum lambda)^2 / sum lambda^2 of the covariance of ``features`` (rows: samples)."""
    x = features.double()
    x = x - x.mean(dim=0, keepdim=True)
    cov = x.T @ x / max(1, len(x) - 1)
    trace = torch.trace(cov)
    squares = (cov * cov).sum()  # sum of squared eigenvalues of a symmetric matrix
    if squares <= 0:
        return float("nan")
    return float(trace * trace / squares)


def _ridge_predict(
    fit: tuple[torch.Tensor, torch.Tensor], inputs: torch.Tensor, ridge: float
) -> torch.Tensor:
    """Targets predicted linearly (with intercept) from ``inputs``, the map fitted on ``fit``
    (inputs, targets; samples in rows) by ridge regression, the penalty relative to the mean
    variance of the fitted inputs (so it does not depend on their scale)."""
    fit_x, fit_y = (t.double() for t in fit)
    mean_x, mean_y = fit_x.mean(0, keepdim=True), fit_y.mean(0, keepdim=True)
    a, b = fit_x - mean_x, fit_y - mean_y
    gram = a.T @ a
    penalty = ridge * max(float(torch.trace(gram)) / max(1, gram.shape[0]), 1e-12)
    weights = torch.linalg.solve(
        gram + penalty * torch.eye(gram.shape[0], dtype=gram.dtype), a.T @ b
    )
    return (inputs.double() - mean_x) @ weights + mean_y


def ridge_r2(
    fit: tuple[torch.Tensor, torch.Tensor],
    held_out: tuple[torch.Tensor, torch.Tensor],
    ridge: float = 1e-6,
) -> float:
    """R^2 on ``held_out`` of targets predicted linearly (with intercept) from inputs, the map
    fitted on ``fit``; each is (inputs, targets) with samples in rows. ``ridge`` is relative to
    the mean variance of the inputs, so the penalty does not depend on their scale.
    """
    test_x, test_y = held_out[0], held_out[1].double()
    predicted = _ridge_predict(fit, test_x, ridge)
    total = ((test_y - test_y.mean(0, keepdim=True)) ** 2).sum()
    if total <= 0:
        return float("nan")
    return float(1.0 - ((test_y - predicted) ** 2).sum() / total)


def linear_probe_accuracy(
    fit: tuple[torch.Tensor, torch.Tensor],
    held_out: tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    ridge: float = 1e-3,
) -> float:
    """Held-out accuracy of a linear classifier: least squares on one-hot labels (ridge, with
    intercept; closed form, so the same features always give the same number), fitted on
    ``fit`` and scored on ``held_out``, each (features, labels) with samples in rows. It asks
    how much *class* evidence a linear read-out finds in the features, where ridge R^2 asks how
    much of everything."""
    features, labels = fit
    onehot = F.one_hot(labels.long(), num_classes).double()
    scores = _ridge_predict((features, onehot), held_out[0], ridge)
    return float((scores.argmax(1) == held_out[1].long()).double().mean())


def class_features(t: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, 4C): each channel averaged over the four quadrants of the image (at
    most 2 x 2 positions: few enough features for a linear probe fitted on hundreds of
    images, the same pooling before and after a ReLU)."""
    return F.adaptive_avg_pool2d(t, min(2, t.shape[-1])).flatten(1)


def _rows(t: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B*H*W, C), image by image, at most MAX_ROWS rows (evenly spaced)."""
    rows = t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])
    if len(rows) > MAX_ROWS:
        rows = rows[torch.linspace(0, len(rows) - 1, MAX_ROWS).long()]
    return rows


# -- the network in pieces -----------------------------------------------------------------------
class Segments:
    """A CifarNet as stem, blocks and head, with the input of each piece kept, so that a change
    inside piece s needs only pieces s.. to be run again."""

    def __init__(self, model: CifarNet) -> None:
        self.model = model
        blocks = model.blocks()
        members = [
            {id(m) for m in (model.conv1, model.bn1, model.relu1)},
            *[{id(m) for m in block.modules()} for block in blocks],
            {id(m) for m in (model.bn_final, model.relu_final, model.pool, model.fc)},
        ]
        self.piece_of = {key: index for index, keys in enumerate(members) for key in keys}

    @property
    def pieces(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """Looked up anew at every call: a block swapped into a stage (a lesion) takes part."""
        return [self.model.stem, *self.model.blocks(), self.model.head]

    @torch.no_grad()
    def inputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input of every piece, and the logits last."""
        out = [x]
        for piece in self.pieces:
            out.append(piece(out[-1]))
        return out

    @torch.no_grad()
    def run_from(self, start: int, inputs: list[torch.Tensor]) -> torch.Tensor:
        h = inputs[start]
        for piece in self.pieces[start:]:
            h = piece(h)
        return h


@contextmanager
def replaced(model: nn.Module, old: nn.Module, new: nn.Module) -> Iterator[None]:
    """Put ``new`` where ``old`` sits in ``model`` for the block, then put ``old`` back."""
    places = [
        (parent, name)
        for parent in model.modules()
        for name, child in parent.named_children()
        if child is old
    ]
    for parent, name in places:
        setattr(parent, name, new)
    try:
        yield
    finally:
        for parent, name in places:
            setattr(parent, name, old)


class PartialReLU(nn.Module):
    """The site's activation (``activation``; a ReLU if none is given) on the units where
    ``linear`` (C, H, W) is False, the identity on the others."""

    def __init__(self, linear: torch.Tensor, activation: nn.Module | None = None) -> None:
        super().__init__()
        self.linear = linear.unsqueeze(0)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = F.relu(x) if self.activation is None else self.activation(x)
        return torch.where(self.linear, x, act)


class Lesioned(nn.Module):
    """A block deleted: a block with a shortcut keeps only what it adds (alpha times the
    shortcut, through the identity's ReLU in a ``-reluid`` net); a block without one (plain, or
    alpha 0) passes x on."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__()
        self.shortcut = block.shortcut
        self.alpha = block.alpha if block.has_shortcut else 1.0
        self.shortcut_relu = block.shortcut_relu if block.has_shortcut else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return scaled_shortcut(x, self.shortcut, self.alpha, self.shortcut_relu)


def _same_shape(block: nn.Module) -> bool:
    """Whether a block's input and output have the same shape (stride 1, as many channels)."""
    return block.conv1.stride == (1, 1) and block.conv1.in_channels == block.conv1.out_channels


def deletable(model: CifarNet) -> list[int]:
    """Indices of the blocks a lesion can remove: every block with a shortcut, and the blocks
    without one (plain, or alpha 0) whose input and output shapes agree."""
    out = []
    for index, block in enumerate(model.blocks()):
        if not block.has_shortcut and not _same_shape(block):
            continue
        out.append(index)
    return out


def _error_and_loss(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    return float((logits.argmax(1) != y).float().mean()), float(F.cross_entropy(logits, y))


# -- the probes ----------------------------------------------------------------------------------
@torch.no_grad()
def redundancy(model: CifarNet, x: torch.Tensor, epoch: int) -> list[dict]:
    """Per ReLU: participation ratio per channel of its input, and ridge R^2 of input from
    output (module docstring)."""
    seen: list[tuple[str, str, torch.Tensor, torch.Tensor]] = []
    with hooks([]) as handles:
        for name, site, module in model.relu_sites():

            def hook(_m, inputs, output, name=name, site=site):
                seen.append((name, site, inputs[0].detach(), output.detach()))

            handles.append(module.register_forward_hook(hook))
        model(x)
    rows = []
    for index, (name, site, pre, post) in enumerate(seen):
        base = {"probe": "redundancy", "epoch": epoch, "layer_index": index, "layer": name}
        base["site"] = site
        pr = participation_ratio(_rows(pre)) / pre.shape[1]
        rows.append({**base, "statistic": "pr_per_channel", "value": pr})
        # fitted on the even images, scored on the odd ones: positions of one image are alike
        r2 = ridge_r2((_rows(post[0::2]), _rows(pre[0::2])), (_rows(post[1::2]), _rows(pre[1::2])))
        rows.append({**base, "statistic": "relu_r2", "value": r2})
    return rows


def _pooled_relu_features(model: CifarNet, x: torch.Tensor) -> list[tuple]:
    """(name, site, pooled input, pooled output) of every ReLU on the images ``x``."""
    seen: list[tuple] = []
    with hooks([]) as handles:
        for name, site, module in model.relu_sites():

            def hook(_m, inputs, output, name=name, site=site):
                seen.append((name, site, class_features(inputs[0]), class_features(output)))

            handles.append(module.register_forward_hook(hook))
        model(x)
    return seen


@torch.no_grad()
def class_evidence(
    model: CifarNet,
    fit: tuple[torch.Tensor, torch.Tensor],
    held_out: tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    *,
    epoch: int,
) -> list[dict]:
    """Per ReLU: the held-out accuracy of a linear classifier (:func:`linear_probe_accuracy`)
    on its input and on its output, both pooled alike (:func:`class_features`), fitted on the
    ``fit`` images (training images) and scored on the ``held_out`` ones (test images), and
    ``class_acc_change``, output minus input: below 0 the ReLU lost class evidence a linear
    read-out had, above 0 it made the classes more separable."""
    fitted, held = _pooled_relu_features(model, fit[0]), _pooled_relu_features(model, held_out[0])
    rows = []
    pairs = zip(fitted, held, strict=True)
    for index, ((name, site, fit_pre, fit_post), (_, _, held_pre, held_post)) in enumerate(pairs):
        base = {"probe": "class_evidence", "epoch": epoch, "layer_index": index, "layer": name}
        base["site"] = site
        before, after = (
            linear_probe_accuracy((f, fit[1]), (h, held_out[1]), num_classes)
            for f, h in ((fit_pre, held_pre), (fit_post, held_post))
        )
        values = {"class_acc_input": before, "class_acc_output": after}
        values["class_acc_change"] = after - before
        rows.extend({**base, "statistic": k, "value": v} for k, v in values.items())
    return rows


@torch.no_grad()
def linear_units(
    model: CifarNet,
    probe_x: torch.Tensor,
    held_x: torch.Tensor,
    held_y: torch.Tensor,
    epoch: int,
) -> list[dict]:
    """Tip 1 on one network (module docstring): per layer the always-active, switching and dead
    fractions and the held-out loss change when the whole layer becomes linear; then every
    always-active unit made linear at once: the largest logit change on the probe images
    (``layer_index`` -1) and the held-out loss change."""
    always, ever = {}, {}

    def hook(m, inputs, output):
        active = inputs[0] > 0  # a unit is one neuron: a channel at one position
        always[id(m)] = active.all(dim=0)
        ever[id(m)] = active.any(dim=0)

    with hooks([]) as handles:
        handles.extend(module.register_forward_hook(hook) for _, _, module in model.relu_sites())
        probe_logits = model(probe_x)
    segments = Segments(model)
    held = segments.inputs(held_x)
    _, base_loss = _error_and_loss(held[-1], held_y)
    rows = []
    for index, (name, site, module) in enumerate(model.relu_sites()):
        on, any_on = always[id(module)], ever[id(module)]
        base = {"probe": "linear_units", "epoch": epoch, "layer_index": index, "layer": name}
        base["site"] = site
        with replaced(model, module, nn.Identity()):
            logits = segments.run_from(segments.piece_of[id(module)], held)
        values = {
            "always_active_fraction": float(on.float().mean()),
            "switching_fraction": float((any_on & ~on).float().mean()),
            "dead_fraction": float((~any_on).float().mean()),
            "delta_loss_linear_layer": _error_and_loss(logits, held_y)[1] - base_loss,
        }
        rows.extend({**base, "statistic": k, "value": v} for k, v in values.items())
    swaps = {m: PartialReLU(always[id(m)], m) for _, _, m in model.relu_sites()}
    with _all_replaced(model, swaps):
        changed = model(probe_x)
        held_logits = model(held_x)
    base = {"probe": "linear_units", "epoch": epoch, "layer_index": -1, "layer": "all"}
    base["site"] = "all"
    scale = float(probe_logits.abs().max().clamp_min(1e-12))
    change = float((changed - probe_logits).abs().max()) / scale
    rows.append({**base, "statistic": "always_active_logit_change", "value": change})
    delta = _error_and_loss(held_logits, held_y)[1] - base_loss
    rows.append({**base, "statistic": "always_active_delta_loss", "value": delta})
    return rows


@contextmanager
def _all_replaced(model: nn.Module, swaps: dict[nn.Module, nn.Module]) -> Iterator[None]:
    """Every module swapped for its replacement inside the block, all restored on leaving."""
    with ExitStack() as stack:
        for old, new in swaps.items():
            stack.enter_context(replaced(model, old, new))
        yield


@torch.no_grad()
def lesions(
    model: CifarNet,
    x: torch.Tensor,
    y: torch.Tensor,
    epoch: int,
    max_deleted: int,
    draws: int,
    seed: int,
) -> list[dict]:
    """Veit et al.: test error with one block deleted (each deletable block in turn), and with
    k random deletable blocks deleted together (k = 1..max_deleted, ``draws`` draws each);
    ``layer_index`` is the block, or k for ``k_deleted_error``."""
    blocks = model.blocks()
    candidates = deletable(model)
    segments = Segments(model)
    inputs = segments.inputs(x)
    base = {"probe": "lesion", "epoch": epoch, "site": ""}
    intact = _error_and_loss(inputs[-1], y)[0]
    none = {**base, "layer_index": -1, "layer": "none"}
    rows = [
        {**none, "statistic": "intact_error", "value": intact},
        {**none, "statistic": "images", "value": float(len(y))},  # what each error counts on
    ]
    for index in candidates:
        with replaced(model, blocks[index], Lesioned(blocks[index])):
            error = _error_and_loss(segments.run_from(index + 1, inputs), y)[0]
        # the site says whether a plain net could lose this block too (L1 compares only those)
        shape = "same_shape" if _same_shape(blocks[index]) else "downsampling"
        rows.append(
            {**base, "layer_index": index, "layer": f"block{index}", "site": shape}
            | {"statistic": "lesion_error", "value": error}
        )
    rng = np.random.default_rng(seed)
    for k in range(1, min(max_deleted, len(candidates)) + 1):
        errors = []
        for _ in range(draws):
            chosen = sorted(rng.choice(candidates, size=k, replace=False))
            swaps = {blocks[i]: Lesioned(blocks[i]) for i in chosen}
            with _all_replaced(model, swaps):
                errors.append(_error_and_loss(segments.run_from(chosen[0] + 1, inputs), y)[0])
        rows.append(
            {**base, "layer_index": k, "layer": f"{k} blocks", "statistic": "k_deleted_error"}
            | {"value": float(np.mean(errors))}
        )
    return rows


def linear_unit_images(
    probe_x: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The linear-unit probe's images: (the images that find the always-active units, the
    held-out images and their labels).

    The held-out images are the test images after the probe batch (as many as it has). A test
    split no larger than the probe batch (``gradstats.batch_size``) has none after it, so the
    probe batch is split in two: units found on its first half, the loss measured on its
    second half, never on the images that found them (there a linear unit changes nothing by
    construction). A batch of one image cannot be split: the held-out set is empty and the
    loss changes are left out.
    """
    n = len(probe_x)
    held_x, held_y = test_x[n : 2 * n], test_y[n : 2 * n]
    if len(held_y):
        return probe_x, held_x, held_y
    half = n // 2
    where = f"the test split has {len(test_y)} image(s), none beyond the probe batch"
    if not half:
        log.warning("linear-unit probe: %s: its loss changes are not measured", where)
        return probe_x, held_x, held_y
    log.warning(
        "linear-unit probe: %s (gradstats.batch_size): units found on its first %d images, "
        "the loss changes measured on the other %d",
        where,
        half,
        n - half,
    )
    return probe_x[:half], probe_x[half:], test_y[half:n]


def probe_snapshots(
    model: CifarNet,
    snapshots: dict[int, dict[str, torch.Tensor]],
    probe_x: torch.Tensor,
    test_x: torch.Tensor,
    test_y: torch.Tensor,
    max_deleted: int,
    draws: int,
    seed: int,
    last: bool = True,
    class_sets: tuple | None = None,
) -> list[dict]:
    """Redundancy (and, with ``class_sets``, class evidence) at every snapshot; linear units and
    lesions on the last one (unless ``last`` is False: these snapshots are not the run's last).

    ``class_sets``: ((fit images, labels), (held-out images, labels), number of classes) for
    :func:`class_evidence`.

    ``probe_x`` are the probe images (the first test images); ``test_x``/``test_y`` the test
    split, whose next as many images are the held-out set of the linear-unit probe
    (``linear_unit_images``: a split no larger than the probe batch is halved); the lesions
    use both batches (a forward pass per lesion: on CIFAR-10 the whole test set would cost more
    than the training).
    """
    rows = []
    units_x, held_x, held_y = linear_unit_images(probe_x, test_x, test_y)
    lesion_set = slice(0, 2 * len(probe_x))
    final = max(snapshots) if last else None
    for epoch in sorted(snapshots):
        model.load_state_dict(snapshots[epoch])
        if epoch == 0:
            calibrate_batchnorm(model, probe_x)
        model.eval()
        rows += redundancy(model, probe_x, epoch)
        if class_sets is not None:
            rows += class_evidence(model, *class_sets, epoch=epoch)
        if epoch == final:
            units = linear_units(model, units_x, held_x, held_y, epoch)
            if not len(held_y):  # a loss change on no image is absent, not NaN
                units = [row for row in units if row["statistic"] not in HELD_OUT_STATISTICS]
            rows += units
            rows += lesions(
                model, test_x[lesion_set], test_y[lesion_set], epoch, max_deleted, draws, seed
            )
    return rows
