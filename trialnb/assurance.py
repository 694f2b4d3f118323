"""What can this trial show, given what is already known? The probability of success
("assurance") of the protocol's design under priors built from the randomized evidence, and what
it would take to succeed.

**Power vs probability of success.** Power is the probability of a significant result *if* the
hazard ratio is a given value (the protocol's 0.5). The probability of success averages that
power over a prior distribution for the hazard ratio (O'Hagan, Stevens & Campbell 2005, *Pharm
Stat* 4:187-201; Spiegelhalter, Abrams & Myles 2004, *Bayesian Approaches to Clinical Trials and
Health-Care Evaluation*, Wiley, section 6.5). Success is a rejection *in favour of surgery*
(log HR < 0, arm A vs arm B).

**Fixed design, closed form.** With ``D`` deaths and allocation ratio ``r`` the benefit z of the
log-rank / Cox test is about ``N(-ln(HR) c, 1)``, ``c = sqrt(r D) / (1 + r)`` (Schoenfeld 1981,
the approximation of :mod:`trialnb.sample_size`). With a normal prior ``ln HR ~ N(m, s^2)`` the
benefit z is marginally ``N(-m c, 1 + c^2 s^2)``, so

    P(success) = Phi((-m c - z_{1-alpha/sided}) / sqrt(1 + c^2 s^2)).

As ``D`` grows this tends to ``Phi(-m / s) = P(true HR < 1)``: no number of deaths gives a
higher probability of success than the prior probability that surgery helps.

**Group-sequential design.** The probability of crossing any efficacy boundary of a design of
:func:`trialnb.monitoring.design` at drift ``-ln(HR) c`` (:func:`trialnb.monitoring.crossing_probabilities`,
futility bounds obeyed), integrated over the prior by adaptive quadrature (QUADPACK, on each
side of HR = 1). A one-look design gives the closed form above.

**The split of success.** ``success_with_benefit = P(success and true HR < 1)`` (a correct
success) and ``success_without_benefit = P(success and true HR >= 1)`` (a false positive), by
quadrature of the power over each half of the prior.

**Priors** (:func:`named_priors`): the predictive distribution of a new trial's log HR from a
random-effects meta-analysis, ``N(mu, se^2 + tau^2)`` (Higgins, Thompson & Spiegelhalter 2009,
*J R Stat Soc A* 172:137-159), of all five randomized trials, of those randomized at diagnosis
and of those randomized after induction (:func:`trialnb.evidence.pool_trials`); a sceptical
prior centred on no effect with ``P(HR < HR_alt) = 5%`` and an enthusiastic prior centred on
``HR_alt`` with ``P(HR > 1) = 5%`` (Spiegelhalter, Freedman & Parmar 1994, *J R Stat Soc A*
157:357-416), ``HR_alt`` the protocol's design hazard ratio; and any user prior (:class:`Prior`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats
from scipy.special import ndtr

from . import monitoring
from .errors import EvidenceError
from .evidence import AFTER_INDUCTION, AT_DIAGNOSIS, MetaAnalysis, pool_trials
from .protocol import PROTOCOL
from .report import fmt_n, fmt_num, fmt_pct
from .results import Result, fields_frame
from .plan import PLAN, TrialPlan, check_plan
from .sample_size import (detectable_hazard_ratio, event_probability, patients_for_events, sample_size,
                          schoenfeld_events, z_value)
from .simulation import BENEFIT, simulate, simulate_sequential
from .simulation.costs import estimate_calls
from .workload import ProgressArg, check_progress, limits, progress as progress_of
from .validation import check_choice, check_finite, check_int, check_positive, check_probability, check_seed

__all__ = [
    "PRIOR_NAMES",
    "Assurance",
    "HarmMargin",
    "Prior",
    "SimulatedAssurance",
    "WhatItWouldTake",
    "assurance",
    "assurance_table",
    "centres_needed",
    "centres_text",
    "enthusiastic_prior",
    "named_priors",
    "predictive_prior",
    "rule_out_harm",
    "sceptical_prior",
    "simulate_assurance",
    "what_it_would_take",
]

PRIOR_NAMES: tuple[str, ...] = ("pooled", "at_diagnosis", "after_induction", "sceptical", "enthusiastic")
"""The named priors of :func:`named_priors`, in the order the notebooks show them."""

_ERR = EvidenceError
_QUAD_EPSABS, _QUAD_EPSREL, _QUAD_LIMIT = 1e-11, 1e-10, 200
_U_MAX = 12.0


@dataclass(frozen=True)
class Prior:
    """A normal prior for the log hazard ratio (arm A vs B): ``ln HR ~ N(mean_log_hr, sd^2)``."""

    name: str
    mean_log_hr: float
    sd: float
    label: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise EvidenceError(f"a prior needs a name (a non-empty string), got {self.name!r}")
        object.__setattr__(self, "mean_log_hr", check_finite(self.mean_log_hr, "mean_log_hr", error=_ERR))
        object.__setattr__(self, "sd", check_positive(self.sd, "sd (prior SD of the log hazard ratio)", error=_ERR))
        if not self.label:
            object.__setattr__(self, "label", self.name)

    @property
    def hazard_ratio(self) -> float:
        """The prior median hazard ratio ``exp(mean_log_hr)``."""
        return math.exp(self.mean_log_hr)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Central prior interval of the hazard ratio."""
        lv = check_probability(level, "level", lo_open=True, hi_open=True, error=_ERR)
        z = float(stats.norm.ppf(0.5 + lv / 2))
        return math.exp(self.mean_log_hr - z * self.sd), math.exp(self.mean_log_hr + z * self.sd)

    @property
    def probability_benefit(self) -> float:
        """Prior probability that the true HR < 1: ``Phi(-mean / sd)``."""
        return float(ndtr(-self.mean_log_hr / self.sd))

    def probability_below(self, hazard_ratio: float) -> float:
        """Prior probability that the true HR is below ``hazard_ratio``."""
        h = check_positive(hazard_ratio, "hazard_ratio", error=_ERR)
        return float(ndtr((math.log(h) - self.mean_log_hr) / self.sd))

    def describe(self) -> str:
        lo, hi = self.interval()
        return (f"{self.label}: HR {fmt_num(self.hazard_ratio, 2)} "
                f"(95% prior interval {fmt_num(lo, 2)} to {fmt_num(hi, 2)})")


