"""Wall time of the default ReLU-collapse grid (goal: under 10 s on a 2-core machine).

Run as ``python benchmarks/bench_collapse.py``. Prints the time only; tests make no timed claims.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

try:
    from resnet_essence.collapse import ACTIVATIONS, run_grid
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.collapse import ACTIVATIONS, run_grid

DEFAULT_GRID = {
    "manifolds": ["spiral", "swiss_roll"],
    "max_embed_dim": 32,
    "activations": list(ACTIVATIONS),
    "n_points": 400,
    "n_matrices": 200,
}


def main() -> None:
    start = time.perf_counter()
    frame = run_grid(**DEFAULT_GRID)
    elapsed = time.perf_counter() - start
    print(
        f"run_grid default grid: {elapsed:.2f} s for {len(frame)} rows "
        f"({DEFAULT_GRID['n_matrices']} matrices x {DEFAULT_GRID['n_points']} points each)"
    )


if __name__ == "__main__":
    main()
