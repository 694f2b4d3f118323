"""Standardized (G-computation) survival from a Cox model, with its influence function, batched.

The marginal survival of a population "if everyone were given treatment a" is estimated by
fitting one Cox model with the treatment and the covariates, predicting every patient's
survival at ``tau`` with the treatment set to a and averaging over the sample (G-computation,
Robins 1986; standardization):

    theta_a = (1/n) sum_i S(tau | x_i, a),   S(tau | x, a) = exp(-Lambda_0(tau) exp(beta' x^a)),

with beta the partial-likelihood estimate and Lambda_0 the baseline cumulative hazard of the
same ties method (Efron: the jump at a time with d deaths is sum_r 1 / (S0 - (r/d) D0), R
``survfit.coxph`` / ``basehaz(centered = FALSE)``; Breslow: d / S0). The contrasts are the
difference theta_1 - theta_0 and the ratio theta_1 / theta_0.

**Variance.** Each estimate is asymptotically linear: theta_a - theta_a* ~ sum_i psi_i, with
the influence values (on the "iid" scale, sum_i psi_i^2 is the variance)

    psi_i(theta_a) = (S_i^a - theta_a) / n - g_L^a psi_i(Lambda_0(tau)) - (g_b^a)' psi_i(beta),
    g_L^a = mean_j S_j^a e^{eta_j^a},   g_b^a = Lambda_0(tau) mean_j S_j^a e^{eta_j^a} x_j^a,

the first term from averaging over the sample's covariates, the others from the estimated
model (Ozenne B, Scheike TH, Staerk L, Gerds TA. On the estimation of average treatment effects
with right-censored time to event outcome and competing risks. Biom J 2020;62:751-763; R
``riskRegression::ate``, G-formula, ``known.nuisance = FALSE``). psi_i(beta) = L_i V, with L_i
the score residual of patient i (:func:`cox_score_residuals`, R ``residuals(fit, type =
"score")``; L V is R's ``dfbeta``) and V the inverse information; psi_i(Lambda_0(tau)) is the
linearization of the baseline estimator, sum_{death rows j, t_j <= tau} [dN_ij / den_j -
Y_ij w_i a_ij / den_j^2] - (sum_j m_j / den_j)' psi_i(beta) (Lin, Fleming & Wei 1994 for
Breslow; with Efron's weights a_ij = 1 - c_j for i among the deaths tied with j, and the
death term the tie group's mean of 1/den). The two sums over patients of the first terms are
zero by construction, and without tied death times every term equals riskRegression's.

With tied death times riskRegression uses Breslow-type approximations (its beta compensator
counts one death per distinct time; its baseline terms use 1/S0); the functions here keep the
exact linearization of the Efron estimator, which equals R ``survival``'s score residuals.
The two variances differ by a fraction of the tied deaths (0.8% of the SE on the shipped
protocol file, two ties in 71 deaths; ``tests/test_standardized.py`` holds both facts).

Why this variance holds under minimization: the working model adjusts for every factor
used in the allocation, so the estimator's influence function has (approximately) no
component left along those factors, and the variance reduction that balancing them brings to
an unadjusted estimator is already taken by the adjustment; the variance derived for simple
randomization is then asymptotically exact, and conservative where that projection is not
zero (Ye T, Shao J, Yi Y, Zhao Q. Toward better practice of covariate adjustment in analyzing
randomized clinical trials. JASA 2023;118:2370-2382; Ye T, Shao J, Yi Y. Covariate-adjusted
log-rank test: guaranteed efficiency gain and universal applicability. Biometrika
2024;111:691-705; FDA. Adjusting for covariates in randomized clinical trials for drugs and
biological products, guidance for industry, May 2023). The simulation of notebook 04 checks it.

Batched: time and event (R, n), covariates (R, n, p) give R trials at once (one Cox fit each,
:func:`trialnb.survival.fit_cox`); (n,), (n, p) one trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..results import Result
from ..validation import check_choice, check_int, check_positive
from ._core import check_times, fwd, group_bounds, rev, sorted_rows, take
from .cox import CoxResult, Engine, Ties, fit_cox

__all__ = ["StandardizedSurvival", "cox_score_residuals", "standardized_survival"]


@dataclass
class _Terms:
    """Per sorted row of each trial: the tie-group bounds, Efron fraction c, den and the
    weighted mean m of each death row (den = S0 - c D0, m = (S1 - c D1) / den)."""

    order: np.ndarray
    t: np.ndarray
    d: np.ndarray
    X: np.ndarray
    w: np.ndarray
    gstart: np.ndarray
    gend: np.ndarray
    c: np.ndarray
    den: np.ndarray
    m: np.ndarray
    ndeath: np.ndarray


def _terms(t: np.ndarray, d: np.ndarray, X: np.ndarray, beta: np.ndarray, efron: bool) -> _Terms:
    R, n = t.shape
    o = sorted_rows(t, None)
    ts, ds, Xs = take(t, o), take(d, o), take(X, o)
    eta = np.einsum("rnp,rp->rn", Xs, beta)
    shift = np.max(eta, axis=1, keepdims=True)  # the baseline is that of eta = shift: no overflow
    w = np.exp(eta - shift)
    new = np.ones((R, n), dtype=bool)
    new[:, 1:] = ts[:, 1:] != ts[:, :-1]
    gs, ge = group_bounds(new)
    wx = w[..., None] * Xs
    S0, S1 = take(rev(w), gs), take(rev(wx), gs)
    cd = fwd(ds)
    nd = take(cd, ge) - take(cd, gs)
    if efron:
        c = np.where(ds > 0, (cd[:, :-1] - take(cd, gs)) / np.maximum(nd, 1.0), 0.0)
        f0, f1 = fwd(w * ds), fwd(wx * ds[..., None])
        S0 = S0 - c * (take(f0, ge) - take(f0, gs))
        S1 = S1 - c[..., None] * (take(f1, ge) - take(f1, gs))
    else:
        c = np.zeros((R, n))
    den = np.where(ds > 0, S0, 1.0)
    return _Terms(o, ts, ds, Xs, w, gs, ge, c, den, S1 / den[..., None], nd)


def _group_sum(a: np.ndarray, T: _Terms) -> np.ndarray:
    """Sum of ``a`` over each row's tie group."""
    f = fwd(a)
    return take(f, T.gend) - take(f, T.gstart)


