import re
from dataclasses import asdict

import pytest
import torch
from conftest import bottleneck_spec, net_spec

from resnet_essence.nets.interventions import ArchOptions, parse_arch
from resnet_essence.nets.resnet import (
    BasicBlock,
    PreActBlock,
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


# -- interventions (nets/interventions.py): zeros removed, identity turned down or made nonlinear
NAMES = [
    "plain-leaky0.01",
    "plain-leaky0.2",
    "residual-leaky0.8",
    "preact-elu",
    "residual-a0",
    "residual-a0.5",
    "preact-a0.25",
    "preact-a0",
    "preact-reluid",
    "preact-leaky0.2-a0.5-reluid",
]


@pytest.mark.parametrize("name", ["plain", "residual", "preact", *NAMES])
def test_an_arch_name_parses_to_options_that_give_it_back(name):
    options = parse_arch(name)
    assert options.name == name
    assert net_spec(name, 8).base == options.base == name.split("-")[0]


def test_arch_names_say_what_was_changed():
    assert parse_arch("plain-leaky0.2") == ArchOptions("plain", "leaky", slope=0.2)
    assert parse_arch("residual-elu") == ArchOptions("residual", "elu")
    assert parse_arch("preact-leaky0.8-a0.25-reluid") == ArchOptions(
        "preact", "leaky", 0.8, 0.25, True
    )
    assert not parse_arch("residual-a0").shortcut and parse_arch("residual-a0.5").shortcut
    with pytest.raises(ValueError, match="arch='plain-a0.5': plain has no shortcut"):
        ArchOptions("plain", alpha=0.5)  # built directly: the same checks


@pytest.mark.parametrize(
    "name,why",
    [
        ("wide", "the base 'wide' is not one of plain, residual, preact"),
        ("plain-a0.5", "plain has no shortcut to scale"),
        ("plain-reluid", "plain has no shortcut to pass through a ReLU"),
        ("residual-reluid", "the block input is already the output of the trunk ReLU"),
        ("preact-a0-reluid", "there is no shortcut to pass through a ReLU"),
        ("residual-a1", "alpha 1 is the unchanged net: leave -a out"),
        ("residual-a1.5", "alpha '1.5' is not a number in \\[0, 1\\)"),
        ("plain-leaky0.20", "slope '0.20' is not a number in \\(0, 1\\)"),
        ("plain-leaky1", "slope '1' is not"),
        ("plain-leaky", "slope '' is not"),
        ("plain-relu", "unknown part 'relu'"),
        ("residual-", "unknown part ''"),
        ("preact-reluid-a0.5", "the part 'a0.5' is repeated or out of order"),
        ("plain-elu-leaky0.2", "the part 'leaky0.2' is repeated or out of order"),
    ],
)
def test_a_bad_arch_name_is_named_with_the_grammar(name, why):
    grammar = re.escape("an arch name is <base>[-leaky<s>|-elu][-a<alpha>][-reluid]")
    with pytest.raises(ValueError, match=f"arch={re.escape(repr(name))}: .*{why}.*{grammar}"):
        parse_arch(name)
    with pytest.raises(ValueError, match=why):
        net_spec(name, 8)


def _site_outputs(model, x) -> list[torch.Tensor]:
    """The output of every ReLU site (or what replaced its ReLU) on ``x``."""
    outputs = []
    sites = [module for _, _, module in model.relu_sites()]
    handles = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for m in sites]
    model(x)
    for handle in handles:
        handle.remove()
    return outputs


@pytest.mark.parametrize("arch", ["plain", "residual", "preact"])
@pytest.mark.parametrize("norm", ["batch", "none"])
@pytest.mark.parametrize("change,kind", [("leaky0.01", "LeakyReLU"), ("elu", "ELU")])
def test_removing_the_zeros_leaves_no_relu_and_no_output_of_exactly_zero(arch, norm, change, kind):
    torch.manual_seed(0)
    base = build_model(net_spec(arch, 14, in_channels=1, width=4, norm=norm))
    model = build_model(net_spec(f"{arch}-{change}", 14, in_channels=1, width=4, norm=norm))
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules())  # every site
    swapped = [(name, site) for name, site, _ in model.relu_sites()]
    assert swapped == [(name, site) for name, site, _ in base.relu_sites()]
    assert {type(m).__name__ for _, _, m in model.relu_sites()} == {kind}
    x = torch.randn(16, 1, 8, 8)
    relu_zeros = sum(int((out == 0).sum()) for out in _site_outputs(base, x))
    assert relu_zeros > 0  # the ReLU net's sites output 0 on about half of their inputs
    outputs = _site_outputs(model, x)
    assert len(outputs) == len(swapped) and all(
        torch.count_nonzero(o) == o.numel() for o in outputs
    )
    assert min(float(o.detach().min()) for o in outputs) < 0  # the negative side is kept
    # and every site passes a gradient everywhere
    for _, _, module in model.relu_sites():
        z = torch.randn(4, 3, 5, 5, requires_grad=True)
        (grad,) = torch.autograd.grad(module(z).sum(), z)
        assert torch.count_nonzero(grad) == grad.numel()


