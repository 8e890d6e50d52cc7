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
FIGURE_INPUTS = {
    "tables": expand(
        "results/tables/{name}.csv",
        name=["final", "curves", "layers", "networks", "bottleneck", "probes"],
    ),
    "width_sweep": WIDTH_SWEEP,
    "survival": "results/collapse/survival.csv",
    "blocks": "results/collapse/blocks.csv",
    "examples": "results/collapse/examples.csv",
}
# the explanation family's figure, in runs that train intervention nets (nets/interventions.py)
INTERVENTION_FIGURE = (
    ["results/figures/interventions.png"]
    if any(arch not in ("plain", "residual", "preact") for arch in config["archs"])
    else []
)
# one caption per panel: workflow/report/panels/<letter>_<name>.rst, a file for every panel that
# resnet_essence.report.figure draws (a test checks that the two lists agree)
PANELS = sorted(
    p.stem for p in (Path(workflow.basedir) / "workflow/report/panels").glob("*.rst")
)


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
    log:
        "results/logs/figure.log",
    benchmark:
        "results/benchmarks/figure/figure.tsv"
    conda:
        "../envs/pipeline.yaml"
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


# each panel alone, beside the main figure (it runs in parallel with it)
rule panels:
    input:
        **FIGURE_INPUTS,
    output:
        **{
            name: report(
                f"results/figures/panels/{name}.png",
                caption=f"../report/panels/{name}.rst",
                category="Figure",
                subcategory="Panels",
            )
            for name in PANELS
        },
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
