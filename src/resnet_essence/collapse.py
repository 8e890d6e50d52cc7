"""ReLU collapse of low-dimensional manifolds (the experiment of MobileNetV2, Fig. 1).

A manifold X (points x in R^m) is embedded into R^n by a random matrix T (n x m), passed through an
activation, and mapped back with the pseudo-inverse of T. The claims under test:

* ReLU destroys parts of the manifold when n is small and preserves it when n is large;
* a linear map loses nothing;
* the residual form ``z + relu(z)`` loses nothing for every n, because it is invertible.

Three numbers are measured for every random matrix, then averaged over matrices:

``recoverable``
    Fraction of points x at which x -> act(Tx + b) is locally injective, i.e. its Jacobian
    ``diag(act'(Tx + b)) T`` has rank m. For ReLU that is exactly "the rows of T active at x
    (Tx + b > 0) have rank m". Rank is decided with an explicit tolerance: a singular value counts
    when it exceeds ``rank_tol`` (default 1e-6) times the largest singular value of the Jacobian.
``recon_error``
    Mean over points of ``||x_hat - x||`` divided by the mean ``||x||``, where
    ``x_hat = pinv(T) (act(Tx + b) - b)``; subtracting ``b`` keeps the linear case exact with a
    bias. For the residual form the exact elementwise inverse (:func:`invert_residual`) is applied
    before the pseudo-inverse, so its error measures what the residual map loses (nothing). Leaky
    ReLU is also elementwise invertible, but is reconstructed with the pseudo-inverse alone, like
    ReLU, to show how close a plain linear read-out gets.
``collapsed_neighbours``
    Fraction of points whose nearest neighbour on the manifold lands on the same output:
    ``||act(z_p) - act(z_q)|| < COLLAPSE_TOL * ||x_p - x_q||``. ReLU merges whole regions into one
    output where every unit is dead; invertible activations never do.

For ReLU without bias and rows of T drawn i.i.d. from a sign-symmetric distribution, each row is
active at a fixed x != 0 with probability 1/2, independently, and m or more active rows span R^m
almost surely. So the expected ``recoverable`` is exactly ``P(Binomial(n, 1/2) >= m)``
(:func:`relu_survival_theory`), for the Gaussian and the uniform(-1, 1) distribution alike.

Everything is numpy; the only loops are over manifolds, embedding dimensions, activations and
chunks of matrices, never over points. The activations and the fast rank test live in
collapse_kernels.py.
"""

from __future__ import annotations

import math
import numbers
import zlib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from .collapse_kernels import (
    ACTIVATIONS,
    Workspace,
    full_rank,
    gram_of_columns,
    jacobian_gram,
    nearest_neighbours,
    row_outer_products,
)

COLLAPSE_TOL = 1e-6
"""Two outputs coincide when their distance is below this fraction of their inputs' distance."""

DEFAULT_RANK_TOL = 1e-6
"""A Jacobian singular value counts when above this fraction of the largest one."""

DISTRIBUTIONS = ("gaussian", "uniform")

GRID_COLUMNS = [
    "manifold",
    "input_dim",
    "embed_dim",
    "activation",
    "distribution",
    "bias_std",
    "n_matrices",
    "n_points",
    "recoverable",
    "recoverable_lo",
    "recoverable_hi",
    "theory",
    "recon_error",
    "recon_error_lo",
    "recon_error_hi",
    "collapsed_neighbours",
    "collapsed_neighbours_lo",
    "collapsed_neighbours_hi",
]

EXAMPLE_COLUMNS = ["manifold", "activation", "embed_dim", "point", "x", "y", "z"]

_FRACTION_METRICS = ("recoverable", "collapsed_neighbours")
_METRICS = ("recoverable", "recon_error", "collapsed_neighbours")
_Z_95 = 1.96
_CHUNK_BYTES = 2**20  # size of one (matrices, points, n) array in the grid's chunks
_NEIGHBOUR_CHUNK = 1024


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
    _check_int("n_points", n_points, minimum=1)
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
    _check_int("n_points", n_points, minimum=1)
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
    _check_int("m", m, minimum=1)
    _check_int("n", n, minimum=1)
    if n < m:
        raise ValueError(f"n={n} is below m={m}: an embedding cannot have fewer dimensions")
    # Integer numerator and denominator: the true division rounds once, correctly, for any n.
    return sum(math.comb(n, j) for j in range(m, n + 1)) / 2**n


