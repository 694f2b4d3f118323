"""THE trial plan of NCT04697043: one executable object that every part of the package takes.

The protocol (:mod:`trialnb.protocol`) says what the investigators wrote; the plan says what
the companion computes with, in three parts, each a frozen dataclass changed with
:func:`dataclasses.replace` (``replace(PLAN, design=replace(PLAN.design, hazard_ratio=0.7))``,
or :meth:`TrialPlan.with_changes`):

* :class:`DesignAssumptions` (``PLAN.design``) -- what the trial assumes about its patients and
  the effect of surgery, in the package's one vocabulary: ``n_patients``, ``accrual_months``,
  ``control_survival`` (2-year survival of arm B), ``hazard_ratio`` (arm A vs B),
  ``dropout_probability`` (lost to follow-up by ``horizon_months``), the allocation
  (minimization settings), the population's factor frequencies and prognostic hazard ratios
  (:mod:`trialnb.population`), and the shapes of the effect (delay, early harm,
  non-operation, crossover) used to ask "what if".
* :class:`AnalysisPlan` (``PLAN.analysis``) -- the primary analysis: intention to treat, death
  within ``censor_months`` (24) of randomization, the ``statistic`` (the adjusted Cox model's
  Wald z by default; also the log-rank and the stratified log-rank test), its ``covariates``
  (the minimization factors), ``ties``, ``alpha`` and ``sided``. Each item carries the protocol
  sentence it rests on or the project's decision (:meth:`AnalysisPlan.table`).
* :class:`MonitoringPlan` (``PLAN.monitoring``) -- the interim plan the protocol leaves blank:
  the looks as fractions of the planned primary-endpoint deaths, Lan-DeMets alpha spending,
  how the final analysis is timed (calendar-driven: when the last patient has completed
  ``censor_months``), the non-binding futility and harm guidelines, the perioperative safety
  reviews, and an optional maturity condition for stopping early for efficacy.

The plan holds choices, never derived numbers: the boundaries and the planned maximum of
primary-endpoint deaths are computed from it where they belong
(:func:`trialnb.monitoring.plan_design`, :func:`trialnb.monitoring.plan_max_events`), so this
module is a leaf above the protocol and the population. Consumers --
:func:`trialnb.sample_size.sample_size`, the fixed
and sequential simulations (:mod:`trialnb.simulation`), one trial's analysis
(:func:`trialnb.analysis.primary`), the interim report (:mod:`trialnb.interim`), the SAP, the
audit, the dashboards and the notebooks -- take ``plan=PLAN`` and read nothing else.

Sign convention everywhere: the statistic ``z`` has the sign of log(HR A vs B), negative
favours surgery; the *benefit z* compared with efficacy boundaries is ``-z``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import ScenarioError
from .population import FACTOR_FREQUENCIES, PROGNOSTIC_HR, calibrate_baseline, factor_strata
from .protocol import FACTOR_NAMES, PROTOCOL, Protocol, Sourced
from .validation import (ErrorType, check_choice, check_int, check_probability,
                         check_real)

__all__ = [
    "ALLOCATIONS",
    "ALPHA_SPENDING",
    "HR_RANGE",
    "MAX_MONTHS",
    "MAX_PATIENTS",
    "OS_ANALYSIS",
    "PLAN",
    "SECONDARIES",
    "STATISTICS",
    "AnalysisItem",
    "AnalysisPlan",
    "DesignAssumptions",
    "MonitoringPlan",
    "TrialPlan",
    "check_plan",
    "plan_from_protocol",
]

ALPHA_SPENDING: tuple[str, ...] = ("asOF", "asP", "asKD", "asHSD")
"""Lan-DeMets alpha-spending families (rpact ``typeOfDesign``) a monitoring plan can name, computed
by :func:`trialnb.monitoring.design`: O'Brien-Fleming type, Pocock type, Kim-DeMets power
(``spending_gamma`` > 0), Hwang-Shih-DeCani (``spending_gamma``)."""

STATISTICS: tuple[str, ...] = ("cox_wald", "logrank", "stratified_logrank")
"""The test statistics a plan can name: the Wald z of the arm coefficient of the Cox model with
the plan's covariates (``"cox_wald"``), the log-rank test (``"logrank"``) and the log-rank test
stratified by the plan's covariates (``"stratified_logrank"``)."""

SECONDARIES: tuple[str, ...] = ("milestone", "rmst")
"""Key secondary hypotheses a plan can test hierarchically after the primary: the difference in
``censor_months`` survival (the protocol's "percentage of patients who survive two years"),
or the difference in restricted mean survival time to ``censor_months``."""

ALLOCATIONS: tuple[str, ...] = ("minimization", "blocks", "complete")
"""Allocation procedures of the simulated trials: Pocock-Simon minimization on the three
factors, permuted blocks (unstratified), a fair coin."""

