"""Rule prepare_data: build the data set once into one compact file that training loads whole.

Run it through Snakemake, e.g. ``snakemake --cores 1 results/data/digits.npz``.
"""

import logging

from resnet_essence.data import load_dataset, save_dataset
from resnet_essence.files import file_record, write_json
from resnet_essence.scripting import rule_script

log = logging.getLogger("prepare_data")


def prepare(dataset: str, data_root: str | None, options: dict, out: str, info: str) -> None:
    log.info("preparing %s from %s with %s", dataset, data_root or "(built in)", options)
    data = load_dataset(dataset, data_root, **options)
    save_dataset(data, out)
    # the size and checksum of the .npz let every rule that reads it check it first
    write_json(info, {**data.describe(), "npz": file_record(out)})
    log.info(
        "wrote %s: %d train, %d test images of shape %s, %d classes",
        out,
        len(data.x_train),
        len(data.x_test),
        data.image_shape,
        data.num_classes,
    )


def main(smk) -> None:
    p = smk.params
    prepare(p.dataset, p.data_root, dict(p.options), smk.output.data, smk.output.info)


rule_script(globals(), main, "prepare_data")
