"""The plan's final analysis by simulation: ``trialnb.simulation.simulate`` and
``required_patients``.

Cross-checks: the trials are those of ``simulate_trials`` with the documented seed layout, and the
plan's statistic on one of them is the survival engine's (re-derived trial by trial); simulated
deaths against the closed form of ``trialnb.sample_size.expected_events``; power against
Schoenfeld's formula; the type-I error of every statistic within Monte-Carlo error of alpha
(and the unadjusted log-rank test's known conservatism under minimization with prognostic
factors); the compiled and numpy engines give the same decisions; the plan's fields move the
simulation (statistic, censoring, final-analysis timing, alpha, sides); bad input is refused
with a named error.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from trialnb.errors import ScenarioError
from trialnb.monitoring import plan_max_events
from trialnb.plan import PLAN
from trialnb.sample_size import expected_events, schoenfeld_power
from trialnb.simulation import (RequiredPatients, SimulationResult, cut, final_cutoff, required_patients, simulate,
                                simulate_trials)
from trialnb.simulation.fixed import CHUNK, chunk_seeds
from trialnb.survival import fit_cox, logrank

HOMOGENEOUS = {"hr_soft_tissue": 1.0, "hr_visceral": 1.0, "hr_hr_negative": 1.0, "hr_her2_positive": 1.0}
NULL = {"hazard_ratio": 1.0}


def _mc(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


# ---------------------------------------------------------------------------- the trials and the statistic
def test_default_is_the_plan_and_its_statistic() -> None:
    r = simulate(n_trials=50, seed=2)
    assert isinstance(r, SimulationResult)
    assert r.plan is PLAN and r.truth == PLAN.design and r.analyses == ("cox_wald",) and r.analysis == "cox_wald"
    for arr in (r.estimate, r.events, r.events_a, r.months, r.z["cox_wald"], r.reject["cox_wald"]):
        assert arr.shape == (50,)
    assert np.all(r.events_a < r.events) and np.all(r.months <= 36 + 24) and np.all(r.months > 24)


def test_the_trials_and_the_statistic_re_derived_trial_by_trial() -> None:
    """Chunk i of simulate(seed) is simulate_trials with child i of SeedSequence(seed); the final
    analysis is calendar-driven (last randomization + 24 months), follow-up censored at 24 months,
    and the plan's statistic is the adjusted Cox Wald z of the engine (Efron ties)."""
    r = simulate(PLAN, 40, seed=9, analyses=["cox_wald", "logrank", "stratified_logrank"])
    (m, child), = chunk_seeds(40, 9)
    assert m == 40
    d = simulate_trials(PLAN.design, 40, np.random.default_rng(np.random.SeedSequence(9).spawn(1)[0]))
    c = d.entry[:, -1] + 24.0
    np.testing.assert_array_equal(r.months, c)
    time, event = cut(d, c, 24.0)
    np.testing.assert_array_equal(r.events, event.sum(axis=1))
    np.testing.assert_array_equal(r.events_a, (event * d.arm).sum(axis=1))
    X = d.covariates()
    for i in range(0, 40, 7):
        fit = fit_cox(time[i], event[i], X[i], ties="efron")
        assert r.z["cox_wald"][i] == pytest.approx(fit.coef[0] / fit.se[0], rel=1e-9)
        assert r.estimate[i] == pytest.approx(fit.coef[0], rel=1e-9)
        assert r.z["logrank"][i] == pytest.approx(logrank(time[i], event[i], d.arm[i]).z, rel=1e-12)
        st = d.site[i] * 4 + d.hr_negative[i] * 2 + d.her2_positive[i]
        assert r.z["stratified_logrank"][i] == pytest.approx(logrank(time[i], event[i], d.arm[i], strata=st).z,
                                                             rel=1e-12)
    assert np.array_equal(r.reject["cox_wald"], np.abs(r.z["cox_wald"]) > 1.959963984540054)


