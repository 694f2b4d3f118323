"""The one survival engine of trialnb: Cox model, log-rank test, Kaplan-Meier, RMST, splitter.

Every partial likelihood and every log-rank statistic in the package is computed here
(``analysis``, ``bias`` and ``fastsim`` call these functions).

* :func:`fit_cox` -- Cox proportional-hazards fits by Newton-Raphson with step halving (as R
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
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .validation import check_choice, check_int, check_nonnegative, check_positive

try:  # optional acceleration (PyPI ``numba``); the numpy path gives the same numbers
    from . import _survival_numba as _nbk
except ImportError:  # pragma: no cover - depends on the environment
    _nbk = None

HAVE_NUMBA: bool = _nbk is not None
"""Whether the compiled kernel is available (``engine="auto"`` then uses it)."""

__all__ = ["HAVE_NUMBA", "CoxResult", "KaplanMeier", "LogrankResult", "cox_event_terms", "fit_cox",
           "kaplan_meier", "logrank", "rmst", "split_at", "survival_at"]

Ties = Literal["efron", "breslow"]
Engine = Literal["auto", "numpy", "numba"]
_CHUNK = 2000  # trials per chunk in the numpy path (bounds memory to tens of MB)
_SINGULAR = 1e-12  # Cholesky pivot <= this x the largest diagonal entry: singular information


# ---- Input checks

def _as_2d(name: str, a: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    x = np.asarray(a)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (R, n), got shape {np.shape(a)}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name} must have the shape of time {shape}, got {np.shape(a)}")
    return x


def _check_times(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(R, n) float times, (R, n) 0/1 float events, and whether the input was one data set."""
    single = np.ndim(time) == 1
    t = _as_2d("time", time)
    if t.shape[1] < 1:
        raise ValueError("time must hold at least one observation")
    try:
        t = t.astype(float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"time must be numeric, got dtype {np.asarray(time).dtype}") from exc
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("time must contain finite values >= 0")
    e = _as_2d("event", event, t.shape)
    if not np.all((e == 0) | (e == 1)):
        raise ValueError("event must contain only 0/1 (or False/True)")
    return t, e.astype(float), single


def _check_entry(entry: Any, t: np.ndarray) -> np.ndarray | None:
    if entry is None:
        return None
    en = _as_2d("entry", entry, t.shape).astype(float)
    if not np.all(np.isfinite(en)):
        raise ValueError("entry must contain finite values")
    if np.any(en >= t):
        raise ValueError("entry must be < time in every row: (entry, time] is the interval at risk")
    return en


def _check_strata(strata: Any, t: np.ndarray) -> np.ndarray | None:
    if strata is None:
        return None
    s = np.asarray(strata)
    if s.ndim == 1 and t.shape[0] > 1 and s.shape[0] == t.shape[1]:
        s = np.broadcast_to(s, t.shape)
    s = _as_2d("strata", s, t.shape)
    if s.dtype.kind == "f" and not np.all(np.isfinite(s)):
        raise ValueError("strata must not contain NaN or infinite labels")
    return np.unique(s.ravel(), return_inverse=True)[1].reshape(t.shape).astype(np.int64)


# ---- Risk-set structure (computed once per batch) and the likelihood values

def _take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """a[r, idx[r, j]] for a of shape (R, m) or (R, m, p) (flat gather: faster than
    ``take_along_axis`` on 3-D arrays)."""
    R, m = a.shape[:2]
    flat = (idx + (np.arange(R) * m)[:, None]).ravel()
    return np.take(a.reshape((R * m,) + a.shape[2:]), flat, axis=0).reshape(idx.shape + a.shape[2:])


def _fwd(a: np.ndarray) -> np.ndarray:
    """Forward cumulative sum along rows with a leading 0: sum of a[k], k < j, at j."""
    out = np.zeros((a.shape[0], a.shape[1] + 1) + a.shape[2:])
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


