"""Rule gradstats: per-layer gradient, dead-ReLU and response statistics at each snapshot.

From a shell:
    python scripts/gradstats.py --data results/data/digits.npz \
        --snapshots results/runs/digits/plain-20/seed0/snapshots.pt --out /tmp/stats.csv
"""

import argparse
import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.gradstats import measure_snapshots
from resnet_essence.io import read_json, write_csv
from resnet_essence.models import NetSpec, build_model
from resnet_essence.scripting import run_main, setup_logging
from resnet_essence.training import Normaliser

log = logging.getLogger("gradstats")


def measure(
    data_path,
    snapshots_path,
    summary_path,
    batch_size,
    path_points,
    lags,
    threads,
    out_layers,
    out_shattering,
) -> None:
    torch.set_num_threads(threads)
    data = read_dataset(data_path)
    saved = torch.load(snapshots_path, map_location="cpu", weights_only=False)
    spec = NetSpec(**saved["spec"])
    model = build_model(spec)
    x_all = torch.from_numpy(data.x_test[:batch_size])
    x = Normaliser.fit(torch.from_numpy(data.x_train))(x_all)
    y = torch.from_numpy(data.y_test[:batch_size])
    summary = read_json(summary_path)
    snapshots = saved["snapshots"]
    if summary["status"] != "completed":
        # a diverged run's final weights are not finite; only the snapshots before it count
        snapshots = {
            e: s
            for e, s in snapshots.items()
            if all(torch.isfinite(t).all() for t in s.values() if t.is_floating_point())
        }
        log.warning(
            "run %s: measuring only the finite snapshots %s", summary["status"], sorted(snapshots)
        )
    layers, shatter = measure_snapshots(model, snapshots, x, y, path_points, list(lags))
    ids = {key: summary[key] for key in ("dataset", "arch", "depth", "seed")}
    for frame in (layers, shatter):
        for position, (key, value) in enumerate(ids.items()):
            frame.insert(position, key, value)
    write_csv(out_layers, layers)
    write_csv(out_shattering, shatter)
    log.info(
        "%s-%d: %d layer rows at epochs %s", spec.arch, spec.depth, len(layers), sorted(snapshots)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--snapshots", required=True)
    parser.add_argument("--summary", required=True, help="the run's summary.json")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--path-points", type=int, default=128)
    parser.add_argument("--lags", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--out", required=True, help="layer table (CSV)")
    parser.add_argument("--out-shattering", default=None)
    args = parser.parse_args()
    shatter = args.out_shattering or args.out.replace(".csv", ".shattering.csv")
    measure(
        args.data,
        args.snapshots,
        args.summary,
        args.batch_size,
        args.path_points,
        args.lags,
        1,
        args.out,
        shatter,
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    p = snakemake.params
    run_main(
        lambda: measure(
            snakemake.input.data,
            snakemake.input.snapshots,
            snakemake.input.summary,
            p.batch_size,
            p.path_points,
            p.lags,
            snakemake.threads,
            snakemake.output.layers,
            snakemake.output.shattering,
        ),
        "gradstats",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "gradstats")
