"""The CRF's dated locoregional course (locoregional progression, the first unplanned local
therapy): the generator's hazards, its own random stream, the data cut, and the figure.

* the cause-specific hazard of locoregional progression in each arm, estimated as events per
  month at risk in a large simulated study, equals the scenario's (arm A: -ln(1 - p_A)/36; arm B:
  -ln(1 - p_B)/36 plus the hazard of arm-B surgery for local progression, an independent
  exponential whose operation is a progression too) within 3.5 Poisson SEs;
* changing the locoregional parameters changes no other column (their own random stream);
* trialnb.analysis.cut_at keeps a dated event only if it happened by the cut-off;
* plots.cif_plot draws the event and death-first curves of both arms.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from trialnb import analysis as an  # noqa: E402
from trialnb.data import load_trial  # noqa: E402
from trialnb.plots import cif_plot  # noqa: E402
from trialnb.simulation import SCENARIOS, simulate_trial  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ("unplanned_local_therapies", "unplanned_local_therapy_month", "locoregional_progression_month")


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return simulate_trial(replace(SCENARIOS["protocol"], n_patients=2000), seed=5)


def test_progression_hazard_by_arm_is_the_scenarios(big: pd.DataFrame) -> None:
    s = SCENARIOS["protocol"]
    expected = {"A": -math.log(1 - s.p_locoregional_progression_3y_a) / 36,
                "B": -math.log(1 - s.p_locoregional_progression_3y_b) / 36
                + -math.log(1 - s.p_local_progression_surgery_b_2y) / 24}
    for arm, rate in expected.items():
        g = big[big["arm"] == arm]
        m = g["locoregional_progression_month"]
        events = int(m.notna().sum())
        at_risk = float(m.fillna(g["os_months"]).sum())
        est = events / at_risk
        assert abs(est - rate) <= 3.5 * math.sqrt(events) / at_risk, (arm, est, rate)


def test_dated_events_are_consistent_with_the_count_and_follow_up(big: pd.DataFrame) -> None:
    m = big["unplanned_local_therapy_month"]
    assert (m.notna() == (big["unplanned_local_therapies"] >= 1)).all()
    assert (m.dropna() <= big.loc[m.notna(), "os_months"] + 1e-9).all()
    lrp = big["locoregional_progression_month"]
    assert (lrp.dropna() <= big.loc[lrp.notna(), "os_months"] + 1e-9).all()
    b_op = (big["arm"] == "B") & (big["operated"] == 1)
    assert (m[b_op] <= big.loc[b_op, "surgery_month"] + 1e-9).all()  # an arm-B operation is unplanned


def test_the_local_course_has_its_own_random_stream() -> None:
    base = SCENARIOS["protocol"]
    other = replace(base, p_locoregional_progression_3y_a=0.4, p_locoregional_progression_3y_b=0.1,
                    p_local_therapy_after_progression=0.9, local_therapy_delay_months=(1.0, 3.0))
    a, b = simulate_trial(base, 20201120), simulate_trial(other, 20201120)
    rest = [c for c in a.columns if c not in LOCAL]
    pd.testing.assert_frame_equal(a[rest], b[rest])
    assert not a[list(LOCAL)].equals(b[list(LOCAL)])


@pytest.mark.parametrize("c", [18.0, 29.75, 41.3])
def test_cut_keeps_a_dated_event_only_if_it_happened_by_the_cut(c: float) -> None:
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    cut = an.cut_at(df, c)
    orig = df.set_index("patient_id").loc[cut["patient_id"]]
    fu = np.round(c - orig["entry_month"].to_numpy(), 2)
    for col in an.DATED_FIELDS:
        m = orig[col].to_numpy(float)
        want = np.where(m <= fu + 1e-9, m, np.nan)
        np.testing.assert_array_equal(cut[col].to_numpy(float), want)
        assert (cut[col].dropna() <= cut.loc[cut[col].notna(), "os_months"] + 1e-9).all()
    assert cut["unplanned_local_therapies"].isna().all()  # the count is not dated: unknown at an interim


def test_cif_plot_draws_event_and_death_curves_for_both_arms() -> None:
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    res = an.competing_risks(df, "locoregional_progression")
    ax = cif_plot(res)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert labels == ["Arm A: locoregional progression", "Arm A: death first", "Arm B: locoregional progression",
                      "Arm B: death first"]
    for line in ax.get_lines()[:4]:
        y = line.get_ydata()
        assert np.all(np.diff(y) >= 0) and y[0] == 0  # a cumulative incidence starts at 0 and never falls
    assert ax.get_ylabel() == "Cumulative incidence"
    plt.close(ax.figure)
