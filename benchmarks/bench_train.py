"""Training throughput of our ``Trainer`` against a textbook PyTorch loop, on one device.

Run as ``python benchmarks/bench_train.py`` (see ``--help`` and benchmarks/README.md).

Both loops train the same network (``build_model``, same spec, same SGD settings) on the same
synthetic data: random uint8 images (3x32x32 by default) with random labels from 10 classes.

*Ours* is ``resnet_essence.train.trainer.Trainer`` exactly as the pipeline uses it: the data set
whole on the device as uint8, each batch augmented on the device (``augment``: pad-4 random crop
and horizontal flip of the whole batch at once), normalised there, bf16 autocast and channels_last
on CUDA, optionally ``torch.compile``. The trace is off (``trace_every=0``) so both loops do the
same work; ``bench_trace.py`` measures what the trace costs.

*Textbook* is the loop of the PyTorch CIFAR-10 tutorial and of most reference repositories: a
``Dataset`` that returns one image at a time through per-sample transforms (what torchvision's
``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()`` and ``Normalize()``
do, written out here because torchvision is not a dependency), a ``DataLoader`` with
``shuffle=True``, fp32 throughout, and zero_grad / forward / cross-entropy / backward / step,
plus the tutorial's ``running_loss += loss.item()``. Workers: 0 on the CPU by default (with two
cores, worker processes only compete with the compute threads), 2 on CUDA (the tutorial's
value), with ``pin_memory`` on CUDA; ``--workers`` overrides both.

Timing. Both loops are set up side by side, each takes ``--warmup`` steps that are not timed
(allocator, cuDNN algorithm search, ``torch.compile``, DataLoader worker start-up), then they
take turns: ``--steps`` timed steps of ours, ``--steps`` of the textbook loop (the order swapped
every other round), ``--repeats`` rounds. Throughput comes from each loop's median round; the
ratio is the median over rounds of that round's ratio, so a slow spell of a shared machine,
which hits both halves of a round, largely cancels. On CUDA the device is synchronised before
the clock starts and before it stops. For ours the timed unit is one ``SeedStepper.step`` (the
stepper ``Trainer.run()`` steps a run alone with) on the next batch of a random permutation,
which is exactly what the epoch loop (``resnet_essence.train.loop.EpochLoop``) does for each
batch; evaluation, checkpoints and snapshots, done once an epoch, are left out. For the
textbook loop the timed unit is one ``next()`` on the DataLoader iterator plus the step, so the
per-sample data pipeline is part of its cost. Time per epoch is 50,000 images (CIFAR-10's
training set) over the measured throughput.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch.utils.data import DataLoader, Dataset

try:
    from resnet_essence.files import write_json
except ImportError:  # a plain checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from resnet_essence.files import write_json
from resnet_essence.nets.resnet import NetSpec, build_model
from resnet_essence.train.loop import SeedStepper
from resnet_essence.train.trainer import TrainConfig, Trainer, resolve_device

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ("plain", "residual")
EPOCH_IMAGES = 50_000  # CIFAR-10's training set
NUM_CLASSES = 10
# torchvision's CIFAR-10 tutorial normalises with fixed constants, not fitted statistics
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


# -- data -------------------------------------------------------------------------------------
def synthetic_data(
    n_images: int, image_size: int = 32, channels: int = 3, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Random uint8 images and labels, in the layout ``Trainer`` takes (N, C, H, W)."""
    g = torch.Generator().manual_seed(seed)
    n_test = max(1, n_images // 10)

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, channels, image_size, image_size), generator=g).to(
            torch.uint8
        )

    def labels(n: int) -> torch.Tensor:
        return torch.randint(0, NUM_CLASSES, (n,), generator=g)

    return {
        "x_train": images(n_images),
        "y_train": labels(n_images),
        "x_test": images(n_test),
        "y_test": labels(n_test),
    }


