"""Self-checks for notebook 05 (interim monitoring).

Same shape as the other notebooks' checkers: an exercise starts unanswered (``answer = None``
gives "No answer yet" and the first hint), every correct form is accepted (rounded, a percent
``7.1`` / ``"7.1%"`` or a proportion ``0.071``), a wrong answer is explained when the mistake
is a known one, and hints are staged (``hint=1`` a nudge, ``hint=2`` the method; no hint
states the answer). A checker never raises on a trainee's answer. The right answers are
recomputed here with :mod:`trialnb.monitoring` or scipy, never typed in.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from ..sequential_sim import naive_type_one_error

__all__ = ["HINTS", "check_first_look_bound", "check_naive_peeking", "check_conditional_power",
           "naive_type_one_error"]

HINTS: dict[str, tuple[str, str]] = {
    "05.1": ("Each look has a 2.5% chance of a false alarm, but the looks are correlated: the "
             "total lies between 2.5% and 5 x 2.5%.",
             "Simulate trials under HR = 1 with Boundaries of 1.96 at five equally spaced looks "
             "(simulate_sequential), or compute 1 - P(all five z < 1.96) with correlations "
             "sqrt(t_i / t_j) (naive_type_one_error)."),
    "05.2": ("O'Brien-Fleming-type spending spends almost nothing early: the first bound is far "
             "above 1.96.",
             "Build monitoring.design(2, information_rates=[0.5, 1], type_of_design='asOF') and read "
             "critical_values[0] (the benefit-z bound at the first look)."),
    "05.3": ("Conditional power depends on the hazard ratio you assume for the deaths still to "
             "come: the question names it.",
             "Call monitoring.conditional_power(design, [33], [-1.0], n_planned=[33], theta_h1=0.5, "
             "direction_upper=False) and read the conditional power at the last look."),
}


def _verdict(key: str, status: str, text: str, hint: int) -> str:
    prefix = {"right": "Right", "wrong": "Not yet", "unanswered": "No answer yet", "invalid": "Cannot check"}[status]
    level = max(hint, 1) if status in ("wrong", "unanswered") else hint
    hints = " ".join(f"Hint {i}: {HINTS[key][i - 1]}" for i in range(1, level + 1))
    return f"Exercise {key}. {prefix}: {text}" + (f" {hints}" if hints else "")


def _number(answer: Any) -> float:
    if isinstance(answer, bool):
        raise ValueError(f"{answer!r} is a yes/no value; give a number, e.g. 0.07 or '7%'")
    if isinstance(answer, str):
        s = answer.strip().rstrip("%").strip().replace("\u2212", "-")
        try:
            x = float(s)
        except ValueError:
            raise ValueError(f"could not read {answer!r} as a number; give e.g. 0.07, 7 or '7%'") from None
        return x / 100 if answer.strip().endswith("%") else x
    if isinstance(answer, numbers.Real) or np.ndim(answer) == 0:
        try:
            x = float(answer)
        except (TypeError, ValueError):
            raise ValueError(f"{answer!r} is not a number; give e.g. 0.07, 7 or '7%'") from None
        if not math.isfinite(x):
            raise ValueError(f"{answer!r} is not a finite number")
        return x
    raise ValueError(f"{answer!r} ({type(answer).__name__}) is not a number; give e.g. 0.07, 7 or '7%'")


def _proportion(answer: Any) -> float:
    pct = isinstance(answer, str) and answer.strip().endswith("%")
    x = _number(answer)
    if not pct and x > 1:
        x /= 100
    if not 0 <= x <= 1:
        raise ValueError(f"{answer!r} is not between 0% and 100%; give a proportion (0.07) or a percent (7 or '7%')")
    return x


def _checker(key: str, body: Callable[[Any], tuple[bool, str]]) -> Callable[..., str]:
    def check(answer: Any = None, *, hint: int = 0) -> str:
        if hint not in (0, 1, 2) or isinstance(hint, bool):
            raise ValueError(f"hint must be 0, 1 or 2, got {hint!r}")
        if answer is None:
            return _verdict(key, "unanswered", "replace None with your answer and run the cell again.", hint)
        try:
            ok, text = body(answer)
        except ValueError as exc:
            return _verdict(key, "invalid", str(exc), hint)
        return _verdict(key, "right" if ok else "wrong", text, hint)

    check.exercise_key = key  # type: ignore[attr-defined]
    return check


@lru_cache(maxsize=None)
def _truths() -> dict[str, float]:
    from .. import monitoring

    d = monitoring.design(2, information_rates=[0.5, 1], type_of_design="asOF")
    cp = {}
    for name, hr in (("design", 0.5), ("observed", None), ("none", 1.0)):
        res = monitoring.conditional_power(d, [33], [-1.0], n_planned=[33], theta_h1=hr, direction_upper=False)
        cp[name] = float(np.asarray(res.conditional_power)[-1])
    return {"naive5": naive_type_one_error(5), "ob1": float(d.critical_values[0]),
            "ob1_p": float(d.stage_levels[0]), "cp_design": cp["design"], "cp_observed": cp["observed"],
            "cp_none": cp["none"]}


def _naive(answer: Any) -> tuple[bool, str]:
    x = _proportion(answer)
    truth = _truths()["naive5"]
    if abs(x - truth) <= 0.005:
        return True, (f"about {truth:.1%}: five unadjusted looks almost triple the one-sided 2.5% "
                      "type-I error, which is why the boundaries must be adjusted.")
    if abs(x - 0.025) <= 0.002:
        return False, "2.5% is the error of ONE look; each extra look is another chance of a false alarm."
    if abs(x - 0.125) <= 0.005:
        return False, "5 x 2.5% = 12.5% would hold for independent looks; these share their data, so less."
    return False, f"{x:.1%} is not the type-I error of five naive looks."


def _ob(answer: Any) -> tuple[bool, str]:
    x = _number(answer)
    t = _truths()
    if abs(x - t["ob1"]) <= 0.01:
        return True, (f"z >= {t['ob1']:.3f}, a nominal one-sided p-value of {t['ob1_p']:.4f}: the interim "
                      "spends little alpha, so the final bound stays close to 1.96.")
    if abs(x - t["ob1_p"]) <= 0.0002:
        return False, "that is the nominal p-value at the bound; the question asks for the z value."
    if abs(x - 1.96) <= 0.01 or abs(x - 1.969) <= 0.01:
        return False, "1.96/1.97 is (close to) the final bound; the first-look bound is much higher."
    return False, f"{x:g} is not the first-look O'Brien-Fleming bound."


def _cp(answer: Any) -> tuple[bool, str]:
    x = _proportion(answer)
    t = _truths()
    if abs(x - t["cp_design"]) <= 0.01:
        return True, (f"{t['cp_design']:.1%} under the design's HR 0.5; under the observed HR it is "
                      f"{t['cp_observed']:.1%} and under no effect {t['cp_none']:.1%}: always name the HR.")
    if abs(x - t["cp_observed"]) <= 0.01:
        return False, "that is the conditional power under the OBSERVED hazard ratio; the question assumes HR 0.5."
    if abs(x - t["cp_none"]) <= 0.01:
        return False, "that is the conditional power under NO effect (HR 1); the question assumes HR 0.5."
    return False, f"{x:.1%} is not the conditional power under HR 0.5."


check_naive_peeking = _checker("05.1", _naive)
check_naive_peeking.__doc__ = "Exercise 05.1: type-I error of five naive looks at z >= 1.96 (one-sided 2.5% each)."
check_first_look_bound = _checker("05.2", _ob)
check_first_look_bound.__doc__ = "Exercise 05.2: the asOF benefit-z bound at half the information, one-sided 0.025."
check_conditional_power = _checker("05.3", _cp)
check_conditional_power.__doc__ = ("Exercise 05.3: conditional power at 33 deaths, log-rank z = -1.0, 33 more deaths, "
                                   "assuming the design HR 0.5.")
