"""The CIFAR network family of He et al. (2016, §4.2) and its plain twin.

A network of depth 6n + 2: one 3x3 stem convolution, three stages of n basic blocks with
16, 32 and 64 filters (times ``width``), global average pooling and a linear classifier. A
block is conv-BN-ReLU-conv-BN, then the shortcut is added (residual only) and a ReLU follows.
The plain twin is the same network without the additions; with option A shortcuts (zero-padded
identity, no parameters) both have exactly the same parameters.

Every ReLU and BatchNorm is its own module and every block exposes its output, so the statistics
stage can hook them: ``relu1`` is the ReLU inside the residual branch, ``relu2`` the one on the
trunk after the addition, and ``bn2`` produces the branch's response before the addition.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("plain", "residual")
SHORTCUTS = ("A", "B")
NORMS = ("batch", "none")


def blocks_per_stage(depth: int) -> int:
    """n for a 6n + 2 network; ValueError naming the depth when it has no such form."""
    if depth < 8 or (depth - 2) % 6 != 0:
        raise ValueError(f"depth={depth} is not of the form 6n+2 with n >= 1 (8, 14, 20, 26, ...)")
    return (depth - 2) // 6


@dataclass(frozen=True)
class NetSpec:
    arch: str
    depth: int
    num_classes: int = 10
    in_channels: int = 3
    width: int = 16
    shortcut: str = "A"
    norm: str = "batch"

    def __post_init__(self) -> None:
        if self.arch not in ARCHS:
            raise ValueError(f"arch={self.arch!r} is unknown; choose one of {list(ARCHS)}")
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut={self.shortcut!r} is unknown; choose one of {SHORTCUTS}")
        if self.norm not in NORMS:
            raise ValueError(f"norm={self.norm!r} is unknown; choose one of {list(NORMS)}")
        if self.width < 1:
            raise ValueError(f"width={self.width} must be a positive number of filters")
        blocks_per_stage(self.depth)


def _norm(norm: str, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if norm == "batch" else nn.Identity()


class ShortcutA(nn.Module):
    """Option A: subsample by the stride and zero-pad the new channels; no parameters."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        extra = planes - in_planes
        self.pad = (extra // 2, extra - extra // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, *self.pad))


class BasicBlock(nn.Module):
    def __init__(
        self, in_planes: int, planes: int, stride: int, residual: bool, shortcut: str, norm: str
    ) -> None:
        super().__init__()
        bias = norm == "none"
        self.residual = residual
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=bias)
        self.bn1 = _norm(norm, planes)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=bias)
        self.bn2 = _norm(norm, planes)
        self.relu2 = nn.ReLU()
        self.shortcut: nn.Module = nn.Identity()
        if residual and (stride != 1 or in_planes != planes):
            if shortcut == "A":
                self.shortcut = ShortcutA(in_planes, planes, stride)
            else:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, planes, 1, stride, bias=bias), _norm(norm, planes)
                )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.residual:
            out = out + self.shortcut(x)
        return self.relu2(out)


class CifarNet(nn.Module):
    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        n = blocks_per_stage(spec.depth)
        residual = spec.arch == "residual"
        widths = [spec.width, 2 * spec.width, 4 * spec.width]
        self.conv1 = nn.Conv2d(spec.in_channels, widths[0], 3, 1, 1, bias=spec.norm == "none")
        self.bn1 = _norm(spec.norm, widths[0])
        self.relu1 = nn.ReLU()
        stages = []
        in_planes = widths[0]
        for index, planes in enumerate(widths):
            blocks = []
            for b in range(n):
                stride = 2 if index > 0 and b == 0 else 1
                blocks.append(
                    BasicBlock(in_planes, planes, stride, residual, spec.shortcut, spec.norm)
                )
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.stage1, self.stage2, self.stage3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], spec.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # Kaiming (He et al. 2015) for every conv and the classifier, as in the paper
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def blocks(self) -> list[BasicBlock]:
        return [block for stage in (self.stage1, self.stage2, self.stage3) for block in stage]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.stage3(self.stage2(self.stage1(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model(spec: NetSpec) -> CifarNet:
    return CifarNet(spec)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Conv and linear layers in forward (depth) order, named as in ``state_dict``.

    Shortcut projections (option B) are not on the path the depth counts, so they are left out.
    """
    return [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d | nn.Linear) and "shortcut" not in name
    ]
