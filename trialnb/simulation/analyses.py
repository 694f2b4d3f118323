"""The analyses a simulation can apply to its trials: a registry, each one a call into the
survival engine (:mod:`trialnb.survival`), batched over the trials.

Every analysis takes the trials cut at a date (``time``, ``event`` of shape (R, n) and the
:class:`~trialnb.simulation.trials.TrialData` for arms and factors) and the plan's analysis
(:class:`trialnb.plan.AnalysisPlan`: covariates, ties) and returns, per trial, the statistic
``z`` with the sign of log(HR A vs B) (negative favours arm A), an estimate and whether the
analysis succeeded (``ok``: False where the statistic is undefined -- no deaths, an arm
coefficient R would flag as infinite, a fit that did not converge, S(tau) not estimable).

========================  ============================================================
name                      statistic
========================  ============================================================
``cox_wald``              Wald z of the arm coefficient of the Cox model with the plan's
                          covariates and ties (the plan's default)
``logrank``               log-rank z (Mantel), unstratified
``stratified_logrank``    log-rank z stratified by the plan's covariates
``fh01``                  Fleming-Harrington G(0, 1) z (late differences)
``maxcombo``              MaxCombo: the component of FH(0,0), FH(0,1), FH(1,0), FH(1,1) with
                          the largest |z|; decision by :func:`trialnb.survival.maxcombo_reject`
``stratified_maxcombo``   MaxCombo of the same statistics stratified by the plan's covariates
``milestone``             -(S_A(tau) - S_B(tau)) / SE, Kaplan-Meier with Greenwood SEs
``rmst``                  -(RMST_A(tau) - RMST_B(tau)) / SE
``standardized_milestone``  -(S_A(tau) - S_B(tau)) / SE, the survival at tau standardized over
                          the trial's patients from the Cox model with the plan's covariates
                          (G-computation, influence-function SE:
                          :func:`trialnb.survival.standardized_survival`)
========================  ============================================================

tau is the plan's ``censor_months`` (or the design's horizon). The MaxCombo, milestone and RMST
statistics of all trials come from one sort (:func:`trialnb.survival.trial_statistics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats

from ..errors import ScenarioError
from ..plan import AnalysisPlan
from ..survival import (FH_MAXCOMBO, fh_statistics, fit_cox, logrank, maxcombo_reject, standardized_survival,
                        trial_statistics)
from .trials import TrialData

__all__ = ["ANALYSES", "ANALYSIS_LABELS", "AnalysisOutcome", "analyse_cut", "check_analyses", "decide"]


@dataclass(frozen=True)
class AnalysisOutcome:
    """One analysis of R trials: ``z`` (sign of log HR; NaN where it failed), ``estimate``
    (log HR for the Cox and log-rank family -- the Peto estimate for log-rank --, A - B for the
    milestone and RMST, NaN for MaxCombo), ``ok`` and, for MaxCombo, the components' ``corr``."""

    z: np.ndarray
    estimate: np.ndarray
    ok: np.ndarray
    fh_z: np.ndarray | None = None
    fh_corr: np.ndarray | None = None


def _cox_fit(time, event, data, analysis, engine, cache):
    """The Cox model with arm and the plan's covariates, fitted once per cut (the Wald test and
    the standardized milestone share it)."""
    if "cox" not in cache:
        X = data.covariates(analysis.covariates)
        cache["cox"] = (X, fit_cox(time, event, X, ties=analysis.ties, engine=engine))
    return cache["cox"]


