TABLES = [
    "runs",
    "final",
    "curves",
    "layers",
    "network_runs",
    "networks",
    "shattering",
    "trace",
]


rule aggregate:
    input:
        summaries=runs(f"{RUN}/summary.json"),
        metrics=runs(f"{RUN}/metrics.csv"),
        traces=runs(f"{RUN}/trace.csv"),
        layers=runs(f"{STATS}.csv"),
        shattering=runs(f"{STATS}.shattering.csv"),
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
        "../../environment.yml"
    script:
        "../../scripts/aggregate.py"
