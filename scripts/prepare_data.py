"""Rule prepare_data: build the data set once into one compact file that training loads whole.

Under Snakemake it reads the ``snakemake`` object; from a shell:
    python scripts/prepare_data.py --dataset digits --out results/data/digits.npz
"""

import argparse
import logging

from resnet_essence.data import load_dataset, save_dataset
from resnet_essence.io import write_json
from resnet_essence.scripting import run_main, setup_logging

log = logging.getLogger("prepare_data")


def prepare(dataset: str, data_root: str | None, options: dict, out: str, info: str) -> None:
    log.info("preparing %s from %s with %s", dataset, data_root or "(built in)", options)
    data = load_dataset(dataset, data_root, **options)
    save_dataset(data, out)
    write_json(info, data.describe())
    log.info(
        "wrote %s: %d train, %d test images of shape %s, %d classes",
        out,
        len(data.x_train),
        len(data.x_test),
        data.image_shape,
        data.num_classes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, choices=["digits", "cifar10", "imagefolder"])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", required=True, help="the .npz file to write")
    parser.add_argument("--info", default=None, help="JSON description (default: OUT.json)")
    args = parser.parse_args()
    info = args.info or f"{args.out.removesuffix('.npz')}.json"
    prepare(args.dataset, args.data_root, {}, args.out, info)


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: prepare(
            snakemake.params.dataset,
            snakemake.params.data_root,
            dict(snakemake.params.options),
            snakemake.output.data,
            snakemake.output.info,
        ),
        "prepare_data",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "prepare_data")
