"""Events, event probability, sample size and power for a two-arm survival trial.

Everything a reviewer needs to recompute the sample-size section of the NCT04697043
protocol, and to see what changes when its assumptions change.

Conventions
-----------
* Time is in any one unit the caller chooses; hazards are per that unit.
* ``allocation_ratio`` r = n_treatment / n_control (1 = equal allocation). The hazard ratio
  is treatment vs control (HR < 1 favours treatment, i.e. arm A vs arm B).
* ``sided`` is 1 or 2. A one-sided test is taken in the direction of the assumed effect.
* Results are unrounded floats where reference software (R ``rpact``) reports unrounded
  values; rounding is explicit and done only in :func:`sample_size`'s rounded design.

Formulas
--------
* Schoenfeld (1981, *Biometrika* 68:316-319; 1983, *Biometrics* 39:499-503), number of
  events for the log-rank / Cox test::

      D = (z_{1-a/s} + z_{1-b})^2 (1 + r)^2 / (r (ln HR)^2)

* Freedman (1982, *Stat Med* 1:121-129)::

      D = (z_{1-a/s} + z_{1-b})^2 (1 + r HR)^2 / (r (1 - HR)^2)

* Probability of an event before the analysis with uniform entry over ``[0, a]``, analysis
  at ``a + f``, exponential survival (hazard ``lam``) and exponential drop-out (hazard
  ``eta``) as a competing risk (Lachin & Foulkes 1986, *Biometrics* 42:507-519)::

      P(lam) = lam/(lam+eta) * [1 - (exp(-(lam+eta) f) - exp(-(lam+eta)(a+f))) / ((lam+eta) a)]

  and ``a = 0`` gives ``lam/(lam+eta) * (1 - exp(-(lam+eta) f))`` (everyone followed
  exactly ``f``). The trial's probability averages the arms with weights ``1/(1+r)``
  (control) and ``r/(1+r)`` (treatment); ``N = D / P``.
* Two proportions (normal approximation without continuity correction, Fleiss, Levin &
  Paik 2003, ch. 4; the formula of ``rpact::getSampleSizeRates``): with ``n_t = r n_c``::

      n_c = [z_{1-a/s} sqrt(pbar qbar (1 + 1/r)) + z_{1-b} sqrt(p_c q_c + p_t q_t / r)]^2 / (p_t - p_c)^2,
      pbar = (p_c + r p_t) / (1 + r).

Solving for any one quantity (:func:`solve`): the patients for a power (``"n"``), the power of
a number of patients or deaths (``"power"``), or the hazard ratio they detect
(``"hazard_ratio"``), every input defaulting to the plan and given in any of rpact's forms
(survival at a time, median or hazard for each arm; accrual as a duration or an intensity;
drop-out as a probability or a hazard); :class:`DesignSolution` holds the answer and its steps.

Cross-checked against R ``rpact`` 3.3.4 (``getSampleSizeSurvival``, ``getPowerSurvival``,
``getEventProbabilities``, ``getSampleSizeRates``): see ``tests/reference/rpact_sample_size.R``.
"""

from __future__ import annotations

import html
import math
from functools import partial
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from .errors import SampleSizeError
from .plan import DesignAssumptions, PLAN, TrialPlan, check_plan
from .report import fmt_n, fmt_num, fmt_pct
from .validation import (check_choice, check_hazard_ratio, check_nonnegative, check_positive, check_probability,
                         check_real)

__all__ = [
    "MAX_N",
    "expected_events",
    "schoenfeld_power",
    "SOLVE_FOR",
    "DesignSolution",
    "solve",
    "split_events_power",
    "METHODS",
    "ProportionSampleSize",
    "SampleSize",
    "Step",
    "detectable_hazard_ratio",
    "event_probability",
    "freedman_events",
    "hazard_from_median",
    "hazard_from_survival",
    "hazard_ratio_from_survival",
    "median_from_hazard",
    "patients_for_events",
    "power",
    "power_curve",
    "proportion_sample_size",
    "sample_size",
    "schoenfeld_events",
    "survival_from_hazard",
    "survival_from_median",
    "round_up",
    "z_value",
]

METHODS: tuple[str, ...] = ("schoenfeld", "freedman")


# ---------------------------------------------------------------------------------------
# argument checks


# The shared checkers of trialnb.validation, raising SampleSizeError; the open unit interval is
# where alpha, power and survival probabilities live.
_open_probability = partial(check_probability, lo_open=True, hi_open=True, error=SampleSizeError)
_positive = partial(check_positive, error=SampleSizeError)
_nonnegative = partial(check_nonnegative, error=SampleSizeError)
_sided = partial(check_choice, name="sided", allowed=(1, 2), error=SampleSizeError)
_method = partial(check_choice, name="method", allowed=METHODS, ignore_case=True, error=SampleSizeError)


def _check_alpha_power(alpha: Any, power_: Any) -> tuple[float, float]:
    a = _open_probability(alpha, "alpha")
    p = _open_probability(power_, "power")
    if p <= a:
        raise SampleSizeError(f"power must exceed alpha (power {p} <= alpha {a}); allowed: alpha < power < 1")
    return a, p


def _check_loss(loss: Any) -> float:
    """The N-inflation fraction ``loss_to_follow_up`` in [0, 1)."""
    return check_real(loss, "loss_to_follow_up", lo=0.0, hi=1.0, hi_open=True, error=SampleSizeError)


# ---------------------------------------------------------------------------------------
# conversions


def z_value(alpha: float, sided: int = 2) -> float:
    """The critical value z_{1 - alpha/sided} of the standard normal distribution."""
    alpha = _open_probability(alpha, "alpha")
    sided = _sided(sided)
    return float(ndtri(1 - alpha / sided))


def hazard_from_survival(survival: float, time: float) -> float:
    """Exponential hazard with S(time) = survival: ``-ln(S) / t``."""
    s = _open_probability(survival, "survival")
    t = _positive(time, "time")
    return -math.log(s) / t


def survival_from_hazard(hazard: float, time: float) -> float:
    """Exponential survival at ``time``: ``exp(-hazard * t)``."""
    h = _positive(hazard, "hazard")
    t = _nonnegative(time, "time")
    return math.exp(-h * t)


def median_from_hazard(hazard: float) -> float:
    """Median of the exponential distribution: ``ln 2 / hazard``."""
    return math.log(2) / _positive(hazard, "hazard")


def hazard_from_median(median: float) -> float:
    """Exponential hazard with the given median: ``ln 2 / median``."""
    return math.log(2) / _positive(median, "median")


def survival_from_median(median: float, time: float) -> float:
    """Exponential survival at ``time`` for a given median: ``2^(-t / median)``."""
    return survival_from_hazard(hazard_from_median(median), time)


def hazard_ratio_from_survival(control_survival: float, treatment_survival: float) -> float:
    """Hazard ratio (treatment vs control) implied by two survival probabilities at the
    same horizon under proportional hazards: ``ln S_t / ln S_c``."""
    sc = _open_probability(control_survival, "control_survival")
    st = _open_probability(treatment_survival, "treatment_survival")
    return math.log(st) / math.log(sc)


