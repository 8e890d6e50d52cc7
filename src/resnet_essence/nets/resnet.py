"""The CIFAR network family of He et al. (2016, §4.2), its plain twin and its pre-activation form.

A network of depth 6n + 2: one 3x3 stem convolution, three stages of n basic blocks with
``width``, 2 ``width`` and 4 ``width`` filters (16, 32, 64 in the paper), global average pooling
and a linear classifier. Three architectures share that skeleton:

``residual`` (He et al. 2016a)
    conv-BN-ReLU-conv-BN, then the shortcut is added and a ReLU follows: the identity path
    passes through a ReLU after every addition.
``plain``
    the same network without the additions; with option A shortcuts (zero-padded identity, no
    parameters) it has exactly the residual net's parameters.
``preact`` (He et al. 2016b, "Identity Mappings in Deep Residual Networks")
    BN-ReLU-conv-BN-ReLU-conv, the addition with nothing after it, and one BN-ReLU before the
    pooling: the identity path is linear from the stem to the head. It has the same convolutions
    as the others; its BatchNorms differ by one (the final one replaces the stem's).

Initialisation (``init``), for the residual and pre-activation nets; plain nets are always
He-initialised:

``he``
    Kaiming normal for every convolution and the classifier (He et al. 2015), as in the paper.
``fixup`` (Zhang, Dauphin & Ma 2019, for nets without normalisation)
    He, then the last convolution of every residual branch and the classifier set to zero, the
    other branch convolution scaled by L^(-1/(2m-2)) = L^(-1/2) (L branches of m = 2 layers), and
    a scalar multiplier (1 at the start) on every branch. Fixup's scalar biases are left out: the
    convolutions of a net without normalisation carry a bias per channel already (0 at start).
    At initialisation every residual stage is the identity map, and the net outputs 0.
``skipinit`` (De & Smith 2020)
    He, and a learnable scalar on every branch, 0 at the start: again the identity at first.

Every ReLU and BatchNorm is its own module and each block names its sites, so the statistics
stage can hook them by role rather than by attribute name (:meth:`relu_sites`, :meth:`bn_sites`):
``branch`` is the ReLU between the two convolutions (the same position in all three), ``trunk``
the ReLU after the addition (plain and residual), ``block_input`` the ReLU that a pre-activation
block applies to its normalised input.

Interventions (:mod:`resnet_essence.nets.interventions`, which reads the arch name, e.g.
``plain-leaky0.2``, ``residual-a0.5``, ``preact-reluid``): a leaky ReLU or an ELU at every ReLU
site (still listed by :meth:`relu_sites`, under the same names and sites, so every measure finds
it), the shortcut scaled by alpha (at alpha 0 the block has none and is built as a plain block:
``residual-a0`` is the plain net, module for module), and in pre-activation blocks a ReLU on the
shortcut (site ``shortcut``). Nets without a shortcut (plain, alpha 0) are He-initialised
whatever ``init`` says, as plain nets always were; a leaky net takes He's gain for its slope
(``_init_weights``). None of these options adds a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .bottleneck import BottleneckNet, BottleneckSpec
from .depths import blocks_per_stage
from .interventions import ArchOptions, parse_arch

ARCHS = ("plain", "residual", "preact")  # the base nets; an arch name may add interventions
SHORTCUTS = ("A", "B")
NORMS = ("batch", "none")
INITS = ("he", "fixup", "skipinit")


@dataclass(frozen=True)
class NetSpec:
    """One net of the 6n+2 family: the config's ``model:`` section (no defaults here: config.yaml
    and its schema are the only places a value lives), its arch and depth, and the data's
    classes and channels. ``arch`` is the whole name, interventions included
    (:func:`~resnet_essence.nets.interventions.parse_arch`); :attr:`base` is the net under them."""

    arch: str
    depth: int
    num_classes: int
    in_channels: int
    width: int
    shortcut: str
    norm: str
    init: str
    family: str = "resnet"  # which builder: a tag, not a setting

    @classmethod
    def from_config(
        cls, model: dict, arch: str, depth: int, num_classes: int, in_channels: int
    ) -> NetSpec:
        """The net of ``arch`` and ``depth`` that config ``model:`` (whole) describes."""
        return cls(arch, depth, num_classes, in_channels, **model)

    @property
    def options(self) -> ArchOptions:
        """What the arch name says: the base net and the interventions on it."""
        return parse_arch(self.arch)

    @property
    def base(self) -> str:
        """The base net, one of ``ARCHS``: plain, residual or preact."""
        return self.options.base

    def __post_init__(self) -> None:
        parse_arch(self.arch)  # ValueError naming the bad part of the name, with the grammar
        if self.shortcut not in SHORTCUTS:
            raise ValueError(f"shortcut={self.shortcut!r} is unknown; choose one of {SHORTCUTS}")
        if self.norm not in NORMS:
            raise ValueError(f"norm={self.norm!r} is unknown; choose one of {list(NORMS)}")
        if self.init not in INITS:
            raise ValueError(f"init={self.init!r} is unknown; choose one of {list(INITS)}")
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


class BranchScale(nn.Module):
    """A learnable scalar on a residual branch's output: Fixup's multiplier (1 at the start) or
    SkipInit's gain (0 at the start)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((1,), float(value)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


