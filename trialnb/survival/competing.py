"""Competing risks in the survival engine: cumulative incidence, Gray's test, Fine-Gray regression.

A patient can have one of several events first (the *causes*: an unplanned local therapy, or
death before it); the first one ends the time at risk for the others. ``status`` codes each
row: 0 = censored, 1, 2, ... = the cause that ended follow-up at ``time``. One data set at a
time (shape (n,)).

* :func:`cumulative_incidence` -- the Aalen-Johansen estimate of each cause's cumulative
  incidence function (CIF) F_k(t) = P(T <= t, cause k), per group, with the variance of R
  ``cmprsk::cuminc`` (:class:`CumulativeIncidence`).
* :func:`gray_test` -- Gray's K-sample test of equal CIFs of one cause, optionally within strata
  (``cuminc(strata=)``), with the weight (1 - F(t-))^rho (:class:`GrayTest`).
* :func:`fine_gray` -- the proportional subdistribution hazards model with its robust variance,
  as R ``cmprsk::crr`` (:class:`FineGrayResult`).

**The estimators.** At the distinct times t_j of a group, with n_j at risk and d_kj events of
cause k (d_j of any cause), the overall Kaplan-Meier S(t) = prod_{t_j <= t} (1 - d_j/n_j) and

    F_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j                      (Aalen & Johansen 1978).

Its variance, as cmprsk's ``cinc`` (Gray's delta-method estimator with a correction for tied
events, c_j = 1 - (d - 1)/(n_j - 1) for d tied events of one kind):

    Var F_k(t) = sum_{t_j <= t} c_kj S(t_j-)^2 d_kj / n_j^2 [1 - (F_k(t) - F_k(t_j)) / S(t_j)]^2
               + sum_{t_j <= t} c_oj S(t_j-)^2 d_oj / n_j^2 [(F_k(t) - F_k(t_j)) / S(t_j)]^2,

the second sum over the events of the other causes (d_oj; terms with S(t_j) = 0 dropped, and
1/S(t_j) taken as 0 there in the first). With no competing event F = 1 - S and the first sum is
Greenwood's formula without its n/(n - d) factor (the tie correction instead).

Gray's test compares, for the cause of interest, the groups' subdistribution hazards
dF_g / (1 - F_g(t-)) with a score sum_t W(t) [dF_g - dF_pooled] (Gray 1988, equations (2.3)-
(2.4); the risk set of group g at t is R_g = n_g (1 - F_g(t-)) / S_g(t-)); the variance is Gray's
(section 2), as cmprsk's ``crstm``, summed over strata. Fine-Gray's partial likelihood keeps a
patient who had a competing event in the risk set with the weight G(t-) / G(T_i-) (G the
Kaplan-Meier estimate of the censoring distribution), Breslow ties; the variance is
I^-1 [sum_i (eta_i + psi_i)(eta_i + psi_i)'] I^-1, eta_i the score residual and psi_i the term
for the estimated G (Fine & Gray 1999, section 3).

Equal to R ``cmprsk`` 2.2 (``cuminc``, ``timepoints``, ``crr``) on the shipped data and on small
cases with ties: ``tests/test_competing.py``, ``tests/reference/cmprsk_reference.R``.

References
----------
* Aalen OO, Johansen S. An empirical transition matrix for non-homogeneous Markov chains based
  on censored observations. Scand J Statist 1978;5:141-150.
* Gray RJ. A class of K-sample tests for comparing the cumulative incidence of a competing
  risk. Ann Stat 1988;16:1141-1154.
* Fine JP, Gray RJ. A proportional hazards model for the subdistribution of a competing risk.
  JASA 1999;94:496-509.
* Choudhury JB. Non-parametric confidence interval estimation for competing risks analysis:
  application to contraceptive data. Stat Med 2002;21:1129-1144 (log-log interval of a CIF).
* Pintilie M. Competing Risks: A Practical Perspective. Wiley 2006, ch. 4-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtri

from ..errors import OutsideDataError, SurvivalDataError
from ..results import Result
from ..validation import check_int, check_positive, check_real
from . import _weighted

__all__ = ["CumulativeIncidence", "FineGrayResult", "GrayTest", "competing_status", "cumulative_incidence",
           "fine_gray", "gray_test"]


# ---- input checks

def _check(time: Any, status: Any) -> tuple[np.ndarray, np.ndarray]:
    """(n,) float times >= 0 and (n,) int status codes >= 0 (0 = censored)."""
    t = np.asarray(time)
    s = np.asarray(status)
    if t.ndim != 1 or t.shape[0] < 1:
        raise SurvivalDataError(f"time must be one data set of shape (n,), n >= 1, got shape {t.shape}")
    if s.shape != t.shape:
        raise SurvivalDataError(f"status must have the shape of time {t.shape}, got {s.shape}")
    if t.dtype.kind not in "iuf" or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise SurvivalDataError("time must be finite numbers >= 0")
    if s.dtype.kind == "b" or s.dtype.kind not in "iuf" or not np.all(np.isfinite(s)) \
            or np.any(s < 0) or np.any(s != np.round(s)):
        raise SurvivalDataError("status must be whole numbers: 0 = censored, 1, 2, ... = the cause of the event "
                         "(booleans are not accepted)")
    return t.astype(float), s.astype(np.int64)


def _check_cause(cause: Any, s: np.ndarray) -> int:
    k = check_int(cause, "cause", minimum=1, error=SurvivalDataError)
    if not np.any(s == k):
        causes = sorted(set(s[s > 0].tolist()))
        raise SurvivalDataError(f"cause {k} has no event in the data; causes with events: {causes}")
    return k


def _labels(group: Any, n: int, name: str) -> tuple[np.ndarray, tuple]:
    """Integer codes 0..G-1 of the sorted distinct labels of ``group`` (all 0 for None) and the labels."""
    if group is None:
        return np.zeros(n, np.int64), ("all",)
    g = np.asarray(group)
    if g.shape != (n,):
        raise SurvivalDataError(f"{name} must have one label per row, shape ({n},), got {g.shape}")
    if g.dtype.kind == "f" and not np.all(np.isfinite(g)):
        raise SurvivalDataError(f"{name} must not contain NaN or infinite labels")
    levels, codes = np.unique(g, return_inverse=True)
    return codes.astype(np.int64), tuple(v.item() if hasattr(v, "item") else v for v in levels)


def competing_status(event_time: Any, death_time: Any, follow_up: Any, died: Any) -> tuple[np.ndarray, np.ndarray]:
    """(time, status) of "an event, with death as a competing event" from its month and the
    survival data: status 1 at ``event_time`` when the event was observed (NaN: not observed),
    else 2 at the death when ``died``, else 0 (censored) at ``follow_up``; ``death_time`` is
    the follow-up of those who died (the same array as ``follow_up`` in the CRF). An event at
    the month of death counts as the event (it was recorded alive)."""
    ev = np.asarray(event_time, float)
    fu = np.asarray(follow_up, float)
    dt = np.asarray(death_time, float)
    d = np.asarray(died)
    if not (ev.shape == fu.shape == dt.shape == d.shape) or ev.ndim != 1:
        raise SurvivalDataError("event_time, death_time, follow_up and died must be arrays of one shape (n,)")
    if d.dtype.kind == "b" or not np.all(np.isin(d, (0, 1))):
        raise SurvivalDataError("died must be 0/1 integers")
    seen = np.isfinite(ev)
    if np.any(ev[seen] > fu[seen] + 1e-9) or np.any(ev[seen] < 0):
        raise SurvivalDataError("an event month must lie in [0, follow-up]: it cannot come after death or the last "
                         "follow-up")
    time = np.where(seen, ev, np.where(d == 1, dt, fu))
    status = np.where(seen, 1, np.where(d == 1, 2, 0)).astype(np.int64)
    return time, status


# ---- Aalen-Johansen cumulative incidence

def _group_terms(t: np.ndarray, s: np.ndarray, cause: int) -> tuple[np.ndarray, ...]:
    """Distinct times of one group (sorted), at risk n_j, events of ``cause`` d1_j, of other
    causes d2_j, and S(t_j-) of the overall Kaplan-Meier."""
    u, inv = np.unique(t, return_inverse=True)
    d1 = np.bincount(inv, weights=(s == cause).astype(float), minlength=u.size)
    d2 = np.bincount(inv, weights=((s > 0) & (s != cause)).astype(float), minlength=u.size)
    size = np.bincount(inv, minlength=u.size).astype(float)
    n = size[::-1].cumsum()[::-1]
    q = 1.0 - (d1 + d2) / n
    S = np.cumprod(q)
    S_before = np.concatenate([[1.0], S[:-1]])
    return u, n, d1, d2, S_before, S


def _cif_one(t: np.ndarray, s: np.ndarray, cause: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, F, Var F) at the distinct times of ``cause`` events of one group (module docstring)."""
    u, n, d1, d2, Sb, S = _group_terms(t, s, cause)
    F = np.cumsum(Sb * d1 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_S = np.where(S > 0, 1.0 / S, 0.0)
        tie1 = np.where(d1 > 1, 1.0 - (d1 - 1.0) / (n - 1.0), 1.0)
        tie2 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (n - 1.0), 1.0)
    w1 = Sb * Sb * tie1 * d1 / (n * n)
    w2 = np.where((d2 > 0) & (S > 0), Sb * Sb * tie2 * d2 / (n * n), 0.0)
    # term (a - F(t) b)^2 with a = 1 + F_j/S_j, b = 1/S_j (cause) and a = F_j/S_j, b = 1/S_j (others)
    a1, a2 = 1.0 + F * inv_S, F * inv_S
    V1 = np.cumsum(w1 * a1 * a1 + w2 * a2 * a2)
    V2 = np.cumsum(w1 * a1 * inv_S + w2 * a2 * inv_S)
    V3 = np.cumsum((w1 + w2) * inv_S * inv_S)
    at = d1 > 0
    var = V1 - 2.0 * F * V2 + F * F * V3
    return u[at], F[at], np.maximum(var[at], 0.0)


