"""Training one network: He et al.'s recipe, data kept whole on the device, resumable.

The data set lives on the training device as one uint8 tensor; each batch is normalised and
augmented there (pad-and-crop and horizontal flip on the whole batch at once), so there is no
data loader between the model and the data. A checkpoint after every epoch (and on SIGTERM,
mid-epoch) holds everything the run depends on, the random generator included, so a resumed run
ends with the same numbers as an uninterrupted one on the CPU.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .io import atomic_path
from .models import NetSpec, build_model, count_parameters, weight_layers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_milestones: tuple[float, ...] = ()
    milestone_unit: str = "epoch"  # "epoch" or "iteration"
    lr_gamma: float = 0.1
    # He et al.: very deep nets start at warmup_lr until the training error falls below the
    # threshold, then use lr. Applies to depths >= warmup_min_depth.
    warmup_lr: float = 0.01
    warmup_until_train_err: float = 0.8
    warmup_min_depth: int = 110
    crop_padding: int = 4
    flip: bool = True
    eval_batch_size: int = 1000
    trace_every: int = 10  # steps between per-layer gradient-norm records; 0 turns it off
    snapshot_epochs: tuple[int, ...] = (0,)  # the final epoch is always snapshotted
    # auto: bf16 autocast on CUDA, fp32 on the CPU (bit-for-bit reproducible); bf16 on a CPU
    # with native bf16 is about 1.7x faster but its numbers differ from fp32
    precision: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "eval_batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name}={getattr(self, name)} must be at least 1")
        for name in ("lr", "warmup_lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"train.{name}={getattr(self, name)} must be positive")
        if self.momentum < 0 or self.weight_decay < 0 or self.crop_padding < 0:
            raise ValueError("train.momentum, train.weight_decay and crop_padding must be >= 0")
        if self.milestone_unit not in ("epoch", "iteration"):
            raise ValueError(
                f"train.milestone_unit={self.milestone_unit!r} must be 'epoch' or 'iteration'"
            )
        if self.trace_every < 0:
            raise ValueError(f"train.trace_every={self.trace_every} must be >= 0")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"train.precision={self.precision!r} must be auto, fp32 or bf16")


class Interrupted(RuntimeError):
    """Raised after a SIGTERM once the checkpoint is safely on disk."""


@dataclass
class RunState:
    """Everything a resumed run needs; stored whole in the checkpoint."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimisation steps taken
    batch_in_epoch: int = 0
    permutation: torch.Tensor | None = None
    # running sums of the current epoch: loss * batch size, wrong predictions, images
    sums: dict[str, float] = field(default_factory=lambda: {"loss": 0.0, "err": 0.0, "n": 0.0})
    warming_up: bool = False
    status: str = "running"
    metrics: list[dict[str, Any]] = field(default_factory=list)
    trace: list[tuple[int, int, list[float]]] = field(default_factory=list)  # step, epoch, norms
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    train_seconds: float = 0.0


