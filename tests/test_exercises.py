"""The notebooks' self-checks (trialnb.exercises): every checker accepts every correct form of the
right answer, explains a wrong one, says "no answer yet" to None, survives junk, and stages its
hints; every notebook's exercises start unanswered and use these checkers.

The right answers are re-derived here independently where that is cheap (formulas, enumeration,
counting rows), not copied from the checkers."""

from __future__ import annotations

import ast
import itertools
import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialnb import analysis as an
from trialnb.data import load_trial
from trialnb.exercises import (EXERCISES, Verdict, get_exercise, hint, parse_choice, parse_count,
                               parse_number, parse_proportion, parse_yes_no)
from trialnb.errors import AnswerError
from trialnb.exercises import analysis as ex04
from trialnb.exercises import monitoring as ex05
from trialnb.exercises import operating_characteristics as ex06
from trialnb.exercises import protocol as ex00
from trialnb.exercises import randomization as ex03
from trialnb.exercises import rationale as ex01
from trialnb.exercises import sample_size as ex02
from trialnb.exercises import estimands as ex07
from trialnb.exercises import evidence as ex08

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# --- independent re-derivations --------------------------------------------------------------


def _schoenfeld(hr: float, alpha: float = 0.05, power: float = 0.8) -> float:
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return 4 * z**2 / math.log(hr) ** 2


def _power(d: float, hr: float) -> float:
    x = math.sqrt(d / 4) * abs(math.log(hr))
    return stats.norm.cdf(x - 1.96) + stats.norm.cdf(-x - 1.96)


def _convergence_guesses(block: str = "AABB") -> float:
    """Expected correct guesses of 'guess the arm behind' over all orders of a block (ties: 1/2)."""
    orders = set(itertools.permutations(block))
    total = 0.0
    for order in orders:
        left = {"A": block.count("A"), "B": block.count("B")}
        for arm in order:
            if left["A"] == left["B"]:
                total += 0.5
            else:
                total += 1.0 if arm == max(left, key=left.get) else 0.0
            left[arm] -= 1
    return total / len(orders)


def _favoured(measure: str) -> str:
    """Arm favoured for the 03 exercise case, by hand: add the newcomer to each arm in turn."""
    counts = [(1, 4), (4, 3), (5, 4)]

    def imbalance(a: int, b: int) -> float:
        return abs(a - b) if measure == "range" else float(np.var([a, b], ddof=1))

    g_a = sum(imbalance(a + 1, b) for a, b in counts)
    g_b = sum(imbalance(a, b + 1) for a, b in counts)
    return "A" if g_a < g_b else "B" if g_b < g_a else "tie"


def _deaths_b_24() -> int:
    df = pd.read_csv(DATA / "trial_protocol.csv")
    return int(((df["arm"] == "B") & (df["death"] == 1) & (df["os_months"] <= 24)).sum())


def _km_at(df: pd.DataFrame, t: float) -> float:
    s = 1.0
    for time in sorted(df.loc[(df["death"] == 1) & (df["os_months"] <= t), "os_months"].unique()):
        at_risk = (df["os_months"] >= time).sum()
        deaths = ((df["os_months"] == time) & (df["death"] == 1)).sum()
        s *= 1 - deaths / at_risk
    return s


def _km_difference(scenario: str = "realistic") -> float:
    df = pd.read_csv(DATA / f"trial_{scenario}.csv")
    return _km_at(df[df["arm"] == "A"], 24) - _km_at(df[df["arm"] == "B"], 24)


def _lrp(arm: str) -> tuple[pd.Series, pd.Series]:
    """Time and status (1 progression, 2 death first, 0 censored) of arm ``arm`` (protocol data)."""
    df = pd.read_csv(DATA / "trial_protocol.csv")
    g = df[df["arm"] == arm]
    m = g["locoregional_progression_month"]
    time = m.fillna(g["os_months"])
    status = pd.Series(1, index=g.index).where(m.notna(), 2 * g["death"])
    return time, status


