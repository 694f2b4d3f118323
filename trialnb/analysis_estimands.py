"""Estimands of one trial under non-proportional hazards (issue 14), on the survival engine.

Re-exported by :mod:`trialnb.analysis`. ``data`` is a trial DataFrame in the CRF schema of
:mod:`trialnb.data` (arm A/B, os_months, death; the minimization factors for
``strata="factors"``) or a tuple (time, event, arm) of arrays with arm 1 = A, 0 = B.

* :func:`milestone` -- S_A(tau) - S_B(tau) (Greenwood), its complementary log-log version and
  the ratio S_A / S_B: the protocol's "percentage of patients who survive two years".
* :func:`rmst_difference` -- restricted mean survival time to tau per arm and the difference,
  SEs as R ``summary(survfit(...), rmean = tau)``.
* :func:`weighted_logrank` -- Fleming-Harrington FH(rho, gamma), optionally stratified.
* :func:`maxcombo` -- max |Z| of FH(0,0), FH(0,1), FH(1,0), FH(1,1), multivariate-normal p.
* :func:`piecewise_hr` -- hazard ratios before / after a change point (description).

Computed by :mod:`trialnb.survival` and :mod:`trialnb.survival_weighted` (references there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import survival as _surv
from . import survival_weighted as _sw
from .protocol import ARM_CODES, FACTOR_NAMES
from .results import Result
from .validation import is_number
from .report import fmt_hr, fmt_num, fmt_p, fmt_pct

__all__ = ["MaxComboResult", "MilestoneResult", "PiecewiseHRResult", "RMSTResult", "WeightedLogrankResult",
           "maxcombo", "milestone", "piecewise_hr", "rmst_difference", "weighted_logrank"]

Z975 = float(stats.norm.ppf(0.975))
_SURV = ("arm", "os_months", "death")


def _check_df(df: pd.DataFrame, needed: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"data lacks column(s) {missing}; load it with trialnb.data.load_trial")
    if len(df) == 0:
        raise ValueError("data has no rows")
    bad = set(df["arm"].unique()) - set(ARM_CODES)
    if bad:
        raise ValueError(f"data['arm'] has unknown value(s) {sorted(bad)}; allowed: A, B")
    if df["arm"].nunique() < 2:
        raise ValueError("data must hold both arms A and B")
    return df


def _estimand_arrays(data: Any, factors: bool = False) -> tuple[np.ndarray, ...]:
    if isinstance(data, pd.DataFrame):
        df = _check_df(data, _SURV + tuple(FACTOR_NAMES) if factors else _SURV)
        out = (df["os_months"].to_numpy(float), df["death"].to_numpy().astype(int),
               (df["arm"] == "A").to_numpy().astype(int))
        if factors:
            out += (df[list(FACTOR_NAMES)].astype(str).agg("|".join, axis=1).to_numpy(),)
        return out
    if factors:
        raise ValueError("strata by the minimization factors need a trial DataFrame; with arrays pass strata=")
    if not isinstance(data, (tuple, list)) or len(data) != 3:
        raise ValueError("data must be a trial DataFrame (CRF schema) or a tuple (time, event, arm) with arm 1 = A")
    t, e, a = (np.asarray(x) for x in data)
    if not (t.ndim == e.ndim == a.ndim == 1 and t.shape == e.shape == a.shape):
        raise ValueError("time, event and arm must be 1-D arrays of the same length")
    if not np.all((a == 0) | (a == 1)) or a.min() == a.max():
        raise ValueError("arm must be 0/1 (1 = A) with both arms present")
    return t.astype(float), e.astype(int), a.astype(int)


def _p(p: float) -> str:
    return fmt_p(p) if math.isfinite(p) else "p not available"


@dataclass(frozen=True)
class MilestoneResult(Result):
    """Survival at ``tau`` months per arm (Kaplan-Meier, Greenwood SE) and three contrasts:
    the difference S_A - S_B (Wald CI, z test), the complementary log-log contrast
    log(-log S_A) - log(-log S_B) (= log of the ratio of cumulative hazards at tau; delta
    method SE = SE(S)/(S |log S|) per arm; < 0 favours A, so its z has the opposite sign of
    the difference's) and the ratio S_A / S_B (CI on the log scale)."""

    tau: float
    survival_a: float
    se_a: float
    survival_b: float
    se_b: float
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
        return (f"{self.tau:g}-month survival: A {fmt_pct(self.survival_a)}, B {fmt_pct(self.survival_b)}; "
                f"difference {fmt_num(100 * self.difference, 1)} points (95% CI {fmt_num(100 * self.diff_lower, 1)} "
                f"to {fmt_num(100 * self.diff_upper, 1)}), {_p(self.p_value)}; "
                f"complementary log-log {_p(self.cloglog_p)}; ratio {fmt_num(self.ratio, 3)}")



def milestone(data: Any, tau: float = 24.0) -> MilestoneResult:
    """The protocol's primary endpoint as a milestone contrast: Kaplan-Meier S(tau) per arm
    with Greenwood variances (Greenwood 1926), S_A - S_B with z = diff / sqrt(Var_A + Var_B),
    the complementary log-log contrast (Klein JP, Logan B, Harhoff M, Andersen PK. Analyzing
    survival curves at a fixed point in time. Stat Med 2007;26:4505-4519) and the ratio."""
    t, e, a = _estimand_arrays(data)
    sa, va, sb, vb = _sw.km_milestone(t, e, a, tau)
    sea, seb = math.sqrt(va), math.sqrt(vb)
    d, dse = sa - sb, math.sqrt(va + vb)
    z = d / dse if dse > 0 else math.nan
    with np.errstate(all="ignore"):
        ll = [math.log(-math.log(s)) if 0 < s < 1 else math.nan for s in (sa, sb)]
        lse = [se / (s * abs(math.log(s))) if 0 < s < 1 else math.nan for s, se in ((sa, sea), (sb, seb))]
    cd, cse = ll[0] - ll[1], math.sqrt(lse[0] ** 2 + lse[1] ** 2)
    cz = cd / cse if cse > 0 else math.nan
    lr = math.log(sa / sb) if sa > 0 and sb > 0 else math.nan
    lrse = math.sqrt((sea / sa) ** 2 + (seb / sb) ** 2) if sa > 0 and sb > 0 else math.nan
    p = lambda zz: float(2 * stats.norm.sf(abs(zz))) if math.isfinite(zz) else math.nan  # noqa: E731
    return MilestoneResult(float(tau), sa, sea, sb, seb, d, dse, d - Z975 * dse, d + Z975 * dse, z, p(z),
                           cd, cse, cz, p(cz), sa / sb if sb > 0 else math.nan,
                           math.exp(lr - Z975 * lrse), math.exp(lr + Z975 * lrse))


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

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"rmst": [self.rmst_a, self.rmst_b, self.difference],
                             "se": [self.se_a, self.se_b, self.diff_se],
                             "ci_lower": [self.rmst_a - Z975 * self.se_a, self.rmst_b - Z975 * self.se_b, self.diff_lower],
                             "ci_upper": [self.rmst_a + Z975 * self.se_a, self.rmst_b + Z975 * self.se_b, self.diff_upper]},
                            index=pd.Index(["A", "B", "A - B"], name="arm"))

    def summary(self) -> str:
        return (f"RMST to {self.tau:g} months: A {fmt_num(self.rmst_a, 2)}, B {fmt_num(self.rmst_b, 2)} months; "
                f"difference {fmt_num(self.difference, 2)} months (95% CI {fmt_num(self.diff_lower, 2)} to "
                f"{fmt_num(self.diff_upper, 2)}), {_p(self.p_value)}")



