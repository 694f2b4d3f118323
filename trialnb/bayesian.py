"""Bayesian monitoring for the data monitoring committee (DMC): at an interim analysis, the
posterior of the log hazard ratio under each named prior, the posterior probabilities that the
hazard ratio is below 1 and below 0.8, the predictive probability of success at the final
analysis, and a futility guideline on the predictive-probability scale with its operating
characteristics. Pure functions; the interim report can call :func:`bayesian_interim`.

**Normal-normal posterior** (Spiegelhalter, Freedman & Blackburn 1986, *Control Clin Trials*
7:8-17; Spiegelhalter, Abrams & Myles 2004, *Bayesian Approaches to Clinical Trials and
Health-Care Evaluation*, Wiley, section 6.6). With the interim estimate ``y = ln HR`` (standard
error ``se``) and a prior ``N(m0, s0^2)`` for the log HR (:class:`trialnb.assurance.Prior`), the
posterior is ``N(m1, s1^2)`` with ``1/s1^2 = 1/s0^2 + 1/se^2`` and ``m1 = s1^2 (m0/s0^2 + y/se^2)``;
``P(HR < h | data) = Phi((ln h - m1) / s1)``.

**Predictive probability of success at the final analysis** (the conditional power averaged over
the posterior; Spiegelhalter et al. 1986; Dmitrienko & Wang 2006, *Stat Med* 25:2178-2195).
Write ``theta = -ln HR`` (benefit), ``I1 = 1/se^2`` the interim information, ``IF = I1 DF / D1``
the final information (``D1`` deaths now, ``DF`` planned), ``Delta = IF - I1`` and ``z1 = -y/se``
the interim benefit z. The final benefit z is ``(sqrt(I1) z1 + S) / sqrt(IF)`` with
``S ~ N(theta Delta, Delta)`` given theta, so with the final boundary ``c``:

    CP(theta) = Phi((sqrt(I1) z1 + theta Delta - c sqrt(IF)) / sqrt(Delta)),
    PP = Phi((sqrt(I1) z1 + mu Delta - c sqrt(IF)) / sqrt(Delta + tau^2 Delta^2)),

``mu = -m1`` and ``tau = s1`` the posterior mean and SD of theta. PP is the probability of
crossing the final boundary; intermediate looks still to come (a design with more than two
looks) are not counted.

**Futility on the predictive-probability scale** (:func:`pp_futility`): stop (non-binding) at
the interim when PP under a chosen prior is below a threshold. PP rises with the interim z, so
the rule is a futility bound ``z_f`` on the benefit-z scale; its operating characteristics
(type-I error, power, probability of stopping for futility) follow from the recursive
integration of :func:`trialnb.monitoring.crossing_probabilities` and are checked by simulation
(:func:`futility_operating_characteristics`, :func:`trialnb.simulation.simulate_sequential`).
This is the idea of gsDesign's ``gsPPFutilitySpending`` (a futility bound set by a predictive
probability target under a fixed prior) without its re-calibration of the design to keep the
power: a non-binding guideline leaves the boundaries unchanged and costs some power, which is
reported.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtr

from . import monitoring
from .assurance import Prior, named_priors
from .errors import EvidenceError
from .report import fmt_n, fmt_num, fmt_pct
from .results import Result, fields_frame
from .plan import PLAN, TrialPlan, check_plan
from .simulation import BENEFIT, FUTILITY, simulate_sequential
from .simulation.costs import estimate_calls
from .sample_size import round_up
from .validation import check_finite, check_int, check_positive, check_probability, check_seed
from .workload import ProgressArg, check_progress, limits, progress as progress_of

__all__ = [
    "BayesianInterim",
    "FutilityGuideline",
    "PosteriorSummary",
    "bayesian_interim",
    "conditional_power_final",
    "futility_operating_characteristics",
    "posterior",
    "pp_futility",
    "predictive_probability",
]

_ERR = EvidenceError
_Z_SEARCH = 30.0  # interim benefit z searched for the futility bound: far beyond any data


def _estimate(log_hr: Any, se: Any) -> tuple[float, float]:
    return (check_finite(log_hr, "log_hr", error=_ERR),
            check_positive(se, "se (standard error of the interim log hazard ratio)", error=_ERR))


def posterior(prior: Prior, log_hr: float, se: float) -> Prior:
    """The normal-normal posterior of the log HR (module docstring), as a :class:`Prior`
    carrying the prior's name."""
    if not isinstance(prior, Prior):
        raise EvidenceError(f"prior must be a trialnb.assurance.Prior, got {type(prior).__name__}")
    y, s = _estimate(log_hr, se)
    precision = 1 / prior.sd ** 2 + 1 / s ** 2
    mean = (prior.mean_log_hr / prior.sd ** 2 + y / s ** 2) / precision
    return Prior(prior.name, mean, math.sqrt(1 / precision), f"{prior.label} (posterior)",
                 f"posterior from the prior {prior.label} and an estimate ln HR = {y:.4f} (SE {s:.4f})")


