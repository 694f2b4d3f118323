"""The true curves of a design (:class:`trialnb.plan.DesignAssumptions`) and the population-level
summaries the analyses estimate, computed from the model, not simulated.

* :func:`design_curves` -- the hazard ratio of an operated patient against time and each arm's
  survival as randomized (mixtures over the factor strata, non-operation and crossover).
* :func:`true_estimands` -- 2-year (tau) survival per arm, their difference and ratio, the RMST
  difference to tau, and the hazard ratios a Cox model estimates in a large trial: marginal
  (arm only) and conditional (adjusted for the minimization factors).
* :func:`limiting_hazard_ratio` -- the hazard ratio a Cox model converges to in an infinitely
  large trial of a design: the root of the limiting partial-likelihood score equation, with
  the trial's censoring (drop-out, the analysis horizon, the calendar cut-off).
* :data:`SHAPES` -- the hazard shapes surgery can produce, as changes to the design;
  :func:`equal_survival_shape` -- a shape whose survival curves meet at tau (the milestone's
  null true, the hazards unequal).
* :func:`selected_probability` -- who is not operated in arm A, or operated in arm B, when it
  depends on prognosis (``selection``); :func:`complier_effect` and
  :func:`hypothetical_estimands` -- the targets of the supplementary estimands (notebook 07).

References: Struthers CA, Kalbfleisch JD. Misspecified proportional hazards models.
Biometrika 1986;73:363-369 (the limit of the Cox estimator when hazards are not proportional);
Lin DY, Wei LJ. The robust inference for the Cox proportional hazards model. JASA
1989;84:1074-1078; Gail MH, Wieand S, Piantadosi S. Biased estimates of treatment effect in
randomized experiments with nonlinear regressions and omitted covariates. Biometrika
1984;71:431-444 (an omitted prognostic factor pulls the Cox HR towards 1: non-collapsibility).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import ScenarioError
from ..plan import FACTOR_NAMES, DesignAssumptions
from ..validation import check_positive, check_real, check_real_array

__all__ = ["SHAPES", "complier_effect", "design_curves", "equal_survival_shape", "hypothetical_estimands",
           "limiting_hazard_ratio", "selected_probability", "true_estimands"]

_MAX_GRID = 100_000  # steps of true_estimands' grid (0.01 month up to 1,000 months)


def _check_design(design: Any) -> DesignAssumptions:
    if not isinstance(design, DesignAssumptions):
        raise ScenarioError(f"design must be a trialnb.plan.DesignAssumptions (e.g. PLAN.design), got "
                            f"{type(design).__name__}")
    return design


def _tau(design: DesignAssumptions, tau: Any) -> float:
    return float(design.horizon_months) if tau is None else check_positive(tau, "tau", error=ScenarioError)


SHAPES: dict[str, dict[str, float]] = {
    "proportional": {},
    "delayed benefit": {"effect_delay_months": 6.0},
    "early harm then benefit": {"early_hazard_ratio": 3.0, "early_months": 3.0},
    "crossing": {"early_hazard_ratio": 2.0, "early_months": 6.0, "hazard_ratio": 0.6},
}
"""Hazard shapes surgery can produce, as design changes on top of the protocol's HR 0.5:
proportional; no effect for 6 months, then HR 0.5; perioperative harm (HR 3 for 3 months) then
HR 0.5; HR 2 for 6 months then 0.6, whose survival curves cross."""


def _multiplier_integral(d: DesignAssumptions, t: np.ndarray, start: float) -> np.ndarray:
    """integral_0^t of the operated patient's hazard multiplier, surgery effect from ``start``
    (1 before start, early_hazard_ratio for early_months, 1 until the delay, hazard_ratio after)."""
    e_end = start + d.early_months
    d_end = start + max(d.early_months, d.effect_delay_months)
    seg = lambda a, b: np.clip(t, a, b) - a  # noqa: E731  time spent in [a, b) by t
    return (np.minimum(t, start) + d.early_hazard_ratio * seg(start, e_end) + seg(e_end, d_end)
            + d.hazard_ratio * np.clip(t - d_end, 0.0, None))


def equal_survival_shape(early_hazard_ratio: float, early_months: float, tau: float = 24.0) -> dict[str, float]:
    """Design changes (as :data:`SHAPES`) with ``early_hazard_ratio`` for the first
    ``early_months`` after surgery and, after them, the hazard ratio that makes an operated
    patient's cumulative hazard at ``tau`` equal to an unoperated one's:
    ``(tau - early_hazard_ratio * early_months) / (tau - early_months)``. Then S_A(tau) = S_B(tau)
    in every factor stratum (without non-operation and crossover), so the difference in
    tau-month survival is exactly 0 while the hazards differ: a configuration where the
    milestone's null hypothesis is true and the Cox model's is false (notebook 07, the
    family-wise error of a hierarchical secondary)."""
    e = check_positive(early_hazard_ratio, "early_hazard_ratio", error=ScenarioError)
    m = check_positive(early_months, "early_months", error=ScenarioError)
    t = check_positive(tau, "tau", error=ScenarioError)
    late = (t - e * m) / (t - m) if m < t else math.nan
    if not late > 0:
        raise ScenarioError(f"early_months must be below tau and early_hazard_ratio x early_months below tau "
                            f"({t:g}) for a positive late hazard ratio, got {e:g} x {m:g}")
    return {"early_hazard_ratio": float(e), "early_months": float(m), "hazard_ratio": float(late)}


def _multiplier(d: DesignAssumptions, t: np.ndarray, start: float) -> np.ndarray:
    """The operated patient's hazard multiplier at ``t`` (the derivative of
    :func:`_multiplier_integral`): 1 before ``start``, then early_hazard_ratio, 1, hazard_ratio."""
    e_end = start + d.early_months
    d_end = start + max(d.early_months, d.effect_delay_months)
    return np.where(t < start, 1.0, np.where(t < e_end, d.early_hazard_ratio,
                                             np.where(t < d_end, 1.0, d.hazard_ratio)))


def selected_probability(design: DesignAssumptions, p: float, selection: float) -> np.ndarray:
    """Probability of an event of the treatment course (arm A not operated, arm B operated at
    crossover) in each of the 12 factor strata when it depends on prognosis: logit p_s = c +
    ``selection`` lp_s (``lp_s`` the stratum's prognostic log hazard,
    :meth:`~trialnb.plan.DesignAssumptions.strata_model`), c solved so that the population
    fraction sum_s w_s p_s stays ``p``. ``selection`` > 0: the worse the prognosis, the more likely
    (0: the same ``p`` everywhere, the design's assumption); a logistic model in the factors, so
    a logistic weight model on the factors is correctly specified."""
    check_real(selection, "selection", error=ScenarioError)
    ws, lp = design.strata_model()
    if selection == 0.0 or p in (0.0, 1.0):
        return np.full(lp.shape, float(p))
    z = float(selection) * lp
    c = optimize.brentq(lambda c: float(np.sum(ws * special.expit(c + z))) - float(p), -60.0, 60.0, xtol=1e-14)
    return special.expit(c + z)


def design_curves(design: DesignAssumptions, t: Any, *, non_compliance_selection: float = 0.0,
                  crossover_selection: float = 0.0) -> pd.DataFrame:
    """True curves of ``design`` at times ``t`` (months): the hazard ratio of an operated patient
    vs an unoperated one (``hr_operated``), and the survival of each arm as randomized
    (``survival_a``, ``survival_b``: mixtures over the 12 factor strata, over operated / not
    operated in arm A (``non_compliance``) and over crossover in arm B, each possibly selected by
    prognosis (:func:`selected_probability`); loss to follow-up and censoring play no part)."""
    d = design
    design = _check_design(design)
    t = check_real_array(t, "t", error=ScenarioError, what="times in months")
    if np.any(t < 0):
        raise ScenarioError(f"t must be times >= 0 months, got {t[t < 0][:3].tolist()}")
    ps, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    M_a = _multiplier_integral(d, t, 0.0)
    M_b = _multiplier_integral(d, t, d.crossover_months)
    S = lambda M: (ps[:, None] * np.exp(-lam[:, None] * M[None, :])).sum(axis=0)  # noqa: E731
    s_none = S(t)
    if non_compliance_selection == 0.0 and crossover_selection == 0.0:
        s_a = (1 - d.non_compliance) * S(M_a) + d.non_compliance * s_none
        s_b = d.crossover * S(M_b) + (1 - d.crossover) * s_none
    else:
        nc = selected_probability(d, d.non_compliance, non_compliance_selection)[:, None]
        cr = selected_probability(d, d.crossover, crossover_selection)[:, None]
        e_none, e_a, e_b = (np.exp(-lam[:, None] * M[None, :]) for M in (t, M_a, M_b))
        s_a = (ps[:, None] * ((1 - nc) * e_a + nc * e_none)).sum(axis=0)
        s_b = (ps[:, None] * (cr * e_b + (1 - cr) * e_none)).sum(axis=0)
    e_end = d.early_months
    d_end = max(d.early_months, d.effect_delay_months)
    hr = np.where(t < e_end, d.early_hazard_ratio, np.where(t < d_end, 1.0, d.hazard_ratio))
    return pd.DataFrame({"time": t, "hr_operated": hr, "survival_a": s_a, "survival_b": s_b})


def true_estimands(design: DesignAssumptions, tau: float | None = None) -> dict[str, float]:
    """The population-level summaries the analyses estimate, from the true curves: ``tau``-month
    survival per arm, their difference and ratio, the RMST difference
    integral_0^tau (S_A - S_B) dt (trapezoid rule on a 0.01-month grid, at most 100,000 steps), and the hazard ratios a
    Cox model of deaths within tau estimates in a large trial (:func:`limiting_hazard_ratio`,
    calendar-driven final analysis): ``marginal_hazard_ratio`` (arm only, as the log-rank test)
    and ``conditional_hazard_ratio`` (adjusted for the three minimization factors, as the plan's
    primary analysis). tau defaults to the design's horizon (24 months)."""
    design = _check_design(design)
    tau = _tau(design, tau)
    grid = np.linspace(0.0, tau, min(int(round(tau * 100)), _MAX_GRID) + 1)
    c = design_curves(design, grid)
    sa, sb = float(c["survival_a"].iloc[-1]), float(c["survival_b"].iloc[-1])
    diff = (c["survival_a"] - c["survival_b"]).to_numpy()
    rmst = float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(grid)))
    return {"tau": tau, "survival_a": sa, "survival_b": sb, "milestone_difference": sa - sb,
            "survival_ratio": sa / sb if sb > 0 else float("nan"), "rmst_difference": rmst,
            "marginal_hazard_ratio": limiting_hazard_ratio(design, (), tau=tau),
            "conditional_hazard_ratio": limiting_hazard_ratio(design, FACTOR_NAMES, tau=tau)}


