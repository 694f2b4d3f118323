"""Self-checks for notebook 01 (why randomize: the biases of registry comparisons). The right
answers are recomputed with :mod:`trialnb.bias`."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .. import bias
from ._verdict import close, exercise, normalize_text, parse_number, parse_proportion
from ..errors import AnswerError

__all__ = ["check_apparent_hr", "check_immortal_time_fix", "check_will_rogers"]

_FIXES = frozenset({"landmark", "time_varying", "randomized"})
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "naive": ("naive cox", "naive"),
    "adjusted": ("adjusted cox", "cox adjusted", "adjusted"),
    "landmark": ("landmark", "landmark analysis"),
    "time_varying": ("time varying", "time dependent", "time varying covariate", "time dependent covariate",
                     "timevarying"),
    "randomized": ("randomized", "randomized comparison", "randomization", "rct", "trial",
                   "randomized trial"),
}


def _analysis_name(item: Any) -> str:
    if not isinstance(item, str):
        raise AnswerError(f"{item!r} is not an analysis name; "
                          f"use names from bias.ANALYSES: {', '.join(bias.ANALYSES)}.")
    a = normalize_text(item)
    for name in bias.ANALYSES:
        if a in {normalize_text(s) for s in (name, bias.label(name), *_SYNONYMS.get(name, ()))}:
            return name
    raise AnswerError(f"unknown analysis {item!r}; use names from bias.ANALYSES: {', '.join(bias.ANALYSES)}.")


def _analysis_set(answer: Any) -> set[str]:
    if isinstance(answer, str):
        items: list[Any] = [s for s in re.split(r",|;|\band\b|\+", answer) if s.strip()]
    elif isinstance(answer, (list, tuple, set, frozenset)):
        items = list(answer)
    else:
        raise AnswerError(f"{answer!r} is not a list; give a list of analysis names, e.g. ['naive', 'adjusted'].")
    if not items:
        raise AnswerError("the list is empty; give the analysis names that remove immortal-time bias.")
    return {_analysis_name(i) for i in items}


@exercise(
    "01.1",
    "Which of bias.ANALYSES remove immortal-time bias? (a list of names)",
    ("Immortal time is the time an operated patient had to survive before the operation. Which "
     "analyses do not count that time as time 'with surgery'?",
     "For each analysis ask where its clock starts and when a patient starts to count as "
     "operated: at diagnosis (whatever happens later), at a fixed landmark, at the operation "
     "itself, or at randomization."),
)
def check_immortal_time_fix(answer: Any) -> tuple[bool, str]:
    """Exercise 01.1: the analyses (names of :data:`bias.ANALYSES`, labels or synonyms; a list
    or a comma-separated string) that remove immortal-time bias."""
    got = _analysis_set(answer)
    if got == _FIXES:
        return True, ("the landmark and time-varying analyses do not credit pre-surgery time to "
                      "surgery, and a randomized trial fixes time zero for everyone by design.")
    if "adjusted" in got:
        return False, ("adjusting for recorded factors does not move time zero: the operated still "
                       "had to survive until surgery.")
    if "naive" in got:
        return False, "the naive analysis is the one with immortal time: it counts surgery from diagnosis."
    if got < _FIXES:
        return False, (f"{', '.join(sorted(got))} {'does' if len(got) == 1 else 'do'}, "
                       "but another analysis also removes it.")
    return False, "that is not the set of analyses without immortal time."


@lru_cache(maxsize=1)
def _will_rogers() -> dict[tuple[str, str], float]:
    t = bias.will_rogers()
    return {(str(a), str(b)): float(s) for a, b, s in zip(t["staging"], t["stage"], t["survival"], strict=True)}


@exercise(
    "01.2",
    "With the defaults of bias.will_rogers(), the 2-year survival of stage IV after migration?",
    ("After migration, stage IV holds two groups of patients: the original stage IV patients and "
     "the migrants.",
     "Stage IV after migration is a mixture: weight each group's 2-year survival by its size (the "
     "sizes and hazards are the arguments of `bias.will_rogers`), or read the row of the table "
     "`bias.will_rogers()` returns."),
)
def check_will_rogers(answer: Any) -> tuple[bool, str]:
    """Exercise 01.2: the 2-year survival of stage IV under the new staging (proportion or
    percent); right within 0.5 percentage points."""
    x = parse_proportion(answer, "the 2-year survival")
    s = _will_rogers()
    truth = s[("new staging", "stage IV")]
    if close(x, truth, 0.005):
        return True, (f"{truth:.1%} (it was {s[('old staging', 'stage IV')]:.0%}): the migrants raise "
                      "stage IV survival although nobody's outcome changed.")
    if close(x, s[("old staging", "stage IV")], 0.005):
        return False, f"{x:.1%} is stage IV before the migration; the question asks after it."
    if close(x, s[("new staging", "stage I-III")], 0.005) or close(x, s[("old staging", "stage I-III")], 0.005):
        return False, f"{x:.1%} is a stage I-III survival; the question asks for stage IV."
    return False, f"{x:.1%} is not stage IV's 2-year survival after migration."


@lru_cache(maxsize=1)
def _apparent_hr() -> float:
    cohort = bias.simulate_registry(3000, 11, **bias.scenario("coding_errors", strength=0.1))
    return float(bias.naive_cox(cohort).hazard_ratio)


@exercise(
    "01.3",
    "The naive hazard ratio with only coding errors (strength 0.1), n = 3000, seed 11?",
    ("Simulate the registry with only one mechanism switched on; `bias.scenario` builds the "
     "keyword arguments for that.",
     "Simulate the registry, `bias.simulate_registry(3000, 11, **bias.scenario('coding_errors', "
     "strength=0.1))`, fit the naive Cox model of notebook 01 to it (`bias.naive_cox`) and read "
     "its hazard ratio."),
)
def check_apparent_hr(answer: Any) -> tuple[bool, str]:
    """Exercise 01.3: the naive HR with only coding errors on; right within 0.02."""
    x = parse_number(answer, "a hazard ratio", allowed="give a hazard ratio, a positive number such as 0.75")
    if x <= 0:
        raise AnswerError(f"{answer!r} is not positive; give a hazard ratio, a positive number such as 0.75.")
    truth = _apparent_hr()
    if close(x, truth, 0.02):
        return True, (f"HR {truth:.2f} although surgery does nothing here (true HR 1): a few miscoded "
                      "stage I-III patients, all operated and long-lived, make surgery look protective.")
    if close(x, 1.0, 0.02):
        return False, "1 is the true hazard ratio of the simulation; the naive analysis of the registry gives another."
    if close(x, 1 / truth, 0.02):
        return False, "that is the ratio the other way round (not operated vs operated)."
    return False, f"{x:g} is not the naive hazard ratio of that cohort."
