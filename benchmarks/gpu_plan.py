"""How many epochs fit in a one-shot GPU call, and whether the training under way will fit.

Used by ``benchmarks/gpu_run.sh`` (see benchmarks/README.md); two commands:

``plan``
    From ``bench_train.py``'s results (our trainer's images a second, one run alone, per
    architecture and depth) and the time left for training, the number of epochs that the
    configured grid (every arch x depth x seed, trained side by side on one GPU) fits into.
    Writes a config overlay with ``train.epochs`` for ``snakemake --configfile`` (the short
    config's schedule, a warm-up and cosine decay, stretches with it).
``watch``
    Follows the training logs of a running pipeline, prints its progress, and once every run
    has finished its first epoch, projects when the last one will end. If that is past the
    deadline it prints ``RESTART EPOCHS=<n>``, the epochs that do fit at the speed measured,
    and exits with status 3, so that the caller stops the pipeline and starts it again with
    fewer epochs. It returns 0 as soon as the pipeline's process ends.

The model of a run's time: an epoch of ``n_train`` images at the benchmark's throughput, times
``overhead`` (evaluation, trace, checkpoint: what ``bench_train.py`` leaves out); ``speedup`` is
how much faster all runs go side by side than one after the other (an assumption until a GPU run
has measured it); each run also costs ``startup`` seconds (imports, data to the device).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

EPOCH_IMAGES = 50_000  # what bench_train.py's s/epoch figures assume
RESTART_STATUS = 3


# -- configuration ----------------------------------------------------------------------------
def merge(into: dict, update: dict) -> dict:
    """Snakemake's --configfile semantics: nested mappings are merged, other values replaced."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value
    return into


def read_config(files: list[str]) -> dict:
    config: dict = {}
    for file in files:
        with open(file, encoding="utf-8") as fh:
            merge(config, yaml.safe_load(fh) or {})
    return config


def grid(config: dict) -> list[tuple[str, int, int]]:
    """Every (arch, depth, seed) the pipeline trains."""
    return [
        (arch, int(depth), int(seed))
        for arch in config["archs"]
        for depth in config["depths"]
        for seed in config["seeds"]
    ]


# -- plan -------------------------------------------------------------------------------------
def throughputs(bench: dict) -> dict[tuple[str, int], float]:
    """(arch, depth) -> our trainer's images a second, from a bench_train.py results file."""
    return {(row["arch"], int(row["depth"])): float(row["ours_img_per_s"]) for row in bench["rows"]}


def images_per_second(rates: dict[tuple[str, int], float], arch: str, depth: int) -> float:
    """The measured rate; else the slowest at that depth (an architecture not benchmarked);
    else the nearest measured depth's, scaled by depth (a launch-bound step costs per layer)."""
    if (arch, depth) in rates:
        return rates[(arch, depth)]
    same_depth = [rate for (_, d), rate in rates.items() if d == depth]
    if same_depth:
        return min(same_depth)
    if not rates:
        raise ValueError("the benchmark has no rows")
    nearest = min({d for _, d in rates}, key=lambda d: abs(d - depth))
    return min(rate for (_, d), rate in rates.items() if d == nearest) * nearest / depth


@dataclass
class Plan:
    epochs: int
    epoch_seconds: dict[str, float]
    wall_per_epoch: float
    fits: int = 0
    notes: list[str] = field(default_factory=list)


def plan_epochs(
    rates: dict[tuple[str, int], float],
    runs: list[tuple[str, int, int]],
    seconds: float,
    n_train: int = EPOCH_IMAGES,
    speedup: float = 2.0,
    overhead: float = 1.2,
    startup: float = 15.0,
    min_epochs: int = 1,
    max_epochs: int = 40,
) -> Plan:
    """The most epochs that train every run within ``seconds``, clamped to [min, max]."""
    per_run = {
        f"{arch}-{depth}": n_train / images_per_second(rates, arch, depth) * overhead
        for arch, depth, _ in runs
    }
    serial = sum(per_run[f"{arch}-{depth}"] for arch, depth, _ in runs)
    # side by side, no run goes faster than it does alone
    wall = max(serial / speedup, max(per_run.values()))
    fits = math.floor(max(0.0, seconds - startup) / wall) if wall > 0 else max_epochs
    epochs = min(max(fits, min_epochs), max_epochs)
    notes = [
        f"one epoch alone: {', '.join(f'{k} {v:.1f} s' for k, v in sorted(per_run.items()))} "
        f"(x{overhead} over the benchmark, {n_train} images)",
        f"{len(runs)} runs: {serial:.1f} s an epoch one after the other, {wall:.1f} s side by "
        f"side at an assumed speed-up of {speedup}",
        f"{seconds:.0f} s for training less {startup:.0f} s start-up: {fits} epochs fit; "
        f"using {epochs} (bounds {min_epochs}..{max_epochs})",
    ]
    return Plan(epochs, per_run, wall, fits, notes)


