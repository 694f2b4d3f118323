"""Internals shared by the modules of the survival engine (not public API).

Input checks that every estimator applies (times, events, entry times, strata), the
sorted-row layout of a batch of trials (rows sorted by stratum and time within each trial,
tie groups and stratum blocks as index ranges) and the cumulative-sum gathers the risk-set
sums are built from. Functions here take and return (R, n) arrays: R trials of n rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SurvivalDataError

__all__ = ["as_2d", "check_entry", "check_group", "check_strata", "check_times", "fwd", "group_bounds",
           "pooled_km_before",
           "rev", "risk_terms", "sorted_rows", "take", "two_sample_rows"]


# ---- Input checks

def as_2d(name: str, a: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    if a is None:
        raise SurvivalDataError(f"{name} is missing (None): give an array of shape (n,), or (R, n) for R data sets")
    try:
        x = np.asarray(a)
    except ValueError as exc:  # ragged nested sequences
        raise SurvivalDataError(f"{name} must be a rectangular array of shape (n,) or (R, n): {exc}") from None
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise SurvivalDataError(f"{name} must have shape (n,) or (R, n), got shape {np.shape(a)}")
    if shape is not None and x.shape != shape:
        raise SurvivalDataError(f"{name} must have the shape of time {shape}, got {np.shape(a)}")
    return x


def check_times(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """(R, n) float times, (R, n) 0/1 float events, and whether the input was one data set."""
    single = np.ndim(time) == 1
    t = as_2d("time", time)
    if t.shape[0] < 1:
        raise SurvivalDataError(f"time holds no data set (a batch of 0 trials, shape {np.shape(time)}); give at "
                                "least one")
    if t.shape[1] < 1:
        raise SurvivalDataError("time must hold at least one observation (got an empty array)")
    if t.dtype.kind == "b":
        raise SurvivalDataError("time must be numbers of months (follow-up times), got booleans")
    try:
        t = t.astype(float)
    except (TypeError, ValueError):
        raise SurvivalDataError(f"time must be numbers of months (follow-up times), got dtype "
                                f"{np.asarray(time).dtype}") from None
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise SurvivalDataError("time must contain finite values >= 0 (no NaN, infinity or negative time)")
    e = as_2d("event", event, t.shape)
    if e.dtype.kind not in "biuf" or not np.all((e == 0) | (e == 1)):
        bad = sorted({str(v) for v in np.unique(e.astype(object).ravel()) if not (_is01(v))})[:5]
        raise SurvivalDataError(f"event must contain only 0/1 (0 censored, 1 died; or False/True), got {bad}")
    return t, e.astype(float), single


def _is01(v: Any) -> bool:
    try:
        return bool(v == 0 or v == 1) and not isinstance(v, str)
    except (TypeError, ValueError):
        return False


def check_group(group: Any, shape: tuple[int, ...]) -> np.ndarray:
    """(R, n) 0/1 group labels of the shape of time (1 = arm A)."""
    g = as_2d("group", group, shape)
    if g.dtype.kind not in "biuf" or not np.all((g == 0) | (g == 1)):
        raise SurvivalDataError("group must contain only 0/1 (or False/True; 1 = arm A): two groups are compared")
    return g


def check_entry(entry: Any, t: np.ndarray) -> np.ndarray | None:
    if entry is None:
        return None
    en = as_2d("entry", entry, t.shape)
    try:
        en = en.astype(float)
    except (TypeError, ValueError):
        raise SurvivalDataError(f"entry must be numbers of months, got dtype {en.dtype}") from None
    if not np.all(np.isfinite(en)):
        raise SurvivalDataError("entry must contain finite values")
    if np.any(en >= t):
        raise SurvivalDataError("entry must be < time in every row: (entry, time] is the interval at risk")
    return en


def check_strata(strata: Any, t: np.ndarray) -> np.ndarray | None:
    if strata is None:
        return None
    s = np.asarray(strata)
    if s.ndim == 1 and t.shape[0] > 1 and s.shape[0] == t.shape[1]:
        s = np.broadcast_to(s, t.shape)
    s = as_2d("strata", s, t.shape)
    if s.dtype.kind == "f" and not np.all(np.isfinite(s)):
        raise SurvivalDataError("strata must not contain NaN or infinite labels")
    if s.dtype.kind == "O":
        try:
            s = s.astype(str)
        except (TypeError, ValueError):
            raise SurvivalDataError("strata must be labels (numbers or strings), one per row") from None
    return np.unique(s.ravel(), return_inverse=True)[1].reshape(t.shape).astype(np.int64)


# ---- Risk-set structure (computed once per batch) and the likelihood values

def take(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """a[r, idx[r, j]] for a of shape (R, m) or (R, m, p) (flat gather: faster than
    ``take_along_axis`` on 3-D arrays)."""
    R, m = a.shape[:2]
    flat = (idx + (np.arange(R) * m)[:, None]).ravel()
    return np.take(a.reshape((R * m,) + a.shape[2:]), flat, axis=0).reshape(idx.shape + a.shape[2:])


def fwd(a: np.ndarray) -> np.ndarray:
    """Forward cumulative sum along rows with a leading 0: sum of a[k], k < j, at j."""
    out = np.zeros((a.shape[0], a.shape[1] + 1) + a.shape[2:])
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


def rev(a: np.ndarray) -> np.ndarray:
    """Reverse cumulative sum with a trailing 0: sum of a[k], k >= j, at j."""
    out = np.zeros((a.shape[0], a.shape[1] + 1) + a.shape[2:])
    np.cumsum(a[:, ::-1], axis=1, out=out[:, -2::-1])
    return out


def group_bounds(new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First index and one-past-last index of the run each position belongs to."""
    R, n = new.shape
    idx = np.broadcast_to(np.arange(n), (R, n))
    start = np.maximum.accumulate(np.where(new, idx, 0), axis=1)
    last = np.ones((R, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, idx + 1, n)[:, ::-1], axis=1)[:, ::-1]
    return np.ascontiguousarray(start), np.ascontiguousarray(end)


