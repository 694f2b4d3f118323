"""The CRF-level generator (``trialnb.simulation.CRFScenario``, ``simulate_study``,
``simulate_trial``, ``simulate_screening``): one synthetic trial in the CRF schema.

``CRFScenario`` is the plan's design (``trialnb.plan.DesignAssumptions``: the same fields, names
and defaults) extended with what a CRF needs. Checked: the calibration of the control arm's
survival against an independent numerical integration over age; screening against the
eligibility rules; allocation as a parameter (never mutated; minimization by default); every CRF
rule on every patient; the written files through the validating loader (hypothesis over seeds);
common random numbers across scenarios; the design's horizon honoured; a large trial recovers
its scenario. ``tests/test_data.py`` holds that ``trialnb build-data`` regenerates the shipped
``data/`` byte for byte.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from trialnb import analysis as an
from trialnb.data import DATA_CUTOFF_MONTH, QOL_SCHEMA, QOL_VISITS, TRIAL_SCHEMA, load_qol, load_trial
from trialnb.eligibility import screen
from trialnb.plan import PLAN, DesignAssumptions
from trialnb.simulation import SCENARIOS, CRFScenario, simulate_screening, simulate_study, simulate_trial
from trialnb.simulation.crf import DESIGN_FIELDS, baseline_cumulative_hazard, control_survival, format_table
from trialnb.survival import survival_at


@dataclass
class _Assignment:
    arm: str


class Alternating:
    """Tiny stand-in allocation procedure: A, B, A, B, ... (stateful, like a real procedure)."""

    def __init__(self) -> None:
        self.n = 0

    def assign(self, patient, rng):  # noqa: ANN001
        assert set(patient) == {"dominant_site", "hormone_receptor", "her2"}
        assert isinstance(rng, np.random.Generator)
        self.n += 1
        return _Assignment("A" if self.n % 2 == 1 else "B")


class CoinFlip:
    def assign(self, patient, rng):  # noqa: ANN001
        return _Assignment("A" if rng.random() < 0.5 else "B")


SMALL = replace(SCENARIOS["protocol"], n_patients=60)


# ---------------------------------------------------------------------------- the scenario
def test_the_scenario_is_the_plan_design_extended() -> None:
    s = SCENARIOS["protocol"]
    assert isinstance(s, DesignAssumptions) and CRFScenario() == s
    assert DESIGN_FIELDS == {f.name for f in fields(DesignAssumptions)}
    for name in DESIGN_FIELDS:  # the same names and defaults as the plan's design
        assert getattr(s, name) == getattr(PLAN.design, name), name
    assert s.differences(PLAN.design) == {}
    assert (s.n_patients, s.accrual_months, s.cutoff_month) == (236, 36.0, 60.0)
    assert s.control_survival == pytest.approx(math.exp(-0.5), rel=1e-15) and s.dropout_probability == 0.10
    assert all(sc.cutoff_month == DATA_CUTOFF_MONTH for sc in SCENARIOS.values())  # the validator's default
    assert s.site_probs == (0.45, 0.10, 0.45) and s.p_hr_positive == 0.75
    assert s.p_her2_positive == 0.25 and s.p_ecog2 == 0.10
    assert (s.hr_visceral, s.hr_soft_tissue, s.hr_hr_negative, s.hr_her2_positive) == (1.6, 1.1, 2.0, 0.8)
    assert [SCENARIOS[n].hazard_ratio for n in ("protocol", "null", "realistic")] == [0.5, 1.0, 0.9]
    table = s.table().set_index("parameter")["value"]
    assert table["hazard_ratio"] == "0.5" and table["cutoff_month"] == "60.0"


@pytest.mark.parametrize("change, name", [
    ({"n_patients": 1}, "n_patients"), ({"control_survival": 1.2}, "control_survival"),
    ({"hazard_ratio": 0.0}, "hazard_ratio"), ({"p_soft_tissue": 0.6, "p_visceral": 0.5}, "p_soft_tissue"),
    ({"p_no_consent": -0.1}, "p_no_consent"), ({"surgery_window": (8.0, 3.0)}, "surgery_window"),
    ({"age_min": 10.0}, "age_min"), ({"accrual_months": float("nan")}, "accrual_months"),
    ({"weibull_shape": 0.0}, "weibull_shape"), ({"qol_attendance": 1.5}, "qol_attendance"),
    ({"p_progression_arm_a": 0.0}, "p_progression_arm_a"),
    ({"non_compliance": 0.2}, "non_compliance"), ({"effect_delay_months": 6.0}, "effect_delay_months"),
])
def test_invalid_scenarios_name_the_argument(change: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        CRFScenario(**change)


def test_simulate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="scenario must be a CRFScenario"):
        simulate_trial("protocol", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scenario must be a CRFScenario"):
        simulate_study(PLAN.design, 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        simulate_trial(SMALL, -1, Alternating())
    with pytest.raises(ValueError, match="allocator must have an assign"):
        simulate_trial(SMALL, 1, object())  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- calibration
def test_calibration_without_prognostic_effects_is_closed_form() -> None:
    flat = replace(SCENARIOS["protocol"], hr_visceral=1.0, hr_soft_tissue=1.0, hr_hr_negative=1.0,
                   hr_her2_positive=1.0, hr_age_per_decade_above_50=1.0, hr_ecog2=1.0)
    assert baseline_cumulative_hazard(flat) == pytest.approx(0.5, rel=1e-12)


def test_calibration_matches_independent_numerical_integration() -> None:
    """Re-derive S_B(24) by integrating over a *continuous* truncated-normal age (scipy.quad).

    The generator rounds age to whole years, so the two differ only by that rounding (< 1e-3).
    """
    s = SCENARIOS["protocol"]
    lam = baseline_cumulative_hazard(s)
    target = math.exp(-0.5)
    assert control_survival(s, lam) == pytest.approx(target, abs=1e-12)
    a, b = (s.age_min - s.age_mean) / s.age_sd, (s.age_max - s.age_mean) / s.age_sd
    age = stats.truncnorm(a, b, loc=s.age_mean, scale=s.age_sd)
    total = 0.0
    for ps, hs in ((0.45, 1.0), (0.10, 1.1), (0.45, 1.6)):
        for pr, hr_r in ((0.75, 1.0), (0.25, 2.0)):
            for ph, hr_h in ((0.25, 0.8), (0.75, 1.0)):
                for pe, hr_e in ((0.10, 1.7), (0.90, 1.0)):
                    f = lambda x: age.pdf(x) * math.exp(-lam * hs * hr_r * hr_h * hr_e * 1.1 ** (max(x - 50, 0) / 10))  # noqa: E731,B023
                    total += ps * pr * ph * pe * integrate.quad(f, s.age_min, s.age_max, points=[50])[0]
    assert total == pytest.approx(target, abs=1e-3)


# ---------------------------------------------------------------------------- seeds and allocation
def test_same_seed_same_data_different_seed_different_data() -> None:
    a = simulate_study(SMALL, 7, Alternating())
    b = simulate_study(SMALL, 7, Alternating())
    pd.testing.assert_frame_equal(a.trial, b.trial)
    pd.testing.assert_frame_equal(a.screening, b.screening)
    pd.testing.assert_frame_equal(a.qol, b.qol)
    c = simulate_trial(SMALL, 8, Alternating())
    assert not a.trial["os_months"].equals(c["os_months"])


def test_allocator_is_a_parameter_and_is_not_mutated() -> None:
    alloc = Alternating()
    df = simulate_trial(SMALL, 3, alloc)
    assert alloc.n == 0  # deep-copied
    assert df["arm"].tolist() == ["A", "B"] * 30
    df2 = simulate_trial(SMALL, 3, CoinFlip())
    assert df2["arm"].tolist() != df["arm"].tolist()
    # allocation uses its own random stream: baseline factors do not depend on the procedure
    cols = ["patient_id", "dominant_site", "age"]
    pd.testing.assert_frame_equal(df[cols], df2[cols])


def test_default_allocator_is_the_designs() -> None:
    df = simulate_trial(SCENARIOS["protocol"], 11)  # minimization with p = 0.8
    assert abs((df["arm"] == "A").sum() - (df["arm"] == "B").sum()) <= 4
    for f in ("dominant_site", "hormone_receptor", "her2"):
        tab = pd.crosstab(df[f], df["arm"])
        assert (tab["A"] - tab["B"]).abs().max() <= 4, f
    blocks = simulate_trial(replace(SMALL, allocation="blocks"), 11)
    signs = np.where(blocks["arm"] == "A", 1, -1)
    assert signs.sum() == 0 and np.abs(np.cumsum(signs)).max() <= 2  # balanced in every block of 4
    coin = simulate_trial(replace(SCENARIOS["protocol"], allocation="complete"), 11)
    mini = pd.crosstab(df["dominant_site"], df["arm"])
    assert (pd.crosstab(coin["dominant_site"], coin["arm"]).eval("A - B").abs().max()
            > (mini["A"] - mini["B"]).abs().max())


def test_bad_allocator_output_is_reported() -> None:
    class Bad:
        def assign(self, patient, rng):  # noqa: ANN001
            return _Assignment("C")

    with pytest.raises(ValueError, match="allocator returned arm 'C'"):
        simulate_trial(SMALL, 1, Bad())


# ---------------------------------------------------------------------------- the CRF
def test_screening_log_is_consistent_with_eligibility_rules() -> None:
    scr = simulate_screening(SMALL, 5)
    assert scr["eligible"].sum() == SMALL.n_patients
    assert scr["referral_month"].is_monotonic_increasing
    assert scr["referral_month"].between(0, SMALL.accrual_months).all()
    bools = ["metastatic_at_diagnosis", "histology_confirmed", "t4_resectable", "fit_for_treatment",
             "informed_consent", "prior_invasive_breast_cancer", "other_malignancy_10y",
             "prior_breast_local_treatment", "bilateral_synchronous"]
    for _, r in scr.iterrows():
        rec = {k: (bool(r[k]) if k in bools else r[k]) for k in r.index}
        rec["age"], rec["anticipated_survival_months"] = int(r["age"]), int(r["anticipated_survival_months"])
        res = screen(rec)
        assert res.eligible == bool(r["eligible"])
        stored = r["failed_criteria"] if isinstance(r["failed_criteria"], str) else None
        assert (";".join(res.failed) or None) == stored
        assert (r["patient_id"] is not None) == res.eligible
    assert (scr["eligible"] == 0).sum() > 0  # some referred patients are excluded


def test_trial_rows_are_randomized_screened_patients_in_entry_order() -> None:
    st_ = simulate_study(SMALL, 5, Alternating())
    scr = st_.screening.set_index("screening_id")
    tr = st_.trial
    assert tr["entry_month"].is_monotonic_increasing and len(tr) == SMALL.n_patients
    for _, r in tr.iterrows():
        s = scr.loc[r["screening_id"]]
        assert s["patient_id"] == r["patient_id"] and s["eligible"] == 1
        assert (s["age"], s["dominant_site"], s["hormone_receptor"], s["her2"]) == \
            (r["age"], r["dominant_site"], r["hormone_receptor"], r["her2"])


def test_written_csv_round_trips_through_the_validator(tmp_path: Path) -> None:
    st_ = simulate_study(replace(SMALL, n_patients=120), 9, Alternating())
    p = tmp_path / "t.csv"
    format_table(st_.trial, TRIAL_SCHEMA).to_csv(p, index=False)
    back = load_trial(p).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, st_.trial, check_dtype=False)


def test_crf_rules_hold_for_every_patient() -> None:
    df = simulate_trial(replace(SMALL, n_patients=200), 21, Alternating())
    assert ((df["entry_month"] + df["os_months"]) <= 60 + 1e-9).all()
    assert not ((df["death"] == 1) & (df["lost_to_follow_up"] == 1)).any()
    op = df[df["operated"] == 1]
    assert (op["surgery_month"] <= op["os_months"]).all()
    assert op["margin_status"].notna().all() and df.loc[df["operated"] == 0, "margin_status"].isna().all()
    a = df[df["arm"] == "A"]
    assert ((a["operated"] == 1) | a["not_operated_reason"].notna()).all()
    assert set(df.loc[df["arm"] == "B", "surgery_reason"].dropna()) <= {"local_progression", "patient_request"}
    assert (df.loc[df["axillary_dissection"] == 1, "operated"] == 1).all()


def test_qol_visits_only_while_alive_and_on_the_scale() -> None:
    st_ = simulate_study(SMALL, 4, Alternating())
    q = st_.qol.merge(st_.trial[["patient_id", "os_months"]], on="patient_id")
    assert (q["visit_month"] <= q["os_months"]).all()
    assert set(q["visit_month"]) <= set(QOL_VISITS)
    steps = q["qol_score"] / (100 / 12)
    assert np.allclose(steps, np.round(steps), atol=0.01) and q["qol_score"].between(0, 100).all()
    assert (q["visit_month"] == 0).sum() == SMALL.n_patients  # baseline always recorded


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), hr=st.sampled_from([0.5, 1.0, 1.5]))
def test_property_any_seed_gives_valid_crf_data(tmp_path_factory, seed: int, hr: float) -> None:
    s = replace(SCENARIOS["protocol"], n_patients=30, hazard_ratio=hr)
    st_ = simulate_study(s, seed, CoinFlip())
    d = tmp_path_factory.mktemp("p")
    format_table(st_.trial, TRIAL_SCHEMA).to_csv(d / "t.csv", index=False)
    df = load_trial(d / "t.csv")  # raises if any CRF rule is broken
    format_table(st_.qol, QOL_SCHEMA).to_csv(d / "q.csv", index=False)
    load_qol(d / "q.csv", set(df["patient_id"]))


def test_common_random_numbers_across_scenarios() -> None:
    a = simulate_trial(SMALL, 3, Alternating())
    b = simulate_trial(replace(SMALL, hazard_ratio=1.0), 3, Alternating())
    pd.testing.assert_frame_equal(a[["patient_id", "arm", "age"]], b[["patient_id", "arm", "age"]])
    # arm B outcomes do not depend on the treatment effect
    pd.testing.assert_series_equal(a.loc[a["arm"] == "B", "os_months"], b.loc[b["arm"] == "B", "os_months"])
    assert copy.deepcopy(SMALL) == SMALL


# ---------------------------------------------------------------------------- the model, recovered
def test_the_design_horizon_is_honoured() -> None:
    """control_survival and dropout_probability are the design's at horizon_months: with a 36-month
    horizon, arm B's Kaplan-Meier survival at 36 months (not 24) is the target, within 4 SEs."""
    s = replace(SCENARIOS["null"], n_patients=2000, horizon_months=36.0, control_survival=0.5,
                dropout_probability=0.2, p_no_consent=0.0)
    st_ = simulate_study(s, 12, CoinFlip())
    df = st_.trial
    assert st_.truth["control_survival"] == pytest.approx(0.5, abs=1e-12)
    assert control_survival(s, st_.truth["baseline_cumulative_hazard_24m"], t=36.0) == pytest.approx(0.5, abs=1e-12)
    sv, se = survival_at(df["os_months"].to_numpy(float), df["death"].to_numpy(int), 36.0)
    assert abs(sv - 0.5) < 4 * se
    sv24, _ = survival_at(df["os_months"].to_numpy(float), df["death"].to_numpy(int), 24.0)
    assert sv24 > 0.5 + 4 * se
    t_loss = np.where(df["lost_to_follow_up"] == 1, df["os_months"], np.inf)
    lost = (t_loss <= 36).mean()
    assert 0.08 < lost < 0.2  # 20% by 36 months among those still alive, fewer overall


