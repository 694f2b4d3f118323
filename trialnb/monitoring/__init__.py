"""Interim monitoring of a group-sequential survival trial, equal to R ``rpact``.

* :func:`design` - boundaries, spending and characteristics (``getDesignGroupSequential`` +
  ``getDesignCharacteristics``), see :mod:`trialnb.monitoring.design`.
* :func:`analyse` - decisions, repeated p-values and confidence intervals, final inference
  (``getAnalysisResults``) and :func:`conditional_power`, see :mod:`trialnb.monitoring.analysis`
  (sign conventions: log-rank z has the sign of log(HR); the protocol's HR < 1 is
  ``direction_upper=False``).

Numerics: recursive numerical integration (Armitage, McPherson & Rowe 1969; Jennison &
Turnbull 2000, ch. 19), see :mod:`trialnb.monitoring._numerics`.
"""

from __future__ import annotations

from .analysis import ConditionalPower, InterimAnalysis, analyse, conditional_power
from .design import (ALPHA_SPENDING, BETA_SPENDING, DESIGN_TYPES, DesignError, GroupSequentialDesign, design,
                     crossing_probabilities, spending)
from .sample_size import SequentialSampleSize, sequential_sample_size

__all__ = [
    "SequentialSampleSize",
    "sequential_sample_size",
    "ALPHA_SPENDING",
    "ConditionalPower",
    "InterimAnalysis",
    "analyse",
    "conditional_power",
    "BETA_SPENDING",
    "DESIGN_TYPES",
    "DesignError",
    "GroupSequentialDesign",
    "design",
    "crossing_probabilities",
    "spending",
]
