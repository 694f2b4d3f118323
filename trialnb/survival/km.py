"""Kaplan-Meier estimation in the survival engine: the curve, survival at a time, the
restricted mean, one sample or per arm, batched over trials.

One computation serves every function here: rows sorted by time (:func:`prepare`), the
number at risk n_j and deaths d_j of a sample at each distinct time t_j, S(t) = prod over
t_j <= t of (1 - d_j / n_j) and Greenwood's sum sum_{t_j <= t} d_j / (n_j (n_j - d_j)).

* :func:`kaplan_meier` -- the curve of one sample with Greenwood standard errors.
* :func:`survival_at`, :func:`rmst` -- S(t) with its Greenwood SE, and the restricted mean
  survival time to tau with R ``survfit``'s SE, of one sample.
* :func:`km_milestone`, :func:`km_rmst` -- the same per arm for R trials at once (the
  simulation's milestone and RMST analyses).

**Where the estimate exists.** The Kaplan-Meier curve is defined up to the sample's last
observed time, and beyond it only when it has reached 0 (a death was the last observation).
The one-sample functions refuse a time beyond that (:class:`trialnb.errors.OutsideDataError`,
as R survRM2 refuses a tau beyond the last follow-up); the batched ones return NaN for those
trials.

References
----------
* Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. JASA
  1958;53:457-481.
* Greenwood M. The natural duration of cancer. Rep Public Health Med Subj 1926;33:1-26.
* Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, section 2.3 (restricted
  mean and its variance, R ``summary(survfit(...), rmean = tau)``).
* Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio for
  the design and analysis of randomized trials with a time-to-event outcome. BMC Med Res
  Methodol 2013;13:152.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OutsideDataError, SurvivalDataError
from ..results import Result
from ..validation import check_positive
from ._core import fwd, rev, take
from .logrank import prepare

__all__ = ["KaplanMeier", "kaplan_meier", "km_milestone", "km_rmst", "rmst", "survival_at"]


def _sample_terms(ts, es, ga, new, gst, gen, tau: float):
    """Per trial, the Kaplan-Meier terms of the rows with ``ga == 1`` at each sorted row:
    ``use`` (a distinct time <= tau with deaths of the sample), the factor q = 1 - d/n, deaths
    d, number at risk n and Greenwood's term d / (n (n - d))."""
    Na = take(rev(ga), gst)
    f = fwd(es * ga)
    Da = take(f, gen) - take(f, gst)
    use = new & (Da > 0) & (ts <= tau)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(use, 1.0 - Da / np.where(Na > 0, Na, 1.0), 1.0)
        gw = np.where(use, Da / (Na * (Na - Da)), 0.0)
    return use, q, Da, Na, gw


def _defined(ts, ga, S_end, tau: float) -> np.ndarray:
    """Trials where the sample's curve is defined at tau: tau <= its last observed time, or
    the curve has reached 0 by then (``S_end``: S at the last time <= tau)."""
    last = np.max(np.where(ga > 0, ts, -np.inf), axis=1)
    return (tau <= last) | (S_end <= 0)


def _samples(time: Any, event: Any, group: Any, tau: float, prepared: tuple | None):
    """Sorted rows, ``single`` and, for arm 1 then arm 0, (terms, defined-at-tau) per trial."""
    check_positive(tau, "tau", error=SurvivalDataError)  # months
    ts, es, gs, new, bst, _, gst, gen, single = prepare(time, event, group) if prepared is None else prepared
    if np.any(bst[:, -1] > 0):
        raise SurvivalDataError("Kaplan-Meier per arm needs an unstratified prepare(...) (strata=None)")
    out = []
    for ga in (gs, 1.0 - gs):
        terms = _sample_terms(ts, es, ga, new, gst, gen, tau)
        out.append((ga, terms, _defined(ts, ga, np.prod(terms[1], axis=1), tau)))
    return ts, single, out


