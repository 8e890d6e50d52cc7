"""Rule gradstats: per-layer gradient, dead-ReLU and response statistics at each snapshot, and
the mechanism probes (redundancy, linear units, lesions; resnet_essence/measure/probes.py) on the
same snapshots: one job per network and depth, for all its seeds, so the data are loaded once.

Run it through Snakemake, e.g.
``snakemake --cores 1 results/gradstats/digits/residual-20/seed0.csv``.
"""

import logging

import torch

from resnet_essence.data import read_dataset
from resnet_essence.data.normalise import normalised_test_batch, normalised_train_batch
from resnet_essence.files import write_csv
from resnet_essence.measure.run import measure_run
from resnet_essence.scripting import rule_script
from resnet_essence.train.job import read_snapshots

log = logging.getLogger("gradstats")


def measure_all(data_path, info_path, snapshots, summaries, cfg, probes_cfg, threads, outputs):
    """Every seed of one network and depth, one after the other (the data loaded once)."""
    torch.set_num_threads(threads)
    data = read_dataset(data_path, info_path)
    # the probe batch, then as many held-out images (probes.probe_snapshots)
    test_x, test_y = normalised_test_batch(data, 2 * cfg["batch_size"])
    # the class-evidence probe: linear read-outs fitted on training images, scored on test ones
    n = probes_cfg["class_images"]
    class_sets = (
        normalised_train_batch(data, n),
        normalised_test_batch(data, n),
        data.num_classes,
    )
    for index, (snapshots_path, summary_path) in enumerate(zip(snapshots, summaries, strict=True)):
        files = {name: paths[index] for name, paths in outputs.items()}
        measure(test_x, test_y, snapshots_path, summary_path, cfg, probes_cfg, files, class_sets)


def measure(test_x, test_y, snapshots_path, summary_path, cfg, probes_cfg, outputs, class_sets):
    summary, spec, snapshots = read_snapshots(snapshots_path, summary_path, "train")
    tables = measure_run(spec, snapshots, summary, test_x, test_y, cfg, probes_cfg, class_sets)
    for frame, name in zip(tables, ("layers", "shattering", "probes"), strict=True):
        write_csv(outputs[name], frame)
    epochs = sorted(set(tables[0]["epoch"]))
    log.info(
        "%s-%d seed %d: %d layer rows at epochs %s",
        spec.arch,
        spec.depth,
        summary["seed"],
        len(tables[0]),
        epochs,
    )


def main(smk) -> None:
    measure_all(
        smk.input.data,
        smk.input.info,
        smk.input.snapshots,
        smk.input.summaries,
        dict(smk.params.cfg),
        dict(smk.params.probes),
        smk.threads,
        dict(smk.output.items()),
    )


rule_script(globals(), main, "gradstats")
