"""The truth of a design: the limiting Cox hazard ratio (``trialnb.simulation.limiting_hazard_ratio``)
and the hazard ratios of ``true_estimands``.

Held three ways: exact cases (proportional hazards within strata: the conditional HR is the
design's; homogeneous population: marginal = conditional), an independent re-derivation of the
scalar score equation with scipy's adaptive quadrature and root finder, and very large
simulated trials analysed by the survival engine (the estimate converges to the limit: within
4 Monte-Carlo SEs). The values the estimands issue quotes (0.644 / 0.880 / 1.019 for the
delayed, early-harm and crossing shapes with control survival 0.60 and no drop-out) are
reproduced.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate, optimize

from trialnb.errors import ScenarioError
from trialnb.plan import FACTOR_NAMES, PLAN
from trialnb.simulation import (SHAPES, cut, design_curves, final_cutoff, limiting_hazard_ratio, simulate_trials,
                                true_estimands)
from trialnb.survival import fit_cox

HOM = PLAN.design.without_prognostic_effects()


@pytest.mark.parametrize("hr", [0.3, 0.5, 0.8, 1.0, 1.4])
def test_proportional_hazards_the_conditional_limit_is_the_design_hr(hr: float) -> None:
    d = replace(PLAN.design, hazard_ratio=hr)
    assert limiting_hazard_ratio(d, FACTOR_NAMES) == pytest.approx(hr, rel=1e-10)
    assert limiting_hazard_ratio(replace(HOM, hazard_ratio=hr)) == pytest.approx(hr, rel=1e-10)
    te = true_estimands(d)
    assert te["conditional_hazard_ratio"] == pytest.approx(hr, rel=1e-10)


def test_the_marginal_hr_is_diluted_towards_one_by_prognostic_factors() -> None:
    """Non-collapsibility: with the plan's prognostic factors the unadjusted (marginal) limit of HR
    0.5 is about 0.51, pulled towards 1; stronger factors pull it further; without factors it is
    0.5; under no effect both are 1."""
    marginal = limiting_hazard_ratio(PLAN.design)
    assert 0.505 < marginal < 0.52
    strong = replace(PLAN.design, **{k: getattr(PLAN.design, k) ** 2 for k in
                                     ("hr_soft_tissue", "hr_visceral", "hr_hr_negative", "hr_her2_positive")})
    assert limiting_hazard_ratio(strong) > marginal
    assert limiting_hazard_ratio(replace(PLAN.design, hazard_ratio=1.0)) == pytest.approx(1.0, abs=1e-12)
    assert true_estimands(PLAN.design)["marginal_hazard_ratio"] == pytest.approx(marginal, rel=1e-12)


def test_the_issue_values_of_the_four_shapes() -> None:
    """Control survival 0.60, no drop-out, one population (the setting of the issue's numbers)."""
    base = replace(HOM, control_survival=0.60, dropout_probability=0.0)
    got = [round(limiting_hazard_ratio(replace(base, **SHAPES[s])), 3) for s in SHAPES]
    assert got == [0.5, 0.644, 0.880, 1.019]


def _scalar_limit(d, tau: float, analysis_month: float) -> float:
    """The unadjusted limit in one population, re-derived: solve
    int f_A G pi_B / (e^b pi_A + pi_B) dt = e^b int f_B G pi_A / (e^b pi_A + pi_B) dt
    with pi_g = S_g G, by scipy.integrate.quad (adaptive, with the kinks as break points) and
    brentq; S_g from design_curves, f_g by a central difference of -log S."""
    mu = -math.log1p(-d.dropout_probability) / d.horizon_months

    def G(t: float) -> float:
        reach = min(max((analysis_month - t) / d.accrual_months, 0.0), 1.0) ** d.accrual_shape
        return math.exp(-mu * t) * reach

    def curves(t: float) -> tuple[float, float, float, float]:
        h = 1e-6
        c = design_curves(d, [t - h, t, t + h])
        sa, sb = c["survival_a"].to_numpy(), c["survival_b"].to_numpy()
        return sa[1], sb[1], -(sa[2] - sa[0]) / (2 * h), -(sb[2] - sb[0]) / (2 * h)

    brk = sorted({x for x in (d.early_months, max(d.early_months, d.effect_delay_months),
                              analysis_month - d.accrual_months) if 0 < x < tau})

    def score(b: float) -> float:
        def ga(t: float) -> float:
            sa, sb, fa, fb = curves(t)
            return fa * G(t) * sb / (math.exp(b) * sa + sb)

        def gb(t: float) -> float:
            sa, sb, fa, fb = curves(t)
            return fb * G(t) * sa / (math.exp(b) * sa + sb)

        ia = integrate.quad(ga, 1e-9, tau, points=brk or None, epsabs=1e-12, epsrel=1e-9, limit=200)[0]
        ib = integrate.quad(gb, 1e-9, tau, points=brk or None, epsabs=1e-12, epsrel=1e-9, limit=200)[0]
        return ia - math.exp(b) * ib

    return math.exp(optimize.brentq(score, -3, 3, xtol=1e-12))


@pytest.mark.parametrize("shape", ["delayed benefit", "early harm then benefit", "crossing"])
@pytest.mark.parametrize("month", [None, 40.0])
def test_the_limit_equals_an_independent_scalar_derivation(shape: str, month: float | None) -> None:
    d = replace(HOM, **SHAPES[shape], non_compliance=0.2)
    when = d.accrual_months + 24.0 if month is None else month
    ours = limiting_hazard_ratio(d, tau=24.0, analysis_month=month)
    assert ours == pytest.approx(_scalar_limit(d, 24.0, when), rel=1e-6)


@pytest.mark.parametrize("shape,covariates", [("crossing", ()), ("crossing", FACTOR_NAMES),
                                              ("delayed benefit", FACTOR_NAMES)])
def test_very_large_trials_converge_to_the_limit(shape: str, covariates: tuple[str, ...]) -> None:
    """12 simulated trials of 20,000 patients of the plan's design (prognostic factors, drop-out,
    minimization), cut at the calendar-driven final analysis with follow-up censored at 24
    months, each fitted by the survival engine: the mean log HR lies within 4 Monte-Carlo SEs of
    the limit (SE about 0.008 on the log scale)."""
    d = replace(PLAN.design, **SHAPES[shape], n_patients=20000)
    data = simulate_trials(d, 12, np.random.default_rng(20201120))
    time, event = cut(data, final_cutoff(data, PLAN), 24.0)
    fit = fit_cox(time, event, data.covariates(covariates))
    b = fit.coef[:, 0]
    target = math.log(limiting_hazard_ratio(d, covariates))
    se = b.std(ddof=1) / math.sqrt(b.size)
    assert abs(b.mean() - target) < 4 * se, (b.mean(), target, se)
    assert se < 0.015


def test_bad_input_is_refused_with_a_named_error() -> None:
    with pytest.raises(ScenarioError, match="covariates"):
        limiting_hazard_ratio(PLAN.design, ("age",))
    with pytest.raises(ScenarioError, match="DesignAssumptions"):
        limiting_hazard_ratio(PLAN)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="tau"):
        limiting_hazard_ratio(PLAN.design, tau=0.0)
    with pytest.raises(ScenarioError, match="tau"):
        limiting_hazard_ratio(PLAN.design, tau=True)  # type: ignore[arg-type]