def _upto(a: np.ndarray, T: _Terms) -> np.ndarray:
    """Sum of ``a`` over the rows whose time is <= each row's time (to the end of its tie group)."""
    return take(fwd(a), T.gend)


def _score_residuals_sorted(T: _Terms) -> np.ndarray:
    """Score residuals L (R, n, p) in sorted order (module docstring of :func:`cox_score_residuals`)."""
    d, w, X = T.d, T.w, T.X
    h = d / T.den                      # 1/den of each death row
    hm = h[..., None] * T.m            # m/den
    H, G = _upto(h, T), _upto(hm, T)
    own_h = _group_sum(T.c * h, T)     # sum over i's tie group of c_j / den_j
    own_m = _group_sum(T.c[..., None] * hm, T)
    # the death term: x_i minus the mean of m_j over the tie group's death rows
    M = _group_sum(d[..., None] * T.m, T) / np.maximum(T.ndeath, 1.0)[..., None]
    comp = w[..., None] * (X * H[..., None] - G)
    own = (d * w)[..., None] * (X * own_h[..., None] - own_m)
    return d[..., None] * (X - M) - comp + own


def _unsort(a: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    np.put_along_axis(out, order if a.ndim == 2 else order[..., None], a, axis=1)
    return out


def cox_score_residuals(time: Any, event: Any, covariates: Any, beta: Any, *, ties: Ties = "efron") -> np.ndarray:
    """Score residuals of a Cox model at ``beta``, one row per patient (R ``residuals(fit, type =
    "score")``; multiplied by the inverse information they are R's ``dfbeta``).

    For patient i (Therneau & Grambsch 2000, section 4.6; Efron weights as R ``coxscore``):
    L_i = delta_i (x_i - mean of m_j over i's tied death rows) - w_i sum_{death rows j,
    t_j <= t_i} a_ij (x_i - m_j) / den_j, where for the death rows j of each distinct time
    den_j = S0 - c_j D0 and m_j = (S1 - c_j D1) / den_j (c_j = r/d for the r-th of d tied
    deaths, 0 for Breslow), and a_ij = 1 - c_j when i is one of j's tied deaths, else 1.
    The residuals sum to the score U(beta) (zero at the estimate). Shapes as :func:`fit_cox`:
    (n, p) for one data set, (R, n, p) batched."""
    t, d, single = check_times(time, event)
    X = np.asarray(covariates, dtype=float)
    if single and X.ndim in (1, 2):
        X = X.reshape(1, X.shape[0], -1)
    if X.ndim != 3 or X.shape[:2] != t.shape:
        raise ValueError(f"covariates must have shape (R, n, p) = {t.shape + ('p',)} (or (n, p)), got "
                         f"{np.shape(covariates)}")
    b = np.asarray(beta, dtype=float).reshape(t.shape[0], -1)
    if b.shape[1] != X.shape[2] or not np.all(np.isfinite(b)):
        raise ValueError(f"beta must hold {X.shape[2]} finite coefficients per data set, got shape {np.shape(beta)}")
    check_choice(ties, "ties", ("efron", "breslow"))
    T = _terms(t, d, X, b, ties == "efron")
    L = _unsort(_score_residuals_sorted(T), T.order)
    return L[0] if single else L


@dataclass(frozen=True)
class StandardizedSurvival(Result):
    """Standardized survival at ``tau`` with the treatment column set to 1 and to 0, per trial.

    ``survival`` (R, 2) -- column 0: everyone given treatment 1 (arm A), column 1: treatment 0
    (arm B); ``iid`` (R, n, 2) the influence values of each (sum of squares = variance; rows in
    the input order); ``ok`` (R,) the Cox fit converged with a usable treatment coefficient and
    finite estimates; ``baseline`` (R,) Lambda_0(tau) at covariates 0. One trial: shapes
    without the leading R. The contrasts -- ``difference`` theta_1 - theta_0, ``ratio``
    theta_1 / theta_0 -- carry their influence values too, so their SEs are exact sums."""

    tau: float
    survival: np.ndarray
    iid: np.ndarray
    ok: np.ndarray | bool  # (R,), or a bool for one trial
    baseline: np.ndarray | float
    fit: CoxResult

    @property
    def se(self) -> np.ndarray:
        """SE of each arm's standardized survival, sqrt(sum_i psi_i^2)."""
        return np.sqrt(np.sum(self.iid ** 2, axis=-2))

    @property
    def difference(self) -> np.ndarray:
        return self.survival[..., 0] - self.survival[..., 1]

    @property
    def difference_se(self) -> np.ndarray:
        return np.sqrt(np.sum((self.iid[..., 0] - self.iid[..., 1]) ** 2, axis=-1))

    @property
    def ratio(self) -> np.ndarray:
        return self.survival[..., 0] / self.survival[..., 1]

    @property
    def log_ratio_se(self) -> np.ndarray:
        """SE of log(theta_1 / theta_0): influence values psi_1/theta_1 - psi_0/theta_0."""
        s = self.survival[..., None, :]
        return np.sqrt(np.sum((self.iid[..., 0] / s[..., 0] - self.iid[..., 1] / s[..., 1]) ** 2, axis=-1))

    @property
    def z(self) -> np.ndarray:
        """Wald z of the difference, with the sign of log HR (negative favours treatment 1)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return -self.difference / self.difference_se

    def to_frame(self) -> pd.DataFrame:
        surv = np.atleast_2d(self.survival)
        se = np.atleast_2d(self.se)
        return pd.DataFrame({"trial": np.arange(surv.shape[0]), "survival_1": surv[:, 0], "se_1": se[:, 0],
                             "survival_0": surv[:, 1], "se_0": se[:, 1],
                             "difference": np.atleast_1d(self.difference),
                             "difference_se": np.atleast_1d(self.difference_se), "ok": np.atleast_1d(self.ok)})

    def summary(self) -> str:
        from ..report import fmt_n, fmt_num, fmt_pct

        if np.ndim(self.survival) == 2:
            return (f"standardized survival at {fmt_num(self.tau, 1)} months in {fmt_n(len(self.survival))} trials, "
                    f"{fmt_n(int(np.sum(~np.asarray(self.ok))))} not estimable")
        return (f"standardized survival at {fmt_num(self.tau, 1)} months: "
                f"treatment 1 {fmt_pct(float(self.survival[0]))}, "
                f"treatment 0 {fmt_pct(float(self.survival[1]))}; difference "
                f"{fmt_num(100 * float(self.difference), 1)} percentage points (SE "
                f"{fmt_num(100 * float(self.difference_se), 1)})")


def standardized_survival(time: Any, event: Any, covariates: Any, tau: float, *, treatment: int = 0,
                          ties: Ties = "efron", fit: CoxResult | None = None, engine: Engine = "auto",
                          max_iter: int = 20, tol: float = 1e-9) -> StandardizedSurvival:
    """Standardized survival at ``tau`` under treatment 1 and under treatment 0 (the module
    docstring), from the Cox model of ``time``, ``event`` on ``covariates`` whose column
    ``treatment`` is the 0/1 treatment (arm A = 1). ``fit``: the model's fit if already made
    (the same data, ties and columns); otherwise it is fitted here (:func:`fit_cox`, ``engine``,
    ``max_iter``, ``tol``). A trial whose fit did not converge, or whose treatment coefficient
    R would flag as infinite, or whose estimates are not finite, has ``ok`` False (and NaN
    estimates)."""
    t, d, single = check_times(time, event)
    X = np.asarray(covariates, dtype=float)
    if single and X.ndim in (1, 2):
        X = X.reshape(1, X.shape[0], -1)
    if X.ndim != 3 or X.shape[:2] != t.shape:
        raise ValueError(f"covariates must have shape (R, n, p) = {t.shape + ('p',)} (or (n, p)), got "
                         f"{np.shape(covariates)}")
    check_positive(tau, "tau")
    check_int(treatment, "treatment", minimum=0)
    if treatment >= X.shape[2]:
        raise ValueError(f"treatment must be a column of covariates (0 to {X.shape[2] - 1}), got {treatment}")
    col = X[..., treatment]
    if not np.all((col == 0) | (col == 1)):
        raise ValueError("the treatment column must hold 0 (control) or 1 (treated) only")
    check_choice(ties, "ties", ("efron", "breslow"))
    if fit is None:  # one data set keeps the unbatched shapes of fit_cox
        fit = fit_cox(t[0] if single else t, d[0] if single else d, X[0] if single else X, ties=ties,
                      engine=engine, max_iter=max_iter, tol=tol)
    R, n, p = X.shape
    beta = np.asarray(fit.coef, float).reshape(R, p)
    V = np.asarray(fit.cov, float).reshape(R, p, p)
    usable = np.asarray(fit.usable(treatment)).reshape(R)
    ok = usable & np.all(np.isfinite(beta), axis=1) & np.all(np.isfinite(V), axis=(1, 2))
    b = np.where(ok[:, None], beta, 0.0)
    Vs = np.where(ok[:, None, None], V, 0.0)
    T = _terms(t, d, X, b, ties == "efron")
    # score residuals -> influence of beta (R dfbeta), sorted rows
    Ib = np.einsum("rnp,rpq->rnq", _score_residuals_sorted(T), Vs)
    # baseline cumulative hazard at tau (at eta = shift) and its influence values
    before = (T.t <= tau) & (T.d > 0)
    h = np.where(before, 1.0 / T.den, 0.0)
    lam = h.sum(axis=1)
    hm = h[..., None] * T.m
    h2 = np.where(before, 1.0 / T.den ** 2, 0.0)
    death = T.d * (T.t <= tau) * _group_sum(h, T) / np.maximum(T.ndeath, 1.0)
    comp = T.w * (_upto(h2, T) - T.d * _group_sum(T.c * h2, T))
    IL = death - comp - np.einsum("rp,rnp->rn", hm.sum(axis=1), Ib)
    # G-computation over the sample, treatment set to 1 and to 0
    eta_s = np.einsum("rnp,rp->rn", T.X, b)
    shift = np.max(eta_s, axis=1, keepdims=True)
    surv = np.empty((R, 2))
    iid = np.empty((R, n, 2))
    for k, a in enumerate((1.0, 0.0)):
        Xa = T.X.copy()
        Xa[..., treatment] = a
        ea = np.exp(np.einsum("rnp,rp->rn", Xa, b) - shift)
        with np.errstate(over="ignore", invalid="ignore"):
            S = np.exp(-lam[:, None] * ea)
        th = S.mean(axis=1)
        gL = (S * ea).mean(axis=1)
        gb = lam[:, None] * np.einsum("rn,rnp->rp", S * ea, Xa) / n
        surv[:, k] = th
        iid[..., k] = (S - th[:, None]) / n - gL[:, None] * IL - np.einsum("rnp,rp->rn", Ib, gb)
    iid = np.stack([_unsort(iid[..., k], T.order) for k in range(2)], axis=-1)
    ok = ok & np.all(np.isfinite(surv), axis=1) & np.all(np.isfinite(iid), axis=(1, 2))
    surv = np.where(ok[:, None], surv, np.nan)
    iid = np.where(ok[:, None, None], iid, np.nan)
    base = np.where(ok, lam * np.exp(-shift[:, 0]), np.nan)
    if single:
        return StandardizedSurvival(float(tau), surv[0], iid[0], bool(ok[0]), float(base[0]), fit)
    return StandardizedSurvival(float(tau), surv, iid, ok, base, fit)
