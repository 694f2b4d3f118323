"""trialnb.monitoring.timing: when the deaths arrive.

* All deaths: analysis times and patients randomized by then under H0 and H1 equal rpact
  ``getPowerSurvival(...)$analysisTime`` / ``$numberOfSubjects`` (tests/reference/rpact_monitoring.R).
* Deaths within h months of randomization (the primary endpoint's): the closed form equals an
  independent numerical integration over entry times and a Monte-Carlo count.
* A calendar-driven final: month a + h, and its expected deaths n sum_j w_j F_j(h).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from trialnb.errors import SampleSizeError
from trialnb.monitoring import analysis_times, expected_deaths, expected_randomized

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "rpact_monitoring.json").read_text())
POWERS = {p["id"]: p for p in REF["powers"]}


@pytest.mark.parametrize("pid", sorted(POWERS))
def test_analysis_times_equal_rpact(pid):
    c = POWERS[pid]
    res = analysis_times(c["eventsPerStage"], n_patients=c["maxSubjects"], accrual_time=c["accrual"],
                         hazard_ratio=c["hazardRatio"], control_hazard=c["lambda2"], allocation_ratio=c["ratio"],
                         dropout_hazard=c["dropoutHazard"])
    np.testing.assert_allclose(res.months_h0, c["analysisTimeH0"], rtol=1e-7)
    np.testing.assert_allclose(res.months_h1, c["analysisTimeH1"], rtol=1e-7)
    np.testing.assert_allclose(res.randomized_h0, c["numberOfSubjectsH0"], rtol=1e-7)
    np.testing.assert_allclose(res.randomized_h1, c["numberOfSubjectsH1"], rtol=1e-7)
    assert res.kinds == ("events",) * len(c["eventsPerStage"])
    # the deaths expected at those months are the looks' deaths
    for hr, months in ((1.0, res.months_h0), (c["hazardRatio"], res.months_h1)):
        got = expected_deaths(months, n_patients=c["maxSubjects"], accrual_time=c["accrual"], hazard_ratio=hr,
                              control_hazard=c["lambda2"], allocation_ratio=c["ratio"],
                              dropout_hazard=c["dropoutHazard"])
        np.testing.assert_allclose(got, c["eventsPerStage"], rtol=1e-10)


# ---------------------------------------------------------------------------------------
# deaths within a window after randomization


def _by_integration(t, n, a, hr, lam, r, eta, h):
    """n_j / a * integral over entry u in [0, min(t, a)] of F_j(min(t - u, h)), by quadrature
    (F_j(s) = lam_j / (lam_j + eta) (1 - exp(-(lam_j + eta) s)))."""
    total = 0.0
    for n_j, lam_j in ((n / (1 + r), lam), (n * r / (1 + r), hr * lam)):
        tau = lam_j + eta

        def f(u: float, lam_j: float = lam_j, tau: float = tau) -> float:
            s = min(t - u, h) if h is not None else t - u
            return lam_j / tau * -math.expm1(-tau * s)

        top = min(t, a)
        if top <= 0:
            continue
        pts = [t - h] if h is not None and 0 < t - h < top else []
        val, _ = integrate.quad(f, 0.0, top, points=pts or None, epsabs=1e-13, epsrel=1e-12, limit=200)
        total += n_j / a * val
    return total


@settings(max_examples=40, deadline=None)
@given(t=st.floats(0.5, 120), a=st.floats(1, 60), hr=st.floats(0.3, 2.0), lam=st.floats(0.005, 0.1),
       r=st.sampled_from([0.5, 1.0, 2.0]), eta=st.sampled_from([0.0, 0.002, 0.01]),
       h=st.one_of(st.none(), st.floats(3, 36)))
def test_expected_deaths_equal_the_integral_over_entry_times(t, a, hr, lam, r, eta, h):
    mine = expected_deaths(t, n_patients=200, accrual_time=a, hazard_ratio=hr, control_hazard=lam,
                           allocation_ratio=r, dropout_hazard=eta, window=h)
    ref = _by_integration(t, 200, a, hr, lam, r, eta, h)
    assert mine == pytest.approx(ref, rel=1e-9, abs=1e-11)


def test_window_counts_fewer_deaths_only_after_the_window():
    kw = dict(n_patients=236, accrual_time=36, hazard_ratio=0.5, control_hazard=0.5 / 24, dropout_hazard=0.002)
    months = np.array([6.0, 24.0, 30.0, 48.0, 60.0, 90.0])
    all_ = expected_deaths(months, **kw)
    h24 = expected_deaths(months, window=24, **kw)
    np.testing.assert_allclose(h24[:2], all_[:2], rtol=1e-14)  # nobody has passed 24 months yet
    assert np.all(h24[2:] < all_[2:])
    assert h24[-1] == pytest.approx(h24[-2], rel=1e-14)  # nothing new after a + h = 60


def test_expected_deaths_by_monte_carlo():
    """Simulated trials (uniform entry, exponential death and drop-out): the mean count of deaths
    within 24 months of randomization, by calendar month, is the closed form (4 SE)."""
    rng = np.random.default_rng(20)
    n, a, hr, lam, eta, h, reps = 236, 36.0, 0.5, 0.5 / 24, 0.004, 24.0, 4000
    arm = np.r_[np.zeros(n // 2), np.ones(n - n // 2)]
    entry = rng.uniform(0, a, (reps, n))
    death = rng.exponential(1 / np.where(arm == 1, hr * lam, lam), (reps, n))
    drop = rng.exponential(1 / eta, (reps, n))
    for t in (20.0, 33.0, 45.0, 60.0):
        seen = (entry <= t) & (death < drop) & (death <= np.minimum(t - entry, h))
        counts = seen.sum(axis=1)
        expect = expected_deaths(t, n_patients=n, accrual_time=a, hazard_ratio=hr, control_hazard=lam,
                                 dropout_hazard=eta, window=h)
        se = counts.std(ddof=1) / math.sqrt(reps)
        assert abs(counts.mean() - expect) < 4 * se, (t, counts.mean(), expect, se)


def test_primary_endpoint_analysis_times_and_calendar_final():
    lam, eta = 0.5 / 24, -math.log(0.95) / 24
    kw = dict(n_patients=236, accrual_time=36, hazard_ratio=0.5, control_hazard=lam, dropout_hazard=eta, window=24)
    res = analysis_times([33], final="calendar", **kw)
    assert res.kinds == ("events", "calendar")
    # the interim: the month at which 33 primary-endpoint deaths are expected, H0 before H1
    for hr, month in ((1.0, res.months_h0[0]), (0.5, res.months_h1[0])):
        got = expected_deaths(month, **{**kw, "hazard_ratio": hr})
        assert got == pytest.approx(33, rel=1e-10)
    assert res.months_h0[0] < res.months_h1[0] < 60
    np.testing.assert_allclose(res.randomized_h1[0], 236 * res.months_h1[0] / 36, rtol=1e-12)
    # the final: when the last patient randomized completes 24 months, everyone followed 24 months
    assert res.months_h0[1] == res.months_h1[1] == 60.0
    for hr, deaths in ((1.0, res.deaths_h0[1]), (0.5, res.deaths_h1[1])):
        per_arm = [l_ / (l_ + eta) * -math.expm1(-(l_ + eta) * 24) for l_ in (lam, hr * lam)]
        assert deaths == pytest.approx(236 * np.mean(per_arm), rel=1e-12)
    assert res.randomized_h0[1] == res.randomized_h1[1] == 236
    # an explicit final month
    later = analysis_times([33], final="calendar", final_month=66, **kw)
    assert later.months_h1[1] == 66 and later.deaths_h1[1] == pytest.approx(res.deaths_h1[1], rel=1e-12)
    text = res.summary()
    assert "within 24 months" in text and "(calendar)" in text
    assert list(res.to_frame().columns[:2]) == ["timing", "deaths_h0"] and "<table" in res._repr_html_()


def test_targets_never_reached_are_nan_and_said():
    kw = dict(n_patients=100, accrual_time=12, hazard_ratio=0.5, control_hazard=0.01, window=24)
    most = expected_deaths(36, **kw)
    res = analysis_times([most * 0.5, most * 1.01], **kw)
    assert np.isfinite(res.months_h1[0]) and np.isnan(res.months_h1[1]) and np.isnan(res.randomized_h1[1])
    assert res.max_deaths_h1 == pytest.approx(most, rel=1e-12)
    assert "never reached" in res.summary()
    no_window = analysis_times([99.0], **{**kw, "window": None, "control_hazard": 0.05})
    assert np.isfinite(no_window.months_h0[0]) and no_window.months_h0[0] > 12


def test_everyone_enters_at_once():
    res = analysis_times([20, 40], n_patients=100, accrual_time=0, hazard_ratio=0.7, control_hazard=0.02)
    for hr, months in ((1.0, res.months_h0), (0.7, res.months_h1)):
        per_arm = [1 - np.exp(-l_ * months) for l_ in (0.02, hr * 0.02)]
        np.testing.assert_allclose(100 * np.mean(per_arm, axis=0), [20, 40], rtol=1e-10)
    assert np.all(res.randomized_h1 == 100)
    assert expected_randomized([0, 5], n_patients=100, accrual_time=0).tolist() == [100, 100]
    assert expected_randomized(6, n_patients=100, accrual_time=12) == 50


@pytest.mark.parametrize("kwargs, message", [
    (dict(events=[33, 20]), "strictly increasing"),
    (dict(events=True), "a bool is not a number"),
    (dict(events=[True, 40]), "a bool is not a number"),
    (dict(events=[33], window=-1), "window"),
    (dict(events=[33], final="later"), "final"),
    (dict(events=[33], final_month=60), "only with final='calendar'"),
    (dict(events=[33], final="calendar"), "needs final_month, or window"),
    (dict(events=[], final="events"), "at least one"),
    (dict(events=[33], n_patients=0), "n_patients"),
    (dict(events=[33], hazard_ratio=-1), "hazard_ratio"),
])
def test_bad_inputs(kwargs, message):
    base = dict(n_patients=236, accrual_time=36, hazard_ratio=0.5)
    base.update(kwargs)
    events = base.pop("events")
    with pytest.raises(SampleSizeError, match=message):
        analysis_times(events, **base)
    with pytest.raises(SampleSizeError, match="month"):
        expected_deaths(-1, n_patients=10, accrual_time=1, hazard_ratio=1)
    with pytest.raises(SampleSizeError, match="month"):
        expected_deaths(True, n_patients=10, accrual_time=1, hazard_ratio=1)


# ---------------------------------------------------------------------------------------
# a mixed population and the plan's own analysis times

def test_a_mixed_population_adds_its_sub_populations():
    """Strata and non-operation: the expected deaths are the sum of each sub-population's, computed
    as separate one-stratum trials."""
    probs, mult = np.array([0.5, 0.3, 0.2]), np.array([0.6, 1.0, 2.5])
    kw = dict(accrual_time=30, dropout_hazard=0.003, window=24)
    months = np.array([10.0, 25.0, 40.0, 54.0])
    got = expected_deaths(months, n_patients=300, hazard_ratio=0.6, control_hazard=0.02, strata=(probs, mult),
                          non_compliance=0.25, **kw)
    want = np.zeros_like(months)
    for p, m in zip(probs, mult, strict=True):  # arm B, arm A operated, arm A not operated
        want += expected_deaths(months, n_patients=150 * p, hazard_ratio=1.0, control_hazard=0.02 * m, **kw)
        want += expected_deaths(months, n_patients=150 * p * 0.75, hazard_ratio=1.0, control_hazard=0.6 * 0.02 * m,
                                **kw)
        want += expected_deaths(months, n_patients=150 * p * 0.25, hazard_ratio=1.0, control_hazard=0.02 * m, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    one = expected_deaths(months, n_patients=300, hazard_ratio=0.6, control_hazard=0.02, strata=([1.0], [1.0]), **kw)
    unstratified = expected_deaths(months, n_patients=300, hazard_ratio=0.6, control_hazard=0.02, **kw)
    np.testing.assert_allclose(one, unstratified, rtol=1e-14)


@pytest.mark.parametrize("strata, message", [(([0.5, 0.4], [1, 1]), "summing to 1"),
                                             (([1.0], [0.0]), "multipliers > 0"),
                                             (([0.5, 0.5], [1.0]), "equal length"), ("ab", "two sequences")])
def test_bad_strata(strata, message):
    with pytest.raises(SampleSizeError, match=message):
        analysis_times([33], n_patients=236, accrual_time=36, hazard_ratio=0.5, strata=strata)


def test_plan_analysis_times_equal_rpact_for_the_homogeneous_all_deaths_plan():
    """The plan in the protocol's homogeneous population, all deaths, event-driven final, 5% drop-out
    by 24 months: rpact getPowerSurvival's analysisTime and numberOfSubjects (case plan_asOF_k2_sided2)."""
    from dataclasses import replace

    from trialnb.monitoring import plan_analysis_times
    from trialnb.plan import PLAN

    c = POWERS["plan_asOF_k2_sided2"]
    plan = replace(PLAN, design=PLAN.design.without_prognostic_effects()).with_changes(
        censor_months=None, final_analysis="events", dropout_probability=-math.expm1(-c["dropoutHazard"] * 24))
    assert plan.design.dropout_rate == pytest.approx(c["dropoutHazard"], rel=1e-14)
    res = plan_analysis_times(plan)
    assert res.deaths_h1.tolist() == c["eventsPerStage"] == [33, 66]
    np.testing.assert_allclose(res.months_h0, c["analysisTimeH0"], rtol=1e-7)
    np.testing.assert_allclose(res.months_h1, c["analysisTimeH1"], rtol=1e-7)
    np.testing.assert_allclose(res.randomized_h0, c["numberOfSubjectsH0"], rtol=1e-7)
    np.testing.assert_allclose(res.randomized_h1, c["numberOfSubjectsH1"], rtol=1e-7)


