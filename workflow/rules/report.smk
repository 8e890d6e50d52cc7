rule figure:
    input:
        tables=expand(
            "results/tables/{name}.csv", name=["final", "curves", "layers", "networks"]
        ),
        survival="results/collapse/survival.csv",
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
            "results/tables/{name}.csv", name=["runs", "final", "network_runs"]
        ),
        survival="results/collapse/survival.csv",
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
    params:
        rule=config["report"],
    script:
        "../../scripts/report.py"


# Not part of `all`: publishes a finished run for the README. See scripts/example.py.
rule example:
    input:
        figure="results/figures/main.png",
        report="results/report.md",
        claims="results/tables/claims.csv",
    output:
        figure="docs/example/main.png",
        report="docs/example/report.md",
        claims="docs/example/claims.csv",
        claims_md="docs/example/claims.md",
        config="docs/example/config.yaml",
        provenance="docs/example/PROVENANCE.md",
    log:
        "results/logs/example.log",
    conda:
        "../../environment.yml"
    params:
        workflow_dir=workflow.basedir,
    script:
        "../../scripts/example.py"
