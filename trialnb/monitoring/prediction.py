"""When is the next look? Predicting the calendar month of a target number of deaths.

:func:`predict_deaths` takes the trial as known at an interim data cut-off and predicts, by
simulation, the calendar month when ``target_deaths`` **primary-endpoint deaths** (deaths within
``censor_months``, 24 by default, of randomization) will have been observed, with a median and a
prediction interval, and the number of patients randomized by then. This is what R
``eventPred`` (Lu 2024; Ying & Heitjan 2008) and nQuery Predict do.

The prediction is **blinded**: the ``arm`` column is never read, every model is pooled over
the arms. The DMC's open report may quote it, and it cannot reveal the treatment effect (an
arm-specific prediction would, through the gap between the arms' fitted hazards). A pooled
model of two arms with different hazards has a hazard that falls over time (the high-risk arm
is depleted first); the Weibull and piecewise candidates can follow that.

What is known at the cut-off (the data)
---------------------------------------
One row per patient randomized by the cut-off: ``entry_month`` (calendar month of
randomization), ``os_months`` (follow-up from randomization to death, loss or the cut-off,
whichever came first) and ``death`` (0/1). A patient censored more than the data's precision
(:data:`PRECISION`, 0.01 month) before ``cutoff - entry`` was lost to follow-up; nothing else
is used (no ``lost_to_follow_up`` flag: at an interim such a flag is a final value without a
date). Follow-up is used up to ``censor_months`` only: a later death is not a primary-endpoint
death, and what happens after ``censor_months`` never changes the count, so the death and
drop-out models are fitted to the follow-up truncated at ``censor_months``.

The models
----------
* **Enrollment**: a non-homogeneous Poisson process from ``accrual_start`` (month 0, the
  trial's opening), stopped at ``n_planned`` patients. Candidates: homogeneous (rate
  ``lambda``); power law (Crow 1974), cumulative intensity ``c (s / T) ** b`` (``b > 1``
  accelerating, ``b < 1`` slowing; ``s`` months since ``accrual_start``, ``T`` the cut-off);
  time-decay ramp-up (Zhang & Long 2010), intensity ``rho (1 - exp(-delta s))``, a rate rising
  to a plateau ``rho``. An arrival at ``accrual_start`` itself is taken at half the precision
  after it (the intensity of the last two models is 0 or infinite there).
* **Time to death** (pooled over arms, on ``[0, censor_months]``): exponential, Weibull
  (cumulative hazard ``(t / scale) ** shape``), and piecewise exponential with the knots
  ``death_knots`` (default 6 and 12 months; knots past the longest follow-up are dropped).
* **Drop-out**: exponential (rate = losses / follow-up), independent of death.

Each is fitted by maximum likelihood (right-censored data for death and drop-out).

How the models are chosen: averaged by AIC weight
-------------------------------------------------
By default (``enrollment_model="average"``, ``death_model="average"``) every fitted candidate
is used, each simulation drawing its model with probability equal to its **Akaike weight**
``w_m = exp(-dAIC_m / 2) / sum_j exp(-dAIC_j / 2)`` (Buckland, Burnham & Augustin 1997;
Burnham & Anderson 2002, sec. 4.3). AIC estimates the expected out-of-sample Kullback-Leibler
loss (Akaike 1974), which is what a prediction is judged by, and averaging carries the
uncertainty of the choice into the interval. ``"best"`` uses only the model with the smallest
criterion, as eventPred does after its model comparison; a model's name fixes that model;
``criterion="bic"`` uses BIC (Schwarz 1978) instead of AIC, with the number of deaths
(arrivals) as the sample size (Volinsky & Raftery 2000).

Why averaging is the default: on 400 replicate synthetic trials whose truth is known (Poisson
enrollment, deaths with a hazard ratio of 0.5 between the arms and Weibull shape 1, 0.7 or
1.3, 10% drop-out by 2 years), the 80% interval of the averaged models contained the true month
in 84.3-85.3% of trials cut at month 12 (about 10 deaths), 81.5-82.8% at month 20 and
79.5-81.0% at month 30; the single AIC-best models in 59.4-79.5%, 73.0-78.4% and 75.2-80.5%
(the lowest with rising hazards: a flexible model picked by chance is extrapolated from 12 to
24 months of follow-up, with an interval too narrow for its uncertainty).
``benchmarks/bench_prediction_coverage.py`` prints this table (Monte-Carlo SE 0.02);
``tests/test_prediction_coverage.py`` holds the default's coverage.

Parameter uncertainty
---------------------
Every simulation draws its own parameters, then its own future:

* rates with a closed-form likelihood (homogeneous enrollment, exponential and piecewise
  exponential death, drop-out): from the posterior under the Jeffreys prior
  ``lambda ** -1/2`` of a Poisson rate, Gamma(events + 1/2, rate = exposure), by inversion of
  its CDF (proper with no drop-out yet; its mean is the MLE up to the 1/2);
* the other models' parameters: from the normal approximation to the sampling distribution of
  the MLE on the log scale, mean the MLE and covariance the inverse observed information
  (closed form for the Weibull and the power law, central differences for the time-decay
  model).

Then a patient alive, not lost and followed ``u < censor_months`` at the cut-off gets a death
time drawn **conditionally on survival to u** (by inversion, ``H(T) = H(u) + E``,
``E ~ Exp(1)``) and a drop-out time ``u + E' / gamma``; a new patient gets an entry month from
the enrollment model (``Lambda(t_j) = Lambda(cutoff) + Gamma_j``, ``Gamma_j`` the sums of
Exp(1) gaps) and unconditional times. A death is a primary-endpoint death if it comes within
``censor_months`` and before drop-out; its calendar month is ``entry + T``. The month of the
``target_deaths``-th death of a simulation is the ``(target - observed)``-th smallest of these;
it is infinite when the trial, followed to the end, never reaches the target. Everything is
vectorised over simulations and patients (no Python loop over either).

Each component draws from its own stream (``numpy.random.SeedSequence(seed).spawn``), and the
exponential draws of patient ``j`` are column ``j`` whatever the number of columns, so runs
with the same seed share their random numbers (common random numbers): the simulated month of
each simulation cannot decrease with a larger target, and cannot increase with one more
observed death (for a fixed death model) or a larger ``n_planned`` (held by property tests).

References: Ying GS, Heitjan DF, Chen TT (2004) *Clin Trials* 1:352-361; Ying GS, Heitjan DF
(2008) *Stat Med* 27:2231-2244; Zhang X, Long Q (2010) *Stat Med* 29:2287-2298; Crow LH (1974)
Reliability analysis for complex, repairable systems, in *Reliability and Biometry*, SIAM,
379-410; Lu K (2024) eventPred R package; Akaike H (1974) *IEEE Trans Autom Control*
19:716-723; Schwarz G (1978) *Ann Stat* 6:461-464; Buckland ST, Burnham KP, Augustin NH (1997)
*Biometrics* 53:603-618; Burnham KP, Anderson DR (2002) *Model Selection and Multimodel
Inference*, 2nd ed., Springer; Volinsky CT, Raftery AE (2000) *Biometrics* 56:256-262.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..errors import DesignError
from ..plan import PLAN
from ..report import fmt_n, fmt_num, fmt_pct
from ..results import Result
from ..validation import check_choice, check_int, check_probability, check_real, check_seed

__all__ = [
    "CRITERIA",
    "DEATH_MODELS",
    "ENROLLMENT_MODELS",
    "PRECISION",
    "DeathPrediction",
    "ModelFit",
    "fit_death_models",
    "fit_dropout",
    "fit_enrollment_models",
    "model_weights",
    "predict_deaths",
]

PRECISION = 0.01
"""The data's precision in months: a censored follow-up that ends more than this before the
cut-off was lost to follow-up; follow-up may pass the cut-off by at most this (rounding)."""

ENROLLMENT_MODELS = ("average", "best", "poisson", "power", "time_decay")
DEATH_MODELS = ("average", "best", "exponential", "weibull", "piecewise_exponential")
CRITERIA = ("aic", "bic")

_DEFAULT_N = PLAN.design.n_patients
_DEFAULT_CENSOR = PLAN.milestone_months
_LOG_SHAPE = (-5.0, 5.0)  # Weibull shape searched in [e^-5, e^5] = [0.0067, 148]
_LABELS = {"poisson": "Poisson", "power": "power law", "time_decay": "time-decay", "exponential": "exponential",
           "weibull": "Weibull", "piecewise_exponential": "piecewise exponential"}
_STREAMS = ("enrollment_model", "enrollment_parameters", "arrivals", "death_model", "death_parameters",
            "death_times", "dropout_parameters", "dropout_times")


# ---------------------------------------------------------------------------------------
# fitted models


@dataclass(frozen=True)
class ModelFit:
    """A model fitted by maximum likelihood to one component (enrollment, death, drop-out).

    ``parameters`` are on the natural scale (rates per month, shape, scale). Draws for the
    simulations come from ``counts``/``exposures`` (Gamma posterior of each rate, see the
    module docstring) or from ``log_mean``/``log_cov`` (normal approximation on the log
    scale). ``knots`` are the piecewise model's cut points (months after randomization) or the
    enrollment span ``(T,)`` of the power law. ``n_observations`` is BIC's sample size
    (deaths, losses or arrivals)."""

    component: str
    model: str
    parameters: dict[str, float]
    log_likelihood: float
    n_parameters: int
    n_observations: int
    counts: tuple[float, ...] = ()
    exposures: tuple[float, ...] = ()
    log_mean: tuple[float, ...] = ()
    log_cov: tuple[tuple[float, ...], ...] = ()
    knots: tuple[float, ...] = ()

    @property
    def aic(self) -> float:
        """Akaike's criterion, ``2 p - 2 log L``."""
        return 2.0 * self.n_parameters - 2.0 * self.log_likelihood

    @property
    def bic(self) -> float:
        """Schwarz's criterion, ``p log(n) - 2 log L`` with ``n = n_observations``."""
        return self.n_parameters * math.log(max(self.n_observations, 1)) - 2.0 * self.log_likelihood

    def describe(self) -> str:
        """The model and its estimates in words, e.g. ``Weibull, shape 0.85, scale 61.2 months``."""
        p = self.parameters
        if self.model == "poisson":
            return f"Poisson, {fmt_num(p['rate'], 2)} patients a month"
        if self.model == "power":
            return (f"power law, shape {fmt_num(p['shape'], 2)}, {fmt_num(p['rate_at_cutoff'], 2)} patients a "
                    "month at the cut-off")
        if self.model == "time_decay":
            return (f"time-decay ramp-up, plateau {fmt_num(p['plateau_rate'], 2)} patients a month, "
                    f"ramp time scale {fmt_num(1.0 / p['delta'], 1)} months")
        if self.model == "exponential":
            return f"exponential, hazard {fmt_num(p['hazard'], 4)} a month"
        if self.model == "weibull":
            return f"Weibull, shape {fmt_num(p['shape'], 2)}, scale {fmt_num(p['scale'], 1)} months"
        edges = (0.0,) + self.knots
        pieces = ", ".join(f"{fmt_num(p[f'hazard_{j + 1}'], 4)} from month {edges[j]:g}" for j in range(len(edges)))
        return f"piecewise exponential, hazards {pieces}"

    def draw(self, n_sims: int, gen: np.random.Generator, rows: np.ndarray | None = None) -> np.ndarray:
        """``n_sims`` parameter draws, shape ``(n_sims, n_parameters)``: rates for a Gamma model
        (by inversion of the Gamma CDF, so a larger count gives larger draws from the same
        uniforms), log parameters for a normal model. With ``rows`` (a boolean mask over the
        simulations) only those draws are returned; ``gen`` advances by ``n_sims`` draws either way."""
        if self.counts:
            u = gen.random((len(self.counts), n_sims)).T
            u = u if rows is None else u[rows]
            return special.gammaincinv(np.asarray(self.counts) + 0.5, u) / np.asarray(self.exposures)
        z = gen.standard_normal((len(self.log_mean), n_sims)).T
        z = z if rows is None else z[rows]
        return np.asarray(self.log_mean) + z @ np.linalg.cholesky(np.asarray(self.log_cov)).T


