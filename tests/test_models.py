from dataclasses import asdict

import pytest
import torch
from conftest import bottleneck_spec, net_spec

from resnet_essence.nets.resnet import (
    ShortcutA,
    blocks_per_stage,
    build_model,
    count_parameters,
    fixup_scale,
    spec_from_dict,
    weight_layers,
)

# He et al. 2016, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M for 10 classes, 3 channels
PAPER = {20: 0.27e6, 32: 0.46e6, 44: 0.66e6, 56: 0.85e6, 110: 1.7e6}


@pytest.mark.parametrize("depth", sorted(PAPER))
def test_parameter_counts_match_he_et_al(depth):
    plain = count_parameters(build_model(net_spec("plain", depth)))
    residual = count_parameters(build_model(net_spec("residual", depth)))
    assert plain == residual  # option A adds no parameters: the twins are exact
    assert abs(residual - PAPER[depth]) / PAPER[depth] < 0.02  # the paper rounds


def test_depth_counts_weight_layers():
    for depth in (8, 20, 56):
        assert len(weight_layers(build_model(net_spec("plain", depth)))) == depth


@pytest.mark.parametrize("depth", [0, 7, 9, 21, 30])
def test_depth_not_6n_plus_2_is_rejected(depth):
    with pytest.raises(ValueError, match=f"depth={depth}"):
        blocks_per_stage(depth)


def test_bad_spec_values_are_named():
    with pytest.raises(ValueError, match="arch='wide'"):
        net_spec("wide", 20)
    with pytest.raises(ValueError, match="shortcut='C'"):
        net_spec("residual", 20, shortcut="C")
    with pytest.raises(ValueError, match="norm='layer'"):
        net_spec("residual", 20, norm="layer")


def test_option_a_shortcut_subsamples_and_zero_pads():
    x = torch.arange(2 * 4 * 4 * 4, dtype=torch.float32).view(2, 4, 4, 4)
    y = ShortcutA(4, 8, 2)(x)
    assert y.shape == (2, 8, 2, 2)
    assert torch.equal(y[:, 2:6], x[:, :, ::2, ::2])
    assert torch.count_nonzero(y[:, :2]) == 0 and torch.count_nonzero(y[:, 6:]) == 0


def test_option_b_projects_where_the_shape_changes():
    model = build_model(net_spec("residual", 20, shortcut="B"))
    projections = [
        m
        for name, m in model.named_modules()
        if name.endswith("shortcut.0") and isinstance(m, torch.nn.Conv2d)
    ]
    assert len(projections) == 2  # stage 2 and stage 3 entries
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert count_parameters(model) > count_parameters(build_model(net_spec("residual", 20)))


def test_plain_twin_differs_only_by_the_addition():
    torch.manual_seed(0)
    plain = build_model(net_spec("plain", 14))
    residual = build_model(net_spec("residual", 14))
    residual.load_state_dict(plain.state_dict())  # same keys, same shapes
    x = torch.randn(4, 3, 16, 16)
    plain.eval()
    residual.eval()
    assert not torch.allclose(plain(x), residual(x))
    for block in residual.blocks():
        block.residual = False
    assert torch.allclose(plain(x), residual(x))


