"""The two-arm statistics of many simulated trials at once, for the simulation's analyses.

:func:`trial_statistics` gives, for R trials of shape (R, n), the four Fleming-Harrington
statistics of MaxCombo with their covariance (:func:`trialnb.survival.fh_statistics`) and each
arm's Kaplan-Meier survival and restricted mean at tau with their variances
(:func:`trialnb.survival.km_milestone`, :func:`trialnb.survival.km_rmst`), from one sort of
each trial. The compiled kernel (:mod:`trialnb.survival._trial_kernel`, one pass per trial,
parallel over trials) and the numpy functions give the same numbers (``engine="numpy"`` runs
the latter; tested equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..compiled import use_compiled
from ..errors import SurvivalDataError
from ..validation import check_positive
from . import _trial_kernel as kernel
from ._core import check_group, check_times
from .km import km_milestone, km_rmst
from .logrank import FH_MAXCOMBO, FHStatistics, fh_statistics, prepare

__all__ = ["TrialStatistics", "trial_statistics"]


@dataclass(frozen=True)
class TrialStatistics:
    """Per trial: ``fh`` (weighted log-rank statistics, z > 0: arm A dies more than expected),
    ``milestone`` = (S_A(tau), Var, S_B(tau), Var) and ``rmst`` = (RMST_A, Var, RMST_B, Var),
    arrays of shape (R,); NaN where an arm's curve is not defined at tau."""

    tau: float
    fh: FHStatistics
    milestone: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    rmst: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def trial_statistics(time: Any, event: Any, arm: Any, tau: float, *, engine: str = "auto",
                     weights: Sequence[tuple[float, float]] = FH_MAXCOMBO) -> TrialStatistics:
    """The statistics of :class:`TrialStatistics` for (R, n) arrays (arm 1 = A). The compiled
    kernel serves the MaxCombo weights; other ``weights`` use the numpy functions."""
    check_positive(tau, "tau", error=SurvivalDataError)
    t0, e0, _ = check_times(time, event)
    check_group(arm, t0.shape)
    compiled = (use_compiled(engine, SurvivalDataError) and isinstance(weights, (list, tuple))
                and tuple(map(tuple, weights)) == FH_MAXCOMBO)
    if not compiled:
        prep = prepare(time, event, arm)
        return TrialStatistics(float(tau), fh_statistics(prepared=prep, weights=weights),
                               km_milestone(None, None, None, tau, prepared=prep),
                               km_rmst(None, None, None, tau, prepared=prep))
    t = np.ascontiguousarray(np.atleast_2d(time), dtype=float)
    e = np.ascontiguousarray(np.atleast_2d(event), dtype=float)
    g = np.ascontiguousarray(np.atleast_2d(arm), dtype=float)
    R = t.shape[0]
    u, cov, km = np.empty((R, 4)), np.empty((R, 4, 4)), np.empty((R, 8))
    kernel.trial_stats(t, e, g, float(tau), u, cov, km)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = u / np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    # the curve of an arm is defined at tau up to its last time or once it has reached 0
    for k, sel in ((0, g > 0), (2, g <= 0)):
        last = np.max(np.where(sel, t, -np.inf), axis=1)
        bad = (tau > last) & ~(km[:, k] <= 0)
        km[bad, k:k + 2] = np.nan
        km[bad, k + 4:k + 6] = np.nan
    c = [km[:, j] for j in range(8)]
    return TrialStatistics(float(tau), FHStatistics(FH_MAXCOMBO, u, cov, z), (c[0], c[1], c[2], c[3]),
                           (c[4], c[5], c[6], c[7]))
