"""Argument checks of the collapse experiment: every message names the offending value.

Internal to the package: the public functions call these before any computation, so bad input
fails with one ValueError that says what is wrong instead of a numpy error deep inside.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from .kernels import ACTIVATIONS

DISTRIBUTIONS = ("gaussian", "uniform")
"""The distributions the entries of the random matrices T are drawn from (uniform on (-1, 1))."""


def check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")


def check_names(kind: str, names: Sequence[str], known: dict) -> None:
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"{kind}s={names!r} must be a non-empty list of names")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(known)}")
    duplicates = sorted({name for name in names if list(names).count(name) > 1})
    if duplicates:
        raise ValueError(f"{kind}s={list(names)!r} repeats {', '.join(duplicates)}")


def check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")


def check_embed_dim(label: str, embed_dim: int, input_dim: int, manifold: str) -> None:
    if embed_dim < input_dim:
        raise ValueError(
            f"{label}={embed_dim} is below the input dimension m={input_dim} "
            f"of manifold {manifold!r}"
        )


def check_common(distribution: str, bias_std: float, seed: int) -> None:
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"unknown distribution {distribution!r}; known: {', '.join(DISTRIBUTIONS)}"
        )
    if not (isinstance(bias_std, numbers.Real) and math.isfinite(bias_std) and bias_std >= 0):
        raise ValueError(f"bias_std={bias_std!r} must be a finite number >= 0")
    check_int("seed", seed, minimum=0)


def check_rank_tol(rank_tol: float) -> None:
    if not (isinstance(rank_tol, numbers.Real) and 0 < rank_tol < 1):
        raise ValueError(f"rank_tol={rank_tol!r} must be a number in (0, 1)")
