"""The true curves of a design (:class:`trialnb.plan.DesignAssumptions`) and the population-level
summaries the analyses estimate, computed from the model, not simulated.

* :func:`design_curves` -- the hazard ratio of an operated patient against time and each arm's
  survival as randomized (mixtures over the factor strata, non-operation and crossover).
* :func:`true_estimands` -- 2-year (tau) survival per arm, their difference and ratio, the RMST
  difference to tau.
* :data:`SHAPES` -- the hazard shapes surgery can produce, as changes to the design.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import ScenarioError
from ..plan import DesignAssumptions
from ..validation import check_positive, check_real_array

_MAX_GRID = 100_000  # steps of true_estimands' grid (0.01 month up to 1,000 months)


def _check_design(design: Any) -> DesignAssumptions:
    if not isinstance(design, DesignAssumptions):
        raise ScenarioError(f"design must be a trialnb.plan.DesignAssumptions (e.g. PLAN.design), got "
                            f"{type(design).__name__}")
    return design

__all__ = ["SHAPES", "design_curves", "true_estimands"]

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


def design_curves(design: DesignAssumptions, t: Any) -> pd.DataFrame:
    """True curves of ``design`` at times ``t`` (months): the hazard ratio of an operated patient
    vs an unoperated one (``hr_operated``), and the survival of each arm as randomized
    (``survival_a``, ``survival_b``: mixtures over the 12 factor strata, over operated / not
    operated in arm A (``non_compliance``) and over crossover in arm B; loss to follow-up and
    censoring play no part)."""
    d = _check_design(design)
    t = check_real_array(t, "t", error=ScenarioError, what="times in months")
    if np.any(t < 0):
        raise ScenarioError(f"t must be times >= 0 months, got {t[t < 0][:3].tolist()}")
    ps, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    M_a = _multiplier_integral(d, t, 0.0)
    M_b = _multiplier_integral(d, t, d.crossover_months)
    S = lambda M: (ps[:, None] * np.exp(-lam[:, None] * M[None, :])).sum(axis=0)  # noqa: E731
    s_none = S(t)
    s_a = (1 - d.non_compliance) * S(M_a) + d.non_compliance * s_none
    s_b = d.crossover * S(M_b) + (1 - d.crossover) * s_none
    e_end = d.early_months
    d_end = max(d.early_months, d.effect_delay_months)
    hr = np.where(t < e_end, d.early_hazard_ratio, np.where(t < d_end, 1.0, d.hazard_ratio))
    return pd.DataFrame({"time": t, "hr_operated": hr, "survival_a": s_a, "survival_b": s_b})


def true_estimands(design: DesignAssumptions, tau: float | None = None) -> dict[str, float]:
    """The population-level summaries the analyses estimate, from the true curves: ``tau``-month
    survival per arm, their difference and ratio (NaN once arm B's survival is 0), and the RMST difference
    integral_0^tau (S_A - S_B) dt (trapezoid rule on a 0.01-month grid, at most 100,000 steps). tau defaults to the
    design's horizon (24 months)."""
    design = _check_design(design)
    tau = float(design.horizon_months) if tau is None else check_positive(tau, "tau", error=ScenarioError)
    grid = np.linspace(0.0, tau, min(int(round(tau * 100)), _MAX_GRID) + 1)
    c = design_curves(design, grid)
    sa, sb = float(c["survival_a"].iloc[-1]), float(c["survival_b"].iloc[-1])
    diff = (c["survival_a"] - c["survival_b"]).to_numpy()
    rmst = float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(grid)))
    return {"tau": tau, "survival_a": sa, "survival_b": sb, "milestone_difference": sa - sb,
            "survival_ratio": sa / sb if sb > 0 else float("nan"), "rmst_difference": rmst}