def _cox(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
    _, fit = _cox_fit(time, event, data, analysis, engine, cache)
    ok = fit.usable(0) & np.isfinite(fit.se[:, 0]) & (fit.se[:, 0] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(ok, fit.coef[:, 0] / fit.se[:, 0], np.nan)
    return AnalysisOutcome(z, np.where(ok, fit.coef[:, 0], np.nan), ok)


def _logrank(strata: bool):
    def run(time, event, data, analysis, engine, _cache) -> AnalysisOutcome:
        st = data.strata(analysis.covariates) if strata else None
        lr = logrank(time, event, data.arm, strata=st)
        ok = np.isfinite(lr.z)
        return AnalysisOutcome(np.where(ok, lr.z, np.nan), np.where(ok, np.log(lr.hr), np.nan), ok)
    return run


def _stats(time, event, data, analysis, engine, cache):
    if "trial" not in cache:
        cache["trial"] = trial_statistics(time, event, data.arm, cache["tau"], engine=engine)
    return cache["trial"]


def _fh01(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
    z = _stats(time, event, data, analysis, engine, cache).fh.z[:, 1]
    ok = np.isfinite(z)
    return AnalysisOutcome(np.where(ok, z, np.nan), np.full(z.shape, np.nan), ok)


def _maxcombo_of(z4: np.ndarray, corr: np.ndarray) -> AnalysisOutcome:
    ok = np.all(np.isfinite(z4), axis=1) & np.all(np.isfinite(corr.reshape(len(z4), -1)), axis=1)
    zz = np.nan_to_num(z4)
    z = np.where(ok, zz[np.arange(len(zz)), np.argmax(np.abs(zz), axis=1)], np.nan)
    return AnalysisOutcome(z, np.full(z.shape, np.nan), ok, fh_z=z4, fh_corr=corr)


def _maxcombo(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
    fh = _stats(time, event, data, analysis, engine, cache).fh
    return _maxcombo_of(fh.z, fh.corr)


def _stratified_maxcombo(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
    fh = fh_statistics(time, event, data.arm, weights=FH_MAXCOMBO, strata=data.strata(analysis.covariates))
    return _maxcombo_of(fh.z, fh.corr)


def _km(kind: str):
    def run(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
        st = _stats(time, event, data, analysis, engine, cache)
        ea, va, eb, vb = st.milestone if kind == "milestone" else st.rmst
        with np.errstate(invalid="ignore", divide="ignore"):
            z = -(ea - eb) / np.sqrt(va + vb)
        ok = np.isfinite(z)
        return AnalysisOutcome(np.where(ok, z, np.nan), ea - eb, ok)
    return run


def _standardized(time, event, data, analysis, engine, cache) -> AnalysisOutcome:
    X, fit = _cox_fit(time, event, data, analysis, engine, cache)
    st = standardized_survival(time, event, X, cache["tau"], treatment=0, ties=analysis.ties, fit=fit)
    diff, se = st.difference, st.difference_se
    ok = st.ok & np.isfinite(se) & (se > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(ok, -diff / se, np.nan)
    return AnalysisOutcome(z, np.where(ok, diff, np.nan), ok)


ANALYSES: dict[str, Callable[..., AnalysisOutcome]] = {
    "cox_wald": _cox,
    "logrank": _logrank(False),
    "stratified_logrank": _logrank(True),
    "fh01": _fh01,
    "maxcombo": _maxcombo,
    "stratified_maxcombo": _stratified_maxcombo,
    "milestone": _km("milestone"),
    "rmst": _km("rmst"),
    "standardized_milestone": _standardized,
}
"""The registry: name -> analysis (see the module docstring)."""

ANALYSIS_LABELS: dict[str, str] = {
    "cox_wald": "Cox model with the plan's covariates (Wald z)",
    "logrank": "log-rank, unstratified",
    "stratified_logrank": "log-rank, stratified by the plan's covariates",
    "fh01": "weighted log-rank FH(0,1), unstratified (late differences)",
    "maxcombo": "MaxCombo, unstratified",
    "stratified_maxcombo": "MaxCombo, stratified by the plan's covariates",
    "milestone": "survival difference at the milestone (Kaplan-Meier)",
    "rmst": "restricted mean survival time difference",
    "standardized_milestone": "survival difference at the milestone, standardized (Cox model)",
}
"""Each analysis of the registry in words, for tables and panels (one label per key of
:data:`ANALYSES`)."""


def check_analyses(analyses: Any) -> tuple[str, ...]:
    """The analysis names as a tuple (a single name or a sequence of distinct names of
    :data:`ANALYSES`)."""
    names = (analyses,) if isinstance(analyses, str) else tuple(analyses) if isinstance(analyses, (list, tuple)) else ()
    bad = [a for a in names if a not in ANALYSES]
    if not names or bad or len(set(names)) != len(names):
        raise ScenarioError(f"analyses must be one of {', '.join(map(repr, ANALYSES))} or a list of distinct ones, "
                            f"got {analyses!r}")
    return names


def analyse_cut(time: np.ndarray, event: np.ndarray, data: TrialData, names: Sequence[str],
                analysis: AnalysisPlan, tau: float, engine: str = "auto") -> dict[str, AnalysisOutcome]:
    """Each analysis of ``names`` applied to the same cut trials (one sort shared by the
    MaxCombo, milestone and RMST statistics). ``tau``: the milestone and RMST time."""
    cache: dict[str, Any] = {"tau": float(tau)}
    return {a: ANALYSES[a](time, event, data, analysis, engine, cache) for a in names}


def decide(outcome: AnalysisOutcome, name: str, alpha: float, sided: int) -> np.ndarray:
    """Rejection of H0 per trial at level ``alpha``: two-sided (``sided=2``: |z| beyond
    z_{1-alpha/2}, MaxCombo by its multivariate-normal rule) or one-sided for benefit
    (``sided=1``: z below -z_{1-alpha}; MaxCombo with a benefit direction: the largest
    component favours arm A and the two-sided rule holds at 2 alpha). A failed analysis never
    rejects."""
    ok = outcome.ok
    if name in ("maxcombo", "stratified_maxcombo"):
        assert outcome.fh_z is not None and outcome.fh_corr is not None, "a MaxCombo outcome carries its statistics"
        level = alpha if sided == 2 else 2 * alpha
        rej = maxcombo_reject(np.nan_to_num(outcome.fh_z), np.nan_to_num(outcome.fh_corr), level) & ok
        return rej if sided == 2 else rej & (np.nan_to_num(outcome.z) < 0)
    z = np.nan_to_num(outcome.z)
    if sided == 2:
        return ok & (np.abs(z) > stats.norm.isf(alpha / 2))
    return ok & (z < -stats.norm.isf(alpha))
