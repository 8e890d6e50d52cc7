import yaml
from snakemake.utils import validate

from resnet_essence.config import check, coerce

with open(
    workflow.source_path("../schemas/config.schema.yaml"), encoding="utf-8"
) as fh:
    CONFIG_SCHEMA = yaml.safe_load(fh)

# --config hands values over as strings; give them their schema types, then validate
config.update(coerce(config, CONFIG_SCHEMA))
validate(config, "../schemas/config.schema.yaml")
check(config)


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    arch=r"plain|residual",
    depth=r"\d+",
    seed=r"\d+",


RUN = "results/runs/{dataset}/{arch}-{depth}/seed{seed}"
STATS = "results/gradstats/{dataset}/{arch}-{depth}/seed{seed}"


def runs(pattern):
    """``pattern`` for every run of the configured grid."""
    return expand(
        pattern,
        dataset=config["dataset"],
        arch=config["archs"],
        depth=config["depths"],
        seed=config["seeds"],
    )


def data_options(dataset):
    """Options of the chosen loader, from the ``data:`` section."""
    data = config["data"]
    if dataset == "digits":
        return {"test_fraction": data["test_fraction"], "seed": data["split_seed"]}
    if dataset == "cifar10":
        return {
            "download": data["download"],
            "validation_split": data["validation_split"],
            "md5": data["cifar10_md5"],
        }
    return {"image_size": data["image_size"], "grayscale": data["grayscale"]}
