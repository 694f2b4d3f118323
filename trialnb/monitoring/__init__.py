"""Interim monitoring of a group-sequential survival trial, equal to R ``rpact``.

* :func:`design` - boundaries, spending and characteristics (``getDesignGroupSequential`` +
  ``getDesignCharacteristics``), see :mod:`trialnb.monitoring.design`.

Numerics: recursive numerical integration (Armitage, McPherson & Rowe 1969; Jennison &
Turnbull 2000, ch. 19), see :mod:`trialnb.monitoring._numerics`.
"""

from __future__ import annotations

from .design import ALPHA_SPENDING, BETA_SPENDING, DESIGN_TYPES, DesignError, GroupSequentialDesign, design, spending

__all__ = [
    "ALPHA_SPENDING",
    "BETA_SPENDING",
    "DESIGN_TYPES",
    "DesignError",
    "GroupSequentialDesign",
    "design",
    "spending",
]
