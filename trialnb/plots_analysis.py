"""Old home of the analysis figures; they now live in :mod:`trialnb.plots` (import them from
there). Kept so that ``from trialnb.plots_analysis import consort_diagram`` still works."""

from __future__ import annotations

from .plots import consort_diagram, km_plot, subgroup_forest

__all__ = ["consort_diagram", "km_plot", "subgroup_forest"]