class TextbookDataset(Dataset):
    """One image at a time, as torchvision's CIFAR10 + transforms.Compose would serve it.

    Images are stored HWC uint8 (like ``CIFAR10.data``); each ``__getitem__`` pads by
    ``padding`` with zeros and crops a random window (RandomCrop), flips with probability 1/2
    (RandomHorizontalFlip), converts to CHW float in [0, 1] (ToTensor) and normalises per
    channel (Normalize). Random numbers come from torch's global generator, as in torchvision,
    so every DataLoader worker draws its own.
    """

    def __init__(
        self, x_nchw: torch.Tensor, y: torch.Tensor, padding: int = 4, flip: bool = True
    ) -> None:
        self.images = x_nchw.permute(0, 2, 3, 1).contiguous().numpy()  # N, H, W, C
        self.labels = y.tolist()
        self.padding, self.flip = padding, flip
        channels = self.images.shape[-1]
        mean, std = (
            (CIFAR_MEAN, CIFAR_STD) if channels == 3 else ((0.5,) * channels, (0.25,) * channels)
        )
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = self.images[index]
        height, width, _ = image.shape
        p = self.padding
        if p > 0:  # RandomCrop(size, padding=p)
            padded = np.pad(image, ((p, p), (p, p), (0, 0)))
            top = int(torch.randint(0, 2 * p + 1, (1,)).item())
            left = int(torch.randint(0, 2 * p + 1, (1,)).item())
            image = padded[top : top + height, left : left + width]
        if self.flip and torch.rand(1).item() < 0.5:  # RandomHorizontalFlip()
            image = image[:, ::-1]
        tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)  # ToTensor()
        tensor = tensor.float().div(255.0)
        return (tensor - self.mean) / self.std, self.labels[index]  # Normalize(mean, std)


# -- timing -----------------------------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def paper_recipe() -> dict:
    """He et al.'s recipe: config.yaml's ``train:`` with configs/cifar10.yaml's laid over it."""
    section = {}
    for path in (ROOT / "config.yaml", ROOT / "configs" / "cifar10.yaml"):
        section.update(yaml.safe_load(path.read_text(encoding="utf-8"))["train"])
    return section


def train_config(args: argparse.Namespace, trace_every: int = 0) -> TrainConfig:
    """The recipe both loops share (He et al.'s SGD settings), trace off unless asked."""
    overrides = {
        "epochs": 1,
        "batch_size": args.batch_size,
        "crop_padding": args.crop_padding,
        "flip": args.flip,
        "trace_every": trace_every,
        "snapshot_epochs": [],
        "precision": args.precision,
    }
    return TrainConfig.from_config({**paper_recipe(), **overrides}, seed=0)


def ours_steps(trainer: Trainer) -> Iterator[None]:
    """Take one ``SeedStepper.step`` per ``next()``, batches as ``Trainer.run()`` makes them."""
    stepper = SeedStepper([trainer])
    while True:
        permutation = torch.randperm(
            len(trainer.x_train), generator=trainer.generator, device=trainer.device
        )
        for batch in permutation.split(trainer.cfg.batch_size):
            if len(batch) < trainer.cfg.batch_size:
                break  # keep every timed step a full batch
            stepper.step([batch])
            yield


