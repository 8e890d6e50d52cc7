"""Rule gradstats: per-layer gradient, dead-ReLU and response statistics at each snapshot, and
the mechanism probes (redundancy, linear units, lesions; resnet_essence/probes.py) on the same
snapshots: one job per network and depth, for all its seeds, so the data are loaded once.

Run it through Snakemake, e.g.
``snakemake --cores 1 results/gradstats/digits/residual-20/seed0.csv``.
"""

import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.files import read_json, verify, write_csv
from resnet_essence.measure import finite_snapshots, measure_run
from resnet_essence.models import spec_from_dict
from resnet_essence.scripting import guard_shell, run_main, setup_logging
from resnet_essence.training import normalised_test_batch

log = logging.getLogger("gradstats")


def measure_all(data_path, info_path, snapshots, summaries, cfg, probes_cfg, threads, outputs):
    """Every seed of one network and depth, one after the other (the data loaded once)."""
    torch.set_num_threads(threads)
    data = read_dataset(data_path, info_path)
    # the probe batch, then as many held-out images (probes.probe_snapshots)
    test_x, test_y = normalised_test_batch(data, 2 * cfg["batch_size"])
    for index, (snapshots_path, summary_path) in enumerate(zip(snapshots, summaries, strict=True)):
        files = {name: paths[index] for name, paths in outputs.items()}
        measure(test_x, test_y, snapshots_path, summary_path, cfg, probes_cfg, files)


def measure(test_x, test_y, snapshots_path, summary_path, cfg, probes_cfg, outputs) -> None:
    summary = read_json(summary_path)
    verify(snapshots_path, summary.get("files", {}).get("snapshots"), "train")
    # weights_only: tensors and plain containers only, a tampered file cannot run code
    saved = torch.load(snapshots_path, map_location="cpu", weights_only=True)
    spec = spec_from_dict(saved["spec"])
    snapshots = saved["snapshots"]
    if summary["status"] != "completed":
        # a diverged run's final weights are not finite; only the snapshots before it count
        snapshots = finite_snapshots(snapshots)
        log.warning(
            "run %s: measuring only the finite snapshots %s", summary["status"], sorted(snapshots)
        )
    tables = measure_run(spec, snapshots, summary["seed"], test_x, test_y, cfg, probes_cfg)
    ids = {key: summary[key] for key in ("dataset", "arch", "depth", "seed")}
    for frame, name in zip(tables, ("layers", "shattering", "probes"), strict=True):
        for position, (key, value) in enumerate(ids.items()):
            frame.insert(position, key, value)
        write_csv(outputs[name], frame)
    log.info(
        "%s-%d seed %d: %d layer rows at epochs %s",
        spec.arch,
        spec.depth,
        summary["seed"],
        len(tables[0]),
        sorted(set(tables[0]["epoch"])),
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: measure_all(
            snakemake.input.data,
            snakemake.input.info,
            snakemake.input.snapshots,
            snakemake.input.summaries,
            dict(snakemake.params.cfg),
            dict(snakemake.params.probes),
            snakemake.threads,
            dict(snakemake.output.items()),
        ),
        "gradstats",
    )
elif __name__ == "__main__":
    guard_shell(__doc__)
