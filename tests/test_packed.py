"""Seeds trained together (packed.PackedTrainer) against the same seeds trained alone."""

import os
import signal

import pytest
import torch
from conftest import bottleneck_spec, net_spec, quick

from resnet_essence.train.packed import PackedTrainer
from resnet_essence.train.trainer import Interrupted, Trainer

CPU = torch.device("cpu")
SPEC = net_spec("residual", 14, in_channels=1, width=4)
SEEDS = (0, 1, 2)


def _cfgs(**overrides):
    return [quick(seed, **overrides) for seed in SEEDS]


def _relative(a: dict, b: dict) -> float:
    """||a - b|| / ||a|| over every floating tensor of two state dicts."""
    keys = [k for k in a if a[k].is_floating_point()]
    num = sum(float((a[k] - b[k]).double().square().sum()) for k in keys)
    den = sum(float(a[k].double().square().sum()) for k in keys)
    return (num / den) ** 0.5


def _strip(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_a_packed_seed_ends_where_the_same_seed_alone_does(tiny_tensors):
    alone = [Trainer(SPEC, cfg, tiny_tensors, CPU) for cfg in _cfgs()]
    states = [t.run() for t in alone]
    packed = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, [None] * len(SEEDS))
    together = packed.run()
    for k, (a, p) in enumerate(zip(states, together, strict=True)):
        assert (p.step, p.epoch, p.status) == (a.step, a.epoch, a.status)
        assert sorted(p.snapshots) == sorted(a.snapshots) == [0, 1, 3]
        # at initialisation: identical, bit for bit (the same seed builds the same net)
        for key, value in a.snapshots[0].items():
            assert torch.equal(value, p.snapshots[0][key]), key
        # after 21 steps: the same up to float rounding (grouped convolutions sum in another
        # order), which training amplifies as it would any rounding: about 1e-7 relative while
        # no unit changes side, up to a few 1e-3 once a ReLU near zero flips in one seed
        assert _relative(alone[k].cpu_weights(), packed.trainers[k].cpu_weights()) < 5e-2
        for ra, rp in zip(a.metrics, p.metrics, strict=True):
            assert rp["train_loss"] == pytest.approx(ra["train_loss"], rel=1e-2)
            assert abs(rp["train_err"] - ra["train_err"]) <= 2 / 200 + 1e-9  # two images
            assert abs(rp["test_err"] - ra["test_err"]) <= 2 / 50 + 1e-9
        assert [(s, e) for s, e, _ in p.trace] == [(s, e) for s, e, _ in a.trace]
        for (_, epoch, na), (_, _, npk) in zip(a.trace, p.trace, strict=True):
            if epoch == 0:  # the first epoch's gradients, before any ReLU flips apart
                assert npk == pytest.approx(na, rel=1e-3)
        assert packed.trainers[k].summary()["packed"] == len(SEEDS)
        assert alone[k].summary()["packed"] == 1


def test_one_packed_step_differs_from_alone_by_float_rounding_only(tiny_tensors):
    cfgs = _cfgs(epochs=1, batch_size=200)  # one step: nothing to amplify a rounding
    alone = [Trainer(SPEC, cfg, tiny_tensors, CPU) for cfg in cfgs]
    for trainer in alone:
        trainer.run()
    packed = PackedTrainer(SPEC, cfgs, tiny_tensors, CPU, [None] * len(SEEDS))
    packed.run()
    for a, p in zip(alone, packed.trainers, strict=True):
        assert _relative(a.cpu_weights(), p.cpu_weights()) < 1e-6


def _interrupt_packed_at(packed: PackedTrainer, step: int) -> None:
    """Send this process a real SIGTERM once the first seed has counted ``step`` steps."""
    first = packed.trainers[0]
    original = first.count_step

    def count_then_maybe_signal(*args):
        original(*args)
        if first.state.step == step:
            os.kill(os.getpid(), signal.SIGTERM)

    first.count_step = count_then_maybe_signal