def _gamma_fit(component: str, model: str, names: Sequence[str], counts: np.ndarray, exposures: np.ndarray,
               n_obs: int, knots: tuple[float, ...] = ()) -> ModelFit:
    """A model whose log-likelihood is ``sum_j D_j log(l_j) - l_j E_j`` (Poisson rates)."""
    rates = np.divide(counts, exposures, out=np.zeros_like(counts, dtype=float), where=exposures > 0)
    ll = float(np.sum(np.where(counts > 0, counts * np.log(np.where(rates > 0, rates, 1.0)), 0.0) - counts))
    return ModelFit(component, model, {n: float(r) for n, r in zip(names, rates, strict=True)}, ll, len(names), n_obs,
                    counts=tuple(map(float, counts)), exposures=tuple(map(float, exposures)), knots=knots)


def _normal_fit(component: str, model: str, params: dict[str, float], ll: float, n_obs: int,
                mean: Sequence[float] | np.ndarray, cov: np.ndarray, knots: tuple[float, ...] = ()) -> ModelFit:
    return ModelFit(component, model, params, float(ll), len(mean), n_obs, log_mean=tuple(map(float, mean)),
                    log_cov=tuple(tuple(map(float, r)) for r in np.asarray(cov)), knots=knots)


def fit_death_models(time: np.ndarray, death: np.ndarray, *,
                     knots: Sequence[float] = (6.0, 12.0)) -> list[ModelFit]:
    """Exponential, piecewise exponential and Weibull fits to right-censored times (already
    truncated at the endpoint's horizon): those that can be fitted, in that order.

    * exponential: ``lambda = D / sum t``; ``log L = D log(lambda) - D``.
    * piecewise exponential: the same per piece, ``lambda_j = D_j / E_j`` (deaths and exposure
      in ``[c_j, c_j+1)``); knots at or past the longest follow-up are dropped (no exposure), and
      with no knot left the model is the exponential (not listed twice).
    * Weibull, ``H(t) = exp(a) t^k``: for fixed ``k``, ``exp(a) = D / sum t^k``; the profile score
      ``D/k + sum_deaths log t - D sum t^k log t / sum t^k`` decreases in ``k`` and is solved by
      Brent's method on log k; observed information in ``(a, log k)``:
      ``[[D, k e^a S1], [k e^a S1, D + k^2 e^a S2]]`` with ``Sm = sum t^k (log t)^m``. Needs two
      deaths at different times (otherwise the score has no root and the fit is not listed).

    Raises :class:`DesignError` when there is no death (no model can be fitted)."""
    t = np.asarray(time, dtype=float)
    d = np.asarray(death, dtype=bool)
    n_d = int(d.sum())
    if n_d == 0:
        raise DesignError("no death in the data: the death hazard cannot be estimated (the prediction "
                          "needs at least one primary-endpoint death by the cut-off)")
    fits = [_gamma_fit("death", "exponential", ["hazard"], np.array([n_d], float), np.array([t.sum()]), n_d)]
    cuts = tuple(float(c) for c in sorted(set(knots)) if 0 < c < t.max())
    if cuts:
        edges = np.array((0.0,) + cuts + (np.inf,))
        expo = np.clip(t[:, None] - edges[None, :-1], 0.0, (edges[1:] - edges[:-1])[None, :]).sum(axis=0)
        piece = np.searchsorted(edges, t[d], side="right") - 1
        cnt = np.bincount(piece, minlength=len(cuts) + 1).astype(float)
        names = [f"hazard_{j + 1}" for j in range(len(cuts) + 1)]
        fits.append(_gamma_fit("death", "piecewise_exponential", names, cnt, expo, n_d, knots=cuts))
    weibull = _fit_weibull(t, d)
    if weibull is not None:
        fits.append(weibull)
    return fits


