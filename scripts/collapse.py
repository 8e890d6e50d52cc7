"""Rule collapse: the ReLU-collapse experiment of MobileNetV2 Fig. 1, over the whole grid.

From a shell:
    python scripts/collapse.py --out results/collapse/survival.csv \
        --examples results/collapse/examples.csv --n-matrices 50
"""

import argparse
import logging
import time

import pandas as pd

from resnet_essence import collapse
from resnet_essence.io import write_csv
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("collapse")
GRID_KEYS = (
    "manifolds",
    "max_embed_dim",
    "activations",
    "n_points",
    "n_matrices",
    "distribution",
    "bias_std",
    "rank_tol",
    "seed",
)
DEFAULTS = {
    "manifolds": ["spiral", "swiss_roll"],
    "max_embed_dim": 32,
    "activations": list(collapse.ACTIVATIONS),
    "n_points": 400,
    "n_matrices": 200,
    "distribution": "gaussian",
    "bias_std": 0.0,
    "rank_tol": 1e-6,
    "seed": 0,
    "example_dims": [2, 3, 5, 15, 30],
    "example_points": 1000,
}


def run(cfg: dict, out_survival: str, out_examples: str) -> None:
    started = time.perf_counter()
    grid = collapse.run_grid(**{key: cfg[key] for key in GRID_KEYS})
    write_csv(out_survival, grid)
    log.info("wrote %s: %d cells in %.1fs", out_survival, len(grid), time.perf_counter() - started)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/collapse/survival.csv")
    parser.add_argument("--examples", default="results/collapse/examples.csv")
    parser.add_argument("--n-matrices", type=int, default=DEFAULTS["n_matrices"])
    parser.add_argument("--n-points", type=int, default=DEFAULTS["n_points"])
    parser.add_argument("--max-embed-dim", type=int, default=DEFAULTS["max_embed_dim"])
    args = parser.parse_args()
    cfg = {
        **DEFAULTS,
        "n_matrices": args.n_matrices,
        "n_points": args.n_points,
        "max_embed_dim": args.max_embed_dim,
    }
    run(cfg, args.out, args.examples)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: run(
            dict(snakemake.params.cfg), snakemake.output.survival, snakemake.output.examples
        ),
        "collapse",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "collapse")
