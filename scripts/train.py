"""Rule train: one network, one seed; per-epoch metrics, gradient trace, snapshots, weights.

Resumes from ``checkpoint.pt`` beside the outputs (not a declared output, so Snakemake leaves it
alone after a kill). From a shell:
    python scripts/train.py --data results/data/digits.npz --arch plain --depth 20 --seed 0 \
        --outdir /tmp/run --epochs 2
"""

import argparse
import logging
from pathlib import Path

import pandas as pd
import torch

from resnet_essence.data import read_dataset
from resnet_essence.io import atomic_path, write_csv, write_json
from resnet_essence.models import NetSpec
from resnet_essence.scripting import run_main, setup_logging
from resnet_essence.training import Interrupted, TrainConfig, Trainer, resolve_device

log = logging.getLogger("train")


def train(
    data_path, arch, depth, seed, model_cfg, train_cfg, device, threads, outputs, checkpoint
) -> None:
    torch.set_num_threads(threads)
    data = read_dataset(data_path)
    spec = NetSpec(
        arch=arch, depth=depth, num_classes=data.num_classes, in_channels=data.channels, **model_cfg
    )
    options = {k: v for k, v in train_cfg.items() if k not in ("threads", "compile")}
    options["lr_milestones"] = tuple(options.get("lr_milestones", ()))
    options["snapshot_epochs"] = tuple(options.get("snapshot_epochs", (0,)))
    cfg = TrainConfig(seed=seed, **options)
    tensors = {
        k: torch.from_numpy(getattr(data, k)) for k in ("x_train", "y_train", "x_test", "y_test")
    }
    trainer = Trainer(
        spec,
        cfg,
        tensors,
        resolve_device(device),
        checkpoint,
        data_info={"file": str(data_path), "train": len(data.x_train)},
        compile_model=bool(train_cfg.get("compile", False)),
    )
    log.info(
        "%s-%d seed %d: %d parameters on %s, %d threads",
        arch,
        depth,
        seed,
        trainer.params,
        trainer.device,
        threads,
    )
    try:
        state = trainer.run()
    except Interrupted as stop:
        log.error("%s", stop)
        raise SystemExit(143) from stop
    summary = trainer.summary()
    summary["dataset"] = data.name
    write_csv(outputs["metrics"], pd.DataFrame(state.metrics))
    trace_columns = ["step", "epoch", "layer_index", "layer", "weight_grad_norm"]
    write_csv(outputs["trace"], pd.DataFrame(trainer.trace_rows(), columns=trace_columns))
    with atomic_path(outputs["snapshots"]) as tmp:
        torch.save({"spec": summary["spec"], "snapshots": state.snapshots}, tmp)
    with atomic_path(outputs["model"]) as tmp:
        torch.save({"spec": summary["spec"], "state_dict": trainer.cpu_weights()}, tmp)
    write_json(outputs["summary"], summary)  # last: its presence means the run is complete
    trainer.remove_checkpoint()
    log.info(
        "%s after %d epochs: train_err %.4f test_err %.4f",
        state.status,
        state.epoch,
        summary["final_train_err"],
        summary["final_test_err"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--arch", required=True, choices=["plain", "residual"])
    parser.add_argument("--depth", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--outdir", required=True)
    args = parser.parse_args()
    out = Path(args.outdir)
    outputs = {
        name: out / file
        for name, file in (
            ("metrics", "metrics.csv"),
            ("summary", "summary.json"),
            ("trace", "trace.csv"),
            ("snapshots", "snapshots.pt"),
            ("model", "model.pt"),
        )
    }
    train(
        args.data,
        args.arch,
        args.depth,
        args.seed,
        {},
        {"epochs": args.epochs, "lr": args.lr},
        args.device,
        args.threads,
        outputs,
        out / "checkpoint.pt",
    )


if "snakemake" in globals():
    setup_logging(snakemake.log[0])
    run_main(
        lambda: train(
            snakemake.input.data,
            snakemake.wildcards.arch,
            int(snakemake.wildcards.depth),
            int(snakemake.wildcards.seed),
            dict(snakemake.params.model),
            dict(snakemake.params.train),
            snakemake.params.device,
            snakemake.threads,
            dict(snakemake.output.items()),
            snakemake.params.checkpoint,
        ),
        "train",
    )
elif __name__ == "__main__":
    setup_logging()
    run_main(main, "train")