def _fit_weibull(t: np.ndarray, d: np.ndarray) -> ModelFit | None:
    pos = t > 0  # a follow-up of 0 adds nothing (t^k = 0)
    tp, dp = t[pos], d[pos]
    n_d = int(dp.sum())
    if n_d < 2 or np.unique(tp[dp]).size < 2:
        return None
    lt = np.log(tp)
    sum_log_deaths = float(lt[dp].sum())
    shift = lt.max()  # sums of t^k scaled by t_max^-k: no overflow for large k

    def sums(k: float) -> tuple[float, float, float]:
        w = np.exp(k * (lt - shift))
        return float(w.sum()), float((w * lt).sum()), float((w * lt * lt).sum())

    def score(logk: float) -> float:
        k = math.exp(logk)
        s0, s1, _ = sums(k)
        return n_d / k + sum_log_deaths - n_d * s1 / s0

    lo, hi = _LOG_SHAPE
    if not score(lo) > 0 > score(hi):
        return None
    k = math.exp(optimize.brentq(score, lo, hi, xtol=1e-12, rtol=1e-12))
    s0, s1, s2 = sums(k)
    a = math.log(n_d / s0) - k * shift  # exp(a) = D / sum t^k (unscaled)
    ea_s1, ea_s2 = n_d * s1 / s0, n_d * s2 / s0  # exp(a) S1 and exp(a) S2: the scaling cancels
    info = np.array([[n_d, k * ea_s1], [k * ea_s1, n_d + k * k * ea_s2]])
    ll = n_d * a + n_d * math.log(k) + (k - 1.0) * sum_log_deaths - n_d
    return _normal_fit("death", "weibull", {"shape": k, "scale": math.exp(-a / k)}, ll, n_d,
                       (a, math.log(k)), np.linalg.inv(info))


