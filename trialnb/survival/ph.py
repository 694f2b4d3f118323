"""Tests of proportional hazards in the survival engine: the score tests of R ``cox.zph``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SurvivalDataError
from ._core import check_times
from .cox import Ties, cox_event_terms
from .km import kaplan_meier

__all__ = ["ZPH_TRANSFORMS", "zph_test"]

ZPH_TRANSFORMS: tuple[str, ...] = ("km", "rank", "identity", "log")
"""Time transforms of :func:`zph_test` (R ``cox.zph(transform=)``)."""


def zph_test(time: Any, event: Any, covariates: Any, beta: Any, *, names: Sequence[str] | None = None,
             transform: str = "km", ties: Ties = "efron") -> pd.DataFrame:
    """Proportional-hazards score tests as R survival (>= 3.0) ``cox.zph`` computes them, for one
    data set (right-censored, no strata) and the Cox estimate ``beta``.

    For g(t) the transformed time centred over the deaths, the score test of gamma = 0 in the
    extended model h(t) = h0(t) exp(x'beta + (x g(t))'gamma), at (beta_hat, 0) (Grambsch &
    Therneau, Biometrika 1994;81:515; Therneau & Grambsch 2000, section 6.2):
    U_gamma = sum over death times of g(t_j) (sum_{i in D_j} x_i - sum_k xbar_jk) and the
    information blocks sum V_jk, sum g V_jk, sum g^2 V_jk (Efron weights k/m within ties).
    One row per covariate (1 df, all beta partialled out) and ``GLOBAL``. Transforms:
    "km" (1 - left-continuous Kaplan-Meier of all patients), "rank", "identity", "log".
    """
    if transform not in ZPH_TRANSFORMS:
        raise SurvivalDataError(f"transform must be one of {ZPH_TRANSFORMS}, got {transform!r}")
    t_, e_, _ = check_times(time, event)
    if t_.shape[0] != 1:
        raise SurvivalDataError(f"zph_test takes one data set: time of shape (n,), got {np.shape(time)}")
    t, e = t_[0], e_[0] == 1
    try:
        x = np.asarray(covariates, float).reshape(len(t), -1)
    except (TypeError, ValueError):
        raise SurvivalDataError(f"covariates must be numbers with one row per observation ({len(t)}), got shape "
                                f"{np.shape(covariates)}") from None
    if not e.any():
        raise SurvivalDataError("zph_test needs at least one death (the tests are sums over the deaths)")
    p = x.shape[1]
    names = tuple(f"x{j}" for j in range(p)) if names is None else tuple(names)
    if transform == "km":
        km = kaplan_meier(t, e.astype(int))
        idx = np.searchsorted(km.time, t, side="left")  # distinct times strictly before t
        g_all = 1.0 - np.concatenate([[1.0], km.survival])[idx]
    elif transform == "rank":
        g_all = stats.rankdata(t)
    elif transform == "log":
        g_all = np.log(t)
    else:
        g_all = t.copy()
    g_all = g_all - g_all[e].mean()
    rows_d, m, V = cox_event_terms(t, e.astype(int), x, np.asarray(beta, float), ties=ties)
    g = g_all[rows_d]
    u = np.sum(g[:, None] * (x[rows_d] - m), axis=0)
    imat = np.zeros((2 * p, 2 * p))
    imat[:p, :p] = V.sum(axis=0)
    imat[:p, p:] = imat[p:, :p] = np.einsum("j,jab->ab", g, V)
    imat[p:, p:] = np.einsum("j,jab->ab", g * g, V)
    rows = {}
    for j, name in enumerate(names):
        kk = list(range(p)) + [p + j]
        uu = np.concatenate([np.zeros(p), [u[j]]])
        chi = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
        rows[name] = {"chisq": chi, "df": 1, "p": float(stats.chi2.sf(chi, 1))}
    uu = np.concatenate([np.zeros(p), u])
    chi = float(uu @ np.linalg.solve(imat, uu))
    rows["GLOBAL"] = {"chisq": chi, "df": p, "p": float(stats.chi2.sf(chi, p))}
    return pd.DataFrame(rows).T.astype({"chisq": float, "df": int, "p": float})
