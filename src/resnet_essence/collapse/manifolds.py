"""The manifolds of the collapse experiment and the binomial law of their survival through ReLU.

The spiral (m = 2) and the swiss roll (m = 3) are deterministic samples, so they need no seed.
For ReLU without bias and rows of T drawn i.i.d. from a sign-symmetric distribution, each row is
active at a fixed x != 0 with probability 1/2, independently, and m or more active rows span R^m
almost surely. So the expected ``recoverable`` fraction is exactly ``P(Binomial(n, 1/2) >= m)``
(:func:`relu_survival_theory`), for the Gaussian and the uniform(-1, 1) distribution alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .checks import check_int

# --------------------------------------------------------------------------------------------
# Manifolds
# --------------------------------------------------------------------------------------------


def spiral(n_points: int) -> np.ndarray:
    """The 2-D Archimedean spiral of MobileNetV2 Fig. 1, shape ``(n_points, 2)``.

    2.5 turns, radius from 0.05 to 1, points spaced (nearly) evenly along the curve, so that each
    point's nearest neighbour is the next point along the curve. The spiral starts off the origin
    on purpose: without bias every pre-activation ``Tx`` is 0 at x = 0, so no ReLU unit is active
    there and the origin is never recoverable, whatever n is.
    """
    check_int("n_points", n_points, minimum=1)
    r_start, r_end, turns = 0.05, 1.0, 2.5
    # Arc length of r = r_start + b * theta grows like r**2, so even spacing along the curve means
    # r**2 evenly spaced.
    u = np.linspace(0.0, 1.0, n_points)
    radius = np.sqrt(r_start**2 + u * (r_end**2 - r_start**2))
    theta = (radius - r_start) / (r_end - r_start) * (2 * np.pi * turns)
    return np.column_stack([radius * np.cos(theta), radius * np.sin(theta)])


def swiss_roll(n_points: int) -> np.ndarray:
    """A 3-D swiss roll of radius at most 1, shape ``(n_points, 3)``.

    The sheet ``(t cos t, h, t sin t) / (4.5 pi)`` with t in [1.5 pi, 4.5 pi] (1.5 turns) and the
    height h / (4.5 pi) in [-0.5, 0.5]. Points follow a deterministic Fibonacci lattice, even in
    area, so the sampling has no holes and needs no seed, and each point's nearest neighbour lies
    on its own layer. The roll keeps a radius of at least 1/3 around the height axis, so no point
    sits at the origin.
    """
    check_int("n_points", n_points, minimum=1)
    t_start, t_end = 1.5 * np.pi, 4.5 * np.pi
    index = np.arange(n_points)
    u = (index + 0.5) / n_points
    golden = (np.sqrt(5.0) - 1.0) / 2.0
    height = np.mod(index * golden, 1.0) - 0.5
    # The area element grows like t, so even area means t**2 evenly spaced.
    t = np.sqrt(t_start**2 + u * (t_end**2 - t_start**2))
    return np.column_stack([t * np.cos(t), height * t_end, t * np.sin(t)]) / t_end


MANIFOLDS: dict[str, Callable[[int], np.ndarray]] = {"spiral": spiral, "swiss_roll": swiss_roll}


# --------------------------------------------------------------------------------------------
# Theory
# --------------------------------------------------------------------------------------------


def relu_survival_theory(n: int, m: int) -> float:
    """P(Binomial(n, 1/2) >= m): chance that a point x != 0 is recoverable through ReLU(Tx).

    Exact for bias-free T with i.i.d. sign-symmetric continuous rows (Gaussian, uniform(-1, 1)):
    each row is active with probability 1/2, independently, and m active rows span R^m almost
    surely. For m = 2 it is 1 - (n + 1) / 2**n.
    """
    check_int("m", m, minimum=1)
    check_int("n", n, minimum=1)
    if n < m:
        raise ValueError(f"n={n} is below m={m}: an embedding cannot have fewer dimensions")
    # Integer numerator and denominator: the true division rounds once, correctly, for any n.
    return sum(math.comb(n, j) for j in range(m, n + 1)) / 2**n


def theory(activation: str, input_dim: int, embed_dim: int, bias_std: float) -> float:
    """The ``theory`` column of the grid: the formula applies to bias-free ReLU only.

    Every other activation has no closed form here; ReLU6 is left out too, because it also kills
    units with Tx > 6, which a Gaussian row reaches with small but positive probability.
    """
    if activation == "relu" and bias_std == 0:
        return relu_survival_theory(embed_dim, input_dim)
    return math.nan