def test_chunks_do_not_change_the_first_trials() -> None:
    assert [m for m, _ in chunk_seeds(CHUNK + 500, 4)] == [CHUNK, 500]
    big = simulate(PLAN, CHUNK + 500, seed=4, analyses="logrank")
    small = simulate(PLAN, CHUNK, seed=4, analyses="logrank")
    np.testing.assert_array_equal(big.z["logrank"][:CHUNK], small.z["logrank"])
    np.testing.assert_array_equal(big.events[:CHUNK], small.events)
    assert big.n_trials == CHUNK + 500 and big.events.shape == (CHUNK + 500,)


def test_determinism_by_seed() -> None:
    a, b, c = (simulate(PLAN, 300, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.events, b.events)
    assert not np.array_equal(a.estimate, c.estimate)


def test_engines_give_the_same_decisions() -> None:
    names = ["cox_wald", "logrank", "stratified_logrank", "maxcombo", "milestone", "rmst"]
    a = simulate(PLAN.with_changes(hazard_ratio=0.7), 400, seed=3, analyses=names, engine="numpy")
    b = simulate(PLAN.with_changes(hazard_ratio=0.7), 400, seed=3, analyses=names, engine="numba")
    for k in names:
        np.testing.assert_array_equal(a.reject[k], b.reject[k], err_msg=k)
        np.testing.assert_array_equal(a.ok[k], b.ok[k], err_msg=k)
        np.testing.assert_allclose(a.z[k], b.z[k], rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=k)
    np.testing.assert_array_equal(a.events, b.events)


# ---------------------------------------------------------------------------- operating characteristics
def test_mean_deaths_match_the_closed_form() -> None:
    r = simulate(PLAN, 2000, seed=11, analyses="logrank")
    ea, eb = expected_events(PLAN.design, PLAN.analysis.censor_months)
    for got, exp in ((r.events_a, ea), (r.events - r.events_a, eb)):
        assert abs(got.mean() - exp) < 4 * got.std() / math.sqrt(r.n_trials), (got.mean(), exp)
    assert r.mean_events == pytest.approx(float(r.events.mean()))


def test_power_of_the_plan_near_schoenfeld() -> None:
    """Proportional hazards, 1:1, two-sided 5%: simulated power of the adjusted Cox model close to
    Schoenfeld's formula at the mean number of deaths; the median estimate at the design's 0.5."""
    r = simulate(PLAN, 2000, seed=3)
    analytic = schoenfeld_power(r.mean_events, 0.5)
    assert 0.74 < r.power < 0.88
    assert abs(r.power - analytic) < 3 * r.power_se + 0.02
    assert float(np.median(r.hazard_ratio)) == pytest.approx(0.5, abs=0.04)
    assert r.harm() == 0.0 and r.rejection() == r.power + r.harm()


def test_schoenfeld_power_closed_form() -> None:
    """The analytic power the simulations are compared with: 66 deaths at HR 0.5 give the
    protocol's 80%; two-sided, both tails counted."""
    assert schoenfeld_power(66, 0.5) == pytest.approx(0.80, abs=0.005)
    zc = 1.959963984540054
    z = math.sqrt(66 / 4) * math.log(2) - zc
    from scipy.stats import norm

    assert schoenfeld_power(66, 0.5) == pytest.approx(norm.cdf(z) + norm.cdf(-z - 2 * zc), abs=1e-12)
    with pytest.raises(ValueError, match="events"):
        schoenfeld_power(0, 0.5)


@pytest.mark.parametrize("analysis", ["cox_wald", "stratified_logrank", "stratified_maxcombo"])
def test_type_one_error_under_no_effect(analysis: str) -> None:
    """The plan's population (prognostic factors, minimization): the analyses that account for the
    factors keep alpha (the unadjusted ones are conservative: see below and
    tests/test_simulation_analyses.py for every analysis in a homogeneous population)."""
    n = 3000
    r = simulate(PLAN, n, seed=21, truth=NULL, analyses=analysis)
    assert abs(r.rejection() - 0.05) < 3 * _mc(0.05, n), r.summary()
    assert r.type_one_error_ok is True
    assert "type-I error" in r.summary()
    # both directions are tested: benefit and harm share the rejections
    assert r.benefit() > 0.01 and r.harm() > 0.01


def test_logrank_type_one_error_in_a_homogeneous_population() -> None:
    n = 3000
    r = simulate(PLAN.with_changes(**HOMOGENEOUS, allocation="blocks"), n, seed=22, truth=NULL, analyses="logrank")
    assert abs(r.rejection() - 0.05) < 3 * _mc(0.05, n)


@pytest.mark.slow
def test_unadjusted_logrank_is_conservative_under_minimization_with_prognostic_factors() -> None:
    """Minimization balances prognostic factors, which the unadjusted test ignores: its variance is
    overestimated and its type-I error falls below alpha (Kahan & Morris, Stat Med 2012;31:328);
    the adjusted Cox model -- the plan's analysis -- keeps alpha. Same 30,000 trials."""
    n = 30_000
    r = simulate(PLAN, n, seed=23, truth=NULL, analyses=["logrank", "cox_wald"])
    assert r.rejection("logrank") < 0.05 - 3 * _mc(0.05, n)
    assert abs(r.rejection("cox_wald") - 0.05) < 3 * _mc(0.05, n)


@pytest.mark.parametrize("truth", [{"non_compliance": 1.0}, {"crossover": 1.0, "crossover_months": 0.0}])
def test_nobody_or_everybody_operated_is_no_effect(truth: dict) -> None:
    n = 2000
    r = simulate(PLAN, n, seed=4, truth=truth, analyses="logrank")
    assert abs(r.rejection() - 0.05) < 3.5 * _mc(0.05, n), truth


def test_dilution_and_delay_weaken_the_effect() -> None:
    base = simulate(PLAN, 1000, seed=8)
    nc = simulate(PLAN, 1000, seed=8, truth={"non_compliance": 0.3})
    delay = simulate(PLAN, 1000, seed=8, truth={"effect_delay_months": 12.0})
    med = lambda r: float(np.nanmedian(r.hazard_ratio))  # noqa: E731
    assert base.power > nc.power + 0.1 and base.power > delay.power + 0.1
    assert med(base) < med(nc) < 1 and med(base) < med(delay) < 1


# ---------------------------------------------------------------------------- the plan moves the simulation
def test_final_analysis_timing() -> None:
    """Event-driven: the final analysis at the 66th primary-endpoint death (plan_max_events), or
    with every primary death when a trial never has 66; calendar-driven: 24 months after the last
    randomization, whatever the deaths. The same trials in both."""
    target = plan_max_events(PLAN)
    assert target == 66
    events = simulate(PLAN.with_changes(final_analysis="events"), 300, seed=1, analyses="logrank")
    calendar = simulate(PLAN, 300, seed=1, analyses="logrank")
    np.testing.assert_array_equal(events.events, np.minimum(calendar.events, target))
    np.testing.assert_array_equal(events.months < calendar.months, calendar.events >= target)
    assert 0 < np.mean(calendar.events < target) < 0.5 and calendar.events.mean() > target


def test_final_cutoff_by_hand() -> None:
    d = simulate_trials(PLAN.design, 20, np.random.default_rng(3))
    np.testing.assert_array_equal(final_cutoff(d, PLAN), d.entry[:, -1] + 24.0)
    ev = final_cutoff(d, PLAN.with_changes(final_analysis="events"), 30)
    _, event = cut(d, ev, 24.0)
    assert np.all(event.sum(axis=1) == 30)
    np.testing.assert_array_equal(final_cutoff(d, PLAN.with_changes(censor_months=36.0)), d.entry[:, -1] + 36.0)


def test_censor_months_changes_the_simulation() -> None:
    """The endpoint is the plan's: censoring at 36 months or not at all gives more deaths and a
    later final analysis, from the same trials."""
    base = simulate(PLAN, 300, seed=2, analyses="logrank")
    longer = simulate(PLAN.with_changes(censor_months=36.0), 300, seed=2, analyses="logrank")
    everything = simulate(PLAN.with_changes(censor_months=None), 300, seed=2, analyses="logrank")
    assert np.all(longer.events >= base.events) and longer.mean_events > base.mean_events + 5
    np.testing.assert_allclose(longer.months, base.months + 12.0, rtol=1e-12)
    assert np.all(everything.events >= base.events)
    assert abs(longer.mean_events - sum(expected_events(PLAN.design, 36.0))) < 3


def test_alpha_and_sides_change_the_decisions_on_the_same_trials() -> None:
    base = simulate(PLAN, 500, seed=6, truth={"hazard_ratio": 0.7})
    strict = simulate(PLAN.with_changes(alpha=0.01), 500, seed=6, truth={"hazard_ratio": 0.7})
    np.testing.assert_array_equal(strict.z["cox_wald"], base.z["cox_wald"])
    assert np.all(strict.reject["cox_wald"] <= base.reject["cox_wald"]) and strict.power < base.power
    one = simulate(PLAN.with_changes(sided=1, alpha=0.025), 500, seed=6, truth={"hazard_ratio": 1.6})
    assert one.harm() == 0.0 and one.power == 0.0  # one-sided for benefit: harm is never a rejection
    two = simulate(PLAN, 500, seed=6, truth={"hazard_ratio": 1.6})
    assert two.harm() > 0.3


def test_covariates_of_the_plan_reach_the_cox_model() -> None:
    base = simulate(PLAN, 200, seed=7)
    unadjusted = simulate(PLAN.with_changes(covariates=()), 200, seed=7)
    lr = simulate(PLAN, 200, seed=7, analyses="logrank")
    assert np.all(np.isfinite(base.z["cox_wald"]))
    # unadjusted Cox Wald and log-rank z: two tests of the same model (Wald vs score), within 7%
    # of each other; the adjusted z differs more from the log-rank z (the factors are prognostic)
    u, b, z = unadjusted.z["cox_wald"], base.z["cox_wald"], lr.z["logrank"]
    np.testing.assert_allclose(u, z, rtol=0.07)
    assert np.mean(np.abs(b - z)) > 1.3 * np.mean(np.abs(u - z))


def test_truth_changes_the_trials_not_the_plan() -> None:
    a = simulate(PLAN.with_changes(final_analysis="events"), 100, seed=2, truth=NULL)
    b = simulate(PLAN.with_changes(final_analysis="events"), 100, seed=2, truth=replace(PLAN.design, hazard_ratio=1.0))
    np.testing.assert_array_equal(a.z["cox_wald"], b.z["cox_wald"])
    assert a.truth.hazard_ratio == 1.0 and a.plan.design.hazard_ratio == 0.5
    assert np.all(a.events == 66)  # the planned deaths come from the plan, not the truth


# ---------------------------------------------------------------------------- several analyses
def test_several_analyses_use_the_same_trials() -> None:
    one = simulate(PLAN, 600, seed=4, truth={"effect_delay_months": 6.0})
    many = simulate(PLAN, 600, seed=4, truth={"effect_delay_months": 6.0},
                    analyses=["rmst", "cox_wald", "logrank", "fh01"])
    lr = simulate(PLAN, 600, seed=4, truth={"effect_delay_months": 6.0}, analyses="logrank")
    np.testing.assert_array_equal(one.events, many.events)
    tab = many.to_frame()
    assert list(tab.index) == ["rmst", "cox_wald", "logrank", "fh01"] and many.analysis == "rmst"
    assert tab.loc["cox_wald", "benefit"] == one.power
    assert tab.loc["logrank", "benefit"] == lr.power
    assert many.power == tab.loc["rmst", "benefit"]
    np.testing.assert_allclose(tab["benefit_se"], np.sqrt(tab["benefit"] * (1 - tab["benefit"]) / 600))
    # a delayed effect: the late-weighted FH(0,1) is more powerful than the log-rank test
    assert tab.loc["fh01", "benefit"] > tab.loc["logrank", "benefit"]
    # the first analysis gives the estimate: RMST difference (months), positive favouring A
    assert 0 < float(np.median(many.estimate)) < 3


def test_maxcombo_uses_its_own_decision_rule() -> None:
    r = simulate(PLAN, 400, seed=5, truth={"effect_delay_months": 6.0}, analyses="maxcombo")
    rej, z = r.reject["maxcombo"], np.abs(r.z["maxcombo"])
    # MaxCombo's critical value exceeds 1.96: some trials with max |z| just above 1.96 do not reject
    assert (rej <= (z > 1.959964)).all() and ((z > 1.959964) & ~rej).any()
    assert np.all(np.isnan(r.estimate))


# ---------------------------------------------------------------------------- the result
def test_result_contract() -> None:
    r = simulate(PLAN, 200, seed=2, truth={"hazard_ratio": 0.66})
    text = r.summary()
    assert "power for benefit" in text and "MC SE" in text and "hazard_ratio=0.66" in text
    assert "calendar-driven" in r.summary() and "Cox model Wald z" in r.summary()
    assert r.power_se == pytest.approx(math.sqrt(r.power * (1 - r.power) / 200))
    assert r.type_one_error_ok is None and r.n_failed == r.failed() == 0
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == [
        "rejection", "rejection_se", "benefit", "benefit_se", "harm", "harm_se", "failed"]
    assert "<table" in r._repr_html_()


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,word", [
    ({"n_trials": 0}, "n_trials"),
    ({"n_trials": 10.0}, "n_trials"),
    ({"seed": -1}, "seed"),
    ({"seed": True}, "seed"),
    ({"analyses": "wilcoxon"}, "analyses"),
    ({"analyses": ["cox_wald", "cox_wald"]}, "analyses"),
    ({"analyses": []}, "analyses"),
    ({"analyses": 3}, "analyses"),
    ({"engine": "gpu"}, "engine"),
    ({"truth": {"hazard": 0.5}}, "hazard"),
    ({"truth": 0.5}, "truth"),
    ({"plan": PLAN.design}, "plan must be a trialnb.plan.TrialPlan"),
])
def test_bad_arguments_are_named(kwargs: dict, word: str) -> None:
    args = {"plan": PLAN, "n_trials": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=word):
        simulate(args.pop("plan"), **args)