def test_plan_analysis_times_read_the_plan():
    from trialnb.monitoring import plan_analysis_times, plan_interim_events, plan_max_events
    from trialnb.plan import PLAN

    res = plan_analysis_times()
    assert res.kinds == ("events", "calendar") and res.window == 24
    assert res.deaths_h1[0] == plan_interim_events()[0] == 33
    assert res.months_h1[-1] == res.months_h0[-1] == 36 + 24  # calendar final: last randomization + 24 months
    assert res.randomized_h1[-1] == 236
    three = PLAN.with_changes(final_analysis="events", information_rates=(0.4, 0.7, 1.0))
    ev = plan_analysis_times(three)
    assert ev.kinds == ("events",) * 3
    assert ev.deaths_h1.tolist() == [*plan_interim_events(three), plan_max_events(three)] == [27, 47, 67]
    assert "look 1 at 33.0 deaths" in res.summary()


def test_plan_analysis_times_refuse_what_has_no_closed_form():
    from trialnb.errors import DesignError
    from trialnb.monitoring import plan_analysis_times
    from trialnb.plan import PLAN

    for change in (dict(effect_delay_months=6.0), dict(crossover=0.2), dict(accrual_shape=2.0),
                   dict(early_months=1.0, early_hazard_ratio=3.0)):
        with pytest.raises(DesignError, match="closed form"):
            plan_analysis_times(PLAN.with_changes(**change))


