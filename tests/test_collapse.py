"""Tests of the ReLU-collapse library (MobileNetV2 Fig. 1 experiment)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from resnet_essence import collapse
from resnet_essence.collapse import (
    ACTIVATIONS,
    BLOCK_COLUMNS,
    GRID_COLUMNS,
    CollapseConfig,
    examples,
    invert_residual,
    nearest_neighbours,
    random_matrices,
    reconstruct,
    recoverable,
    relu_survival_theory,
    run_experiment,
    run_grid,
)

ROOT = Path(__file__).resolve().parent.parent
ALL_ACTIVATIONS = list(ACTIVATIONS)

# The library has no defaults (config.yaml holds the pipeline's values); the tests spell out their
# own, and change them where a test needs to.
DRAW = {"distribution": "gaussian", "bias_std": 0.0, "seed": 0}
"""How random_matrices and examples draw T."""
SETTINGS = {**DRAW, "rank_tol": 1e-6}
"""The settings of run_grid."""


@pytest.fixture(scope="module")
def small_grid() -> pd.DataFrame:
    """Both manifolds, every activation, n up to 8: shared by the structural tests."""
    return run_grid(
        ["spiral", "swiss_roll"], 8, ALL_ACTIVATIONS, n_points=120, n_matrices=40, **SETTINGS
    )


# --- theory ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "expected"), [(2, 0.25), (3, 0.5), (5, 0.8125)])
def test_theory_exact_values_for_m2(n, expected):
    assert relu_survival_theory(n, 2) == expected


def test_theory_matches_closed_form_for_m2():
    for n in range(2, 40):
        assert relu_survival_theory(n, 2) == pytest.approx(1 - (n + 1) / 2**n, abs=1e-15)


@pytest.mark.parametrize(
    ("n", "expected"),
    [(3, 1 / 8), (4, 5 / 16), (5, 16 / 32), (6, 42 / 64)],  # sum of C(n, j), j >= 3, over 2**n
)
def test_theory_by_hand_for_m3(n, expected):
    assert relu_survival_theory(n, 3) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(
    ("n", "m", "message"), [(1, 2, "n=1 is below m=2"), (3, 0, "m=0"), (0, 1, "n=0")]
)
def test_theory_rejects_bad_dimensions(n, m, message):
    with pytest.raises(ValueError, match=message):
        relu_survival_theory(n, m)


# --- empirical recoverability -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manifold", "distribution"),
    [("spiral", "gaussian"), ("swiss_roll", "gaussian"), ("spiral", "uniform")],
)
def test_relu_recoverable_matches_theory(manifold, distribution):
    grid = run_grid([manifold], 7, ["relu"], 100, 200, **{**SETTINGS, "distribution": distribution})
    assert len(grid) >= 5
    gap = (grid["recoverable"] - grid["theory"]).abs()
    assert gap.max() < 0.05, grid[["embed_dim", "recoverable", "theory"]]
    # The interval half-width is a few percent, so the 0.05 tolerance is about two of them.
    assert (grid["recoverable_hi"] - grid["recoverable_lo"]).max() < 0.1


@pytest.mark.parametrize("activation", ["linear", "leaky_relu", "residual"])
def test_invertible_activations_recover_everything(small_grid, activation):
    rows = small_grid[small_grid["activation"] == activation]
    assert len(rows) == 7 + 6  # n = 2..8 for the spiral, 3..8 for the swiss roll
    assert (rows["recoverable"] == 1.0).all()
    assert (rows["collapsed_neighbours"] == 0.0).all()


def test_relu_collapses_at_small_n_and_not_at_large_n():
    grid = run_grid(["spiral"], 30, ["relu"], 200, 60, **SETTINGS).set_index("embed_dim")
    assert grid.loc[2, "recon_error"] > 2 * grid.loc[30, "recon_error"]
    assert grid.loc[2, "collapsed_neighbours"] > 0.1
    assert grid.loc[30, "collapsed_neighbours"] == 0.0
    assert grid.loc[2, "recoverable"] < 0.35
    assert grid.loc[30, "recoverable"] > 0.999


def test_origin_is_never_recoverable_through_relu_without_bias():
    matrices, _ = random_matrices("spiral", 2, 30, 50, **DRAW)
    origin = np.zeros((1, 2))
    assert not recoverable(origin, matrices, "relu", rank_tol=1e-6).any()
    assert not recoverable(origin, matrices, "relu6", rank_tol=1e-6).any()
    assert recoverable(origin, matrices, "leaky_relu", rank_tol=1e-6).all()
    assert recoverable(origin, matrices, "residual", rank_tol=1e-6).all()


def test_spiral_starts_off_the_origin():
    points = collapse.spiral(500)
    radii = np.linalg.norm(points, axis=1)
    assert radii.min() == pytest.approx(0.05)
    assert radii.max() == pytest.approx(1.0)


@pytest.mark.parametrize("n_points", [50, 400])
def test_nearest_neighbours_are_adjacent_along_the_manifold(n_points):
    spiral_neighbours = nearest_neighbours(collapse.spiral(n_points))
    assert (np.abs(spiral_neighbours - np.arange(n_points)) == 1).all()
    roll = collapse.swiss_roll(n_points)
    unrolled = np.hypot(roll[:, 0], roll[:, 2]) * 4.5 * np.pi  # the parameter t
    roll_neighbours = nearest_neighbours(roll)
    assert np.abs(unrolled - unrolled[roll_neighbours]).max() < np.pi  # layers are 2 pi apart


# --- rank test --------------------------------------------------------------------------------


def _svd_full_rank(points, matrices, activation, biases, rank_tol):
    """Reference: explicit Jacobians and their singular values, one point at a time."""
    pre = points @ np.swapaxes(matrices, 1, 2) + biases[:, None, :]
    slope = ACTIVATIONS[activation].derivative(pre)
    jacobians = slope[..., None] * matrices[:, None, :, :]
    singular = np.linalg.svd(jacobians, compute_uv=False)
    return singular[..., -1] > rank_tol * singular[..., 0]


@pytest.mark.parametrize("manifold", ["spiral", "swiss_roll"])
@pytest.mark.parametrize("activation", ["relu", "gelu", "softplus", "relu6"])
def test_rank_test_agrees_with_svd(manifold, activation):
    points = collapse.MANIFOLDS[manifold](150)
    m = points.shape[1]
    for n in (m, m + 1, m + 3):
        matrices, biases = random_matrices(manifold, m, n, 30, **{**DRAW, "bias_std": 0.3})
        expected = _svd_full_rank(points, matrices, activation, biases, 1e-6)
        assert np.array_equal(
            recoverable(points, matrices, activation, biases, rank_tol=1e-6), expected
        )


@pytest.mark.parametrize(
    "singular_values",
    [
        (1.0, 2e-6),
        (1.0, 0.5e-6),
        (1.0, 1.0, 2e-6),
        (1.0, 1.0, 1.2e-6),  # closed-form bounds undecided: the eigensolver says full rank
        (1.0, 1.0, 0.5e-6),
        (1.0, 1e-3, 0.5e-6),
        (1.0, 1e-3, 1.1e-6),
        (1.0, 2.2e-6, 1.4e-6),  # two small singular values, both above the tolerance
        (1.0, 2.2e-6, 0.9e-6),
    ],
)
def test_rank_tolerance_is_relative_to_the_largest_singular_value(singular_values):
    rng = np.random.default_rng(1)
    m = len(singular_values)
    for scale in (1e-3, 1.0, 1e3):
        left, _ = np.linalg.qr(rng.standard_normal((m + 2, m)))
        right, _ = np.linalg.qr(rng.standard_normal((m, m)))
        matrix = scale * (left * np.array(singular_values)) @ right.T
        point = rng.standard_normal((1, m))
        got = recoverable(point, matrix[None], "linear", rank_tol=1e-6)[0, 0]
        assert got == (min(singular_values) > 1e-6 * max(singular_values))


# --- activations and inverses -----------------------------------------------------------------


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_derivatives_match_finite_differences(activation):
    z = np.linspace(-7.3, 7.1, 1001)
    z = z[np.abs(z) > 1e-3]  # keep off the kinks of the ReLU family
    z = z[np.abs(z - 6) > 1e-3]
    h = 1e-6
    act = ACTIVATIONS[activation]
    numeric = (act(z + h) - act(z - h)) / (2 * h)
    np.testing.assert_allclose(act.derivative(z), numeric, atol=1e-7)


def test_activation_values():
    z = np.array([-50.0, -3.0, -0.5, 0.0, 0.5, 3.0, 7.0, 50.0])
    relu = np.maximum(z, 0)
    np.testing.assert_array_equal(ACTIVATIONS["relu"](z), relu)
    np.testing.assert_array_equal(ACTIVATIONS["relu6"](z), np.minimum(relu, 6))
    np.testing.assert_array_equal(ACTIVATIONS["leaky_relu"](z), np.where(z > 0, z, 0.01 * z))
    np.testing.assert_array_equal(ACTIVATIONS["residual"](z), z + relu)
    np.testing.assert_array_equal(ACTIVATIONS["linear"](z), z)
    np.testing.assert_allclose(ACTIVATIONS["softplus"](z), np.log1p(np.exp(z)), rtol=1e-14)
    tanh_gelu = 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))
    # At z = -50 the exponent is capped (see _gelu), leaving a value near -1e-259 instead of -0.
    np.testing.assert_allclose(ACTIVATIONS["gelu"](z), tanh_gelu, rtol=1e-12, atol=1e-250)


def test_residual_form_is_inverted_exactly():
    z = np.random.default_rng(0).standard_normal(10_000) * np.logspace(-300, 300, 10_000)
    z = np.concatenate([z, [0.0, -0.0, 1.0, -1.0]])
    restored = invert_residual(ACTIVATIONS["residual"](z))
    np.testing.assert_array_equal(restored, z)  # bit for bit, stronger than 1e-12


@pytest.mark.parametrize("bias_std", [0.0, 0.5])
@pytest.mark.parametrize("activation", ["linear", "residual"])
def test_pseudo_inverse_reconstruction_is_exact_for_lossless_maps(activation, bias_std):
    settings = {**SETTINGS, "bias_std": bias_std, "seed": 3}
    grid = run_grid(["spiral", "swiss_roll"], 6, [activation], 80, 20, **settings)
    assert grid["recon_error"].max() < 1e-10
    assert grid["recon_error_hi"].max() < 1e-10


def test_reconstruct_returns_the_points_for_linear():
    points = collapse.swiss_roll(50)
    matrices, biases = random_matrices("swiss_roll", 3, 5, 4, **{**DRAW, "bias_std": 1.0})
    np.testing.assert_allclose(
        reconstruct(points, matrices, "linear", biases)[2], points, atol=1e-12
    )


# --- the grid table -----------------------------------------------------------------------------


def test_grid_shape_columns_and_order(small_grid):
    assert list(small_grid.columns) == GRID_COLUMNS
    assert len(small_grid) == (7 + 6) * len(ALL_ACTIVATIONS)
    first = small_grid.iloc[: 7 * len(ALL_ACTIVATIONS)]
    assert (first["manifold"] == "spiral").all()
    assert list(first["activation"].iloc[::7]) == ALL_ACTIVATIONS
    assert list(first["embed_dim"].iloc[:7]) == list(range(2, 9))
    assert set(small_grid.loc[small_grid["manifold"] == "swiss_roll", "input_dim"]) == {3}


def test_a_cells_interval_is_the_normal_interval_over_its_matrices():
    """mean -+ 1.96 sd / sqrt(k) over k matrices, worked out by hand; a fraction's interval is
    cut to [0, 1], a reconstruction error's is not."""
    from resnet_essence.collapse.grid import summarise

    # 0.2, 0.4, 0.6: mean 0.4, sd 0.2, half width 1.96 * 0.2 / sqrt(3) = 0.226321
    cell = summarise("recoverable", np.array([0.2, 0.4, 0.6]))
    assert cell == pytest.approx(
        {"recoverable": 0.4, "recoverable_lo": 0.4 - 0.226321, "recoverable_hi": 0.4 + 0.226321},
        abs=1e-6,
    )
    # 0.9, 1, 1: mean 0.966667, sd 0.057735, half width 0.065333: the top cut at 1
    cell = summarise("collapsed_neighbours", np.array([0.9, 1.0, 1.0]))
    assert cell["collapsed_neighbours_lo"] == pytest.approx(0.966667 - 0.065333, abs=1e-6)
    assert cell["collapsed_neighbours_hi"] == 1.0
    # 0, 0, 0.3: mean 0.1, sd 0.173205, half width 0.196: an error's interval may reach below 0
    cell = summarise("recon_error", np.array([0.0, 0.0, 0.3]))
    assert cell["recon_error_lo"] == pytest.approx(0.1 - 0.196, abs=1e-6)
    # one matrix: no interval
    cell = summarise("recoverable", np.array([0.5]))
    assert cell["recoverable"] == 0.5 and math.isnan(cell["recoverable_lo"])


