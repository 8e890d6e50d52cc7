from pathlib import Path

import pytest
import yaml

from resnet_essence.config import check, coerce, section_defaults

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
    cfg["gradstats"]["snapshot_epochs"] = [0, 99]
    with pytest.raises(ValueError, match="gradstats.snapshot_epochs"):
        check(cfg)


def test_section_defaults_come_from_the_schema():
    defaults = section_defaults(SCHEMA, "collapse")
    assert defaults["n_matrices"] == 200 and defaults["rank_tol"] == 1e-6
    assert defaults["example_dims"] == [2, 3, 5, 15, 30]
