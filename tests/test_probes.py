"""The mechanism probes on constructed cases, where the right answer is known."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import default_config, net_spec
from torch import nn

from resnet_essence.measure.layers import calibrate_batchnorm
from resnet_essence.measure.probes import (
    HELD_OUT_STATISTICS,
    Lesioned,
    PartialReLU,
    deletable,
    lesions,
    linear_unit_images,
    linear_units,
    participation_ratio,
    probe_snapshots,
    redundancy,
    replaced,
    ridge_r2,
)
from resnet_essence.measure.width import width_sweep
from resnet_essence.nets.resnet import build_model


def test_participation_ratio_of_isotropic_and_rank_one_features():
    torch.manual_seed(0)
    channels = 16
    isotropic = torch.randn(20000, channels)
    assert participation_ratio(isotropic) / channels == pytest.approx(1.0, abs=0.02)
    rank_one = torch.randn(5000, 1) * torch.randn(1, channels)
    assert participation_ratio(rank_one) / channels == pytest.approx(1 / channels, rel=1e-6)


def test_ridge_r2_of_an_invertible_and_of_a_constant_map():
    torch.manual_seed(0)
    fit, held = torch.randn(4000, 8), torch.randn(4000, 8)
    mixing = torch.randn(8, 8) + 3 * torch.eye(8)
    assert ridge_r2((fit @ mixing, fit), (held @ mixing, held)) == pytest.approx(1.0, abs=1e-5)
    constant = torch.ones(4000, 8)
    assert ridge_r2((constant, fit), (constant, held)) == pytest.approx(0.0, abs=0.01)
    # a ReLU of centred features loses a share: between the two
    assert 0.2 < ridge_r2((torch.relu(fit), fit), (torch.relu(held), held)) < 0.9


def _trained_like(arch: str, depth: int = 14) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(net_spec(arch, depth, in_channels=1, width=4))
    model.eval()
    return model


def test_always_active_relus_made_linear_change_nothing_on_the_probe_images():
    model = _trained_like("residual")
    x = torch.randn(32, 1, 8, 8)
    # a unit active everywhere: push one channel of every branch BN far above zero, then let
    # the BNs normalise what they see on x (their outputs near N(bias, 1))
    for block in model.blocks():
        block.bn1.bias.data[0] = 50.0
    calibrate_batchnorm(model, x)
    model.eval()
    rows = pd.DataFrame(linear_units(model, x, torch.randn(16, 1, 8, 8), torch.arange(16) % 10, 5))
    overall = rows[rows["layer_index"] == -1].set_index("statistic")["value"]
    assert overall["always_active_logit_change"] == 0.0  # exactly: ReLU(z) = z where z > 0
    branch = rows[(rows["site"] == "branch") & (rows["statistic"] == "always_active_fraction")]
    widths = [4, 4, 8, 8, 16, 16]  # channel 0 at every position is always active
    assert (branch["value"].to_numpy() >= [1 / w for w in widths]).all()
    # and one ReLU by hand: the layer's output is unchanged bit for bit
    relu = model.blocks()[0].relu1
    before = model(x)
    always = torch.zeros(4, 8, 8, dtype=torch.bool)
    always[0] = True
    with replaced(model, relu, PartialReLU(always)):
        assert torch.equal(model(x), before)
    assert model.blocks()[0].relu1 is relu  # put back


def test_deleting_a_residual_branch_whose_last_bn_is_zero_changes_nothing():
    model = _trained_like("residual")
    x = torch.randn(8, 1, 8, 8)
    block = model.blocks()[2]
    nn.init.zeros_(block.bn2.weight)
    nn.init.zeros_(block.bn2.bias)
    before = model(x)
    with replaced(model, block, Lesioned(block)):
        assert torch.allclose(model(x), before, atol=1e-6)
    rows = pd.DataFrame(lesions(model, x, torch.arange(8) % 10, 5, max_deleted=2, draws=2, seed=0))
    single = rows[rows["statistic"] == "lesion_error"].set_index("layer_index")["value"]
    intact = rows.loc[rows["statistic"] == "intact_error", "value"].iloc[0]
    assert single[2] == intact
    assert set(rows.loc[rows["statistic"] == "k_deleted_error", "layer_index"]) == {1, 2}


@pytest.mark.parametrize(
    "arch",
    [
        "plain",
        "residual",
        "preact",
        "plain-leaky0.2",
        "residual-a0.5",
        "residual-a0",
        "preact-elu-a0.25-reluid",
    ],
)
def test_lesion_errors_are_those_of_the_net_with_the_block_deleted(arch):
    # every lesion, single or several blocks, must equal a full forward pass of the net with
    # those blocks replaced: the cached inputs of Segments must not hide the replacement
    model = _trained_like(arch)
    torch.manual_seed(1)
    x, y = torch.randn(64, 1, 8, 8), torch.randint(0, 10, (64,))
    rows = pd.DataFrame(lesions(model, x, y, 5, max_deleted=3, draws=2, seed=0))
    single = rows[rows["statistic"] == "lesion_error"].set_index("layer_index")["value"]
    blocks = model.blocks()
    changed = 0
    for index, error in single.items():
        with replaced(model, blocks[index], Lesioned(blocks[index])):
            logits = model(x)
        assert error == pytest.approx(float((logits.argmax(1) != y).float().mean()))
        changed += not torch.equal(logits, model(x))
    assert changed == len(single)  # deleting a block changes the output here
    # depth 14: blocks 2 and 4 open stages 2 and 3 (stride 2, more channels)
    sites = rows[rows["statistic"] == "lesion_error"].set_index("layer_index")["site"]
    expected = {i: "downsampling" if i in (2, 4) else "same_shape" for i in sites.index}
    assert sites.to_dict() == expected


def test_plain_blocks_are_deleted_only_where_the_shapes_agree():
    assert deletable(_trained_like("plain")) == [0, 1, 3, 5]  # not the first of stages 2 and 3
    assert deletable(_trained_like("residual")) == list(range(6))
    assert deletable(_trained_like("preact")) == list(range(6))
    # a block without a shortcut (alpha 0) is a plain block, and a small shortcut is one
    assert deletable(_trained_like("residual-a0")) == deletable(_trained_like("preact-a0"))
    assert deletable(_trained_like("residual-a0")) == [0, 1, 3, 5]
    assert deletable(_trained_like("preact-a0.25")) == list(range(6))


@pytest.mark.parametrize(
    "arch,alpha,relu", [("residual-a0.25", 0.25, False), ("preact-reluid", 1.0, True)]
)
def test_a_deleted_block_keeps_what_its_shortcut_adds(arch, alpha, relu):
    model = _trained_like(arch)
    for block in model.blocks()[1:3]:  # the identity, and option A's pad where stage 2 opens
        x = torch.randn(2, 4, 8, 8)
        kept = alpha * block.shortcut(x)
        kept = torch.relu(kept) if relu else kept
        assert torch.equal(Lesioned(block)(x), kept)
        assert not torch.equal(kept, block.shortcut(x))  # not the bare shortcut: x has x < 0


def test_the_probes_of_residual_at_alpha_zero_are_those_of_the_plain_net():
    plain, cut = _trained_like("plain"), _trained_like("residual-a0")
    cut.load_state_dict(plain.state_dict())
    torch.manual_seed(2)
    x, y = torch.randn(32, 1, 8, 8), torch.arange(32) % 10
    for probe in (
        lambda m: lesions(m, x, y, 5, max_deleted=2, draws=2, seed=0),
        lambda m: redundancy(m, x, 5),
        lambda m: linear_units(m, x[:16], x[16:], y[16:], 5),
    ):
        assert pd.DataFrame(probe(cut)).equals(pd.DataFrame(probe(plain)))


def test_always_active_leaky_units_made_linear_change_nothing_either():
    # the partial replacement keeps the site's own activation on the other units: a leaky ReLU,
    # not a ReLU (which would change every negative input)
    model = _trained_like("residual-leaky0.2")
    x = torch.randn(32, 1, 8, 8)
    for block in model.blocks():
        block.bn1.bias.data[0] = 50.0
    calibrate_batchnorm(model, x)
    model.eval()
    rows = pd.DataFrame(linear_units(model, x, torch.randn(16, 1, 8, 8), torch.arange(16) % 10, 5))
    overall = rows[rows["layer_index"] == -1].set_index("statistic")["value"]
    assert overall["always_active_logit_change"] == 0.0
    fractions = rows[rows["statistic"] == "always_active_fraction"]["value"]
    assert len(fractions) == len(model.relu_sites()) and (fractions > 0).any()


def test_redundancy_rows_per_relu_and_snapshot_probes():
    model = _trained_like("preact")
    x = torch.randn(16, 1, 8, 8)
    rows = pd.DataFrame(redundancy(model, x, 0))
    assert set(rows["statistic"]) == {"pr_per_channel", "relu_r2"}
    assert len(rows) == 2 * len(model.relu_sites())
    pr = rows[rows["statistic"] == "pr_per_channel"]["value"]
    assert ((pr > 0) & (pr <= 1 + 1e-9)).all()
    # each one again from the eigenvalues of its input's channel covariance (numpy): the
    # participation ratio (sum l)^2 / sum l^2 over the channel count
    inputs = []
    handles = [
        m.register_forward_hook(lambda _m, i, _o: inputs.append(i[0].detach()))
        for _, _, m in model.relu_sites()
    ]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    expected = []
    for pre in inputs:
        features = pre.permute(0, 2, 3, 1).reshape(-1, pre.shape[1]).double().numpy()
        eigen = np.linalg.eigvalsh(np.cov(features, rowvar=False))
        expected.append(eigen.sum() ** 2 / (eigen**2).sum() / pre.shape[1])
    assert list(pr) == pytest.approx(expected, rel=1e-6)
    snapshots = {e: {k: v.clone() for k, v in model.state_dict().items()} for e in (0, 3)}
    test_x, test_y = torch.randn(24, 1, 8, 8), torch.arange(24) % 10
    table = pd.DataFrame(probe_snapshots(model, snapshots, test_x[:16], test_x, test_y, 2, 1, 0))
    assert set(table.groupby("probe")["epoch"].unique().map(tuple)) == {(0, 3), (3,)}


def test_width_sweep_rows():
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    model = {**default_config()["model"], "norm": "none"}
    rows = pd.DataFrame(width_sweep("plain", 8, [2, 4], 2, model, x, y, 10))
    assert len(rows) == 2 * 2 * 3
    assert set(rows["statistic"]) == {
        "dead_fraction_branch",
        "signal_norm_slope",
        "signal_rms_slope",
    }


def test_the_width_sweep_builds_the_configured_shortcut():
    x, y = torch.randn(16, 1, 8, 8), torch.arange(16) % 10
    model = {**default_config()["model"], "shortcut": "B"}
    torch.manual_seed(0)
    b = pd.DataFrame(width_sweep("residual", 8, [2], 1, model, x, y, 10))
    model["shortcut"] = "A"
    torch.manual_seed(0)
    a = pd.DataFrame(width_sweep("residual", 8, [2], 1, model, x, y, 10))
    # option B's projections change the net, so its statistics differ from option A's
    assert not a["value"].equals(b["value"])


def _final_probes(test_x, test_y, batch: int) -> pd.DataFrame:
    model = _trained_like("residual", 8)
    snapshots = {3: {k: v.clone() for k, v in model.state_dict().items()}}
    return pd.DataFrame(probe_snapshots(model, snapshots, test_x[:batch], test_x, test_y, 2, 1, 0))


def test_a_test_split_no_larger_than_the_probe_batch_still_has_held_out_images(caplog):
    # 3 classes x 5 test images against gradstats.batch_size 96: nothing after the probe batch
    torch.manual_seed(0)
    test_x, test_y = torch.randn(15, 1, 8, 8), torch.arange(15) % 3
    with caplog.at_level("WARNING"):
        table = _final_probes(test_x, test_y, batch=96)
    deltas = table[table["statistic"].isin(HELD_OUT_STATISTICS)]["value"]
    assert len(deltas) == len(_trained_like("residual", 8).relu_sites()) + 1
    assert deltas.notna().all()
    assert "units found on its first 7 images, the loss changes measured on the other 8" in (
        caplog.text
    )
    # the held-out images are never the ones that found the units
    units_x, held_x, held_y = linear_unit_images(test_x, test_x, test_y)
    assert torch.equal(torch.cat([units_x, held_x]), test_x) and torch.equal(held_y, test_y[7:])
    # a larger split keeps the whole probe batch and the images after it
    units_x, held_x, _ = linear_unit_images(test_x[:4], test_x, test_y)
    assert torch.equal(units_x, test_x[:4]) and torch.equal(held_x, test_x[4:8])


def test_a_probe_batch_of_one_image_leaves_the_loss_changes_absent_not_nan(caplog):
    from resnet_essence.tables import aggregate

    test_x, test_y = torch.randn(1, 1, 8, 8), torch.zeros(1, dtype=torch.long)
    with caplog.at_level("WARNING"):
        table = _final_probes(test_x, test_y, batch=96)
    units = table[table["probe"] == "linear_units"]
    assert not set(HELD_OUT_STATISTICS) & set(units["statistic"])
    assert units["value"].notna().all() and "loss changes are not measured" in caplog.text
    # and the network statistics go on without them: no switching correlation, no crash
    values = aggregate._probe_statistics(units)
    assert "always_active_logit_change" in values
    assert not any(name.startswith("switch_rho") for name in values)
