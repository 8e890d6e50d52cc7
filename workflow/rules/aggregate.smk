TABLES = [
    "runs",
    "epochs",
    "final",
    "curves",
    "layers",
    "network_runs",
    "networks",
    "shattering",
    "probes",
    "trace",
    "bottleneck_runs",
    "bottleneck",
]


rule aggregate:
    input:
        summaries=runs(f"{RUN}/summary.json"),
        metrics=runs(f"{RUN}/metrics.csv"),
        traces=runs(f"{RUN}/trace.csv"),
        layers=runs(f"{STATS}.csv"),
        shattering=runs(f"{STATS}.shattering.csv"),
        probes=runs(f"{STATS}.probes.csv"),
        bottleneck_summaries=bottleneck_runs(f"{BOTTLENECK_RUN}/summary.json"),
        bottleneck_metrics=bottleneck_runs(f"{BOTTLENECK_RUN}/metrics.csv"),
    output:
        **{
            name: report(
                f"results/tables/{name}.csv",
                caption="../report/tables.rst",
                category="Tables",
            )
            for name in TABLES
        },
    log:
        "results/logs/aggregate.log",
    benchmark:
        "results/benchmarks/aggregate/aggregate.tsv"
    conda:
        "../envs/pipeline.yaml"
    script:
        "../../scripts/aggregate.py"
