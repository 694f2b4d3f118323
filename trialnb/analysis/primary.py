"""The plan's primary analysis of one trial's data, on the survival engine.

:func:`primary` applies ``plan.analysis`` (:class:`trialnb.plan.AnalysisPlan`) to a trial
DataFrame (:func:`trialnb.data.load_trial`): the endpoint (follow-up censored at
``censor_months``), the ``statistic`` (the Wald z of the arm coefficient of the Cox model with
the plan's ``covariates`` and ``ties``; the log-rank test; the log-rank test stratified by the
covariates), ``alpha`` and ``sided``. Change a field of the plan and the result changes as R
would (``ties="breslow"`` is R ``coxph(ties = "breslow")``; ``covariates=()`` the unadjusted
model; ``censor_months=36`` the 3-year endpoint). :func:`overall_survival` is the secondary
analysis on all follow-up; :func:`cox_model` the full coefficient table of a Cox model.

Every number comes from :mod:`trialnb.survival` (equal to R ``survival``; the audit and
``tests/reference/survival_coxph.R`` check the shipped files). A result that does not exist is
not printed as a number: when the arm's coefficient cannot be estimated (no death in an arm: R
flags it "may be infinite"; too few deaths; no convergence) :class:`PrimaryResult` says why
(``estimable`` False, ``reason``) and its numbers are NaN.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrialAnalysisError
from ..plan import AnalysisPlan, OS_ANALYSIS, PLAN, TrialPlan, check_plan
from ..report import fmt_n, fmt_num, fmt_p
from ..results import Result
from ..survival import CoxResult, fit_cox, logrank
from ..survival.cox import Ties
from ._frame import REQUIRED, arrays, censor_at, check_df, cox_matrix, strata_labels

__all__ = ["PrimaryResult", "cox_model", "overall_survival", "primary", "primary_data"]


@dataclass(frozen=True)
class PrimaryResult(Result):
    """The plan's statistic on the plan's endpoint for one trial.

    ``z`` has the sign of log(HR A vs B) (negative favours arm A); ``log_hr`` and ``se`` are the
    Cox coefficient and its SE (``cox_wald``) or the Peto estimate (O - E)/V and 1/sqrt(V)
    (log-rank family); ``hazard_ratio`` = exp(log_hr) with the Wald interval at level
    ``ci_level`` (1 - alpha for a two-sided plan, 1 - 2 alpha for a one-sided one, so the
    interval excludes 1 exactly when the test rejects); ``p_value`` two-sided or one-sided for
    benefit as the plan says. ``estimable`` False with ``reason`` when there is no estimate,
    and ``shown_instead`` says what can be shown in its place (the deaths by arm and the
    unadjusted log-rank z, descriptive only). ``cox`` keeps the whole model (its coefficient
    table: :meth:`coefficients`)."""

    analysis: AnalysisPlan
    n: int
    events: int
    events_by_arm: dict[str, int]
    estimable: bool
    reason: str
    z: float
    log_hr: float
    se: float
    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    ci_level: float
    p_value: float
    notes: tuple[str, ...] = ()
    cox: CoxResult | None = field(default=None, repr=False)
    shown_instead: str = ""

    @property
    def statistic(self) -> str:
        return self.analysis.statistic

    @property
    def reject(self) -> bool:
        """Whether the plan's test rejects H0 at its alpha (False when not estimable)."""
        return self.estimable and self.p_value <= self.analysis.alpha

    def coefficients(self) -> pd.DataFrame:
        """The Cox model's coefficient table (covariate, coef, exp(coef), se, z, p, CI); empty for
        a log-rank statistic."""
        return self.cox.to_frame() if self.cox is not None else pd.DataFrame()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"statistic": self.statistic, "n": self.n, "events": self.events,
                              "hazard_ratio": self.hazard_ratio, "ci_lower": self.ci_lower, "ci_upper": self.ci_upper,
                              "z": self.z, "p_value": self.p_value, "estimable": self.estimable}])

    def summary(self) -> str:
        head = (f"{self.analysis.statistic_label()}: {fmt_n(self.n)} patients, {fmt_n(self.events)} deaths "
                f"(A {fmt_n(self.events_by_arm['A'])}, B {fmt_n(self.events_by_arm['B'])})")
        if not self.estimable:
            return head + f"\nno estimate: {self.reason}" + (f"\nshown instead: {self.shown_instead}"
                                                              if self.shown_instead else "")
        lvl = f"{100 * self.ci_level:g}% CI"
        side = "two-sided" if self.analysis.sided == 2 else "one-sided (benefit)"
        lines = [head, f"HR A vs B {fmt_num(self.hazard_ratio, 2)} ({lvl} {fmt_num(self.ci_lower, 2)} to "
                       f"{fmt_num(self.ci_upper, 2)}), z = {fmt_num(self.z, 3)}, {side} {fmt_p(self.p_value)}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def primary_data(df: pd.DataFrame, plan: TrialPlan = PLAN) -> pd.DataFrame:
    """``df`` as the plan's analysis sees it: follow-up censored at
    ``plan.analysis.censor_months`` (24) months after randomization."""
    return censor_at(df, plan.analysis.censor_months)


def _deaths(n: int) -> str:
    return f"{fmt_n(n)} death" + ("" if n == 1 else "s")


def _instead(t: np.ndarray, e: np.ndarray, arm: np.ndarray, by_arm: dict[str, int]) -> str:
    """What a report can show when the plan's estimate does not exist: the deaths by arm and the
    unadjusted log-rank z (descriptive: no boundary is applied to it)."""
    text = f"the deaths by arm (A {fmt_n(by_arm['A'])}, B {fmt_n(by_arm['B'])})"
    if arm.min() == arm.max() or e.sum() == 0:
        return text
    lr = logrank(t, e, arm)
    if lr.variance > 0 and math.isfinite(lr.z):
        text += (f" and the unadjusted log-rank z = {fmt_num(float(lr.z), 2)} (negative favours arm A; descriptive "
                 "only: not the plan's statistic, no boundary is applied to it)")
    return text


def _unestimable(a: AnalysisPlan, n: int, ev: int, by_arm: dict[str, int], reason: str, level: float,
                 cox: CoxResult | None = None, notes: tuple[str, ...] = (), instead: str = "") -> PrimaryResult:
    nan = math.nan
    return PrimaryResult(a, n, ev, by_arm, False, reason, nan, nan, nan, nan, nan, nan, level, nan, notes, cox,
                         shown_instead=instead)


def _cox_reason(cox: CoxResult, by_arm: dict[str, int], ev: int, p: int) -> str:
    """Why the planned Cox model gives no estimate of the arm's hazard ratio."""
    without = [k for k, v in by_arm.items() if v == 0]
    if without:
        arm = without[0]
        return (f"no death in arm {arm} yet: the hazard ratio A vs B is {'0' if arm == 'A' else 'infinite'} in these "
                "data and has no finite estimate (the Cox coefficient diverges; R stops at a huge coefficient with a "
                "warning)")
    if not cox.converged:
        why = "the Cox model did not converge"
    elif cox.infinite is not None and bool(np.atleast_1d(cox.infinite)[0]):
        why = "the arm coefficient may be infinite (monotone likelihood)"
    else:
        why = "the arm coefficient cannot be estimated"
    return (f"{why}: {_deaths(ev)} {'is' if ev == 1 else 'are'} too few for the planned model ({p} coefficients: "
            "the arm and the minimization factors' levels)")


def _with_analysis(df: pd.DataFrame, a: AnalysisPlan) -> PrimaryResult:
    needed = REQUIRED if a.statistic != "logrank" else ("arm", "os_months", "death")
    df = check_df(censor_at(check_df(df, needed), a.censor_months), needed)
    t, e, arm = arrays(df)
    n, ev = len(df), int(e.sum())
    by_arm = {"A": int(e[arm == 1].sum()), "B": int(e[arm == 0].sum())}
    level = 1 - a.alpha if a.sided == 2 else 1 - 2 * a.alpha
    zc = float(stats.norm.isf((1 - level) / 2))
    if arm.min() == arm.max():
        return _unestimable(a, n, ev, by_arm, "the data hold patients of one arm only", level,
                            instead=_instead(t, e, arm, by_arm))
    if ev == 0:
        return _unestimable(a, n, ev, by_arm, "no deaths yet: nothing to compare", level)
    notes: tuple[str, ...] = ()
    cox = None
    if a.statistic == "cox_wald":
        X, names = cox_matrix(df, a.covariates)
        cox = fit_cox(t, e, X, ties=a.ties, names=names)
        flagged = np.atleast_1d(cox.infinite) if cox.infinite is not None else np.zeros(len(names), bool)
        sing = [nm for nm, b in zip(names, np.atleast_1d(cox.coef), strict=True)
                if nm != "arm_A" and not np.isfinite(b)]
        inf = [nm for nm, f in zip(names, flagged, strict=True) if f and nm != "arm_A"]
        if sing:
            notes += (f"covariate(s) {', '.join(sing)} take one value in these data: set aside (R: NA)",)
        if not cox.usable(0):
            return _unestimable(a, n, ev, by_arm, _cox_reason(cox, by_arm, ev, len(names)), level, cox, notes,
                                instead=_instead(t, e, arm, by_arm))
        if inf:
            notes += (f"covariate(s) {', '.join(inf)} may be infinite (a level without deaths: {_deaths(ev)} are few "
                      f"for the planned model's {len(names)} coefficients; R warns the same); the arm's estimate is "
                      "still valid",)
        b, se = float(cox.coef[0]), float(cox.se[0])
    else:
        st = strata_labels(df, a.covariates) if a.statistic == "stratified_logrank" else None
        lr = logrank(t, e, arm, strata=st)
        if not (lr.variance > 0) or not math.isfinite(lr.z):
            return _unestimable(a, n, ev, by_arm, "the log-rank variance is 0 (no information in these data)", level,
                                instead=_instead(t, e, arm, by_arm))
        b, se = float((lr.observed - lr.expected) / lr.variance), float(1 / math.sqrt(lr.variance))
        if st is not None:
            sizes = pd.Series(st).value_counts()
            small = int((sizes < 5).sum())
            if small:
                notes += (f"{small} of {len(sizes)} strata hold fewer than 5 patients (the sparse-strata rule: "
                          "trialnb.analysis.pool_strata)",)
    z = b / se
    p = float(2 * stats.norm.sf(abs(z))) if a.sided == 2 else float(stats.norm.cdf(z))
    return PrimaryResult(a, n, ev, by_arm, True, "", z, b, se, math.exp(b), math.exp(b - zc * se),
                         math.exp(b + zc * se), level, p, notes, cox)


def primary(df: pd.DataFrame, plan: TrialPlan = PLAN) -> PrimaryResult:
    """The plan's primary analysis of ``df`` (the module docstring): ``plan.analysis``'s
    statistic on its endpoint, intention to treat (every row in the arm it was randomized to)."""
    check_plan(plan, error=TrialAnalysisError)
    return _with_analysis(df, plan.analysis)


def overall_survival(df: pd.DataFrame, plan: TrialPlan = PLAN) -> PrimaryResult:
    """The secondary overall-survival analysis: the plan's statistic on all follow-up to the data
    cut-off (:data:`trialnb.plan.OS_ANALYSIS`'s endpoint with the plan's statistic, covariates,
    ties, alpha and sides)."""
    check_plan(plan, error=TrialAnalysisError)
    a = plan.analysis
    return _with_analysis(df, dataclasses.replace(OS_ANALYSIS, statistic=a.statistic, covariates=a.covariates,
                                                  ties=a.ties, alpha=a.alpha, sided=a.sided))


def cox_model(df: pd.DataFrame, covariates: Sequence[str] | None = None, *,
              censor_months: float | None | Literal["plan"] = "plan", ties: Ties | None = None, arm: bool = True,
              plan: TrialPlan = PLAN) -> CoxResult:
    """The Cox model of ``df`` with arm and the factors ``covariates`` (treatment contrasts:
    arm B, bone, receptor positive, HER2 negative as references), follow-up censored at
    ``censor_months`` (None: all follow-up): the engine's :class:`~trialnb.survival.CoxResult`,
    whose ``to_frame()`` is the coefficient table with the covariate names. Unless given,
    ``covariates``, ``censor_months`` and ``ties`` are the plan's (``plan.analysis``)."""
    a = plan.analysis
    covariates = a.covariates if covariates is None else covariates
    censor_months = a.censor_months if censor_months == "plan" else censor_months
    ties = a.ties if ties is None else ties
    df = censor_at(check_df(df), censor_months)
    t, e, _ = arrays(df)
    X, names = cox_matrix(df, covariates, arm=arm)
    return fit_cox(t, e, X, ties=ties, names=names)
