"""Self-checks of notebook 05 (trialnb.exercises.monitoring), in the style of
tests/test_exercises.py: every checker accepts every correct form of the right answer, explains a
wrong one, says "no answer yet" to None, survives junk, and stages its hints.

The right answers are re-derived here independently with scipy (the Armitage-McPherson-Rowe
multivariate normal, the Lan-DeMets O'Brien-Fleming spending function and the textbook
conditional power formula), not taken from trialnb.monitoring."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from trialnb.exercises import monitoring as ex05
from trialnb.plan import PLAN
from trialnb.simulation import Boundaries, naive_type_one_error, simulate_sequential

ALPHA = 0.025  # one-sided

# --- independent re-derivations --------------------------------------------------------------


def _naive(looks: int, z: float = 1.959964) -> float:
    """1 - P(Z_1 < z, ..., Z_K < z), corr(Z_i, Z_j) = sqrt(t_i / t_j) (Armitage, McPherson & Rowe 1969)."""
    t = np.arange(1, looks + 1) / looks
    corr = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    return float(1 - stats.multivariate_normal(np.zeros(looks), corr).cdf(np.full(looks, z)))


def _obf_bounds() -> tuple[float, float, float]:
    """Two looks at t = 0.5, 1: Lan-DeMets O'Brien-Fleming spending
    alpha(t) = 2 - 2 Phi(z_(1-alpha/2) / sqrt(t)) (Lan & DeMets 1983); the first bound spends
    alpha(0.5), the final one the rest, with corr(Z_1, Z_2) = sqrt(0.5)."""
    spent = 2 * (1 - stats.norm.cdf(stats.norm.ppf(1 - ALPHA / 2) / math.sqrt(0.5)))
    c1 = stats.norm.ppf(1 - spent)
    r = math.sqrt(0.5)
    both = stats.multivariate_normal([0, 0], [[1, r], [r, 1]])
    c2 = optimize.brentq(lambda c: 1 - both.cdf([c1, c]) - ALPHA, 1.5, 2.5, xtol=1e-10)
    return c1, spent, c2


OB1, OB1_P, OB2 = _obf_bounds()


def _conditional_power(theta: float, z1: float = 1.0, d1: float = 33, d2: float = 66) -> float:
    """P(Z_2 >= c_2 | Z_1 = z1) with log-rank information I = D/4 and drift theta = -ln HR
    (Jennison & Turnbull 2000, ch. 10): 1 - Phi((c_2 sqrt(I_2) - z1 sqrt(I_1) - theta (I_2 - I_1))
    / sqrt(I_2 - I_1))."""
    i1, i2 = d1 / 4, d2 / 4
    return float(1 - stats.norm.cdf((OB2 * math.sqrt(i2) - z1 * math.sqrt(i1) - theta * (i2 - i1))
                                    / math.sqrt(i2 - i1)))


def _maturity() -> tuple[float, float, float]:
    """(expected interim month under HR 0.5, patients randomized by then, patients randomized 24
    months before it). Deaths within 24 months of randomization by calendar month t, by
    quadrature over uniform entry u in [0, min(t, 36)] (236 patients, 1:1) in each of the plan's
    twelve factor strata (probability p_s, control hazard lambda0 x its prognostic hazard ratios,
    lambda0 calibrated so that arm B's 24-month survival is exp(-0.5); arm A half of it): each
    arm's probability of a death within min(t - u, 24) months, exponential death competing with
    exponential drop-out (10% by 24 months); the interim month solves E(t) = 33."""
    from trialnb.plan import PLAN
    from trialnb.population import calibrate_baseline

    probs, lp = PLAN.design.strata_model()
    lam0 = calibrate_baseline(probs, lp, math.exp(-0.5)) / 24
    eta, n, a = -math.log(0.9) / 24, 236, 36.0

    def deaths(t: float) -> float:
        total = 0.0
        for p, x in zip(probs, lp, strict=True):
            for lam_j in (lam0 * math.exp(x), 0.5 * lam0 * math.exp(x)):
                f = lambda u, lj=lam_j: lj / (lj + eta) * (1 - math.exp(-(lj + eta) * min(t - u, 24.0)))  # noqa: E731
                total += p * n / 2 / a * integrate.quad(f, 0.0, min(t, a), limit=200)[0]
        return total

    month = optimize.brentq(lambda t: deaths(t) - 33, 1.0, 60.0, xtol=1e-10)
    return month, n * min(month, a) / a, n * (month - 24) / a


INTERIM_MONTH, RANDOMIZED, COMPLETE = _maturity()
NAIVE5 = _naive(5)
CP_DESIGN = _conditional_power(math.log(2))          # HR 0.5
CP_OBSERVED = _conditional_power(1 / math.sqrt(33 / 4))  # theta-hat = z1 / sqrt(I_1)
CP_NONE = _conditional_power(0.0)                    # HR 1

CASES = {
    "05.1": dict(fn=ex05.check_naive_peeking,
                 right=[round(NAIVE5, 3), f"{100 * NAIVE5:.1f}%", round(100 * NAIVE5, 2), f"{NAIVE5:.3f}",
                        np.float64(round(NAIVE5, 4)), "7 %", f"{100 * NAIVE5:.1f}".replace(".", ",") + "%"],
                 wrong=[(0.025, "ONE look"), (0.125, "independent"), ("14.2%", "two-sided"),
                        (0.20, "not the type-I")],
                 junk=["abc", True, [1, 2], float("nan"), -5, "150%"],
                 forbidden=[f"{NAIVE5:.3f}", f"{100 * NAIVE5:.1f}", "7%", "0.07"]),
    "05.2": dict(fn=ex05.check_first_look_bound,
                 right=[round(OB1, 3), round(OB1, 2), f"{OB1:.2f}", np.float64(round(OB1, 4)), f" {OB1:.3f} "],
                 wrong=[(-round(OB1, 2), "mirror"), (1.96, "final bound"), (round(OB2, 3), "final bound"),
                        (round(OB1_P, 4), "p-value"), (2.5, "not the first-look")],
                 junk=["abc", True, [1, 2], float("nan"), "2.96%", "z"],
                 forbidden=[f"{OB1:.2f}", f"{OB1:.3f}", f"{OB1_P:.4f}"]),
    "05.3": dict(fn=ex05.check_conditional_power,
                 right=[round(CP_DESIGN, 3), f"{100 * CP_DESIGN:.1f}%", round(100 * CP_DESIGN, 1),
                        round(CP_DESIGN, 2), f"{CP_DESIGN:.2f}"],
                 wrong=[(round(CP_OBSERVED, 3), "OBSERVED"), (round(CP_NONE, 3), "NO effect"),
                        ("80%", "before any data"), (0.9, "not the conditional")],
                 junk=["abc", True, [1, 2], float("nan"), -5, {}],
                 forbidden=[f"{CP_DESIGN:.2f}", f"{100 * CP_DESIGN:.0f}%", f"{100 * CP_DESIGN:.1f}"]),
    "05.4": dict(fn=ex05.check_maturity,
                 right=[round(COMPLETE), round(COMPLETE, 1), f"{COMPLETE:.0f}", np.float64(COMPLETE), int(COMPLETE)],
                 wrong=[(round(RANDOMIZED), "randomized by the interim"), (33, "deaths"), (0.2, "no effect"),
                        (round(COMPLETE / RANDOMIZED, 3), "share"), (236, "every patient"), (60, "not the expected")],
                 junk=["abc", True, [1, 2], float("nan"), "27%", {}],
                 forbidden=[f"{COMPLETE:.0f}", f"{COMPLETE:.1f}", f"{RANDOMIZED:.0f}"]),
}


def test_the_independent_derivations_are_the_textbook_values():
    # Armitage, McPherson & Rowe (1969): 5 looks at two-sided 0.05 give 0.142, one-sided 0.071;
    # the two-look asOF design of rpact/gsDesign has bounds 2.963 and 1.969.
    assert NAIVE5 == pytest.approx(0.0709, abs=0.0005)
    assert (round(OB1, 3), round(OB2, 3)) == (2.963, 1.969)
    assert CP_NONE < CP_OBSERVED < CP_DESIGN
    # the interim falls at month 27.9 under HR 0.5: 183 randomized, 26 of them followed 24 months
    assert (round(INTERIM_MONTH, 1), round(RANDOMIZED), round(COMPLETE)) == (27.9, 183, 26)














def test_one_message_style():
    seen = set()
    for key, case in CASES.items():
        for answer in (None, case["right"][0], case["wrong"][0][0], case["junk"][0]):
            v = case["fn"](answer)
            assert v.message.split(":", 1)[0] in ("Right", "Not yet", "No answer yet", "Cannot check"), v.message
            assert str(v) == f"Exercise {key}. {v.message}"
            seen.add(v.status)
    assert seen == {"right", "wrong", "unanswered", "invalid"}


def test_the_library_agrees_with_the_independent_derivations():
    # what the checkers accept is what trialnb computes: within the checkers' tolerances, and
    # in fact to 1e-4
    truths = ex05._truths()
    assert truths["naive5"] == pytest.approx(NAIVE5, abs=1e-4)
    assert (truths["ob1"], truths["ob1_p"], truths["ob2"]) == pytest.approx((OB1, OB1_P, OB2), abs=1e-4)
    assert (truths["cp_design"], truths["cp_observed"], truths["cp_none"]) == pytest.approx(
        (CP_DESIGN, CP_OBSERVED, CP_NONE), abs=1e-4)
    assert (truths["interim_month"], truths["randomized"], truths["complete"]) == pytest.approx(
        (INTERIM_MONTH, RANDOMIZED, COMPLETE), rel=1e-6)


def test_naive_type_one_error_agrees_with_simulation():
    # 5 naive looks at one-sided 1.96: a simulation of log-rank trials agrees within MC error
    assert ex05.naive_type_one_error is naive_type_one_error  # the old re-export still works
    assert naive_type_one_error(1) == pytest.approx(0.025, abs=1e-6)
    plan = PLAN.with_changes(hazard_ratio=0.6, statistic="logrank", censor_months=None, final_analysis="events",
                             allocation="blocks", dropout_probability=0.0, hr_soft_tissue=1.0, hr_visceral=1.0,
                             hr_hr_negative=1.0, hr_her2_positive=1.0)
    assert __import__("trialnb.monitoring", fromlist=["x"]).plan_max_events(plan) >= 100
    res = simulate_sequential(plan, 4000, seed=21, truth={"hazard_ratio": 1.0},
                              boundaries=Boundaries((0.2, 0.4, 0.6, 0.8, 1.0), (1.959964,) * 5))
    assert abs(res.power - NAIVE5) <= 4 * np.sqrt(NAIVE5 * (1 - NAIVE5) / 4000)
