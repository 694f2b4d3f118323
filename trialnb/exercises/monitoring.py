"""Self-checks for notebook 05 (interim monitoring), written with the one verdict helper
:mod:`trialnb.exercises._verdict` like every other notebook's checks. The right answers are
recomputed from the trial plan (:data:`trialnb.plan.PLAN`) with :mod:`trialnb.monitoring` (the
plan's Lan-DeMets O'Brien-Fleming design, conditional power, the expected timing of its looks)
and :func:`trialnb.simulation.naive_type_one_error`, never typed in. Every hint's code runs in
notebook 05 as it stands when its exercises come (``tests/test_hints.py``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..simulation import naive_type_one_error
from ._verdict import close, exercise, get_exercise, parse_number, parse_proportion

__all__ = ["HINTS", "check_conditional_power", "check_first_look_bound", "check_maturity", "check_naive_peeking",
           "naive_type_one_error"]
# ``HINTS`` and the re-exported ``naive_type_one_error`` are kept from the module's first version.


@lru_cache(maxsize=None)
def _truths() -> dict[str, float]:
    """The right (and the known wrong) answers: the plan's two-look design (two-sided 0.05,
    symmetric asOF: on the benefit side the one-sided 0.025 design), its conditional power at 33
    of 66 deaths with z = -1.0 under three hazard ratios, and the patients expected to have
    completed 24 months at the interim's expected month."""
    from .. import monitoring
    from ..plan import PLAN

    d = monitoring.plan_design(PLAN)
    cp = {}
    for name, hr in (("design", PLAN.design.hazard_ratio), ("observed", None), ("none", 1.0)):
        res = monitoring.conditional_power(d, [33], [-1.0], n_planned=[33], theta_h1=hr, direction_upper=False)
        cp[name] = float(np.asarray(res.conditional_power)[-1])
    times = monitoring.plan_analysis_times(PLAN)
    h, n, a = PLAN.analysis.censor_months, PLAN.design.n_patients, PLAN.design.accrual_months
    complete = float(monitoring.expected_randomized(times.months_h1[0] - h, n_patients=n, accrual_time=a))
    complete_h0 = float(monitoring.expected_randomized(max(times.months_h0[0] - h, 0.0), n_patients=n, accrual_time=a))
    return {"naive5": naive_type_one_error(5), "ob1": float(d.critical_values[0]),
            "ob1_p": float(d.stage_levels[0]), "ob2": float(d.critical_values[-1]),
            "cp_design": cp["design"], "cp_observed": cp["observed"], "cp_none": cp["none"],
            "interim_month": float(times.months_h1[0]), "randomized": float(times.randomized_h1[0]),
            "complete": complete, "complete_h0": complete_h0, "n": float(n)}


@exercise(
    "05.1",
    "Overall one-sided type-I error of five equally spaced looks, each tested at z >= 1.96?",
    ("Each look has a 2.5% chance of a false alarm, but the looks are correlated: the total lies "
     "between 2.5% and 5 x 2.5%.",
     "Simulate trials under HR = 1 with `Boundaries` of 1.96 at five equally spaced looks "
     "(`simulate_sequential`, as section 1 does for one to four looks), or compute "
     "1 − Pr[all five z < 1.96] with the correlations √(tᵢ/tⱼ) between looks (`naive_type_one_error`)."),
)
def check_naive_peeking(answer: Any) -> tuple[bool, str]:
    """Exercise 05.1: type-I error of five naive looks at z >= 1.96 (one-sided 2.5% each);
    within 0.5 percentage points (proportion or percent)."""
    x = parse_proportion(answer, "the type-I error")
    truth = _truths()["naive5"]
    if close(x, truth, 0.005):
        return True, (f"about {truth:.1%}: five unadjusted looks almost triple the one-sided 2.5% "
                      "type-I error, which is why the boundaries must be adjusted.")
    if close(x, 0.025, 0.002):
        return False, "2.5% is the error of ONE look; each extra look is another chance of a false alarm."
    if close(x, 0.125, 0.005):
        return False, "5 x 2.5% = 12.5% would hold for independent looks; these share their data, so less."
    if close(x, 2 * truth, 0.005):
        return False, (f"{x:.1%} is the two-sided error (both directions); the question counts false "
                       "alarms for benefit only, one-sided.")
    return False, f"{x:.1%} is not the type-I error of five naive looks."