def predictive_prior(meta: MetaAnalysis, name: str = "pooled", label: str = "") -> Prior:
    """The predictive distribution of a new trial's log HR from a meta-analysis:
    ``N(mu, se^2 + tau^2)`` (Higgins, Thompson & Spiegelhalter 2009)."""
    if not isinstance(meta, MetaAnalysis):
        raise EvidenceError(f"meta must be a MetaAnalysis (trialnb.evidence.meta_analysis), got {type(meta).__name__}")
    return Prior(name, meta.log_hr, meta.predictive_sd, label or name,
                 f"predictive distribution of a {meta.describe()} meta-analysis of {meta.k} trials "
                 f"({', '.join(meta.labels)})")


def _alt(alternative_hr: Any, tail: Any) -> tuple[float, float]:
    h = check_positive(alternative_hr, "alternative_hr", error=_ERR)
    if h == 1:
        raise EvidenceError("alternative_hr must differ from 1 (the prior's scale is set by it); allowed: > 0 and != 1")
    t = check_probability(tail, "tail", lo_open=True, hi_open=True, error=_ERR)
    if t >= 0.5:
        raise EvidenceError(f"tail must be below 0.5 (a tail probability), got {tail!r}")
    return math.log(h), abs(math.log(h)) / float(stats.norm.isf(t))


def sceptical_prior(alternative_hr: float = PROTOCOL.design.hazard_ratio, tail: float = 0.05) -> Prior:
    """Spiegelhalter's sceptical prior: centred on no effect (HR 1) with ``P(HR < alternative_hr)
    = tail``, i.e. ``sd = |ln alternative_hr| / z_{1-tail}`` (Spiegelhalter, Freedman & Parmar 1994)."""
    m, sd = _alt(alternative_hr, tail)
    return Prior("sceptical", 0.0, sd, "sceptical",
                 f"centred on HR 1 with P(HR < {alternative_hr:g}) = {tail:g} (Spiegelhalter, Freedman & Parmar 1994)")