def _aalen_johansen(arm: str, t: float) -> float:
    """F(t) = sum over event times <= t of S(u-) d_1(u) / n(u), written out by hand."""
    time, status = _lrp(arm)
    S, F = 1.0, 0.0
    for u in sorted(time[(status > 0) & (time <= t)].unique()):
        n = int((time >= u).sum())
        d1, d = int(((time == u) & (status == 1)).sum()), int(((time == u) & (status > 0)).sum())
        F += S * d1 / n
        S *= 1 - d / n
    return F


def _one_minus_km_lrp(arm: str, t: float) -> float:
    time, status = _lrp(arm)
    return 1 - _km_at(pd.DataFrame({"os_months": time, "death": (status == 1).astype(int)}), t)


EVENTS_60_70 = math.ceil(_schoenfeld(math.log(0.70) / math.log(0.60)))
POWER_66 = _power(66, 0.66)
BLOCK_E = _convergence_guesses()
EFRON = Fraction(4 * 2 - 3, 4 * 2)  # (4p - 1)/(4p) at p = 2/3 is 5/8
LOSS = math.ceil(107 / 0.9)

# --- every checker: right forms, wrong answers with their explanation, forbidden words in hints

CASES = {
    "00.1": dict(fn=ex00.check_answer_screen,
                 right=[True, "yes", " Eligible ", "TRUE", "y"],
                 wrong=[(False, "no upper age limit"), ("not eligible", "irresectable")],
                 junk=[3, "maybe", [True]],
                 forbidden=["eligible", "True"]),
    "00.2": dict(fn=ex00.check_answer_strata,
                 right=[3 * 2 * 2 * 2, "24", 24.0, np.int64(24)],
                 wrong=[(14, "multiply"), (12, "without age"), (13, "not the number")],
                 junk=["x", 24.5, -1, float("nan")],
                 forbidden=["24"]),
    "01.1": dict(fn=ex01.check_immortal_time_fix,
                 right=[["landmark", "time_varying", "randomized"], ("randomized", "time-varying", "Landmark"),
                        "landmark, time varying and randomised",
                        {"Landmark analysis", "Surgery as time-varying covariate", "Randomized comparison"}],
                 wrong=[(["adjusted", "landmark"], "time zero"), (["landmark"], "another analysis"),
                        (["naive"], "immortal time")],
                 junk=[5, [], ["nonsense"], None.__class__],
                 forbidden=["landmark", "time_varying", "time-varying", "randomized"]),
    "01.2": dict(fn=ex01.check_will_rogers,
                 right=[0.627, "62.7%", 62.7, 0.63, "0.6272"],
                 wrong=[(0.60, "before the migration"), (0.867, "stage I-III"), (0.5, "not stage IV")],
                 junk=["x", 150, -0.2, {}],
                 forbidden=["0.627", "62.7", "63%", "0.63"]),
    "01.3": dict(fn=ex01.check_apparent_hr,
                 right=[0.88, "0.883", 0.9],
                 wrong=[(1.0, "true hazard ratio"), (1.13, "other way round"), (0.5, "not the naive")],
                 junk=[-1, 0, "abc", None.__class__],
                 forbidden=["0.88", "0.9"]),
    "02.1": dict(fn=ex02.check_events_for_target,
                 right=[EVENTS_60_70, str(EVENTS_60_70), float(EVENTS_60_70)],
                 wrong=[(EVENTS_60_70 - 1, "rounds down"), (249, "Freedman"), (66, "HR 0.5"),
                        (243.3, "round up")],
                 junk=["x", -5, True],
                 forbidden=[str(EVENTS_60_70), "243"]),
    "02.2": dict(fn=ex02.check_accrual_n,
                 right=[142, 143, 144, "144", 144.0],
                 wrong=[(141, "rounds down"), (213, "two years"), (150, "not the number")],
                 junk=["many", -3, float("inf")],
                 forbidden=["142", "143", "144"]),
    "02.3": dict(fn=ex02.check_power_at_hr,
                 right=[round(POWER_66, 3), f"{100 * POWER_66:.1f}%", round(100 * POWER_66, 1), round(POWER_66, 2),
                        f"{100 * POWER_66:.0f} %"],
                 wrong=[(0.8, "HR 0.5"), (1 - POWER_66, "beta"), (0.2, "not the power")],
                 junk=["x", 250, "-30%"],
                 forbidden=["0.39", "39"]),
    "02.4": dict(fn=ex02.check_loss_inflation,
                 right=[LOSS, str(LOSS), float(LOSS)],
                 wrong=[(math.ceil(107 * 1.1), "1 + loss"), (2 * LOSS, "both arms"), (100, "fewer than the 107"),
                        (118.9, "round up")],
                 junk=["x", 0, [119]],
                 forbidden=[str(LOSS), "118.9"]),
    "03.1": dict(fn=ex03.check_minimization_range,
                 right=[_favoured("range"), _favoured("range").lower(), f" arm {_favoured('range')} "],
                 wrong=[(_favoured("variance"), "variance favours"), ("tie", "smaller total imbalance")],
                 junk=[3, "C", None.__class__],
                 forbidden=["arm A", "arm B", "favours A", "favours B"]),
    "03.2": dict(fn=ex03.check_minimization_variance,
                 right=[_favoured("variance"), _favoured("variance").lower(), f"Arm {_favoured('variance')}"],
                 wrong=[(_favoured("range"), "range favours")],
                 junk=[0, "left"],
                 forbidden=["arm A", "arm B", "favours A", "favours B"]),
    "03.3": dict(fn=ex03.check_block_formula,
                 right=[BLOCK_E, "17/6", round(BLOCK_E, 2), f"{BLOCK_E:.3f}"],
                 wrong=[(2, "pure guessing"), (BLOCK_E / 4, "proportion"), (3.5, "not the expected")],
                 junk=[7, "x", "1/0"],
                 forbidden=["2.83", "17/6"]),
    "03.4": dict(fn=ex03.check_efron_limit,
                 right=[float(EFRON), "62.5%", 62.5, "5/8", 0.63],
                 wrong=[(2 / 3, "unbalanced"), (0.5, "pure chance"), (0.3, "not the long-run")],
                 junk=["x", 300, True],
                 forbidden=["0.625", "62.5", "5/8"]),
    "04.1": dict(fn=ex04.check_deaths_by_24,
                 right=[_deaths_b_24(), str(_deaths_b_24()), float(_deaths_b_24())],
                 wrong=[(_deaths_b_24() + 1, "not the number")],
                 junk=[4.5, "x", [47]],
                 forbidden=[str(_deaths_b_24())]),
    "04.3": dict(fn=ex04.check_primary_population,
                 right=["ITT", "intention-to-treat", "Intent to treat", "all randomized patients",
                        "All randomised patients", " full analysis set ", "intention to treat population"],
                 wrong=[("per-protocol", "after randomization"), ("as treated", "after randomization")],
                 junk=["safety", 0, None.__class__],
                 forbidden=["intention", "intent", "ITT", "all randomized"]),
    "04.5": dict(fn=ex04.check_survival_difference,
                 right=[round(_km_difference(), 3), f"{100 * _km_difference():.1f}%", round(100 * _km_difference(), 1)],
                 wrong=[(-round(_km_difference(), 3), "sign"), (0.59, "one arm"), (0.3, "not the difference")],
                 junk=["x", 250],
                 forbidden=[f"{_km_difference():.3f}", f"{100 * _km_difference():.1f}"]),
    "04.6": dict(fn=ex04.check_progression_incidence,
                 right=[round(_aalen_johansen("B", 36), 3), f"{100 * _aalen_johansen('B', 36):.1f}%",
                        round(100 * _aalen_johansen("B", 36), 1)],
                 wrong=[(round(_one_minus_km_lrp("B", 36), 3), "deaths censored"),
                        (round(_aalen_johansen("A", 36), 3), "arm A"),
                        (round(_aalen_johansen("B", 24), 3), "24 months"),
                        (0.9, "not arm B")],
                 junk=["x", 250, -0.1],
                 forbidden=[f"{_aalen_johansen('B', 36):.3f}", f"{100 * _aalen_johansen('B', 36):.1f}"]),
    "04.7": dict(fn=ex04.check_qol_strategy,
                 right=["while alive", "While-alive", " while alive strategy "],
                 wrong=[("composite", "worst quality of life"), ("treatment policy", "after death"),
                        ("hypothetical", "cannot be observed"), ("competing risks", "time to an event"),
                        ("principal stratum", "strong assumptions")],
                 junk=[3, "maybe", None.__class__],
                 forbidden=["while alive", "while-alive"]),
}