def test_grid_intervals_of_fractions_stay_in_0_to_1_and_are_cut_there(small_grid):
    for metric in ("recoverable", "collapsed_neighbours"):
        assert small_grid[f"{metric}_lo"].between(0, 1).all()
        assert small_grid[f"{metric}_hi"].between(0, 1).all()
    # the grid has cells whose interval was cut (every matrix keeps every point: [1, 1]) and
    # cells whose interval is the symmetric one (a spread over matrices)
    cut = small_grid["recoverable_hi"] == 1.0
    assert cut.any() and (~cut).any()
    free = small_grid[~cut & (small_grid["recoverable_lo"] > 0)]
    assert len(free) > 0
    above = free["recoverable_hi"] - free["recoverable"]
    below = free["recoverable"] - free["recoverable_lo"]
    assert np.allclose(above, below, rtol=0, atol=1e-12) and (above > 0).all()


def test_theory_only_for_relu_without_bias(small_grid):
    relu = small_grid["activation"] == "relu"
    assert small_grid.loc[relu, "theory"].notna().all()
    assert small_grid.loc[~relu, "theory"].isna().all()
    with_bias = run_grid(["spiral"], 3, ["relu"], 20, 3, **{**SETTINGS, "bias_std": 0.1})
    assert with_bias["theory"].isna().all()