MAX_MONTHS = 1200.0
"""Longest duration a plan field may hold (100 years): accrual, horizon, delays, review intervals."""

HR_RANGE: tuple[float, float] = (1e-3, 1e3)
"""Range of every hazard ratio a plan may assume (log HR within +-6.9): beyond it no trial is
designed, and the sample-size and boundary arithmetic leaves the range where it means anything."""

MAX_PATIENTS = 10**7
"""Most patients a plan may hold (a simulation of that many is bounded by :mod:`trialnb.workload`)."""


def _as_floats(obj: Any, names: tuple[str, ...]) -> None:
    """Store the (checked) fields ``names`` of a frozen dataclass as plain ``float`` (an ``int``
    or numpy scalar given for a float field), so every consumer sees one type."""
    for name in names:
        v = getattr(obj, name)
        if v is not None:
            object.__setattr__(obj, name, float(v))


_SS = "Statistics > Sample size calculation"
_OUTCOMES = "Primary and secondary outcome measures"
_DA = "Data analysis"


# ---------------------------------------------------------------------------------------
# design assumptions

@dataclass(frozen=True)
class DesignAssumptions:
    """What the trial assumes (times in months; hazard ratios arm A vs arm B).

    The defaults are the protocol's design (:data:`trialnb.protocol.PROTOCOL`) in a realistic
    population:

    * ``n_patients`` 236 (118 per arm, the protocol's stated N after its 10% loss), 1:1
      allocation by minimization on the three factors (the arm that lowers the range
      imbalance with probability ``minimization_p``; the protocol does not give p, 0.8 is
      assumed; ``"blocks"`` of ``block_size`` or a fair coin as alternatives), uniform accrual
      over ``accrual_months`` 36 (``accrual_shape`` > 1: slow start, the fraction accrued by t is
      (t/accrual)^shape);
    * ``control_survival`` exp(-0.5) = 0.6065: arm B's survival at ``horizon_months`` (24),
      from the protocol's cumulative hazard lambda*t = 0.5 (the protocol rounds it to 0.60,
      a finding of the audit); exponential survival within each factor stratum, the baseline
      calibrated so that arm B *as a whole* has this survival;
    * ``hazard_ratio`` 0.50 from randomization on (proportional hazards), and the shapes a
      surgical effect may have instead: ``effect_delay_months`` (HR 1 until then),
      ``early_hazard_ratio`` for ``early_months`` after surgery (perioperative harm),
      ``non_compliance`` (arm A never operated: hazard of arm B, analysed in arm A) and
      ``crossover`` (arm B operated at ``crossover_months``, then the surgical effect);
    * ``dropout_probability`` 0.10: lost to follow-up by ``horizon_months`` (exponential,
      independent of arm) -- the protocol's 10% loss read as a probability; ``loss_to_follow_up``
      0.10 is the same number in its protocol role, the fraction by which N is inflated;
    * ``power`` 0.80 (the sample-size target);
    * the population of :mod:`trialnb.population`: factor frequencies (``p_soft_tissue``,
      ``p_visceral``, bone the rest; ``p_hr_positive``; ``p_her2_positive``) and prognostic
      hazard ratios (``hr_soft_tissue``, ``hr_visceral``, ``hr_hr_negative``,
      ``hr_her2_positive``; 1 everywhere is the protocol's homogeneous population).
    """

    n_patients: int = 2 * PROTOCOL.stated.n_per_arm_after_loss
    allocation: Literal["minimization", "blocks", "complete"] = "minimization"
    minimization_p: float = 0.8
    block_size: int = 4
    accrual_months: float = PROTOCOL.design.accrual_months
    accrual_shape: float = 1.0
    horizon_months: float = PROTOCOL.design.horizon_months
    control_survival: float = PROTOCOL.design.control_survival_exact
    hazard_ratio: float = PROTOCOL.design.hazard_ratio
    effect_delay_months: float = 0.0
    early_hazard_ratio: float = 1.0
    early_months: float = 0.0
    non_compliance: float = 0.0
    crossover: float = 0.0
    crossover_months: float = 6.0
    dropout_probability: float = PROTOCOL.design.loss_to_follow_up
    loss_to_follow_up: float = PROTOCOL.design.loss_to_follow_up
    power: float = PROTOCOL.design.power
    p_soft_tissue: float = FACTOR_FREQUENCIES["dominant_site"]["soft_tissue"]
    p_visceral: float = FACTOR_FREQUENCIES["dominant_site"]["visceral"]
    p_hr_positive: float = FACTOR_FREQUENCIES["hormone_receptor"]["positive"]
    p_her2_positive: float = FACTOR_FREQUENCIES["her2"]["positive"]
    hr_soft_tissue: float = PROGNOSTIC_HR["soft_tissue"]
    hr_visceral: float = PROGNOSTIC_HR["visceral"]
    hr_hr_negative: float = PROGNOSTIC_HR["hr_negative"]
    hr_her2_positive: float = PROGNOSTIC_HR["her2_positive"]

    def __post_init__(self) -> None:
        err = ScenarioError
        check_int(self.n_patients, "n_patients", minimum=4, maximum=MAX_PATIENTS, error=err)
        check_choice(self.allocation, "allocation", ALLOCATIONS, error=err)
        check_real(self.minimization_p, "minimization_p", lo=0.5, hi=1.0, error=err)
        if check_int(self.block_size, "block_size", minimum=2, maximum=1000, error=err) % 2:
            raise ScenarioError(f"block_size must be an even integer >= 2, got {self.block_size!r}")
        for name in ("accrual_months", "horizon_months"):
            check_real(getattr(self, name), name, lo=0.0, hi=MAX_MONTHS, lo_open=True, error=err)
        check_real(self.accrual_shape, "accrual_shape", lo=0.01, hi=100.0, error=err)
        for name in ("hazard_ratio", "early_hazard_ratio", "hr_soft_tissue", "hr_visceral", "hr_hr_negative",
                     "hr_her2_positive"):
            check_real(getattr(self, name), name, lo=HR_RANGE[0], hi=HR_RANGE[1], error=err)
        for name in ("effect_delay_months", "crossover_months", "early_months"):
            check_real(getattr(self, name), name, lo=0.0, hi=MAX_MONTHS, error=err)
        for name in ("control_survival", "power"):
            check_probability(getattr(self, name), name, lo_open=True, hi_open=True, error=err)
        if not 1e-6 <= self.control_survival <= 1 - 1e-6:
            raise ScenarioError(f"control_survival must lie in [1e-06, 0.999999] (a survival of exactly 0 or 1 has no "
                                f"hazard to design on), got {self.control_survival!r}")
        for name in ("dropout_probability", "loss_to_follow_up"):
            check_probability(getattr(self, name), name, lo_open=False, hi_open=True, error=err)
        for name in ("non_compliance", "crossover", "p_soft_tissue", "p_visceral", "p_hr_positive",
                     "p_her2_positive"):
            check_probability(getattr(self, name), name, lo_open=False, hi_open=False, error=err)
        if self.p_soft_tissue + self.p_visceral > 1 + 1e-12:
            raise ScenarioError("p_soft_tissue + p_visceral must be <= 1 (bone takes the rest), got "
                                f"{self.p_soft_tissue + self.p_visceral}")
        _as_floats(self, tuple(f.name for f in fields(self) if f.type in ("float", float)))
        object.__setattr__(self, "n_patients", int(self.n_patients))
        object.__setattr__(self, "block_size", int(self.block_size))

    # ---- derived quantities
    @property
    def site_probs(self) -> tuple[float, float, float]:
        """(bone, soft_tissue, visceral) probabilities."""
        return (1.0 - self.p_soft_tissue - self.p_visceral, self.p_soft_tissue, self.p_visceral)

    @property
    def prognostic_hazard_ratios(self) -> dict[str, float]:
        """The prognostic hazard ratios under :data:`trialnb.population.PROGNOSTIC_HR`'s keys."""
        return {"soft_tissue": self.hr_soft_tissue, "visceral": self.hr_visceral,
                "hr_negative": self.hr_hr_negative, "her2_positive": self.hr_her2_positive}

    @property
    def homogeneous(self) -> bool:
        """True when the factors carry no prognostic effect (the protocol's own assumption)."""
        return all(v == 1.0 for v in self.prognostic_hazard_ratios.values())

    def without_prognostic_effects(self) -> "DesignAssumptions":
        """The same design in the protocol's homogeneous population (every prognostic hazard
        ratio 1): the hazard ratio is then both the within-stratum (conditional) and the
        whole-population (marginal) one, as the sample-size formulas assume."""
        return dataclasses.replace(self, hr_soft_tissue=1.0, hr_visceral=1.0, hr_hr_negative=1.0,
                                   hr_her2_positive=1.0)

    @property
    def dropout_rate(self) -> float:
        """Exponential drop-out hazard per month: -ln(1 - dropout_probability) / horizon."""
        return -math.log1p(-self.dropout_probability) / self.horizon_months

    def strata_model(self) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and linear predictors of the 12 factor combinations
        (:func:`trialnb.population.factor_strata`)."""
        return factor_strata(self.site_probs, self.p_hr_positive, self.p_her2_positive,
                             self.prognostic_hazard_ratios)

    @property
    def baseline_hazard(self) -> float:
        """Monthly hazard of a control patient in the reference stratum (bone, HR+, HER2-),
        calibrated so that arm B's marginal survival at the horizon is ``control_survival``:
        solve sum_s p_s exp(-lambda0 e^{lp_s} h) = S0 (:func:`trialnb.population.calibrate_baseline`);
        without factor effects -ln(S0) / h."""
        ps, lp = self.strata_model()
        h = self.horizon_months
        if np.allclose(lp, 0.0):
            return -math.log(self.control_survival) / h
        return calibrate_baseline(ps, lp, self.control_survival) / h

    @property
    def control_hazard(self) -> float:
        """The marginal exponential hazard of arm B per month: -ln(control_survival) / horizon
        (what the sample-size formulas use)."""
        return -math.log(self.control_survival) / self.horizon_months

    @property
    def is_null(self) -> bool:
        """True when arm A and arm B have the same survival distribution."""
        return self.hazard_ratio == 1.0 and (self.early_hazard_ratio == 1.0 or self.early_months == 0.0)

    @property
    def proportional(self) -> bool:
        """True when the hazard ratio is constant from randomization (no delay, early period,
        non-operation or crossover)."""
        return (self.effect_delay_months == 0 and (self.early_months == 0 or self.early_hazard_ratio == 1.0)
                and self.non_compliance == 0 and self.crossover == 0)

    def differences(self, other: "DesignAssumptions | None" = None) -> dict[str, Any]:
        """The fields that differ from ``other`` (default: the protocol's design)."""
        base = DesignAssumptions() if other is None else other
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in {g.name for g in fields(base)} and getattr(self, f.name) != getattr(base, f.name)}

    def describe(self) -> str:
        """One line naming the assumptions that differ from the protocol's design."""
        diffs = self.differences()
        return "protocol design" + ("" if not diffs else " with " + ", ".join(f"{k}={v!r}" for k, v in diffs.items()))


