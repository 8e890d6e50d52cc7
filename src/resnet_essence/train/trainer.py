"""Training one network: He et al.'s recipe, data kept whole on the device, resumable.

:class:`Trainer` is one run's books: its net, optimiser, generator, data, state and checkpoint,
and what is done to them once a step (:meth:`Trainer.count_step`, :meth:`Trainer.add_trace`) or
once an epoch (:meth:`Trainer.end_epoch`, snapshots, checkpoints). The loop over epochs and
batches that drives them is :class:`.loop.EpochLoop`, the same for a run trained alone
(:meth:`Trainer.run`) and for seeds packed into one net (``packed.py``); the recipe it follows
(settings, rate, augmentation, evaluation) is in ``recipe.py``, importable from here too.

The data set lives on the training device as one uint8 tensor; each batch is normalised and
augmented there (pad-and-crop and horizontal flip on the whole batch at once), so there is no
data loader between the model and the data. A checkpoint after every epoch (and on SIGTERM,
mid-epoch) holds everything the run depends on, the random generator included, so a resumed run
ends with the same numbers as an uninterrupted one on the CPU.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch

from ..data.normalise import Normaliser
from ..files import atomic_path
from ..nets.resnet import BottleneckSpec, NetSpec, build_model, count_parameters, weight_layers
from .loop import EpochLoop, SeedStepper
from .loop import Interrupted as Interrupted  # raised by Trainer.run, importable from here
from .recipe import TrainConfig, augment, evaluate, learning_rate

log = logging.getLogger(__name__)


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


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (oneDNN's own test: avx512_bf16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN
        return False


def resolve_device(name: str) -> torch.device:
    """'auto' is CUDA when present; asking for CUDA without it is an error, not a fallback."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"config key 'device': {name!r} but CUDA is not available on this machine "
            f"(torch {torch.__version__}); use device: cpu or auto"
        )
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"device={name!r} is unknown; use auto, cpu, cuda or cuda:N")
    return torch.device(name)


def _state_fingerprint(
    spec: NetSpec | BottleneckSpec, cfg: TrainConfig, data_info: dict[str, Any]
) -> dict:
    # A checkpoint is only resumed by the very run that wrote it: same network, recipe and data.
    return {"spec": asdict(spec), "train": asdict(cfg), "data": data_info}


