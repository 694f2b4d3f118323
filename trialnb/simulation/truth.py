"""The true curves of a design (:class:`trialnb.plan.DesignAssumptions`) and the population-level
summaries the analyses estimate, computed from the model, not simulated.

* :func:`design_curves` -- the hazard ratio of an operated patient against time and each arm's
  survival as randomized (mixtures over the factor strata, non-operation and crossover).
* :func:`true_estimands` -- 2-year (tau) survival per arm, their difference and ratio, the RMST
  difference to tau.
* :data:`SHAPES` -- the hazard shapes surgery can produce, as changes to the design.
* :func:`selected_probability` -- who is not operated in arm A, or operated in arm B, when it
  depends on prognosis (``selection``); :func:`complier_effect` and
  :func:`hypothetical_estimands` -- the targets of the supplementary estimands (notebook 07).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import ScenarioError
from ..plan import DesignAssumptions
from ..validation import check_real

__all__ = ["SHAPES", "complier_effect", "design_curves", "hypothetical_estimands", "selected_probability",
           "true_estimands"]

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
    t = np.asarray(t, float)
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
    survival per arm, their difference and ratio, and the RMST difference
    integral_0^tau (S_A - S_B) dt (trapezoid rule on a 0.01-month grid). tau defaults to the
    design's horizon (24 months)."""
    tau = float(design.horizon_months if tau is None else tau)
    grid = np.linspace(0.0, tau, int(round(tau * 100)) + 1)
    c = design_curves(design, grid)
    sa, sb = float(c["survival_a"].iloc[-1]), float(c["survival_b"].iloc[-1])
    diff = (c["survival_a"] - c["survival_b"]).to_numpy()
    rmst = float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(grid)))
    return {"tau": tau, "survival_a": sa, "survival_b": sb, "milestone_difference": sa - sb,
            "survival_ratio": sa / sb, "rmst_difference": rmst}


def complier_effect(design: DesignAssumptions, tau: float | None = None, *,
                    non_compliance_selection: float = 0.0) -> dict[str, float]:
    """The principal-stratum estimand of surgery: among the patients who would be operated if
    allocated to arm A (the compliers: the ``1 - non_compliance`` of arm A, selected by prognosis
    with :func:`selected_probability`), tau-month survival if operated minus if not,

        sum_s w_s c_s [S_op,s(tau) - S_none,s(tau)] / sum_s w_s c_s,   c_s = 1 - non-compliance_s,

    with the ITT difference and the fraction operated beside it. Needs ``crossover`` 0 (no arm-B
    patient is operated: one-sided non-compliance, so the compliers are identified)."""
    d = design
    if d.crossover != 0.0:
        raise ScenarioError("complier_effect needs crossover = 0 (one-sided non-compliance); with arm-B surgery "
                            "the compliers are not those operated in arm A")
    tau = float(d.horizon_months if tau is None else tau)
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
    d = design
    tau = float(d.horizon_months if tau is None else tau)
    c = design_curves(dataclasses.replace(d, crossover=0.0), [tau], non_compliance_selection=non_compliance_selection)
    sa, sb = float(c["survival_a"].iloc[0]), float(c["survival_b"].iloc[0])
    hr = d.hazard_ratio if (d.non_compliance == 0.0 and d.effect_delay_months == 0.0
                            and (d.early_months == 0.0 or d.early_hazard_ratio == 1.0)) else float("nan")
    return {"tau": tau, "survival_a": sa, "survival_b_without_surgery": sb, "milestone_difference": sa - sb,
            "hazard_ratio": hr}