@pytest.mark.parametrize("truth_hr, changes", [(None, {}), (1.0, {}),
                                               (None, dict(non_compliance=0.3, information_rates=(0.4, 0.7, 1.0)))])
def test_plan_analysis_times_agree_with_the_simulated_trials(truth_hr, changes):
    """simulate_sequential draws the plan's trials (factor strata with prognostic effects,
    minimization, drop-out, deaths within 24 months, the calendar final at the last randomization +
    24 months) and holds every look (boundaries no trial crosses). The deaths at the calendar
    final are an expectation at a fixed month: equal within Monte-Carlo error (3 SE). The month of
    an event-driven look is the month at which the expected count reaches its deaths, not the mean
    of the random month (rpact's definition): they differ by about 0.1 month here (3 SE apart at
    2,000 trials), within 0.3 months; the simulated final is the last of 236 uniform entries
    (36 x 236/237 on average) + 24."""
    from trialnb.monitoring import plan_analysis_times
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate_sequential
    from trialnb.simulation.sequential import Boundaries

    plan = PLAN.with_changes(statistic="logrank", **changes)
    k = plan.monitoring.k
    sim = simulate_sequential(plan, 2000, seed=5, boundaries=Boundaries(plan.monitoring.information_rates, (50.0,) * k),
                              follow_guidelines=False, truth=None if truth_hr is None else {"hazard_ratio": truth_hr})
    assert np.all(np.isfinite(sim.months))  # every trial had every look
    at = plan_analysis_times(plan)
    months, deaths = (at.months_h1, at.deaths_h1) if truth_hr is None else (at.months_h0, at.deaths_h0)
    mean_month, se_month = sim.months.mean(axis=0), sim.months.std(axis=0) / math.sqrt(sim.n_trials)
    np.testing.assert_allclose(mean_month[:-1], months[:-1], atol=0.3)
    assert abs(mean_month[-1] - (36 * 236 / 237 + 24)) < 3 * se_month[-1] + 1e-3
    np.testing.assert_array_equal(sim.events[:, :-1].mean(axis=0), deaths[:-1])  # the looks' own deaths
    final, se = sim.events[:, -1].mean(), sim.events[:, -1].std() / math.sqrt(sim.n_trials)
    assert abs(final - deaths[-1]) < 3 * se, (final, deaths[-1], se)
