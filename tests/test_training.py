import math
import os
import signal

import pytest
import torch
from conftest import net_spec, quick, recipe

from resnet_essence.train.trainer import (
    Interrupted,
    TrainConfig,
    Trainer,
    augment,
    learning_rate,
    resolve_device,
)

CPU = torch.device("cpu")
SPEC = net_spec("residual", 8, in_channels=1, width=4)


def test_augment_keeps_shape_dtype_and_pixels():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1, 255, (64, 3, 8, 8), dtype=torch.uint8)
    y = augment(x, 2, True, g)
    assert y.shape == x.shape and y.dtype == x.dtype
    # every output pixel is either padding (0) or an input pixel of the same image
    for i in range(4):
        values = set(y[i].flatten().tolist()) - {0}
        assert values <= set(x[i].flatten().tolist())


def test_augment_without_padding_or_flip_is_identity():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 255, (8, 1, 8, 8), dtype=torch.uint8)
    assert torch.equal(augment(x, 0, False, g), x)


def test_flip_only_flips_about_half_the_images():
    g = torch.Generator().manual_seed(0)
    x = torch.arange(64, dtype=torch.float32).view(1, 1, 8, 8).repeat(1000, 1, 1, 1)
    y = augment(x, 0, True, g)
    flipped = (y == x.flip(3)).flatten(1).all(1).float().mean().item()
    assert 0.4 < flipped < 0.6
    assert ((y == x).flatten(1).all(1) | (y == x.flip(3)).flatten(1).all(1)).all()


def test_crop_offsets_cover_the_padding_range():
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(500, 1, 6, 6)
    x[:, :, 0, 0] = 1.0  # find where the top-left pixel lands
    y = augment(x, 2, False, g)
    positions = {tuple(p) for p in (y[:, 0] == 1).nonzero()[:, 1:].tolist()}
    assert positions == {(r, c) for r in range(3) for c in range(3)}  # shifts of 0..2 pixels


def test_learning_rate_schedule_by_epoch_iteration_and_fraction():
    cfg = quick(lr=0.1, lr_milestones=(2, 3), milestone_unit="epoch", epochs=4)
    assert learning_rate(cfg, 0, 10, False) == pytest.approx(0.1)
    assert learning_rate(cfg, 20, 10, False) == pytest.approx(0.01)
    assert learning_rate(cfg, 35, 10, False) == pytest.approx(0.001)
    it = quick(lr=0.1, lr_milestones=(32000, 48000), milestone_unit="iteration", epochs=164)
    assert learning_rate(it, 31999, 391, False) == pytest.approx(0.1)
    assert learning_rate(it, 32000, 391, False) == pytest.approx(0.01)
    assert learning_rate(it, 48000, 391, True) == pytest.approx(it.warmup_lr)
    frac = quick(lr=0.1, lr_milestones=(0.5, 0.75), milestone_unit="fraction", epochs=8)
    assert learning_rate(frac, 39, 10, False) == pytest.approx(0.1)
    assert learning_rate(frac, 40, 10, False) == pytest.approx(0.01)
    assert learning_rate(frac, 60, 10, False) == pytest.approx(0.001)


def test_gradual_warm_up_then_cosine_decay():
    cfg = quick(lr=0.1, lr_schedule="cosine", warmup_epochs=1, epochs=5)
    rates = [learning_rate(cfg, step, 10, False) for step in range(50)]
    assert rates[0] == pytest.approx(0.01) and rates[9] == pytest.approx(0.1)
    assert all(a < b for a, b in zip(rates[:10], rates[1:10], strict=False))  # rising
    assert rates[10] == pytest.approx(0.1)  # the peak, then the cosine
    assert rates[30] == pytest.approx(0.05)  # half way through the decay
    assert all(a > b for a, b in zip(rates[10:], rates[11:], strict=False))  # falling
    assert 0 < rates[-1] < 0.001


def test_a_recipe_is_the_config_section_whole():
    section = {k: v for k, v in recipe().__dict__.items() if k != "seed"}
    cfg = TrainConfig.from_config({**section, "lr_milestones": [1, 2]}, seed=3)
    assert cfg.lr_milestones == (1, 2) and cfg.seed == 3
    with pytest.raises(TypeError):
        TrainConfig.from_config({"epochs": 3}, seed=0)  # no value has a second, hidden default


def test_cuda_requested_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto") == CPU
    with pytest.raises(ValueError, match="device='tpu'"):
        resolve_device("tpu")


