"""The one loop over epochs and batches that every training run goes through.

:class:`EpochLoop` owns everything that does not depend on how a batch is stepped: resuming each
run from its checkpoint, the snapshot at epoch 0, the SIGTERM handler, each run's batch order (one
permutation per epoch from the run's own generator, drawn when the epoch starts), the checkpoint
and then :class:`Interrupted` on a stop, the end of an epoch (metrics row, checkpoint,
``on_epoch``), the final status and snapshot. The runs are :class:`~.trainer.Trainer` objects,
each one run's books (net, optimiser, generator, state, checkpoint path).

A :class:`Stepper` is what differs: how one batch of every run is stepped and how the stepped
weights go back to each run's own net. :class:`SeedStepper` steps a run alone on its own net
(``Trainer.run``); ``packed.PackedStepper`` steps K seeds as one net of grouped convolutions
(``packed.PackedTrainer``).
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from .trainer import RunState, Trainer

log = logging.getLogger(__name__)


class Interrupted(RuntimeError):
    """Raised after a SIGTERM once every run's checkpoint is safely on disk."""


class Stepper(Protocol):
    """How the runs of one :class:`EpochLoop` take their optimisation steps."""

    runs: list[Trainer]

    def step(self, batches: Sequence[torch.Tensor]) -> None:
        """One optimisation step of every run, run k on its training images ``batches[k]``,
        counted in each run's books (``Trainer.count_step``)."""

    def record_trace(self) -> None:
        """Append the gradient norms the last step left, one per weight layer, to each run's
        trace (``Trainer.add_trace``)."""

    def write_back(self) -> None:
        """Bring each run's own net and optimiser up to date with the stepped weights."""


class SeedStepper:
    """Steps one run alone, on its own net and optimiser: nothing to write back."""

    def __init__(self, runs: Sequence[Trainer]) -> None:
        if len(runs) != 1:
            raise ValueError(f"SeedStepper steps one run, not {len(runs)}")
        self.runs = list(runs)
        self.trainer = runs[0]
        self.trainer.model.train()

    def step(self, batches: Sequence[torch.Tensor]) -> None:
        (idx,) = batches
        trainer = self.trainer
        for group in trainer.optimizer.param_groups:
            group["lr"] = trainer.next_lr()
        x, y = trainer.batch(idx)
        with trainer.autocast():
            logits = trainer.train_model(x.contiguous(memory_format=torch.channels_last))
        loss = F.cross_entropy(logits.float(), y)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if trainer.trace_due():
            self.record_trace()
        trainer.optimizer.step()
        with torch.no_grad():
            wrong = (logits.argmax(1) != y).sum()
        trainer.count_step(loss, wrong, len(idx))

    def record_trace(self) -> None:
        grads = [w.grad for w in self.trainer.layer_weights]
        self.trainer.add_trace(torch.stack(torch._foreach_norm(grads)).float().tolist())

    def write_back(self) -> None:
        """Nothing to do: the run's own net is the one stepped."""


