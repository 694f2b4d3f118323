"""Counting-process data for the survival engine: a subject's follow-up split into (start, stop]
rows where a binary covariate switches on (surgery as a time-varying exposure)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import SurvivalDataError

__all__ = ["split_at"]


def split_at(time: Any, event: Any, switch: Any) -> pd.DataFrame:
    """(start, stop] rows for a binary covariate that switches from 0 to 1 at ``switch``.

    One subject per element: ``time`` (follow-up), ``event`` (0/1 at ``time``), ``switch``
    (time the covariate becomes 1; NaN = never). A switch at or before 0 gives one exposed row
    (0, time]; a switch inside (0, time) gives (0, switch] unexposed without event and
    (switch, time] exposed with the subject's event; a switch at or after ``time`` (or NaN)
    one unexposed row. Columns: id (position), start, stop, event, exposed; first the rows
    starting at 0 unexposed, then the exposed rows, each in id order. Used for surgery as a
    time-varying covariate (immortal-time bias).
    """
    try:
        t = np.asarray(time, float)
    except (TypeError, ValueError):
        raise SurvivalDataError("time must be a 1-D array of finite follow-up times > 0 (months)") from None
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t <= 0):
        raise SurvivalDataError("time must be a 1-D array of finite follow-up times > 0 (months)")
    e = np.asarray(event)
    if e.shape != t.shape or e.dtype.kind not in "biuf" or not np.all((e == 0) | (e == 1)):
        raise SurvivalDataError("event must be 0/1 with the shape of time")
    try:
        s = np.asarray(switch, float)
    except (TypeError, ValueError):
        raise SurvivalDataError("switch must be numbers of months with the shape of time "
                                "(NaN = never switches)") from None
    if s.shape != t.shape:
        raise SurvivalDataError("switch must have the shape of time (NaN = never switches)")
    ids = np.arange(len(t))
    on0 = s <= 0
    inside = (s > 0) & (s < t)
    pre = ~on0
    rows = pd.DataFrame({
        "id": np.concatenate([ids[pre], ids[inside | on0]]),
        "start": np.concatenate([np.zeros(pre.sum()), np.where(on0, 0.0, s)[inside | on0]]),
        "stop": np.concatenate([np.where(inside, s, t)[pre], t[inside | on0]]),
        "event": np.concatenate([np.where(inside, 0, e)[pre], e[inside | on0]]).astype(int),
        "exposed": np.concatenate([np.zeros(pre.sum()), np.ones(int((inside | on0).sum()))]),
    })
    return rows
