rule train:
    input:
        data="results/data/{dataset}.npz",
    output:
        **{name.split(".")[0]: f"{RUN}/{name}" for name in RUN_FILES},
    log:
        "results/logs/train/{dataset}/{arch}-{depth}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}-{arch}-{depth}-seed{seed}.tsv"
    conda:
        "../../environment.yml"
    threads: config["jobs"]["threads"]
    resources:
        gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
    params:
        ids=lambda wc: {"arch": wc.arch, "depth": int(wc.depth), "seed": int(wc.seed)},
        spec=lambda wc: {"arch": wc.arch, "depth": int(wc.depth), **config["model"]},
        recipe=config["train"],
        job={"device": config["device"], "compile": config["jobs"]["compile"]},
        # not an output: Snakemake deletes outputs before a rerun, the checkpoint must survive
        checkpoint=f"{RUN}/checkpoint.pt",
    script:
        "../../scripts/train.py"


rule train_bottleneck:
    input:
        data="results/data/{dataset}.npz",
    output:
        **{name.split(".")[0]: f"{BOTTLENECK_RUN}/{name}" for name in RUN_FILES},
    log:
        "results/logs/train_bottleneck/{dataset}/{variant}-b{width}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_bottleneck/{dataset}-{variant}-b{width}-seed{seed}.tsv"
    conda:
        "../../environment.yml"
    threads: config["jobs"]["threads"]
    resources:
        gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
    params:
        ids=lambda wc: {
            "variant": wc.variant,
            "width": int(wc.width),
            "seed": int(wc.seed),
        },
        spec=lambda wc: {
            "family": "bottleneck",
            "variant": wc.variant,
            "width": int(wc.width),
            "expansion": config["bottleneck"]["expansion"],
            "blocks": config["bottleneck"]["blocks"],
        },
        recipe=config["train"],
        job={"device": config["device"], "compile": config["jobs"]["compile"]},
        checkpoint=f"{BOTTLENECK_RUN}/checkpoint.pt",
    script:
        "../../scripts/train.py"
