"""When the deaths arrive: expected deaths by calendar month and the expected month of each look.

rpact's ``analysisTime`` (``getSampleSizeSurvival``, ``getPowerSurvival``) and gsDesign's
``tEvents``: with ``n_patients`` entering uniformly over ``[0, a]`` (``a = accrual_time``
months; ``a = 0``: all at month 0), exponential survival (control hazard ``lambda``, treatment
``HR lambda``), exponential drop-out (hazard ``eta``, both arms) as a competing risk and
allocation ratio ``r`` (treatment : control, arms weighted ``r/(1+r)`` and ``1/(1+r)``):

**All deaths** (the information of a log-rank analysis of all follow-up). For one arm with
hazard ``lambda_j``, ``tau_j = lambda_j + eta`` and ``F_j(s) = lambda_j / tau_j (1 -
exp(-tau_j s))`` (the probability of a death observed within ``s`` months of entry), the
expected number of deaths by calendar month t is the integral over entry times u::

    E_j(t) = n_j / a  int_0^min(t, a)  F_j(t - u) du
           = n_j min(t, a)/a  Pr(event | accrual min(t, a), follow-up max(t - a, 0))

the second line being :func:`trialnb.sample_size.event_probability` (Lachin & Foulkes 1986,
*Biometrics* 42:507-519), so the Pr(event) of the sample-size chain is used, not a second one.

**Deaths within h months of randomization** (``window=h``; the plan's primary-endpoint
deaths, death within 24 months). A patient who entered at u contributes a death only within
``min(t - u, h)`` of entry::

    E_j^h(t) = n_j / a  int_0^min(t, a)  F_j(min(t - u, h)) du.

For ``t - u > h`` the exponential's lack of memory gives ``F_j(h) = F_j(t - u) - exp(-tau_j h)
F_j(t - u - h)`` (a death after h needs survival to h, without drop-out, then a death in the
remaining ``t - u - h``), and so::

    E_j^h(t) = E_j(t) - exp(-tau_j h) E_j(t - h)        (E_j(s) = 0 for s <= 0).

It stops growing at ``t = a + h`` (the last patient randomized has completed h months), at
``n_j F_j(h)``.

**Analysis times** solve ``E(t) = D_k`` for each look's deaths ``D_k`` (Brent's method),
under H1 (the design's hazard ratio) and H0 (hazard ratio 1, the same control hazard), and
give the expected number randomized by then, ``n min(t, a)/a``. These are the months at which
the *expected* count reaches the target (rpact's and gsDesign's definition), not the mean of
the random month. A **calendar-driven final analysis** (``final="calendar"``) is held at a
fixed month, by default ``a + h`` (when the last patient randomized completes the window), and
its expected deaths are ``E(a + h)``: with ``window=h``, everyone has been followed for h
months, so ``n sum_j w_j F_j(h)``.

**A mixed population** (``strata``, ``non_compliance``): every formula above is linear in the
patients, so a population of sub-groups, each exponential with its own hazard and all entering
uniformly over ``[0, a]``, has expected deaths equal to the sum of its sub-groups' ``E_j``. With
``strata = (p_s, m_s)`` stratum s holds the fraction ``p_s`` of each arm with control hazard
``m_s lambda`` (treatment ``HR m_s lambda``), and with ``non_compliance`` c a fraction c of the
treatment arm keeps the control hazard (never operated): the trial plan's population of factor
strata with prognostic hazard ratios (:func:`trialnb.monitoring.plan_analysis_times`). rpact has
no such population; with one stratum and ``c = 0`` the formulas are rpact's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from ..errors import SampleSizeError
from ..protocol import PROTOCOL
from ..report import fmt_months, fmt_num
from ..results import Result
from ..sample_size import event_probability
from ..validation import (check_choice, check_hazard_ratio, check_nonnegative, check_positive, check_probability,
                          check_real_array)

__all__ = ["FINAL_TIMING", "AnalysisTimes", "analysis_times", "expected_deaths", "expected_randomized"]

FINAL_TIMING: tuple[str, ...] = ("events", "calendar")
"""How the final analysis is timed: at its number of deaths, or at a calendar month."""

_XTOL = 1e-12


def _arm_expected_all(t: float, n: float, lam: float, a: float, eta: float) -> float:
    """E_j(t): expected deaths (any time after entry) by calendar month t in one arm of n."""
    if t <= 0:
        return 0.0
    if a == 0:
        return n * event_probability(1.0, lam, 0.0, t, 1.0, eta)
    entered = min(t, a)
    return n * entered / a * event_probability(1.0, lam, entered, max(t - a, 0.0), 1.0, eta)


Parts = tuple[tuple[float, float], ...]
"""Sub-populations ``(patients, hazard per month)``, each entering uniformly over the accrual."""


def _expected_parts(t: float, parts: Parts, a: float, eta: float, window: float | None) -> float:
    """Expected deaths by calendar month t summed over sub-populations (module docstring)."""
    total = 0.0
    for n_j, lam_j in parts:
        e = _arm_expected_all(t, n_j, lam_j, a, eta)
        if window is not None and t > window:
            e -= math.exp(-(lam_j + eta) * window) * _arm_expected_all(t - window, n_j, lam_j, a, eta)
        total += e
    return total


def _parts(n: float, hr: float, lam: float, r: float, strata: tuple[np.ndarray, np.ndarray] | None = None,
           non_compliance: float = 0.0) -> Parts:
    """The sub-populations of a trial of n patients: per stratum (fraction p_s, hazard multiplier
    m_s) the control arm at ``m_s lam``, the treatment arm at ``hr m_s lam`` except its
    ``non_compliance`` fraction at ``m_s lam``."""
    probs, mult = (np.ones(1), np.ones(1)) if strata is None else strata
    n_c, n_t = n / (1 + r), n * r / (1 + r)
    out: list[tuple[float, float]] = []
    for p_s, m_s in zip(probs, mult, strict=True):
        out.append((n_c * float(p_s), float(m_s) * lam))
        out.append((n_t * float(p_s) * (1 - non_compliance), hr * float(m_s) * lam))
        if non_compliance:
            out.append((n_t * float(p_s) * non_compliance, float(m_s) * lam))
    return tuple(out)


def _check(n_patients: Any, accrual_time: Any, hazard_ratio: Any, control_hazard: Any, allocation_ratio: Any,
           dropout_hazard: Any, window: Any) -> tuple[float, float, float, float, float, float, float | None]:
    n = check_positive(n_patients, "n_patients", error=SampleSizeError)
    a = check_nonnegative(accrual_time, "accrual_time", error=SampleSizeError)
    hr = check_hazard_ratio(hazard_ratio, error=SampleSizeError)
    lam = check_positive(control_hazard, "control_hazard", error=SampleSizeError)
    r = check_positive(allocation_ratio, "allocation_ratio", error=SampleSizeError)
    eta = check_nonnegative(dropout_hazard, "dropout_hazard", error=SampleSizeError)
    h = None if window is None else check_positive(window, "window (months after randomization)", error=SampleSizeError)
    return n, a, hr, lam, r, eta, h


def _check_strata(strata: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(probabilities, hazard multipliers)``: equal lengths, probabilities >= 0 summing to 1,
    multipliers > 0 (``None``: one stratum)."""
    if strata is None:
        return None
    try:
        probs, mult = (np.asarray(x, dtype=float).ravel() for x in strata)
    except (TypeError, ValueError):
        raise SampleSizeError("strata must be (probabilities, hazard multipliers), two sequences of numbers, "
                              f"got {strata!r}") from None
    if probs.size == 0 or probs.size != mult.size or not np.all(np.isfinite(probs)) or np.any(probs < 0) \
            or abs(probs.sum() - 1) > 1e-9 or not np.all(np.isfinite(mult)) or np.any(mult <= 0):
        raise SampleSizeError("strata must be (probabilities, hazard multipliers) of equal length, the "
                              "probabilities >= 0 summing to 1 and the multipliers > 0")
    return probs, mult


