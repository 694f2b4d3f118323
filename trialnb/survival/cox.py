"""The Cox proportional-hazards model of the survival engine: :func:`fit_cox` and :class:`CoxResult`.

Batched over trials: arrays (R, n) and (R, n, p) give R independent fits, a single data set
(n,), (n, p) one. Options, not separate models: ``ties`` ("efron" or "breslow"), ``entry``
(counting-process rows (entry, time]: left truncation and time-varying covariates) and
``strata`` (a separate baseline hazard per stratum). The risk-set sums are reverse cumulative
sums over rows sorted by (stratum, time), so one likelihood evaluation costs O(n p^2) per
trial; they are computed by the compiled kernel (:mod:`trialnb.survival._cox_kernel`,
parallel over trials) or by its numpy twin (``engine="numpy"``), from the same prepared
indices and to the same numbers. The Newton driver follows R
``coxph.fit`` (``coxfit6.c`` / ``agfit4.c``, survival 3.5): Newton-Raphson from 0, step halving
when the log-likelihood decreases, convergence on the relative change of the log-likelihood,
a Cholesky (LDL') decomposition that sets aside a singular direction, and R's flag of the
coefficients that "may be infinite" (monotone likelihood, Bryson & Johnson 1981).

References
----------
* Cox DR. Regression models and life-tables. JRSS B 1972;34:187-220 (Breslow ties).
* Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-565.
* Andersen PK, Gill RD. Cox's regression model for counting processes. Ann Stat 1982;10:1100-20.
* Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, ch. 3 (Newton-Raphson with
  step halving; strata; (start, stop] data; section 3.5 infinite coefficients).
* Bryson MC, Johnson ME. The incidence of monotone likelihood in the Cox model.
  Technometrics 1981;23:381-383.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..compiled import use_compiled
from ..errors import SurvivalDataError
from ..results import Result
from ..validation import check_choice, check_int, check_positive
from . import _cox_kernel
from ._core import check_entry, check_strata, check_times, fwd, group_bounds, rev, sorted_rows, take

__all__ = ["CoxResult", "Engine", "Ties", "cox_event_terms", "fit_cox"]

Ties = Literal["efron", "breslow"]
Engine = Literal["auto", "numpy", "numba"]
_CHUNK = 2000  # trials per chunk in the numpy path (bounds memory to tens of MB)
_TOLER_CHOL = np.finfo(float).eps ** 0.75  # R coxph.control toler.chol: pivot below this x the
# largest diagonal entry of the information = a singular direction



# ---- Risk-set structure (computed once per batch) and the likelihood values

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
    scratch: tuple | None = None  # the compiled kernel's work arrays, reused across iterations


def _risk_sets(t: np.ndarray, d: np.ndarray, X: np.ndarray, entry: np.ndarray | None,
               strata: np.ndarray | None, efron: bool) -> _RiskSets:
    R, n = t.shape
    o = sorted_rows(t, strata)
    ts = take(t, o)
    ds = take(d, o)
    Xs = take(X, o)
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
        bstart, bend = group_bounds(bnew)
    gstart, gend = group_bounds(new)
    cd = fwd(ds)
    nd = take(cd, gend) - take(cd, gstart)
    ties = bool(np.any(nd > 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where((ds > 0) & efron, (cd[:, :-1] - take(cd, gstart)) / np.maximum(nd, 1.0), 0.0)
    ostart = pt = None
    qe = bstart
    if entry is not None:
        es = np.take_along_axis(entry, o, 1)
        ostart = sorted_rows(es, ss)
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
    s = strata if strata is not None else np.zeros((1, 1), np.int64)
    _cox_kernel.prepare(t, d, X, s, strata is not None, int(s.max()) + 1, order, gstart, bend, ds, Xs)
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
    assert rs.X is not None and rs.c is not None and rs.gend is not None and rs.qe is not None, \
        "the numpy path needs the risk sets of _risk_sets"
    X, d, c = rs.X[rows], rs.d[rows], rs.c[rows]
    gs, ge, be, qe = rs.gstart[rows], rs.gend[rows], rs.bend[rows], rs.qe[rows]
    eta = np.einsum("rnp,rp->rn", X, beta)
    shift = eta.max(axis=1, keepdims=True)  # the partial likelihood is shift invariant
    w = np.exp(eta - shift)
    wx = w[..., None] * X
    r0, r1 = rev(w), rev(wx)
    S0 = take(r0, gs) - take(r0, be)
    S1 = take(r1, gs) - take(r1, be)
    if rs.ostart is not None and rs.pt is not None:  # entry times: both maps set
        os_, pt = rs.ostart[rows], rs.pt[rows]
        q0, q1 = rev(take(w, os_)), rev(take(wx, os_))
        S0 = S0 - (take(q0, pt) - take(q0, be))
        S1 = S1 - (take(q1, pt) - take(q1, be))
    if rs.efron and rs.ties:
        f0, f1 = fwd(w * d), fwd(wx * d[..., None])
        S0 = S0 - c * (take(f0, ge) - take(f0, gs))
        S1 = S1 - c[..., None] * (take(f1, ge) - take(f1, gs))
    den = np.where(d > 0, S0, 1.0)
    ll = np.sum(d * (eta - shift - np.log(den)), axis=1)
    U = (d / den)[..., None] * S1
    score = np.einsum("rn,rnp->rp", d, X) - U.sum(axis=1)
    fa = fwd(d / den)
    v = take(fa, ge) - take(fa, qe)
    if rs.efron and rs.ties:
        fc = fwd(c * d / den)
        v = v - d * (take(fc, ge) - take(fc, gs))
    info = np.matmul((X * (w * v)[..., None]).transpose(0, 2, 1), X) - np.matmul(U.transpose(0, 2, 1), U)
    return ll, score, info


def _values(rs: _RiskSets, rows: np.ndarray, beta: np.ndarray, use_numba: bool):
    if not use_numba:
        return _values_numpy(rs, rows, beta)
    m, p = beta.shape
    ll, score, info = np.empty(m), np.empty((m, p)), np.empty((m, p, p))
    has_entry, dummy = rs.ostart is not None, np.zeros((1, 1), np.int64)
    if p == 5:
        kernel = _cox_kernel.cox_values_p5 if m >= 64 else _cox_kernel.cox_values_serial_p5
    else:
        kernel = _cox_kernel.cox_values if m >= 64 else _cox_kernel.cox_values_serial
    if rs.scratch is None or rs.scratch[0].shape[0] < m:  # allocated (and paged in) once
        rs.scratch = (np.empty((m, rs.d.shape[1])), np.empty((m, 4, p)), np.empty((m, 3, p, p)))
    kernel(rs.X, rs.d, rs.gstart, rs.bend, rs.ostart if has_entry else dummy,
           rs.pt if has_entry else dummy, has_entry, rs.efron and rs.ties, rows.astype(np.int64),
           np.ascontiguousarray(beta), *rs.scratch, ll, score, info)
    return ll, score, info


# ---- The Newton driver (one, batched), as R coxph.fit

def _ldl(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched L D L' decomposition of information matrices as R ``cholesky2`` (survival):
    a pivot below ``_TOLER_CHOL`` x the largest diagonal entry (or not finite) is a singular
    direction: its D is 0 and its column of L is 0. Returns unit lower-triangular L and D."""
    m, p, _ = A.shape
    M = np.array(A, dtype=float)
    big = np.max(np.diagonal(M, axis1=1, axis2=2), axis=1)
    eps = np.where(big > 0, big * _TOLER_CHOL, _TOLER_CHOL)
    L = np.zeros_like(M)
    L[:, np.arange(p), np.arange(p)] = 1.0
    D = np.zeros((m, p))
    for i in range(p):
        piv = M[:, i, i]
        good = np.isfinite(piv) & (piv >= eps)
        D[:, i] = np.where(good, piv, 0.0)
        safe = np.where(good, piv, 1.0)
        for j in range(i + 1, p):
            tmp = np.where(good, M[:, j, i] / safe, 0.0)
            L[:, j, i] = tmp
            M[:, j, j] -= tmp * tmp * np.where(good, piv, 0.0)
            for k in range(j + 1, p):
                M[:, k, j] -= tmp * M[:, k, i]
    return L, D


