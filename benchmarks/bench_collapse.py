"""Wall time of the default ReLU-collapse grid (goal: under 10 s on a 2-core machine).

Run as ``python benchmarks/bench_collapse.py``. Prints the time only; tests make no timed claims.
The grid is the one config.yaml's ``collapse:`` section asks for (the library has no defaults).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

try:
    from resnet_essence.collapse import CollapseConfig, survival_grid
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))
    from resnet_essence.collapse import CollapseConfig, survival_grid


def default_config() -> CollapseConfig:
    """The ``collapse:`` section of config.yaml."""
    with open(ROOT / "config.yaml", encoding="utf-8") as fh:
        return CollapseConfig.from_config(yaml.safe_load(fh)["collapse"])


def main() -> None:
    cfg = default_config()
    start = time.perf_counter()
    frame = survival_grid(cfg)
    elapsed = time.perf_counter() - start
    print(
        f"run_grid default grid: {elapsed:.2f} s for {len(frame)} rows "
        f"({cfg.n_matrices} matrices x {cfg.n_points} points each)"
    )


if __name__ == "__main__":
    main()