def test_overfits_a_tiny_batch(tiny_tensors):
    data = {k: v[:32] for k, v in tiny_tensors.items()}
    cfg = quick(epochs=60, lr=0.05, crop_padding=0, flip=False, trace_every=0)
    state = Trainer(SPEC, cfg, data, CPU).run()
    assert state.status == "completed"
    assert state.metrics[-1]["train_loss"] < 0.05
    assert state.metrics[0]["train_err"] > 0.5


def test_same_seed_same_numbers_bit_for_bit(tiny_tensors):
    a = Trainer(SPEC, quick(), tiny_tensors, CPU).run()
    b = Trainer(SPEC, quick(), tiny_tensors, CPU).run()
    c = Trainer(SPEC, quick(seed=1), tiny_tensors, CPU).run()
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(a.metrics) == strip(b.metrics)
    assert a.trace == b.trace
    assert strip(a.metrics) != strip(c.metrics)


def test_metrics_trace_and_snapshots(tiny_tensors):
    trainer = Trainer(SPEC, quick(), tiny_tensors, CPU)
    state = trainer.run()
    assert [m["epoch"] for m in state.metrics] == [1, 2, 3]
    assert sorted(state.snapshots) == [0, 1, 3]  # configured epochs, plus the final one
    steps_per_epoch = math.ceil(200 / 32)
    layers = len(trainer.layer_names)
    assert len(state.trace) == math.ceil(3 * steps_per_epoch / 2)
    rows = trainer.trace_rows()
    assert len(rows) == layers * len(state.trace)
    assert all(r["weight_grad_norm"] >= 0 for r in rows)
    assert [r["layer"] for r in rows[:layers]] == trainer.layer_names
    assert not torch.equal(state.snapshots[0]["conv1.weight"], state.snapshots[3]["conv1.weight"])
    summary = trainer.summary()
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    # the final test error counted again, by hand, from the final weights on the 50 test images
    model = trainer.model.eval()
    x = (tiny_tensors["x_test"].float() / 255.0 - trainer.normalise.mean) / trainer.normalise.std
    with torch.no_grad():
        wrong = int((model(x).argmax(1) != tiny_tensors["y_test"]).sum())
    assert summary["final_test_err"] == pytest.approx(wrong / 50, abs=1e-12)
    assert state.metrics[-1]["test_err"] == summary["final_test_err"]


def _interrupt_at(trainer: Trainer, step: int) -> None:
    """Send this process a real SIGTERM once the trainer has counted ``step`` steps."""
    original = trainer.count_step

    def count_then_maybe_signal(*args):
        original(*args)
        if trainer.state.step == step:
            os.kill(os.getpid(), signal.SIGTERM)

    trainer.count_step = count_then_maybe_signal


def test_sigterm_checkpoints_and_the_rerun_ends_with_identical_numbers(tiny_tensors, tmp_path):
    straight = Trainer(SPEC, quick(), tiny_tensors, CPU).run()

    checkpoint = tmp_path / "checkpoint.pt"
    first = Trainer(SPEC, quick(), tiny_tensors, CPU, checkpoint_path=checkpoint)
    _interrupt_at(first, 10)  # mid-epoch 2 (7 steps an epoch)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted, match=f"SIGTERM at epoch 1, step 10; checkpoint {checkpoint}"):
        first.run()
    assert checkpoint.exists()
    assert signal.getsignal(signal.SIGTERM) is handler  # the loop's handler is gone again

    second = Trainer(SPEC, quick(), tiny_tensors, CPU, checkpoint_path=checkpoint)
    assert second.try_resume() and second.state.step == 10
    resumed = second.run()
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(resumed.metrics) == strip(straight.metrics)
    assert resumed.trace == straight.trace
    for key, value in straight.snapshots[3].items():
        assert torch.equal(value, resumed.snapshots[3][key]), key


def test_checkpoint_from_another_configuration_is_ignored(tiny_tensors, tmp_path):
    checkpoint = tmp_path / "checkpoint.pt"
    Trainer(SPEC, quick(epochs=1), tiny_tensors, CPU, checkpoint_path=checkpoint).run()
    other = Trainer(SPEC, quick(epochs=1, lr=0.01), tiny_tensors, CPU, checkpoint_path=checkpoint)
    assert not other.try_resume()


def test_damaged_checkpoint_costs_a_restart_not_a_crash(tiny_tensors, tmp_path):
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(b"not a checkpoint")
    state = Trainer(SPEC, quick(epochs=1), tiny_tensors, CPU, checkpoint_path=checkpoint).run()
    assert state.status == "completed"


def test_non_finite_loss_marks_the_run_diverged(tiny_tensors):
    spec = net_spec("plain", 8, in_channels=1, width=4, norm="none")
    trainer = Trainer(spec, quick(lr=1e4, epochs=5), tiny_tensors, CPU)
    state = trainer.run()
    assert state.status == "diverged"
    assert state.epoch < 5  # stopped early, cleanly
    assert state.metrics[-1]["status"] == "diverged"
    assert trainer.summary()["status"] == "diverged"


