"""Estimands of one trial beyond the hazard ratio, on the survival engine: what "two-year
survival" estimates and the tests that weigh deaths by when they happen.

``data`` is a trial DataFrame in the CRF schema (arm A/B, os_months, death; the minimization
factors for ``strata="factors"``) or a tuple (time, event, arm) of arrays with arm 1 = A. Every
function follows the plan's endpoint: follow-up is censored at ``plan.analysis.censor_months``
(24) as in the primary analysis, so the tests below answer questions about the same deaths
(``tau`` defaults to the same horizon).

* :func:`milestone` -- S_A(tau) and S_B(tau) (Kaplan-Meier, Greenwood SEs, log-log CIs, numbers
  at risk) and three contrasts: the difference S_A - S_B (the protocol's "percentage of patients
  who survive two years"), the complementary log-log contrast and the ratio.
* :func:`rmst_difference` -- restricted mean survival time to tau per arm and the difference.
* :func:`weighted_logrank` -- Fleming-Harrington FH(rho, gamma), optionally stratified.
* :func:`maxcombo` -- max |Z| of FH(0,0), FH(0,1), FH(1,0), FH(1,1) (stratified as the FH tests
  when asked), multivariate-normal p-value.
* :func:`piecewise_hr` -- hazard ratios before / after a change point (a description).

A tau beyond an arm's last follow-up is refused (:class:`trialnb.errors.OutsideDataError`): the
Kaplan-Meier curve is not defined there (R survRM2 refuses it too).
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
from ..protocol import ARM_CODES, FACTOR_NAMES
from ..report import fmt_hr, fmt_n, fmt_num, fmt_p, fmt_pct
from ..results import Result
from ..survival import FH_MAXCOMBO, fh_statistics, fit_cox, km_milestone, km_rmst, logrank, maxcombo_pvalue, split_at
from ._frame import SURV, censor_at, check_df, strata_labels
from .strata import pool_strata

__all__ = ["MaxComboResult", "MilestoneResult", "PiecewiseHRResult", "RMSTResult", "WeightedLogrankResult",
           "check_tau", "maxcombo", "milestone", "piecewise_hr", "rmst_difference", "weighted_logrank"]

Z975 = float(stats.norm.ppf(0.975))


def _p(p: float) -> str:
    return fmt_p(p) if math.isfinite(p) else "p not available"


def _horizon(plan: TrialPlan) -> float | None:
    return plan.analysis.censor_months


def _arrays(data: Any, plan: TrialPlan, factors: bool = False) -> tuple[np.ndarray, ...]:
    """(time, event, arm[, strata]) censored at the plan's horizon, both arms present."""
    h = _horizon(plan)
    if isinstance(data, pd.DataFrame):
        df = check_df(data, SURV + (FACTOR_NAMES if factors else ()), what="data", both_arms=True)
        df = censor_at(df, h)
        out: tuple[np.ndarray, ...] = (df["os_months"].to_numpy(float), df["death"].to_numpy().astype(int),
                                       (df["arm"] == "A").to_numpy().astype(int))
        if factors:
            labels = strata_labels(df, FACTOR_NAMES)
            assert labels is not None, "FACTOR_NAMES is not empty"
            out += (labels,)
        return out
    if factors:
        raise TrialAnalysisError("strata by the minimization factors need a trial DataFrame; with arrays pass strata=")
    if not isinstance(data, (tuple, list)) or len(data) != 3:
        raise TrialAnalysisError("data must be a trial DataFrame (CRF schema) or a tuple (time, event, arm) "
                                 "with arm 1 = A")
    t, e, a = (np.asarray(x) for x in data)
    if not (t.ndim == e.ndim == a.ndim == 1 and t.shape == e.shape == a.shape):
        raise TrialAnalysisError("time, event and arm must be 1-D arrays of the same length")
    if t.size == 0:
        raise TrialAnalysisError("time, event and arm hold no patients (empty arrays)")
    if a.dtype.kind not in "biuf" or not np.all((a == 0) | (a == 1)) or a.min() == a.max():
        raise TrialAnalysisError("arm must be 0/1 (1 = A) with both arms present")
    try:
        t = t.astype(float)
    except (TypeError, ValueError):
        raise TrialAnalysisError(f"time must be numbers of months, got dtype {t.dtype}") from None
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise TrialAnalysisError("time must hold finite follow-up times >= 0")
    if e.dtype.kind not in "biuf" or not np.all(np.isin(e, (0, 1))):
        raise TrialAnalysisError(f"event must hold 0 (censored) or 1 (died), got values "
                                 f"{sorted(map(str, np.unique(e.astype(object))))[:5]}")
    e = e.astype(int)
    if h is not None:
        late = t > h
        t, e = np.where(late, h, t), np.where(late, 0, e)
    return t, e, a.astype(int)