def test_a_leaky_site_is_max_of_x_and_s_x():
    site = build_model(net_spec("plain-leaky0.2", 8)).blocks()[0].relu1
    z = torch.randn(1000)
    assert torch.equal(site(z), torch.maximum(z, 0.2 * z))
    assert build_model(net_spec("preact-elu", 8)).relu_final.alpha == 1.0


def test_a_leaky_net_takes_hes_gain_for_its_slope_from_the_same_draws():
    # He et al. 2015: std sqrt(2 / ((1 + s^2) fan_in)), the ReLU's sqrt(2 / fan_in) at s = 0
    nets = {}
    for arch in ("plain", "plain-leaky0.8", "plain-elu"):
        torch.manual_seed(4)
        nets[arch] = build_model(net_spec(arch, 8, norm="none"))
    for (name, relu), leaky, elu in zip(
        weight_layers(nets["plain"]),
        (m for _, m in weight_layers(nets["plain-leaky0.8"])),
        (m for _, m in weight_layers(nets["plain-elu"])),
        strict=True,
    ):
        assert torch.allclose(leaky.weight, relu.weight / (1 + 0.8**2) ** 0.5), name
        assert torch.equal(elu.weight, relu.weight), name  # no closed form: the ReLU's gain


@pytest.mark.parametrize("shortcut", ["A", "B"])
@pytest.mark.parametrize("train", [True, False])
def test_residual_at_alpha_zero_is_the_plain_net(shortcut, train):
    torch.manual_seed(0)
    plain = build_model(net_spec("plain", 14, in_channels=1, width=4, shortcut=shortcut))
    cut = build_model(net_spec("residual-a0", 14, in_channels=1, width=4, shortcut=shortcut))
    assert _modules(cut) == _modules(plain)  # no shortcut left, not even option B's projection
    cut.load_state_dict(plain.state_dict())  # strict: the same parameters
    x = torch.randn(8, 1, 8, 8)
    plain.train(train)
    cut.train(train)
    assert torch.equal(cut(x), plain(x))
    residual = build_model(net_spec("residual", 14, in_channels=1, width=4, shortcut=shortcut))
    residual.load_state_dict(plain.state_dict(), strict=shortcut == "A")
    assert not torch.allclose(residual.train(train)(x), plain(x))


def test_nets_without_a_shortcut_are_he_initialised_as_plain_nets_are():
    for init in ("fixup", "skipinit"):
        torch.manual_seed(3)
        cut = build_model(net_spec("residual-a0", 8, norm="none", init=init))
        torch.manual_seed(3)
        plain = build_model(net_spec("plain", 8, norm="none", init=init))
        assert cut.state_dict().keys() == plain.state_dict().keys()
        assert all(torch.equal(v, plain.state_dict()[k]) for k, v in cut.state_dict().items())


def _forward_order(model, x) -> list[torch.nn.Module]:
    """The convolutions and BatchNorms of ``model`` in the order the forward pass calls them."""
    order = []
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d | torch.nn.BatchNorm2d)]
    handles = [m.register_forward_hook(lambda m, _i, _o: order.append(m)) for m in layers]
    model(x)
    for handle in handles:
        handle.remove()
    return order


def test_preact_at_alpha_zero_is_the_plain_net_with_its_layers_named_otherwise():
    # without additions, BN-ReLU-conv blocks and a final BN-ReLU are the same chain as the
    # plain net's conv-BN-ReLU: the same function once each layer gets its twin's weights
    torch.manual_seed(0)
    plain = build_model(net_spec("plain", 14, in_channels=1, width=4))
    cut = build_model(net_spec("preact-a0", 14, in_channels=1, width=4))
    assert count_parameters(cut) == count_parameters(plain)
    x = torch.randn(8, 1, 8, 8)
    pairs = list(zip(_forward_order(cut, x), _forward_order(plain, x), strict=True))
    with torch.no_grad():
        for mine, twin in [*pairs, (cut.fc, plain.fc)]:
            for key, value in twin.state_dict().items():
                mine.state_dict()[key].copy_(value)
    assert torch.equal(cut(x), plain(x))
    assert not any(isinstance(m, ShortcutA) for m in cut.modules())
    torch.manual_seed(0)  # and one seed draws the same weights for both
    assert torch.equal(build_model(net_spec("preact-a0", 14, in_channels=1, width=4))(x), plain(x))


def _twin_blocks(block_cls, *args, **options):
    """A block with the interventions ``options`` and one without, with the same weights."""
    torch.manual_seed(0)
    changed = block_cls(*args, **options)
    original = block_cls(*args)
    original.load_state_dict(changed.state_dict())
    return changed.eval(), original.eval()