# ---------------------------------------------------------------------------------------
# the limit of the Cox estimator

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_SITE_COLUMNS = {"dominant_site": ("soft_tissue", "visceral"), "hormone_receptor": ("hr_negative",),
                 "her2": ("her2_positive",)}


def _cells(d: DesignAssumptions, covariates: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 24 cells (factor stratum x arm) of the population: weights (1:1 allocation), the
    stratum's hazard multiplier exp(lp), and the Cox design row (arm, then the dummies of
    ``covariates`` as :func:`trialnb.simulation.covariate_names`)."""
    ps, lp = d.strata_model()
    site = np.repeat([0, 1, 2], 4)
    hr_neg = np.tile(np.repeat([0, 1], 2), 3)
    her2 = np.tile([0, 1], 6)
    dummies = {"soft_tissue": site == 1, "visceral": site == 2, "hr_negative": hr_neg == 1,
               "her2_positive": her2 == 1}
    cols = [dummies[c] for f in FACTOR_NAMES if f in covariates for c in _SITE_COLUMNS[f]]
    w, risk, X = [], [], []
    for arm in (1, 0):
        w.append(0.5 * ps)
        risk.append(np.exp(lp))
        X.append(np.column_stack([np.full(12, float(arm))] + [c.astype(float) for c in cols]))
    return np.concatenate(w), np.concatenate(risk), np.vstack(X)


def _arm_curves(d: DesignAssumptions, t: np.ndarray, lam: np.ndarray, arm: int) -> tuple[np.ndarray, np.ndarray]:
    """(S, f) of the randomized arm in each stratum of hazard ``lam`` (shape (12,)) at ``t``:
    mixtures over operated / not operated (arm A: ``non_compliance``) or crossover (arm B)."""
    if arm == 1:
        parts = ((1 - d.non_compliance, 0.0), (d.non_compliance, None))
    else:
        parts = ((d.crossover, d.crossover_months), (1 - d.crossover, None))
    S = np.zeros((lam.size, t.size))
    f = np.zeros((lam.size, t.size))
    for q, start in parts:
        if q == 0:
            continue
        M = t if start is None else _multiplier_integral(d, t, start)
        m = np.ones_like(t) if start is None else _multiplier(d, t, start)
        s = np.exp(-lam[:, None] * M[None, :])
        S += q * s
        f += q * lam[:, None] * m[None, :] * s
    return S, f


def limiting_hazard_ratio(design: DesignAssumptions, covariates: tuple[str, ...] = (), *,
                          tau: float | None = None, analysis_month: float | None = None) -> float:
    """The hazard ratio (arm A vs B) that a Cox model with the arm and the minimization factors
    ``covariates`` estimates in an infinitely large trial of ``design``: exp of the arm's
    component of the root beta* of the limiting score equation (Struthers & Kalbfleisch 1986)

        sum_c w_c integral_0^tau G(t) f_c(t) [x_c - E(beta, t)] dt = 0,
        E(beta, t) = sum_c x_c exp(beta'x_c) w_c G(t) S_c(t) / sum_c exp(beta'x_c) w_c G(t) S_c(t),

    over the cells c (the 12 factor strata x the two arms, weights w_c = p_stratum / 2) with
    true survival S_c and death density f_c (the design's shape of the effect, non-operation and
    crossover as mixtures, :func:`design_curves`); G(t) = exp(-mu t) P(follow-up possible beyond
    t) is the censoring survival: exponential drop-out and the calendar cut-off
    ``analysis_month`` with the design's accrual (default: the calendar-driven final analysis,
    the last randomization plus ``tau``, where every patient can be followed to ``tau``).
    Follow-up is censored at ``tau`` (default the design's horizon, the plan's 24 months).

    ``covariates=()`` is the marginal (unadjusted) hazard ratio, which the log-rank test also
    estimates; with the three factors it is the conditional hazard ratio of the plan's adjusted
    model. Under proportional hazards within strata the conditional one is the design's
    ``hazard_ratio`` exactly, and the marginal one is pulled towards 1 when the factors are
    prognostic (non-collapsibility; Gail, Wieand & Piantadosi 1984). When hazards are not
    proportional the limit depends on the censoring: it is a weighted average of the hazard
    ratio over time, with weights that follow the deaths and the numbers at risk.

    Solved by Newton-Raphson on the limiting information matrix; the integrals by 48-point
    Gauss-Legendre quadrature between the times where the integrand has a kink (surgery, the
    end of the early period and of the delay, the cut-off), which is exact to about 1e-12."""
    if not isinstance(design, DesignAssumptions):
        raise ScenarioError(f"design must be a trialnb.plan.DesignAssumptions, got {type(design).__name__}")
    if not isinstance(covariates, tuple) or any(c not in FACTOR_NAMES for c in covariates):
        raise ScenarioError(f"covariates must be a tuple of minimization factors from {FACTOR_NAMES}, "
                            f"got {covariates!r}")
    d = design
    tau = float(d.horizon_months if tau is None else check_positive(tau, "tau", error=ScenarioError))
    cutoff = d.accrual_months + tau if analysis_month is None else float(
        check_positive(analysis_month, "analysis_month", error=ScenarioError))
    breaks = {0.0, tau, cutoff - d.accrual_months}
    for start in (0.0, d.crossover_months if d.crossover > 0 else 0.0):
        breaks |= {start, start + d.early_months, start + max(d.early_months, d.effect_delay_months)}
    knots = np.array(sorted(k for k in breaks if 0.0 <= k <= tau))
    t = np.concatenate([(b - a) / 2 * _NODES + (a + b) / 2 for a, b in zip(knots[:-1], knots[1:], strict=True)])
    wq = np.concatenate([(b - a) / 2 * _WEIGHTS for a, b in zip(knots[:-1], knots[1:], strict=True)])
    reach = np.clip((cutoff - t) / d.accrual_months, 0.0, 1.0) ** d.accrual_shape
    G = np.exp(-d.dropout_rate * t) * reach
    w, risk, X = _cells(d, covariates)
    lam = d.baseline_hazard * risk[:12]
    SA, fA = _arm_curves(d, t, lam, 1)
    SB, fB = _arm_curves(d, t, lam, 0)
    Y = w[:, None] * np.vstack([SA, SB]) * G[None, :]            # at risk, (24, T)
    dN = w[:, None] * np.vstack([fA, fB]) * (G * wq)[None, :]    # deaths, quadrature-weighted
    if not np.any(dN[:12] > 0) or not np.any(dN[12:] > 0):
        raise ScenarioError("no deaths before tau in one arm: the Cox model has no limit")
    p = X.shape[1]
    beta = np.zeros(p)
    for _ in range(100):
        e = np.exp(X @ beta)[:, None] * Y                            # (24, T)
        s0 = e.sum(axis=0)
        E = (X.T @ e) / s0                                           # (p, T)
        U = (X.T @ dN.sum(axis=1)) - (E * dN.sum(axis=0)).sum(axis=1)
        S2 = np.einsum("ct,ci,cj->ijt", e, X, X) / s0
        V = S2 - E[:, None, :] * E[None, :, :]
        info = (V * dN.sum(axis=0)).sum(axis=2)
        step = np.linalg.solve(info, U)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-13:
            break
    else:  # pragma: no cover - the limiting log partial likelihood is concave
        raise ScenarioError("the limiting score equation did not converge")
    return float(math.exp(beta[0]))



def complier_effect(design: DesignAssumptions, tau: float | None = None, *,
                    non_compliance_selection: float = 0.0) -> dict[str, float]:
    """The principal-stratum estimand of surgery: among the patients who would be operated if
    allocated to arm A (the compliers: the ``1 - non_compliance`` of arm A, selected by prognosis
    with :func:`selected_probability`), tau-month survival if operated minus if not,

        sum_s w_s c_s [S_op,s(tau) - S_none,s(tau)] / sum_s w_s c_s,   c_s = 1 - non-compliance_s,

    with the ITT difference and the fraction operated beside it. Needs ``crossover`` 0 (no arm-B
    patient is operated: one-sided non-compliance, so the compliers are identified)."""
    d = _check_design(design)
    if d.crossover != 0.0:
        raise ScenarioError("complier_effect needs crossover = 0 (one-sided non-compliance); with arm-B surgery "
                            "the compliers are not those operated in arm A")
    tau = _tau(d, tau)
    ws, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    c = 1.0 - selected_probability(d, d.non_compliance, non_compliance_selection)
    M = float(_multiplier_integral(d, np.array([tau]), 0.0)[0])
    gain = np.exp(-lam * M) - np.exp(-lam * tau)
    itt = float(np.sum(ws * c * gain))
    compliers = float(np.sum(ws * c))
    return {"tau": tau, "complier_effect": itt / compliers, "itt_difference": itt, "fraction_operated": compliers}


def hypothetical_estimands(design: DesignAssumptions, tau: float | None = None, *,
                           non_compliance_selection: float = 0.0) -> dict[str, float]:
    """The hypothetical-strategy estimand for arm-B surgery (ICH E9(R1)): tau-month survival of
    arm A as randomized minus that of arm B had no arm-B patient been operated (the design with
    ``crossover`` 0), and the hazard ratio it implies within the factor strata (the design's
    ``hazard_ratio`` when the effect is proportional and every arm-A patient is operated; NaN
    otherwise)."""
    d = _check_design(design)
    tau = _tau(d, tau)
    c = design_curves(dataclasses.replace(d, crossover=0.0), [tau], non_compliance_selection=non_compliance_selection)
    sa, sb = float(c["survival_a"].iloc[0]), float(c["survival_b"].iloc[0])
    hr = d.hazard_ratio if (d.non_compliance == 0.0 and d.effect_delay_months == 0.0
                            and (d.early_months == 0.0 or d.early_hazard_ratio == 1.0)) else float("nan")
    return {"tau": tau, "survival_a": sa, "survival_b_without_surgery": sb, "milestone_difference": sa - sb,
            "hazard_ratio": hr}
