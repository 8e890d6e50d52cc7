"""The experiment as the pipeline runs it: the config's ``collapse:`` section in, three tables out.

:class:`CollapseConfig` is that section, whole, with no defaults of its own: ``config.yaml`` holds
the values and ``workflow/schemas/config.schema.yaml`` documents and validates them, so no second
copy of a value can drift from those two files. :func:`run_experiment` turns it into the survival
grid, the block grid and the figure's panels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, NamedTuple

import pandas as pd

from .blocks import block_grid
from .grid import run_grid
from .manifolds import MANIFOLDS
from .panels import examples

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CollapseConfig:
    """The ``collapse:`` section of the config (its schema documents every field)."""

    manifolds: tuple[str, ...]
    max_embed_dim: int
    activations: tuple[str, ...]  # elementwise maps of the survival grid and the panels
    blocks: tuple[str, ...]  # network maps of the block grid; empty skips it
    n_points: int
    n_matrices: int
    distribution: str
    bias_std: float
    rank_tol: float
    example_dims: tuple[int, ...]  # embedding dims of the panels (those below m are skipped)
    example_points: int
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CollapseConfig:
        """The validated ``collapse:`` section as a config object (lists become tuples).

        A missing or unknown key is a ValueError naming it.
        """
        names = [field.name for field in fields(cls)]
        missing = [name for name in names if name not in section]
        unknown = [key for key in section if key not in names]
        if missing or unknown:
            raise ValueError(
                f"config section 'collapse': missing keys {missing}, unknown keys {unknown}"
            )
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
        return cls(**values)


class CollapseTables(NamedTuple):
    """The three tables of the experiment, in the order of the rule's outputs."""

    survival: pd.DataFrame  # run_grid: one row per (manifold, activation, embed_dim)
    blocks: pd.DataFrame  # block_grid: one row per (manifold, block, embed_dim)
    examples: pd.DataFrame  # examples: the figure's panels, every manifold


def survival_grid(config: CollapseConfig) -> pd.DataFrame:
    """The survival grid of one config (:func:`run_grid` with its values)."""
    return run_grid(
        list(config.manifolds),
        config.max_embed_dim,
        list(config.activations),
        config.n_points,
        config.n_matrices,
        config.distribution,
        config.bias_std,
        config.rank_tol,
        config.seed,
    )


def run_experiment(config: CollapseConfig) -> CollapseTables:
    """The survival grid, the block grid and the figure's panels of one config."""
    started = time.perf_counter()
    survival = survival_grid(config)
    log.info("survival grid: %d cells in %.1fs", len(survival), time.perf_counter() - started)
    started = time.perf_counter()
    blocks = block_grid(
        list(config.manifolds),
        config.max_embed_dim,
        list(config.blocks),
        config.n_points,
        config.n_matrices,
        config.distribution,
        config.rank_tol,
        config.seed,
    )
    log.info("block grid: %d cells in %.1fs", len(blocks), time.perf_counter() - started)
    frames = []
    for manifold in config.manifolds:
        # the paper's panels start at n = 2; a manifold in R^m can only be embedded for n >= m
        m = MANIFOLDS[manifold](1).shape[1]
        frames.append(
            examples(
                manifold,
                [n for n in config.example_dims if n >= m],
                list(config.activations),
                config.example_points,
                config.distribution,
                config.bias_std,
                config.seed,
            )
        )
    return CollapseTables(survival, blocks, pd.concat(frames, ignore_index=True))
