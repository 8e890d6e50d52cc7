"""Rule gradstats: per-layer gradient, dead-ReLU and response statistics at each snapshot.

Run it through Snakemake, e.g.
``snakemake --cores 1 results/gradstats/digits/residual-20/seed0.csv``.
"""

import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.gradstats import measure_snapshots
from resnet_essence.io import read_json, write_csv
from resnet_essence.models import build_model, spec_from_dict
from resnet_essence.scripting import guard_shell, run_main, setup_logging
from resnet_essence.training import Normaliser

log = logging.getLogger("gradstats")


def measure(data_path, snapshots_path, summary_path, cfg, threads, out_layers, out_shattering):
    torch.set_num_threads(threads)
    data = read_dataset(data_path)
    saved = torch.load(snapshots_path, map_location="cpu", weights_only=False)
    spec = spec_from_dict(saved["spec"])
    model = build_model(spec)
    batch = cfg["batch_size"]
    x = Normaliser.fit(torch.from_numpy(data.x_train))(torch.from_numpy(data.x_test[:batch]))
    y = torch.from_numpy(data.y_test[:batch])
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
    layers, shatter = measure_snapshots(
        model, snapshots, x, y, cfg["path_points"], list(cfg["lags"]), cfg["paths"]
    )
    ids = {key: summary[key] for key in ("dataset", "arch", "depth", "seed")}
    for frame in (layers, shatter):
        for position, (key, value) in enumerate(ids.items()):
            frame.insert(position, key, value)
    write_csv(out_layers, layers)
    write_csv(out_shattering, shatter)
    log.info(
        "%s-%d seed %d: %d layer rows at epochs %s",
        spec.arch,
        spec.depth,
        summary["seed"],
        len(layers),
        sorted(snapshots),
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: measure(
            snakemake.input.data,
            snakemake.input.snapshots,
            snakemake.input.summary,
            dict(snakemake.params.cfg),
            snakemake.threads,
            snakemake.output.layers,
            snakemake.output.shattering,
        ),
        "gradstats",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
