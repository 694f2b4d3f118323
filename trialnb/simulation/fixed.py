"""The operating characteristics of a plan's final analysis alone (a fixed design), by simulation.

:func:`simulate` draws ``n_trials`` trials of ``plan.design`` (:func:`~trialnb.simulation.
trials.simulate_trials`), cuts each at the plan's final analysis (``plan.monitoring.
final_analysis``: calendar-driven, when the last patient has completed ``censor_months``; or
event-driven, at the planned maximum of primary-endpoint deaths,
:func:`trialnb.monitoring.plan_max_events`), with follow-up censored at
``plan.analysis.censor_months``, and applies the plan's statistic -- and, on the same trials,
any other analyses of the registry (:data:`~trialnb.simulation.analyses.ANALYSES`). Rejection
follows the plan's ``alpha`` and ``sided``; rejections favouring arm A (benefit) and arm B
(harm) are counted apart. :func:`required_patients` finds the N that reaches a power.

Seed blocks of 2,000 trials (fewer for trials of more than 4,000 patients), each with its own
child seed of ``numpy.random.SeedSequence(seed)``: the results do not depend on the engine and
are reproducible from the seed. Bounded runs (:mod:`trialnb.workload`): the time and memory are
estimated before the first trial is drawn (:mod:`~trialnb.simulation.costs`) and a run beyond
the limits (``max_seconds``, ``max_memory_gb``) is refused; trials are analysed in chunks that
bound the memory (``chunk_trials``; never a change in the results); a progress bar shows a long
run; Ctrl-C stops it with nothing returned.

References: Schoenfeld DA. Biometrika 1981;68:316-319 (the analytic power the simulation is
compared with); Morris TP, White IR, Crowther MJ. Using simulation studies to evaluate
statistical methods. Stat Med 2019;38:2074-2102 (Monte-Carlo standard errors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..compiled import use_compiled
from ..errors import ScenarioError
from ..workload import Estimate, ProgressArg, check_progress, limits, progress as progress_of
from ..plan import PLAN, STATISTICS, DesignAssumptions, TrialPlan, check_plan
from ..report import fmt_hr, fmt_months, fmt_n, fmt_num, fmt_pct
from ..results import Result
from ..validation import check_int, check_seed
from .analyses import AnalysisOutcome, analyse_cut, check_analyses, decide
from .costs import CHUNK, analysis_chunk, block_trials, estimate_run
from .trials import TrialData, cut, primary_death_dates, simulate_trials

__all__ = ["CHUNK", "RequiredPatients", "SimulationResult", "final_cutoff", "required_patients", "simulate",
           "check_chunk", "chunk_seeds", "resolve_truth"]



def chunk_seeds(n_trials: int, seed: int, n_patients: int | None = None) -> list[tuple[int, np.random.SeedSequence]]:
    """(trials, child seed) of each seed block: :data:`CHUNK` trials, or fewer for trials of
    ``n_patients`` beyond 4,000 (:func:`trialnb.simulation.costs.block_trials`; None: CHUNK). The
    one stream layout of every simulation of the package, so the same seed gives the same trials
    in the fixed and the sequential simulation. Only the first ``k`` children are spawned, where
    ``k`` is the number of blocks (the caller checks the run's size first)."""
    check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    check_seed(seed, error=ScenarioError)
    size = CHUNK if n_patients is None else block_trials(n_patients)
    k = -(-int(n_trials) // size)
    children = np.random.SeedSequence(int(seed)).spawn(k)
    return [(min(size, int(n_trials) - i * size), children[i]) for i in range(k)]


def check_chunk(chunk_trials: object, n_patients: int, block: int) -> int:
    """Trials analysed at once: ``chunk_trials`` (an integer >= 1; at most a block is used), or,
    for None, as many as :data:`trialnb.workload.CHUNK_BYTES` allow
    (:func:`trialnb.simulation.costs.analysis_chunk`)."""
    if chunk_trials is None:
        return analysis_chunk(n_patients, block)
    return min(check_int(chunk_trials, "chunk_trials", minimum=1, error=ScenarioError), block)


def _tau(plan: TrialPlan) -> float:
    return float(plan.analysis.censor_months if plan.analysis.censor_months is not None else plan.design.horizon_months)


def final_cutoff(data: TrialData, plan: TrialPlan, target_events: int | None = None) -> np.ndarray:
    """Calendar month of each trial's final analysis under ``plan.monitoring.final_analysis``:
    ``"calendar"`` -- the last randomization plus ``censor_months`` (the design's horizon for
    an all-follow-up analysis); ``"events"`` -- the date of the ``target_events``-th
    primary-endpoint death, or, when it never comes, the date after which none can come: the
    calendar date when follow-up is censored at ``censor_months`` (every window has closed),
    ten horizons after the last randomization for an all-follow-up analysis."""
    h = _tau(plan)
    calendar = data.entry[:, -1] + h
    if plan.monitoring.final_analysis == "calendar":
        return calendar
    if target_events is None:
        from ..monitoring import plan_max_events

        target_events = plan_max_events(plan)
    dates = primary_death_dates(data, plan.analysis.censor_months)
    k = min(int(target_events), data.n_patients) - 1
    kth = np.partition(dates, k, axis=1)[:, k]
    never = calendar if plan.analysis.censor_months is not None else data.entry[:, -1] + 10 * plan.design.horizon_months
    return np.where(np.isfinite(kth), np.minimum(kth, never), never)


@dataclass(frozen=True)
class SimulationResult(Result):
    """Operating characteristics of a plan's final analysis from ``n_trials`` simulated trials.

    Per analysis (``analyses``, the plan's statistic first): ``z`` (sign of log HR), ``ok`` and
    ``reject`` arrays (R,). Per trial: ``events`` (primary-endpoint deaths in the final
    analysis), ``events_a`` (of them in arm A), ``estimate`` (the first analysis's log HR or
    difference) and ``months`` (calendar month of the final analysis). Rates are over the
    successful analyses; a failed analysis never rejects and is counted in ``failed``."""

    plan: TrialPlan
    truth: DesignAssumptions
    analyses: tuple[str, ...]
    n_trials: int
    seed: int
    z: dict[str, np.ndarray] = field(repr=False)
    ok: dict[str, np.ndarray] = field(repr=False)
    reject: dict[str, np.ndarray] = field(repr=False)
    estimate: np.ndarray = field(repr=False)
    events: np.ndarray = field(repr=False)
    events_a: np.ndarray = field(repr=False)
    months: np.ndarray = field(repr=False)

    @property
    def analysis(self) -> str:
        """The first (primary) analysis."""
        return self.analyses[0]

    def _rate(self, name: str, direction: int = 0) -> float:
        ok = self.ok[name]
        if not ok.any():
            return math.nan
        rej = self.reject[name]
        if direction:
            rej = rej & (np.sign(np.nan_to_num(self.z[name])) == direction)
        return float(rej[ok].mean())

    def rejection(self, name: str | None = None) -> float:
        """Fraction of successful analyses rejecting H0 in either direction (the type-I error
        under no effect)."""
        return self._rate(name or self.analysis)

    def benefit(self, name: str | None = None) -> float:
        """Fraction rejecting with the estimate favouring arm A (power for benefit)."""
        return self._rate(name or self.analysis, -1)

    def harm(self, name: str | None = None) -> float:
        """Fraction rejecting with the estimate favouring arm B (the chance to show harm)."""
        return self._rate(name or self.analysis, +1)

    def failed(self, name: str | None = None) -> int:
        """Trials whose analysis failed (left out of the rates)."""
        return int((~self.ok[name or self.analysis]).sum())

    def mc_se(self, p: float, name: str | None = None) -> float:
        """Monte-Carlo SE sqrt(p (1 - p) / n) of a rate over the successful analyses."""
        n = int(self.ok[name or self.analysis].sum())
        return math.sqrt(p * (1 - p) / n) if n and math.isfinite(p) else math.nan

    @property
    def power(self) -> float:
        """Power for benefit of the plan's statistic (rejections favouring arm A)."""
        return self.benefit()

    @property
    def power_se(self) -> float:
        return self.mc_se(self.power)

    @property
    def type_one_error(self) -> float:
        """Rejections in either direction (meaningful when the design has no effect)."""
        return self.rejection()

    @property
    def n_failed(self) -> int:
        return self.failed()

    @property
    def hazard_ratio(self) -> np.ndarray:
        """exp(estimate) per trial for a hazard-ratio analysis (the first one)."""
        return np.exp(self.estimate)

    @property
    def mean_events(self) -> float:
        return float(self.events.mean())

    @property
    def mean_months(self) -> float:
        return float(self.months.mean())

    @property
    def type_one_error_ok(self) -> bool | None:
        """Under no effect: is the rejection rate within 2.576 MC SE (at alpha) of alpha? None
        when the design has an effect."""
        if not self.truth.is_null:
            return None
        a = self.plan.analysis.alpha
        n = max(int(self.ok[self.analysis].sum()), 1)
        return abs(self.rejection() - a) <= 2.576 * math.sqrt(a * (1 - a) / n)

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis: rejection (either direction), benefit, harm, their MC SEs and
        the failed analyses."""
        rows = []
        for a in self.analyses:
            rej, ben, harm = self.rejection(a), self.benefit(a), self.harm(a)
            rows.append({"analysis": a, "rejection": rej, "rejection_se": self.mc_se(rej, a), "benefit": ben,
                         "benefit_se": self.mc_se(ben, a), "harm": harm, "harm_se": self.mc_se(harm, a),
                         "failed": self.failed(a)})
        return pd.DataFrame(rows).set_index("analysis")

    def _label(self) -> str:
        """The first analysis in words: the plan's statistic label, or the registry name of another."""
        a = self.plan.analysis
        if self.analysis == a.statistic:
            return a.statistic_label()
        if self.analysis in STATISTICS:
            label = self.plan.with_changes(statistic=self.analysis).analysis.statistic_label()
            return f"{label} (not the plan's statistic)"
        return f"{self.analysis} (not the plan's statistic)"

    def summary(self) -> str:
        d = self.truth
        label = "type-I error (either direction)" if d.is_null else "power for benefit"
        value = self.rejection() if d.is_null else self.power
        lines = [
            f"{fmt_n(self.n_trials)} simulated trials, seed {self.seed}; {self._label()}",
            f"truth: {d.describe()}; final analysis {self.plan.monitoring.final_analysis}-driven",
        ]
        if not self.ok[self.analysis].any():
            lines.append(f"{label}: not available: the analysis failed in every trial (no estimate: e.g. no death in "
                         f"an arm); mean primary-endpoint deaths {fmt_num(self.mean_events, 1)}, of them in arm A "
                         f"{fmt_num(float(self.events_a.mean()), 1)}")
            return "\n".join(lines)
        lines.append(f"{label}: {fmt_pct(value)} (MC SE {fmt_pct(self.mc_se(value))}); harm rejections "
                     f"{fmt_pct(self.harm())}")
        if self.analysis in STATISTICS:
            lines.append(f"median estimated HR (A vs B): {fmt_hr(float(np.nanmedian(self.hazard_ratio)))}")
        elif np.isfinite(self.estimate).any():  # MaxCombo has no estimate
            lines.append(f"median estimate: {fmt_num(float(np.nanmedian(self.estimate)), 3)}")
        lines.append(f"mean primary-endpoint deaths {fmt_num(self.mean_events, 1)}; final analysis "
                     f"{fmt_months(self.mean_months)} after the first randomization on average")
        if self.n_failed:
            lines.append(f"failed analyses (no estimate; left out of the rates): {fmt_n(self.n_failed)}")
        return "\n".join(lines)


def resolve_truth(plan: TrialPlan, truth: DesignAssumptions | Mapping[str, Any] | None) -> DesignAssumptions:
    """The design the trials are drawn from: ``plan.design`` (None), a
    :class:`~trialnb.plan.DesignAssumptions`, or a mapping of fields changed on ``plan.design``
    (e.g. ``{"hazard_ratio": 1.0}``: the plan as written when surgery has no effect). The plan's
    own numbers -- boundaries, planned deaths, sample size -- always come from ``plan.design``."""
    if truth is None:
        return plan.design
    if isinstance(truth, DesignAssumptions):
        return truth
    if isinstance(truth, Mapping):
        names = {f.name for f in fields(DesignAssumptions)}
        bad = sorted(set(truth) - names)
        if bad:
            raise ScenarioError(f"truth has no design field {', '.join(bad)}; fields: {', '.join(sorted(names))}")
        return replace(plan.design, **truth)
    raise ScenarioError(f"truth must be None, a DesignAssumptions or a mapping of design fields, got "
                        f"{type(truth).__name__}")


def simulate(plan: TrialPlan = PLAN, n_trials: int = 1000, seed: int = 0, *,
             truth: DesignAssumptions | Mapping[str, Any] | None = None,
             analyses: str | Sequence[str] | None = None, engine: str = "auto",
             max_seconds: float | None = None, max_memory_gb: float | None = None,
             chunk_trials: int | None = None, progress: ProgressArg = None) -> SimulationResult:
    """Simulate and analyse ``n_trials`` trials of ``plan`` at its final analysis (the module
    docstring). ``truth``: the design the trials are drawn from (:func:`resolve_truth`; default
    the plan's own). ``analyses``: names of :data:`~trialnb.simulation.analyses.ANALYSES` applied
    to the same trials (default: the plan's statistic alone); the first one gives ``estimate``.
    ``engine``: compiled kernels or their numpy twins (the same numbers).

    Bounded (:mod:`trialnb.workload`): refused with :class:`~trialnb.errors.ResourceLimitError`
    before it starts when the estimated time or memory exceeds ``max_seconds`` or
    ``max_memory_gb`` (None: the defaults, an hour and 4 GB); ``chunk_trials`` trials are
    analysed at once (None: as memory allows; the results do not depend on it); ``progress``:
    None (a bar for a long interactive run), True, False, or a callable ``progress(done, total)``.
    """
    plan = check_plan(plan, error=ScenarioError)
    world = resolve_truth(plan, truth)
    names = check_analyses(plan.analysis.statistic if analyses is None else analyses)
    use_compiled(engine, ScenarioError)
    check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    check_seed(seed, error=ScenarioError)
    progress = check_progress(progress, ScenarioError)
    lim = limits(max_seconds, max_memory_gb)
    n = world.n_patients
    block = block_trials(n)
    chunk = check_chunk(chunk_trials, n, block)
    est = estimate_run("simulate", int(n_trials), n, names, block=block, chunk=chunk).check(lim)
    a = plan.analysis
    tau = _tau(plan)
    target = None
    if plan.monitoring.final_analysis == "events":
        from ..monitoring import plan_max_events

        target = plan_max_events(plan)
    parts: list[tuple] = []
    with progress_of(int(n_trials), "simulate", progress, est.seconds) as bar:
        for m, child in chunk_seeds(n_trials, seed, n):
            block_data = simulate_trials(world, m, np.random.default_rng(child), engine=engine)
            for s in range(0, m, chunk):
                data = block_data if chunk >= m else block_data.take(slice(s, s + chunk))
                c = final_cutoff(data, plan, target)
                time, event = cut(data, c, a.censor_months)
                out: dict[str, AnalysisOutcome] = analyse_cut(time, event, data, names, a, tau, engine)
                rej = {k: decide(v, k, a.alpha, a.sided) for k, v in out.items()}
                parts.append(({k: v.z for k, v in out.items()}, {k: v.ok for k, v in out.items()}, rej,
                              out[names[0]].estimate, event.sum(axis=1), (event * data.arm).sum(axis=1), c))
                bar.advance(data.n_trials)
            del block_data
    cat = lambda i: {k: np.concatenate([p[i][k] for p in parts]) for k in names}  # noqa: E731
    return SimulationResult(plan=plan, truth=world, analyses=names, n_trials=int(n_trials), seed=int(seed),
                            z=cat(0), ok=cat(1), reject=cat(2), estimate=np.concatenate([p[3] for p in parts]),
                            events=np.concatenate([p[4] for p in parts]),
                            events_a=np.concatenate([p[5] for p in parts]),
                            months=np.concatenate([p[6] for p in parts]))


@dataclass(frozen=True)
class RequiredPatients(Result):
    """Patients needed for ``target`` power under a plan and analysis, by simulation.

    ``n_patients``: the N (rounded up to the step) where the smoothed simulated power curve
    probit(power) = a + b sqrt(N), fitted by weighted least squares to every evaluated N,
    reaches the target; ``power`` and ``power_se``: the simulated power at that N;
    ``n_lower``, ``n_upper``: 95% Monte-Carlo interval of the crossing point (delta method on
    the fit); ``evaluations``: every N simulated with its power and SE."""

    analysis: str
    target: float
    n_patients: int
    power: float
    power_se: float
    n_lower: float
    n_upper: float
    n_trials: int
    evaluations: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.evaluations

    def summary(self) -> str:
        return (f"{self.analysis}: {fmt_n(self.n_patients)} patients for {fmt_pct(self.target)} power "
                f"(simulated {fmt_pct(self.power)}, MC SE {fmt_pct(self.power_se)}; Monte-Carlo range "
                f"{fmt_n(math.floor(self.n_lower))} to {fmt_n(math.ceil(self.n_upper))}; {fmt_n(self.n_trials)} "
                "trials per N)")


def required_patients(plan: TrialPlan = PLAN, power: float = 0.8, analysis: str | None = None, *,
                      n_trials: int = 2000, seed: int = 0, n_min: int = 20, n_max: int = 4000,
                      step: int = 2, max_seconds: float | None = None, max_memory_gb: float | None = None,
                      progress: ProgressArg = None) -> RequiredPatients:
    """Total N (multiple of ``step``) that reaches ``power`` (for benefit) under ``plan``, by
    simulation of its final analysis with ``analysis`` (default: the plan's statistic).

    Every N is simulated with the same ``seed`` (one stream per N; the draws are not nested
    across N, so the power curve can wiggle by its MC error). Search: doubling from the plan's
    N until the power is reached (at most ``n_max``), bisection between the last N below and
    the first N above, then the smoothed curve of :class:`RequiredPatients` over all evaluated
    N gives the answer.

    Bounded (:mod:`trialnb.workload`): the estimate is the worst case -- every N of the search
    simulated at ``n_max`` patients --, refused beyond ``max_seconds`` / ``max_memory_gb``;
    ``progress`` shows the N evaluated so far.
    """
    plan = check_plan(plan, error=ScenarioError)
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise ScenarioError(f"power must lie in (0, 1), got {power!r}")
    (name,) = check_analyses(plan.analysis.statistic if analysis is None else analysis)
    if plan.design.is_null:
        raise ScenarioError("the design has no treatment effect (is_null): no N reaches a power above alpha")
    check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    check_seed(seed, error=ScenarioError)
    n_min = check_int(n_min, "n_min", minimum=4, error=ScenarioError)
    n_max = check_int(n_max, "n_max", minimum=n_min + 1, error=ScenarioError)
    step = check_int(step, "step", minimum=2, error=ScenarioError)
    if step % 2:
        raise ScenarioError(f"step must be an even integer >= 2 (patients come in pairs), got {step}")
    progress = check_progress(progress, ScenarioError)
    lim = limits(max_seconds, max_memory_gb)
    evaluations = 2 * math.ceil(math.log2(max(n_max / step, 2))) + 2
    block = block_trials(n_max)
    one = estimate_run("one N", int(n_trials), n_max, (name,), block=block, chunk=analysis_chunk(n_max, block))
    est = Estimate(f"required_patients: up to {evaluations} simulations of {fmt_n(int(n_trials))} trials of at most "
                   f"{fmt_n(n_max)} patients (the worst case: the power reached only near n_max)",
                   evaluations * one.seconds, one.memory, one.basis).check(lim)
    with progress_of(None, "required_patients", progress, est.seconds, unit=" N") as bar:
        seen: dict[int, tuple[float, float]] = {}

        def pw(n: int) -> float:
            if n not in seen:
                r = simulate(plan.with_changes(n_patients=int(n)), n_trials, seed=seed, analyses=name, progress=False,
                             max_seconds=math.inf, max_memory_gb=lim.max_memory / 2**30)
                seen[n] = (r.power, r.power_se)
                bar.advance(1)
            return seen[n][0]

        rnd = lambda n: int(max(n_min, min(n_max, step * math.ceil(n / step))))  # noqa: E731
        lo, hi = n_min, rnd(plan.design.n_patients)
        while pw(hi) < power:
            if hi >= n_max:
                raise ScenarioError(f"power {power} not reached with n_max = {n_max} patients")
            lo, hi = hi, rnd(2 * hi)
        while hi - lo > step:
            mid = rnd((lo + hi) / 2)
            if mid >= hi:
                break
            if pw(mid) >= power:
                hi = mid
            else:
                lo = mid
        frame = lambda: pd.DataFrame([(n, p, se) for n, (p, se) in sorted(seen.items())],  # noqa: E731
                                     columns=["n_patients", "power", "power_se"])
        ev = frame()
        use = ev[(ev["power"] > 0.02) & (ev["power"] < 0.995)]
        if len(use) >= 2:
            x = np.sqrt(use["n_patients"].to_numpy(float))
            pp = use["power"].to_numpy()
            q = stats.norm.ppf(pp)
            w = n_trials * stats.norm.pdf(q) ** 2 / (pp * (1 - pp))
            Xd = np.column_stack([np.ones_like(x), x])
            cov = np.linalg.inv(Xd.T @ (w[:, None] * Xd))
            a, b = cov @ (Xd.T @ (w * q))
            qt = stats.norm.ppf(power)
            n_fit = ((qt - a) / b) ** 2
            g = np.array([-1.0, -(qt - a) / b]) * 2 * (qt - a) / b**2  # d n / d (a, b)
            se_n = float(math.sqrt(g @ cov @ g))
            n_req = rnd(n_fit) if b > 0 else hi
            lo_n, hi_n = n_fit - 1.96 * se_n, n_fit + 1.96 * se_n
        else:
            n_req, lo_n, hi_n = hi, math.nan, math.nan
        if n_req not in seen:
            pw(n_req)
            ev = frame()
        p_hi, se_hi = seen[n_req]
        return RequiredPatients(name, float(power), int(n_req), p_hi, se_hi, float(lo_n), float(hi_n), int(n_trials),
                                ev)

