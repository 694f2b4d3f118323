"""Tests of the batched simulation engine ``trialnb.fastsim``.

Cross-checks: every Cox fit and log-rank test against lifelines (CoxPHFitter with its default
Efron ties, logrank_test) to 1e-6; simulated operating characteristics against closed forms
(exponential competing-risk event probabilities, Schoenfeld power) within Monte-Carlo error.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter
from lifelines.statistics import logrank_test
from scipy import stats

from trialnb import fastsim as fs
from trialnb.fastsim import (
    HAVE_NUMBA,
    REFERENCE_PROGNOSIS,
    Scenario,
    ScenarioError,
    fit_cox_batch,
    logrank_batch,
    schoenfeld_power,
    simulate,
    simulate_data,
)
from trialnb.survival import fit_cox

ENGINES = ["numpy"] + (["numba"] if HAVE_NUMBA else [])
TOL = 1e-6


# ---------------------------------------------------------------------------- data sets
def _dataset(kind: str, seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One data set (time, event, X with columns arm, x_cont, x_bin)."""
    rng = np.random.default_rng(seed)
    arm = (rng.random(n) < 0.5).astype(float)
    xc = rng.normal(size=n)
    xb = (rng.random(n) < 0.3).astype(float)
    lp = -0.6 * arm + 0.4 * xc + 0.5 * xb
    t = rng.exponential(12.0 * np.exp(-lp))
    c = rng.uniform(5, 40, n)
    time = np.minimum(t, c)
    event = (t <= c).astype(float)
    if kind == "heavy_ties":  # whole months, and a mass of censorings at one date
        time = np.ceil(time)
        time[rng.random(n) < 0.2] = 12.0
    elif kind == "no_events_in_one_group":  # x_bin == 1 in arm B: no deaths at all
        event[(xb == 1) & (arm == 0)] = 0.0
    elif kind != "continuous":
        raise AssertionError(kind)
    return time, event, np.column_stack([arm, xc, xb])


KINDS = ["continuous", "heavy_ties", "no_events_in_one_group"]
CASES = [(k, s) for k in KINDS for s in (1, 2, 3)]


# lifelines' default stopping rule (0.95-damped Newton steps, stop when the relative change
# of the log-likelihood is < 1e-9) can stop ~5e-6 short of the maximum; with its tolerances
# tightened it converges fully, and that is what a 1e-6 comparison needs.
TIGHT = {"precision": 1e-12, "r_precision": 1e-15}


def _lifelines_fit(time: np.ndarray, event: np.ndarray, X: np.ndarray,
                   fit_options: dict | None = TIGHT) -> CoxPHFitter:
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    df["T"], df["E"] = time, event
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a lifelines convergence warning fails the test
        return CoxPHFitter().fit(df, "T", "E", fit_options=fit_options)


@pytest.fixture(scope="module")
def batch() -> dict[str, object]:
    sets = [_dataset(k, s) for k, s in CASES]
    T = np.stack([s[0] for s in sets])
    E = np.stack([s[1] for s in sets])
    X = np.stack([s[2] for s in sets])
    refs = [_lifelines_fit(*s) for s in sets]
    return {"T": T, "E": E, "X": X, "refs": refs}


# ---------------------------------------------------------------------------- Cox vs lifelines
@pytest.mark.parametrize("engine", ENGINES)
def test_cox_batch_matches_lifelines(batch: dict, engine: str) -> None:
    res = fit_cox_batch(batch["T"], batch["E"], batch["X"], engine=engine)
    assert res.coef.shape == res.se.shape == (len(CASES), 3)
    assert res.converged.all()
    for r, ref in enumerate(batch["refs"]):
        np.testing.assert_allclose(res.coef[r], ref.params_.to_numpy(), rtol=0, atol=TOL, err_msg=str(CASES[r]))
        np.testing.assert_allclose(res.se[r], ref.standard_errors_.to_numpy(), rtol=0, atol=TOL, err_msg=str(CASES[r]))
        assert res.loglik[r] == pytest.approx(ref.log_likelihood_, abs=1e-8)


