"""Self-checks for notebook 04 (the analysis plan on the synthetic data in ``data/``). The right
answers are recomputed from the shipped data with :mod:`trialnb.analysis`."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import pandas as pd

from .. import analysis as an
from ..data import load_trial
from ..resources import example_trial
from ._verdict import close, exercise, parse_choice, parse_count, parse_number, parse_proportion, parse_yes_no
from ..errors import AnswerError

__all__ = ["check_deaths_by_24", "check_inverse_hr", "check_null_hr", "check_pooled_strata",
           "check_primary_population", "check_progression_incidence", "check_qol_strategy",
           "check_standardized_difference", "check_survival_difference", "check_tipping_point"]



@lru_cache(maxsize=4)
def _trial(name: str) -> pd.DataFrame:
    return load_trial(example_trial(name))


def _points(x: float) -> str:
    """A difference of two proportions in percentage points (not percent)."""
    return f"{100 * x:+.1f} percentage points"


def _hr(answer: Any) -> float:
    x = parse_number(answer, "a hazard ratio", allowed="give a hazard ratio, a positive number such as 0.75")
    if x <= 0:
        raise AnswerError(f"{answer!r} is not positive; give a hazard ratio, a positive number such as 0.75.")
    return x


@exercise(
    "04.1",
    "How many patients in arm B died within the first 24 months (protocol data)?",
    ("Three conditions on three columns of the trial table select these patients.",
     "Keep the rows with arm 'B', death 1 and 'os_months' at most 24, and count them."),
)
def check_deaths_by_24(answer: Any) -> tuple[bool, str]:
    """Exercise 04.1: deaths in arm B with ``os_months <= 24`` in ``trial_protocol.csv``."""
    n = parse_count(answer, "a whole number of deaths")
    df = _trial("protocol")
    in_b = (df["arm"] == "B") & (df["death"] == 1)
    truth = int((in_b & (df["os_months"] <= 24)).sum())
    if n == truth:
        return True, f"{truth} deaths in arm B by 24 months."
    if n == int(in_b.sum()) and n != truth:
        return False, f"{n} counts every death in arm B, also those after 24 months."
    if n == int(((df["arm"] == "A") & (df["death"] == 1) & (df["os_months"] <= 24)).sum()):
        return False, f"{n} is the count in arm A."
    return False, f"{n} is not the number of arm B deaths by 24 months."


@exercise(
    "04.2",
    "The hazard ratio of arm B vs arm A from the primary model (protocol data)?",
    ("The primary model reports arm A against arm B; the question turns the comparison around.",
     "Swapping the reference arm changes the sign of the log hazard ratio: take the exponential of"
     " minus the arm coefficient, or refit with arm A as the reference."),
)
def check_inverse_hr(answer: Any) -> tuple[bool, str]:
    """Exercise 04.2: HR of B vs A = 1 / HR(A vs B) of :func:`analysis.primary`; within 0.01."""
    x = _hr(answer)
    hr_ab = an.primary(_trial("protocol")).hazard_ratio
    truth = 1.0 / hr_ab
    if close(x, truth, 0.01):
        return True, f"HR(B vs A) = 1 / HR(A vs B) = 1 / {hr_ab:.2f} = {truth:.2f}."
    if close(x, hr_ab, 0.01):
        return False, "that is arm A vs arm B, the model's own comparison; the question asks B vs A."
    if close(x, -hr_ab, 0.01) or close(x, 1 - hr_ab, 0.01):
        return False, "a ratio is turned around by taking its inverse, not its negative or its complement."
    return False, f"{x:g} is not the hazard ratio of B vs A."


_POPULATIONS = {
    "itt": ("intention to treat", "intent to treat", "intention to treat population",
            "intent to treat population", "itt population", "all randomized patients", "all randomized",
            "all randomized participants", "every randomized patient", "randomized patients",
            "randomized population", "all patients randomized", "as randomized", "full analysis set",
            "fas", "complete intent to treat population", "complete intention to treat population"),
    "per protocol": ("pp", "per protocol population", "perprotocol", "protocol compliant patients"),
    "as treated": ("as treated population", "treated patients", "operated patients", "treatment received"),
}


@exercise(
    "04.3",
    "Which analysis population is primary for the protocol's Cox model?",
    ("Look for the sentence in the protocol's data analysis section that says for which "
     "population the data will be presented.",
     "Ask which population keeps the comparison that randomization created: every patient "
     "counted in the arm allocated, whatever treatment was actually received."),
)
def check_primary_population(answer: Any) -> tuple[bool, str]:
    """Exercise 04.3: the primary analysis population. Intention to treat and its synonyms
    ("ITT", "intent-to-treat", "all randomized patients", "full analysis set", ...) are right."""
    given = parse_choice(answer, _POPULATIONS, "an analysis population")
    if given == "itt":
        return True, ("intention to treat (\"the complete intent-to-treat population\"): every randomized "
                      "patient in the allocated arm, which is what randomization protects.")
    return False, (f"{given} selects patients after randomization (arm A patients who progressed are not "
                   "operated), so the arms are no longer comparable; the protocol names another population.")


@exercise(
    "04.4",
    "The primary Cox hazard ratio (A vs B) on trial_null.csv?",
    ("The same model as the primary analysis, on another file of data/.",
     "Load the null-scenario file with `load_trial` and pass it to the primary analysis function "
     "of notebook 04; read the hazard ratio."),
)
def check_null_hr(answer: Any) -> tuple[bool, str]:
    """Exercise 04.4: HR (A vs B) of :func:`analysis.primary` on ``trial_null.csv``; within 0.01."""
    x = _hr(answer)
    res = an.primary(_trial("null"))
    if close(x, res.hazard_ratio, 0.01):
        covers = "covers" if res.ci_lower <= 1 <= res.ci_upper else "misses"
        return True, (f"HR {res.hazard_ratio:.2f} (95% CI {res.ci_lower:.2f} to {res.ci_upper:.2f}); the true "
                      f"HR of this scenario is 1 and the interval {covers} it.")
    if close(x, 1.0, 0.005):
        return False, "1 is the true hazard ratio of the null scenario; the estimate from the data differs by chance."
    if close(x, 1 / res.hazard_ratio, 0.01):
        return False, "that is arm B vs arm A; the primary model reports A vs B."
    return False, f"{x:g} is not the primary model's hazard ratio on the null data."


@exercise(
    "04.5",
    "The 2-year survival difference A - B (a proportion) in trial_realistic.csv?",
    ("Estimate each arm's survival at 24 months from its Kaplan-Meier curve, then subtract.",
     "`an.milestone(df, 24)` estimates both arms at 24 months and their difference; do the same on"
     " the realistic-scenario trial and take arm A minus arm B (the sign matters)."),
)
def check_survival_difference(answer: Any) -> tuple[bool, str]:
    """Exercise 04.5: 2-year Kaplan-Meier survival A minus B on the realistic data, as a
    proportion (-0.05) or percentage points (-5 or "-5%"); within 0.5 points."""
    x = parse_proportion(answer, "the survival difference", signed=True)
    sa = an.milestone(_trial("realistic"), 24.0)
    truth = float(sa.difference)
    if close(x, truth, 0.005):
        covers = "includes" if sa.diff_lower <= 0 <= sa.diff_upper else "excludes"
        return True, (f"{_points(truth)} (A minus B), with a 95% CI from {100 * sa.diff_lower:+.1f} to "
                      f"{100 * sa.diff_upper:+.1f}, which {covers} no difference.")
    if abs(truth) > 0.005 and close(x, -truth, 0.005):
        return False, "the sign is reversed; take arm A minus arm B."
    surv = sa.table["survival"]
    if any(close(x, float(s), 0.005) for s in surv):
        return False, f"{x:.1%} is one arm's 2-year survival; the question asks for the difference."
    return False, f"{_points(x)} is not the difference of the two arms' 2-year survival."




def _km_complement(arm: str, months: float) -> float:
    """One minus the Kaplan-Meier of locoregional progression with deaths censored (the wrong
    estimate of the incidence when death competes)."""
    from ..survival import kaplan_meier

    c = an.competing_data(_trial("protocol"), "locoregional_progression")
    g = c[c["arm"] == arm]
    km = kaplan_meier(g["time"].to_numpy(float), (g["status"] == 1).to_numpy().astype(int))
    return 1.0 - float(km.survival_at_times([months])[0])


@exercise(
    "04.6",
    "The 36-month cumulative incidence of locoregional progression in arm B (protocol data), death competing?",
    ("Death before progression is a competing event: use the Aalen-Johansen estimate, not one minus a "
     "Kaplan-Meier curve.",
     "`an.competing_risks(df, 'locoregional_progression').table` lists the cumulative incidence of both "
     "arms, death competing, by arm and month."),
)
def check_progression_incidence(answer: Any) -> tuple[bool, str]:
    """Exercise 04.6: the Aalen-Johansen cumulative incidence of locoregional progression at 36
    months in arm B (:func:`analysis.competing_risks`), as a proportion or percent; within 0.5
    points."""
    x = parse_proportion(answer, "the cumulative incidence")
    res = an.competing_risks(_trial("protocol"), "locoregional_progression")
    truth = res.incidence("B", 36.0)
    if close(x, truth, 0.005):
        return True, (f"{truth:.1%} of arm B had a locoregional progression diagnosed by 36 months; "
                      f"{res.incidence('A', 36.0):.1%} in arm A.")
    if close(x, _km_complement("B", 36.0), 0.005):
        return False, ("that is one minus the Kaplan-Meier curve with deaths censored: it estimates the incidence "
                       "in a world where nobody dies, which is larger than what happened.")
    if close(x, res.incidence("A", 36.0), 0.005):
        return False, "that is arm A's incidence; the question asks for arm B."
    if close(x, res.incidence("B", 24.0), 0.005):
        return False, "that is the incidence at 24 months; the question asks for 36."
    return False, f"{x:.1%} is not arm B's cumulative incidence of locoregional progression at 36 months."


_STRATEGIES = {
    "while alive": ("while-alive", "while alive strategy", "alive", "while living", "while on life"),
    "composite": ("composite strategy", "composite endpoint", "death as worst score", "worst score"),
    "treatment policy": ("treatment-policy", "treatment policy strategy", "itt", "intention to treat"),
    "hypothetical": ("hypothetical strategy", "had they not died", "as if alive"),
    "competing risk": ("competing risks", "competing", "competing event", "cumulative incidence"),
    "principal stratum": ("principal stratification", "survivors", "always survivors", "survivor average causal effect",
                          "sace"),
}
_NOT_WHILE_ALIVE = {
    "composite": "a composite would make death part of the outcome (a death scored as the worst quality of life); "
                 "the SAP keeps that for locoregional progression-free survival",
    "treatment policy": "treatment policy would need the scores after death, which do not exist",
    "hypothetical": "a hypothetical strategy imagines the scores had the patients not died, a world that cannot be "
                    "observed; the SAP does not plan it",
    "competing risk": "competing risks concern the time to an event (the first unplanned local therapy); quality of "
                      "life is a score measured at visits",
    "principal stratum": "the patients who would survive in either arm are a principal stratum that needs strong "
                         "assumptions to estimate; the SAP names another strategy",
}


@exercise(
    "04.7",
    "Which ICH E9(R1) strategy does the SAP draft name for quality of life, whose scores stop at death?",
    ("Ask what a mean score at a visit is computed over: which patients can still fill in the questionnaire.",
     "The SAP's section on secondary outcome measures names one strategy per endpoint; the one for "
     "quality of life describes the scores of patients during their lifetime."),
)
def check_qol_strategy(answer: Any) -> tuple[bool, str]:
    """Exercise 04.7: the strategy for death in the quality-of-life analysis (the SAP's secondary
    outcome measures): "while alive" and its synonyms are right."""
    given = parse_choice(answer, _STRATEGIES, "an ICH E9(R1) strategy")
    if given == "while alive":
        return True, ("while alive: quality of life is truncated by death, so a mean score at a visit describes "
                      "the survivors then, and a difference between the arms can come from who survives.")
    return False, _NOT_WHILE_ALIVE[given] + "."


@exercise(
    "04.8",
    "The standardized (covariate-adjusted) difference in 2-year survival A - B on trial_protocol.csv?",
    ("The estimand's summary is the same difference as the Kaplan-Meier one; what changes is how it is "
     "estimated: from the plan's Cox model, averaged over the trial's own patients.",
     "Call `an.standardized_milestone(df)` on the protocol-scenario trial and read its difference (arm A "
     "minus arm B); compare it with `an.milestone(df).difference`."),
)
def check_standardized_difference(answer: Any) -> tuple[bool, str]:
    """Exercise 04.8: S_A(24) - S_B(24) standardized over the factors (``standardized_milestone``)
    on the protocol data, as a proportion or percentage points; within 0.5 points."""
    x = parse_proportion(answer, "the survival difference", signed=True)
    res = an.standardized_milestone(_trial("protocol"))
    km = an.milestone(_trial("protocol"))
    truth = float(res.difference)
    if close(x, truth, 0.005):
        gain = 1 - (res.diff_se / km.diff_se) ** 2
        return True, (f"{_points(truth)} (95% CI {100 * res.diff_lower:+.1f} to {100 * res.diff_upper:+.1f}); "
                      f"its SE is {100 * gain:.0f}% smaller in variance than the Kaplan-Meier difference's.")
    if abs(truth) > 0.005 and close(x, -truth, 0.005):
        return False, "the sign is reversed; take arm A minus arm B."
    if close(x, float(km.difference), 0.005):
        return False, ("that is the unadjusted Kaplan-Meier difference; the question asks for the one standardized "
                       "over the minimization factors.")
    if any(close(x, s, 0.005) for s in (res.survival_a, res.survival_b)):
        return False, "that is one arm's standardized survival; the question asks for the difference."
    return False, f"{_points(x)} is not the standardized difference in 2-year survival."


@exercise(
    "04.9",
    "How many strata does the stratified log-rank test use on trial_protocol.csv after the sparse-strata rule?",
    ("The rule merges the factor levels closest in prognosis until every stratum holds enough patients; "
     "count the strata it leaves.",
     "`an.pool_strata(df)` applies the rule with the plan's threshold of patients per stratum to the "
     "protocol-scenario trial; read the merges it made and count the rows of its table."),
)
def check_pooled_strata(answer: Any) -> tuple[bool, str]:
    """Exercise 04.9: the number of strata left by :func:`trialnb.analysis.pool_strata` (default
    threshold) on the protocol data."""
    n = parse_count(answer, "a whole number of strata")
    df = _trial("protocol")
    res = an.pool_strata(df)
    if n == res.n_strata:
        return True, f"{res.n_strata} strata: {'; '.join(res.steps)}."
    full = len(df.groupby(["dominant_site", "hormone_receptor", "her2"]))
    if n == full:
        return False, f"{full} is the number of factor combinations before the rule; some hold only two patients."
    if n == 1:
        return False, ("one stratum would be the unstratified test; "
                       "the rule stops as soon as every stratum is large enough.")
    return False, f"{n} is not the number of strata the rule leaves."


@lru_cache(maxsize=1)
def _tipping() -> an.TippingPointResult:
    return an.tipping_point(_trial("protocol"))


@exercise(
    "04.10",
    "If arm A's lost patients had 8 times the hazard of comparable patients still followed, and arm B's the "
    "same hazard (delta_b 1), would the primary analysis still show a benefit? (yes/no)",
    ("Find the column for arm A's multiplier and the row for arm B's in the tipping-point figure of the "
     "primary analysis.",
     "Read the cell of `tp.table('primary', 'conclusion')` at column 8 and row 1, or its p-value in "
     "`tp.table('primary')`."),
)
def check_tipping_point(answer: Any) -> tuple[bool, str]:
    """Exercise 04.10: the conclusion of the delta-adjusted primary analysis at (8, 1) on the
    protocol data (the notebook's grid, 50 imputations, the default seed)."""
    given = parse_yes_no(answer)
    cell = _tipping().cell("primary", 8.0, 1.0)
    truth = cell["conclusion"] == "benefit"
    hr = f"HR {math.exp(cell['estimate']):.2f}, p = {cell['p_value']:.3f}"
    if given == truth:
        return True, (f"{'yes' if truth else 'no'}: {hr}. Only {_tipping().lost['A']} patients of arm A were lost "
                      "before 24 months, so even a much worse fate for them moves the estimate little.")
    return False, (f"the cell (8, 1) says {hr}: the conclusion is {'still' if truth else 'no longer'} a benefit.")

