"""Internals of the one-trial analysis layer: the trial DataFrame checked and turned into the
arrays the survival engine takes (not public API)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import TrialAnalysisError
from ..protocol import ARM_CODES, FACTOR_NAMES, FACTORS

__all__ = ["COX_COVARIATES", "REFERENCE_LEVELS", "REQUIRED", "SURV", "arrays", "censor_at", "check_df",
           "cox_matrix", "strata_labels"]

SURV: tuple[str, ...] = ("arm", "os_months", "death")
REQUIRED: tuple[str, ...] = SURV + FACTOR_NAMES

REFERENCE_LEVELS: dict[str, str] = {"arm": "B", "dominant_site": "bone", "hormone_receptor": "positive",
                                    "her2": "negative"}
"""Reference level of each covariate of the Cox models (treatment contrasts)."""

COX_COVARIATES: tuple[str, ...] = ("arm_A", "dominant_site_soft_tissue", "dominant_site_visceral",
                                   "hormone_receptor_negative", "her2_positive")
"""Columns of the primary Cox model's design matrix, in order."""


def check_df(df: Any, needed: Sequence[str] = REQUIRED, what: str = "df", both_arms: bool = False) -> pd.DataFrame:
    """``df`` if it is a trial DataFrame with the ``needed`` columns, known arms and valid
    follow-up; a :class:`~trialnb.errors.TrialAnalysisError` naming what is wrong otherwise."""
    if not isinstance(df, pd.DataFrame):
        raise TrialAnalysisError(f"{what} must be a pandas DataFrame in the CRF schema, got {type(df).__name__}")
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise TrialAnalysisError(f"{what} lacks column(s) {missing}; load it with trialnb.data.load_trial")
    if len(df) == 0:
        raise TrialAnalysisError(f"{what} has no rows")
    if "arm" in needed:
        bad = set(df["arm"].unique()) - set(ARM_CODES)
        if bad:
            raise TrialAnalysisError(f"{what}['arm'] has unknown value(s) {sorted(map(str, bad))}; allowed: A, B")
        if both_arms and df["arm"].nunique() < 2:
            raise TrialAnalysisError(f"{what} must hold patients of both arms A and B")
    if "os_months" in needed:
        t = pd.to_numeric(df["os_months"], errors="coerce")
        if t.isna().any() or not np.all(np.isfinite(t)) or (t < 0).any():
            raise TrialAnalysisError(f"{what}['os_months'] must be finite follow-up times >= 0 months")
    if "death" in needed and not df["death"].isin([0, 1]).all():
        raise TrialAnalysisError(f"{what}['death'] must be 0 (censored) or 1 (died), got values "
                                 f"{sorted(map(str, set(df['death'].unique()) - {0, 1}))[:5]}")
    for f in FACTORS:
        if f.name in needed:
            bad = set(df[f.name].unique()) - set(f.levels)
            if bad:
                raise TrialAnalysisError(f"{what}[{f.name!r}] has unknown level(s) {sorted(map(str, bad))}; "
                                         f"allowed: {', '.join(f.levels)}")
    return df


def arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, event, arm) arrays of a checked trial DataFrame: months, 0/1, 1 = arm A."""
    return (df["os_months"].to_numpy(float), df["death"].to_numpy().astype(int),
            (df["arm"] == "A").to_numpy().astype(int))


def censor_at(df: pd.DataFrame, months: float | None) -> pd.DataFrame:
    """A copy of ``df`` with follow-up cut at ``months`` after randomization: ``os_months =
    min(os_months, months)`` and ``death = 0`` for deaths after ``months`` (a death at exactly
    ``months`` counts). ``months=None`` returns ``df`` unchanged (all follow-up)."""
    df = check_df(df, SURV)
    if months is None:
        return df
    if isinstance(months, bool) or not isinstance(months, (int, float, np.integer, np.floating)) \
            or not math.isfinite(months) or not months > 0:
        raise TrialAnalysisError(f"months must be a positive number of months or None, got {months!r}")
    out = df.copy()
    late = out["os_months"] > months
    out.loc[late, "death"] = 0
    out.loc[late, "os_months"] = float(months)
    return out


def cox_matrix(df: pd.DataFrame, covariates: Sequence[str] = FACTOR_NAMES, arm: bool = True
               ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Design matrix (n, p) with treatment contrasts against :data:`REFERENCE_LEVELS` and its
    column names: ``arm_A`` (if ``arm``), then one 0/1 column per non-reference level of each
    factor of ``covariates`` (``dominant_site_soft_tissue``, ...)."""
    cols: list[np.ndarray] = []
    names: list[str] = []
    if arm:
        cols.append((df["arm"] == "A").to_numpy(float))
        names.append("arm_A")
    for f in FACTORS:
        if f.name not in covariates:
            continue
        for lvl in f.levels:
            if lvl != REFERENCE_LEVELS[f.name]:
                cols.append((df[f.name] == lvl).to_numpy(float))
                names.append(f"{f.name}_{lvl}")
    X = np.column_stack(cols) if cols else np.zeros((len(df), 0))
    return X, tuple(names)


def strata_labels(df: pd.DataFrame, covariates: Sequence[str]) -> np.ndarray | None:
    """Stratum label of each row: the combination of its levels of ``covariates`` (None for none)."""
    used = [f for f in FACTOR_NAMES if f in covariates]
    if not used:
        return None
    return df[used].astype(str).agg("|".join, axis=1).to_numpy()