def _theory(activation: str, input_dim: int, embed_dim: int, bias_std: float) -> float:
    """The formula applies to bias-free ReLU only.

    Every other activation has no closed form here; ReLU6 is left out too, because it also kills
    units with Tx > 6, which a Gaussian row reaches with small but positive probability.
    """
    if activation == "relu" and bias_std == 0:
        return relu_survival_theory(embed_dim, input_dim)
    return math.nan


# --------------------------------------------------------------------------------------------
# Per-point measurements
# --------------------------------------------------------------------------------------------


def random_matrices(
    manifold: str,
    input_dim: int,
    embed_dim: int,
    n_matrices: int,
    distribution: str = "gaussian",
    bias_std: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(matrices, biases)`` of shapes ``(n_matrices, embed_dim, input_dim)`` and
    ``(n_matrices, embed_dim)``.

    Each (seed, manifold, embed_dim) has its own stream for the matrices and one for the biases,
    so that the first k matrices do not depend on n_matrices: the panels of :func:`examples` use
    exactly matrix 0 of the corresponding :func:`run_grid` cell, and all activations of a cell see
    the same matrices (their differences are not sampling noise).
    """
    _check_common(distribution, bias_std, seed)
    key = [seed, zlib.crc32(manifold.encode()), embed_dim]
    shape = (n_matrices, embed_dim, input_dim)
    matrix_rng = np.random.default_rng([*key, 0])
    if distribution == "gaussian":
        matrices = matrix_rng.standard_normal(shape)
    else:
        matrices = matrix_rng.uniform(-1.0, 1.0, shape)
    biases = bias_std * np.random.default_rng([*key, 1]).standard_normal(shape[:2])
    return matrices, biases


def recoverable(
    points: np.ndarray,
    matrices: np.ndarray,
    activation: str,
    biases: np.ndarray | None = None,
    rank_tol: float = DEFAULT_RANK_TOL,
) -> np.ndarray:
    """Boolean ``(n_matrices, n_points)``: is x -> act(Tx + b) locally injective at each point?

    ``points`` is ``(n_points, m)``, ``matrices`` ``(n_matrices, n, m)``, ``biases``
    ``(n_matrices, n)`` or None. The Jacobian ``diag(act'(Tx + b)) T`` must have m singular values
    above ``rank_tol`` times its largest one.
    """
    _check_activation(activation)
    _check_rank_tol(rank_tol)
    slope = ACTIVATIONS[activation].derivative(_pre_activations(points, matrices, biases))
    slope *= slope
    gram = jacobian_gram(slope, row_outer_products(matrices))
    return full_rank(gram, rank_tol)


def reconstruct(
    points: np.ndarray,
    matrices: np.ndarray,
    activation: str,
    biases: np.ndarray | None = None,
) -> np.ndarray:
    """Pseudo-inverse reconstruction ``(n_matrices, n_points, m)`` of every point.

    ``x_hat = pinv(T) (act(Tx + b) - b)``, with the exact inverse of the residual form applied
    first (see the module docstring).
    """
    _check_activation(activation)
    value = ACTIVATIONS[activation](_pre_activations(points, matrices, biases))
    inverse = ACTIVATIONS[activation].inverse
    if inverse is not None:
        value = inverse(value)
    if biases is not None:
        value = value - biases[:, None, :]
    return value @ np.swapaxes(np.linalg.pinv(matrices), -1, -2)


def _pre_activations(
    points: np.ndarray,
    matrices: np.ndarray,
    biases: np.ndarray | None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``Tx + b`` for every matrix and point: shape ``(n_matrices, n_points, n)``."""
    pre = np.matmul(np.asarray(points, dtype=float), np.swapaxes(matrices, -1, -2), out=out)
    if biases is not None:
        pre += biases[:, None, :]
    return pre


# --------------------------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------------------------


def run_grid(
    manifolds: list[str],
    max_embed_dim: int,
    activations: list[str],
    n_points: int,
    n_matrices: int,
    distribution: str = "gaussian",
    bias_std: float = 0.0,
    rank_tol: float = DEFAULT_RANK_TOL,
    seed: int = 0,
) -> pd.DataFrame:
    """Sweep n = m .. max_embed_dim for each manifold and activation over random matrices.

    Returns one row per (manifold, activation, embed_dim), columns :data:`GRID_COLUMNS`: the mean
    of each metric over ``n_matrices`` matrices with a normal 95% interval
    ``mean +- 1.96 sd / sqrt(n_matrices)`` (``<metric>_lo``, ``<metric>_hi``; fractions clipped to
    [0, 1]; NaN when n_matrices = 1), and ``theory`` from :func:`relu_survival_theory` where it
    applies (NaN elsewhere). ``rank_tol`` is the relative singular-value tolerance of the rank
    test (module docstring). Identical for identical arguments.
    """
    _check_names("manifold", manifolds, MANIFOLDS)
    _check_names("activation", activations, ACTIVATIONS)
    _check_int("max_embed_dim", max_embed_dim, minimum=1)
    _check_int("n_points", n_points, minimum=2)
    _check_int("n_matrices", n_matrices, minimum=1)
    _check_common(distribution, bias_std, seed)
    _check_rank_tol(rank_tol)
    samples = {name: MANIFOLDS[name](n_points) for name in manifolds}
    for name, points in samples.items():
        _check_embed_dim("max_embed_dim", max_embed_dim, points.shape[1], name)

    workspace = Workspace()
    rows = []
    for name, points in samples.items():
        input_dim = points.shape[1]
        for embed_dim in range(input_dim, max_embed_dim + 1):
            matrices, biases = random_matrices(
                name, input_dim, embed_dim, n_matrices, distribution, bias_std, seed
            )
            per_matrix = _cell_metrics(
                points, matrices, biases if bias_std > 0 else None, activations, rank_tol, workspace
            )
            for activation in activations:
                row = {
                    "manifold": name,
                    "input_dim": input_dim,
                    "embed_dim": embed_dim,
                    "activation": activation,
                    "distribution": distribution,
                    "bias_std": float(bias_std),
                    "n_matrices": n_matrices,
                    "n_points": n_points,
                    "theory": _theory(activation, input_dim, embed_dim, bias_std),
                }
                for metric in _METRICS:
                    row.update(_summarise(metric, per_matrix[activation][metric]))
                rows.append(row)
    manifold_rank = {name: i for i, name in enumerate(manifolds)}
    activation_rank = {name: i for i, name in enumerate(activations)}
    rows.sort(
        key=lambda row: (
            manifold_rank[row["manifold"]],
            activation_rank[row["activation"]],
            row["embed_dim"],
        )
    )
    return pd.DataFrame(rows, columns=GRID_COLUMNS)


def _cell_metrics(
    points: np.ndarray,
    matrices: np.ndarray,
    biases: np.ndarray | None,
    activations: Sequence[str],
    rank_tol: float,
    workspace: Workspace,
) -> dict[str, dict[str, np.ndarray]]:
    """Per-matrix metrics of one (manifold, embed_dim) cell for every activation.

    Matrices go in chunks so that each ``(chunk, points, n)`` array stays near a megabyte: memory
    is bounded whatever n_matrices is, and the elementwise passes run from cache.
    """
    k, n, m = matrices.shape
    n_points = len(points)
    neighbours = nearest_neighbours(points)
    collapse_gaps = COLLAPSE_TOL * np.linalg.norm(points - points[neighbours], axis=1)
    mean_norm = np.linalg.norm(points, axis=1).mean()
    pinv_transposed = np.swapaxes(np.linalg.pinv(matrices), -1, -2)
    row_outer = row_outer_products(matrices)
    chunk = max(1, _CHUNK_BYTES // (8 * n_points * max(n, m * m)))
    results = {a: {metric: np.empty(k) for metric in _METRICS} for a in activations}
    for start in range(0, k, chunk):
        part = slice(start, min(start + chunk, k))
        size = part.stop - part.start
        part_biases = None if biases is None else biases[part]
        wide = (size, n_points, n)
        pre = _pre_activations(points, matrices[part], part_biases, workspace.get("pre", wide))
        value, slope, scratch = (workspace.get(key, wide) for key in ("value", "slope", "scratch"))
        gram_out = workspace.get("gram", (size, m * m, n_points))
        estimate = workspace.get("estimate", (size, n_points, m))
        for name in activations:
            activation = ACTIVATIONS[name]
            activation.evaluate(pre, value, slope)
            slope *= slope
            gram = jacobian_gram(slope, row_outer[part], out=gram_out)
            results[name]["recoverable"][part] = full_rank(gram, rank_tol).mean(axis=1)

            np.take(value, neighbours, axis=1, out=scratch, mode="clip")  # "raise" would copy
            np.subtract(value, scratch, out=scratch)
            output_gaps = np.sqrt(np.einsum("kpn,kpn->kp", scratch, scratch))
            collapsed = output_gaps < collapse_gaps
            results[name]["collapsed_neighbours"][part] = collapsed.mean(axis=1)

            source = value
            if activation.inverse is not None:
                source = activation.inverse(value, out=scratch)
            if part_biases is not None:
                source = np.subtract(source, part_biases[:, None, :], out=scratch)
            np.matmul(source, pinv_transposed[part], out=estimate)
            estimate -= points
            errors = np.sqrt(np.einsum("kpm,kpm->kp", estimate, estimate))
            results[name]["recon_error"][part] = errors.mean(axis=1) / mean_norm
    return results


def _summarise(metric: str, values: np.ndarray) -> dict[str, float]:
    """Mean and normal 95% interval over matrices; fractions are clipped to [0, 1]."""
    mean = float(values.mean())
    if len(values) > 1:
        half_width = _Z_95 * float(values.std(ddof=1)) / math.sqrt(len(values))
        lo, hi = mean - half_width, mean + half_width
    else:
        lo = hi = math.nan
    if metric in _FRACTION_METRICS and len(values) > 1:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return {metric: mean, f"{metric}_lo": lo, f"{metric}_hi": hi}


# --------------------------------------------------------------------------------------------
# Network maps on the lifted manifold
# --------------------------------------------------------------------------------------------
#
# The elementwise forms above test z + ReLU(z), a map no network uses. These are the maps a
# network applies to a trunk of n channels that carries the lifted manifold z = Tx (no
# normalisation, weights drawn as He et al. initialise them, N(0, 2/n)):
#   plain_layer     ReLU(W z)
#   original_block  ReLU(z + W2 ReLU(W1 z))          (He et al. 2016a: ReLU after the addition)
#   preact_block    z + W2 ReLU(W1 ReLU(z))          (He et al. 2016b: nothing after it)
# A point is recoverable when the Jacobian of x -> block(Tx) has rank m, as for activations.

BLOCKS = ("plain_layer", "original_block", "preact_block")

BLOCK_COLUMNS = [
    "manifold",
    "input_dim",
    "embed_dim",
    "block",
    "n_matrices",
    "n_points",
    "recoverable",
    "recoverable_lo",
    "recoverable_hi",
    "collapsed_neighbours",
    "collapsed_neighbours_lo",
    "collapsed_neighbours_hi",
]
_BLOCK_CHUNK = 32  # matrices at a time: bounds the (chunk, n, points, m) Jacobians


def block_weights(
    manifold: str, embed_dim: int, n_matrices: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(W1, W2), each ``(n_matrices, n, n)`` with N(0, 2/n) entries; W1 is also the plain W.

    A stream of their own (the T of :func:`random_matrices` stays the one the activations use).
    """
    key = [seed, zlib.crc32(manifold.encode()), embed_dim, 2]
    rng = np.random.default_rng(key)
    scale = math.sqrt(2.0 / embed_dim)
    shape = (n_matrices, embed_dim, embed_dim)
    return scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)


def block_forward(
    block: str, z: np.ndarray, w1: np.ndarray, w2: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and Jacobians of a block at every point of the lifted manifold.

    ``z``: ``(k, n, p)`` trunk values (k matrices, p points), ``t``: ``(k, n, m)`` the lifts T
    (dz/dx, the same at every point). Returns the outputs ``(k, n, p)`` and their Jacobians with
    respect to x, ``(m, k, n, p)``: one column of the Jacobian at a time, each weight product one
    batched matrix product over all points.
    """
    m = t.shape[-1]

    def through(mask: np.ndarray, w: np.ndarray, columns: np.ndarray) -> np.ndarray:
        # w diag(mask) applied to each column: (k, n, n) x (k, n, p) per column
        return np.stack([np.matmul(w, mask * columns[c]) for c in range(m)])

    lifted = np.moveaxis(t, -1, 0)[..., None]  # (m, k, n, 1): dz/dx, broadcast over points
    if block == "plain_layer":
        pre = np.matmul(w1, z)
        active = pre > 0
        wt = np.moveaxis(np.matmul(w1, t), -1, 0)[..., None]  # W T, the same at every point
        return np.maximum(pre, 0.0), active * wt
    if block == "original_block":
        inner = np.matmul(w1, z)
        total = z + np.matmul(w2, np.maximum(inner, 0.0))
        wt = np.moveaxis(np.matmul(w1, t), -1, 0)[..., None]
        jac = lifted + through(inner > 0, w2, np.broadcast_to(wt, (m, *z.shape)))
        return np.maximum(total, 0.0), (total > 0) * jac
    if block == "preact_block":
        inner = np.matmul(w1, np.maximum(z, 0.0))
        out = z + np.matmul(w2, np.maximum(inner, 0.0))
        first = through(z > 0, w1, np.broadcast_to(lifted, (m, *z.shape)))
        jac = lifted + through(inner > 0, w2, first)
        return out, jac
    raise ValueError(f"unknown block {block!r}; known: {', '.join(BLOCKS)}")


def block_grid(
    manifolds: list[str],
    max_embed_dim: int,
    blocks: list[str],
    n_points: int,
    n_matrices: int,
    distribution: str = "gaussian",
    rank_tol: float = DEFAULT_RANK_TOL,
    seed: int = 0,
) -> pd.DataFrame:
    """Recoverable fraction and collapsed neighbours of each block, n = m .. max_embed_dim.

    The manifold is lifted by the same T as in :func:`run_grid` (bias-free), then passed through
    the block. One row per (manifold, block, embed_dim), columns :data:`BLOCK_COLUMNS`, with the
    same normal 95% intervals over matrices (clipped to [0, 1]).
    """
    _check_names("manifold", manifolds, MANIFOLDS)
    if len(blocks) == 0:
        return pd.DataFrame(columns=BLOCK_COLUMNS)
    _check_names("block", blocks, {name: None for name in BLOCKS})
    _check_int("max_embed_dim", max_embed_dim, minimum=1)
    _check_int("n_points", n_points, minimum=2)
    _check_int("n_matrices", n_matrices, minimum=1)
    _check_common(distribution, 0.0, seed)
    _check_rank_tol(rank_tol)
    rows = []
    for name in manifolds:
        points = MANIFOLDS[name](n_points)
        input_dim = points.shape[1]
        _check_embed_dim("max_embed_dim", max_embed_dim, input_dim, name)
        neighbours = nearest_neighbours(points)
        collapse_gaps = COLLAPSE_TOL * np.linalg.norm(points - points[neighbours], axis=1)
        for embed_dim in range(input_dim, max_embed_dim + 1):
            matrices, _ = random_matrices(
                name, input_dim, embed_dim, n_matrices, distribution, 0.0, seed
            )
            w1, w2 = block_weights(name, embed_dim, n_matrices, seed)
            results = {b: {"recoverable": [], "collapsed_neighbours": []} for b in blocks}
            for start in range(0, n_matrices, _BLOCK_CHUNK):
                part = slice(start, min(start + _BLOCK_CHUNK, n_matrices))
                t = matrices[part]  # (k, n, m)
                z = np.matmul(t, points.T)  # (k, n, p)
                for block in blocks:
                    out, jac = block_forward(block, z, w1[part], w2[part], t)
                    gram = gram_of_columns(jac)
                    results[block]["recoverable"].append(full_rank(gram, rank_tol).mean(axis=1))
                    gaps = np.linalg.norm(out - out[:, :, neighbours], axis=1)
                    collapsed = (gaps < collapse_gaps).mean(axis=1)
                    results[block]["collapsed_neighbours"].append(collapsed)
            for block in blocks:
                row = {
                    "manifold": name,
                    "input_dim": input_dim,
                    "embed_dim": embed_dim,
                    "block": block,
                    "n_matrices": n_matrices,
                    "n_points": n_points,
                }
                for metric, chunks in results[block].items():
                    row.update(_summarise(metric, np.concatenate(chunks)))
                rows.append(row)
    return pd.DataFrame(rows, columns=BLOCK_COLUMNS)


# --------------------------------------------------------------------------------------------
# Figure panels
# --------------------------------------------------------------------------------------------


def examples(
    manifold: str,
    embed_dims: list[int],
    activations: list[str],
    n_points: int,
    distribution: str = "gaussian",
    bias_std: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Reconstructions for single random matrices: the panels of MobileNetV2 Fig. 1.

    One T per embed_dim (matrix 0 of the matching :func:`run_grid` cell), shared by all
    activations. Tidy rows with columns :data:`EXAMPLE_COLUMNS`: the original points under
    ``activation="input"``, ``embed_dim=0``, then ``pinv(T) (act(Tx + b) - b)`` for every embed_dim
    and activation (the residual form inverted exactly first, as in ``recon_error``). ``z`` is NaN
    for 2-D manifolds.
    """
    _check_names("manifold", [manifold], MANIFOLDS)
    _check_names("activation", activations, ACTIVATIONS)
    _check_int("n_points", n_points, minimum=1)
    _check_common(distribution, bias_std, seed)
    if len(embed_dims) == 0:
        raise ValueError("embed_dims=[] is empty; give at least one embedding dimension")
    points = MANIFOLDS[manifold](n_points)
    input_dim = points.shape[1]
    for embed_dim in embed_dims:
        _check_int("embed_dim", embed_dim, minimum=1)
        _check_embed_dim("embed_dim", embed_dim, input_dim, manifold)

    panels = [_panel(manifold, "input", 0, points)]
    for embed_dim in embed_dims:
        matrices, biases = random_matrices(
            manifold, input_dim, embed_dim, 1, distribution, bias_std, seed
        )
        for activation in activations:
            estimate = reconstruct(points, matrices, activation, biases if bias_std > 0 else None)
            panels.append(_panel(manifold, activation, embed_dim, estimate[0]))
    return pd.concat(panels, ignore_index=True)


def _panel(manifold: str, activation: str, embed_dim: int, points: np.ndarray) -> pd.DataFrame:
    coords = np.full((len(points), 3), np.nan)
    coords[:, : points.shape[1]] = points
    return pd.DataFrame(
        {
            "manifold": manifold,
            "activation": activation,
            "embed_dim": embed_dim,
            "point": np.arange(len(points)),
            "x": coords[:, 0],
            "y": coords[:, 1],
            "z": coords[:, 2],
        },
        columns=EXAMPLE_COLUMNS,
    )


# --------------------------------------------------------------------------------------------
# Input checks: every message names the offending value
# --------------------------------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}")


def _check_names(kind: str, names: Sequence[str], known: dict) -> None:
    if isinstance(names, str) or len(names) == 0:
        raise ValueError(f"{kind}s={names!r} must be a non-empty list of names")
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(known)}")
    duplicates = sorted({name for name in names if list(names).count(name) > 1})
    if duplicates:
        raise ValueError(f"{kind}s={list(names)!r} repeats {', '.join(duplicates)}")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")


def _check_embed_dim(label: str, embed_dim: int, input_dim: int, manifold: str) -> None:
    if embed_dim < input_dim:
        raise ValueError(
            f"{label}={embed_dim} is below the input dimension m={input_dim} "
            f"of manifold {manifold!r}"
        )


def _check_common(distribution: str, bias_std: float, seed: int) -> None:
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"unknown distribution {distribution!r}; known: {', '.join(DISTRIBUTIONS)}"
        )
    if not (isinstance(bias_std, numbers.Real) and math.isfinite(bias_std) and bias_std >= 0):
        raise ValueError(f"bias_std={bias_std!r} must be a finite number >= 0")
    _check_int("seed", seed, minimum=0)


def _check_rank_tol(rank_tol: float) -> None:
    if not (isinstance(rank_tol, numbers.Real) and 0 < rank_tol < 1):
        raise ValueError(f"rank_tol={rank_tol!r} must be a number in (0, 1)")