def _branch_scale(init: str) -> nn.Module:
    """What multiplies a residual branch: nothing for He's initialisation."""
    return {"fixup": BranchScale(1.0), "skipinit": BranchScale(0.0)}.get(init, nn.Identity())


def scaled_shortcut(
    x: torch.Tensor, shortcut: nn.Module, alpha: float, relu: nn.Module | None
) -> torch.Tensor:
    """What a block adds to its branch: alpha * shortcut(x) (no product at alpha 1, so the
    unchanged nets compute what they always did), through ``relu`` where the identity is made
    nonlinear (``-reluid``). Lesions (measure.probes) keep exactly this of a deleted block."""
    out = shortcut(x)
    if alpha != 1:
        out = out * alpha
    return out if relu is None else relu(out)


class BasicBlock(nn.Module):
    """He et al. 2016a: act(shortcut(x) + BN(conv(act(BN(conv(x)))))), or without the addition
    in a plain block (``residual`` False). ``activation`` makes each activation (a ReLU unless
    the zeros are removed) and ``alpha`` scales the shortcut (1: unchanged; a block with
    alpha 0 is built as a plain block, ``residual`` False)."""

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int,
        residual: bool,
        shortcut: str,
        norm: str,
        init: str = "he",
        activation: Callable[[], nn.Module] = nn.ReLU,
        alpha: float = 1.0,
    ) -> None:
        super().__init__()
        bias = norm == "none"
        self.residual = residual
        self.alpha = alpha
        self.shortcut_relu = None  # a post-activation block's input is already rectified
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=bias)
        self.bn1 = _norm(norm, planes)
        self.relu1 = activation()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=bias)
        self.bn2 = _norm(norm, planes)
        self.relu2 = activation()
        self.shortcut = (
            _shortcut(in_planes, planes, stride, shortcut, norm) if residual else nn.Identity()
        )
        self.branch_scale = _branch_scale(init) if residual else nn.Identity()

    @property
    def has_shortcut(self) -> bool:
        return self.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        if self.residual:
            out = self.branch_scale(out) + scaled_shortcut(x, self.shortcut, self.alpha, None)
        return self.relu2(out)

    def relu_sites(self) -> list[tuple[str, str, nn.Module]]:
        return [("relu1", "branch", self.relu1), ("relu2", "trunk", self.relu2)]

    def bn_sites(self) -> list[tuple[str, str, nn.Module]]:
        return [("bn1", "branch", self.bn1), ("bn2", "branch_output", self.bn2)]


def _shortcut(in_planes: int, planes: int, stride: int, shortcut: str, norm: str) -> nn.Module:
    if stride == 1 and in_planes == planes:
        return nn.Identity()
    if shortcut == "A":
        return ShortcutA(in_planes, planes, stride)
    return nn.Sequential(
        nn.Conv2d(in_planes, planes, 1, stride, bias=norm == "none"), _norm(norm, planes)
    )