@exercise(
    "05.2",
    "The plan's efficacy boundary (benefit z) at its interim, half of the planned deaths: two-sided "
    "0.05 with symmetric Lan-DeMets O'Brien-Fleming spending?",
    ("O'Brien-Fleming-type spending spends almost nothing early: the first bound is far above "
     "1.96.",
     "Build the plan's design, `monitoring.plan_design(PLAN)`, and read the first of its critical "
     "values (the benefit-z bound at the interim; the harm boundary is its mirror image)."),
)
def check_first_look_bound(answer: Any) -> tuple[bool, str]:
    """Exercise 05.2: the plan's benefit-z bound at half the information (two-sided 0.05,
    symmetric asOF: the one-sided 0.025 bound); within 0.01."""
    x = parse_number(answer, "a z value", allowed="give the bound as a z value, e.g. 2.5")
    t = _truths()
    if close(x, t["ob1"], 0.01):
        return True, (f"z >= {t['ob1']:.3f}, a nominal one-sided p-value of {t['ob1_p']:.4f}: the interim "
                      f"spends little alpha, so the final bound ({t['ob2']:.3f}) stays close to 1.96.")
    if close(x, -t["ob1"], 0.01):
        return False, ("that is the harm boundary, the mirror image; the question asks for the efficacy "
                       "boundary on the benefit-z scale, positive when arm A has fewer deaths than expected.")
    if close(x, t["ob1_p"], 0.0002):
        return False, "that is the nominal p-value at the bound; the question asks for the z value."
    if close(x, 1.96, 0.01) or close(x, t["ob2"], 0.01):
        return False, "1.96/1.97 is (close to) the final bound; the first-look bound is much higher."
    return False, f"{x:g} is not the first-look O'Brien-Fleming bound."


@exercise(
    "05.3",
    "Conditional power at an interim with 33 primary-endpoint deaths and z = -1.0, 33 more deaths "
    "planned, the plan's design, assuming the design's HR 0.5 for the deaths to come?",
    ("Conditional power depends on the hazard ratio you assume for the deaths still to come: the "
     "question names it.",
     "Call `monitoring.conditional_power(monitoring.plan_design(PLAN), [33], [-1.0], n_planned=[33], "
     "theta_h1=0.5, direction_upper=False)` and read the conditional power at the last look."),
)
def check_conditional_power(answer: Any) -> tuple[bool, str]:
    """Exercise 05.3: conditional power at 33 deaths, z = -1.0, 33 more deaths, assuming the
    design HR 0.5; within 1 percentage point (proportion or percent)."""
    x = parse_proportion(answer, "the conditional power")
    t = _truths()
    if close(x, t["cp_design"], 0.01):
        return True, (f"{t['cp_design']:.1%} under the design's HR 0.5; under the observed HR it is "
                      f"{t['cp_observed']:.1%} and under no effect {t['cp_none']:.1%}: always name the HR.")
    if close(x, t["cp_observed"], 0.01):
        return False, "that is the conditional power under the OBSERVED hazard ratio; the question assumes HR 0.5."
    if close(x, t["cp_none"], 0.01):
        return False, "that is the conditional power under NO effect (HR 1); the question assumes HR 0.5."
    if close(x, 0.80, 0.005):
        return False, ("80% is the design's power before any data; conditional power also uses the "
                       "33 deaths already observed.")
    return False, f"{x:.1%} is not the conditional power under HR 0.5."


@exercise(
    "05.4",
    "The plan's interim comes at its 33rd primary-endpoint death. Under the design's assumptions "
    "(HR 0.5), how many patients are expected to have completed their 24 months of follow-up by "
    "the interim's expected month?",
    ("A patient has completed 24 months at calendar month t only if randomized by month t − 24; "
     "accrual is uniform, 236 patients over 36 months.",
     "Read the interim's expected month under HR 0.5, `monitoring.plan_analysis_times(PLAN).months_h1[0]`, "
     "subtract 24 months, and count the patients expected to be randomized by then with "
     "`monitoring.expected_randomized` (236 patients over 36 months)."),
)
def check_maturity(answer: Any) -> tuple[bool, str]:
    """Exercise 05.4: patients expected to have completed 24 months at the interim's expected
    month under H1; within one patient."""
    x = parse_number(answer, "a number of patients", allowed="give a number of patients, e.g. 50")
    t = _truths()
    if close(x, t["complete"], 1.0):
        return True, (f"about {t['complete']:.0f} of the {t['randomized']:.0f} randomized by month "
                      f"{t['interim_month']:.1f}: at the interim only {t['complete'] / t['randomized']:.0%} of them "
                      "have been followed for the full two years, so the interim hazard ratio rests on the early "
                      "part of the survival curves.")
    if close(x, t["randomized"], 1.0):
        return False, ("that is the number randomized by the interim; most of them have been followed for "
                       "less than 24 months.")
    if close(x, 33, 0.5):
        return False, "33 is the number of primary-endpoint deaths at the interim, not of patients followed 24 months."
    if close(x, t["complete"] / t["randomized"], 0.02) or close(x, 100 * t["complete"] / t["randomized"], 2):
        return False, "that is the share of the randomized patients; the question asks for the number of patients."
    if close(x, t["complete_h0"], 0.5):
        return False, ("that is the count at the interim's expected month under no effect (HR 1); "
                       "the question assumes HR 0.5.")
    if close(x, t["n"], 0.5):
        return False, "236 is every patient planned; by the interim most have not even been followed 24 months."
    return False, f"{x:g} is not the expected number of patients with 24 months of follow-up at the interim."


HINTS: dict[str, tuple[str, ...]] = {
    key: get_exercise(key).hints for key in ("05.1", "05.2", "05.3", "05.4")
}
"""The staged hints by key (kept for compatibility; :func:`trialnb.exercises.hint` is the way in)."""
