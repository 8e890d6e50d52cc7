"""Claims tables of several runs side by side (side_by_side.py): the cells, the order of the
rows, the family filter, the counts, and the console command."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from resnet_essence.report.side_by_side import (
    agreement_across,
    agreement_line,
    main,
    side_by_side,
    side_by_side_values,
)

NAN = math.nan
COLUMNS = ["family", "claim_id", "setting", "effect", "lo", "hi", "margin", "verdict"]


def claims(*rows) -> pd.DataFrame:
    """A claims table as claims.csv has it, from (family, claim_id, setting, effect, lo, hi,
    margin, verdict) rows."""
    table = pd.DataFrame(rows, columns=COLUMNS)
    table.insert(2, "claim", "a claim")
    table["reason"] = ""
    return table


DIGITS = claims(
    ("essay", "5b", "depth 20", -0.5441, -0.5612, -0.5271, 0.3, "supported"),
    ("essay", "V", "depth 20, epoch 0", -1.0478, -1.0612, -1.0344, 0.3, "contradicted"),
    ("essay", "V", "depth 56, epoch 20", NAN, NAN, NAN, 0.3, "not testable here"),
    ("replication", "7", "depth 20", 0.1, 0.05, 0.15, 0.05, "agrees with the paper"),
    ("check", "C1", "identity", 0.0, NAN, NAN, NAN, "sanity check passed"),
)
CIFAR = claims(
    ("essay", "V", "depth 20, epoch 0", 1.2912, 1.1911, 1.3913, 0.5, "supported"),
    ("replication", "7", "depth >= 32", 0.001, -0.01, 0.012, 0.05, "negligible"),
    ("essay", "5b", "depth 20", -0.8, -0.9, -0.7, 0.3, "supported"),
    ("essay", "5b", "depth 32", -0.2, -0.4, 0.0, 0.3, "inconclusive"),
    ("replication", "7", "depth 20", 0.2, 0.1, 0.3, 0.05, "agrees with the paper"),
)
NO_BN = claims(
    ("essay", "5b", "depth 20", NAN, NAN, NAN, 0.3, "not testable here"),
    ("essay", "V", "depth 56, epoch 20", 0.1, -0.5, 0.7, 0.3, "inconclusive"),
)
TWO = {"digits": DIGITS, "CIFAR-10": CIFAR}


def test_a_decisive_row_shows_its_verdict_in_bold_with_the_effect_and_interval():
    table = side_by_side(TWO)
    row = table[(table["claim_id"] == "5b") & (table["setting"] == "depth 20")].iloc[0]
    assert row["digits"] == "**supported** -0.544 [-0.561, -0.527]"
    assert row["CIFAR-10"] == "**supported** -0.8 [-0.9, -0.7]"


def test_a_not_testable_row_shows_only_its_verdict_and_a_missing_row_a_dash():
    table = side_by_side(TWO)
    row = table[table["setting"] == "depth 56, epoch 20"].iloc[0]
    assert row["digits"] == "**not testable here**"
    assert row["CIFAR-10"] == "–"


def test_rows_follow_the_first_table_then_what_only_later_tables_have_family_by_family():
    table = side_by_side(TWO)
    assert list(table.columns) == ["family", "claim_id", "setting", "margin", "digits", "CIFAR-10"]
    assert table[["family", "claim_id", "setting"]].values.tolist() == [
        ["essay", "5b", "depth 20"],
        ["essay", "V", "depth 20, epoch 0"],
        ["essay", "V", "depth 56, epoch 20"],
        ["essay", "5b", "depth 32"],  # only CIFAR-10 has it: appended after the essay's rows
        ["replication", "7", "depth 20"],
        ["replication", "7", "depth >= 32"],
    ]
    # the margin comes from the first table that has the row (digits 0.3, not CIFAR-10's 0.5)
    assert table["margin"].tolist() == [0.3, 0.3, 0.3, 0.3, 0.05, 0.05]
    assert table["digits"].tolist()[3:] == [
        "–",
        "**agrees with the paper** 0.1 [0.05, 0.15]",
        "–",
    ]
    assert table["CIFAR-10"].tolist()[3] == "**inconclusive** -0.2 [-0.4, 0]"


def test_the_family_filter_keeps_only_the_families_asked_for_in_their_order():
    replication = side_by_side(TWO, families=("replication",))
    assert replication["family"].tolist() == ["replication", "replication"]
    assert replication["setting"].tolist() == ["depth 20", "depth >= 32"]
    check = side_by_side(TWO, families=("check",))
    assert check[["claim_id", "digits", "CIFAR-10"]].values.tolist() == [
        ["C1", "**sanity check passed** 0", "–"]
    ]
    assert side_by_side(TWO, families=("replication", "essay"))["family"].tolist() == (
        ["replication"] * 2 + ["essay"] * 4
    )
    assert side_by_side(TWO, families=()).empty


def test_a_run_cannot_take_the_title_of_a_column():
    with pytest.raises(ValueError, match="margin"):
        side_by_side({"margin": DIGITS})


def test_the_counts_over_rows_two_or_more_tables_share():
    assert agreement_across(TWO) == {
        "runs": 2,
        "rows": 6,
        "shared": 3,  # 5b depth 20, V depth 20 epoch 0, 7 depth 20
        "same": 2,
        "decisive": 3,
        "decisive_differ": 1,  # V depth 20 epoch 0: contradicted on digits, supported on CIFAR-10
    }
    three = {**TWO, "digits, no BatchNorm": NO_BN}
    assert agreement_across(three) == {
        "runs": 3,
        "rows": 6,
        "shared": 4,  # and V depth 56 epoch 20: digits and no BatchNorm
        "same": 1,
        "decisive": 2,
        "decisive_differ": 1,
    }
    assert agreement_across(TWO, families=("check",))["shared"] == 0


def test_the_values_for_a_csv_are_plain_and_machine_readable():
    values = side_by_side_values(TWO)
    assert list(values.columns[:6]) == ["family", "claim_id", "setting", "margin", "digits"] + [
        "digits: verdict"
    ]
    assert values["digits"].tolist()[0] == "supported -0.544 [-0.561, -0.527]"
    assert values["CIFAR-10: effect"].tolist()[:2] == [-0.8, 1.2912]
    assert math.isnan(values["CIFAR-10: effect"].tolist()[2])


def write_run(folder, table):
    folder.mkdir()
    table.to_csv(folder / "claims.csv", index=False)
    return folder


def test_the_command_prints_the_markdown_table_and_the_counts(tmp_path, capsys):
    digits = write_run(tmp_path / "digits-run", DIGITS)
    cifar = write_run(tmp_path / "cifar10", CIFAR)
    assert main([f"digits={digits}", str(cifar)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| family | # | setting | margin | digits | cifar10 |"
    assert lines[2] == (
        "| essay | 5b | depth 20 | 0.3 | **supported** -0.544 [-0.561, -0.527] "
        "| **supported** -0.8 [-0.9, -0.7] |"
    )
    assert lines[7] == (
        "| replication | 7 | depth &gt;= 32 | 0.05 | – | **negligible** 0.001 [-0.01, 0.012] |"
    )
    assert len(lines) == 2 + 6 + 2
    assert lines[-1] == (
        "2 runs, 6 rows; 3 rows in two or more runs, of which 2 have the same verdict in all "
        "and 3 are decisive in all (1 of those with different verdicts)."
    )
    assert lines[-1] == agreement_line(agreement_across({"digits": DIGITS, "cifar10": CIFAR}))


def test_the_command_writes_a_csv_that_reads_back(tmp_path, capsys):
    digits = write_run(tmp_path / "digits", DIGITS)
    cifar = write_run(tmp_path / "cifar", CIFAR)
    out = tmp_path / "out" / "side_by_side.csv"
    assert main([f"digits={digits}", f"CIFAR-10={cifar}", "--out", str(out)]) == 0
    capsys.readouterr()
    back = pd.read_csv(out, dtype={"claim_id": str})
    assert list(back.columns) == [
        "family",
        "claim_id",
        "setting",
        "margin",
        *[
            f"{title}{value}"
            for title in ("digits", "CIFAR-10")
            for value in ("", ": verdict", ": effect", ": lo", ": hi")
        ],
    ]
    assert back["claim_id"].tolist() == ["5b", "V", "V", "5b", "7", "7"]
    assert back["digits: verdict"].fillna("(none)").tolist() == [
        "supported",
        "contradicted",
        "not testable here",
        "(none)",
        "agrees with the paper",
        "(none)",
    ]
    assert back["digits: lo"].tolist()[0] == -0.5612
    assert back["CIFAR-10: hi"].tolist()[1] == 1.3913
    assert back["CIFAR-10"].tolist()[:3] == [
        "supported -0.8 [-0.9, -0.7]",
        "supported 1.29 [1.19, 1.39]",
        "–",
    ]


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("digits={missing}", "'digits={missing}': no such folder '{missing}'"),
        ("{empty}", "the folder '{empty}' has no claims.csv"),
        ("=docs", "malformed argument '=docs': expected TITLE=FOLDER or FOLDER"),
        ("digits=", "malformed argument 'digits=': expected TITLE=FOLDER or FOLDER"),
        ("{broken}", "is not a claims table: it lacks the columns ['verdict']"),
    ],
    ids=["missing folder", "no claims.csv", "no title", "no folder", "not a claims table"],
)
def test_the_command_names_a_bad_argument_and_exits_2(tmp_path, capsys, argument, message):
    folders = {"missing": tmp_path / "nowhere", "empty": tmp_path / "empty"}
    folders["empty"].mkdir()
    folders["broken"] = write_run(tmp_path / "broken", DIGITS.drop(columns="verdict"))
    with pytest.raises(SystemExit) as stop:
        main([argument.format(**folders)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message.format(**folders) in err
    assert "Traceback" not in err


def test_the_command_refuses_a_title_given_twice(tmp_path, capsys):
    first = write_run(tmp_path / "a", DIGITS)
    second = write_run(tmp_path / "b", CIFAR)
    with pytest.raises(SystemExit) as stop:
        main([f"run={first}", f"run={second}"])
    assert stop.value.code == 2
    assert "the title 'run' is given twice" in capsys.readouterr().err
