"""One run's snapshots measured as rule gradstats does, epoch 0 on the He initialisation."""

import pandas as pd
import torch
from conftest import net_spec

from resnet_essence.measure.run import finite_snapshots, he_twin, measure_run
from resnet_essence.nets.resnet import NetSpec, build_model

CFG = {"batch_size": 16, "path_points": 8, "lags": [1, 2], "paths": 2}
PROBES = {"max_deleted": 2, "draws": 1}


def _data():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(32, 1, 8, 8, generator=generator), torch.arange(32) % 10


def _snapshots(spec: NetSpec, seed: int) -> dict:
    torch.manual_seed(seed)  # as the trainer: seed, then build
    start = build_model(spec).state_dict()
    later = {
        k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v for k, v in start.items()
    }
    return {0: start, 3: later}


def test_a_fixup_run_is_measured_at_epoch_0_on_its_he_twin():
    x, y = _data()
    fixup = net_spec("residual", 8, in_channels=1, width=4, norm="none", init="fixup")
    he = net_spec("residual", 8, in_channels=1, width=4, norm="none")
    summary = {"dataset": "d", "arch": "residual", "depth": 8, "seed": 3, "status": "completed"}
    layers, shatter, probes = measure_run(fixup, _snapshots(fixup, 3), summary, x, y, CFG, PROBES)
    he_layers, he_shatter, _ = measure_run(he, _snapshots(he, 3), summary, x, y, CFG, PROBES)
    assert list(layers.columns[:4]) == ["dataset", "arch", "depth", "seed"]
    at0 = layers[layers["epoch"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(at0, he_layers[he_layers["epoch"] == 0].reset_index(drop=True))
    assert sorted(set(layers["epoch"])) == [0, 3] and sorted(set(shatter["epoch"])) == [0, 3]
    # linear units and lesions only on the run's own last snapshot
    last_only = probes[probes["probe"].isin(["linear_units", "lesion"])]
    assert set(last_only["epoch"]) == {3}
    assert set(probes.loc[probes["probe"] == "redundancy", "epoch"]) == {0, 3}


def test_the_he_twin_is_what_the_same_seed_builds_with_he():
    spec = net_spec("preact", 8, in_channels=1, width=4, norm="none", init="skipinit")
    twin, state = he_twin(spec, 7)
    assert twin.init == "he" and twin.arch == "preact"
    torch.manual_seed(7)
    expected = build_model(net_spec("preact", 8, in_channels=1, width=4, norm="none"))
    assert all(torch.equal(state[k], v) for k, v in expected.state_dict().items())


def test_non_finite_snapshots_are_left_out():
    good = {"w": torch.ones(2)}
    bad = {"w": torch.tensor([1.0, float("nan")])}
    assert list(finite_snapshots({0: good, 1: good, 2: bad})) == [0, 1]
