"""Self-checks for notebook 02 (the sample size). The right answers are recomputed with
:mod:`trialnb.sample_size` and follow the notebook's rounding rule: a sample size is rounded
**up**, and with two equal arms up again to an even total."""

from __future__ import annotations

import math
from typing import Any

from .. import sample_size as ss
from ..protocol import PROTOCOL
from ._verdict import close, exercise, parse_number, parse_proportion
from ..errors import AnswerError

__all__ = ["check_accrual_n", "check_events_for_target", "check_loss_inflation", "check_power_at_hr"]


def _positive(answer: Any, what: str) -> float:
    x = parse_number(answer, what, allowed=f"give {what}, e.g. 142")
    if x <= 0:
        raise AnswerError(f"{answer!r} is not positive; give {what}, e.g. 142.")
    return x


@exercise(
    "02.1",
    "Deaths (Schoenfeld, rounded up) for 2-year survival 60% -> 70%, two-sided 0.05, 80% power?",
    ("The events formula needs a hazard ratio, not two survival proportions.",
     "Under exponential survival S = e^(−hazard·t), so the hazard ratio is the ratio of the "
     "logarithms of the two survivals (`ss.hazard_ratio_from_survival`); put it into "
     "`ss.schoenfeld_events` and round up."),
)
def check_events_for_target(answer: Any) -> tuple[bool, str]:
    """Exercise 02.1: Schoenfeld events, rounded up, for 2-year survival 0.60 vs 0.70."""
    x = _positive(answer, "a number of deaths")
    hr = ss.hazard_ratio_from_survival(0.60, 0.70)
    exact = ss.schoenfeld_events(hr)
    truth = math.ceil(exact)
    if x == truth:
        return True, f"HR = ln(0.70)/ln(0.60) = {hr:.3f}; {exact:.1f} events, rounded up to {truth}."
    if x != round(x):
        return False, f"{x:g} is not a whole number of deaths: round up."
    if x == math.floor(exact):
        return False, f"{x:g} rounds down; events are rounded up, so that the power is at least 80%."
    if x == math.ceil(ss.freedman_events(hr)):
        return False, f"{x:g} comes from Freedman's formula; the protocol (and the question) use Schoenfeld's."
    if x == 66:
        return False, "66 is the protocol's number for HR 0.5; a 60% -> 70% target is a smaller effect."
    return False, f"{x:g} is not the number of deaths for that target."


@exercise(
    "02.2",
    "Patients (before loss, rounded up) with 36 months of accrual and 24 months of follow-up "
    "after the last entry?",
    ("With follow-up to the end of the study, an early patient is followed longer than two years, "
     "so the probability of death changes, not the number of deaths.",
     "Compute the probability of death with `ss.event_probability` (36 months of accrual, 24 "
     "months of follow-up, the protocol's monthly control hazard, no loss), divide the deaths by "
     "it and round as notebook 02 does; `ss.sample_size` does the same in one call."),
)
def check_accrual_n(answer: Any) -> tuple[bool, str]:
    """Exercise 02.2: N with 36 months of accrual and 24 of follow-up. Every rounding the
    notebook teaches is right: the unrounded N rounded up, N from the rounded-up events
    rounded up, and that N made even for two equal arms."""
    x = _positive(answer, "a number of patients")
    res = ss.sample_size(accrual_time=PROTOCOL.design.accrual_months, loss_to_follow_up=0.0)
    p = res.event_probability
    n_exact = res.n_total
    events_up = math.ceil(ss.schoenfeld_events(PROTOCOL.design.hazard_ratio))
    n_from_66 = events_up / p
    equal_arms = 2 * math.ceil(n_from_66 / 2)
    right = {
        math.ceil(n_exact): f"{n_exact:.1f} patients rounded up (the unrounded events / Pr(event) = {p:.3f}).",
        math.ceil(n_from_66): f"{events_up} deaths / Pr(event) {p:.3f} = {n_from_66:.1f}, rounded up.",
        equal_arms: (f"{events_up} / {p:.3f} = {n_from_66:.1f}, rounded up and then to an even total for "
                     f"two equal arms of {equal_arms // 2}, the notebook's rounding rule."),
    }
    if x in right:
        others = ", ".join(str(k) for k in sorted(right) if k != x)
        return True, f"{right[int(x)]} ({others} are right too, with the other roundings notebook 02 shows.)"
    if x != round(x):
        return False, f"{x:g} is not a whole number of patients: round up."
    if x < min(right) and x >= math.floor(n_exact):
        return False, f"{x:g} rounds down; a sample size is rounded up."
    two_year = ss.sample_size(loss_to_follow_up=0.0).n_total
    if abs(x - two_year) <= 5:
        return False, (f"{x:g} is the design with exactly two years of follow-up ({two_year:.1f}); with "
                       "follow-up to the end of the study more patients die, so fewer are needed.")
    return False, f"{x:g} is not the number of patients for that design."


@exercise(
    "02.3",
    "Power of 66 deaths if the true HR is 0.66 (MF07-01), two-sided 0.05?",
    ("The number of deaths is fixed here; what changes is the effect it must detect.",
     "Invert Schoenfeld's formula: power = Φ(√(D/4)·|ln HR| − z₁₋α/₂), which `ss.power` computes "
     "for D deaths and a hazard ratio."),
)
def check_power_at_hr(answer: Any) -> tuple[bool, str]:
    """Exercise 02.3: power of 66 events at HR 0.66 (proportion or percent; within 0.5 points)."""
    x = parse_proportion(answer, "the power")
    truth = ss.power(66, 0.66)
    if close(x, truth, 0.005):
        return True, f"power = {truth:.1%}: 66 deaths are far too few for an effect of HR 0.66."
    if close(x, 0.80, 0.005):
        return False, "80% is the power at the design's HR 0.5; HR 0.66 is a smaller effect."
    if close(x, 1 - truth, 0.005):
        return False, f"{x:.1%} is the chance of missing the effect (beta), not the power."
    return False, f"{x:.1%} is not the power of 66 deaths at HR 0.66."


@exercise(
    "02.4",
    "107 patients per arm are needed and 10% will be lost: how many per arm to enrol?",
    ("After losing 10% of those enrolled, 107 must remain.",
     "Solve n x (1 - 0.10) >= 107 for n and round up to whole patients."),
)
def check_loss_inflation(answer: Any) -> tuple[bool, str]:
    """Exercise 02.4: per-arm enrolment after 10% loss when 107 per arm are needed."""
    x = _positive(answer, "a number of patients per arm")
    truth = math.ceil(107 / 0.9)
    if x == truth:
        return True, f"107 / 0.9 = {107 / 0.9:.1f}, rounded up to {truth}: {truth} x 0.9 = {truth * 0.9:.1f} remain."
    if x == math.ceil(107 * 1.1):
        return False, (f"{x:g} = 107 x 1.1 rounded up, but {x:g} x 0.9 = {x * 0.9:.1f} leaves fewer than 107: "
                       "multiplying by 1 + loss is not enough.")
    if x != round(x):
        return False, f"{x:g} is not a whole number of patients: round up."
    if x == 2 * truth or x == 214 or x == 2 * math.ceil(107 * 1.1):
        return False, f"{x:g} counts both arms; the question asks per arm."
    if x < 107:
        return False, f"{x:g} is fewer than the 107 needed even before any loss."
    return False, f"{x:g} is not the per-arm number that leaves 107 after 10% loss."
