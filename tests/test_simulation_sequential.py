"""The plan as written, simulated: ``trialnb.simulation.simulate_sequential``.

The plan's own monitoring (adjusted Cox Wald z on deaths within 24 months, looks at primary-
endpoint deaths, calendar-driven final with the boundary recalculated per trial from its deaths)
keeps the two-sided type-I error, with the non-binding guidelines followed or ignored; the
recalculated final boundary equals an independent bivariate-normal derivation; a one-look plan
is the fixed simulation on the same seed; stopping early exaggerates the estimate
(conditional bias).

The labelled comparison -- the plan with ``statistic="logrank"``, ``censor_months=None`` and an
event-driven final, the design rpact's ``getSimulationSurvival`` simulates -- runs a compiled
path; it equals the numpy path on the same trials (z to 1e-12, the same decisions, events and
dates) and R rpact within Monte-Carlo error (``tests/reference/rpact_sequential_sim.json``,
written by ``tests/reference/rpact_sequential_sim.R``). The compiled kernel is also checked
directly (threads, patient order, bounds, a second bit generator).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from trialnb.errors import DesignError, ScenarioError
from trialnb.monitoring import design as gs_design
from trialnb.monitoring import plan_design, plan_interim_events, plan_max_events
from trialnb.plan import PLAN, TrialPlan
from trialnb.simulation import (BENEFIT, CONTINUE, FUTILITY, HARM, HARM_GUIDELINE, Boundaries, SequentialResult,
                                cut, naive_type_one_error, primary_death_dates, simulate, simulate_sequential,
                                simulate_trials)
from trialnb.simulation import _looks_kernel as kernel
from trialnb.simulation import sequential as seq
from trialnb.simulation.fixed import resolve_truth
from trialnb.survival import logrank

REF = Path(__file__).resolve().parent / "reference"
RPACT = json.loads((REF / "rpact_sequential_sim.json").read_text())
CASES = {c["id"]: c for c in RPACT["cases"]}
Z_TOL = 4.0  # |difference| / combined MC SE: a 4-sigma band (fails by chance ~1 in 16,000)
HOMOGENEOUS = {"hr_soft_tissue": 1.0, "hr_visceral": 1.0, "hr_hr_negative": 1.0, "hr_her2_positive": 1.0}
NULL = {"hazard_ratio": 1.0}
REALISTIC = {k: getattr(PLAN.design, k) for k in ("allocation", "dropout_probability", *HOMOGENEOUS)}
"""The plan's population: minimization, 10% drop-out, the prognostic factors."""

COMPARISON = PLAN.with_changes(
    # rpact's trial: 236 patients, uniform accrual over 36 months, control survival exp(-0.5) at 24
    # months, no drop-out, no prognostic factor, 1:1 (blocks of 4)
    n_patients=236, accrual_months=36.0, dropout_probability=0.0, allocation="blocks", **HOMOGENEOUS,
    # rpact's analysis: log-rank on all deaths, looks at death counts, one-sided 2.5%, no harm rule
    statistic="logrank", censor_months=None, alpha=0.025, sided=1, final_analysis="events", futility_z=None,
    harm_z=None)
"""The labelled comparison plan: the design rpact's getSimulationSurvival simulates."""


def rpact_plan(case: dict) -> TrialPlan:
    """The comparison plan of one rpact case: its looks and futility bound. rpact is given its
    planned deaths; the plan derives them (Schoenfeld x inflation, rounded up), which gives 66 at
    power 0.80 for two looks and at power 0.795 for three (0.80 gives 67)."""
    events = case["planned_events"]
    rates = tuple(e / events[-1] for e in events)
    fut = case["futility_bounds"]
    return COMPARISON.with_changes(information_rates=rates, futility_z=None if fut is None else fut[0],
                                   power=0.8 if len(events) == 2 else 0.795)


def _close(ours: float, ref: float, n_ours: int, n_ref: int, what: str) -> None:
    p = (ours * n_ours + ref * n_ref) / (n_ours + n_ref)
    se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / n_ours + 1 / n_ref))
    assert abs(ours - ref) <= Z_TOL * se + 1e-12, f"{what}: trialnb {ours:.4f} vs rpact {ref:.4f} (SE {se:.4f})"


