"""Interim and final analysis of a group-sequential survival trial, as R ``rpact``.

:func:`analyse` reproduces ``rpact::getAnalysisResults(design, getDataset(overallEvents=,
overallLogRanks=, overallAllocationRatios=), directionUpper=, maxInformation=,
informationEpsilon=)`` for a group-sequential design (rpact 3.3.4; Wassmer & Brannath 2016,
ch. 4; Jennison & Turnbull 2000, ch. 8-9) and :func:`conditional_power` its conditional power.

Sign conventions (rpact's, stated once and used everywhere)
------------------------------------------------------------
* ``logrank_z`` is the cumulative log-rank z of treatment vs control with the sign of
  ``log(HR)``: ``z = log(HR_hat) sqrt(r D) / (1 + r)`` (``D`` events, ``r`` allocation ratio
  treatment : control). A benefit of the treatment (HR < 1) gives a NEGATIVE z. The hazard-
  ratio estimate at each look is ``exp(z (1 + r) / sqrt(r D))``.
* ``direction_upper=True`` tests H1: HR > 1; ``direction_upper=False`` tests H1: HR < 1 (the
  protocol's hypothesis that surgery lowers the hazard). The design's boundaries are compared
  with the oriented statistic ``z* = z`` (upper) or ``z* = -z`` (lower); for ``sided=2`` with
  ``|z|``. Futility stops when ``z* < futility bound``.
* Repeated confidence intervals (Jennison & Turnbull 1989) and the final interval are for the
  hazard ratio, ``exp((z -+ c_k)(1 + r)/sqrt(r D))`` at look k.
* The final p-value, interval and median-unbiased estimate use the stage-wise ordering of the
  sample space (Armitage 1957; Tsiatis, Rosner & Mehta 1984, *Biometrics* 40:797-803); they
  are ``None`` while the trial goes on (no boundary crossed and the last look not reached).

Numerical roots are solved to 1e-12 (rpact's analysis tolerance is 1e-6 by default; the
reference values in ``tests/reference/rpact_monitoring.R`` were computed with
``tolerance = 1e-10`` so that they are accurate enough to compare to 1e-7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ..report import fmt_hr, fmt_num
from ..results import Result
from ..validation import check_positive, check_real_array
from ._numerics import qnorm_upper, root, stage_probabilities
from .design import HP_BOUND, DesignError, GroupSequentialDesign, _design

__all__ = ["ANALYSIS_TOLERANCE", "ConditionalPower", "InterimAnalysis", "analyse", "conditional_power"]

ANALYSIS_TOLERANCE = 1e-6  # rpact's lower end of the repeated p-value search
_FUT_NONE = -6.0  # rpact's "no futility bound"


# ---------------------------------------------------------------------------------------
# inputs


def _as_array(x: Any, name: str) -> np.ndarray:
    """Numbers, one per look (a bool is not a number: ``events=[True]`` is refused)."""
    return check_real_array(x, name, error=DesignError, what="numbers (one per look)")


def _inputs(design: Any, events: Any, logrank_z: Any, allocation_ratio: Any, direction_upper: Any):
    if not isinstance(design, GroupSequentialDesign):
        raise DesignError(f"design must be a GroupSequentialDesign from trialnb.monitoring.design(), got {type(design).__name__}")
    ev = _as_array(events, "events")
    z = _as_array(logrank_z, "logrank_z")
    if ev.size != z.size:
        raise DesignError(f"events and logrank_z must have the same length (one per look), got {ev.size} and {z.size}")
    if np.any(ev <= 0) or np.any(np.diff(ev) <= 0):
        raise DesignError(f"events must be cumulative: > 0 and strictly increasing, got {ev.tolist()}")
    r = _as_array(allocation_ratio, "allocation_ratio")
    if r.size == 1:
        r = np.full(ev.size, r[0])
    if r.size != ev.size or np.any(r <= 0):
        raise DesignError(f"allocation_ratio must be > 0, a single value or one per look, got {np.asarray(allocation_ratio).tolist()}")
    if not isinstance(direction_upper, (bool, np.bool_)):
        raise DesignError(f"direction_upper must be True or False, got {direction_upper!r}")
    return ev, z, r, bool(direction_upper)


def _oriented(z: np.ndarray, upper: bool) -> np.ndarray:
    return z if upper else -z


def _stagewise_z(ev: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Stage-wise (incremental) log-rank statistics from cumulative ones (rpact getDataset)."""
    prev_ev = np.r_[0.0, ev[:-1]]
    prev = np.r_[0.0, z[:-1]] * np.sqrt(prev_ev)
    return (np.sqrt(ev) * z - prev) / np.sqrt(ev - prev_ev)


