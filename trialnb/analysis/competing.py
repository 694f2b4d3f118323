"""Secondary endpoints cut short by death, analysed as competing risks: one trial's DataFrame
on :mod:`trialnb.survival.competing`.

Time to the first unplanned local therapy and time to locoregional progression (the CRF's
``unplanned_local_therapy_month`` and ``locoregional_progression_month``) end at the event, or
at death before it, or at the last follow-up. Death is a *competing* event: a patient who died
can no longer have the event, so "1 - Kaplan-Meier" with deaths censored would estimate the
incidence in a world without death and overstate it (Pintilie 2006, ch. 4). The estimand is the
cumulative incidence of the event (death as a competing event: the ICH E9(R1) "competing risk"
handling of the intercurrent event death), compared between the arms by Gray's test and
modelled by the Fine-Gray subdistribution hazard ratio (the covariates of the primary model:
arm and the minimization factors). Cause 1 is the event, cause 2 death before it.

* :func:`competing_data` -- (time, status) of an endpoint from the CRF columns.
* :func:`competing_risks` -- :class:`CompetingRisksResult`: the Aalen-Johansen cumulative
  incidence by arm at chosen months, Gray's test (unstratified, or stratified by the
  minimization factors) and the Fine-Gray model.

The E2108 trial (Khan et al., J Clin Oncol 2022) compared locoregional progression this way: the
3-year cumulative incidence was 16.3% with early local therapy vs 39.8% without, by Gray's test
(``references/clinical_evidence.md``, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import TrialAnalysisError
from ..plan import PLAN, TrialPlan, check_plan
from ..protocol import FACTOR_NAMES
from ..report import fmt_hr, fmt_num, fmt_p, fmt_pct
from ..results import Result
from ..survival import (CumulativeIncidence, FineGrayResult, GrayTest, competing_status, cumulative_incidence,
                        fine_gray, gray_test)
from ._frame import SURV, check_df, cox_matrix, strata_labels

__all__ = ["COMPETING_ENDPOINTS", "CompetingRisksResult", "competing_data", "competing_risks"]

COMPETING_ENDPOINTS: dict[str, tuple[str, str]] = {
    "unplanned_local_therapy": ("unplanned_local_therapy_month", "time to the first unplanned local therapy"),
    "locoregional_progression": ("locoregional_progression_month", "time to locoregional progression"),
}
"""The secondary endpoints with death as a competing event: name -> (CRF column, label)."""


def competing_data(df: pd.DataFrame, endpoint: str = "unplanned_local_therapy") -> pd.DataFrame:
    """``df``'s (``time``, ``status``) for ``endpoint`` (a key of :data:`COMPETING_ENDPOINTS`):
    status 1 at the event's month, else 2 at ``os_months`` if the patient died, else 0 (censored)
    at ``os_months``; returned with the arm and the minimization factors."""
    if endpoint not in COMPETING_ENDPOINTS:
        raise TrialAnalysisError(f"endpoint must be one of {sorted(COMPETING_ENDPOINTS)}, got {endpoint!r}")
    col = COMPETING_ENDPOINTS[endpoint][0]
    df = check_df(df, SURV + FACTOR_NAMES + (col,), both_arms=True)
    month = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    fu = df["os_months"].to_numpy(float)
    try:
        time, status = competing_status(month, fu, fu, df["death"].to_numpy().astype(int))
    except ValueError as exc:
        raise TrialAnalysisError(f"df[{col!r}]: {exc}") from None
    out = df[["arm", *FACTOR_NAMES]].copy()
    out.insert(0, "status", status)
    out.insert(0, "time", time)
    return out


@dataclass(frozen=True)
class CompetingRisksResult(Result):
    """One competing-risks endpoint analysed by arm: ``cif`` (Aalen-Johansen, both causes),
    ``table`` (the event's cumulative incidence per arm at ``times`` with SEs and log-log 95%
    CIs), ``gray`` (Gray's test of the event), ``fine_gray`` (subdistribution hazard ratios of arm
    A and the factors), and the counts of events and deaths before them per arm."""

    endpoint: str
    label: str
    cif: CumulativeIncidence
    table: pd.DataFrame
    gray: GrayTest
    fine_gray: FineGrayResult
    counts: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def incidence(self, arm: str, t: float) -> float:
        """The event's cumulative incidence in ``arm`` at ``t`` months (NaN beyond follow-up)."""
        r = self.cif.at([t])
        return float(r[(r["group"] == arm) & (r["cause"] == 1)]["estimate"].iloc[0])

    @property
    def subdistribution_hazard_ratio(self) -> tuple[float, float, float]:
        """Arm A vs B: (sHR, lower, upper 95%) from the Fine-Gray model's robust SE."""
        b, se = float(self.fine_gray.coef[0]), float(self.fine_gray.se[0])
        return float(np.exp(b)), float(np.exp(b - 1.959963984540054 * se)), float(np.exp(b + 1.959963984540054 * se))

    def summary(self) -> str:
        t = self.table
        parts = []
        for m in sorted(t["time"].unique()):
            r = t[t["time"] == m].set_index("arm")
            est = r["estimate"]
            parts.append(f"{fmt_num(m, 0)} months A {fmt_pct(est['A'])}, B {fmt_pct(est['B'])}")
        shr = self.subdistribution_hazard_ratio
        return (f"{self.label[0].upper()}{self.label[1:]}, death a competing event: cumulative incidence "
                + "; ".join(parts) + f". {self.gray.summary()}. Fine-Gray subdistribution HR (A vs B, adjusted "
                f"for the minimization factors) {fmt_hr(*shr)}, {fmt_p(float(self.fine_gray.p[0]))}.")