def _months(month: Any) -> np.ndarray:
    if isinstance(month, (bool, np.bool_)) or np.asarray(month).dtype == bool:
        raise SampleSizeError(f"month must be a number of months (or an array of them), not {month!r}")
    try:
        arr = np.asarray(month, dtype=float)
    except (TypeError, ValueError):
        raise SampleSizeError(f"month must be a number of months (or an array of them), got {month!r}") from None
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise SampleSizeError(f"month must be finite and >= 0 (months since the first randomization), got {month!r}")
    return arr


def expected_deaths(
    month: Any,
    *,
    n_patients: float,
    accrual_time: float,
    hazard_ratio: float,
    control_hazard: float = PROTOCOL.design.control_hazard_per_month,
    allocation_ratio: float = 1.0,
    dropout_hazard: float = 0.0,
    window: float | None = None,
    strata: tuple[Any, Any] | None = None,
    non_compliance: float = 0.0,
) -> float | np.ndarray:
    """Expected number of deaths by calendar ``month`` (months since the first randomization;
    a number or an array) when the hazard ratio (treatment vs control) is ``hazard_ratio`` (1
    for H0): all deaths (``window=None``) or deaths within ``window`` months of randomization
    (the primary endpoint's). See the module docstring for the integral over entry times and
    its closed form; ``strata`` and ``non_compliance`` as in :func:`analysis_times`."""
    n, a, hr, lam, r, eta, h = _check(n_patients, accrual_time, hazard_ratio, control_hazard, allocation_ratio,
                                      dropout_hazard, window)
    parts = _parts(n, hr, lam, r, _check_strata(strata),
                   check_probability(non_compliance, "non_compliance", lo_open=False, hi_open=False,
                                     error=SampleSizeError))
    t = _months(month)
    out = np.array([_expected_parts(float(x), parts, a, eta, h) for x in t.ravel()]).reshape(t.shape)
    return float(out) if out.ndim == 0 else out