def test_single_matrix_gives_nan_intervals():
    grid = run_grid(["spiral"], 2, ["relu"], 20, 1, **SETTINGS)
    assert grid[["recoverable_lo", "recon_error_hi"]].isna().all().all()
    assert grid["recoverable"].notna().all()


def test_grid_is_deterministic():
    args = (["spiral", "swiss_roll"], 4, ["relu", "gelu"], 60, 10)
    settings = {**SETTINGS, "bias_std": 0.2, "seed": 7}
    first = run_grid(*args, **settings)
    pd.testing.assert_frame_equal(first, run_grid(*args, **settings))
    other = run_grid(*args, **{**settings, "seed": 8})
    assert not first["recon_error"].equals(other["recon_error"])


def test_first_matrices_do_not_depend_on_how_many_are_drawn():
    draw = {**DRAW, "bias_std": 1.0, "seed": 4}
    few, few_bias = random_matrices("spiral", 2, 6, 2, **draw)
    many, many_bias = random_matrices("spiral", 2, 6, 50, **draw)
    np.testing.assert_array_equal(few, many[:2])
    np.testing.assert_array_equal(few_bias, many_bias[:2])


# --- examples ---------------------------------------------------------------------------------


def test_examples_layout_and_exact_lossless_panels():
    frame = examples("spiral", [2, 15], ["relu", "linear", "residual"], 40, **DRAW)
    assert list(frame.columns) == collapse.EXAMPLE_COLUMNS
    assert len(frame) == 40 * (1 + 2 * 3)
    assert frame["z"].isna().all()
    original = frame[frame["activation"] == "input"]
    assert (original["embed_dim"] == 0).all()
    np.testing.assert_array_equal(original[["x", "y"]].to_numpy(), collapse.spiral(40))
    for activation in ("linear", "residual"):
        for n in (2, 15):
            panel = frame[(frame["activation"] == activation) & (frame["embed_dim"] == n)]
            np.testing.assert_allclose(
                panel[["x", "y"]].to_numpy(), collapse.spiral(40), atol=1e-12
            )
    relu_2 = frame[(frame["activation"] == "relu") & (frame["embed_dim"] == 2)]
    assert not np.allclose(relu_2[["x", "y"]].to_numpy(), collapse.spiral(40), atol=1e-3)