def enthusiastic_prior(alternative_hr: float = PROTOCOL.design.hazard_ratio, tail: float = 0.05) -> Prior:
    """Spiegelhalter's enthusiastic prior: centred on ``alternative_hr`` with ``P(HR > 1) = tail``
    (the same SD as :func:`sceptical_prior`)."""
    m, sd = _alt(alternative_hr, tail)
    return Prior("enthusiastic", m, sd, "enthusiastic",
                 f"centred on HR {alternative_hr:g} with P(HR > 1) = {tail:g} (Spiegelhalter, Freedman & Parmar 1994)")


def named_priors(method: str = "REML", alternative_hr: float = PROTOCOL.design.hazard_ratio,
                 tail: float = 0.05) -> dict[str, Prior]:
    """The five named priors (:data:`PRIOR_NAMES`): the predictive distributions of the
    random-effects meta-analyses (``method``) of all randomized trials, of those randomized at
    diagnosis and of those randomized after induction; the sceptical and the enthusiastic prior
    around ``alternative_hr`` (default the protocol's 0.5)."""
    return {
        "pooled": predictive_prior(pool_trials(method=method), "pooled", "pooled randomized trials"),
        "at_diagnosis": predictive_prior(pool_trials(randomized_at=AT_DIAGNOSIS, method=method), "at_diagnosis",
                                         "trials randomizing at diagnosis"),
        "after_induction": predictive_prior(pool_trials(randomized_at=AFTER_INDUCTION, method=method),
                                            "after_induction", "trials randomizing after induction"),
        "sceptical": sceptical_prior(alternative_hr, tail),
        "enthusiastic": enthusiastic_prior(alternative_hr, tail),
    }


# ---------------------------------------------------------------------------------------
# probability of success


@dataclass(frozen=True)
class Assurance(Result):
    """Result of :func:`assurance` (module docstring). ``power_at_prior_mean`` is the ordinary
    power (success only) at the prior median hazard ratio, for comparison."""

    prior: Prior
    events: float
    design: str
    method: str
    alpha: float
    sided: int
    allocation_ratio: float
    probability_of_success: float
    probability_benefit: float
    success_with_benefit: float
    success_without_benefit: float
    power_at_prior_mean: float

    @property
    def probability_benefit_given_success(self) -> float:
        """P(true HR < 1 | success)."""
        return self.success_with_benefit / self.probability_of_success if self.probability_of_success > 0 else math.nan

    def to_frame(self) -> pd.DataFrame:
        out = fields_frame(self)
        out.insert(0, "prior", self.prior.name)
        out.insert(1, "prior_hazard_ratio", self.prior.hazard_ratio)
        out.insert(2, "prior_sd", self.prior.sd)
        return out

    def summary(self) -> str:
        return (f"Probability of success {fmt_pct(self.probability_of_success)} with {fmt_num(self.events, 0)} deaths "
                f"({self.design}) under the prior {self.prior.describe()}\n"
                f"of which {fmt_pct(self.success_with_benefit)} with a true benefit and "
                f"{fmt_pct(self.success_without_benefit)} false positive (true HR >= 1); "
                f"P(true HR < 1) = {fmt_pct(self.probability_benefit)}; "
                f"power at the prior median HR {fmt_num(self.prior.hazard_ratio, 2)}: "
                f"{fmt_pct(self.power_at_prior_mean)} ({self.method})")


def _prior_arg(prior: Any, mean: Any, sd: Any) -> Prior:
    if prior is not None:
        if mean is not None or sd is not None:
            raise EvidenceError("give either prior or prior_mean_log_hr and prior_sd, not both")
        if not isinstance(prior, Prior):
            raise EvidenceError(f"prior must be a trialnb.assurance.Prior, got {type(prior).__name__}")
        return prior
    if mean is None or sd is None:
        raise EvidenceError("a prior is needed: prior=Prior(...) or both prior_mean_log_hr and prior_sd")
    return Prior("user", mean, sd, "user prior", "given by the user")


def _scale(events: Any, r: float) -> tuple[float, float]:
    d = check_positive(events, "events", error=_ERR)
    return d, math.sqrt(r * d) / (1 + r)


