"""Several seeds of one network trained together, as one net of grouped convolutions.

On a CPU, a small batch costs as much in overhead as in arithmetic. K seeds of one net are
therefore packed into one net that is K times as wide and split into K groups that never mix:
every convolution becomes a grouped one (``groups`` times K), every BatchNorm has the channels
of all seeds (each channel its own statistics, as before), the classifier becomes K classifiers
side by side, an option-A shortcut pads each seed's channels, a branch scale has one value per
seed. Seed k's images go through group k only: the packed input is the K seeds' batches side by
side along the channels. Nothing else is shared: seed k keeps its own initial weights, its own
generator (batch order, crops, flips), its own BatchNorm statistics, momentum buffers, metrics,
trace, snapshots and checkpoint, all in a per-seed :class:`Trainer` that keeps the books exactly
as when it trains alone. SGD acts element by element, so stepping the packed net steps each
seed; a packed seed ends with the numbers of the same seed alone up to float rounding, which
training amplifies as it would any (the tests say how much).

The checkpoints are the per-seed ones of :class:`Trainer`, written for every seed at once: a
killed job resumes all its seeds, and a run can be resumed packed or alone. Seeds that are not
at the same point (a job killed while it wrote its outputs), He et al.'s constant warm-up of
very deep nets (a learning rate per seed, set by its own training error) and nets with layers
packing does not know (``nets.packing.unpackable_layers``) train one after another instead.

Here live :class:`PackedStepper`, how the packed net steps a batch of every seed and gives each
seed its weights back, and :class:`PackedTrainer`, which resumes a job's seeds, brings any behind
up to the others and chooses between packed and one after another. Both ways go through the
one epoch loop, :class:`.loop.EpochLoop`, as a run trained alone does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import fields

import torch
import torch.nn.functional as F

from ..nets.packing import (
    describe_unpackable,
    pack_model,
    split_state,
    stack_state,
    unpackable_layers,
)
from ..nets.resnet import weight_layers
from .loop import EpochLoop, SeedStepper
from .recipe import TrainConfig
from .trainer import RunState, Trainer

log = logging.getLogger(__name__)


class PackedStepper:
    """Steps ``runs`` (K seeds of one net, at one point of one recipe) as one packed net.

    Built from the runs' own weights, buffers and momentum; :meth:`write_back` copies each
    seed's part back into its run. The per-seed books (counters, trace, rate) are the runs'.
    """

    def __init__(self, runs: Sequence[Trainer]) -> None:
        self.runs = list(runs)
        first = self.runs[0]
        self.net = pack_model(first.model, len(self.runs)).to(first.device)
        states = [run.model.state_dict() for run in self.runs]
        packed = self.net.state_dict()
        self.net.load_state_dict(
            {key: stack_state(key, [s[key] for s in states], packed[key]) for key in packed}
        )
        self.net.train()
        self.optimizer = torch.optim.SGD(
            self.net.parameters(),
            lr=first.cfg.lr,
            momentum=first.cfg.momentum,
            weight_decay=first.cfg.weight_decay,
        )
        seed_params = [dict(run.model.named_parameters()) for run in self.runs]
        for name, param in self.net.named_parameters():
            buffers = [
                run.optimizer.state.get(p[name], {})
                for run, p in zip(self.runs, seed_params, strict=True)
            ]
            if all("momentum_buffer" in b for b in buffers):
                values = [b["momentum_buffer"] for b in buffers]
                self.optimizer.state[param]["momentum_buffer"] = stack_state(
                    name, values, param.data
                )
        packed_params = dict(self.net.named_parameters())
        self.layer_weights = [
            packed_params[f"{name}.weight"] for name, _ in weight_layers(first.model)
        ]

    def step(self, batches: Sequence[torch.Tensor]) -> None:
        """One step of every seed, seed k on its training images ``batches[k]``."""
        first = self.runs[0]
        lr = first.next_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        for run in self.runs:  # each seed's books record the rate its step used
            for group in run.optimizer.param_groups:
                group["lr"] = lr
        pairs = [run.batch(idx) for run, idx in zip(self.runs, batches, strict=True)]
        x = torch.cat([x for x, _ in pairs], dim=1).contiguous(memory_format=torch.channels_last)
        y = torch.stack([y for _, y in pairs], dim=1)  # (B, K)
        with first.autocast():
            logits = self.net(x)
        logits = logits.float().view(len(y), len(self.runs), -1)  # (B, K, classes)
        per_image = F.cross_entropy(logits.permute(0, 2, 1), y, reduction="none")  # (B, K)
        losses = per_image.mean(dim=0)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        if first.trace_due():
            self.record_trace()
        self.optimizer.step()
        with torch.no_grad():
            wrong = (logits.argmax(2) != y).sum(dim=0)
        for index, run in enumerate(self.runs):
            run.count_step(losses[index], wrong[index], len(y))

    def record_trace(self) -> None:
        """Each seed's gradient norm of every weight layer, into its own trace."""
        k = len(self.runs)
        per_seed = [w.grad.reshape(k, -1) for w in self.layer_weights]
        norms = torch.stack([g.float().norm(dim=1) for g in per_seed], dim=1)  # (K, layers)
        for run, row in zip(self.runs, norms.tolist(), strict=True):
            run.add_trace(row)

    def write_back(self) -> None:
        """Copy each seed's part of the packed net into its run: weights, buffers, momentum."""
        k = len(self.runs)
        packed = self.net.state_dict()
        shapes = self.runs[0].model.state_dict()
        parts = {key: split_state(value, k, shapes[key].shape) for key, value in packed.items()}
        packed_params = dict(self.net.named_parameters())
        for index, run in enumerate(self.runs):
            run.model.load_state_dict({key: parts[key][index] for key in parts})
            seed_params = dict(run.model.named_parameters())
            for name, param in packed_params.items():
                buffer = self.optimizer.state.get(param, {}).get("momentum_buffer")
                if buffer is not None:
                    part = split_state(buffer, k, seed_params[name].shape)[index]
                    run.optimizer.state[seed_params[name]]["momentum_buffer"] = part


