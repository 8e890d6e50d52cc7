"""Several seeds of one network as one net of grouped convolutions: the packed layers.

K seeds of one net are packed into one net that is K times as wide and split into K groups that
never mix: every convolution becomes a grouped one (``groups`` times K), every BatchNorm has the
channels of all seeds (each channel its own statistics, as before), the classifier becomes K
classifiers side by side, an option-A shortcut pads each seed's channels, a branch scale has one
value per seed. Seed k's images go through group k only: the packed input is the K seeds'
batches side by side along the channels. :func:`unpackable_layers` lists what a net holds that
packing does not know, without building anything; :func:`pack_model` builds the packed net;
:func:`stack_state` and :func:`split_state` move weights, buffers and momentum between the K
seeds' nets and the packed one. ``resnet_essence.train.packed.PackedStepper`` steps such a net.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import BranchScale, ShortcutA


class PackedLinear(nn.Module):
    """K linear layers side by side: (B, K * C) -> (B, K, out)."""

    def __init__(self, seeds: int, in_features: int, out_features: int) -> None:
        super().__init__()
        self.seeds = seeds
        self.weight = nn.Parameter(torch.empty(seeds, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(seeds, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(x.shape[0], self.seeds, -1)
        return torch.einsum("bki,koi->bko", x, self.weight) + self.bias


class PackedShortcutA(nn.Module):
    """Option A for K seeds: subsample, and zero-pad each seed's channels to its new width."""

    def __init__(self, seeds: int, shortcut: ShortcutA) -> None:
        super().__init__()
        self.seeds, self.stride, self.pad = seeds, shortcut.stride, shortcut.pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        b, c, h, w = x.shape
        x = x.reshape(b, self.seeds, c // self.seeds, h, w)
        x = F.pad(x, (0, 0, 0, 0, *self.pad))
        return x.reshape(b, -1, h, w).contiguous(memory_format=torch.channels_last)


class PackedBranchScale(nn.Module):
    """One learnable branch scale per seed."""

    def __init__(self, seeds: int) -> None:
        super().__init__()
        self.seeds = seeds
        self.scale = nn.Parameter(torch.empty(seeds))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        scaled = x.reshape(b, self.seeds, c // self.seeds, h, w) * self.scale.view(1, -1, 1, 1, 1)
        return scaled.reshape(b, c, h, w)


# replaced by their K-seed version (_packed_layer)
_WIDENED = (nn.Conv2d, nn.BatchNorm2d, nn.Linear, ShortcutA, BranchScale)
# no parameters, channel by channel: serve the packed net as they are
# element by element and without parameters: each seed's channels pass unmixed
_KEPT = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.Identity, nn.AdaptiveAvgPool2d)


def unpackable_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules of ``model`` that packing does not know, with their names; empty when it
    packs. Known are the layers of ``_WIDENED`` and ``_KEPT`` and containers of layers (whose
    own ``forward`` is taken to pass each seed's channels on unmixed, as a ResNet block's
    does); a container with parameters or buffers of its own is not, as nothing would widen
    them. Nothing is built: the decision to pack costs no copy of the net."""
    unknown = []
    for name, module in model.named_modules():
        if isinstance(module, _WIDENED + _KEPT):
            continue
        own = [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]
        if own or not list(module.children()):
            unknown.append((name, module))
    return unknown


def _packed_layer(module: nn.Module, seeds: int) -> nn.Module | None:
    """The K-seed version of one layer of ``_WIDENED``; None for any other (a layer of
    ``_KEPT`` or a container), which serves as it is."""
    if isinstance(module, nn.Conv2d):
        return nn.Conv2d(
            module.in_channels * seeds,
            module.out_channels * seeds,
            module.kernel_size,
            module.stride,
            module.padding,
            groups=module.groups * seeds,
            bias=module.bias is not None,
        )
    if isinstance(module, nn.BatchNorm2d):
        return nn.BatchNorm2d(module.num_features * seeds, module.eps, module.momentum)
    if isinstance(module, nn.Linear):
        return PackedLinear(seeds, module.in_features, module.out_features)
    if isinstance(module, ShortcutA):
        return PackedShortcutA(seeds, module)
    if isinstance(module, BranchScale):
        return PackedBranchScale(seeds)
    return None


def describe_unpackable(layers: list[tuple[str, nn.Module]]) -> str:
    """What :func:`unpackable_layers` found, in words."""
    found = ", ".join(f"{type(module).__name__} ({name or 'the net'})" for name, module in layers)
    return f"packing knows no {found}"


def pack_model(model: nn.Module, seeds: int) -> nn.Module:
    """A copy of ``model`` with every layer replaced by its K-seed version; ValueError naming
    the layers packing does not know (:func:`unpackable_layers`), if any."""
    unknown = unpackable_layers(model)
    if unknown:
        raise ValueError(describe_unpackable(unknown))
    packed = copy.deepcopy(model)
    for name, module in list(packed.named_modules()):
        if not name:
            continue
        replacement = _packed_layer(module, seeds)
        if replacement is not None:
            parent, _, child = name.rpartition(".")
            setattr(packed.get_submodule(parent) if parent else packed, child, replacement)
    return packed.to(memory_format=torch.channels_last)


def stack_state(key: str, tensors: list[torch.Tensor], packed: torch.Tensor) -> torch.Tensor:
    """The K seeds' values of one state entry in the packed net's layout."""
    if packed.dim() == 0:  # num_batches_tracked: one count, the same for every seed
        return tensors[0]
    if key.endswith(("weight", "bias")) and packed.dim() == tensors[0].dim() + 1:
        return torch.stack(tensors)  # a packed linear layer: (K, out, in), (K, out)
    return torch.cat(tensors, dim=0)


def split_state(value: torch.Tensor, seeds: int, shape: torch.Size) -> list[torch.Tensor]:
    """A packed state entry cut back into the K seeds' values of ``shape``."""
    if value.dim() == 0:
        return [value.clone() for _ in range(seeds)]
    return [part.reshape(shape).clone() for part in value.reshape(seeds, -1)]
