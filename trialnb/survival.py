"""The one survival engine of trialnb: Cox model, log-rank test, Kaplan-Meier, RMST, splitter.

Every partial likelihood and every log-rank statistic in the package is computed here
(``analysis``, ``bias`` and ``fastsim`` call these functions).

* :func:`fit_cox` (the driver lives in :mod:`trialnb.survival_cox`, re-exported here) -- Cox
  proportional-hazards fits by Newton-Raphson with step halving (as R
  ``coxph``), batched over trials: arrays (R, n) and (R, n, p) give R independent fits, a single
  data set (n,), (n, p) gives one. Options, not separate models: ``ties`` ("efron" or
  "breslow"), ``entry`` (counting-process rows (entry, time]: left truncation and
  time-varying covariates) and ``strata`` (a separate baseline hazard per stratum).
* :func:`logrank` -- the two-sample log-rank test, stratified, with Fleming-Harrington
  G(rho, gamma) weights, batched over trials.
* :func:`kaplan_meier`, :func:`survival_at`, :func:`rmst` -- Kaplan-Meier with Greenwood SE and
  the restricted mean survival time with R ``survfit``'s standard error.
* :func:`split_at` -- (start, stop] rows for a binary covariate that switches on at a time.

The risk-set sums are reverse cumulative sums over rows sorted by (stratum, time), so one
likelihood evaluation costs O(n p^2) per trial; the Newton driver (:func:`_newton`) is written
once and is batched over trials. The sums are computed by numpy (vectorised over trials) or,
when numba is installed, by the compiled kernel :mod:`trialnb._survival_numba` (parallel over
trials); both use the same prepared indices and give the same numbers to rounding error.

References
----------
* Cox DR. Regression models and life-tables. JRSS B 1972;34:187-220 (Breslow ties).
* Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-565.
* Andersen PK, Gill RD. Cox's regression model for counting processes. Ann Stat 1982;10:1100-20.
* Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, ch. 3 (Newton-Raphson with
  step halving; strata; (start, stop] data), section 2.3 (restricted mean).
* Mantel N. Cancer Chemother Rep 1966;50:163-170 (log-rank); Harrington DP, Fleming TR.
  Biometrika 1982;69:553-566 (G(rho), R ``survdiff``); Fleming & Harrington, Counting
  Processes and Survival Analysis, Wiley 1991, ch. 7 (G(rho, gamma) weights).
* Greenwood M. The natural duration of cancer. Rep Public Health Med Subj 1926;33:1-26.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .validation import check_nonnegative, check_positive
from .survival_cox import (HAVE_NUMBA, CoxResult, Engine, Ties, _as_2d, _check_entry,  # noqa: F401
                           _check_strata, _check_times, _fwd, _group_bounds, _newton, _rev,
                           _risk_sets, _RiskSets, _sorted_rows, _take, _values, _values_numpy,
                           cox_event_terms, fit_cox)

__all__ = ["HAVE_NUMBA", "CoxResult", "KaplanMeier", "LogrankResult", "cox_event_terms", "fit_cox",
           "kaplan_meier", "logrank", "rmst", "split_at", "survival_at"]

# ---- Log-rank test (stratified, Fleming-Harrington weights)

@dataclass(frozen=True)
class LogrankResult:
    """Two-sample (weighted) log-rank tests of group 1 vs group 0, summed over strata:
    ``observed``/``expected`` (weighted) deaths in group 1, ``variance``,
    ``z = (O - E)/sqrt(V)`` (> 0: group 1 dies more than expected), ``chisq = z^2`` (1 df),
    two-sided ``p`` and the Peto hazard-ratio estimate ``hr = exp((O - E)/V)`` (meaningful for
    rho = gamma = 0). Arrays of shape (R,), or floats for one data set."""

    observed: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    chisq: np.ndarray
    p: np.ndarray
    hr: np.ndarray
    rho: float = 0.0
    gamma: float = 0.0

    @property
    def statistic(self) -> np.ndarray:
        """The chi-square statistic (alias of ``chisq``)."""
        return self.chisq

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: np.atleast_1d(getattr(self, k))
                             for k in ("observed", "expected", "variance", "z", "chisq", "p", "hr")})

    def summary(self) -> str:
        from .report import fmt_num, fmt_p

        if np.ndim(self.z) == 1:
            return f"{len(self.z)} log-rank tests, FH(rho={self.rho:g}, gamma={self.gamma:g}) weights"
        return (f"log-rank FH(rho={self.rho:g}, gamma={self.gamma:g}): chi-square {fmt_num(float(self.chisq), 3)} "
                f"(1 df), {fmt_p(float(self.p))}; group 1 observed {fmt_num(float(self.observed), 2)}, "
                f"expected {fmt_num(float(self.expected), 2)}")

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}")


def _two_sample_rows(t: np.ndarray, e: np.ndarray, g: np.ndarray, st: np.ndarray | None) -> tuple:
    """Rows sorted by (stratum, time) and the index maps of every two-sample log-rank statistic:
    (ts, es, gs, new, bst, bend, gst, gen); [bst, bend) stratum block, [gst, gen) tie group."""
    o = _sorted_rows(t, st)
    ts, es = np.take_along_axis(t, o, 1), np.take_along_axis(e, o, 1)
    gs = np.take_along_axis(g.astype(float), o, 1)
    new = np.ones(ts.shape, dtype=bool)
    new[:, 1:] = ts[:, 1:] != ts[:, :-1]
    bnew = np.repeat((np.arange(ts.shape[1]) == 0)[None, :], ts.shape[0], axis=0)  # stratum starts
    if st is not None:
        sss = np.take_along_axis(st, o, 1)
        bnew[:, 1:] = sss[:, 1:] != sss[:, :-1]
        new |= bnew
    return (ts, es, gs, new, *_group_bounds(bnew), *_group_bounds(new))


def _risk_terms(ts, es, gs, new, bend, gst, gen) -> tuple[np.ndarray, ...]:
    """Per tie group: N at risk in the stratum, share N1/N in group 1, deaths D, D1, use."""
    N = (bend - gst).astype(float)
    N1 = _take(_rev(gs), gst) - _take(_rev(gs), bend)
    fe, fg = _fwd(es), _fwd(es * gs)
    D, D1 = _take(fe, gen) - _take(fe, gst), _take(fg, gen) - _take(fg, gst)
    return N, N1 / N, D, D1, new & (D > 0)


def _pooled_km_before(use: np.ndarray, D: np.ndarray, N: np.ndarray, bst: np.ndarray) -> np.ndarray:
    """Pooled Kaplan-Meier S(t-) of the stratum (the Fleming-Harrington weights' S)."""
    q = np.where(use, 1.0 - D / N, 1.0)
    zero = q <= 0  # a stratum emptied by deaths: S = 0 from then on
    cl, cz = _fwd(np.log(np.where(zero, 1.0, q))), _fwd(zero.astype(float))
    return np.exp(cl[:, :-1] - _take(cl, bst)) * ((cz[:, :-1] - _take(cz, bst)) == 0)


def logrank(time: Any, event: Any, group: Any, *, strata: Any = None, rho: float = 0.0,
            gamma: float = 0.0, chunk: int = 5000) -> LogrankResult:
    """Two-sample log-rank tests (batched over trials), stratified, Fleming-Harrington weighted.

    Within each stratum, at every distinct death time with N at risk (N1 in group 1), D
    deaths (D1 in group 1) and weight W = S(t-)^rho (1 - S(t-))^gamma, S the pooled
    Kaplan-Meier estimate of the stratum just before t: O1 += W D1, E1 += W D N1/N,
    V += W^2 D (N1/N)(1 - N1/N)(N - D)/(N - 1); then O1, E1, V are summed over strata.
    rho = gamma = 0 is Mantel's log-rank test (R ``survdiff``), rho = 1 the Peto-Peto
    Prentice-Wilcoxon test (``survdiff(rho = 1)``). One core with :mod:`trialnb.survival_weighted`."""
    t, e, single = _check_times(time, event)
    g = _as_2d("group", group, t.shape)
    if not np.all((g == 0) | (g == 1)):
        raise ValueError("group must contain only 0/1 (or False/True): two groups are compared")
    st = _check_strata(strata, t)
    check_nonnegative(rho, "rho")
    check_nonnegative(gamma, "gamma")
    outs = []
    for s in range(0, t.shape[0], chunk):
        sl = slice(s, s + chunk)
        ss = None if st is None else st[sl]
        ts, es, gs, new, bst, bend, gst, gen = _two_sample_rows(t[sl], e[sl], g[sl], ss)
        N, frac, D, D1, use = _risk_terms(ts, es, gs, new, bend, gst, gen)
        S_ = _pooled_km_before(use, D, N, bst) if rho or gamma else None
        W = np.ones(ts.shape) if S_ is None else S_**rho * (1.0 - S_) ** gamma
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(use & (N > 1), W**2 * D * frac * (1 - frac) * (N - D) / np.maximum(N - 1, 1), 0.0)
        outs.append((np.sum(np.where(use, W * D1, 0.0), axis=1),
                     np.sum(np.where(use, W * D * frac, 0.0), axis=1), v.sum(axis=1)))
    O1, E1, V = (np.concatenate(z) for z in zip(*outs))
    with np.errstate(invalid="ignore", divide="ignore"):
        z, hr = (O1 - E1) / np.sqrt(V), np.exp((O1 - E1) / V)
    p = special.chdtrc(1, chi := z**2)
    if single:
        O1, E1, V, z, chi, p, hr = (float(a[0]) for a in (O1, E1, V, z, chi, p, hr))
    return LogrankResult(O1, E1, V, z, chi, p, hr, float(rho), float(gamma))


# ---- Kaplan-Meier, survival at a time, restricted mean

@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan-Meier estimate at each distinct time (deaths or censorings): ``time``,
    ``at_risk``, ``events``, ``censored``, ``survival`` (right-continuous) and Greenwood
    ``se`` of the survival: S(t) sqrt(sum_{t_j <= t} d_j / (n_j (n_j - d_j)))."""

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    se: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "at_risk": self.at_risk, "events": self.events,
                             "censored": self.censored, "survival": self.survival, "se": self.se})

    def summary(self) -> str:
        return f"Kaplan-Meier estimate at {len(self.time)} distinct times, {int(self.events.sum())} deaths"

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.4g}")

    def at(self, t: float) -> tuple[float, float]:
        """(S(t), Greenwood SE) at time ``t`` (S = 1, SE = 0 before the first time)."""
        k = int(np.searchsorted(self.time, t, side="right")) - 1
        return (1.0, 0.0) if k < 0 else (float(self.survival[k]), float(self.se[k]))


def kaplan_meier(time: Any, event: Any) -> KaplanMeier:
    """Kaplan-Meier estimate with Greenwood standard errors (Greenwood 1926) of one sample."""
    if np.ndim(time) != 1:
        raise ValueError(f"time must be one sample of shape (n,), got shape {np.shape(time)}")
    t2, e2, _ = _check_times(time, event)
    t, e = t2[0], e2[0]
    ut, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=len(ut))
    cnt = np.bincount(inv, minlength=len(ut)).astype(float)
    n = cnt[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        se = surv * np.sqrt(g)
    se = np.where(surv > 0, se, np.nan)
    return KaplanMeier(ut, n.astype(int), d.astype(int), (cnt - d).astype(int), surv, se)


def survival_at(time: Any, event: Any, t: float) -> tuple[float, float]:
    """Kaplan-Meier S(t) and its Greenwood SE for one sample (NaN SE once S reaches 0)."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.floating)) or not t >= 0:
        raise ValueError(f"t must be a time >= 0, got {t!r}")
    return kaplan_meier(time, event).at(float(t))


def rmst(time: Any, event: Any, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error, one sample.

    RMST = integral_0^tau S(u) du (area under the Kaplan-Meier step function);
    Var = sum over death times t_j < tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j = integral from
    t_j to tau of S(u) du (the Greenwood-type variance R ``survfit`` reports for ``rmean``;
    Therneau & Grambsch 2000, section 2.3). Equal to R ``summary(survfit(...), rmean = tau)``.
    """
    check_positive(tau, "tau")
    km = kaplan_meier(time, event)
    keep = km.time < tau
    tk, sk, dk, nk = km.time[keep], km.survival[keep], km.events[keep], km.at_risk[keep]
    knots = np.concatenate([[0.0], tk, [tau]])
    s_left = np.concatenate([[1.0], sk])  # S on [knots[i], knots[i+1])
    pieces = s_left * np.diff(knots)
    area = float(pieces.sum())
    after = np.cumsum(pieces[::-1])[::-1][1:]  # area from tk[j] to tau
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(dk > 0, after**2 * dk / (nk * (nk - dk)), 0.0)
    return area, float(math.sqrt(terms.sum())) if np.all(np.isfinite(terms)) else math.nan


# ---- Counting-process splitter

def split_at(time: Any, event: Any, switch: Any) -> pd.DataFrame:
    """(start, stop] rows for a binary covariate that switches from 0 to 1 at ``switch``.

    One subject per element: ``time`` (follow-up), ``event`` (0/1 at ``time``), ``switch``
    (time the covariate becomes 1; NaN = never). A switch at or before 0 gives one exposed row
    (0, time]; a switch inside (0, time) gives (0, switch] unexposed without event and
    (switch, time] exposed with the subject's event; a switch at or after ``time`` (or NaN)
    one unexposed row. Columns: id (position), start, stop, event, exposed; first the rows
    starting at 0 unexposed, then the exposed rows, each in id order. Used for surgery as a
    time-varying covariate (immortal-time bias).
    """
    t = np.asarray(time, float)
    if t.ndim != 1 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise ValueError("time must be a 1-D array of finite follow-up times > 0")
    e = np.asarray(event)
    if e.shape != t.shape or not np.all((e == 0) | (e == 1)):
        raise ValueError("event must be 0/1 with the shape of time")
    s = np.asarray(switch, float)
    if s.shape != t.shape:
        raise ValueError("switch must have the shape of time (NaN = never switches)")
    ids = np.arange(len(t))
    on0 = s <= 0
    inside = (s > 0) & (s < t)
    pre = ~on0
    rows = pd.DataFrame({
        "id": np.concatenate([ids[pre], ids[inside | on0]]),
        "start": np.concatenate([np.zeros(pre.sum()), np.where(on0, 0.0, s)[inside | on0]]),
        "stop": np.concatenate([np.where(inside, s, t)[pre], t[inside | on0]]),
        "event": np.concatenate([np.where(inside, 0, e)[pre], e[inside | on0]]).astype(int),
        "exposed": np.concatenate([np.zeros(pre.sum()), np.ones(int((inside | on0).sum()))]),
    })
    return rows