# ---------------------------------------------------------------------------- the plan as written
@pytest.fixture(scope="module")
def null_runs() -> dict[bool, SequentialResult]:
    return {follow: simulate_sequential(PLAN, 4000, seed=11, truth=NULL, follow_guidelines=follow)
            for follow in (True, False)}


def test_the_plan_as_written() -> None:
    r = simulate_sequential(PLAN, 200, seed=1)
    assert r.plan == PLAN and r.truth == PLAN.design and r.k == 2
    assert r.planned_events == (33, 66) == plan_interim_events(PLAN) + (plan_max_events(PLAN),)
    assert r.z.shape == r.estimate.shape == r.events.shape == r.months.shape == r.bound.shape == (200, 2)
    # the interim comes at its 33rd primary-endpoint death, the final 24 months after the last patient
    assert np.all(r.events[:, 0] == 33)
    d = simulate_trials(PLAN.design, 200, np.random.default_rng(np.random.SeedSequence(1).spawn(1)[0]))
    first = np.sort(primary_death_dates(d, 24.0), axis=1)[:, 32]
    np.testing.assert_array_equal(r.months[:, 0], first)
    went_on = r.stage == 2
    np.testing.assert_array_equal(r.months[went_on, 1], d.entry[went_on, -1] + 24.0)
    assert np.all(np.isnan(r.z[~went_on, 1]))  # no second look after a stop
    # patients who had completed 24 months at the interim
    np.testing.assert_array_equal(r.complete[:, 0], np.sum(d.entry <= (first - 24.0)[:, None], axis=1))
    assert r.complete[:, 0].max() < 100


@pytest.mark.parametrize("follow", [True, False])
def test_type_one_error_of_the_plan_as_written(null_runs, follow: bool) -> None:
    """Under HR 1 the two-sided type-I error (benefit or harm) stays at or below 5% within MC
    error with the futility and harm guidelines followed (they only stop trials), and within MC
    error of 5% when they are ignored; both sides are spent."""
    r = null_runs[follow]
    n, tol = r.n_trials, 3 * math.sqrt(0.05 * 0.95 / r.n_trials)
    assert r.rejection == pytest.approx(r.power + r.harm_rejection)
    if follow:
        assert r.rejection <= 0.05 + tol, r.summary()
        assert r.futility_by_stage[0] > 0.3 and r.harm_stop_by_stage[0] > 0.005  # the guidelines act
        # the futility guideline (benefit z <= 0) stops most trials heading for a harm rejection
        assert r.harm_rejection < r.power / 2
    else:
        assert abs(r.rejection - 0.05) <= tol, r.summary()
        assert not np.any(np.isin(r.decision, (FUTILITY, HARM_GUIDELINE)))
        assert r.power > 0.015 and r.harm_rejection > 0.015  # both sides spent
    assert r.type_one_error_ok is True
    assert "type-I error" in r.summary() and ("followed" if follow else "ignored") in r.summary()
    assert n == 4000


def test_the_final_boundary_is_recalculated_per_trial(null_runs) -> None:
    """Calendar-driven final: D deaths instead of the planned 66. With the interim bound c1 kept
    (the alpha it spent), the final bound c solves P(|Z1| < c1, |Z2| < c) = 0.95, corr(Z1, Z2) =
    sqrt(33 / D) -- derived here with scipy's bivariate normal, independently of
    trialnb.monitoring."""
    r = null_runs[False]
    c1 = float(plan_design(PLAN).critical_values[0])
    assert np.all(r.bound[:, 0] == c1)

    def final(e1: float, d: float) -> float:
        rho = math.sqrt(e1 / d)
        mvn = stats.multivariate_normal([0.0, 0.0], [[1.0, rho], [rho, 1.0]])
        inside = lambda c: (mvn.cdf([c1, c]) - mvn.cdf([-c1, c]) - mvn.cdf([c1, -c])  # noqa: E731
                            + mvn.cdf([-c1, -c]))
        return optimize.brentq(lambda c: inside(c) - 0.95, 1.0, 4.0, xtol=1e-12)

    finals = np.flatnonzero(r.stage == 2)
    deaths = r.events[finals, 1]
    assert deaths.min() < 80 < deaths.max()  # the final deaths vary, and so does the bound
    for i in finals[np.unique(deaths, return_index=True)[1]][:6]:
        assert r.bound[i, 1] == pytest.approx(final(r.events[i, 0], r.events[i, 1]), abs=1e-7), r.events[i]
    # a trial whose final has exactly the planned deaths uses the design's final bound
    c2 = float(plan_design(PLAN).critical_values[1])
    assert final(33, 66) == pytest.approx(c2, abs=1e-7)