def test_a_killed_packed_job_resumes_every_seed_to_the_same_numbers(tiny_tensors, tmp_path):
    straight = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, [None] * len(SEEDS)).run()
    paths = [tmp_path / f"seed{s}.pt" for s in SEEDS]
    first = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths)
    _interrupt_packed_at(first, 10)  # mid-epoch 2
    with pytest.raises(Interrupted, match="step 10; checkpoints beside each run"):
        first.run()
    assert all(p.exists() for p in paths)  # one checkpoint per seed, as a run alone writes
    second = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths)
    resumed = second.run()
    for a, b in zip(straight, resumed, strict=True):
        assert _strip(b.metrics) == _strip(a.metrics)  # bit for bit
        assert b.trace == a.trace
        for key, value in a.snapshots[3].items():
            assert torch.equal(value, b.snapshots[3][key]), key
    # a packed checkpoint is a seed's own: the run can also be resumed alone
    for path in paths:
        path.unlink()
    third = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths)
    _interrupt_packed_at(third, 10)
    with pytest.raises(Interrupted):
        third.run()
    alone = Trainer(SPEC, _cfgs()[1], tiny_tensors, CPU, checkpoint_path=paths[1])
    assert alone.try_resume() and alone.state.step == 10
    state = alone.run()
    assert state.status == "completed"
    assert state.metrics[-1]["train_loss"] == pytest.approx(
        straight[1].metrics[-1]["train_loss"], rel=1e-4
    )


def test_a_diverging_seed_stops_where_it_stood_and_the_others_go_on(tiny_tensors):
    packed = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, [None] * len(SEEDS))
    with torch.no_grad():  # seed 1 starts from weights that make its loss non-finite
        packed.trainers[1].model.fc.weight.fill_(float("inf"))
    states = packed.run()
    assert states[1].status == "diverged" and states[1].epoch == 1 and states[1].step == 7
    assert [states[0].status, states[2].status] == ["completed", "completed"]
    assert states[0].epoch == states[2].epoch == 3
    alone = Trainer(SPEC, _cfgs()[0], tiny_tensors, CPU).run()
    assert states[0].metrics[-1]["train_loss"] == pytest.approx(
        alone.metrics[-1]["train_loss"], rel=1e-4
    )


def test_bottleneck_nets_pack_too(tiny_tensors):
    spec = bottleneck_spec("linear", 4, expansion=8, blocks=1, num_classes=10, in_channels=1)
    cfgs = _cfgs(epochs=1)
    alone = [Trainer(spec, cfg, tiny_tensors, CPU).run() for cfg in cfgs]
    together = PackedTrainer(spec, cfgs, tiny_tensors, CPU, [None] * len(SEEDS)).run()
    for a, p in zip(alone, together, strict=True):
        assert p.metrics[0]["train_loss"] == pytest.approx(a.metrics[0]["train_loss"], rel=1e-4)


def test_the_constant_warm_up_of_very_deep_nets_trains_seeds_one_after_another(tiny_tensors):
    cfgs = _cfgs(epochs=2, warmup_min_depth=8, warmup_until_train_err=0.5)
    packed = PackedTrainer(SPEC, cfgs, tiny_tensors, CPU, [None] * len(SEEDS))
    states = packed.run()  # a rate per seed, set by its own error: not packable
    alone = Trainer(SPEC, cfgs[2], tiny_tensors, CPU).run()
    assert _strip(states[2].metrics) == _strip(alone.metrics)


def test_a_packed_epoch_logs_the_jobs_time_and_records_each_seeds_share(
    tiny_tensors, monkeypatch, caplog
):
    # a fake clock: every epoch of the packed job takes 6 s on it, whatever the machine does
    import resnet_essence.train.loop as loop_module

    ticks = iter(range(0, 10_000, 3))
    monkeypatch.setattr(loop_module.time, "perf_counter", lambda: float(next(ticks)) * 2)
    packed = PackedTrainer(SPEC, _cfgs(epochs=2), tiny_tensors, CPU, [None] * len(SEEDS))
    with caplog.at_level("INFO", logger="resnet_essence.train.trainer"):
        states = packed.run()
    # each seed's metrics carry its share of the epoch (6 s / 3 seeds) ...
    assert [row["seconds"] for row in states[0].metrics] == [2.0, 2.0]
    # ... while the log line says what the job took and how long it has left: one more 6-s epoch
    first = [r.getMessage() for r in caplog.records if "epoch 1/2" in r.getMessage()]
    assert len(first) == len(SEEDS)
    assert all("(6.0s, ETA 0m06s)" in message for message in first), first