def _split(prior: Prior, pos_at: Any) -> tuple[float, float]:
    """(P(success and HR < 1), P(success and HR >= 1)): quadrature over the standardized prior."""
    m, s = prior.mean_log_hr, prior.sd

    def f(u: float) -> float:
        return float(stats.norm.pdf(u)) * pos_at(m + s * u)

    cut = -m / s  # u at HR = 1

    def part(a: float, b: float) -> float:
        # the standard normal beyond |u| = 12 holds less than 1e-32: integrate where the mass is
        a, b = max(a, -_U_MAX), min(b, _U_MAX)
        if not b > a:
            return 0.0
        pts = [0.0] if a < 0.0 < b else None
        return integrate.quad(f, a, b, points=pts, epsabs=_QUAD_EPSABS, epsrel=_QUAD_EPSREL, limit=_QUAD_LIMIT)[0]

    return part(-np.inf, cut), part(cut, np.inf)


def assurance(*, events: float, prior: Prior | None = None, prior_mean_log_hr: float | None = None,
              prior_sd: float | None = None, design: monitoring.GroupSequentialDesign | None = None,
              alpha: float | None = None, sided: int | None = None, allocation_ratio: float = 1.0) -> Assurance:
    """Probability that the trial succeeds (rejects in favour of surgery), averaged over a
    normal prior for the log HR (module docstring).

    ``events``: deaths at the (final) analysis. The prior is ``prior`` or the pair
    ``prior_mean_log_hr``, ``prior_sd``. Without ``design``: a fixed design tested at ``alpha``
    (default 0.05) ``sided`` (default 2), closed form. With a group-sequential ``design``
    (:func:`trialnb.monitoring.design`, benefit z upwards): its boundaries and futility bounds,
    numerical integration; the design carries its own alpha and sides, so ``alpha`` and ``sided``
    must then be left out.
    """
    pr = _prior_arg(prior, prior_mean_log_hr, prior_sd)
    r = check_positive(allocation_ratio, "allocation_ratio", error=_ERR)
    d, c = _scale(events, r)
    m = pr.mean_log_hr
    if design is None:
        a = 0.05 if alpha is None else check_probability(alpha, "alpha", lo_open=True, hi_open=True, error=_ERR)
        sd_ = 2 if sided is None else check_choice(sided, "sided", (1, 2), error=_ERR)
        z = z_value(a, sd_)
        pos = float(_fixed_pos(pr, d, r, z))
        benefit, harm = _split(pr, lambda x: float(ndtr(-x * c - z)))
        label = f"fixed design, {'two' if sd_ == 2 else 'one'}-sided alpha {fmt_num(a, 3)}"
        method = "closed form"
        pw = float(ndtr(-m * c - z))
    else:
        if alpha is not None or sided is not None:
            raise EvidenceError("a group-sequential design carries its own alpha and sides: leave alpha and sided out")
        if not isinstance(design, monitoring.GroupSequentialDesign):
            raise EvidenceError(f"design must be a trialnb.monitoring design, got {type(design).__name__}")

        def gs_pos(x: float) -> float:
            return float(monitoring.crossing_probabilities(design, -x * c)[0].sum())

        benefit, harm = _split(pr, gs_pos)
        pos = benefit + harm
        a, sd_ = design.alpha, design.sided
        label = f"group-sequential design: {design.describe()}"
        method = "numerical integration"
        pw = gs_pos(m)
    return Assurance(prior=pr, events=d, design=label, method=method, alpha=a, sided=sd_, allocation_ratio=r,
                     probability_of_success=pos, probability_benefit=pr.probability_benefit,
                     success_with_benefit=benefit, success_without_benefit=harm, power_at_prior_mean=pw)


def assurance_table(priors: Mapping[str, Prior], events: Sequence[float], *,
                    design: monitoring.GroupSequentialDesign | None = None) -> pd.DataFrame:
    """Probability of success for every prior and number of deaths (fixed two-sided 5% design,
    or ``design``): one row per (prior, events)."""
    rows = []
    for name, p in priors.items():
        for e in events:
            a = assurance(events=e, prior=p, design=design)
            rows.append({"prior": name, "events": e, "prior_hazard_ratio": p.hazard_ratio, "prior_sd": p.sd,
                         "probability_of_success": a.probability_of_success,
                         "success_with_benefit": a.success_with_benefit,
                         "success_without_benefit": a.success_without_benefit,
                         "probability_benefit": a.probability_benefit, "power_at_prior_mean": a.power_at_prior_mean})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# what it would take


