import copy

import numpy as np
import pytest
import torch
from conftest import net_spec
from torch import nn

from resnet_essence.measure.layers import (
    calibrate_batchnorm,
    gradient_autocorrelation,
    input_gradients,
    interpolation_path,
    layer_statistics,
    measure_snapshots,
    shattering,
)
from resnet_essence.nets.resnet import build_model
from resnet_essence.stats import depth_profile


def _hooks_left(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._backward_hooks) + len(m._forward_pre_hooks)
        for m in model.modules()
    )


def _signal_by_autograd(model, x, y) -> tuple[list[float], list[int]]:
    """(norm, element count) of dL/dh at the stem's output and at every block's output, taken
    apart from layer_statistics: torch.autograd.grad of the loss with respect to those outputs,
    on a copy of the net in training mode (as the statistics are measured)."""
    net = copy.deepcopy(model).train()
    outputs = []
    keep = lambda _module, _inputs, output: outputs.append(output)
    handles = [net.relu1.register_forward_hook(keep)]
    handles += [block.register_forward_hook(keep) for block in net.blocks()]
    loss = nn.functional.cross_entropy(net(x), y)
    for handle in handles:
        handle.remove()
    grads = torch.autograd.grad(loss, outputs)
    return [g.norm().item() for g in grads], [g.numel() for g in grads]


def _weight_grads_by_backward(model, x, y) -> list[float]:
    """The norm of every conv and linear layer's weight gradient, in depth order, from one plain
    backward pass on a copy of the net in training mode."""
    net = copy.deepcopy(model).train()
    nn.functional.cross_entropy(net(x), y).backward()
    layers = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    return [m.weight.grad.norm().item() for m in layers]


def test_linear_net_gradient_norms_match_hand_derivation():
    # logits = W x with a single linear classifier: dL/dW = (softmax - onehot) x^T / batch
    model = build_model(net_spec("plain", 8, in_channels=1, width=2, norm="none"))
    torch.manual_seed(0)
    x = torch.randn(6, 1, 4, 4)
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    table = layer_statistics(model, x, y)
    model.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    expected = [
        m.weight.grad.norm().item() for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)
    ]
    got = table[table["kind"] == "weight"].sort_values("layer_index")["weight_grad_norm"]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-5)
    # and for the classifier by hand
    feats = torch.flatten(
        model.pool(
            model.stage3(model.stage2(model.stage1(model.relu1(model.bn1(model.conv1(x))))))
        ),
        1,
    ).detach()
    probs = torch.softmax(model.fc(feats), 1).detach()
    hand = ((probs - nn.functional.one_hot(y, 10).float()).T @ feats / len(x)).norm().item()
    assert got.iloc[-1] == pytest.approx(hand, rel=1e-5)
    assert _hooks_left(model) == 0


def _force_relu_bias(model, value: float) -> None:
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.zeros_(module.weight)  # BN output = its bias, a constant
            nn.init.constant_(module.bias, value)


@pytest.mark.parametrize("bias,dead,active", [(-1.0, 1.0, 0.0), (1.0, 0.0, 1.0)])
def test_dead_fraction_from_bias(bias, dead, active):
    model = build_model(net_spec("plain", 8, in_channels=1, width=4))
    _force_relu_bias(model, bias)
    table = layer_statistics(model, torch.randn(16, 1, 8, 8), torch.zeros(16, dtype=torch.long))
    relu = table[table["kind"] == "relu"]
    assert len(relu) == 1 + 2 * 1 * 3  # stem + two per block, one block per stage
    np.testing.assert_allclose(relu["dead_fraction"], dead)
    np.testing.assert_allclose(relu["relu_active_fraction"], active)
    assert set(relu["site"]) == {"branch", "trunk"}


def test_response_std_and_signal_norms_are_reported_per_layer():
    model = build_model(net_spec("residual", 14, in_channels=1, width=4))
    x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 10
    table = layer_statistics(model, x, y)
    bn = table[table["kind"] == "bn"]
    assert len(bn) == 1 + 2 * 6
    # BatchNorm in train mode with unit gamma normalises to std ~1
    np.testing.assert_allclose(bn["response_std"], 1.0, atol=0.05)
    signal = table[table["kind"] == "signal"]
    assert list(signal["layer"]) == ["stem", *[f"block{i}" for i in range(6)]]
    norms, _ = _signal_by_autograd(model, x, y)
    np.testing.assert_allclose(signal["signal_grad_norm"], norms, rtol=1e-5)
    # the last block's by hand: average pooling then the classifier, so dL/dh at each of its
    # 2 x 2 positions is W^T (softmax - onehot) / (batch x positions)
    net = copy.deepcopy(model).train()
    with torch.no_grad():
        probs = torch.softmax(net(x), 1)
    onehot = nn.functional.one_hot(y, 10).float()
    per_image = (probs - onehot) @ net.fc.weight / (32 * 4)  # (batch, channels), every position
    assert signal["signal_grad_norm"].iloc[-1] == pytest.approx(
        2 * per_image.norm().item(), rel=1e-5
    )
    # per element: the block outputs of stage 1 hold 32 x 4 x 8 x 8 numbers
    first = signal.iloc[1]
    assert first["signal_grad_rms"] == pytest.approx(first["signal_grad_norm"] / (32 * 256) ** 0.5)
    assert _hooks_left(model) == 0


