"""Numerical kernels of the collapse experiment: what makes its grid fast.

The elementwise activations write their value and slope into buffers the caller supplies (the
grid evaluates them some 20 000 times on arrays of about a megabyte; fresh temporaries of that
size cost page faults that made the whole grid several times slower); the rank test decides
most points from closed-form eigenvalue bounds of the Jacobian's Gram matrix; a workspace keeps
the buffers between chunks. The other modules of the package hold the experiment itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_NEIGHBOUR_CHUNK = 1024


# --------------------------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """An elementwise activation with its derivative.

    ``evaluate(z, value, slope)`` writes act(z) into ``value`` and act'(z) into ``slope`` (both
    shaped like ``z``; ``z`` is left alone). ``inverse(y, out)``, when given, is an exact
    elementwise inverse applied before the pseudo-inverse in reconstructions.
    """

    name: str
    evaluate: Callable[[np.ndarray, np.ndarray, np.ndarray], None]
    inverse: Callable[..., np.ndarray] | None = None

    def forward(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(act(z), act'(z))`` as new arrays."""
        z = np.asarray(z, dtype=float)
        value, slope = np.empty_like(z), np.empty_like(z)
        self.evaluate(z, value, slope)
        return value, slope

    def __call__(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)[0]

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return self.forward(z)[1]


