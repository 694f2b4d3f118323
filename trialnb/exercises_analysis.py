"""Self-check functions for the exercises of notebook 04 (the analysis plan on synthetic data).

Each ``check_*`` takes the trainee's answer and returns a short "right" / "not yet" message
with a hint. The correct values are recomputed from the shipped data in ``data/``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from . import analysis as an
from .data import load_trial
from .report import fmt_hr, fmt_n, fmt_pct

__all__ = ["check_deaths_by_24", "check_inverse_hr", "check_null_hr", "check_primary_population",
           "check_survival_difference"]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@lru_cache(maxsize=4)
def _trial(name: str) -> pd.DataFrame:
    return load_trial(DATA_DIR / f"trial_{name}.csv")


def _number(answer: Any, what: str) -> float | None:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
        return None
    return float(answer)


def check_deaths_by_24(answer: Any) -> str:
    """Exercise 1: deaths in arm B within the first 24 months (os_months <= 24), protocol data."""
    df = _trial("protocol")
    truth = int(((df["arm"] == "B") & (df["death"] == 1) & (df["os_months"] <= 24)).sum())
    x = _number(answer, "deaths")
    if x is None:
        return "Not yet: give a whole number of deaths."
    if x == truth:
        return f"Right: {fmt_n(truth)} deaths in arm B by 24 months."
    return "Not yet. Hint: filter arm == 'B', death == 1 and os_months <= 24, then count rows."


def check_inverse_hr(answer: Any) -> str:
    """Exercise 2: the hazard ratio of arm B vs arm A from the primary model (protocol data)."""
    res = an.primary_cox(_trial("protocol"))
    truth = 1.0 / res.hazard_ratio
    x = _number(answer, "HR")
    if x is None:
        return "Not yet: give the hazard ratio as a number."
    if abs(x - truth) <= 0.01:
        return f"Right: HR(B vs A) = 1 / HR(A vs B) = {fmt_hr(truth)}."
    if abs(x - res.hazard_ratio) <= 0.01:
        return "Not yet: that is A vs B. Swapping the reference arm inverts the ratio."
    return "Not yet. Hint: exp(-coef) of arm_A, or refit with arm A as the reference."


def check_primary_population(answer: Any) -> str:
    """Exercise 3: which analysis population is primary for the protocol's Cox model?"""
    a = str(answer).strip().lower().replace("-", " ").replace("_", " ")
    if a in ("itt", "intention to treat", "intent to treat", "intention to treat population"):
        return ("Right: intention to treat - every randomized patient in the allocated arm, which is "
                "what randomization protects.")
    if "protocol" in a or "treated" in a:
        return ("Not yet: per-protocol and as-treated populations select patients after randomization "
                "(arm A patients who progressed are not operated), so the arms are no longer comparable.")
    return "Not yet. Hint: the protocol says 'Data will be presented for the complete ... population'."


def check_null_hr(answer: Any) -> str:
    """Exercise 4: the primary Cox HR (A vs B) on the null-scenario data ``trial_null.csv``."""
    res = an.primary_cox(_trial("null"))
    x = _number(answer, "HR")
    if x is None:
        return "Not yet: give the hazard ratio as a number."
    if abs(x - res.hazard_ratio) <= 0.01:
        return (f"Right: {fmt_hr(res.hazard_ratio, res.ci_lower, res.ci_upper)}; the true HR is 1 and the CI "
                "covers it.")
    return "Not yet. Hint: primary_cox(load_trial('../data/trial_null.csv')).hazard_ratio"


def check_survival_difference(answer: Any) -> str:
    """Exercise 5: 2-year survival difference A - B (as a proportion) on the realistic-scenario data."""
    sa = an.survival_at(_trial("realistic"), 24.0)
    x = _number(answer, "difference")
    if x is None:
        return "Not yet: give the difference as a proportion, e.g. 0.05."
    if abs(x - sa.difference) <= 0.005:
        return f"Right: {fmt_pct(sa.difference)} (A minus B)."
    if abs(x - 100 * sa.difference) <= 0.5:
        return "Almost: that is in percentage points; give it as a proportion."
    if abs(x + sa.difference) <= 0.005:
        return "Not yet: the sign is reversed; take arm A minus arm B."
    return "Not yet. Hint: survival_at(df, 24).difference"