def test_norm_none_has_no_batchnorm_and_uses_biases():
    model = build_model(net_spec("plain", 8, norm="none"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert all(m.bias is not None for _, m in weight_layers(model))


def test_shapes_for_other_inputs():
    model = build_model(net_spec("residual", 8, in_channels=1, num_classes=7, width=4))
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 7)


# -- pre-activation nets (He et al. 2016b) -------------------------------------------------------
@pytest.mark.parametrize("depth", sorted(PAPER))
def test_preact_parameters_within_one_batchnorm_of_the_original(depth):
    original = count_parameters(build_model(net_spec("residual", depth)))
    preact = build_model(net_spec("preact", depth))
    # the stem's BatchNorm (16 channels) moves to the head (64): at most one BN's worth apart
    assert abs(count_parameters(preact) - original) <= 2 * 64
    assert len(weight_layers(preact)) == depth


def test_preact_identity_path_is_linear_from_stem_to_head():
    torch.manual_seed(0)
    model = build_model(net_spec("preact", 14, in_channels=1, width=4)).eval()
    for block in model.blocks():
        torch.nn.init.zeros_(block.conv2.weight)  # every branch adds nothing
    x = torch.randn(3, 1, 8, 8)
    trunk = lambda v: model.stage3(model.stage2(model.stage1(v)))  # noqa: E731
    h = model.stem(x)
    # nothing after the additions: with silent branches the stages are a linear map
    assert torch.allclose(trunk(-2.0 * h), -2.0 * trunk(h), atol=1e-6)
    original = build_model(net_spec("residual", 14, in_channels=1, width=4)).eval()
    for block in original.blocks():
        torch.nn.init.zeros_(block.conv2.weight)
    trunk = lambda v: original.stage3(original.stage2(original.stage1(v)))  # noqa: E731
    assert not torch.allclose(trunk(-2.0 * h), -2.0 * trunk(h), atol=1e-6)  # ReLU after each


def test_sites_are_named_by_role_in_every_arch():
    for arch, sites in (
        ("plain", {"branch", "trunk"}),
        ("residual", {"branch", "trunk"}),
        ("preact", {"branch", "block_input", "head"}),
    ):
        model = build_model(net_spec(arch, 8))
        assert {site for _, site, _ in model.relu_sites()} == sites
        branch = [m for _, site, m in model.relu_sites() if site == "branch"]
        assert len(branch) == 3  # one between the convolutions of each block


# -- MobileNetV2-style bottleneck nets -------------------------------------------------------------
def _modules(model):
    return [(name, type(m).__name__) for name, m in model.named_modules()]


def test_linear_and_relu_bottlenecks_differ_only_in_the_one_activation():
    linear = build_model(bottleneck_spec("linear", 8, blocks=2))
    relu = build_model(bottleneck_spec("relu", 8, blocks=2))
    a, b = _modules(linear), _modules(relu)
    differ = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert differ and all(
        x[0] == y[0] and x[0].endswith("project_act") and (x[1], y[1]) == ("Identity", "ReLU6")
        for x, y in differ
    )
    assert len(differ) == 2 * 3  # the projection of every block: 3 stages of 2 blocks
    assert {k: v.shape for k, v in linear.state_dict().items()} == {
        k: v.shape for k, v in relu.state_dict().items()
    }


@pytest.mark.parametrize("width", [2, 4, 8, 16])
def test_shortcut_variants_have_matched_parameter_counts(width):
    bottleneck = count_parameters(build_model(bottleneck_spec("linear", width)))
    expansion = count_parameters(build_model(bottleneck_spec("expansion", width)))
    assert abs(bottleneck - expansion) / bottleneck < 0.01


def test_bottleneck_nets_classify_and_keep_their_spec():
    spec = bottleneck_spec("expansion", 4, expansion=16, blocks=1, num_classes=7, in_channels=1)
    model = build_model(spec)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 7)
    assert spec_from_dict(asdict(spec)) == spec
    assert spec_from_dict(asdict(net_spec("preact", 8))) == net_spec("preact", 8)
    with pytest.raises(ValueError, match="variant='wide'"):
        bottleneck_spec("wide", 4)


def _blocks_are_identity(model, x) -> bool:
    """Whether every block of the net maps its input to its shortcut's output (for the original
    block, a ReLU of it: the identity on the non-negative trunk)."""
    h = model.stem(x)
    for block in model.blocks():
        out = block(h)
        expected = block.shortcut(h)
        if not torch.allclose(out, expected, atol=1e-6):
            return False
        h = out
    return True


@pytest.mark.parametrize("arch", ["residual", "preact"])
@pytest.mark.parametrize("init", ["fixup", "skipinit"])
def test_branch_zero_inits_make_every_residual_stage_the_identity(arch, init):
    torch.manual_seed(0)
    model = build_model(net_spec(arch, 20, in_channels=1, width=4, norm="none", init=init))
    x = torch.randn(8, 1, 8, 8)
    assert _blocks_are_identity(model, x)
    if init == "fixup":
        assert torch.count_nonzero(model(x)) == 0  # the classifier starts at zero too
    he = build_model(net_spec(arch, 20, in_channels=1, width=4, norm="none"))
    assert not _blocks_are_identity(he, x)


def test_fixup_scales_the_first_branch_layer_by_the_papers_factor():
    depth, blocks = 20, 9  # L = 9 branches of m = 2 layers: L^(-1/(2m-2)) = 9^(-1/2)
    assert fixup_scale(blocks) == pytest.approx(1 / 3)
    assert fixup_scale(16, layers=3) == pytest.approx(0.5)  # m = 3: L^(-1/4)
    torch.manual_seed(5)
    fixup = build_model(
        net_spec("residual", depth, in_channels=1, width=4, norm="none", init="fixup")
    )
    torch.manual_seed(5)
    he = build_model(net_spec("residual", depth, in_channels=1, width=4, norm="none"))
    for a, b in zip(fixup.blocks(), he.blocks(), strict=True):
        assert torch.allclose(a.conv1.weight, b.conv1.weight / 3)
        assert torch.count_nonzero(a.conv2.weight) == 0
        assert a.branch_scale.scale.item() == 1.0 and a.branch_scale.scale.requires_grad
    assert torch.equal(fixup.conv1.weight, he.conv1.weight)  # the stem keeps He's draw


def test_skipinit_gains_start_at_zero_and_learn():
    model = build_model(
        net_spec("residual", 8, in_channels=1, width=4, norm="none", init="skipinit")
    )
    gains = [block.branch_scale.scale for block in model.blocks()]
    assert all(g.item() == 0.0 and g.requires_grad for g in gains)
    loss = model(torch.randn(4, 1, 8, 8)).square().sum()
    loss.backward()
    assert any(g.grad.abs().item() > 0 for g in gains)  # the gradient reaches the gains


def test_plain_nets_and_he_nets_have_no_branch_parameters():
    for spec in (
        net_spec("plain", 8, in_channels=1, width=4, norm="none", init="fixup"),
        net_spec("residual", 8, in_channels=1, width=4, norm="none"),
    ):
        names = build_model(spec).state_dict().keys()
        assert not any("branch_scale" in name for name in names)
