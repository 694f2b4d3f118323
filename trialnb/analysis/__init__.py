"""One trial's data analysed by the plan: a thin DataFrame layer on the survival engine.

Input is a trial DataFrame in the CRF schema of :mod:`trialnb.data` (:func:`trialnb.data.
load_trial`, :func:`trialnb.simulation.simulate_trial`); times are months from randomization
(``os_months``), events are ``death`` (1) vs censored (0). Every estimate comes from
:mod:`trialnb.survival` (equal to R ``survival``); the functions here only select, censor and
label. Modules by role:

* :mod:`~trialnb.analysis.primary` -- :func:`primary` (the plan's statistic on its endpoint),
  :func:`overall_survival`, :func:`cox_model` (a coefficient table), :func:`primary_data`.
* :mod:`~trialnb.analysis.cut` -- :func:`cut_at`: the trial as known at an interim cut-off.
* :mod:`~trialnb.analysis.estimands` -- :func:`milestone` (2-year survival per arm and its
  contrasts), :func:`rmst_difference`, :func:`weighted_logrank`, :func:`maxcombo`,
  :func:`piecewise_hr`.
* :mod:`~trialnb.analysis.standardized` -- :func:`standardized_milestone`: the estimand's summary
  (two-year survival per arm and their difference) standardized over the trial's patients from
  the plan's Cox model (covariate-adjusted, marginal).
* :mod:`~trialnb.analysis.missing` -- :func:`tipping_point`: the delta-adjusted multiple-imputation
  (tipping-point) analysis of the patients lost to follow-up.
* :mod:`~trialnb.analysis.strata` -- :func:`pool_strata`: the rule that pools sparse strata of the
  stratified analyses, fixed before unblinding.
* :mod:`~trialnb.analysis.describe` -- :func:`baseline_table`, :func:`km_by_arm`,
  :func:`numbers_at_risk`, :func:`logrank_test`, :func:`secondary_summary`,
  :func:`qol_summary`, :func:`consort_counts`.
* :mod:`~trialnb.analysis.sensitivity` -- :func:`ph_tests`, :func:`subgroup_hrs`,
  :func:`population_comparison`, :func:`rerandomization_test`.
* :mod:`~trialnb.analysis.competing` -- :func:`competing_risks`: secondary endpoints with death
  as a competing event (cumulative incidence, Gray's test, Fine-Gray).
* :mod:`~trialnb.analysis.supplementary` -- supplementary estimands of surgery itself:
  :func:`complier_average_effect` (instrumental variable) and :func:`hypothetical_no_surgery`
  (IPCW for arm-B surgery), with their assumptions.

``censor_at`` cuts follow-up at a horizon; ``REFERENCE_LEVELS`` and ``COX_COVARIATES`` name the
Cox models' contrasts.
"""

from __future__ import annotations

from ._frame import COX_COVARIATES, REFERENCE_LEVELS, censor_at
from .competing import COMPETING_ENDPOINTS, CompetingRisksResult, competing_data, competing_risks
from .cut import DATED_FIELDS, UNDATED_FIELDS, cut_at
from .describe import (LogrankByArm, baseline_table, consort_counts, km_by_arm, logrank_test, numbers_at_risk,
                       qol_summary, secondary_summary)
from .estimands import (MaxComboResult, MilestoneResult, PiecewiseHRResult, RMSTResult, WeightedLogrankResult,
                        maxcombo, milestone, piecewise_hr, rmst_difference, weighted_logrank)
from .missing import TippingPointResult, tipping_point
from .primary import PrimaryResult, cox_model, overall_survival, primary, primary_data
from .strata import MIN_STRATUM_PATIENTS, PooledStrata, pool_strata
from .standardized import StandardizedMilestoneResult, standardized_milestone
from .sensitivity import RerandomizationResult, ph_tests, population_comparison, rerandomization_test, subgroup_hrs
from .supplementary import (IPCW_ASSUMPTIONS, IV_ASSUMPTIONS, ComplierEffect, HypotheticalEffect,
                            complier_average_effect, hypothetical_no_surgery, ipcw_milestone, iv_milestone)

__all__ = [
    "COMPETING_ENDPOINTS", "COX_COVARIATES", "CompetingRisksResult", "ComplierEffect", "DATED_FIELDS",
    "HypotheticalEffect", "IPCW_ASSUMPTIONS", "IV_ASSUMPTIONS", "LogrankByArm", "MIN_STRATUM_PATIENTS",
    "MaxComboResult", "MilestoneResult", "PiecewiseHRResult", "PooledStrata", "PrimaryResult", "REFERENCE_LEVELS",
    "RMSTResult", "RerandomizationResult", "StandardizedMilestoneResult", "TippingPointResult", "UNDATED_FIELDS",
    "WeightedLogrankResult", "baseline_table", "censor_at", "competing_data", "competing_risks",
    "complier_average_effect", "consort_counts", "cox_model", "cut_at", "hypothetical_no_surgery", "ipcw_milestone",
    "iv_milestone", "km_by_arm", "logrank_test", "maxcombo", "milestone", "numbers_at_risk", "overall_survival",
    "ph_tests", "piecewise_hr", "pool_strata", "population_comparison", "primary", "primary_data", "qol_summary",
    "rerandomization_test", "rmst_difference", "secondary_summary", "standardized_milestone", "subgroup_hrs",
    "tipping_point", "weighted_logrank",
]