class PackedTrainer:
    """Trains ``len(cfgs)`` seeds of ``spec`` together; ``run()`` returns their run states.

    ``trainers``: the per-seed :class:`Trainer` objects, each holding its run's state, model (in
    step with the packed net at every epoch end), checkpoint path, label and summary.
    """

    def __init__(
        self,
        spec,
        cfgs: list[TrainConfig],
        data: dict[str, torch.Tensor],
        device: torch.device,
        checkpoint_paths: list,
        data_info: dict | None = None,
        labels: list[str] | None = None,
        on_epoch: list[Callable[[RunState], None] | None] | None = None,
    ) -> None:
        names = [f.name for f in fields(TrainConfig) if f.name != "seed"]
        differ = [name for name in names if len({getattr(c, name) for c in cfgs}) > 1]
        if differ:
            raise ValueError(f"packed seeds must share the recipe; they differ in {differ}")
        labels = labels or [""] * len(cfgs)
        on_epoch = on_epoch or [None] * len(cfgs)
        self.trainers = [
            Trainer(
                spec,
                cfg,
                data,
                device,
                path,
                data_info,
                label=label,
                on_epoch=callback,
                packed=len(cfgs),
            )
            for cfg, path, label, callback in zip(
                cfgs, checkpoint_paths, labels, on_epoch, strict=True
            )
        ]

    def why_not_packed(self) -> list[str]:
        """Why the seeds, as they stand, cannot step as one net; empty when they can."""
        states = [t.state for t in self.trainers]
        reasons = []
        if len({(s.epoch, s.batch_in_epoch, s.step) for s in states}) > 1:
            reasons.append("seeds not at one point")
        if any(s.warming_up for s in states):
            reasons.append("He et al.'s constant warm-up (a rate per seed)")
        if any(s.status != "running" for s in states):
            reasons.append("not every seed is running")
        unknown = unpackable_layers(self.trainers[0].model)
        if unknown:
            reasons.append(describe_unpackable(unknown))
        return reasons

    def _catch_up(self, loop: EpochLoop) -> None:
        """Bring seeds one epoch behind to the others, alone: a job killed while it wrote its
        seeds' checkpoints at an epoch's end leaves some a checkpoint behind. The seeds that
        were ahead then go on packed, to the numbers of a job never killed."""
        states = [t.state for t in self.trainers]
        running = [s for s in states if s.status == "running"]
        if not running or any(s.batch_in_epoch or s.warming_up for s in running):
            return
        lead = max(s.epoch for s in running)
        for trainer in self.trainers:
            if trainer.state.status == "running" and trainer.state.epoch < lead:
                log.info(
                    "%scatching up alone from epoch %d to epoch %d",
                    trainer.log_prefix,
                    trainer.state.epoch,
                    lead,
                )
                loop.run(SeedStepper, runs=[trainer], until=lead)

    def run(self) -> list[RunState]:
        """Resume every seed, bring any behind up to the others, then train them packed, or one
        after another where they cannot be (:meth:`why_not_packed`)."""
        loop = EpochLoop(self.trainers)
        loop.resume()
        self._catch_up(loop)
        reasons = self.why_not_packed()
        if reasons:
            log.info("one after another, not packed: %s", "; ".join(reasons))
            return [loop.run(SeedStepper, runs=[trainer])[0] for trainer in self.trainers]
        return loop.run(PackedStepper)
