"""A trial as it was known at a calendar date: the data cut of an interim analysis.

:func:`cut_at` keeps only what was known at the cut-off month c (months since the start of
accrual): the patients randomized by c; their follow-up ``min(os_months, c - entry_month)``,
computed in the data's own precision (0.01 month) so that no floating-point near-tie appears
between a censoring and a death (R ``coxph`` would merge such times, ``aeqSurv``); a death only
if it happened by c; surgery and everything that follows from it (type, margins, axillary
dissection, the reason) only if the operation happened by c; a dated event (the first
unplanned local therapy, locoregional progression: :data:`DATED_FIELDS`) only if it happened by
c. Fields the CRF records as final values without a date -- the number of unplanned local
therapies, axillary radiotherapy, loss to follow-up, the reason arm A was not operated,
per-protocol status -- are not known at an interim and are set to missing (``<NA>``): nothing
after the cut-off can reach an interim analysis (``tests/test_interim.py`` holds it as a
property).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import TrialAnalysisError
from ..validation import is_number
from ._frame import check_df

__all__ = ["DATED_FIELDS", "UNDATED_FIELDS", "cut_at"]

UNDATED_FIELDS: tuple[str, ...] = ("unplanned_local_therapies", "axillary_radiotherapy", "lost_to_follow_up",
                                   "not_operated_reason", "per_protocol")
"""CRF fields recorded as final values without a date: missing in a data cut."""

DATED_FIELDS: tuple[str, ...] = ("unplanned_local_therapy_month", "locoregional_progression_month")
"""CRF fields that date an event (months from randomization): kept in a data cut only if the event
happened by the cut-off."""

_SURGERY_FIELDS: tuple[str, ...] = ("surgery_month", "surgery_reason", "surgery_type", "margin_status")


def _months(x: Any, name: str) -> float:
    if not is_number(x):
        raise TrialAnalysisError(f"{name} must be a number of months, got {x!r}")
    v = float(x)
    if math.isnan(v):
        raise TrialAnalysisError(f"{name} is not a number (NaN); give a calendar month such as 29.1")
    return v


def cut_at(df: pd.DataFrame, cutoff_month: float) -> pd.DataFrame:
    """The trial ``df`` (a loaded CRF file) as known at calendar month ``cutoff_month`` (the
    module docstring). Refuses a cut-off before the first randomization or after the last
    follow-up in the file. The cut-off is kept in ``attrs["cutoff_month"]``."""
    df = check_df(df, ("arm", "os_months", "death", "entry_month"))
    c = _months(cutoff_month, "cutoff_month")
    first = float(df["entry_month"].min())
    last = float((df["entry_month"] + df["os_months"]).max())
    if c > last + 1e-9:
        raise TrialAnalysisError(f"cut-off month {cutoff_month!r} is beyond the data: the last follow-up in this "
                                 f"file is at month {last:g}; choose a month in ({first:g}, {last:g}]")
    if c <= first:
        raise TrialAnalysisError(f"cut-off month {cutoff_month!r} is before the first randomization (month "
                                 f"{first:g}); choose a month in ({first:g}, {last:g}]")
    out = df[df["entry_month"] <= c + 1e-9].copy()
    fu = np.round(c - out["entry_month"].to_numpy(float), 2)  # the data's precision: 0.01 month
    os_ = out["os_months"].to_numpy(float)
    dead = (out["death"].to_numpy() == 1) & (os_ <= fu + 1e-9)
    out["os_months"] = np.where(dead, os_, np.minimum(os_, fu))
    out["death"] = dead.astype(int)
    if "operated" in out:
        sm = pd.to_numeric(out["surgery_month"], errors="coerce").to_numpy(float) if "surgery_month" in out \
            else np.full(len(out), np.nan)
        done = (out["operated"].to_numpy() == 1) & (sm <= fu + 1e-9)
        out["operated"] = done.astype(int)
        for f in _SURGERY_FIELDS:
            if f in out:
                if f == "surgery_month":
                    out[f] = out[f].where(done, other=np.nan)
                else:  # pandas-stubs 2.3 leave None (a missing value, which pandas takes) out of `other`
                    out[f] = out[f].where(done, other=None)  # type: ignore[call-overload]
        if "axillary_dissection" in out:
            out["axillary_dissection"] = np.where(done, out["axillary_dissection"], 0).astype(int)
    for f in DATED_FIELDS:
        if f in out:
            m = pd.to_numeric(out[f], errors="coerce").to_numpy(float)
            out[f] = np.where(m <= fu + 1e-9, m, np.nan)
    for f in UNDATED_FIELDS:
        if f in out:
            out[f] = pd.array([pd.NA] * len(out), dtype="Int64" if f != "not_operated_reason" else "string")
    out.attrs["cutoff_month"] = c
    return out.reset_index(drop=True)
