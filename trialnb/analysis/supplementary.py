"""Supplementary estimands (ICH E9(R1)) of one trial: the effect of surgery itself, not of the
strategy, under assumptions the randomization does not guarantee.

The primary estimand is the treatment-policy (ITT) effect of *allocating* surgery. Clinicians
also ask two other questions; each has an estimator and assumptions that must be stated:

1. **The effect of surgery among the patients who would be operated if allocated to arm A**
   (a principal stratum: the "compliers"). :func:`iv_milestone` / :func:`complier_average_effect`:
   the Wald instrumental-variable estimator on the milestone (Angrist, Imbens & Rubin 1996),

       CACE(tau) = [S_A(tau) - S_B(tau)] / [P(operated | A) - P(operated | B)],

   the ITT difference in tau-month survival (Kaplan-Meier) divided by the difference in the
   proportions operated. Assumptions: (i) randomization makes the allocation independent of the
   potential outcomes (guaranteed by design); (ii) *exclusion restriction*: allocation changes
   survival only through the operation (no effect of being in arm A for a patient who is never
   operated, none for one operated in either arm); (iii) *monotonicity*: no patient would be
   operated if allocated to B and not if allocated to A (no "defiers"); (iv) the proportions
   operated differ. The standard error is the delta method on the influence functions of the
   two Kaplan-Meier estimates and the two proportions (their covariance within arm A included).
2. **A hypothetical strategy for arm-B surgery**: survival in arm B had no arm-B patient been
   operated. :func:`ipcw_milestone` / :func:`hypothetical_no_surgery`: arm-B patients are
   censored at their operation and the patients still unoperated are weighted by the inverse
   of their probability of remaining unoperated given baseline factors (stabilized weights,
   :func:`trialnb.survival.censoring_weights`); then the weighted Kaplan-Meier difference at
   tau and the weighted Cox hazard ratio adjusted for the factors, with robust variances
   (Robins & Finkelstein 2000). Assumptions: (i) *no unmeasured confounding of the operation*:
   given the baseline factors in the weight model, being operated is unrelated to prognosis
   (the CRF has no time-varying prognostic measurement, so none can enter the weights: a
   progression that prompts surgery and also predicts death would violate this); (ii)
   *positivity*: every patient has a positive probability of remaining unoperated; (iii) a
   correct model for the operation (a discrete logistic model of surgery on the factors). The
   naive analysis (censoring at surgery without weights) assumes the operated are a random
   subset, and is shown beside it.

Both estimators are checked where the truth is known by
:func:`trialnb.simulation.simulate_complier_effect` and
:func:`trialnb.simulation.simulate_hypothetical` (bias and coverage over thousands of trials).

References
----------
* ICH E9(R1) addendum on estimands and sensitivity analysis in clinical trials, 2019.
* Angrist JD, Imbens GW, Rubin DB. Identification of causal effects using instrumental
  variables. JASA 1996;91:444-455.
* Robins JM, Finkelstein DM. Correcting for noncompliance and dependent censoring in an AIDS
  clinical trial with inverse probability of censoring weighted (IPCW) log-rank tests.
  Biometrics 2000;56:779-788.
* Latimer NR, Abrams KR, Lambert PC, et al. Adjusting for treatment switching in randomised
  controlled trials - a simulation study and a simplified two-stage method. Stat Methods Med
  Res 2017;26:724-751 (IPCW for switching, its assumptions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OutsideDataError, TrialAnalysisError
from ..plan import PLAN, TrialPlan
from ..protocol import FACTOR_NAMES
from ..report import fmt_hr, fmt_n, fmt_num, fmt_pct
from ..results import Result
from ..survival import censoring_weights, survival_influence, weighted_cox
from ._frame import SURV, censor_at, check_df, cox_matrix

__all__ = ["ComplierEffect", "HypotheticalEffect", "IV_ASSUMPTIONS", "IPCW_ASSUMPTIONS", "complier_average_effect",
           "hypothetical_no_surgery", "ipcw_milestone", "iv_milestone"]

Z975 = float(stats.norm.ppf(0.975))

IV_ASSUMPTIONS: tuple[str, ...] = (
    "randomization: the allocation is independent of every patient's potential outcomes (by design)",
    "exclusion restriction: the allocation changes survival only through the operation",
    "monotonicity: no patient would be operated if allocated to arm B but not if allocated to arm A",
    "relevance: the proportion operated differs between the arms",
)
"""The assumptions of the complier-average (instrumental-variable) estimand, in words."""

IPCW_ASSUMPTIONS: tuple[str, ...] = (
    "no unmeasured confounding of the operation: given the baseline factors of the weight model, "
    "being operated in arm B is unrelated to prognosis",
    "positivity: every arm-B patient has a positive probability of remaining unoperated",
    "a correct model for the operation: a logistic model of being operated at each arm-B surgery month among "
    "the patients still unoperated, given the factors",
)
"""The assumptions of the hypothetical strategy for arm-B surgery (IPCW), in words."""


def _pp(x: float) -> str:
    """A difference of two proportions in percentage points."""
    return f"{fmt_num(100 * x, 1)} percentage points"


def _check_tau(tau: Any) -> float:
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.integer, np.floating)) \
            or not math.isfinite(tau) or tau <= 0:
        raise TrialAnalysisError(f"tau must be a positive number of months, got {tau!r}")
    return float(tau)


def _arrays(time: Any, event: Any, arm: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, e, a = np.asarray(time, float), np.asarray(event), np.asarray(arm)
    if not (t.ndim == e.ndim == a.ndim == 1 and t.shape == e.shape == a.shape):
        raise TrialAnalysisError("time, event and arm must be 1-D arrays of one length")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise TrialAnalysisError("time must be finite months >= 0")
    if e.dtype.kind == "b" or not np.all(np.isin(e, (0, 1))) or a.dtype.kind == "b" or not np.all(np.isin(a, (0, 1))):
        raise TrialAnalysisError("event and arm must be 0/1 integers (arm 1 = A)")
    if a.min() == a.max():
        raise TrialAnalysisError("both arms must be present (arm 1 = A, 0 = B)")
    return t, e.astype(int), a.astype(int)


# ---------------------------------------------------------------- the complier-average effect

@dataclass(frozen=True)
class ComplierEffect(Result):
    """The complier-average effect of surgery on tau-month survival by instrumental variable:
    ``cace`` = ``itt_difference`` / (``operated_a`` - ``operated_b``), its delta-method ``se`` and
    95% CI; the ITT difference with its own SE, each arm's Kaplan-Meier survival, the fractions
    operated and the number of patients."""

    tau: float
    survival_a: float
    survival_b: float
    itt_difference: float
    itt_se: float
    operated_a: float
    operated_b: float
    cace: float
    se: float
    lower: float
    upper: float
    n_a: int
    n_b: int

    def summary(self) -> str:
        return (f"Complier-average effect of surgery on {fmt_num(self.tau, 0)}-month survival (instrumental "
                f"variable): ITT difference {_pp(self.itt_difference)} / difference in the proportions operated "
                f"({fmt_pct(self.operated_a)} in A - {fmt_pct(self.operated_b)} in B) = {_pp(self.cace)} "
                f"(95% CI {fmt_num(100 * self.lower, 1)} to {fmt_num(100 * self.upper, 1)}); valid only under the "
                "exclusion restriction and monotonicity (trialnb.analysis.IV_ASSUMPTIONS)")


def iv_milestone(time: Any, event: Any, arm: Any, operated: Any, tau: float) -> ComplierEffect:
    """The Wald instrumental-variable estimator of the complier-average effect on S(``tau``)
    (module docstring) from arrays: months, death 0/1, arm 1 = A, operated 0/1 (at any time of
    follow-up). Refuses a tau beyond either arm's follow-up and equal proportions operated."""
    t, e, a = _arrays(time, event, arm)
    op = np.asarray(operated)
    if op.shape != t.shape or op.dtype.kind == "b" or not np.all(np.isin(op, (0, 1))):
        raise TrialAnalysisError("operated must be 0/1 integers, one per patient")
    tau = _check_tau(tau)
    n = t.size
    infl_s = np.zeros(n)
    surv = {}
    for k in (1, 0):
        m = a == k
        try:
            surv[k], infl_s[m] = survival_influence(t[m], e[m], tau)
        except OutsideDataError as exc:
            raise TrialAnalysisError(f"arm {'A' if k else 'B'}: {exc}; choose a smaller tau") from None
    infl_s[a == 0] *= -1.0  # the difference S_A - S_B
    p = {k: float(op[a == k].mean()) for k in (1, 0)}
    nk = {k: int((a == k).sum()) for k in (1, 0)}
    pi = p[1] - p[0]
    if abs(pi) < 1e-12:
        raise TrialAnalysisError("the proportions operated are equal in both arms: the allocation does not move "
                                 "surgery (relevance fails) and the complier effect is not identified")
    infl_p = np.where(a == 1, (op - p[1]) / nk[1], -(op - p[0]) / nk[0])
    diff = surv[1] - surv[0]
    cace = diff / pi
    infl = (infl_s - cace * infl_p) / pi
    se = float(np.sqrt(np.sum(infl * infl)))
    itt_se = float(np.sqrt(np.sum(infl_s * infl_s)))
    return ComplierEffect(tau, surv[1], surv[0], diff, itt_se, p[1], p[0], cace, se, cace - Z975 * se,
                          cace + Z975 * se, nk[1], nk[0])