def resolve_device(name: str) -> torch.device:
    """'auto' is CUDA when present; asking for CUDA without it is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={name!r} but CUDA is not available on this machine "
            f"(torch {torch.__version__}); use device: cpu or auto"
        )
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"device={name!r} is unknown; use auto, cpu, cuda or cuda:N")
    return torch.device(name)


def augment(x: torch.Tensor, padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random pad-and-crop and horizontal flip of a whole batch, on its own device.

    Each image gets its own offset and flip from ``generator``; zero padding as in He et al.
    """
    batch, _, height, width = x.shape
    if padding > 0:
        padded = F.pad(x, (padding, padding, padding, padding))
        dy = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=x.device)
        dx = torch.randint(0, 2 * padding + 1, (batch,), generator=generator, device=x.device)
        rows = (dy[:, None] + torch.arange(height, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(width, device=x.device))[:, None, None, :]
        idx = torch.arange(batch, device=x.device)[:, None, None, None]
        chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[idx, chans, rows, cols]
    if flip:
        mask = torch.rand(batch, generator=generator, device=x.device) < 0.5
        x = torch.where(mask[:, None, None, None], x.flip(3), x)
    return x


class Normaliser:
    """uint8 images -> float, centred and scaled per channel with the training set's statistics."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean = mean.view(1, -1, 1, 1)
        self.std = std.view(1, -1, 1, 1)

    @classmethod
    def fit(cls, x_uint8: torch.Tensor) -> Normaliser:
        x = x_uint8.float() / 255.0
        return cls(x.mean(dim=(0, 2, 3)), x.std(dim=(0, 2, 3)).clamp_min(1e-3))

    def __call__(self, x_uint8: torch.Tensor) -> torch.Tensor:
        return (x_uint8.float() / 255.0 - self.mean) / self.std


def learning_rate(cfg: TrainConfig, step: int, steps_per_epoch: int, warming_up: bool) -> float:
    if warming_up:
        return cfg.warmup_lr
    position = step if cfg.milestone_unit == "iteration" else step / steps_per_epoch
    drops = sum(1 for m in cfg.lr_milestones if position >= m)
    return cfg.lr * cfg.lr_gamma**drops


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    normalise: Normaliser,
    batch_size: int,
    autocast: Callable[[], Any],
) -> tuple[float, float]:
    """Mean cross-entropy and error rate over a whole split, in eval mode, in large batches."""
    was_training = model.training
    model.eval()
    loss_sum, wrong = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = normalise(x[start : start + batch_size]), y[start : start + batch_size]
        with autocast():
            logits = model(xb)
        loss_sum += F.cross_entropy(logits.float(), yb, reduction="sum").item()
        wrong += (logits.argmax(1) != yb).sum().item()
    model.train(was_training)
    return loss_sum / len(x), wrong / len(x)


def _state_fingerprint(spec: NetSpec, cfg: TrainConfig, data_info: dict[str, Any]) -> dict:
    # A checkpoint is only resumed by the very run that wrote it: same network, recipe and data.
    return {"spec": asdict(spec), "train": asdict(cfg), "data": data_info}


class Trainer:
    """Trains one network; ``run()`` returns the finished ``RunState``.

    ``checkpoint_path`` is not a Snakemake output (Snakemake deletes outputs before a rerun),
    so it survives a killed job and the rerun picks it up.
    """

    def __init__(
        self,
        spec: NetSpec,
        cfg: TrainConfig,
        data: dict[str, torch.Tensor],
        device: torch.device,
        checkpoint_path: str | Path | None = None,
        data_info: dict[str, Any] | None = None,
        compile_model: bool = False,
    ) -> None:
        self.spec, self.cfg, self.device = spec, cfg, device
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.fingerprint = _state_fingerprint(spec, cfg, data_info or {})
        torch.manual_seed(cfg.seed)
        self.model = build_model(spec).to(device)
        self.params = count_parameters(self.model)
        self.layer_names = [name for name, _ in weight_layers(self.model)]
        self.layer_weights = [module.weight for _, module in weight_layers(self.model)]
        self.optimizer = torch.optim.SGD(
            self.model.parameters(),
            lr=cfg.lr,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
        )
        self.x_train = data["x_train"].to(device)
        self.y_train = data["y_train"].to(device)
        self.x_test = data["x_test"].to(device)
        self.y_test = data["y_test"].to(device)
        self.normalise = Normaliser.fit(self.x_train)
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(cfg.seed)
        self.steps_per_epoch = math.ceil(len(self.x_train) / cfg.batch_size)
        # channels_last is the faster convolution layout on tensor cores and on the CPU alike
        self.model = self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model) if compile_model else self.model
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
        self.state = RunState(warming_up=spec.depth >= cfg.warmup_min_depth)
        # the epoch's running loss and error stay on the device: no host sync per step
        self._sums = torch.zeros(2, dtype=torch.float64, device=device)
        self._stop_requested = False

    # -- precision ----------------------------------------------------------------------------
    def autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16)

    def _sync_sums(self) -> None:
        """Copy the device-side running sums into the run state (one host sync)."""
        loss, err = self._sums.tolist()
        self.state.sums.update(loss=loss, err=err)

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        if self.checkpoint_path is None:
            return
        self._sync_sums()
        payload = {
            "fingerprint": self.fingerprint,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            # shallow: a deep copy of a long trace every epoch would cost seconds
            "state": {f.name: getattr(self.state, f.name) for f in fields(self.state)},
        }
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(payload, tmp)

    def try_resume(self) -> bool:
        if self.checkpoint_path is None or not self.checkpoint_path.exists():
            return False
        try:
            payload = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        except Exception as error:  # a damaged checkpoint costs a restart, never a crash
            log.warning("ignoring unreadable checkpoint %s (%s)", self.checkpoint_path, error)
            return False
        if payload.get("fingerprint") != self.fingerprint:
            log.warning(
                "ignoring checkpoint %s: written by another configuration", self.checkpoint_path
            )
            return False
        self.model.load_state_dict(payload["model"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.generator.set_state(payload["generator"].cpu())
        self.state = RunState(**payload["state"])
        if self.state.permutation is not None:
            self.state.permutation = self.state.permutation.to(self.device)
        sums = self.state.sums
        self._sums = torch.tensor(
            [sums["loss"], sums["err"]], dtype=torch.float64, device=self.device
        )
        log.info(
            "resumed from %s at epoch %d, batch %d",
            self.checkpoint_path,
            self.state.epoch,
            self.state.batch_in_epoch,
        )
        return True

    def remove_checkpoint(self) -> None:
        if self.checkpoint_path is not None:
            self.checkpoint_path.unlink(missing_ok=True)

    # -- signals ------------------------------------------------------------------------------
    def _on_sigterm(self, signum, frame) -> None:
        log.warning("SIGTERM received: checkpointing after the current step and stopping")
        self._stop_requested = True

    # -- training -----------------------------------------------------------------------------
    def snapshot(self, force: bool = False) -> None:
        if force or self.state.epoch in self.cfg.snapshot_epochs:
            self.state.snapshots[self.state.epoch] = self.cpu_weights()

    def _record_trace(self) -> None:
        grads = [w.grad for w in self.layer_weights]
        norms = torch.stack(torch._foreach_norm(grads)).float().tolist()
        self.state.trace.append((self.state.step, self.state.epoch, norms))

    def trace_rows(self) -> list[dict[str, Any]]:
        """The gradient-norm trace in long form: one row per record and layer."""
        return [
            {
                "step": step,
                "epoch": epoch,
                "layer_index": index,
                "layer": name,
                "weight_grad_norm": norm,
            }
            for step, epoch, norms in self.state.trace
            for index, (name, norm) in enumerate(zip(self.layer_names, norms, strict=True))
        ]

    def _train_step(self, idx: torch.Tensor) -> None:
        cfg, st = self.cfg, self.state
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(cfg, st.step, self.steps_per_epoch, st.warming_up)
        xb = augment(self.x_train[idx], cfg.crop_padding, cfg.flip, self.generator)
        xb = self.normalise(xb).contiguous(memory_format=torch.channels_last)
        yb = self.y_train[idx]
        with self.autocast():
            logits = self.forward(xb)
        loss = F.cross_entropy(logits.float(), yb)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.trace_every and st.step % cfg.trace_every == 0:
            self._record_trace()
        self.optimizer.step()
        with torch.no_grad():
            self._sums[0] += loss.detach().double() * len(idx)
            self._sums[1] += (logits.argmax(1) != yb).sum()
        st.sums["n"] += len(idx)
        st.step += 1
        st.batch_in_epoch += 1
        if st.warming_up:  # a host sync per step, only during the warm-up
            self._sync_sums()
            if st.sums["err"] / st.sums["n"] < cfg.warmup_until_train_err:
                log.info("warm-up ends at step %d", st.step)
                st.warming_up = False

    def _end_epoch(self, seconds: float) -> None:
        st = self.state
        self._sync_sums()
        if not math.isfinite(st.sums["loss"]):
            st.status = "diverged"
            log.error("non-finite loss in epoch %d: run marked diverged", st.epoch + 1)
        st.epoch += 1
        st.train_seconds += seconds
        test_loss, test_err = evaluate(
            self.model,
            self.x_test,
            self.y_test,
            self.normalise,
            self.cfg.eval_batch_size,
            self.autocast,
        )
        row = {
            "epoch": st.epoch,
            "step": st.step,
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": st.sums["loss"] / st.sums["n"],
            "train_err": st.sums["err"] / st.sums["n"],
            "test_loss": test_loss,
            "test_err": test_err,
            "seconds": seconds,
            "status": st.status,
        }
        st.metrics.append(row)
        log.info(
            "epoch %d/%d train_loss %.4f train_err %.4f test_err %.4f (%.1fs)",
            st.epoch,
            self.cfg.epochs,
            row["train_loss"],
            row["train_err"],
            test_err,
            seconds,
        )
        st.sums = {"loss": 0.0, "err": 0.0, "n": 0.0}
        self._sums.zero_()
        st.batch_in_epoch = 0
        st.permutation = None
        self.snapshot()

    def run(self) -> RunState:
        self.try_resume()
        st = self.state
        if st.epoch == 0 and st.batch_in_epoch == 0:
            self.snapshot()  # epoch 0: the initialisation
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self.model.train()
            while st.epoch < self.cfg.epochs and st.status == "running":
                started = time.perf_counter()
                if st.permutation is None:
                    st.permutation = torch.randperm(
                        len(self.x_train), generator=self.generator, device=self.device
                    )
                batches = st.permutation.split(self.cfg.batch_size)
                while st.batch_in_epoch < len(batches):
                    self._train_step(batches[st.batch_in_epoch])
                    if self._stop_requested:
                        self.save_checkpoint()
                        raise Interrupted(
                            f"stopped by SIGTERM at epoch {st.epoch}, step {st.step}; "
                            f"checkpoint {self.checkpoint_path}"
                        )
                self._end_epoch(time.perf_counter() - started)
                self.save_checkpoint()
        finally:
            signal.signal(signal.SIGTERM, previous)
        if st.status == "running":
            st.status = "completed"
        self.snapshot(force=True)  # the final weights, whichever epoch the run ended at
        return st

    def summary(self) -> dict[str, Any]:
        st = self.state
        last = st.metrics[-1] if st.metrics else {}
        return {
            "arch": self.spec.arch,
            "depth": self.spec.depth,
            "seed": self.cfg.seed,
            "params": self.params,
            "status": st.status,
            "epochs_completed": st.epoch,
            "steps": st.step,
            "final_train_loss": last.get("train_loss", float("nan")),
            "final_train_err": last.get("train_err", float("nan")),
            "final_test_loss": last.get("test_loss", float("nan")),
            "final_test_err": last.get("test_err", float("nan")),
            "train_seconds": st.train_seconds,
            "device": str(self.device),
            "torch": torch.__version__,
            "spec": asdict(self.spec),
            "train": asdict(self.cfg),
        }

    def cpu_weights(self) -> dict[str, torch.Tensor]:
        """The weights as they are now, copied to the CPU."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
