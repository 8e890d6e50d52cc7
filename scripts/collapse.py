"""Rule collapse: the ReLU-collapse experiment of MobileNetV2 Fig. 1, over the whole grid.

From a shell:
    python scripts/collapse.py --out results/collapse/survival.csv \
        --examples results/collapse/examples.csv --n-matrices 50   (the rest: config.yaml)
"""

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
import yaml

from resnet_essence import collapse
from resnet_essence.config import section_defaults
from resnet_essence.io import write_csv
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("collapse")
SCHEMA = Path(__file__).resolve().parent.parent / "workflow/schemas/config.schema.yaml"
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
    parser.add_argument("--config", default="config.yaml", help="its collapse: section is used")
    parser.add_argument("--out", default="results/collapse/survival.csv")
    parser.add_argument("--examples", default="results/collapse/examples.csv")
    parser.add_argument("--n-matrices", type=int, default=None)
    parser.add_argument("--n-points", type=int, default=None)
    parser.add_argument("--max-embed-dim", type=int, default=None)
    args = parser.parse_args()
    with open(SCHEMA, encoding="utf-8") as fh:
        cfg = section_defaults(yaml.safe_load(fh), "collapse")
    with open(args.config, encoding="utf-8") as fh:
        cfg.update(yaml.safe_load(fh).get("collapse", {}))
    for key in ("n_matrices", "n_points", "max_embed_dim"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
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