# ---------------------------------------------------------------------------------------
# events and power


def _effect(hr: float, r: float, method: str) -> float:
    """Standardized effect per sqrt(event): E[Z] = sqrt(D) * _effect."""
    if method == "schoenfeld":
        return math.sqrt(r) / (1 + r) * abs(math.log(hr))
    return math.sqrt(r) * abs(1 - hr) / (1 + r * hr)


MAX_N = 1e12
"""Largest N :func:`sample_size` returns (beyond it no trial exists, and counts lose exactness)."""


def _events(hr: Any, alpha: Any, power_: Any, r: Any, sided: Any, method: str) -> float:
    hr = check_hazard_ratio(hr, allow_one=False, error=SampleSizeError)
    a, p = _check_alpha_power(alpha, power_)
    r = check_real(r, "allocation_ratio", lo=1e-3, hi=1e3, error=SampleSizeError)
    sided = _sided(sided)
    z = ndtri(1 - a / sided) + ndtri(p)
    return float(z * z / _effect(hr, r, method) ** 2)


def schoenfeld_events(
    hazard_ratio: float,
    alpha: float = 0.05,
    power: float = 0.80,
    allocation_ratio: float = 1.0,
    sided: int = 2,
) -> float:
    """Required number of events (unrounded), Schoenfeld (1983):
    ``(z_{1-a/s} + z_{1-b})^2 (1+r)^2 / (r (ln HR)^2)``."""
    return _events(hazard_ratio, alpha, power, allocation_ratio, sided, "schoenfeld")


def freedman_events(
    hazard_ratio: float,
    alpha: float = 0.05,
    power: float = 0.80,
    allocation_ratio: float = 1.0,
    sided: int = 2,
) -> float:
    """Required number of events (unrounded), Freedman (1982):
    ``(z_{1-a/s} + z_{1-b})^2 (1 + r HR)^2 / (r (1-HR)^2)``."""
    return _events(hazard_ratio, alpha, power, allocation_ratio, sided, "freedman")


def power(
    events: float,
    hazard_ratio: float,
    alpha: float = 0.05,
    allocation_ratio: float = 1.0,
    sided: int = 2,
    method: str = "schoenfeld",
) -> float:
    """Power of the log-rank/Cox test with ``events`` events (normal approximation).

    With ``theta = sqrt(D) * effect`` (effect as in the event formulas), power is
    ``Phi(theta - z_{1-a/2}) + Phi(-theta - z_{1-a/2})`` for a two-sided test (both
    rejection regions, as ``rpact::getPowerSurvival``; at HR = 1 it equals alpha) and
    ``Phi(theta - z_{1-a})`` for a one-sided test in the direction of the effect.
    ``hazard_ratio = 1`` is allowed here and returns the type I error.
    """
    d = _positive(events, "events")
    hr = check_hazard_ratio(hazard_ratio, error=SampleSizeError)
    a = _open_probability(alpha, "alpha")
    r = _positive(allocation_ratio, "allocation_ratio")
    sided = _sided(sided)
    method = _method(method)
    theta = math.sqrt(d) * _effect(hr, r, method)
    z = ndtri(1 - a / sided)
    out = ndtr(theta - z)
    if sided == 2:
        out += ndtr(-theta - z)
    return float(out)


_power_of = power  # :func:`power`, for the functions whose ``power`` argument hides it


def power_curve(
    events: float,
    hazard_ratios: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    allocation_ratio: float = 1.0,
    sided: int = 2,
    method: str = "schoenfeld",
) -> np.ndarray:
    """Vectorized :func:`power` over an array of hazard ratios (same conventions)."""
    d = _positive(events, "events")
    a = _open_probability(alpha, "alpha")
    r = _positive(allocation_ratio, "allocation_ratio")
    sided = _sided(sided)
    method = _method(method)
    hr = np.asarray(hazard_ratios, dtype=float)
    if hr.size and (not np.all(np.isfinite(hr)) or np.any(hr <= 0)):
        raise SampleSizeError("hazard_ratios must all be finite and > 0")
    if method == "schoenfeld":
        eff = math.sqrt(r) / (1 + r) * np.abs(np.log(hr))
    else:
        eff = math.sqrt(r) * np.abs(1 - hr) / (1 + r * hr)
    theta = math.sqrt(d) * eff
    z = ndtri(1 - a / sided)
    out = ndtr(theta - z)
    if sided == 2:
        out = out + ndtr(-theta - z)
    return out


def detectable_hazard_ratio(
    events: float,
    alpha: float = 0.05,
    power: float = 0.80,
    allocation_ratio: float = 1.0,
    sided: int = 2,
    method: str = "schoenfeld",
) -> float:
    """The hazard ratio (< 1, benefit of treatment) that ``events`` events detect with the
    given power: the inverse of the event formula (one rejection region, as the formulas).

    Schoenfeld: ``exp(-(z_a + z_b)(1+r)/sqrt(r D))``; Freedman: with
    ``c = (z_a + z_b)/sqrt(r D)``, ``HR = (1-c)/(1+r c)`` (needs ``c < 1``).
    """
    d = _positive(events, "events")
    a, p = _check_alpha_power(alpha, power)
    r = _positive(allocation_ratio, "allocation_ratio")
    sided = _sided(sided)
    method = _method(method)
    z = ndtri(1 - a / sided) + ndtri(p)
    if method == "schoenfeld":
        return float(math.exp(-z * (1 + r) / math.sqrt(r * d)))
    c = z / math.sqrt(r * d)
    if c >= 1:
        raise SampleSizeError(
            f"events = {d} is too few for the Freedman formula to reach power {p} "
            f"(needs (z_a + z_b)/sqrt(r * events) < 1, i.e. events > {z * z / r:.1f})"
        )
    return float((1 - c) / (1 + r * c))


# ---------------------------------------------------------------------------------------
# event probability


def _arm_event_probability(lam: float, eta: float, a: float, f: float) -> float:
    """P(event before analysis) for one arm (closed form, see module docstring). A hazard that
    underflows to 0 (e.g. 0.5 x 5e-324) has no event; hazards whose sum overflows (1e308 +
    1e308) end every follow-up at once, the event share being ``lam / (lam + eta)``."""
    if lam == 0:
        return 0.0
    share = 1.0 / (1.0 + eta / lam)  # lam / (lam + eta), without overflowing the sum
    tot = lam + eta
    if not math.isfinite(tot):
        return share
    if a == 0:
        cum = -math.expm1(-tot * f)
    else:
        # 1 - [exp(-tot f) - exp(-tot (a+f))] / (tot a), written stably
        x = tot * a
        ratio = -math.expm1(-x) / x if x > 1e-12 else 1 - x / 2
        cum = 1 - math.exp(-tot * f) * ratio
    return share * cum


