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
    when it exceeds ``rank_tol`` (the config key ``collapse.rank_tol``) times the largest singular
    value of the Jacobian.
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

For bias-free ReLU the expected ``recoverable`` is exactly ``P(Binomial(n, 1/2) >= m)``
(:func:`relu_survival_theory`). Everything is numpy. One job per module:

``manifolds``   the spiral and the swiss roll, and the binomial survival theory
``embedding``   the random matrices T and the per-point measurements through one activation
``grid``        the survival grid (:func:`run_grid`) and the summary of its metrics
``blocks``      the same test for a plain layer and the two residual blocks (:func:`block_grid`)
``panels``      the reconstructions drawn in the figure (:func:`examples`)
``experiment``  the config's ``collapse:`` section (:class:`CollapseConfig`) and the three tables
``kernels``     the activations, the fast rank test and the buffers: what makes the grid fast
``checks``      the argument checks, every message naming the offending value
"""

from .blocks import BLOCK_COLUMNS, BLOCKS, block_forward, block_grid, block_weights
from .checks import DISTRIBUTIONS
from .embedding import random_matrices, reconstruct, recoverable
from .experiment import CollapseConfig, CollapseTables, run_experiment, survival_grid
from .grid import COLLAPSE_TOL, GRID_COLUMNS, run_grid
from .kernels import (
    ACTIVATIONS,
    Activation,
    Workspace,
    full_rank,
    gram_of_columns,
    invert_residual,
    jacobian_gram,
    nearest_neighbours,
    row_outer_products,
)
from .manifolds import MANIFOLDS, relu_survival_theory, spiral, swiss_roll
from .panels import EXAMPLE_COLUMNS, examples

__all__ = [
    "ACTIVATIONS",
    "BLOCKS",
    "BLOCK_COLUMNS",
    "COLLAPSE_TOL",
    "DISTRIBUTIONS",
    "EXAMPLE_COLUMNS",
    "GRID_COLUMNS",
    "MANIFOLDS",
    "Activation",
    "CollapseConfig",
    "CollapseTables",
    "Workspace",
    "block_forward",
    "block_grid",
    "block_weights",
    "examples",
    "full_rank",
    "gram_of_columns",
    "invert_residual",
    "jacobian_gram",
    "nearest_neighbours",
    "random_matrices",
    "reconstruct",
    "recoverable",
    "relu_survival_theory",
    "row_outer_products",
    "run_experiment",
    "run_grid",
    "spiral",
    "survival_grid",
    "swiss_roll",
]