# ---------------------------------------------------------------------------------------
# analysis plan

@dataclass(frozen=True)
class AnalysisItem:
    """One element of an analysis plan: its value, the protocol sentence it rests on (if any),
    and the project's decision where the protocol is silent."""

    name: str
    value: str
    source: Sourced | None
    decision: str = ""


_PRIMARY_QUOTE = Sourced(_OUTCOMES, "The primary endpoint is the two-year survival. This is defined as the "
                         "percentage of patients who survive two years after randomization.")
_COX_QUOTE = Sourced(_DA, "The primary endpoint will be analyzed in a Cox regression model, with the "
                     "minimization factors as covariables.")
_ITT_QUOTE = Sourced(_DA, "Data will be presented for the complete intent-to-treat population.")
_ALPHA_QUOTE = Sourced(f"{_SS} > Step 1", "α=0.05 zα/2= 1.96")

_PRIMARY_ITEMS: tuple[AnalysisItem, ...] = (
    AnalysisItem("endpoint", "death within 24 months; follow-up censored at 24 months", _PRIMARY_QUOTE,
                 "The protocol does not say whether the Cox model uses follow-up beyond two years. "
                 "The endpoint is two-year survival, so deaths after month 24 are not part of it: "
                 "every patient is censored at 24 months (alive, lost or dead later)."),
    AnalysisItem("model", "Cox proportional-hazards regression", _COX_QUOTE),
    AnalysisItem("covariates", "arm + dominant site + hormone receptor + HER2 (treatment contrasts: "
                 "arm B, bone, receptor positive, HER2 negative as references)", _COX_QUOTE,
                 "Reference levels are the project's choice; they do not change the arm's hazard ratio."),
    AnalysisItem("population", "intention to treat", _ITT_QUOTE),
    AnalysisItem("ties", "Efron", None, "Efron's method, the default of R coxph and lifelines."),
    AnalysisItem("test", "Wald test of the arm coefficient, 95% Wald interval", None,
                 "The protocol names no test; the Wald test of the Cox coefficient is the usual report."),
    AnalysisItem("alpha", "0.05, two-sided: rejects for benefit or for harm", _ALPHA_QUOTE,
                 "Two-sided as the protocol's z(alpha/2) = 1.96; the interim plan monitors both sides "
                 "(symmetric boundaries: a formal harm boundary, plus a harm guideline)."),
    AnalysisItem("summary measure", "hazard ratio (conditional on the factors) as the test; 2-year "
                 "survival difference as the estimand's summary", _PRIMARY_QUOTE,
                 "The adjusted Cox HR is conditional on the minimization factors and non-collapsible; the "
                 "protocol's summary is the percentage alive at two years (notebook 07)."),
    AnalysisItem("secondary overall survival", "the same model with all follow-up to the data cut-off",
                 Sourced(_OUTCOMES, "Secondary endpoints are quality of life, overall survival"),
                 "Analysed as a secondary analysis only (OS_ANALYSIS)."),
)


