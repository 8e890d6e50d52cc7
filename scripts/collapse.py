"""Rule collapse: the ReLU-collapse experiment of MobileNetV2 Fig. 1, and the same test of the
maps a network applies (a plain layer, the original and the pre-activation residual block).

Run it through Snakemake: ``snakemake --cores 1 results/collapse/survival.csv``.
"""

import logging
import time

import pandas as pd

from resnet_essence import collapse
from resnet_essence.files import write_csv
from resnet_essence.scripting import guard_shell, run_main, setup_logging

log = logging.getLogger("collapse")
GRID_KEYS = ("manifolds", "max_embed_dim", "activations", "n_points", "n_matrices")
GRID_KEYS += ("distribution", "bias_std", "rank_tol", "seed")


def run(cfg: dict, out_survival: str, out_blocks: str, out_examples: str) -> None:
    started = time.perf_counter()
    grid = collapse.run_grid(**{key: cfg[key] for key in GRID_KEYS})
    write_csv(out_survival, grid)
    log.info("wrote %s: %d cells in %.1fs", out_survival, len(grid), time.perf_counter() - started)
    started = time.perf_counter()
    blocks = collapse.block_grid(
        cfg["manifolds"],
        cfg["max_embed_dim"],
        cfg["blocks"],
        cfg["n_points"],
        cfg["n_matrices"],
        cfg["distribution"],
        cfg["rank_tol"],
        cfg["seed"],
    )
    write_csv(out_blocks, blocks)
    log.info("wrote %s: %d cells in %.1fs", out_blocks, len(blocks), time.perf_counter() - started)
    frames = []
    for manifold in cfg["manifolds"]:
        # the paper's panels start at n = 2; a manifold in R^m can only be embedded for n >= m
        m = int(grid.loc[grid["manifold"] == manifold, "input_dim"].iloc[0])
        dims = [n for n in cfg["example_dims"] if n >= m]
        frames.append(
            collapse.examples(
                manifold,
                dims,
                cfg["activations"],
                cfg["example_points"],
                cfg["distribution"],
                cfg["bias_std"],
                cfg["seed"],
            )
        )
    write_csv(out_examples, pd.concat(frames, ignore_index=True))
    log.info("wrote %s", out_examples)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    out = snakemake.output
    run_main(
        lambda: run(dict(snakemake.params.cfg), out.survival, out.blocks, out.examples),
        "collapse",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