def test_a_job_killed_between_two_seeds_checkpoints_resumes_the_others_to_the_same_numbers(
    tiny_tensors, tmp_path
):
    # a packed job writes its seeds' checkpoints one after another at an epoch's end; a kill
    # between two leaves seed 0 at epoch 2 and seeds 1 and 2 at epoch 1
    paths = [tmp_path / f"seed{s}.pt" for s in SEEDS]
    first = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths)
    kept = {0: 2, 1: 1, 2: 1}  # seed: the epoch whose checkpoint the kill leaves
    for k, trainer in enumerate(first.trainers):
        trainer.on_epoch = lambda st, k=k: (
            (tmp_path / f"kept{k}.pt").write_bytes(paths[k].read_bytes())
            if st.epoch == kept[k]
            else None
        )
    straight = first.run()
    for k, path in enumerate(paths):
        path.write_bytes((tmp_path / f"kept{k}.pt").read_bytes())
    resumed = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths).run()
    # the seeds behind catch up alone, then all go on packed: seed 0 as if never killed ...
    assert _strip(resumed[0].metrics) == _strip(straight[0].metrics)
    assert resumed[0].trace == straight[0].trace
    # ... the others as after any change of path, up to float rounding, which two epochs of
    # training amplify: 0.2% of the loss on an AMD EPYC without AVX-512, 0.1% on Intel
    for k in (1, 2):
        assert resumed[k].status == "completed" and resumed[k].epoch == 3
        assert resumed[k].metrics[-1]["train_loss"] == pytest.approx(
            straight[k].metrics[-1]["train_loss"], rel=1e-2
        )


def test_a_seed_whose_checkpoint_is_missing_says_so_and_catches_up(tiny_tensors, tmp_path, caplog):
    # every seed's checkpoint of epoch 1 kept (as a kill after that epoch leaves them), then
    # one of them deleted by hand
    paths = [tmp_path / f"seed{s}.pt" for s in SEEDS]
    first = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths)
    for k, trainer in enumerate(first.trainers):
        trainer.on_epoch = lambda st, k=k: (
            (tmp_path / f"kept{k}.pt").write_bytes(paths[k].read_bytes()) if st.epoch == 1 else None
        )
    first.run()
    for k in (0, 2):
        paths[k].write_bytes((tmp_path / f"kept{k}.pt").read_bytes())
    paths[1].unlink()
    with caplog.at_level("INFO"):
        resumed = PackedTrainer(SPEC, _cfgs(), tiny_tensors, CPU, paths).run()
    assert all(r.status == "completed" and r.epoch == 3 for r in resumed)
    assert f"its checkpoint {paths[1]} is missing while the other seeds" in caplog.text
    assert "catching up alone from epoch 0 to epoch 1" in caplog.text


def test_each_packed_seed_scores_its_own_final_weights_in_eval_mode(tiny_tensors, tmp_path):
    from resnet_essence.train.job import save_run

    packed = PackedTrainer(SPEC, _cfgs(epochs=2), tiny_tensors, CPU, [None] * len(SEEDS))
    packed.run()
    errors = []
    for k, trainer in enumerate(packed.trainers):
        model = trainer.model.eval()
        with torch.no_grad():
            logits = model(trainer.normalise(tiny_tensors["x_train"]))
        model.train()
        expected = (logits.argmax(1) != tiny_tensors["y_train"]).double().mean().item()
        files = {n: tmp_path / f"{k}.{n}" for n in ("metrics", "trace", "snapshots", "model")}
        ids = {"arch": "residual", "depth": 14, "seed": k}
        summary = save_run(trainer, ids, "tiny", {**files, "summary": tmp_path / f"{k}.json"})
        assert summary["final_train_err_eval"] == pytest.approx(expected, abs=1e-12)
        errors.append(expected)
    assert len(set(errors)) > 1  # three nets, not one scored three times


def _with_gelu(trainer: Trainer) -> Trainer:
    """The trainer with one ReLU of its net swapped for a GELU: a layer packing does not know."""
    trainer.model.stage1[0].relu1 = torch.nn.GELU()
    return trainer