class PreActBlock(nn.Module):
    """He et al. 2016b: x + conv(ReLU(BN(conv(ReLU(BN(x)))))), nothing after the addition.

    The shortcut takes x itself, so the path from block to block is the identity (or, where the
    shape changes, option A's subsample-and-pad, or option B's projection).

    Interventions: ``activation`` makes each activation (a ReLU unless the zeros are removed);
    ``alpha`` scales the shortcut, and at 0 the block has none (nothing is added, no shortcut
    or branch scale is built: a plain pre-activation block); ``relu_identity`` passes the
    shortcut through a ReLU before the addition, ReLU(shortcut(x)) + F(x).
    """

    def __init__(
        self,
        in_planes: int,
        planes: int,
        stride: int,
        shortcut: str,
        norm: str,
        init: str = "he",
        activation: Callable[[], nn.Module] = nn.ReLU,
        alpha: float = 1.0,
        relu_identity: bool = False,
    ) -> None:
        super().__init__()
        bias = norm == "none"
        self.alpha = alpha
        self.bn1 = _norm(norm, in_planes)
        self.relu1 = activation()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=bias)
        self.bn2 = _norm(norm, planes)
        self.relu2 = activation()
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=bias)
        if alpha > 0:
            self.shortcut = _shortcut(in_planes, planes, stride, shortcut, norm)
            self.branch_scale = _branch_scale(init)
        else:  # as a plain block: an identity (lesions pass x on) and nothing on the branch
            self.shortcut, self.branch_scale = nn.Identity(), nn.Identity()
        # always a ReLU, whatever the activation: the name says what the identity passes
        self.shortcut_relu = nn.ReLU() if relu_identity else None

    @property
    def has_shortcut(self) -> bool:
        return self.alpha > 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.relu2(self.bn2(self.conv1(self.relu1(self.bn1(x))))))
        if not self.has_shortcut:
            return out
        return self.branch_scale(out) + scaled_shortcut(
            x, self.shortcut, self.alpha, self.shortcut_relu
        )

    def relu_sites(self) -> list[tuple[str, str, nn.Module]]:
        sites = [("relu1", "block_input", self.relu1), ("relu2", "branch", self.relu2)]
        if self.shortcut_relu is not None:
            sites.append(("shortcut_relu", "shortcut", self.shortcut_relu))
        return sites

    def bn_sites(self) -> list[tuple[str, str, nn.Module]]:
        return [("bn1", "block_input", self.bn1), ("bn2", "branch", self.bn2)]


