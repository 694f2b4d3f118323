"""The group-sequential design of a trial plan (:mod:`trialnb.plan`): its boundaries and the
planned numbers of primary-endpoint deaths at its looks.

The plan holds the choices (looks, spending, alpha, sides, power, hazard ratio); these
functions derive the numbers from them, once, for every consumer (simulations, the interim
report, the SAP, notebooks and dashboards).
"""

from __future__ import annotations


from ..plan import PLAN, TrialPlan
from ..sample_size import round_up
from .design import GroupSequentialDesign, design
from .sample_size import sequential_sample_size

__all__ = ["plan_benefit_design", "plan_design", "plan_interim_events", "plan_max_events", "plan_secondary_design"]


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
    ss = sequential_sample_size(plan_design(plan), plan.design.hazard_ratio)
    return int(round_up(ss.max_events))


def plan_interim_events(plan: TrialPlan = PLAN) -> tuple[int, ...]:
    """Primary-endpoint deaths at each interim look: ``ceil(rate x plan_max_events)`` (a look
    never comes before its planned fraction of the information)."""
    mx = plan_max_events(plan)
    return tuple(int(round_up(r * mx)) for r in plan.monitoring.information_rates[:-1])