def _information(se: float, events: Any, max_events: Any) -> tuple[float, float]:
    d1 = check_positive(events, "events", error=_ERR)
    df = check_positive(max_events, "max_events", error=_ERR)
    if not df > d1:
        raise EvidenceError(f"max_events must exceed the deaths at the interim (events = {d1:g}); got {df:g}: "
                            "the final analysis has to be still to come")
    i1 = 1 / se ** 2
    return i1, i1 * df / d1


def conditional_power_final(hazard_ratio: float, log_hr: float, se: float, *, events: float, max_events: float,
                            critical_value: float) -> float:
    """Conditional power of crossing the final boundary ``critical_value`` (benefit z) if the
    true hazard ratio is ``hazard_ratio`` (module docstring)."""
    y, s = _estimate(log_hr, se)
    h = check_positive(hazard_ratio, "hazard_ratio", error=_ERR)
    c = check_finite(critical_value, "critical_value", error=_ERR)
    i1, i_f = _information(s, events, max_events)
    delta = i_f - i1
    return float(ndtr((-y / s ** 2 - math.log(h) * delta - c * math.sqrt(i_f)) / math.sqrt(delta)))


def predictive_probability(prior: Prior, log_hr: float, se: float, *, events: float, max_events: float,
                           critical_value: float) -> float:
    """Predictive probability of crossing the final boundary ``critical_value`` (benefit z):
    the conditional power averaged over the posterior under ``prior`` (module docstring)."""
    post = posterior(prior, log_hr, se)
    y, s = _estimate(log_hr, se)
    c = check_finite(critical_value, "critical_value", error=_ERR)
    i1, i_f = _information(s, events, max_events)
    delta = i_f - i1
    mu, tau = -post.mean_log_hr, post.sd
    return float(ndtr((-y / s ** 2 + mu * delta - c * math.sqrt(i_f)) / math.sqrt(delta + tau * tau * delta * delta)))


@dataclass(frozen=True)
class PosteriorSummary(Result):
    """One prior's view of an interim estimate: posterior median HR and 95% credible interval,
    ``P(HR < 1)``, ``P(HR < threshold_hr)`` and the predictive probability of success."""

    prior: str
    prior_label: str
    prior_hazard_ratio: float
    prior_sd: float
    posterior_hazard_ratio: float
    posterior_sd: float
    credible_lower: float
    credible_upper: float
    probability_benefit: float
    threshold_hr: float
    probability_below_threshold: float
    predictive_probability: float

    def summary(self) -> str:
        return (f"{self.prior_label}: posterior HR {fmt_num(self.posterior_hazard_ratio, 2)} (95% credible interval "
                f"{fmt_num(self.credible_lower, 2)} to {fmt_num(self.credible_upper, 2)}), P(HR < 1) "
                f"{fmt_pct(self.probability_benefit)}, P(HR < {fmt_num(self.threshold_hr, 2)}) "
                f"{fmt_pct(self.probability_below_threshold)}, predictive probability of success "
                f"{fmt_pct(self.predictive_probability)}")


