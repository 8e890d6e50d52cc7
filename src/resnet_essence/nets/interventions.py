"""Interventions on the 6n+2 nets, and the arch names that say which were made.

The essay explains why residual nets train where plain nets of the same depth do not: a ReLU
outputs 0 for about half of its inputs and passes no gradient there, so every layer of a plain
net loses part of its signal and of the gradient; the identity path of a residual net is
linear, loses nothing, and carries both past the ReLUs. Three interventions test the parts of
that explanation one at a time, each on the nets :mod:`resnet_essence.nets.resnet` builds:

*zeros removed* (``-leaky<s>``, ``-elu``)
    Every activation of the net (stem, branch, trunk, block input, the pre-activation head: every
    ReLU site) becomes one that never outputs exactly 0 and passes gradient everywhere: a leaky
    ReLU, max(x, s x) with negative slope s in (0, 1), or an ELU (alpha 1). If the zeros are what
    stops a plain net, a leaky plain net should train more like a residual one, and more so as
    s grows towards 1 (a linear net). Zhang, Botev & Martens (2022, "Deep learning without
    shortcuts: Transforming the activations", TAT) train deep plain nets with leaky ReLUs whose
    slope is chosen by depth, near 1 for deep nets; 0.01 (the usual leaky ReLU), 0.2 and 0.8
    span the range from almost a ReLU to almost linear.
*identity turned down* (``-a<alpha>``)
    Residual and pre-activation blocks compute alpha * shortcut(x) + F(x) instead of
    shortcut(x) + F(x), alpha in [0, 1) (1 is the unchanged net, written without ``-a``). The
    option-A zero-pad shortcut of a downsampling block, or option B's projection, is scaled the
    same way. At alpha = 0 a block has no shortcut at all: ``residual-a0`` *is* the plain net
    (the same modules, so the same weights give the same output); ``preact-a0`` is the plain
    net too, its layers grouped otherwise: without additions, BN-ReLU-conv blocks and a final
    BN-ReLU are the plain net's chain conv-BN-ReLU-conv-... (the same function once each layer
    has its twin's weights; a seed draws the same weights for both, so ``plain``,
    ``residual-a0`` and ``preact-a0`` of one seed are one net). Between 1 and 0 the linear
    path fades.
*identity made nonlinear* (``-reluid``)
    In a pre-activation block the shortcut passes through a ReLU before the addition,
    ReLU(shortcut(x)) + F(x): the identity path is kept but loses what a ReLU loses. Only
    pre-activation nets take it: in a residual (post-activation) net the block input is already
    the output of the trunk ReLU after the previous addition, so a ReLU on it would change
    nothing, and a plain net has no shortcut.

An arch name is ``<base>[-leaky<s>|-elu][-a<alpha>][-reluid]`` (:data:`GRAMMAR`), the parts in
that order, each at most once; the name is the net's ``arch`` everywhere (config ``archs:``, the
result paths ``{arch}-{depth}``, the tables). :func:`parse_arch` is the one place that reads
one, and every name maps to one net: numbers are written as short decimals without trailing
zeros (``0.2``, not ``0.20`` or ``.2``), and an option that would change nothing (``-a1``,
``-reluid`` with ``-a0``) is refused.

Without torch at import, like :mod:`~resnet_essence.nets.depths`: the config check reads the
names too, in whatever environment runs Snakemake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

BASES = ("plain", "residual", "preact")
ACTIVATIONS = ("relu", "leaky", "elu")
GRAMMAR = (
    "<base>[-leaky<s>|-elu][-a<alpha>][-reluid] in that order, base one of plain, residual, "
    "preact; s in (0, 1) and alpha in [0, 1) written as decimals of at most 4 places without "
    "trailing zeros (0.01, 0.2, 0.25; alpha may be 0); -a only for residual and preact, "
    "-reluid only for preact (e.g. plain-leaky0.2, residual-elu, residual-a0.5, preact-reluid)"
)
# a number in (0, 1) as the names write it; 4 places at most, so that repr gives it back
_FRACTION = re.compile(r"0\.[0-9]{0,3}[1-9]")
# every arch name the grammar allows, as a regular expression (unanchored): Snakemake's wildcard
# constraint; the config schema's `archs` pattern is the same, anchored (a test checks)
PATTERN = (
    rf"({'|'.join(BASES)})(-leaky{_FRACTION.pattern}|-elu)?(-a(0|{_FRACTION.pattern}))?(-reluid)?"
)


def _spell(value: float) -> str:
    """A number of a name as the name writes it: 0, or the short decimal (0.2, 0.01)."""
    return "0" if value == 0 else repr(float(value))


@dataclass(frozen=True)
class ArchOptions:
    """What an arch name says (module docstring): the base net and the interventions on it.

    ``activation`` is relu (the unchanged net), leaky (negative slope ``slope``) or elu;
    ``alpha`` scales every shortcut (1: unchanged, 0: none); ``relu_identity`` passes the
    shortcut of each pre-activation block through a ReLU. Built directly, the same checks as a
    parsed name apply; :attr:`name` is the one name of these options.
    """

    base: str
    activation: str = "relu"
    slope: float = 0.0  # the leaky ReLU's negative slope; 0 for the others
    alpha: float = 1.0
    relu_identity: bool = False

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"arch={self.name!r}: {problem}; an arch name is {GRAMMAR}")

    def _problem(self) -> str | None:
        if self.base not in BASES:
            return f"the base {self.base!r} is not one of {', '.join(BASES)}"
        if self.activation not in ACTIVATIONS:
            return f"activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}"
        if (self.activation == "leaky") != (self.slope != 0):
            return "a slope goes with the leaky activation, and only with it"
        if self.activation == "leaky" and not _FRACTION.fullmatch(_spell(self.slope)):
            return f"slope {self.slope} is not in (0, 1) with at most 4 decimal places"
        if self.alpha != 1 and self.base == "plain":
            return "plain has no shortcut to scale (-a<alpha>)"
        if self.alpha != 1 and not (self.alpha == 0 or _FRACTION.fullmatch(_spell(self.alpha))):
            return f"alpha {self.alpha} is not in [0, 1) with at most 4 decimal places"
        return self._identity_problem() if self.relu_identity else None

    def _identity_problem(self) -> str | None:
        if self.base == "plain":
            return "plain has no shortcut to pass through a ReLU (-reluid)"
        if self.base == "residual":
            return (
                "-reluid is for preact only: in a residual (post-activation) net the block "
                "input is already the output of the trunk ReLU after the previous addition, so "
                "a ReLU on the shortcut would change nothing"
            )
        if self.alpha == 0:
            return "-reluid with -a0: there is no shortcut to pass through a ReLU"
        return None

    @property
    def name(self) -> str:
        """The arch name of these options, e.g. ``preact-leaky0.2-a0.5-reluid``."""
        parts = [self.base]
        if self.activation == "leaky":
            parts.append(f"leaky{_spell(self.slope)}")
        elif self.activation == "elu":
            parts.append("elu")
        if self.alpha != 1:
            parts.append(f"a{_spell(self.alpha)}")
        if self.relu_identity:
            parts.append("reluid")
        return "-".join(parts)

    @property
    def shortcut(self) -> bool:
        """Whether the blocks have a shortcut: residual and preact nets, unless alpha is 0."""
        return self.base != "plain" and self.alpha > 0

    def activation_module(self) -> nn.Module:
        """A new module of the net's activation, for one site: ReLU, LeakyReLU(s) or ELU(1)."""
        from torch import nn

        if self.activation == "leaky":
            return nn.LeakyReLU(self.slope)
        if self.activation == "elu":
            return nn.ELU(alpha=1.0)
        return nn.ReLU()