def _standardized_by_hand() -> float:
    """S_A(24) - S_B(24) standardized over the protocol trial's patients, by hand: the Cox
    coefficients, a Breslow baseline written out (Efron differs only at the file's two tied death
    times, far inside the checker's half a point), predictions with the arm set to A and to B."""
    from trialnb.survival import fit_cox

    d = an.primary_data(load_trial(DATA / "trial_protocol.csv"))
    X = np.column_stack([d["arm"].eq("A"), d["dominant_site"].eq("soft_tissue"), d["dominant_site"].eq("visceral"),
                         d["hormone_receptor"].eq("negative"), d["her2"].eq("positive")]).astype(float)
    t, e = d["os_months"].to_numpy(), d["death"].to_numpy()
    b = fit_cox(t, e, X).coef
    risk = np.exp(X @ b)
    lam = sum(((t == u) & (e == 1)).sum() / risk[t >= u].sum() for u in np.unique(t[e == 1]))
    s = [np.exp(-lam * np.exp(np.column_stack([np.full(len(t), a), X[:, 1:]]) @ b)).mean() for a in (1.0, 0.0)]
    return float(s[0] - s[1])


def _pooled_strata_by_hand() -> int:
    """Bone and soft tissue together, HER2 dropped: every stratum then holds >= 10 patients (and
    bone and soft tissue together alone would leave a smaller one)."""
    df = load_trial(DATA / "trial_protocol.csv")
    site = df["dominant_site"].replace({"soft_tissue": "bone"})
    assert df.assign(site=site).groupby(["site", "hormone_receptor", "her2"]).size().min() < 10
    sizes = df.assign(site=site).groupby(["site", "hormone_receptor"]).size()
    assert sizes.min() >= 10
    return len(sizes)