def check_tau(tau: float | None, plan: TrialPlan) -> float:
    """``tau`` (default: the plan's ``censor_months``, else the design's horizon) if it is a
    positive number of months within the plan's horizon; a named error otherwise."""
    tau = plan.analysis.censor_months if tau is None else tau
    if tau is None:
        tau = plan.design.horizon_months
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.integer, np.floating)) \
            or not math.isfinite(tau) or not tau > 0:
        raise TrialAnalysisError(f"tau must be a positive number of months, got {tau!r}")
    h = _horizon(plan)
    if h is not None and tau > h:
        raise OutsideDataError(f"tau = {tau:g} is beyond the plan's horizon: follow-up is censored at {h:g} months "
                               f"(plan.analysis.censor_months); choose tau <= {h:g} or change the plan")
    return float(tau)


def _refuse_beyond(t: np.ndarray, e: np.ndarray, a: np.ndarray, tau: float, values: Sequence[float]) -> None:
    if all(math.isfinite(v) for v in values):
        return
    lasts = {arm: float(t[a == k].max()) for arm, k in (("A", 1), ("B", 0))}
    raise OutsideDataError(f"tau = {tau:g} months is beyond the last follow-up of arm "
                           f"{min(lasts, key=lambda arm: lasts[arm])} ({min(lasts.values()):g} months): "
                           f"the Kaplan-Meier curve is not defined there; choose tau <= {min(lasts.values()):g}")


@dataclass(frozen=True)
class MilestoneResult(Result):
    """Survival at ``tau`` months per arm and three contrasts.

    ``table`` (index A, B): Kaplan-Meier ``survival``, Greenwood ``se``, log-log 95% CI
    (exp(-exp(log(-log S) -+ z se_ll)), se_ll = SE / (S |log S|)), ``n``, ``events_by_time``,
    ``at_risk_at_time``. Contrasts: the difference S_A - S_B (Wald CI, z test), the
    complementary log-log contrast log(-log S_A) - log(-log S_B) (< 0 favours A; its z has the
    opposite sign of the difference's) and the ratio S_A / S_B (CI on the log scale)."""

    tau: float
    table: pd.DataFrame
    difference: float
    diff_se: float
    diff_lower: float
    diff_upper: float
    z: float
    p_value: float
    cloglog_difference: float
    cloglog_se: float
    cloglog_z: float
    cloglog_p: float
    ratio: float
    ratio_lower: float
    ratio_upper: float
    reason: str = ""

    @property
    def survival_a(self) -> float:
        return float(self.table["survival"]["A"])

    @property
    def survival_b(self) -> float:
        return float(self.table["survival"]["B"])

    @property
    def se_a(self) -> float:
        return float(self.table["se"]["A"])

    @property
    def se_b(self) -> float:
        return float(self.table["se"]["B"])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "estimate": [self.difference, self.cloglog_difference, self.ratio],
            "se": [self.diff_se, self.cloglog_se, math.nan],
            "ci_lower": [self.diff_lower, self.cloglog_difference - Z975 * self.cloglog_se, self.ratio_lower],
            "ci_upper": [self.diff_upper, self.cloglog_difference + Z975 * self.cloglog_se, self.ratio_upper],
            "p": [self.p_value, self.cloglog_p, math.nan],
        }, index=pd.Index([f"S_A({self.tau:g}) - S_B({self.tau:g})", "log(-log S_A) - log(-log S_B)",
                           "S_A / S_B"], name="contrast"))

    def summary(self) -> str:
        head = f"{self.tau:g}-month survival: A {fmt_pct(self.survival_a)}, B {fmt_pct(self.survival_b)}; "
        if not math.isfinite(self.z):
            return head + (f"difference {fmt_num(100 * self.difference, 1)} percentage points; no test: {self.reason}")
        return (head + f"difference {fmt_num(100 * self.difference, 1)} percentage points (95% CI "
                f"{fmt_num(100 * self.diff_lower, 1)} to {fmt_num(100 * self.diff_upper, 1)}), {_p(self.p_value)}; "
                f"complementary log-log {_p(self.cloglog_p)}; ratio "
                + (fmt_num(self.ratio, 3) if math.isfinite(self.ratio) else "not available (survival 0 in arm B)"))


