"""Interim and final analysis of a group-sequential survival trial, as R ``rpact``.

:func:`analyse` reproduces ``rpact::getAnalysisResults(design, getDataset(overallEvents=,
overallLogRanks=, overallAllocationRatios=), directionUpper=, maxInformation=,
informationEpsilon=)`` for a group-sequential design (rpact 3.3.4; Wassmer & Brannath 2016,
ch. 4; Jennison & Turnbull 2000, ch. 8-9) and :func:`conditional_power` its conditional power.

Two ways to give the looks, one computation
-------------------------------------------
Per look the data are the cumulative deaths ``D_k`` and either

* the log-rank z (``logrank_z``, rpact's input), or
* an estimate of the log hazard ratio ``b_k`` and its standard error ``SE_k``
  (``log_hazard_ratio=``, ``standard_error=``), e.g. the Cox model's Wald statistic of the
  primary analysis: ``z_k = b_k / SE_k``.

Both become ``(D_k, z_k, b_k, SE_k)``; the log-rank input is the special case
``SE_k = (1 + r) / sqrt(r D_k)``, ``b_k = z_k SE_k`` (Schoenfeld's approximation, ``r`` the
allocation ratio), so there is one implementation. What each quantity uses (Jennison &
Turnbull 2000, ch. 3.4-3.5 and 9):

* **Information time from the deaths.** The correlation of the z statistics, the boundaries
  (including those recalculated with ``max_information``), decisions, repeated p-values,
  conditional rejection probabilities and the stage-wise ordering use ``t_k = D_k / D_max``:
  for a log-rank or Cox score/Wald statistic the information is proportional to the deaths
  to first order (``I_k ~ r D_k / (1 + r)^2``), and deaths are what the plan counts, so the
  boundaries are fixed before anyone sees an SE. ``1/SE_k^2`` is not used for the
  covariance: it is itself estimated, is not guaranteed to increase from look to look, and
  would make the boundaries depend on the data beyond the information fraction.
* **The estimate's own SE for everything on the hazard-ratio scale.** The estimate at look k
  is ``exp(b_k)``; the repeated confidence interval is ``exp(b_k -+ c_k SE_k)`` (Jennison &
  Turnbull 1989, *J R Stat Soc B* 51:305-361; 2000, ch. 9.1); the final interval and the
  median-unbiased estimate at the stopping look s map the drift of the canonical process
  (``E[Z_k] = theta sqrt(t_k)``) to the log hazard ratio with the information at s,
  ``theta = delta sqrt(I_s / t_s)``, ``I_s = 1 / SE_s^2``; conditional power gives the
  remaining deaths the information per death observed at the latest look,
  ``1 / (SE_s^2 D_s)`` (``r / (1 + r)^2`` for the log-rank input).

With the log-rank input every result equals rpact's (tests/reference/rpact_monitoring.R).

Sign conventions (rpact's, stated once and used everywhere)
------------------------------------------------------------
* ``logrank_z`` is the cumulative log-rank z of treatment vs control with the sign of
  ``log(HR)``: ``z = log(HR_hat) sqrt(r D) / (1 + r)`` (``D`` events, ``r`` allocation ratio
  treatment : control). A benefit of the treatment (HR < 1) gives a NEGATIVE z, as does a
  negative ``log_hazard_ratio``.
* ``direction_upper=True`` tests H1: HR > 1; ``direction_upper=False`` tests H1: HR < 1 (the
  protocol's hypothesis that surgery lowers the hazard). The design's boundaries are compared
  with the oriented statistic ``z* = z`` (upper) or ``z* = -z`` (lower); for ``sided=2`` with
  ``|z|``. Futility stops when ``z* < futility bound``.
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
from .design import HP_BOUND, GroupSequentialDesign, compute_design
from ..errors import DesignError

__all__ = ["ANALYSIS_TOLERANCE", "STATISTICS", "ConditionalPower", "InterimAnalysis", "analyse", "conditional_power",
           "logrank_standard_error"]

ANALYSIS_TOLERANCE = 1e-6  # rpact's lower end of the repeated p-value search
_FUT_NONE = -6.0  # rpact's "no futility bound"


# ---------------------------------------------------------------------------------------
# inputs


STATISTICS: tuple[str, ...] = ("logrank", "wald")
"""How the looks were given: ``"logrank"`` (z and deaths, rpact's survival dataset) or
``"wald"`` (log hazard ratio and its standard error, with the deaths as information time)."""


def _as_array(x: Any, name: str) -> np.ndarray:
    """Numbers, one per look (a bool is not a number: ``events=[True]`` is refused)."""
    return check_real_array(x, name, error=DesignError, what="numbers (one per look)")


@dataclass(frozen=True)
class _Looks:
    """The looks so far in the one form every computation uses: cumulative deaths (the
    information time), z, the log hazard ratio and its standard error (module docstring)."""

    events: np.ndarray
    z: np.ndarray
    log_hr: np.ndarray
    se: np.ndarray
    ratios: np.ndarray | None
    statistic: str


def logrank_standard_error(events: Any, allocation_ratio: Any = 1) -> np.ndarray:
    """Schoenfeld's standard error of the log hazard ratio behind a log-rank z,
    ``SE = (1 + r) / sqrt(r D)`` (Schoenfeld 1981, *Biometrika* 68:316-319): the log-rank input
    of :func:`analyse` is the Wald input with this SE and ``log HR = z SE``."""
    ev = _as_array(events, "events")
    r = _as_array(allocation_ratio, "allocation_ratio")
    if np.any(ev <= 0) or np.any(r <= 0):
        raise DesignError(f"events and allocation_ratio must be > 0, got {ev.tolist()} and {r.tolist()}")
    return (1 + r) / np.sqrt(r * ev)


def _inputs(design: Any, events: Any, logrank_z: Any, log_hazard_ratio: Any, standard_error: Any,
            allocation_ratio: Any, direction_upper: Any) -> tuple[_Looks, bool]:
    if not isinstance(design, GroupSequentialDesign):
        raise DesignError("design must be a GroupSequentialDesign from trialnb.monitoring.design(), "
                          f"got {type(design).__name__}")
    ev = _as_array(events, "events")
    if np.any(ev <= 0) or np.any(np.diff(ev) <= 0):
        raise DesignError(f"events must be cumulative: > 0 and strictly increasing, got {ev.tolist()}")
    wald = log_hazard_ratio is not None or standard_error is not None
    if wald == (logrank_z is not None):
        raise DesignError("give the looks either as logrank_z, or as log_hazard_ratio with standard_error "
                          "(e.g. the Cox model's estimate and SE), not both and not neither")
    if not isinstance(direction_upper, (bool, np.bool_)):
        raise DesignError(f"direction_upper must be True or False, got {direction_upper!r}")
    if wald:
        if log_hazard_ratio is None or standard_error is None:
            raise DesignError("log_hazard_ratio and standard_error go together (one of each per look)")
        if allocation_ratio is not None:
            raise DesignError("allocation_ratio is used only with logrank_z: the standard error of a "
                              "log hazard ratio already carries the allocation")
        b = _as_array(log_hazard_ratio, "log_hazard_ratio")
        se = _as_array(standard_error, "standard_error")
        if not ev.size == b.size == se.size:
            raise DesignError(f"events, log_hazard_ratio and standard_error must have the same length "
                              f"(one per look), got {ev.size}, {b.size} and {se.size}")
        if np.any(se <= 0):
            raise DesignError(f"standard_error must be > 0, got {se.tolist()}")
        _check_scale(b / se, b)
        return _Looks(ev, b / se, b, se, None, "wald"), bool(direction_upper)
    z = _as_array(logrank_z, "logrank_z")
    if ev.size != z.size:
        raise DesignError(f"events and logrank_z must have the same length (one per look), got {ev.size} and {z.size}")
    r = _as_array(1 if allocation_ratio is None else allocation_ratio, "allocation_ratio")
    if r.size == 1:
        r = np.full(ev.size, r[0])
    if r.size != ev.size or np.any(r <= 0):
        raise DesignError("allocation_ratio must be > 0, a single value or one per look, "
                          f"got {np.asarray(allocation_ratio).tolist()}")
    se = logrank_standard_error(ev, r)
    _check_scale(z, z * se)
    return _Looks(ev, z, z * se, se, r, "logrank"), bool(direction_upper)


_MAX_Z, _MAX_LOG_HR = 40.0, 50.0


def _check_scale(z: np.ndarray, log_hr: np.ndarray) -> None:
    """A z beyond +-40 (a p-value below 1e-300) or a log hazard ratio beyond +-50 is not the
    statistic of a trial: refused (the inference would overflow)."""
    if np.any(np.abs(z) > _MAX_Z) or np.any(np.abs(log_hr) > _MAX_LOG_HR):
        raise DesignError(f"z must lie within +-{_MAX_Z:g} and the log hazard ratio within +-{_MAX_LOG_HR:g} (no "
                          f"trial's statistic is beyond), got z {np.round(z, 3).tolist()} and log HR "
                          f"{np.round(log_hr, 3).tolist()}")


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
    return compute_design(k, d.alpha if alpha is None else alpha, d.sided, d.beta, tod, t, d.delta_wt, d.gamma_a,
                          fut_in, tbs, d.gamma_b, binding, characteristics=characteristics, user_alpha=user_alpha,
                          clamp=clamp)


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
    rejection, H0 not rejected).

    ``statistic`` says how the looks were given (:data:`STATISTICS`): ``z`` is the log-rank z
    or the Wald z ``log_hazard_ratios / standard_errors``; for the log-rank input the log
    hazard ratios are Schoenfeld's approximation ``z (1 + r) / sqrt(r D)`` and the standard
    errors :func:`logrank_standard_error` (``allocation_ratios`` is ``None`` for the Wald
    input). ``max_information`` is the planned maximum given to :func:`analyse` (``None`` when
    the boundaries are the design's); ``design`` is the design actually used (recalculated
    from the observed information when ``max_information`` was given)."""

    design: GroupSequentialDesign
    stage: int
    events: np.ndarray
    z: np.ndarray
    log_hazard_ratios: np.ndarray
    standard_errors: np.ndarray
    statistic: str
    allocation_ratios: np.ndarray | None
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
    max_information: float | None = None

    @property
    def decision(self) -> str:
        """The action at the latest look."""
        return self.actions[-1]

    @property
    def logrank_z(self) -> np.ndarray:
        """The log-rank z of each look (only when the looks were given as log-rank z)."""
        if self.statistic != "logrank":
            raise AttributeError("this analysis was given log hazard ratios and standard errors (Wald): "
                                 "its z statistics are .z")
        return self.z

    def remaining_events(self) -> np.ndarray:
        """Deaths still planned at each remaining look of the design used: the increments of
        ``information_rates x max_information`` after the deaths observed (needs
        ``max_information``; empty at the final look)."""
        if self.max_information is None:
            raise DesignError("the deaths planned at the remaining looks are known only when analyse() was "
                              "given max_information (the planned maximum); otherwise give n_planned")
        planned = np.asarray(self.design.information_rates[self.stage:], dtype=float) * float(self.max_information)
        return np.diff(np.r_[self.events[-1], planned])

    def conditional_power(self, theta_h1: float | None, n_planned: Any = None) -> "ConditionalPower":
        """:func:`conditional_power` of this analysis (on the design it used)."""
        return conditional_power(self, theta_h1=theta_h1, n_planned=n_planned)

    def to_frame(self) -> pd.DataFrame:
        """One row per analysed look."""
        s = self.stage
        return pd.DataFrame(
            {
                "look": np.arange(1, s + 1),
                "events": self.events,
                "z": self.z,
                "log_hazard_ratio": self.log_hazard_ratios,
                "standard_error": self.standard_errors,
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
        if self.statistic == "wald":
            lines.append("statistic: Wald z = log HR / SE; hazard ratios and intervals from the estimate and its SE; "
                         "information time from the deaths")
        else:
            lines.append("statistic: log-rank z; hazard ratios and intervals from the log-rank approximation "
                         "exp(z (1 + r) / sqrt(r D))")
        for i in range(s):
            lines.append(
                f"look {i + 1}: {self.events[i]:g} events, z = {fmt_num(self.z[i], 3)}, "
                f"HR {fmt_hr(self.hazard_ratios[i])} (repeated CI {fmt_num(self.rci_lower[i], 2)} to "
                f"{fmt_num(self.rci_upper[i], 2)}), "
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

        def excess(level: float, k: int = k, spending: bool = spending, stat: float = stat) -> float:
            """Critical value at look k of the design rebuilt at ``level``, minus the statistic."""
            if spending:
                sub = _rebuild(d, alpha=level, rates=d.information_rates[: k + 1], drop_beta_spending=True, clamp=True)
                # critical values of a spending design at look k depend on looks 1..k only
                crit = float(sub.critical_values[k]) if k < sub.k else math.nan
            else:
                crit = float(_rebuild(d, alpha=level, drop_beta_spending=drop_bs, clamp=True).critical_values[k])
            return crit - stat
        out[k] = root(excess, lo, 0.5, f"the repeated p-value at look {k + 1}", clamp=True)
    return out


def _rci(d: GroupSequentialDesign, looks: _Looks, upper: bool):
    """Repeated confidence intervals for the HR, ``exp(b_k -+ c_k SE_k)`` (Jennison & Turnbull
    2000, ch. 9.1; the closed form of rpact's root search for the log-rank input)."""
    n = looks.events.size
    b, se = looks.log_hr, looks.se
    c = np.where(d.critical_values[:n] < 8.2, d.critical_values[:n], np.nan)
    lo = np.exp(b - c * se)
    hi = np.exp(b + c * se)
    fut = _fut_row(d)
    if d.binding_futility and d.sided == 1:
        corr = np.full(n, np.nan)
        for k in range(1, n):
            if np.isfinite(fut[k - 1]) and fut[k - 1] > _FUT_NONE:
                # theta at which look k-1's oriented statistic equals its futility bound
                shift = fut[k - 1] * se[k - 1]
                corr[k] = math.exp(b[k - 1] - shift) if upper else math.exp(b[k - 1] + shift)
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


def _final(d: GroupSequentialDesign, looks: _Looks, zo, upper: bool):
    """Final p-value, CI and median-unbiased HR in the stage-wise ordering (rpact): the drift
    of the canonical process is mapped to the log HR with the information ``1 / SE_s^2`` at the
    stopping look s (module docstring)."""
    ev, b, se = looks.events, looks.log_hr, looks.se
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
    # confidence interval and median-unbiased estimate; the search variable th is the log HR
    # per 1 / sqrt(information per death), th = delta / (SE_s sqrt(D_s)) (sqrt(r)/(1+r) delta
    # for the log-rank input, rpact's scale)
    a_s = 1 / (se[s - 1] * math.sqrt(ev[s - 1]))
    q = qnorm_upper(d.alpha / d.sided)
    if stop == 1:
        ci_lo, ci_hi = sorted((math.exp(b[0] - q * se[0]), math.exp(b[0] + q * se[0])))
        return s, p, (ci_lo, ci_hi), math.exp(b[0])
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
    ci_lo, ci_hi = sorted((to_hr(lo), to_hr(hi)))
    return s, p, (ci_lo, ci_hi), to_hr(mu)


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
                lower = np.where(np.isfinite(fr), (fr * np.sqrt(t[rest]) - zo[k] * math.sqrt(t[k])) / np.sqrt(dt),
                                 -np.inf)
            out[k] = stage_probabilities(scaled, shifted, lower).upper.sum()
    if d.binding_futility and d.sided == 1:
        for k in range(min(d.k - 1, zo.size)):
            if np.isfinite(fut[k]) and zo[k] <= fut[k]:
                out[k : zo.size] = 0.0
                break
    return out


# ---------------------------------------------------------------------------------------
# public


def _design_used(design: GroupSequentialDesign, looks: _Looks, max_information: Any, information_epsilon: Any):
    """The design the looks are analysed on: ``design``, or its boundaries recalculated from the
    observed information when ``max_information`` is given. Returns (design, status, design at
    the earlier looks for over-/under-running, max information)."""
    if max_information is None:
        if information_epsilon is not None:
            raise DesignError("information_epsilon needs max_information")
        return design, None, None, None
    if isinstance(max_information, (bool, np.bool_)):
        raise DesignError(f"max_information (planned deaths) must be a positive number, not {max_information!r}")
    try:
        mi = float(max_information)
    except (TypeError, ValueError):
        raise DesignError("max_information (planned deaths) must be a positive number, "
                          f"got {max_information!r}") from None
    if not mi > 0 or not math.isfinite(mi):
        raise DesignError(f"max_information (planned deaths) must be a positive number, got {max_information!r}")
    eps = None
    if information_epsilon is not None:
        eps = float(information_epsilon)
        if isinstance(information_epsilon, (bool, np.bool_)) or not 0 < eps < mi:
            raise DesignError(f"information_epsilon must lie in (0, max_information), got {information_epsilon!r}")
    d, status, before = _recalculated(design, looks.events, mi, eps)
    return d, status, before, mi


def analyse(
    design: GroupSequentialDesign,
    events: Any,
    logrank_z: Any = None,
    *,
    log_hazard_ratio: Any = None,
    standard_error: Any = None,
    direction_upper: bool = True,
    allocation_ratio: Any = None,
    max_information: float | None = None,
    information_epsilon: float | None = None,
) -> InterimAnalysis:
    """Analyse the looks so far, as ``rpact::getAnalysisResults`` for a survival dataset.

    The looks are the cumulative deaths ``events`` with either the log-rank ``logrank_z``
    (rpact's input; ``allocation_ratio`` r, default 1, one value or one per look) or the
    estimate ``log_hazard_ratio`` and its ``standard_error`` (e.g. the Cox model's Wald
    statistic; the SE carries the allocation). The log-rank input is the Wald input with
    ``SE = (1 + r)/sqrt(r D)``; the module docstring says which quantity uses the deaths and
    which the SE, and gives the sign conventions. ``max_information`` (the planned number of
    deaths) recalculates the boundaries of an alpha-spending design from the observed
    information rates ``events / max_information``, as rpact's ``maxInformation`` (with
    ``information_epsilon`` for under-running, rpact's ``informationEpsilon``)."""
    looks, upper = _inputs(design, events, logrank_z, log_hazard_ratio, standard_error, allocation_ratio,
                           direction_upper)
    d, status, before, mi = _design_used(design, looks, max_information, information_epsilon)
    n = looks.events.size
    if n > d.k:
        raise DesignError(f"{n} looks given but the design has k = {d.k}")
    zo = _oriented(looks.z, upper)
    pad = lambda a: np.r_[a, np.full(d.k - a.size, np.nan)]  # noqa: E731
    if before is not None:
        # rpact: repeated p-values from the design at the earlier observed rates, none at the final look
        rp = np.r_[_repeated_p(before, zo[: n - 1])[: n - 1], np.nan]
    else:
        rp = _repeated_p(d, zo)[:n]
    lo, hi = _rci(d, looks, upper)
    final_stage, p_final, ci, med = _final(d, looks, zo, upper) if d.k > 1 else (None, None, None, None)
    return InterimAnalysis(
        design=d,
        stage=int(n),
        events=looks.events,
        z=looks.z,
        log_hazard_ratios=looks.log_hr,
        standard_errors=looks.se,
        statistic=looks.statistic,
        allocation_ratios=looks.ratios,
        direction_upper=upper,
        z_oriented=zo,
        hazard_ratios=np.exp(looks.log_hr),
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
        information_rates_recalculated=mi is not None,
        information_status=status,
        max_information=mi,
    )


@dataclass(frozen=True)
class ConditionalPower(Result):
    """Cumulative conditional power at the remaining looks, and the hazard ratio assumed.

    ``design`` is the design the probability was computed on (recalculated from the observed
    information when the analysis had ``max_information``)."""

    stage: int
    hazard_ratio: float
    hazard_ratio_source: str
    n_planned: np.ndarray
    conditional_power: np.ndarray
    design: GroupSequentialDesign | None = None

    @property
    def final(self) -> float:
        """Conditional power of rejecting by the last look."""
        return float(self.conditional_power[-1])

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
    design: GroupSequentialDesign | InterimAnalysis,
    events: Any = None,
    logrank_z: Any = None,
    *,
    theta_h1: float | None,
    n_planned: Any = None,
    log_hazard_ratio: Any = None,
    standard_error: Any = None,
    allocation_ratio: Any = None,
    direction_upper: bool = True,
    max_information: float | None = None,
    information_epsilon: float | None = None,
) -> ConditionalPower:
    """Conditional power: the probability of rejecting at the remaining looks given the data
    so far, under the hazard ratio ``theta_h1`` (``None``: the hazard ratio estimated at the
    latest look, rpact's default).

    Give the result of :func:`analyse` (``conditional_power(analyse(...), theta_h1=0.5)``, or
    ``analysis.conditional_power(0.5)``): the probability is then computed on the design that
    analysis used, so at looks off the planned information (``max_information``) it follows the
    recalculated boundaries, as rpact ``getAnalysisResults(..., maxInformation=, nPlanned=,
    thetaH1=)``. The form ``conditional_power(design, events, logrank_z, ...)`` (or with
    ``log_hazard_ratio=``/``standard_error=``) takes the same data arguments as :func:`analyse`
    and is exactly ``conditional_power(analyse(design, events, ...), ...)``.

    ``n_planned``: additional deaths planned per remaining look; by default, when the analysis
    has ``max_information``, the deaths still planned (:meth:`InterimAnalysis.remaining_events`,
    rpact's ``nPlanned`` for a final look at the planned maximum).

    As rpact (``getConditionalPower`` for a group-sequential survival design): the drift is
    ``log(theta_h1) sqrt(kappa n)`` per remaining look with ``kappa`` the information per death
    (``r / (1 + r)^2`` for the log-rank input with the allocation ratio of the latest look,
    which rpact takes from ``allocationRatioPlanned``; ``1 / (SE_s^2 D_s)`` at the latest look s
    for an estimate and its SE), the stage-wise statistics are combined with weights
    ``sqrt(t_j - t_(j-1))`` of the design's information rates, and the design's futility bounds
    at the remaining interims are in force.
    """
    if isinstance(design, InterimAnalysis):
        given = dict(events=events, logrank_z=logrank_z, log_hazard_ratio=log_hazard_ratio,
                     standard_error=standard_error, allocation_ratio=allocation_ratio, max_information=max_information,
                     information_epsilon=information_epsilon)
        extra = sorted(k for k, v in given.items() if v is not None)
        if extra or direction_upper is not True:
            raise DesignError(f"with an InterimAnalysis, the data and design come from it; do not also give "
                              f"{', '.join(extra) or 'direction_upper'}")
        a = design
    else:
        a = analyse(design, events, logrank_z, log_hazard_ratio=log_hazard_ratio, standard_error=standard_error,
                    direction_upper=direction_upper, allocation_ratio=allocation_ratio,
                    max_information=max_information, information_epsilon=information_epsilon)
    return _conditional_power(a, theta_h1, n_planned)


def _conditional_power(a: InterimAnalysis, theta_h1: float | None, n_planned: Any) -> ConditionalPower:
    d = a.design
    s = a.stage
    upper = a.direction_upper
    if s >= d.k:
        raise DesignError(f"conditional power needs a look still to come: {s} looks analysed, "
                          f"the design used has k = {d.k}")
    n = a.remaining_events() if n_planned is None else _as_array(n_planned, "n_planned")
    if n.size != d.k - s or np.any(n <= 0):
        raise DesignError(f"n_planned must give {d.k - s} positive additional event counts (one per remaining look), "
                          f"got {n.tolist()}")
    ev, se = a.events, a.standard_errors
    if theta_h1 is None:
        hr = float(np.exp(a.log_hazard_ratios[-1]))
        source = "observed at the latest look"
    else:
        hr = check_positive(theta_h1, "theta_h1 (hazard ratio)", error=DesignError)
        source = "assumed" if hr != 1 else "no effect (H0)"
    theta = math.log(hr) if upper else -math.log(hr)
    t = d.information_rates
    w = np.sqrt(np.diff(np.r_[0.0, t]))
    zs = _oriented(_stagewise_z(ev, a.z), upper)
    kappa = 1.0 / (se[-1] ** 2 * ev[-1])  # information per death at the latest look
    nn = kappa * n
    rest = slice(s, d.k)
    cum_w2 = np.cumsum(w[rest] ** 2)
    sum_w2 = float(np.sum(w[:s] ** 2))
    comb = float(w[:s] @ zs)
    drift = theta * np.cumsum(np.sqrt(nn) * w[rest]) / np.sqrt(cum_w2)
    upper_b = d.critical_values[rest] * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2) - comb / np.sqrt(cum_w2) - drift
    scaled = (t[rest] - t[s - 1]) / (1 - t[s - 1])
    if d.sided == 2:
        zo_last = float(a.z_oriented[-1])
        lower_b = (-d.critical_values[rest] * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2)
                   - zo_last * math.sqrt(sum_w2) / np.sqrt(cum_w2) - drift)
        p = stage_probabilities(scaled, upper_b, lower_b)
    else:
        fut = _fut_row(d)[rest]
        lower_b = np.where(np.isfinite(fut),
                           fut * np.sqrt(sum_w2 + cum_w2) / np.sqrt(cum_w2) - comb / np.sqrt(cum_w2) - drift, -np.inf)
        lower_b[-1] = -np.inf
        p = stage_probabilities(scaled, upper_b, lower_b)
    return ConditionalPower(stage=s, hazard_ratio=hr, hazard_ratio_source=source, n_planned=n,
                            conditional_power=np.cumsum(p.upper), design=d)
