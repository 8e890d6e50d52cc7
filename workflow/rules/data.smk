rule prepare_data:
    output:
        data="results/data/{dataset}.npz",
        info="results/data/{dataset}.json",
    log:
        "results/logs/prepare_data/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_data/{dataset}.tsv"
    conda:
        "../envs/pipeline.yaml"
    params:
        dataset=lambda wc: wc.dataset,
        data_root=config["data_root"],
        options=lambda wc: data_options(wc.dataset),
    script:
        "../../scripts/prepare_data.py"
