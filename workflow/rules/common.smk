import sys

import yaml

# The library is read from this checkout, whatever environment runs Snakemake and its jobs: a
# venv with the project installed, or Snakemake on its own with the conda environment of
# workflow/envs/, which holds only the dependencies.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)

from resnet_essence.config import check, check_device, coerce, in_schema_order, validate
from resnet_essence.data import loader_options
from resnet_essence.nets.interventions import PATTERN as ARCH_PATTERN
from resnet_essence.nets.interventions import parse_arch
from resnet_essence.scripting import library_for_jobs

library_for_jobs(SRC)

with open(
    workflow.source_path("../schemas/config.schema.yaml"), encoding="utf-8"
) as fh:
    CONFIG_SCHEMA = yaml.safe_load(fh)

# --config hands values over as strings; give them their schema types, then validate: a short
# list of what is wrong (with "did you mean" for a misspelt key) before any job, nothing else
config.update(coerce(config, CONFIG_SCHEMA))
validate(config, CONFIG_SCHEMA)
# one key order however the config was given (params compare with their key order)
ordered = in_schema_order(config, CONFIG_SCHEMA)
config.clear()
config.update(ordered)
check(config)


onstart:
    # config key 'device' checked against this machine once the DAG is built, before any job
    # starts and deletes outputs it would rewrite; not where an executor sends the jobs to
    # other machines (SLURM: a submit node may lack the GPUs its compute nodes have, and the
    # job checks again where it runs, resnet_essence.train.trainer.resolve_device)
    if workflow.local_exec:
        check_device(config["device"])


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    arch=ARCH_PATTERN,  # an arch name (resnet_essence/nets/interventions.py)
    depth=r"\d+",
    seed=r"\d+",
    variant=r"linear|relu|expansion",
    width=r"\d+",


RUN = "results/runs/{dataset}/{arch}-{depth}/seed{seed}"
BOTTLENECK_RUN = "results/bottleneck/{dataset}/{variant}-b{width}/seed{seed}"
STATS = "results/gradstats/{dataset}/{arch}-{depth}/seed{seed}"
WIDTH_RUN = "results/width/{dataset}/{arch}-{depth}-w{width}/seed{seed}"
# how a training job runs: whether it compiles or packs its seeds. Not its device, which the
# job reads from the config (scripts/train.py): every param is an output-changing setting to
# Snakemake, so a device there would retrain every finished run when it changes (auto is the
# CPU on this machine, yet a new value), and each run's summary records the device it used.
JOB = {
    "compile": config["jobs"]["compile"],
    "pack": config["jobs"]["pack_seeds"],
}

# what every run writes, in RUN (or the bottleneck and width-sweep equivalents)
RUN_FILES = ["metrics.csv", "trace.csv", "snapshots.pt", "model.pt", "summary.json"]

# The seeds of one job of rule train (workflow/rules/train.smk), its log and its benchmark. Packed
# (jobs.pack_seeds): one job per network and depth, every seed stepped together as one vectorised
# net (resnet_essence/train/packed.py); else one job per seed, its seed a wildcard (None). The
# files of every run are the same either way.
if config["jobs"]["pack_seeds"]:
    TRAIN_SEEDS = config["seeds"]
    TRAIN_LOG = "results/logs/train/{dataset}/{arch}-{depth}.log"
    TRAIN_BENCHMARK = "results/benchmarks/train/{dataset}-{arch}-{depth}.tsv"
else:
    TRAIN_SEEDS = None
    TRAIN_LOG = "results/logs/train/{dataset}/{arch}-{depth}/seed{seed}.log"
    TRAIN_BENCHMARK = "results/benchmarks/train/{dataset}-{arch}-{depth}-seed{seed}.tsv"


def run_files(run, seeds):
    """The outputs of a training job, by name (metrics, trace, ...): the RUN_FILES of ``run``
    for every seed of ``seeds``, or of ``run`` alone (its seed a wildcard) where ``seeds`` is
    None."""
    return {
        name.split(".")[0]: (
            f"{run}/{name}"
            if seeds is None
            else expand(f"{run}/{name}", seed=seeds, allow_missing=True)
        )
        for name in RUN_FILES
    }


def run_params(run, ids, seeds):
    """params.runs of a training job (scripts/train.py), from its wildcards: for every seed of
    ``seeds`` (None: the job's seed wildcard) the run's ids, ``ids(wildcards)`` and the seed, and
    its checkpoint."""

    def runs(wc):
        return [
            {
                "ids": {**ids(wc), "seed": int(seed)},
                # not an output: Snakemake deletes outputs before a rerun; this must survive
                "checkpoint": expand(f"{run}/checkpoint.pt", **{**wc, "seed": seed})[0],
            }
            for seed in ([wc.seed] if seeds is None else seeds)
        ]

    return runs


def runs(pattern):
    """``pattern`` for every run of the configured grid."""
    return expand(
        pattern,
        dataset=config["dataset"],
        arch=config["archs"],
        depth=config["depths"],
        seed=config["seeds"],
    )


def seeds_of(pattern):
    """``pattern`` for every configured seed, its other wildcards left for the rule."""
    return expand(pattern, seed=config["seeds"], allow_missing=True)


def groups(pattern):
    """``pattern`` for every (dataset, arch, depth) of the configured grid."""
    return expand(
        pattern, dataset=config["dataset"], arch=config["archs"], depth=config["depths"]
    )


def bottleneck_nets(pattern):
    """``pattern`` for every bottleneck net of the configured grid; none without variants."""
    return expand(
        pattern,
        dataset=config["dataset"],
        variant=config["bottleneck"]["variants"],
        width=config["bottleneck"]["widths"],
    )


def bottleneck_runs(pattern):
    """``pattern`` for every seed of every bottleneck net of the configured grid."""
    return expand(
        pattern,
        dataset=config["dataset"],
        variant=config["bottleneck"]["variants"],
        width=config["bottleneck"]["widths"],
        seed=config["seeds"],
    )


def data_options(dataset):
    """Options of the chosen loader, from the ``data:`` section."""
    return loader_options(config["data"], dataset)


# the width sweep's trained nets: residual and pre-activation nets only (workflow/rules/width.smk)
# the nets with a shortcut (not plain, nor residual-a0, which is the plain net)
WIDTH_ARCHS = [arch for arch in config["archs"] if parse_arch(arch).shortcut]


def trained_widths(pattern, seeds=True):
    """``pattern`` for every trained width-sweep run (every job, without ``seeds``); none
    without probes.widths and probes.trained_widths."""
    sweep = config["probes"]["widths"] and config["probes"]["trained_widths"]
    return expand(
        pattern,
        dataset=config["dataset"],
        arch=WIDTH_ARCHS if sweep else [],
        depth=max(config["depths"]),
        width=config["probes"]["trained_widths"],
        **({"seed": range(config["probes"]["width_inits"])} if seeds else {}),
    )