@dataclass(frozen=True)
class BayesianInterim(Result):
    """Result of :func:`bayesian_interim`: one :class:`PosteriorSummary` per prior, and the
    frequentist conditional power under the observed hazard ratio for comparison."""

    log_hr: float
    se: float
    events: float
    max_events: float
    critical_value: float
    design: str
    threshold_hr: float
    conditional_power_observed: float
    posteriors: tuple[PosteriorSummary, ...]

    @property
    def posterior_prob_benefit(self) -> dict[str, float]:
        """``{prior name: P(HR < 1 | data)}``."""
        return {p.prior: p.probability_benefit for p in self.posteriors}

    @property
    def posterior_prob_below_threshold(self) -> dict[str, float]:
        """``{prior name: P(HR < threshold_hr | data)}``."""
        return {p.prior: p.probability_below_threshold for p in self.posteriors}

    @property
    def predictive_probability(self) -> dict[str, float]:
        """``{prior name: predictive probability of success at the final analysis}``."""
        return {p.prior: p.predictive_probability for p in self.posteriors}

    def to_dict(self) -> dict[str, Any]:
        """The numbers for a JSON report: the objects by prior name, and what they rest on."""
        return {"log_hr": self.log_hr, "se": self.se, "events": self.events, "max_events": self.max_events,
                "final_critical_value": self.critical_value, "threshold_hr": self.threshold_hr,
                "conditional_power_observed": self.conditional_power_observed,
                "posterior_prob_benefit": self.posterior_prob_benefit,
                "posterior_prob_below_threshold": self.posterior_prob_below_threshold,
                "predictive_probability": self.predictive_probability,
                "priors": {p.prior: {"label": p.prior_label, "hazard_ratio": p.prior_hazard_ratio, "sd": p.prior_sd}
                           for p in self.posteriors}}

    def to_frame(self) -> pd.DataFrame:
        """One row per prior."""
        return pd.concat([fields_frame(p) for p in self.posteriors], ignore_index=True)

    def summary(self) -> str:
        head = (f"Interim: HR {fmt_num(math.exp(self.log_hr), 2)} (ln HR {fmt_num(self.log_hr, 3)}, SE "
                f"{fmt_num(self.se, 3)}) at {fmt_n(self.events)} of {fmt_n(self.max_events)} deaths; final boundary "
                f"benefit z >= {fmt_num(self.critical_value, 3)}; conditional power under the observed HR "
                f"{fmt_pct(self.conditional_power_observed)}")
        return "\n".join([head] + [p.summary() for p in self.posteriors])


def bayesian_interim(log_hr: float, se: float, events: float, max_events: float,
                     design: monitoring.GroupSequentialDesign, priors: Mapping[str, Prior] | None = None, *,
                     threshold_hr: float = 0.8) -> BayesianInterim:
    """Each prior's view of an interim estimate (``log_hr`` of arm A vs B with its ``se``, at
    ``events`` of ``max_events`` planned deaths): posterior, ``P(HR < 1)``, ``P(HR <
    threshold_hr)`` and the predictive probability of crossing the final boundary of ``design``
    (its last critical value, benefit z; pass the design recalculated at the observed deaths,
    :attr:`trialnb.monitoring.InterimAnalysis.design`, to use the boundary in force). ``priors``
    default to :func:`trialnb.assurance.named_priors`."""
    y, s = _estimate(log_hr, se)
    if not isinstance(design, monitoring.GroupSequentialDesign):
        raise EvidenceError(f"design must be a trialnb.monitoring design, got {type(design).__name__}")
    th = check_positive(threshold_hr, "threshold_hr", error=_ERR)
    pri = named_priors() if priors is None else dict(priors)
    if not pri or not all(isinstance(p, Prior) for p in pri.values()):
        raise EvidenceError("priors must map names to trialnb.assurance.Prior objects (at least one)")
    c = float(design.critical_values[-1])
    rows = []
    for name, p in pri.items():
        post = posterior(p, y, s)
        lo, hi = post.interval(0.95)
        rows.append(PosteriorSummary(
            prior=name, prior_label=p.label, prior_hazard_ratio=p.hazard_ratio, prior_sd=p.sd,
            posterior_hazard_ratio=post.hazard_ratio, posterior_sd=post.sd, credible_lower=lo, credible_upper=hi,
            probability_benefit=post.probability_benefit, threshold_hr=th,
            probability_below_threshold=post.probability_below(th),
            predictive_probability=predictive_probability(p, y, s, events=events, max_events=max_events,
                                                          critical_value=c)))
    cp = conditional_power_final(math.exp(y), y, s, events=events, max_events=max_events, critical_value=c)
    return BayesianInterim(log_hr=y, se=s, events=float(events), max_events=float(max_events), critical_value=c,
                           design=design.describe(), threshold_hr=th, conditional_power_observed=cp,
                           posteriors=tuple(rows))


# ---------------------------------------------------------------------------------------
# a futility guideline on the predictive-probability scale


