"""The supplementary estimands checked where the truth is known: thousands of simulated trials
of a design whose non-operation (arm A) or crossover (arm B) depends on prognosis, analysed by
the estimators of :mod:`trialnb.analysis.supplementary` and by the naive analyses a reader might
try instead.

* :func:`simulate_complier_effect` -- arm-A patients not operated (``non_compliance``, more often
  those with a poor prognosis when ``selection`` > 0), no arm-B surgery. Target: the effect of
  surgery on tau-month survival among the patients who would be operated if allocated to arm A
  (:func:`trialnb.simulation.truth.complier_effect`). Estimators: the instrumental variable
  (:func:`trialnb.analysis.iv_milestone`), the ITT difference (which targets the diluted
  strategy effect, not this), per protocol (operated arm-A patients vs arm B) and as treated
  (operated vs not).
* :func:`simulate_hypothetical` -- arm-B patients operated at ``crossover_months``
  (``crossover``, more often those with a poor prognosis when ``selection`` > 0). Targets: arm A
  vs arm B had no arm-B patient been operated, on tau-month survival and as the hazard ratio
  within the factor strata (:func:`trialnb.simulation.truth.hypothetical_estimands`).
  Estimators: IPCW (:func:`trialnb.analysis.ipcw_milestone`), naive censoring at surgery, ITT.

Every trial is analysed when its last patient has completed ``censor_months`` of follow-up (the
plan's calendar-driven final analysis), at tau = the plan's ``censor_months`` by default. The
result (:class:`SupplementaryCheck`) gives, per estimator: the mean estimate, its bias against
the target with the Monte Carlo SE of the bias (SD / sqrt(R)), the empirical SD, the mean
estimated SE and the coverage of the nominal 95% interval with its Monte Carlo SE
(Morris, White & Crowther, Stat Med 2019;38:2074-2102).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.supplementary import ipcw_milestone, iv_milestone
from ..errors import ScenarioError, TrialAnalysisError
from ..plan import DesignAssumptions, PLAN, TrialPlan, check_plan
from ..report import fmt_n, fmt_num
from ..results import Result
from ..survival import fit_cox, survival_influence
from ..validation import check_int, check_real, check_seed
from ..workload import Estimate, ProgressArg, check_progress, limits, progress as progress_of
from .costs import GENERATE_BYTES_PER_CELL
from .trials import TrialData, cut, simulate_trials
from .truth import complier_effect, hypothetical_estimands

__all__ = ["COMPLIER_SECONDS_PER_TRIAL", "HYPOTHETICAL_SECONDS_PER_TRIAL", "SupplementaryCheck",
           "simulate_complier_effect",
           "simulate_hypothetical"]

_Z = 1.959963984540054


@dataclass(frozen=True)
class SupplementaryCheck(Result):
    """Simulated trials analysed by several estimators against a known target: ``table`` (one
    row per quantity and estimator: truth, mean, bias, MC SE of the bias, SD, mean SE, coverage
    of the 95% CI and its MC SE, trials used), the raw ``estimates`` and ``se`` (trials x
    estimators), the ``design``, the ``selection`` and the number of trials."""

    table: pd.DataFrame
    estimates: dict
    se: dict
    design: DesignAssumptions
    selection: float
    n_trials: int
    estimand: str

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def row(self, quantity: str, method: str) -> pd.Series:
        """The table's row of one quantity and estimator."""
        r = self.table[(self.table["quantity"] == quantity) & (self.table["method"] == method)]
        if r.empty:
            raise ValueError(f"no row for quantity {quantity!r} and method {method!r}; rows: "
                             f"{list(zip(self.table['quantity'], self.table['method'], strict=True))}")
        return r.iloc[0]

    def summary(self) -> str:
        lines = [f"{self.estimand}: {fmt_n(self.n_trials)} simulated trials (selection {fmt_num(self.selection, 2)})"]
        for r in self.table.to_dict("records"):
            lines.append(f"  {r['quantity']}, {r['method']}: truth {fmt_num(r['truth'], 3)}, "
                         f"mean {fmt_num(r['mean'], 3)}, bias {fmt_num(r['bias'], 3)} "
                         f"(MC SE {fmt_num(r['mc_se_bias'], 3)}), coverage {fmt_num(100 * r['coverage'], 1)}% "
                         f"(MC SE {fmt_num(100 * r['mc_se_coverage'], 1)})")
        return "\n".join(lines)


