rule train:
    input:
        data="results/data/{dataset}.npz",
    output:
        metrics=f"{RUN}/metrics.csv",
        trace=f"{RUN}/trace.csv",
        snapshots=f"{RUN}/snapshots.pt",
        model=f"{RUN}/model.pt",
        summary=f"{RUN}/summary.json",
    log:
        "results/logs/train/{dataset}/{arch}-{depth}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train/{dataset}-{arch}-{depth}-seed{seed}.tsv"
    conda:
        "../../environment.yml"
    threads: config["train"]["threads"]
    resources:
        gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
    params:
        model=config["model"],
        train={
            **config["train"],
            "snapshot_epochs": config["gradstats"]["snapshot_epochs"],
        },
        device=config["device"],
        # not an output: Snakemake deletes outputs before a rerun, the checkpoint must survive
        checkpoint=f"{RUN}/checkpoint.pt",
    script:
        "../../scripts/train.py"