def fit_dropout(time: np.ndarray, lost: np.ndarray) -> ModelFit:
    """Exponential drop-out: ``gamma = L / sum t`` (losses over follow-up; death and the cut-off
    censor drop-out); Gamma(L + 1/2, sum t) posterior, proper with no loss yet."""
    t = np.asarray(time, dtype=float)
    n_lost = int(np.asarray(lost, dtype=bool).sum())
    return _gamma_fit("drop-out", "exponential", ["hazard"], np.array([n_lost], float), np.array([t.sum()]),
                      n_lost)


def _decay_mean(delta: np.ndarray | float, s: np.ndarray | float) -> np.ndarray:
    """``s - (1 - exp(-delta s)) / delta``: the time-decay model's mean function over ``rho``."""
    return np.asarray(s) + np.expm1(-np.asarray(delta) * s) / delta


def fit_enrollment_models(entry: np.ndarray, cutoff: float, start: float = 0.0) -> list[ModelFit]:
    """Homogeneous Poisson, power-law and time-decay fits to the arrival months ``entry`` in
    ``[start, cutoff]``: those that can be fitted, in that order. ``s = entry - start`` (an
    arrival at ``start`` is taken at ``PRECISION / 2``), ``T = cutoff - start``, ``n`` arrivals.

    * Poisson: ``lambda = n / T``; ``log L = n log(lambda) - n``.
    * power law (Crow 1974), ``Lambda(s) = c (s / T)^b``: ``b = n / sum log(T / s_i)``, ``c = n``;
      ``log L = n log(n b / T) + (b - 1) sum log(s_i / T) - n``; observed information in
      ``(log c, log b)`` is ``diag(n, n)``. Needs an arrival before ``T``.
    * time-decay (Zhang & Long 2010), intensity ``rho (1 - exp(-delta s))``:
      ``log L = n log(rho) + sum log(1 - exp(-delta s_i)) - rho m(delta, T)`` with
      ``m = T - (1 - exp(-delta T)) / delta``; ``rho = n / m`` for fixed ``delta``, the profile
      maximised over log delta in ``[log(0.01 / T), log(1000 / T)]``; observed information by
      central differences. Not listed when the maximum is on the edge of that range (the
      Poisson model is the limit ``delta -> infinity``) or the information is not positive."""
    span = cutoff - start
    s = np.maximum(np.asarray(entry, dtype=float) - start, PRECISION / 2)
    n = s.size
    fits = [_gamma_fit("enrollment", "poisson", ["rate"], np.array([n], float), np.array([span]), n)]
    log_rel = np.log(s / span)
    if n >= 2 and np.any(log_rel < 0):
        b = n / float(-log_rel.sum())
        ll = n * math.log(n * b / span) + (b - 1.0) * float(log_rel.sum()) - n
        fits.append(_normal_fit("enrollment", "power", {"shape": b, "rate_at_cutoff": n * b / span}, ll, n,
                                (math.log(n), math.log(b)), np.eye(2) / n, knots=(span,)))
    if n < 2:
        return fits

    def loglik(log_rho: float, log_delta: float) -> float:
        rho, delta = math.exp(log_rho), math.exp(log_delta)
        return float(n * log_rho + np.log(-np.expm1(-delta * s)).sum() - rho * _decay_mean(delta, span))

    def neg_profile(log_delta: float) -> float:
        return -loglik(math.log(n / float(_decay_mean(math.exp(log_delta), span))), log_delta)

    lo, hi = math.log(0.01 / span), math.log(1000.0 / span)
    opt = optimize.minimize_scalar(neg_profile, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
    if not lo + 1e-3 < opt.x < hi - 1e-3:
        return fits
    x0 = np.array([math.log(n / float(_decay_mean(math.exp(opt.x), span))), float(opt.x)])
    h, eye = 1e-4, np.eye(2) * 1e-4
    hess = np.array([[(loglik(*(x0 + eye[i] + eye[j])) - loglik(*(x0 + eye[i] - eye[j]))
                       - loglik(*(x0 - eye[i] + eye[j])) + loglik(*(x0 - eye[i] - eye[j]))) / (4 * h * h)
                      for j in range(2)] for i in range(2)])
    if not np.all(np.linalg.eigvalsh(-hess) > 0):
        return fits
    params = {"plateau_rate": math.exp(x0[0]), "delta": math.exp(x0[1])}
    fits.append(_normal_fit("enrollment", "time_decay", params, loglik(*x0), n, x0, np.linalg.inv(-hess)))
    return fits


def model_weights(fits: Sequence[ModelFit], model: str = "average", criterion: str = "aic") -> np.ndarray:
    """The weight each fit gets in the simulations: Akaike (or BIC) weights
    ``exp(-d_m / 2) / sum exp(-d_j / 2)``, ``d`` the criterion minus its minimum, for
    ``"average"``; 1 for the smallest criterion (``"best"``) or the fit named ``model``."""
    ic = np.array([f.aic if criterion == "aic" else f.bic for f in fits])
    if model == "average":
        w = np.exp(-(ic - ic.min()) / 2.0)
        return w / w.sum()
    names = [f.model for f in fits]
    if model != "best" and model not in names:
        raise DesignError(f"the {fits[0].component} model {model!r} cannot be fitted to these data (fitted: "
                          f"{', '.join(names)}); choose one of those, 'best' or 'average'")
    pick = int(np.argmin(ic)) if model == "best" else names.index(model)
    return np.eye(len(fits))[pick]


# ---------------------------------------------------------------------------------------
# simulation of each component from drawn parameters


def _cumulative_hazard(fit: ModelFit, theta: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray],
                                                                      Callable[[np.ndarray], np.ndarray]]:
    """``H(t)`` and its inverse for each simulation's parameters ``theta`` (rows), applied to
    arrays of shape ``(rows, m)``."""
    if fit.model == "exponential":
        lam = theta[:, :1]
        return (lambda t: lam * t), (lambda y: y / lam)
    if fit.model == "weibull":
        ea, k = np.exp(theta[:, :1]), np.exp(theta[:, 1:2])
        return (lambda t: ea * t ** k), (lambda y: (y / ea) ** (1.0 / k))
    edges = np.array((0.0,) + fit.knots)  # piecewise exponential
    h_edges = np.concatenate([np.zeros((theta.shape[0], 1)), np.cumsum(theta[:, :-1] * np.diff(edges), axis=1)],
                             axis=1)
    rows = np.arange(theta.shape[0])[:, None]

    def cum(t: np.ndarray) -> np.ndarray:
        j = np.searchsorted(edges, t, side="right") - 1
        return h_edges[rows, j] + theta[rows, j] * (t - edges[j])

    def inv(y: np.ndarray) -> np.ndarray:
        j = (y[..., None] >= h_edges[:, None, 1:]).sum(axis=-1)
        return edges[j] + (y - h_edges[rows, j]) / theta[rows, j]

    return cum, inv


