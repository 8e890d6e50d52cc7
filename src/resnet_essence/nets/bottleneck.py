"""A small inverted-residual network (MobileNetV2, Sandler et al. 2018) in three variants.

The essay's design rule says: keep low-dimensional (non-redundant) information on a linear path,
apply the nonlinearity where the information is spread over many channels. MobileNetV2's block
follows it: expand a narrow *bottleneck* of ``width`` channels to ``expansion`` channels with a
1x1 convolution and ReLU6, filter with a 3x3 depthwise convolution and ReLU6, and project back to
the bottleneck with a 1x1 convolution and *no* activation; the shortcut joins the bottlenecks.

``linear``
    MobileNetV2's block: linear bottleneck, shortcut between bottlenecks.
``relu``
    the same network with a ReLU6 after each projection: the only difference is that one
    activation (Sandler et al. §6.4, Fig. 6a).
``expansion``
    linear bottlenecks, but the shortcut joins the expanded layers instead (Fig. 6b): the same
    convolutions regrouped, so the parameter count is identical.

Three stages of ``blocks`` blocks each, the first block of stages 2 and 3 with stride 2 (and, as
in MobileNetV2, no shortcut there because the shape changes). The stem is a 3x3 convolution to
the bottleneck; the head expands to ``expansion`` channels (ReLU6), pools, and classifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

VARIANTS = ("linear", "relu", "expansion")


@dataclass(frozen=True)
class BottleneckSpec:
    """One MobileNetV2-style net: its variant and bottleneck width, the config's ``bottleneck:``
    expansion and blocks (no defaults here), and the data's classes and channels."""

    variant: str
    width: int  # bottleneck channels
    expansion: int  # channels of the expanded layer, the same for every width
    blocks: int  # per stage
    num_classes: int
    in_channels: int
    family: str = "bottleneck"  # which builder: a tag, not a setting

    @classmethod
    def from_config(
        cls, section: dict, variant: str, width: int, num_classes: int, in_channels: int
    ) -> BottleneckSpec:
        """The net config ``bottleneck:`` (whole) describes at ``variant`` and ``width``."""
        return cls(
            variant, width, section["expansion"], section["blocks"], num_classes, in_channels
        )

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant={self.variant!r} is unknown; choose one of {VARIANTS}")
        for name in ("width", "expansion", "blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"bottleneck {name}={getattr(self, name)} must be at least 1")


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> list:
    conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False)
    return [conv, nn.BatchNorm2d(c_out)]


class InvertedResidual(nn.Module):
    """expand (1x1, ReLU6) -> depthwise 3x3 (ReLU6) -> project (1x1, linear or ReLU6) + x."""

    def __init__(self, width: int, expansion: int, stride: int, relu_bottleneck: bool) -> None:
        super().__init__()
        self.expand = nn.Sequential(*_conv_bn(width, expansion, 1), nn.ReLU6())
        self.depthwise = nn.Sequential(
            *_conv_bn(expansion, expansion, 3, stride, groups=expansion), nn.ReLU6()
        )
        self.project = nn.Sequential(*_conv_bn(expansion, width, 1))
        self.project_act = nn.ReLU6() if relu_bottleneck else nn.Identity()
        self.shortcut = stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.project_act(self.project(self.depthwise(self.expand(x))))
        return out + x if self.shortcut else out


class ExpansionShortcut(nn.Module):
    """depthwise 3x3 (ReLU6) -> project (1x1, linear) -> expand (1x1, ReLU6) + x, x expanded."""

    def __init__(self, width: int, expansion: int, stride: int) -> None:
        super().__init__()
        self.depthwise = nn.Sequential(
            *_conv_bn(expansion, expansion, 3, stride, groups=expansion), nn.ReLU6()
        )
        self.project = nn.Sequential(*_conv_bn(expansion, width, 1))
        self.expand = nn.Sequential(*_conv_bn(width, expansion, 1), nn.ReLU6())
        self.shortcut = stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.expand(self.project(self.depthwise(x)))
        return out + x if self.shortcut else out


class BottleneckNet(nn.Module):
    def __init__(self, spec: BottleneckSpec) -> None:
        super().__init__()
        self.spec = spec
        b, e = spec.width, spec.expansion
        self.stem = nn.Sequential(*_conv_bn(spec.in_channels, b, 3))
        layers: list[nn.Module] = []
        if spec.variant == "expansion":
            # the expanded trunk starts here; the other variants spend these weights in the head
            layers.append(nn.Sequential(*_conv_bn(b, e, 1), nn.ReLU6()))
        for stage in range(3):
            for index in range(spec.blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                if spec.variant == "expansion":
                    layers.append(ExpansionShortcut(b, e, stride))
                else:
                    layers.append(InvertedResidual(b, e, stride, spec.variant == "relu"))
        if spec.variant != "expansion":
            layers.append(nn.Sequential(*_conv_bn(b, e, 1), nn.ReLU6()))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(e, spec.num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0.0, 0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))