@dataclass(frozen=True)
class FutilityGuideline(Result):
    """Result of :func:`pp_futility`: the benefit-z (and hazard-ratio) bound at the first interim
    below which the predictive probability under ``prior`` is under ``threshold``, and the
    analytic operating characteristics of the design with that guideline followed, against the
    design with no futility stop. ``design`` is the monitoring design with the bound as its
    (non-binding) futility bound at that look; its critical values are unchanged (the bound is
    non-binding), while its stored characteristics (``power``, ``beta_spent`` ...) are still the
    original design's: :attr:`operating_characteristics` has the guideline's."""

    prior: Prior
    threshold: float
    max_events: int
    look_events: int
    z_bound: float
    hr_bound: float
    design: monitoring.GroupSequentialDesign
    operating_characteristics: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.operating_characteristics

    def summary(self) -> str:
        oc = self.operating_characteristics.set_index("scenario")
        lines = [f"Futility guideline: at {fmt_n(self.look_events)} of {fmt_n(self.max_events)} deaths, stop if the "
                 f"predictive probability of success under the prior {self.prior.label} is below "
                 f"{fmt_pct(self.threshold, 0)}, i.e. if the benefit z <= {fmt_num(self.z_bound, 3)} "
                 f"(observed HR >= {fmt_num(self.hr_bound, 2)})"]
        for name, r in oc.iterrows():
            lines.append(f"{name} (HR {fmt_num(r['hazard_ratio'], 2)}): rejection {fmt_pct(r['rejection'])} "
                         f"({fmt_pct(r['rejection_without_futility'])} without the guideline), stop for futility "
                         f"{fmt_pct(r['futility_stop'])}")
        return "\n".join(lines)


def _drift(hr: float, max_events: float, r: float) -> float:
    return -math.log(hr) * math.sqrt(r * max_events) / (1 + r)


def pp_futility(design: monitoring.GroupSequentialDesign, *, max_events: int, prior: Prior,
                threshold: float = 0.10, hazard_ratios: Mapping[str, float] | None = None,
                allocation_ratio: float = 1.0) -> FutilityGuideline:
    """A non-binding futility guideline at the first interim of a one-sided ``design``: stop when
    the predictive probability of success under ``prior`` is below ``threshold`` (module
    docstring). The interim is at ``ceil(information_rates[0] x max_events)`` deaths (the deaths
    the plan's first look has, :func:`trialnb.monitoring.plan_interim_events`). Operating
    characteristics at each of ``hazard_ratios`` (default: no effect, the design's HR 0.5 and the
    prior's median): rejection with the guideline followed and without any futility stop, and
    the probability of stopping for futility."""
    if not isinstance(design, monitoring.GroupSequentialDesign) or design.k < 2 or design.sided != 1:
        raise EvidenceError("design must be a one-sided trialnb.monitoring design with at least one interim look")
    if design.binding_futility:
        raise EvidenceError("the guideline replaces the futility bound of a non-binding design; this design's "
                            "futility is binding (its critical values depend on it)")
    if not isinstance(prior, Prior):
        raise EvidenceError(f"prior must be a trialnb.assurance.Prior, got {type(prior).__name__}")
    dmax = check_int(max_events, "max_events", minimum=2, error=_ERR)
    thr = check_probability(threshold, "threshold", lo_open=True, hi_open=True, error=_ERR)
    r = check_positive(allocation_ratio, "allocation_ratio", error=_ERR)
    d1 = round_up(float(design.information_rates[0]) * dmax)
    se1 = (1 + r) / math.sqrt(r * d1)
    c = float(design.critical_values[-1])

    def pp(z: float) -> float:
        return predictive_probability(prior, -z * se1, se1, events=d1, max_events=dmax, critical_value=c)

    lo_pp, hi_pp = pp(-_Z_SEARCH), pp(_Z_SEARCH)
    if not lo_pp < thr < hi_pp:
        raise EvidenceError(f"under this prior the predictive probability stays between {lo_pp:.3g} and "
                            f"{hi_pp:.3g} for every interim z in [-{_Z_SEARCH:g}, {_Z_SEARCH:g}]: a threshold of "
                            f"{thr:g} sets no bound; choose a threshold in that range")
    z_f = float(optimize.brentq(lambda z: pp(z) - thr, -_Z_SEARCH, _Z_SEARCH, xtol=1e-12))
    if z_f >= design.critical_values[0]:
        raise EvidenceError(f"a predictive probability of {thr:g} under this prior is reached only above the "
                            f"efficacy bound (z = {z_f:.3f}); choose a lower threshold")
    fut = np.full(design.k - 1, -np.inf)
    fut[0] = z_f
    guided = dataclasses.replace(design, futility_bounds=fut, user_futility_bounds=True)
    hrs = dict(hazard_ratios) if hazard_ratios is not None else {
        "no effect": 1.0, "design HR": 0.5, f"prior median ({prior.label})": prior.hazard_ratio}
    rows = []
    for name, h in hrs.items():
        h = check_positive(h, f"hazard_ratios[{name!r}]", error=_ERR)
        up, lo = monitoring.crossing_probabilities(guided, _drift(h, dmax, r))
        up0, _ = monitoring.crossing_probabilities(guided, _drift(h, dmax, r), futility=False)
        rows.append({"scenario": name, "hazard_ratio": h, "rejection": float(up.sum()),
                     "rejection_without_futility": float(up0.sum()), "futility_stop": float(lo.sum())})
    return FutilityGuideline(prior=prior, threshold=thr, max_events=dmax, look_events=d1, z_bound=z_f,
                             hr_bound=math.exp(-z_f * se1), design=guided,
                             operating_characteristics=pd.DataFrame(rows))