_KINDS = ("activation", "alpha", "reluid")  # the optional parts, in the order a name has them


def _kind(part: str) -> str | None:
    if part.startswith("leaky") or part == "elu":
        return "activation"
    if re.fullmatch(r"a[0-9.]+", part):
        return "alpha"
    return "reluid" if part == "reluid" else None


def _number(name: str, part: str, text: str, what: str, zero: bool) -> float:
    """The number ``text`` of ``part``, as the names write it (module docstring)."""
    if zero and text == "0" or _FRACTION.fullmatch(text):
        return float(text)
    if what == "alpha" and re.fullmatch(r"1(\.0*)?", text):
        why = "alpha 1 is the unchanged net: leave -a out"
    else:
        low = "[0, 1)" if zero else "(0, 1)"
        why = f"{what} {text!r} is not a number in {low} written as a short decimal"
    raise ValueError(f"arch={name!r}: the part {part!r}: {why}; an arch name is {GRAMMAR}")


def parse_arch(name: str) -> ArchOptions:
    """The options an arch name says (module docstring); ValueError naming the bad part, with
    the grammar."""
    if not isinstance(name, str):
        raise ValueError(f"arch={name!r} is not a name; an arch name is {GRAMMAR}")
    return _parse(name)


@lru_cache(maxsize=256)
def _parse(name: str) -> ArchOptions:
    base, *parts = name.split("-")
    if base not in BASES:
        raise ValueError(
            f"arch={name!r}: the base {base!r} is not one of {', '.join(BASES)}; "
            f"an arch name is {GRAMMAR}"
        )
    found: dict[str, str] = {}
    for part in parts:
        kind = _kind(part)
        if kind is None:
            raise ValueError(f"arch={name!r}: unknown part {part!r}; an arch name is {GRAMMAR}")
        if kind in found or any(_KINDS.index(k) > _KINDS.index(kind) for k in found):
            raise ValueError(
                f"arch={name!r}: the part {part!r} is repeated or out of order; "
                f"an arch name is {GRAMMAR}"
            )
        found[kind] = part
    values: dict = {"base": base, "relu_identity": "reluid" in found}
    activation = found.get("activation")
    if activation == "elu":
        values["activation"] = "elu"
    elif activation is not None:
        text = activation.removeprefix("leaky")
        values["activation"] = "leaky"
        values["slope"] = _number(name, activation, text, "slope", zero=False)
    if "alpha" in found:
        part = found["alpha"]
        values["alpha"] = _number(name, part, part.removeprefix("a"), "alpha", zero=True)
    options = ArchOptions(**values)  # its checks name the options by ``name``, as written
    assert options.name == name, (options.name, name)  # one name per net
    return options