def complier_average_effect(df: pd.DataFrame, *, tau: float | None = None, plan: TrialPlan = PLAN) -> ComplierEffect:
    """:func:`iv_milestone` on a trial DataFrame: survival to ``tau`` (default the plan's
    ``censor_months``, 24) from ``os_months``/``death``, operated = the CRF's ``operated`` (at
    any time, in either arm)."""
    df = check_df(df, SURV + ("operated",), both_arms=True)
    tau = _check_tau(plan.milestone_months if tau is None else tau)
    return iv_milestone(df["os_months"].to_numpy(float), df["death"].to_numpy().astype(int),
                        (df["arm"] == "A").to_numpy().astype(int), df["operated"].to_numpy().astype(int), tau)


# ---------------------------------------------------------------- the hypothetical strategy

@dataclass(frozen=True)
class HypotheticalEffect(Result):
    """The hypothetical strategy "no arm-B patient operated", by inverse probability of censoring
    weighting: tau-month survival of arm A (as randomized) and of arm B (weighted), their
    difference with its robust SE and 95% CI, the weighted Cox hazard ratio (arm A vs B,
    adjusted for the factors) with its robust CI; the naive analysis (censoring at surgery, no
    weights) beside it; the number of arm-B patients censored at surgery and the range of the
    weights."""

    tau: float
    survival_a: float
    survival_b: float
    difference: float
    se: float
    lower: float
    upper: float
    hazard_ratio: float
    hr_lower: float
    hr_upper: float
    naive_survival_b: float
    naive_difference: float
    naive_se: float
    naive_hazard_ratio: float
    censored_at_surgery: int
    weight_min: float
    weight_max: float
    log_hr: float = math.nan
    log_hr_se: float = math.nan
    naive_log_hr_se: float = math.nan

    def summary(self) -> str:
        return (f"Hypothetical strategy (no arm-B surgery; {fmt_n(self.censored_at_surgery)} arm-B patients censored "
                f"at surgery, stabilized weights {fmt_num(self.weight_min, 2)} to {fmt_num(self.weight_max, 2)}): "
                f"{fmt_num(self.tau, 0)}-month survival A {fmt_pct(self.survival_a)}, B {fmt_pct(self.survival_b)}, "
                f"difference {_pp(self.difference)} (95% CI {fmt_num(100 * self.lower, 1)} to "
                f"{fmt_num(100 * self.upper, 1)}); "
                f"weighted Cox HR {fmt_hr(self.hazard_ratio, self.hr_lower, self.hr_upper)}. "
                f"Naive censoring without weights: difference {_pp(self.naive_difference)}, HR "
                f"{fmt_hr(self.naive_hazard_ratio)}. "
                "Valid only without unmeasured confounding of the operation (trialnb.analysis.IPCW_ASSUMPTIONS)")