class Trainer:
    """One run's books; ``run()`` trains it alone and returns the finished ``RunState``.

    ``checkpoint_path`` is not a Snakemake output (Snakemake deletes outputs before a rerun),
    so it survives a killed job and the rerun picks it up. A stepper (``loop.SeedStepper``,
    ``packed.PackedStepper``) counts each step through :meth:`count_step` and
    :meth:`add_trace`; the epoch loop closes each epoch through :meth:`end_epoch`.
    """

    def __init__(
        self,
        spec: NetSpec | BottleneckSpec,
        cfg: TrainConfig,
        data: dict[str, torch.Tensor],
        device: torch.device,
        checkpoint_path: str | Path | None = None,
        data_info: dict[str, Any] | None = None,
        compile_model: bool = False,
        label: str = "",
        on_epoch: Callable[[RunState], None] | None = None,
        packed: int = 1,
    ) -> None:
        self.spec, self.cfg, self.device = spec, cfg, device
        self.packed = packed  # seeds in this one's job (packed.PackedTrainer), for the summary
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.fingerprint = _state_fingerprint(spec, cfg, data_info or {})
        torch.manual_seed(cfg.seed)
        self.model = build_model(spec).to(device)
        self.n_parameters = count_parameters(self.model)
        self.label = label  # names the run in every log line: two jobs may share a log stream
        self.on_epoch = on_epoch  # called after every epoch, e.g. to write the metrics so far
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
        self.train_model = torch.compile(self.model) if compile_model else self.model
        self.bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and device.type == "cuda")
        if self.bf16 and device.type == "cpu" and not cpu_has_bf16():
            log.warning(
                "%strain.precision bf16 on a CPU without bf16 units (no avx512_bf16 or AMX): "
                "emulated, about 12x slower than fp32 here (benchmarks/README.md); "
                '--config \'train={"precision": "fp32"}\' trains in fp32',
                f"{label}: " if label else "",
            )
        self.state = RunState(warming_up=getattr(spec, "depth", 0) >= cfg.warmup_min_depth)
        # the epoch's running loss and error stay on the device: no host sync per step
        self._sums = torch.zeros(2, dtype=torch.float64, device=device)

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
            # weights_only: tensors and plain containers only, a tampered file cannot run code
            payload = torch.load(self.checkpoint_path, map_location="cpu", weights_only=True)
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
            "%sresumed from %s at epoch %d, batch %d",
            self.log_prefix,
            self.checkpoint_path,
            self.state.epoch,
            self.state.batch_in_epoch,
        )
        return True

    def remove_checkpoint(self) -> None:
        if self.checkpoint_path is not None:
            self.checkpoint_path.unlink(missing_ok=True)

    @property
    def log_prefix(self) -> str:
        """What starts this run's log lines: its label, if it has one."""
        return f"{self.label}: " if self.label else ""

    # -- one step -----------------------------------------------------------------------------
    def next_lr(self) -> float:
        """The learning rate of this run's next optimisation step."""
        st = self.state
        return learning_rate(self.cfg, st.step, self.steps_per_epoch, st.warming_up)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training images ``idx``, augmented with this run's generator and normalised, and
        their labels."""
        x = augment(self.x_train[idx], self.cfg.crop_padding, self.cfg.flip, self.generator)
        return self.normalise(x), self.y_train[idx]

    def trace_due(self) -> bool:
        """Whether the step about to be taken records its gradient norms (``trace_every``)."""
        return bool(self.cfg.trace_every) and self.state.step % self.cfg.trace_every == 0

    def add_trace(self, norms: list[float]) -> None:
        """Record the gradient norms of this run's current step, one per weight layer."""
        self.state.trace.append((self.state.step, self.state.epoch, norms))

    def count_step(self, loss: torch.Tensor, wrong: torch.Tensor, images: int) -> None:
        """Count one optimisation step taken on ``images`` images, whose mean loss and number of
        wrong predictions are ``loss`` and ``wrong`` (on the device: no host sync), and end
        He et al.'s constant warm-up once the epoch's running error falls below
        ``warmup_until_train_err``."""
        cfg, st = self.cfg, self.state
        with torch.no_grad():
            self._sums[0] += loss.detach().double() * images
            self._sums[1] += wrong
        st.sums["n"] += images
        st.step += 1
        st.batch_in_epoch += 1
        if st.warming_up:  # a host sync per step, only during the warm-up
            self._sync_sums()
            if st.sums["err"] / st.sums["n"] < cfg.warmup_until_train_err:
                log.info("%swarm-up ends at step %d", self.log_prefix, st.step)
                st.warming_up = False

    # -- once an epoch ------------------------------------------------------------------------
    def snapshot(self, force: bool = False) -> None:
        """Keep the weights as they stand after ``state.epoch`` epochs (0: the initialisation)
        if it is one of ``snapshot_epochs``, or in any case with ``force``."""
        if force or self.state.epoch in self.cfg.snapshot_epochs:
            self.state.snapshots[self.state.epoch] = self.cpu_weights()

    def end_epoch(self, seconds: float, sharing: int = 1) -> None:
        """Close an epoch that cost this run ``seconds``, its share of a job that stepped
        ``sharing`` seeds together (packed.py): its metrics row (the test set evaluated as
        often as ``eval_every`` asks), divergence, snapshot; the log and its ETA report the
        job's time."""
        wall = seconds * sharing
        st = self.state
        self._sync_sums()
        if not math.isfinite(st.sums["loss"]):
            st.status = "diverged"
            log.error(
                "%snon-finite loss in epoch %d: run marked diverged", self.log_prefix, st.epoch + 1
            )
        st.epoch += 1
        st.train_seconds += seconds
        every = self.cfg.eval_every
        last = st.epoch >= self.cfg.epochs or st.status != "running"
        test_loss = test_err = math.nan  # the test set only as often as it is read
        if last or (every and st.epoch % every == 0):
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
            # the rate of this run's last step (a packed stepper sets it on every seed's
            # optimiser too; before 2026-12-07 packed rows kept the initial rate)
            "lr": self.optimizer.param_groups[0]["lr"],
            "train_loss": st.sums["loss"] / st.sums["n"],
            "train_err": st.sums["err"] / st.sums["n"],
            "test_loss": test_loss,
            "test_err": test_err,
            "seconds": seconds,
            "status": st.status,
        }
        st.metrics.append(row)
        remaining = (self.cfg.epochs - st.epoch) * st.train_seconds / st.epoch * sharing
        log.info(
            "%sepoch %d/%d train_loss %.4f train_err %.4f test_err %.4f (%.1fs, ETA %s)",
            self.log_prefix,
            st.epoch,
            self.cfg.epochs,
            row["train_loss"],
            row["train_err"],
            test_err,
            wall,
            _duration(remaining),
        )
        st.sums = {"loss": 0.0, "err": 0.0, "n": 0.0}
        self._sums.zero_()
        st.batch_in_epoch = 0
        st.permutation = None
        self.snapshot()

    def run(self, until: int | None = None) -> RunState:
        """Train alone to the end of the schedule, or only to epoch ``until`` (the run stays
        open): the epoch loop with this run's own net stepping every batch. A SIGTERM ends it
        with :class:`Interrupted` once the checkpoint is written."""
        return EpochLoop([self]).run(SeedStepper, until=until)[0]

    # -- what a run leaves ---------------------------------------------------------------------
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

    def summary(self) -> dict[str, Any]:
        st = self.state
        last = st.metrics[-1] if st.metrics else {}
        return {
            "seed": self.cfg.seed,
            "params": self.n_parameters,
            "num_classes": self.spec.num_classes,
            "status": st.status,
            "epochs_completed": st.epoch,
            "steps": st.step,
            "final_train_loss": last.get("train_loss", float("nan")),
            "final_train_err": last.get("train_err", float("nan")),
            "final_test_loss": last.get("test_loss", float("nan")),
            "final_test_err": last.get("test_err", float("nan")),
            "train_seconds": st.train_seconds,
            "n_train": len(self.x_train),
            "n_test": len(self.x_test),
            "device": str(self.device),
            "precision": "bf16" if self.bf16 else "fp32",
            "packed": self.packed,
            "torch": torch.__version__,
            "spec": asdict(self.spec),
            "train": asdict(self.cfg),
        }

    def clean_train_error(self) -> float:
        """The error of the weights as they are now on the whole training set, in eval mode and
        without augmentation: what the convergence criterion (report.converged_train_err)
        judges, where the running error of the last epoch mixes weights along the epoch,
        BatchNorm's batch statistics and augmented images."""
        return evaluate(
            self.model,
            self.x_train,
            self.y_train,
            self.normalise,
            self.cfg.eval_batch_size,
            self.autocast,
        )[1]

    def cpu_weights(self) -> dict[str, torch.Tensor]:
        """The weights as they are now, copied to the CPU."""
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
