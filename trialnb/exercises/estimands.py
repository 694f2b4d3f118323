"""Self-checks for notebook 07 (estimands and the shape of the effect). The right answers are
recomputed: true estimands by :func:`trialnb.simulation.true_estimands`, powers by
:func:`trialnb.simulation.simulate` with several analyses of the same trials."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


from ..plan import PLAN
from ..simulation import SHAPES, simulate, true_estimands
from ._verdict import close, exercise, parse_choice, parse_number, parse_proportion, parse_yes_no

__all__ = ["HOMOGENEOUS", "N_TRIALS", "check_best_analysis_delayed", "check_complier_effect",
           "check_crossing_directions", "check_hypothetical_method", "check_rmst_difference"]

HOMOGENEOUS = PLAN.design.without_prognostic_effects()
"""The protocol's own population: the plan's design without prognostic factor effects."""

N_TRIALS = 2000
"""Simulated trials behind the check of 07.1 (seed 1)."""

_CANDIDATES = ("logrank", "fh01", "rmst", "milestone")
_WHY = {
    "logrank": ("the log-rank test weighs the first months, where the curves do not differ yet, "
                "as much as the later ones"),
    "rmst": "the RMST difference integrates the whole first two years, including the months without any effect",
    "milestone": "the 2-year milestone uses only where the curves are at 24 months, not how they got there, "
                 "and its Greenwood variance is larger than a rank test's",
    "fh01": "FH(0,1) gives weight 1 - S(t-), near 0 early and growing later: it puts weight where the effect is",
}


@lru_cache(maxsize=1)
def _delayed_powers() -> dict[str, float]:
    r = simulate(PLAN, N_TRIALS, seed=1, truth=SHAPES["delayed benefit"], analyses=_CANDIDATES)
    return {a: r.benefit(a) for a in _CANDIDATES}


@exercise(
    "07.1",
    "Delayed benefit (no effect for 6 months, then HR 0.5): which of logrank, fh01, rmst, milestone has the most "
    "power for benefit?",
    ("Think about where in time each statistic puts its weight, and where the effect is.",
     "`simulate(PLAN, 2000, seed=1, truth={'effect_delay_months': 6}, analyses=('logrank', 'fh01',"
     " 'rmst', 'milestone'))` analyses the same trials four ways; the result's benefit for each "
     "name is that analysis' power."),
)
def check_best_analysis_delayed(answer: Any) -> tuple[bool, str]:
    """Exercise 07.1: the analysis with the highest simulated power under a delayed benefit."""
    choice = parse_choice(answer, {k: (k.replace("fh01", "fh(0,1)"), k.upper()) for k in _CANDIDATES},
                          "one of 'logrank', 'fh01', 'rmst', 'milestone'")
    pw = _delayed_powers()
    best = max(pw, key=lambda k: pw[k])
    if choice == best:
        others = ", ".join(f"{k} {v:.0%}" for k, v in pw.items() if k != best)
        return True, f"{best} ({pw[best]:.0%} against {others}): {_WHY[best]}."
    return False, f"{choice} has {pw[choice]:.0%} power here: {_WHY[choice]}."


@exercise(
    "07.2",
    "True RMST difference (A - B, months) at 24 months under the protocol's assumptions (one homogeneous "
    "population, proportional HR 0.5)?",
    ("The RMST difference is the area between the two survival curves up to 24 months.",
     "`true_estimands(HOMOGENEOUS)` returns it (the plan's design without prognostic factor "
     "effects); by hand, integrate e^(−λ·HR·t) − e^(−λ·t) from 0 to 24 months with λ = 0.5/24."),
)
def check_rmst_difference(answer: Any) -> tuple[bool, str]:
    """Exercise 07.2: the true RMST difference at 24 months, right within 0.05 months."""
    x = parse_number(answer, "a number of months")
    te = true_estimands(HOMOGENEOUS)
    if close(x, te["rmst_difference"], 0.05):
        return True, (f"about {te['rmst_difference']:.2f} months: on average an arm-A patient lives that much "
                      "longer within the first two years.")
    if close(x, te["milestone_difference"], 0.01) or close(x, 100 * te["milestone_difference"], 1.0):
        return False, "that is the difference in 2-year survival (a proportion), not the area between the curves."
    return False, f"{x:g} months is not the area between the two survival curves up to 24 months."


@exercise(
    "07.3",
    "Crossing shape: do the true 2-year survival difference and the true RMST difference favour the same arm?",
    ("Look at where the curves cross relative to 24 months, and at the area before the crossing.",
     "`true_estimands(replace(PLAN.design, **SHAPES['crossing']))` gives both; compare their "
     "signs."),
)
def check_crossing_directions(answer: Any) -> tuple[bool, str]:
    """Exercise 07.3: under the crossing shape the milestone favours A and the RMST favours B."""
    same = parse_yes_no(answer)
    te = true_estimands(PLAN.with_changes(**SHAPES["crossing"]).design)
    truth = (te["milestone_difference"] > 0) == (te["rmst_difference"] > 0)
    why = (f"the 2-year difference is {100 * te['milestone_difference']:+.1f} points (A ahead at 24 months) but the "
           f"RMST difference is {te['rmst_difference']:+.2f} months (A behind on average over the two years): "
           "two estimands, two answers.")
    return same == truth, why


@lru_cache(maxsize=1)
def _complier_effect_protocol() -> Any:
    from .. import analysis as an
    from ..data import load_trial
    from ..resources import example_trial

    return an.complier_average_effect(load_trial(example_trial("protocol")))


@exercise(
    "07.4",
    "The complier-average effect of surgery on 2-year survival by instrumental variable (protocol data)?",
    ("An instrumental variable divides the effect of the allocation on survival by the effect of the "
     "allocation on being operated, and some arm-B patients were operated too.",
     "Take the two-year survival difference A - B from `an.milestone(trial)` and the proportion operated "
     "in each arm from `trial.groupby('arm')['operated'].mean()`, then divide the first by the difference "
     "of the second (A minus B)."),
)
def check_complier_effect(answer: Any) -> tuple[bool, str]:
    """Exercise 07.4: the Wald instrumental-variable estimate on ``trial_protocol.csv``
    (:func:`trialnb.analysis.complier_average_effect`), as a proportion (0.31) or in percentage
    points (31 or "31%"); within 0.5 points."""
    x = parse_proportion(answer, "the complier-average effect", signed=True)
    iv = _complier_effect_protocol()
    if close(x, iv.cace, 0.005):
        return True, (f"{iv.itt_difference:+.1%} / ({iv.operated_a:.1%} - {iv.operated_b:.1%}) = {iv.cace:+.1%} "
                      "among the patients who would be operated if allocated to arm A, if the exclusion "
                      "restriction and monotonicity hold.")
    if close(x, iv.itt_difference, 0.005):
        return False, ("that is the ITT difference, the effect of allocating surgery; the complier effect divides it "
                       "by the difference in the proportions operated.")
    if close(x, iv.itt_difference / iv.operated_a, 0.005):
        return False, ("that divides by the proportion operated in arm A only; arm-B patients were operated too, so "
                       "the denominator is the difference between the arms.")
    return False, f"{x:+.1%} is not the instrumental-variable estimate."


_METHODS = {
    "ipcw": ("inverse probability of censoring weighting", "inverse probability weighting", "ipw", "weighted",
             "weights", "weighting", "ipcw analysis"),
    "naive": ("naive censoring", "naive censoring at surgery", "censoring at surgery", "censor at surgery",
              "censoring", "unweighted"),
    "itt": ("intention to treat", "intent to treat", "treatment policy", "as randomized"),
}
_WHY_NOT = {
    "naive": "censoring the operated without weights assumes they are a random subset of arm B; when sicker patients "
             "are operated, the arm-B patients left are the healthier ones and arm B looks better than it would "
             "have been without surgery",
    "itt": "ITT answers another question, the effect of the strategy with the arm-B operations that happened (the "
           "treatment-policy estimand)",
}


@exercise(
    "07.5",
    "When sicker arm-B patients cross over to surgery, which analysis recovers the hypothetical "
    "'no arm-B surgery' difference: ITT, naive censoring or IPCW?",
    ("Ask which of the three analyses keeps in arm B patients who resemble the operated ones.",
     "Read the bias and coverage rows of `hyp.to_frame()`: the estimator that targets the hypothetical "
     "estimand is the one whose bias is within its Monte Carlo error."),
)
def check_hypothetical_method(answer: Any) -> tuple[bool, str]:
    """Exercise 07.5: inverse probability of censoring weighting ("IPCW" and synonyms) is right;
    naive censoring and ITT are explained."""
    given = parse_choice(answer, _METHODS, "one of 'ITT', 'naive censoring', 'IPCW'")
    if given == "ipcw":
        return True, ("IPCW: the unoperated patients who resemble the operated ones (by the factors that predict "
                      "surgery) stand in for them, so arm B is rebuilt as if nobody had been operated; it assumes no "
                      "unmeasured reason for surgery that also predicts death.")
    return False, _WHY_NOT[given] + "."