def test_warmup_runs_at_the_warmup_rate_until_the_error_drops(tiny_tensors):
    cfg = quick(epochs=6, warmup_min_depth=8, warmup_lr=0.01, warmup_until_train_err=0.88)
    trainer = Trainer(SPEC, cfg, tiny_tensors, CPU)
    assert trainer.state.warming_up
    state = trainer.run()
    assert not state.warming_up
    assert state.metrics[0]["lr"] == pytest.approx(0.01)
    assert state.metrics[-1]["lr"] == pytest.approx(cfg.lr)
    assert not Trainer(SPEC, quick(), tiny_tensors, CPU).state.warming_up


def test_bf16_on_the_cpu_trains_and_is_reproducible(tiny_tensors):
    fp32 = Trainer(SPEC, quick(epochs=1), tiny_tensors, CPU)
    assert not fp32.bf16  # auto on the CPU is fp32
    a = Trainer(SPEC, quick(epochs=1, precision="bf16"), tiny_tensors, CPU).run()
    b = Trainer(SPEC, quick(epochs=1, precision="bf16"), tiny_tensors, CPU).run()
    assert a.status == "completed"
    assert a.metrics[0]["train_loss"] == b.metrics[0]["train_loss"]
    assert a.metrics[0]["train_loss"] != fp32.run().metrics[0]["train_loss"]


def _recorded_batches(monkeypatch, spec, cfg, tensors, steps):
    """The first ``steps`` augmented training batches a trainer draws, and its initial weights."""
    import resnet_essence.train.trainer as training

    seen = []

    def recording(x, padding, flip, generator):
        out = augment(x, padding, flip, generator)
        seen.append(out.clone())
        if len(seen) >= steps:
            raise StopIteration
        return out

    monkeypatch.setattr(training, "augment", recording)
    trainer = Trainer(spec, cfg, tensors, CPU)
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(StopIteration):
        trainer.run()
    return seen, initial


def test_seed_k_gives_every_arch_the_same_weights_batches_and_augmentation(
    monkeypatch, tiny_tensors
):
    """What the paired analysis rests on: seed k of a plain, a residual and a pre-activation net
    starts from the same weights where shapes match and sees the same augmented batches."""
    cfg = quick(seed=3)
    runs = {
        arch: _recorded_batches(
            monkeypatch, net_spec(arch, 14, in_channels=1, width=4), cfg, tiny_tensors, 5
        )
        for arch in ("plain", "residual", "preact")
    }
    plain_batches, plain_weights = runs["plain"]
    for arch in ("residual", "preact"):
        batches, weights = runs[arch]
        assert all(torch.equal(a, b) for a, b in zip(plain_batches, batches, strict=True))
        convs = [k for k in plain_weights if k.endswith(("conv1.weight", "conv2.weight"))]
        convs += ["fc.weight"]
        assert len(convs) == 2 * 6 + 2
        assert all(torch.equal(plain_weights[k], weights[k]) for k in convs), arch
    # plain and residual nets with option A shortcuts have the same parameters: all equal
    residual_weights = runs["residual"][1]
    assert plain_weights.keys() == residual_weights.keys()
    assert all(torch.equal(plain_weights[k], residual_weights[k]) for k in plain_weights)
    # and another seed is another draw
    other_batches, other_weights = _recorded_batches(
        monkeypatch, net_spec("plain", 14, in_channels=1, width=4), quick(seed=4), tiny_tensors, 5
    )
    assert not torch.equal(other_weights["conv1.weight"], plain_weights["conv1.weight"])
    assert not torch.equal(other_batches[0], plain_batches[0])


@pytest.mark.parametrize("every,evaluated", [(1, [1, 2, 3]), (2, [2, 3]), (0, [3])])
def test_the_test_set_is_evaluated_as_often_as_asked_and_always_at_the_end(
    tiny_tensors, every, evaluated
):
    state = Trainer(SPEC, quick(eval_every=every), tiny_tensors, CPU).run()
    measured = [row["epoch"] for row in state.metrics if not math.isnan(row["test_err"])]
    assert measured == evaluated
    full = Trainer(SPEC, quick(), tiny_tensors, CPU).run()
    assert state.metrics[-1]["test_err"] == full.metrics[-1]["test_err"]  # the same run