def centres_needed(patients: int, accrual_months: float = PROTOCOL.design.accrual_months) -> int:
    """Centres needed to randomize ``patients`` in ``accrual_months`` when each randomizes at the
    protocol's own one-centre rate (236 patients in 36 months, about 6.6 a month)."""
    n = check_int(patients, "patients", minimum=1, error=_ERR)
    a = check_positive(accrual_months, "accrual_months", error=_ERR)
    rate = 2 * PROTOCOL.stated.n_per_arm_after_loss / PROTOCOL.design.accrual_months
    return int(math.ceil(n / (rate * a) - 1e-9))


def centres_text(centres: float) -> str:
    """``"1 centre"``, ``"38 centres"`` (a count of centres in words for tables and summaries)."""
    return f"{fmt_n(centres)} centre{'' if centres == 1 else 's'}"


@dataclass(frozen=True)
class WhatItWouldTake(Result):
    """Result of :func:`what_it_would_take`: deaths, patients (protocol's follow-up, Pr(event) at
    the prior median HR, 10% loss) and centres for ``power`` at the prior median HR, and for an
    ``assurance_target`` probability of success under the prior (``None`` where no number of
    deaths reaches it: the ceiling is ``P(true HR < 1)``)."""

    prior: Prior
    hazard_ratio: float
    power: float
    events_for_power: float
    patients_for_power: float
    centres_for_power: float
    assurance_target: float
    assurance_ceiling: float
    events_for_assurance: int | None
    patients_for_assurance: int | None
    centres_for_assurance: int | None
    protocol_events: int
    protocol_assurance: float

    @property
    def reachable(self) -> bool:
        return self.events_for_assurance is not None

    def to_frame(self) -> pd.DataFrame:
        out = fields_frame(self)
        out.insert(0, "prior", self.prior.name)
        return out

    def summary(self) -> str:
        pw = (f"{fmt_pct(self.power, 0)} power at HR {fmt_num(self.hazard_ratio, 2)}: "
              + (f"{fmt_n(self.events_for_power)} deaths, {fmt_n(self.patients_for_power)} patients, "
                 f"{centres_text(self.centres_for_power)} at the protocol's one-centre rate"
                 if math.isfinite(self.events_for_power) else "not possible (the prior's median HR is not below 1)"))
        ev_a, n_a, c_a = self.events_for_assurance, self.patients_for_assurance, self.centres_for_assurance
        if ev_a is not None and n_a is not None and c_a is not None:  # reachable: all three are set
            asr = (f"{fmt_pct(self.assurance_target, 0)} probability of success: "
                   f"{fmt_n(ev_a)} deaths, {fmt_n(n_a)} patients, {centres_text(c_a)}")
        else:
            asr = (f"{fmt_pct(self.assurance_target, 0)} probability of success: unreachable, no number of deaths "
                   f"exceeds P(true HR < 1) = {fmt_pct(self.assurance_ceiling)}")
        return (f"Under the prior {self.prior.describe()} (the protocol's {fmt_n(self.protocol_events)} deaths: "
                f"{fmt_pct(self.protocol_assurance)} probability of success)\n{pw}\n{asr}")


def _patients(events: float, hr: float) -> int:
    """Patients after loss for ``events`` deaths with the protocol's follow-up (everyone 2 years),
    control hazard and loss (:func:`trialnb.sample_size.patients_for_events`)."""
    d = PROTOCOL.design
    pr = event_probability(hr, d.control_hazard_per_month, 0.0, d.horizon_months, d.allocation_ratio)
    _, _, nc, nt = patients_for_events(events, pr, d.allocation_ratio, d.loss_to_follow_up)
    return nc + nt


def _fixed_pos(prior: Prior, events: Any, r: float, z: float) -> Any:
    """Closed-form probability of success of a fixed design (module docstring); ``events`` may
    be an array."""
    c = np.sqrt(r * np.asarray(events, dtype=float)) / (1 + r)
    m, s = prior.mean_log_hr, prior.sd
    return ndtr((-m * c - z) / np.sqrt(1 + c * c * s * s))


