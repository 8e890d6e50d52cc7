rule figure:
    input:
        tables=expand(
            "results/tables/{name}.csv",
            name=["final", "curves", "layers", "networks", "bottleneck", "probes"],
        ),
        width_sweep=expand(
            "results/tables/{dataset}-width_sweep.csv",
            dataset=config["dataset"] if config["probes"]["widths"] else [],
        ),
        survival="results/collapse/survival.csv",
        blocks="results/collapse/blocks.csv",
        examples="results/collapse/examples.csv",
    output:
        png=report(
            "results/figures/main.png",
            caption="../report/figure.rst",
            category="Figure",
        ),
        pdf="results/figures/main.pdf",
        svg="results/figures/main.svg",
        panels=report(
            directory("results/figures/panels"),
            patterns=["{name}.png"],
            caption="../report/panel.rst",
            category="Figure",
            subcategory="Panels",
        ),
    log:
        "results/logs/figure.log",
    benchmark:
        "results/benchmarks/figure/figure.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/figure.py"


rule report:
    input:
        tables=expand(
            "results/tables/{name}.csv",
            name=[
                "runs",
                "epochs",
                "final",
                "network_runs",
                "bottleneck_runs",
                "bottleneck",
            ],
        ),
        survival="results/collapse/survival.csv",
        blocks="results/collapse/blocks.csv",
        width_sweep=expand(
            "results/tables/{dataset}-width_sweep.csv",
            dataset=config["dataset"] if config["probes"]["widths"] else [],
        ),
        figure="results/figures/main.png",
        benchmarks=[
            "results/benchmarks/collapse/collapse.tsv",
            expand(
                "results/benchmarks/prepare_data/{dataset}.tsv",
                dataset=config["dataset"],
            ),
            runs("results/benchmarks/train/{dataset}-{arch}-{depth}-seed{seed}.tsv"),
            runs(
                "results/benchmarks/gradstats/{dataset}-{arch}-{depth}-seed{seed}.tsv"
            ),
            bottleneck_runs(
                "results/benchmarks/train_bottleneck/{dataset}-{variant}-b{width}-seed{seed}.tsv"
            ),
            "results/benchmarks/aggregate/aggregate.tsv",
            "results/benchmarks/figure/figure.tsv",
        ],
    output:
        md="results/report.md",
        html="results/report.html",
        claims=report(
            "results/tables/claims.csv",
            caption="../report/claims.rst",
            category="Claims",
        ),
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report/report.tsv"
    conda:
        "../../environment.yml"
    script:
        "../../scripts/report.py"


# Not part of `all`: publishes a finished run into docs/{name}/ for the README, e.g.
# `snakemake --cores 2 --forcerun publish docs/example/PROVENANCE.md`. See scripts/publish.py.
rule publish:
    input:
        figure="results/figures/main.png",
        report="results/report.md",
        claims="results/tables/claims.csv",
        benchmarks=rules.report.input.benchmarks,
        report_benchmark="results/benchmarks/report/report.tsv",
    output:
        figure="docs/{name}/main.png",
        report="docs/{name}/report.md",
        claims="docs/{name}/claims.csv",
        claims_md="docs/{name}/claims.md",
        config="docs/{name}/config.yaml",
        provenance="docs/{name}/PROVENANCE.md",
    log:
        "results/logs/publish/{name}.log",
    wildcard_constraints:
        name=r"example[a-z0-9_-]*",
    conda:
        "../../environment.yml"
    params:
        workflow_dir=workflow.basedir,
    script:
        "../../scripts/publish.py"


rule example:
    input:
        "docs/example/PROVENANCE.md",