def expected_randomized(month: Any, *, n_patients: float, accrual_time: float) -> float | np.ndarray:
    """Expected number randomized by calendar ``month`` with uniform accrual of ``n_patients``
    over ``accrual_time`` months: ``n min(t, a)/a`` (``n`` from month 0 when ``a = 0``)."""
    n = check_positive(n_patients, "n_patients", error=SampleSizeError)
    a = check_nonnegative(accrual_time, "accrual_time", error=SampleSizeError)
    t = _months(month)
    out = np.full(t.shape, n) if a == 0 else n * np.minimum(t, a) / a
    return float(out) if out.ndim == 0 else out


def _most(parts: Parts, a: float, eta: float, h: float | None) -> float:
    """The expected deaths there will ever be: ``E(a + h)`` with a window, else every patient's
    death before drop-out, ``sum_j n_j lambda_j / (lambda_j + eta)``."""
    if h is not None:
        return _expected_parts(a + h, parts, a, eta, h)
    return sum(n_j * lam_j / (lam_j + eta) for n_j, lam_j in parts)


def _solve(target: float, parts: Parts, a: float, eta: float, h: float | None) -> float:
    """The calendar month at which the expected deaths reach ``target`` (NaN if never)."""
    f = lambda t: _expected_parts(t, parts, a, eta, h) - target  # noqa: E731
    if h is not None:
        hi = a + h  # E stops growing here: everyone randomized has completed the window
        if f(hi) < 0:
            return math.nan
    else:
        if target >= _most(parts, a, eta, h):
            return math.nan  # beyond the deaths there will ever be
        hi = max(a, 1.0)
        while f(hi) < 0:
            hi *= 2
    return float(brentq(f, 0.0, hi, xtol=_XTOL, rtol=4 * np.finfo(float).eps, maxiter=500))