def test_the_clean_training_error_is_the_final_weights_in_eval_mode_on_every_training_image(
    tiny_tensors, tmp_path
):
    from resnet_essence.train.job import save_run

    cfg = quick(epochs=2, crop_padding=1, flip=True)
    trainer = Trainer(SPEC, cfg, tiny_tensors, CPU)
    trainer.run()
    model = trainer.model
    model.eval()  # BatchNorm on its running statistics, every image once, no augmentation
    with torch.no_grad():
        logits = model(trainer.normalise(tiny_tensors["x_train"]))
    expected = (logits.argmax(1) != tiny_tensors["y_train"]).double().mean().item()
    model.train()
    assert trainer.clean_train_error() == pytest.approx(expected, abs=1e-12)
    assert model.training  # left as it was found
    # the running error of the last epoch is another number (weights moving, batch statistics)
    assert trainer.state.metrics[-1]["train_err"] != pytest.approx(expected, abs=1e-9)
    files = {n: tmp_path / f"{n}.out" for n in ("metrics", "trace", "snapshots", "model")}
    summary = save_run(
        trainer,
        {"arch": "residual", "depth": 8, "seed": 0},
        "tiny",
        {**files, "summary": tmp_path / "summary.json"},
    )
    assert summary["final_train_err_eval"] == pytest.approx(expected, abs=1e-12)


def test_bf16_on_a_cpu_without_bf16_units_warns_that_it_is_emulated(
    tiny_tensors, monkeypatch, caplog
):
    from resnet_essence.train import trainer as training

    for native, warned in ((False, True), (True, False)):
        monkeypatch.setattr(training, "cpu_has_bf16", lambda native=native: native)
        caplog.clear()
        with caplog.at_level("WARNING", logger="resnet_essence.train.trainer"):
            Trainer(SPEC, quick(precision="bf16"), tiny_tensors, CPU, label="residual-8 seed 0")
            Trainer(SPEC, quick(precision="fp32"), tiny_tensors, CPU)
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == int(warned), messages
        if warned:
            assert messages[0].startswith("residual-8 seed 0: train.precision bf16 on a CPU")


def test_count_step_keeps_the_books_of_a_step_and_end_epoch_closes_them(tiny_tensors):
    trainer = Trainer(SPEC, quick(), tiny_tensors, CPU)
    trainer.count_step(torch.tensor(2.0), torch.tensor(3), 32)
    trainer.count_step(torch.tensor(1.0), torch.tensor(5), 16)
    st = trainer.state
    assert (st.step, st.batch_in_epoch, st.sums["n"]) == (2, 2, 48)
    trainer.end_epoch(1.5)
    row = st.metrics[-1]
    assert (row["epoch"], row["step"], row["seconds"]) == (1, 2, 1.5)
    assert row["train_loss"] == pytest.approx((2.0 * 32 + 1.0 * 16) / 48)
    assert row["train_err"] == pytest.approx(8 / 48)
    assert (st.batch_in_epoch, st.sums) == (0, {"loss": 0.0, "err": 0.0, "n": 0.0})


def test_count_step_ends_the_constant_warm_up_once_the_running_error_is_low(tiny_tensors):
    cfg = quick(warmup_min_depth=8, warmup_lr=0.01, warmup_until_train_err=0.5)
    trainer = Trainer(SPEC, cfg, tiny_tensors, CPU)
    assert trainer.state.warming_up and trainer.next_lr() == pytest.approx(0.01)
    trainer.count_step(torch.tensor(2.0), torch.tensor(20), 32)  # 62% wrong: warming up still
    assert trainer.state.warming_up
    trainer.count_step(torch.tensor(1.0), torch.tensor(0), 32)  # 31% over the epoch: done
    assert not trainer.state.warming_up and trainer.next_lr() == pytest.approx(cfg.lr)


def test_a_run_trained_to_until_stays_open_and_goes_on_to_the_same_numbers(tiny_tensors):
    straight = Trainer(SPEC, quick(snapshot_epochs=(0,)), tiny_tensors, CPU).run()
    trainer = Trainer(SPEC, quick(snapshot_epochs=(0,)), tiny_tensors, CPU)
    opened = trainer.run(until=1)
    assert (opened.status, opened.epoch, sorted(opened.snapshots)) == ("running", 1, [0])
    finished = trainer.run()
    assert (finished.status, sorted(finished.snapshots)) == ("completed", [0, 3])
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(finished.metrics) == strip(straight.metrics)
    assert finished.trace == straight.trace


def test_a_seed_stepper_steps_one_run_only(tiny_tensors):
    from resnet_essence.train.loop import SeedStepper

    runs = [Trainer(SPEC, quick(seed=s), tiny_tensors, CPU) for s in (0, 1)]
    with pytest.raises(ValueError, match="steps one run, not 2"):
        SeedStepper(runs)