def event_probability(
    hazard_ratio: float,
    control_hazard: float,
    accrual_time: float,
    follow_up_time: float,
    allocation_ratio: float = 1.0,
    dropout_hazard: float = 0.0,
) -> float:
    """Probability that a randomized patient has the event before the analysis.

    Uniform entry over ``[0, accrual_time]``, analysis at ``accrual_time + follow_up_time``,
    exponential survival (control hazard ``control_hazard``, treatment
    ``hazard_ratio * control_hazard``) and exponential drop-out (``dropout_hazard``, both
    arms) as a competing risk. ``accrual_time = 0`` means every patient is followed exactly
    ``follow_up_time``. Arms are weighted ``1/(1+r)`` and ``r/(1+r)``. Closed form of
    Lachin & Foulkes (1986); with ``accrual_time = 0`` and no drop-out it is the protocol's
    ``1 - (S1 + S2)/2`` for equal allocation.
    """
    hr = check_hazard_ratio(hazard_ratio, error=SampleSizeError)
    lam = _positive(control_hazard, "control_hazard")
    a = _nonnegative(accrual_time, "accrual_time")
    f = _nonnegative(follow_up_time, "follow_up_time")
    if a + f == 0:
        raise SampleSizeError("accrual_time + follow_up_time must be > 0 (no follow-up, no events)")
    r = _positive(allocation_ratio, "allocation_ratio")
    eta = _nonnegative(dropout_hazard, "dropout_hazard")
    pc = _arm_event_probability(lam, eta, a, f)
    pt = _arm_event_probability(hr * lam, eta, a, f)
    return (pc + r * pt) / (1 + r)


# ---------------------------------------------------------------------------------------
# result objects


@dataclass(frozen=True)
class Step:
    """One step of a calculation: what, the formula, its value, and a remark."""

    name: str
    formula: str
    value: float
    note: str = ""

    def value_text(self) -> str:
        v = self.value
        if float(v).is_integer() and abs(v) < 1e9:
            return fmt_n(v)
        return fmt_num(v, 4)