def _fut_row(d: GroupSequentialDesign) -> np.ndarray:
    """Futility bounds as a length-k lower row (``-inf`` where none and at the last look)."""
    out = np.full(d.k, -np.inf)
    if d.futility_bounds is not None:
        out[:-1] = np.where(np.asarray(d.futility_bounds) <= _FUT_NONE, -np.inf, d.futility_bounds)
    return out


def _rebuild(d: GroupSequentialDesign, *, alpha: float | None = None, rates: np.ndarray | None = None,
             drop_beta_spending: bool = False, user_alpha: np.ndarray | None = None,
             characteristics: bool = False, clamp: bool = False) -> GroupSequentialDesign:
    t = d.information_rates if rates is None else np.asarray(rates, dtype=float)
    k = t.size
    fut_in = None
    if d.user_futility_bounds and d.futility_bounds is not None:
        fut_in = np.asarray(d.futility_bounds, dtype=float)[: k - 1] if k > 1 else None
        if fut_in is not None and fut_in.size < k - 1:
            fut_in = np.r_[fut_in, np.full(k - 1 - fut_in.size, -np.inf)]
    tbs = None if drop_beta_spending else d.type_beta_spending
    binding = d.binding_futility and (fut_in is not None or tbs is not None)
    tod = "asUser" if user_alpha is not None else d.type_of_design
    return _design(k, d.alpha if alpha is None else alpha, d.sided, d.beta, tod, t, d.delta_wt, d.gamma_a, fut_in,
                   tbs, d.gamma_b, binding, characteristics=characteristics, user_alpha=user_alpha, clamp=clamp)


# ---------------------------------------------------------------------------------------
# maxInformation: boundaries recalculated from the observed information


def _observed_rates(ev: np.ndarray, max_information: float, eps: float | None):
    """rpact ``getObservedInformationRates``: (rates, status, max information used)."""
    rates = ev / max_information
    status = "interim-stage"
    if rates[-1] < 1:
        under = False
        if eps is not None:
            if (eps < 1 and rates[-1] >= 1 - eps) or (eps >= 1 and ev[-1] + eps >= max_information):
                max_information = float(ev[-1])
                rates = ev / max_information
                under = True
        if under:
            status = "under-running"
        else:
            rates = np.r_[rates, 1.0]
    elif ev[-1] > max_information:
        max_information = float(ev[-1])
        rates = ev / max_information
        status = "over-running"
    rates = np.minimum(rates, 1.0)
    end = int(np.argmax(rates == 1.0))
    rates = rates[: end + 1]
    if status == "interim-stage" and rates.size == ev.size:
        status = "final-stage"
    return rates, status, max_information


