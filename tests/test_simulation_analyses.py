"""The analyses a simulation applies (``trialnb.simulation.ANALYSES``, ``analyse_cut``,
``decide``) and the true curves they estimate (``trialnb.simulation.truth``).

Cross-checks: each registry analysis of a simulated trial equals the one-trial analysis of the
same trial as a CRF DataFrame (``trialnb.analysis.primary`` with the plan's statistic, ties and
covariates; ``milestone``, ``rmst_difference``, ``weighted_logrank``, ``maxcombo``); the batched
engine against R ``survival::coxph``/``survdiff`` on the data sets committed in
``tests/reference/simulation_coxph.json`` (written by ``tests/reference/simulation_coxph.R``); the
compiled and numpy statistics agree; every analysis keeps its type-I error under no effect;
the true estimands against closed forms.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialnb import analysis as an
from trialnb.errors import ScenarioError
from trialnb.plan import PLAN
from trialnb.protocol import FACTORS
from trialnb.simulation import (ANALYSES, SHAPES, analyse_cut, check_analyses, cut, decide, design_curves, simulate,
                                simulate_trials, true_estimands)
from trialnb.simulation.analyses import AnalysisOutcome
from trialnb.survival import fit_cox, logrank

REF = Path(__file__).resolve().parent / "reference"
HOMOGENEOUS = {"hr_soft_tissue": 1.0, "hr_visceral": 1.0, "hr_hr_negative": 1.0, "hr_her2_positive": 1.0}


def _cut_trials(n_trials: int = 6, seed: int = 6, **design):
    d = simulate_trials(replace(PLAN.design, **design), n_trials, np.random.default_rng(seed))
    time, event = cut(d, d.entry[:, -1] + 24.0, 24.0)
    return d, time, event


def _frame(d, time: np.ndarray, event: np.ndarray, i: int) -> pd.DataFrame:
    """Trial i as a CRF-schema DataFrame (the columns the one-trial analysis reads)."""
    levels = {f.name: f.levels for f in FACTORS}
    site = np.array(["bone", "soft_tissue", "visceral"])[d.site[i]]
    assert set(site) <= set(levels["dominant_site"])
    return pd.DataFrame({
        "arm": np.where(d.arm[i] == 1, "A", "B"), "os_months": time[i], "death": event[i].astype(int),
        "dominant_site": site, "hormone_receptor": np.where(d.hr_negative[i] == 1, "negative", "positive"),
        "her2": np.where(d.her2_positive[i] == 1, "positive", "negative")})


# ---------------------------------------------------------------------------- the registry
def test_the_registry() -> None:
    assert tuple(ANALYSES) == ("cox_wald", "logrank", "stratified_logrank", "fh01", "maxcombo", "stratified_maxcombo",
                               "milestone", "rmst", "standardized_milestone")
    assert check_analyses("rmst") == ("rmst",) and check_analyses(["logrank", "fh01"]) == ("logrank", "fh01")
    for bad in ("wilcoxon", ["cox_wald", "cox_wald"], [], 3, None):
        with pytest.raises(ScenarioError, match="analyses must be one of"):
            check_analyses(bad)


def test_every_analysis_has_one_label_that_says_how_it_is_stratified() -> None:
    from trialnb.simulation import ANALYSIS_LABELS

    assert list(ANALYSIS_LABELS) == list(ANALYSES)
    assert len(set(ANALYSIS_LABELS.values())) == len(ANALYSES)  # no two analyses read alike
    for name, label in ANALYSIS_LABELS.items():
        assert ("unstratified" in label) == (name in ("logrank", "fh01", "maxcombo")), name
        assert ("stratified by" in label) == name.startswith("stratified_"), name


@pytest.mark.parametrize("statistic", ["cox_wald", "logrank", "stratified_logrank"])
@pytest.mark.parametrize("change", [{}, {"ties": "breslow"}, {"covariates": ("hormone_receptor",)}, {"covariates": ()}])
def test_plan_statistics_equal_the_one_trial_analysis(statistic: str, change: dict) -> None:
    """The simulation's statistic of a trial is trialnb.analysis.primary's on the same trial as a
    DataFrame, for each plan statistic, ties and covariates; times rounded to whole months so that
    deaths tie and Efron differs from Breslow."""
    plan = PLAN.with_changes(statistic=statistic, **change)
    d, time, event = _cut_trials()
    time = np.ceil(time)
    out = analyse_cut(time, event, d, (statistic,), plan.analysis, 24.0)[statistic]
    assert out.ok.all()
    for i in range(d.n_trials):
        res = an.primary(_frame(d, time, event, i), plan)
        assert res.estimable
        assert out.z[i] == pytest.approx(res.z, rel=1e-9, abs=1e-12), (statistic, change, i)
        assert out.estimate[i] == pytest.approx(res.log_hr, rel=1e-9, abs=1e-12)


def test_ties_reach_the_cox_model() -> None:
    d, time, event = _cut_trials()
    t = np.ceil(time)
    efron = analyse_cut(t, event, d, ("cox_wald",), PLAN.analysis, 24.0)["cox_wald"]
    breslow = analyse_cut(t, event, d, ("cox_wald",), replace(PLAN.analysis, ties="breslow"), 24.0)["cox_wald"]
    assert np.all(np.abs(efron.z - breslow.z) > 1e-6)  # whole months: many tied deaths
    X = d.covariates()
    for i in range(d.n_trials):
        fit = fit_cox(t[i], event[i], X[i], ties="breslow")
        assert breslow.z[i] == pytest.approx(fit.coef[0] / fit.se[0], rel=1e-10)


def test_estimand_statistics_equal_the_one_trial_analyses() -> None:
    d, time, event = _cut_trials(n_trials=4, seed=2, effect_delay_months=6.0)
    names = ("fh01", "maxcombo", "stratified_maxcombo", "milestone", "rmst")
    out = analyse_cut(time, event, d, names, PLAN.analysis, 24.0)
    for i in range(d.n_trials):
        arrays = (time[i], event[i], d.arm[i])
        df = _frame(d, time, event, i)
        assert out["milestone"].z[i] == pytest.approx(-an.milestone(arrays).z, rel=1e-10)
        assert out["rmst"].z[i] == pytest.approx(-an.rmst_difference(arrays).z, rel=1e-10)
        assert out["rmst"].estimate[i] == pytest.approx(an.rmst_difference(arrays).difference, rel=1e-10)
        assert out["fh01"].z[i] == pytest.approx(an.weighted_logrank(arrays, 0, 1).z, rel=1e-10)
        mc = an.maxcombo(arrays)
        assert abs(out["maxcombo"].z[i]) == pytest.approx(mc.statistic, rel=1e-10)
        smc = an.maxcombo(df, strata="factors")
        assert abs(out["stratified_maxcombo"].z[i]) == pytest.approx(smc.statistic, rel=1e-10)
        rej = decide(out["maxcombo"], "maxcombo", 0.05, 2)[i]
        if abs(mc.p_value - 0.05) > 0.002:
            assert rej == (mc.p_value < 0.05)


def test_compiled_and_numpy_analyses_agree() -> None:
    d, time, event = _cut_trials(n_trials=300, seed=2, effect_delay_months=6.0)
    t = np.ceil(time * 2) / 2  # ties
    names = tuple(ANALYSES)
    a = analyse_cut(t, event, d, names, PLAN.analysis, 24.0, engine="numba")
    b = analyse_cut(t, event, d, names, PLAN.analysis, 24.0, engine="numpy")
    for k in names:
        np.testing.assert_allclose(a[k].z, b[k].z, rtol=1e-9, atol=1e-12, err_msg=k)
        np.testing.assert_array_equal(a[k].ok, b[k].ok, err_msg=k)
        np.testing.assert_array_equal(decide(a[k], k, 0.05, 2), decide(b[k], k, 0.05, 2), err_msg=k)


# ---------------------------------------------------------------------------- decisions
def test_decide_two_sided_one_sided_and_failures() -> None:
    z = np.array([-2.5, -2.0, -1.0, 1.97, 3.0, np.nan])
    out = AnalysisOutcome(z, z, np.isfinite(z))
    np.testing.assert_array_equal(decide(out, "logrank", 0.05, 2), [True, True, False, True, True, False])
    # one-sided for benefit at 0.025: the same critical value on the benefit side only
    np.testing.assert_array_equal(decide(out, "logrank", 0.025, 1), [True, True, False, False, False, False])
    failed = AnalysisOutcome(np.array([-5.0]), np.array([0.0]), np.array([False]))
    assert not decide(failed, "cox_wald", 0.05, 2).any()  # a failed analysis never rejects


def test_a_failed_cox_fit_is_no_estimate_never_hr_one() -> None:
    """No death in arm A: R flags the arm coefficient as infinite; the analysis fails (NaN, not
    ok) and never rejects."""
    d, time, event = _cut_trials(n_trials=3)
    event = np.where(d.arm == 1, 0, event).astype(np.int8)
    out = analyse_cut(time, event, d, ("cox_wald", "logrank"), PLAN.analysis, 24.0)
    assert not out["cox_wald"].ok.any() and np.isnan(out["cox_wald"].z).all()
    assert not decide(out["cox_wald"], "cox_wald", 0.05, 2).any()
    assert out["logrank"].ok.all() and np.all(out["logrank"].z < 0)  # the log-rank z exists: all deaths in B favour A


def test_every_analysis_keeps_its_type_one_error_under_no_effect() -> None:
    """4,000 trials of the protocol's homogeneous population under HR 1: each analysis rejects within
    3 MC SE of 5%; the rejections split between benefit and harm."""
    n = 4000
    r = simulate(PLAN.with_changes(**HOMOGENEOUS), n, seed=14, truth={"hazard_ratio": 1.0}, analyses=list(ANALYSES))
    se = math.sqrt(0.05 * 0.95 / n)
    tab = r.to_frame()
    for name, row in tab.iterrows():
        assert abs(row["rejection"] - 0.05) < 3 * se, (name, row["rejection"])
        assert row["benefit"] > 0.015 and row["harm"] > 0.015, name
        assert row["failed"] == 0, name


# ---------------------------------------------------------------------------- R survival
def _r_reference() -> dict:
    return json.loads((REF / "simulation_coxph.json").read_text())


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_cox_and_logrank_match_r_survival(engine: str) -> None:
    """R survival::coxph(ties = "efron", eps 1e-12) and survdiff on the committed data sets
    (ties, a covariate level without deaths in one arm, two simulated 236-patient trials with
    five covariates), one at a time and as one batch of equal-length trials."""
    ref = _r_reference()
    batch: dict[int, list[str]] = {}
    for name, d in ref["inputs"].items():
        r = ref["results"][name]
        X = np.column_stack(d["X"])
        batch.setdefault(X.shape, []).append(name)
        fit = fit_cox(np.array(d["time"]), np.array(d["event"]), X, engine=engine)
        np.testing.assert_allclose(fit.coef, r["coef"], rtol=0, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(fit.se, r["se"], rtol=0, atol=1e-8, err_msg=name)
        assert float(fit.loglik) == pytest.approx(r["loglik"], abs=1e-8), name
        lr = logrank(np.array(d["time"]), np.array(d["event"]), np.array(d["group"]))
        assert float(lr.chisq) == pytest.approx(r["logrank_chisq"], rel=1e-10), name
        assert float(lr.expected) == pytest.approx(r["expected_1"], rel=1e-12), name
        assert float(lr.observed) == r["observed_1"], name
    for names in batch.values():  # the batched call gives every trial R's numbers
        if len(names) < 2:
            continue
        ins = [ref["inputs"][n] for n in names]
        fit = fit_cox(np.stack([i["time"] for i in ins]), np.stack([i["event"] for i in ins]),
                      np.stack([np.column_stack(i["X"]) for i in ins]), engine=engine)
        for k, n in enumerate(names):
            np.testing.assert_allclose(fit.coef[k], ref["results"][n]["coef"], rtol=0, atol=1e-8, err_msg=n)
    assert any(len(v) >= 2 for v in batch.values())


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_efron_partial_likelihood_by_hand(engine: str) -> None:
    """Six patients, two tied deaths at t = 2: the Efron log partial likelihood
    ll(b) = sum_deaths eta - sum_l log(S0 - l/d S0_D) written out by hand; the engine's estimate
    is its maximum and its SE is 1/sqrt(-ll'') by central differences."""
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    e = np.array([1, 1, 1, 0, 1, 0])
    x = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])

    def hand(b: float) -> float:
        w = np.exp(b * x)
        ll = b * (x[0] + x[1] + x[2] + x[4])
        ll -= math.log(w.sum())  # t = 1, one death
        s0, s0d = w[1:].sum(), w[1] + w[2]  # t = 2, two tied deaths
        ll -= math.log(s0) + math.log(s0 - 0.5 * s0d)
        ll -= math.log(w[4:].sum())  # t = 4
        return ll

    res = fit_cox(t, e, x[:, None], ties="efron", engine=engine)
    b = float(res.coef[0])
    assert float(res.loglik) == pytest.approx(hand(b), abs=1e-10)
    assert hand(b) > max(hand(b - 1e-3), hand(b + 1e-3))
    h = 1e-4
    info = -(hand(b + h) - 2 * hand(b) + hand(b - h)) / h**2
    assert float(res.se[0]) == pytest.approx(1 / math.sqrt(info), rel=1e-4)




# ---------------------------------------------------------------------------- the truth
def test_true_estimands_closed_forms() -> None:
    hom = replace(PLAN.design, **HOMOGENEOUS)
    te = true_estimands(hom)
    assert te["tau"] == 24.0
    assert te["survival_b"] == pytest.approx(math.exp(-0.5), rel=1e-12)
    assert te["survival_a"] == pytest.approx(math.exp(-0.25), rel=1e-12)
    lam = 0.5 / 24
    exact = (1 - math.exp(-lam * 0.5 * 24)) / (lam * 0.5) - (1 - math.exp(-lam * 24)) / lam
    assert te["rmst_difference"] == pytest.approx(exact, rel=1e-6)  # trapezoid on a 0.01-month grid
    assert te["milestone_difference"] == pytest.approx(te["survival_a"] - te["survival_b"], rel=1e-15)
    # with the prognostic factors arm B keeps its calibrated survival; arm A is the mixture over strata
    te = true_estimands(PLAN.design)
    ps, lp = PLAN.design.strata_model()
    lam_s = PLAN.design.baseline_hazard * np.exp(lp)
    assert te["survival_b"] == pytest.approx(PLAN.design.control_survival, rel=1e-12)
    assert te["survival_a"] == pytest.approx(float(np.sum(ps * np.exp(-lam_s * 0.5 * 24))), rel=1e-12)
    # 30% of arm A not operated: a mixture of the two survival curves
    mix = true_estimands(replace(hom, non_compliance=0.3))
    assert mix["survival_a"] == pytest.approx(0.7 * math.exp(-0.25) + 0.3 * math.exp(-0.5), rel=1e-12)
    assert true_estimands(hom, 12.0)["survival_b"] == pytest.approx(math.exp(-0.25), rel=1e-12)


def test_shapes_and_their_curves() -> None:
    assert set(SHAPES) == {"proportional", "delayed benefit", "early harm then benefit", "crossing"}
    c = design_curves(replace(PLAN.design, **SHAPES["crossing"]), [1.0, 5.0, 7.0, 24.0])
    assert list(c["hr_operated"]) == [2.0, 2.0, 0.6, 0.6]
    assert c["survival_a"].iloc[0] < c["survival_b"].iloc[0] and c["survival_a"].iloc[-1] > c["survival_b"].iloc[-1]
    # the crossing shape: the 2-year difference favours A, the RMST difference favours B
    te = true_estimands(replace(PLAN.design, **SHAPES["crossing"]))
    assert te["milestone_difference"] > 0 > te["rmst_difference"]
    delayed = design_curves(replace(PLAN.design, **SHAPES["delayed benefit"]), [3.0, 6.0])
    np.testing.assert_allclose(delayed["survival_a"], delayed["survival_b"], rtol=1e-14)  # nothing before month 6