def test_preact_sites_and_signals_are_measured():
    model = build_model(net_spec("preact", 14, in_channels=1, width=4))
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    table = layer_statistics(model, x, y)
    relu = table[table["kind"] == "relu"]
    assert relu["site"].value_counts().to_dict() == {"block_input": 6, "branch": 6, "head": 1}
    assert (table["kind"] == "bn").sum() == 2 * 6 + 1
    norms, counts = _signal_by_autograd(model, x, y)
    signal = table[table["kind"] == "signal"]
    np.testing.assert_allclose(signal["signal_grad_norm"], norms, rtol=1e-5)
    rms = [norm / count**0.5 for norm, count in zip(norms, counts, strict=True)]
    np.testing.assert_allclose(signal["signal_grad_rms"], rms, rtol=1e-5)


def _zero_output_fractions(model, x) -> list[float]:
    """The share of outputs exactly 0 at every ReLU site (or what replaced its ReLU)."""
    shares = []

    def hook(_m, _i, out):
        shares.append(float((out == 0).float().mean()))

    handles = [m.register_forward_hook(hook) for _, _, m in model.relu_sites()]
    model(x)
    for handle in handles:
        handle.remove()
    return shares


@pytest.mark.parametrize("arch", ["plain", "residual", "preact"])
def test_leaky_sites_are_measured_where_the_relus_were_and_never_output_zero(arch):
    torch.manual_seed(0)
    relu = build_model(net_spec(arch, 14, in_channels=1, width=4))
    leaky = build_model(net_spec(f"{arch}-leaky0.2", 14, in_channels=1, width=4))
    leaky.load_state_dict(relu.state_dict())
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    a, b = (layer_statistics(m, x, y) for m in (relu, leaky))
    rows_a, rows_b = a[a["kind"] == "relu"], b[b["kind"] == "relu"]
    assert list(rows_b["layer"]) == list(rows_a["layer"])
    assert list(rows_b["site"]) == list(rows_a["site"])
    # the first site sees the same input in both nets: the same share of inputs above zero
    assert rows_b["relu_active_fraction"].iloc[0] == rows_a["relu_active_fraction"].iloc[0]
    assert rows_b["relu_active_fraction"].between(0.2, 0.8).all()
    relu.train()
    leaky.train()
    # a ReLU outputs 0 exactly where its input is not above zero; a leaky ReLU never does
    zeros = _zero_output_fractions(relu, x)
    np.testing.assert_allclose(zeros, 1 - rows_a["relu_active_fraction"].to_numpy(), atol=1e-6)
    assert _zero_output_fractions(leaky, x) == [0.0] * len(rows_b)
    norms, _ = _signal_by_autograd(leaky, x, y)
    np.testing.assert_allclose(b.loc[b["kind"] == "signal", "signal_grad_norm"], norms, rtol=1e-5)
    assert _hooks_left(leaky) == 0


def test_a_leaky_net_below_zero_everywhere_is_inactive_but_outputs_no_zero():
    model = build_model(net_spec("plain-leaky0.01", 8, in_channels=1, width=4))
    _force_relu_bias(model, -1.0)
    x = torch.randn(16, 1, 8, 8)
    table = layer_statistics(model, x, torch.zeros(16, dtype=torch.long))
    relu = table[table["kind"] == "relu"]
    assert len(relu) == 1 + 2 * 1 * 3
    np.testing.assert_allclose(relu["relu_active_fraction"], 0.0)  # every input at -1
    np.testing.assert_allclose(relu["dead_fraction"], 1.0)  # no unit on the identity side
    model.train()
    assert _zero_output_fractions(model, x) == [0.0] * len(relu)  # but -0.01, not 0