class CifarNet(nn.Module):
    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        n = blocks_per_stage(spec.depth)
        options = spec.options
        preact = options.base == "preact"
        act = options.activation_module  # a new module for every site
        widths = [spec.width, 2 * spec.width, 4 * spec.width]
        self.conv1 = nn.Conv2d(spec.in_channels, widths[0], 3, 1, 1, bias=spec.norm == "none")
        # the original nets normalise and rectify the stem; a pre-activation net leaves the stem
        # linear (its first block normalises) and rectifies once, before the pooling
        self.bn1 = nn.Identity() if preact else _norm(spec.norm, widths[0])
        self.relu1 = nn.Identity() if preact else act()
        stages = []
        in_planes = widths[0]
        for index, planes in enumerate(widths):
            blocks: list[nn.Module] = []
            for b in range(n):
                stride = 2 if index > 0 and b == 0 else 1
                if preact:
                    block = PreActBlock(
                        in_planes,
                        planes,
                        stride,
                        spec.shortcut,
                        spec.norm,
                        spec.init,
                        act,
                        options.alpha,
                        options.relu_identity,
                    )
                else:  # residual at alpha 0 is the plain net: plain blocks
                    block = BasicBlock(
                        in_planes,
                        planes,
                        stride,
                        options.shortcut,
                        spec.shortcut,
                        spec.norm,
                        spec.init,
                        act,
                        options.alpha,
                    )
                blocks.append(block)
                in_planes = planes
            stages.append(nn.Sequential(*blocks))
        self.stage1, self.stage2, self.stage3 = stages
        self.bn_final = _norm(spec.norm, widths[2]) if preact else nn.Identity()
        self.relu_final = act() if preact else nn.Identity()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], spec.num_classes)
        self._init_weights()

    def _init_weights(self) -> None:
        # Kaiming (He et al. 2015) for every conv and the classifier, as in the paper; the same
        # random draws whatever the init, so seed k of every net still shares its batches. A
        # leaky net takes He's gain for its slope, sqrt(2 / (1 + s^2)) (the PReLU form of the
        # same paper), which keeps the signal's scale through the depth as sqrt(2) does for a
        # ReLU: without it a net without normalisation would grow by (1 + s^2) a layer. An ELU
        # has no closed form and keeps the ReLU's gain.
        options = self.spec.options
        leaky = {"a": options.slope, "nonlinearity": "leaky_relu"}
        gain = leaky if options.activation == "leaky" else {"nonlinearity": "relu"}
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", **gain)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        if self.spec.init == "fixup" and self.spec.options.shortcut:  # not plain, not alpha 0
            self._fixup()

    @torch.no_grad()
    def _fixup(self) -> None:
        """Zhang et al. 2019 (module docstring): each branch's last convolution and the
        classifier at 0, its first convolution scaled by L^(-1/2)."""
        blocks = self.blocks()
        scale = fixup_scale(len(blocks))
        for block in blocks:
            block.conv1.weight.mul_(scale)
            nn.init.zeros_(block.conv2.weight)
            if block.conv2.bias is not None:
                nn.init.zeros_(block.conv2.bias)
        nn.init.zeros_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)

    def blocks(self) -> list[BasicBlock | PreActBlock]:
        return [block for stage in (self.stage1, self.stage2, self.stage3) for block in stage]

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu1(self.bn1(self.conv1(x)))

    def head(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.relu_final(self.bn_final(x))), 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stage3(self.stage2(self.stage1(self.stem(x)))))

    def relu_sites(self) -> list[tuple[str, str, nn.Module]]:
        """(name, site, module) of every ReLU in depth order (see the module docstring); where
        the zeros are removed, the leaky ReLU or ELU that took its place."""
        preact = self.spec.base == "preact"
        sites = [] if preact else [("stem.relu", "trunk", self.relu1)]
        for index, block in enumerate(self.blocks()):
            sites += [(f"block{index}.{name}", site, m) for name, site, m in block.relu_sites()]
        if preact:
            sites.append(("head.relu", "head", self.relu_final))
        return sites

    def bn_sites(self) -> list[tuple[str, str, nn.Module]]:
        """(name, site, module) of every BatchNorm in depth order (none when norm is none)."""
        sites = [("stem.bn", "trunk", self.bn1)]
        for index, block in enumerate(self.blocks()):
            sites += [(f"block{index}.{name}", site, m) for name, site, m in block.bn_sites()]
        sites.append(("head.bn", "head", self.bn_final))
        return [s for s in sites if isinstance(s[2], nn.BatchNorm2d)]


def fixup_scale(branches: int, layers: int = 2) -> float:
    """Fixup's factor for the branch layers before the last: L^(-1/(2m - 2))."""
    return float(branches) ** (-1.0 / (2 * layers - 2))


def build_model(spec: NetSpec | BottleneckSpec) -> nn.Module:
    """The network a spec describes: a 6n+2 CIFAR net or a MobileNetV2-style bottleneck net."""
    if isinstance(spec, BottleneckSpec):
        return BottleneckNet(spec)
    return CifarNet(spec)


def spec_from_dict(values: dict) -> NetSpec | BottleneckSpec:
    """The spec saved with a run's snapshots and summary (``dataclasses.asdict``), rebuilt."""
    if values.get("family") == "bottleneck":
        return BottleneckSpec(**values)
    return NetSpec(**values)


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
