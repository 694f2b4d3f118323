"""Interim monitoring of a group-sequential survival trial, equal to R ``rpact``.

* :func:`design` - boundaries, spending and characteristics (``getDesignGroupSequential`` +
  ``getDesignCharacteristics``), see :mod:`trialnb.monitoring.design`.
* :func:`boundary_table` - the gsDesign ``gsBoundSummary`` view of a design held at a number
  of deaths: bounds on the z, p and hazard-ratio scales, cumulative crossing probabilities
  under H0 and H1 (rpact ``getPowerSurvival``), see :mod:`trialnb.monitoring.boundary_table`.
* :func:`analyse` - decisions, repeated p-values and confidence intervals, final inference
  (``getAnalysisResults``) from log-rank z or from a log hazard ratio and its SE (the Cox Wald
  statistic), and :func:`conditional_power` on the design the analysis used, see
  :mod:`trialnb.monitoring.analysis` (sign conventions: z has the sign of log(HR); the
  protocol's HR < 1 is ``direction_upper=False``).
* :func:`analysis_times` and :func:`expected_deaths` - when the deaths arrive (rpact's
  ``analysisTime``), for all deaths or deaths within a window after randomization, and a
  calendar-driven final, see :mod:`trialnb.monitoring.timing`.
* :func:`sequential_sample_size` - events and patients of a design (``getSampleSizeSurvival``).
* :func:`plan_design`, :func:`plan_benefit_design`, :func:`plan_max_events`,
  :func:`plan_interim_events`, :func:`plan_analysis_times`, :func:`plan_expected_deaths` - the
  design, the planned primary-endpoint deaths and the expected timing of a trial plan's looks
  (:mod:`trialnb.plan`); :func:`plan_secondary_design` - the boundaries of its key secondary
  hypothesis.
* :func:`predict_deaths` - when the next look comes: the calendar month of a target number of
  primary-endpoint deaths predicted from the data as of a cut-off (blinded; enrollment, death
  and drop-out models fitted with their uncertainty, like R ``eventPred``), see
  :mod:`trialnb.monitoring.prediction`.

Numerics: recursive numerical integration (Armitage, McPherson & Rowe 1969; Jennison &
Turnbull 2000, ch. 19), see :mod:`trialnb.monitoring._numerics`.
"""

from __future__ import annotations

from .analysis import STATISTICS, ConditionalPower, InterimAnalysis, analyse, conditional_power, logrank_standard_error
from .boundary_table import BoundaryTable, bound_hazard_ratio, boundary_table
from .design import (ALPHA_SPENDING, BETA_SPENDING, DESIGN_TYPES, GroupSequentialDesign, design,
                     crossing_probabilities, spending)
from .prediction import DeathPrediction, ModelFit, predict_deaths
from .sample_size import SequentialSampleSize, sequential_sample_size
from .timing import FINAL_TIMING, AnalysisTimes, analysis_times, expected_deaths, expected_randomized
from .planned import (plan_analysis_times, plan_benefit_design, plan_design, plan_expected_deaths, plan_interim_events,
                      plan_max_events, plan_secondary_design)

__all__ = [
    "SequentialSampleSize",
    "sequential_sample_size",
    "ALPHA_SPENDING",
    "STATISTICS",
    "AnalysisTimes",
    "BoundaryTable",
    "ConditionalPower",
    "FINAL_TIMING",
    "DeathPrediction",
    "ModelFit",
    "InterimAnalysis",
    "analyse",
    "analysis_times",
    "bound_hazard_ratio",
    "boundary_table",
    "conditional_power",
    "expected_deaths",
    "expected_randomized",
    "logrank_standard_error",
    "BETA_SPENDING",
    "DESIGN_TYPES",
    "GroupSequentialDesign",
    "design",
    "predict_deaths",
    "crossing_probabilities",
    "spending",
    "plan_analysis_times",
    "plan_benefit_design",
    "plan_expected_deaths",
    "plan_design",
    "plan_interim_events",
    "plan_max_events",
    "plan_secondary_design",
]