def test_examples_deterministic_and_3d():
    draw = {**DRAW, "bias_std": 0.1, "seed": 2}
    first = examples("swiss_roll", [3, 10], ["gelu"], 30, **draw)
    pd.testing.assert_frame_equal(first, examples("swiss_roll", [3, 10], ["gelu"], 30, **draw))
    assert first["z"].notna().all()


# --- bad input ----------------------------------------------------------------------------------

GOOD = {
    "manifolds": ["spiral"],
    "max_embed_dim": 3,
    "activations": ["relu"],
    "n_points": 10,
    "n_matrices": 2,
    **SETTINGS,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"max_embed_dim": 1},
            "max_embed_dim=1 is below the input dimension m=2 of manifold 'spiral'",
        ),
        (
            {"manifolds": ["swiss_roll"], "max_embed_dim": 2},
            "max_embed_dim=2 is below the input dimension m=3 of manifold 'swiss_roll'",
        ),
        ({"activations": ["tanhh"]}, "unknown activation 'tanhh'; known: relu, relu6"),
        ({"manifolds": ["torus"]}, "unknown manifold 'torus'; known: spiral, swiss_roll"),
        ({"distribution": "cauchy"}, "unknown distribution 'cauchy'; known: gaussian, uniform"),
        ({"n_points": 0}, "n_points=0"),
        ({"n_points": -5}, "n_points=-5"),
        ({"n_matrices": 0}, "n_matrices=0"),
        ({"bias_std": -0.5}, "bias_std=-0.5"),
        ({"bias_std": math.inf}, "bias_std=inf"),
        ({"rank_tol": 0.0}, "rank_tol=0.0"),
        ({"seed": -1}, "seed=-1"),
        ({"activations": []}, r"activations=\[\]"),
        ({"activations": ["relu", "relu"]}, "repeats relu"),
    ],
)
def test_run_grid_rejects_bad_input(change, message):
    with pytest.raises(ValueError, match=message):
        run_grid(**{**GOOD, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"embed_dims": [5, 1]},
            "embed_dim=1 is below the input dimension m=2 of manifold 'spiral'",
        ),
        ({"embed_dims": []}, "embed_dims"),
        ({"manifold": "torus"}, "unknown manifold 'torus'"),
        ({"activations": ["swish"]}, "unknown activation 'swish'"),
        ({"distribution": "cauchy"}, "unknown distribution 'cauchy'"),
        ({"n_points": 0}, "n_points=0"),
        ({"bias_std": -1.0}, "bias_std=-1.0"),
    ],
)
def test_examples_rejects_bad_input(change, message):
    good = {"manifold": "spiral", "embed_dims": [2, 5], "activations": ["relu"], "n_points": 10}
    good.update(DRAW)
    with pytest.raises(ValueError, match=message):
        examples(**{**good, **change})