def _ldl_solve(L: np.ndarray, D: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x = (L D L')^- y, with 0 in the singular directions (R ``chsolve2``)."""
    m, p = y.shape
    z = np.array(y, dtype=float)
    for a in range(p):
        z[:, a] -= np.sum(L[:, a, :a] * z[:, :a], axis=1)
    sing = D == 0
    z = np.where(sing, 0.0, z / np.where(sing, 1.0, D))
    for a in range(p - 1, -1, -1):
        z[:, a] -= np.sum(L[:, a + 1:, a] * z[:, a + 1:], axis=1)
    return np.where(sing, 0.0, z)


def _ldl_inverse(L: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Inverse information (R ``chinv2``): rows and columns of singular directions are 0."""
    m, p = D.shape
    out = np.empty((m, p, p))
    for a in range(p):
        e = np.zeros((m, p))
        e[:, a] = 1.0
        out[:, :, a] = _ldl_solve(L, D, e)
    sing = D == 0
    return np.where(sing[:, :, None] | sing[:, None, :], 0.0, out)


def _newton(rs: _RiskSets, p: int, max_iter: int, eps: float, use_numba: bool):
    """Newton-Raphson from beta = 0 for every trial of ``rs`` at once, as R ``coxph.fit``
    (survival 3.5, ``coxfit6.c``; ``agfit4.c`` for (entry, time] rows).

    Iteration 0 evaluates the log-likelihood at 0 and proposes a Newton step. Each iteration
    evaluates the proposal: converged when |1 - loglik_best / loglik_new| <= ``eps`` (and, with
    entry times, not in the midst of step halving, as ``agfit4.c``); else, if the
    log-likelihood went down (or is not finite), the proposal moves back towards the last
    accepted estimate (halving: new = (new + h * old) / (h + 1) at the h-th consecutive
    failure, R's "more aggressive" halving); else it is accepted and the next Newton step is
    proposed. Singular directions of the information get no step (R ``cholesky2``). A trial
    still running after ``max_iter`` iterations has not converged (``iterations`` max_iter + 1,
    as R's ``iter``); its values are those at the last accepted estimate (as ``coxfit6.c``).
    Returns beta, the L and D factors of the information, the score, converged, loglik, loglik
    at 0 and the iterations used.
    """
    R = rs.d.shape[0]
    allr = np.arange(R)
    beta = np.zeros((R, p))
    ll0, u, info = _values(rs, allr, beta, use_numba)
    L0, D0 = _ldl(info)
    newbeta = _ldl_solve(L0, D0, u)
    best = ll0.copy()
    halving = np.zeros(R, dtype=np.int64)
    need_calm = rs.ostart is not None
    b_out, u_out = np.zeros((R, p)), np.zeros((R, p))
    L_out, D_out = np.zeros((R, p, p)), np.zeros((R, p))
    ll_out = np.full(R, np.nan)
    conv = np.zeros(R, dtype=bool)
    iters = np.full(R, max_iter + 1, dtype=np.int64)  # R's iter: iter.max + 1 when not converged
    active = allr
    none = ~np.any(rs.d > 0, axis=1)  # no event: nothing to fit; R stops at once (iter 0, coefficients NA)
    if none.any():
        b_out[none], u_out[none], L_out[none], D_out[none] = 0.0, u[none], L0[none], D0[none]
        ll_out[none], conv[none], iters[none] = ll0[none], True, 0
        active = allr[~none]
    for it in range(1, max_iter + 1):
        if active.size == 0:
            break
        ll, u, info = _values(rs, active, newbeta[active], use_numba)
        L, D = _ldl(info)
        finite = np.isfinite(ll) & np.all(np.isfinite(u), axis=1) & np.all(np.isfinite(info), axis=(1, 2))
        b = best[active]
        with np.errstate(invalid="ignore", divide="ignore"):
            done = finite & (np.abs(1.0 - b / ll) <= eps)
        if need_calm:
            done &= halving[active] == 0
        da = active[done]
        b_out[da], u_out[da], L_out[da], D_out[da] = newbeta[da], u[done], L[done], D[done]
        ll_out[da], conv[da], iters[da] = ll[done], True, it
        worse = ~done & (~finite | ~(ll >= b))
        wa = active[worse]
        if wa.size:
            halving[wa] += 1
            h = halving[wa][:, None].astype(float)
            newbeta[wa] = (newbeta[wa] + h * beta[wa]) / (h + 1.0)
        good = ~done & ~worse
        ga = active[good]
        if ga.size:
            halving[ga] = 0
            best[ga] = ll[good]
            beta[ga] = newbeta[ga]
            newbeta[ga] += _ldl_solve(L[good], D[good], u[good])
        active = active[~done]
    fail = np.flatnonzero(~conv)
    if fail.size:  # ran out of iterations: the values at the last accepted estimate
        ll, u, info = _values(rs, fail, beta[fail], use_numba)
        L, D = _ldl(info)
        b_out[fail], u_out[fail], L_out[fail], D_out[fail], ll_out[fail] = beta[fail], u, L, D, ll
    return b_out, L_out, D_out, u_out, conv, ll_out, ll0, iters


# ---- Cox model: public API

@dataclass(frozen=True)
class CoxResult(Result):
    """Cox fits: ``coef``, ``se`` of shape (R, p) (or (p,) for one data set), ``cov`` (R, p, p),
    ``loglik`` and ``loglik_null`` (log partial likelihood at the estimate and at 0),
    ``converged`` (the log-likelihood converged within ``max_iter`` iterations: R's
    ``iter <= iter.max``), ``iterations`` and ``infinite`` (R's per-coefficient flag "Loglik
    converged before variable k; coefficient may be infinite": |score x inverse information|
    > eps and > sqrt(eps) |coef|, a monotone likelihood; shape of ``coef``).

    As R ``coxph``, a converged fit keeps every coefficient and SE, infinite or not: the finite
    ones are usable (a covariate with no death at one level does not spoil the arm's
    estimate); a flagged coefficient's value and SE only say where the iterations stopped. A
    coefficient of a singular direction (e.g. a covariate constant in a trial) is NaN (R
    ``NA``). A fit that did not converge keeps the values at its last accepted estimate, with
    ``converged`` False. :meth:`usable` says which coefficients can be reported."""

    coef: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: np.ndarray | float  # per trial (R,) for a batch; a number for one data set
    loglik_null: np.ndarray | float
    converged: np.ndarray | bool
    iterations: np.ndarray | int
    names: tuple[str, ...]
    ties: str
    n: int
    events: np.ndarray | float
    infinite: np.ndarray | None = None

    def usable(self, k: int = 0) -> np.ndarray | bool:
        """Whether coefficient ``k`` is a usable estimate: the fit converged and the
        coefficient is finite, not singular and not flagged infinite (bool, or (R,) bools)."""
        coef = np.asarray(self.coef)[..., k]
        inf = np.zeros(np.shape(coef), bool) if self.infinite is None else np.asarray(self.infinite)[..., k]
        ok = np.asarray(self.converged) & np.isfinite(coef) & np.isfinite(np.asarray(self.se)[..., k]) & ~inf
        return bool(ok) if np.ndim(ok) == 0 else ok

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
        """Number of fits whose log-likelihood did not converge."""
        return int(np.sum(~np.asarray(self.converged)))

    @property
    def n_infinite(self) -> int:
        """Number of converged fits with at least one coefficient flagged infinite."""
        if self.infinite is None:
            return 0
        inf = np.atleast_2d(self.infinite)
        return int(np.sum(np.atleast_1d(self.converged) & inf.any(axis=1)))

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient (and per trial when batched): coef, exp(coef), se, z, p,
        95% Wald CI of the hazard ratio, converged, infinite (R's "may be infinite" flag)."""
        coef, se = np.atleast_2d(self.coef), np.atleast_2d(self.se)
        R, p = coef.shape
        z = coef / se
        with np.errstate(over="ignore"):  # an infinite coefficient's CI overflows to inf
            lo, hi = np.exp(coef - 1.959963984540054 * se), np.exp(coef + 1.959963984540054 * se)
        df = pd.DataFrame({
            "trial": np.repeat(np.arange(R), p), "covariate": np.tile(self.names, R),
            "coef": coef.ravel(), "exp(coef)": np.exp(coef).ravel(), "se(coef)": se.ravel(),
            "z": z.ravel(), "p": (2 * stats.norm.sf(np.abs(z))).ravel(),
            "hr_lower_95": lo.ravel(), "hr_upper_95": hi.ravel(),
            "converged": np.repeat(np.atleast_1d(self.converged), p),
            "infinite": (np.zeros(R * p, bool) if self.infinite is None
                         else np.atleast_2d(self.infinite).ravel()),
        })
        return df.drop(columns="trial").set_index("covariate") if np.ndim(self.coef) == 1 else df

    def summary(self) -> str:
        """Plain-text coefficient table (one data set) or a count of fits (batched)."""
        from ..report import fmt_hr, fmt_n, fmt_num, fmt_p

        if np.ndim(self.coef) == 2:
            R = self.coef.shape[0]
            return (f"{fmt_n(R)} Cox fits ({self.ties} ties), {fmt_n(self.n_failed)} failed "
                    f"(log-likelihood not converged), {fmt_n(self.n_infinite)} with a coefficient "
                    "that may be infinite (monotone likelihood)")
        head = f"Cox model, {fmt_n(self.n)} rows, {fmt_n(int(self.events))} events, {self.ties} ties"
        if int(self.events) == 0:
            return head + "\nno events: nothing to estimate (every coefficient NA, as R coxph)"
        if not self.converged:
            return (head + f"\nthe fit failed: the log-likelihood did not converge in "
                    f"{fmt_n(int(self.iterations) - 1)} iterations; no estimates reported")
        lines = [head, f"{'covariate':<16}{'coef':>9}{'HR':>8}{'se':>9}  p"]
        for j, name in enumerate(self.names):
            lines.append(f"{name:<16}{fmt_num(float(self.coef[j]), 4):>9}{fmt_hr(float(np.exp(self.coef[j]))):>8}"
                         f"{fmt_num(float(self.se[j]), 4):>9}  {fmt_p(float(self.p[j]))}"
                         + ("  (may be infinite: loglik converged before it)"
                            if self.infinite is not None and self.infinite[j] else ""))
        lines.append(f"log partial likelihood {fmt_num(float(self.loglik), 4)} "
                     f"(null {fmt_num(float(self.loglik_null), 4)})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def fit_cox(time: Any, event: Any, covariates: Any, *, entry: Any = None, strata: Any = None,
            ties: Ties = "efron", max_iter: int = 20, tol: float = 1e-9,
            names: Sequence[str] | None = None, engine: Engine = "auto",
            chunk: int = _CHUNK) -> CoxResult:
    """Fit Cox proportional-hazards models, one per trial, by Newton-Raphson.

    ``time`` and ``event`` (0/1) of shape (R, n), ``covariates`` (R, n, p); a single data set
    as (n,), (n,) and (n, p) (or (n,) for one covariate) gives unbatched results, shape (p,).
    ``entry`` (same shape as time): rows are (entry, time] intervals (left truncation,
    time-varying covariates as several rows per subject). ``strata`` (labels, shape (n,) or
    (R, n)): separate baseline hazards. ``ties``: "efron" (R ``coxph`` default) or "breslow".
    Newton-Raphson from 0 with step halving whenever the log-likelihood decreases, as R
    ``coxph.fit`` (:func:`_newton`): converged when |1 - loglik_old / loglik_new| <= ``tol``
    (R ``eps``, default 1e-9) within ``max_iter`` iterations (R ``iter.max``, default 20).
    SE = sqrt(diag(I^-1)) at the estimate. Each coefficient of a converged fit is flagged
    ``infinite`` as R warns "Loglik converged before variable k; coefficient may be infinite":
    |(U I^-1)_k| > tol and > sqrt(tol) |beta_k| (U the score at the estimate); the other
    coefficients stay usable. A coefficient of a singular direction is NaN; a fit that ran out
    of iterations has ``converged=False`` (values at its last accepted estimate, as R); a data set
    without events stops at once (``iterations`` 0, every coefficient NaN: R's NA).
    ``engine``: "numpy", "numba" (needs numba) or "auto".
    Equals R ``coxph`` to 1e-6 for every combination of ties x entry x strata
    (``tests/test_survival.py``).
    """
    t, d, single = check_times(time, event)
    if covariates is None:
        raise SurvivalDataError("covariates are missing (None): give an array of shape (n, p), or (R, n, p)")
    try:
        X = np.asarray(covariates, dtype=float)
    except (TypeError, ValueError):
        kind = f"{type(covariates).__name__} of {np.asarray(covariates, dtype=object).dtype}"
        raise SurvivalDataError(f"covariates must be numbers (0/1 indicators or measurements), got {kind}") from None
    if single and X.ndim in (1, 2) and X.shape[:1] == t.shape[1:]:
        X = X.reshape(1, X.shape[0], -1)
    if X.ndim != 3 or X.shape[:2] != t.shape or X.shape[2] < 1:
        raise SurvivalDataError(f"covariates must have shape (R, n, p) = {t.shape + ('p',)} "
                                f"(or (n, p) for one data set), got {np.shape(covariates)}")
    if not np.all(np.isfinite(X)):
        raise SurvivalDataError("covariates must be finite (no NaN or infinity)")
    en = check_entry(entry, t)
    st = check_strata(strata, t)
    check_choice(ties, "ties", ("efron", "breslow"), error=SurvivalDataError)
    check_int(max_iter, "max_iter", minimum=1, error=SurvivalDataError)
    check_int(chunk, "chunk", minimum=1, error=SurvivalDataError)
    check_positive(tol, "tol", error=SurvivalDataError)
    p = X.shape[2]
    if names is None:
        names = tuple(f"x{j}" for j in range(p))
    elif isinstance(names, str) or not isinstance(names, (list, tuple)) or len(names) != p \
            or not all(isinstance(nm, str) for nm in names):
        raise SurvivalDataError(f"names must give one name (a string) per covariate ({p}), got {names!r}")
    use_nb = use_compiled(engine, SurvivalDataError)
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
    beta, L, D, U, conv, ll, ll0, iters = (np.concatenate(z) for z in zip(*parts, strict=True))
    cov = _ldl_inverse(L, D)
    sing = D == 0  # R coxph: coef NA for a singular direction
    se = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    with np.errstate(invalid="ignore"):
        infs = np.abs(np.einsum("rp,rpq->rq", U, cov))
        infinite = conv[:, None] & ~sing & (~np.isfinite(U) | ((infs > tol) & (infs > math.sqrt(tol) * np.abs(beta))))
    if max_iter <= 1:  # R: no flags when iter.max <= 1
        infinite[:] = False
    beta = np.where(sing, np.nan, beta)
    se = np.where(sing, np.nan, se)
    cov = np.where(sing[:, :, None] | sing[:, None, :], np.nan, cov)
    events = d.sum(axis=1)
    if single:
        return CoxResult(beta[0], se[0], cov[0], float(ll[0]), float(ll0[0]), bool(conv[0]),
                         int(iters[0]), tuple(names), ties, t.shape[1], float(events[0]), infinite[0])
    return CoxResult(beta, se, cov, ll, ll0, conv, iters, tuple(names), ties, t.shape[1], events, infinite)


def cox_event_terms(time: Any, event: Any, covariates: Any, beta: Any, *,
                    ties: Ties = "efron") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-death terms of the partial likelihood of one data set at ``beta``: the row index
    of each death, its weighted risk-set mean m_j and covariance V_j = (S2_j - c_j D2_j)/den_j
    - m_j m_j' (Efron fraction c_j, 0 for Breslow). The score is sum_j (x_j - m_j) and the
    information sum_j V_j; ``analysis.zph_test`` weights them by a function of time
    (Grambsch & Therneau 1994). Right-censored data, no strata."""
    t, d, _ = check_times(time, event)
    try:
        X = np.asarray(covariates, float).reshape(1, t.shape[1], -1)
        b = np.asarray(beta, float).ravel()
    except (TypeError, ValueError):
        raise SurvivalDataError("covariates must be numbers with one row per observation, and beta numbers") from None
    if b.shape != (X.shape[2],) or not np.all(np.isfinite(b)):
        raise SurvivalDataError(f"beta must hold one finite coefficient per covariate ({X.shape[2]}), got {beta!r}")
    rs = _risk_sets(t, d, X, None, None, ties == "efron")
    assert rs.X is not None and rs.c is not None and rs.gend is not None, "_risk_sets fills the numpy maps"
    o = sorted_rows(t, None)[0]
    Xs, ds, c = rs.X[0], rs.d[0], rs.c[0]
    gs, ge = rs.gstart[0], rs.gend[0]
    w = np.exp(Xs @ b)
    wx = w[:, None] * Xs
    wxx = wx[:, :, None] * Xs[:, None, :]
    S = []
    for a in (w, wx, wxx):  # risk-set sums minus c_j times the tied-death sums
        col = (-1,) + (1,) * (a.ndim - 1)
        r, f = rev(a[None])[0], fwd((a * ds.reshape(col))[None])[0]
        S.append((r[gs] - c.reshape(col) * (f[ge] - f[gs]))[ds > 0])
    m = S[1] / S[0][:, None]
    return o[ds > 0], m, S[2] / S[0][:, None, None] - m[:, :, None] * m[:, None, :]