def ipcw_milestone(time: Any, event: Any, arm: Any, surgery_month: Any, covariates: Any, tau: float, *,
                   names: Sequence[str] | None = None) -> HypotheticalEffect:
    """The hypothetical strategy for arm-B surgery from arrays (module docstring): months,
    death 0/1, arm 1 = A, ``surgery_month`` (an arm-B operation, NaN or inf when none; values
    in arm A are ignored), baseline ``covariates`` (n, q): the factors of the weight model and
    of the Cox model (with arm first). Stabilized weights; robust variances."""
    t, e, a = _arrays(time, event, arm)
    tau = _check_tau(tau)
    sm = np.asarray(surgery_month, dtype=float)
    Z = np.asarray(covariates, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    if sm.shape != t.shape or Z.shape[0] != t.size:
        raise TrialAnalysisError("surgery_month and covariates must have one entry (row) per patient")
    sm = np.where(a == 0, sm, np.inf)
    b = np.flatnonzero(a == 0)
    ia = np.flatnonzero(a == 1)
    try:
        cw = censoring_weights(t[b], e[b], sm[b], Z[b])
    except ValueError as exc:
        raise TrialAnalysisError(f"the weights of arm B cannot be computed: {exc}") from None
    # rows: arm A whole (weight 1), arm B split and weighted; cluster = patient
    entry = np.concatenate([np.zeros(ia.size), cw.entry])
    stop = np.concatenate([t[ia], cw.time])
    ev = np.concatenate([e[ia], cw.event])
    pat = np.concatenate([ia, b[cw.patient]])
    arm_r = np.concatenate([np.ones(ia.size), np.zeros(cw.time.size)])
    w = np.concatenate([np.ones(ia.size), cw.weight])
    out = {}
    for name, wt in (("ipcw", w), ("naive", np.ones_like(w))):
        res = {}
        for k in (1, 0):
            m = arm_r == k
            try:
                res[k] = survival_influence(stop[m], ev[m], tau, weights=wt[m], entry=entry[m], cluster=pat[m])
            except OutsideDataError as exc:
                raise TrialAnalysisError(f"arm {'A' if k else 'B'}: {exc}; choose a smaller tau") from None
        diff = res[1][0] - res[0][0]
        se = float(np.sqrt(np.sum(res[1][1] ** 2) + np.sum(res[0][1] ** 2)))
        X = np.column_stack([arm_r, Z[pat]])
        cox = weighted_cox(stop, ev, X, wt, entry=entry, cluster=pat,
                           names=("arm_A",) + tuple(names or (f"z{j}" for j in range(Z.shape[1]))))
        out[name] = (res[0][0], diff, se, float(cox.coef[0]), float(cox.se[0]))
    sb, diff, se, lhr, lse = out["ipcw"]
    nsb, ndiff, nse, nlhr, nlse = out["naive"]
    wb = cw.weight
    return HypotheticalEffect(tau, res[1][0], sb, diff, se, diff - Z975 * se, diff + Z975 * se, math.exp(lhr),
                              math.exp(lhr - Z975 * lse), math.exp(lhr + Z975 * lse), nsb, ndiff, nse, math.exp(nlhr),
                              cw.censored, float(wb.min()), float(wb.max()), lhr, lse, nlse)


def hypothetical_no_surgery(df: pd.DataFrame, *, tau: float | None = None,
                            reasons: Sequence[str] = ("local_progression", "patient_request"),
                            plan: TrialPlan = PLAN) -> HypotheticalEffect:
    """:func:`ipcw_milestone` on a trial DataFrame: follow-up censored at the plan's
    ``censor_months`` (the primary endpoint's deaths), arm-B operations for ``reasons`` (the
    CRF's ``surgery_reason``: by default every arm-B operation) handled by the hypothetical
    strategy, the weight and Cox models on the minimization factors (treatment contrasts)."""
    allowed = ("local_progression", "patient_request")
    if isinstance(reasons, str) or not reasons or any(r not in allowed for r in reasons):
        raise TrialAnalysisError(f"reasons must be a non-empty tuple from {allowed}, got {reasons!r}")
    df = check_df(df, SURV + FACTOR_NAMES + ("operated", "surgery_month", "surgery_reason"), both_arms=True)
    tau = _check_tau(plan.milestone_months if tau is None else tau)
    d = censor_at(df, plan.analysis.censor_months)
    sm = pd.to_numeric(d["surgery_month"], errors="coerce").to_numpy(float)
    chosen = ((d["arm"] == "B").to_numpy() & (d["operated"] == 1).to_numpy()
              & d["surgery_reason"].isin(reasons).to_numpy())
    Z, names = cox_matrix(d, FACTOR_NAMES, arm=False)
    return ipcw_milestone(d["os_months"].to_numpy(float), d["death"].to_numpy().astype(int),
                          (d["arm"] == "A").to_numpy().astype(int), np.where(chosen, sm, np.inf), Z, tau, names=names)
