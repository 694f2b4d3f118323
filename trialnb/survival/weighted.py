"""Weighted survival estimates in the survival engine: inverse probability of censoring
weighting (IPCW) for a hypothetical strategy.

A patient's follow-up is (entry, time] rows with case weights that may change over time (one
row per interval of constant weight), grouped by patient (``cluster``):

* :func:`weighted_kaplan_meier` -- the product-limit estimate with weighted numbers at risk and
  events, S(t) = prod_{u_j <= t} (1 - d^w_j / n^w_j), and its robust (infinitesimal jackknife)
  standard error sqrt(sum_c (sum_{r in c} w_r dS(t)/dw_r)^2) with
  dS(t)/dw_r = S(t) sum_{u_j <= t} (d^w_j Y_r(u_j) - n^w_j dN_r(u_j)) / (n^w_j (n^w_j - d^w_j)):
  equal to R ``survfit(Surv(entry, time, event) ~ 1, weights =, id =, robust = TRUE)``.
* :func:`weighted_cox` -- the Cox model with such weights (Breslow ties) and the robust
  sandwich variance I^-1 (sum_c U_c U_c') I^-1 of the patients' summed score residuals: equal
  to R ``coxph(..., weights =, cluster =, ties = "breslow")``.
* :func:`censoring_weights` -- the weights themselves: patients are censored artificially at an
  intercurrent event (e.g. surgery in the arm allocated to no surgery), and each patient still
  uncensored at u gets w_i(u) = K(u-) / K(u- | z_i), K(t | z) = prod_{s_k <= t} (1 - h_k(z)) the
  probability of remaining free of the intercurrent event given baseline covariates z, with
  h_k(z) = expit(a_k + z'g) its probability at each of its distinct times s_k among the patients
  still at risk (Cox's discrete logistic model, the pooled logistic regression of IPCW; with one
  time it is a logistic regression), stabilized by the Kaplan-Meier K(u-) of the event (Robins &
  Finkelstein 2000; Cole & Hernan 2008).

The robust variances treat the weights as known; with estimated weights they are usually
conservative (Robins & Finkelstein 2000). The assumption that makes IPCW recover the
hypothetical estimand: no unmeasured confounding of the intercurrent event given z (every
common cause of the event and of survival is in z), and a positive probability of remaining
free of it for every z (positivity).

References
----------
* Robins JM, Finkelstein DM. Correcting for noncompliance and dependent censoring in an AIDS
  clinical trial with inverse probability of censoring weighted (IPCW) log-rank tests.
  Biometrics 2000;56:779-788.
* Cole SR, Hernan MA. Constructing inverse probability weights for marginal structural models.
  Am J Epidemiol 2008;168:656-664.
* Xie J, Liu C. Adjusted Kaplan-Meier estimator and log-rank test with inverse probability of
  treatment weighting for survival data. Stat Med 2005;24:3089-3110.
* Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, section 7.2 (robust
  variance, clustered score residuals).
* Cox DR. Regression models and life-tables. JRSS B 1972;34:187-220, section 6 (the discrete
  logistic model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import OutsideDataError, SurvivalDataError
from ..results import Result
from . import _weighted
from .cox import CoxResult

__all__ = ["CensoringWeights", "WeightedKaplanMeier", "censoring_weights", "survival_influence", "weighted_cox",
           "weighted_kaplan_meier"]


def _rows(time: Any, event: Any, weights: Any, entry: Any, cluster: Any) -> tuple[np.ndarray, ...]:
    t = np.asarray(time, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise SurvivalDataError("time must be finite months >= 0, shape (n,)")
    e = np.asarray(event)
    if e.shape != t.shape or e.dtype.kind == "b" or not np.all(np.isin(e, (0, 1))):
        raise SurvivalDataError("event must be 0/1 integers of the shape of time")
    w = np.asarray(weights, dtype=float)
    if w.shape != t.shape or not np.all(np.isfinite(w)) or np.any(w < 0):
        raise SurvivalDataError("weights must be finite numbers >= 0 of the shape of time")
    en = np.zeros_like(t) if entry is None else np.asarray(entry, dtype=float)
    if en.shape != t.shape or not np.all(np.isfinite(en)) or np.any(en >= t):
        raise SurvivalDataError("entry must be finite and < time in every row: (entry, time] is the interval at risk")
    cl = np.arange(t.size) if cluster is None else np.asarray(cluster)
    if cl.shape != t.shape:
        raise SurvivalDataError("cluster must give one label per row")
    return t, e.astype(float), w, en, np.unique(cl, return_inverse=True)[1]


def _matrices(t: np.ndarray, e: np.ndarray, w: np.ndarray, en: np.ndarray) -> tuple[np.ndarray, ...]:
    """Event times u_j, the weighted event matrix D and the weighted risk matrix W (m, N)."""
    u = np.unique(t[(e > 0) & (w > 0)])
    at_risk = (en[None, :] < u[:, None]) & (t[None, :] >= u[:, None])
    W = np.where(at_risk, w[None, :], 0.0)
    D = np.where((t[None, :] == u[:, None]) & (e[None, :] > 0), w[None, :], 0.0)
    return u, D, W


@dataclass(frozen=True)
class WeightedKaplanMeier(Result):
    """Weighted product-limit estimate at each distinct event time: ``time``, weighted ``at_risk``
    and ``events``, ``survival`` and its robust ``se`` (module docstring); ``last_time`` is the
    last follow-up time (the estimate is not defined beyond it unless it has reached 0)."""

    time: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    survival: np.ndarray
    se: np.ndarray
    last_time: float

    def at(self, t: float) -> tuple[float, float]:
        """(S(t), robust SE); 1 and 0 before the first event; refuses a time beyond the last
        follow-up unless the curve has reached 0."""
        if t > self.last_time and not (self.survival.size and self.survival[-1] == 0):
            raise OutsideDataError(f"t = {t:g} is beyond the last follow-up time ({self.last_time:g}): the "
                                   f"weighted Kaplan-Meier curve is not defined there")
        k = int(np.searchsorted(self.time, t, side="right")) - 1
        return (1.0, 0.0) if k < 0 else (float(self.survival[k]), float(self.se[k]))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"time": self.time, "at_risk": self.at_risk, "events": self.events,
                             "survival": self.survival, "se": self.se})

    def summary(self) -> str:
        from ..report import fmt_num

        return (f"Weighted Kaplan-Meier estimate at {len(self.time)} event times (weighted events "
                f"{fmt_num(float(self.events.sum()), 1)}), robust standard errors")


def _km_influence(t: np.ndarray, e: np.ndarray, w: np.ndarray, en: np.ndarray, cl: np.ndarray) -> tuple:
    """Event times, weighted n and d, S at each, and the influence (m, clusters): the sum over a
    cluster's rows of w_r dS(u_j)/dw_r (module docstring)."""
    u, D, W = _matrices(t, e, w, en)
    n, d = W.sum(axis=1), D.sum(axis=1)
    S = np.cumprod(1.0 - d / n)
    # dlog S(u_j) / dw_r per event time, then the running sum over u_j <= t
    with np.errstate(divide="ignore", invalid="ignore"):
        dlog = np.where((n > d)[:, None], ((W > 0) * d[:, None] - n[:, None] * (D > 0)) / (n * (n - d))[:, None], 0.0)
    infl = np.cumsum(dlog, axis=0) * S[:, None] * w[None, :]        # (m, N): w_r dS(u_j)/dw_r
    per = np.zeros((u.size, int(cl.max()) + 1))
    np.add.at(per.T, cl, infl.T)
    return u, n, d, S, per