def km_milestone(time: Any, event: Any, group: Any, tau: float, *,
                 prepared: tuple | None = None) -> tuple[Any, Any, Any, Any]:
    """Kaplan-Meier S(tau) and Greenwood variance of each arm: (s1, var1, s0, var0), arrays (R,)
    (floats for one trial). Var = S^2 sum_{t_j <= tau} d_j / (n_j (n_j - d_j)); the variance is
    NaN once S = 0, and both are NaN for an arm whose curve is not defined at tau (the module
    docstring)."""
    ts, single, arms = _samples(time, event, group, tau, prepared)
    out = []
    for _, (_use, q, _, _, gw), ok in arms:
        s = np.prod(q, axis=1)
        g = gw.sum(axis=1)
        with np.errstate(invalid="ignore"):
            out += [np.where(ok, s, np.nan), np.where(ok & (s > 0), s * s * g, np.nan)]
    s1, var1, s0, var0 = (float(a[0]) for a in out) if single else out
    return s1, var1, s0, var0


def km_rmst(time: Any, event: Any, group: Any, tau: float, *,
            prepared: tuple | None = None) -> tuple[Any, Any, Any, Any]:
    """RMST up to tau and its variance per arm: (rmst1, var1, rmst0, var0), arrays (R,) (floats
    for one trial).

    RMST = tau - sum_{t_j <= tau} (S(t_j-) - S(t_j)) (tau - t_j) (area under the KM curve);
    Var = sum_{t_j < tau} A_j^2 d_j / (n_j (n_j - d_j)) with A_j = integral_{t_j}^tau S(u) du
    = S(t_j)(tau - t_j) - sum_{t_j < t_k <= tau} (S(t_k-) - S(t_k))(tau - t_k): the variance of
    R ``summary(survfit(...), rmean = tau)``. NaN for an arm whose curve is not defined up to tau.
    """
    ts, single, arms = _samples(time, event, group, tau, prepared)
    out = []
    for _, (use, q, _, _, gw), ok in arms:
        S = np.cumprod(q, axis=1)
        S_before = np.concatenate([np.ones((S.shape[0], 1)), S[:, :-1]], axis=1)
        rem = np.clip(tau - ts, 0.0, None)
        B = (S_before - S) * rem
        area = tau - B.sum(axis=1)
        later = rev(B)[:, 1:]  # sum over rows after j (q = 1 rows add 0)
        A = S * rem - later
        with np.errstate(invalid="ignore"):  # 0 * inf where a last death empties the risk set
            var = np.sum(np.where(use & (ts < tau), A * A * gw, 0.0), axis=1)
        out += [np.where(ok, area, np.nan), np.where(ok, var, np.nan)]
    rmst1, var1, rmst0, var0 = (float(a[0]) for a in out) if single else out
    return rmst1, var1, rmst0, var0


def _one_sample(time: Any, event: Any) -> tuple:
    if np.ndim(time) != 1:
        raise SurvivalDataError(f"time must be one sample of shape (n,), got shape {np.shape(time)}")
    return prepare(time, event, np.ones(np.shape(time)))


def _refuse_beyond(prep: tuple, t: float, what: str) -> None:
    if not math.isfinite(km_milestone(None, None, None, t, prepared=prep)[0]):
        last = float(prep[0][0][-1])
        raise OutsideDataError(f"{what} = {t:g} is beyond the last follow-up time of the sample ({last:g}): "
                               f"the Kaplan-Meier curve is not defined there; choose a time <= {last:g}")


# ---- One sample