def test_bad_truth_and_analyses_are_scenario_errors() -> None:
    with pytest.raises(ScenarioError):
        simulate(PLAN, 10, truth={"hazard_ratio": -1.0})
    with pytest.raises(ScenarioError):
        simulate(PLAN, 10, analyses="wilcoxon")


# ---------------------------------------------------------------------------- required patients
def test_required_patients_brackets_the_target() -> None:
    plan = PLAN.with_changes(**HOMOGENEOUS)
    res = required_patients(plan, power=0.8, analysis="logrank", n_trials=400, seed=3)
    assert isinstance(res, RequiredPatients)
    ev = res.evaluations.set_index("n_patients")["power"]
    assert ev.loc[res.n_patients] == res.power
    assert abs(res.power - 0.8) < 3 * res.power_se + 0.02
    assert res.n_lower < res.n_patients < res.n_upper + 2 and res.n_upper - res.n_lower < 80
    assert (ev[ev.index < res.n_lower - 40] < 0.8).all() and (ev[ev.index > res.n_upper + 40] > 0.8).all()
    assert 150 < res.n_patients < 330  # Schoenfeld: about 236 patients for 80% at HR 0.5 (the protocol)
    assert "patients for" in res.summary() and res.to_frame() is res.evaluations
    with pytest.raises(ScenarioError, match="no treatment effect"):
        required_patients(PLAN.with_changes(hazard_ratio=1.0))
    with pytest.raises(ScenarioError, match="power"):
        required_patients(plan, power=1.5)
    with pytest.raises(ScenarioError, match="step"):
        required_patients(plan, step=3)