STD_DIFF = _standardized_by_hand()
CASES["04.8"] = dict(fn=ex04.check_standardized_difference,
                     right=[round(STD_DIFF, 3), f"{100 * STD_DIFF:.1f}%", round(100 * STD_DIFF, 1)],
                     wrong=[(-round(STD_DIFF, 3), "sign"), (round(_km_difference("protocol"), 3), "unadjusted"),
                            (0.2, "not the standardized")],
                     junk=["x", 250],
                     forbidden=[f"{STD_DIFF:.3f}", f"{100 * STD_DIFF:.1f}"])
CASES["04.9"] = dict(fn=ex04.check_pooled_strata,
                     right=[_pooled_strata_by_hand(), str(_pooled_strata_by_hand())],
                     wrong=[(12, "before the rule"), (1, "unstratified"), (8, "not the number")],
                     junk=[2.5, "x"],
                     forbidden=[])
CASES["04.10"] = dict(fn=ex04.check_tipping_point,
                     right=["yes", True, "Yes"],
                     wrong=[("no", "still a benefit")],
                     junk=["perhaps", 3],
                     forbidden=[])


def _primary_hrs() -> tuple[float, float]:
    return (an.primary(load_trial(DATA / "trial_protocol.csv")).hazard_ratio,
            an.primary(load_trial(DATA / "trial_null.csv")).hazard_ratio)


HR_PROTOCOL, HR_NULL = _primary_hrs()
CASES["04.2"] = dict(fn=ex04.check_inverse_hr,
                     right=[round(1 / HR_PROTOCOL, 2), f"{1 / HR_PROTOCOL:.3f}"],
                     wrong=[(round(HR_PROTOCOL, 2), "A vs arm B")]
                     # 1 - HR is only a distinct wrong answer when HR is not close to 0.5
                     + ([(round(1 - HR_PROTOCOL, 2), "inverse")] if abs(1 - 2 * HR_PROTOCOL) > 0.02
                        else [(1.5, "not the hazard ratio")]),
                     junk=[-0.5, "x"],
                     forbidden=[f"{1 / HR_PROTOCOL:.2f}"])
