"""The random embeddings T of a manifold into R^n, and what one activation does to each point.

:func:`random_matrices` draws the T (and biases b) every part of the experiment shares;
:func:`recoverable` and :func:`reconstruct` measure x -> act(Tx + b) point by point, as the
package docstring defines the metrics ``recoverable`` and ``recon_error``.
"""

from __future__ import annotations

import zlib

import numpy as np

from .checks import check_activation, check_common, check_rank_tol
from .kernels import ACTIVATIONS, full_rank, jacobian_gram, row_outer_products


def random_matrices(
    manifold: str,
    input_dim: int,
    embed_dim: int,
    n_matrices: int,
    distribution: str,
    bias_std: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(matrices, biases)`` of shapes ``(n_matrices, embed_dim, input_dim)`` and
    ``(n_matrices, embed_dim)``.

    Each (seed, manifold, embed_dim) has its own stream for the matrices and one for the biases,
    so that the first k matrices do not depend on n_matrices: the panels of :func:`examples` use
    exactly matrix 0 of the corresponding :func:`run_grid` cell, and all activations of a cell see
    the same matrices (their differences are not sampling noise).
    """
    check_common(distribution, bias_std, seed)
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
    *,
    rank_tol: float,
) -> np.ndarray:
    """Boolean ``(n_matrices, n_points)``: is x -> act(Tx + b) locally injective at each point?

    ``points`` is ``(n_points, m)``, ``matrices`` ``(n_matrices, n, m)``, ``biases``
    ``(n_matrices, n)`` or None. The Jacobian ``diag(act'(Tx + b)) T`` must have m singular values
    above ``rank_tol`` times its largest one.
    """
    check_activation(activation)
    check_rank_tol(rank_tol)
    slope = ACTIVATIONS[activation].derivative(pre_activations(points, matrices, biases))
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
    first (see the package docstring).
    """
    check_activation(activation)
    value = ACTIVATIONS[activation](pre_activations(points, matrices, biases))
    inverse = ACTIVATIONS[activation].inverse
    if inverse is not None:
        value = inverse(value)
    if biases is not None:
        value = value - biases[:, None, :]
    return value @ np.swapaxes(np.linalg.pinv(matrices), -1, -2)


def pre_activations(
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