@dataclass(frozen=True)
class CumulativeIncidence(Result):
    """Aalen-Johansen cumulative incidence of every cause in every group: for each (group,
    cause), the distinct times of that cause's events ``time``, the estimate ``estimate`` (the
    CIF just after each time: a right-continuous step function, 0 before the first) and its
    variance ``variance`` (R ``cmprsk::cuminc``); ``last_time`` is each group's last follow-up
    time, beyond which the estimate is not defined (R ``timepoints`` gives NA)."""

    groups: tuple
    causes: tuple[int, ...]
    curves: dict
    last_time: dict
    n: dict

    def curve(self, group: Any, cause: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(time, estimate, variance) of one group and cause."""
        if (group, cause) not in self.curves:
            raise SurvivalDataError(f"no curve for group {group!r} and cause {cause!r}; groups {list(self.groups)}, "
                             f"causes {list(self.causes)}")
        return self.curves[(group, cause)]

    def at(self, times: Any, level: float = 0.95) -> pd.DataFrame:
        """The estimates at ``times`` (months): one row per group, cause and time with the
        estimate, variance, SE and a pointwise log-log confidence interval
        F^exp(+-z se / (F log F)) (Choudhury 2002); NaN beyond a group's last follow-up
        (as R ``cmprsk::timepoints``)."""
        check_real(level, "level", lo=0.0, hi=1.0, lo_open=True, hi_open=True, error=SurvivalDataError)
        z = float(ndtri(0.5 + level / 2))
        ts = np.atleast_1d(np.asarray(times, float))
        if not np.all(np.isfinite(ts)) or np.any(ts < 0):
            raise SurvivalDataError("times must be finite months >= 0")
        rows = []
        for (g, k), (tt, F, V) in self.curves.items():
            idx = np.searchsorted(tt, ts, side="right") - 1
            est = np.where(idx >= 0, F[np.clip(idx, 0, None)], 0.0)
            var = np.where(idx >= 0, V[np.clip(idx, 0, None)], 0.0)
            beyond = ts > self.last_time[g]
            est, var = np.where(beyond, np.nan, est), np.where(beyond, np.nan, var)
            se = np.sqrt(var)
            with np.errstate(divide="ignore", invalid="ignore"):
                m = np.exp(z * se / (est * np.log(est)))
                ok = (est > 0) & (est < 1)
                lo, hi = np.where(ok, est ** (1 / m), np.nan), np.where(ok, est ** m, np.nan)
            for i, t in enumerate(ts):
                rows.append({"group": g, "cause": k, "time": float(t), "estimate": float(est[i]),
                             "variance": float(var[i]), "se": float(se[i]), "lower": float(lo[i]),
                             "upper": float(hi[i])})
        return pd.DataFrame(rows)

    def value(self, group: Any, cause: int, t: float) -> tuple[float, float]:
        """(F(t), SE) of one group and cause; refuses a time beyond the group's last follow-up
        (:class:`trialnb.errors.OutsideDataError`)."""
        self.curve(group, cause)
        if t > self.last_time[group]:
            raise OutsideDataError(f"t = {t:g} is beyond the last follow-up of group {group!r} "
                                   f"({self.last_time[group]:g}); the cumulative incidence is not defined there")
        r = self.at([t])
        r = r[(r["group"] == group) & (r["cause"] == cause)].iloc[0]
        return float(r["estimate"]), float(r["se"])

    def step(self, group: Any, cause: int) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the step function from 0 to the group's last follow-up, for plotting
        (``drawstyle="steps-post"``)."""
        tt, F, _ = self.curve(group, cause)
        x = np.concatenate([[0.0], tt, [self.last_time[group]]])
        y = np.concatenate([[0.0], F, [F[-1] if F.size else 0.0]])
        return x, y

    def to_frame(self) -> pd.DataFrame:
        rows = [{"group": g, "cause": k, "time": float(t), "estimate": float(f), "variance": float(v)}
                for (g, k), (tt, F, V) in self.curves.items() for t, f, v in zip(tt, F, V, strict=True)]
        return pd.DataFrame(rows, columns=["group", "cause", "time", "estimate", "variance"])

    def summary(self) -> str:
        from ..report import fmt_n

        parts = [f"group {g}: {fmt_n(self.n[g])} patients, last follow-up {self.last_time[g]:g}" for g in self.groups]
        return (f"Aalen-Johansen cumulative incidence of cause(s) {', '.join(map(str, self.causes))}; "
                + "; ".join(parts))


def cumulative_incidence(time: Any, status: Any, group: Any = None) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of every cause (status > 0) in every group (sorted
    distinct labels; one group "all" when ``group`` is None), with the variance of R
    ``cmprsk::cuminc`` (the module docstring)."""
    t, s = _check(time, status)
    codes, labels = _labels(group, t.size, "group")
    causes = tuple(int(c) for c in np.unique(s[s > 0]))
    if not causes:
        raise SurvivalDataError("status has no event (every row is censored, status 0): nothing to estimate")
    curves, last, n = {}, {}, {}
    for gi, g in enumerate(labels):
        m = codes == gi
        last[g], n[g] = float(t[m].max()), int(m.sum())
        for k in causes:
            curves[(g, k)] = _cif_one(t[m], s[m], k)
    return CumulativeIncidence(labels, causes, curves, last, n)


# ---- Gray's test

def _gray_stratum(t: np.ndarray, m: np.ndarray, g: np.ndarray, ng: int, rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Score (ng - 1,) and its variance (ng - 1, ng - 1) of one stratum (Gray 1988, section 2):
    ``m`` 0 censored, 1 cause of interest, 2 another cause; ``g`` group codes 0..ng-1."""
    u, inv = np.unique(t, return_inverse=True)
    d = np.zeros((3, ng, u.size))
    np.add.at(d, (m, g, inv), 1.0)
    size = d.sum(axis=0)
    rs = size[:, ::-1].cumsum(axis=1)[:, ::-1]  # at risk per group and time
    ng1 = ng - 1
    score, v = np.zeros(ng1), np.zeros((ng1, ng1))
    c, v3, v2 = np.zeros((ng, ng)), np.zeros(ng), np.zeros((ng1, ng))
    Fm, Skm_m = np.zeros(ng), np.ones(ng)  # F_g(t-) and S_g(t-) per group
    fm = 0.0                               # pooled F(t-) of the weight
    for j in range(u.size):
        n1, n2 = d[1, :, j], d[2, :, j]
        nd1, nd2 = n1.sum(), n2.sum()
        r = rs[:, j]
        live = r > 0
        if nd1 == 0 and nd2 == 0:
            continue
        Skm, F1 = Skm_m.copy(), Fm.copy()
        Skm[live] = Skm_m[live] * (r[live] - n1[live] - n2[live]) / r[live]
        F1[live] = Fm[live] + Skm_m[live] * n1[live] / r[live]
        h, hq = np.zeros(ng), np.zeros(ng)
        h[live] = r[live] / Skm_m[live]  # the group's risk set scaled back: n_g / S_g(t-)
        hq[live] = h[live] * (1.0 - Fm[live])  # Gray's R_g = n_g (1 - F_g(t-)) / S_g(t-)
        tr, tq = h.sum(), hq.sum()
        f = fm + nd1 / tr
        fb = (1.0 - fm) ** rho
        a = np.where(live[:, None] & live[None, :], -fb * np.outer(h, h) / tr, 0.0)
        a[np.diag_indices(ng)] = np.where(live, fb * h * (1.0 - h / tr), 0.0)
        if nd1 > 0:
            c += a * nd1 / (tr * (1.0 - fm))
        lv = live[:ng1]
        score += np.where(lv, fb * (n1[:ng1] - nd1 * hq[:ng1] / tq), 0.0)
        if nd1 > 0:
            for k in np.flatnonzero(live):
                t4 = 1.0 - (1.0 - f) / Skm[k] if Skm[k] > 0 else 1.0
                t5 = 1.0 - (nd1 - 1.0) / (tr * Skm_m[k] - 1.0) if nd1 > 1 else 1.0
                t3 = t5 * Skm_m[k] * nd1 / (tr * r[k])
                v3[k] += t4 * t4 * t3
                t1 = a[:ng1, k] - t4 * c[:ng1, k]
                v2[:, k] += t1 * t4 * t3
                v += np.outer(t1, t1) * t3
        if nd2 > 0:
            for k in np.flatnonzero((Skm > 0) & (n2 > 0)):
                t4 = (1.0 - f) / Skm[k]
                t5 = 1.0 - (n2[k] - 1.0) / (r[k] - 1.0) if n2[k] > 1 else 1.0
                t3 = t5 * Skm_m[k] ** 2 * n2[k] / r[k] ** 2
                v3[k] += t4 * t4 * t3
                t1 = t4 * c[:ng1, k]
                v2[:, k] -= t1 * t4 * t3
                v += np.outer(t1, t1) * t3
        fm, Fm, Skm_m = f, F1, Skm
    cc = c[:ng1]
    v += (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    return score, v


@dataclass(frozen=True)
class GrayTest(Result):
    """Gray's test that the groups' cumulative incidence functions of ``cause`` are equal:
    ``statistic`` = s' V^-1 s (chi-square, ``df`` = groups - 1), ``p_value``, the ``score`` s
    of the first groups - 1 groups and its ``variance`` V (summed over strata), the weight
    exponent ``rho``."""

    statistic: float
    df: int
    p_value: float
    cause: int
    groups: tuple
    score: np.ndarray
    variance: np.ndarray
    rho: float
    n_strata: int

    def summary(self) -> str:
        from ..report import fmt_num, fmt_p

        strata = "" if self.n_strata == 1 else f", stratified ({self.n_strata} strata)"
        return (f"Gray's test of equal cumulative incidence of cause {self.cause} across {len(self.groups)} groups"
                f"{strata}: chi-square {fmt_num(self.statistic, 2)} ({self.df} df), {fmt_p(self.p_value)}")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"cause": self.cause, "statistic": self.statistic, "df": self.df,
                              "p_value": self.p_value, "rho": self.rho, "strata": self.n_strata}])


