"""The plan as written, simulated: group-sequential trials analysed at every look of the plan.

:func:`simulate_sequential` draws the trials of ``plan.design`` and follows each through
``plan.monitoring``: an interim look falls on the calendar date of its planned number of
**primary-endpoint deaths** (deaths within ``plan.analysis.censor_months`` of randomization;
:func:`trialnb.monitoring.plan_interim_events`), the final analysis is calendar-driven (the
last patient has completed ``censor_months``) or event-driven, and every look analyses the
trial as known at its date (:func:`~trialnb.simulation.trials.cut`) with the plan's statistic
(the adjusted Cox Wald z by default). The boundaries are the plan's alpha-spending design
(:func:`trialnb.monitoring.plan_design`) with the information fraction of a look equal to its
primary-endpoint deaths over the planned maximum (:func:`trialnb.monitoring.plan_max_events`);
at the final look the boundary is recalculated from the deaths actually observed (the alpha
spent at the interims kept, the rest spent: rpact ``getAnalysisResults`` with
``maxInformation``, :func:`trialnb.monitoring.analyse`), so a calendar-driven final that has
more or fewer deaths than planned keeps the type-I error.

At each interim, in this order: the efficacy boundary (benefit z >= c_k; with
``monitoring.efficacy_min_complete`` set, only when that many patients have completed
``censor_months``), the formal harm boundary of a two-sided plan (benefit z <= -c_k), the harm
guideline (benefit z <= ``harm_z``), the futility guideline (benefit z <= ``futility_z``).
The guidelines are non-binding; the simulation follows them (as rpact's
``getSimulationSurvival`` does with a futility bound), so the simulated power is that of a
trial that follows them (``follow_guidelines=False`` ignores them). At the final look: benefit
z >= c_K rejects for benefit, benefit z <= -c_K (two-sided) for harm.

**The key secondary hypothesis** (``simulate_sequential(..., secondary=True)``): at the look
where the primary rejects (either direction), the plan's ``monitoring.secondary`` statistic
(the milestone or RMST difference at ``censor_months``, :data:`~trialnb.simulation.analyses.ANALYSES`)
is tested on the same cut against its own boundary (:func:`trialnb.monitoring.plan_secondary_design`,
the final one recalculated from the deaths observed as the primary's), or against fixed
``secondary_critical_values`` (e.g. 1.96 at every look: the naive "fixed sequence" that
Hung, Wang & O'Neill 2007 show inflates the family-wise error). It is never tested when the
primary does not reject. :meth:`SequentialResult.familywise_error` counts the rejections of
true hypotheses.

**Sign convention.** ``z`` has the sign of log(HR A vs B) (negative favours arm A); the benefit z
compared with the boundaries is ``-z``.

**A labelled comparison.** The plan with ``statistic="logrank"``, ``censor_months=None`` and an
event-driven final analysis is the design rpact's ``getSimulationSurvival`` simulates (log-rank
on all deaths, looks at death counts); with the compiled engine its looks come from one
compiled pass per trial (:mod:`trialnb.simulation._looks_kernel`), which for designs without
factor effects or minimization also generates the trials (bit for bit the trials of
:func:`~trialnb.simulation.trials.simulate_trials`). ``tests/reference/rpact_sequential_sim.R``
checks it against rpact.

References
----------
* Jennison C, Turnbull BW. Group Sequential Methods with Applications to Clinical Trials.
  Chapman & Hall 2000, ch. 2, 7 and 13 (sequential survival statistics at calendar looks;
  error spending with unpredictable information).
* Lan KKG, DeMets DL. Discrete sequential boundaries for clinical trials. Biometrika
  1983;70:659-663.
* Wassmer G, Brannath W. Group Sequential and Confirmatory Adaptive Designs in Clinical
  Trials. Springer 2016 (rpact).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ..compiled import use_compiled
from ..errors import ScenarioError
from ..monitoring import analyse, plan_design, plan_interim_events, plan_max_events, plan_secondary_design
from ..plan import PLAN, DesignAssumptions, TrialPlan, check_plan
from ..report import fmt_months, fmt_n, fmt_num, fmt_pct
from ..results import Result
from ..validation import check_int, check_real_array, check_seed
from ..workload import ProgressArg, check_progress, limits, progress as progress_of
from . import _looks_kernel as kernel
from .analyses import analyse_cut
from .costs import block_trials, estimate_run
from .fixed import check_chunk, chunk_seeds, final_cutoff, resolve_truth
from .trials import TrialData, cut, primary_death_dates, simulate_trials

__all__ = ["BENEFIT", "CONTINUE", "FUTILITY", "HARM", "HARM_GUIDELINE", "Boundaries", "SequentialResult",
           "naive_type_one_error", "simulate_sequential"]

CONTINUE, BENEFIT, FUTILITY, HARM_GUIDELINE, HARM = 0, 1, 2, 3, 4
"""Decision codes of :attr:`SequentialResult.decision`: went to the end without rejecting;
rejected for benefit; stopped by the futility guideline; stopped by the harm guideline;
rejected for harm (the formal harm boundary of a two-sided plan)."""

_DECISIONS = {CONTINUE: "no rejection at the end", BENEFIT: "rejected for benefit", FUTILITY: "futility guideline",
              HARM_GUIDELINE: "harm guideline", HARM: "rejected for harm"}


@dataclass(frozen=True)
class Boundaries:
    """Fixed boundaries on the benefit-z scale that replace the plan's alpha-spending design
    (e.g. naive repeated testing at 1.96): ``information_rates`` (increasing, the last 1),
    ``critical_values`` one per look, ``sided`` 1 (benefit only) or 2 (symmetric)."""

    information_rates: tuple[float, ...]
    critical_values: tuple[float, ...]
    sided: int = 1

    def __post_init__(self) -> None:
        rates = tuple(float(x) for x in check_real_array(self.information_rates, "information_rates",
                                                           error=ScenarioError))
        crit = tuple(float(x) for x in check_real_array(self.critical_values, "critical_values", error=ScenarioError))
        object.__setattr__(self, "information_rates", rates)
        object.__setattr__(self, "critical_values", crit)
        if not rates or not all(math.isfinite(r) and 0 < r <= 1 for r in rates) \
                or any(b <= a for a, b in zip(rates, rates[1:], strict=False)) or abs(rates[-1] - 1) > 1e-9:
            raise ScenarioError(f"information_rates must increase strictly in (0, 1] and end at 1, got {rates}")
        if len(crit) != len(rates) or not all(math.isfinite(c) for c in crit):
            raise ScenarioError(f"critical_values must be {len(rates)} finite numbers (one per look), got {crit}")
        if isinstance(self.sided, bool) or self.sided not in (1, 2):
            raise ScenarioError(f"sided must be 1 or 2, got {self.sided!r}")


@dataclass(frozen=True)
class SequentialResult(Result):
    """Operating characteristics of a plan's monitoring from simulated trials.

    Per trial: ``stage`` (1-based look at which it stopped; the last look it had otherwise),
    ``decision`` (:data:`CONTINUE`, :data:`BENEFIT`, :data:`FUTILITY`, :data:`HARM_GUIDELINE`,
    :data:`HARM`); per trial and look (R, K), NaN after the stop or for a look that never came:
    ``z`` (sign of log HR), ``estimate`` (log HR of a hazard-ratio statistic), ``events``
    (primary-endpoint deaths in the analysis), ``months`` (calendar month of the look),
    ``bound`` (the efficacy boundary on the benefit-z scale used at that look) and
    ``complete`` (patients who had completed ``censor_months``). With the key secondary tested
    (``secondary=True``): ``secondary_z`` and ``secondary_bound`` (R, K), set only at the look
    where the primary rejected, and ``secondary_decision`` (R,): :data:`BENEFIT`, :data:`HARM`
    (rejected, by the direction of its estimate) or :data:`CONTINUE` (not rejected or not
    tested)."""

    plan: TrialPlan
    truth: DesignAssumptions
    n_trials: int
    seed: int
    planned_events: tuple[int, ...]
    stage: np.ndarray = field(repr=False)
    decision: np.ndarray = field(repr=False)
    z: np.ndarray = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    events: np.ndarray = field(repr=False)
    months: np.ndarray = field(repr=False)
    bound: np.ndarray = field(repr=False)
    complete: np.ndarray = field(repr=False)
    follow_guidelines: bool = True
    label: str = "the plan"
    secondary_z: np.ndarray | None = field(default=None, repr=False)
    secondary_bound: np.ndarray | None = field(default=None, repr=False)
    secondary_decision: np.ndarray | None = field(default=None, repr=False)

    @property
    def k(self) -> int:
        return int(self.z.shape[1])

    def _share(self, code: int) -> float:
        return float(np.mean(self.decision == code))

    def _by_stage(self, code: int) -> np.ndarray:
        return np.array([np.mean((self.decision == code) & (self.stage == j + 1)) for j in range(self.k)])

    @property
    def power(self) -> float:
        """Fraction rejecting for benefit at any look (the type-I error for benefit under no effect)."""
        return self._share(BENEFIT)

    @property
    def power_se(self) -> float:
        return math.sqrt(self.power * (1 - self.power) / self.n_trials)

    @property
    def harm_rejection(self) -> float:
        """Fraction rejecting for harm (two-sided plans)."""
        return self._share(HARM)

    @property
    def rejection(self) -> float:
        """Fraction rejecting H0 in either direction (the two-sided type-I error under no effect)."""
        return self.power + self.harm_rejection

    @property
    def rejection_by_stage(self) -> np.ndarray:
        """Fraction rejecting for benefit at each look (sums to :attr:`power`)."""
        return self._by_stage(BENEFIT)

    @property
    def futility_by_stage(self) -> np.ndarray:
        return self._by_stage(FUTILITY)

    @property
    def harm_stop_by_stage(self) -> np.ndarray:
        """Stops by the harm guideline or the formal harm boundary at each look."""
        return self._by_stage(HARM_GUIDELINE) + self._by_stage(HARM)

    def decisions_by_stage(self) -> pd.DataFrame:
        """The fraction of trials that ended at each look with each decision: one row per look,
        one column per decision (rejected for benefit, futility guideline, harm guideline,
        rejected for harm, no rejection at the end), with a last row ``"any"`` (the column
        sums). Every trial ends once: the table sums to 1."""
        codes = (BENEFIT, FUTILITY, HARM_GUIDELINE, HARM, CONTINUE)
        out = pd.DataFrame({_DECISIONS[c]: self._by_stage(c) for c in codes},
                           index=pd.Index([str(j + 1) for j in range(self.k)], name="look"))
        out.loc["any"] = out.sum(axis=0)
        return out

    @property
    def early_stop(self) -> float:
        """Fraction stopped before the final look."""
        return float(np.mean(self.stage < self.k))

    @property
    def reached(self) -> np.ndarray:
        """(R, K): whether each trial had look k."""
        return np.isfinite(self.months)

    @property
    def events_used(self) -> np.ndarray:
        """Primary-endpoint deaths in the last analysis each trial had."""
        return self.events[np.arange(self.n_trials), self.stage - 1]

    @property
    def expected_events(self) -> float:
        return float(np.mean(self.events_used))

    @property
    def expected_events_se(self) -> float:
        """Monte-Carlo SE of :attr:`expected_events` (SD over trials / sqrt(n_trials))."""
        return float(np.std(self.events_used, ddof=1) / math.sqrt(self.n_trials)) if self.n_trials > 1 else math.nan

    @property
    def expected_months(self) -> float:
        """Mean calendar month at which the trial ends (its last look)."""
        return float(np.mean(self.months[np.arange(self.n_trials), self.stage - 1]))

    @property
    def expected_months_se(self) -> float:
        """Monte-Carlo SE of :attr:`expected_months`."""
        end = self.months[np.arange(self.n_trials), self.stage - 1]
        return float(np.std(end, ddof=1) / math.sqrt(self.n_trials)) if self.n_trials > 1 else math.nan

    @property
    def analysis_months(self) -> np.ndarray:
        """Mean calendar month of each look over the trials that had it (NaN for a look none had)."""
        return self._mean_over_reached(self.months)

    def _mean_over_reached(self, values: np.ndarray) -> np.ndarray:
        had = self.reached & np.isfinite(values)
        count = had.sum(axis=0)
        total = np.where(had, values, 0.0).sum(axis=0)
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    @property
    def failed_by_stage(self) -> np.ndarray:
        """Looks whose analysis failed (no estimate: counted as "continue" at an interim)."""
        return np.sum(self.reached & np.isnan(self.z), axis=0)

    def conditional_bias(self, look: int = 1) -> float:
        """Mean of (estimated log HR - true log HR) among the trials that stopped for benefit at
        ``look`` (1-based): what stopping early does to the estimate (Jennison & Turnbull 2000,
        ch. 8). NaN when none stopped there or the effect is not proportional."""
        sel = (self.decision == BENEFIT) & (self.stage == look)
        if not sel.any() or not self.truth.proportional:
            return math.nan
        return float(np.nanmean(self.estimate[sel, look - 1]) - math.log(self.truth.hazard_ratio))

    def unconditional_bias(self, look: int = 1) -> float:
        """Mean of (estimated log HR - true log HR) over every trial that had ``look`` (1-based),
        whatever it decided: the estimate's own bias at that look, against which
        :meth:`conditional_bias` shows what selecting the trials that stopped does. NaN when
        the effect is not proportional."""
        est = self.estimate[:, look - 1]
        est = est[self.reached[:, look - 1] & np.isfinite(est)]
        if est.size == 0 or not self.truth.proportional:
            return math.nan
        return float(np.mean(est) - math.log(self.truth.hazard_ratio))

    def conditional_bias_se(self, look: int = 1) -> float:
        """Monte-Carlo SE of :meth:`conditional_bias` (SD of the estimates of the trials that
        stopped for benefit at ``look`` / sqrt(their number); NaN with fewer than two)."""
        sel = (self.decision == BENEFIT) & (self.stage == look)
        est = self.estimate[sel, look - 1]
        est = est[np.isfinite(est)]
        if est.size < 2 or not self.truth.proportional:
            return math.nan
        return float(np.std(est, ddof=1) / math.sqrt(est.size))

    @property
    def type_one_error_ok(self) -> bool | None:
        """Under no effect: is the rejection rate (two-sided plans: either direction; one-sided:
        benefit) within 2.576 MC SE of the plan's alpha -- or, when the non-binding guidelines
        were followed, at most that far above it (they can only stop trials that would have
        gone on)? None when the truth has an effect."""
        if not self.truth.is_null:
            return None
        a = self.plan.analysis.alpha
        rate = self.rejection if self.plan.analysis.sided == 2 else self.power
        tol = 2.576 * math.sqrt(a * (1 - a) / self.n_trials)
        return rate - a <= tol if self.follow_guidelines else abs(rate - a) <= tol

    def _secondary(self) -> np.ndarray:
        if self.secondary_decision is None:
            raise ScenarioError("the key secondary was not tested: simulate_sequential(..., secondary=True)")
        return self.secondary_decision

    @property
    def secondary_rejection(self) -> float:
        """Fraction of trials rejecting the key secondary hypothesis (either direction)."""
        return float(np.mean(self._secondary() != CONTINUE))

    @property
    def secondary_benefit(self) -> float:
        """Fraction of trials rejecting the key secondary hypothesis in favour of arm A."""
        return float(np.mean(self._secondary() == BENEFIT))

    def familywise_error(self, *, primary_null: bool, secondary_null: bool) -> float:
        """Fraction of trials that reject at least one true hypothesis: the primary when
        ``primary_null`` (in either direction for a two-sided plan), the key secondary when
        ``secondary_null``. Which hypotheses are true is the caller's statement about the truth
        (e.g. :func:`~trialnb.simulation.true_estimands`: a milestone difference of 0)."""
        if not (isinstance(primary_null, bool) and isinstance(secondary_null, bool)):
            raise ScenarioError("primary_null and secondary_null must be True or False")
        sec = self._secondary() != CONTINUE
        prim = np.isin(self.decision, (BENEFIT, HARM))
        return float(np.mean((primary_null & prim) | (secondary_null & sec)))

    def mc_se(self, p: float) -> float:
        """Monte-Carlo SE sqrt(p (1 - p) / n) of a rate over the simulated trials."""
        return math.sqrt(p * (1 - p) / self.n_trials)

    def to_frame(self) -> pd.DataFrame:
        """One row per look: planned deaths, mean boundary, rejection for benefit, futility and
        harm stops with MC SEs, the share of trials that had the look and its mean month."""
        n = self.n_trials
        se = lambda p: np.sqrt(p * (1 - p) / n)  # noqa: E731
        rej, fut, harm = self.rejection_by_stage, self.futility_by_stage, self.harm_stop_by_stage
        bound = self._mean_over_reached(self.bound)
        return pd.DataFrame({
            "look": np.arange(1, self.k + 1), "planned_events": self.planned_events, "mean_bound": bound,
            "benefit": rej, "benefit_se": se(rej), "futility": fut, "futility_se": se(fut),
            "harm_stop": harm, "harm_stop_se": se(harm), "cumulative_benefit": np.cumsum(rej),
            "reached": self.reached.mean(axis=0), "analysis_month": self.analysis_months,
        }).set_index("look")

    def summary(self) -> str:
        d = self.truth
        looks = ", ".join(fmt_n(e) for e in self.planned_events)
        label = "type-I error for benefit" if d.is_null else "power (benefit)"
        lines = [
            f"{fmt_n(self.n_trials)} simulated trials of {self.label}, seed {self.seed}; "
            f"{self.plan.analysis.statistic_label()}",
            f"truth: {d.describe()}",
            f"looks at {looks} primary-endpoint deaths (the last: {self.plan.monitoring.final_analysis}-driven"
            + (", guidelines followed)" if self.follow_guidelines else ", guidelines ignored)"),
            f"{label}: {fmt_pct(self.power)} (MC SE {fmt_pct(self.power_se)}); rejected for harm "
            f"{fmt_pct(self.harm_rejection)}",
            "benefit by look: " + ", ".join(fmt_pct(p) for p in self.rejection_by_stage)
            + "; futility stops: " + ", ".join(fmt_pct(p) for p in self.futility_by_stage)
            + "; harm stops: " + ", ".join(fmt_pct(p) for p in self.harm_stop_by_stage),
            f"expected primary-endpoint deaths {fmt_num(self.expected_events, 1)}; expected duration "
            f"{fmt_months(self.expected_months)}; looks at calendar months "
            + ", ".join(fmt_num(m, 1) for m in self.analysis_months) + " on average",
        ]
        if self.secondary_decision is not None:
            lines.append(f"key secondary ({self.plan.monitoring.secondary}, tested after the primary rejects): "
                         f"rejected in {fmt_pct(self.secondary_rejection)}, "
                         f"for benefit {fmt_pct(self.secondary_benefit)}")
        if self.failed_by_stage.any():
            lines.append("failed analyses (counted as continue) by look: "
                         + ", ".join(fmt_n(int(f)) for f in self.failed_by_stage))
        ok = self.type_one_error_ok
        if ok is not None:
            where = ("not above" if self.follow_guidelines else "within") if ok else "OUTSIDE"
            lines.append(f"no effect: the type-I error is {where} the 99% Monte-Carlo limits of alpha "
                         f"{fmt_pct(self.plan.analysis.alpha)}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# boundaries of one trial's looks

@functools.lru_cache(maxsize=4096)
def _final_bound(plan: TrialPlan, events: tuple[int, ...], max_events: int, secondary: bool = False) -> float:
    """The final look's critical value (benefit z) when the looks had ``events`` primary-endpoint
    deaths: the plan's design (``secondary``: the key secondary's) recalculated from the
    observed information (rpact maxInformation; the last look declared final whatever its
    deaths)."""
    d = plan_secondary_design(plan) if secondary else plan_design(plan)
    ev = list(events)
    ev[0] = max(ev[0], 1)  # a look without deaths carries no information (its z is NaN): bound it as one death
    for i in range(1, len(ev)):  # a final analysis with no new death repeats the data: one more
        ev[i] = max(ev[i], ev[i - 1] + 1)
    # rpact's informationEpsilon (absolute) declares the last look final when it under-runs; it
    # must not reach back to the interims (an interim with ev + eps >= max would count as final)
    eps = float(max_events - ev[-1]) if ev[-1] < max_events else None
    res = analyse(d, ev, [0.0] * len(ev), direction_upper=False, max_information=float(max_events),
                  information_epsilon=eps)
    return float(res.critical_values[len(ev) - 1])


# ---------------------------------------------------------------------------------------
# the general path: any plan, every look analysed by the registry

def _simulate_chunk(plan: TrialPlan, data: TrialData, interim_events: tuple[int, ...], max_events: int,
                    boundaries: Boundaries | None, follow: bool, engine: str,
                    secondary: tuple[float, ...] | bool = False) -> tuple[np.ndarray, ...]:
    """One chunk of trials through the looks. ``secondary``: False (not tested), True (the
    plan's secondary boundaries) or fixed critical values, one per look."""
    a, m = plan.analysis, plan.monitoring
    R = data.n_trials
    K = len(interim_events) + 1
    h = a.censor_months
    tau = float(h if h is not None else plan.design.horizon_months)
    dates = primary_death_dates(data, h)
    final = final_cutoff(data, plan, max_events)
    look_date = np.empty((R, K))
    if interim_events:
        part = np.partition(dates, [e - 1 for e in interim_events if e <= data.n_patients], axis=1) \
            if max(interim_events) <= data.n_patients else np.sort(dates, axis=1)
        for j, n_ev in enumerate(interim_events):
            look_date[:, j] = part[:, n_ev - 1] if n_ev <= data.n_patients else np.inf
    look_date[:, K - 1] = final
    had = np.ones((R, K), dtype=bool)
    had[:, :K - 1] = look_date[:, :K - 1] < final[:, None]
    d_crit = plan_design(plan).critical_values if boundaries is None else np.asarray(boundaries.critical_values)
    sided = a.sided if boundaries is None else boundaries.sided
    shape = (R, K)
    z, est, ev, months, bound, comp = (np.full(shape, np.nan) for _ in range(6))
    stage = np.zeros(R, dtype=np.int64)
    decision = np.zeros(R, dtype=np.int8)
    active = np.ones(R, dtype=bool)
    s_z, s_bound = np.full(shape, np.nan), np.full(shape, np.nan)
    s_dec = np.zeros(R, dtype=np.int8)
    s_crit = (plan_secondary_design(plan).critical_values if secondary is True
              else np.asarray(secondary, dtype=float) if secondary is not False else None)
    key_secondary = m.secondary
    if s_crit is not None and key_secondary is None:
        raise ScenarioError("testing the key secondary needs the plan's monitoring.secondary (milestone or rmst), "
                            "got None")
    for j in range(K):
        idx = np.flatnonzero(active & had[:, j])
        if idx.size == 0:
            continue
        sub = data.take(idx)
        c = look_date[idx, j]
        t, e = cut(sub, c, h)
        out = analyse_cut(t, e, sub, (a.statistic,), a, tau, engine)[a.statistic]
        zj = out.z
        z[idx, j], est[idx, j], months[idx, j] = zj, out.estimate, c
        evj = e.sum(axis=1)
        ev[idx, j] = evj
        hcomp = math.inf if h is None else h
        comp[idx, j] = np.sum(sub.entry <= (c - hcomp)[:, None], axis=1)
        stage[idx] = j + 1
        zb = -np.nan_to_num(zj, nan=0.0)
        valid = np.isfinite(zj)
        last = j == K - 1
        if last and boundaries is None:
            cj = np.array([_final_bound(plan, tuple(int(x) for x in ev[i, :j][had[i, :j]]) + (int(dd),), max_events)
                           for i, dd in zip(idx, evj, strict=True)])
        else:
            cj = np.full(idx.size, d_crit[j])
        bound[idx, j] = cj
        benefit = valid & (zb >= cj)
        if not last and m.efficacy_min_complete is not None and boundaries is None:
            benefit &= comp[idx, j] >= m.efficacy_min_complete
        harm = valid & (sided == 2) & (zb <= -cj) & ~benefit
        dec = np.where(benefit, BENEFIT, np.where(harm, HARM, CONTINUE)).astype(np.int8)
        if not last and follow and boundaries is None:
            go = valid & (dec == CONTINUE)
            if m.harm_z is not None:
                hs = go & (zb <= m.harm_z)
                dec[hs] = HARM_GUIDELINE
                go &= ~hs
            if m.futility_z is not None:
                dec[go & (zb <= m.futility_z)] = FUTILITY
        decision[idx] = dec
        active[idx[dec != CONTINUE]] = False
        rejected = (dec == BENEFIT) | (dec == HARM)
        if s_crit is not None and key_secondary is not None and rejected.any():
            k = np.flatnonzero(rejected)
            rows = idx[k]
            sub2 = sub.take(k)
            zs = analyse_cut(t[k], e[k], sub2, (key_secondary,), a, tau, engine)[key_secondary].z
            if last and secondary is True:
                cs = np.array([_final_bound(plan, tuple(int(x) for x in ev[i, :j][had[i, :j]]) + (int(ev[i, j]),),
                                            max_events, True) for i in rows])
            else:
                cs = np.full(rows.size, s_crit[j])
            s_z[rows, j], s_bound[rows, j] = zs, cs
            zb2 = -np.nan_to_num(zs, nan=0.0)
            ok2 = np.isfinite(zs)
            s_dec[rows] = np.where(ok2 & (zb2 >= cs), BENEFIT,
                                   np.where(ok2 & (sided == 2) & (zb2 <= -cs), HARM, CONTINUE))
    return stage, decision, z, est, ev, months, bound, comp, s_z, s_bound, s_dec


# ---------------------------------------------------------------------------------------
# the labelled comparison: rpact's design (log-rank on all deaths, event-driven), compiled

def _comparison(plan: TrialPlan, boundaries: Boundaries | None, engine: str) -> bool:
    a, m = plan.analysis, plan.monitoring
    return (use_compiled(engine, ScenarioError) and a.statistic == "logrank" and a.censor_months is None
            and m.final_analysis == "events" and m.efficacy_min_complete is None)


def _generated_by_kernel(d: DesignAssumptions) -> bool:
    return (d.allocation in ("blocks", "complete") and d.homogeneous and d.non_compliance == 0
            and d.crossover == 0 and not (d.early_months > 0 and d.early_hazard_ratio != 1.0))


def _n_blocks(R: int) -> int:
    import numba

    threads = numba.get_num_threads()
    return threads if threads > 1 and R >= 64 * threads else 1


def _skip(rng: np.random.Generator, k: int) -> None:
    """Move ``rng`` past ``k`` uniforms that :func:`simulate_trials` draws and the compiled
    generator does not need (PCG64 jumps; other bit generators draw and discard)."""
    if type(rng.bit_generator) is np.random.PCG64:
        rng.bit_generator.advance(k)
    else:
        rng.random(k)


def _kernel_looks(plan: TrialPlan, world: DesignAssumptions, m: int, rng: np.random.Generator, need: np.ndarray,
                  target: int, engine: str):
    """(time, event, entry, arm, duration) at the event-driven final cut and the looks' (O - E,
    V, deaths, cut) of ``m`` trials: generated in the compiled pass when the design allows it,
    else drawn by :func:`simulate_trials` and cut."""
    d = world
    R, n, K = m, d.n_patients, need.size
    oe, v, cutd = np.empty((R, K)), np.empty((R, K)), np.empty((R, K))
    ev = np.empty((R, K), dtype=np.int64)
    nb = _n_blocks(R)
    if _generated_by_kernel(d):
        _skip(rng, 3 * R * n)  # site, receptor, HER2: no factor effect, no minimization
        if d.allocation == "blocks":
            u_blocks, u_coin = rng.random((R, -(-n // d.block_size), d.block_size)), np.empty((0, 0))
        else:
            u_blocks, u_coin = np.empty((0, 0, 0)), rng.random((R, n))
        entry = rng.random((R, n))
        entry.sort(axis=1)
        if d.accrual_shape == 1.0:
            entry *= d.accrual_months
        else:
            entry = d.accrual_months * entry ** (1.0 / d.accrual_shape)
        _skip(rng, 2 * R * n)  # non-compliance and crossover draws (both probabilities 0)
        e_death = rng.standard_exponential((R, n))
        if d.dropout_probability > 0:
            e_loss, dropout = rng.standard_exponential((R, n)), d.dropout_rate
        else:
            e_loss, dropout = np.empty((0, 0)), 1.0
        time, event, arm = np.empty((R, n)), np.empty((R, n), dtype=np.int8), np.empty((R, n), dtype=np.int8)
        duration = np.empty(R)
        args = (u_blocks, u_coin, entry, e_death, e_loss, d.baseline_hazard * 1.0, float(d.hazard_ratio),
                0.0 + d.effect_delay_months, dropout, int(target), 10 * plan.design.horizon_months, need, time,
                event, arm, duration, oe, v, ev, cutd)
        (kernel.simulate_looks_parallel(*args, nb) if nb > 1 else kernel.simulate_looks(*args))
        return oe, v, ev, cutd
    data = simulate_trials(d, m, rng, engine=engine)
    duration = final_cutoff(data, plan, target)
    time, event = cut(data, duration, None)
    args2 = (time, event, data.entry, data.arm, duration, need, oe, v, ev, cutd)
    (kernel.logrank_looks_parallel(*args2, nb) if nb > 1 else kernel.logrank_looks(*args2))
    return oe, v, ev, cutd


def _simulate_comparison(plan: TrialPlan, world: DesignAssumptions, m: int, rng: np.random.Generator,
                         interim_events: tuple[int, ...], max_events: int, boundaries: Boundaries | None,
                         follow: bool, engine: str):
    need = np.array(interim_events + (0,), dtype=np.int64)  # 0: the final cut-off
    oe, v, ev, cutd = _kernel_looks(plan, world, m, rng, need, max_events, engine)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = oe / np.sqrt(v)
        est = oe / v
    R, K = z.shape
    crit = plan_design(plan).critical_values if boundaries is None else np.asarray(boundaries.critical_values)
    sided = plan.analysis.sided if boundaries is None else boundaries.sided
    mm = plan.monitoring
    # an interim whose deaths never came before the final cut-off is not a look (as the general path)
    had = np.ones((R, K), dtype=bool)
    had[:, :K - 1] = cutd[:, :K - 1] < cutd[:, K - 1:]
    stage = np.full(R, K, dtype=np.int64)
    decision = np.zeros(R, dtype=np.int8)
    active = np.ones(R, dtype=bool)
    zs, es, evs, ms, bs = (np.full((R, K), np.nan) for _ in range(5))
    for j in range(K):
        idx = np.flatnonzero(active & had[:, j])
        if idx.size == 0:
            continue
        zj = z[idx, j]
        last = j == K - 1
        if last and boundaries is None:  # the final bound from the deaths observed, as the general path
            cj = np.array([_final_bound(plan, tuple(int(x) for x in ev[i, :j][had[i, :j]]) + (int(ev[i, j]),),
                                        max_events) for i in idx])
        else:
            cj = np.full(idx.size, crit[j])
        zs[idx, j], es[idx, j], evs[idx, j], ms[idx, j], bs[idx, j] = zj, est[idx, j], ev[idx, j], cutd[idx, j], cj
        zb = -np.nan_to_num(zj)
        valid = np.isfinite(zj)
        benefit = valid & (zb >= cj)
        harm = valid & (sided == 2) & (zb <= -cj) & ~benefit
        dec = np.where(benefit, BENEFIT, np.where(harm, HARM, CONTINUE)).astype(np.int8)
        if not last and follow and boundaries is None:
            go = valid & (dec == CONTINUE)
            if mm.harm_z is not None:
                hs = go & (zb <= mm.harm_z)
                dec[hs] = HARM_GUIDELINE
                go &= ~hs
            if mm.futility_z is not None:
                dec[go & (zb <= mm.futility_z)] = FUTILITY
        decision[idx] = dec
        stopped = idx[dec != CONTINUE]
        stage[stopped] = j + 1
        active[stopped] = False
    # censor_months is None on this path: nobody completes an unlimited follow-up (as the general path counts)
    none = np.full((R, K), np.nan)
    return stage, decision, zs, es, evs, ms, bs, np.where(np.isfinite(ms), 0.0, np.nan), none, none, \
        np.zeros(R, dtype=np.int8)


# ---------------------------------------------------------------------------------------
# public

def simulate_sequential(plan: TrialPlan = PLAN, n_trials: int = 1000, seed: int = 0, *,
                        truth: DesignAssumptions | Mapping[str, Any] | None = None,
                        boundaries: Boundaries | None = None, follow_guidelines: bool = True,
                        engine: str = "auto", label: str = "the plan", secondary: bool = False,
                        secondary_critical_values: Any = None, max_seconds: float | None = None,
                        max_memory_gb: float | None = None, chunk_trials: int | None = None,
                        progress: ProgressArg = None) -> SequentialResult:
    """Simulate ``n_trials`` trials of ``plan`` monitored as ``plan.monitoring`` says (the module
    docstring). ``boundaries`` replaces the plan's alpha-spending design by fixed boundaries
    (no recalculation, no guidelines): e.g. naive repeated testing. ``truth``: the design the
    trials are drawn from (:func:`~trialnb.simulation.fixed.resolve_truth`; default the plan's
    own: the boundaries and planned deaths always come from the plan). The trials are those
    :func:`trialnb.simulation.simulate` draws with the same seed and truth.

    ``secondary=True`` also tests the plan's key secondary hypothesis at the look where the
    primary rejects (the module docstring), against its own spending boundary or, when given,
    ``secondary_critical_values`` (benefit z, one per look, symmetric for a two-sided plan).

    Bounded as :func:`trialnb.simulation.simulate` (:mod:`trialnb.workload`): ``max_seconds``,
    ``max_memory_gb``, ``chunk_trials`` (never a change in the results) and ``progress``."""
    plan = check_plan(plan, error=ScenarioError)
    world = resolve_truth(plan, truth)
    use_compiled(engine, ScenarioError)
    check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    check_seed(seed, error=ScenarioError)
    if not isinstance(follow_guidelines, bool) or not isinstance(secondary, bool):
        raise ScenarioError(f"follow_guidelines and secondary must be True or False, got {follow_guidelines!r} and "
                            f"{secondary!r}")
    if not isinstance(label, str):
        raise ScenarioError(f"label must be a string naming the plan in the summary, got {type(label).__name__}")
    progress = check_progress(progress, ScenarioError)
    lim = limits(max_seconds, max_memory_gb)
    s_arg: tuple[float, ...] | bool = False
    if secondary_critical_values is not None and not secondary:
        raise ScenarioError("secondary_critical_values needs secondary=True")
    if secondary:
        if plan.monitoring.secondary is None:
            raise ScenarioError("the plan names no key secondary hypothesis (monitoring.secondary is None)")
        s_arg = True
        if secondary_critical_values is not None:
            crit = tuple(float(x) for x in check_real_array(secondary_critical_values, "secondary_critical_values",
                                                            error=ScenarioError))
            if len(crit) != plan.monitoring.k or not all(math.isfinite(c) and c > 0 for c in crit):
                raise ScenarioError(f"secondary_critical_values must be {plan.monitoring.k} positive numbers (one "
                                    f"per look), got {secondary_critical_values!r}")
            s_arg = crit
    if boundaries is not None:
        if not isinstance(boundaries, Boundaries):
            raise ScenarioError(f"boundaries must be a Boundaries, got {type(boundaries).__name__}")
        plan = plan.with_changes(information_rates=boundaries.information_rates)
    max_events = plan_max_events(plan)
    interim_events = plan_interim_events(plan)  # refuses looks that do not each add a death
    comparison = _comparison(plan, boundaries, engine) and not secondary
    n = world.n_patients
    block = block_trials(n)
    chunk = block if comparison else check_chunk(chunk_trials, n, block)
    run_analyses: tuple[str, ...] = (plan.analysis.statistic,)
    if secondary and plan.monitoring.secondary is not None:
        run_analyses += (plan.monitoring.secondary,)
    est = estimate_run("simulate_sequential", int(n_trials), n, run_analyses, looks=len(interim_events) + 1,
                       block=block, chunk=chunk).check(lim)
    parts = []
    with progress_of(int(n_trials), "simulate_sequential", progress, est.seconds) as bar:
        for m, child in chunk_seeds(n_trials, seed, n):
            rng = np.random.default_rng(child)
            if comparison:
                parts.append(_simulate_comparison(plan, world, m, rng, interim_events, max_events, boundaries,
                                                  follow_guidelines, engine))
                bar.advance(m)
                continue
            block_data = simulate_trials(world, m, rng, engine=engine)
            for s in range(0, m, chunk):
                data = block_data if chunk >= m else block_data.take(slice(s, s + chunk))
                parts.append(_simulate_chunk(plan, data, interim_events, max_events, boundaries,
                                             follow_guidelines, engine, s_arg))
                bar.advance(data.n_trials)
            del block_data
    stage, decision, z, est_, ev, months, bound, comp, s_z, s_bound, s_dec = (
        np.concatenate(p) for p in zip(*parts, strict=True))
    return SequentialResult(plan=plan, truth=world, n_trials=int(n_trials), seed=int(seed),
                            planned_events=interim_events + (max_events,), stage=stage, decision=decision, z=z,
                            estimate=est_, events=ev, months=months, bound=bound, complete=comp,
                            follow_guidelines=bool(follow_guidelines), label=label,
                            secondary_z=s_z if secondary else None, secondary_bound=s_bound if secondary else None,
                            secondary_decision=s_dec if secondary else None)


def naive_type_one_error(looks: int, z: float = 1.959964) -> float:
    """Probability under H0 that a standardized statistic observed at ``looks`` equally spaced
    information times crosses ``z`` at least once: 1 - P(Z_1 < z, ..., Z_K < z) with
    corr(Z_i, Z_j) = sqrt(t_i / t_j) (Armitage, McPherson & Rowe 1969)."""
    if isinstance(looks, bool) or not isinstance(looks, (int, np.integer)) or looks < 1:
        raise ScenarioError(f"looks must be a positive integer, got {looks!r}")
    t = np.arange(1, looks + 1) / looks
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    if looks == 1:
        return float(stats.norm.sf(z))
    # scipy passes abseps, releps on to multivariate_normal_frozen (**kwds); scipy-stubs 1.17 declares
    # no **kwds on multivariate_normal_gen.__call__
    mvn = stats.multivariate_normal(mean=np.zeros(looks), cov=cov, abseps=1e-7, releps=1e-7)  # type: ignore[call-overload]
    return float(1 - mvn.cdf(np.full(looks, z)))