def test_lifelines_defaults_stop_short_of_the_maximum(batch: dict) -> None:
    """With lifelines' default tolerances the estimates agree to 5e-4, and our fit is never
    at a lower log partial likelihood (i.e. the residual gap is lifelines' stopping rule)."""
    res = fit_cox_batch(batch["T"], batch["E"], batch["X"])
    for r in range(len(CASES)):
        ref = _lifelines_fit(batch["T"][r], batch["E"][r], batch["X"][r], fit_options=None)
        np.testing.assert_allclose(res.coef[r], ref.params_.to_numpy(), atol=5e-4)
        np.testing.assert_allclose(res.se[r], ref.standard_errors_.to_numpy(), atol=5e-4)
        assert res.loglik[r] >= ref.log_likelihood_ - 1e-12


def test_ties_really_exercised(batch: dict) -> None:
    """The heavy-ties sets have tied deaths (so Efron differs from Breslow), and the
    no-events set has no deaths among x_bin == 1 in arm B."""
    T, E, X = batch["T"], batch["E"], batch["X"]
    r = CASES.index(("heavy_ties", 1))
    dt = T[r][E[r] == 1]
    assert len(dt) - len(np.unique(dt)) > 20
    r2 = CASES.index(("no_events_in_one_group", 1))
    mask = (X[r2][:, 2] == 1) & (X[r2][:, 0] == 0)
    assert mask.sum() > 5 and E[r2][mask].sum() == 0 and E[r2][X[r2][:, 2] == 1].sum() > 0


def test_efron_by_hand_small_example() -> None:
    """Efron log partial likelihood at the estimate, recomputed by hand for 6 patients with
    two tied deaths at t = 2: ll = sum_events eta - sum_l log(S0 - l/d S0_D)."""
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    e = np.array([1, 1, 1, 0, 1, 0])
    x = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])

    def hand(b: float) -> float:
        w = np.exp(b * x)
        ll = b * (x[0] + x[1] + x[2] + x[4])
        ll -= math.log(w.sum())  # t = 1, one death
        s0, s0d = w[1:].sum(), w[1] + w[2]  # t = 2, two tied deaths
        ll -= math.log(s0) + math.log(s0 - 0.5 * s0d)
        ll -= math.log(w[4:].sum())  # t = 4
        return ll

    for engine in ENGINES:
        res = fit_cox_batch(t, e, x[:, None], engine=engine)
        b = res.coef[0, 0]
        assert res.loglik[0] == pytest.approx(hand(b), abs=1e-10)
        assert hand(b) > max(hand(b - 1e-3), hand(b + 1e-3))  # the estimate is the maximum
        # observed information = -d2 ll / db2 by central differences
        h = 1e-4
        info = -(hand(b + h) - 2 * hand(b) + hand(b - h)) / h**2
        assert res.se[0, 0] == pytest.approx(1 / math.sqrt(info), rel=1e-4)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_engines_agree_on_simulated_trials() -> None:
    d = simulate_data(Scenario(**REFERENCE_PROGNOSIS), 300, np.random.default_rng(5))
    a = fit_cox_batch(d.time, d.event, d.covariates, engine="numpy")
    b = fit_cox_batch(d.time, d.event, d.covariates, engine="numba")
    ok = a.converged & b.converged
    assert ok.mean() > 0.95
    np.testing.assert_allclose(a.coef[ok], b.coef[ok], atol=1e-8)
    np.testing.assert_allclose(a.se[ok], b.se[ok], atol=1e-8)
    np.testing.assert_array_equal(a.converged, b.converged)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_simulate_same_decisions_with_both_engines() -> None:
    a = simulate(Scenario(hazard_ratio=0.7), 400, seed=3, engine="numpy")
    b = simulate(Scenario(hazard_ratio=0.7), 400, seed=3, engine="numba")
    np.testing.assert_array_equal(a.reject, b.reject)
    np.testing.assert_allclose(a.hr, b.hr, rtol=1e-8)


def test_cox_chunking_does_not_change_results(batch: dict) -> None:
    a = fit_cox_batch(batch["T"], batch["E"], batch["X"], engine="numpy", chunk=4)
    b = fit_cox_batch(batch["T"], batch["E"], batch["X"], engine="numpy")
    np.testing.assert_allclose(a.coef, b.coef, atol=1e-12)


