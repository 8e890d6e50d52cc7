"""The contracts of the tidy tables: a bad table is named, with its column and first bad row."""

import pandas as pd
import pytest

from resnet_essence.tables.schema import TABLES, read_table


def _write(path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False)


def test_a_good_table_is_read_with_its_types(tmp_path):
    path = tmp_path / "metrics.csv"
    _write(
        path,
        pd.DataFrame(
            {
                "epoch": [1, 2],
                "step": [45, 90],
                "lr": [0.025, 0.02],
                "train_loss": [1.2, 0.8],
                "train_err": [0.4, 0.2],
                "test_loss": [float("nan"), 0.7],  # not evaluated at epoch 1
                "test_err": [float("nan"), 0.15],
                "seconds": [1.0, 1.1],
                "status": ["running", "completed"],
            }
        ),
    )
    table = read_table(path, "metrics")
    assert table["epoch"].dtype == "int64" and table["lr"].dtype == float
    assert table["test_err"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda f: f.drop(columns="status"), r"lacks the columns \['status'\]"),
        (lambda f: f.assign(extra=1), r"has columns its contract does not name: \['extra'\]"),
        (
            lambda f: f.assign(epoch=["1", "x"]),
            r"column 'epoch', row 2 \(line 3\): 'x' is not a number",
        ),
        (
            lambda f: f.assign(epoch=[1.0, 2.5]),
            r"column 'epoch', row 2 \(line 3\): '2.5' is not a whole",
        ),
        (
            lambda f: f.assign(lr=["0.1", "fast"]),
            r"column 'lr', row 2 \(line 3\): 'fast' is not a number",
        ),
    ],
)
def test_a_table_that_breaks_its_contract_names_the_file_column_and_row(tmp_path, change, message):
    good = pd.DataFrame({c: [1, 2] for c in TABLES["metrics"].columns}).assign(status="completed")
    path = tmp_path / "metrics.csv"
    _write(path, change(good))
    with pytest.raises(ValueError, match=message) as error:
        read_table(path, "metrics")
    assert str(path) in str(error.value)


def test_an_integer_column_may_not_be_empty_but_a_number_column_may(tmp_path):
    frame = pd.DataFrame({c: [1, 2] for c in TABLES["runs"].columns})
    frame["base_width"] = [None, 16]  # a bottleneck net has no base width
    path = tmp_path / "runs.csv"
    _write(path, frame)
    assert read_table(path, "runs")["base_width"].isna().tolist() == [True, False]
    frame["depth"] = [None, 20]
    _write(path, frame)
    with pytest.raises(ValueError, match="column 'depth', row 1"):
        read_table(path, "runs")


def test_every_contract_names_each_column_once_with_a_known_type():
    for name, table in TABLES.items():
        assert table.columns and table.row, name
        assert set(table.columns.values()) <= {"text", "integer", "number", "flag"}, name


def _final_row(**changes) -> pd.DataFrame:
    row = {c: 0.1 for c in TABLES["final"].columns}
    row.update({"dataset": "digits", "arch": "plain", "depth": 20, "params": 270000})
    row.update({"n_runs": 3, "n_diverged": 0})
    for metric in ("train_err", "test_err", "train_loss", "test_loss", "train_err_auc"):
        row.update({f"{metric}_mean": 0.2, f"{metric}_lo": 0.1, f"{metric}_hi": 0.3})
    return pd.DataFrame([{**row, **changes}])


def test_an_interval_that_does_not_hold_its_estimate_is_named_with_its_file(tmp_path):
    path = tmp_path / "final.csv"
    _write(path, _final_row(train_err_mean=float("nan"), test_err_lo=float("nan")))
    read_table(path, "final")  # an estimate or a bound left empty is no contradiction
    # well typed, but the lower bound above the mean: the figure's error bar would be negative
    _write(path, pd.concat([_final_row(), _final_row(train_err_lo=0.25)]))
    with pytest.raises(ValueError) as error:
        read_table(path, "final")
    assert str(error.value) == (
        f"{path}: row 2 (line 3): train_err_mean '0.2' lies outside its interval "
        "[train_err_lo '0.25', train_err_hi '0.3']"
    )


def _results(folder, lr=0.1, seconds=1.0):
    (folder / "runs/plain-8/seed0").mkdir(parents=True)
    (folder / "tables").mkdir()
    (folder / "logs").mkdir()
    metrics = pd.DataFrame(
        {"epoch": [1, 2], "lr": [lr, 0.05], "train_err": [0.5, float("nan")], "seconds": seconds}
    )
    metrics.to_csv(folder / "runs/plain-8/seed0/metrics.csv", index=False)
    pd.DataFrame({"arch": ["plain"], "train_seconds": [seconds]}).to_csv(
        folder / "tables/runs.csv", index=False
    )
    (folder / "logs/train.csv").write_text(f"t\n{seconds}\n")
    return folder


def test_two_results_folders_compare_cell_for_cell_without_their_timings(tmp_path, capsys):
    from resnet_essence.tables.compare import compare, main

    before = _results(tmp_path / "a")
    after = _results(tmp_path / "b", seconds=9.0)  # only the clock differs (and the logs)
    found = compare(before, after)
    assert found.same and sorted(found.equal) == [
        "runs/plain-8/seed0/metrics.csv",
        "tables/runs.csv",
    ]
    assert main([str(before), str(after)]) == 0
    assert "2 of 2 CSV files equal" in capsys.readouterr().out

    moved = _results(tmp_path / "c", lr=0.2)
    (moved / "tables/extra.csv").write_text("x\n1\n")
    found = compare(before, moved)
    assert found.differ == {"runs/plain-8/seed0/metrics.csv": ["lr"]}
    assert found.only_in_one == ["tables/extra.csv"] and not found.same
    assert main([str(before), str(moved)]) == 1
    out = capsys.readouterr().out
    assert "differs: runs/plain-8/seed0/metrics.csv: lr" in out
    assert "only in one folder: tables/extra.csv" in out and "1 of 3 CSV files equal" in out
    pd.DataFrame({"arch": ["plain", "plain"]}).to_csv(moved / "tables/runs.csv", index=False)
    assert compare(before, moved).differ["tables/runs.csv"] == ["rows 1 and 2"]
    with pytest.raises(SystemExit):
        main([str(before), str(tmp_path / "nowhere")])
