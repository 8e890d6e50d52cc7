import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from resnet_essence.config import (
    check,
    check_device,
    coerce,
    device_problem,
    in_schema_order,
    problems,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())


def _config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_command_line_strings_get_their_schema_types():
    raw = {
        "depths": ["20", "56"],
        "seeds": ["0"],
        "device": "cpu",
        "train": {"lr": "0.05", "flip": "false", "epochs": "3"},
        "data": {"image_size": "null"},
    }
    out = coerce(raw, SCHEMA)
    assert out["depths"] == [20, 56] and out["seeds"] == [0]
    assert out["train"] == {"lr": 0.05, "flip": False, "epochs": 3}
    assert out["data"]["image_size"] is None
    assert out["device"] == "cpu"


def test_values_that_do_not_convert_are_left_for_the_schema():
    out = coerce({"depths": ["twenty"], "unknown": "1"}, SCHEMA)
    assert out == {"depths": ["twenty"], "unknown": "1"}


def test_the_default_config_passes():
    check(_config())


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("depths", [20, 30], "'depths': \\[30\\]"),
    ],
)
def test_depth_not_6n_plus_2_names_the_key(key, value, message):
    cfg = _config()
    cfg[key] = value
    with pytest.raises(ValueError, match=message):
        check(cfg)


def test_snapshot_after_the_last_epoch_names_the_key():
    cfg = _config()
    cfg["train"]["snapshot_epochs"] = [0, 99]
    with pytest.raises(ValueError, match="train.snapshot_epochs"):
        check(cfg)


def test_a_warm_up_as_long_as_the_run_names_the_key():
    cfg = _config()
    cfg["train"]["warmup_epochs"] = cfg["train"]["epochs"]
    with pytest.raises(ValueError, match="train.warmup_epochs"):
        check(cfg)


def _sections(schema: dict, path: str = ""):
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        if sub.get("type") == "object" and "properties" in sub:  # not a free mapping (beside)
            yield from _sections(sub, f"{path}{key}.")


def test_one_value_one_place_config_yaml_sets_every_key_the_schema_requires():
    """The schema gives types and ranges, config.yaml the values: no defaults in between."""
    cfg = _config()
    for path, section in _sections(SCHEMA):
        assert set(section["required"]) == set(section["properties"]), path
        assert not any("default" in sub for sub in section["properties"].values()), path
        values = cfg
        for key in filter(None, path.split(".")):
            values = values[key]
        assert set(values) == set(section["properties"]), path


def test_config_problems_are_short_and_name_the_key():
    cfg = _config()
    cfg["seed"] = [0]
    cfg["train"]["lr_schedul"] = "cosine"
    cfg["model"]["norm"] = "layer"
    cfg["train"]["epochs"] = "many"
    del cfg["collapse"]["n_points"]
    found = problems(cfg, SCHEMA)
    assert len(found) == 5, found
    text = "\n".join(found)
    assert "unknown key 'seed'; did you mean 'seeds'?" in text
    assert "unknown key 'train.lr_schedul'; did you mean 'lr_schedule'?" in text
    assert "'model.norm': 'layer' is not one of ['batch', 'none']" in text
    assert "'train.epochs': 'many' is not of type 'integer'" in text
    assert "'collapse' lacks the key 'n_points'" in text
    with pytest.raises(ValueError, match="5 problem"):
        validate(cfg, SCHEMA)
    validate(_config(), SCHEMA)


def test_a_branch_zero_init_with_batchnorm_names_the_key():
    cfg = _config()
    cfg["model"]["init"] = "fixup"
    with pytest.raises(ValueError, match=r"'model.init': fixup .* set model.norm: none"):
        check(cfg)
    cfg["model"]["norm"] = "none"
    check(cfg)


def test_a_cuda_device_this_machine_lacks_names_the_key():
    assert device_problem("cpu", 0) is None and device_problem("auto", 0) is None
    assert device_problem("cuda", 1) is None and device_problem("cuda:1", 2) is None
    assert device_problem("cuda", 0).startswith("config key 'device': 'cuda' but CUDA is not")
    assert "has 2 CUDA device(s), cuda:0 to cuda:1" in device_problem("cuda:2", 2)
    check_device("cpu")  # never asks torch


def test_check_device_asks_this_machine(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ValueError, match="config key 'device': 'cuda:0' but CUDA is not"):
        check_device("cuda:0")
    check_device("auto")  # the CPU here, which is no error


def test_a_config_given_another_way_gets_one_key_order():
    # as Snakemake lays configs/smoke.yaml over config.yaml: the overlay's keys first
    smoke = yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())
    default = _config()
    overlaid = {**smoke, **{k: v for k, v in default.items() if k not in smoke}}
    overlaid["collapse"] = {
        **smoke["collapse"],
        **{k: v for k, v in default["collapse"].items() if k not in smoke["collapse"]},
    }
    ordered = in_schema_order(overlaid, SCHEMA)
    assert list(ordered) == list(SCHEMA["properties"]) == list(default)
    assert list(ordered["collapse"]) == list(default["collapse"])
    assert ordered == overlaid  # the same settings


def test_archs_take_the_names_of_the_interventions():
    cfg = _config()
    cfg["archs"] = ["plain", "plain-leaky0.2", "residual-elu", "residual-a0", "preact-a0.25-reluid"]
    assert problems(cfg, SCHEMA) == []
    check(cfg)


@pytest.mark.parametrize(
    "arch,message",
    [
        ("wide", "'archs.1': 'wide' does not match"),
        ("plain-leaky0.20", "'archs.1': 'plain-leaky0.20' does not match"),
        ("residual-a1", "'archs.1': 'residual-a1' does not match"),
        ("preact-reluid-a0.5", "'archs.1': 'preact-reluid-a0.5' does not match"),
    ],
)
def test_a_misspelt_arch_is_named_by_the_schema_with_the_grammar(arch, message):
    cfg = _config()
    cfg["archs"] = ["plain", arch]
    found = problems(cfg, SCHEMA)
    assert len(found) == 1 and found[0].startswith(message), found
    assert "<base>[-leaky<s>|-elu][-a<alpha>][-reluid]" in found[0]


@pytest.mark.parametrize(
    "arch,why",
    [
        ("plain-a0.5", "plain has no shortcut to scale"),
        ("plain-reluid", "plain has no shortcut to pass through a ReLU"),
        ("residual-leaky0.2-reluid", "-reluid is for preact only"),
        ("preact-a0-reluid", "-reluid with -a0: there is no shortcut to pass through a ReLU"),
    ],
)
def test_an_arch_whose_options_do_not_go_together_names_the_key_and_the_value(arch, why):
    cfg = _config()
    cfg["archs"] = ["residual", arch]
    assert problems(cfg, SCHEMA) == []  # spelt as the grammar says
    pattern = f"config key 'archs': arch='{re.escape(arch)}': {why}.*an arch name is <base>"
    with pytest.raises(ValueError, match=pattern):
        check(cfg)


def test_the_config_check_reads_arch_names_without_torch():
    # Snakemake may run outside the project's environment: config.py must import without torch
    code = "import sys, resnet_essence.config; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_schemas_arch_pattern_is_the_grammar_snakemake_constrains_the_wildcard_with():
    import yaml

    from resnet_essence.nets.interventions import PATTERN

    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["properties"]["archs"]["items"]["pattern"] == f"^{PATTERN}$"
    assert "ARCH_PATTERN" in (ROOT / "workflow/rules/common.smk").read_text()