def weighted_kaplan_meier(time: Any, event: Any, weights: Any, *, entry: Any = None,
                          cluster: Any = None) -> WeightedKaplanMeier:
    """Weighted Kaplan-Meier estimate of one sample of (``entry``, ``time``] rows with case
    ``weights`` and its robust standard error, rows grouped by ``cluster`` (the patient; each
    row its own cluster when None). Equal to R ``survfit`` with ``weights``, ``id`` and
    ``robust = TRUE`` (module docstring)."""
    t, e, w, en, cl = _rows(time, event, weights, entry, cluster)
    u, n, d, S, per = _km_influence(t, e, w, en, cl)
    return WeightedKaplanMeier(u, n, d, S, np.sqrt(np.sum(per * per, axis=1)), float(t.max()))


def survival_influence(time: Any, event: Any, t: float, *, weights: Any = None, entry: Any = None,
                       cluster: Any = None) -> tuple[float, np.ndarray]:
    """The (weighted) Kaplan-Meier S(``t``) and each cluster's influence on it (the infinitesimal
    jackknife terms, clusters in the order of their sorted labels; without weights and clusters,
    one per row): their sum of squares is the robust variance of :func:`weighted_kaplan_meier`
    (close to Greenwood's without weights), and they combine with other estimates' influences
    into a delta-method variance (e.g. an instrumental-variable ratio)."""
    tt = np.asarray(time, dtype=float)
    w_ = np.ones(tt.shape) if weights is None else weights
    tv, e, w, en, cl = _rows(time, event, w_, entry, cluster)
    if t > tv.max():
        raise OutsideDataError(f"t = {t:g} is beyond the last follow-up time ({tv.max():g})")
    u, n, d, S, per = _km_influence(tv, e, w, en, cl)
    k = int(np.searchsorted(u, t, side="right")) - 1
    if k < 0:
        return 1.0, np.zeros(per.shape[1])
    return float(S[k]), per[k]