def _table(rows: list[tuple[str, str, float, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    out = []
    for quantity, method, truth, est, se in rows:
        ok = np.isfinite(est) & np.isfinite(se)
        e, s = est[ok], se[ok]
        m = int(ok.sum())
        cover = np.abs(e - truth) <= _Z * s
        cov = float(cover.mean()) if m else math.nan
        sd = float(e.std(ddof=1)) if m > 1 else math.nan
        out.append({"quantity": quantity, "method": method, "truth": truth, "mean": float(e.mean()) if m else math.nan,
                    "bias": float(e.mean()) - truth if m else math.nan,
                    "mc_se_bias": sd / math.sqrt(m) if m > 1 else math.nan,
                    "sd": sd, "mean_se": float(s.mean()) if m else math.nan, "coverage": cov,
                    "mc_se_coverage": math.sqrt(cov * (1 - cov) / m) if m else math.nan, "trials": m})
    return pd.DataFrame(out)


def _final(data: TrialData, plan: TrialPlan) -> tuple[np.ndarray, np.ndarray]:
    h = plan.analysis.censor_months
    if h is None:
        raise ScenarioError("the supplementary estimands need the plan's censor_months (a horizon), got None")
    return cut(data, data.entry[:, -1] + h, h)


def _km_diff(t: np.ndarray, e: np.ndarray, g: np.ndarray, tau: float) -> tuple[float, float]:
    """Kaplan-Meier S_1(tau) - S_0(tau) of groups g = 1 and 0 and its SE (influence functions)."""
    s1, i1 = survival_influence(t[g == 1], e[g == 1], tau)
    s0, i0 = survival_influence(t[g == 0], e[g == 0], tau)
    return s1 - s0, float(np.sqrt(np.sum(i1 * i1) + np.sum(i0 * i0)))


COMPLIER_SECONDS_PER_TRIAL = 0.01
"""simulate_complier_effect's cost per trial (measured 8 ms on the reference machine, 236 patients)."""

HYPOTHETICAL_SECONDS_PER_TRIAL = 0.025
"""simulate_hypothetical's cost per trial (measured 21 ms: the IPCW weights and three Cox fits)."""


def _bounded(what: str, d: DesignAssumptions, n_trials: int, per_trial: float, max_seconds: Any,
             max_memory_gb: Any) -> Estimate:
    """The run's estimate (its trials are drawn at once: memory grows with them), checked."""
    cells = float(n_trials) * d.n_patients
    return Estimate(f"{what}: {n_trials:,} trials of {d.n_patients:,} patients",
                    n_trials * per_trial * d.n_patients / 236, cells * (GENERATE_BYTES_PER_CELL + 40.0),
                    f"{per_trial * 1e3:.0f} ms per trial of 236 patients, {GENERATE_BYTES_PER_CELL + 40:.0f} bytes per "
                    "patient of the trials drawn at once").check(limits(max_seconds, max_memory_gb))


def _check_common(design: DesignAssumptions, n_trials: int, seed: int, selection: float, plan: TrialPlan) -> None:
    if not isinstance(design, DesignAssumptions):
        raise ScenarioError(f"design must be a trialnb.plan.DesignAssumptions, got {type(design).__name__}")
    check_plan(plan, error=ScenarioError)
    check_int(n_trials, "n_trials", minimum=2, error=ScenarioError)
    check_seed(seed, error=ScenarioError)
    check_real(selection, "selection", error=ScenarioError)


def simulate_complier_effect(design: DesignAssumptions | None = None, n_trials: int = 1000, seed: int = 2024, *,
                             selection: float = 2.0, tau: float | None = None, plan: TrialPlan = PLAN,
                             engine: str = "auto", max_seconds: float | None = None,
                             max_memory_gb: float | None = None, progress: ProgressArg = None) -> SupplementaryCheck:
    """The complier-average effect checked by simulation (module docstring). ``design`` defaults
    to the plan's with ``non_compliance`` 0.3 (an assumption, like notebook 06's); it must have
    ``crossover`` 0. Bounded (:mod:`trialnb.workload`): refused beyond ``max_seconds`` /
    ``max_memory_gb`` before the trials are drawn; ``progress`` counts the trials analysed."""
    d = dataclasses.replace(plan.design, non_compliance=0.3) if design is None else design
    _check_common(d, n_trials, seed, selection, plan)
    if d.crossover != 0.0:
        raise ScenarioError("simulate_complier_effect needs crossover = 0 (no arm-B surgery): with it the exclusion "
                            "restriction of the instrumental variable fails (arm-B surgery is delayed surgery)")
    if d.non_compliance <= 0.0:
        raise ScenarioError("simulate_complier_effect needs non_compliance > 0: otherwise every arm-A patient is "
                            "operated and the complier effect is the ITT effect")
    progress = check_progress(progress, ScenarioError)
    est_run = _bounded("simulate_complier_effect", d, int(n_trials), COMPLIER_SECONDS_PER_TRIAL, max_seconds,
                       max_memory_gb)
    tau = float(plan.milestone_months if tau is None else tau)
    truth = complier_effect(d, tau, non_compliance_selection=selection)
    data = simulate_trials(d, n_trials, np.random.default_rng(seed), engine=engine,
                           non_compliance_selection=selection)
    time, event = _final(data, plan)
    surgery = data.surgery_month
    assert surgery is not None, "simulate_trials records each patient's surgery month"
    names = ("instrumental variable", "ITT difference", "per protocol", "as treated")
    est, se = np.full((n_trials, 4), np.nan), np.full((n_trials, 4), np.nan)
    with progress_of(int(n_trials), "complier effect", progress, est_run.seconds) as bar:
        for r in range(n_trials):
            bar.advance(1)
            t, e, a = time[r], event[r].astype(int), data.arm[r].astype(int)
            op = (a == 1) & np.isfinite(surgery[r])
            try:
                iv = iv_milestone(t, e, a, op.astype(int), tau)
                pp = a == 0
                keep = op | pp
                per = _km_diff(t[keep], e[keep], op[keep].astype(int), tau)
                ast = _km_diff(t, e, op.astype(int), tau)
            except TrialAnalysisError:
                continue
            est[r] = (iv.cace, iv.itt_difference, per[0], ast[0])
            se[r] = (iv.se, iv.itt_se, per[1], ast[1])
    rows = [("survival difference", m, truth["complier_effect"], est[:, k], se[:, k]) for k, m in enumerate(names)]
    return SupplementaryCheck(_table(rows), {m: est[:, k] for k, m in enumerate(names)},
                              {m: se[:, k] for k, m in enumerate(names)}, d, float(selection), int(n_trials),
                              f"complier-average effect on {fmt_num(tau, 0)}-month survival")


def simulate_hypothetical(design: DesignAssumptions | None = None, n_trials: int = 1000, seed: int = 2025, *,
                          selection: float = 2.0, tau: float | None = None, plan: TrialPlan = PLAN,
                          engine: str = "auto", max_seconds: float | None = None,
                          max_memory_gb: float | None = None, progress: ProgressArg = None) -> SupplementaryCheck:
    """The hypothetical strategy for arm-B surgery checked by simulation (module docstring).
    ``design`` defaults to the plan's with ``crossover`` 0.3 at month 6 (an assumption); with
    ``non_compliance`` 0 the hazard-ratio target is the design's ``hazard_ratio``. Bounded as
    :func:`simulate_complier_effect`."""
    d = dataclasses.replace(plan.design, crossover=0.3, crossover_months=6.0) if design is None else design
    _check_common(d, n_trials, seed, selection, plan)
    if d.crossover <= 0.0:
        raise ScenarioError("simulate_hypothetical needs crossover > 0: otherwise no arm-B patient is operated")
    progress = check_progress(progress, ScenarioError)
    est_run = _bounded("simulate_hypothetical", d, int(n_trials), HYPOTHETICAL_SECONDS_PER_TRIAL, max_seconds,
                       max_memory_gb)
    tau = float(plan.milestone_months if tau is None else tau)
    truth = hypothetical_estimands(d, tau)
    data = simulate_trials(d, n_trials, np.random.default_rng(seed), engine=engine, crossover_selection=selection)
    time, event = _final(data, plan)
    surgery = data.surgery_month
    assert surgery is not None, "simulate_trials records each patient's surgery month"
    cols = data.covariates(("dominant_site", "hormone_receptor", "her2"))[..., 1:]
    names = ("IPCW", "naive censoring at surgery", "ITT")
    est = {q: np.full((n_trials, 3), np.nan) for q in ("difference", "log_hr")}
    se = {q: np.full((n_trials, 3), np.nan) for q in ("difference", "log_hr")}
    with progress_of(int(n_trials), "hypothetical strategy", progress, est_run.seconds) as bar:
        for r in range(n_trials):
            bar.advance(1)
            t, e, a = time[r], event[r].astype(int), data.arm[r].astype(int)
            sm = np.where((a == 0) & (surgery[r] < t), surgery[r], np.inf)
            try:
                h = ipcw_milestone(t, e, a, sm, cols[r], tau)
                itt = _km_diff(t, e, a, tau)
            except TrialAnalysisError:
                continue
            cox = fit_cox(t, e, np.column_stack([a, cols[r]]), ties="breslow")
            est["difference"][r] = (h.difference, h.naive_difference, itt[0])
            se["difference"][r] = (h.se, h.naive_se, itt[1])
            est["log_hr"][r] = (h.log_hr, math.log(h.naive_hazard_ratio), float(cox.coef[0]))
            se["log_hr"][r] = (h.log_hr_se, h.naive_log_hr_se, float(cox.se[0]))
    rows = [("survival difference", m, truth["milestone_difference"], est["difference"][:, k], se["difference"][:, k])
            for k, m in enumerate(names)]
    if math.isfinite(truth["hazard_ratio"]):
        rows += [("log hazard ratio", m, math.log(truth["hazard_ratio"]), est["log_hr"][:, k], se["log_hr"][:, k])
                 for k, m in enumerate(names)]
    return SupplementaryCheck(_table(rows), {(q, m): est[q][:, k] for q in est for k, m in enumerate(names)},
                              {(q, m): se[q][:, k] for q in se for k, m in enumerate(names)}, d, float(selection),
                              int(n_trials), f"hypothetical strategy for arm-B surgery at {fmt_num(tau, 0)} months")