@dataclass(frozen=True)
class KaplanMeier(Result):
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
        from ..report import fmt_n

        return (f"Kaplan-Meier estimate at {fmt_n(len(self.time))} distinct times, "
                f"{fmt_n(int(self.events.sum()))} deaths")

    def confidence_interval(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Pointwise log-log ("exponential Greenwood") confidence limits of the survival at each
        time: exp(-exp(log(-log S) -+ z se_ll)), se_ll = se / (S |log S|) (Kalbfleisch &
        Prentice 2002, section 1.4; R ``survfit(conf.type = "log-log")``, lifelines' default);
        (1, 1) before the first death, NaN where S is 0 or 1 after a death."""
        from scipy.special import ndtri

        z = float(ndtri(0.5 + level / 2))
        s = self.survival
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.log(-np.log(s))
            sl = self.se / (s * np.abs(np.log(s)))
            lo, hi = np.exp(-np.exp(ll + z * sl)), np.exp(-np.exp(ll - z * sl))
        one = s >= 1.0
        return np.where(one, 1.0, lo), np.where(one, 1.0, hi)

    def survival_at_times(self, t: Any) -> np.ndarray:
        """The step function S at each of ``t`` (right-continuous; 1 before the first time)."""
        k = np.searchsorted(self.time, np.asarray(t, float), side="right") - 1
        return np.where(k < 0, 1.0, self.survival[np.clip(k, 0, None)])

    def at(self, t: float) -> tuple[float, float]:
        """(S(t), Greenwood SE) at time ``t`` (S = 1, SE = 0 before the first time); refuses a
        time beyond the last one unless the curve has reached 0 (the module docstring)."""
        if t > self.time[-1] and self.survival[-1] > 0:
            raise OutsideDataError(f"t = {t:g} is beyond the last follow-up time of the sample "
                                   f"({self.time[-1]:g}): the Kaplan-Meier curve is not defined there; "
                                   f"choose a time <= {self.time[-1]:g}")
        k = int(np.searchsorted(self.time, t, side="right")) - 1
        return (1.0, 0.0) if k < 0 else (float(self.survival[k]), float(self.se[k]))


def kaplan_meier(time: Any, event: Any) -> KaplanMeier:
    """Kaplan-Meier estimate with Greenwood standard errors (Greenwood 1926) of one sample: the
    terms of the module docstring at every distinct time."""
    prep = _one_sample(time, event)
    ts, es, gs, new, _, _, gst, gen = (a[0] for a in prep[:8])
    terms = _sample_terms(ts[None], es[None], gs[None], new[None], gst[None], gen[None], math.inf)
    use, q, d, n, gw = (a[0] for a in terms)
    surv = np.cumprod(q)[new]
    with np.errstate(invalid="ignore"):
        se = np.where(surv > 0, surv * np.sqrt(np.cumsum(gw)[new]), np.nan)
    size = (gen - gst)[new]
    d, n = d[new], n[new]
    return KaplanMeier(ts[new], n.astype(int), d.astype(int), (size - d).astype(int), surv, se)


def survival_at(time: Any, event: Any, t: float) -> tuple[float, float]:
    """Kaplan-Meier S(t) and its Greenwood SE for one sample (NaN SE once S reaches 0); refuses
    a time beyond the last follow-up (:class:`trialnb.errors.OutsideDataError`)."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)) or not t >= 0:
        raise SurvivalDataError(f"t must be a time >= 0 (months), got {t!r}")
    prep = _one_sample(time, event)
    if t == 0:
        return 1.0, 0.0
    _refuse_beyond(prep, float(t), "t")
    s, var, _, _ = km_milestone(None, None, None, float(t), prepared=prep)
    return s, math.sqrt(var) if math.isfinite(var) else math.nan


def rmst(time: Any, event: Any, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error, one sample: the area
    under the Kaplan-Meier step function and R ``survfit``'s variance (:func:`km_rmst`); equal
    to R ``summary(survfit(...), rmean = tau)``. Refuses a tau beyond the last follow-up."""
    check_positive(tau, "tau", error=SurvivalDataError)
    prep = _one_sample(time, event)
    _refuse_beyond(prep, float(tau), "tau")
    area, var, _, _ = km_rmst(None, None, None, float(tau), prepared=prep)
    return area, math.sqrt(var) if math.isfinite(var) else math.nan

