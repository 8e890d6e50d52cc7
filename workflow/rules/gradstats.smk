# One job per network and depth, for all its seeds: the statistics of one run take about as long
# as a job's start-up (loading torch), so the seeds share one.
rule gradstats:
    input:
        **rules.prepare_data.output,
        snapshots=seeds_of(f"{RUN}/snapshots.pt"),
        summaries=seeds_of(f"{RUN}/summary.json"),
    output:
        layers=seeds_of(f"{STATS}.csv"),
        shattering=seeds_of(f"{STATS}.shattering.csv"),
        probes=seeds_of(f"{STATS}.probes.csv"),
    log:
        "results/logs/gradstats/{dataset}/{arch}-{depth}.log",
    benchmark:
        "results/benchmarks/gradstats/{dataset}-{arch}-{depth}.tsv"
    priority: lambda wc: int(wc.depth)
    conda:
        "../envs/pipeline.yaml"
    threads: config["jobs"]["threads"]
    params:
        cfg=config["gradstats"],
        probes=config["probes"],
    script:
        "../../scripts/gradstats.py"