def gray_test(time: Any, status: Any, group: Any, *, cause: int = 1, strata: Any = None,
              rho: float = 0.0) -> GrayTest:
    """Gray's K-sample test of equal cumulative incidence of ``cause`` (Gray 1988), weight
    (1 - F(t-))^``rho`` (``rho`` 0: R ``cuminc``'s default), the scores and variances summed
    over ``strata`` (as ``cuminc(strata=)``). Equal to R ``cmprsk::cuminc``'s ``Tests``."""
    t, s = _check(time, status)
    k = _check_cause(cause, s)
    check_real(rho, "rho", error=SurvivalDataError)
    g, labels = _labels(group, t.size, "group")
    ng = len(labels)
    if ng < 2:
        raise SurvivalDataError("group must have at least two distinct labels to compare")
    st, st_labels = _labels(strata, t.size, "strata")
    m = np.where(s == k, 1, np.where(s > 0, 2, 0))
    score, var = np.zeros(ng - 1), np.zeros((ng - 1, ng - 1))
    for si in range(len(st_labels)):
        w = st == si
        sc, vv = _gray_stratum(t[w], m[w], g[w], ng, float(rho))
        score += sc
        var += vv
    if np.linalg.matrix_rank(var) < ng - 1:
        raise SurvivalDataError("the variance of Gray's score is singular (a group without events of the cause?); "
                         "the test cannot be computed")
    stat = float(score @ np.linalg.solve(var, score))
    return GrayTest(stat, ng - 1, float(stats.chi2.sf(stat, ng - 1)), k, labels, score, var, float(rho),
                    len(st_labels))