CASES["04.4"] = dict(fn=ex04.check_null_hr,
                     right=[round(HR_NULL, 2), f"{HR_NULL:.3f}"],
                     wrong=[(1.0, "true hazard ratio"), (round(1 / HR_NULL, 2), "B vs arm A")],
                     junk=[0, "none"],
                     forbidden=[f"{HR_NULL:.2f}"])


# notebook 07's simulation-based exercises (the answers recomputed by the checker on the plan)
CASES["07.1"] = dict(fn=ex07.check_best_analysis_delayed, right=["fh01", "FH(0,1)", " FH01 "],
                     wrong=[("logrank", "weighs the first months"), ("rmst", "integrates the whole"),
                            ("milestone", "only where the curves are")],
                     junk=["x", 3], forbidden=["fh01 has"])
CASES["07.2"] = dict(fn=ex07.check_rmst_difference, right=[2.35, "2.35", 2.3, "2,35"],
                     wrong=[(0.17, "difference in 2-year survival"), (5.0, "not the area")],
                     junk=["x"], forbidden=["2.35"])
CASES["07.3"] = dict(fn=ex07.check_crossing_directions, right=["no", False, "No"],
                     wrong=[("yes", "RMST difference"), (True, "RMST difference")],
                     junk=["maybe", 3], forbidden=[])

# One contract for every notebook's exercises: the cases of 05, 07.4-07.5 and 08 are written
# next to their independent derivations (tests/test_exercises_monitoring.py,
# test_exercises_supplementary.py, test_exercises_evidence.py) and checked here.
from test_exercises_evidence import CASES as CASES_08  # noqa: E402
from test_exercises_monitoring import CASES as CASES_05  # noqa: E402
from test_exercises_supplementary import CASES as CASES_07  # noqa: E402

CASES.update(CASES_05)
CASES.update(CASES_07)
CASES.update(CASES_08)
SIMULATED = ("06.1", "06.2", "06.3")  # their answers come from a simulation: checked in the 06 tests below


def test_every_registered_exercise_has_a_case():
    """Every checker of every notebook's exercise module is registered, and every registered
    exercise is in the contract below (or is one of 06's simulation-based ones)."""
    for mod in (ex00, ex01, ex02, ex03, ex04, ex05, ex06, ex07, ex08):
        checkers = [n for n in mod.__all__ if n.startswith("check_")]
        assert checkers, mod.__name__
        for name in checkers:
            get_exercise(getattr(mod, name))
        functions = {n for n, v in vars(mod).items()
                     if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == mod.__name__}
        assert functions <= set(mod.__all__) and all(hasattr(mod, n) for n in mod.__all__), mod.__name__
    assert set(EXERCISES) == set(CASES) | set(SIMULATED)
    for key, case in CASES.items():
        assert get_exercise(key).checker is case["fn"], key


@pytest.mark.parametrize("key", sorted(CASES))
def test_right_answer_in_every_form(key: str):
    case = CASES[key]
    for answer in case["right"]:
        v = case["fn"](answer)
        assert isinstance(v, Verdict) and v.correct and v.status == "right", (answer, str(v))
        assert v.message.startswith("Right: ") and bool(v)


@pytest.mark.parametrize("key", sorted(CASES))
def test_wrong_answer_is_explained(key: str):
    case = CASES[key]
    for answer, why in case["wrong"]:
        v = case["fn"](answer)
        assert v.status == "wrong" and not v.correct, (answer, str(v))
        assert v.message.startswith("Not yet: ") and why in v.message, (answer, v.message)
        assert hint(key, 1) in v.message  # a wrong answer comes with the nudge


@pytest.mark.parametrize("key", sorted(CASES) + list(SIMULATED))
def test_unanswered_says_no_answer_yet_and_the_first_hint(key: str):
    fn = get_exercise(key).checker
    v = fn(None)
    assert v.status == "unanswered" and not v.correct
    assert v.message.startswith("No answer yet: replace None") and hint(key, 1) in v.message
    assert hint(key, 2) not in v.message
    assert hint(key, 2) in fn(None, hint=2).message


