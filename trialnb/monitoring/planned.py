"""The group-sequential design of a trial plan (:mod:`trialnb.plan`): its boundaries, the
planned numbers of primary-endpoint deaths at its looks, and when those looks are expected.

The plan holds the choices (looks, spending, alpha, sides, power, hazard ratio, final timing);
these functions derive the numbers from them, once, for every consumer (simulations, the
interim report, the SAP, notebooks and dashboards).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DesignError
from ..plan import PLAN, TrialPlan, check_plan
from ..sample_size import round_up
from ..validation import check_choice, check_hazard_ratio
from .design import GroupSequentialDesign, design
from .sample_size import sequential_sample_size
from .timing import FINAL_TIMING, AnalysisTimes, analysis_times, expected_deaths

__all__ = ["plan_analysis_times", "plan_benefit_design", "plan_design", "plan_expected_deaths",
           "plan_interim_events", "plan_max_events", "plan_secondary_design"]


def _check(plan: object) -> TrialPlan:
    return check_plan(plan, error=DesignError)


def plan_design(plan: TrialPlan = PLAN) -> GroupSequentialDesign:
    """The plan's efficacy boundaries (:func:`trialnb.monitoring.design`): its looks
    (``monitoring.information_rates``), spending, alpha and sides (``analysis``), beta =
    1 - ``design.power``. The futility and harm guidelines are non-binding and do not enter
    the boundaries; with ``sided = 2`` the harm boundary is the mirror of the efficacy one."""
    _check(plan)
    m, a = plan.monitoring, plan.analysis
    return design(m.k, alpha=a.alpha, sided=a.sided, beta=1 - plan.design.power, type_of_design=m.spending,
                  information_rates=list(m.information_rates), gamma_a=m.spending_gamma)


def plan_benefit_design(plan: TrialPlan = PLAN, *, futility: bool = False,
                        binding: bool = False) -> GroupSequentialDesign:
    """The benefit side of the plan's design as a one-sided design at ``alpha / sided``: the same
    efficacy boundaries (for a two-sided symmetric alpha-spending design, spending on each side
    what the one-sided design spends), for the questions that concern only a benefit of
    surgery (the probability of success, a futility guideline).

    ``futility=True`` adds the plan's futility guideline (benefit z <= ``monitoring.futility_z``
    at every interim) as a futility bound, so that the design's power and inflation factor
    assume the rule is always followed (rpact ``getDesignGroupSequential(futilityBounds=...)``):

    * ``binding=False`` (the plan's guideline): the efficacy boundaries ignore the bound, as
      without it (the type-I error holds whether or not the DMC follows it); the power lost to
      futility stops is bought back with more deaths (a larger inflation factor);
    * ``binding=True``: the boundaries are recomputed with the bound in force (trials stopped
      for futility can no longer reject later, so the final boundary is lower); the type-I error
      holds only if every futility stop is obeyed."""
    _check(plan)
    m, a = plan.monitoring, plan.analysis
    if not isinstance(futility, (bool, np.bool_)) or not isinstance(binding, (bool, np.bool_)):
        raise DesignError(f"futility and binding must be True or False, got {futility!r} and {binding!r}")
    if binding and not futility:
        raise DesignError("binding=True needs futility=True (a binding bound is the futility guideline made binding)")
    fut = None
    if futility:
        if m.futility_z is None or m.k == 1:
            raise DesignError("futility=True needs a plan with a futility guideline (monitoring.futility_z) and at "
                              f"least one interim; this plan has futility_z={m.futility_z!r} and {m.k} look(s)")
        fut = [float(m.futility_z)] * (m.k - 1)
    return design(m.k, alpha=a.alpha / a.sided, sided=1, beta=1 - plan.design.power, type_of_design=m.spending,
                  information_rates=list(m.information_rates), gamma_a=m.spending_gamma, futility_bounds=fut,
                  binding_futility=bool(binding))


def plan_secondary_design(plan: TrialPlan = PLAN) -> GroupSequentialDesign:
    """The boundaries of the plan's key secondary hypothesis (``monitoring.secondary``): the
    same looks, alpha and sides as the primary, its own Lan-DeMets spending
    (``monitoring.secondary_spending``). The secondary is tested only at the look where the
    primary rejects; because each of its looks is bounded by an alpha-level group-sequential
    boundary, the family-wise error of the two hypotheses is at most alpha whatever the
    correlation of the two statistics (Hung, Wang & O'Neill, J Biopharm Stat 2007;17:1201-1210;
    Glimm, Maurer & Bretz, Stat Med 2010;29:219-228, section 3). The information fraction of a
    look is the primary's (its primary-endpoint deaths over the planned maximum)."""
    m, a = plan.monitoring, plan.analysis
    return design(m.k, alpha=a.alpha, sided=a.sided, beta=1 - plan.design.power, type_of_design=m.secondary_spending,
                  information_rates=list(m.information_rates))


def plan_max_events(plan: TrialPlan = PLAN) -> int:
    """The planned maximum of primary-endpoint deaths: Schoenfeld's number for the plan's
    alpha, sides, power and hazard ratio times the design's inflation factor, rounded up
    (:func:`trialnb.monitoring.sequential_sample_size`, rpact ``getSampleSizeSurvival``). The
    maximum information of the alpha spending: an interim's information fraction is its
    deaths divided by this number."""
    _check(plan)
    ss = sequential_sample_size(plan_design(plan), plan.design.hazard_ratio)
    return int(round_up(ss.max_events))


def plan_interim_events(plan: TrialPlan = PLAN) -> tuple[int, ...]:
    """Primary-endpoint deaths at each interim look: ``ceil(rate x plan_max_events)`` (a look
    never comes before its planned fraction of the information)."""
    _check(plan)
    mx = plan_max_events(plan)
    looks = tuple(int(round_up(r * mx)) for r in plan.monitoring.information_rates[:-1])
    # each look against the next (the last against the final); no interim: nothing to pair
    if any(b <= a for a, b in zip(looks, looks[1:] + (mx,), strict=False)):
        raise DesignError(f"the plan's {plan.monitoring.k} looks at {', '.join(map(str, looks + (mx,)))} of {mx} "
                          f"primary-endpoint deaths do not each add a death: with hazard ratio "
                          f"{plan.design.hazard_ratio:g} the design needs only {mx}; plan fewer looks, or assume a "
                          "hazard ratio nearer 1")
    return looks


def _timing(plan: TrialPlan) -> dict[str, Any]:
    """The plan's design as the keywords of :func:`analysis_times` / :func:`expected_deaths`:
    ``n_patients`` entering uniformly over ``accrual_months``, 1:1, the drop-out hazard,
    information counted within ``censor_months`` (all deaths when the plan uses all follow-up),
    and the population as exponential sub-populations whose expected deaths add up: the factor
    strata with their prognostic hazard ratios (:meth:`~trialnb.plan.DesignAssumptions.strata_model`,
    the reference hazard ``baseline_hazard`` calibrated to arm B's survival at the horizon) and
    the ``non_compliance`` fraction of arm A at arm B's hazard. Only for an effect from
    randomization with uniform accrual: a delayed effect, an early period, crossover or
    ``accrual_shape != 1`` is refused."""
    d = plan.design
    if d.effect_delay_months or (d.early_months and d.early_hazard_ratio != 1.0) or d.crossover or d.accrual_shape != 1:
        raise DesignError("the expected timing has a closed form for an effect from randomization with uniform "
                          "accrual only; allowed: effect_delay_months 0, no early period, crossover 0, accrual_shape "
                          f"1 (got {d.describe()})")
    probs, lp = d.strata_model()
    return dict(n_patients=d.n_patients, accrual_time=d.accrual_months, control_hazard=d.baseline_hazard,
                dropout_hazard=d.dropout_rate, window=plan.analysis.censor_months, strata=(probs, np.exp(lp)),
                non_compliance=d.non_compliance)


def plan_analysis_times(plan: TrialPlan = PLAN, *, final: str | None = None,
                        hazard_ratio: float | None = None) -> AnalysisTimes:
    """When the plan's deaths arrive: the expected calendar month of each of the plan's looks
    under H0 (HR 1) and H1 (``hazard_ratio``, default the plan's), with the patients randomized
    by then (:func:`trialnb.monitoring.analysis_times`: uniform accrual, exponential survival and
    drop-out, as rpact's ``analysisTime`` and ``numberOfSubjects``; the plan's population of
    factor strata and non-operation as exponential sub-populations, see ``_timing``). The
    interims at :func:`plan_interim_events` primary-endpoint deaths; the final as the plan times
    it (``monitoring.final_analysis``) or as ``final`` says: ``"calendar"`` at ``accrual_months +
    censor_months`` (when the last patient randomized has completed the primary endpoint's
    follow-up), with its expected deaths; ``"events"`` at :func:`plan_max_events` deaths (NaN
    where they are never expected).

    The months are those at which the *expected* count reaches each look's deaths (rpact's and
    gsDesign's definition), not the mean of the random month; the plan's simulated trials
    (:func:`trialnb.simulation.simulate_sequential`) agree within their Monte-Carlo error, and the
    homogeneous all-deaths plan equals rpact (tests/test_monitoring_timing.py)."""
    _check(plan)
    final = plan.monitoring.final_analysis if final is None else check_choice(final, "final", FINAL_TIMING,
                                                                              error=DesignError)
    hr = plan.design.hazard_ratio if hazard_ratio is None else check_hazard_ratio(hazard_ratio, error=DesignError)
    kw = _timing(plan)
    if final == "calendar" and kw["window"] is None:
        raise DesignError("a calendar-driven final needs the plan's censor_months (the primary endpoint's follow-up); "
                          "this plan uses all follow-up: use final='events'")
    looks = list(plan_interim_events(plan)) + ([plan_max_events(plan)] if final == "events" else [])
    return analysis_times(looks, hazard_ratio=hr, final=final, **kw)


def plan_expected_deaths(month: Any, plan: TrialPlan = PLAN, *,
                         hazard_ratio: float | None = None) -> float | np.ndarray:
    """Expected primary-endpoint deaths (deaths within ``censor_months`` of randomization) by
    calendar ``month`` under the plan's design with hazard ratio ``hazard_ratio`` (default the
    plan's; 1 for H0): :func:`trialnb.monitoring.expected_deaths` with the plan's numbers (see
    :func:`plan_analysis_times`)."""
    _check(plan)
    hr = plan.design.hazard_ratio if hazard_ratio is None else check_hazard_ratio(hazard_ratio, error=DesignError)
    return expected_deaths(month, hazard_ratio=hr, **_timing(plan))