@dataclass(frozen=True)
class AnalysisPlan:
    """The analysis of one trial's data, executable: every field is read by
    :func:`trialnb.analysis.primary`, the simulations and the interim report.

    ``censor_months``: every patient still alive (or followed beyond) at that time after
    randomization is censored there (``None``: all follow-up to the data cut-off).
    ``statistic`` in :data:`STATISTICS`; ``covariates`` a subset of the minimization factors
    (for ``"cox_wald"`` the model's covariates besides arm; for ``"stratified_logrank"`` the
    strata; ignored by ``"logrank"``); ``ties`` "efron" or "breslow" (Cox only); ``alpha`` and
    ``sided`` (1: benefit only; 2: benefit or harm). ``items`` document each choice."""

    name: str = "primary"
    kind: str = "primary"
    endpoint: str = "death within 24 months of randomization (two-year survival)"
    population: str = "intention to treat (every randomized patient in the allocated arm)"
    censor_months: float | None = PROTOCOL.design.horizon_months
    statistic: Literal["cox_wald", "logrank", "stratified_logrank"] = "cox_wald"
    covariates: tuple[str, ...] = FACTOR_NAMES
    ties: Literal["efron", "breslow"] = "efron"
    alpha: float = PROTOCOL.design.alpha
    sided: int = PROTOCOL.design.sided
    items: tuple[AnalysisItem, ...] = field(default=_PRIMARY_ITEMS, repr=False, compare=False)

    def __post_init__(self) -> None:
        err = ScenarioError
        for name in ("name", "kind", "endpoint", "population"):
            if not isinstance(getattr(self, name), str):
                raise ScenarioError(f"{name} must be a string, got {type(getattr(self, name)).__name__}")
        if self.censor_months is not None:
            check_real(self.censor_months, "censor_months", lo=0.0, hi=MAX_MONTHS, lo_open=True, error=err)
        check_choice(self.statistic, "statistic", STATISTICS, error=err)
        check_choice(self.ties, "ties", ("efron", "breslow"), error=err)
        check_probability(self.alpha, "alpha", lo_open=True, hi_open=True, error=err)
        if not 1e-6 <= self.alpha <= 0.5:
            raise ScenarioError(f"alpha must lie in [1e-06, 0.5] (a significance level), got {self.alpha!r}")
        check_choice(self.sided, "sided", (1, 2), error=err)
        if not isinstance(self.covariates, tuple) or any(c not in FACTOR_NAMES for c in self.covariates) \
                or len(set(self.covariates)) != len(self.covariates):
            raise ScenarioError(f"covariates must be a tuple of distinct minimization factors from "
                                f"{FACTOR_NAMES}, got {self.covariates!r}")
        if not isinstance(self.items, tuple) or not all(isinstance(i, AnalysisItem) for i in self.items):
            raise ScenarioError(f"items must be a tuple of AnalysisItem, got {type(self.items).__name__}")
        _as_floats(self, ("censor_months", "alpha"))
        object.__setattr__(self, "sided", int(self.sided))

    @property
    def follow_up(self) -> str:
        """``"fixed"`` (censored at ``censor_months``) or ``"to_cutoff"`` (all follow-up)."""
        return "to_cutoff" if self.censor_months is None else "fixed"

    @property
    def critical_z(self) -> float:
        """The fixed design's critical |z|: z_{1 - alpha/sided}."""
        from scipy.special import ndtri

        return float(ndtri(1 - self.alpha / self.sided))

    def deaths_words(self) -> str:
        """The primary endpoint's deaths in words, for panels and tables: "deaths within 24
        months", or "deaths (all follow-up)" when the plan does not censor."""
        if self.censor_months is None:
            return "deaths (all follow-up)"
        return f"deaths within {self.censor_months:g} months"

    def statistic_label(self) -> str:
        """The statistic in words, for reports."""
        cov = ", ".join(self.covariates)
        if self.statistic == "cox_wald":
            adj = f"adjusted for {cov}" if self.covariates else "unadjusted"
            return f"Cox model Wald z of the arm coefficient ({adj}; {self.ties.capitalize()} ties)"
        if self.statistic == "stratified_logrank":
            return f"log-rank z stratified by {cov}" if self.covariates else "log-rank z"
        return "log-rank z (unstratified)"

    def describe(self) -> str:
        """One sentence naming the analysis, for tables and figure captions."""
        cut = ("all follow-up to the data cut-off" if self.censor_months is None
               else f"follow-up censored at {self.censor_months:g} months after randomization")
        side = "two-sided" if self.sided == 2 else "one-sided (benefit)"
        return (f"{self.kind} analysis: {self.endpoint}; {self.statistic_label()}, {self.population}, {cut}; "
                f"{side} alpha {self.alpha:g}")

    def table(self) -> pd.DataFrame:
        """Every item with its value, protocol section and sentence, and the project's decision."""
        return pd.DataFrame([{"item": i.name, "value": i.value,
                              "section": i.source.section if i.source else "(protocol silent)",
                              "protocol text": i.source.quote if i.source else "",
                              "project decision": i.decision} for i in self.items])