def futility_operating_characteristics(guideline: FutilityGuideline, *, plan: TrialPlan = PLAN, n_trials: int = 2000,
                                       seed: int = 0, max_seconds: float | None = None,
                                       max_memory_gb: float | None = None,
                                       progress: ProgressArg = None) -> pd.DataFrame:
    """The guideline's operating characteristics simulated: for each scenario of
    ``guideline.operating_characteristics``, ``n_trials`` trials of the plan's design with that
    hazard ratio (:func:`trialnb.simulation.simulate_sequential`), followed with the guideline as
    the plan's futility rule (``futility_z`` = the guideline's bound; no harm guideline, which
    the analytic values do not have), beside the analytic values, with Monte-Carlo SEs. The
    trials are analysed as the analytic values assume: the log-rank test on all deaths, the
    looks at exactly the guideline's deaths (event-driven), so that the information fractions
    are the design's (the plan's own statistic and calendar-driven final change them a little:
    notebook 05 simulates the plan as written), in the protocol's homogeneous population
    (:meth:`trialnb.plan.DesignAssumptions.without_prognostic_effects`: with prognostic factors
    the unadjusted log-rank estimates a marginal hazard ratio diluted from the design's
    within-stratum one, about 0.51 for 0.5, which the analytic values do not model). Bounded
    (:mod:`trialnb.workload`): refused beyond ``max_seconds`` / ``max_memory_gb`` before it
    starts; ``progress`` counts the scenarios."""
    if not isinstance(guideline, FutilityGuideline):
        raise EvidenceError(f"guideline must be a FutilityGuideline (pp_futility), got {type(guideline).__name__}")
    n = check_int(n_trials, "n_trials", minimum=10, error=_ERR)
    check_seed(seed, error=_ERR)
    check_plan(plan, error=EvidenceError)
    progress = check_progress(progress, _ERR)
    lim = limits(max_seconds, max_memory_gb)
    guided = plan.with_changes(futility_z=guideline.z_bound, harm_z=None, final_analysis="events",
                               statistic="logrank", censor_months=None)
    guided = dataclasses.replace(guided, design=guided.design.without_prognostic_effects())
    scenarios = guideline.operating_characteristics.to_dict("records")
    est = estimate_calls("futility_operating_characteristics", len(scenarios), n, guided.design.n_patients,
                         ("logrank",), looks=guided.monitoring.k).check(lim)
    rows = []
    inner_memory_gb = lim.max_memory / 2**30  # each inner run bounded by memory only (time by the whole)
    with progress_of(len(scenarios), "futility guideline", progress, est.seconds, unit="scenario") as bar:
        for i, r in enumerate(scenarios):
            res = simulate_sequential(guided, n, seed=seed + i, truth={"hazard_ratio": r["hazard_ratio"]},
                                      progress=False, max_seconds=math.inf, max_memory_gb=inner_memory_gb)
            rej = float(np.mean(res.decision == BENEFIT))
            fut = float(np.mean(res.decision == FUTILITY))
            rows.append({**r, "simulated_rejection": rej, "rejection_mc_se": math.sqrt(rej * (1 - rej) / n),
                         "simulated_futility_stop": fut, "futility_mc_se": math.sqrt(fut * (1 - fut) / n)})
            bar.advance(1)
    return pd.DataFrame(rows)
