"""Training-time overhead of the per-layer gradient-norm trace (goal: at most 5%).

Run as ``python benchmarks/bench_trace.py`` (see ``--help`` and benchmarks/README.md).

One ``Trainer`` takes turns between ``trace_every=0`` (A) and ``trace_every=k`` (B,
``--trace-every``, default 10; the config is swapped in before each step), so both sides share
the same model, optimiser and memory. Steps are timed as in ``bench_train.py``
(``SeedStepper.step`` on successive batches, warm-up untimed): A B, B A, A B ...,
``--repeats`` rounds of ``--steps`` steps; the overhead of a round is B's time over A's minus
one, and the median round is reported. Keep ``--steps`` a multiple of ``k`` so that every
round of B holds the same number of trace records.

On a busy or small machine the round-to-round noise can be larger than the trace's cost, so a
second, direct figure is printed too: the time of one ``SeedStepper.record_trace()`` call (median
of ``--direct-calls`` calls on real gradients) divided by ``k`` steps of A. The direct figure
leaves out second-order effects (caches, the trace list's memory), the paired figure includes
them; both are in the results file.

Neither counts the checkpoints: ``RunState.trace`` keeps every record and each end-of-epoch
checkpoint writes all of them, so a long run pays more for its trace at every epoch. The third
figure times ``Trainer.save_checkpoint()`` with an empty trace and with the trace a whole run
leaves (``--run-epochs`` x ``--run-steps-per-epoch`` / k records), and charges half the
difference (the average trace is half the final one) to each epoch of measured steps.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import yaml
from bench_train import (
    ROOT,
    add_common_arguments,
    command_line,
    device_info,
    interleaved,
    ours_steps,
    resolve_common,
    synchronize,
    synthetic_data,
    train_config,
)

from resnet_essence.files import write_json
from resnet_essence.nets.resnet import NetSpec
from resnet_essence.train.loop import SeedStepper
from resnet_essence.train.trainer import TrainConfig, Trainer

GOAL_PERCENT = 5.0


def record_seconds(trainer: Trainer, calls: int) -> float:
    """Median seconds of one ``record_trace()`` on the gradients the last step left behind."""
    stepper = SeedStepper([trainer])
    times = []
    for _ in range(calls):
        synchronize(trainer.device)
        start = time.perf_counter()
        stepper.record_trace()
        synchronize(trainer.device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def checkpoint_seconds(trainer: Trainer, records: int) -> tuple[float, float]:
    """Seconds of ``save_checkpoint()`` without a trace and with ``records`` trace records.

    ``RunState.trace`` keeps every record of the run and the checkpoint written after each
    epoch holds all of them, so this is what the last checkpoint of a full run costs. The
    records are copies of the trainer's own, renumbered.
    """
    every = max(1, trainer.cfg.trace_every)
    if not trainer.state.trace:
        SeedStepper([trainer]).record_trace()  # the gradients of the last step
    _, epoch, norms = trainer.state.trace[-1]
    kept, kept_path = trainer.state.trace, trainer.checkpoint_path
    try:
        with tempfile.TemporaryDirectory() as scratch:
            trainer.checkpoint_path = Path(scratch) / "checkpoint.pt"
            seconds = []
            for trace_records in (0, 0, records):  # the first save warms up
                trainer.state.trace = [(r * every, epoch, norms) for r in range(trace_records)]
                start = time.perf_counter()
                trainer.save_checkpoint()
                seconds.append(time.perf_counter() - start)
    finally:
        trainer.state.trace, trainer.checkpoint_path = kept, kept_path
    return seconds[1], seconds[2]


def steps_with(trainer: Trainer, cfg: TrainConfig) -> Iterator[None]:
    """``ours_steps`` of ``trainer``, with ``cfg`` put in place before every step."""
    steps = ours_steps(trainer)
    while True:
        trainer.cfg = cfg
        yield next(steps)


def measure(
    arch: str, depth: int, data: dict[str, torch.Tensor], device: torch.device, args
) -> dict[str, Any]:
    """One row: trace off against trace every ``k`` steps on one network."""
    model = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["model"]
    spec = NetSpec.from_config({**model, "width": args.width}, arch, depth, 10, args.channels)
    off_cfg = train_config(args, 0)
    on_cfg = dataclasses.replace(off_cfg, trace_every=args.trace_every)
    trainer = Trainer(spec, off_cfg, data, device, compile_model=args.compile)
    loops = {"off": steps_with(trainer, off_cfg), "on": steps_with(trainer, on_cfg)}
    seconds = interleaved(loops, device, args.warmup, args.steps, args.repeats)
    for loop in loops.values():
        loop.close()
    paired = [b / a - 1.0 for a, b in zip(seconds["off"], seconds["on"], strict=True)]
    step_off = statistics.median(seconds["off"]) / args.steps
    layers = len(trainer.layer_names)
    records = len(trainer.state.trace)
    trace_record_seconds = record_seconds(trainer, args.direct_calls)
    trainer.cfg = on_cfg
    run_records = args.run_epochs * args.run_steps_per_epoch // args.trace_every
    empty, full = checkpoint_seconds(trainer, run_records)
    epoch_seconds = args.run_steps_per_epoch * step_off
    return {
        "arch": arch,
        "depth": depth,
        "layers": layers,
        "off_seconds": seconds["off"],
        "on_seconds": seconds["on"],
        "step_seconds_off": step_off,
        "step_seconds_on": statistics.median(seconds["on"]) / args.steps,
        "overhead_percent": 100.0 * statistics.median(paired),
        "overhead_percent_rounds": [100.0 * p for p in paired],
        "record_seconds": trace_record_seconds,
        "direct_overhead_percent": 100.0 * trace_record_seconds / (args.trace_every * step_off),
        "trace_records_on": records,
        "run_trace_records": run_records,
        "checkpoint_seconds_empty_trace": empty,
        "checkpoint_seconds_full_trace": full,
        # the trace grows linearly over the run: on average a checkpoint holds half of it
        "checkpoint_overhead_percent": 100.0 * 0.5 * (full - empty) / epoch_seconds,
    }


def describe(row: dict[str, Any]) -> str:
    rounds = ", ".join(f"{p:+.1f}" for p in row["overhead_percent_rounds"])
    return (
        f"  {row['arch']:<9} depth {row['depth']:>4}: step {1e3 * row['step_seconds_off']:.2f} ms"
        f"\n    step overhead {row['overhead_percent']:+.2f}% (rounds {rounds})"
        f"\n    direct: {1e3 * row['record_seconds']:.3f} ms a record, "
        f"{row['direct_overhead_percent']:.3f}%"
        f"\n    checkpoint: {row['checkpoint_seconds_empty_trace']:.2f} s without the trace, "
        f"{row['checkpoint_seconds_full_trace']:.2f} s with a whole run's "
        f"({row['run_trace_records']} records): {row['checkpoint_overhead_percent']:.2f}%"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.set_defaults(repeats=5)
    parser.add_argument("--trace-every", type=int, default=10, help="k: steps between records")
    parser.add_argument(
        "--direct-calls", type=int, default=20, help="calls of record_trace() timed directly"
    )
    parser.add_argument(
        "--run-epochs",
        type=int,
        default=None,
        help="epochs of the run whose checkpoints are costed (32x32: 164, 8x8: 15)",
    )
    parser.add_argument(
        "--run-steps-per-epoch",
        type=int,
        default=None,
        help="steps per epoch of that run (32x32: 391 as CIFAR-10, 8x8: 45 as the digits)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.trace_every < 1:
        raise SystemExit("--trace-every must be at least 1")
    if args.steps is None:
        args.steps = args.trace_every  # one record a round; resolve_common leaves it be
    device = resolve_common(args, cpu_depths=[20, 56])
    digits_like = args.image_size <= 8
    if args.run_epochs is None:
        args.run_epochs = 15 if digits_like else 164
    if args.run_steps_per_epoch is None:
        args.run_steps_per_epoch = 45 if digits_like else 391
    if args.steps % args.trace_every:
        print(f"note: --steps {args.steps} is not a multiple of --trace-every {args.trace_every}")
    data = synthetic_data(args.images, args.image_size, args.channels)
    info = device_info(device)
    print(
        f"{info['device_name']} ({device}), torch {info['torch']}, {info['threads']} threads; "
        f"{args.image_size}x{args.image_size}x{args.channels}, batch {args.batch_size}, "
        f"trace every {args.trace_every} steps; {args.warmup} warm-up steps, then "
        f"{args.repeats} x {args.steps} timed steps each, interleaved"
    )
    rows = []
    for depth in args.depths:
        for arch in ("plain", "residual"):
            rows.append(measure(arch, depth, data, device, args))
            print(describe(rows[-1]), flush=True)
    worst = max(r["overhead_percent"] for r in rows)
    worst_direct = max(r["direct_overhead_percent"] for r in rows)
    worst_checkpoint = max(r["checkpoint_overhead_percent"] for r in rows)
    for name, value in [
        ("step overhead, median of rounds", worst),
        ("step overhead, direct", worst_direct),
        ("checkpoint overhead over the run", worst_checkpoint),
    ]:
        verdict = "meets" if value <= GOAL_PERCENT else "MISSES"
        print(f"largest {name}: {value:+.3f}% ({verdict} the {GOAL_PERCENT:g}% goal)")
    info["load_average_after"] = os.getloadavg()[0]
    result = {
        "benchmark": "trace",
        "command": command_line("bench_trace.py", argv),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "environment": info,
        "rows": rows,
        "goal_percent": GOAL_PERCENT,
        "max_overhead_percent": worst,
        "max_direct_overhead_percent": worst_direct,
        "max_checkpoint_overhead_percent": worst_checkpoint,
    }
    default = ROOT / "benchmarks" / "results" / f"trace-{device.type}.json"
    out = Path(args.out) if args.out else default
    write_json(out, result)
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
