"""What packing seeds (resnet_essence.train.packed) and bf16 buy, per training step, here.

Run as ``python benchmarks/bench_pack.py`` (see ``--help`` and benchmarks/README.md).

For each net and each precision, the same K seeds are stepped two ways on the same data (a
digits-sized set by default: 1,437 random 8x8 one-channel images, or ``--size 32 --channels 3``
for CIFAR-10's shape), with the recipe of config.yaml (batch 32 by default):

- *alone*: each seed's ``SeedStepper.step`` in turn, as one job per seed trains them;
- *packed*: ``PackedStepper.step``, every seed in one vectorised call.

Both are set up side by side and warmed up; then they take turns, ``--steps`` steps of every
seed per round, the order swapped every other round, ``--repeats`` rounds. The figure is the
median over rounds of each round's ratio (time alone / time packed), so a slow spell of a
shared machine, which hits both halves of a round, largely cancels. bf16 is measured against
fp32 the same way (alone in both). It also times what an epoch costs besides its steps: the
evaluation of the test set (``--test`` images), one gradient-norm trace record, one snapshot.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

try:
    from resnet_essence.files import write_json
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import write_json
from resnet_essence.nets.resnet import NetSpec
from resnet_essence.train.loop import SeedStepper
from resnet_essence.train.packed import PackedStepper
from resnet_essence.train.trainer import TrainConfig, Trainer, evaluate

ROOT = Path(__file__).resolve().parents[1]


def _data(n_train: int, n_test: int, size: int, channels: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    make = lambda n: torch.randint(
        0, 256, (n, channels, size, size), generator=g, dtype=torch.uint8
    )
    labels = lambda n: torch.randint(0, 10, (n,), generator=g)
    return {
        "x_train": make(n_train),
        "y_train": labels(n_train),
        "x_test": make(n_test),
        "y_test": labels(n_test),
    }


def _recipe(seed: int, precision: str, batch: int) -> TrainConfig:
    section = yaml.safe_load((ROOT / "config.yaml").read_text())["train"]
    section.update(precision=precision, batch_size=batch, trace_every=0)
    return TrainConfig.from_config(section, seed=seed)


def _timer(steps_of):
    """Seconds for one call of ``steps_of()``."""
    started = time.perf_counter()
    steps_of()
    return time.perf_counter() - started


def _random_batches(trainers: list[Trainer], batch: int) -> list[torch.Tensor]:
    """One batch of random training images for each run, drawn with its own generator."""
    return [torch.randint(0, len(t.x_train), (batch,), generator=t.generator) for t in trainers]


def _alone_steps(trainers: list[Trainer], steps: int, batch: int):
    steppers = [SeedStepper([trainer]) for trainer in trainers]

    def run():
        for stepper in steppers:
            for _ in range(steps):
                stepper.step(_random_batches(stepper.runs, batch))

    return run


def _packed_steps(trainers: list[Trainer], steps: int, batch: int):
    stepper = PackedStepper(trainers)

    def run():
        for _ in range(steps):
            stepper.step(_random_batches(stepper.runs, batch))

    return run


def _rounds(first, second, repeats: int) -> tuple[list[float], list[float]]:
    """Alternating timed rounds of two step functions: (seconds of first, of second)."""
    a, b = [], []
    for round_ in range(repeats):
        if round_ % 2:
            b.append(_timer(second))
            a.append(_timer(first))
        else:
            a.append(_timer(first))
            b.append(_timer(second))
    return a, b


def _epoch_costs(trainer: Trainer, batch: int, n_train: int) -> dict[str, float]:
    """Seconds an epoch of one run spends stepping, and on each thing done once an epoch."""

    def evaluation():
        m = trainer
        evaluate(m.model, m.x_test, m.y_test, m.normalise, 1000, m.autocast)

    step = statistics.median(_timer(_alone_steps([trainer], 1, batch)) for _ in range(10))
    trace = SeedStepper([trainer]).record_trace  # on the gradients of the last step
    return {
        "steps": step * -(-n_train // batch),
        "evaluation": statistics.median(_timer(evaluation) for _ in range(3)),
        "trace_record": statistics.median(_timer(trace) for _ in range(10)),
        "snapshot": statistics.median(_timer(trainer.cpu_weights) for _ in range(10)),
    }


def bench(args) -> dict:
    torch.set_num_threads(args.threads)
    data = _data(args.train, args.test, args.size, args.channels)
    cpu = torch.device("cpu")
    seeds = list(range(args.seeds))
    results = []
    for arch, depth in [(a, d) for a in args.archs for d in args.depths]:
        model = yaml.safe_load((ROOT / "config.yaml").read_text())["model"]
        spec = NetSpec.from_config({**model, "width": args.width}, arch, depth, 10, args.channels)
        row = {"net": f"{arch}-{depth}", "seeds": len(seeds)}
        for precision in args.precisions:
            cfgs = [_recipe(s, precision, args.batch) for s in seeds]
            alone = [Trainer(spec, c, data, cpu) for c in cfgs]
            together = [Trainer(spec, c, data, cpu, packed=len(cfgs)) for c in cfgs]
            a_run = _alone_steps(alone, args.steps, args.batch)
            p_run = _packed_steps(together, args.steps, args.batch)
            _rounds(a_run, p_run, 1)  # warm-up, not timed
            a, p = _rounds(a_run, p_run, args.repeats)
            images = args.steps * args.batch * len(seeds)
            row[precision] = {
                "alone_images_per_s": images / statistics.median(a),
                "packed_images_per_s": images / statistics.median(p),
                "packed_speedup": statistics.median(x / y for x, y in zip(a, p, strict=True)),
                "alone_s": a,
                "packed_s": p,
            }
            found = row[precision]
            print(
                f"{row['net']} {precision}: alone {found['alone_images_per_s']:.0f} img/s, "
                f"packed ({len(seeds)} seeds) {found['packed_images_per_s']:.0f} img/s: "
                f"x{found['packed_speedup']:.2f}",
                flush=True,
            )
        if {"fp32", "bf16"} <= set(args.precisions):
            fp32 = [Trainer(spec, _recipe(s, "fp32", args.batch), data, cpu) for s in seeds]
            bf16 = [Trainer(spec, _recipe(s, "bf16", args.batch), data, cpu) for s in seeds]
            f_run = _alone_steps(fp32, args.steps, args.batch)
            b_run = _alone_steps(bf16, args.steps, args.batch)
            _rounds(f_run, b_run, 1)
            f, b = _rounds(f_run, b_run, args.repeats)
            row["bf16_speedup_alone"] = statistics.median(x / y for x, y in zip(f, b, strict=True))
            print(f"{row['net']}: bf16 against fp32, alone x{row['bf16_speedup_alone']:.2f}")
        trainer = Trainer(spec, _recipe(0, "fp32", args.batch), data, cpu)
        row["epoch_costs_s"] = _epoch_costs(trainer, args.batch, args.train)
        print(f"{row['net']}: one epoch, in seconds: {row['epoch_costs_s']}", flush=True)
        results.append(row)
    return {
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "torch": torch.__version__,
            "load_before": os.getloadavg()[0],
        },
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": results,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archs", nargs="+", default=["residual"])
    parser.add_argument("--depths", nargs="+", type=int, default=[20, 56])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=8, help="image side (8: digits, 32: CIFAR-10)")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--train", type=int, default=1437, help="training images (one epoch)")
    parser.add_argument("--test", type=int, default=360, help="test images evaluated an epoch")
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=10, help="timed steps per seed and round")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parser.parse_args(argv)
    results = bench(args)
    if args.out:
        write_json(args.out, results)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
