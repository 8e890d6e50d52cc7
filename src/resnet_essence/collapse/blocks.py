"""The block experiment: the maps a network applies to the lifted manifold, tested like activations.

The elementwise forms of the grid test z + ReLU(z), a map no network uses. These are the maps a
network applies to a trunk of n channels that carries the lifted manifold z = Tx (no
normalisation, weights drawn as He et al. initialise them, N(0, 2/n)):

* ``plain_layer``     ReLU(W z)
* ``original_block``  ReLU(z + W2 ReLU(W1 z))          (He et al. 2016a: ReLU after the addition)
* ``preact_block``    z + W2 ReLU(W1 ReLU(z))          (He et al. 2016b: nothing after it)

A point is recoverable when the Jacobian of x -> block(Tx) has rank m, as for activations. A
block is compared with the plain layer at the same width on the same random maps (the plain W
is the block's W1): ``vs_plain`` is the mean over maps of the block's recoverable fraction minus
the plain layer's, with its interval and the spread over maps (``vs_plain_sd``), so that claims
3b, 3c ask what the block keeps *beyond* any ReLU layer of its width.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd

from .checks import check_common, check_embed_dim, check_int, check_names, check_rank_tol
from .embedding import random_matrices
from .grid import COLLAPSE_TOL, summarise
from .kernels import full_rank, gram_of_columns, nearest_neighbours
from .manifolds import MANIFOLDS

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
    "vs_plain",
    "vs_plain_lo",
    "vs_plain_hi",
    "vs_plain_sd",
]
_BLOCK_CHUNK = 32  # matrices at a time: bounds the (chunk, n, points, m) Jacobians


def block_weights(
    manifold: str, embed_dim: int, n_matrices: int, seed: int
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
    distribution: str,
    rank_tol: float,
    seed: int,
) -> pd.DataFrame:
    """Recoverable fraction and collapsed neighbours of each block, n = m .. max_embed_dim.

    The manifold is lifted by the same T as in :func:`run_grid` (bias-free), then passed through
    the block. One row per (manifold, block, embed_dim), columns :data:`BLOCK_COLUMNS`, with the
    same normal 95% intervals over matrices (clipped to [0, 1]).
    """
    check_names("manifold", manifolds, MANIFOLDS)
    if len(blocks) == 0:
        return pd.DataFrame(columns=BLOCK_COLUMNS)
    check_names("block", blocks, {name: None for name in BLOCKS})
    check_int("max_embed_dim", max_embed_dim, minimum=1)
    check_int("n_points", n_points, minimum=2)
    check_int("n_matrices", n_matrices, minimum=1)
    check_common(distribution, 0.0, seed)
    check_rank_tol(rank_tol)
    rows = []
    for name in manifolds:
        points = MANIFOLDS[name](n_points)
        input_dim = points.shape[1]
        check_embed_dim("max_embed_dim", max_embed_dim, input_dim, name)
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
            plain = results.get("plain_layer", {}).get("recoverable")
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
                    row.update(summarise(metric, np.concatenate(chunks)))
                if plain is not None and block != "plain_layer":
                    # paired over the maps: the same T and W1 for the block and the plain layer
                    diff = np.concatenate(results[block]["recoverable"]) - np.concatenate(plain)
                    row.update(summarise("vs_plain", diff))
                    row["vs_plain_sd"] = float(diff.std(ddof=1)) if len(diff) > 1 else np.nan
                rows.append(row)
    return pd.DataFrame(rows, columns=BLOCK_COLUMNS)