def test_the_relu_on_the_identity_is_measured_at_its_own_site():
    model = build_model(net_spec("preact-reluid", 14, in_channels=1, width=4))
    x = torch.randn(16, 1, 8, 8)
    table = layer_statistics(model, x, torch.arange(16) % 10)
    relu = table[table["kind"] == "relu"]
    counts = relu["site"].value_counts().to_dict()
    assert counts == {"block_input": 6, "branch": 6, "head": 1, "shortcut": 6}
    # the share of each identity ReLU's inputs above 0, read off the net apart
    net, above = copy.deepcopy(model).train(), []
    handles = [
        block.shortcut_relu.register_forward_hook(
            lambda _m, inputs, _out: above.append((inputs[0] > 0).float().mean().item())
        )
        for block in net.blocks()
    ]
    net(x)
    for handle in handles:
        handle.remove()
    shortcut = relu.loc[relu["site"] == "shortcut", "relu_active_fraction"]
    np.testing.assert_allclose(shortcut, above, rtol=1e-6)
    assert min(above) > 0.1 and max(above) < 0.9  # neither all nor none: the share is measured


def test_hooks_are_removed_even_when_the_forward_pass_fails():
    model = build_model(net_spec("plain", 8, in_channels=1, width=2))
    with pytest.raises(RuntimeError):
        layer_statistics(model, torch.randn(2, 3, 8, 8), torch.zeros(2, dtype=torch.long))
    assert _hooks_left(model) == 0


def test_layer_statistics_leave_the_model_untouched():
    model = build_model(net_spec("residual", 8, in_channels=1, width=4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layer_statistics(model, torch.randn(8, 1, 8, 8), torch.zeros(8, dtype=torch.long))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())


def test_depth_profile_ratio_and_slope():
    ratio, slope = depth_profile([0.01, 0.1, 1.0])
    assert ratio == pytest.approx(0.01)  # vanishing toward the input
    assert slope == pytest.approx(2.0)
    ratio, slope = depth_profile([5.0, 5.0])
    assert ratio == 1.0 and slope == pytest.approx(0.0)
    assert np.isnan(depth_profile([1.0])[0])
    assert np.isnan(depth_profile([1.0, 0.0])[0])


def test_identity_network_has_autocorrelation_one():
    path = interpolation_path(torch.zeros(1, 4, 4), torch.ones(1, 4, 4), 32)
    assert path.shape == (32, 1, 4, 4)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    grads = input_gradients(linear, path, target=1)
    result = gradient_autocorrelation(grads, [1, 2, 8])
    assert result == pytest.approx({1: 1.0, 2: 1.0, 8: 1.0})


def test_shattered_gradients_decorrelate():
    torch.manual_seed(0)
    grads = torch.randn(256, 50)  # independent gradients: autocorrelation near 0
    value = gradient_autocorrelation(grads, [1])[1]
    assert abs(value) < 0.05
    with pytest.raises(ValueError, match="lag=0"):
        gradient_autocorrelation(grads, [0])


def test_calibrate_batchnorm_uses_the_batch_statistics():
    model = build_model(net_spec("plain", 8, in_channels=1, width=2))
    x = 3 + 2 * torch.randn(64, 1, 8, 8)
    calibrate_batchnorm(model, x)
    assert model.bn1.momentum == 0.1  # restored
    model.eval()
    with torch.no_grad():
        stem = model.bn1(model.conv1(x))
    assert stem.mean().abs().item() < 1e-4


def test_measure_snapshots_shapes():
    model = build_model(net_spec("residual", 8, in_channels=1, width=2))
    snaps = {
        0: {k: v.clone() for k, v in model.state_dict().items()},
        2: {k: v.clone() for k, v in model.state_dict().items()},
    }
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    layers, shatter = measure_snapshots(model, snaps, x, y, 9, [1, 2], paths=3)
    assert sorted(layers["epoch"].unique()) == [0, 2]
    assert list(shatter.columns) == ["epoch", "path", "lag", "autocorrelation"]
    assert len(shatter) == 2 * 3 * 2  # epochs x paths x lags
    assert shattering(model, x[0], x[1], 0, 9, [1]).keys() == {1}
    with pytest.raises(ValueError, match="gradstats.paths=3"):
        measure_snapshots(model, snaps, x[:5], y[:5], 9, [1], paths=3)


def test_networks_without_batchnorm_are_measured_too():
    model = build_model(net_spec("plain", 14, in_channels=1, width=4, norm="none"))
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    table = layer_statistics(model, x, y)
    assert (table["kind"] == "bn").sum() == 0
    assert (table["kind"] == "relu").sum() == 1 + 2 * 6
    weights = table[table["kind"] == "weight"].sort_values("layer_index")["weight_grad_norm"]
    np.testing.assert_allclose(weights, _weight_grads_by_backward(model, x, y), rtol=1e-5)