def _loglog(s: float, se: float) -> tuple[float, float, float]:
    """(log(-log S), its delta-method SE, and the log-log CI limits) for 0 < S < 1."""
    if not (0 < s < 1) or not math.isfinite(se):
        return math.nan, math.nan, math.nan
    return math.log(-math.log(s)), se / (s * abs(math.log(s))), 0.0


def milestone(data: Any, tau: float | None = None, *, plan: TrialPlan = PLAN) -> MilestoneResult:
    """The protocol's primary endpoint as a milestone contrast (the module docstring): Kaplan-Meier
    S(tau) per arm with Greenwood variances (Greenwood 1926), S_A - S_B with z = diff /
    sqrt(Var_A + Var_B), the complementary log-log contrast (Klein JP, Logan B, Harhoff M,
    Andersen PK. Analyzing survival curves at a fixed point in time. Stat Med 2007;26:4505-4519)
    and the ratio. ``tau`` defaults to the plan's horizon (24 months)."""
    tau = check_tau(tau, plan)
    t, e, a = _arrays(data, plan)
    sa, va, sb, vb = km_milestone(t, e, a, tau)
    _refuse_beyond(t, e, a, tau, (sa, sb))
    sea, seb = (math.sqrt(v) if math.isfinite(v) else math.nan for v in (va, vb))
    rows = {}
    for arm, k, s, se in (("A", 1, sa, sea), ("B", 0, sb, seb)):
        ll, sl, _ = _loglog(s, se)
        lo, hi = ((math.exp(-math.exp(ll + Z975 * sl)), math.exp(-math.exp(ll - Z975 * sl))) if math.isfinite(ll)
                  else (math.nan, math.nan))
        g = a == k
        rows[arm] = {"survival": s, "se": se, "ci_lower": lo, "ci_upper": hi, "n": int(g.sum()),
                     "events_by_time": int(((t <= tau) & (e == 1) & g).sum()),
                     "at_risk_at_time": int(((t >= tau) & g).sum())}
    table = pd.DataFrame(rows).T.rename_axis("arm").astype(
        {"survival": float, "se": float, "ci_lower": float, "ci_upper": float, "n": int, "events_by_time": int,
         "at_risk_at_time": int}).reindex(list(ARM_CODES))
    d, dse = sa - sb, math.sqrt(va + vb) if math.isfinite(va + vb) else math.nan
    z = d / dse if dse > 0 else math.nan
    (lla, sla, _), (llb, slb, _) = _loglog(sa, sea), _loglog(sb, seb)
    cd, cse = lla - llb, math.sqrt(sla ** 2 + slb ** 2)
    cz = cd / cse if cse > 0 else math.nan
    lr = math.log(sa / sb) if sa > 0 and sb > 0 else math.nan
    lrse = math.sqrt((sea / sa) ** 2 + (seb / sb) ** 2) if sa > 0 and sb > 0 else math.nan
    p = lambda zz: float(2 * stats.norm.sf(abs(zz))) if math.isfinite(zz) else math.nan  # noqa: E731
    return MilestoneResult(tau, table, d, dse, d - Z975 * dse, d + Z975 * dse, z, p(z), cd, cse, cz, p(cz),
                           sa / sb if sb > 0 else math.nan, math.exp(lr - Z975 * lrse), math.exp(lr + Z975 * lrse),
                           reason="" if math.isfinite(z) else _no_test(tau, (sa, sb), dse))