def test_monotone_likelihood_is_flagged_not_hidden() -> None:
    """A binary covariate whose level 1 never dies (in either arm): its coefficient runs to
    -inf. As R coxph, the log-likelihood converges and that coefficient is flagged infinite;
    ``fit_cox_batch`` reports it NaN (never a number) and keeps the other, usable, estimates
    (R's values, ``trialnb.survival.fit_cox``). No deaths in an arm: the ARM coefficient is
    the infinite one, so the arm z is NaN (a failed analysis, never HR 1)."""
    t, e, X = _dataset("continuous", 7)
    e = e.copy()
    e[X[:, 2] == 1] = 0.0
    for engine in ENGINES:
        res = fit_cox_batch(t, e, X, engine=engine)
        assert res.converged[0] and res.infinite[0].tolist() == [False, False, True]
        assert np.isnan(res.coef[0, 2]) and np.isnan(res.se[0, 2]) and np.all(np.isfinite(res.coef[0, :2]))
        full = fit_cox(t, e, X, engine=engine)
        np.testing.assert_allclose(res.coef[0, :2], full.coef[:2], atol=1e-12)
        np.testing.assert_allclose(res.se[0, :2], full.se[:2], atol=1e-12)
        arm = fit_cox_batch(t, np.where(X[:, 0] == 1, 0.0, e), X, engine=engine)
        assert arm.converged[0] and arm.infinite[0, 0] and np.isnan(arm.coef[0, 0] / arm.se[0, 0])


@pytest.mark.parametrize("engine", ENGINES)
def test_singular_information_is_flagged(engine: str) -> None:
    """A covariate constant within one trial makes the information singular: as R coxph
    (coefficient NA), that coefficient is NaN and the others equal the fit without it; the
    other trials are unaffected."""
    t, e, X = _dataset("continuous", 3)
    T, E, XX = np.stack([t, t]), np.stack([e, e]), np.stack([X, X])
    XX[1, :, 2] = 1.0
    res = fit_cox_batch(T, E, XX, engine=engine)
    assert res.converged.tolist() == [True, True]
    assert np.isnan(res.se[1, 2]) and np.isnan(res.coef[1, 2])
    alone = fit_cox_batch(t, e, X, engine=engine)
    np.testing.assert_allclose(res.coef[0], alone.coef[0], atol=1e-12)
    np.testing.assert_allclose(res.coef[1, :2], fit_cox_batch(t, e, X[:, :2], engine=engine).coef[0], atol=1e-10)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_cox_is_rank_invariant_and_order_invariant(seed: int) -> None:
    """The partial likelihood depends on the data only through the ordering of times:
    a monotone transform of time or a permutation of the rows changes nothing."""
    t, e, X = _dataset("heavy_ties", seed, n=40)
    perm = np.random.default_rng(seed).permutation(len(t))
    T = np.stack([t, np.sqrt(t) + 3.0, t[perm]])
    E = np.stack([e, e, e[perm]])
    XX = np.stack([X, X, X[perm]])
    res = fit_cox_batch(T, E, XX, engine="numpy")
    np.testing.assert_allclose(res.coef[1], res.coef[0], atol=1e-9)
    np.testing.assert_allclose(res.coef[2], res.coef[0], atol=1e-9)


# ---------------------------------------------------------------------------- log-rank
@pytest.mark.parametrize("kind,seed", CASES)
def test_logrank_matches_lifelines(kind: str, seed: int) -> None:
    t, e, X = _dataset(kind, seed)
    g = X[:, 0]
    ref = logrank_test(t[g == 1], t[g == 0], e[g == 1], e[g == 0])
    res = logrank_batch(t, e, g)
    assert res.statistic[0] == pytest.approx(ref.test_statistic, abs=TOL)
    assert res.p[0] == pytest.approx(ref.p_value, abs=TOL)
    # O - E in group 1 by hand from the counting definition
    assert res.observed[0] == e[g == 1].sum()


def test_logrank_batch_is_vectorised_consistently() -> None:
    sets = [_dataset("heavy_ties", s) for s in range(5)]
    T = np.stack([s[0] for s in sets])
    E = np.stack([s[1] for s in sets])
    G = np.stack([s[2][:, 0] for s in sets])
    whole = logrank_batch(T, E, G, chunk=2)
    for r in range(5):
        one = logrank_batch(T[r], E[r], G[r])
        assert whole.z[r] == pytest.approx(one.z[0], abs=1e-12)
    assert np.all(np.sign(whole.z) == np.sign(np.log(whole.hr)))


