"""trialnb.simulation: scenarios, calibration, screening, allocation as a parameter, CRF output."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from trialnb.data import QOL_VISITS, TRIAL_SCHEMA, load_qol, load_trial
from trialnb.eligibility import screen
from trialnb.simulation import (
    SCENARIOS,
    TrialScenario,
    baseline_cumulative_hazard,
    control_survival,
    format_table,
    simulate_screening,
    simulate_study,
    simulate_trial,
)


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


SMALL = replace(SCENARIOS["protocol"], n_randomized=60)


def test_named_scenarios_exist_with_their_effects() -> None:
    assert SCENARIOS["protocol"].hazard_ratio == 0.5
    assert SCENARIOS["null"].hazard_ratio == 1.0
    assert 0.87 <= SCENARIOS["realistic"].hazard_ratio <= 0.97
    s = SCENARIOS["protocol"]
    assert (s.n_randomized, s.accrual_months, s.control_survival, s.cutoff_month) == (236, 36.0, 0.60, 60.0)
    from trialnb.data import DATA_CUTOFF_MONTH

    assert all(sc.cutoff_month == DATA_CUTOFF_MONTH for sc in SCENARIOS.values())  # the validator's default
    assert s.site_probs == (0.45, 0.10, 0.45) and s.p_hormone_receptor_positive == 0.75
    assert s.p_her2_positive == 0.25 and s.p_ecog2 == 0.10
    assert (s.hr_visceral, s.hr_soft_tissue, s.hr_receptor_negative, s.hr_her2_positive) == (1.6, 1.1, 2.0, 0.8)


@pytest.mark.parametrize("change, name", [
    ({"n_randomized": 1}, "n_randomized"), ({"control_survival": 1.2}, "control_survival"),
    ({"hazard_ratio": 0.0}, "hazard_ratio"), ({"site_probs": (0.5, 0.5, 0.5)}, "site_probs"),
    ({"p_no_consent": -0.1}, "p_no_consent"), ({"surgery_window": (8.0, 3.0)}, "surgery_window"),
    ({"age_min": 10.0}, "age_min"), ({"accrual_months": float("nan")}, "accrual_months"),
])
def test_invalid_scenarios_name_the_argument(change, name) -> None:
    with pytest.raises(ValueError, match=name):
        TrialScenario(**change)


def test_simulate_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="scenario must be a TrialScenario"):
        simulate_trial("protocol", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        simulate_trial(SMALL, -1, Alternating())
    with pytest.raises(ValueError, match="allocator must have an assign"):
        simulate_trial(SMALL, 1, object())  # type: ignore[arg-type]


def test_calibration_without_prognostic_effects_is_closed_form() -> None:
    flat = replace(SCENARIOS["protocol"], hr_visceral=1.0, hr_soft_tissue=1.0, hr_receptor_negative=1.0,
                   hr_her2_positive=1.0, hr_age_per_decade_above_50=1.0, hr_ecog2=1.0)
    assert baseline_cumulative_hazard(flat) == pytest.approx(-math.log(0.60), rel=1e-12)


def test_calibration_matches_independent_numerical_integration() -> None:
    """Re-derive S_B(24) by integrating over a *continuous* truncated-normal age (scipy.quad).

    The generator rounds age to whole years, so the two differ only by that rounding (< 1e-3).
    """
    s = SCENARIOS["protocol"]
    lam = baseline_cumulative_hazard(s)
    assert control_survival(s, lam) == pytest.approx(0.60, abs=1e-12)
    a, b = (s.age_min - s.age_mean) / s.age_sd, (s.age_max - s.age_mean) / s.age_sd
    age = stats.truncnorm(a, b, loc=s.age_mean, scale=s.age_sd)
    total = 0.0
    for site, ps, hs in (("bone", 0.45, 1.0), ("soft", 0.10, 1.1), ("visc", 0.45, 1.6)):
        for pr, hr_r in ((0.75, 1.0), (0.25, 2.0)):
            for ph, hr_h in ((0.25, 0.8), (0.75, 1.0)):
                for pe, hr_e in ((0.10, 1.7), (0.90, 1.0)):
                    f = lambda x: age.pdf(x) * math.exp(-lam * hs * hr_r * hr_h * hr_e * 1.1 ** (max(x - 50, 0) / 10))  # noqa: E731,B023
                    total += ps * pr * ph * pe * integrate.quad(f, s.age_min, s.age_max, points=[50])[0]
    assert total == pytest.approx(0.60, abs=1e-3)


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
    pd.testing.assert_frame_equal(df[["patient_id", "dominant_site", "age"]], df2[["patient_id", "dominant_site", "age"]])


def test_default_allocator_is_minimization_and_balances_factors() -> None:
    from trialnb.randomization import PocockSimon  # noqa: F401  (the default must exist)

    df = simulate_trial(SCENARIOS["protocol"], 11)
    assert abs((df["arm"] == "A").sum() - (df["arm"] == "B").sum()) <= 4
    for f in ("dominant_site", "hormone_receptor", "her2"):
        tab = pd.crosstab(df[f], df["arm"])
        assert (tab["A"] - tab["B"]).abs().max() <= 4, f


def test_bad_allocator_output_is_reported() -> None:
    class Bad:
        def assign(self, patient, rng):  # noqa: ANN001
            return _Assignment("C")

    with pytest.raises(ValueError, match="allocator returned arm 'C'"):
        simulate_trial(SMALL, 1, Bad())


def test_screening_log_is_consistent_with_eligibility_rules() -> None:
    scr = simulate_screening(SMALL, 5)
    assert scr["eligible"].sum() == SMALL.n_randomized
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
        assert (";".join(res.failed) or None) == (r["failed_criteria"] if isinstance(r["failed_criteria"], str) else None)
        assert (r["patient_id"] is not None) == res.eligible
    assert (scr["eligible"] == 0).sum() > 0  # some referred patients are excluded


def test_trial_rows_are_randomized_screened_patients_in_entry_order() -> None:
    st_ = simulate_study(SMALL, 5, Alternating())
    scr = st_.screening.set_index("screening_id")
    tr = st_.trial
    assert tr["entry_month"].is_monotonic_increasing
    for _, r in tr.iterrows():
        s = scr.loc[r["screening_id"]]
        assert s["patient_id"] == r["patient_id"] and s["eligible"] == 1
        assert (s["age"], s["dominant_site"], s["hormone_receptor"], s["her2"]) == \
            (r["age"], r["dominant_site"], r["hormone_receptor"], r["her2"])


def test_written_csv_round_trips_through_the_validator(tmp_path: Path) -> None:
    st_ = simulate_study(replace(SMALL, n_randomized=120), 9, Alternating())
    p = tmp_path / "t.csv"
    format_table(st_.trial, TRIAL_SCHEMA).to_csv(p, index=False)
    back = load_trial(p).reset_index(drop=True)
    pd.testing.assert_frame_equal(back, st_.trial, check_dtype=False)


def test_crf_rules_hold_for_every_patient() -> None:
    df = simulate_trial(replace(SMALL, n_randomized=200), 21, Alternating())
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
    assert (q["visit_month"] == 0).sum() == SMALL.n_randomized  # baseline always recorded


@pytest.mark.slow
def test_large_trial_recovers_the_scenario() -> None:
    """n = 4,000, alternating allocation, no censoring before 2 years except loss (3%)."""
    s = replace(SCENARIOS["protocol"], n_randomized=4000)
    st_ = simulate_study(s, 2024, Alternating())
    df = st_.trial
    from lifelines import KaplanMeierFitter

    b = df[df["arm"] == "B"]
    km = KaplanMeierFitter().fit(b["os_months"], b["death"])
    s24 = float(km.survival_function_at_times(24.0).iloc[0])
    assert abs(s24 - 0.60) < 3 * math.sqrt(0.6 * 0.4 / len(b))
    from trialnb.analysis import primary_cox

    res = primary_cox(df)
    # the fitted conditional HR estimates the scenario's 0.5 (covariates in the model are the
    # true prognostic factors except age and ECOG, which attenuate it slightly towards 1)
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
    lost_by_24 = ((df["lost_to_follow_up"] == 1) & (df["os_months"] <= 24)).mean()
    assert 0.005 < lost_by_24 < 0.05
    assert st_.truth["control_survival"] == pytest.approx(0.60)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), hr=st.sampled_from([0.5, 1.0, 1.5]))
def test_property_any_seed_gives_valid_crf_data(tmp_path_factory, seed, hr) -> None:
    s = replace(SCENARIOS["protocol"], n_randomized=30, hazard_ratio=hr)
    st_ = simulate_study(s, seed, CoinFlip())
    d = tmp_path_factory.mktemp("p")
    format_table(st_.trial, TRIAL_SCHEMA).to_csv(d / "t.csv", index=False)
    df = load_trial(d / "t.csv")  # raises if any CRF rule is broken
    from trialnb.data import QOL_SCHEMA

    format_table(st_.qol, QOL_SCHEMA).to_csv(d / "q.csv", index=False)
    load_qol(d / "q.csv", set(df["patient_id"]))


def test_common_random_numbers_across_scenarios() -> None:
    a = simulate_trial(SMALL, 3, Alternating())
    b = simulate_trial(replace(SMALL, hazard_ratio=1.0), 3, Alternating())
    pd.testing.assert_frame_equal(a[["patient_id", "arm", "age"]], b[["patient_id", "arm", "age"]])
    # arm B outcomes do not depend on the treatment effect
    pd.testing.assert_series_equal(a.loc[a["arm"] == "B", "os_months"], b.loc[b["arm"] == "B", "os_months"])
    assert copy.deepcopy(SMALL) == SMALL


@pytest.mark.parametrize("old, new, value", [
    ("treatment_hr", "hazard_ratio", 0.7), ("control_survival_2y", "control_survival", 0.55),
    ("loss_2y", "dropout_probability", 0.04),
])
def test_old_keywords_warn_and_are_honoured(old, new, value) -> None:
    with pytest.warns(DeprecationWarning, match=f"'{old}'.*use '{new}'"):
        s = TrialScenario(**{old: value})
    assert getattr(s, new) == value
    with pytest.warns(DeprecationWarning, match=f"use '{new}'"):
        r = replace(SCENARIOS["protocol"], **{old: value})
    assert getattr(r, new) == value
    with pytest.warns(DeprecationWarning, match=f"use '{new}'"):
        assert getattr(r, old) == value
