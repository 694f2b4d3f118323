"""Self-checks for notebook 03 (randomization). The right answers are recomputed with the
public functions of :mod:`trialnb.randomization` (``EXERCISE_CASE``, ``minimization_scores``,
``block_correct_guesses_closed_form``, ``efron_long_run``)."""

from __future__ import annotations

from typing import Any

from .. import randomization as rz
from ..protocol import FACTORS
from ._verdict import close, exercise, parse_choice, parse_number, parse_proportion
from ..errors import AnswerError

__all__ = ["check_block_formula", "check_efron_limit", "check_minimization_range",
           "check_minimization_variance"]

_ARM_CHOICES = {"A": ("arm a",), "B": ("arm b",), "tie": ("either", "neither", "equal", "both", "none", "draw")}


def _favoured_arm(measure: str) -> str:
    """The arm ("A", "B" or "tie") that ``measure`` minimization favours for ``EXERCISE_CASE``."""
    counts: dict[str, dict[str, list[int]]] = {f.name: {lv: [0, 0] for lv in f.levels} for f in FACTORS}
    for f, lv in rz.EXERCISE_CASE["patient"].items():
        counts[f][lv] = list(rz.EXERCISE_CASE["counts"][f])
    scores, _ = rz.minimization_scores(counts, rz.EXERCISE_CASE["patient"], measure)
    return "A" if scores["A"] < scores["B"] else ("B" if scores["B"] < scores["A"] else "tie")


def _arm(answer: Any) -> str:
    return parse_choice(answer, _ARM_CHOICES, "an arm")


_MIN_HINTS = (
    "Minimization favours the arm that would leave the smaller total imbalance at the "
    "newcomer's own levels.",
    "Add the newcomer to A, compute the imbalance measure of the two counts at each of the "
    "newcomer's three levels and sum them (G for A); do the same adding to B (G for B); the "
    "smaller G wins (`from trialnb.randomization import minimization_scores` does it).",
)


def _minimization(answer: Any, measure: str, other: str) -> tuple[bool, str]:
    given, truth, truth_other = _arm(answer), _favoured_arm(measure), _favoured_arm(other)
    if given == truth:
        why = (" Range and variance disagree here: variance squares the imbalances, so one large "
               "imbalance weighs more than several small ones." if truth != truth_other else "")
        return True, f"{measure} minimization favours {'a tie' if truth == 'tie' else 'arm ' + truth}.{why}"
    if given == truth_other:
        return False, (f"{given} is the arm {other} favours; with {measure} the imbalances are measured "
                       "differently, so recompute G with this measure.")
    return False, f"{given} is not the arm with the smaller total imbalance G under {measure}."


@exercise("03.1", "Which arm does range minimization favour for EXERCISE_CASE?", _MIN_HINTS)
def check_minimization_range(answer: Any) -> tuple[bool, str]:
    """Exercise 03.1: the arm ("A", "B", "tie"; any case) that range minimization favours."""
    return _minimization(answer, "range", "variance")


@exercise("03.2", "Which arm does variance minimization favour for EXERCISE_CASE?", _MIN_HINTS)
def check_minimization_variance(answer: Any) -> tuple[bool, str]:
    """Exercise 03.2: the arm that variance minimization (sample variance) favours."""
    return _minimization(answer, "variance", "range")


@exercise(
    "03.3",
    "Expected correct guesses of the convergence strategy in one permuted block of 4?",
    ("In a block of 4 the last assignment is always known, and sometimes more than one is.",
     "Either enumerate the 6 orders of AABB and count the correct guesses of 'guess the arm that "
     "is behind', then average; or use the closed form m + 2^(2m−1) / (2m choose m) − 1/2 for a "
     "block of 2m."),
)
def check_block_formula(answer: Any) -> tuple[bool, str]:
    """Exercise 03.3: expected correct guesses in one block of 4 (a number or a fraction such
    as "17/6"); right within 0.01."""
    x = parse_number(answer, "the expected number of correct guesses")
    if not 0 <= x <= 4:
        raise AnswerError(f"{answer!r} is outside 0-4 (a block of 4 has at most 4 correct guesses); give the "
                          "expected number, e.g. 2.5.")
    truth = rz.block_correct_guesses_closed_form(4)
    if close(x, truth, 0.01):
        return True, f"E = {truth:.4f} (17/6) correct guesses per block of 4, against 2 by pure chance."
    if close(x, 2.0, 0.01):
        return False, "2 is what pure guessing gets; the convergence strategy does better."
    if close(x, truth / 4, 0.01):
        return False, f"{x:g} is a proportion of the 4 guesses; the question asks for the number."
    return False, f"{x:g} is not the expected number of correct guesses."


@exercise(
    "03.4",
    "Long-run proportion of correct guesses against Efron's biased coin with p = 2/3?",
    ("When the arms are balanced the guesser can only toss a coin; when they are not, the "
     "coin favours the arm that is behind.",
     "The imbalance D is a Markov chain; in the long run it is 0 a fraction (2p - 1)/(2p) of "
     "the time, where a guess is right with probability 1/2, and otherwise a guess of the "
     "arm behind is right with probability p: average the two."),
)
def check_efron_limit(answer: Any) -> tuple[bool, str]:
    """Exercise 03.4: long-run correct-guess proportion with Efron's coin, p = 2/3
    (proportion, percent or a fraction such as "5/8"); right within 0.5 points."""
    x = parse_proportion(answer, "the proportion of correct guesses")
    truth = rz.efron_long_run(2 / 3)
    if close(x, truth, 0.005):
        return True, f"(4p - 1)/(4p) = {truth:.3f} ({truth:.1%}) with p = 2/3."
    if close(x, 2 / 3, 0.005):
        return False, "2/3 is right only while the arms are unbalanced; at balance a guess is a coin toss."
    if close(x, 0.5, 0.005):
        return False, "50% is pure chance; the biased coin makes guessing easier."
    return False, f"{x:.1%} is not the long-run proportion."
