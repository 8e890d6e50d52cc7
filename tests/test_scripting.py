"""What every rule script shares: its log file and how it ends on an error."""

import logging

import pytest

from resnet_essence.scripting import (
    JOURNAL_MARK,
    finish_journal,
    journal_of,
    run_main,
    setup_logging,
)


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


def test_a_resumed_job_keeps_the_log_lines_from_before_the_kill(tmp_path):
    log_file = tmp_path / "logs" / "train.log"
    setup_logging(log_file, resumable=True)
    logging.getLogger("train").info("epoch 1/3 before the kill")
    # SIGKILL: nothing finishes; Snakemake deletes the job's log before it runs the job again
    log_file.unlink()
    setup_logging(log_file, resumable=True)
    logging.getLogger("train").info("resumed from checkpoint.pt at epoch 1")
    finish_journal(log_file)
    logging.basicConfig(handlers=[logging.NullHandler()], force=True)
    lines = log_file.read_text().splitlines()
    assert "epoch 1/3 before the kill" in lines[0]
    assert lines[1] == JOURNAL_MARK.strip()
    assert "resumed from checkpoint.pt" in lines[2] and len(lines) == 3
    assert not journal_of(log_file).exists()  # the run finished: nothing left beside its log
    # the next run of the same job (its log deleted by Snakemake again) starts a log of its own
    log_file.unlink()
    setup_logging(log_file, resumable=True)
    logging.basicConfig(handlers=[logging.NullHandler()], force=True)
    assert "before the kill" not in log_file.read_text()