OS_ANALYSIS = AnalysisPlan(
    name="overall_survival", kind="secondary", endpoint="overall survival (death from any cause)",
    censor_months=None,
    items=(AnalysisItem("endpoint", "overall survival, all follow-up to the data cut-off",
                        Sourced(_OUTCOMES, "Secondary endpoints are quality of life, overall survival"),
                        "The protocol gives no model for overall survival; the project uses the primary's "
                        "model on all follow-up. Secondary: no claim rests on it."),),
)
"""The secondary overall-survival analysis: the primary's model with all follow-up to the data
cut-off (``dataclasses.replace(PLAN.analysis, censor_months=None)`` with its own name)."""


# ---------------------------------------------------------------------------------------
# monitoring plan

@dataclass(frozen=True)
class MonitoringPlan:
    """The interim monitoring plan (the protocol's "Interim analysis ;" is blank; argued in
    notebook 05).

    * ``information_rates``: the looks as fractions of the planned maximum of primary-endpoint
      deaths (:func:`trialnb.monitoring.plan_max_events`); the last is 1. An interim look falls on the
      calendar date of its ``ceil(rate x max)``-th primary-endpoint death.
    * ``spending``: Lan-DeMets alpha spending (``"asOF"`` O'Brien-Fleming type, ``"asP"``
      Pocock type, ``"asKD"``/``"asHSD"`` with ``spending_gamma``; :func:`trialnb.monitoring.design`),
      boundaries recalculated from the information actually observed (over- and under-running).
    * ``final_analysis``: ``"calendar"`` -- when the last randomized patient has completed
      ``censor_months`` of follow-up (every patient's primary endpoint is then known), whatever
      the number of deaths; ``"events"`` -- at the planned maximum of primary-endpoint deaths.
    * ``futility_z``: non-binding futility guideline at the interims: the DMC may recommend
      stopping when the benefit z is at or below it (0: the observed HR is 1 or worse); the
      boundaries ignore it. ``None``: no guideline.
    * ``harm_z``: harm guideline at the interims: the DMC reviews stopping when the benefit z
      is at or below it (-2.326: one-sided p 0.01 that surgery is worse); the formal harm
      boundary of a two-sided plan is the mirror of the efficacy boundary.
    * ``perioperative_months``: a death within this time of surgery (1 month, 30 days) is a
      perioperative death; ``safety_review_every_months``: the DMC reviews perioperative deaths
      in both arms at this calendar interval from the first randomization, before and
      independent of the efficacy look.
    * ``efficacy_min_complete``: if set, an interim may stop for efficacy only when at least
      this many patients have completed ``censor_months`` (randomized that long before the
      cut-off); ``None``: no maturity condition (the plan's choice, argued in notebook 05).
    * ``secondary``: the key secondary hypothesis (one of :data:`SECONDARIES`; ``None``: none is
      confirmatory), tested only when the primary rejects, at the look where it rejects, against
      its own group-sequential boundary: Lan-DeMets ``secondary_spending`` of the same alpha at
      the same looks. Testing it at the full alpha after a group-sequential primary (a "fixed
      sequence" at each look) does not control the family-wise error (Hung HMJ, Wang SJ,
      O'Neill R. J Biopharm Stat 2007;17:1201-1210; Glimm E, Maurer W, Bretz F. Stat Med
      2010;29:219-228); its own spending boundary does, whatever the correlation of the two
      statistics (notebook 07 shows both by simulation).
    """

    information_rates: tuple[float, ...] = (0.5, 1.0)
    spending: str = "asOF"
    spending_gamma: float | None = None
    final_analysis: Literal["calendar", "events"] = "calendar"
    futility_z: float | None = 0.0
    harm_z: float | None = -2.326
    perioperative_months: float = 1.0
    safety_review_every_months: float = 6.0
    efficacy_min_complete: int | None = None
    secondary: Literal["milestone", "rmst"] | None = "milestone"
    secondary_spending: str = "asOF"

    def __post_init__(self) -> None:
        err = ScenarioError
        rates = self.information_rates
        if (not isinstance(rates, tuple) or not rates or len(rates) > 10
                or any(isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 < r <= 1 for r in rates)
                or any(b <= a for a, b in zip(rates, rates[1:], strict=False)) or rates[-1] != 1):
            raise ScenarioError(f"information_rates must be a tuple of at most 10 increasing fractions in (0, 1] "
                                f"ending at 1, got {rates!r}")
        if rates[0] < 0.01:
            raise ScenarioError(f"the first look must come at 1% of the information or later, got {rates[0]!r}")
        check_choice(self.final_analysis, "final_analysis", ("calendar", "events"), error=err)
        for name in ("spending", "secondary_spending"):
            check_choice(getattr(self, name), f"{name} (Lan-DeMets alpha spending)", ALPHA_SPENDING, error=err)
        if self.secondary is not None:
            check_choice(self.secondary, "secondary", SECONDARIES, error=err)
        for name in ("futility_z", "harm_z"):
            v = getattr(self, name)
            if v is not None:
                check_real(v, name, lo=-10.0, hi=10.0, error=err)
        if self.spending_gamma is not None:  # its range for the family is checked by trialnb.monitoring.design
            check_real(self.spending_gamma, "spending_gamma", error=err)
        elif self.spending in ("asKD", "asHSD"):
            raise ScenarioError(f"{self.spending} spending needs spending_gamma (e.g. 2 for asKD, -4 for asHSD)")
        check_real(self.perioperative_months, "perioperative_months", lo=0.0, hi=120.0, lo_open=True, error=err)
        check_real(self.safety_review_every_months, "safety_review_every_months", lo=0.0, hi=MAX_MONTHS,
                   lo_open=True, error=err)
        if self.efficacy_min_complete is not None:
            check_int(self.efficacy_min_complete, "efficacy_min_complete", minimum=0, maximum=MAX_PATIENTS, error=err)
        object.__setattr__(self, "information_rates", tuple(float(r) for r in rates))
        _as_floats(self, ("futility_z", "harm_z", "spending_gamma", "perioperative_months",
                          "safety_review_every_months"))

    @property
    def k(self) -> int:
        """Number of looks (the final included)."""
        return len(self.information_rates)

    def table(self) -> pd.DataFrame:
        """Every choice of the monitoring plan: ``item`` (the field), ``value`` and ``meaning``
        (what the DMC does with it). The plan holds choices only; the boundaries and planned
        deaths they imply are computed by :mod:`trialnb.monitoring`."""
        looks = ", ".join(f"{r:g}" for r in self.information_rates)
        spend = self.spending + ("" if self.spending_gamma is None else f" (gamma {self.spending_gamma:g})")
        none = "none"
        rows = [
            ("information_rates", looks, "the looks, as fractions of the planned maximum of primary-endpoint deaths; "
                                         "an interim falls on the date of its ceil(rate x maximum)-th such death"),
            ("spending", spend, "Lan-DeMets alpha spending; boundaries recalculated from the deaths actually observed"),
            ("final_analysis", self.final_analysis,
             "calendar: when the last patient randomized has completed the primary endpoint's follow-up, whatever "
             "the deaths" if self.final_analysis == "calendar" else "events: at the planned maximum of deaths"),
            ("futility_z", none if self.futility_z is None else f"{self.futility_z:g}",
             "non-binding futility guideline at an interim: benefit z <= futility_z (0: observed HR 1 or worse)"),
            ("harm_z", none if self.harm_z is None else f"{self.harm_z:g}",
             "harm guideline at an interim: benefit z <= harm_z; a two-sided plan also has the formal harm boundary, "
             "the mirror of the efficacy boundary"),
            ("perioperative_months", f"{self.perioperative_months:g}", "a death within this time of surgery is "
                                                                       "perioperative"),
            ("safety_review_every_months", f"{self.safety_review_every_months:g}",
             "perioperative deaths reviewed in both arms at this calendar interval, before and apart from the "
             "efficacy look"),
            ("efficacy_min_complete", none if self.efficacy_min_complete is None else f"{self.efficacy_min_complete}",
             "an interim may stop for efficacy only when this many patients have completed the primary endpoint's "
             "follow-up (none: no maturity condition)"),
            ("secondary", none if self.secondary is None else self.secondary,
             "the key secondary hypothesis, tested only when the primary rejects, at the look where it rejects "
             "(none: no secondary is confirmatory)"),
            ("secondary_spending", self.secondary_spending,
             "the key secondary's own Lan-DeMets alpha spending at the same looks and alpha, so the family-wise "
             "error holds (a full-alpha test at the rejecting look would not)"),
        ]
        return pd.DataFrame(rows, columns=["item", "value", "meaning"])