# ---------------------------------------------------------------------------- the simulator
def _event_probability(hazard: float, dropout: float, horizon: float) -> float:
    """P(death observed) with exponential death and loss hazards over a fixed horizon:
    lambda / (lambda + mu) * (1 - exp(-(lambda + mu) h))."""
    tot = hazard + dropout
    return hazard / tot * (1 - math.exp(-tot * horizon))


def test_protocol_events_match_closed_form() -> None:
    sc = Scenario()
    lam = -math.log(0.60) / 24
    mu = -math.log(0.90) / 24
    expected = 118 * (_event_probability(lam, mu, 24) + _event_probability(lam * 0.5, mu, 24))
    res = simulate(sc, 2000, seed=11, analysis="logrank")
    se = res.events.std() / math.sqrt(res.n_trials)
    assert abs(res.mean_events - expected) < 4 * se
    assert res.duration.min() > 24 and res.duration.max() <= 36 + 24


def test_protocol_power_near_schoenfeld() -> None:
    """Where the simulation's assumptions coincide with Schoenfeld's (proportional hazards,
    1:1, two-sided 0.05), simulated power is close to the formula at the mean events."""
    res = simulate(Scenario(), 2000, seed=3, analysis="cox")
    analytic = schoenfeld_power(res.mean_events, 0.5)
    assert 0.75 < res.power < 0.88
    assert abs(res.power - analytic) < 3 * res.power_se + 0.02
    assert res.median_hr == pytest.approx(0.5, abs=0.04)


@pytest.mark.parametrize("analysis", ["logrank", "cox"])
def test_type_one_error_under_the_null(analysis: str) -> None:
    res = simulate(Scenario(hazard_ratio=1.0), 3000, seed=21, analysis=analysis)
    mc = math.sqrt(0.05 * 0.95 / 3000)
    assert abs(res.power - 0.05) < 3 * mc
    assert res.type_one_error_ok is True
    assert "type-I error" in res.summary()


def test_full_non_compliance_and_full_crossover_are_null() -> None:
    """Nobody operated in arm A (or everybody in both arms from day 0): no difference."""
    mc = math.sqrt(0.05 * 0.95 / 2000)
    for sc in (Scenario(non_compliance=1.0),
               Scenario(crossover=1.0, crossover_months=0.0)):
        res = simulate(sc, 2000, seed=4, analysis="logrank")
        assert abs(res.power - 0.05) < 3.5 * mc, sc.describe()


def test_dilution_and_delay_weaken_the_effect() -> None:
    base = simulate(Scenario(), 1000, seed=8, analysis="logrank")
    nc = simulate(Scenario(non_compliance=0.3), 1000, seed=8, analysis="logrank")
    delay = simulate(Scenario(effect_delay_months=12.0), 1000, seed=8, analysis="logrank")
    assert base.power > nc.power + 0.1 and base.power > delay.power + 0.1
    assert base.median_hr < nc.median_hr < 1 and base.median_hr < delay.median_hr < 1


def test_control_survival_calibrated_with_prognostic_factors() -> None:
    sc = Scenario(hazard_ratio=1.0, dropout_probability=0.0, **REFERENCE_PROGNOSIS)
    d = simulate_data(sc, 200, np.random.default_rng(2))
    died = d.event.mean()
    se = math.sqrt(0.4 * 0.6 / d.event.size)
    assert abs(died - 0.40) < 4 * se
    ps, lp = sc._strata_lp()
    assert ps.sum() == pytest.approx(1.0)
    assert np.sum(ps * np.exp(-sc.baseline_hazard * np.exp(lp) * 24)) == pytest.approx(0.60, abs=1e-12)


