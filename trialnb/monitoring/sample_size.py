"""Survival sample size of a group-sequential design: maximum and stage-wise events, patients,
analysis times, expected events under H0 and H1 and the hazard ratio at each boundary, as R
rpact's ``getSampleSizeSurvival(design, ...)``.

Built on the fixed-design formulas of :mod:`trialnb.sample_size` (Schoenfeld events times the
design's inflation factor; Pr(event) with uniform accrual, follow-up and exponential drop-out),
so that the fixed design is the one-look special case (tested). Also importable as
``trialnb.sample_size.sequential_sample_size``.

References: Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical
Trials. Chapman & Hall/CRC 2000, ch. 7 (the inflation factor); Schoenfeld DA. Biometrika
1981;68:316-319; Wassmer G, Brannath W. Group Sequential and Confirmatory Adaptive Designs in
Clinical Trials. Springer 2016 (rpact's conventions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..protocol import PROTOCOL
from ..report import fmt_num
from ..errors import SampleSizeError
from ..results import Result
from ..sample_size import event_probability
from .boundary_table import bound_hazard_ratio
from .timing import analysis_times
from ..validation import check_hazard_ratio, check_nonnegative, check_positive

__all__ = ["SequentialSampleSize", "sequential_sample_size"]



@dataclass(frozen=True)
class SequentialSampleSize(Result):
    """Result of :func:`sequential_sample_size` (names follow rpact ``getSampleSizeSurvival``).

    Events are unrounded; ``critical_hr``/``futility_hr`` are the hazard ratios at which the
    boundaries are crossed at the planned events of each look; ``analysis_times`` are the
    calendar times (from the first entry) at which the expected events reach each look."""

    hazard_ratio: float
    allocation_ratio: float
    direction_upper: bool
    events_fixed: float
    inflation_factor: float
    max_events: float
    events_per_stage: np.ndarray
    expected_events_h0: float
    expected_events_h01: float
    expected_events_h1: float
    max_subjects: float
    accrual_intensity: float
    analysis_times: np.ndarray
    subjects_per_stage: np.ndarray
    expected_subjects_h1: float
    critical_hr: np.ndarray
    futility_hr: np.ndarray | None

    def to_frame(self) -> pd.DataFrame:
        """One row per look: events, calendar time, patients, boundary hazard ratios."""
        k = self.events_per_stage.size
        fut = np.full(k, np.nan)
        if self.futility_hr is not None:
            fut[:-1] = self.futility_hr
        return pd.DataFrame(
            {"look": np.arange(1, k + 1), "events": self.events_per_stage, "analysis_time": self.analysis_times,
             "subjects": self.subjects_per_stage, "critical_hr": self.critical_hr, "futility_hr": fut}
        ).set_index("look")

    def summary(self) -> str:
        return (
            f"max events {fmt_num(self.max_events, 1)} = {fmt_num(self.events_fixed, 1)} (fixed design) x "
            f"{fmt_num(self.inflation_factor, 4)}; expected events {fmt_num(self.expected_events_h1, 1)} under "
            f"HR {fmt_num(self.hazard_ratio, 3)}, {fmt_num(self.expected_events_h0, 1)} under HR 1; "
            f"N = {fmt_num(self.max_subjects, 1)}"
        )

    def __str__(self) -> str:
        return self.summary()


def sequential_sample_size(
    design: Any,
    hazard_ratio: float,
    *,
    allocation_ratio: float = 1.0,
    control_hazard: float = PROTOCOL.design.control_hazard_per_month,
    accrual_time: float = 0.0,
    follow_up_time: float = PROTOCOL.design.horizon_months,
    dropout_hazard: float = 0.0,
) -> SequentialSampleSize:
    """Events and patients for a group-sequential design (``trialnb.monitoring.design``), as
    ``rpact::getSampleSizeSurvival(design, ...)`` (Schoenfeld events, exponential survival).

    * maximum events = Schoenfeld's fixed-design events (with the design's alpha, sides and
      power) x the design's inflation factor; look k at ``information_rates[k]`` x maximum;
    * expected events under H0 / half the effect / the effect = the design's expected
      information x fixed-design events;
    * patients N = maximum events / :func:`event_probability` at ``accrual_time +
      follow_up_time``; analysis times solve expected events(time) = events of the look
      (:func:`trialnb.monitoring.timing.analysis_times`, the last look at ``accrual_time +
      follow_up_time``);
    * boundary hazard ratios ``exp(-+ c_k (1 + r) / sqrt(r D_k))`` (sign: towards the effect).

    With a one-look design this is :func:`sample_size` with ``method="schoenfeld"``.
    """
    hr = check_hazard_ratio(hazard_ratio, allow_one=False, error=SampleSizeError)
    r = check_positive(allocation_ratio, "allocation_ratio", error=SampleSizeError)
    lam = check_positive(control_hazard, "control_hazard", error=SampleSizeError)
    a = check_nonnegative(accrual_time, "accrual_time", error=SampleSizeError)
    f = check_nonnegative(follow_up_time, "follow_up_time", error=SampleSizeError)
    if a + f == 0:
        raise SampleSizeError("accrual_time + follow_up_time must be > 0 (no follow-up, no events)")
    eta = check_nonnegative(dropout_hazard, "dropout_hazard", error=SampleSizeError)
    for attr in ("n_fixed", "inflation_factor", "information_rates", "critical_values"):
        if not hasattr(design, attr):
            raise SampleSizeError(f"design must come from trialnb.monitoring.design(), got {type(design).__name__}")
    scale = (1 + r) ** 2 / (r * math.log(hr) ** 2)
    ev_fixed = design.n_fixed * scale
    max_ev = ev_fixed * design.inflation_factor
    stages = max_ev * np.asarray(design.information_rates, dtype=float)
    n = max_ev / event_probability(hr, lam, a, f, r, eta)
    intensity = n / a if a > 0 else math.inf
    timing = analysis_times(stages[:-1], n_patients=n, accrual_time=a, hazard_ratio=hr, control_hazard=lam,
                            allocation_ratio=r, dropout_hazard=eta, final="calendar", final_month=a + f)
    times, subjects = timing.months_h1, timing.randomized_h1
    upper = hr > 1
    crit_hr = bound_hazard_ratio(design.critical_values, stages, allocation_ratio=r, direction_upper=upper)
    fut_hr = None
    if getattr(design, "futility_bounds", None) is not None:
        fb = np.asarray(design.futility_bounds, dtype=float)
        fut_hr = np.where(np.isfinite(fb),
                          bound_hazard_ratio(fb, stages[:-1], allocation_ratio=r, direction_upper=upper), np.nan)
    k = stages.size
    if k > 1:
        stop = np.asarray(design.rejection_probabilities[:-1]) + np.asarray(design.futility_probabilities)
        exp_subjects = float(np.sum(stop * subjects[:-1]) + (1 - np.sum(stop)) * subjects[-1])
    else:
        exp_subjects = float(subjects[-1])
    return SequentialSampleSize(
        hazard_ratio=hr, allocation_ratio=r, direction_upper=upper, events_fixed=ev_fixed,
        inflation_factor=float(design.inflation_factor), max_events=max_ev, events_per_stage=stages,
        expected_events_h0=design.expected_information_h0 * ev_fixed,
        expected_events_h01=design.expected_information_h01 * ev_fixed,
        expected_events_h1=design.expected_information_h1 * ev_fixed,
        max_subjects=n, accrual_intensity=intensity, analysis_times=times, subjects_per_stage=subjects,
        expected_subjects_h1=exp_subjects, critical_hr=crit_hr, futility_hr=fut_hr,
    )