def _events_for_assurance(prior: Prior, target: float, alpha: float, sided: int, r: float) -> int | None:
    """Smallest whole number of deaths whose fixed-design probability of success reaches
    ``target``; None when ``target`` is at or above the ceiling ``P(HR < 1)`` or needs more than
    10^9 deaths. P(success) rises with the deaths when the prior favours surgery; otherwise it
    first dips below alpha: the first crossing on a fine geometric grid is refined by Brent's method."""
    if target >= prior.probability_benefit:
        return None
    z = z_value(alpha, sided)
    grid = np.geomspace(0.25, 1e9, 2000)
    above = np.flatnonzero(_fixed_pos(prior, grid, r, z) >= target)
    if above.size == 0:
        return None
    i = int(above[0])
    if i == 0:
        return 1
    e = optimize.brentq(lambda x: float(_fixed_pos(prior, x, r, z)) - target, grid[i - 1], grid[i], xtol=1e-10)
    return int(math.ceil(e - 1e-9))


def what_it_would_take(prior: Prior, *, power_target: float = PROTOCOL.design.power, assurance_target: float = 0.8,
                       alpha: float = PROTOCOL.design.alpha, sided: int = PROTOCOL.design.sided) -> WhatItWouldTake:
    """Deaths, patients and centres for ``power_target`` at the prior median hazard ratio
    (Schoenfeld, :func:`trialnb.sample_size.sample_size`: the plan's follow-up,
    control survival and 10% loss; infinite when that median is not below 1, as no number of
    deaths shows a benefit there) and for an ``assurance_target`` probability of success under
    ``prior`` (fixed design), saying when no number of deaths reaches it."""
    if not isinstance(prior, Prior):
        raise EvidenceError(f"prior must be a trialnb.assurance.Prior, got {type(prior).__name__}")
    pt = check_probability(power_target, "power_target", lo_open=True, hi_open=True, error=_ERR)
    at = check_probability(assurance_target, "assurance_target", lo_open=True, hi_open=True, error=_ERR)
    hr = prior.hazard_ratio
    d = PROTOCOL.design
    if hr >= 1 - 1e-12:  # no benefit to detect: power to show one cannot reach the target
        ev_p, n_p, c_p = math.inf, math.inf, math.inf
    else:
        ss = sample_size(hazard_ratio=hr, power=pt, alpha=alpha, sided=sided)
        ev_p, n_p = ss.events_rounded, ss.n_total_after_loss
        c_p = centres_needed(n_p)
    ev_a = _events_for_assurance(prior, at, alpha, sided, d.allocation_ratio)
    n_a = _patients(ev_a, hr) if ev_a is not None else None
    c_a = centres_needed(n_a) if n_a is not None else None
    proto_ev = int(math.ceil(schoenfeld_events(d.hazard_ratio, d.alpha, d.power, d.allocation_ratio, d.sided) - 1e-9))
    return WhatItWouldTake(prior=prior, hazard_ratio=hr, power=pt, events_for_power=ev_p, patients_for_power=n_p,
                           centres_for_power=c_p, assurance_target=at, assurance_ceiling=prior.probability_benefit,
                           events_for_assurance=ev_a, patients_for_assurance=n_a, centres_for_assurance=c_a,
                           protocol_events=proto_ev,
                           protocol_assurance=assurance(events=proto_ev, prior=prior, alpha=alpha,
                                                        sided=sided).probability_of_success)


@dataclass(frozen=True)
class HarmMargin(Result):
    """Result of :func:`rule_out_harm`: with ``n_patients`` and a true hazard ratio, the expected
    deaths, the largest harm (HR margin) the trial excludes with ``power`` at one-sided ``alpha``
    (a non-inferiority question), and the expected upper confidence limit."""

    n_patients: int
    true_hazard_ratio: float
    expected_deaths: float
    alpha: float
    power: float
    margin: float
    expected_upper_limit: float

    def summary(self) -> str:
        return (f"With {fmt_n(self.n_patients)} patients "
                f"(about {fmt_num(self.expected_deaths, 0)} deaths if the true HR is "
                f"{fmt_num(self.true_hazard_ratio, 2)}), the trial has {fmt_pct(self.power, 0)} power to exclude "
                f"HR >= {fmt_num(self.margin, 2)} (one-sided alpha {fmt_num(self.alpha, 3)}); the expected upper "
                f"{fmt_pct(1 - self.alpha, 1)} confidence limit is {fmt_num(self.expected_upper_limit, 2)}")