def _no_test(tau: float, values: Sequence[float], se: float) -> str:
    """Why a milestone or RMST contrast has no test: its SE is 0 or not defined."""
    if any(v <= 0 for v in values) and not math.isfinite(se):
        return (f"an arm's survival reached 0 by {tau:g} months: the Greenwood variance is not defined there, so the "
                "difference has no standard error")
    return (f"no death up to {tau:g} months in either arm: the difference has no variance (standard error 0), so "
            "there is nothing to test")


@dataclass(frozen=True)
class RMSTResult(Result):
    """Restricted mean survival time up to ``tau`` per arm (months, SE as R
    ``summary(survfit(...), rmean = tau)``) and the difference A - B with Wald CI and z test."""

    tau: float
    rmst_a: float
    se_a: float
    rmst_b: float
    se_b: float
    difference: float
    diff_se: float
    diff_lower: float
    diff_upper: float
    z: float
    p_value: float
    reason: str = ""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"rmst": [self.rmst_a, self.rmst_b, self.difference],
                             "se": [self.se_a, self.se_b, self.diff_se],
                             "ci_lower": [self.rmst_a - Z975 * self.se_a, self.rmst_b - Z975 * self.se_b,
                                          self.diff_lower],
                             "ci_upper": [self.rmst_a + Z975 * self.se_a, self.rmst_b + Z975 * self.se_b,
                                          self.diff_upper]},
                            index=pd.Index(["A", "B", "A - B"], name="arm"))

    def summary(self) -> str:
        head = (f"RMST to {self.tau:g} months: A {fmt_num(self.rmst_a, 2)}, B {fmt_num(self.rmst_b, 2)} months; "
                f"difference {fmt_num(self.difference, 2)} months")
        if not math.isfinite(self.z):
            return head + f"; no test: {self.reason}"
        return head + f" (95% CI {fmt_num(self.diff_lower, 2)} to {fmt_num(self.diff_upper, 2)}), {_p(self.p_value)}"



@dataclass(frozen=True)
class WeightedLogrankResult(Result):
    """Fleming-Harrington FH(rho, gamma) weighted log-rank test of A vs B: ``u`` = weighted
    O - E of arm A, ``variance``, ``z`` (< 0 favours A), two-sided ``p_value``."""

    rho: float
    gamma: float
    stratified: bool
    u: float
    variance: float
    z: float
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"rho": [self.rho], "gamma": [self.gamma], "stratified": [self.stratified],
                             "O - E (A)": [self.u], "variance": [self.variance], "z": [self.z],
                             "p": [self.p_value]})

    def summary(self) -> str:
        return (f"FH({self.rho:g}, {self.gamma:g}) log-rank{' stratified' if self.stratified else ''}: "
                f"z = {fmt_num(self.z, 3)}, {_p(self.p_value)}")



@dataclass(frozen=True)
class MaxComboResult(Result):
    """MaxCombo test: the FH statistics ``z`` (K,), their correlation ``corr`` (K, K), the
    statistic max |z| and its two-sided ``p_value`` from the multivariate normal."""

    weights: tuple[tuple[float, float], ...]
    z: np.ndarray
    corr: np.ndarray
    statistic: float
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        names = [f"FH({r:g},{g:g})" for r, g in self.weights]
        return pd.DataFrame(np.column_stack([self.z, self.corr]), index=pd.Index(names, name="statistic"),
                            columns=["z"] + [f"corr {n}" for n in names])

    def summary(self) -> str:
        return (f"MaxCombo of {len(self.weights)} FH statistics: max |z| = {fmt_num(self.statistic, 3)}, "
                f"{_p(self.p_value)} (multivariate normal; smallest single "
                f"{_p(float(2 * stats.norm.sf(self.statistic)))})")