def _rev(a: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum with a trailing 0: sum of a[k], k >= j, at j."""
    out = np.zeros((a.shape[0], a.shape[1] + 1) + a.shape[2:])
    np.cumsum(a[:, ::-1], axis=1, out=out[:, -2::-1])
    return out


def _group_bounds(new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index and one-past-last index of the run each position belongs to."""
    R, n = new.shape
    idx = np.broadcast_to(np.arange(n), (R, n))
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    last = np.ones((R, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, idx + 1, n)[:, ::-1], axis=1)[:, ::-1]
    return np.ascontiguousarray(start), np.ascontiguousarray(end)


def _sorted_rows(key: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """Row order by (stratum, key) within each trial (stable)."""
    o = np.argsort(key, axis=1, kind="stable")
    if strata is not None:
        o2 = np.argsort(np.take_along_axis(strata, o, 1), axis=1, kind="stable")
        o = np.take_along_axis(o, o2, 1)
    return o


@dataclass
class _RiskSets:
    """Rows of each trial sorted by (stratum, time), and the index maps of the risk sets.

    For sorted row j: the rows at risk at t_j are [gstart_j, bend_j) in time order (same
    stratum, time >= t_j) minus, with entry times, [pt_j, bend_j) in entry order (``ostart``:
    same stratum, entry >= t_j). [gstart_j, gend_j) is j's tie group (same stratum and time);
    c_j is the Efron fraction (deaths before j in its tie group / deaths in the group).
    The events at which row k is at risk are [qe_k, gend_k) in time order (entry_k < t <= t_k).
    """

    order: np.ndarray
    Xraw: np.ndarray
    d: np.ndarray
    gstart: np.ndarray
    bend: np.ndarray
    ostart: np.ndarray | None
    pt: np.ndarray | None
    efron: bool
    ties: bool = True
    X: np.ndarray | None = None  # the fields below are used by the numpy path only
    c: np.ndarray | None = None
    gend: np.ndarray | None = None
    qe: np.ndarray | None = None


def _risk_sets(t: np.ndarray, d: np.ndarray, X: np.ndarray, entry: np.ndarray | None,
               strata: np.ndarray | None, efron: bool) -> _RiskSets:
    R, n = t.shape
    o = _sorted_rows(t, strata)
    ts = _take(t, o)
    ds = _take(d, o)
    Xs = _take(X, o)
    new = np.ones((R, n), dtype=bool)
    new[:, 1:] = ts[:, 1:] != ts[:, :-1]
    if strata is None:
        ss = None
        bstart = np.zeros((R, n), dtype=np.int64)
        bend = np.full((R, n), n, dtype=np.int64)
    else:
        ss = np.take_along_axis(strata, o, 1)
        bnew = np.ones((R, n), dtype=bool)
        bnew[:, 1:] = ss[:, 1:] != ss[:, :-1]
        new |= bnew
        bstart, bend = _group_bounds(bnew)
    gstart, gend = _group_bounds(new)
    cd = _fwd(ds)
    nd = _take(cd, gend) - _take(cd, gstart)
    ties = bool(np.any(nd > 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where((ds > 0) & efron, (cd[:, :-1] - _take(cd, gstart)) / np.maximum(nd, 1.0), 0.0)
    ostart = pt = None
    qe = bstart
    if entry is not None:
        es = np.take_along_axis(entry, o, 1)
        ostart = _sorted_rows(es, ss)
        # integer keys (trial, stratum, rank of the value) so one flat searchsorted serves all
        both = np.concatenate([ts, es], axis=1)
        ob = np.argsort(both, axis=1, kind="stable")
        sb = np.take_along_axis(both, ob, 1)
        dense = np.concatenate([np.zeros((R, 1), np.int64), np.cumsum(sb[:, 1:] != sb[:, :-1], axis=1)], 1)
        rank = np.empty_like(dense)
        np.put_along_axis(rank, ob, dense, 1)
        rt, re_ = rank[:, :n], rank[:, n:]
        strat = np.zeros((R, n), np.int64) if ss is None else ss.astype(np.int64)
        base = (np.arange(R, dtype=np.int64)[:, None] * (int(strat.max()) + 1) + strat) * (2 * n + 1)
        key_t = (base + rt).ravel()  # already sorted: rows are in (stratum, time) order
        key_e = np.take_along_axis(base + re_, ostart, 1).ravel()
        off = (np.arange(R, dtype=np.int64) * n)[:, None]
        pt = np.searchsorted(key_e, (base + rt).ravel(), side="left").reshape(R, n) - off
        qe = np.searchsorted(key_t, (base + re_).ravel(), side="right").reshape(R, n) - off
        ostart = np.ascontiguousarray(ostart)
    return _RiskSets(np.ascontiguousarray(o), X, ds, gstart, np.ascontiguousarray(bend), ostart, pt, efron,
                     ties, Xs, np.ascontiguousarray(c), gend, np.ascontiguousarray(qe))


def _risk_sets_compiled(t: np.ndarray, d: np.ndarray, X: np.ndarray, strata: np.ndarray | None,
                        efron: bool) -> _RiskSets:
    """The index maps the compiled kernel needs (right-censored rows), built per trial in
    parallel: the same stable sort by (stratum, time) as :func:`_risk_sets`."""
    R, n = t.shape
    order = np.empty((R, n), np.int64)
    gstart = np.empty((R, n), np.int64)
    bend = np.empty((R, n), np.int64)
    ds, Xs = np.empty((R, n)), np.empty(X.shape)
    has = strata is not None
    s = strata if has else np.zeros((1, 1), np.int64)
    _nbk.prepare(t, d, X, s, has, int(s.max()) + 1, order, gstart, bend, ds, Xs)
    return _RiskSets(order, X, ds, gstart, bend, None, None, efron, X=Xs)


def _values_numpy(rs: _RiskSets, rows: np.ndarray, beta: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log partial likelihood, score and information of the trials ``rows`` at ``beta``.

    For event j with Efron fraction c_j (0 for Breslow): den_j = S0_j - c_j D0_j,
    m_j = (S1_j - c_j D1_j) / den_j, ll = sum_j [eta_j - log den_j], U = sum_j [x_j - m_j],
    I = sum_j [(S2_j - c_j D2_j)/den_j - m_j m_j'], with S_k the risk-set sums of w x^(k)
    (w = exp(eta)) and D_k the sums over j's tied deaths (Efron 1977). The S2 part is
    X' diag(w (A - d B)) X, A_k = sum of 1/den_j over the events at which k is at risk and
    B_k = sum of c_j/den_j over k's tied deaths, so no (R, n, p, p) array is formed.
    """
    X, d, c = rs.X[rows], rs.d[rows], rs.c[rows]
    gs, ge, be, qe = rs.gstart[rows], rs.gend[rows], rs.bend[rows], rs.qe[rows]
    eta = np.einsum("rnp,rp->rn", X, beta)
    shift = eta.max(axis=1, keepdims=True)  # the partial likelihood is shift invariant
    w = np.exp(eta - shift)
    wx = w[..., None] * X
    r0, r1 = _rev(w), _rev(wx)
    S0 = _take(r0, gs) - _take(r0, be)
    S1 = _take(r1, gs) - _take(r1, be)
    if rs.ostart is not None:
        os_, pt = rs.ostart[rows], rs.pt[rows]
        q0, q1 = _rev(_take(w, os_)), _rev(_take(wx, os_))
        S0 = S0 - (_take(q0, pt) - _take(q0, be))
        S1 = S1 - (_take(q1, pt) - _take(q1, be))
    if rs.efron and rs.ties:
        f0, f1 = _fwd(w * d), _fwd(wx * d[..., None])
        S0 = S0 - c * (_take(f0, ge) - _take(f0, gs))
        S1 = S1 - c[..., None] * (_take(f1, ge) - _take(f1, gs))
    den = np.where(d > 0, S0, 1.0)
    ll = np.sum(d * (eta - shift - np.log(den)), axis=1)
    U = (d / den)[..., None] * S1
    score = np.einsum("rn,rnp->rp", d, X) - U.sum(axis=1)
    fa = _fwd(d / den)
    v = _take(fa, ge) - _take(fa, qe)
    if rs.efron and rs.ties:
        fc = _fwd(c * d / den)
        v = v - d * (_take(fc, ge) - _take(fc, gs))
    info = np.matmul((X * (w * v)[..., None]).transpose(0, 2, 1), X) - np.matmul(U.transpose(0, 2, 1), U)
    return ll, score, info


def _values(rs: _RiskSets, rows: np.ndarray, beta: np.ndarray, use_numba: bool):
    if not use_numba:
        return _values_numpy(rs, rows, beta)
    m, p = beta.shape
    ll, score, info = np.empty(m), np.empty((m, p)), np.empty((m, p, p))
    has_entry, dummy = rs.ostart is not None, np.zeros((1, 1), np.int64)
    kernel = _nbk.cox_values if m >= 64 else _nbk.cox_values_serial
    kernel(rs.X, rs.d, rs.gstart, rs.bend, rs.ostart if has_entry else dummy,
           rs.pt if has_entry else dummy, has_entry, rs.efron and rs.ties, rows.astype(np.int64),
           np.ascontiguousarray(beta), np.empty((m, rs.d.shape[1])), np.empty((m, 4, p)),
           np.empty((m, 3, p, p)), ll, score, info)
    return ll, score, info


# ---- The Newton driver (one, batched)

def _cholesky(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched Cholesky factors L (A = L L') and which matrices are positive definite."""
    m, p, _ = A.shape
    L = np.zeros_like(A)
    big = np.max(np.abs(np.diagonal(A, axis1=1, axis2=2)), axis=1)
    ok = np.all(np.isfinite(A), axis=(1, 2))
    for a in range(p):
        for b in range(a + 1):
            s = A[:, a, b] - np.sum(L[:, a, :b] * L[:, b, :b], axis=1)
            if a == b:
                good = s > _SINGULAR * big
                ok &= good
                L[:, a, a] = np.sqrt(np.where(good, s, 1.0))
            else:
                L[:, a, b] = s / L[:, b, b]
    return L, ok


def _chol_solve(L: np.ndarray, y: np.ndarray) -> np.ndarray:
    m, p = y.shape
    z = np.empty_like(y)
    for a in range(p):
        z[:, a] = (y[:, a] - np.sum(L[:, a, :a] * z[:, :a], axis=1)) / L[:, a, a]
    x = np.empty_like(y)
    for a in range(p - 1, -1, -1):
        x[:, a] = (z[:, a] - np.sum(L[:, a + 1:, a] * x[:, a + 1:], axis=1)) / L[:, a, a]
    return x


def _newton(rs: _RiskSets, p: int, max_iter: int, tol: float, use_numba: bool):
    """Newton-Raphson from beta = 0 for every trial of ``rs`` at once.

    A trial whose log-likelihood decreased has its step halved (back towards the previous
    estimate), as R ``coxph`` does; a trial with a singular or non-positive-definite
    information stops (failed); a trial has converged when its largest Newton step is below
    ``tol``. Returns beta, the Cholesky factor of the information at the last accepted point,
    converged, loglik (at the last accepted point), loglik at beta = 0, iterations.
    """
    R = rs.d.shape[0]
    beta = np.zeros((R, p))
    prev_beta = np.zeros((R, p))
    prev_ll = np.full(R, -np.inf)
    ll_out = np.full(R, np.nan)
    ll0 = np.full(R, np.nan)
    L_out = np.full((R, p, p), np.nan)
    iters = np.zeros(R, dtype=np.int64)
    conv = np.zeros(R, dtype=bool)
    active = np.arange(R)
    for k in range(max_iter):
        if active.size == 0:
            break
        ll, score, info = _values(rs, active, beta[active], use_numba)
        if k == 0:
            ll0[active] = ll
        worse = ~(ll >= prev_ll[active] - 1e-10 * np.abs(prev_ll[active]))
        if worse.any():  # step halving, only for those trials
            wa = active[worse]
            beta[wa] = 0.5 * (beta[wa] + prev_beta[wa])
            iters[wa] += 1
        ok = np.flatnonzero(~worse)
        L, pd_ = _cholesky(info[ok])
        oa = active[ok[pd_]]
        L = L[pd_]
        step = _chol_solve(L, score[ok[pd_]])
        prev_beta[oa] = beta[oa]
        prev_ll[oa] = ll[ok[pd_]]
        ll_out[oa] = ll[ok[pd_]]
        L_out[oa] = L
        beta[oa] += step
        iters[oa] += 1
        done = np.max(np.abs(step), axis=1) < tol
        conv[oa[done]] = True
        stop = np.zeros(R, dtype=bool)
        stop[active[ok[~pd_]]] = True  # singular information: failed
        stop[oa[done]] = True
        active = active[~stop[active]]
    return beta, L_out, conv, ll_out, ll0, iters


# ---- Cox model: public API

@dataclass(frozen=True)
class CoxResult:
    """Cox fits: ``coef``, ``se`` of shape (R, p) (or (p,) for one data set), ``cov`` (R, p, p),
    ``loglik`` and ``loglik_null`` (log partial likelihood at the estimate and at 0),
    ``converged``, ``iterations``. A fit that failed (singular information, or no convergence
    in ``max_iter`` steps, e.g. a monotone likelihood whose coefficient runs to infinity) has
    NaN ``coef``, ``se`` and ``cov`` and ``converged`` False: it is never reported as HR 1."""

    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: np.ndarray
    loglik_null: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    names: tuple[str, ...]
    ties: str
    n: int
    events: np.ndarray

    @property
    def z(self) -> np.ndarray:  # Wald statistics
        return self.coef / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided Wald p-values."""
        return 2 * stats.norm.sf(np.abs(self.z))

    @property
    def hazard_ratio(self) -> np.ndarray:
        """exp(coef)."""
        return np.exp(self.coef)

    @property
    def n_failed(self) -> int:
        """Number of fits that did not converge (NaN estimates)."""
        return int(np.sum(~np.asarray(self.converged)))

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient (and per trial when batched): coef, exp(coef), se, z, p,
        95% Wald CI of the hazard ratio, converged."""
        coef, se = np.atleast_2d(self.coef), np.atleast_2d(self.se)
        R, p = coef.shape
        z = coef / se
        df = pd.DataFrame({
            "trial": np.repeat(np.arange(R), p), "covariate": np.tile(self.names, R),
            "coef": coef.ravel(), "exp(coef)": np.exp(coef).ravel(), "se(coef)": se.ravel(),
            "z": z.ravel(), "p": (2 * stats.norm.sf(np.abs(z))).ravel(),
            "hr_lower_95": np.exp(coef - 1.959963984540054 * se).ravel(),
            "hr_upper_95": np.exp(coef + 1.959963984540054 * se).ravel(),
            "converged": np.repeat(np.atleast_1d(self.converged), p),
        })
        return df.drop(columns="trial").set_index("covariate") if np.ndim(self.coef) == 1 else df

    def summary(self) -> str:
        """Plain-text coefficient table (one data set) or a count of fits (batched)."""
        from .report import fmt_hr, fmt_n, fmt_num, fmt_p

        if np.ndim(self.coef) == 2:
            R = self.coef.shape[0]
            return (f"{fmt_n(R)} Cox fits ({self.ties} ties), {fmt_n(self.n_failed)} failed "
                    "(NaN estimates: singular information or no convergence)")
        head = f"Cox model, {fmt_n(self.n)} rows, {fmt_n(int(self.events))} events, {self.ties} ties"
        if not self.converged:
            return head + "\nthe fit failed (no convergence or singular information): no estimates"
        lines = [head, f"{'covariate':<16}{'coef':>9}{'HR':>8}{'se':>9}  p"]
        for j, name in enumerate(self.names):
            lines.append(f"{name:<16}{fmt_num(float(self.coef[j]), 4):>9}{fmt_hr(float(np.exp(self.coef[j]))):>8}"
                         f"{fmt_num(float(self.se[j]), 4):>9}  {fmt_p(float(self.p[j]))}")
        lines.append(f"log partial likelihood {fmt_num(float(self.loglik), 4)} "
                     f"(null {fmt_num(float(self.loglik_null), 4)})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(float_format=lambda v: f"{v:.4g}", max_rows=60)

    def __str__(self) -> str:
        return self.summary()


def fit_cox(time: Any, event: Any, covariates: Any, *, entry: Any = None, strata: Any = None,
            ties: Ties = "efron", max_iter: int = 30, tol: float = 1e-9,
            names: Sequence[str] | None = None, engine: Engine = "auto",
            chunk: int = _CHUNK) -> CoxResult:
    """Fit Cox proportional-hazards models, one per trial, by Newton-Raphson.

    ``time`` and ``event`` (0/1) of shape (R, n), ``covariates`` (R, n, p); a single data set
    as (n,), (n,) and (n, p) (or (n,) for one covariate) gives unbatched results, shape (p,).
    ``entry`` (same shape as time): rows are (entry, time] intervals (left truncation,
    time-varying covariates as several rows per subject). ``strata`` (labels, shape (n,) or
    (R, n)): separate baseline hazards. ``ties``: "efron" (R ``coxph`` default) or "breslow".
    Newton-Raphson from 0 with step halving whenever the log-likelihood decreases; converged
    when the largest step is below ``tol``. SE = sqrt(diag(I^-1)) at the estimate. A fit that
    fails (singular information or ``max_iter`` reached, as with a monotone likelihood) is
    NaN with ``converged=False``. ``engine``: "numpy", "numba" (needs numba) or "auto".
    Equals R ``coxph`` to 1e-6 for every combination of ties x entry x strata
    (``tests/test_survival.py``).
    """
    t, d, single = _check_times(time, event)
    try:
        X = np.asarray(covariates, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("covariates must be numeric") from exc
    if single and X.ndim in (1, 2):
        X = X.reshape(1, X.shape[0], -1)
    if X.ndim != 3 or X.shape[:2] != t.shape or X.shape[2] < 1:
        raise ValueError(f"covariates must have shape (R, n, p) = {t.shape + ('p',)} "
                         f"(or (n, p) for one data set), got {np.shape(covariates)}")
    if not np.all(np.isfinite(X)):
        raise ValueError("covariates must be finite (no NaN or infinity)")
    en = _check_entry(entry, t)
    st = _check_strata(strata, t)
    check_choice(ties, "ties", ("efron", "breslow"))
    check_choice(engine, "engine", ("auto", "numpy", "numba"))
    check_int(max_iter, "max_iter", minimum=1)
    check_int(chunk, "chunk", minimum=1)
    check_positive(tol, "tol")
    if engine == "numba" and not HAVE_NUMBA:
        raise ValueError("engine='numba' needs the numba package; use engine='numpy' or 'auto'")
    p = X.shape[2]
    if names is None:
        names = tuple(f"x{j}" for j in range(p))
    elif len(names) != p:
        raise ValueError(f"names must give one name per covariate ({p}), got {len(names)}")
    use_nb = HAVE_NUMBA and engine != "numpy"
    step = t.shape[0] if use_nb else chunk
    parts = []
    for s in range(0, t.shape[0], step):
        sl = slice(s, s + step)
        if use_nb and en is None:
            rs = _risk_sets_compiled(t[sl], d[sl], X[sl], None if st is None else st[sl], ties == "efron")
        else:
            rs = _risk_sets(t[sl], d[sl], X[sl], None if en is None else en[sl],
                            None if st is None else st[sl], ties == "efron")
        parts.append(_newton(rs, p, int(max_iter), float(tol), use_nb))
    beta, L, conv, ll, ll0, iters = (np.concatenate(z) for z in zip(*parts))
    cov = np.full_like(L, np.nan)
    if conv.any():
        Linv = np.linalg.inv(L[conv])
        cov[conv] = np.matmul(Linv.transpose(0, 2, 1), Linv)
    beta = np.where(conv[:, None], beta, np.nan)
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    events = d.sum(axis=1)
    if single:
        return CoxResult(beta[0], se[0], cov[0], float(ll[0]), float(ll0[0]), bool(conv[0]),
                         int(iters[0]), tuple(names), ties, t.shape[1], float(events[0]))
    return CoxResult(beta, se, cov, ll, ll0, conv, iters, tuple(names), ties, t.shape[1], events)


def cox_event_terms(time: Any, event: Any, covariates: Any, beta: Any, *,
                    ties: Ties = "efron") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-death terms of the partial likelihood of one data set at ``beta``: the row index
    of each death, its weighted risk-set mean m_j and covariance V_j = (S2_j - c_j D2_j)/den_j
    - m_j m_j' (Efron fraction c_j, 0 for Breslow). The score is sum_j (x_j - m_j) and the
    information sum_j V_j; ``analysis.zph_test`` weights them by a function of time
    (Grambsch & Therneau 1994). Right-censored data, no strata."""
    t, d, _ = _check_times(time, event)
    X = np.asarray(covariates, float).reshape(1, t.shape[1], -1)
    rs = _risk_sets(t, d, X, None, None, ties == "efron")
    o = _sorted_rows(t, None)[0]
    Xs, ds, c = rs.X[0], rs.d[0], rs.c[0]
    gs, ge = rs.gstart[0], rs.gend[0]
    w = np.exp(Xs @ np.asarray(beta, float))
    wx = w[:, None] * Xs
    wxx = wx[:, :, None] * Xs[:, None, :]
    S = []
    for a in (w, wx, wxx):  # risk-set sums minus c_j times the tied-death sums
        col = (-1,) + (1,) * (a.ndim - 1)
        r, f = _rev(a[None])[0], _fwd((a * ds.reshape(col))[None])[0]
        S.append((r[gs] - c.reshape(col) * (f[ge] - f[gs]))[ds > 0])
    m = S[1] / S[0][:, None]
    return o[ds > 0], m, S[2] / S[0][:, None, None] - m[:, :, None] * m[:, None, :]


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