@pytest.mark.parametrize("stride,planes", [(1, 4), (2, 8)])  # the identity; option A's pad
def test_alpha_scales_the_shortcut_and_one_is_the_original(stride, planes):
    x = torch.randn(3, 4, 8, 8)
    for block_cls, args in (
        (BasicBlock, (4, planes, stride, True, "A", "batch")),
        (PreActBlock, (4, planes, stride, "A", "batch")),
    ):
        changed, original = _twin_blocks(block_cls, *args, alpha=0.25)
        one, _ = _twin_blocks(block_cls, *args, alpha=1.0)
        assert torch.equal(one(x), original(x))
        if block_cls is BasicBlock:
            f = changed.bn2(changed.conv2(changed.relu1(changed.bn1(changed.conv1(x)))))
            assert torch.allclose(changed(x), torch.relu(f + 0.25 * changed.shortcut(x)))
            assert torch.allclose(original(x), torch.relu(f + changed.shortcut(x)))
        else:
            f = changed.conv2(
                changed.relu2(changed.bn2(changed.conv1(changed.relu1(changed.bn1(x)))))
            )
            assert torch.allclose(changed(x), f + 0.25 * changed.shortcut(x))
            zero, _ = _twin_blocks(block_cls, *args, alpha=0.0)
            assert isinstance(zero.shortcut, torch.nn.Identity)
            assert torch.equal(zero(x), f)  # alpha 0: no shortcut at all
        assert not torch.allclose(changed(x), original(x))


def test_a_relu_on_the_identity_changes_preact_blocks_by_exactly_that_relu():
    x = torch.randn(3, 4, 8, 8)
    assert (x < 0).any()
    for planes, stride in ((4, 1), (8, 2)):
        changed, original = _twin_blocks(
            PreActBlock, 4, planes, stride, "A", "batch", relu_identity=True
        )
        f = changed.conv2(changed.relu2(changed.bn2(changed.conv1(changed.relu1(changed.bn1(x))))))
        assert torch.allclose(changed(x), f + torch.relu(changed.shortcut(x)))
        assert torch.allclose(original(x), f + changed.shortcut(x))
        assert not torch.allclose(changed(x), original(x))
        assert torch.equal(changed(x.abs()), original(x.abs()))  # nothing to cut: no change
    torch.manual_seed(0)
    preact = build_model(net_spec("preact", 14, in_channels=1, width=4)).eval()
    nonlinear = build_model(net_spec("preact-reluid", 14, in_channels=1, width=4)).eval()
    nonlinear.load_state_dict(preact.state_dict())  # strict: no parameter added
    x = torch.randn(8, 1, 8, 8)
    assert not torch.allclose(nonlinear(x), preact(x))
    sites = [site for _, site, _ in nonlinear.relu_sites()]
    assert sites.count("shortcut") == len(nonlinear.blocks())
    assert [s for s in sites if s != "shortcut"] == [s for _, s, _ in preact.relu_sites()]


@pytest.mark.parametrize("shortcut", ["A", "B"])
@pytest.mark.parametrize("name", NAMES)
def test_interventions_add_no_parameter(name, shortcut):
    spec = net_spec(name, 20, shortcut=shortcut)
    model = build_model(spec)
    base = build_model(net_spec(spec.base, 20, shortcut=shortcut))
    assert len(weight_layers(model)) == 20
    if spec.options.alpha > 0 or shortcut == "A":
        assert count_parameters(model) == count_parameters(base)
        assert model.state_dict().keys() == base.state_dict().keys()
    else:  # alpha 0 has no shortcut: option B's projections go with it, as in the plain net
        plain = build_model(net_spec("plain", 20, shortcut=shortcut))
        assert count_parameters(model) == count_parameters(plain) < count_parameters(base)
        assert not [key for key in model.state_dict() if "shortcut" in key]


@pytest.mark.parametrize(
    "arch", ["residual-a0.5", "preact-a0.25-reluid", "residual-a0", "plain-leaky0.2", "preact-elu"]
)
def test_packed_interventions_give_the_seeds_own_outputs_or_are_refused_by_name(arch):
    from resnet_essence.nets.packing import pack_model, stack_state, unpackable_layers

    seeds = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        seeds.append(build_model(net_spec(arch, 14, in_channels=1, width=4)))
    if unpackable_layers(seeds[0]):  # the leaky ReLU and the ELU, while packing knows neither
        kind = type(seeds[0].relu_sites()[0][2]).__name__
        with pytest.raises(ValueError, match=f"packing knows no {kind} "):
            pack_model(seeds[0], 2)
        return
    packed = pack_model(seeds[0], 2)
    states = [m.state_dict() for m in seeds]
    packed.load_state_dict(
        {k: stack_state(k, [s[k] for s in states], v) for k, v in packed.state_dict().items()}
    )
    xs = [torch.randn(6, 1, 8, 8) for _ in seeds]
    for train in (True, False):
        out = packed.train(train)(torch.cat(xs, dim=1))
        for k, (model, x) in enumerate(zip(seeds, xs, strict=True)):
            assert torch.allclose(out[:, k], model.train(train)(x), atol=1e-5)