# ---------------------------------------------------------------------------------------
# the plan

@dataclass(frozen=True)
class TrialPlan:
    """The whole plan: ``design``, ``analysis`` and ``monitoring`` (see the module docstring).
    Use :data:`PLAN`; change a part with :meth:`with_changes` or :func:`dataclasses.replace`."""

    design: DesignAssumptions = field(default_factory=DesignAssumptions)
    analysis: AnalysisPlan = field(default_factory=AnalysisPlan)
    monitoring: MonitoringPlan = field(default_factory=MonitoringPlan)
    name: str = "NCT04697043 plan"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise ScenarioError(f"name must be a string, got {type(self.name).__name__}")
        for part, cls in (("design", DesignAssumptions), ("analysis", AnalysisPlan), ("monitoring", MonitoringPlan)):
            if not isinstance(getattr(self, part), cls):
                raise ScenarioError(f"{part} must be a {cls.__name__}, got {type(getattr(self, part)).__name__}")

    @property
    def milestone_months(self) -> float:
        """The primary endpoint's milestone in months: ``analysis.censor_months`` (24, where
        "two-year survival" is read and every patient's follow-up is censored), or the design's
        ``horizon_months`` when the plan analyses all follow-up (``censor_months`` None). The one
        home of this rule: the sample size's follow-up, the calendar-driven final date, the
        supplementary estimands' milestone and the CLI's defaults read it here."""
        c = self.analysis.censor_months
        return float(c) if c is not None else float(self.design.horizon_months)

    def with_changes(self, **changes: Any) -> "TrialPlan":
        """A copy with fields changed by name, each routed to the part that owns it:
        ``PLAN.with_changes(hazard_ratio=0.7, statistic="logrank", information_rates=(0.4, 1.0))``.
        A name no part has is refused with the list of names."""
        parts: dict[str, dict[str, Any]] = {"design": {}, "analysis": {}, "monitoring": {}}
        owners = {f.name: p for p in parts for f in fields(getattr(self, p))}
        unknown = sorted(set(changes) - set(owners))
        if unknown:
            raise ScenarioError(f"no plan field named {', '.join(unknown)}; fields: {', '.join(sorted(owners))}")
        for k, v in changes.items():
            parts[owners[k]][k] = v
        return dataclasses.replace(self, **{p: dataclasses.replace(getattr(self, p), **kw)
                                            for p, kw in parts.items() if kw})

    def summary(self) -> str:
        """The plan in a few lines."""
        d, a, m = self.design, self.analysis, self.monitoring
        looks = ", ".join(f"{r:g}" for r in m.information_rates)
        return "\n".join([
            f"{self.name}",
            f"design: {d.n_patients} patients, accrual {d.accrual_months:g} months, control {d.horizon_months:g}-month "
            f"survival {d.control_survival:.4f}, HR {d.hazard_ratio:g}, drop-out {d.dropout_probability:g}, "
            f"{d.allocation} allocation; {d.describe()}",
            f"analysis: {a.describe()}",
            f"monitoring: looks at {looks} of the planned primary-endpoint deaths, {m.spending} spending, "
            f"final analysis {m.final_analysis}-driven; futility guideline benefit z <= {m.futility_z}, "
            f"harm guideline benefit z <= {m.harm_z}"
            + ("" if m.secondary is None else f"; key secondary {m.secondary} tested after the primary rejects, "
               f"{m.secondary_spending} spending"),
        ])