class _StepsTable:
    """Rendering shared by the result objects: a table of steps (text and HTML)."""

    steps: tuple[Step, ...]
    title: str

    def to_frame(self) -> pd.DataFrame:
        """The steps as a DataFrame (step, formula, value, note)."""
        return pd.DataFrame(
            [{"step": s.name, "formula": s.formula, "value": s.value, "note": s.note} for s in self.steps]
        )

    def summary(self) -> str:  # pragma: no cover - overridden
        return ""

    def __repr__(self) -> str:
        return str(self)

    def __str__(self) -> str:
        rows = [(s.name, s.formula, s.value_text(), s.note) for s in self.steps]
        w = [max(len(r[i]) for r in rows + [("step", "formula", "value", "note")]) for i in range(4)]
        line = lambda r: "  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip()  # noqa: E731
        out = [self.title, self.summary(), "", line(("step", "formula", "value", "note"))]
        out.append("  ".join("-" * x for x in w))
        out += [line(r) for r in rows]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        e = html.escape
        body = "".join(
            f"<tr><td style='text-align:left'>{e(s.name)}</td>"
            f"<td style='text-align:left'><code>{e(s.formula)}</code></td>"
            f"<td style='text-align:right'>{e(s.value_text())}</td><td style='text-align:left'>{e(s.note)}</td></tr>"
            for s in self.steps
        )
        return (
            f"<div class='trialnb-steps'><p><b>{e(self.title)}</b><br>{e(self.summary())}</p>"
            "<table><thead><tr><th style='text-align:left'>step</th><th style='text-align:left'>formula</th>"
            "<th style='text-align:right'>value</th><th style='text-align:left'>note</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )


def round_up(x: float) -> int:
    """Ceiling that ignores floating-point dust (212.00000000001 -> 212)."""
    return int(math.ceil(round(x, 9)))


def _arms(n_total: float, r: float) -> tuple[int, int]:
    """Round each arm up: (control, treatment) from a total and n_t / n_c = r."""
    return round_up(n_total / (1 + r)), round_up(n_total * r / (1 + r))


class _ArmTotals:
    """Totals shared by the two sample-size results (arms rounded up, then inflated for loss)."""

    n_control: int
    n_treatment: int
    n_control_after_loss: int
    n_treatment_after_loss: int

    @property
    def n_total_rounded(self) -> int:
        return self.n_control + self.n_treatment

    @property
    def n_total_after_loss(self) -> int:
        return self.n_control_after_loss + self.n_treatment_after_loss


@dataclass(frozen=True, repr=False)
class SampleSize(_ArmTotals, _StepsTable):
    """Result of :func:`sample_size`: unrounded numbers, the rounded design and the steps.

    Rounded design: events up; N = (rounded events) / Pr(event), each arm rounded up
    (for equal allocation: up to two whole equal arms); then each arm inflated for loss to
    follow-up by dividing by ``1 - loss`` and rounding up.
    """

    inputs: Mapping[str, Any]
    events: float  # unrounded
    event_probability: float
    event_probability_control: float
    event_probability_treatment: float
    n_total: float  # unrounded: events / Pr(event)
    events_rounded: int
    n_control: int
    n_treatment: int
    n_control_after_loss: int
    n_treatment_after_loss: int
    steps: tuple[Step, ...] = field(repr=False)
    title: str = "Sample size"

    @property
    def n_per_arm(self) -> int:
        """Per-arm N (equal allocation only; otherwise use n_control / n_treatment)."""
        if self.n_control != self.n_treatment:
            raise SampleSizeError("n_per_arm is defined for equal arms only; use n_control and n_treatment")
        return self.n_control

    @property
    def n_per_arm_after_loss(self) -> int:
        if self.n_control_after_loss != self.n_treatment_after_loss:
            raise SampleSizeError("n_per_arm_after_loss is defined for equal arms only")
        return self.n_control_after_loss

    def summary(self) -> str:
        return (
            f"{fmt_n(self.events_rounded)} events; N = {fmt_n(self.n_total_rounded)} "
            f"({fmt_n(self.n_treatment)} treatment + {fmt_n(self.n_control)} control), "
            f"{fmt_n(self.n_total_after_loss)} after loss "
            f"({fmt_n(self.n_treatment_after_loss)} + {fmt_n(self.n_control_after_loss)})"
        )


def sample_size(
    hazard_ratio: float | None = None,
    alpha: float | None = None,
    power: float | None = None,
    allocation_ratio: float = 1.0,
    sided: int | None = None,
    method: str = "schoenfeld",
    control_hazard: float | None = None,
    accrual_time: float | None = None,
    follow_up_time: float | None = None,
    dropout_hazard: float | None = None,
    loss_to_follow_up: float | None = None,
    *,
    plan: TrialPlan = PLAN,
) -> SampleSize:
    """Events and patients for a two-arm survival trial, with every step recorded.

    Every argument left ``None`` is read from ``plan`` (default :data:`trialnb.plan.PLAN`), so
    ``sample_size()`` is the plan's own calculation and ``sample_size(plan=p)`` follows a changed
    plan: ``hazard_ratio`` and ``power`` from ``plan.design``, ``alpha`` and ``sided`` from
    ``plan.analysis``, ``control_hazard`` = -ln(control_survival) / horizon, and the follow-up of
    the primary endpoint: every patient followed exactly ``plan.analysis.censor_months``
    (``accrual_time`` 0; with ``censor_months=None``, uniform accrual over
    ``design.accrual_months`` and analysis ``design.horizon_months`` after its end), no drop-out
    in Pr(event) (``dropout_hazard`` 0) and N inflated by ``design.loss_to_follow_up`` -- the
    protocol's own construction, at full precision. An argument given explicitly wins.

    Events by :func:`schoenfeld_events` or :func:`freedman_events`; Pr(event) by
    :func:`event_probability`; ``n_total = events / Pr(event)`` (unrounded, as rpact's
    ``maxNumberOfSubjects``).

    Two different losses, two names (the package's vocabulary): ``dropout_hazard`` is the
    exponential drop-out rate per month that lowers Pr(event) (a drop-out probability ``p`` by
    24 months is ``-ln(1 - p) / 24``; ``dropout_probability`` of the plan's design);
    ``loss_to_follow_up`` is the protocol's N-inflation fraction: each arm is divided by
    ``1 - loss_to_follow_up`` and rounded up (the protocol's "10% loss of patients").
    """
    check_plan(plan, error=SampleSizeError)
    d, an = plan.design, plan.analysis
    hazard_ratio = d.hazard_ratio if hazard_ratio is None else hazard_ratio
    alpha = an.alpha if alpha is None else alpha
    power = d.power if power is None else power
    sided = an.sided if sided is None else sided
    control_hazard = d.control_hazard if control_hazard is None else control_hazard
    if accrual_time is None:
        accrual_time = 0.0 if an.censor_months is not None else d.accrual_months
    if follow_up_time is None:
        follow_up_time = plan.milestone_months
    dropout_hazard = 0.0 if dropout_hazard is None else dropout_hazard
    loss_to_follow_up = d.loss_to_follow_up if loss_to_follow_up is None else loss_to_follow_up
    method = _method(method)
    ev = _events(hazard_ratio, alpha, power, allocation_ratio, sided, method)
    hr, r = float(hazard_ratio), float(allocation_ratio)
    loss = _check_loss(loss_to_follow_up)
    lam = _positive(control_hazard, "control_hazard")
    a = _nonnegative(accrual_time, "accrual_time")
    f = _nonnegative(follow_up_time, "follow_up_time")
    eta = _nonnegative(dropout_hazard, "dropout_hazard")
    pr = event_probability(hr, lam, a, f, r, eta)
    pc = _arm_event_probability(lam, eta, a, f)
    pt = _arm_event_probability(hr * lam, eta, a, f)
    if not (pr > 0 and math.isfinite(ev / pr)):  # e.g. follow_up_time=5e-324: Pr(event) underflows
        raise SampleSizeError(
            f"Pr(event) = {pr:g}: with control_hazard {lam:g} per time unit over {a:g} + {f:g} time units of accrual "
            f"and follow-up almost no patient has the event, so N = {ev:.1f} events / Pr(event) is not a finite "
            "number; allowed: a control hazard and follow-up whose Pr(event) is a usable probability, e.g. the "
            "protocol's 0.0208 per month over 24 months")
    n_unrounded = ev / pr
    if n_unrounded > MAX_N:
        raise SampleSizeError(
            f"N = {ev:.4g} events / Pr(event) {pr:.3g} = {n_unrounded:.3g} patients: beyond {MAX_N:.0e}, no trial (and "
            "counts that large cannot be rounded exactly); allowed: inputs whose N is at most 10^12 -- a hazard ratio "
            "further from 1, or more follow-up or less drop-out so that more patients have the event")
    ev_r = round_up(ev)
    n_c, n_t, n_c_l, n_t_l = patients_for_events(ev, pr, r, loss)
    za, zb = ndtri(1 - alpha / sided), ndtri(power)
    if method == "schoenfeld":
        ev_formula = "(z_a + z_b)^2 (1+r)^2 / (r ln(HR)^2)"
    else:
        ev_formula = "(z_a + z_b)^2 (1+r HR)^2 / (r (1-HR)^2)"
    followup = (
        f"everyone followed {fmt_num(f, 4).rstrip('0').rstrip('.')}"
        if a == 0
        else f"entry uniform over [0, {fmt_num(a, 4).rstrip('0').rstrip('.')}], analysis at a+f"
    )
    steps = (
        Step("z for alpha", f"z_(1-alpha/{sided})", float(za), f"alpha = {alpha}, {sided}-sided"),
        Step("z for power", "z_(1-beta)", float(zb), f"power = {power}"),
        Step(f"events ({method.capitalize()})", ev_formula, ev, f"HR = {hr}, r = {r}"),
        Step("events, rounded up", "ceil(events)", ev_r),
        Step("Pr(event), control", "lam/(lam+eta) x [...]", pc, followup),
        Step("Pr(event), treatment", "same with HR x lam", pt, f"dropout hazard {eta}"),
        Step("Pr(event), trial", "(P_c + r P_t) / (1+r)", pr),
        Step("N, unrounded", "events / Pr(event)", n_unrounded, "compare rpact maxNumberOfSubjects"),
        Step("N from rounded events", "ceil(events) / Pr(event)", ev_r / pr),
        Step("control arm, rounded up", "ceil(N / (1+r))", n_c),
        Step("treatment arm, rounded up", "ceil(N r / (1+r))", n_t),
        Step("N, rounded design", "n_c + n_t", n_c + n_t),
        Step("control arm after loss", "ceil(n_c / (1-loss))", n_c_l, f"loss = {loss}"),
        Step("treatment arm after loss", "ceil(n_t / (1-loss))", n_t_l),
        Step("N after loss", "sum of arms", n_c_l + n_t_l),
    )
    inputs = dict(
        hazard_ratio=hr, alpha=alpha, power=power, allocation_ratio=r, sided=sided, method=method,
        control_hazard=lam, accrual_time=a, follow_up_time=f, dropout_hazard=eta, loss_to_follow_up=loss,
    )
    return SampleSize(
        inputs=inputs, events=ev, event_probability=pr, event_probability_control=pc,
        event_probability_treatment=pt, n_total=n_unrounded, events_rounded=ev_r,
        n_control=n_c, n_treatment=n_t, n_control_after_loss=n_c_l, n_treatment_after_loss=n_t_l,
        steps=steps, title=f"Sample size ({method.capitalize()}, HR {fmt_num(hr, 3)})",
    )


def patients_for_events(events: float, event_probability: float, allocation_ratio: float = 1.0,
                        loss_to_follow_up: float = 0.0) -> tuple[int, int, int, int]:
    """The rounded design of :func:`sample_size` for a number of events: events rounded up,
    ``N = ceil(events) / Pr(event)``, each arm rounded up (``n_c = ceil(N / (1+r))``,
    ``n_t = ceil(N r / (1+r))``), then each arm divided by ``1 - loss_to_follow_up`` and rounded
    up. Returns ``(n_control, n_treatment, n_control_after_loss, n_treatment_after_loss)``."""
    ev = _positive(events, "events")
    pr = check_probability(event_probability, "event_probability", lo_open=True, hi_open=False, error=SampleSizeError)
    r = _positive(allocation_ratio, "allocation_ratio")
    loss = _check_loss(loss_to_follow_up)
    n_c, n_t = _arms(round_up(ev) / pr, r)
    return n_c, n_t, round_up(n_c / (1 - loss)), round_up(n_t / (1 - loss))


# ---------------------------------------------------------------------------------------
# solve for any one quantity

SOLVE_FOR: tuple[str, ...] = ("n", "power", "hazard_ratio")
"""What :func:`solve` finds: the patients and deaths for a power (``"n"``), the power of a number
of patients or deaths (``"power"``), or the hazard ratio they detect (``"hazard_ratio"``)."""


@dataclass(frozen=True, repr=False)
class DesignSolution(_StepsTable):
    """Result of :func:`solve`: the one quantity solved for, with every input it was solved from
    (hazards per month, the accrual as a duration and as an intensity) and the steps.

    ``events`` are the deaths at the analysis (needed, for ``solved_for="n"``; expected from the
    patients, or given); ``n_evaluable`` the patients whose expected deaths those are (rpact's
    ``maxNumberOfSubjects``) and ``n_patients = n_evaluable / (1 - loss_to_follow_up)`` the
    patients randomized (unrounded); ``accrual_intensity`` is randomized patients per month
    (``inf`` when everyone enters at once, ``accrual_time = 0``). ``power`` is rpact's
    ``overallReject`` (both rejection regions of a two-sided test) when solved for, else the
    target. ``design`` is the rounded design of :func:`sample_size` (``solved_for="n"`` only)."""

    solved_for: str
    hazard_ratio: float
    power: float
    alpha: float
    sided: int
    method: str
    allocation_ratio: float
    control_hazard: float
    survival_time: float
    accrual_time: float
    accrual_intensity: float
    follow_up_time: float
    dropout_hazard: float
    loss_to_follow_up: float
    events: float
    event_probability: float
    n_evaluable: float
    n_patients: float
    design: SampleSize | None = field(default=None, repr=False)
    steps: tuple[Step, ...] = field(default=(), repr=False)
    title: str = "Design"

    @property
    def treatment_hazard(self) -> float:
        """Arm A's hazard per month: ``hazard_ratio x control_hazard``."""
        return self.hazard_ratio * self.control_hazard

    @property
    def control_survival(self) -> float:
        """Arm B's survival at ``survival_time``: ``exp(-lambda_c t)``."""
        return math.exp(-self.control_hazard * self.survival_time)

    @property
    def treatment_survival(self) -> float:
        """Arm A's survival at ``survival_time``: ``exp(-HR lambda_c t)``."""
        return math.exp(-self.treatment_hazard * self.survival_time)

    @property
    def control_median(self) -> float:
        """Arm B's median survival (months): ``ln 2 / lambda_c``."""
        return median_from_hazard(self.control_hazard)

    @property
    def treatment_median(self) -> float:
        """Arm A's median survival (months): ``ln 2 / (HR lambda_c)``."""
        return median_from_hazard(self.treatment_hazard)

    @property
    def study_duration(self) -> float:
        """Months from the first randomization to the analysis: ``accrual_time + follow_up_time``."""
        return self.accrual_time + self.follow_up_time

    def summary(self) -> str:
        t = fmt_num(self.survival_time, 0)
        arms = (f"{t}-month survival {fmt_pct(self.control_survival)} (arm B) vs {fmt_pct(self.treatment_survival)} "
                f"(arm A), medians {fmt_num(self.control_median, 1)} vs {fmt_num(self.treatment_median, 1)} months")
        size = (f"{fmt_num(self.n_patients, 1)} patients randomized ({fmt_num(self.n_evaluable, 1)} evaluable after "
                f"{fmt_pct(self.loss_to_follow_up, 0)} loss), {fmt_num(self.events, 1)} deaths by the analysis "
                "at month "
                f"{fmt_num(self.study_duration, 1)}" if math.isfinite(self.n_patients)
                else f"{fmt_num(self.events, 1)} deaths")
        test = f"alpha {fmt_num(self.alpha, 3)} {self.sided}-sided, {self.method.capitalize()}"
        if self.solved_for == "n":
            d = self.design
            head = (f"N = {fmt_num(self.n_patients, 1)} patients randomized for power {fmt_pct(self.power)} at HR "
                    f"{fmt_num(self.hazard_ratio, 3)}: {fmt_num(self.events, 1)} deaths needed "
                    f"({fmt_num(self.n_evaluable, 1)} evaluable patients); rounded design "
                    f"{fmt_n(d.events_rounded)} deaths, {fmt_n(d.n_total_after_loss)} patients"
                    if d is not None else "")
            tail = f"{test}; {arms}"
        elif self.solved_for == "power":
            head = f"Power {fmt_pct(self.power)} at HR {fmt_num(self.hazard_ratio, 3)} with {size}"
            tail = f"{test}; {arms}"
        else:
            head = (f"Detectable hazard ratio {fmt_num(self.hazard_ratio, 3)} with power {fmt_pct(self.power)} and "
                    f"{size}")
            tail = f"{test}; {arms}"
        if self.accrual_time > 0 and math.isfinite(self.accrual_intensity):
            tail += (f"; accrual {fmt_num(self.accrual_time, 1)} months at {fmt_num(self.accrual_intensity, 2)} "
                     "patients per month")
        return f"{head}\n{tail}"


def _one_of(what: str, **given: Any) -> tuple[str, Any] | None:
    """The one argument of ``given`` that is not None (None when none is); two are refused."""
    named = [(k, v) for k, v in given.items() if v is not None]
    if len(named) > 1:
        raise SampleSizeError(f"{what} is given twice ({', '.join(k for k, _ in named)}); allowed: one of "
                              f"{', '.join(given)}")
    return named[0] if named else None


def _hazard(form: tuple[str, Any], time: float, arm: str) -> float:
    """A hazard per month from an arm given as its survival at ``time``, its median or its hazard."""
    name, value = form
    if name.endswith("survival"):
        return hazard_from_survival(_open_probability(value, name), time)
    if name.endswith("median"):
        return hazard_from_median(_positive(value, name))
    return _positive(value, name)


def _patients_for(deaths: float, pr: Any, intensity: float | None, accrual_time: float) -> tuple[float, float]:
    """(accrual time, evaluable patients) whose expected deaths are ``deaths``: ``N = D / Pr(event)``
    with the accrual time given; with an intensity (evaluable patients per month) the accrual time
    ``a`` solves ``intensity x a x Pr(event | a) = D`` (the left side grows with ``a`` from 0,
    rpact's ``accrualIntensity`` with the end of accrual left open)."""
    if intensity is None:
        p = pr(accrual_time)
        if not (p > 0 and math.isfinite(deaths / p)):
            raise SampleSizeError(
                f"Pr(event) = {p:g}: almost no patient has the event over this accrual and follow-up, so N = "
                f"{deaths:.1f} deaths / Pr(event) is not a finite number; allowed: a control hazard and follow-up "
                "whose Pr(event) is a usable probability, e.g. the protocol's 0.0208 per month over 24 months")
        return accrual_time, deaths / p
    g = lambda a: intensity * a * pr(a) - deaths  # noqa: E731
    hi = max(deaths / intensity, 1.0)
    while g(hi) < 0:
        hi *= 2
        if hi > 1e9:
            raise SampleSizeError(f"{deaths:.1f} deaths are never reached at {intensity:g} patients per month")
    a = float(brentq(g, 0.0, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500))
    return a, intensity * a


def _detectable(n_eval: float, pr: Any, z: float, r: float, method: str) -> float:
    """The hazard ratio (< 1) closest to 1 that ``n_eval`` patients detect: the root of
    ``n_eval Pr(event | HR) = D(HR)`` (the deaths the events formula needs), found on a grid of
    log HR and refined by Brent's method."""
    def g(h: float) -> float:
        hr = math.exp(h)
        return n_eval * pr(hr) - z * z / _effect(hr, r, method) ** 2

    grid = -np.geomspace(1e-9, 12.0, 600)  # log HR from -1e-9 (HR ~ 1) to -12
    values = np.array([g(float(h)) for h in grid])
    ok = np.nonzero(values > 0)[0]
    if ok.size == 0:
        most = n_eval * pr(math.exp(grid[-1]))
        raise SampleSizeError(
            f"{n_eval:.1f} evaluable patients ({most:.1f} deaths expected at most) are too few to detect any hazard "
            "ratio with this power; allowed: more patients, a longer follow-up or a lower power")
    i = int(ok[0])  # the first positive value from HR = 1 downwards: the root closest to 1 lies before it
    if i == 0:
        raise SampleSizeError("the detectable hazard ratio is closer to 1 than 1 - 1e-9; allowed: fewer patients")
    h = brentq(g, float(grid[i]), float(grid[i - 1]), xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    return math.exp(h)


def solve(
    solve_for: str = "n",
    *,
    hazard_ratio: float | None = None,
    treatment_survival: float | None = None,
    treatment_median: float | None = None,
    treatment_hazard: float | None = None,
    control_survival: float | None = None,
    control_median: float | None = None,
    control_hazard: float | None = None,
    survival_time: float | None = None,
    power: float | None = None,
    n_patients: float | None = None,
    events: float | None = None,
    alpha: float | None = None,
    sided: int | None = None,
    allocation_ratio: float = 1.0,
    method: str = "schoenfeld",
    accrual_time: float | None = None,
    accrual_intensity: float | None = None,
    follow_up_time: float | None = None,
    dropout_probability: float | None = None,
    dropout_hazard: float | None = None,
    dropout_time: float | None = None,
    loss_to_follow_up: float | None = None,
    plan: TrialPlan = PLAN,
) -> DesignSolution:
    """Solve a two-arm survival design for any one quantity, as rpact's ``getSampleSizeSurvival``
    (``solve_for="n"``) and ``getPowerSurvival`` (``"power"``), or for the hazard ratio a number
    of patients or deaths detects (``"hazard_ratio"``, the inverse of ``getSampleSizeSurvival``).

    Every argument left ``None`` is read from ``plan`` as :func:`sample_size` reads it (the
    hazard ratio and power of ``plan.design``, alpha and sides of ``plan.analysis``, the control
    arm's survival at the horizon, everyone followed ``censor_months``, no drop-out in Pr(event),
    N inflated by ``loss_to_follow_up``; for ``"power"`` and ``"hazard_ratio"`` the plan's
    ``n_patients``). Time is in months. Each quantity may be given in one of its forms:

    * the control arm (arm B): ``control_survival`` at ``survival_time`` (default the plan's
      horizon, 24 months: "2-year survival"), ``control_median`` or ``control_hazard``
      (exponential: ``lambda = -ln S / t = ln 2 / median``; rpact ``pi2``/``median2``/``lambda2``);
    * the effect: ``hazard_ratio`` (arm A vs B), or arm A as ``treatment_survival``,
      ``treatment_median`` or ``treatment_hazard`` (rpact ``pi1``/``median1``/``lambda1``);
    * the accrual: ``accrual_time`` (months, uniform entry; 0: everyone followed exactly
      ``follow_up_time``) or ``accrual_intensity`` (patients randomized per month, rpact
      ``accrualIntensity`` with the end of accrual left open: the accrual time is what the
      patients take to enter); the analysis is ``follow_up_time`` months after the end of accrual;
    * drop-out: ``dropout_probability`` by ``dropout_time`` (default ``survival_time``; rpact
      ``dropoutRate1/2``, ``dropoutTime``) or ``dropout_hazard`` per month;
    * the size (``"power"``, ``"hazard_ratio"``): ``n_patients`` randomized or ``events`` deaths.

    Formulas: deaths from :func:`schoenfeld_events`/:func:`freedman_events`; Pr(event) from
    :func:`event_probability` (Lachin & Foulkes 1986); patients ``N_eval = D / Pr(event)`` and
    randomized ``N_eval / (1 - loss)``. With an intensity ``m`` the accrual time ``a`` solves
    ``m (1 - loss) a Pr(event | a) = D``. Power of ``D`` expected deaths ``D = N_eval Pr(event)``
    by :func:`power` (both rejection regions of a two-sided test, rpact's ``overallReject``). The
    detectable hazard ratio of ``N`` patients solves ``N_eval Pr(event | HR) = D(HR)`` (the root
    closest to 1); of ``D`` deaths it is :func:`detectable_hazard_ratio` in closed form
    (Schoenfeld ``exp(-(z_a + z_b)(1 + r)/sqrt(r D))``).

    Round trips (tested): the power at the patients solved for is the target (plus, two-sided,
    the tiny probability of rejecting on the wrong side); the patients for the detectable hazard
    ratio of ``N`` patients are ``N``.
    """
    what = check_choice(solve_for, "solve_for", SOLVE_FOR, error=SampleSizeError)
    d, an = plan.design, plan.analysis
    t_s = d.horizon_months if survival_time is None else _positive(survival_time, "survival_time")
    ctrl = _one_of("the control arm", control_survival=control_survival, control_median=control_median,
                   control_hazard=control_hazard)
    lam = d.control_hazard if ctrl is None else _hazard(ctrl, t_s, "control")
    effect = _one_of("the effect", hazard_ratio=hazard_ratio, treatment_survival=treatment_survival,
                     treatment_median=treatment_median, treatment_hazard=treatment_hazard)
    if what == "hazard_ratio":
        if effect is not None:
            raise SampleSizeError(f"solve_for='hazard_ratio' finds the hazard ratio, so {effect[0]} cannot be given; "
                                  "allowed: the control arm, the power and the size")
        hr = math.nan
    elif effect is None:
        hr = d.hazard_ratio
    elif effect[0] == "hazard_ratio":
        hr = effect[1]
    else:
        hr = _hazard(effect, t_s, "treatment") / lam
    if what != "hazard_ratio":
        hr = check_hazard_ratio(hr, allow_one=what == "power", error=SampleSizeError)
    if what == "power" and power is not None:
        raise SampleSizeError("solve_for='power' finds the power, so power cannot be given; allowed: the effect, "
                              "the control arm and the size (n_patients or events)")
    target = d.power if power is None else power
    alpha = an.alpha if alpha is None else alpha
    sided = _sided(an.sided if sided is None else sided)
    a_checked, p_checked = (_check_alpha_power(alpha, target) if what != "power"
                            else (_open_probability(alpha, "alpha"), math.nan))
    r = _positive(allocation_ratio, "allocation_ratio")
    method = _method(method)
    size = _one_of("the size", n_patients=n_patients, events=events)
    if what == "n" and size is not None:
        raise SampleSizeError(f"solve_for='n' finds the patients and deaths, so {size[0]} cannot be given; allowed: "
                              "the effect, the control arm, the power and the accrual")
    if what != "n" and size is None:
        size = ("n_patients", d.n_patients)
    accrual = _one_of("the accrual", accrual_time=accrual_time, accrual_intensity=accrual_intensity)
    default_a = 0.0 if an.censor_months is not None else d.accrual_months
    a = default_a if accrual is None or accrual[0] == "accrual_intensity" else _nonnegative(accrual[1], "accrual_time")
    intensity = None if accrual is None or accrual[0] == "accrual_time" else _positive(accrual[1], "accrual_intensity")
    f = plan.milestone_months if follow_up_time is None else _nonnegative(follow_up_time, "follow_up_time")
    if intensity is None and a + f == 0:
        raise SampleSizeError("accrual_time + follow_up_time must be > 0 (no follow-up, no events)")
    drop = _one_of("the drop-out", dropout_probability=dropout_probability, dropout_hazard=dropout_hazard)
    t_d = t_s if dropout_time is None else _positive(dropout_time, "dropout_time")
    if drop is None:
        eta = 0.0
    elif drop[0] == "dropout_probability":
        p_d = check_probability(drop[1], "dropout_probability", lo_open=False, hi_open=True, error=SampleSizeError)
        eta = -math.log1p(-p_d) / t_d
    else:
        eta = _nonnegative(drop[1], "dropout_hazard")
    loss = _check_loss(d.loss_to_follow_up if loss_to_follow_up is None else loss_to_follow_up)
    keep = 1 - loss
    z = float(ndtri(1 - a_checked / sided))
    z_total = z + float(ndtri(p_checked)) if what != "power" else math.nan

    def pr_at(ratio: float) -> Any:
        return lambda acc: event_probability(ratio, lam, acc, f, r, eta)

    conversions = [Step("control hazard", "-ln S_c / t, ln 2 / median_c or given", lam, f"per month; t = {t_s:g}")]
    if what != "hazard_ratio":
        conversions.append(Step("hazard ratio", "lambda_t / lambda_c or given", hr, "arm A vs arm B"))
    if intensity is not None:
        conversions.append(Step("evaluable patients per month", "intensity x (1 - loss)", intensity * keep,
                                f"{intensity:g} randomized per month"))
    design = None
    if what == "n":
        ev = _events(hr, a_checked, p_checked, r, sided, method)
        if intensity is not None:
            a, _ = _patients_for(ev, pr_at(hr), intensity * keep, a)
        design = sample_size(hr, a_checked, p_checked, r, sided, method, control_hazard=lam, accrual_time=a,
                             follow_up_time=f, dropout_hazard=eta, loss_to_follow_up=loss, plan=plan)
        n_eval = design.n_total
        power_out, steps = p_checked, (*conversions, *(
            [Step("accrual time", "solves m a Pr(event | a) = D", a, "months")] if intensity is not None else []),
            *design.steps)
    else:
        assert size is not None, "solving for power or HR: the size was given or set to the plan's above"
        if size[0] == "events":
            ev = _positive(size[1], "events")
            if what == "hazard_ratio":
                hr = detectable_hazard_ratio(ev, a_checked, p_checked, r, sided, method)
            a, n_eval = _patients_for(ev, pr_at(hr), None if intensity is None else intensity * keep, a)
        else:
            n_pat = _positive(size[1], "n_patients")
            n_eval = n_pat * keep
            if intensity is not None:
                a = n_pat / intensity
            if what == "hazard_ratio":
                hr = _detectable(n_eval, lambda ratio: event_probability(ratio, lam, a, f, r, eta), z_total, r, method)
            ev = n_eval * event_probability(hr, lam, a, f, r, eta)
        power_out = _power_of(ev, hr, a_checked, r, sided, method) if what == "power" else p_checked
        pr = event_probability(hr, lam, a, f, r, eta)
        steps = (
            *conversions,
            Step("accrual time", "given, or N / intensity", a, "months"),
            Step("patients randomized", "given, or N_eval / (1 - loss)", n_eval / keep),
            Step("evaluable patients", "N (1 - loss)", n_eval, f"loss = {loss}"),
            Step("Pr(event)", "(P_c + r P_t) / (1+r)", pr, f"analysis {a + f:g} months after the first entry"),
            Step("deaths", "given, or N_eval Pr(event)", ev),
            *((Step("hazard ratio detected", "root of N_eval Pr(event | HR) = D(HR)" if size[0] == "n_patients"
                    else "inverse of the events formula", hr, f"power {p_checked}"),)
              if what == "hazard_ratio" else
              (Step("z for alpha", f"z_(1-alpha/{sided})", z, f"alpha = {a_checked}"),
               Step("power", "Phi(theta - z) + Phi(-theta - z)" if sided == 2 else "Phi(theta - z)", power_out,
                    "theta = sqrt(D) x effect"))),
        )
    pr = event_probability(hr, lam, a, f, r, eta)
    intensity_out = math.inf if a == 0 else n_eval / keep / a
    return DesignSolution(
        solved_for=what, hazard_ratio=float(hr), power=float(power_out), alpha=a_checked, sided=sided, method=method,
        allocation_ratio=r, control_hazard=lam, survival_time=t_s, accrual_time=float(a),
        accrual_intensity=intensity_out, follow_up_time=f, dropout_hazard=eta, loss_to_follow_up=loss,
        events=float(ev), event_probability=pr, n_evaluable=float(n_eval), n_patients=float(n_eval / keep),
        design=design, steps=tuple(steps),
        title={"n": "Patients and deaths", "power": "Power", "hazard_ratio": "Detectable hazard ratio"}[what]
        + f" ({method.capitalize()})",
    )


# ---------------------------------------------------------------------------------------
# two proportions


@dataclass(frozen=True, repr=False)
class ProportionSampleSize(_ArmTotals, _StepsTable):
    """Result of :func:`proportion_sample_size` (a design on the survival proportions)."""

    inputs: Mapping[str, Any]
    n_total: float  # unrounded
    n_control_unrounded: float
    n_treatment_unrounded: float
    n_control: int
    n_treatment: int
    n_control_after_loss: int
    n_treatment_after_loss: int
    steps: tuple[Step, ...] = field(repr=False)
    title: str = "Sample size, two proportions"

    def summary(self) -> str:
        return (
            f"N = {fmt_n(self.n_total_rounded)} ({fmt_n(self.n_treatment)} treatment + "
            f"{fmt_n(self.n_control)} control), {fmt_n(self.n_total_after_loss)} after loss"
        )


def proportion_sample_size(
    control_proportion: float,
    treatment_proportion: float,
    alpha: float = 0.05,
    power: float = 0.80,
    allocation_ratio: float = 1.0,
    sided: int = 2,
    loss_to_follow_up: float = 0.0,
) -> ProportionSampleSize:
    """Patients needed to compare two proportions (e.g. 2-year survival 0.60 vs 0.78) with
    the normal-approximation test without continuity correction (the formula in the module
    docstring, as ``rpact::getSampleSizeRates``). Rounding as :func:`sample_size`;
    ``loss_to_follow_up`` is the N-inflation fraction (each arm divided by ``1 - loss``)."""
    pc = _open_probability(control_proportion, "control_proportion")
    pt = _open_probability(treatment_proportion, "treatment_proportion")
    if pc == pt:
        raise SampleSizeError("treatment_proportion must differ from control_proportion")
    a, p = _check_alpha_power(alpha, power)
    r = _positive(allocation_ratio, "allocation_ratio")
    sided = _sided(sided)
    loss = _check_loss(loss_to_follow_up)
    za, zb = float(ndtri(1 - a / sided)), float(ndtri(p))
    pbar = (pc + r * pt) / (1 + r)
    s0 = math.sqrt(pbar * (1 - pbar) * (1 + 1 / r))
    s1 = math.sqrt(pc * (1 - pc) + pt * (1 - pt) / r)
    n_c = (za * s0 + zb * s1) ** 2 / (pt - pc) ** 2
    n_t = r * n_c
    nc_r, nt_r = round_up(n_c), round_up(n_t)
    nc_l, nt_l = round_up(nc_r / (1 - loss)), round_up(nt_r / (1 - loss))
    steps = (
        Step("z for alpha", f"z_(1-alpha/{sided})", za),
        Step("z for power", "z_(1-beta)", zb),
        Step("pooled proportion", "(p_c + r p_t)/(1+r)", pbar),
        Step("SD under H0", "sqrt(pbar qbar (1+1/r))", s0),
        Step("SD under H1", "sqrt(p_c q_c + p_t q_t / r)", s1),
        Step("control arm, unrounded", "(z_a s0 + z_b s1)^2 / (p_t-p_c)^2", n_c),
        Step("treatment arm, unrounded", "r n_c", n_t),
        Step("N, unrounded", "n_c + n_t", n_c + n_t, "compare rpact nFixed"),
        Step("N, arms rounded up", "ceil(n_c) + ceil(n_t)", nc_r + nt_r),
        Step("N after loss", "sum ceil(n_arm / (1-loss))", nc_l + nt_l, f"loss = {loss}"),
    )
    return ProportionSampleSize(
        inputs=dict(control_proportion=pc, treatment_proportion=pt, alpha=a, power=p,
                    allocation_ratio=r, sided=sided, loss_to_follow_up=loss),
        n_total=n_c + n_t, n_control_unrounded=n_c, n_treatment_unrounded=n_t,
        n_control=nc_r, n_treatment=nt_r, n_control_after_loss=nc_l, n_treatment_after_loss=nt_l,
        steps=steps, title=f"Two proportions, {fmt_pct(pc)} vs {fmt_pct(pt)}",
    )


# ---------------------------------------------------------------- closed forms used by the simulations

def schoenfeld_power(events: float, hazard_ratio: float, alpha: float = 0.05,
                     allocation_ratio: float = 1.0) -> float:
    """Two-sided Schoenfeld (1981) power with ``events`` deaths: the analytic value the
    simulations are compared with. Delegates to :func:`power`, the project's one
    implementation (same formula, same argument checks)."""
    return power(events, hazard_ratio, alpha=alpha, allocation_ratio=allocation_ratio, sided=2)


def split_events_power(events_a: float, events_b: float, hazard_ratio: float,
                       alpha: float = 0.05) -> float:
    """Two-sided power when the deaths split unevenly between the arms: the large-sample
    variance of the estimated log hazard ratio is 1/D_A + 1/D_B (exponential MLE; the
    log-rank/Cox information under the alternative is close to it), instead of Schoenfeld's
    4/D, which assumes D_A = D_B. With D_A = D_B = D/2 both formulas agree."""
    for name, v in (("events_a", events_a), ("events_b", events_b)):
        if not v > 0:
            raise ValueError(f"{name} must be > 0, got {v!r}")
    if not hazard_ratio > 0:
        raise ValueError(f"hazard_ratio must be > 0, got {hazard_ratio!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    drift = abs(math.log(hazard_ratio)) / math.sqrt(1 / events_a + 1 / events_b)
    zc = -float(ndtri(alpha / 2))
    return float(ndtr(drift - zc) + ndtr(-drift - zc))


def expected_events(design: DesignAssumptions, censor_months: float | None = None) -> tuple[float, float]:
    """Expected deaths (arm A, arm B) observed within ``censor_months`` (default the design's
    horizon) of randomization, every patient followed that long, in closed form: within a
    factor stratum s (probability p_s, death hazard lambda_s = lambda0 exp(lp_s), loss hazard
    mu) a death is observed with probability lambda/(lambda+mu) (1 - exp(-(lambda+mu) h));
    arm B averages it over the strata, arm A mixes lambda_s HR (operated) and lambda_s (the
    ``non_compliance`` fraction never operated). Arms of n/2 patients each. The design's effect
    must act from randomization (no delay, early period or crossover)."""
    d = design
    if d.effect_delay_months or (d.early_months and d.early_hazard_ratio != 1.0) or d.crossover:
        raise SampleSizeError("expected_events has a closed form only for an effect from randomization: no "
                              "effect_delay_months, early period or crossover")
    h = d.horizon_months if censor_months is None else _positive(censor_months, "censor_months")
    ps, lp = d.strata_model()
    lam = d.baseline_hazard * np.exp(lp)
    mu = d.dropout_rate

    def p_obs(rate: np.ndarray) -> float:
        tot = rate + mu
        return float(np.sum(ps * rate / tot * -np.expm1(-tot * h)))

    half = d.n_patients / 2
    pa = (1 - d.non_compliance) * p_obs(lam * d.hazard_ratio) + d.non_compliance * p_obs(lam)
    return half * pa, half * p_obs(lam)