def _recalculated(d: GroupSequentialDesign, ev: np.ndarray, max_information: float, eps: float | None):
    """The design with boundaries for the observed information (rpact ``maxInformation``).

    Interim: information rates ``events / max_information`` then 1 (a final look at the
    planned maximum). Over- or under-running at the final look: the alpha actually spent at the
    earlier looks is kept (rpact's ``userAlphaSpending`` of the design at the earlier observed
    rates) and the rest is spent at the final look."""
    if d.type_of_design not in ("asOF", "asP", "asKD", "asHSD") or d.type_beta_spending is not None:
        raise DesignError(
            "max_information (boundaries recalculated from the observed information) applies to alpha-spending "
            "designs (asOF, asP, asKD, asHSD) without beta spending, as in rpact"
        )
    rates, status, _ = _observed_rates(ev, max_information, eps)
    if status in ("under-running", "over-running") and rates.size > 1:
        if ev.size == 1:
            raise DesignError("boundaries cannot be recalculated at the first look (rpact: not possible at stage 1)")
        before, _, _ = _observed_rates(ev[:-1], max_information, eps)
        d_before = _rebuild(d, rates=before)
        spent = np.asarray(d_before.alpha_spent, dtype=float).copy()
        rates_now = ev / ev[-1]
        return _rebuild(d, rates=rates_now, user_alpha=spent), status, d_before
    return _rebuild(d, rates=rates), status, None


# ---------------------------------------------------------------------------------------
# result


