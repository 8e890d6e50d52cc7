# The essay's tip 2 at initialisation: dead units and the backward signal against width, at the
# deepest depth, without training (the probes on trained nets run in the gradstats jobs).
rule width_sweep:
    input:
        data="results/data/{dataset}.npz",
        info="results/data/{dataset}.json",
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
        norm=config["model"]["norm"],
        batch_size=config["gradstats"]["batch_size"],
        widths=config["probes"]["widths"],
        inits=config["probes"]["width_inits"],
    script:
        "../../scripts/width_sweep.py"