def test_unpackable_layers_names_what_packing_does_not_know():
    from resnet_essence.nets.packing import pack_model, unpackable_layers
    from resnet_essence.nets.resnet import build_model

    model = build_model(SPEC)
    assert unpackable_layers(model) == []
    gelu = model.stage1[0].relu1 = torch.nn.GELU()
    assert unpackable_layers(model) == [("stage1.0.relu1", gelu)]
    with pytest.raises(ValueError, match=r"packing knows no GELU \(stage1.0.relu1\)"):
        pack_model(model, 2)
    # a container with a parameter of its own: nothing would widen it
    model.stage1[0].relu1 = torch.nn.ReLU()
    model.stage2.register_parameter("gain", torch.nn.Parameter(torch.ones(1)))
    assert [name for name, _ in unpackable_layers(model)] == ["stage2"]


def test_a_net_packing_does_not_know_trains_one_after_another_without_building_a_packed_net(
    tiny_tensors, monkeypatch, caplog
):
    import resnet_essence.train.packed as packed_module

    def refuse(*args):
        raise AssertionError("packing is decided from the modules, without building a net")

    monkeypatch.setattr(packed_module, "pack_model", refuse)
    cfgs = _cfgs(epochs=2)
    packed = PackedTrainer(SPEC, cfgs, tiny_tensors, CPU, [None] * len(SEEDS))
    for trainer in packed.trainers:
        _with_gelu(trainer)
    assert packed.why_not_packed() == ["packing knows no GELU (stage1.0.relu1)"]
    with caplog.at_level("INFO", logger="resnet_essence.train.packed"):
        states = packed.run()
    assert "one after another, not packed: packing knows no GELU" in caplog.text
    for cfg, state in zip(cfgs, states, strict=True):  # each as it trains alone, bit for bit
        alone = _with_gelu(Trainer(SPEC, cfg, tiny_tensors, CPU)).run()
        assert _strip(state.metrics) == _strip(alone.metrics)
        assert state.trace == alone.trace


def test_a_packed_stepper_counts_each_seeds_step_in_its_own_books(tiny_tensors):
    from resnet_essence.train.packed import PackedStepper

    runs = [Trainer(SPEC, cfg, tiny_tensors, CPU) for cfg in _cfgs()]
    counted = {k: [] for k in range(len(runs))}
    for k, run in enumerate(runs):
        run.count_step = lambda loss, wrong, images, k=k: counted[k].append(
            (float(loss.detach()), int(wrong), images)
        )
    stepper = PackedStepper(runs)
    stepper.step([torch.arange(16) + 16 * k for k in range(len(runs))])
    assert all(len(calls) == 1 and calls[0][2] == 16 for calls in counted.values())
    losses = [calls[0][0] for calls in counted.values()]
    assert len(set(losses)) == len(runs)  # each seed's own loss, on its own images
    assert [len(run.state.trace) for run in runs] == [1, 1, 1]  # step 0: a trace record each


def test_the_epoch_loop_steps_together_only_runs_at_one_point(tiny_tensors):
    from resnet_essence.train.loop import EpochLoop
    from resnet_essence.train.packed import PackedStepper

    runs = [Trainer(SPEC, cfg, tiny_tensors, CPU) for cfg in _cfgs()[:2]]
    runs[1].run(until=1)
    with pytest.raises(ValueError, match="different points"):
        EpochLoop(runs).run(PackedStepper)


def test_packed_seeds_must_share_every_setting_of_the_recipe_but_the_seed(tiny_tensors):
    cfgs = _cfgs()
    cfgs[2] = quick(2, crop_padding=0)
    with pytest.raises(ValueError, match=r"differ in \['crop_padding'\]"):
        PackedTrainer(SPEC, cfgs, tiny_tensors, CPU, [None] * len(SEEDS))


def test_a_packed_seed_records_the_learning_rate_its_steps_used(tiny_tensors):
    # a schedule that moves the rate every epoch: each row's rate is that of the epoch's last
    # step, packed as alone (packed rows kept the initial rate before 2026-12-07)
    cfgs = lambda: _cfgs(lr_schedule="cosine", warmup_epochs=0)
    alone = Trainer(SPEC, cfgs()[0], tiny_tensors, CPU).run()
    together = PackedTrainer(SPEC, cfgs(), tiny_tensors, CPU, [None] * len(SEEDS)).run()
    rates = [row["lr"] for row in alone.metrics]
    assert len(set(rates)) == len(rates)  # the rate moved
    for state in together:
        assert [row["lr"] for row in state.metrics] == pytest.approx(rates, rel=1e-12)