@pytest.mark.parametrize("key", sorted(CASES))
def test_junk_gives_a_clear_message_not_an_exception(key: str):
    case = CASES[key]
    for answer in case["junk"]:
        v = case["fn"](answer)
        assert v.status in ("invalid", "wrong"), (answer, str(v))
        if v.status == "invalid":
            assert v.message.startswith("Cannot check: ") and re.search(r"\b(give|use)\b", v.message), v.message


@pytest.mark.parametrize("key", sorted(CASES))
def test_hints_are_staged_and_do_not_give_the_answer(key: str):
    h1, h2 = hint(key, 1), hint(key, 2)
    assert h1.startswith("Hint 1: ") and h2.startswith("Hint 2: ") and h1[8:] != h2[8:]
    assert len(h2) > len(h1) * 0.8  # the method says more than the nudge
    for word in CASES[key]["forbidden"]:
        assert word.lower() not in h1.lower(), (key, word)
    numeric = [w for w in CASES[key]["forbidden"] if re.fullmatch(r"[-\d./%]+", w)]
    for word in numeric:
        assert word not in h2, (key, word)
    # asking for a hint with a right answer keeps the verdict and adds the hints
    v = CASES[key]["fn"](CASES[key]["right"][0], hint=2)
    assert v.correct and h1 in v.message and h2 in v.message


def test_hint_levels_are_checked():
    for bad in (0, 3, -1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="hint level"):
            hint("02.2", bad)
    with pytest.raises(ValueError, match="hint level"):
        ex02.check_accrual_n(144, hint=5)
    with pytest.raises(ValueError, match="unknown exercise"):
        hint("99.9")
    assert hint(ex02.check_accrual_n, 1) == hint("02.2", 1)


# --- the specific defects of issue 16 ---------------------------------------------------------

def test_02_exercise_2_accepts_the_notebooks_rounding_and_explains_it():
    v = ex02.check_accrual_n(144)
    assert v.correct and "even total" in v.message and "72" in v.message


def test_04_exercise_3_accepts_all_randomized_patients():
    assert ex04.check_primary_population("all randomized patients").correct
    assert ex04.check_primary_population("All Randomised Patients.").correct


def test_06_every_exercise_checks_itself():
    assert {"06.1", "06.2", "06.3"} <= set(EXERCISES)


# --- 06 against an independent simulation ----------------------------------------------------

def test_06_power_with_non_compliance_against_another_seed():
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate
    other = simulate(PLAN, 2000, seed=12345, truth={"non_compliance": 0.25}).power
    for answer in (round(other, 2), f"{100 * other:.0f}%", round(100 * other, 1)):
        assert ex06.check_power_answer(answer).correct, answer
    assert ex06.check_power_answer(0.8).status == "wrong"
    assert "80%" in ex06.check_power_answer(0.8).message
    assert ex06.check_power_answer("lots").status == "invalid"
    assert "0.55" not in hint("06.1", 1) and "55%" not in hint("06.1", 2)


def test_06_sample_size_band_agrees_with_simulation():
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate
    assert ex06.check_n_for_mf07(560).correct
    assert simulate(PLAN.with_changes(hazard_ratio=0.66, n_patients=560), 2000, seed=7).power == pytest.approx(
        0.80, abs=0.03)
    assert ex06.check_n_for_mf07(600).correct and ex06.check_n_for_mf07("540").correct
    v = ex06.check_n_for_mf07(400)
    assert v.status == "wrong" and "power only" in v.message
    assert "one arm" in ex06.check_n_for_mf07(280).message
    assert "more than needed" in ex06.check_n_for_mf07(900).message
    assert ex06.check_n_for_mf07(2).status == "invalid" and ex06.check_n_for_mf07("x").status == "invalid"
    assert "558" not in hint("06.2", 1) + hint("06.2", 2) and "560" not in hint("06.2", 1)