@pytest.mark.parametrize("allocation", ["minimization", "blocks", "complete"])
def test_allocation_balance(allocation: str) -> None:
    sc = Scenario(allocation=allocation)
    d = simulate_data(sc, 400, np.random.default_rng(9))
    imbalance = np.abs(2 * d.arm.sum(axis=1) - sc.n_patients)
    assert abs(d.arm.mean() - 0.5) < 0.01
    if allocation == "blocks":
        assert imbalance.max() == 0  # 236 is a multiple of 4
    elif allocation == "minimization":
        assert imbalance.max() <= 8
        # factor-level balance much tighter than complete randomization
        vis = d.covariates[:, :, 2] == 1
        imb_vis = np.abs((d.arm * vis).sum(1) - ((1 - d.arm) * vis).sum(1))
        assert imb_vis.mean() < 3
    else:
        assert imbalance.mean() > 5  # sd sqrt(236) ~ 15


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_minimization_numba_equals_numpy() -> None:
    rng = np.random.default_rng(1)
    site = rng.integers(0, 3, (50, 236)).astype(np.int8)
    hrneg = rng.integers(0, 2, (50, 236)).astype(np.int8)
    her2 = rng.integers(0, 2, (50, 236)).astype(np.int8)
    sc = Scenario(minimization_p=0.75)
    a = fs._allocate(sc, site, hrneg, her2, np.random.default_rng(2), use_numba=False)
    b = fs._allocate(sc, site, hrneg, her2, np.random.default_rng(2), use_numba=True)
    np.testing.assert_array_equal(a, b)


def test_minimization_follows_the_rule() -> None:
    """Patient-by-patient re-derivation for one trial: the arm taken is the one that
    minimizes the summed |n_A - n_B| over the patient's factor levels with probability p."""
    rng = np.random.default_rng(4)
    site = rng.integers(0, 3, (1, 60)).astype(np.int8)
    hrneg = rng.integers(0, 2, (1, 60)).astype(np.int8)
    her2 = rng.integers(0, 2, (1, 60)).astype(np.int8)
    sc = Scenario(minimization_p=1.0)  # deterministic except ties
    arm = fs._allocate(sc, site, hrneg, her2, np.random.default_rng(5), use_numba=False)[0]
    diff = np.zeros(7, dtype=int)
    for i in range(60):
        cols = [site[0, i], 3 + hrneg[0, i], 5 + her2[0, i]]
        imb_a = sum(abs(diff[c] + 1) for c in cols)
        imb_b = sum(abs(diff[c] - 1) for c in cols)
        if imb_a != imb_b:
            assert arm[i] == (imb_a < imb_b), i
        for c in cols:
            diff[c] += 1 if arm[i] else -1


def test_determinism_by_seed() -> None:
    a = simulate(Scenario(), 300, seed=5, analysis="cox")
    b = simulate(Scenario(), 300, seed=5, analysis="cox")
    c = simulate(Scenario(), 300, seed=6, analysis="cox")
    np.testing.assert_array_equal(a.hr, b.hr)
    np.testing.assert_array_equal(a.events, b.events)
    assert not np.array_equal(a.hr, c.hr)


def test_event_driven_and_to_cutoff_follow_up() -> None:
    ev = simulate(Scenario(target_events=66), 300, seed=1, analysis="logrank")
    assert np.all(ev.events == 66)
    cut = simulate(Scenario(follow_up="to_cutoff"), 300, seed=1, analysis="logrank")
    fixed = simulate(Scenario(), 300, seed=1, analysis="logrank")
    assert cut.mean_events > fixed.mean_events


def test_result_summary_and_repr() -> None:
    res = simulate(Scenario(hazard_ratio=0.66), 200, seed=2, analysis="cox")
    text = repr(res)
    assert "power" in text and "MC SE" in text and "hazard_ratio=0.66" in text
    assert res.power_se == pytest.approx(math.sqrt(res.power * (1 - res.power) / 200))
    assert res.type_one_error_ok is None
    assert res.hr.shape == res.events.shape == res.duration.shape == (200,)


def test_schoenfeld_power_closed_form() -> None:
    # 66 events, HR 0.5: the protocol's own design point gives 80% power.
    assert schoenfeld_power(66, 0.5) == pytest.approx(0.80, abs=0.005)
    z = math.sqrt(66 / 4) * math.log(2) - stats.norm.isf(0.025)
    assert schoenfeld_power(66, 0.5) == pytest.approx(stats.norm.cdf(z) + stats.norm.cdf(-z - 2 * 1.959963984540054), abs=1e-12)