def sorted_rows(key: np.ndarray, strata: np.ndarray | None) -> np.ndarray:
    """Row order by (stratum, key) within each trial (stable)."""
    o = np.argsort(key, axis=1, kind="stable")
    if strata is not None:
        o2 = np.argsort(np.take_along_axis(strata, o, 1), axis=1, kind="stable")
        o = np.take_along_axis(o, o2, 1)
    return o



# ---- Two-sample risk sets (log-rank family, Kaplan-Meier per arm)

def two_sample_rows(t: np.ndarray, e: np.ndarray, g: np.ndarray, st: np.ndarray | None) -> tuple:
    """Rows sorted by (stratum, time) and the index maps of every two-sample log-rank statistic:
    (ts, es, gs, new, bst, bend, gst, gen); [bst, bend) stratum block, [gst, gen) tie group."""
    o = sorted_rows(t, st)
    ts, es = np.take_along_axis(t, o, 1), np.take_along_axis(e, o, 1)
    gs = np.take_along_axis(g.astype(float), o, 1)
    new = np.ones(ts.shape, dtype=bool)
    new[:, 1:] = ts[:, 1:] != ts[:, :-1]
    bnew = np.repeat((np.arange(ts.shape[1]) == 0)[None, :], ts.shape[0], axis=0)  # stratum starts
    if st is not None:
        sss = np.take_along_axis(st, o, 1)
        bnew[:, 1:] = sss[:, 1:] != sss[:, :-1]
        new |= bnew
    return (ts, es, gs, new, *group_bounds(bnew), *group_bounds(new))


def risk_terms(ts, es, gs, new, bend, gst, gen) -> tuple[np.ndarray, ...]:
    """Per tie group: N at risk in the stratum, share N1/N in group 1, deaths D, D1, use."""
    N = (bend - gst).astype(float)
    N1 = take(rev(gs), gst) - take(rev(gs), bend)
    fe, fg = fwd(es), fwd(es * gs)
    D, D1 = take(fe, gen) - take(fe, gst), take(fg, gen) - take(fg, gst)
    return N, N1 / N, D, D1, new & (D > 0)


def pooled_km_before(use: np.ndarray, D: np.ndarray, N: np.ndarray, bst: np.ndarray) -> np.ndarray:
    """Pooled Kaplan-Meier S(t-) of the stratum (the Fleming-Harrington weights' S)."""
    q = np.where(use, 1.0 - D / N, 1.0)
    zero = q <= 0  # a stratum emptied by deaths: S = 0 from then on
    cl, cz = fwd(np.log(np.where(zero, 1.0, q))), fwd(zero.astype(float))
    return np.exp(cl[:, :-1] - take(cl, bst)) * ((cz[:, :-1] - take(cz, bst)) == 0)