def test_06_adjustment_gain_is_not_a_smaller_standard_error():
    """06.3 against an independent computation: on other trials (another seed) the adjusted Cox
    model's standard errors are not smaller than the log-rank test's, its estimates are further
    from 0, and the conditional limit is further from 1 than the marginal one (non-collapsibility)."""
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate
    a = simulate(PLAN, 2000, seed=777, analyses=("cox_wald", "logrank"))
    b = simulate(PLAN, 2000, seed=777, analyses=("logrank", "cox_wald"))
    se_cox = np.nanmean(a.estimate / a.z["cox_wald"])
    se_lr = np.nanmean(b.estimate / b.z["logrank"])
    assert se_cox >= se_lr and np.nanmean(a.estimate) < np.nanmean(b.estimate) < 0
    assert a.benefit("cox_wald") > a.benefit("logrank")
    truth = ex06._adjustment()
    assert truth["conditional"] == pytest.approx(0.5, rel=1e-9) and truth["marginal"] > 0.505
    for answer in ("no", False, " No ", "larger", "the estimate"):
        v = ex06.check_adjustment_gain(answer)
        assert v.correct, answer
        assert "non-collapsible" in v.message
    v = ex06.check_adjustment_gain("yes")
    assert v.status == "wrong" and "Compare the estimates" in v.message and "non-collapsible" not in v.message
    assert ex06.check_adjustment_gain(42).status == "invalid"
    assert "no" not in hint("06.3", 1).lower().split()


# --- the helper itself ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("80%", 0.8), (80, 0.8), (0.8, 0.8), (" 80 % ", 0.8), ("0.8", 0.8), (np.float64(0.8), 0.8), ("4/5", 0.8),
    (1, 1.0), ("100%", 1.0), (0, 0.0),
])
def test_parse_proportion_forms(raw, value):
    assert parse_proportion(raw) == pytest.approx(value)


def test_parse_signed_and_errors():
    assert parse_proportion("-5%", signed=True) == pytest.approx(-0.05)
    assert parse_proportion(-1.3, signed=True) == pytest.approx(-0.013)
    for bad in ("-5%", 150, "x", True, None, float("nan"), [0.5]):
        with pytest.raises(AnswerError, match="proportion"):
            parse_proportion(bad)


def test_parse_number_count_choice():
    assert parse_number("1,234") == 1234 and parse_number(" 17/6 ") == pytest.approx(17 / 6)
    assert parse_number("0,39") == 0.39 and parse_proportion("39,3 %") == pytest.approx(0.393)
    assert parse_number("\u22120.5") == -0.5 and parse_number(np.array(2.5)) == 2.5
    assert parse_count("144") == 144 and parse_count(144.0) == 144
    with pytest.raises(AnswerError, match="not whole"):
        parse_count(143.5)
    for bad in ("1e999", "inf", "", "two", object()):
        with pytest.raises(AnswerError):
            parse_number(bad)
    assert parse_choice("  Per-Protocol ", {"pp": ("per protocol",)}) == "pp"
    with pytest.raises(AnswerError, match="'pp'"):
        parse_choice("other", {"pp": ()})
    assert parse_yes_no("YES") is True and parse_yes_no(False) is False
    with pytest.raises(AnswerError):
        parse_yes_no(1)


def test_verdict_prints_and_renders():
    v = ex00.check_answer_strata(24)
    assert str(v).startswith("Exercise 00.2. Right: ") and repr(v) == str(v)
    html = v._repr_html_()
    assert "trialnb-verdict-right" in html and "<strong" in html and "Right:" in html
    w = ex00.check_answer_strata("<b>")
    assert w.status == "invalid" and "<b>" not in w._repr_html_() and "&lt;b&gt;" in w._repr_html_()


def test_one_message_style():
    seen = set()
    for key in CASES:
        fn = CASES[key]["fn"]
        for answer in (None, CASES[key]["right"][0], CASES[key]["wrong"][0][0], CASES[key]["junk"][0]):
            v = fn(answer)
            prefix = v.message.split(":", 1)[0]
            assert prefix in ("Right", "Not yet", "No answer yet", "Cannot check"), v.message
            seen.add(v.status)
    assert seen == {"right", "wrong", "unanswered", "invalid"}


# --- the notebooks ----------------------------------------------------------------------------

