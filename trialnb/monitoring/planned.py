"""The group-sequential design of a trial plan (:mod:`trialnb.plan`): its boundaries and the
planned numbers of primary-endpoint deaths at its looks.

The plan holds the choices (looks, spending, alpha, sides, power, hazard ratio); these
functions derive the numbers from them, once, for every consumer (simulations, the interim
report, the SAP, notebooks and dashboards).
"""

from __future__ import annotations

import numpy as np

from ..errors import ScenarioError
from ..plan import PLAN, TrialPlan
from ..sample_size import round_up
from .design import GroupSequentialDesign, design
from .sample_size import sequential_sample_size
from .timing import AnalysisTimes, analysis_times

__all__ = ["plan_analysis_times", "plan_benefit_design", "plan_design", "plan_interim_events", "plan_max_events"]


def plan_design(plan: TrialPlan = PLAN) -> GroupSequentialDesign:
    """The plan's efficacy boundaries (:func:`trialnb.monitoring.design`): its looks
    (``monitoring.information_rates``), spending, alpha and sides (``analysis``), beta =
    1 - ``design.power``. The futility and harm guidelines are non-binding and do not enter
    the boundaries; with ``sided = 2`` the harm boundary is the mirror of the efficacy one."""
    m, a = plan.monitoring, plan.analysis
    return design(m.k, alpha=a.alpha, sided=a.sided, beta=1 - plan.design.power, type_of_design=m.spending,
                  information_rates=list(m.information_rates), gamma_a=m.spending_gamma)


def plan_benefit_design(plan: TrialPlan = PLAN) -> GroupSequentialDesign:
    """The benefit side of the plan's design as a one-sided design at ``alpha / sided``: the same
    efficacy boundaries (for a two-sided symmetric alpha-spending design, spending on each side
    what the one-sided design spends), for the questions that concern only a benefit of
    surgery (the probability of success, a futility guideline)."""
    m, a = plan.monitoring, plan.analysis
    return design(m.k, alpha=a.alpha / a.sided, sided=1, beta=1 - plan.design.power, type_of_design=m.spending,
                  information_rates=list(m.information_rates), gamma_a=m.spending_gamma)


def plan_max_events(plan: TrialPlan = PLAN) -> int:
    """The planned maximum of primary-endpoint deaths: Schoenfeld's number for the plan's
    alpha, sides, power and hazard ratio times the design's inflation factor, rounded up
    (:func:`trialnb.monitoring.sequential_sample_size`, rpact ``getSampleSizeSurvival``). The
    maximum information of the alpha spending: an interim's information fraction is its
    deaths divided by this number."""
    ss = sequential_sample_size(plan_design(plan), plan.design.hazard_ratio)
    return int(round_up(ss.max_events))


def plan_interim_events(plan: TrialPlan = PLAN) -> tuple[int, ...]:
    """Primary-endpoint deaths at each interim look: ``ceil(rate x plan_max_events)`` (a look
    never comes before its planned fraction of the information)."""
    mx = plan_max_events(plan)
    return tuple(int(round_up(r * mx)) for r in plan.monitoring.information_rates[:-1])



def plan_analysis_times(plan: TrialPlan = PLAN) -> AnalysisTimes:
    """When the plan's deaths arrive: the expected calendar month of each interim look (its
    :func:`plan_interim_events` primary-endpoint deaths) and of the final analysis, under H0
    (hazard ratio 1) and H1 (``plan.design.hazard_ratio``), with the expected number randomized
    by then (rpact's ``analysisTime`` and ``numberOfSubjects``; :func:`trialnb.monitoring.analysis_times`).

    Read from the plan: ``n_patients`` entering uniformly over ``accrual_months``, 1:1; deaths
    counted within ``analysis.censor_months`` of randomization (all deaths when it is ``None``);
    drop-out at ``design.dropout_rate``; the population's factor strata with their prognostic
    hazard ratios (:meth:`~trialnb.plan.DesignAssumptions.strata_model`, the reference hazard
    ``baseline_hazard`` calibrated to the control arm's survival) and the ``non_compliance``
    fraction of arm A at arm B's hazard, each an exponential sub-population (the expected deaths
    add up). The final analysis is the plan's: ``"calendar"`` at the last randomization plus
    ``censor_months`` (the horizon for an all-follow-up analysis), with its expected deaths;
    ``"events"`` at :func:`plan_max_events` deaths.

    The months are those at which the *expected* count reaches each look's deaths (rpact's and
    gsDesign's definition), not the mean of the random month; the simulated trials
    (:func:`trialnb.simulation.simulate_sequential`) agree within their Monte-Carlo error (tested).
    Only for an effect from randomization with uniform accrual: a delayed effect, an early
    period, crossover or ``accrual_shape != 1`` is refused (:class:`~trialnb.errors.ScenarioError`).
    """
    d, an, m = plan.design, plan.analysis, plan.monitoring
    if d.effect_delay_months or (d.early_months and d.early_hazard_ratio != 1.0) or d.crossover or d.accrual_shape != 1:
        raise ScenarioError("plan_analysis_times has a closed form for an effect from randomization with uniform "
                            "accrual only; allowed: effect_delay_months 0, no early period, crossover 0, accrual_shape "
                            f"1 (got {d.describe()})")
    interim = [float(e) for e in plan_interim_events(plan)]
    probs, lp = d.strata_model()
    kw = dict(n_patients=d.n_patients, accrual_time=d.accrual_months, hazard_ratio=d.hazard_ratio,
              control_hazard=d.baseline_hazard, dropout_hazard=d.dropout_rate, window=an.censor_months,
              strata=(probs, np.exp(lp)), non_compliance=d.non_compliance)
    if m.final_analysis == "calendar":
        horizon = an.censor_months if an.censor_months is not None else d.horizon_months
        return analysis_times(interim, final="calendar", final_month=d.accrual_months + horizon, **kw)
    return analysis_times(interim + [float(plan_max_events(plan))], final="events", **kw)