def rule_out_harm(n_patients: int = 2 * PROTOCOL.stated.n_per_arm_after_loss, true_hazard_ratio: float = 1.0, *,
                  alpha: float = PROTOCOL.design.alpha / PROTOCOL.design.sided, power: float = PROTOCOL.design.power,
                  dropout_probability: float = PROTOCOL.design.loss_to_follow_up) -> HarmMargin:
    """The non-inferiority ("rule out a large harm") question ``n_patients`` can answer.

    Expected deaths ``D = n Pr(death within 2 years)`` (:func:`trialnb.sample_size.event_probability`
    at the true HR, the protocol's control hazard, exponential drop-out with probability
    ``dropout_probability`` by 2 years as a competing risk). The margin the trial excludes with
    ``power`` when the true HR is ``h``: ``h / detectable_hazard_ratio(D)`` = ``h exp((z_{1-alpha}
    + z_{power}) 2 / sqrt(D))`` (:func:`trialnb.sample_size.detectable_hazard_ratio`); the expected
    upper limit is ``h exp(z_{1-alpha} 2 / sqrt(D))``."""
    n = check_int(n_patients, "n_patients", minimum=2, error=_ERR)
    h = check_positive(true_hazard_ratio, "true_hazard_ratio", error=_ERR)
    a = check_probability(alpha, "alpha (one-sided)", lo_open=True, hi_open=True, error=_ERR)
    pw = check_probability(power, "power", lo_open=True, hi_open=True, error=_ERR)
    dp = check_probability(dropout_probability, "dropout_probability", lo_open=False, hi_open=True, error=_ERR)
    d = PROTOCOL.design
    eta = -math.log1p(-dp) / d.horizon_months
    deaths = n * event_probability(h, d.control_hazard_per_month, 0.0, d.horizon_months, d.allocation_ratio, eta)
    margin = h / detectable_hazard_ratio(deaths, alpha=a, power=pw, allocation_ratio=d.allocation_ratio, sided=1)
    upper = h * math.exp(z_value(a, 1) * (1 + d.allocation_ratio) / math.sqrt(d.allocation_ratio * deaths))
    return HarmMargin(n_patients=n, true_hazard_ratio=h, expected_deaths=deaths, alpha=a, power=pw, margin=margin,
                      expected_upper_limit=upper)


# ---------------------------------------------------------------------------------------
# simulation check


@dataclass(frozen=True)
class SimulatedAssurance(Result):
    """Result of :func:`simulate_assurance`: the probability of success estimated by drawing a
    true HR from the prior for each block of simulated trials, with its Monte-Carlo SE (the SD of
    the per-draw success fractions over sqrt(n_draws)), beside the analytic value."""

    prior: Prior
    events: int
    design: str
    analysis: str
    n_draws: int
    trials_per_draw: int
    seed: int
    probability_of_success: float
    mc_se: float
    analytic: float
    success_by_draw: np.ndarray = field(repr=False)
    log_hr_by_draw: np.ndarray = field(repr=False)

    @property
    def z(self) -> float:
        """(simulated - analytic) / MC SE."""
        return (self.probability_of_success - self.analytic) / self.mc_se if self.mc_se > 0 else math.nan

    @property
    def within_mc_error(self) -> bool:
        """|simulated - analytic| <= 2.576 MC SE (99% Monte-Carlo limits)."""
        return abs(self.z) <= 2.576

    def to_frame(self) -> pd.DataFrame:
        out = fields_frame(self)
        out.insert(0, "prior", self.prior.name)
        return out

    def summary(self) -> str:
        return (f"Simulated probability of success {fmt_pct(self.probability_of_success)} (MC SE "
                f"{fmt_pct(self.mc_se)}) vs analytic {fmt_pct(self.analytic)}: "
                f"{'within' if self.within_mc_error else 'OUTSIDE'} 99% Monte-Carlo limits\n"
                f"{fmt_n(self.n_draws)} hazard ratios drawn from the prior {self.prior.describe()}, "
                f"{fmt_n(self.trials_per_draw)} trials each "
                f"({self.design}, {self.analysis} analysis, seed {self.seed})")


