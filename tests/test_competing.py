"""Competing risks in the survival engine (trialnb.survival.competing) and its one-trial adapter
(trialnb.analysis.competing), like a reviewer would check them:

* equal to R cmprsk 2.2 (Gray's own code: cuminc, timepoints, crr) on hand cases with ties, a
  simulated case with three groups and strata, and the shipped trials' two competing-risks
  endpoints (committed JSON from tests/reference/cmprsk_reference.R, which
  tests/test_reference_scripts.py re-runs in CI);
* properties (hypothesis): the cumulative incidences of all causes and the overall Kaplan-Meier
  survival sum to 1; with no competing event the CIF is 1 - Kaplan-Meier and its variance has
  the closed form S(t)^2 sum d_j / ((n_j - 1)(n_j - d_j)); Gray's test does not depend on the
  order of the groups, and one stratum is no stratification; Fine-Gray with no competing event is
  the Cox model (Breslow ties) with the Lin-Wei robust variance;
* named errors for bad input.

Tolerances: cumulative incidence and its variance are exact sums (1e-12 absolute); Gray's
statistic 1e-10 relative; Fine-Gray coefficients 1e-7 and variances 1e-6 relative (R stops its
Newton iterations on a gradient criterion, gtol 1e-10, ours on the log-likelihood).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import analysis as an
from trialnb import survival as sv
from trialnb.data import load_trial
from trialnb.errors import OutsideDataError, TrialAnalysisError

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
SCRIPT = REF / "cmprsk_reference.R"
R = json.loads((REF / "cmprsk_reference.json").read_text())
ENDPOINTS = {"unplanned_therapy": "unplanned_local_therapy", "locoregional": "locoregional_progression"}
TRIALS = sorted(k for k in R["results"] if k.startswith("trial_"))


def _input(name: str) -> dict[str, np.ndarray]:
    d = R["inputs"][name]
    return {k: np.asarray(v) for k, v in d.items()}


def _cases() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]]:
    """(name, time, status, group, strata, X, R results) of every input R analysed."""
    out = []
    for name in ("hand_ties", "simulated"):
        d = _input(name)
        out.append((name, d["time"].astype(float), d["status"].astype(int), d["group"], d["strata"],
                    np.column_stack([d["x1"], d["x2"]]).astype(float), R["results"][name]))
    for trial in TRIALS:
        df = load_trial(ROOT / "data" / f"{trial}.csv")
        for key, endpoint in ENDPOINTS.items():
            c = an.competing_data(df, endpoint)
            X = np.column_stack([c["arm"] == "A", c["dominant_site"] == "soft_tissue", c["dominant_site"] == "visceral",
                                 c["hormone_receptor"] == "negative", c["her2"] == "positive"]).astype(float)
            strata = c[["dominant_site", "hormone_receptor", "her2"]].astype(str).agg("|".join, axis=1).to_numpy()
            out.append((f"{trial}/{key}", c["time"].to_numpy(float), c["status"].to_numpy(), c["arm"].to_numpy(),
                        strata, X, R["results"][trial][key]))
    return out


CASES = _cases()
IDS = [c[0] for c in CASES]


# ---------------------------------------------------------------------------- equal to R cmprsk
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_cumulative_incidence_curves_equal_cuminc(case) -> None:
    name, t, s, g, _, _, ref = case
    ci = sv.cumulative_incidence(t, s, g)
    assert len(ref["curves"]) == len(ci.groups) * len(ci.causes)
    for key, curve in ref["curves"].items():
        grp, cause = key.split(" ")
        tt, F, V = ci.curve(grp, int(cause))
        # cuminc's vectors hold the corners of the step function: 0, (t1, t1), (t2, t2), ..., last time
        rt, rf, rv = (np.asarray(curve[k], float) for k in ("time", "est", "var"))
        np.testing.assert_array_equal(tt, rt[2:-1:2])
        np.testing.assert_allclose(F, rf[2:-1:2], rtol=0, atol=1e-12)
        np.testing.assert_allclose(V, rv[2:-1:2], rtol=0, atol=1e-12)
        assert rt[-1] == ci.last_time[grp]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_timepoints_equal_cmprsk(case) -> None:
    """Estimates and variances at fixed months, NA beyond a group's last follow-up (timepoints)."""
    _, t, s, g, _, _, ref = case
    tp = ref["timepoints"]
    at = sv.cumulative_incidence(t, s, g).at(tp["times"])
    for i, row in enumerate(tp["rows"]):
        grp, cause = row.split(" ")
        ours = at[(at["group"] == grp) & (at["cause"] == int(cause))]
        est = np.array([np.nan if v is None else v for v in tp["est"][i]], float)
        var = np.array([np.nan if v is None else v for v in tp["var"][i]], float)
        np.testing.assert_allclose(ours["estimate"].to_numpy(), est, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours["variance"].to_numpy(), var, rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("kind", ["gray", "gray_strata", "gray_rho1"])
def test_gray_test_equals_cuminc(case, kind: str) -> None:
    _, t, s, g, strata, _, ref = case
    for cause, r in ref[kind].items():
        res = sv.gray_test(t, s, g, cause=int(cause), strata=strata if kind == "gray_strata" else None,
                           rho=1.0 if kind == "gray_rho1" else 0.0)
        assert res.statistic == pytest.approx(r["stat"], rel=1e-10)
        assert res.p_value == pytest.approx(r["p"], rel=1e-8, abs=1e-14)
        assert res.df == r["df"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fine_gray_equals_crr(case) -> None:
    _, t, s, _, _, X, ref = case
    for key, r in ref["crr"].items():
        fit = sv.fine_gray(t, s, X, cause=int(key.split("_")[1]))
        assert fit.converged
        np.testing.assert_allclose(fit.coef, r["coef"], rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(fit.cov, np.asarray(r["var"], float), rtol=1e-6, atol=1e-12)
        assert fit.loglik == pytest.approx(r["loglik"], rel=1e-10)
        assert fit.loglik_null == pytest.approx(r["loglik_null"], rel=1e-12)


def test_analysis_adapter_reports_the_engine_on_the_shipped_data() -> None:
    """analysis.competing_risks: the table, Gray's test and the arm's sHR are R's numbers."""
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    ref = R["results"]["trial_protocol"]["locoregional"]
    res = an.competing_risks(df, "locoregional_progression", times=(12, 24, 36, 48))
    assert res.gray.statistic == pytest.approx(ref["gray"]["1"]["stat"], rel=1e-10)
    assert float(res.fine_gray.coef[0]) == pytest.approx(ref["crr"]["cause_1"]["coef"][0], rel=1e-7)
    rows = ref["timepoints"]["rows"]
    for arm in ("A", "B"):
        est = ref["timepoints"]["est"][rows.index(f"{arm} 1")]
        got = res.table[res.table["arm"] == arm]["estimate"].to_numpy()
        np.testing.assert_allclose(got, est, atol=1e-12)
    shr, lo, hi = res.subdistribution_hazard_ratio
    assert lo < shr < hi and shr == pytest.approx(np.exp(ref["crr"]["cause_1"]["coef"][0]), rel=1e-7)
    n = res.counts
    assert int(n["patients"].sum()) == len(df)
    assert int(n["events"].sum()) == int(df["locoregional_progression_month"].notna().sum())
    # a death with no earlier progression is a competing event; deaths after a progression are not counted again
    first_death = (df["death"] == 1) & df["locoregional_progression_month"].isna()
    assert int(n["deaths first"].sum()) == int(first_death.sum())
    assert "Gray's test" in res.summary() and "Fine-Gray" in res.summary()


# ---------------------------------------------------------------------------- properties
@st.composite
def _data(draw, causes: int = 2, groups: int = 1):
    n = draw(st.integers(3, 40))
    t = draw(st.lists(st.integers(1, 12), min_size=n, max_size=n))
    s = draw(st.lists(st.integers(0, causes), min_size=n, max_size=n))
    g = draw(st.lists(st.integers(0, groups - 1), min_size=n, max_size=n))
    return np.asarray(t, float), np.asarray(s), np.asarray(g)


@settings(max_examples=60, deadline=None)
@given(_data(causes=3))
def test_incidences_and_survival_sum_to_one(data) -> None:
    t, s, _ = data
    if not np.any(s > 0):
        return
    ci = sv.cumulative_incidence(t, s)
    km = sv.kaplan_meier(t, (s > 0).astype(int))
    grid = np.unique(np.concatenate([t, t - 0.5]))
    grid = grid[grid <= t.max()]
    at = ci.at(grid)
    total = at.groupby("time")["estimate"].sum().reindex(grid).fillna(0).to_numpy()
    np.testing.assert_allclose(total + km.survival_at_times(grid), 1.0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(_data(causes=1))
def test_without_competing_events_the_cif_is_one_minus_km(data) -> None:
    t, s, _ = data
    if not np.any(s == 1):
        return
    tt, F, V = sv.cumulative_incidence(t, s).curve("all", 1)
    km = sv.kaplan_meier(t, s)
    S = km.survival_at_times(tt)
    np.testing.assert_allclose(F, 1.0 - S, atol=1e-12)
    # Gray's variance in closed form: S(t)^2 sum_{t_j <= t} d_j / ((n_j - 1)(n_j - d_j)) while S(t) > 0
    d, n = km.events.astype(float), km.at_risk.astype(float)
    for k, x in enumerate(tt):
        if S[k] <= 0:
            continue
        j = (km.time <= x) & (d > 0)
        closed = S[k] ** 2 * np.sum(d[j] / ((n[j] - 1.0) * (n[j] - d[j])))
        assert V[k] == pytest.approx(closed, rel=1e-10, abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(_data(causes=2, groups=3), st.integers(0, 2**31 - 1))
def test_gray_statistic_does_not_depend_on_group_order_and_one_stratum_is_none(data, seed) -> None:
    t, s, g = data
    if len(np.unique(g)) < 2 or not np.any(s == 1):
        return
    try:
        a = sv.gray_test(t, s, g)
    except ValueError:  # a singular variance (a group without any event) is refused, not tested
        return
    perm = np.random.default_rng(seed).permutation(3)
    b = sv.gray_test(t, s, perm[g])
    c = sv.gray_test(t, s, g, strata=np.zeros(t.size))
    assert b.statistic == pytest.approx(a.statistic, rel=1e-9, abs=1e-12)
    assert c.statistic == pytest.approx(a.statistic, rel=1e-12, abs=1e-14)


def test_fine_gray_without_competing_events_is_cox_with_the_robust_variance() -> None:
    rng = np.random.default_rng(4)
    n = 150
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = np.round(rng.exponential(np.exp(-0.5 * X[:, 0] + 0.3 * X[:, 1]) * 10), 1) + 0.1
    s = (rng.random(n) < 0.7).astype(int)
    fg = sv.fine_gray(t, s, X)
    cox = sv.fit_cox(t, s, X, ties="breslow", tol=1e-12)
    np.testing.assert_allclose(fg.coef, cox.coef, rtol=1e-8)
    robust = sv.weighted_cox(t, s, X, np.ones(n))  # every row its own cluster: Lin & Wei (1989)
    np.testing.assert_allclose(fg.cov, robust.cov, rtol=1e-8)


def test_competing_status_codes_event_death_and_censoring() -> None:
    time, status = sv.competing_status([2.0, np.nan, np.nan, 5.0], [10.0, 7.0, 9.0, 5.0], [10.0, 7.0, 9.0, 5.0],
                                       [1, 1, 0, 1])
    np.testing.assert_array_equal(time, [2.0, 7.0, 9.0, 5.0])
    np.testing.assert_array_equal(status, [1, 2, 0, 1])  # an event in the month of death counts as the event


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda: sv.cumulative_incidence([1, 2], [True, False]), "booleans"),
    (lambda: sv.cumulative_incidence([1, -2], [1, 0]), ">= 0"),
    (lambda: sv.cumulative_incidence([1, 2], [0, 0]), "no event"),
    (lambda: sv.cumulative_incidence([1, 2], [1, 0.5]), "whole numbers"),
    (lambda: sv.gray_test([1, 2, 3], [1, 1, 0], [0, 0, 0]), "two distinct"),
    (lambda: sv.gray_test([1, 2, 3], [1, 1, 0], [0, 1, 0], cause=2), "cause 2 has no event"),
    (lambda: sv.fine_gray([1, 2, 3], [1, 2, 0], [[1, 0]]), "shape"),
    (lambda: sv.competing_status([9.0], [5.0], [5.0], [1]), "cannot come after death"),
])
def test_bad_input_is_refused_with_a_reason(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()


def test_adapter_errors_are_named() -> None:
    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    with pytest.raises(TrialAnalysisError, match="endpoint must be one of"):
        an.competing_risks(df, "qol")
    with pytest.raises(TrialAnalysisError, match="strata must be"):
        an.competing_risks(df, strata="arm")
    bad = df.copy()
    bad.loc[1, "unplanned_local_therapy_month"] = bad.loc[1, "os_months"] + 5
    with pytest.raises(TrialAnalysisError, match="after death or the last follow-up"):
        an.competing_risks(bad)
    ci = an.competing_risks(df).cif
    with pytest.raises(OutsideDataError, match="beyond the last follow-up"):
        ci.value("A", 1, 500.0)
