rule gradstats:
    input:
        data="results/data/{dataset}.npz",
        snapshots=f"{RUN}/snapshots.pt",
        summary=f"{RUN}/summary.json",
    output:
        layers=f"{STATS}.csv",
        shattering=f"{STATS}.shattering.csv",
        probes=f"{STATS}.probes.csv",
    log:
        "results/logs/gradstats/{dataset}/{arch}-{depth}/seed{seed}.log",
    benchmark:
        "results/benchmarks/gradstats/{dataset}-{arch}-{depth}-seed{seed}.tsv"
    conda:
        "../../environment.yml"
    threads: config["jobs"]["threads"]
    params:
        cfg=config["gradstats"],
        probes=config["probes"],
    script:
        "../../scripts/gradstats.py"
