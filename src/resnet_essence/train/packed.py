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
packing does not know train one after another instead.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from ..nets.packing import pack_model, split_state, stack_state
from ..nets.resnet import weight_layers
from .trainer import Interrupted, RunState, TrainConfig, Trainer, augment, learning_rate

log = logging.getLogger(__name__)


# -- the trainer ----------------------------------------------------------------------------------
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
        fields = ("epochs", "batch_size", "lr", "momentum", "weight_decay", "precision")
        differ = [f for f in fields if len({getattr(c, f) for c in cfgs}) > 1]
        if differ:
            raise ValueError(f"packed seeds must share the recipe; they differ in {differ}")
        self.cfg, self.device = cfgs[0], device
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
        self.active: list[Trainer] = []
        self._stop_requested = False

    # -- packing ------------------------------------------------------------------------------
    def _pack(self, trainers: list[Trainer]) -> None:
        """Build the packed net from the weights, buffers and momentum of ``trainers``."""
        self.active = trainers
        k = len(trainers)
        self.net = pack_model(trainers[0].model, k).to(self.device)
        states = [t.model.state_dict() for t in trainers]
        packed = self.net.state_dict()
        self.net.load_state_dict(
            {key: stack_state(key, [s[key] for s in states], packed[key]) for key in packed}
        )
        self.net.train()
        self.optimizer = torch.optim.SGD(
            self.net.parameters(),
            lr=self.cfg.lr,
            momentum=self.cfg.momentum,
            weight_decay=self.cfg.weight_decay,
        )
        names = [name for name, _ in self.net.named_parameters()]
        seed_params = [dict(t.model.named_parameters()) for t in trainers]
        for name, param in self.net.named_parameters():
            buffers = [
                t.optimizer.state.get(p[name], {})
                for t, p in zip(trainers, seed_params, strict=True)
            ]
            if all("momentum_buffer" in b for b in buffers):
                values = [b["momentum_buffer"] for b in buffers]
                self.optimizer.state[param]["momentum_buffer"] = stack_state(
                    name, values, param.data
                )
        self.param_names = names
        self.layer_weights = [
            dict(self.net.named_parameters())[f"{name}.weight"]
            for name, _ in weight_layers(trainers[0].model)
        ]

    def _unpack(self) -> None:
        """Copy every running seed's part back into its trainer: weights, buffers, momentum."""
        k = len(self.active)
        packed = self.net.state_dict()
        shapes = self.active[0].model.state_dict()
        parts = {key: split_state(value, k, shapes[key].shape) for key, value in packed.items()}
        packed_params = dict(self.net.named_parameters())
        for index, trainer in enumerate(self.active):
            trainer.model.load_state_dict({key: parts[key][index] for key in parts})
            seed_params = dict(trainer.model.named_parameters())
            for name, param in packed_params.items():
                buffer = self.optimizer.state.get(param, {}).get("momentum_buffer")
                if buffer is not None:
                    part = split_state(buffer, k, seed_params[name].shape)[index]
                    trainer.optimizer.state[seed_params[name]]["momentum_buffer"] = part

    # -- training -----------------------------------------------------------------------------
    def _step(self, batches: list[torch.Tensor]) -> None:
        cfg = self.cfg
        first = self.active[0]
        lr = learning_rate(cfg, first.state.step, first.steps_per_epoch, False)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        xs, ys = [], []
        for trainer, idx in zip(self.active, batches, strict=True):
            xb = augment(trainer.x_train[idx], cfg.crop_padding, cfg.flip, trainer.generator)
            xs.append(trainer.normalise(xb))
            ys.append(trainer.y_train[idx])
        x = torch.cat(xs, dim=1).contiguous(memory_format=torch.channels_last)
        y = torch.stack(ys, dim=1)  # (B, K)
        with first.autocast():
            logits = self.net(x)
        logits = logits.float().view(len(y), len(self.active), -1)  # (B, K, classes)
        per_image = F.cross_entropy(logits.permute(0, 2, 1), y, reduction="none")  # (B, K)
        losses = per_image.mean(dim=0)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        if cfg.trace_every and first.state.step % cfg.trace_every == 0:
            self._record_trace()
        self.optimizer.step()
        with torch.no_grad():
            wrong = (logits.argmax(2) != y).sum(dim=0)
        for index, trainer in enumerate(self.active):
            trainer._sums[0] += losses[index].detach().double() * len(y)
            trainer._sums[1] += wrong[index]
            st = trainer.state
            st.sums["n"] += len(y)
            st.step += 1
            st.batch_in_epoch += 1

    def _record_trace(self) -> None:
        k = len(self.active)
        per_seed = [w.grad.reshape(k, -1) for w in self.layer_weights]
        norms = torch.stack([g.float().norm(dim=1) for g in per_seed], dim=1)  # (K, layers)
        for trainer, row in zip(self.active, norms.tolist(), strict=True):
            trainer.state.trace.append((trainer.state.step, trainer.state.epoch, row))

    def _on_sigterm(self, signum, frame) -> None:
        log.warning("SIGTERM received: checkpointing every seed after the current step")
        self._stop_requested = True

    def _packable(self) -> bool:
        states = [t.state for t in self.trainers]
        same = len({(s.epoch, s.batch_in_epoch, s.step) for s in states}) == 1
        warm = any(s.warming_up for s in states)
        try:
            pack_model(self.trainers[0].model, 1)
        except ValueError as unknown:
            log.info("%s", unknown)
            return False
        return same and not warm and all(s.status == "running" for s in states)

    def _epoch(self) -> None:
        started = time.perf_counter()
        for trainer in self.active:
            if trainer.state.permutation is None:
                trainer.state.permutation = torch.randperm(
                    len(trainer.x_train), generator=trainer.generator, device=self.device
                )
        splits = [t.state.permutation.split(self.cfg.batch_size) for t in self.active]
        while self.active[0].state.batch_in_epoch < len(splits[0]):
            b = self.active[0].state.batch_in_epoch
            self._step([s[b] for s in splits])
            if self._stop_requested:
                self._unpack()
                for trainer in self.active:
                    trainer.save_checkpoint()
                raise Interrupted(
                    f"stopped by SIGTERM at epoch {self.active[0].state.epoch}, step "
                    f"{self.active[0].state.step}; checkpoints beside each run"
                )
        self._unpack()
        k = len(self.active)
        share = (time.perf_counter() - started) / k
        for trainer in self.active:
            trainer._end_epoch(share, sharing=k)
            trainer.save_checkpoint()
            if trainer.on_epoch is not None:
                trainer.on_epoch(trainer.state)

    def _catch_up(self) -> None:
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
                    trainer._prefix(),
                    trainer.state.epoch,
                    lead,
                )
                trainer.run(until=lead)

    def run(self) -> list[RunState]:
        resumed = [trainer.try_resume() for trainer in self.trainers]
        if any(resumed):
            # a seed without a checkpoint beside others that have one: say why it starts over
            # (an unreadable or foreign one has its own warning from try_resume)
            for trainer, found in zip(self.trainers, resumed, strict=True):
                if not found and not trainer.checkpoint_path.exists():
                    log.warning(
                        "%sits checkpoint %s is missing while the other seeds of this job "
                        "resumed: it starts from the beginning",
                        trainer._prefix(),
                        trainer.checkpoint_path,
                    )
        self._catch_up()
        if not self._packable():
            log.info("seeds not at one point, warming up or not packable: one after another")
            return [trainer.run() for trainer in self.trainers]
        for trainer in self.trainers:
            st = trainer.state
            if st.epoch == 0 and st.batch_in_epoch == 0:
                trainer.snapshot()  # epoch 0: the initialisation
        self._pack(list(self.trainers))
        previous = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            while self.active and self.active[0].state.epoch < self.cfg.epochs:
                self._epoch()
                running = [t for t in self.active if t.state.status == "running"]
                if len(running) < len(self.active) and running:
                    self._pack(running)  # a seed diverged: it stops where it stood
                self.active = running
        finally:
            signal.signal(signal.SIGTERM, previous)
        for trainer in self.trainers:
            if trainer.state.status == "running":
                trainer.state.status = "completed"
            trainer.snapshot(force=True)
        return [t.state for t in self.trainers]
