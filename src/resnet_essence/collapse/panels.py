"""The reconstructions drawn in the figure: the panels of MobileNetV2 Fig. 1.

:func:`examples` maps a manifold through single random matrices and reads it back with the
pseudo-inverse, one panel per (embedding dimension, activation), as tidy rows for plotting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .checks import check_common, check_embed_dim, check_int, check_names
from .embedding import random_matrices, reconstruct
from .kernels import ACTIVATIONS
from .manifolds import MANIFOLDS

EXAMPLE_COLUMNS = ["manifold", "activation", "embed_dim", "point", "x", "y", "z"]


def examples(
    manifold: str,
    embed_dims: list[int],
    activations: list[str],
    n_points: int,
    distribution: str,
    bias_std: float,
    seed: int,
) -> pd.DataFrame:
    """Reconstructions for single random matrices: the panels of MobileNetV2 Fig. 1.

    One T per embed_dim (matrix 0 of the matching :func:`run_grid` cell), shared by all
    activations. Tidy rows with columns :data:`EXAMPLE_COLUMNS`: the original points under
    ``activation="input"``, ``embed_dim=0``, then ``pinv(T) (act(Tx + b) - b)`` for every embed_dim
    and activation (the residual form inverted exactly first, as in ``recon_error``). ``z`` is NaN
    for 2-D manifolds.
    """
    check_names("manifold", [manifold], MANIFOLDS)
    check_names("activation", activations, ACTIVATIONS)
    check_int("n_points", n_points, minimum=1)
    check_common(distribution, bias_std, seed)
    if len(embed_dims) == 0:
        raise ValueError("embed_dims=[] is empty; give at least one embedding dimension")
    points = MANIFOLDS[manifold](n_points)
    input_dim = points.shape[1]
    for embed_dim in embed_dims:
        check_int("embed_dim", embed_dim, minimum=1)
        check_embed_dim("embed_dim", embed_dim, input_dim, manifold)

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