@pytest.mark.slow
def test_large_trial_recovers_the_scenario() -> None:
    """n = 4,000, alternating allocation: arm B's 2-year survival, the primary analysis's HR, the
    factor frequencies, arm A's non-operation and the 10% drop-out by 2 years."""
    s = replace(SCENARIOS["protocol"], n_patients=4000)
    st_ = simulate_study(s, 2024, Alternating())
    df = st_.trial
    b = df[df["arm"] == "B"]
    s24, se24 = survival_at(b["os_months"].to_numpy(float), b["death"].to_numpy(int), 24.0)
    assert abs(s24 - math.exp(-0.5)) < 4 * se24
    from lifelines import KaplanMeierFitter  # what a trainee would write: the same number

    km = KaplanMeierFitter().fit(b["os_months"], b["death"])
    assert float(km.survival_function_at_times(24.0).iloc[0]) == pytest.approx(s24, rel=1e-12)
    res = an.primary(df)
    # the fitted conditional HR estimates the scenario's 0.5 (the model's covariates are the true
    # prognostic factors except age and ECOG, which attenuate it slightly towards 1)
    assert 0.42 < res.hazard_ratio < 0.58
    freq = df["dominant_site"].value_counts(normalize=True)
    assert abs(freq["visceral"] - 0.45) < 0.03 and abs(freq["soft_tissue"] - 0.10) < 0.02
    assert abs((df["hormone_receptor"] == "positive").mean() - 0.75) < 0.03
    assert abs((df["ecog"] == 2).mean() - 0.10) < 0.02
    a = df[df["arm"] == "A"]
    # progression is drawn for every arm A patient (25%); those who die before the planned
    # surgery are recorded as "died", so "progression" alone is below 25% and with "died" above
    prog = (a["not_operated_reason"] == "progression").mean()
    prog_or_died = a["not_operated_reason"].isin(["progression", "died"]).mean()
    assert 0.15 < prog < 0.25 < prog_or_died < 0.32
    # drop-out: 10% by 2 years among the patients still alive; deaths remove some first
    lost_by_24 = ((df["lost_to_follow_up"] == 1) & (df["os_months"] <= 24)).mean()
    assert 0.06 < lost_by_24 < 0.10
    assert st_.truth["control_survival"] == pytest.approx(math.exp(-0.5), abs=1e-12)
