"""Self-checks for notebook 06 (operating characteristics by simulation). The right answers are
recomputed with :mod:`trialnb.simulation` (the plan's final analysis simulated) and
:mod:`trialnb.sample_size` (the Schoenfeld power at the expected number of deaths)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .. import sample_size as ss
from ..plan import PLAN
from ..simulation import simulate
from ._verdict import close, exercise, parse_count, parse_proportion, parse_yes_no
from ..errors import AnswerError

__all__ = ["N_TRIALS", "check_logrank_loses_power", "check_n_for_mf07", "check_power_answer"]

N_TRIALS = 4000
"""Simulated trials behind the checks of 06.1 and 06.3 (seed 1); a Monte-Carlo standard error
of at most 0.8 percentage points on a power."""


@lru_cache(maxsize=1)
def _power_non_compliance() -> float:
    return float(simulate(PLAN, N_TRIALS, seed=1, truth={"non_compliance": 0.25}).power)


@exercise(
    "06.1",
    "Simulated power of the planned Cox analysis when a quarter of arm A is not operated?",
    ("Change one assumption of the plan's design and keep the others.",
     "`simulate(PLAN, 4000, seed=1, truth={'non_compliance': 0.25})` simulates the plan's final "
     "analysis with a quarter of arm A never operated; read the result's power (a proportion)."),
)
def check_power_answer(answer: Any) -> tuple[bool, str]:
    """Exercise 06.1: simulated power with 25% of arm A not operated; right within 5 points
    (a simulated answer differs from the check's own simulation by Monte-Carlo error)."""
    x = parse_proportion(answer, "the power")
    truth = _power_non_compliance()
    if close(x, truth, 0.05):
        return True, (f"about {truth:.0%} ({N_TRIALS:,} simulated trials give {truth:.1%}): non-compliance "
                      "dilutes the intention-to-treat hazard ratio towards 1.")
    if close(x, 0.80, 0.02):
        return False, "about 80% is the power with everyone in arm A operated; non-compliance changes it."
    return False, f"{x:.1%} is not close to the simulated power with 25% non-compliance."


def _analytic_power(n: int) -> tuple[float, float]:
    a, b = ss.expected_events(PLAN.with_changes(hazard_ratio=0.66, n_patients=n).design)
    return a + b, ss.power(a + b, 0.66)


@lru_cache(maxsize=1)
def _n_for_80() -> int:
    n = 4
    while _analytic_power(n)[1] < 0.80:
        n += 2
    return n


@exercise(
    "06.2",
    "Patients (both arms) for 80% power at HR 0.66 with full compliance?",
    ("Keep every other assumption of the plan and change only the hazard ratio and the number of "
     "patients.",
     "Try a few numbers of patients, `simulate(PLAN.with_changes(hazard_ratio=0.66, "
     "n_patients=400), 2000, seed=1)`, until the power is about 80%; `from trialnb.sample_size "
     "import sample_size; sample_size(hazard_ratio=0.66)` gives the formula's answer to compare "
     "with."),
)
def check_n_for_mf07(answer: Any) -> tuple[bool, str]:
    """Exercise 06.2: total patients for 80% power at HR 0.66, everyone in arm A operated.
    Right when the Schoenfeld power at the scenario's expected deaths (closed form,
    :func:`trialnb.sample_size.expected_events`) is between 77.5% and 83.5%: this band holds the simulated
    answer (about 560) and sample_size's 540 before and 600 after loss."""
    n = parse_count(answer, "a whole number of patients")
    if n < 4:
        raise AnswerError(f"{answer!r} is too few patients to simulate (at least 4); give the total of both "
                          "arms, e.g. 400.")
    deaths, pw = _analytic_power(n)
    target = _n_for_80()
    if 0.775 <= pw <= 0.835:
        formula = ss.sample_size(hazard_ratio=0.66)
        return True, (f"{n} patients expect about {deaths:.0f} deaths, power about {pw:.0%}. The closed form "
                      f"reaches 80% at about {target}; sample_size gives {formula.n_total_rounded} before and "
                      f"{formula.n_total_after_loss} after dividing by 0.9 for loss, which is conservative: a "
                      "patient lost to follow-up has still contributed follow-up (notebook 02).")
    if 0.775 <= _analytic_power(2 * n)[1] <= 0.835:
        return False, f"{n} is one arm; the question asks for both arms together."
    if pw < 0.775:
        return False, f"{n} patients expect about {deaths:.0f} deaths, power only about {pw:.0%}."
    return False, f"{n} patients expect about {deaths:.0f} deaths, power about {pw:.0%}: more than needed."


@lru_cache(maxsize=1)
def _prognosis_powers() -> tuple[float, float]:
    r = simulate(PLAN, N_TRIALS, seed=1, analyses=("cox_wald", "logrank"))
    return float(r.benefit("cox_wald")), float(r.benefit("logrank"))


@exercise(
    "06.3",
    "With the plan's prognostic factors, does the log-rank test lose power against "
    "the adjusted Cox model? (yes/no)",
    ("Analyse the same simulated trials twice, once with each statistic, and compare the powers.",
     "`simulate(PLAN, 2000, seed=1, analyses=('cox_wald', 'logrank'))` analyses the same trials "
     "with both statistics; compare the result's benefit for 'cox_wald' and for 'logrank', then "
     "ask what the adjusted model knows about each patient that the log-rank test ignores."),
)
def check_logrank_loses_power(answer: Any) -> tuple[bool, str]:
    """Exercise 06.3: does the unadjusted log-rank test lose power against the Cox model adjusted
    for the minimization factors when the factors are prognostic? Answer yes/no (or True/False)."""
    given = parse_yes_no(answer, yes=("it loses", "loses power", "logrank loses"),
                         no=("it does not", "no loss", "same"))
    cox, logrank = _prognosis_powers()
    truth = logrank < cox
    why = (f"with the same {N_TRIALS:,} simulated trials the adjusted Cox model has {cox:.1%} power and the "
           f"log-rank test {logrank:.1%}. The factors explain part of the variation in survival; the "
           "unadjusted test leaves it in the noise, and its hazard ratio is pulled towards 1 "
           "(non-collapsibility).")
    if given == truth:
        return True, ("yes, a little: " if truth else "no: ") + why
    if truth:
        return False, ("the log-rank test ignores the factors, which explain part of the differences in "
                       "survival between patients; compare the two analyses on the same simulated trials.")
    return False, (f"with the same {N_TRIALS:,} simulated trials the log-rank test has {logrank:.1%} power and "
                   f"the adjusted Cox model {cox:.1%}.")