@dataclass(frozen=True)
class PiecewiseHRResult(Result):
    """Hazard ratio A vs B before and after ``change_point`` (months) from one Cox model with
    arm x period terms, 95% CIs, and the Wald test that the two are equal."""

    change_point: float
    hr_before: float
    lower_before: float
    upper_before: float
    hr_after: float
    lower_after: float
    upper_after: float
    p_equal: float
    events_before: int
    events_after: int

    def to_frame(self) -> pd.DataFrame:
        c = f"{self.change_point:g}"
        return pd.DataFrame({"hr": [self.hr_before, self.hr_after], "ci_lower": [self.lower_before, self.lower_after],
                             "ci_upper": [self.upper_before, self.upper_after],
                             "events": [self.events_before, self.events_after]},
                            index=pd.Index([f"0-{c} months", f"after {c} months"], name="period"))

    def summary(self) -> str:
        return (f"HR A vs B before {self.change_point:g} months "
                f"{fmt_hr(self.hr_before, self.lower_before, self.upper_before)}, "
                f"after {fmt_hr(self.hr_after, self.lower_after, self.upper_after)}; "
                f"test of equal HRs {_p(self.p_equal)}")





def rmst_difference(data: Any, tau: float | None = None, *, plan: TrialPlan = PLAN) -> RMSTResult:
    """RMST per arm (area under the Kaplan-Meier curve to tau; Royston P, Parmar MKB. BMC Med
    Res Methodol 2013;13:152) with the variance of R ``survfit`` (Therneau & Grambsch 2000,
    section 2.3), and the difference A - B (independent arms). ``tau`` defaults to the plan's
    horizon; refused beyond an arm's last follow-up."""
    tau = check_tau(tau, plan)
    t, e, a = _arrays(data, plan)
    ra, va, rb, vb = km_rmst(t, e, a, tau)
    _refuse_beyond(t, e, a, tau, (ra, rb))
    d, dse = ra - rb, math.sqrt(va + vb)
    z = d / dse if dse > 0 else math.nan
    return RMSTResult(float(tau), ra, math.sqrt(va), rb, math.sqrt(vb), d, dse, d - Z975 * dse, d + Z975 * dse,
                      z, float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan,
                      reason="" if math.isfinite(z) else _no_test(tau, (1.0, 1.0), dse))


