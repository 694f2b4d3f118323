"""Engine and one-trial edge cases (issue 24, part 2): every public function of the survival
engine and of the one-trial layer either answers or refuses with a named error saying what was
wrong and what is allowed; where an estimate does not exist, the result says so and why (NaN
with a reason, never a number that is not one); the DMC report at 1 to 8 deaths never shows an
engine's crash or a lifelines message and says what it shows instead."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import trialnb.errors as E
from trialnb import survival as sv
from trialnb.analysis import maxcombo, milestone, primary, rmst_difference, weighted_logrank
from trialnb.data import load_trial
from trialnb.errors import SurvivalDataError, TrialAnalysisError
from trialnb.interim import death_month, interim_report, report_json, text_report
from trialnb.plan import PLAN

NAMED = tuple(c for c in vars(E).values() if isinstance(c, type) and issubclass(c, Exception)
              and c.__module__ == "trialnb.errors")
T = np.array([1.0, 2, 3, 4, 5, 6])
EV = np.array([1, 0, 1, 1, 0, 1])
G = np.array([0, 0, 0, 1, 1, 1])


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return load_trial("data/trial_protocol.csv")


# ---- the engine: named errors that say what is allowed ----------------------------------------

@pytest.mark.parametrize("call,match", [
    (lambda: sv.fit_cox(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5, 1))), "batch of 0 trials"),
    (lambda: sv.logrank(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5))), "batch of 0 trials"),
    (lambda: sv.fh_statistics(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5))), "batch of 0 trials"),
    (lambda: sv.trial_statistics(np.empty((0, 5)), np.empty((0, 5)), np.empty((0, 5)), 3.0), "batch of 0 trials"),
    (lambda: sv.fit_cox([], [], np.empty((0, 1))), "at least one observation"),
    (lambda: sv.logrank([], [], []), "at least one observation"),
    (lambda: sv.logrank(T, np.array(["yes"] * 6), G), "event must contain only 0/1"),
    (lambda: sv.fit_cox(T, np.array(["yes"] * 6), G[:, None]), "event must contain only 0/1"),
    (lambda: sv.logrank(T, EV, np.array(["A"] * 6)), "group must contain only 0/1"),
    (lambda: sv.logrank(None, None, None), "time is missing"),
    (lambda: sv.fit_cox(T, EV, None), "covariates are missing"),
    (lambda: sv.fit_cox(T, EV, np.array([["a"]] * 6)), "covariates must be numbers"),
    (lambda: sv.fit_cox(T, EV, G[:, None], names="x"), "one name"),
    (lambda: sv.fit_cox(T, EV, G[:, None], engine="gpu"), "engine must be one of"),
    (lambda: sv.fh_statistics(T, EV, G, weights=["a"]), "weights must be"),
    (lambda: sv.fh_statistics(T, EV, G, weights=[(True, False)]), "a bool is not a number"),
    (lambda: sv.fh_statistics(T, EV, G, weights=[(1.0,)]), "weights must be"),
    (lambda: sv.logrank(T, EV, G, rho=True), "rho must be a number"),
    (lambda: sv.maxcombo_reject(np.ones((1, 2)), np.eye(2)[None], 2.0), "alpha must lie"),
    (lambda: sv.maxcombo_reject(np.ones((1, 2)), np.eye(2)[None], True), "alpha must be a number"),
    (lambda: sv.maxcombo_pvalue([], np.eye(0)), "z must be"),
    (lambda: sv.trial_statistics(T[None], EV[None], G[None], -1.0), "tau must be"),
    (lambda: sv.split_at(T, EV, np.array(["a"] * 6)), "switch must be numbers"),
    (lambda: sv.zph_test(T, EV, G[:, None].astype(float), [1.0, 2.0]), "beta must hold one"),
    (lambda: sv.zph_test(T, 0 * EV, G[:, None].astype(float), [0.0]), "at least one death"),
])
def test_engine_input_is_refused_by_name(call, match) -> None:
    with pytest.raises(SurvivalDataError, match=match):
        call()


def test_engine_edge_data_answers_with_its_conventions() -> None:
    """All censored, all tied, one patient per arm, one arm empty: numbers where they exist, NaN
    where they do not, the reason visible (variance 0, not converged, singular), never a crash."""
    lr = sv.logrank(T, 0 * EV, G)  # all censored: no information
    assert lr.variance == 0 and math.isnan(lr.z)
    lr = sv.logrank(np.full(6, 3.0), EV, G)  # all tied, deaths in both arms: a finite test
    assert lr.variance > 0 and math.isfinite(lr.z)
    one = sv.logrank(np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 1]))
    assert one.variance == 0.25 and one.z == -1.0
    none = sv.fit_cox(T, 0 * EV, G[:, None].astype(float))  # no events: R's iter 0, NA
    assert none.converged and none.iterations == 0 and not none.usable(0) and "no events" in none.summary()
    flat = sv.fit_cox(T, EV, np.zeros((6, 1)))  # one arm empty: the arm column is constant, singular
    assert math.isnan(float(flat.coef[0])) and not flat.usable(0)
    no_a = sv.fit_cox(T, np.array([1, 1, 1, 0, 0, 0]), G[:, None].astype(float))  # no death in arm 1
    assert not no_a.usable(0)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 10**6), censor=st.floats(0, 1), tie=st.booleans(),
       one_arm=st.booleans())
def test_engine_never_crashes_on_small_degenerate_data(n, seed, censor, tie, one_arm) -> None:
    rng = np.random.default_rng(seed)
    t = np.round(rng.exponential(5, n), 0 if tie else 6)
    e = (rng.random(n) >= censor).astype(int)
    g = np.zeros(n, int) if one_arm else rng.integers(0, 2, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call in (lambda: sv.logrank(t, e, g), lambda: sv.fh_statistics(t, e, g),
                     lambda: sv.fit_cox(t, e, g[:, None].astype(float)), lambda: sv.kaplan_meier(t, e),
                     lambda: sv.fit_cox(t, e, g[:, None].astype(float), engine="numpy")):
            try:
                res = call()
            except NAMED:
                continue
            if isinstance(res, sv.CoxResult) and res.usable(0):
                assert math.isfinite(float(res.coef[0])) and math.isfinite(float(res.se[0]))
            if isinstance(res, sv.LogrankResult) and res.variance > 0:
                assert math.isfinite(res.z)


# ---- the one-trial layer ----------------------------------------------------------------------

def _with(df: pd.DataFrame, **cols) -> pd.DataFrame:
    out = df.copy()
    for k, v in cols.items():
        out[k] = v
    return out


def test_no_death_in_an_arm_says_the_estimate_does_not_exist(trial) -> None:
    df = trial.copy()
    df.loc[df["arm"] == "A", "death"] = 0
    res = primary(df)
    assert not res.estimable and math.isnan(res.hazard_ratio) and math.isnan(res.p_value)
    assert "no death in arm A" in res.reason and "no finite estimate" in res.reason
    assert "too few" not in res.reason  # 45 deaths are not too few: arm A has none
    assert "log-rank z" in res.shown_instead and "descriptive only" in res.shown_instead
    assert "shown instead" in res.summary() and not res.reject
    df2 = trial.copy()
    df2.loc[df2["arm"] == "B", "death"] = 0
    assert "infinite in these data" in primary(df2).reason


@pytest.mark.parametrize("deaths", range(1, 9))
def test_the_dmc_report_at_few_deaths_says_why_and_what_it_shows(trial, deaths) -> None:
    month = death_month(trial, deaths)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning leaks from the engine
        rep = interim_report(trial, month, predict=False)
    txt = " ".join(text_report(rep).lower().split())  # the text wraps lines: compare words
    for leak in ("lifelines", "convergence halted", "matrix inversion", "traceback", " nan", "inf "):
        assert leak not in txt
    js = json.dumps(report_json(rep), allow_nan=False)
    if rep.primary.estimable:
        assert math.isfinite(rep.primary.hazard_ratio) and rep.decision != "no estimate"
        if rep.primary.notes:  # a factor level without deaths: the deaths are few for the model
            assert "are few for the planned model" in txt or "set aside" in txt
    else:
        assert rep.decision == "no estimate" and "shown instead" in txt
        assert ("too few for the planned model" in txt) or ("no death in arm" in txt)
        assert json.loads(js)["shown_instead"]


def test_the_report_at_four_deaths_says_too_few_for_the_planned_model(trial) -> None:
    rep = interim_report(trial, death_month(trial, 4), predict=False)
    assert not rep.primary.estimable
    assert "4 deaths are too few for the planned model (5 coefficients" in rep.primary.reason
    assert rep.primary.shown_instead.startswith("the deaths by arm (A 1, B 3)")


@pytest.mark.parametrize("call,cls,match", [
    (lambda df: maxcombo(_with(df, death=0)), TrialAnalysisError, "needs deaths"),
    (lambda df: weighted_logrank(_with(df, death=0)), TrialAnalysisError, "variance is 0"),
    (lambda df: maxcombo(_with(df, death="yes")), TrialAnalysisError, "death"),
    (lambda df: maxcombo(df, weights=["a"]), SurvivalDataError, "weights must be"),
    (lambda df: maxcombo((np.array([]), np.array([]), np.array([]))), TrialAnalysisError, "no patients"),
    (lambda df: maxcombo((np.array([1.0, 2.0]), np.array(["yes", "no"]), np.array([0, 1]))), TrialAnalysisError,
     "event must hold 0"),
    (lambda df: primary(df, PLAN.analysis), TrialAnalysisError, "plan must be a trialnb.plan.TrialPlan"),
])
def test_one_trial_functions_refuse_by_name(trial, call, cls, match) -> None:
    with pytest.raises(cls, match=match):
        call(trial)


def test_milestone_and_rmst_without_variance_say_why_there_is_no_test(trial) -> None:
    m = milestone(_with(trial, death=0))
    assert m.survival_a == m.survival_b == 1 and math.isnan(m.z) and "no death up to 24 months" in m.reason
    assert "no test" in m.summary() and "nan" not in m.summary().lower()
    r = rmst_difference(_with(trial, death=0))
    assert r.difference == 0 and math.isnan(r.z) and "no test" in r.summary()
    tiny = (np.array([2.0, 2.5]), np.array([1, 1]), np.array([1, 0]))
    m = milestone(tiny, 3.0)  # both curves at 0: the Greenwood variance is not defined there
    assert m.survival_a == m.survival_b == 0 and "reached 0" in m.reason
    assert milestone(trial).reason == "" and rmst_difference(trial).reason == ""


def test_maxcombo_on_all_tied_and_one_patient_per_arm(trial) -> None:
    """One death time: S(t-) = 1 there, so FH(0,1) and FH(1,1) weigh it 0 and have no variance:
    refused, naming the statistics; the log-rank test alone exists."""
    tied = (np.full(8, 5.0), np.array([1, 0, 1, 0, 1, 0, 1, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1]))
    with pytest.raises(TrialAnalysisError, match="positive variance"):
        maxcombo(tied)
    assert math.isfinite(weighted_logrank(tied).z)
    with pytest.raises(TrialAnalysisError, match="positive variance"):
        maxcombo((np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 1])))
    assert weighted_logrank((np.array([1.0, 2.0]), np.array([1, 1]), np.array([0, 1]))).z == -1.0