LEGACY_CHECKERS = {
    # the exercise checkers that lived in library modules before trialnb.exercises
    "check_answer_strata", "check_answer_screen", "check_immortal_time_fix", "check_will_rogers",
    "check_apparent_hr", "check_events_for_target", "check_accrual_n", "check_power_at_hr",
    "check_loss_inflation", "check_minimization_choice", "check_block_formula", "check_efron_limit",
    "check_deaths_by_24", "check_inverse_hr", "check_primary_population", "check_null_hr",
    "check_survival_difference", "check_power_answer",
}
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _cells(py: Path) -> list[tuple[str, str]]:
    cells: list[tuple[str, list[str]]] = []
    for line in py.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            cells.append(("markdown" if "[markdown]" in line else "code", []))
        elif cells:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip()) for kind, lines in cells]


def _exercise_code_cells(py: Path) -> list[str]:
    cells = _cells(py)
    start = next(i for i, (k, s) in enumerate(cells) if k == "markdown" and "## Exercises" in s)
    end = next(i for i, (k, s) in enumerate(cells) if k == "markdown" and "## Glossary" in s)
    return [s for k, s in cells[start + 1:end] if k == "code"]


def _exercise_imports(code: str) -> dict[str, str]:
    names = {}
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = node.module
        elif isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name
    return names


def test_there_are_notebooks_with_exercises():
    assert {p.name[:2] for p in NOTEBOOKS} >= {"00", "01", "02", "03", "04", "05", "06"}


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_starts_unanswered_and_calls_a_trialnb_exercises_checker(py: Path):
    code_cells = _exercise_code_cells(py)
    imported = _exercise_imports("\n".join(code_cells))
    exercise_cells = [c for c in code_cells if re.search(r"\banswer\b", c)]
    assert len(exercise_cells) >= 2, py.name
    for cell in exercise_cells:
        assert re.search(r"^answer = None$", cell, re.M), (py.name, cell)
        calls = [n.func for n in ast.walk(ast.parse(cell)) if isinstance(n, ast.Call)]
        names = [f.id for f in calls if isinstance(f, ast.Name) and f.id.startswith("check_")]
        assert names, (py.name, cell)
        for name in names:
            assert imported.get(name, "").startswith("trialnb.exercises"), (py.name, name)
    # nothing answered in the cell: the only assignment of `answer` is None
    for cell in code_cells:
        for node in ast.walk(ast.parse(cell)):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "").startswith("answer") for t in node.targets):
                assert isinstance(node.value, ast.Constant) and node.value.value is None, (py.name, cell)


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_cells_call_exactly_the_notebooks_registered_checkers(py: Path):
    """Notebook NN's exercise cells call every exercise registered as "NN.k", and only those:
    a checker written outside the verdict helper (not registered) fails here."""
    import importlib
    code_cells = _exercise_code_cells(py)
    imported = _exercise_imports("\n".join(code_cells))
    called = set()
    for cell in code_cells:
        for node in ast.walk(ast.parse(cell)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"):
                fn = getattr(importlib.import_module(imported[node.func.id]), node.func.id)
                called.add(get_exercise(fn).key)
    assert called == {k for k in EXERCISES if k[:2] == py.name[:2]}, py.name


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_never_take_a_checker_from_a_library_module(py: Path):
    """No exercise checker (a registered one, or one of the old library-module names) is taken
    from anywhere but trialnb.exercises; validators such as protocol.check_patient_factors are
    not exercise checkers."""
    checkers = {e.checker.__name__ for e in EXERCISES.values()} | LEGACY_CHECKERS
    code = "\n".join(s for k, s in _cells(py) if k == "code")
    tree = ast.parse(code)
    imported = _exercise_imports(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("trialnb"):
            for a in node.names:
                if a.name in checkers:
                    assert node.module.startswith("trialnb.exercises"), (py.name, node.module, a.name)
        if isinstance(node, ast.Attribute) and node.attr in checkers and isinstance(node.value, ast.Name):
            assert imported.get(node.value.id, "").startswith("trialnb.exercises"), (py.name, node.value.id, node.attr)


@pytest.mark.parametrize("py", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_exercise_cells_say_no_answer_yet(py: Path):
    ipynb = py.with_suffix(".ipynb")
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"]
             if c["cell_type"] == "code" and re.search(r"^answer = None$", "".join(c["source"]), re.M)]
    assert cells, ipynb.name
    for c in cells:
        text = json.dumps(c["outputs"])
        assert "No answer yet" in text and "Hint 1" in text, (ipynb.name, "".join(c["source"]))