def overlay(epochs: int) -> dict[str, Any]:
    return {"train": {"epochs": int(epochs)}}


# -- watch ------------------------------------------------------------------------------------
STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"
START_LINE = re.compile(STAMP + r" INFO train: .* parameters on ")
# the run's label ("residual-56 seed 2: ") may come before the message
EPOCH_LINE = re.compile(STAMP + r" INFO \S+: (?:[^:]*: )?epoch (\d+)/(\d+) ")
DONE_LINE = re.compile(STAMP + r" INFO train: (?:[^:]*: )?(completed|diverged) after ")


def _time(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


@dataclass
class RunProgress:
    started: float | None = None
    epoch_times: list[float] = field(default_factory=list)
    done: bool = False

    @property
    def epochs(self) -> int:
        return len(self.epoch_times)

    def seconds_per_epoch(self) -> float | None:
        """Wall time an epoch, evaluation and checkpoint included, over the epochs so far."""
        if self.started is None or not self.epoch_times:
            return None
        return (self.epoch_times[-1] - self.started) / len(self.epoch_times)


def parse_log(text: str) -> RunProgress:
    """A train log's progress; a rerun's log (appended) counts from its last start."""
    progress = RunProgress()
    for line in text.splitlines():
        if m := START_LINE.match(line):
            progress = RunProgress(started=_time(m.group(1)))
        elif (m := EPOCH_LINE.match(line)) and progress.started is not None:
            progress.epoch_times.append(_time(m.group(1)))
        elif DONE_LINE.match(line):
            progress.done = True
    return progress


def projection(
    progress: dict[str, RunProgress], epochs: int, now: float
) -> tuple[float, float] | None:
    """(projected end of the last run, slowest run's seconds an epoch) once every run has an
    epoch behind it or has ended; None before."""
    if not progress or any(not p.done and p.epochs == 0 for p in progress.values()):
        return None
    ends, rates = [now], []
    for p in progress.values():
        rate = p.seconds_per_epoch()
        if rate is not None:
            rates.append(rate)
        if not p.done and rate is not None:
            ends.append(p.epoch_times[-1] + (epochs - p.epochs) * rate)
    return max(ends), max(rates) if rates else 0.0


def refit(epochs: int, rate: float, deadline: float, now: float, startup: float) -> int:
    """Epochs that a fresh start at ``now`` fits before ``deadline`` at ``rate`` s an epoch."""
    if rate <= 0:
        return epochs
    return max(1, math.floor((deadline - now - startup) / rate))


def restart_epochs(
    epochs: int, end: float, rate: float, deadline: float, now: float, restart_cost: float
) -> int | None:
    """The epochs to restart with, or None to carry on: a restart only when the training under
    way would end past the deadline, and a fresh start with fewer epochs (``restart_cost``
    seconds to stop and start again) would end sooner."""
    if end <= deadline:
        return None
    fewer = refit(epochs, rate, deadline, now, restart_cost)
    if fewer >= epochs or now + restart_cost + fewer * rate >= end:
        return None
    return fewer


def train_logs(workdir: Path, config: dict) -> dict[str, Path]:
    dataset = config["dataset"]
    return {
        f"{arch}-{depth} seed {seed}": workdir
        / f"results/logs/train/{dataset}/{arch}-{depth}/seed{seed}.log"
        for arch, depth, seed in grid(config)
    }


def read_progress(logs: dict[str, Path]) -> dict[str, RunProgress]:
    progress = {}
    for name, path in logs.items():
        try:
            progress[name] = parse_log(path.read_text(encoding="utf-8", errors="replace"))
        except FileNotFoundError:
            progress[name] = RunProgress()
    return progress


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (ended, not yet waited for by the shell) counts as ended
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def clock(t: float) -> str:
    return datetime.fromtimestamp(t).strftime("%H:%M:%S")


def say(message: str) -> None:
    print(f"[{clock(time.time())}] {message}", flush=True)


def watch(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    epochs = int(config["train"]["epochs"])
    logs = train_logs(Path(args.workdir), config)
    decided = not args.restart
    last_report = 0.0
    while alive(args.pid):
        now = time.time()
        progress = read_progress(logs)
        if not decided and (projected := projection(progress, epochs, now)) is not None:
            decided = True
            end, rate = projected
            say(
                f"after the first epoch of every run: training projected to end at {clock(end)}, "
                f"deadline {clock(args.deadline)} (slowest run {rate:.1f} s an epoch)"
            )
            fewer = restart_epochs(epochs, end, rate, args.deadline, now, args.startup + args.stop)
            if fewer is not None:
                say(f"too slow for {epochs} epochs: restart with {fewer}")
                print(f"RESTART EPOCHS={fewer}", flush=True)
                return RESTART_STATUS
        if now - last_report >= args.report_every:
            last_report = now
            started = sum(p.started is not None for p in progress.values())
            done = sum(p.done for p in progress.values())
            counts = [p.epochs for p in progress.values() if p.started is not None]
            span = f"{min(counts)}..{max(counts)}" if counts else "0"
            say(
                f"training: {started}/{len(logs)} runs started, {done} finished, "
                f"epochs done {span} of {epochs}"
            )
        time.sleep(args.interval)
    return 0


# -- command line -----------------------------------------------------------------------------
def plan_command(args: argparse.Namespace) -> int:
    config = read_config(args.config)
    runs = grid(config)
    n_train = EPOCH_IMAGES
    if args.data_info and Path(args.data_info).is_file():
        n_train = int(json.loads(Path(args.data_info).read_text())["n_train"])
    bench = json.loads(Path(args.bench).read_text())
    result = plan_epochs(
        throughputs(bench),
        runs,
        args.seconds,
        n_train=n_train,
        speedup=args.speedup,
        overhead=args.overhead,
        startup=args.startup,
        min_epochs=args.min_epochs,
        max_epochs=args.max_epochs,
    )
    for note in result.notes:
        print(f"plan: {note}")
    if args.out:
        Path(args.out).write_text(yaml.safe_dump(overlay(result.epochs)), encoding="utf-8")
    print(f"EPOCHS={result.epochs}")
    return 0


def overlay_command(args: argparse.Namespace) -> int:
    Path(args.out).write_text(yaml.safe_dump(overlay(args.epochs)), encoding="utf-8")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    plan = sub.add_parser("plan", help="epochs that fit, from a bench_train.py results file")
    plan.add_argument("--bench", required=True, help="bench_train.py's JSON")
    plan.add_argument("--config", nargs="+", required=True, help="config files, in order")
    plan.add_argument("--seconds", type=float, required=True, help="time left for training")
    plan.add_argument("--data-info", help="prepare_data's JSON (n_train); default 50,000")
    plan.add_argument("--speedup", type=float, default=2.0)
    plan.add_argument("--overhead", type=float, default=1.2)
    plan.add_argument("--startup", type=float, default=15.0)
    plan.add_argument("--min-epochs", type=int, default=1)
    plan.add_argument("--max-epochs", type=int, default=40)
    plan.add_argument("--out", help="config overlay to write")

    over = sub.add_parser("overlay", help="write the overlay for a given number of epochs")
    over.add_argument("--epochs", type=int, required=True)
    over.add_argument("--out", required=True)

    follow = sub.add_parser("watch", help="follow the training, advise a restart if too slow")
    follow.add_argument("--workdir", required=True)
    follow.add_argument("--config", nargs="+", required=True)
    follow.add_argument("--pid", type=int, required=True, help="the pipeline's process")
    follow.add_argument("--deadline", type=float, required=True, help="Unix time")
    follow.add_argument("--startup", type=float, default=15.0)
    follow.add_argument("--stop", type=float, default=10.0, help="seconds to stop the pipeline")
    follow.add_argument("--interval", type=float, default=2.0)
    follow.add_argument("--report-every", type=float, default=30.0)
    follow.add_argument("--restart", action=argparse.BooleanOptionalAction, default=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    commands = {"plan": plan_command, "overlay": overlay_command, "watch": watch}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
