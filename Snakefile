# resnet-essence: ReLU collapse, plain against residual nets, gradient statistics, one figure
# and a report whose verdicts are computed from the data. See README.md.


from pathlib import Path


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/collapse.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/gradstats.smk"
include: "workflow/rules/width.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/report.smk"


report: "workflow/report/workflow.rst"


# small jobs (and the download of a data set) stay on the machine that runs Snakemake
localrules:
    prepare_data,
    aggregate,
    figure,
    panels,
    report,
    publish,
    example,


rule all:
    default_target: True
    input:
        "results/report.md",
        "results/report.html",
        "results/figures/main.png",
        rules.panels.output,
        # every file a run writes, also those no later rule reads (the final weights, model.pt):
        # one deleted by hand is made again, not left missing with "Nothing to be done"
        [runs(f"{RUN}/{name}") for name in RUN_FILES],
        [bottleneck_runs(f"{BOTTLENECK_RUN}/{name}") for name in RUN_FILES],
        [trained_widths(f"{WIDTH_RUN}/{name}") for name in RUN_FILES],
