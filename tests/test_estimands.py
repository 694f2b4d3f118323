"""Estimands of one trial (trialnb.analysis_estimands, trialnb.survival_weighted).

R survival cross-checks (survdiff rho = 0/1 with and without strata, survfit rmean = 24,
summary(survfit, times = 24)) against tests/reference/estimands_survival.json, written by
tests/reference/estimands_survival.R; the FH cross-covariance by its definition; the MaxCombo
p-value against a bivariate-normal integral, a permutation distribution and the type-I error of
simulated null trials; piecewise HRs against lifelines fits of the two periods.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy import integrate, stats

from trialnb import analysis as an
from trialnb import survival as surv
from trialnb import survival as sw
from trialnb.data import load_trial
from trialnb.errors import OutsideDataError
from trialnb.plan import PLAN

ALL_FOLLOW_UP = PLAN.with_changes(censor_months=None)
"""The R references analyse all follow-up (the plan's own endpoint censors at 24 months)."""

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
TOL = 1e-8


def _ref() -> dict:
    return json.loads((REF / "estimands_survival.json").read_text())


def _inputs(name: str) -> tuple[np.ndarray, ...]:
    d = _ref()["inputs"][name]
    return tuple(np.asarray(d[k], float) for k in ("time", "event", "arm", "strata"))


DATASETS = ("delayed", "ties", "small")


# ---------------------------------------------------------------------------- R cross-checks
@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("rho", [0, 1])
@pytest.mark.parametrize("strata", ["none", "strata"])
def test_weighted_logrank_matches_r_survdiff(name: str, rho: int, strata: str) -> None:
    t, e, a, s = _inputs(name)
    ref = _ref()["results"][name]["logrank"][f"rho{rho}_{strata}"]
    st = None if strata == "none" else s
    f = sw.fh_statistics(t, e, a, weights=[(rho, 0)], strata=st)
    assert f.u[0, 0] == pytest.approx(ref["oe"], rel=TOL, abs=TOL)
    assert f.cov[0, 0, 0] == pytest.approx(ref["var"], rel=TOL)
    res = an.weighted_logrank((t, e, a), rho=rho, strata=st, plan=ALL_FOLLOW_UP)
    assert res.z**2 == pytest.approx(ref["chisq"], rel=TOL)
    assert res.u == pytest.approx(ref["oe"], rel=TOL, abs=TOL)
    assert res.stratified == (st is not None)


@pytest.mark.parametrize("name", DATASETS)
def test_rmst_and_milestone_match_r_survfit(name: str) -> None:
    t, e, a, _ = _inputs(name)
    ref = _ref()["results"][name]
    r = an.rmst_difference((t, e, a), tau=24, plan=ALL_FOLLOW_UP)
    assert (r.rmst_a, r.se_a, r.rmst_b, r.se_b) == pytest.approx(
        (ref["rmst"]["rmean_a"], ref["rmst"]["se_a"], ref["rmst"]["rmean_b"], ref["rmst"]["se_b"]), rel=TOL)
    assert r.diff_se == pytest.approx(math.hypot(r.se_a, r.se_b), rel=1e-12)
    m = an.milestone((t, e, a), tau=24, plan=ALL_FOLLOW_UP)
    assert (m.survival_a, m.se_a, m.survival_b, m.se_b) == pytest.approx(
        (ref["milestone"]["surv_a"], ref["milestone"]["se_a"], ref["milestone"]["surv_b"], ref["milestone"]["se_b"]),
        rel=TOL)


def test_reference_covers_ties_and_a_real_effect() -> None:
    t, e, a, _ = _inputs("ties")
    assert len(np.unique(t[e == 1])) < (e == 1).sum() / 2  # heavy ties
    assert _ref()["results"]["delayed"]["logrank"]["rho0_none"]["chisq"] > 3.84




# ---------------------------------------------------------------------------- FH covariance
def _fh_by_definition(t, e, a, weights):
    """Plain loop over distinct death times: U_k and V_kl = sum W_k W_l v_j (no strata)."""
    times = np.unique(t[e == 1])
    S = 1.0
    K = len(weights)
    U, V = np.zeros(K), np.zeros((K, K))
    for tj in times:
        at = t >= tj
        N, N1 = at.sum(), (at & (a == 1)).sum()
        D = ((t == tj) & (e == 1)).sum()
        D1 = ((t == tj) & (e == 1) & (a == 1)).sum()
        w = np.array([S**r * (1 - S) ** g for r, g in weights])
        U += w * (D1 - D * N1 / N)
        if N > 1:
            V += np.outer(w, w) * D * (N1 / N) * (1 - N1 / N) * (N - D) / (N - 1)
        S *= 1 - D / N
    return U, V


@pytest.mark.parametrize("name", DATASETS)
def test_fh_covariance_by_definition(name: str) -> None:
    t, e, a, _ = _inputs(name)
    U, V = _fh_by_definition(t, e, a, sw.FH_MAXCOMBO)
    f = sw.fh_statistics(t, e, a)
    np.testing.assert_allclose(f.u[0], U, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f.cov[0], V, rtol=1e-10)
    for k, (r, g) in enumerate(sw.FH_MAXCOMBO):  # diagonal = the engine's weighted log-rank
        lr = surv.logrank(t, e, a, rho=r, gamma=g)
        assert f.cov[0, k, k] == pytest.approx(lr.variance, rel=1e-10)
        assert f.z[0, k] == pytest.approx(lr.z, rel=1e-10)
    # W(0,1) = 1 - S = W(0,0) - W(1,0): the four statistics span three dimensions
    np.testing.assert_allclose(f.u[0, 1], f.u[0, 0] - f.u[0, 2], rtol=1e-10)
    ev = np.linalg.eigvalsh(f.corr[0])
    assert abs(ev[0]) < 1e-10 and ev[1] > 1e-4


def test_batched_equals_one_at_a_time() -> None:
    rows = [_inputs(n)[:3] for n in ("delayed", "ties")]
    T, E, G = (np.stack([r[k] for r in rows]) for k in range(3))
    f = sw.fh_statistics(T, E, G)
    m = sw.km_milestone(T, E, G, 24.0)
    r = sw.km_rmst(T, E, G, 24.0)
    for i, (t, e, a) in enumerate(rows):
        one = sw.fh_statistics(t, e, a)
        np.testing.assert_allclose(f.cov[i], one.cov[0], rtol=1e-12)
        assert [x[i] for x in m] == pytest.approx(list(sw.km_milestone(t, e, a, 24.0)), rel=1e-12)
        assert [x[i] for x in r] == pytest.approx(list(sw.km_rmst(t, e, a, 24.0)), rel=1e-12)


# ---------------------------------------------------------------------------- MaxCombo p-value
def _bivariate_p(m: float, r: float) -> float:
    """1 - P(|Y1| <= m, |Y2| <= m), corr r: integral of phi(x) P(|Y2| <= m | Y1 = x) by quad."""
    s = math.sqrt(1 - r * r)
    f = lambda x: stats.norm.pdf(x) * (stats.norm.cdf((m - r * x) / s) - stats.norm.cdf((-m - r * x) / s))  # noqa: E731
    return 1 - integrate.quad(f, -m, m, epsabs=1e-12)[0]


@pytest.mark.parametrize("m,r", [(1.5, 0.3), (2.2, 0.8), (2.5, -0.4), (1.96, 0.95)])
def test_maxcombo_pvalue_two_statistics_by_hand(m: float, r: float) -> None:
    exact = _bivariate_p(m, r)
    p = sw.maxcombo_pvalue([m, -0.1], [[1, r], [r, 1]])
    assert p == pytest.approx(exact, rel=6e-3)
    assert sw.maxcombo_pvalue([m, -0.1], [[1, r], [r, 1]], method="genz") == pytest.approx(exact, abs=1e-5)
    assert 2 * stats.norm.sf(m) <= exact <= 4 * stats.norm.sf(m)  # unadjusted <= p <= Bonferroni


def test_maxcombo_pvalue_methods_agree_on_the_singular_four_statistic_correlation() -> None:
    t, e, a, _ = _inputs("delayed")
    C = sw.fh_statistics(t, e, a).corr[0]
    for m in (2.0, 2.6):
        aloe, genz = (sw.maxcombo_pvalue([m, 0, 0, 0], C, method=k) for k in ("aloe", "genz"))
        assert aloe == pytest.approx(genz, rel=6e-3)
    # far in the tail the union estimate keeps its relative accuracy (1 - cdf does not):
    # plain Monte Carlo with 4e7 draws gave 2.657e-4 (SE 2.6e-6) for this matrix at m = 3.85
    assert sw.maxcombo_pvalue([3.85, 0, 0, 0], C) == pytest.approx(2.657e-4, abs=1.2e-5)


def test_maxcombo_pvalue_against_permutation_distribution() -> None:
    t, e, a, _ = _inputs("delayed")
    res = an.maxcombo((t, e, a), plan=ALL_FOLLOW_UP)
    rng = np.random.default_rng(5)
    B = 4000
    perm = np.stack([rng.permutation(a) for _ in range(B)])
    zp = sw.fh_statistics(np.broadcast_to(t, perm.shape), np.broadcast_to(e, perm.shape), perm).z
    p_perm = float((np.abs(zp).max(axis=1) >= res.statistic).mean())
    assert 0 < res.p_value < 0.01
    assert res.p_value == pytest.approx(p_perm, abs=0.004 + 3 * math.sqrt(p_perm * (1 - p_perm) / B))
    assert res.p_value >= float(2 * stats.norm.sf(res.statistic))


def test_maxcombo_batched_decision_equals_pvalue() -> None:
    rng = np.random.default_rng(9)
    R, n = 400, 120
    T = rng.exponential(20, (R, n))
    E = (rng.random((R, n)) < 0.75).astype(int)
    G = (rng.random((R, n)) < 0.5).astype(int)
    f = sw.fh_statistics(T, E, G)
    rej = sw.maxcombo_reject(f.z, f.corr, 0.05)
    m = np.abs(f.z).max(axis=1)
    mid = np.flatnonzero((m > 1.96) & (m < 2.6))
    assert mid.size >= 5
    for i in mid[:25]:
        p = sw.maxcombo_pvalue(f.z[i], f.corr[i])
        if abs(p - 0.05) > 0.006:  # the quasi-Monte Carlo decision may differ only at the boundary
            assert rej[i] == (p < 0.05)
    assert not rej[m <= 1.96].any() and rej[m > 2.6].all()


def test_maxcombo_type_one_error_by_simulation() -> None:
    """4,000 null trials (equal exponential survival, uniform censoring): rejection rate of
    MaxCombo at 5% within 3 Monte-Carlo SE of 5%; the naive min-p over four tests exceeds it."""
    rng = np.random.default_rng(2026)
    R, n = 4000, 150
    T = rng.exponential(24, (R, n))
    C = rng.uniform(6, 48, (R, n))
    G = (rng.random((R, n)) < 0.5).astype(int)
    f = sw.fh_statistics(np.minimum(T, C), (T <= C).astype(int), G)
    rate = sw.maxcombo_reject(f.z, f.corr, 0.05).mean()
    assert abs(rate - 0.05) <= 3 * math.sqrt(0.05 * 0.95 / R)
    naive = (np.abs(f.z).max(axis=1) > 1.959964).mean()
    assert naive > 0.06


# ---------------------------------------------------------------------------- piecewise HR
def test_piecewise_hr_equals_separate_fits_of_the_two_periods() -> None:
    t, e, a, _ = _inputs("delayed")
    c = 6.0
    res = an.piecewise_hr((t, e, a), change_point=c, plan=ALL_FOLLOW_UP)
    early = pd.DataFrame({"T": np.minimum(t, c), "E": e * (t <= c), "arm": a})
    late = pd.DataFrame({"T": t, "E": e, "arm": a, "entry": np.full(len(t), c)})[t > c]
    tight = {"precision": 1e-12}
    b1 = CoxPHFitter().fit(early, "T", "E", fit_options=tight).params_["arm"]
    b2 = CoxPHFitter().fit(late, "T", "E", entry_col="entry", fit_options=tight).params_["arm"]
    assert math.log(res.hr_before) == pytest.approx(b1, abs=1e-8)
    assert math.log(res.hr_after) == pytest.approx(b2, abs=1e-8)
    assert res.events_before + res.events_after == int(e.sum())
    assert res.hr_after < 0.7 and res.lower_before < res.hr_before < res.upper_before
    assert "after 6 months" in res.to_frame().index[1]


# ---------------------------------------------------------------------------- API and inputs
def test_dataframe_and_array_inputs_agree_and_render() -> None:
    df = load_trial(ROOT / "data" / "trial_realistic.csv")
    arr = (df["os_months"].to_numpy(float), df["death"].to_numpy(int), (df["arm"] == "A").to_numpy(int))
    for fn in (an.milestone, an.rmst_difference, an.maxcombo, an.piecewise_hr):
        r1, r2 = fn(df), fn(arr)
        pd.testing.assert_frame_equal(r1.to_frame(), r2.to_frame())
        assert isinstance(r1.summary(), str) and "<table" in r1._repr_html_()
    m = an.milestone(df)
    a24 = df[df["arm"] == "A"]
    s_a, se_a = surv.survival_at(np.minimum(a24["os_months"].to_numpy(float), 24.0),
                                 np.where(a24["os_months"] > 24, 0, a24["death"]), 24.0)
    assert (m.survival_a, m.se_a) == pytest.approx((s_a, se_a), rel=1e-12)
    assert m.diff_se == pytest.approx(math.hypot(m.se_a, m.se_b), rel=1e-12)
    assert m.ratio == pytest.approx(m.survival_a / m.survival_b)
    assert m.cloglog_difference == pytest.approx(math.log(math.log(m.survival_a) / math.log(m.survival_b)))
    st = an.weighted_logrank(df, 0, 0, strata="factors")
    assert st.stratified and st.z != an.weighted_logrank(df).z
    assert an.weighted_logrank(df).z ** 2 == pytest.approx(an.logrank_test(an.primary_data(df)).statistic, rel=1e-10)


@pytest.mark.parametrize("call,msg", [
    (lambda: an.milestone((np.ones(3), np.ones(3), np.ones(3))), "both arms"),
    (lambda: an.milestone("x"), "tuple"),
    (lambda: an.rmst_difference((np.ones(4), np.ones(4), np.array([0, 1, 0, 1])), tau=-1), "tau"),
    (lambda: an.weighted_logrank((np.ones(4), np.ones(4), np.array([0, 1, 0, 1])), rho=-1), "rho"),
    (lambda: an.weighted_logrank((np.ones(4), np.ones(4), np.array([0, 1, 0, 1])), strata="x"), "strata"),
    (lambda: an.piecewise_hr((np.ones(4), np.ones(4), np.array([0, 1, 0, 1])), change_point=5), "change_point"),
    (lambda: sw.fh_statistics(np.ones(4), np.ones(4), np.array([0, 1, 0, 1]), weights=[(0, -1)]), "weights"),
    (lambda: sw.maxcombo_pvalue([1, 2], np.eye(3)), "corr"),
])
def test_bad_input_raises_value_error(call, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        call()


# ---------------------------------------------------------------------------- properties
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(6, 60), st.booleans())
def test_properties_swap_arms_and_match_the_engine(seed: int, n: int, ties: bool) -> None:
    """Swapping the arms negates every FH numerator and keeps the covariance; per-arm KM and
    RMST equal the engine's one-sample functions on each arm."""
    rng = np.random.default_rng(seed)
    t = rng.exponential(15, n)
    t = np.ceil(t) if ties else t
    e = (rng.random(n) < 0.7).astype(int)
    a = np.zeros(n, int)
    a[rng.permutation(n)[: n // 2]] = 1
    f, g = sw.fh_statistics(t, e, a), sw.fh_statistics(t, e, 1 - a)
    np.testing.assert_allclose(f.u, -g.u, atol=1e-10)
    np.testing.assert_allclose(f.cov, g.cov, rtol=1e-10, atol=1e-12)
    ra, va, rb, vb = sw.km_rmst(t, e, a, 12.0)
    for arm, r, v in ((1, ra, va), (0, rb, vb)):
        if not math.isfinite(r):  # an arm followed less than 12 months: refused one by one too
            with pytest.raises(OutsideDataError):
                surv.rmst(t[a == arm], e[a == arm], 12.0)
            continue
        er, ese = surv.rmst(t[a == arm], e[a == arm], 12.0)
        assert r == pytest.approx(er, rel=1e-10)
        if math.isfinite(ese):
            assert math.sqrt(v) == pytest.approx(ese, rel=1e-8, abs=1e-12)
    sa, vsa, _, _ = sw.km_milestone(t, e, a, 12.0)
    if math.isfinite(sa):
        s1, se1 = surv.survival_at(t[a == 1], e[a == 1], 12.0)
        assert sa == pytest.approx(s1, rel=1e-12, abs=1e-15)


def test_maxcombo_stratified_by_the_factors_is_the_max_of_the_stratified_fh_tests():
    from trialnb import analysis as an
    from trialnb.data import load_trial

    df = an.primary_data(load_trial(Path(__file__).resolve().parents[1] / "data" / "trial_protocol.csv"))
    res = an.maxcombo(df, strata="factors")
    zs = [an.weighted_logrank(df, r, g, strata="factors").z for r, g in ((0, 0), (0, 1), (1, 0), (1, 1))]
    assert res.statistic == pytest.approx(max(abs(z) for z in zs), rel=1e-12)
    assert res.statistic != pytest.approx(an.maxcombo(df).statistic, rel=1e-6)  # stratification matters here
    with pytest.raises(ValueError, match="factors"):
        an.maxcombo(df, strata="sites")
