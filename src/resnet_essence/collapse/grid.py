"""The survival grid: embedding dimension x activation over random matrices, and its metrics.

:func:`run_grid` sweeps n = m .. max_embed_dim for every manifold and activation and averages the
three metrics of the package docstring over the random matrices, with a normal 95% interval
(:func:`summarise`, which the block experiment shares). Matrices go in chunks through buffers
reused from a :class:`~.kernels.Workspace`; the only loops are over manifolds, embedding
dimensions, activations and chunks of matrices, never over points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .checks import (
    check_common,
    check_embed_dim,
    check_int,
    check_names,
    check_rank_tol,
)
from .embedding import pre_activations, random_matrices
from .kernels import (
    ACTIVATIONS,
    Workspace,
    full_rank,
    jacobian_gram,
    nearest_neighbours,
    row_outer_products,
)
from .manifolds import MANIFOLDS, theory

COLLAPSE_TOL = 1e-6
"""Two outputs coincide when their distance is below this fraction of their inputs' distance."""

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

_FRACTION_METRICS = ("recoverable", "collapsed_neighbours")
_METRICS = ("recoverable", "recon_error", "collapsed_neighbours")
_Z_95 = 1.96
_CHUNK_BYTES = 2**20  # size of one (matrices, points, n) array in the grid's chunks


def run_grid(
    manifolds: list[str],
    max_embed_dim: int,
    activations: list[str],
    n_points: int,
    n_matrices: int,
    distribution: str,
    bias_std: float,
    rank_tol: float,
    seed: int,
) -> pd.DataFrame:
    """Sweep n = m .. max_embed_dim for each manifold and activation over random matrices.

    Returns one row per (manifold, activation, embed_dim), columns :data:`GRID_COLUMNS`: the mean
    of each metric over ``n_matrices`` matrices with a normal 95% interval
    ``mean +- 1.96 sd / sqrt(n_matrices)`` (``<metric>_lo``, ``<metric>_hi``; fractions clipped to
    [0, 1]; NaN when n_matrices = 1), and ``theory`` from :func:`relu_survival_theory` where it
    applies (NaN elsewhere). ``rank_tol`` is the relative singular-value tolerance of the rank
    test (package docstring). Identical for identical arguments.
    """
    check_names("manifold", manifolds, MANIFOLDS)
    check_names("activation", activations, ACTIVATIONS)
    check_int("max_embed_dim", max_embed_dim, minimum=1)
    check_int("n_points", n_points, minimum=2)
    check_int("n_matrices", n_matrices, minimum=1)
    check_common(distribution, bias_std, seed)
    check_rank_tol(rank_tol)
    samples = {name: MANIFOLDS[name](n_points) for name in manifolds}
    for name, points in samples.items():
        check_embed_dim("max_embed_dim", max_embed_dim, points.shape[1], name)

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
                    "theory": theory(activation, input_dim, embed_dim, bias_std),
                }
                for metric in _METRICS:
                    row.update(summarise(metric, per_matrix[activation][metric]))
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
        pre = pre_activations(points, matrices[part], part_biases, workspace.get("pre", wide))
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


def summarise(metric: str, values: np.ndarray) -> dict[str, float]:
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