def _arrivals(fit: ModelFit, theta: np.ndarray, cutoff: float, start: float, gamma_sums: np.ndarray) -> np.ndarray:
    """Calendar months of the next arrivals after ``cutoff``: ``Lambda(t_j) = Lambda(cutoff) +
    Gamma_j`` (``gamma_sums`` = cumulative sums of Exp(1) gaps, shape ``(rows, m)``)."""
    if fit.model == "poisson":
        return cutoff + gamma_sums / theta[:, :1]
    span = cutoff - start
    if fit.model == "power":  # c (s/T)^b = c + Gamma
        c, b = np.exp(theta[:, :1]), np.exp(theta[:, 1:2])
        return start + span * (1.0 + gamma_sums / c) ** (1.0 / b)
    rho, delta = np.exp(theta[:, :1]), np.exp(theta[:, 1:2])
    y = rho * _decay_mean(delta, span) + gamma_sums
    # Lambda is convex and Lambda(s) >= rho (s - 1/delta): Newton from s = y/rho + 1/delta (right of
    # the root) decreases monotonically to it. Lambda(s) = rho (s + em / delta), Lambda'(s) = -rho em
    # with em = expm1(-delta s).
    s = y / rho + 1.0 / delta
    for _ in range(100):
        em = np.expm1(-delta * s)
        step = (s + em / delta - y / rho) / -em
        s -= step
        if np.all(np.abs(step) <= 1e-10 * np.maximum(s, 1.0)):
            break
    return start + s


def _assign(weights: np.ndarray, gen: np.random.Generator, n_sims: int) -> np.ndarray:
    """The model index of each simulation, drawn with probabilities ``weights``."""
    return np.searchsorted(np.cumsum(weights)[:-1], gen.random(n_sims), side="right")


# ---------------------------------------------------------------------------------------
# the prediction


def _quantiles(x: np.ndarray, level: float) -> tuple[float, float, float]:
    """Median and the central ``level`` interval of simulated values: empirical quantiles by the
    inverse of the empirical CDF (the smallest simulated value with ``F_n(x) >= q``, numpy's
    ``method="inverted_cdf"``), so infinite values ("not reached") are kept as they are."""
    xs = np.sort(np.asarray(x, dtype=float))
    n = xs.size
    q = np.array([0.5, (1 - level) / 2, (1 + level) / 2])
    k = np.clip(np.ceil(q * n - 1e-9).astype(int) - 1, 0, n - 1)
    return float(xs[k[0]]), float(xs[k[1]]), float(xs[k[2]])


