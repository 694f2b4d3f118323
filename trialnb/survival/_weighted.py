"""Internals of the survival engine (not public API): the partial likelihood with a weighted
risk set at each event time, Breslow ties, one data set.

Rows r = 1..N carry covariates x_r; the distinct event times u_1 < ... < u_m carry two (m, N)
matrices: ``D[j, r]`` the (weighted) event count of row r at u_j and ``W[j, r]`` the weight of
row r in the risk set at u_j (0 when not at risk). Then, with S_k(u_j) = sum_r W[j, r] e^{x_r b}
x_r^(k) and d_j = sum_r D[j, r],

    loglik(b) = sum_j [sum_r D[j, r] x_r b - d_j log S_0(u_j)],
    U(b)      = sum_j [sum_r D[j, r] x_r - d_j xbar_j],   xbar_j = S_1 / S_0,
    I(b)      = sum_j d_j [S_2 / S_0 - xbar_j xbar_j'].

Two models are this likelihood: the Fine-Gray model (a patient with a competing event stays at
risk with the weight G(u-)/G(T-); Fine & Gray 1999) and the Cox model with case weights that may
change over time ((start, stop] rows, inverse probability of censoring weights; R ``coxph`` with
``weights``, ``ties = "breslow"``). The score residual of row r (its term of U, the dfbeta
numerator of R ``residuals.coxph``) is

    U_r = sum_j D[j, r] (x_r - xbar_j) - sum_j W[j, r] e^{x_r b} (x_r - xbar_j) d_j / S_0(u_j).

The matrices are dense: m x N numbers, fine for one trial (hundreds of rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WeightedFit", "newton", "score_residuals", "values"]


@dataclass(frozen=True)
class WeightedFit:
    """The estimate, the information at it, the log-likelihood at it and at 0, convergence."""

    beta: np.ndarray
    info: np.ndarray
    loglik: float
    loglik_null: float
    converged: bool
    iterations: int


def values(X: np.ndarray, W: np.ndarray, D: np.ndarray, beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood, score and information at ``beta`` (module docstring)."""
    eta = X @ beta
    shift = float(eta.max()) if eta.size else 0.0
    r = np.exp(eta - shift)
    S0 = W @ r
    S1 = W @ (r[:, None] * X)
    d = D.sum(axis=1)
    p = X.shape[1]
    # sum_j d_j S_2(u_j) / S_0(u_j) without forming S_2 per time: X' diag(r * W'(d / S0)) X
    a = r * (W.T @ (d / S0))
    xbar = S1 / S0[:, None]
    ll = float(np.sum(D @ eta) - np.sum(d * (np.log(S0) + shift)))
    score = (D @ X).sum(axis=0) - (d[:, None] * xbar).sum(axis=0)
    info = (X * a[:, None]).T @ X - (xbar * d[:, None]).T @ xbar
    return ll, score, info.reshape(p, p)


def newton(X: np.ndarray, W: np.ndarray, D: np.ndarray, *, max_iter: int = 50, tol: float = 1e-10) -> WeightedFit:
    """Newton-Raphson from 0 with step halving when the log-likelihood decreases; converged when
    |1 - loglik_old / loglik_new| <= ``tol`` after a Newton step (R ``coxph.fit``'s rule)."""
    p = X.shape[1]
    beta = np.zeros(p)
    ll0, u, info = values(X, W, D, beta)
    ll = ll0
    it, converged = 0, False
    while it < max_iter:
        it += 1
        step = np.linalg.solve(info, u)
        new = beta + step
        ll_new, u_new, info_new = values(X, W, D, new)
        halve = 0
        while not (np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll)) and halve < 30:
            halve += 1
            step = step / 2
            new = beta + step
            ll_new, u_new, info_new = values(X, W, D, new)
        done = abs(1.0 - ll / ll_new) <= tol if ll_new != 0 else abs(ll - ll_new) <= tol
        beta, ll, u, info = new, ll_new, u_new, info_new
        if done:
            converged = True
            break
    return WeightedFit(beta, info, ll, ll0, converged, it)


def score_residuals(X: np.ndarray, W: np.ndarray, D: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """U_r of every row (N, p) at ``beta`` (module docstring); they sum to the score."""
    r = np.exp(X @ beta - float((X @ beta).max()))
    S0 = W @ r
    xbar = (W @ (r[:, None] * X)) / S0[:, None]
    d = D.sum(axis=1)
    # sum_j D[j, r] (x_r - xbar_j) and r_r sum_j W[j, r] (d_j / S0_j) (x_r - xbar_j), by matrix products
    events = X * D.sum(axis=0)[:, None] - D.T @ xbar
    h = d / S0
    risk = r[:, None] * (X * (W.T @ h)[:, None] - W.T @ (h[:, None] * xbar))
    return events - risk
