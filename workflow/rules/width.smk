# The essay's tip 2: dead units and the backward signal against width, at the deepest depth. At
# initialisation for every arch (probes.widths, He-initialised, nothing trained), and, with
# probes.trained_widths, on residual and pre-activation nets trained with the recipe at those
# widths (one job per net and width, every init; the probes on the main nets run in gradstats).
use rule train as train_width with:
    output:
        **run_files(WIDTH_RUN, range(config["probes"]["width_inits"])),
    log:
        "results/logs/train_width/{dataset}/{arch}-{depth}-w{width}.log",
    benchmark:
        "results/benchmarks/train_width/{dataset}-{arch}-{depth}-w{width}.tsv"
    priority: lambda wc: int(wc.width)
    params:
        runs=run_params(
            WIDTH_RUN,
            lambda wc: {
                "arch": wc.arch,
                "depth": int(wc.depth),
                "width": int(wc.width),
            },
            range(config["probes"]["width_inits"]),
        ),
        spec=lambda wc: {
            "arch": wc.arch,
            "depth": int(wc.depth),
            **config["model"],
            "width": int(wc.width),
        },


rule width_sweep:
    input:
        **rules.prepare_data.output,
        snapshots=trained_widths(f"{WIDTH_RUN}/snapshots.pt"),
        summaries=trained_widths(f"{WIDTH_RUN}/summary.json"),
    output:
        sweep="results/tables/{dataset}-width_sweep.csv",
    log:
        "results/logs/width_sweep/{dataset}.log",
    benchmark:
        "results/benchmarks/width_sweep/{dataset}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: config["jobs"]["threads"]
    params:
        archs=config["archs"],
        depth=max(config["depths"]),
        model=config["model"],
        batch_size=config["gradstats"]["batch_size"],
        widths=config["probes"]["widths"],
        inits=config["probes"]["width_inits"],
    script:
        "../../scripts/width_sweep.py"