class EpochLoop:
    """Trains ``runs`` epoch by epoch, stepped together by a :class:`Stepper`.

    Runs stepped together must stand at the same batch of the same epoch; ``packed.PackedTrainer``
    decides which can, and steps the others one after another through the same loop.
    """

    def __init__(self, runs: Sequence[Trainer]) -> None:
        self.runs = list(runs)
        self.resumed: list[bool] | None = None  # which runs found their checkpoint
        self._stop_requested = False

    def resume(self) -> list[bool]:
        """Resume every run from its checkpoint, the first time only; which ones found theirs.

        A run without a checkpoint beside others that resumed (a file lost or deleted) is named:
        it starts from the beginning. An unreadable or foreign one has its own warning
        (``Trainer.try_resume``)."""
        if self.resumed is None:
            self.resumed = [run.try_resume() for run in self.runs]
            for run, found in zip(self.runs, self.resumed, strict=True):
                path = run.checkpoint_path
                if any(self.resumed) and not found and path is not None and not path.exists():
                    log.warning(
                        "%sits checkpoint %s is missing while the other seeds of this job "
                        "resumed: it starts from the beginning",
                        run.log_prefix,
                        path,
                    )
        return self.resumed

    def run(
        self,
        stepper_for: Callable[[list[Trainer]], Stepper],
        runs: Sequence[Trainer] | None = None,
        until: int | None = None,
    ) -> list[RunState]:
        """Train ``runs`` (all of the loop's by default) to the end of the schedule, or only to
        epoch ``until`` (they stay open); returns their states. ``stepper_for(active runs)``
        makes the stepper, again whenever a run stops early (it diverged) and others go on."""
        runs = self.runs if runs is None else list(runs)
        if not {id(run) for run in runs} <= {id(run) for run in self.runs}:
            raise ValueError("EpochLoop.run trains only runs the loop was made with")
        self.resume()
        for run in runs:
            if run.state.epoch == 0 and run.state.batch_in_epoch == 0:
                run.snapshot()  # epoch 0: the initialisation
        active = _open(runs, until)
        self._stop_requested = False
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            stepper = stepper_for(active) if active else None
            while active:
                self._epoch(active, stepper)
                still = _open(active, until)
                if still and len(still) < len(active):
                    stepper = stepper_for(still)  # a run diverged: it stops where it stood
                active = still
        finally:
            signal.signal(signal.SIGTERM, previous)
        for run in runs:
            st = run.state
            if st.status == "running" and st.epoch < run.cfg.epochs:
                continue  # stopped at ``until``
            if st.status == "running":
                st.status = "completed"
            run.snapshot(force=True)  # the final weights, whichever epoch the run ended at
        return [run.state for run in runs]

    def _on_sigterm(self, signum, frame) -> None:
        log.warning("SIGTERM received: checkpointing after the current step and stopping")
        self._stop_requested = True

    def _epoch(self, active: list[Trainer], stepper: Stepper) -> None:
        """Step ``active`` through the rest of their epoch, then close it for each."""
        started = time.perf_counter()
        orders = [_batch_order(run) for run in active]
        points = {
            (run.state.epoch, run.state.batch_in_epoch, len(order))
            for run, order in zip(active, orders, strict=True)
        }
        if len(points) > 1:
            raise ValueError(f"runs stepped together stand at different points: {points}")
        lead = active[0].state
        while lead.batch_in_epoch < len(orders[0]):
            stepper.step([order[lead.batch_in_epoch] for order in orders])
            if self._stop_requested:
                stepper.write_back()
                for run in active:
                    run.save_checkpoint()
                where = (
                    f"checkpoint {active[0].checkpoint_path}"
                    if len(active) == 1
                    else "checkpoints beside each run"
                )
                raise Interrupted(
                    f"stopped by SIGTERM at epoch {lead.epoch}, step {lead.step}; {where}"
                )
        stepper.write_back()
        share = (time.perf_counter() - started) / len(active)
        for run in active:
            run.end_epoch(share, sharing=len(active))
            run.save_checkpoint()
            if run.on_epoch is not None:
                run.on_epoch(run.state)


def _open(runs: Sequence[Trainer], until: int | None) -> list[Trainer]:
    """The runs that still have epochs to train before ``until`` (None: the schedule's end)."""
    return [
        run
        for run in runs
        if run.state.status == "running"
        and run.state.epoch < (run.cfg.epochs if until is None else min(until, run.cfg.epochs))
    ]


def _batch_order(run: Trainer) -> tuple[torch.Tensor, ...]:
    """The run's batches of this epoch: a permutation from its own generator, drawn when the
    epoch starts and kept in its state (and checkpoint) until the epoch ends."""
    st = run.state
    if st.permutation is None:
        st.permutation = torch.randperm(
            len(run.x_train), generator=run.generator, device=run.device
        )
    return st.permutation.split(run.cfg.batch_size)
