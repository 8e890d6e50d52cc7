"""The explanation family in the report: the intervention nets' table, the chain paragraph and
the figure, from synthetic runs (tests/test_claims.py builds them)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from test_claims import RULES, _all, _grid
from test_claims_interventions import ALPHAS, NONLINEAR, ZEROS, _by_depth

from resnet_essence.claims import CONTRADICTED, INCONCLUSIVE, NEGLIGIBLE, SUPPORTED
from resnet_essence.claims.grid import Grid
from resnet_essence.report.figure import clipped_labels
from resnet_essence.report.interventions import (
    chain_paragraph,
    has_interventions,
    intervention_figure,
    intervention_rows,
    intervention_table,
)

ARCHS = tuple(dict.fromkeys(ZEROS + ALPHAS + NONLINEAR))


def _rows(**kwargs) -> pd.DataFrame:
    runs, epochs, net = _grid(archs=ARCHS, **kwargs)
    return intervention_rows(Grid(runs, epochs, net, RULES))


def test_a_run_has_interventions_when_a_net_is_not_one_of_the_three():
    assert not has_interventions(["plain", "residual", "preact"])
    assert has_interventions(["plain", "plain-leaky0.2"])


def test_each_net_has_what_was_changed_its_alpha_and_its_measures():
    rows = _rows(train=_by_depth("plain-elu", 0.2), stats=_all("signal_norm_slope", "plain", -1.5))
    assert len(rows) == len(ARCHS) * 3  # three depths
    at = rows.set_index(["arch", "depth"])
    assert at.loc[("plain-elu", 56), "changed"] == "ELU"
    assert at.loc[("residual-a0.5", 56), "changed"] == "shortcut x 0.5"
    assert at.loc[("preact-reluid", 56), "changed"] == "ReLU on the shortcut"
    assert at.loc[("plain", 56), "alpha"] == 0 and at.loc[("residual", 56), "alpha"] == 1
    assert at.loc[("plain-elu", 56), "train_err_mean"] == pytest.approx(0.2, abs=0.01)
    assert at.loc[("plain", 56), "slope_init_mean"] == pytest.approx(1.5, abs=0.02)  # |slope|
    lo, hi = at.loc[("plain-elu", 56), ["train_err_lo", "train_err_hi"]]
    assert lo < 0.2 < hi
    table = intervention_table(rows, {"speed_train_err": 0.1})
    assert list(table.columns)[:2] == ["net", "changed"] and "plain-elu-56" in set(table["net"])


def _claims(verdicts: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"family": "explanation", "claim_id": claim, "verdict": verdict}
        for claim, found in verdicts.items()
        for verdict in found
    ]
    return pd.DataFrame(rows)


def test_the_chain_paragraph_reads_each_link_by_the_majority_of_its_decisive_rows():
    claims = _claims(
        {
            "Z1": [SUPPORTED, SUPPORTED],
            "Z3": [CONTRADICTED, INCONCLUSIVE],
            "I1": [NEGLIGIBLE, NEGLIGIBLE],
            "I2": [SUPPORTED],
            "R1": [SUPPORTED, CONTRADICTED],
        }
    )
    text = chain_paragraph(claims)
    zeros, identity, linear = text.split(". *")
    assert "**supported**" in zeros and "4 rows, 3 decisive (2 supported, 1 contradicted)" in zeros
    assert "**not what matters here**" in identity
    assert "**open**" in linear  # one for, one against: no majority
    assert chain_paragraph(_claims({"Z1": [INCONCLUSIVE]})).count("**open**") == 1


def test_the_figure_draws_every_panel_from_the_data():
    rows = _rows()
    fig = intervention_figure(rows)
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes:
        assert ax.lines or ax.collections, ax.get_title()  # no empty panel
    labels = [t.get_text() for t in axes[1].get_xticklabels()]
    assert labels == [
        "plain, relu",
        "plain, elu",
        "plain, leaky0.2",
        "preact",
        "preact-reluid",
    ]
    assert not clipped_labels(fig)  # every title and label inside the canvas
    assert axes[0].get_ylim()[0] == 0  # errors on a scale that starts at none
    plt.close(fig)
