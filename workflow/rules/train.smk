# One job per network and depth for all its seeds (jobs.pack_seeds), or one per seed: the seeds,
# log and benchmark of a job are chosen in common.smk (TRAIN_SEEDS, TRAIN_LOG, TRAIN_BENCHMARK).
rule train:
    input:
        **rules.prepare_data.output,
    output:
        **run_files(RUN, TRAIN_SEEDS),
    log:
        TRAIN_LOG,
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
        runs=run_params(
            RUN, lambda wc: {"arch": wc.arch, "depth": int(wc.depth)}, TRAIN_SEEDS
        ),
        spec=lambda wc: {"arch": wc.arch, "depth": int(wc.depth), **config["model"]},
        recipe=config["train"],
        job=JOB,
    script:
        "../../scripts/train.py"


# One job per bottleneck net for all its seeds: these nets train in seconds, about as long as a
# job's start-up (loading torch).
use rule train as train_bottleneck with:
    output:
        **run_files(BOTTLENECK_RUN, config["seeds"]),
    log:
        "results/logs/train_bottleneck/{dataset}/{variant}-b{width}.log",
    benchmark:
        "results/benchmarks/train_bottleneck/{dataset}-{variant}-b{width}.tsv"
    # train's priority is the depth, which these nets lack: all alike
    priority: 0
    params:
        runs=run_params(
            BOTTLENECK_RUN,
            lambda wc: {"variant": wc.variant, "width": int(wc.width)},
            config["seeds"],
        ),
        spec=lambda wc: {
            "family": "bottleneck",
            "variant": wc.variant,
            "width": int(wc.width),
            "expansion": config["bottleneck"]["expansion"],
            "blocks": config["bottleneck"]["blocks"],
        },