@dataclass(frozen=True)
class AnalysisTimes(Result):
    """Expected calendar month of each look under H0 and H1, and the patients randomized by then
    (see :mod:`trialnb.monitoring.timing`).

    Per look: ``kinds`` (``"events"``: held at ``deaths`` deaths; ``"calendar"``: held at a
    month, with its expected deaths), ``deaths_h0``/``deaths_h1`` (the target, or the expected
    deaths of a calendar look), ``months_h0``/``months_h1`` (NaN where the expected deaths never
    reach the target) and ``randomized_h0``/``randomized_h1``. ``window`` is ``None`` when the
    information is all deaths, else the months after randomization within which a death counts.
    """

    hazard_ratio: float
    n_patients: float
    accrual_time: float
    window: float | None
    kinds: tuple[str, ...]
    deaths_h0: np.ndarray
    deaths_h1: np.ndarray
    months_h0: np.ndarray
    months_h1: np.ndarray
    randomized_h0: np.ndarray
    randomized_h1: np.ndarray
    max_deaths_h0: float
    max_deaths_h1: float

    def to_frame(self) -> pd.DataFrame:
        """One row per look."""
        return pd.DataFrame({
            "look": np.arange(1, len(self.kinds) + 1), "timing": list(self.kinds),
            "deaths_h0": self.deaths_h0, "month_h0": self.months_h0, "randomized_h0": self.randomized_h0,
            "deaths_h1": self.deaths_h1, "month_h1": self.months_h1, "randomized_h1": self.randomized_h1,
        }).set_index("look")

    def summary(self) -> str:
        what = ("all deaths" if self.window is None
                else f"deaths within {fmt_num(self.window, 0)} months of randomization")
        lines = [f"Expected analysis times ({what}; {fmt_num(self.n_patients, 0)} patients over "
                 f"{fmt_months(self.accrual_time)}), under H0 (HR 1) and H1 (HR {fmt_num(self.hazard_ratio, 2)}):"]
        for i, kind in enumerate(self.kinds):
            parts = []
            for hyp, d, m, n, most in (
                ("H0", self.deaths_h0[i], self.months_h0[i], self.randomized_h0[i], self.max_deaths_h0),
                ("H1", self.deaths_h1[i], self.months_h1[i], self.randomized_h1[i], self.max_deaths_h1),
            ):
                if math.isnan(m):
                    parts.append(f"{hyp} never reached (at most {fmt_num(most, 1)} deaths expected)")
                elif kind == "calendar":
                    parts.append(f"{hyp} {fmt_num(d, 1)} deaths expected, {fmt_num(n, 1)} randomized")
                else:
                    after_final = self.kinds[-1] == "calendar" and m > self.months_h1[-1]
                    late = " (after the calendar final)" if after_final else ""
                    parts.append(f"{hyp} month {fmt_num(m, 1)}{late}, {fmt_num(n, 1)} randomized")
            head = (f"look {i + 1} at month {fmt_num(self.months_h1[i], 1)} (calendar)" if kind == "calendar"
                    else f"look {i + 1} at {fmt_num(self.deaths_h1[i], 1)} deaths")
            lines.append(f"{head}: " + "; ".join(parts))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def analysis_times(
    events: Any,
    *,
    n_patients: float,
    accrual_time: float,
    hazard_ratio: float,
    control_hazard: float = PROTOCOL.design.control_hazard_per_month,
    allocation_ratio: float = 1.0,
    dropout_hazard: float = 0.0,
    window: float | None = None,
    final: str = "events",
    final_month: float | None = None,
    strata: tuple[Any, Any] | None = None,
    non_compliance: float = 0.0,
) -> AnalysisTimes:
    """Expected calendar month of each look and the number randomized by then, under H0 (HR 1)
    and H1 (``hazard_ratio``), as rpact's ``analysisTime`` and ``numberOfSubjects``
    (``getPowerSurvival``; uniform accrual, exponential survival and drop-out).

    ``events``: the deaths at which each event-driven look is held (cumulative, increasing),
    counted as all deaths (``window=None``) or as deaths within ``window`` months of
    randomization. ``final="events"``: every look is event-driven. ``final="calendar"``: a
    last look is added at ``final_month`` (default ``accrual_time + window``: the last patient
    randomized completes the window) with its expected deaths under H0 and H1.

    ``strata = (probabilities, hazard_multipliers)``: a population of strata, stratum s holding
    the fraction ``p_s`` of each arm with control hazard ``m_s x control_hazard``;
    ``non_compliance``: the fraction of the treatment arm that keeps the control hazard (see the
    module docstring: expected deaths add up over sub-populations). Defaults: one stratum, none.
    """
    n, a, hr, lam, r, eta, h = _check(n_patients, accrual_time, hazard_ratio, control_hazard, allocation_ratio,
                                      dropout_hazard, window)
    final = check_choice(final, "final", FINAL_TIMING, error=SampleSizeError)
    mix = _check_strata(strata)
    nc = check_probability(non_compliance, "non_compliance", lo_open=False, hi_open=False, error=SampleSizeError)
    if events is None or (hasattr(events, "__len__") and not isinstance(events, str) and len(events) == 0):
        ev = np.zeros(0)
    else:
        ev = check_real_array(events, "events", error=SampleSizeError,
                              what="numbers of deaths (one per event-driven look)")
    if not np.all(np.isfinite(ev)) or np.any(ev <= 0) or np.any(np.diff(ev) <= 0):
        raise SampleSizeError("events must be finite, > 0 and strictly increasing (cumulative deaths), "
                              f"got {ev.tolist()}")
    if final == "events":
        if ev.size == 0:
            raise SampleSizeError("events must give at least one look's deaths when final='events'")
        if final_month is not None:
            raise SampleSizeError("final_month is used only with final='calendar'")
        month_final = None
    else:
        if final_month is None:
            if h is None:
                raise SampleSizeError("final='calendar' needs final_month, or window (then the final is at "
                                      "accrual_time + window, when the last patient completes the window)")
            month_final = a + h
        else:
            month_final = check_positive(final_month, "final_month", error=SampleSizeError)
    rows = {}
    for hyp, ratio in (("h0", 1.0), ("h1", hr)):
        parts = _parts(n, ratio, lam, r, mix, nc)
        months = np.array([_solve(float(x), parts, a, eta, h) for x in ev])
        deaths = ev.copy()
        if month_final is not None:
            months = np.r_[months, month_final]
            deaths = np.r_[deaths, _expected_parts(month_final, parts, a, eta, h)]
        randomized = np.array([math.nan if math.isnan(m) else (n if a == 0 else n * min(m, a) / a) for m in months])
        rows[hyp] = (deaths, months, randomized, _most(parts, a, eta, h))
    kinds = ("events",) * ev.size + (("calendar",) if month_final is not None else ())
    return AnalysisTimes(
        hazard_ratio=hr, n_patients=n, accrual_time=a, window=h, kinds=kinds,
        deaths_h0=rows["h0"][0], deaths_h1=rows["h1"][0], months_h0=rows["h0"][1], months_h1=rows["h1"][1],
        randomized_h0=rows["h0"][2], randomized_h1=rows["h1"][2],
        max_deaths_h0=rows["h0"][3], max_deaths_h1=rows["h1"][3],
    )