def _relu(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    # The derivative at exactly 0 is taken as 0: a unit counts as active only when z > 0.
    np.maximum(z, 0.0, out=value)
    np.greater(z, 0.0, out=slope)


def _relu6(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    np.clip(z, 0.0, 6.0, out=value)
    np.greater(z, 0.0, out=slope)
    slope *= z < 6.0


_LEAKY_SLOPE = 0.01


def _leaky_relu(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    np.multiply(z, _LEAKY_SLOPE, out=value)
    np.maximum(z, value, out=value)
    np.greater(z, 0.0, out=slope)
    slope *= 1.0 - _LEAKY_SLOPE
    slope += _LEAKY_SLOPE


_GELU_C = math.sqrt(2.0 / math.pi)
_GELU_A = 0.044715


def _gelu(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    """GELU in its tanh approximation, z * sigmoid(2u) with u = sqrt(2/pi) (z + 0.044715 z**3).

    The tanh form keeps these kernels to numpy alone (numpy has no vectorised erf); it
    differs from the erf form by less than 1e-3. With e = exp(-2u) and k = 2 z du/dz the slope is
    (1 + e (1 + k)) / (1 + e)**2, which needs no buffer beyond the two outputs. -2u is capped at
    600 so that e stays finite; the gate is below 1e-260 there anyway.
    """
    np.multiply(z, z, out=slope)
    np.multiply(slope, _GELU_A, out=value)
    value += 1.0
    value *= z
    value *= -2.0 * _GELU_C
    np.minimum(value, 600.0, out=value)
    np.exp(value, out=value)  # e
    slope *= 3.0 * _GELU_A
    slope += 1.0
    slope *= 2.0 * _GELU_C
    slope *= z  # k
    slope += 1.0
    slope *= value
    slope += 1.0
    value += 1.0
    slope /= value
    slope /= value
    np.divide(z, value, out=value)


def _softplus(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    """log(1 + exp(z)) computed stably as max(z, 0) + log1p(exp(-|z|)).

    Its slope, the logistic sigmoid, is exp(z - softplus(z)), accurate to about 1e-16 absolute.
    """
    np.abs(z, out=slope)
    np.negative(slope, out=slope)
    np.exp(slope, out=slope)
    np.log1p(slope, out=slope)
    np.maximum(z, 0.0, out=value)
    value += slope
    np.subtract(z, value, out=slope)
    np.exp(slope, out=slope)


def _linear(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    np.copyto(value, z)
    slope.fill(1.0)


def _residual(z: np.ndarray, value: np.ndarray, slope: np.ndarray) -> None:
    """The residual form z + relu(z) = max(z, 2z): 2z where z > 0, z elsewhere."""
    np.multiply(z, 2.0, out=value)
    np.maximum(z, value, out=value)
    np.greater(z, 0.0, out=slope)
    slope += 1.0


def invert_residual(y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Exact inverse of z + relu(z): y / 2 where y > 0, y elsewhere, i.e. min(y, y / 2).

    z + relu(z) is strictly increasing and keeps the sign of z, so the inverse is elementwise;
    halving is exact in floating point, so ``invert_residual(z + relu(z)) == z`` bit for bit.
    ``out`` (not ``y`` itself) receives the result when given.
    """
    y = np.asarray(y, dtype=float)
    out = np.multiply(y, 0.5, out=out)
    return np.minimum(y, out, out=out)


ACTIVATIONS: dict[str, Activation] = {
    activation.name: activation
    for activation in (
        Activation("relu", _relu),
        Activation("relu6", _relu6),
        Activation("leaky_relu", _leaky_relu),
        Activation("gelu", _gelu),
        Activation("softplus", _softplus),
        Activation("linear", _linear),
        Activation("residual", _residual, inverse=invert_residual),
    )
}


# --------------------------------------------------------------------------------------------
# Jacobian rank
# --------------------------------------------------------------------------------------------


def row_outer_products(matrices: np.ndarray) -> np.ndarray:
    """Outer products of the rows of each T: shape ``(n_matrices, m * m, n)``."""
    k, n, m = matrices.shape
    products = matrices[:, :, :, None] * matrices[:, :, None, :]
    return products.reshape(k, n, m * m).transpose(0, 2, 1).copy()


def jacobian_gram(
    squared_slope: np.ndarray, row_outer: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Gram matrices ``J^T J = T^T diag(slope**2) T`` of the Jacobians, axes ``(m, m, k, points)``.

    One batched matrix product instead of an SVD per point; the eigenvalues of J^T J are the
    squared singular values of J. The matrix axes come first so that each entry ``gram[i, j]`` is
    a contiguous ``(k, points)`` array for the closed-form bounds.
    """
    k, m2, _ = row_outer.shape
    m = math.isqrt(m2)
    gram = np.matmul(row_outer, np.swapaxes(squared_slope, -1, -2), out=out)
    return gram.reshape(k, m, m, -1).transpose(1, 2, 0, 3)


def full_rank(gram: np.ndarray, rank_tol: float) -> np.ndarray:
    """Whether the smallest singular value exceeds ``rank_tol`` times the largest.

    ``gram`` has axes ``(m, m, *batch)``. On the Gram matrix the test reads
    ``lambda_min > rank_tol**2 * lambda_max``. Its eigenvalues carry an absolute error of order
    1e-16 * lambda_max, far below the threshold 1e-12 * lambda_max of the default tolerance, so
    working with J^T J instead of J loses nothing that matters here. Cheap closed-form bounds
    (m = 2 and 3) decide almost every point; ``np.linalg.eigvalsh`` decides the rest.
    """
    threshold = rank_tol**2
    ratio_lo, ratio_hi = eigen_ratio_bounds(gram)
    full = ratio_lo > threshold
    undecided = ~full & (ratio_hi > threshold)
    if undecided.any():
        eigenvalues = np.linalg.eigvalsh(np.moveaxis(gram, (0, 1), (-2, -1))[undecided])
        full[undecided] = eigenvalues[:, 0] > threshold * eigenvalues[:, -1]
    return full


_EPS = np.finfo(float).eps


def eigen_ratio_bounds(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on ``lambda_min / lambda_max`` of PSD matrices, axes ``(m, m, ...)``.

    m = 2 has the exact closed form (lambda_min = det / lambda_max avoids cancellation). For
    m = 3, with trace t, sum of principal 2x2 minors e and determinant d: lambda_max lies in
    [t/3, t] and lambda_mid * lambda_max in [e/3, e], so the ratio lies in [d / (e t), 9 d / (e t)],
    and it is at most lambda_mid / lambda_max <= 9 e / t**2. The rounding error of d and e (a few
    eps * t**3 and eps * t**2) is added on the safe side. Other m get the trivial bounds [0, inf],
    which leave every point to the eigensolver.
    """
    m = g.shape[0]
    batch = g.shape[2:]
    if m == 2:
        a, b, c = g[0, 0], g[0, 1], g[1, 1]
        lam_max = 0.5 * (a + c) + np.hypot(0.5 * (a - c), b)
        alive = lam_max > 0
        ratio = np.zeros(batch)
        np.divide(a * c - b * b, lam_max * lam_max, out=ratio, where=alive)
        return ratio, ratio
    if m == 3:
        minor_12 = g[1, 1] * g[2, 2] - g[1, 2] ** 2
        minors = g[0, 0] * g[1, 1] - g[0, 1] ** 2 + g[0, 0] * g[2, 2] - g[0, 2] ** 2 + minor_12
        det = (
            g[0, 0] * minor_12
            - g[0, 1] * (g[0, 1] * g[2, 2] - g[1, 2] * g[0, 2])
            + g[0, 2] * (g[0, 1] * g[1, 2] - g[1, 1] * g[0, 2])
        )
        trace = g[0, 0] + g[1, 1] + g[2, 2]
        det_err = 32 * _EPS * trace**3
        minors_err = 8 * _EPS * trace**2
        alive = trace > 0
        lo, hi = np.zeros(batch), np.zeros(batch)
        np.divide(det - det_err, (minors + minors_err) * trace, out=lo, where=alive)
        hi_mid = np.divide(9 * (minors + minors_err), trace * trace, out=hi, where=alive)
        minors_lo = minors - minors_err
        hi_det = np.full(batch, np.inf)
        np.divide(9 * (det + det_err), minors_lo * trace, out=hi_det, where=minors_lo > 0)
        return lo, np.minimum(hi_mid, hi_det)
    return np.zeros(batch), np.full(batch, np.inf)


def gram_of_columns(jac: np.ndarray) -> np.ndarray:
    """J^T J at every point, axes ``(m, m, k, p)``, from Jacobian columns ``(m, k, n, p)``."""
    m = jac.shape[0]
    gram = np.empty((m, m, jac.shape[1], jac.shape[3]))
    for i in range(m):
        for j in range(i, m):
            gram[i, j] = gram[j, i] = np.einsum("knp,knp->kp", jac[i], jac[j])
    return gram


def nearest_neighbours(points: np.ndarray) -> np.ndarray:
    """Index of each point's nearest other point (chunks of rows bound the distance matrix)."""
    squared_norms = np.einsum("ij,ij->i", points, points)
    neighbours = np.empty(len(points), dtype=np.intp)
    for start in range(0, len(points), _NEIGHBOUR_CHUNK):
        block = points[start : start + _NEIGHBOUR_CHUNK]
        rows = np.arange(len(block))
        distances = squared_norms[start + rows, None] - 2 * block @ points.T
        distances += squared_norms[None, :]
        distances[rows, start + rows] = np.inf
        neighbours[start + rows] = np.argmin(distances, axis=1)
    return neighbours


class Workspace:
    """Flat buffers reused for every chunk of every cell.

    Allocating fresh arrays of a megabyte or more costs page faults on every chunk; on the 2-core
    development machine that was most of the run time.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size)
        return buffer[:size].reshape(shape)
