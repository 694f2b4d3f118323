"""The tipping-point (delta-adjusted multiple-imputation) analysis of the patients lost to
follow-up (``trialnb.analysis.tipping_point``) and its figure.

What holds it: at delta = 1 (MAR) the pooled estimates reproduce the ordinary analyses, which
assume non-informative censoring, within the multiple-imputation error; the estimates move
monotonically with each arm's delta (common random numbers); the best and worst cases (delta 0
and infinity) make the imputation deterministic, so the pooled result is the single analysis of
the data written out by hand; Rubin's total variance is W + (1 + 1/M) B; bad input is refused
with a named error.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from trialnb import analysis as an
from trialnb.data import load_trial
from trialnb.errors import TrialAnalysisError
from trialnb.plan import PLAN

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
M = 20


@pytest.fixture(scope="module")
def protocol() -> pd.DataFrame:
    return load_trial(ROOT / "data" / "trial_protocol.csv")


@pytest.fixture(scope="module")
def grid(protocol: pd.DataFrame) -> an.TippingPointResult:
    return an.tipping_point(protocol, deltas_a=(0.0, 0.5, 1.0, 3.0, math.inf), deltas_b=(0.0, 1.0, 3.0, math.inf),
                            n_imputations=M, seed=7)


def test_mar_cell_reproduces_the_ordinary_analyses(protocol: pd.DataFrame, grid: an.TippingPointResult) -> None:
    observed = {"primary": an.primary(protocol).log_hr, "milestone": an.milestone(protocol).difference,
                "standardized": an.standardized_milestone(protocol).difference}
    for name, value in observed.items():
        c = grid.cell(name)
        mi_error = math.sqrt(c["between"] / M)
        assert abs(c["estimate"] - value) < 3.5 * mi_error + 1e-3, name
        assert c["se"] == pytest.approx(math.sqrt(c["within"] + (1 + 1 / M) * c["between"]), rel=1e-12)
        assert 0 < c["between"] < c["within"]
    assert grid.lost == {"A": 7, "B": 9}
    lost = (protocol["lost_to_follow_up"] == 1) & (protocol["death"] == 0) & (protocol["os_months"] < 24)
    assert grid.lost == {k: int((lost & (protocol["arm"] == k)).sum()) for k in ("A", "B")}


def test_monotone_in_each_arms_delta(grid: an.TippingPointResult) -> None:
    for name, sign in (("primary", 1), ("milestone", -1), ("standardized", -1)):
        est = grid.table(name, "estimate").to_numpy()
        # worse fate of arm A's lost patients (delta_a up, columns) moves the estimate against arm A
        assert np.all(sign * np.diff(est, axis=1) >= -1e-12), name
        assert np.all(sign * np.diff(est, axis=0) <= 1e-12), name


def test_best_and_worst_cases_are_the_analysis_of_the_data_written_out(protocol: pd.DataFrame,
                                                                     grid: an.TippingPointResult) -> None:
    """delta_a = infinity, delta_b = 0: every lost arm-A patient dies at her loss, every lost
    arm-B patient is alive at 24 months; no randomness is left (B = 0)."""
    d = an.primary_data(protocol).copy()
    lost = (d["lost_to_follow_up"] == 1) & (d["death"] == 0) & (d["os_months"] < 24)
    d.loc[lost & (d["arm"] == "A"), "death"] = 1
    d.loc[lost & (d["arm"] == "B"), "os_months"] = 24.0
    c = grid.cell("primary", math.inf, 0.0)
    ref = an.primary(d)
    assert c["between"] == pytest.approx(0.0, abs=1e-20) and math.isinf(c["df"])
    assert c["estimate"] == pytest.approx(ref.log_hr, rel=1e-9)
    assert c["se"] == pytest.approx(ref.se, rel=1e-9)
    assert c["p_value"] == pytest.approx(ref.p_value, rel=1e-6)
    ms = an.milestone(d)
    assert grid.cell("milestone", math.inf, 0.0)["estimate"] == pytest.approx(ms.difference, rel=1e-12)
    assert grid.cell("milestone", math.inf, 0.0)["se"] == pytest.approx(ms.diff_se, rel=1e-9)


def test_tipping_points_and_conclusions(grid: an.TippingPointResult) -> None:
    tp = grid.tipping_points("milestone")
    assert list(tp.index) == [0.0, 1.0, 3.0, math.inf]
    conc = grid.table("milestone", "conclusion")
    mar = grid.cell("milestone")["conclusion"]
    assert mar == "benefit"
    for db, row in tp.iterrows():
        up = row["delta_a above 1 that changes it"]
        changed = [da for da in conc.columns if da > 1 and conc.loc[db, da] != mar]
        assert (math.isnan(up) and not changed) or up == min(changed)
    for _, r in grid.grid.iterrows():
        rejects = r["p_value"] <= PLAN.analysis.alpha
        assert (r["conclusion"] != "none") == rejects
    assert "tipping points" in grid.summary() and "<table" in grid._repr_html_()
    with pytest.raises(TrialAnalysisError, match="no cell"):
        grid.cell("primary", 2.0, 1.0)


def test_reproducible_and_no_lost_patients(protocol: pd.DataFrame) -> None:
    small = dict(deltas_a=(1.0, 4.0), deltas_b=(1.0,), n_imputations=5, seed=3)
    a, b = an.tipping_point(protocol, **small), an.tipping_point(protocol, **small)
    pd.testing.assert_frame_equal(a.grid, b.grid)
    none_lost = protocol.assign(lost_to_follow_up=0)
    r = an.tipping_point(none_lost, **small)
    assert r.lost == {"A": 0, "B": 0}
    prim = r.grid[r.grid["analysis"] == "primary"]
    assert np.allclose(prim["estimate"], an.primary(protocol).log_hr) and np.allclose(prim["between"], 0.0)


def test_plan_statistic_and_bad_input(protocol: pd.DataFrame) -> None:
    lr = an.tipping_point(protocol, deltas_a=(1.0,), deltas_b=(1.0,), n_imputations=5,
                          plan=PLAN.with_changes(statistic="logrank"))
    assert lr.statistic == "logrank"
    assert lr.cell("primary")["estimate"] == pytest.approx(an.primary(protocol, PLAN.with_changes(
        statistic="logrank")).log_hr, abs=0.05)
    with pytest.raises(TrialAnalysisError, match="hazard multipliers"):
        an.tipping_point(protocol, deltas_a=(-1.0,))
    with pytest.raises(TrialAnalysisError, match="hazard multipliers"):
        an.tipping_point(protocol, deltas_b=())
    with pytest.raises(TrialAnalysisError, match="n_imputations"):
        an.tipping_point(protocol, n_imputations=1)
    with pytest.raises(TrialAnalysisError, match="horizon"):
        an.tipping_point(protocol, plan=PLAN.with_changes(censor_months=None))
    with pytest.raises(TrialAnalysisError, match="cuts"):
        an.tipping_point(protocol, cuts=(0.0, 30.0))
    with pytest.raises(TrialAnalysisError, match="lost_to_follow_up"):
        an.tipping_point(an.cut_at(protocol, 40.0))
    with pytest.raises(TrialAnalysisError):
        an.tipping_point(protocol.drop(columns="lost_to_follow_up"))


def test_heatmap(grid: an.TippingPointResult) -> None:
    from trialnb.plots import tipping_point_heatmap

    ax = tipping_point_heatmap(grid, "primary")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 20 and any("p" in t for t in texts)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("0") and "MAR" in labels[2] and "all die" in labels[-1]
    with pytest.raises(TrialAnalysisError, match="analysis must be one of"):
        grid.table("cox")
