from resnet_essence.report.captions import supplementary_captions

WIDTH_SWEEP = expand(
    "results/tables/{dataset}-width_sweep.csv",
    dataset=config["dataset"] if config["probes"]["widths"] else [],
)
# the benchmark files of every job that computes; the figure, panels and report only draw
COMPUTE_BENCHMARKS = [
    "results/benchmarks/collapse/collapse.tsv",
    expand("results/benchmarks/prepare_data/{dataset}.tsv", dataset=config["dataset"]),
    runs(TRAIN_BENCHMARK),
    groups("results/benchmarks/gradstats/{dataset}-{arch}-{depth}.tsv"),
    bottleneck_runs(
        "results/benchmarks/train_bottleneck/{dataset}-{variant}-b{width}.tsv"
    ),
    expand(
        "results/benchmarks/width_sweep/{dataset}.tsv",
        dataset=config["dataset"] if config["probes"]["widths"] else [],
    ),
    trained_widths(
        "results/benchmarks/train_width/{dataset}-{arch}-{depth}-w{width}.tsv",
        seeds=False,
    ),
    "results/benchmarks/aggregate/aggregate.tsv",
]
# what the figures are drawn from: the tables every verdict is computed from (the claims are
# computed again from them, as the report computes them), the tables aggregated from them, the
# per-layer tables and the collapse examples a published run lacks, and the claims of the
# published runs of report.beside
FIGURE_INPUTS = {
    **{
        name: f"results/tables/{name}.csv"
        for name in [
            "runs",
            "epochs",
            "network_runs",
            "bottleneck_runs",
            "final",
            "curves",
            "networks",
            "bottleneck",
            "layers",
            "probes",
        ]
    },
    "width_sweep": WIDTH_SWEEP,
    "survival": "results/collapse/survival.csv",
    "blocks": "results/collapse/blocks.csv",
    "examples": "results/collapse/examples.csv",
    # published runs live in the repository: a relative folder is read from its root
    "beside": [
        str(Path(workflow.basedir) / folder / "claims.csv")
        for folder in config["report"]["beside"].values()
    ],
}
# the explanation family's figure, in runs that train intervention nets (nets/interventions.py)
INTERVENTION_FIGURE = (
    ["results/figures/interventions.png"]
    if any(arch not in ("plain", "residual", "preact") for arch in config["archs"])
    else []
)
# the supplementary figures' captions, by kind (resnet_essence/report/figures.py): the caption of
# workflow/report/supplementary.rst picks each figure's from its file name, S<k>_<kind>.png
SUPPLEMENTARY_CAPTIONS = supplementary_captions()


rule figure:
    input:
        **FIGURE_INPUTS,
    output:
        png=report(
            "results/figures/main.png",
            caption="../report/figure.rst",
            category="Figure",
        ),
        pdf="results/figures/main.pdf",
        svg="results/figures/main.svg",
        # numbered S1, S2, ... among the figures the run has data for: a directory
        supplementary=report(
            directory("results/figures/supplementary"),
            patterns=["{name}.png"],
            caption="../report/supplementary.rst",
            category="Figure",
            subcategory="Supplementary",
        ),
    log:
        "results/logs/figure.log",
    benchmark:
        "results/benchmarks/figure/figure.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        captions=SUPPLEMENTARY_CAPTIONS,
    script:
        "../../scripts/figure.py"


# training error and backward signal of the intervention nets, against alpha and by activation
rule interventions_figure:
    input:
        tables=expand(
            "results/tables/{name}.csv", name=["runs", "epochs", "network_runs"]
        ),
    output:
        png=report(
            "results/figures/interventions.png",
            caption="../report/interventions.rst",
            category="Figure",
        ),
    log:
        "results/logs/interventions_figure.log",
    benchmark:
        "results/benchmarks/interventions_figure/interventions_figure.tsv"
    conda:
        "../envs/pipeline.yaml"
    script:
        "../../scripts/interventions_figure.py"


# each panel of every figure alone, beside them (it runs in parallel with rule figure)
rule panels:
    input:
        **FIGURE_INPUTS,
    output:
        panels=report(
            directory("results/figures/panels"),
            patterns=["{name}.png"],
            caption="../report/panel.rst",
            category="Figure",
            subcategory="Panels",
        ),
    log:
        "results/logs/panels.log",
    benchmark:
        "results/benchmarks/panels/panels.tsv"
    conda:
        "../envs/pipeline.yaml"
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
        width_sweep=WIDTH_SWEEP,
        figure="results/figures/main.png",
        supplementary="results/figures/supplementary",
        interventions=INTERVENTION_FIGURE,
        # published runs live in the repository: a relative folder is read from its root
        beside=[
            str(Path(workflow.basedir) / folder / "claims.csv")
            for folder in config["report"]["beside"].values()
        ],
        benchmarks=[
            *COMPUTE_BENCHMARKS,
            "results/benchmarks/figure/figure.tsv",
            "results/benchmarks/panels/panels.tsv",
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
        "../envs/pipeline.yaml"
    script:
        "../../scripts/report.py"


# Not part of `all`: publishes a finished run into docs/{name}/ for the README, e.g.
# `snakemake --cores 2 --forcerun publish docs/example/PROVENANCE.md`. See scripts/publish.py.
rule publish:
    input:
        figure="results/figures/main.png",
        pdf="results/figures/main.pdf",
        svg="results/figures/main.svg",
        supplementary="results/figures/supplementary",
        interventions=INTERVENTION_FIGURE,
        report="results/report.md",
        claims="results/tables/claims.csv",
        benchmarks=COMPUTE_BENCHMARKS,
        # the tables every verdict is computed from (resnet_essence/report/published.py)
        runs="results/tables/runs.csv",
        epochs="results/tables/epochs.csv",
        network_runs="results/tables/network_runs.csv",
        bottleneck_runs="results/tables/bottleneck_runs.csv",
        survival="results/collapse/survival.csv",
        blocks="results/collapse/blocks.csv",
        width_sweep=WIDTH_SWEEP,
    output:
        **(
            {"interventions": "docs/{name}/interventions.png"}
            if INTERVENTION_FIGURE
            else {}
        ),
        tables=directory("docs/{name}/tables"),
        figure="docs/{name}/main.png",
        pdf="docs/{name}/main.pdf",
        svg="docs/{name}/main.svg",
        supplementary=directory("docs/{name}/supplementary"),
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
        "../envs/pipeline.yaml"
    params:
        workflow_dir=workflow.basedir,
    script:
        "../../scripts/publish.py"


rule example:
    input:
        "docs/example/PROVENANCE.md",
