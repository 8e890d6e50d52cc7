"""What every rule script shares: its log file and how it ends on an error."""

import logging

import pytest

from resnet_essence.scripting import run_main, setup_logging


@pytest.fixture
def rule_log(tmp_path):
    path = tmp_path / "logs" / "rule.log"
    setup_logging(path)
    yield path
    logging.basicConfig(handlers=[logging.NullHandler()], force=True)  # close the file


@pytest.mark.parametrize(
    "error,status,expected",
    [
        (ValueError("bad value in results/x.csv"), 2, "bad value in results/x.csv"),
        (OSError(28, "No space left on device", "results/x.csv"), 1, "No space left on device"),
        # a bug: its traceback must reach the rule's log, not only the terminal
        (KeyError("['delta_loss_linear_layer'] not in index"), 1, "Traceback"),
    ],
)
def test_every_error_reaches_the_rules_log_file(rule_log, error, status, expected):
    def body():
        raise error

    with pytest.raises(SystemExit) as stop:
        run_main(body, "aggregate")
    assert stop.value.code == status
    text = rule_log.read_text()
    assert expected in text
    if isinstance(error, KeyError):
        assert "delta_loss_linear_layer" in text and "in body" in text