def competing_risks(df: pd.DataFrame, endpoint: str = "unplanned_local_therapy", *,
                    times: Sequence[float] = (12.0, 24.0, 36.0), strata: str = "none",
                    plan: TrialPlan = PLAN) -> CompetingRisksResult:
    """The competing-risks analysis of ``endpoint`` (module docstring): Aalen-Johansen cumulative
    incidence per arm at ``times`` (months), Gray's test of arm A vs B (``strata="factors"``:
    stratified by the minimization factors; "none": unstratified, as E2108 reported it) and the
    Fine-Gray model of arm A and the plan's covariates (``plan.analysis.covariates``). Equal to R
    ``cmprsk`` on the shipped data (``tests/test_competing.py``)."""
    if strata not in ("none", "factors"):
        raise TrialAnalysisError(f"strata must be 'none' or 'factors', got {strata!r}")
    check_plan(plan, error=TrialAnalysisError)
    d = competing_data(df, endpoint)
    t, s, arm = d["time"].to_numpy(float), d["status"].to_numpy(), d["arm"].to_numpy()
    if not np.any(s == 1):
        raise TrialAnalysisError(f"no {COMPETING_ENDPOINTS[endpoint][1]} event in df: nothing to analyse")
    cif = cumulative_incidence(t, s, arm)
    ts = [float(x) for x in np.atleast_1d(np.asarray(times, float))]
    at = cif.at(ts)
    table = at[at["cause"] == 1].drop(columns="cause").rename(columns={"group": "arm"}).reset_index(drop=True)
    st = strata_labels(d, FACTOR_NAMES) if strata == "factors" else None
    gray = gray_test(t, s, arm, cause=1, strata=st)
    X, names = cox_matrix(d, plan.analysis.covariates)
    fg = fine_gray(t, s, X, cause=1, names=names)
    counts = pd.DataFrame({a: {"patients": int((arm == a).sum()), "events": int(((arm == a) & (s == 1)).sum()),
                               "deaths first": int(((arm == a) & (s == 2)).sum()),
                               "censored": int(((arm == a) & (s == 0)).sum())} for a in ("A", "B")}).T
    return CompetingRisksResult(endpoint, COMPETING_ENDPOINTS[endpoint][1], cif, table, gray, fg,
                                counts.rename_axis("arm"))
