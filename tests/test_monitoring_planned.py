"""trialnb.monitoring.planned: the plan's design with its futility guideline, and when its looks come.

* ``plan_benefit_design(futility=True, binding=...)``: the inflation factors of the non-binding
  and the binding futility bound at z = 0 re-derived with scipy's bivariate normal (the issue-22
  statement: binding gives 1.008 and 66 deaths, the non-binding design whose power assumes the
  rule is always followed 1.012 and 67).
* ``plan_analysis_times`` / ``plan_expected_deaths``: the plan's numbers fed to the timing
  functions, the calendar-driven final's month a + h and its expected deaths n sum_j w_j F_j(h)
  in closed form; an event-driven final at 66 primary-endpoint deaths that never comes when the
  effect is large.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from trialnb import monitoring
from trialnb.errors import DesignError
from trialnb.monitoring import (analysis_times, plan_analysis_times, plan_benefit_design, plan_design,
                                plan_expected_deaths, plan_interim_events, plan_max_events, sequential_sample_size)
from trialnb.plan import PLAN
from trialnb.sample_size import schoenfeld_events

ALPHA, BETA = 0.025, 0.2
R = math.sqrt(0.5)  # corr(Z_1, Z_2) at information fractions 0.5 and 1
BIV = stats.multivariate_normal([0.0, 0.0], [[1.0, R], [R, 1.0]])


def _upper(c1: float, c2: float, mean1: float, mean2: float, fut: float | None) -> float:
    """P(Z_1 >= c_1) + P(fut < Z_1 < c_1, Z_2 >= c_2) for (Z_1, Z_2) normal with means (mean1,
    mean2), unit variances and correlation sqrt(0.5) (``fut`` None: no futility stop)."""
    lo = -np.inf if fut is None else fut
    p1 = stats.norm.sf(c1 - mean1)
    # P(lo < Z1 < c1, Z2 >= c2) = P(lo < Z1 < c1) - P(lo < Z1 < c1, Z2 < c2)
    cdf = lambda a, b: BIV.cdf([a - mean1, b - mean2])  # noqa: E731
    box = cdf(c1, c2) - (cdf(lo, c2) if np.isfinite(lo) else 0.0)
    band = stats.norm.cdf(c1 - mean1) - (stats.norm.cdf(lo - mean1) if np.isfinite(lo) else 0.0)
    return float(p1 + band - box)


def _bounds(fut: float | None) -> tuple[float, float]:
    """Lan-DeMets O'Brien-Fleming bounds at t = 0.5, 1 (one-sided 0.025); with ``fut`` the final
    bound spends the rest of alpha with the futility bound in force (binding)."""
    spent = 2 * stats.norm.sf(stats.norm.isf(ALPHA / 2) / math.sqrt(0.5))
    c1 = stats.norm.isf(spent)
    c2 = optimize.brentq(lambda c: _upper(c1, c, 0.0, 0.0, fut) - ALPHA, 1.5, 2.5, xtol=1e-12)
    return c1, c2


def _inflation(c1: float, c2: float, fut: float | None) -> float:
    """(theta / (z_alpha + z_beta))^2 for the drift theta at which the power is 1 - beta with
    the futility stops obeyed (E Z_k = theta sqrt(t_k))."""
    theta = optimize.brentq(lambda th: _upper(c1, c2, th * math.sqrt(0.5), th, fut) - (1 - BETA), 1.0, 5.0,
                            xtol=1e-12)
    return (theta / (stats.norm.isf(ALPHA) + stats.norm.isf(BETA))) ** 2


def test_the_futility_guideline_costs_deaths_only_if_it_is_non_binding() -> None:
    c1, c2 = _bounds(None)
    b1, b2 = _bounds(0.0)
    nonbinding = plan_benefit_design(PLAN, futility=True)
    binding = plan_benefit_design(PLAN, futility=True, binding=True)
    plain = plan_benefit_design(PLAN)
    # non-binding: the efficacy boundaries are the plan's, the futility bound does not move them
    np.testing.assert_allclose(nonbinding.critical_values, [c1, c2], atol=1e-6)
    np.testing.assert_allclose(nonbinding.critical_values, plan_design(PLAN).critical_values, atol=1e-12)
    np.testing.assert_allclose(nonbinding.futility_bounds, [0.0])
    # binding: the final boundary is lower (futility stops can no longer reject later)
    np.testing.assert_allclose(binding.critical_values, [b1, b2], atol=1e-6)
    assert b2 < c2
    # the inflation factors, re-derived
    assert nonbinding.inflation_factor == pytest.approx(_inflation(c1, c2, 0.0), abs=1e-5)
    assert binding.inflation_factor == pytest.approx(_inflation(b1, b2, 0.0), abs=1e-5)
    assert plain.inflation_factor == pytest.approx(_inflation(c1, c2, None), abs=1e-5)
    assert (round(plain.inflation_factor, 4), round(binding.inflation_factor, 3),
            round(nonbinding.inflation_factor, 3)) == (1.0037, 1.008, 1.012)
    # in deaths: the plan 66, binding 66, the non-binding design that assumes the rule is followed 67
    fixed = schoenfeld_events(0.5, alpha=0.05, sided=2, power=0.8)
    deaths = {name: math.ceil(round(d.inflation_factor * fixed, 9))
              for name, d in (("plan", plain), ("binding", binding), ("non-binding", nonbinding))}
    assert deaths == {"plan": 66, "binding": 66, "non-binding": 67}
    assert deaths["plan"] == plan_max_events(PLAN)
    for name, d in (("binding", binding), ("non-binding", nonbinding)):
        assert math.ceil(sequential_sample_size(d, 0.5).max_events) == deaths[name]
    # the power of the plan's 66 deaths when the guideline is always followed: below 80%
    table = monitoring.boundary_table(nonbinding, 66, hazard_ratio=0.5)
    assert 0.78 < table.efficacy_h1[-1] < 0.80


def test_benefit_design_refuses_what_it_cannot_build() -> None:
    with pytest.raises(DesignError, match="binding=True needs futility=True"):
        plan_benefit_design(PLAN, binding=True)
    with pytest.raises(DesignError, match="futility_z=None"):
        plan_benefit_design(PLAN.with_changes(futility_z=None), futility=True)
    with pytest.raises(DesignError, match="1 look"):
        plan_benefit_design(PLAN.with_changes(information_rates=(1.0,)), futility=True)
    with pytest.raises(DesignError, match="True or False"):
        plan_benefit_design(PLAN, futility=1)  # type: ignore[arg-type]


def _closed_form_final_deaths(hr: float) -> float:
    """n sum_s p_s sum_j w_j lambda_sj / (lambda_sj + eta) (1 - exp(-(lambda_sj + eta) h)): every
    patient followed h months, the primary-endpoint deaths of a calendar-driven final, in the
    plan's population (factor stratum s: the reference hazard lambda0 times its prognostic
    hazard ratios, lambda0 calibrated so that arm B's survival at 24 months is exp(-0.5))."""
    from trialnb.population import calibrate_baseline

    d = PLAN.design
    probs, lp = d.strata_model()
    lam0 = calibrate_baseline(probs, lp, d.control_survival) / 24
    eta, h = -math.log(1 - d.dropout_probability) / 24, 24.0
    return d.n_patients * sum(p * 0.5 * lj / (lj + eta) * (1 - math.exp(-(lj + eta) * h))
                              for p, x in zip(probs, lp, strict=True)
                              for lj in (lam0 * math.exp(x), hr * lam0 * math.exp(x)))