def check_plan(plan: Any, *, error: ErrorType = ScenarioError) -> TrialPlan:
    """``plan`` itself when it is a :class:`TrialPlan`; otherwise ``error`` (the caller's named
    error) saying what is allowed. The one check every consumer of the plan makes."""
    if not isinstance(plan, TrialPlan):
        raise error(f"plan must be a trialnb.plan.TrialPlan (e.g. PLAN.with_changes(...)), got {type(plan).__name__}")
    return plan


def plan_from_protocol(protocol: Protocol = PROTOCOL) -> TrialPlan:
    """The plan built from a protocol object: its design numbers (N after loss, accrual,
    horizon, the exact control survival exp(-lambda t), hazard ratio, 10% loss as drop-out and
    N inflation, power) and its alpha and sides; the rest are the project's decisions."""
    p = protocol.design
    design = DesignAssumptions(n_patients=2 * protocol.stated.n_per_arm_after_loss, accrual_months=p.accrual_months,
                               horizon_months=p.horizon_months, control_survival=p.control_survival_exact,
                               hazard_ratio=p.hazard_ratio, dropout_probability=p.loss_to_follow_up,
                               loss_to_follow_up=p.loss_to_follow_up, power=p.power)
    analysis = AnalysisPlan(censor_months=p.horizon_months, alpha=p.alpha, sided=p.sided)
    return TrialPlan(design=design, analysis=analysis, monitoring=MonitoringPlan())


PLAN: TrialPlan = plan_from_protocol(PROTOCOL)
"""The plan of NCT04697043 that every consumer takes by default."""
