"""Rule collapse: the ReLU-collapse experiment of MobileNetV2 Fig. 1, and the same test of the
maps a network applies (a plain layer, the original and the pre-activation residual block).

Run it through Snakemake: ``snakemake --cores 1 results/collapse/survival.csv``.
"""

import logging

from resnet_essence import collapse
from resnet_essence.files import write_csv
from resnet_essence.scripting import rule_script

log = logging.getLogger("collapse")


def run(cfg: dict, out_survival: str, out_blocks: str, out_examples: str) -> None:
    tables = collapse.run_experiment(collapse.CollapseConfig.from_config(cfg))
    for path, frame in zip((out_survival, out_blocks, out_examples), tables, strict=True):
        write_csv(path, frame)
        log.info("wrote %s: %d rows", path, len(frame))


def main(smk) -> None:
    out = smk.output
    run(dict(smk.params.cfg), out.survival, out.blocks, out.examples)


rule_script(globals(), main, "collapse")
