"""Self-checks for notebook 05 (interim monitoring), written with the one verdict helper
:mod:`trialnb.exercises._verdict` like every other notebook's checks. The right answers are
recomputed with :mod:`trialnb.monitoring` (Lan-DeMets O'Brien-Fleming design and conditional
power) and :func:`trialnb.simulation.naive_type_one_error`, never typed in."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from ..simulation import naive_type_one_error
from ._verdict import close, exercise, get_exercise, parse_number, parse_proportion

__all__ = ["HINTS", "check_conditional_power", "check_first_look_bound", "check_naive_peeking",
           "naive_type_one_error"]
# ``HINTS`` and the re-exported ``naive_type_one_error`` are kept from the module's first version.


@lru_cache(maxsize=None)
def _truths() -> dict[str, float]:
    """The right (and the known wrong) answers: the two-look asOF design at one-sided 0.025 and
    its conditional power at 33 of 66 deaths with log-rank z = -1.0 under three hazard ratios."""
    from .. import monitoring

    d = monitoring.design(2, information_rates=[0.5, 1], type_of_design="asOF")
    cp = {}
    for name, hr in (("design", 0.5), ("observed", None), ("none", 1.0)):
        res = monitoring.conditional_power(d, [33], [-1.0], n_planned=[33], theta_h1=hr, direction_upper=False)
        cp[name] = float(np.asarray(res.conditional_power)[-1])
    return {"naive5": naive_type_one_error(5), "ob1": float(d.critical_values[0]),
            "ob1_p": float(d.stage_levels[0]), "ob2": float(d.critical_values[-1]),
            "cp_design": cp["design"], "cp_observed": cp["observed"], "cp_none": cp["none"]}


@exercise(
    "05.1",
    "Overall one-sided type-I error of five equally spaced looks, each tested at z >= 1.96?",
    ("Each look has a 2.5% chance of a false alarm, but the looks are correlated: the total lies "
     "between 2.5% and 5 x 2.5%.",
     "Simulate trials under HR = 1 with `Boundaries` of 1.96 at five equally spaced looks "
     "(`simulate_sequential`), or compute 1 − Pr[all five z < 1.96] with the correlations √(tᵢ/tⱼ)"
     " between looks (`naive_type_one_error`)."),
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
    "Benefit-z efficacy bound at the first of two looks (half the information), Lan-DeMets "
    "O'Brien-Fleming spending, one-sided alpha 0.025?",
    ("O'Brien-Fleming-type spending spends almost nothing early: the first bound is far above "
     "1.96.",
     "Build the design, `monitoring.design(2, information_rates=[0.5, 1], type_of_design='asOF')`,"
     " and read the first of its critical values (the benefit-z bound at the first look)."),
)
def check_first_look_bound(answer: Any) -> tuple[bool, str]:
    """Exercise 05.2: the asOF benefit-z bound at half the information, one-sided 0.025;
    within 0.01."""
    x = parse_number(answer, "a z value", allowed="give the bound as a z value, e.g. 2.5")
    t = _truths()
    if close(x, t["ob1"], 0.01):
        return True, (f"z >= {t['ob1']:.3f}, a nominal one-sided p-value of {t['ob1_p']:.4f}: the interim "
                      f"spends little alpha, so the final bound ({t['ob2']:.3f}) stays close to 1.96.")
    if close(x, -t["ob1"], 0.01):
        return False, ("the sign: the bound is on the benefit-z scale, positive when arm A has fewer "
                       "deaths than expected.")
    if close(x, t["ob1_p"], 0.0002):
        return False, "that is the nominal p-value at the bound; the question asks for the z value."
    if close(x, 1.96, 0.01) or close(x, t["ob2"], 0.01):
        return False, "1.96/1.97 is (close to) the final bound; the first-look bound is much higher."
    return False, f"{x:g} is not the first-look O'Brien-Fleming bound."


@exercise(
    "05.3",
    "Conditional power at 33 deaths with log-rank z = -1.0, 33 more deaths planned, two-look "
    "O'Brien-Fleming design, assuming the design's HR 0.5?",
    ("Conditional power depends on the hazard ratio you assume for the deaths still to come: the "
     "question names it.",
     "Call `monitoring.conditional_power(monitoring.design(2, information_rates=[0.5, 1], "
     "type_of_design='asOF'), [33], [-1.0], n_planned=[33], theta_h1=0.5, direction_upper=False)` "
     "and read the conditional power at the last look."),
)
def check_conditional_power(answer: Any) -> tuple[bool, str]:
    """Exercise 05.3: conditional power at 33 deaths, log-rank z = -1.0, 33 more deaths,
    assuming the design HR 0.5; within 1 percentage point (proportion or percent)."""
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


HINTS: dict[str, tuple[str, ...]] = {
    key: get_exercise(key).hints for key in ("05.1", "05.2", "05.3")
}
"""The staged hints by key (kept for compatibility; :func:`trialnb.exercises.hint` is the way in)."""
