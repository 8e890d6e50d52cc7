"""The published runs (docs/example*/) agree with the code: each claims table recomputes from
the tables published beside it, and the README's headline table is the confirmatory run's."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from conftest import ROOT

from resnet_essence.report.cells import markdown_table
from resnet_essence.report.published import main, recompute
from resnet_essence.report.verdicts import headline_table

PUBLISHED = sorted(p.parent.parent for p in (ROOT / "docs").glob("example*/tables/runs.csv"))


def test_the_three_published_runs_carry_their_tables():
    names = {p.name for p in PUBLISHED}
    assert {"example", "example-confirm", "example-no-batchnorm"} <= names


@pytest.mark.parametrize("run", PUBLISHED, ids=lambda p: p.name)
def test_a_published_claims_table_recomputes_from_its_tables(run):
    again = pd.read_csv(io.StringIO(recompute(run).to_csv(index=False)), dtype={"claim_id": str})
    published = pd.read_csv(run / "claims.csv", dtype={"claim_id": str})
    pd.testing.assert_frame_equal(again, published)


def test_the_readmes_headline_table_is_the_confirmatory_runs(capsys):
    run = ROOT / "docs" / "example-confirm"
    table = markdown_table(headline_table(pd.read_csv(run / "claims.csv", dtype={"claim_id": str})))
    assert table in (ROOT / "README.md").read_text(encoding="utf-8")
    assert main([str(run), "--headline"]) == 0
    assert table in capsys.readouterr().out


def test_a_published_run_without_its_tables_is_named(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    assert "runs.csv" in capsys.readouterr().err


def test_the_readmes_first_table_is_the_published_runs_side_by_side(capsys, monkeypatch):
    import shlex

    from resnet_essence.report.side_by_side import main as side_by_side_main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = next(
        line for line in readme.splitlines() if line.startswith(".venv/bin/resnet-essence-side")
    )
    monkeypatch.chdir(ROOT)  # the command names the runs' folders from the repository's root
    assert side_by_side_main(shlex.split(command)[1:]) == 0
    printed = capsys.readouterr().out
    table = "\n".join(line for line in printed.splitlines() if line.startswith("|"))
    assert "CIFAR-10" in table.splitlines()[0] and "digits" in table.splitlines()[0]
    first = readme.index("\n|")  # the README's first table is this one, whole
    assert readme[first + 1 :].startswith(table + "\n")
    counts = printed.strip().splitlines()[-1]
    assert counts in readme
