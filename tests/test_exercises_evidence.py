"""Self-checks of notebook 08 (trialnb.exercises.evidence), in the style of
tests/test_exercises.py: every checker accepts every correct form of the right answer, explains a
wrong one, says "no answer yet" to None, survives junk, and stages its hints.

The right answers are re-derived here independently: the SE with scipy's normal quantile, the
priors from R metafor's pooled estimates (tests/reference/metafor_meta.json), the probability of
success and the posterior by their textbook formulas; none is taken from trialnb."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from trialnb.exercises import evidence as ex08

REF = json.loads((Path(__file__).resolve().parent / "reference" / "metafor_meta.json").read_text(encoding="utf-8"))
CASE = {(c["dataset"], c["method"], c["test"]): c for c in REF["cases"]}

SE_E2108 = (math.log(1.52) - math.log(0.82)) / (2 * stats.norm.ppf(0.95))
SE_196 = (math.log(1.52) - math.log(0.82)) / (2 * 1.959964)

_pooled = CASE[("rct_all", "REML", "z")]
M, S = _pooled["b"], math.sqrt(_pooled["se"] ** 2 + _pooled["tau2"])  # predictive prior of a new trial
C = math.sqrt(66) / 2
POS = stats.norm.cdf((-M * C - 1.959964) / math.sqrt(1 + C * C * S * S))
POWER = stats.norm.cdf(-M * C - 1.959964)
CEILING = stats.norm.cdf(-M / S)

_after = CASE[("after_induction", "REML", "z")]
M0, S0 = _after["b"], math.sqrt(_after["se"] ** 2 + _after["tau2"])
POST_HR = math.exp((M0 / S0**2 + ex08.INTERIM_LOG_HR / ex08.INTERIM_SE**2) / (1 / S0**2 + 1 / ex08.INTERIM_SE**2))

CASES = {
    "08.1": dict(fn=ex08.check_se_from_90_ci,
                 right=[round(SE_E2108, 3), f"{SE_E2108:.4f}", round(SE_E2108, 2), "0,19", np.float64(SE_E2108)],
                 wrong=[(round(SE_196, 3), "95% interval"), (round(2 * SE_E2108, 3), "divide by 2 z"),
                        (0.617, "width of the interval"), (0.25, "not the SE")],
                 junk=["abc", True, [1, 2], float("nan")],
                 forbidden=[f"{SE_E2108:.3f}", f"{SE_E2108:.2f}", "0.188"]),
    "08.2": dict(fn=ex08.check_probability_of_success,
                 right=[round(POS, 3), f"{100 * POS:.1f}%", round(100 * POS, 1), round(POS, 2), f"{100 * POS:.0f} %"],
                 wrong=[(round(POWER, 3), "power at the pooled"), ("80%", "HR were 0.5"),
                        (round(CEILING, 2), "ceiling"), (0.3, "not the probability of success")],
                 junk=["abc", True, [1, 2], float("nan"), -5, "150%"],
                 forbidden=[f"{POS:.2f}", f"{100 * POS:.0f}%", f"{POS:.3f}"]),
    "08.3": dict(fn=ex08.check_assurance_ceiling,
                 right=[round(CEILING, 3), f"{100 * CEILING:.1f}%", round(100 * CEILING), round(CEILING, 2)],
                 wrong=[(1.0, "only if there is one"), ("80%", "power the protocol aims at"),
                        (round(POS, 3), "66 deaths"), (0.5, "not the limit")],
                 junk=["abc", True, {}, float("inf")],
                 forbidden=[f"{CEILING:.2f}", f"{100 * CEILING:.0f}%", "63"]),
    "08.4": dict(fn=ex08.check_interim_posterior,
                 right=[round(POST_HR, 2), f"{POST_HR:.3f}", np.float64(POST_HR), f" {POST_HR:.2f} "],
                 wrong=[(0.26, "interim estimate itself"), (round(math.exp(M0), 3), "prior's median"),
                        (round(math.log(POST_HR), 3), "exponentiate"), (0.5, "not the posterior median")],
                 junk=["abc", True, [1], -0.5, 0],
                 forbidden=[f"{POST_HR:.2f}", f"{POST_HR:.3f}"]),
}


def test_the_independent_derivations() -> None:
    assert SE_E2108 == pytest.approx(0.1876, abs=1e-4)
    assert 0.08 < POS < 0.13 and POWER < POS < CEILING < 0.7
    assert math.exp(ex08.INTERIM_LOG_HR) < math.exp(M0) and 0.85 < POST_HR < math.exp(M0)


def test_the_library_agrees_with_the_independent_derivations() -> None:
    t = ex08._truths()
    assert t["se"] == pytest.approx(SE_E2108, rel=1e-12)
    assert (t["pos"], t["ceiling"], t["power"]) == pytest.approx((POS, CEILING, POWER), abs=1e-6)
    assert t["post_hr"] == pytest.approx(POST_HR, rel=1e-6)