def _with_strata(data: Any, strata: Any, plan: TrialPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """(time, event, arm, strata): ``strata="factors"`` gives the minimization-factor strata of a
    trial DataFrame, ``"pooled"`` the same strata pooled by the sparse-strata rule
    (:func:`trialnb.analysis.pool_strata`), an array is used as it is, None means unstratified."""
    if isinstance(strata, str) and strata not in ("factors", "pooled"):
        raise TrialAnalysisError(f"strata must be None, 'factors', 'pooled' or an array of stratum labels, "
                                 f"got {strata!r}")
    by_factors = isinstance(strata, str)
    arrays = _arrays(data, plan, factors=by_factors)
    if isinstance(strata, str) and strata == "pooled":
        return arrays[0], arrays[1], arrays[2], pool_strata(data, FACTOR_NAMES, plan=plan).labels
    return arrays[0], arrays[1], arrays[2], (arrays[3] if by_factors else strata)


def weighted_logrank(data: Any, rho: float = 0.0, gamma: float = 0.0, strata: Any = None, *,
                     plan: TrialPlan = PLAN) -> WeightedLogrankResult:
    """FH(rho, gamma) log-rank (Fleming & Harrington 1991, ch. 7) of the plan's endpoint: FH(0, 0)
    is the log-rank test, FH(0, 1) weighs late differences, FH(1, 0) early ones (Peto-Prentice,
    R ``survdiff(rho = 1)``). ``strata="factors"`` stratifies by the three minimization factors
    (``"pooled"``: their strata pooled by the sparse-strata rule, :func:`trialnb.analysis.pool_strata`)
    (DataFrame input), an array gives the stratum of each row, None none."""
    t, e, a, st = _with_strata(data, strata, plan)
    res = logrank(t, e, a, rho=rho, gamma=gamma, strata=st)
    if not (float(res.variance) > 0) or not math.isfinite(float(res.z)):
        raise TrialAnalysisError(f"the FH({float(rho):g}, {float(gamma):g}) test needs a death at a time when both "
                                 f"arms are at risk (with a positive weight): its variance is "
                                 f"{'0' if float(res.variance) == 0 else 'not defined'} in these data "
                                 f"({fmt_n(int(np.sum(e)))} deaths)")
    u = float(res.observed - res.expected)
    return WeightedLogrankResult(float(rho), float(gamma), st is not None, u, float(res.variance),
                                 float(res.z), float(res.p))


def maxcombo(data: Any, weights: Sequence[tuple[float, float]] = FH_MAXCOMBO, strata: Any = None, *,
             plan: TrialPlan = PLAN) -> MaxComboResult:
    """MaxCombo (Lin et al. 2020) of the plan's endpoint: max |Z| over FH(0,0), FH(0,1), FH(1,0),
    FH(1,1); the p-value is 1 - P(max_k |Y_k| <= max |z|), Y ~ N(0, corr), corr from the
    weighted-variance cross terms (Karrison 2016). ``strata`` as in :func:`weighted_logrank`
    (``"factors"``: the minimization factors, as the FH tests of the same analysis)."""
    t, e, a, st = _with_strata(data, strata, plan)
    fh = fh_statistics(t, e, a, weights=weights, strata=st)
    z, corr = fh.z[0], fh.corr[0]
    if not np.all(np.isfinite(z)) or not np.all(np.isfinite(corr)):
        raise TrialAnalysisError("MaxCombo needs deaths in the data and statistics with a positive variance: "
                                 f"the weighted z are {np.round(z, 4).tolist()}")
    return MaxComboResult(fh.weights, z, corr, float(np.max(np.abs(z))), maxcombo_pvalue(z, corr))


def piecewise_hr(data: Any, change_point: float = 6.0, *, plan: TrialPlan = PLAN) -> PiecewiseHRResult:
    """Piecewise-constant hazard ratio of the plan's endpoint (a description, not a test of the
    estimand): each patient is split at ``change_point`` into (0, c] and (c, t] rows
    (:func:`trialnb.survival.split_at`) and one Cox model (Efron ties, (start, stop] rows) has
    covariates arm x 1{t <= c} and arm x 1{t > c}. Refused when a period lacks deaths in an arm
    (its hazard ratio would be 0 or infinite)."""
    t, e, a = _arrays(data, plan)
    if isinstance(change_point, bool) or not isinstance(change_point, (int, float, np.integer, np.floating)) \
            or not math.isfinite(change_point) or not change_point > 0:
        raise TrialAnalysisError(f"change_point must be a positive number of months, got {change_point!r}")
    if change_point >= t.max():
        raise OutsideDataError(f"change_point must be before the last follow-up time {t.max():g}")
    keep = t > 0
    rows = split_at(t[keep], e[keep], np.full(int(keep.sum()), float(change_point)))
    arm = a[keep][rows["id"].to_numpy()]
    late = rows["exposed"].to_numpy()
    ev = rows["event"].to_numpy()
    for per, sel in (("before", late == 0), ("after", late == 1)):
        for lab, k in (("A", 1), ("B", 0)):
            if not (ev[sel & (arm == k)] > 0).any():
                raise TrialAnalysisError(f"no death in arm {lab} {per} {change_point:g} months: that period's hazard "
                                         "ratio is not estimable; choose another change_point")
    X = np.column_stack([arm * (1 - late), arm * late])
    fit = fit_cox(rows["stop"].to_numpy(), ev, X, entry=rows["start"].to_numpy(), names=("arm_before", "arm_after"))
    b, se, V = fit.coef, fit.se, fit.cov
    dz = (b[1] - b[0]) / math.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1])
    hr_before, lower_before, upper_before = (float(math.exp(b[0] + k * Z975 * se[0])) for k in (0, -1, 1))
    hr_after, lower_after, upper_after = (float(math.exp(b[1] + k * Z975 * se[1])) for k in (0, -1, 1))
    return PiecewiseHRResult(float(change_point), hr_before, lower_before, upper_before, hr_after, lower_after,
                             upper_after, float(2 * stats.norm.sf(abs(dz))), int(ev[late == 0].sum()),
                             int(ev[late == 1].sum()))