def test_the_plan_s_looks_expected_in_calendar_time() -> None:
    d = PLAN.design
    t = plan_analysis_times(PLAN)
    assert t.kinds == ("events", "calendar")  # the plan: interim at 33 deaths, calendar-driven final
    assert t.deaths_h1[0] == plan_interim_events(PLAN)[0] == 33
    assert t.months_h1[-1] == t.months_h0[-1] == d.accrual_months + 24 == 60
    assert t.deaths_h1[-1] == pytest.approx(_closed_form_final_deaths(0.5), rel=1e-10)
    assert t.deaths_h0[-1] == pytest.approx(_closed_form_final_deaths(1.0), rel=1e-10)
    # the same numbers typed into analysis_times by hand: the twelve factor strata of the population
    probs, lp = d.strata_model()
    by_hand = analysis_times([33], n_patients=236, accrual_time=36, hazard_ratio=0.5,
                             control_hazard=d.baseline_hazard, strata=(probs, np.exp(lp)),
                             dropout_hazard=-math.log(0.9) / 24, window=24, final="calendar")
    np.testing.assert_allclose(t.months_h1, by_hand.months_h1, rtol=1e-12)
    np.testing.assert_allclose(t.months_h0, by_hand.months_h0, rtol=1e-12)
    # the expected deaths at the expected interim month are the interim's deaths
    assert plan_expected_deaths(t.months_h1[0]) == pytest.approx(33, rel=1e-9)
    assert plan_expected_deaths(t.months_h0[0], hazard_ratio=1.0) == pytest.approx(33, rel=1e-9)
    assert plan_expected_deaths(60.0) == pytest.approx(_closed_form_final_deaths(0.5), rel=1e-10)
    assert plan_expected_deaths(0.0) == 0.0
    months = np.linspace(0, 70, 29)
    e = plan_expected_deaths(months)
    assert np.all(np.diff(e) >= -1e-12) and e[-1] == pytest.approx(e[months.searchsorted(60)], rel=1e-12)


def test_an_event_driven_final_may_never_come() -> None:
    # with HR 0.4 the 236 patients followed two years give fewer than 66 primary-endpoint deaths:
    # an event-driven final never comes, the calendar-driven one comes at month 60 regardless
    events = plan_analysis_times(PLAN, final="events", hazard_ratio=0.4)
    assert events.kinds == ("events", "events") and math.isnan(events.months_h1[-1])
    assert _closed_form_final_deaths(0.4) < 66 < _closed_form_final_deaths(0.5)
    cal = plan_analysis_times(PLAN, final="calendar", hazard_ratio=0.4)
    assert cal.months_h1[-1] == 60 and cal.deaths_h1[-1] == pytest.approx(_closed_form_final_deaths(0.4))
    # under H0 the event-driven final comes early, while most patients are still being followed
    h0 = plan_analysis_times(PLAN, final="events")
    assert h0.months_h0[-1] < 40 < 60
    # the plan's own final timing is the default
    assert plan_analysis_times(PLAN.with_changes(final_analysis="events")).kinds == ("events", "events")


def test_timing_refuses_bad_input() -> None:
    with pytest.raises(DesignError, match="final"):
        plan_analysis_times(PLAN, final="weekly")
    with pytest.raises(DesignError, match="censor_months"):
        plan_analysis_times(PLAN.with_changes(censor_months=None), final="calendar")
    with pytest.raises(DesignError, match="hazard_ratio"):
        plan_expected_deaths(30.0, hazard_ratio=-1.0)
    # all follow-up: an event-driven final on all deaths
    t = plan_analysis_times(PLAN.with_changes(censor_months=None, final_analysis="events"))
    assert t.window is None and t.kinds == ("events", "events")
