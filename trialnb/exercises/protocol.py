"""Self-checks for notebook 00 (the protocol as data): eligibility screening and strata.
The right answers are recomputed from :mod:`trialnb.eligibility` and :data:`PROTOCOL`."""

from __future__ import annotations

import math
from typing import Any

from ..eligibility import example_patient, screen
from ..protocol import PROTOCOL
from ._verdict import exercise, parse_count, parse_yes_no
from ..errors import AnswerError

__all__ = ["check_answer_screen", "check_answer_strata"]

_CASE = {"age": 70, "t_stage": "T4", "t4_resectable": True, "n_stage": "N3"}


@exercise(
    "00.1",
    "A 70-year-old patient with a resectable T4 tumour and N3 nodes: eligible (True/False)?",
    ("Go through the criteria that mention age, the T stage and the N stage, one at a time.",
     "Read inclusion criteria I5 (TNM) and I7 (age) and exclusion criterion E4: does any of them "
     "set an upper age limit, and does E4 exclude every T4 tumour or only some? You can also "
     "screen a patient made from the example, `screen(example_patient(age=45))`, with the "
     "question's age and stages."),
)
def check_answer_screen(answer: Any) -> tuple[bool, str]:
    """Exercise 00.1: is the 70-year-old with a resectable T4 N3 tumour eligible?
    Accepts ``True``/``False``, "yes"/"no", "eligible"/"not eligible"."""
    given = parse_yes_no(answer, yes=("eligible",), no=("not eligible", "ineligible", "excluded"))
    truth = screen(example_patient(**_CASE)).eligible
    if given == truth:
        return True, ("eligible: I5 allows T1-T3 and resectable T4 with any N0-N3, I7 sets only a "
                      "lower age limit (18), and E4 excludes only irresectable T4.")
    return False, ("the patient is not excluded: there is no upper age limit, N3 is within N0-N3, "
                   "and E4 excludes a T4 tumour only when it is irresectable.")


@exercise(
    "00.2",
    "How many strata if age (< 50, >= 50) were added as a fourth minimization factor?",
    ("A stratum is one combination of a level of every factor.",
     "Count the levels of each factor, `[len(f.levels) for f in PROTOCOL.factors]`, and multiply "
     "the counts; then do the same with the age factor added."),
)
def check_answer_strata(answer: Any) -> tuple[bool, str]:
    """Exercise 00.2: strata with a two-level age factor added to the protocol's three factors."""
    n = parse_count(answer, "a whole number of strata")
    levels = [len(f.levels) for f in PROTOCOL.factors]
    now = math.prod(levels)
    truth = now * 2
    if n <= 0:
        raise AnswerError(f"{answer!r} is not a positive number of strata; give a whole number, e.g. 10.")
    if n == truth:
        return True, (f"{' x '.join(map(str, levels))} = {now} strata now, and x 2 age groups = {truth}.")
    if n == now + 2 or n == sum(levels) + 2:
        return False, f"{n} adds the age levels, but strata are combinations: the counts multiply."
    if n == now:
        return False, f"{n} is the number of strata without age."
    return False, f"{n} is not the number of level combinations."