def test_schoenfeld_matches_sample_size_module_if_present() -> None:
    ss = pytest.importorskip("trialnb.sample_size")
    for d, hr in ((66, 0.5), (120, 0.7), (250, 0.86)):
        assert ss.power(d, hr) == pytest.approx(schoenfeld_power(d, hr), abs=1e-6)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"hazard_ratio": 0.0}, "hazard_ratio"),
        ({"control_survival": 1.0}, "control_survival"),
        ({"non_compliance": 1.5}, "non_compliance"),
        ({"allocation": "coin"}, "allocation"),
        ({"block_size": 3}, "block_size"),
        ({"n_patients": 2}, "n_patients"),
        ({"p_soft_tissue": 0.6, "p_visceral": 0.6}, "p_soft_tissue"),
        ({"target_events": 1000}, "target_events"),
        ({"follow_up": "forever"}, "follow_up"),
        ({"minimization_p": 0.3}, "minimization_p"),
        ({"effect_delay_months": -1.0}, "effect_delay_months"),
    ],
)
def test_scenario_validation(kwargs: dict, word: str) -> None:
    with pytest.raises(ScenarioError, match=word):
        Scenario(**kwargs)


def test_function_validation() -> None:
    with pytest.raises(ValueError, match="n_trials"):
        simulate(Scenario(), 0)
    with pytest.raises(ValueError, match="analysis"):
        simulate(Scenario(), 10, analysis="wilcoxon")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        simulate(Scenario(), 10, seed=-1)
    with pytest.raises(ValueError, match="covariates"):
        fit_cox_batch(np.ones((2, 5)), np.ones((2, 5)), np.ones((2, 4, 1)))
    with pytest.raises(ValueError, match="event"):
        fit_cox_batch(np.ones((2, 5)), np.full((2, 5), 2), np.ones((2, 5, 1)))
    with pytest.raises(ValueError, match="time"):
        logrank_batch(-np.ones((1, 5)), np.ones((1, 5)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="group"):
        logrank_batch(np.ones((1, 5)), np.ones((1, 5)), np.full((1, 5), 3))
    with pytest.raises(ValueError, match="engine"):
        fit_cox_batch(np.ones((1, 5)), np.ones((1, 5)), np.ones((1, 5, 1)), engine="gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="events"):
        schoenfeld_power(0, 0.5)


# ---------------------------------------------------------------------------- R survival
REF = Path(__file__).resolve().parent / "reference"


def _r_reference() -> dict:
    return json.loads((REF / "fastsim_coxph.json").read_text())


@pytest.mark.parametrize("engine", ENGINES)
def test_cox_and_logrank_match_r_survival(engine: str) -> None:
    """R survival::coxph(ties = "efron", eps 1e-12) and survdiff, committed in
    tests/reference/fastsim_coxph.json (data sets incl. ties, a covariate level without
    deaths in one arm, and two simulated 236-patient trials with 5 covariates)."""
    ref = _r_reference()
    for name, d in ref["inputs"].items():
        r = ref["results"][name]
        X = np.column_stack(d["X"])
        fit = fit_cox_batch(np.array(d["time"]), np.array(d["event"]), X, engine=engine)
        np.testing.assert_allclose(fit.coef[0], r["coef"], rtol=0, atol=1e-8, err_msg=name)
        np.testing.assert_allclose(fit.se[0], r["se"], rtol=0, atol=1e-8, err_msg=name)
        assert fit.loglik[0] == pytest.approx(r["loglik"], abs=1e-8), name
        lr = logrank_batch(np.array(d["time"]), np.array(d["event"]), np.array(d["group"]))
        assert lr.statistic[0] == pytest.approx(r["logrank_chisq"], rel=1e-10), name
        assert lr.expected[0] == pytest.approx(r["expected_1"], rel=1e-12), name
        assert lr.observed[0] == r["observed_1"], name


@pytest.mark.r
def test_r_reference_is_reproducible(rscript: str, tmp_path: Path) -> None:
    out = tmp_path / "fastsim_coxph.json"
    subprocess.run([rscript, str(REF / "fastsim_coxph.R"), str(out)],
                   check=True, cwd=REF.parents[1], capture_output=True)
    fresh, committed = json.loads(out.read_text()), _r_reference()
    assert fresh["inputs"] == committed["inputs"]
    for name, r in committed["results"].items():
        for key, val in r.items():
            assert fresh["results"][name][key] == pytest.approx(val, rel=1e-9, abs=1e-12), (name, key)