def simulate_assurance(prior: Prior, *, plan: TrialPlan = PLAN, sequential: bool = False, n_draws: int = 400,
                       trials_per_draw: int = 20, seed: int = 0, max_seconds: float | None = None,
                       max_memory_gb: float | None = None, progress: ProgressArg = None) -> SimulatedAssurance:
    """Monte-Carlo check of :func:`assurance`: ``n_draws`` true hazard ratios drawn from ``prior``;
    for each, ``trials_per_draw`` trials of the plan (:mod:`trialnb.simulation`: its design with
    that hazard ratio, its statistic on its endpoint) with the final analysis at the plan's
    planned deaths (event-driven, :func:`trialnb.monitoring.plan_max_events`): the fixed design
    (:func:`trialnb.simulation.simulate`, the final analysis alone) or, with ``sequential``, the
    plan's looks (:func:`trialnb.simulation.simulate_sequential`, guidelines ignored: success is
    crossing an efficacy boundary). Success is a rejection in favour of arm A. The analytic value
    is :func:`assurance` at the same deaths with the benefit side of the plan's design.
    Deterministic given ``seed``. Bounded (:mod:`trialnb.workload`): refused beyond
    ``max_seconds`` / ``max_memory_gb`` before the first draw; ``progress`` counts the draws."""
    if not isinstance(prior, Prior):
        raise EvidenceError(f"prior must be a trialnb.assurance.Prior, got {type(prior).__name__}")
    check_plan(plan, error=EvidenceError)
    if not isinstance(sequential, bool):
        raise EvidenceError(f"sequential must be True or False, got {sequential!r}")
    m = check_int(n_draws, "n_draws", minimum=2, error=_ERR)
    n = check_int(trials_per_draw, "trials_per_draw", minimum=1, error=_ERR)
    check_seed(seed, error=_ERR)
    progress = check_progress(progress, _ERR)
    lim = limits(max_seconds, max_memory_gb)
    plan = plan.with_changes(final_analysis="events")
    est = estimate_calls("simulate_assurance", m, n, plan.design.n_patients, (plan.analysis.statistic,),
                         looks=plan.monitoring.k if sequential else 1).check(lim)
    ev = monitoring.plan_max_events(plan)
    design = monitoring.plan_benefit_design(plan) if sequential else None
    rng = np.random.default_rng(seed)
    log_hr = prior.mean_log_hr + prior.sd * rng.standard_normal(m)
    seeds = rng.integers(0, 2**31 - 1, size=m)
    success = np.empty(m)
    inner_memory_gb = lim.max_memory / 2**30  # each inner run bounded by memory only (time by the whole)
    with progress_of(m, "simulate_assurance", progress, est.seconds, unit="draw") as bar:
        for i in range(m):
            truth = {"hazard_ratio": float(math.exp(log_hr[i]))}
            if not sequential:
                res = simulate(plan, n, seed=int(seeds[i]), truth=truth, progress=False, max_seconds=math.inf,
                               max_memory_gb=inner_memory_gb)
                # a failed analysis: no success
                success[i] = np.mean(res.reject[res.analysis] & (res.z[res.analysis] < 0))
            else:
                sres = simulate_sequential(plan, n, seed=int(seeds[i]), truth=truth, follow_guidelines=False,
                                           progress=False, max_seconds=math.inf, max_memory_gb=inner_memory_gb)
                success[i] = np.mean(sres.decision == BENEFIT)
            bar.advance(1)
    analytic = assurance(events=ev, prior=prior, design=design).probability_of_success
    label = "fixed design" if design is None else design.describe()
    return SimulatedAssurance(prior=prior, events=ev, design=label, analysis=plan.analysis.statistic, n_draws=m,
                              trials_per_draw=n,
                              seed=int(seed), probability_of_success=float(success.mean()),
                              mc_se=float(success.std(ddof=1) / math.sqrt(m)), analytic=analytic,
                              success_by_draw=success, log_hr_by_draw=log_hr)