# ---- Fine-Gray regression

def _censoring_before(t: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """G(t_i-) for every (sorted) row: the Kaplan-Meier estimate of the censoring distribution
    (censorings are its events) just before each row's time."""
    u, inv = np.unique(t, return_inverse=True)
    c = np.bincount(inv, weights=censored.astype(float), minlength=u.size)
    n = np.bincount(inv, minlength=u.size)[::-1].cumsum()[::-1].astype(float)
    G = np.cumprod(1.0 - c / n)
    G_before = np.concatenate([[1.0], G[:-1]])
    return G_before[inv]


@dataclass(frozen=True)
class FineGrayResult(Result):
    """Proportional subdistribution hazards (Fine & Gray 1999): ``coef`` (log subdistribution
    hazard ratios), robust ``se`` and ``cov``, the log pseudo-likelihood at the estimate and at
    0, ``converged``, ``iterations``, the covariate ``names``, rows ``n``, ``events`` of the
    ``cause`` and ``competing`` events of other causes."""

    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int
    names: tuple[str, ...]
    n: int
    events: int
    competing: int
    cause: int

    @property
    def z(self) -> np.ndarray:
        return self.coef / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided Wald p-values (robust SE)."""
        return 2 * stats.norm.sf(np.abs(self.z))

    @property
    def hazard_ratio(self) -> np.ndarray:
        """exp(coef): the subdistribution hazard ratios."""
        return np.exp(self.coef)

    def to_frame(self) -> pd.DataFrame:
        lo, hi = np.exp(self.coef - 1.959963984540054 * self.se), np.exp(self.coef + 1.959963984540054 * self.se)
        return pd.DataFrame({"coef": self.coef, "exp(coef)": np.exp(self.coef), "se(coef)": self.se,
                             "z": self.z, "p": self.p, "shr_lower_95": lo, "shr_upper_95": hi},
                            index=pd.Index(self.names, name="covariate"))

    def summary(self) -> str:
        from ..report import fmt_hr, fmt_n, fmt_num, fmt_p

        head = (f"Fine-Gray model of cause {self.cause}: {fmt_n(self.n)} rows, {fmt_n(self.events)} events, "
                f"{fmt_n(self.competing)} competing events")
        if not self.converged:
            return head + "\nthe fit did not converge; no estimates reported"
        lines = [head, f"{'covariate':<26}{'coef':>9}{'sHR':>8}{'se':>9}  p"]
        for j, name in enumerate(self.names):
            lines.append(f"{name:<26}{fmt_num(float(self.coef[j]), 4):>9}{fmt_hr(float(np.exp(self.coef[j]))):>8}"
                         f"{fmt_num(float(self.se[j]), 4):>9}  {fmt_p(float(self.p[j]))}")
        return "\n".join(lines)


def fine_gray(time: Any, status: Any, covariates: Any, *, cause: int = 1, names: Sequence[str] | None = None,
              max_iter: int = 50, tol: float = 1e-10) -> FineGrayResult:
    """Fine-Gray proportional subdistribution hazards regression of ``cause`` on
    ``covariates`` ((n, p), or (n,) for one), Breslow ties, Newton-Raphson from 0 with step
    halving to convergence (|1 - loglik_old / loglik_new| <= ``tol``), robust variance (module
    docstring). One censoring distribution for all rows (R ``crr`` without ``cengroup``).
    Equal to R ``cmprsk::crr`` (``tests/test_competing.py``)."""
    t, s = _check(time, status)
    k = _check_cause(cause, s)
    X = np.asarray(covariates, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != t.size or X.shape[1] < 1 or not np.all(np.isfinite(X)):
        raise SurvivalDataError(f"covariates must be finite numbers of shape (n, p) = ({t.size}, p), got "
                                f"{np.shape(covariates)}")
    check_int(max_iter, "max_iter", minimum=1, error=SurvivalDataError)
    check_positive(tol, "tol", error=SurvivalDataError)
    p = X.shape[1]
    names = tuple(f"x{j}" for j in range(p)) if names is None else tuple(names)
    if len(names) != p:
        raise SurvivalDataError(f"names must give one name per covariate ({p}), got {len(names)}")
    o = np.argsort(t, kind="stable")
    t, s, X = t[o], s[o], X[o]
    fail, other, cens = s == k, (s > 0) & (s != k), s == 0
    Gb = _censoring_before(t, cens)
    u = np.unique(t[fail])
    ui = np.searchsorted(t, u, side="left")  # first row at each failure time
    # risk weights: at risk by time (t_i >= u_j) with weight 1, or a competing event before u_j
    # with weight G(u_j-)/G(t_i-)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = Gb[ui][:, None] / Gb[None, :]
    W = np.where(t[None, :] >= u[:, None], 1.0, np.where(other[None, :] & (t[None, :] < u[:, None]), ratio, 0.0))
    D = ((t[None, :] == u[:, None]) & fail[None, :]).astype(float)
    fit = _weighted.newton(X, W, D, max_iter=int(max_iter), tol=float(tol))
    beta = fit.beta
    eta = _weighted.score_residuals(X, W, D, beta)
    psi = _fg_censoring_term(t, cens, other, X, W, D, beta, ui, Gb)
    info_inv = np.linalg.inv(fit.info)
    r = eta + psi
    cov = info_inv @ (r.T @ r) @ info_inv
    return FineGrayResult(beta, np.sqrt(np.diag(cov)), cov, fit.loglik, fit.loglik_null, fit.converged,
                          fit.iterations, names, int(t.size), int(fail.sum()), int(other.sum()), k)


def _fg_censoring_term(t: np.ndarray, cens: np.ndarray, other: np.ndarray, X: np.ndarray, W: np.ndarray,
                       D: np.ndarray, beta: np.ndarray, ui: np.ndarray, Gb: np.ndarray) -> np.ndarray:
    """psi_i of Fine & Gray (1999, section 3): the part of each row's influence that comes from
    estimating the censoring distribution G,

        psi_i = q(t_i) / R(t_i) [row i censored] - sum_{censoring times v <= t_i} c(v) q(v) / R(v)^2,

    q(v) = sum_{failure times u_j >= v} (d_j / S0_j) sum_{competing events l with t_l < v}
    w_lj e^{x_l b} (x_l - xbar_j), R(v) the number with time >= v and c(v) the censorings at v."""
    n, p = X.shape
    r = np.exp(X @ beta)
    S0 = W @ r
    xbar = (W @ (r[:, None] * X)) / S0[:, None]
    d = D.sum(axis=1)
    u = t[ui]
    cu, inv = np.unique(t[cens], return_inverse=True)
    R = (t.size - np.searchsorted(t, cu, side="left")).astype(float)
    ccount = np.bincount(inv, minlength=cu.size).astype(float)
    A = (d / S0)[:, None, None] * W[:, :, None] * r[None, :, None] * (X[None, :, :] - xbar[:, None, :])  # (m, n, p)
    q = np.zeros((cu.size, p))
    for i, v in enumerate(cu):
        rows = other & (t < v)
        if rows.any():
            q[i] = A[u >= v][:, rows].sum(axis=(0, 1))
    cum = np.cumsum(ccount[:, None] * q / (R * R)[:, None], axis=0)
    k = np.searchsorted(cu, t, side="right") - 1  # the last censoring time <= t_i
    psi = np.where((k >= 0)[:, None], -cum[np.clip(k, 0, None)], 0.0)
    own = np.searchsorted(cu, t[cens])
    psi[cens] += q[own] / R[own][:, None]
    return psi