@dataclass(frozen=True)
class DeathPrediction(Result):
    """The predicted calendar month of the ``target_deaths``-th primary-endpoint death.

    ``months`` holds each simulation's month (``inf`` when the target is never reached: every
    planned patient followed to ``censor_months`` gives fewer primary deaths), ``randomized``
    the patients randomized by then in the same simulation, ``enrollment_end`` the month the
    ``n_planned``-th patient is randomized. ``median_month`` and ``lower_month``/``upper_month``
    (the central ``level`` interval) are their empirical quantiles (:meth:`interval` for another
    level); an infinite limit means "not reached". ``enrollment``, ``death`` and ``dropout`` are
    the models with the largest weight; ``candidates`` every model fitted and ``weights`` the
    share of simulations each one drove (model name -> weight, per component)."""

    cutoff_month: float
    target_deaths: int
    observed_deaths: int
    randomized_at_cutoff: int
    at_risk: int
    lost: int
    n_planned: int
    censor_months: float
    level: float
    median_month: float
    lower_month: float
    upper_month: float
    median_randomized: float
    lower_randomized: float
    upper_randomized: float
    probability_not_reached: float
    criterion: str
    n_sims: int
    seed: int
    enrollment: ModelFit = field(repr=False)
    death: ModelFit = field(repr=False)
    dropout: ModelFit = field(repr=False)
    candidates: tuple[ModelFit, ...] = field(repr=False)
    weights: dict[str, dict[str, float]] = field(repr=False)
    months: np.ndarray = field(repr=False, compare=False)
    randomized: np.ndarray = field(repr=False, compare=False)
    enrollment_end: np.ndarray = field(repr=False, compare=False)

    def interval(self, level: float) -> tuple[float, float]:
        """The central ``level`` prediction interval of the month (``inf``: not reached)."""
        level = check_probability(level, "level", lo_open=True, hi_open=True, error=DesignError)
        return _quantiles(self.months, level)[1:]

    def randomized_interval(self, level: float) -> tuple[float, float]:
        """The central ``level`` prediction interval of the patients randomized by that month."""
        level = check_probability(level, "level", lo_open=True, hi_open=True, error=DesignError)
        return _quantiles(self.randomized, level)[1:]

    def to_dict(self) -> dict[str, Any]:
        """The prediction as plain Python values, ready for ``json.dumps`` (e.g. the ``next_look``
        of an interim report): the scalar fields, a month that is not reached as ``None``, and
        the models used with their weights."""
        out: dict[str, Any] = {}
        for name in ("cutoff_month", "target_deaths", "observed_deaths", "randomized_at_cutoff", "at_risk", "lost",
                     "n_planned", "censor_months", "level", "median_month", "lower_month", "upper_month",
                     "median_randomized", "lower_randomized", "upper_randomized", "probability_not_reached",
                     "criterion", "n_sims", "seed"):
            v = getattr(self, name)
            out[name] = None if isinstance(v, float) and math.isinf(v) else v
        out["models"] = {c: {"used": f.describe(), "weights": self.weights[c]}
                         for c, f in (("enrollment", self.enrollment), ("death", self.death),
                                      ("drop-out", self.dropout))}
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per predicted quantity: median and the central ``level`` interval."""
        rows = [("month of the target death", (self.median_month, self.lower_month, self.upper_month)),
                ("patients randomized by then", (self.median_randomized, self.lower_randomized,
                                                 self.upper_randomized)),
                ("month enrollment completes", _quantiles(self.enrollment_end, self.level))]
        pct = f"{round(self.level * 100):d}%"
        return pd.DataFrame([{"quantity": q, "median": m, f"{pct} lower": lo, f"{pct} upper": hi}
                             for q, (m, lo, hi) in rows])

    def models_frame(self) -> pd.DataFrame:
        """Every model fitted (enrollment, death, drop-out): estimates, log-likelihood, AIC, BIC
        and its weight in the simulations."""
        return pd.DataFrame([{"component": f.component, "model": f.model, "estimates": f.describe(),
                              "log_likelihood": f.log_likelihood, "parameters": f.n_parameters,
                              "aic": f.aic, "bic": f.bic, "weight": self.weights[f.component][f.model]}
                             for f in self.candidates])

    def summary(self) -> str:
        pct = f"{round(self.level * 100):d}%"

        def month(x: float) -> str:
            return "not reached" if math.isinf(x) else f"month {fmt_num(x, 1)}"

        def used(fit: ModelFit) -> str:
            w = self.weights[fit.component]
            if len([v for v in w.values() if v > 0]) == 1:
                return fit.describe()
            shares = ", ".join(f"{_LABELS[m]} {fmt_num(v, 2)}" for m, v in w.items())
            return f"averaged by {self.criterion.upper()} weight ({shares}; largest: {fit.describe()})"

        lines = [
            f"From the data as of month {fmt_num(self.cutoff_month, 1)} ({fmt_n(self.observed_deaths)} "
            f"primary-endpoint deaths, {fmt_n(self.randomized_at_cutoff)} of {fmt_n(self.n_planned)} "
            f"patients randomized), the {_ordinal(self.target_deaths)} primary-endpoint death "
            f"(within {self.censor_months:g} months of randomization) is predicted at "
            f"{month(self.median_month)} ({pct} prediction interval {month(self.lower_month)} to "
            f"{month(self.upper_month)}), with {fmt_n(round(self.median_randomized))} patients "
            f"randomized by then ({pct} interval {fmt_n(round(self.lower_randomized))} to "
            f"{fmt_n(round(self.upper_randomized))}).",
        ]
        if self.probability_not_reached > 0:
            lines.append(f"In {fmt_pct(self.probability_not_reached)} of the simulations the target is never "
                         f"reached: all {fmt_n(self.n_planned)} patients followed {self.censor_months:g} "
                         "months give fewer primary-endpoint deaths.")
        lines.append(f"Models, pooled over the arms (blinded): enrollment {used(self.enrollment)}; time to death "
                     f"{used(self.death)}; drop-out {self.dropout.describe()} ({fmt_n(self.lost)} lost so far). "
                     f"{fmt_n(self.n_sims)} simulations, seed {self.seed}.")
        return "\n".join(lines)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _rows(data: pd.DataFrame, bad: np.ndarray) -> str:
    idx = [str(i) for i in data.index[np.asarray(bad)][:5]]
    return ", ".join(idx) + (", ..." if int(np.sum(bad)) > 5 else "")


def _check_data(data: Any, cutoff: float, start: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(data, pd.DataFrame):
        raise DesignError(f"data must be a pandas DataFrame of the trial as of the cut-off, got {type(data).__name__}")
    missing = [c for c in ("entry_month", "os_months", "death") if c not in data.columns]
    if missing:
        raise DesignError(f"data lacks the column(s) {', '.join(missing)}; needed: entry_month, os_months, death")
    if len(data) == 0:
        raise DesignError("data has no patient: nobody was randomized by the cut-off")
    cols = []
    for c in ("entry_month", "os_months", "death"):
        x = data[c]
        if pd.api.types.is_bool_dtype(x) or not pd.api.types.is_numeric_dtype(x):
            raise DesignError(f"column {c} must be numeric, got dtype {x.dtype}")
        v = x.to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            raise DesignError(f"column {c} has missing or infinite values (rows {_rows(data, ~np.isfinite(v))})")
        cols.append(v)
    entry, os_, death = cols
    checks = [(~np.isin(death, (0.0, 1.0)), "death must be 0 or 1"),
              (os_ < 0, "os_months must be >= 0"),
              ((death == 1) & (os_ <= 0), "a death needs os_months > 0"),
              (entry < start, f"entry_month must be >= accrual_start ({start:g})"),
              (entry > cutoff + PRECISION, f"entry_month must be <= the cut-off ({cutoff:g}): the data as of "
                                           "the cut-off has no patient randomized later"),
              (entry + os_ > cutoff + PRECISION, f"entry_month + os_months must be <= the cut-off ({cutoff:g}): "
                                                 "follow-up past the cut-off is not known at the cut-off")]
    for bad, what in checks:
        if np.any(bad):
            raise DesignError(f"{what} (rows {_rows(data, bad)})")
    return entry, os_, death.astype(bool)


def predict_deaths(data: pd.DataFrame, cutoff_month: float, target_deaths: int, *,
                   n_planned: int = _DEFAULT_N, censor_months: float = _DEFAULT_CENSOR,
                   n_sims: int = 2000, seed: int = 0, level: float = 0.8, accrual_start: float = 0.0,
                   enrollment_model: str = "average", death_model: str = "average", criterion: str = "aic",
                   death_knots: Sequence[float] = (6.0, 12.0)) -> DeathPrediction:
    """Predict the calendar month of the ``target_deaths``-th primary-endpoint death (death
    within ``censor_months`` of randomization) from the trial as known at ``cutoff_month``.

    ``data``: one row per patient randomized by the cut-off, with ``entry_month``, ``os_months``
    and ``death`` as of the cut-off (see the module docstring; ``arm`` is not read: blinded).
    ``n_planned``: enrollment stops at this many patients (default the protocol's 236).
    ``n_sims`` simulations with seed ``seed``; ``level`` the prediction interval's coverage
    (0.8). Models and their choice (``enrollment_model``: one of :data:`ENROLLMENT_MODELS`,
    ``death_model``: one of :data:`DEATH_MODELS`, ``"average"`` by AIC weight by default;
    ``criterion``: ``"aic"`` or ``"bic"``; ``death_knots`` of the piecewise exponential): see the
    module docstring.

    Raises :class:`DesignError` for bad arguments or data, when the target is already reached
    at the cut-off (the message gives the month it was reached), when there is no primary-
    endpoint death yet (no death hazard can be estimated), and when the target exceeds the
    deaths still possible (observed + patients at risk + patients still to be randomized).
    """
    err = DesignError
    cutoff = check_real(cutoff_month, "cutoff_month", error=err)
    start = check_real(accrual_start, "accrual_start", hi=cutoff, hi_open=True, error=err)
    target = check_int(target_deaths, "target_deaths", minimum=1, error=err)
    censor = check_real(censor_months, "censor_months", lo=0.0, lo_open=True, error=err)
    n_sims = check_int(n_sims, "n_sims", minimum=10, maximum=1_000_000, error=err)
    seed = check_seed(seed, error=err)
    level = check_probability(level, "level", lo_open=True, hi_open=True, error=err)
    enrollment_model = check_choice(enrollment_model, "enrollment_model", ENROLLMENT_MODELS, error=err)
    death_model = check_choice(death_model, "death_model", DEATH_MODELS, error=err)
    criterion = check_choice(criterion, "criterion", CRITERIA, ignore_case=True, error=err)
    if isinstance(death_knots, (str, bytes)) or not isinstance(death_knots, Sequence):
        raise err(f"death_knots must be a sequence of months > 0, got {death_knots!r}")
    knots = tuple(check_real(k, "each of death_knots", lo=0.0, lo_open=True, error=err) for k in death_knots)
    n_planned = check_int(n_planned, "n_planned", minimum=1, error=err)
    entry, os_, death = _check_data(data, cutoff, start)
    n_rand = entry.size
    if n_planned < n_rand:
        raise err(f"n_planned must be at least the {n_rand} patients randomized by the cut-off, got {n_planned}")

    # what is known at the cut-off, on the primary endpoint's scale
    primary = death & (os_ <= censor)
    observed = int(primary.sum())
    t_trunc = np.minimum(os_, censor)
    lost = ~death & (os_ < np.minimum(cutoff - entry, censor) - PRECISION)
    at_risk = ~death & ~lost & (cutoff - entry < censor)
    if observed >= target:
        reached = float(np.sort((entry + os_)[primary])[target - 1])
        raise err(f"the target of {target} primary-endpoint deaths was already reached at month {reached:g}, "
                  f"before the cut-off ({cutoff:g}; {observed} primary-endpoint deaths by then): nothing to predict")
    needed = target - observed
    n_new = n_planned - n_rand
    possible = int(at_risk.sum()) + n_new
    if needed > possible:
        raise err(f"target_deaths={target} cannot be reached: {observed} primary-endpoint deaths so far and at most "
                  f"{possible} more ({int(at_risk.sum())} patients at risk, {n_new} still to be randomized of "
                  f"n_planned={n_planned}); allowed: target_deaths <= {observed + possible}")

    enroll_fits = fit_enrollment_models(entry, cutoff, start)
    death_fits = fit_death_models(t_trunc, primary, knots=knots)
    drop = fit_dropout(t_trunc, lost)
    w_enroll = model_weights(enroll_fits, enrollment_model, criterion)
    w_death = model_weights(death_fits, death_model, criterion)
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    gens = dict(zip(_STREAMS, map(np.random.default_rng, children), strict=True))

    # new patients: n_new columns of Exp(1) gaps drawn column by column (a prefix is the same for any n_new)
    new_entry = np.empty((n_sims, n_new))
    gamma_sums = np.cumsum(gens["arrivals"].standard_exponential((n_new, n_sims)).T, axis=1)
    which = _assign(w_enroll, gens["enrollment_model"], n_sims)
    for i, f in enumerate(enroll_fits):
        rows = which == i
        theta = f.draw(n_sims, gens["enrollment_parameters"], rows)
        if n_new and rows.any():
            new_entry[rows] = _arrivals(f, theta, cutoff, start, gamma_sums[rows])

    # one row of Exp(1) per patient randomized (data order), then per new patient; the columns used
    idx = np.flatnonzero(at_risk)
    cols = np.concatenate([idx, n_rand + np.arange(n_new)])
    e_death = np.ascontiguousarray(gens["death_times"].standard_exponential((n_rand + n_new, n_sims))[cols].T)
    e_drop = np.ascontiguousarray(gens["dropout_times"].standard_exponential((n_rand + n_new, n_sims))[cols].T)
    u = np.concatenate([cutoff - entry[idx], np.zeros(n_new)])[None, :]  # follow-up at the cut-off
    t_death = np.empty((n_sims, cols.size))
    which = _assign(w_death, gens["death_model"], n_sims)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for i, f in enumerate(death_fits):
            rows = which == i
            theta = f.draw(n_sims, gens["death_parameters"], rows)
            if not rows.any():
                continue
            every = bool(rows.all())
            cum, inv = _cumulative_hazard(f, theta)
            y = cum(u) + (e_death if every else e_death[rows])
            h_censor = cum(np.array([[censor]]))
            t = np.where(y <= h_censor, inv(np.minimum(y, h_censor)), np.inf)
            if every:
                t_death = t
            else:
                t_death[rows] = t
        t_drop = u + e_drop / drop.draw(n_sims, gens["dropout_parameters"])

    # calendar month of each primary-endpoint death (inf: none), built in place
    calendar = t_death
    calendar[(t_death > censor) | (t_death > t_drop)] = np.inf
    calendar[:, :idx.size] += entry[idx]
    calendar[:, idx.size:] += new_entry
    months = np.partition(calendar, needed - 1, axis=1)[:, needed - 1]
    randomized = n_rand + (new_entry <= months[:, None]).sum(axis=1)
    end = new_entry[:, -1] if n_new else np.full(n_sims, float(entry.max()))

    m, r = _quantiles(months, level), _quantiles(randomized.astype(float), level)
    return DeathPrediction(
        cutoff_month=cutoff, target_deaths=target, observed_deaths=observed, randomized_at_cutoff=n_rand,
        at_risk=int(at_risk.sum()), lost=int(lost.sum()), n_planned=n_planned, censor_months=censor, level=level,
        median_month=m[0], lower_month=m[1], upper_month=m[2],
        median_randomized=r[0], lower_randomized=r[1], upper_randomized=r[2],
        probability_not_reached=float(np.mean(np.isinf(months))), criterion=criterion, n_sims=n_sims, seed=seed,
        enrollment=enroll_fits[int(np.argmax(w_enroll))], death=death_fits[int(np.argmax(w_death))], dropout=drop,
        candidates=tuple(enroll_fits + death_fits + [drop]),
        weights={"enrollment": {f.model: float(w) for f, w in zip(enroll_fits, w_enroll, strict=True)},
                 "death": {f.model: float(w) for f, w in zip(death_fits, w_death, strict=True)},
                 "drop-out": {drop.model: 1.0}},
        months=months, randomized=randomized, enrollment_end=end)