def weighted_cox(time: Any, event: Any, covariates: Any, weights: Any, *, entry: Any = None, cluster: Any = None,
                 names: Sequence[str] | None = None, max_iter: int = 50, tol: float = 1e-10) -> CoxResult:
    """Cox model of (``entry``, ``time``] rows with case ``weights`` (Breslow ties) and the
    robust sandwich variance clustered by ``cluster`` (module docstring): a
    :class:`~trialnb.survival.CoxResult` whose ``se`` and ``cov`` are robust and whose ``events``
    is the weighted number of events. Equal to R ``coxph(Surv(entry, time, event) ~ x,
    weights = w, cluster = id, ties = "breslow")``."""
    t, e, w, en, cl = _rows(time, event, weights, entry, cluster)
    X = np.asarray(covariates, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[0] != t.size or not np.all(np.isfinite(X)):
        raise SurvivalDataError(f"covariates must be finite numbers of shape (n, p) = ({t.size}, p)")
    p = X.shape[1]
    names = tuple(f"x{j}" for j in range(p)) if names is None else tuple(names)
    if len(names) != p:
        raise SurvivalDataError(f"names must give one name per covariate ({p}), got {len(names)}")
    u, D, W = _matrices(t, e, w, en)
    fit = _weighted.newton(X, W, D, max_iter=max_iter, tol=tol)
    res = _weighted.score_residuals(X, W, D, fit.beta)
    per = np.zeros((int(cl.max()) + 1, p))
    np.add.at(per, cl, res)
    inv = np.linalg.inv(fit.info)
    cov = inv @ (per.T @ per) @ inv
    return CoxResult(fit.beta, np.sqrt(np.diag(cov)), cov, fit.loglik, fit.loglik_null, fit.converged,
                     fit.iterations, names, "breslow", int(t.size), float(D.sum()), np.zeros(p, bool))


@dataclass(frozen=True)
class CensoringWeights:
    """Follow-up split into rows of constant weight (module docstring): ``entry``, ``time``,
    ``event`` (the outcome, after the artificial censoring), ``weight`` and ``patient`` (the
    row's index into the input arrays), with the censoring model's ``coef`` (log odds ratios
    of the intercurrent event per covariate) and the number ``censored`` artificially."""

    entry: np.ndarray
    time: np.ndarray
    event: np.ndarray
    weight: np.ndarray
    patient: np.ndarray
    coef: np.ndarray
    censored: int


def _discrete_logistic(at_risk: np.ndarray, events: np.ndarray, Z: np.ndarray, max_iter: int = 100,
                       tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Cox's (1972) discrete logistic model of the intercurrent event: at each of its distinct
    times s_k, a patient at risk has it with probability expit(a_k + z'g); maximum likelihood
    by Newton-Raphson (the pooled logistic regression with one intercept per time), stopped when
    the log-likelihood no longer changes (relative ``tol``). A covariate level with no event
    drives its coefficient towards -infinity (its probability to 0, its weights to 1: a limit,
    not a failure); the iterations stop there. ``at_risk`` and ``events`` are (K, n) 0/1."""
    K, n = at_risk.shape
    q = Z.shape[1]
    rows_k, rows_i = np.nonzero(at_risk)
    y = events[rows_k, rows_i].astype(float)
    X = np.zeros((rows_k.size, K + q))
    X[np.arange(rows_k.size), rows_k] = 1.0
    X[:, K:] = Z[rows_i]
    beta = np.zeros(K + q)
    # start each intercept at its time's observed log odds
    frac = np.clip(events.sum(axis=1) / at_risk.sum(axis=1), 1e-6, 1 - 1e-6)
    beta[:K] = np.log(frac / (1 - frac))

    def loglik(b: np.ndarray) -> float:
        eta = X @ b
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)))

    ll = loglik(beta)
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-(X @ beta)))
        grad = X.T @ (y - mu)
        H = (X * (mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.lstsq(H, grad, rcond=None)[0]
        new = np.clip(beta + step, -40.0, 40.0)
        ll_new = loglik(new)
        halve = 0
        while ll_new < ll - 1e-12 * abs(ll) and halve < 30:
            halve += 1
            step = step / 2
            new = np.clip(beta + step, -40.0, 40.0)
            ll_new = loglik(new)
        done = abs(ll_new - ll) <= tol * max(abs(ll), 1.0)
        beta, ll = new, ll_new
        if done:
            break
    return beta[:K], beta[K:]


def censoring_weights(time: Any, event: Any, censor_time: Any, covariates: Any, *,
                      stabilized: bool = True) -> CensoringWeights:
    """Inverse probability of censoring weights for an artificial censoring at ``censor_time``
    (NaN or inf: never), the module docstring's model. ``time`` and ``event`` are the observed
    outcome (months, 0/1); a patient whose ``censor_time`` comes before the end of follow-up is
    censored there (a death at that very month is kept: the event cannot have changed it).
    ``covariates`` (n, q) are the baseline predictors of the intercurrent event (q >= 1).
    Each patient's follow-up is split at the distinct censoring times into rows with weight
    K(a) / K(a | z) (``stabilized``) or 1 / K(a | z) on (a, b] (K right-continuous: the
    weight at u in (a, b] uses K(u-) = K(a))."""
    t = np.asarray(time, dtype=float)
    n = t.size
    e = np.asarray(event)
    if t.ndim != 1 or e.shape != t.shape or not np.all(np.isin(e, (0, 1))) or e.dtype.kind == "b":
        raise SurvivalDataError("time (months) and event (0/1 integers) must be arrays of one shape (n,)")
    c = np.asarray(censor_time, dtype=float)
    if c.shape != t.shape:
        raise SurvivalDataError("censor_time must have the shape of time (NaN or inf where never)")
    Z = np.asarray(covariates, dtype=float)
    if Z.ndim == 1:
        Z = Z[:, None]
    if Z.shape[0] != n or not np.all(np.isfinite(Z)):
        raise SurvivalDataError(f"covariates must be finite numbers of shape ({n}, q)")
    cens = np.isfinite(c) & (c < t)
    c_obs = np.where(cens, c, t)  # time to the intercurrent event, censored at the end of follow-up
    jumps = np.unique(c[cens])
    if jumps.size == 0:  # no intercurrent event: every weight 1
        return CensoringWeights(np.zeros(n), t, e.astype(int), np.ones(n), np.arange(n), np.zeros(Z.shape[1]), 0)
    at_risk = c_obs[None, :] >= jumps[:, None]
    happened = cens[None, :] & (c[None, :] == jumps[:, None])
    # the covariates without constant columns (a factor level absent from the sample)
    used = np.ptp(Z[at_risk.any(axis=0)], axis=0) > 0 if at_risk.any() else np.zeros(Z.shape[1], bool)
    a, g_used = _discrete_logistic(at_risk, happened, Z[:, used])
    g = np.zeros(Z.shape[1])
    g[used] = g_used
    h = 1.0 / (1.0 + np.exp(-(a[:, None] + (Z @ g)[None, :])))       # (jumps, n) hazard of the event
    if np.any(at_risk & (h > 1.0 - 1e-9)):
        raise SurvivalDataError("the model of the intercurrent event gives a patient at risk a probability 1 of "
                                "having it (every patient of some covariate pattern had it: positivity fails); "
                                "the weights would be infinite")
    K_z = np.cumprod(1.0 - h, axis=0)
    K = np.cumprod(1.0 - happened.sum(axis=1) / at_risk.sum(axis=1))   # Kaplan-Meier of the event
    end = np.where(cens, c, t)
    rows_entry, rows_time, rows_event, rows_weight, rows_pat = [], [], [], [], []
    for i in range(n):
        cuts = jumps[jumps < end[i]]
        starts = np.concatenate([[0.0], cuts])
        stops = np.concatenate([cuts, [end[i]]])
        k = np.arange(starts.size) - 1  # index of the last jump <= start (-1: before the first)
        with np.errstate(divide="ignore"):
            wz = np.where(k >= 0, 1.0 / K_z[np.clip(k, 0, None), i], 1.0)
        w = wz * np.where(k >= 0, K[np.clip(k, 0, None)], 1.0) if stabilized else wz
        ev = np.zeros(starts.size, int)
        ev[-1] = int(e[i] == 1 and not cens[i])
        keep = stops > starts
        rows_entry.append(starts[keep])
        rows_time.append(stops[keep])
        rows_event.append(ev[keep])
        rows_weight.append(w[keep])
        rows_pat.append(np.full(int(keep.sum()), i))
    return CensoringWeights(np.concatenate(rows_entry), np.concatenate(rows_time), np.concatenate(rows_event),
                            np.concatenate(rows_weight), np.concatenate(rows_pat), g, int(cens.sum()))
