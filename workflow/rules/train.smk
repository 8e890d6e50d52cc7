# Packed (jobs.pack_seeds): one job per network and depth, every seed stepped together as one
# vectorised net (resnet_essence/train/packed.py); else one job per seed. The files of every run are
# the same either way.
if config["jobs"]["pack_seeds"]:

    rule train:
        input:
            data="results/data/{dataset}.npz",
            info="results/data/{dataset}.json",
        output:
            **{name.split(".")[0]: seeds_of(f"{RUN}/{name}") for name in RUN_FILES},
        log:
            "results/logs/train/{dataset}/{arch}-{depth}.log",
        benchmark:
            TRAIN_BENCHMARK
        # the deepest nets first: the longest jobs start early and short ones fill the end
        priority: lambda wc: int(wc.depth)
        conda:
            "../envs/pipeline.yaml"
        threads: config["jobs"]["threads"]
        resources:
            gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
        params:
            runs=lambda wc: [
                {
                    "ids": {"arch": wc.arch, "depth": int(wc.depth), "seed": seed},
                    # not an output: Snakemake deletes outputs before a rerun; this must survive
                    "checkpoint": expand(f"{RUN}/checkpoint.pt", **wc, seed=seed)[0],
                }
                for seed in config["seeds"]
            ],
            spec=lambda wc: {"arch": wc.arch, "depth": int(wc.depth), **config["model"]},
            recipe=config["train"],
            job=JOB,
        script:
            "../../scripts/train.py"

else:

    rule train:
        input:
            data="results/data/{dataset}.npz",
            info="results/data/{dataset}.json",
        output:
            **{name.split(".")[0]: f"{RUN}/{name}" for name in RUN_FILES},
        log:
            "results/logs/train/{dataset}/{arch}-{depth}/seed{seed}.log",
        benchmark:
            TRAIN_BENCHMARK
        # the deepest nets first: the longest jobs start early and short ones fill the end
        priority: lambda wc: int(wc.depth)
        conda:
            "../envs/pipeline.yaml"
        threads: config["jobs"]["threads"]
        resources:
            gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
        params:
            runs=lambda wc: [
                {
                    "ids": {
                        "arch": wc.arch,
                        "depth": int(wc.depth),
                        "seed": int(wc.seed),
                    },
                    # not an output: Snakemake deletes outputs before a rerun; this must survive
                    "checkpoint": expand(f"{RUN}/checkpoint.pt", **wc)[0],
                }
            ],
            spec=lambda wc: {"arch": wc.arch, "depth": int(wc.depth), **config["model"]},
            recipe=config["train"],
            job=JOB,
        script:
            "../../scripts/train.py"


# One job per bottleneck net for all its seeds: these nets train in seconds, about as long as a
# job's start-up (loading torch).
rule train_bottleneck:
    input:
        data="results/data/{dataset}.npz",
        info="results/data/{dataset}.json",
    output:
        **{
            name.split(".")[0]: seeds_of(f"{BOTTLENECK_RUN}/{name}")
            for name in RUN_FILES
        },
    log:
        "results/logs/train_bottleneck/{dataset}/{variant}-b{width}.log",
    benchmark:
        "results/benchmarks/train_bottleneck/{dataset}-{variant}-b{width}.tsv"
    conda:
        "../envs/pipeline.yaml"
    threads: config["jobs"]["threads"]
    resources:
        gpu=lambda wc: 0 if config["device"] == "cpu" else 1,
    params:
        runs=lambda wc: [
            {
                "ids": {"variant": wc.variant, "width": int(wc.width), "seed": seed},
                "checkpoint": expand(
                    f"{BOTTLENECK_RUN}/checkpoint.pt", **wc, seed=seed
                )[0],
            }
            for seed in config["seeds"]
        ],
        spec=lambda wc: {
            "family": "bottleneck",
            "variant": wc.variant,
            "width": int(wc.width),
            "expansion": config["bottleneck"]["expansion"],
            "blocks": config["bottleneck"]["blocks"],
        },
        recipe=config["train"],
        job=JOB,
    script:
        "../../scripts/train.py"
