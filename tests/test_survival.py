"""Tests of the survival engine ``trialnb.survival``.

Cross-checks: R ``coxph`` for every combination of ties x entry x strata on three data sets
(one with heavy ties and entry times equal to death times), R ``survdiff`` (rho 0 and 1,
stratified or not) and R ``summary(survfit, rmean)``, all committed in
tests/reference/survival_engine.json by tests/reference/survival_engine.R; lifelines
(CoxPHFitter with and without strata, logrank_test, KaplanMeierFitter); Fleming-Harrington
G(rho, gamma) statistics recomputed by a plain loop; properties (row order, time scale,
covariate sign); batched equals looped; monotone likelihoods (a covariate level or an arm without
deaths) give R's coefficients, SEs, iterations and "may be infinite" flags.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import survival as sv

REF = Path(__file__).resolve().parent / "reference"
ENGINES = ["numpy", "numba"]
R_TOL = 1e-8  # achieved: coef 1e-14, se 4e-11, loglik 6e-13 (the brief asks for 1e-6)


def _ref() -> dict:
    return json.loads((REF / "survival_engine.json").read_text())


def _inputs(name: str) -> dict[str, np.ndarray]:
    d = _ref()["inputs"][name]
    return {"time": np.array(d["time"], float), "event": np.array(d["event"], int),
            "entry": np.array(d["entry"], float), "strata": np.array(d["strata"]),
            "group": np.array(d["group"], int), "X": np.column_stack(d["X"])}


DATASETS = ["continuous", "heavy_ties", "small"]
OPTIONS = list(itertools.product(["efron", "breslow"], ["none", "entry"], ["none", "strata"]))
COMBOS = [(n, *o) for n in DATASETS for o in OPTIONS]
MONOTONE = [(n, *o) for n in ("no_death_level", "no_death_arm") for o in OPTIONS]


# ---------------------------------------------------------------------------- Cox vs R
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name,ties,entry,strata", COMBOS)
def test_cox_matches_r_coxph(name: str, ties: str, entry: str, strata: str, engine: str) -> None:
    d = _inputs(name)
    r = _ref()["results"][name]["cox"][f"{ties}|{entry}|{strata}"]
    fit = sv.fit_cox(d["time"], d["event"], d["X"], ties=ties, engine=engine,
                     entry=d["entry"] if entry == "entry" else None,
                     strata=d["strata"] if strata == "strata" else None)
    assert fit.converged and fit.coef.shape == (3,)
    np.testing.assert_allclose(fit.coef, r["coef"], rtol=0, atol=R_TOL)
    np.testing.assert_allclose(fit.se, r["se"], rtol=0, atol=R_TOL)
    assert fit.loglik == pytest.approx(r["loglik"], abs=R_TOL)
    assert fit.loglik_null == pytest.approx(r["loglik_null"], abs=R_TOL)
    assert r["infinite"] == [] and not fit.infinite.any()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name,ties,entry,strata", MONOTONE)
def test_monotone_likelihood_matches_r_coxph(name: str, ties: str, entry: str, strata: str, engine: str) -> None:
    """No death at one level of a covariate, or in one arm: R coxph (default control, eps 1e-9,
    iter.max 20) converges on the log-likelihood, warns "Loglik converged before variable k;
    coefficient may be infinite" and keeps every estimate. The engine follows the same Newton
    path: same flags, same iterations, the finite coefficients and every SE equal to R's
    (achieved: 2e-15 for the finite ones, relative 1e-14 for the infinite ones)."""
    d = _inputs(name)
    r = _ref()["results"][name]["cox"][f"{ties}|{entry}|{strata}"]
    fit = sv.fit_cox(d["time"], d["event"], d["X"], ties=ties, engine=engine,
                     entry=d["entry"] if entry == "entry" else None,
                     strata=d["strata"] if strata == "strata" else None)
    assert fit.converged == r["converged"] is True
    assert (np.flatnonzero(fit.infinite) + 1).tolist() == r["infinite"] != []
    assert fit.iterations == r["iter"]
    fin = ~fit.infinite
    np.testing.assert_allclose(fit.coef[fin], np.array(r["coef"])[fin], rtol=0, atol=R_TOL)
    np.testing.assert_allclose(fit.se[fin], np.array(r["se"])[fin], rtol=0, atol=R_TOL)
    np.testing.assert_allclose(fit.coef[~fin], np.array(r["coef"])[~fin], rtol=1e-8)
    np.testing.assert_allclose(fit.se[~fin], np.array(r["se"])[~fin], rtol=1e-8)
    assert fit.loglik == pytest.approx(r["loglik"], abs=R_TOL)
    assert fit.usable(0) == (0 not in np.flatnonzero(fit.infinite))


def test_reference_exercises_every_option() -> None:
    """Efron differs from Breslow on the tied data, entry and strata change the fit, and some
    entry times coincide with death times (the (entry, time] boundary is exercised)."""
    cox = _ref()["results"]["heavy_ties"]["cox"]
    coefs = {k: np.array(v["coef"]) for k, v in cox.items()}
    assert len({tuple(np.round(c, 6)) for c in coefs.values()}) == 8
    d = _inputs("heavy_ties")
    deaths = set(d["time"][d["event"] == 1])
    assert sum(e in deaths for e in d["entry"] if e > 0) > 20


# ---------------------------------------------------------------------------- log-rank vs R
@pytest.mark.parametrize("name,rho,strata", list(itertools.product(DATASETS, [0, 1], ["none", "strata"])))
def test_logrank_matches_r_survdiff(name: str, rho: int, strata: str) -> None:
    d = _inputs(name)
    r = _ref()["results"][name]["logrank"][f"rho{rho}|{strata}"]
    res = sv.logrank(d["time"], d["event"], d["group"], rho=float(rho),
                     strata=d["strata"] if strata == "strata" else None)
    assert res.chisq == pytest.approx(r["chisq"], rel=1e-10)
    assert res.observed == pytest.approx(r["observed_1"], rel=1e-12)
    assert res.expected == pytest.approx(r["expected_1"], rel=1e-12)
    assert res.variance == pytest.approx(r["variance"], rel=1e-12)
    assert res.p == pytest.approx(math.erfc(math.sqrt(r["chisq"] / 2)), rel=1e-9)


def _fh_by_loop(t, e, g, rho, gamma, strata=None):
    """Weighted log-rank O - E and V from the definitions, one death time at a time."""
    strata = np.zeros(len(t)) if strata is None else strata
    U = V = 0.0
    for s in np.unique(strata):
        ts, es, gs = t[strata == s], e[strata == s], g[strata == s]
        surv = 1.0
        for u in np.unique(ts[es == 1]):
            n = np.sum(ts >= u)
            n1 = np.sum((ts >= u) & (gs == 1))
            dd = np.sum((ts == u) & (es == 1))
            d1 = np.sum((ts == u) & (es == 1) & (gs == 1))
            w = surv**rho * (1 - surv) ** gamma
            U += w * (d1 - dd * n1 / n)
            if n > 1:
                V += w * w * dd * (n1 / n) * (1 - n1 / n) * (n - dd) / (n - 1)
            surv *= 1 - dd / n
    return U, V


@pytest.mark.parametrize("rho,gamma", [(0, 1), (1, 1), (0.5, 2)])
@pytest.mark.parametrize("name", ["heavy_ties", "small"])
@pytest.mark.parametrize("stratified", [False, True])
def test_fleming_harrington_equals_definition(rho: float, gamma: float, name: str, stratified: bool) -> None:
    d = _inputs(name)
    s = d["strata"] if stratified else None
    U, V = _fh_by_loop(d["time"], d["event"], d["group"], rho, gamma, s)
    res = sv.logrank(d["time"], d["event"], d["group"], rho=rho, gamma=gamma, strata=s)
    assert res.observed - res.expected == pytest.approx(U, rel=1e-10)
    assert res.variance == pytest.approx(V, rel=1e-10)
    assert res.z == pytest.approx(U / math.sqrt(V), rel=1e-10)


# ---------------------------------------------------------------------------- RMST vs R
@pytest.mark.parametrize("name", DATASETS)
def test_rmst_matches_r_survfit(name: str) -> None:
    """Equal to R survfit's rmean up to the last follow-up; beyond it (R extends the last value,
    survRM2 refuses) the engine refuses with a reason, unless the curve has reached 0."""
    from trialnb.errors import OutsideDataError

    d = _inputs(name)
    t, e = np.asarray(d["time"], float), np.asarray(d["event"])
    last, reached_zero = float(t.max()), sv.kaplan_meier(t, e).survival[-1] == 0
    for r in _ref()["results"][name]["rmst"]:
        if r["tau"] > last and not reached_zero:
            with pytest.raises(OutsideDataError, match="beyond the last follow-up"):
                sv.rmst(d["time"], d["event"], r["tau"])
            continue
        est, se = sv.rmst(d["time"], d["event"], r["tau"])
        assert est == pytest.approx(r["rmean"], rel=1e-12)
        assert se == pytest.approx(r["se"], rel=1e-10)




# ---------------------------------------------------------------------------- vs lifelines
@pytest.mark.parametrize("stratified", [False, True])
def test_cox_matches_lifelines(stratified: bool) -> None:
    from lifelines import CoxPHFitter

    d = _inputs("heavy_ties")
    df = pd.DataFrame(d["X"], columns=["arm", "xc", "xb"]).assign(T=d["time"], E=d["event"])
    kw = {}
    if stratified:
        df["s"] = d["strata"]
        kw["strata"] = ["s"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = CoxPHFitter().fit(df, "T", "E", fit_options={"precision": 1e-12, "r_precision": 1e-15}, **kw)
    fit = sv.fit_cox(d["time"], d["event"], d["X"], strata=d["strata"] if stratified else None)
    np.testing.assert_allclose(fit.coef, ref.params_.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(fit.se, ref.standard_errors_.to_numpy(), atol=1e-6)
    assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-6)


def test_logrank_and_km_match_lifelines() -> None:
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    d = _inputs("heavy_ties")
    t, e, g = d["time"], d["event"], d["group"]
    ref = logrank_test(t[g == 1], t[g == 0], e[g == 1], e[g == 0])
    res = sv.logrank(t, e, g)
    assert res.chisq == pytest.approx(ref.test_statistic, rel=1e-10)
    km = sv.kaplan_meier(t, e)
    kmf = KaplanMeierFitter().fit(t, e)
    lf = kmf.survival_function_.iloc[1:, 0]  # lifelines adds time 0
    np.testing.assert_allclose(km.survival, lf.to_numpy(), rtol=1e-12)
    for tt in (3.0, 12.0, 24.0):
        s, se = sv.survival_at(t, e, tt)
        assert s == pytest.approx(float(kmf.predict(tt)), rel=1e-12)
        # Greenwood by the textbook product/sum, one time at a time
        surv, acc = 1.0, 0.0
        for u in np.unique(t[(e == 1) & (t <= tt)]):
            n, dd = np.sum(t >= u), np.sum((t == u) & (e == 1))
            surv *= 1 - dd / n
            acc += dd / (n * (n - dd))
        assert se == pytest.approx(surv * math.sqrt(acc), rel=1e-12)


# ---------------------------------------------------------------------------- batching
@pytest.mark.parametrize("engine", ENGINES)
def test_batched_equals_looped(engine: str) -> None:
    sets = [_inputs(n) for n in ("continuous", "heavy_ties")]
    rng = np.random.default_rng(3)
    idx = [rng.choice(150, 150, replace=False) for _ in range(4)]
    T = np.stack([sets[k % 2]["time"][i] for k, i in enumerate(idx)])
    E = np.stack([sets[k % 2]["event"][i] for k, i in enumerate(idx)])
    EN = np.stack([sets[k % 2]["entry"][i] for k, i in enumerate(idx)])
    S = np.stack([sets[k % 2]["strata"][i] for k, i in enumerate(idx)])
    X = np.stack([sets[k % 2]["X"][i] for k, i in enumerate(idx)])
    for ties in ("efron", "breslow"):
        whole = sv.fit_cox(T, E, X, entry=EN, strata=S, ties=ties, engine=engine, chunk=3)
        assert whole.coef.shape == (4, 3) and whole.converged.all()
        for r in range(4):
            one = sv.fit_cox(T[r], E[r], X[r], entry=EN[r], strata=S[r], ties=ties, engine=engine)
            np.testing.assert_allclose(whole.coef[r], one.coef, atol=1e-12)
            np.testing.assert_allclose(whole.se[r], one.se, atol=1e-12)
    lr = sv.logrank(T, E, X[:, :, 0], strata=S, rho=1.0, chunk=3)
    for r in range(4):
        assert lr.z[r] == pytest.approx(sv.logrank(T[r], E[r], X[r, :, 0], strata=S[r], rho=1.0).z, abs=1e-12)


def test_numpy_and_numba_agree_on_simulated_trials() -> None:
    from trialnb.plan import PLAN
    from trialnb.simulation import cut, simulate_trials

    d = simulate_trials(PLAN.design, 300, np.random.default_rng(5))
    time, event = cut(d, d.entry[:, -1] + 24.0, 24.0)
    X = d.covariates()
    t = np.ceil(time)  # ties
    strata = X[:, :, 3]
    for kw in ({}, {"entry": time * 0.3, "ties": "breslow"}, {"strata": strata}):
        tt = time if "entry" in kw else t
        ok = tt > 0
        if "entry" in kw:  # (entry, time] rows need time > entry
            tt = np.where(ok, tt, 1.0)
        a = sv.fit_cox(tt, event, X[:, :, :3], engine="numpy", **kw)
        b = sv.fit_cox(tt, event, X[:, :, :3], engine="numba", **kw)
        np.testing.assert_array_equal(a.converged, b.converged)
        assert a.converged.mean() > 0.95
        np.testing.assert_allclose(a.coef[a.converged], b.coef[b.converged], atol=1e-9)
        np.testing.assert_allclose(a.se[a.converged], b.se[b.converged], atol=1e-9)


# ---------------------------------------------------------------------------- properties
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.01, 100.0), ties=st.sampled_from(["efron", "breslow"]))
def test_cox_invariances(seed: int, scale: float, ties: str) -> None:
    """Permuting the rows or rescaling time changes nothing; flipping a covariate's sign flips
    its coefficient (and nothing else)."""
    rng = np.random.default_rng(seed)
    n = 60
    X = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = np.ceil(rng.exponential(10 * np.exp(-0.5 * X[:, 0]), n))
    e = (rng.random(n) < 0.7).astype(int)
    entry = np.floor(t * rng.random(n) * 0.5)
    strata = rng.integers(0, 2, n)
    base = sv.fit_cox(t, e, X, entry=entry, strata=strata, ties=ties, engine="numpy")
    if not base.converged:
        return
    perm = rng.permutation(n)
    p = sv.fit_cox(t[perm], e[perm], X[perm], entry=entry[perm], strata=strata[perm], ties=ties, engine="numpy")
    np.testing.assert_allclose(p.coef, base.coef, atol=1e-9)
    s = sv.fit_cox(t * scale, e, X, entry=entry * scale, strata=strata, ties=ties, engine="numpy")
    np.testing.assert_allclose(s.coef, base.coef, atol=1e-9)
    f = sv.fit_cox(t, e, X * np.array([1.0, -1.0]), entry=entry, strata=strata, ties=ties, engine="numpy")
    np.testing.assert_allclose(f.coef, base.coef * np.array([1.0, -1.0]), atol=1e-9)
    np.testing.assert_allclose(f.se, base.se, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_logrank_swapping_groups_flips_z(seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(5, 50))
    e = (rng.random(50) < 0.8).astype(int)
    g = rng.integers(0, 2, 50)
    if g.min() == g.max() or e.sum() == 0:
        return
    a, b = sv.logrank(t, e, g), sv.logrank(t, e, 1 - g)
    assert a.z == pytest.approx(-b.z, abs=1e-10)
    assert a.chisq == pytest.approx(b.chisq, rel=1e-10)


# ---------------------------------------------------------------------------- failures
@pytest.mark.parametrize("engine", ENGINES)
def test_infinite_arm_flagged_and_failures_never_hr_one(engine: str) -> None:
    """No deaths in one arm: the arm coefficient runs to -infinity; the fit converges on the
    log-likelihood with the arm flagged infinite and not usable, the other coefficients usable.
    No deaths at all: nothing to fit; R stops at once (iter 0, every coefficient NA): NaN, never
    HR 1, not usable (R survival 3.5: coxph(Surv(t, rep(0, n)) ~ x) has iter 0, coefficients NA). Running out of
    iterations: converged False."""
    d = _inputs("continuous")
    e = np.where(d["X"][:, 0] == 1, 0, d["event"])
    fit = sv.fit_cox(d["time"], e, d["X"], engine=engine)
    assert fit.converged and fit.infinite.tolist() == [True, False, False]
    assert fit.coef[0] < -15 and not fit.usable(0) and fit.usable(1) and fit.usable(2)
    assert "may be infinite" in fit.summary() and fit.to_frame()["infinite"].tolist() == [True, False, False]
    none = sv.fit_cox(d["time"], np.zeros_like(e), d["X"], engine=engine)  # no deaths at all
    assert none.converged and none.iterations == 0 and np.all(np.isnan(none.coef))
    assert np.all(np.isnan(none.hazard_ratio)) and not none.infinite.any()
    assert "no events" in none.summary() and not none.usable(0)
    batch = sv.fit_cox(np.stack([d["time"]] * 3), np.stack([d["event"], e, 0 * e]), np.stack([d["X"]] * 3),
                       engine=engine)
    assert batch.converged.tolist() == [True, True, True] and batch.iterations[2] == 0 and batch.n_infinite == 1
    assert batch.usable(0).tolist() == [True, False, False] and batch.usable(1).tolist() == [True, True, False]
    np.testing.assert_allclose(batch.coef[1], fit.coef, atol=1e-12)
    short = sv.fit_cox(d["time"], d["event"], d["X"], engine=engine, max_iter=2)
    assert not short.converged and not short.infinite.any() and not short.usable(0)


@pytest.mark.parametrize("engine", ENGINES)
def test_constant_covariate_is_singular_nan_others_kept(engine: str) -> None:
    """A covariate constant in the data (a zero column of the information): R coxph gives NA
    for it and fits the others; so does the engine (its others equal the fit without it)."""
    d = _inputs("continuous")
    X = np.column_stack([d["X"], np.ones(len(d["time"]))])
    fit = sv.fit_cox(d["time"], d["event"], X, engine=engine)
    ref = sv.fit_cox(d["time"], d["event"], d["X"], engine=engine)
    assert fit.converged and np.isnan(fit.coef[3]) and np.isnan(fit.se[3]) and not fit.infinite.any()
    np.testing.assert_allclose(fit.coef[:3], ref.coef, atol=1e-10)
    np.testing.assert_allclose(fit.se[:3], ref.se, atol=1e-10)


# ---------------------------------------------------------------------------- results, splitter, input checks
def test_result_objects() -> None:
    d = _inputs("small")
    fit = sv.fit_cox(d["time"], d["event"], d["X"], names=["arm", "xc", "xb"])
    frame = fit.to_frame()
    assert list(frame.index) == ["arm", "xc", "xb"]
    np.testing.assert_allclose(frame["exp(coef)"], np.exp(fit.coef))
    np.testing.assert_allclose(frame["p"], fit.p)
    assert "arm" in fit.summary() and "<table" in fit._repr_html_()
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), fit.se)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.coef = None  # type: ignore[misc]  # frozen
    lr = sv.logrank(d["time"], d["event"], d["group"])
    assert "chi-square" in lr.summary() and lr.statistic == lr.chisq and len(lr.to_frame()) == 1
    km = sv.kaplan_meier(d["time"], d["event"])
    assert km.to_frame()["at_risk"].iloc[0] == 40 and f"{int(km.events.sum())} deaths" in km.summary()


def test_split_at() -> None:
    rows = sv.split_at([10.0, 5.0, 8.0, 3.0], [1, 1, 0, 1], [4.0, np.nan, 0.0, 5.0])
    rows = rows.sort_values(["id", "start"]).reset_index(drop=True)
    assert rows[["id", "start", "stop", "event", "exposed"]].values.tolist() == [
        [0, 0.0, 4.0, 0, 0.0], [0, 4.0, 10.0, 1, 1.0], [1, 0.0, 5.0, 1, 0.0],
        [2, 0.0, 8.0, 0, 1.0], [3, 0.0, 3.0, 1, 0.0]]
    with pytest.raises(ValueError, match="switch"):
        sv.split_at([1.0], [1], [1.0, 2.0])


def test_time_varying_fit_on_split_rows_matches_r_style_counting_process() -> None:
    """Splitting a subject's follow-up into (start, stop] rows with an unchanged covariate
    leaves the fit unchanged (the partial likelihood sees the same risk sets)."""
    d = _inputs("heavy_ties")
    cut = np.where(d["time"] > 4, 2.0, np.nan)
    rows = sv.split_at(d["time"], d["event"], cut)
    X = d["X"][rows["id"].to_numpy()]
    a = sv.fit_cox(d["time"], d["event"], d["X"])
    b = sv.fit_cox(rows["stop"].to_numpy(), rows["event"].to_numpy(), X, entry=rows["start"].to_numpy())
    np.testing.assert_allclose(b.coef, a.coef, atol=1e-10)
    np.testing.assert_allclose(b.se, a.se, atol=1e-10)


@pytest.mark.parametrize("call,match", [
    (lambda: sv.fit_cox([1, 2], [1, 2], [[1], [0]]), "event must contain only 0/1"),
    (lambda: sv.fit_cox([1, -2], [1, 0], [[1], [0]]), "time must contain finite values >= 0"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0], [1]]), "covariates must have shape"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [np.nan]]), "covariates must be finite"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0]], ties="exact"), "ties must be one of"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0]], entry=[1, 0]), "entry must be < time"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0]], strata=[1, 2, 3]), "strata must have"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0]], max_iter=0), "max_iter"),
    (lambda: sv.fit_cox([1, 2], [1, 0], [[1], [0]], engine="gpu"), "engine must be one of"),
    (lambda: sv.logrank([1, 2], [1, 0], [0, 2]), "group must contain only 0/1"),
    (lambda: sv.logrank([1, 2], [1, 0], [0, 1], rho=-1), "rho must be"),
    (lambda: sv.rmst([1, 2], [1, 0], 0), "tau must be"),
    (lambda: sv.kaplan_meier([[1, 2]], [[1, 0]]), "one sample"),
])
def test_bad_input_names_the_argument(call, match) -> None:
    with pytest.raises(ValueError, match=match):
        call()