# --- the config object and the whole experiment ---------------------------------------------------


def _collapse_section() -> dict:
    with open(ROOT / "config.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)["collapse"]


def test_config_object_carries_every_key_of_the_real_config():
    section = _collapse_section()
    config = CollapseConfig.from_config(section)
    assert {field.name for field in dataclasses.fields(config)} == set(section)
    for key, value in section.items():
        expected = tuple(value) if isinstance(value, list) else value
        assert getattr(config, key) == expected, key
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1  # type: ignore[misc]


def test_config_object_has_no_defaults_and_matches_the_schema():
    for field in dataclasses.fields(CollapseConfig):
        assert field.default is dataclasses.MISSING, field.name
        assert field.default_factory is dataclasses.MISSING, field.name
    with open(ROOT / "workflow" / "schemas" / "config.schema.yaml", encoding="utf-8") as fh:
        schema = yaml.safe_load(fh)["properties"]["collapse"]
    names = {field.name for field in dataclasses.fields(CollapseConfig)}
    assert set(schema["required"]) == names == set(schema["properties"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"drop": "seed"}, r"missing keys \['seed'\], unknown keys \[\]"),
        ({"add": "n_pointz"}, r"missing keys \[\], unknown keys \['n_pointz'\]"),
    ],
)
def test_config_object_rejects_missing_and_unknown_keys(change, message):
    section = _collapse_section()
    section.pop(change.get("drop"), None)
    if "add" in change:
        section[change["add"]] = 1
    with pytest.raises(ValueError, match=message):
        CollapseConfig.from_config(section)


def test_run_experiment_makes_the_three_tables():
    section = {
        **_collapse_section(),
        "manifolds": ["spiral", "swiss_roll"],
        "max_embed_dim": 4,
        "activations": ["relu", "residual"],
        "blocks": ["preact_block"],
        "n_points": 30,
        "n_matrices": 3,
        "example_dims": [2, 4],
        "example_points": 20,
    }
    config = CollapseConfig.from_config(section)
    survival, blocks, panels = run_experiment(config)
    direct = run_grid(
        ["spiral", "swiss_roll"],
        4,
        ["relu", "residual"],
        30,
        3,
        config.distribution,
        config.bias_std,
        config.rank_tol,
        config.seed,
    )
    pd.testing.assert_frame_equal(survival, direct)
    assert list(blocks.columns) == BLOCK_COLUMNS
    assert len(blocks) == 3 + 2  # n = 2..4 for the spiral, 3..4 for the swiss roll
    # the panels skip embedding dimensions below the manifold's: n = 2 for the swiss roll
    dims = panels.groupby("manifold")["embed_dim"].unique()
    assert sorted(dims["spiral"]) == [0, 2, 4]
    assert sorted(dims["swiss_roll"]) == [0, 4]