def textbook_steps(
    spec: NetSpec,
    data: dict[str, torch.Tensor],
    cfg: TrainConfig,
    device: torch.device,
    workers: int,
) -> Iterator[None]:
    """The textbook loop, one optimisation step per ``next()``, looping over epochs."""
    torch.manual_seed(cfg.seed)
    model = build_model(spec).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
    )
    dataset = TextbookDataset(data["x_train"], data["y_train"], cfg.crop_padding, cfg.flip)
    loader = DataLoader(
        dataset,
        batch_size=cfg.batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        drop_last=True,
    )
    model.train()
    running_loss = 0.0
    while True:
        for inputs, targets in loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = F.cross_entropy(outputs, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            yield


def time_steps(steps: Iterator[None], device: torch.device, count: int) -> float:
    """Seconds that ``count`` steps of ``steps`` take, the device synchronised at both ends."""
    synchronize(device)
    start = time.perf_counter()
    for _ in range(count):
        next(steps)
    synchronize(device)
    return time.perf_counter() - start


def interleaved(
    loops: dict[str, Iterator[None]], device: torch.device, warmup: int, steps: int, repeats: int
) -> dict[str, list[float]]:
    """Warm every loop up, then time ``steps`` steps of each in turn, ``repeats`` rounds.

    Taking turns spreads any drift of the machine (other jobs, clocks, heat) evenly over the
    loops being compared, and every other round runs them in reverse order (A B, B A, A B ...)
    so that neither always goes first; callers report medians over rounds.
    """
    for loop in loops.values():
        for _ in range(warmup):
            next(loop)
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for round_index in range(repeats):
        names = list(loops) if round_index % 2 == 0 else list(reversed(loops))
        for name in names:
            seconds[name].append(time_steps(loops[name], device, steps))
    return seconds


def measure(
    arch: str, depth: int, data: dict[str, torch.Tensor], device: torch.device, args
) -> dict[str, Any]:
    """One row of the table: both loops on one network, the same warm-up and timed steps."""
    model = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["model"]
    spec = NetSpec.from_config({**model, "width": args.width}, arch, depth, 10, args.channels)
    cfg = train_config(args)
    trainer = Trainer(spec, cfg, data, device, compile_model=args.compile)
    loops = {
        "ours": ours_steps(trainer),
        "textbook": textbook_steps(spec, data, cfg, device, args.workers),
    }
    try:
        seconds = interleaved(loops, device, args.warmup, args.steps, args.repeats)
    finally:
        for loop in loops.values():
            loop.close()  # shuts the DataLoader's workers down
    images = args.steps * args.batch_size
    row: dict[str, Any] = {"arch": arch, "depth": depth, "params": trainer.n_parameters}
    for name, values in seconds.items():
        rate = images / statistics.median(values)
        row[f"{name}_seconds"] = values
        row[f"{name}_img_per_s"] = rate
        row[f"{name}_s_per_epoch"] = EPOCH_IMAGES / rate
    # the median of each round's ratio: a slow spell of the machine hits both sides of a round
    rounds = [t / o for o, t in zip(seconds["ours"], seconds["textbook"], strict=True)]
    row["ratio_rounds"] = rounds
    row["ratio"] = statistics.median(rounds)
    return row


# -- reporting --------------------------------------------------------------------------------
def device_info(device: torch.device) -> dict[str, Any]:
    """What produced the numbers: device name, library versions and thread count."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("model name"):
                        name = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "device": str(device),
        "device_name": name,
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": cudnn,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
        # other jobs on the machine skew CPU timings: 1-minute load average when starting
        "load_average_before": os.getloadavg()[0],
    }


def grid_hours(rows: list[dict[str, Any]], epochs: int, seeds: int, key: str) -> float:
    """Device-hours to train every (arch, depth) row ``seeds`` times for ``epochs`` epochs."""
    return sum(row[key] for row in rows) * epochs * seeds / 3600.0


def command_line(script: str, argv: list[str] | None) -> str:
    """The command that reproduces a run, whether it came from the shell or from ``main(argv)``."""
    arguments = sys.argv[1:] if argv is None else argv
    return shlex.join(["python", f"benchmarks/{script}", *arguments])


def format_table(rows: list[dict[str, Any]]) -> str:
    header = (
        f"{'arch':<9} {'depth':>5} {'ours img/s':>11} {'textbook img/s':>15} {'ratio':>6} "
        f"{'ours s/epoch':>13} {'textbook s/epoch':>17}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['arch']:<9} {r['depth']:>5} {r['ours_img_per_s']:>11.1f} "
            f"{r['textbook_img_per_s']:>15.1f} {r['ratio']:>6.2f} "
            f"{r['ours_s_per_epoch']:>13.1f} {r['textbook_s_per_epoch']:>17.1f}"
        )
    return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------
def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with bench_trace.py."""
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--depths", type=int, nargs="+", default=None)
    parser.add_argument("--width", type=int, default=16, help="filters of the first stage")
    parser.add_argument(
        "--steps", type=int, default=None, help="timed steps a round (CUDA 50, CPU 5)"
    )
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps (CUDA 10, CPU 2)")
    parser.add_argument(
        "--image-size",
        type=int,
        default=32,
        help="32: CIFAR-like (3 channels, batch 128, pad 4, flip); 8: like the default "
        "config's digits (1 channel, batch 32, pad 1, no flip); the four below override",
    )
    parser.add_argument("--channels", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--crop-padding", type=int, default=None)
    parser.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument(
        "--images", type=int, default=10_000, help="synthetic training images (memory only)"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved rounds of --steps; median reported"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--compile", action="store_true", help="torch.compile our model")
    parser.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "fp32", "bf16"],
        help="our trainer's train.precision (auto: bf16 on CUDA, fp32 on the CPU)",
    )
    parser.add_argument("--out", default=None, help="results JSON (default benchmarks/results/)")


