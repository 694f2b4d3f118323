"""Interim monitoring of a group-sequential survival trial, equal to R ``rpact``.

* :func:`design` - boundaries, spending and characteristics (``getDesignGroupSequential`` +
  ``getDesignCharacteristics``), see :mod:`trialnb.monitoring.design`.
* :func:`analyse` - decisions, repeated p-values and confidence intervals, final inference
  (``getAnalysisResults``) from log-rank z or from a log hazard ratio and its SE (the Cox Wald
  statistic), and :func:`conditional_power` on the design the analysis used, see
  :mod:`trialnb.monitoring.analysis` (sign conventions: z has the sign of log(HR); the
  protocol's HR < 1 is ``direction_upper=False``).
* :func:`sequential_sample_size` - events and patients of a design (``getSampleSizeSurvival``).

Numerics: recursive numerical integration (Armitage, McPherson & Rowe 1969; Jennison &
Turnbull 2000, ch. 19), see :mod:`trialnb.monitoring._numerics`.
"""

from __future__ import annotations

from .analysis import STATISTICS, ConditionalPower, InterimAnalysis, analyse, conditional_power, logrank_standard_error
from .design import ALPHA_SPENDING, BETA_SPENDING, DESIGN_TYPES, DesignError, GroupSequentialDesign, design, spending
from .sample_size import SequentialSampleSize, sequential_sample_size

__all__ = [
    "SequentialSampleSize",
    "sequential_sample_size",
    "ALPHA_SPENDING",
    "STATISTICS",
    "ConditionalPower",
    "InterimAnalysis",
    "analyse",
    "conditional_power",
    "logrank_standard_error",
    "BETA_SPENDING",
    "DESIGN_TYPES",
    "DesignError",
    "GroupSequentialDesign",
    "design",
    "spending",
]