@dataclass(frozen=True)
class InterimAnalysis(Result):
    """What a data monitoring committee sees after ``stage`` looks (see module docstring).

    Arrays of the design's length ``k`` are NaN for looks not yet analysed. ``actions`` has one
    entry per analysed look: ``"reject"`` (efficacy boundary crossed), ``"futility"`` (below a
    futility bound at an interim), ``"continue"``, or ``"accept"`` (last look reached without
    rejection, H0 not rejected)."""

    design: GroupSequentialDesign
    stage: int
    events: np.ndarray
    logrank_z: np.ndarray
    allocation_ratios: np.ndarray
    direction_upper: bool
    z_oriented: np.ndarray
    hazard_ratios: np.ndarray
    actions: tuple[str, ...]
    critical_values: np.ndarray
    futility_bounds: np.ndarray | None
    repeated_p_values: np.ndarray
    rci_lower: np.ndarray
    rci_upper: np.ndarray
    final_stage: int | None
    final_p_value: float | None
    final_ci: tuple[float, float] | None
    median_unbiased_hr: float | None
    conditional_rejection_probabilities: np.ndarray
    information_rates_recalculated: bool = False
    information_status: str | None = None

    @property
    def decision(self) -> str:
        """The action at the latest look."""
        return self.actions[-1]

    def to_frame(self) -> pd.DataFrame:
        """One row per analysed look."""
        s = self.stage
        return pd.DataFrame(
            {
                "look": np.arange(1, s + 1),
                "events": self.events,
                "logrank_z": self.logrank_z,
                "hazard_ratio": self.hazard_ratios,
                "critical_value": self.critical_values[:s],
                "action": list(self.actions),
                "repeated_p_value": self.repeated_p_values[:s],
                "rci_lower": self.rci_lower[:s],
                "rci_upper": self.rci_upper[:s],
                "conditional_rejection_probability": self.conditional_rejection_probabilities[:s],
            }
        ).set_index("look")

    def summary(self) -> str:
        s = self.stage
        lines = [f"Interim analysis after look {s} of {self.design.k}: {self.design.describe()}"]
        hyp = "HR > 1" if self.direction_upper else "HR < 1"
        lines.append(f"H1: {hyp}; z oriented so that large values favour H1")
        for i in range(s):
            lines.append(
                f"look {i + 1}: {self.events[i]:g} events, z = {fmt_num(self.logrank_z[i], 3)}, "
                f"HR {fmt_hr(self.hazard_ratios[i], self.rci_lower[i], self.rci_upper[i])} (repeated CI), "
                f"boundary {fmt_num(self.critical_values[i], 3)} -> {self.actions[i]}"
            )
        if self.final_p_value is not None:
            lines.append(f"final p-value (stage-wise ordering) {fmt_num(self.final_p_value, 4)}")
        if self.final_ci is not None and self.median_unbiased_hr is not None:
            lines.append(f"median-unbiased HR {fmt_hr(self.median_unbiased_hr, *self.final_ci)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


# ---------------------------------------------------------------------------------------
# pieces


def _actions(d: GroupSequentialDesign, zo: np.ndarray) -> tuple[str, ...]:
    fut = _fut_row(d)
    out = []
    for k, zk in enumerate(zo):
        last = k == d.k - 1
        stat = abs(zk) if d.sided == 2 else zk
        if stat > d.critical_values[k]:
            out.append("reject")
        elif last:
            out.append("accept")
        elif d.sided == 1 and zk < fut[k]:
            out.append("futility")
        else:
            out.append("continue")
    return tuple(out)


def _repeated_p(d: GroupSequentialDesign, zo: np.ndarray) -> np.ndarray:
    """Repeated p-values (Jennison & Turnbull 2000, ch. 9.3): the smallest level at which
    the design of the same type would reject at look k; searched on [1e-6, 0.5] as rpact."""
    out = np.full(d.k, np.nan)
    drop_bs = not d.binding_futility
    for k, zk in enumerate(zo):
        stat = abs(zk) if d.sided == 2 else zk
        if stat >= 8.2:
            out[k] = ANALYSIS_TOLERANCE
            continue
        if d.type_of_design == "HP" and k < d.k - 1:
            # rpact: at the final look only the last is computed; at an interim the level
            # search has no root (the interim bound is 3 at every level) and ends at an end
            out[k] = math.nan if zo.size == d.k else (ANALYSIS_TOLERANCE if stat >= HP_BOUND else 0.5)
            continue
        lo = ANALYSIS_TOLERANCE
        if d.type_of_design == "HP":
            lo = float(_rebuild(d, alpha=0.025).alpha_spent[d.k - 2]) + ANALYSIS_TOLERANCE
        spending = d.type_of_design.startswith("as") and not (d.binding_futility and d.type_beta_spending)
        def crit_at(level: float) -> float:
            if spending:
                sub = _rebuild(d, alpha=level, rates=d.information_rates[: k + 1], drop_beta_spending=True, clamp=True)
                # critical values of a spending design at look k depend on looks 1..k only
                return float(sub.critical_values[k]) if k < sub.k else math.nan
            return float(_rebuild(d, alpha=level, drop_beta_spending=drop_bs, clamp=True).critical_values[k])
        out[k] = root(lambda a: crit_at(a) - stat, lo, 0.5, f"the repeated p-value at look {k + 1}", clamp=True)
    return out


def _rci(d: GroupSequentialDesign, ev, z, r, upper: bool):
    """Repeated confidence intervals for the HR (closed form of rpact's root search)."""
    a = np.sqrt(r * ev) / (1 + r)
    c = np.where(d.critical_values[: ev.size] < 8.2, d.critical_values[: ev.size], np.nan)
    lo = np.exp((z - c) / a)
    hi = np.exp((z + c) / a)
    fut = _fut_row(d)
    if d.binding_futility and d.sided == 1:
        corr = np.full(ev.size, np.nan)
        for k in range(1, ev.size):
            if np.isfinite(fut[k - 1]) and fut[k - 1] > _FUT_NONE:
                # theta at which look k-1's oriented statistic equals its futility bound
                corr[k] = math.exp((z[k - 1] - fut[k - 1]) / a[k - 1]) if upper else math.exp((z[k - 1] + fut[k - 1]) / a[k - 1])
                if upper:
                    lo[k] = min(np.min(corr[1 : k + 1]), lo[k])
                else:
                    hi[k] = max(np.max(corr[1 : k + 1]), hi[k])
    bad = lo > hi
    lo[bad] = np.nan
    hi[bad] = np.nan
    return lo, hi


def _stop_stage(d: GroupSequentialDesign, zo: np.ndarray) -> int:
    """rpact ``.getStageGroupSeq``: first look with a boundary crossed (1-based), else
    ``stage + k`` (no stop)."""
    fut = _fut_row(d)
    for k, zk in enumerate(zo):
        if zk >= d.critical_values[k] or (d.sided == 2 and zk <= -d.critical_values[k]):
            return k + 1
        if d.binding_futility and k < d.k - 1 and d.sided == 1 and max(zk, float(ndtri(1e-8))) <= fut[k]:
            return k + 1
    return zo.size + d.k


def _pnorm(x: float) -> float:
    from scipy.special import ndtr

    return float(ndtr(x))


def _upper_prob(d: GroupSequentialDesign, s: int, last: float, theta: float = 0.0) -> float:
    """P(cross the upper bound at looks < s, or Z_s >= last) for drift ``theta`` per unit
    information rate (``E[Z_k] = theta sqrt(t_k)``), binding futility in force."""
    t = d.information_rates[:s]
    crit = np.r_[d.critical_values[: s - 1], last]
    lower = _fut_row(d)[:s].copy() if d.binding_futility else np.full(s, -np.inf)
    lower[-1] = -np.inf
    return float(stage_probabilities(t, np.minimum(crit, 8.0), lower, theta=theta).upper.sum())


def _final(d: GroupSequentialDesign, ev, z, r, zo, upper: bool):
    """Final p-value, CI and median-unbiased HR in the stage-wise ordering (rpact)."""
    stop = _stop_stage(d, zo)
    stage = zo.size
    if not (stop < d.k or stage == d.k):
        return None, None, None, None
    s = min(stop, d.k)
    # p-value
    if stop == 1:
        p = _pnorm(-zo[0])
        if d.sided == 2:
            p = 2 * min(p, 1 - p)
    else:
        p = _upper_prob(d, s, zo[s - 1])
        if d.sided == 2:
            t = d.information_rates[:s]
            crit = np.r_[d.critical_values[: s - 1], -zo[s - 1]]
            p_other = float(stage_probabilities(t, np.minimum(crit, 8.0)).upper.sum())
            p = 2 * min(p, p_other)
    # confidence interval and median-unbiased estimate
    a_s = math.sqrt(r[s - 1]) / (1 + r[s - 1])  # HR = exp(theta / a_s) per sqrt(event)
    q = qnorm_upper(d.alpha / d.sided)
    if stop == 1:
        se = 1 / (a_s * math.sqrt(ev[0]))
        ci = (math.exp(se * (z[0] - q)), math.exp(se * (z[0] + q)))
        med = math.exp(se * z[0])
        return s, p, tuple(sorted(ci)), med
    if zo[s - 1] >= 8:
        return s, p, None, None
    scale = math.sqrt(ev[s - 1] / d.information_rates[s - 1])  # theta*sqrt(t_k/t_s)*sqrt(D_s)
    def prob(theta: float) -> float:
        return _upper_prob(d, s, zo[s - 1], theta * scale)
    lo = root(lambda th: prob(th) - d.alpha / d.sided, -8, 8, "the lower final confidence limit")
    hi = root(lambda th: 1 - prob(th) - d.alpha / d.sided, -8, 8, "the upper final confidence limit")
    mu = root(lambda th: prob(th) - 0.5, -8, 8, "the median-unbiased estimate")
    sign = 1.0 if upper else -1.0
    to_hr = lambda th: math.exp(sign * th / a_s)  # noqa: E731
    ci = tuple(sorted((to_hr(lo), to_hr(hi))))
    return s, p, ci, to_hr(mu)


def _crp(d: GroupSequentialDesign, zo: np.ndarray) -> np.ndarray:
    """Conditional rejection probabilities under H0 given the statistic at each look (rpact:
    ``getConditionalRejectionProbabilities``; for a two-sided design its lower region is
    ``-shifted upper bound``, reproduced as is)."""
    out = np.full(d.k, np.nan)
    t = d.information_rates
    fut = _fut_row(d)
    for k in range(min(d.k - 1, zo.size)):
        rest = slice(k + 1, d.k)
        dt = t[rest] - t[k]
        shifted = (d.critical_values[rest] * np.sqrt(t[rest]) - zo[k] * math.sqrt(t[k])) / np.sqrt(dt)
        scaled = dt / (1 - t[k])
        if d.sided == 2:
            p = stage_probabilities(scaled, shifted, -shifted)
            out[k] = p.upper.sum() + p.lower.sum()
        else:
            lower = np.full(d.k - k - 1, -np.inf)
            if d.binding_futility:
                fr = fut[rest]
                lower = np.where(np.isfinite(fr), (fr * np.sqrt(t[rest]) - zo[k] * math.sqrt(t[k])) / np.sqrt(dt), -np.inf)
            out[k] = stage_probabilities(scaled, shifted, lower).upper.sum()
    if d.binding_futility and d.sided == 1:
        for k in range(min(d.k - 1, zo.size)):
            if np.isfinite(fut[k]) and zo[k] <= fut[k]:
                out[k : zo.size] = 0.0
                break
    return out


# ---------------------------------------------------------------------------------------
# public


def analyse(
    design: GroupSequentialDesign,
    events: Any,
    logrank_z: Any,
    *,
    direction_upper: bool = True,
    allocation_ratio: Any = 1,
    max_information: float | None = None,
    information_epsilon: float | None = None,
) -> InterimAnalysis:
    """Analyse the looks so far (cumulative ``events`` and log-rank ``logrank_z``), as
    ``rpact::getAnalysisResults`` for a survival dataset; see the module docstring for the
    sign conventions. ``max_information`` (the planned number of events) recalculates the
    boundaries of an alpha-spending design from the observed information rates
    ``events / max_information``, as rpact's ``maxInformation`` (with ``information_epsilon``
    for under-running, rpact's ``informationEpsilon``)."""
    ev, z, r, upper = _inputs(design, events, logrank_z, allocation_ratio, direction_upper)
    d = design
    recalculated = False
    status = None
    before = None
    if max_information is not None:
        mi = check_positive(max_information, "max_information (planned events)", error=DesignError)
        if information_epsilon is not None and not 0 < check_positive(
                information_epsilon, "information_epsilon", error=DesignError) < mi:
            raise DesignError(f"information_epsilon must lie in (0, max_information), got {information_epsilon!r}")
        d, status, before = _recalculated(design, ev, mi, None if information_epsilon is None else float(information_epsilon))
        recalculated = True
    elif information_epsilon is not None:
        raise DesignError("information_epsilon needs max_information")
    if ev.size > d.k:
        raise DesignError(f"{ev.size} looks given but the design has k = {d.k}")
    zo = _oriented(z, upper)
    hr = np.exp(z * (1 + r) / np.sqrt(r * ev))
    pad = lambda a: np.r_[a, np.full(d.k - a.size, np.nan)]  # noqa: E731
    if before is not None:
        # rpact: repeated p-values from the design at the earlier observed rates, none at the final look
        rp = np.r_[_repeated_p(before, zo[: ev.size - 1])[: ev.size - 1], np.nan]
    else:
        rp = _repeated_p(d, zo)[: ev.size]
    lo, hi = _rci(d, ev, z, r, upper)
    final_stage, p_final, ci, med = _final(d, ev, z, r, zo, upper) if d.k > 1 else (None, None, None, None)
    return InterimAnalysis(
        design=d,
        stage=int(ev.size),
        events=ev,
        logrank_z=z,
        allocation_ratios=r,
        direction_upper=upper,
        z_oriented=zo,
        hazard_ratios=hr,
        actions=_actions(d, zo),
        critical_values=d.critical_values,
        futility_bounds=d.futility_bounds,
        repeated_p_values=pad(rp),
        rci_lower=pad(lo),
        rci_upper=pad(hi),
        final_stage=final_stage,
        final_p_value=p_final,
        final_ci=ci,
        median_unbiased_hr=med,
        conditional_rejection_probabilities=_crp(d, zo),
        information_rates_recalculated=recalculated,
        information_status=status,
    )


@dataclass(frozen=True)
class ConditionalPower(Result):
    """Cumulative conditional power at the remaining looks, and the hazard ratio assumed."""

    stage: int
    hazard_ratio: float
    hazard_ratio_source: str
    n_planned: np.ndarray
    conditional_power: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per remaining look: events planned and cumulative conditional power."""
        k = self.conditional_power.size
        return pd.DataFrame({"look": np.arange(self.stage + 1, self.stage + k + 1),
                             "n_planned": np.asarray(self.n_planned, dtype=float).ravel()[:k],
                             "conditional_power": self.conditional_power}).set_index("look")

    def summary(self) -> str:
        looks = ", ".join(f"look {self.stage + i + 1}: {fmt_num(p, 3)}" for i, p in enumerate(self.conditional_power))
        return f"Conditional power under HR = {fmt_num(self.hazard_ratio, 3)} ({self.hazard_ratio_source}): {looks}"

    def __str__(self) -> str:
        return self.summary()


def conditional_power(
    design: GroupSequentialDesign,
    events: Any,
    logrank_z: Any,
    *,
    n_planned: Any,
    theta_h1: float | None,
    allocation_ratio: float = 1,
    direction_upper: bool = True,
) -> ConditionalPower:
    """Conditional power (probability of rejecting at the remaining looks given the data so
    far) under the hazard ratio ``theta_h1``; ``None`` uses the observed hazard ratio at the
    latest look (rpact's default). ``n_planned``: additional events planned per remaining look.

    As ``rpact`` (``getConditionalPower`` for a group-sequential survival design): the drift
    is ``log(theta_h1) sqrt(r n) / (1 + r)`` per remaining look, the stage-wise statistics are
    combined with weights ``sqrt(t_j - t_(j-1))`` of the design's information rates, and the
    design's futility bounds at the remaining interims are in force.
    """
    ev, z, r, upper = _inputs(design, events, logrank_z, allocation_ratio, direction_upper)
    d = design
    s = ev.size
    if s >= d.k:
        raise DesignError(f"conditional power needs a look still to come: {s} looks given, design has k = {d.k}")
    n = _as_array(n_planned, "n_planned")
    if n.size != d.k - s or np.any(n <= 0):
        raise DesignError(f"n_planned must give {d.k - s} positive additional event counts (one per remaining look), got {n.tolist()}")
    ratio = float(r[-1]) if np.ndim(allocation_ratio) else float(allocation_ratio)
    if theta_h1 is None:
        hr = float(np.exp(z[-1] * (1 + r[-1]) / math.sqrt(r[-1] * ev[-1])))
        source = "observed at the latest look"
    else:
        hr = check_positive(theta_h1, "theta_h1 (hazard ratio)", error=DesignError)
        source = "assumed" if hr != 1 else "no effect (H0)"
    theta = math.log(hr) if upper else -math.log(hr)
    t = d.information_rates
    w = np.sqrt(np.diff(np.r_[0.0, t]))
    zs = _oriented(_stagewise_z(ev, z), upper)
    nn = ratio / (1 + ratio) ** 2 * n
    rest = slice(s, d.k)
    cum_w2 = np.cumsum(w[rest] ** 2)
    sum_w2 = float(np.sum(w[:s] ** 2))
    comb = float(w[:s] @ zs)
    drift = theta * np.cumsum(np.sqrt(nn) * w[rest]) / np.sqrt(cum_w2)
    upper_b = d.critical_values[rest] * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2) - comb / np.sqrt(cum_w2) - drift
    scaled = (t[rest] - t[s - 1]) / (1 - t[s - 1])
    if d.sided == 2:
        zo_last = float(_oriented(z, upper)[-1])
        lower_b = -d.critical_values[rest] * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2) - zo_last * math.sqrt(sum_w2) / np.sqrt(cum_w2) - drift
        p = stage_probabilities(scaled, upper_b, lower_b)
    else:
        fut = _fut_row(d)[rest]
        lower_b = np.where(np.isfinite(fut), fut * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2) - comb / np.sqrt(cum_w2) - drift, -np.inf)
        lower_b[-1] = -np.inf
        p = stage_probabilities(scaled, upper_b, lower_b)
    return ConditionalPower(stage=s, hazard_ratio=hr, hazard_ratio_source=source, n_planned=n, conditional_power=np.cumsum(p.upper))