def rmst_difference(data: Any, tau: float = 24.0) -> RMSTResult:
    """RMST per arm (area under the Kaplan-Meier curve to tau; Royston P, Parmar MKB. BMC Med
    Res Methodol 2013;13:152) with the variance of R ``survfit`` (Therneau & Grambsch 2000,
    section 2.3), and the difference A - B (independent arms)."""
    t, e, a = _estimand_arrays(data)
    ra, va, rb, vb = _sw.km_rmst(t, e, a, tau)
    d, dse = ra - rb, math.sqrt(va + vb)
    z = d / dse if dse > 0 else math.nan
    return RMSTResult(float(tau), ra, math.sqrt(va), rb, math.sqrt(vb), d, dse, d - Z975 * dse, d + Z975 * dse,
                      z, float(2 * stats.norm.sf(abs(z))) if math.isfinite(z) else math.nan)


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



def _with_strata(data: Any, strata: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """(time, event, arm, strata): ``strata="factors"`` gives the minimization-factor strata of a
    trial DataFrame, an array is used as it is, None means unstratified."""
    by_factors = isinstance(strata, str) and strata == "factors"
    if isinstance(strata, str) and not by_factors:
        raise ValueError(f"strata must be None, 'factors' or an array of stratum labels, got {strata!r}")
    arrays = _estimand_arrays(data, factors=by_factors)
    return arrays[0], arrays[1], arrays[2], (arrays[3] if by_factors else strata)


def weighted_logrank(data: Any, rho: float = 0.0, gamma: float = 0.0, strata: Any = None) -> WeightedLogrankResult:
    """FH(rho, gamma) log-rank (Fleming & Harrington 1991, ch. 7): FH(0, 0) is the log-rank
    test, FH(0, 1) weighs late differences, FH(1, 0) early ones (Peto-Prentice, R
    ``survdiff(rho = 1)``). ``strata="factors"`` stratifies by the three minimization factors
    (DataFrame input), an array gives the stratum of each row, None none."""
    t, e, a, st = _with_strata(data, strata)
    res = _surv.logrank(t, e, a, rho=rho, gamma=gamma, strata=st)
    u = float(res.observed - res.expected)
    return WeightedLogrankResult(float(rho), float(gamma), st is not None, u, float(res.variance),
                                 float(res.z), float(res.p))


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



def maxcombo(data: Any, weights: Sequence[tuple[float, float]] = _sw.FH_MAXCOMBO, strata: Any = None) -> MaxComboResult:
    """MaxCombo (Lin et al. 2020): max |Z| over FH(0,0), FH(0,1), FH(1,0), FH(1,1); the p-value
    is 1 - P(max_k |Y_k| <= max |z|), Y ~ N(0, corr), corr from the weighted-variance cross terms
    sum_j W_k W_l D_j p_j (1 - p_j)(N_j - D_j)/(N_j - 1) (Karrison 2016). ``strata`` as in
    :func:`weighted_logrank` (``"factors"``: the minimization factors)."""
    t, e, a, st = _with_strata(data, strata)
    fh = _sw.fh_statistics(t, e, a, weights=weights, strata=st)
    z, corr = fh.z[0], fh.corr[0]
    return MaxComboResult(fh.weights, z, corr, float(np.max(np.abs(z))), _sw.maxcombo_pvalue(z, corr))


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
        return (f"HR A vs B before {self.change_point:g} months {fmt_hr(self.hr_before, self.lower_before, self.upper_before)}, "
                f"after {fmt_hr(self.hr_after, self.lower_after, self.upper_after)}; "
                f"test of equal HRs {_p(self.p_equal)}")



def piecewise_hr(data: Any, change_point: float = 6.0) -> PiecewiseHRResult:
    """Piecewise-constant hazard ratio (a description, not a test of the estimand): each
    patient is split at ``change_point`` into (0, c] and (c, t] rows (:func:`trialnb.survival.
    split_at`) and one Cox model (Efron ties, (start, stop] rows) has covariates arm x 1{t <= c}
    and arm x 1{t > c}."""
    t, e, a = _estimand_arrays(data)
    if not is_number(change_point) or not change_point > 0:
        raise ValueError(f"change_point must be a positive number of months, got {change_point!r}")
    if change_point >= t.max():
        raise ValueError(f"change_point must be before the last follow-up time {t.max():g}")
    rows = _surv.split_at(t, e, np.full(len(t), float(change_point)))
    arm = a[rows["id"].to_numpy()]
    late = rows["exposed"].to_numpy()
    X = np.column_stack([arm * (1 - late), arm * late])
    fit = _surv.fit_cox(rows["stop"].to_numpy(), rows["event"].to_numpy(), X, entry=rows["start"].to_numpy(),
                        names=("arm_before", "arm_after"))
    b, se, V = fit.coef, fit.se, fit.cov
    dz = (b[1] - b[0]) / math.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1])
    ev = rows["event"].to_numpy()
    return PiecewiseHRResult(float(change_point), *(float(math.exp(b[0] + k * Z975 * se[0])) for k in (0, -1, 1)),
                             *(float(math.exp(b[1] + k * Z975 * se[1])) for k in (0, -1, 1)),
                             float(2 * stats.norm.sf(abs(dz))), int(ev[late == 0].sum()), int(ev[late == 1].sum()))