def resolve_common(args: argparse.Namespace, cpu_depths: list[int]) -> torch.device:
    """Fill the device-dependent defaults in ``args`` and return the device."""
    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.depths is None:
        args.depths = [20, 56, 110] if cuda else cpu_depths
    digits_like = args.image_size <= 8
    for name, cifar, digits in [
        ("channels", 3, 1),
        ("batch_size", 128, 32),
        ("crop_padding", 4, 1),
        ("flip", True, False),
    ]:
        if getattr(args, name) is None:
            setattr(args, name, digits if digits_like else cifar)
    if args.steps is None:
        args.steps = 50 if cuda else 5
    if args.warmup is None:
        args.warmup = 10 if cuda else 2
    if min(args.steps, args.repeats) < 1 or args.warmup < 0:
        raise SystemExit("--steps and --repeats must be at least 1, --warmup at least 0")
    needed = args.batch_size * (args.steps * args.repeats + args.warmup)
    if args.images < args.batch_size:
        raise SystemExit(f"--images {args.images} is smaller than one batch ({args.batch_size})")
    if args.images < needed:
        print(f"note: {args.images} images < {needed} needed, so the loops wrap around epochs")
    return device


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument(
        "--workers", type=int, default=None, help="textbook DataLoader workers (CUDA 2, CPU 0)"
    )
    parser.add_argument("--grid-epochs", type=int, default=164, help="epochs per grid run")
    parser.add_argument("--grid-seeds", type=int, default=1, help="seeds per grid cell")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    device = resolve_common(args, cpu_depths=[20, 56])
    if args.workers is None:
        args.workers = 2 if device.type == "cuda" else 0
    data = synthetic_data(args.images, args.image_size, args.channels)
    info = device_info(device)
    print(
        f"{info['device_name']} ({device}), torch {info['torch']}, CUDA {info['cuda']}, "
        f"cuDNN {info['cudnn']}, {info['threads']} threads; batch {args.batch_size}, "
        f"{args.warmup} warm-up steps, then {args.repeats} x {args.steps} timed steps per loop "
        f"(interleaved), textbook workers {args.workers}"
        + (", ours compiled" if args.compile else "")
    )
    rows = []
    for depth in args.depths:
        for arch in ARCHS:
            rows.append(measure(arch, depth, data, device, args))
            r = rows[-1]
            print(f"  {arch}-{depth}: ratio {r['ratio']:.2f}", flush=True)
    print(format_table(rows))
    info["load_average_after"] = os.getloadavg()[0]

    hours = {
        loop: grid_hours(rows, args.grid_epochs, args.grid_seeds, f"{loop}_s_per_epoch")
        for loop in ("ours", "textbook")
    }
    unit = "GPU-hours" if device.type == "cuda" else "CPU-hours"
    print(
        f"grid of depths {args.depths} x {list(ARCHS)} x {args.grid_seeds} seed(s) x "
        f"{args.grid_epochs} epochs: ours {hours['ours']:.2f} {unit}, "
        f"textbook {hours['textbook']:.2f} {unit}"
    )
    result = {
        "benchmark": "train",
        "command": command_line("bench_train.py", argv),
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "environment": info,
        "rows": rows,
        "grid": {
            "depths": args.depths,
            "archs": list(ARCHS),
            "epochs": args.grid_epochs,
            "seeds": args.grid_seeds,
            "unit": unit,
            "ours_hours": hours["ours"],
            "textbook_hours": hours["textbook"],
        },
    }
    if not all(math.isfinite(r["ratio"]) for r in rows):
        print("warning: a non-finite ratio; check --steps")
    out = (
        Path(args.out)
        if args.out
        else ROOT / "benchmarks" / "results" / f"train-{device.type}.json"
    )
    write_json(out, result)
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
