"""How robust the primary result is: proportional hazards, subgroups, the analysis population
and the allocation procedure, on the survival engine.

* :func:`ph_tests` -- scaled Schoenfeld score tests of proportional hazards, as R ``cox.zph``
  (:func:`trialnb.survival.zph_test`).
* :func:`subgroup_hrs` -- HR of arm A vs B within each level of each factor, interaction tests.
* :func:`population_comparison` -- ITT vs per-protocol vs as-treated (naive and time-varying).
* :func:`rerandomization_test` -- the log-rank statistic's null distribution under the trial's
  own allocation procedure re-run on the same patients (Rosenberger & Lachin 2016, ch. 6).

Every model uses the plan's endpoint (follow-up censored at ``plan.analysis.censor_months``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrialAnalysisError
from ..plan import PLAN, TrialPlan, check_plan
from ..protocol import FACTOR_NAMES, FACTORS
from ..report import fmt_n, fmt_num, fmt_p
from ..results import Result
from ..survival import ZPH_TRANSFORMS, fit_cox, logrank, split_at, zph_test
from ..survival.cox import Ties
from ..validation import check_int
from ..workload import Estimate, ProgressArg, check_progress, limits, progress as progress_of
from ._frame import REQUIRED, arrays, censor_at, check_df, cox_matrix

__all__ = ["RERANDOMIZATION_CHUNK", "RERANDOMIZATION_SECONDS_PER_PATIENT", "RerandomizationResult", "ph_tests",
           "population_comparison", "rerandomization_test", "subgroup_hrs"]


RERANDOMIZATION_SECONDS_PER_PATIENT = 30e-6
"""Cost of re-allocating one patient by Pocock-Simon minimization and its share of the log-rank
statistic (measured on the reference machine, 236 patients, 200 re-randomizations)."""

RERANDOMIZATION_CHUNK = 2000
"""Re-randomizations whose log-rank statistics are computed at once."""


def ph_tests(df: pd.DataFrame, *, plan: TrialPlan = PLAN, transform: str = "km") -> pd.DataFrame:
    """Proportional-hazards score tests of the plan's Cox model (arm and the plan's covariates,
    its ties, follow-up censored at its horizon), as R survival (>= 3.0) ``cox.zph``: one row
    per covariate (chisq, 1 df, p) and ``GLOBAL``. ``transform``: "km" (R's default), "rank",
    "identity", "log" (:func:`trialnb.survival.zph_test`)."""
    if transform not in ZPH_TRANSFORMS:
        raise TrialAnalysisError(f"transform must be one of {ZPH_TRANSFORMS}, got {transform!r}")
    check_plan(plan, error=TrialAnalysisError)
    a = plan.analysis
    d = censor_at(check_df(df), a.censor_months)
    t, e, _ = arrays(d)
    X, names = cox_matrix(d, a.covariates)
    if not e.any():
        raise TrialAnalysisError("the proportional-hazards tests need deaths: there are none in these data")
    fit = fit_cox(t, e, X, ties=a.ties, names=names)
    if not fit.converged or not np.all(np.isfinite(fit.coef)):
        raise TrialAnalysisError("the Cox model has a coefficient that cannot be estimated in these data: "
                                 "the proportional-hazards tests need every coefficient")
    return zph_test(t, e, X, fit.coef, names=names, transform=transform, ties=a.ties)


def _effect(d: pd.DataFrame, X: np.ndarray, names: tuple[str, ...], term: str, ties: Ties) -> dict[str, float]:
    t, e, _ = arrays(d)
    fit = fit_cox(t, e, X, ties=ties, names=names)
    j = names.index(term)
    if not fit.usable(j):
        return {"hr": math.nan, "ci_lower": math.nan, "ci_upper": math.nan, "p": math.nan}
    b, se = float(fit.coef[j]), float(fit.se[j])
    z = stats.norm.isf(0.025)
    return {"hr": math.exp(b), "ci_lower": math.exp(b - z * se), "ci_upper": math.exp(b + z * se),
            "p": float(2 * stats.norm.sf(abs(b / se)))}


def subgroup_hrs(df: pd.DataFrame, min_events: int = 5, *, plan: TrialPlan = PLAN) -> pd.DataFrame:
    """Hazard ratio A vs B within each level of each minimization factor (and ECOG 0-1 / 2, age).

    Every model uses the plan's endpoint (follow-up censored at its horizon). The ``All patients``
    row is the plan's adjusted Cox model. Within a subgroup: Cox model with arm only (the
    subgroup fixes one factor). Interaction p-value per factor: likelihood-ratio test of
    arm x factor terms added to the adjusted model. Subgroups with fewer than ``min_events``
    deaths or one arm only get NaN estimates. Column ``in_protocol`` is True for the
    minimization factors (the protocol records them) and False for age and ECOG, which the
    protocol does not name as subgroups: all subgroup analyses are exploratory.
    """
    check_plan(plan, error=TrialAnalysisError)
    min_events = check_int(min_events, "min_events", minimum=1, error=TrialAnalysisError)
    a = plan.analysis
    df = censor_at(check_df(df), a.censor_months).reset_index(drop=True)
    t, e, _ = arrays(df)
    groupings: list[tuple[str, str, pd.Series]] = [(f.name, f.label, df[f.name]) for f in FACTORS]
    if "age" in df:
        groupings.append(("age_group", "Age (not a protocol factor)",
                          pd.Series(np.where(df["age"] < 50, "< 50 years", ">= 50 years"), index=df.index)))
    if "ecog" in df:
        groupings.append(("ecog_group", "ECOG (not a protocol factor)",
                          pd.Series(np.where(df["ecog"] >= 2, "2", "0-1"), index=df.index)))
    X0, names0 = cox_matrix(df, FACTOR_NAMES)
    base = fit_cox(t, e, X0, ties=a.ties, names=names0)
    allrow = _effect(df, X0, names0, "arm_A", a.ties)
    rows = [{"factor": "all", "label": "All patients (adjusted model)", "level": "", "n": len(df),
             "events": int(e.sum()), **allrow, "p_interaction": math.nan, "in_protocol": True}]
    for key, label, g in groupings:
        levels = list(dict.fromkeys(sorted(g.unique())))
        dummies = np.column_stack([(g == lv).to_numpy(float) for lv in levels[1:]]) if len(levels) > 1 \
            else np.zeros((len(df), 0))
        inter = X0[:, :1] * dummies
        extra = dummies if key not in FACTOR_NAMES else np.zeros((len(df), 0))
        X1 = np.column_stack([X0, extra, inter])
        X_null = np.column_stack([X0, extra])
        try:
            ll1 = float(fit_cox(t, e, X1, ties=a.ties).loglik)
            ll0 = float(base.loglik) if key in FACTOR_NAMES else float(fit_cox(t, e, X_null, ties=a.ties).loglik)
            k = len(levels) - 1
            p_int = float(stats.chi2.sf(2 * (ll1 - ll0), k)) if k > 0 and math.isfinite(ll1 - ll0) else math.nan
        except ValueError:  # a non-estimable interaction is reported as NaN, not hidden
            p_int = math.nan
        for lv in levels:
            sub = df[(g == lv).to_numpy()]
            est = {"hr": math.nan, "ci_lower": math.nan, "ci_upper": math.nan, "p": math.nan}
            if sub["death"].sum() >= min_events and sub["arm"].nunique() == 2:
                Xs, ns = cox_matrix(sub, ())
                est = _effect(sub, Xs, ns, "arm_A", a.ties)
            rows.append({"factor": key, "label": f"{label}: {lv}", "level": lv, "n": len(sub),
                         "events": int(sub["death"].sum()), **est, "p_interaction": p_int,
                         "in_protocol": key in FACTOR_NAMES})
    return pd.DataFrame(rows)


def population_comparison(df: pd.DataFrame, *, plan: TrialPlan = PLAN) -> pd.DataFrame:
    """ITT (primary), per-protocol, and as-treated hazard ratios, all adjusted for the factors
    and on the plan's endpoint, so the rows differ only in the population or the exposure.

    * ITT: every randomized patient in the allocated arm (arm A vs B) -- protected by randomization.
    * per-protocol: only ``per_protocol == 1`` (arm A operated, arm B not operated except for
      local progression) -- arm A loses exactly the patients who progressed or died early.
    * as-treated, naive: operated (ever) vs not, fixed at baseline -- adds immortal time bias.
    * as-treated, time-varying: surgery as a time-dependent covariate ((start, stop] rows with
      entry, :func:`trialnb.survival.split_at`) -- removes immortal time but not selection on
      prognosis.
    """
    a = plan.analysis
    df = censor_at(check_df(df, REQUIRED + ("operated", "surgery_month", "per_protocol")), a.censor_months)
    df = df.reset_index(drop=True)
    rows = []

    def add(pop: str, comp: str, d: pd.DataFrame, X: np.ndarray, names: tuple[str, ...], term: str) -> None:
        rows.append({"population": pop, "comparison": comp, "n": len(d), "events": int(d["death"].sum()),
                     **_effect(d, X, names, term, a.ties)})

    X, names = cox_matrix(df, FACTOR_NAMES)
    add("ITT (primary)", "arm A vs arm B", df, X, names, "arm_A")
    pp = df[df["per_protocol"] == 1].reset_index(drop=True)
    Xp, np_ = cox_matrix(pp, FACTOR_NAMES)
    add("per-protocol", "arm A vs arm B", pp, Xp, np_, "arm_A")
    Xf, nf = cox_matrix(df, FACTOR_NAMES, arm=False)
    surgery = df["operated"].to_numpy(float)
    add("as-treated (naive)", "operated vs not operated", df, np.column_stack([surgery, Xf]), ("surgery",) + nf,
        "surgery")
    # surgery after the end of a patient's follow-up: unexposed during follow-up
    t, e, _ = arrays(df)
    switch = np.where((df["operated"] == 1) & (df["surgery_month"] <= df["os_months"]),
                      df["surgery_month"].to_numpy(float), np.nan)
    rws = split_at(t, e, switch)
    ids = rws["id"].to_numpy()
    Xt = np.column_stack([rws["exposed"].to_numpy(float), Xf[ids]])
    fit = fit_cox(rws["stop"].to_numpy(), rws["event"].to_numpy(), Xt, entry=rws["start"].to_numpy(),
                  ties=a.ties, names=("surgery",) + nf)
    b, se = float(fit.coef[0]), float(fit.se[0])
    z = stats.norm.isf(0.025)
    rows.append({"population": "as-treated (time-varying)", "comparison": "after vs before/without surgery",
                 "n": len(df), "events": int(e.sum()), "hr": math.exp(b), "ci_lower": math.exp(b - z * se),
                 "ci_upper": math.exp(b + z * se), "p": float(2 * stats.norm.sf(abs(b / se)))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RerandomizationResult(Result):
    """Observed statistic, its null distribution under re-randomization, and the p-value
    (1 + #{null >= observed}) / (1 + n)."""

    observed: float
    null: np.ndarray
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        """One row: observed statistic, p-value and the number of re-randomizations."""
        return pd.DataFrame([{"observed": self.observed, "p_value": self.p_value,
                              "n_rerandomizations": len(self.null)}])

    def summary(self) -> str:
        return (f"Re-randomization test: observed log-rank chi-square {fmt_num(self.observed, 2)}, "
                f"{fmt_p(self.p_value)} over {fmt_n(len(self.null))} re-randomizations")


def rerandomization_test(df: pd.DataFrame, procedure_factory: Any, n: int, rng: np.random.Generator, *,
                         max_seconds: float | None = None, max_memory_gb: float | None = None,
                         progress: ProgressArg = None) -> RerandomizationResult:
    """Re-randomization test of the log-rank statistic (Rosenberger & Lachin, *Randomization in
    Clinical Trials*, 2nd ed., 2016, chapter 6).

    Under the null hypothesis the outcomes do not depend on the arm, so the trial's allocation
    procedure is re-run ``n`` times on the same patients in the same order (rows of ``df`` in
    randomization order, their minimization factors as recorded) with fresh random draws, and
    the log-rank statistic of ``df``'s times and events is recomputed for each re-allocation.
    ``procedure_factory()`` must return a fresh procedure with ``assign(patient, rng).arm``
    (e.g. :class:`trialnb.randomization.PocockSimon`). The observed statistic uses the
    allocation recorded in ``df``.

    Bounded (:mod:`trialnb.workload`): about :data:`RERANDOMIZATION_SECONDS_PER_PATIENT` per
    patient and re-randomization (measured: 30 microseconds with Pocock-Simon on the reference
    machine), refused beyond ``max_seconds`` / ``max_memory_gb``; the log-rank statistics are
    computed in chunks of :data:`RERANDOMIZATION_CHUNK` re-randomizations (the same draws, so the
    same p-value, whatever the chunk); ``progress`` counts the re-randomizations.
    """
    df = check_df(df, both_arms=True)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise TrialAnalysisError(f"n must be a positive whole number of re-randomizations, got {n!r}")
    n = int(n)
    if not isinstance(rng, np.random.Generator):
        raise TrialAnalysisError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got "
                                 f"{type(rng).__name__}")
    if not callable(procedure_factory):
        raise TrialAnalysisError("procedure_factory must be a callable that returns a fresh allocation procedure "
                                 f"(e.g. trialnb.randomization.PocockSimon), got {type(procedure_factory).__name__}")
    progress = check_progress(progress, TrialAnalysisError)
    m = len(df)
    est = Estimate(f"rerandomization_test: {fmt_n(n)} re-randomizations of {fmt_n(m)} patients",
                   n * m * RERANDOMIZATION_SECONDS_PER_PATIENT,
                   8.0 * n + min(n, RERANDOMIZATION_CHUNK) * m * 180.0,
                   "30 microseconds per patient and re-randomization, 180 bytes per patient of a chunk").check(
                       limits(max_seconds, max_memory_gb))
    t, e, is_a = arrays(df)
    observed = float(logrank(t, e, is_a).chisq)
    patients = df[list(FACTOR_NAMES)].to_dict("records")
    parts = []
    with progress_of(n, "re-randomizations", progress, est.seconds, unit="draw") as bar:
        for start in range(0, n, RERANDOMIZATION_CHUNK):
            k = min(RERANDOMIZATION_CHUNK, n - start)
            arms = np.empty((k, m), dtype=np.int8)
            for r in range(k):
                proc = procedure_factory()
                arms[r] = [proc.assign(p, rng).arm == "A" for p in patients]
                bar.advance(1)
            parts.append(np.asarray(logrank(np.broadcast_to(t, arms.shape), np.broadcast_to(e, arms.shape),
                                            arms).chisq, float).reshape(k))
    null = np.concatenate(parts)
    return RerandomizationResult(observed, null, (1 + int((null >= observed).sum())) / (1 + n))


