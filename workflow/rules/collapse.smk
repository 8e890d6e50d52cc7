rule collapse:
    output:
        survival=report(
            "results/collapse/survival.csv",
            caption="../report/survival.rst",
            category="Collapse",
        ),
        examples="results/collapse/examples.csv",
    log:
        "results/logs/collapse.log",
    benchmark:
        "results/benchmarks/collapse/collapse.tsv"
    conda:
        "../../environment.yml"
    params:
        cfg=config["collapse"],
    script:
        "../../scripts/collapse.py"
