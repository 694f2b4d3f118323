"""The estimand's summary measure, estimated with the covariates: standardized two-year survival.

The protocol's primary endpoint is "the percentage of patients who survive two years after
randomization": a marginal, population-level summary. :func:`standardized_milestone` estimates
it with the plan's adjustment (FDA 2023 guidance on covariate adjustment; ICH E9(R1)): the Cox
model of the primary analysis (arm and ``plan.analysis.covariates``, its ties, follow-up
censored at ``plan.analysis.censor_months``) predicts every randomized patient's survival at
tau had she been allocated to arm A and to arm B, and the predictions are averaged over the
trial's own patients (G-computation; :func:`trialnb.survival.standardized_survival`). The
contrasts are the difference S_A - S_B and the ratio S_A / S_B of standardized two-year
survival: the same quantities as the unadjusted Kaplan-Meier :func:`trialnb.analysis.milestone`,
estimated more precisely when the factors are prognostic.

The variance is the influence-function variance (Ozenne et al. 2020; equal to R
``riskRegression::ate`` on the shipped files, ``tests/reference/riskregression_ate.R``), not a
bootstrap: it is a closed form, batched over thousands of simulated trials, and a bootstrap that
resamples patients would ignore the minimization that allocated them. It is valid under
minimization because the model adjusts for every minimization factor (Ye, Shao, Yi & Zhao, JASA
2023; Ye, Shao & Yi, Biometrika 2024). Notebook 04 checks it by simulation under minimization:
with the plan's 236 patients the influence-function SE is about 2% too small (the SD of the z
statistic under no effect is about 1.02), so the Wald test of the difference rejects about 5.5%
of the time at a nominal 5%, a small-sample effect; the Kaplan-Meier difference, whose variance
ignores the balance minimization creates, is conservative instead (below 5%).

What the estimate rests on: the Cox working model. Randomization makes the arms comparable
whatever the model, but if the model is wrong for an arm's curve (the effect of surgery not
proportional, a factor's effect changing with time) the predictions averaged can miss that arm's
two-year survival; the unadjusted Kaplan-Meier contrast, which assumes nothing, stays a
sensitivity analysis beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OutsideDataError, TrialAnalysisError
from ..plan import PLAN, TrialPlan, check_plan
from ..protocol import ARM_CODES
from ..report import fmt_n, fmt_num, fmt_p, fmt_pct
from ..results import Result
from ..survival import standardized_survival
from ._frame import arrays, censor_at, check_df, cox_matrix
from .estimands import check_tau

__all__ = ["StandardizedMilestoneResult", "standardized_milestone"]


@dataclass(frozen=True)
class StandardizedMilestoneResult(Result):
    """Standardized survival at ``tau`` per arm and its contrasts (covariate-adjusted).

    ``table`` (index A, B): ``survival`` (the mean over the trial's patients of the Cox model's
    predicted S(tau) with the arm set to A or B), its influence-function ``se``, Wald CI at
    ``ci_level`` (the plan's 1 - alpha for a two-sided plan). ``difference`` S_A - S_B with
    ``diff_se``, CI, ``z`` (the sign of the difference: > 0 favours arm A) and two-sided
    ``p_value``; ``ratio`` S_A / S_B with its CI on the log scale. ``covariates`` names the
    minimization factors adjusted for; ``n``, ``events`` the patients and deaths by tau. When
    the Cox model cannot be estimated (an arm without deaths, no convergence) ``estimable`` is
    False, ``reason`` says why and the numbers are NaN."""

    tau: float
    covariates: tuple[str, ...]
    n: int
    events: int
    estimable: bool
    reason: str
    table: pd.DataFrame
    difference: float
    diff_se: float
    diff_lower: float
    diff_upper: float
    z: float
    p_value: float
    ratio: float
    ratio_lower: float
    ratio_upper: float
    ci_level: float

    @property
    def survival_a(self) -> float:
        return float(self.table["survival"]["A"])

    @property
    def survival_b(self) -> float:
        return float(self.table["survival"]["B"])

    def to_frame(self) -> pd.DataFrame:
        lvl = f"{100 * self.ci_level:g}%"
        return pd.DataFrame({
            "estimate": [self.survival_a, self.survival_b, self.difference, self.ratio],
            "se": [float(self.table["se"]["A"]), float(self.table["se"]["B"]), self.diff_se, math.nan],
            f"ci_lower ({lvl})": [float(self.table["ci_lower"]["A"]), float(self.table["ci_lower"]["B"]),
                                  self.diff_lower, self.ratio_lower],
            f"ci_upper ({lvl})": [float(self.table["ci_upper"]["A"]), float(self.table["ci_upper"]["B"]),
                                  self.diff_upper, self.ratio_upper],
            "p": [math.nan, math.nan, self.p_value, math.nan],
        }, index=pd.Index([f"S_A({self.tau:g})", f"S_B({self.tau:g})", "S_A - S_B", "S_A / S_B"],
                          name="standardized"))

    def summary(self) -> str:
        adj = ", ".join(self.covariates) if self.covariates else "no covariate"
        head = (f"standardized {self.tau:g}-month survival (Cox model with arm and {adj}; G-computation over "
                f"{fmt_n(self.n)} patients, {fmt_n(self.events)} deaths)")
        if not self.estimable:
            return f"{head}\nno estimate: {self.reason}"
        lvl = f"{100 * self.ci_level:g}% CI"
        return (f"{head}\nA {fmt_pct(self.survival_a)}, B {fmt_pct(self.survival_b)}; difference "
                f"{fmt_num(100 * self.difference, 1)} percentage points ({lvl} {fmt_num(100 * self.diff_lower, 1)} to "
                f"{fmt_num(100 * self.diff_upper, 1)}), {fmt_p(self.p_value)}; ratio {fmt_num(self.ratio, 3)} "
                f"({fmt_num(self.ratio_lower, 3)} to {fmt_num(self.ratio_upper, 3)})")


def standardized_milestone(df: pd.DataFrame, tau: float | None = None, *,
                           plan: TrialPlan = PLAN) -> StandardizedMilestoneResult:
    """Covariate-adjusted (standardized) survival at ``tau`` (default the plan's
    ``censor_months``) per arm, their difference and ratio (the module docstring). The model is
    the plan's: arm plus ``plan.analysis.covariates``, ``plan.analysis.ties``, follow-up censored
    at ``plan.analysis.censor_months``, intention to treat."""
    check_plan(plan, error=TrialAnalysisError)
    a = plan.analysis
    tau = check_tau(tau, plan)
    df = censor_at(check_df(df, both_arms=True), a.censor_months)
    t, e, arm = arrays(df)
    last = float(t.max())
    if tau > last:
        raise OutsideDataError(f"tau = {tau:g} months is beyond the last follow-up in these data ({last:g} months): "
                               f"the baseline hazard is not estimated there; choose tau <= {last:g}")
    X, _ = cox_matrix(df, a.covariates)
    res = standardized_survival(t, e, X, tau, treatment=0, ties=a.ties)
    level = 1 - a.alpha if a.sided == 2 else 1 - 2 * a.alpha
    zc = float(stats.norm.isf((1 - level) / 2))
    n, ev = len(df), int(((t <= tau) & (e == 1)).sum())
    covs = tuple(a.covariates)
    if not res.ok:
        by_arm = {k: int(((t <= tau) & (e == 1) & (arm == v)).sum()) for k, v in (("A", 1), ("B", 0))}
        none = [k for k, v in by_arm.items() if v == 0]
        why = (f"no death in arm {none[0]} by {tau:g} months: the Cox model's arm coefficient is infinite" if none
               else "the Cox model of the plan cannot be estimated in these data")
        nan = math.nan
        table = pd.DataFrame({"survival": nan, "se": nan, "ci_lower": nan, "ci_upper": nan},
                             index=pd.Index(list(ARM_CODES), name="arm"))
        return StandardizedMilestoneResult(tau, covs, n, ev, False, why, table, nan, nan, nan, nan, nan, nan,
                                           nan, nan, nan, level)
    s = np.asarray(res.survival, float)
    se = np.asarray(res.se, float)
    table = pd.DataFrame({"survival": s, "se": se, "ci_lower": s - zc * se, "ci_upper": s + zc * se},
                         index=pd.Index(list(ARM_CODES), name="arm"))
    d, dse = float(res.difference), float(res.difference_se)
    z = d / dse if dse > 0 else math.nan
    p = float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan
    r, lse = float(res.ratio), float(res.log_ratio_se)
    return StandardizedMilestoneResult(tau, covs, n, ev, True, "", table, d, dse, d - zc * dse, d + zc * dse, z, p,
                                       r, r * math.exp(-zc * lse), r * math.exp(zc * lse), level)