def test_a_skipped_interim_leaves_all_alpha_to_the_final() -> None:
    """With 90 patients some trials never have 33 primary-endpoint deaths before the calendar final:
    their only look spends all of alpha, bound z_{0.975}."""
    r = simulate_sequential(PLAN.with_changes(n_patients=90), 400, seed=2, follow_guidelines=False)
    skipped = ~r.reached[:, 0]
    assert 0 < skipped.mean() < 1
    np.testing.assert_allclose(r.bound[skipped, 1], stats.norm.isf(0.025), atol=1e-7)
    assert np.all(r.stage[skipped] == 2)


def test_a_one_look_plan_is_the_fixed_simulation() -> None:
    for plan in (PLAN, PLAN.with_changes(final_analysis="events"), PLAN.with_changes(statistic="logrank"),
                 COMPARISON.with_changes(sided=2, alpha=0.05)):
        one = plan.with_changes(information_rates=(1.0,))
        s = simulate_sequential(one, 300, seed=5)
        f = simulate(one, 300, seed=5)
        name = one.analysis.statistic
        assert s.planned_events == (plan_max_events(one),)
        np.testing.assert_allclose(s.z[:, 0], f.z[name], rtol=0, atol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(s.events[:, 0], f.events)
        np.testing.assert_array_equal(s.months[:, 0], f.months)
        np.testing.assert_allclose(s.bound[:, 0], stats.norm.isf(one.analysis.alpha / 2), atol=1e-7)
        rej, z = f.reject[name], f.z[name]
        np.testing.assert_array_equal(s.decision == BENEFIT, rej & (z < 0))
        np.testing.assert_array_equal(s.decision == HARM, rej & (z > 0))
        assert s.power == f.power and s.harm_rejection == f.harm()


def test_stopping_rules_trial_by_trial() -> None:
    """At the interim: efficacy (benefit z >= c1), then the harm guideline (benefit z <= harm_z),
    then futility (benefit z <= futility_z); the final: benefit z >= c2 (per trial) for benefit,
    <= -c2 for harm."""
    plan = PLAN.with_changes(futility_z=0.2, harm_z=-1.5)
    r = simulate_sequential(plan, 1500, seed=9, truth={"hazard_ratio": 0.8})
    zb1 = -r.z[:, 0]
    c1 = float(plan_design(plan).critical_values[0])
    expected1 = np.where(zb1 >= c1, BENEFIT, np.where(zb1 <= -c1, HARM, np.where(
        zb1 <= -1.5, HARM_GUIDELINE, np.where(zb1 <= 0.2, FUTILITY, CONTINUE))))
    first = r.stage == 1
    np.testing.assert_array_equal(r.decision[first], expected1[first])
    assert np.all(expected1[~first] == CONTINUE)
    for code in (BENEFIT, HARM_GUIDELINE, FUTILITY):
        assert np.any(r.decision[first] == code), code
    last = ~first
    zb2, c2 = -r.z[last, 1], r.bound[last, 1]
    np.testing.assert_array_equal(r.decision[last], np.where(zb2 >= c2, BENEFIT, np.where(zb2 <= -c2, HARM, CONTINUE)))
    assert r.rejection_by_stage.sum() == pytest.approx(r.power)
    frame = r.to_frame()
    assert list(frame.index) == [1, 2] and frame["cumulative_benefit"].iloc[-1] == pytest.approx(r.power)
    assert frame["planned_events"].tolist() == [33, 66]


def test_efficacy_needs_maturity_when_the_plan_asks() -> None:
    """efficacy_min_complete: an interim stops for efficacy only when that many patients have
    completed 24 months; otherwise the trial goes on (same trials, same z)."""
    base = simulate_sequential(PLAN, 1000, seed=3)
    mature = simulate_sequential(PLAN.with_changes(efficacy_min_complete=236), 1000, seed=3)
    np.testing.assert_array_equal(mature.z[:, 0], base.z[:, 0])
    assert base.rejection_by_stage[0] > 0.05 and mature.rejection_by_stage[0] == 0
    some = simulate_sequential(PLAN.with_changes(efficacy_min_complete=30), 1000, seed=3)
    stopped = (some.decision == BENEFIT) & (some.stage == 1)
    assert np.all(some.complete[stopped, 0] >= 30) and 0 < stopped.sum() < (base.rejection_by_stage[0] * 1000)


def test_stopping_early_exaggerates_the_estimate() -> None:
    """Under the design's HR 0.5 the trials that stop at the interim for benefit overestimate the
    benefit: conditional bias (mean estimated log HR minus the true log HR) is negative on the
    log-HR scale, i.e. the estimated HR is below 0.5 -- the bias comes from the selection (the
    estimate over all trials at the interim is unbiased) and is larger at the interim than at the
    final analysis."""
    r = simulate_sequential(PLAN, 3000, seed=4)
    b1, b2 = r.conditional_bias(1), r.conditional_bias(2)
    assert b1 < -0.3 and math.exp(math.log(0.5) + b1) < 0.4
    assert abs(b2) < abs(b1)
    assert abs(float(np.nanmean(r.estimate[:, 0])) - math.log(0.5)) < 0.05  # all trials at the interim
    delayed = simulate_sequential(PLAN, 200, seed=4, truth={"effect_delay_months": 6.0})
    assert math.isnan(delayed.conditional_bias(1))  # no single true HR to compare with


def test_engines_give_the_same_plan_as_written() -> None:
    """The general path with the compiled Cox kernel or its numpy twin: the same looks and
    decisions, z to 1e-9."""
    a = simulate_sequential(PLAN, 300, seed=8, truth={"hazard_ratio": 0.7}, engine="numpy")
    b = simulate_sequential(PLAN, 300, seed=8, truth={"hazard_ratio": 0.7}, engine="numba")
    np.testing.assert_allclose(a.z, b.z, rtol=1e-9, atol=1e-12, equal_nan=True)
    for f in ("events", "months", "stage", "decision", "bound", "complete"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_interim_deaths_round_up() -> None:
    """A look never comes before its planned fraction of the deaths: ceil(rate x max)."""
    assert plan_interim_events(PLAN.with_changes(information_rates=(0.44, 1.0))) == (30,)  # 29.04 -> 30
    assert plan_interim_events(PLAN.with_changes(information_rates=(1 / 3, 2 / 3, 1.0))) == (23, 45)  # of 67
    assert plan_interim_events(PLAN.with_changes(information_rates=(1.0,))) == ()


def test_cox_and_logrank_plans_give_similar_power() -> None:
    cox = simulate_sequential(PLAN, 1500, seed=4)
    lr = simulate_sequential(PLAN.with_changes(statistic="logrank"), 1500, seed=4)
    assert abs(lr.power - cox.power) < 0.05
    ok = np.isfinite(cox.z[:, 0])
    assert ok.mean() > 0.99 and cox.failed_by_stage[0] == np.sum(~ok)
    assert np.corrcoef(lr.z[ok, 0], cox.z[ok, 0])[0, 1] > 0.95


# ---------------------------------------------------------------------------- the comparison path
@pytest.fixture(scope="module")
def rpact_runs() -> dict[str, SequentialResult]:
    return {c["id"]: simulate_sequential(rpact_plan(c), 10_000, seed=100 + i, truth={"hazard_ratio": c["hazard_ratio"]})
            for i, c in enumerate(RPACT["cases"])}


@pytest.mark.parametrize("cid", list(CASES))
def test_same_power_and_stopping_as_rpact(cid: str, rpact_runs) -> None:
    c, res = CASES[cid], rpact_runs[cid]
    n, nr = res.n_trials, c["iterations"]
    assert res.planned_events == tuple(c["planned_events"])
    np.testing.assert_allclose(plan_design(res.plan).critical_values, c["critical_values"], rtol=1e-8)
    _close(res.power, c["overall_reject"], n, nr, "overall rejection")
    for j, ref in enumerate(c["reject_per_stage"]):
        _close(res.rejection_by_stage[j], ref, n, nr, f"rejection at look {j + 1}")
    if c["futility_per_stage"] is not None:
        for j, ref in enumerate(c["futility_per_stage"]):
            _close(res.futility_by_stage[j], ref, n, nr, f"futility at look {j + 1}")
    else:
        assert np.all(res.futility_by_stage == 0)
    se = float(np.std(res.events_used)) / math.sqrt(n)  # rpact's 20,000 trials: a similar spread, doubled
    assert abs(res.expected_events - c["expected_events"]) <= Z_TOL * 1.3 * se + 1e-9
    # rpact places entries slightly differently (deterministic accrual intensity); the mean calendar
    # month of a look agrees to within 0.2 months (about 1% of a 20-40 month look)
    np.testing.assert_allclose(res.analysis_months, c["analysis_time"], atol=0.2, err_msg=cid)


def test_rpact_type_one_error_within_mc_error_of_alpha() -> None:
    plan = rpact_plan(CASES["asOF_33_66_hr100"])
    res = simulate_sequential(plan, 20_000, seed=7, truth=NULL)
    assert abs(res.power - 0.025) <= 3 * math.sqrt(0.025 * 0.975 / res.n_trials), res.summary()
    assert res.type_one_error_ok is True and res.harm_rejection == 0


def test_naive_repeated_testing_inflates_the_type_one_error() -> None:
    """Five looks, each at the fixed design's one-sided 2.5% bound 1.96: the classic inflation
    (Armitage, McPherson & Rowe 1969), simulated and in closed form."""
    naive = Boundaries((0.2, 0.4, 0.6, 0.8, 1.0), (1.959964,) * 5)
    res = simulate_sequential(COMPARISON, 5000, seed=3, truth=NULL, boundaries=naive)
    exact = naive_type_one_error(5)
    assert exact == pytest.approx(0.0713, abs=0.002) and naive_type_one_error(1) == pytest.approx(0.025, abs=1e-6)
    assert abs(res.power - exact) < 4 * math.sqrt(exact * (1 - exact) / 5000)
    assert res.type_one_error_ok is False
    # the planned deaths are those of the plan with these looks (its spending design's inflation)
    assert res.planned_events[-1] == plan_max_events(COMPARISON.with_changes(information_rates=naive.information_rates))


def test_the_monitoring_design_spends_as_designed() -> None:
    """A three-look O'Brien-Fleming plan under HR 1 (the realistic population, minimization,
    10% drop-out): one-sided 2.5% within MC error; most of the error at the last look."""
    plan = COMPARISON.with_changes(information_rates=(1 / 3, 2 / 3, 1.0), power=0.795, **REALISTIC)
    d = gs_design(3, alpha=0.025, type_of_design="asOF", information_rates=[1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(plan_design(plan).critical_values, d.critical_values, rtol=1e-12)
    res = simulate_sequential(plan, 10_000, seed=31, truth=NULL)
    assert res.planned_events == (22, 44, 66)
    assert abs(res.power - 0.025) <= 3 * math.sqrt(0.025 * 0.975 / res.n_trials), res.summary()
    assert res.rejection_by_stage[-1] > res.rejection_by_stage[0]


ENGINE_TRUTHS: dict[str, dict] = {
    "rpact_design": {},
    "loss": {"hazard_ratio": 0.7, "dropout_probability": 0.2},
    "coin_delay_slow_start": {"hazard_ratio": 0.6, "allocation": "complete", "effect_delay_months": 6.0,
                              "accrual_shape": 2.0},
    "blocks_of_6": {"hazard_ratio": 0.7, "block_size": 6, "dropout_probability": 0.1},
    "fewer_deaths_than_planned": {"hazard_ratio": 0.8, "n_patients": 40, "dropout_probability": 0.6},
    "minimization_and_factors": REALISTIC,
    "factors_noncompliance_crossover": {"hazard_ratio": 0.6, "hr_visceral": 1.5, "non_compliance": 0.1,
                                        "crossover": 0.2},
    "early_harm": {"hazard_ratio": 0.6, "early_hazard_ratio": 2.0, "early_months": 2.0},
}
ENGINE_PLANS: dict[str, TrialPlan] = {
    "futility_harm": COMPARISON.with_changes(information_rates=(1 / 3, 2 / 3, 1.0), power=0.795, futility_z=0.0,
                                             harm_z=-2.326),
    "two_sided": COMPARISON.with_changes(information_rates=(1 / 3, 2 / 3, 1.0), power=0.795, sided=2, alpha=0.05),
}


@pytest.mark.parametrize("name", list(ENGINE_TRUTHS))
@pytest.mark.parametrize("plan_name", list(ENGINE_PLANS))
def test_comparison_path_equals_the_numpy_path(name: str, plan_name: str) -> None:
    """engine="numba" takes the compiled comparison path (the trials generated in the kernel when
    the design allows, else simulate_trials' trials with compiled looks); engine="numpy" the general
    path (simulate_trials, cut, the registry's log-rank): the same trials, so the same z (to 1e-12),
    estimates, deaths, dates, stages and decisions."""
    plan, truth = ENGINE_PLANS[plan_name], ENGINE_TRUTHS[name]
    ref = simulate_sequential(plan, 300, seed=12, truth=truth, engine="numpy")
    new = simulate_sequential(plan, 300, seed=12, truth=truth, engine="numba")
    np.testing.assert_allclose(new.z, ref.z, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(new.estimate, ref.estimate, rtol=1e-12, atol=1e-14, equal_nan=True)
    for f in ("events", "months", "stage", "decision", "bound", "complete"):
        np.testing.assert_array_equal(getattr(new, f), getattr(ref, f), err_msg=f)
    if name == "fewer_deaths_than_planned":  # looks that never come, and a final with fewer deaths
        assert np.any(~new.reached[:, 0]) and np.all(new.events[new.stage == 3, 2] < 66)


def test_both_compiled_paths_are_exercised() -> None:
    """The kernel generates the trials only without factors, minimization, non-compliance,
    crossover or an early period (seq._generated_by_kernel); the other truths above take
    simulate_trials' trials to the compiled looks."""
    kernel_made = {n for n, t in ENGINE_TRUTHS.items()
                   if seq._generated_by_kernel(resolve_truth(COMPARISON, t))}
    assert kernel_made == {"rpact_design", "loss", "coin_delay_slow_start", "blocks_of_6", "fewer_deaths_than_planned"}


@pytest.mark.parametrize("name", ["rpact_design", "coin_delay_slow_start", "minimization_and_factors"])
@pytest.mark.parametrize("bit_generator", ["PCG64", "MT19937"])
def test_compiled_looks_equal_looks_cut_by_hand(name: str, bit_generator: str) -> None:
    """seq._kernel_looks (the compiled generator, or simulate_trials + the compiled looks) from a
    generator gives, at each look, the log-rank (O - E)/sqrt(V) of simulate_trials' trials from
    the same generator cut by hand at the date of the look's death (or the final cut-off), and
    leaves the generator at the same place (PCG64 jumps past the unused draws, others draw them)."""
    world = resolve_truth(COMPARISON, ENGINE_TRUTHS[name])
    rng = lambda: np.random.Generator(getattr(np.random, bit_generator)(21))  # noqa: E731
    need = np.array([10, 30, 0], dtype=np.int64)
    r1, r2 = rng(), rng()
    oe, v, ev, cutd = seq._kernel_looks(COMPARISON, world, 250, r1, need, 66, "numba")
    data = simulate_trials(world, 250, r2)
    dates = np.sort(primary_death_dates(data, None), axis=1)
    final = np.minimum(dates[:, 65], data.entry[:, -1] + 240.0)
    assert r1.random() == r2.random()
    for j, k in enumerate(need):
        c = final if k == 0 else np.minimum(dates[:, k - 1], final)
        np.testing.assert_array_equal(cutd[:, j], c)
        t, e = cut(data, c, None)
        np.testing.assert_array_equal(ev[:, j], e.sum(axis=1))
        np.testing.assert_allclose(oe[:, j] / np.sqrt(v[:, j]), logrank(t, e, data.arm).z, rtol=0, atol=1e-12)


def test_looks_kernel_threads_and_patient_order() -> None:
    data = simulate_trials(replace(COMPARISON.design, dropout_probability=0.2), 200, np.random.default_rng(4))
    dates = primary_death_dates(data, None)
    duration = np.sort(dates, axis=1)[:, 65]
    time, event = cut(data, duration, None)
    need = np.array([22, 44, 0], dtype=np.int64)

    def run(t, e, entry, arm, n_blocks=1):
        out = [np.empty((200, 3)), np.empty((200, 3)), np.empty((200, 3), dtype=np.int64), np.empty((200, 3))]
        args = (t, e, entry, arm, duration, need, *out)
        kernel.logrank_looks_parallel(*args, n_blocks) if n_blocks > 1 else kernel.logrank_looks(*args)
        return out

    serial = run(time, event, data.entry, data.arm)
    for a, b in zip(serial, run(time, event, data.entry, data.arm, n_blocks=3), strict=True):  # blocks over threads
        np.testing.assert_array_equal(a, b)
    # patients out of entry order take the binary-search path: the same risk sets
    perm = np.argsort(np.random.default_rng(5).random(time.shape), axis=1)
    rows = np.arange(200)[:, None]
    permuted = run(time[rows, perm], event[rows, perm], data.entry[rows, perm], data.arm[rows, perm])
    for a, b in zip(serial, permuted, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # and the numbers are the numpy engine's: look 2 of every trial, cut by hand
    c = np.minimum(np.sort(dates, axis=1)[:, 43], duration)
    t, e = cut(data, c, None)
    np.testing.assert_allclose(serial[0][:, 1] / np.sqrt(serial[1][:, 1]), logrank(t, e, data.arm).z, rtol=0,
                               atol=1e-12)
    np.testing.assert_array_equal(serial[2][:, 1], e.sum(axis=1))
    np.testing.assert_array_equal(serial[3][:, 1], c)


def test_looks_kernel_stays_in_bounds_on_non_finite_times() -> None:
    # the kernel trusts the generator's finite times for its numbers, never for memory safety
    data = simulate_trials(COMPARISON.design, 50, np.random.default_rng(6))
    duration = data.entry[:, -1] + 24.0
    time, event = cut(data, duration, None)
    time[:, ::7] = np.nan
    time[::3, 5] = np.inf
    out = [np.empty((50, 2)), np.empty((50, 2)), np.empty((50, 2), dtype=np.int64), np.empty((50, 2))]
    kernel.logrank_looks(time, event, data.entry, data.arm, duration, np.array([33, 0], dtype=np.int64), *out)
    assert np.all((out[2] >= 0) & (out[2] <= data.n_patients))


# ---------------------------------------------------------------------------- bad input and the result
def test_bad_input_is_named() -> None:
    with pytest.raises(ScenarioError, match="end at 1"):
        Boundaries((0.5, 0.9), (3.0, 2.0))
    with pytest.raises(ScenarioError, match="one per look"):
        Boundaries((0.5, 1.0), (2.0,))
    with pytest.raises(ScenarioError, match="sided"):
        Boundaries((1.0,), (1.96,), sided=3)
    with pytest.raises(DesignError, match="do not each add a death"):
        simulate_sequential(PLAN.with_changes(information_rates=(0.49, 0.495, 1.0)), 10)  # 33 and 33
    with pytest.raises(ScenarioError, match="Boundaries"):
        simulate_sequential(PLAN, 10, boundaries=(0.5, 1.0))  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="TrialPlan"):
        simulate_sequential(PLAN.design, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_trials"):
        simulate_sequential(PLAN, 0)
    with pytest.raises(ValueError, match="engine"):
        simulate_sequential(PLAN, 10, engine="gpu")
    with pytest.raises(ScenarioError, match="looks"):
        naive_type_one_error(0)


def test_result_contract() -> None:
    r = simulate_sequential(PLAN, 300, seed=8)
    text = r.summary()
    assert "looks at 33, 66 primary-endpoint deaths" in text and "calendar-driven" in text
    assert "power (benefit)" in text and "Cox model Wald z" in text
    frame = r.to_frame()
    assert {"planned_events", "mean_bound", "benefit", "futility", "harm_stop", "reached", "analysis_month"} <= set(
        frame.columns)
    assert frame["reached"].iloc[0] == 1.0 and "<table" in r._repr_html_()
    assert r.type_one_error_ok is None
    assert r.power_se == pytest.approx(math.sqrt(r.power * (1 - r.power) / 300))
    assert r.expected_months == pytest.approx(float(np.mean(r.months[np.arange(300), r.stage - 1])))


# ---------------------------------------------------------------------------- R
# ---------------------------------------------------------------------------------------
# the quoted operating characteristics (notebook 05 and the SAP) and the per-look decisions


def test_plan_operating_characteristics_are_three_simulations_of_one_call() -> None:
    from trialnb.simulation import OC_N_TRIALS, OC_SEED, PlanOperatingCharacteristics, plan_operating_characteristics

    assert (OC_N_TRIALS, OC_SEED) == (4000, 20201120)
    oc = plan_operating_characteristics(PLAN, 300, seed=7)
    assert isinstance(oc, PlanOperatingCharacteristics)
    same = simulate_sequential(PLAN, 300, seed=7)
    np.testing.assert_array_equal(oc.benefit.decision, same.decision)
    null = simulate_sequential(PLAN, 300, seed=8, truth=NULL)
    np.testing.assert_array_equal(oc.null.decision, null.decision)
    ignoring = simulate_sequential(PLAN, 300, seed=8, truth=NULL, follow_guidelines=False)
    np.testing.assert_array_equal(oc.null_ignoring.decision, ignoring.decision)
    assert oc.benefit.truth.hazard_ratio == PLAN.design.hazard_ratio and oc.null.truth.hazard_ratio == 1.0
    frame = oc.to_frame()
    assert list(frame.index) == list(oc.scenarios())
    assert frame.loc["HR 1, guidelines ignored", "interim_futility"] == 0.0  # ignored guidelines never stop
    assert frame["benefit"].tolist() == [oc.benefit.power, oc.null.power, oc.null_ignoring.power]
    assert "guidelines ignored" in oc.summary()
    with pytest.raises(ScenarioError, match="n_trials"):
        plan_operating_characteristics(PLAN, 0)
    with pytest.raises(ScenarioError, match="seed"):
        plan_operating_characteristics(PLAN, 10, seed=-1)


def test_decisions_by_stage_sum_to_one_and_match_the_rates() -> None:
    r = simulate_sequential(PLAN, 400, seed=3, truth=NULL)
    t = r.decisions_by_stage()
    assert list(t.index) == ["1", "2", "any"] and t.loc[["1", "2"]].to_numpy().sum() == pytest.approx(1.0)
    np.testing.assert_allclose(t.loc[["1", "2"], "rejected for benefit"], r.rejection_by_stage)
    np.testing.assert_allclose(t.loc[["1", "2"], "futility guideline"], r.futility_by_stage)
    np.testing.assert_allclose(t.loc[["1", "2"], "harm guideline"] + t.loc[["1", "2"], "rejected for harm"],
                               r.harm_stop_by_stage)
    assert t.loc["any", "rejected for benefit"] == pytest.approx(r.power)
    assert t.loc["any", "rejected for harm"] == pytest.approx(r.harm_rejection)
    # independent count from the per-trial arrays
    for j in (1, 2):
        assert t.loc[str(j), "futility guideline"] == np.mean((r.decision == FUTILITY) & (r.stage == j))
        assert t.loc[str(j), "harm guideline"] == np.mean((r.decision == HARM_GUIDELINE) & (r.stage == j))


def test_monte_carlo_errors_of_the_means_and_of_the_conditional_bias() -> None:
    r = simulate_sequential(PLAN, 400, seed=4)
    used = r.events[np.arange(r.n_trials), r.stage - 1]
    assert r.expected_events_se == pytest.approx(np.std(used, ddof=1) / 20)
    end = r.months[np.arange(r.n_trials), r.stage - 1]
    assert r.expected_months_se == pytest.approx(np.std(end, ddof=1) / 20)
    sel = (r.decision == BENEFIT) & (r.stage == 1)
    est = r.estimate[sel, 0]
    assert sel.sum() >= 2
    assert r.conditional_bias(1) == pytest.approx(np.mean(est) - math.log(0.5))
    assert r.conditional_bias_se(1) == pytest.approx(np.std(est, ddof=1) / math.sqrt(sel.sum()))
    # stopping early for benefit selects the trials whose estimate was lucky: the HR is exaggerated,
    # while over every trial at the interim the estimate is close to the truth
    assert r.conditional_bias(1) < -3 * r.conditional_bias_se(1)
    every = r.estimate[np.isfinite(r.months[:, 0]) & np.isfinite(r.estimate[:, 0]), 0]
    assert r.unconditional_bias(1) == pytest.approx(np.mean(every) - math.log(0.5))
    assert abs(r.unconditional_bias(1)) < 0.1 < abs(r.conditional_bias(1))
    # a delayed effect has no single true log HR: NaN, not a number
    delayed = simulate_sequential(PLAN, 100, seed=4, truth={"effect_delay_months": 6.0, "hazard_ratio": 0.3})
    assert ((delayed.decision == BENEFIT) & (delayed.stage == 1)).sum() >= 2
    assert math.isnan(delayed.conditional_bias(1)) and math.isnan(delayed.conditional_bias_se(1))
    assert math.isnan(delayed.unconditional_bias(1))
