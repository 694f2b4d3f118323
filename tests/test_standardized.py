"""The estimand's summary measure estimated with the covariates: standardized (G-computation)
two-year survival from the plan's Cox model (``trialnb.survival.standardized_survival``,
``trialnb.analysis.standardized_milestone``, the registry's ``standardized_milestone``).

Cross-checks: R ``riskRegression::ate`` on every shipped trial file
(``tests/reference/riskregression_ate.json``, written by ``tests/reference/riskregression_ate.R``;
CI re-runs the script) and R ``survival``'s score residuals (the robust variance); the
leave-one-out estimates (the jackknife, no formula shared) against the influence values; the
simulation's calibration under minimization against the design's true marginal survival.

Tolerances: point estimates 1e-6 relative (two Cox fits converged to 1e-9 agree to ~1e-9; the
standardized survival is a smooth function of them). SEs 1e-6 relative where no death times
tie. With tied death times riskRegression's influence function of the Cox coefficients counts
one death per distinct time (and uses Breslow-type baseline terms), ours is the exact
linearization of the Efron fit (equal to R survival's score residuals): on the shipped files,
two or three tied pairs among 71-91 deaths, the SEs differ by at most 0.84%; the test allows 1.5%
and holds the tie-broken data to 1e-6, so the whole difference is the ties.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from trialnb import analysis as an
from trialnb.analysis._frame import cox_matrix
from trialnb.data import load_trial
from trialnb.errors import OutsideDataError, TrialAnalysisError
from trialnb.plan import PLAN
from trialnb.protocol import FACTORS
from trialnb.simulation import analyse_cut, cut, simulate, simulate_trials, true_estimands
from trialnb.simulation.fixed import final_cutoff
from trialnb.survival import cox_score_residuals, fit_cox, standardized_survival

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
SCENARIOS = ("protocol", "null", "realistic")
EST_TOL = 1e-6
SE_TOL = 1e-6
SE_TIES_TOL = 0.015


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((REF / "riskregression_ate.json").read_text())


def _data(name: str) -> pd.DataFrame:
    return load_trial(ROOT / "data" / f"trial_{name}.csv")


def _break_ties(df: pd.DataFrame, step: float) -> pd.DataFrame:
    """The R script's rule: follow-up censored at 24 months, then the k-th death (file order,
    k = 0, 1, ...) of each group of tied death times moved k * step months later."""
    d = an.primary_data(df).copy()
    dead = d["death"] == 1
    k = d.loc[dead].groupby("os_months").cumcount()
    d.loc[dead, "os_months"] = d.loc[dead, "os_months"] + k * step
    return d


def _check_against(res: an.StandardizedMilestoneResult, r: dict, se_tol: float) -> None:
    sa, sb = res.survival_a, res.survival_b
    assert sa == pytest.approx(r["survival"]["A"], rel=EST_TOL)
    assert sb == pytest.approx(r["survival"]["B"], rel=EST_TOL)
    assert r["risk_difference"]["contrast"] == "risk A - risk B"
    assert -res.difference == pytest.approx(r["risk_difference"]["estimate"], rel=EST_TOL)
    assert r["risk_ratio"]["contrast"] == "risk A / risk B"
    assert (1 - sa) / (1 - sb) == pytest.approx(r["risk_ratio"]["estimate"], rel=EST_TOL)
    assert res.ratio == pytest.approx(r["survival_ratio"]["estimate"], rel=EST_TOL)
    assert res.table.at["A", "se"] == pytest.approx(r["risk_se"]["A"], rel=se_tol)
    assert res.table.at["B", "se"] == pytest.approx(r["risk_se"]["B"], rel=se_tol)
    assert res.diff_se == pytest.approx(r["risk_difference"]["se"], rel=se_tol)
    lse = math.log(res.ratio_upper / res.ratio) / 1.959963984540054
    assert lse == pytest.approx(r["survival_ratio"]["log_se"], rel=se_tol)


# ---------------------------------------------------------------------------- R riskRegression
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_equals_riskregression_on_the_shipped_files(scenario: str, reference: dict) -> None:
    r = reference["results"][f"trial_{scenario}"]["shipped"]
    res = an.standardized_milestone(_data(scenario))
    assert res.estimable and res.n == r["n"] and res.events == r["events"]
    assert res.covariates == PLAN.analysis.covariates and res.tau == 24.0
    assert r["tied_death_times"] > 0  # the shipped files do hold ties: the SE tolerance below is needed
    _check_against(res, r, SE_TIES_TOL)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_equals_riskregression_exactly_without_tied_deaths(scenario: str, reference: dict) -> None:
    r = reference["results"][f"trial_{scenario}"]["ties_broken"]
    d = _break_ties(_data(scenario), reference["tie_step_months"])
    assert not d.loc[d["death"] == 1, "os_months"].duplicated().any() and r["tied_death_times"] == 0
    res = an.standardized_milestone(d)
    X, _ = cox_matrix(d)
    assert fit_cox(d["os_months"].to_numpy(), d["death"].to_numpy(), X).coef[0] == pytest.approx(r["coef_arm"],
                                                                                                rel=1e-7)
    _check_against(res, r, SE_TOL)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_beta_influence_is_r_survivals_dfbeta(scenario: str, reference: dict) -> None:
    """sqrt(diag(sum_i dfbeta_i^2)) is R coxph(robust = TRUE)'s SE: our score residuals (the
    exact Efron ones) times the inverse information are R's dfbeta residuals."""
    d = an.primary_data(_data(scenario))
    X, names = cox_matrix(d)
    t, e = d["os_months"].to_numpy(), d["death"].to_numpy()
    fit = fit_cox(t, e, X, tol=1e-10, max_iter=100)
    dfbeta = cox_score_residuals(t, e, X, fit.coef) @ fit.cov
    robust = np.sqrt(np.sum(dfbeta ** 2, axis=0))
    ref = reference["results"][f"trial_{scenario}"]["robust_se"]
    assert list(ref) == list(names)
    np.testing.assert_allclose(robust, [ref[k] for k in names], rtol=1e-6)


def test_script_follows_the_reference_convention() -> None:
    src = (REF / "riskregression_ate.R").read_text()
    assert "Rscript tests/reference/riskregression_ate.R [OUTPUT.json]" in src
    assert '"tests/reference/riskregression_ate.json"' in src and "if (length(args) > 1) stop(" in src
    assert "digits = I(15)" in src and 'stop("empty or NA result' in src
    assert f"PRIMARY_CENSOR_MONTHS <- {PLAN.analysis.censor_months:g}" in src


# ---------------------------------------------------------------------------- the estimator itself
def test_influence_values_sum_to_zero_and_agree_with_the_jackknife() -> None:
    """The influence values of a converged fit sum to 0 (each term is centred: the averaging over
    patients, the baseline's counting-process martingales, the score at the estimate), and
    leaving patient i out moves the estimate by about -psi_i n/(n - 1) (the jackknife, computed
    by 236 refits that share no formula with the influence function)."""
    d = an.primary_data(_data("protocol"))
    X, _ = cox_matrix(d)
    t, e = d["os_months"].to_numpy(float), d["death"].to_numpy(float)
    full = standardized_survival(t, e, X, 24.0, tol=1e-12, max_iter=100)
    assert np.abs(full.iid.sum(axis=0)).max() < 1e-9
    n = len(t)
    keep = ~np.eye(n, dtype=bool)
    loo = standardized_survival(np.stack([t[k] for k in keep]), np.stack([e[k] for k in keep]),
                                np.stack([X[k] for k in keep]), 24.0, tol=1e-12, max_iter=100)
    assert loo.ok.all()
    jack = loo.difference - full.difference
    psi = full.iid[:, 0] - full.iid[:, 1]
    assert np.corrcoef(jack, -psi)[0, 1] > 0.995
    jack_se = math.sqrt((n - 1) / n * np.sum((loo.difference - loo.difference.mean()) ** 2))
    assert jack_se == pytest.approx(float(full.difference_se), rel=0.03)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_order_of_the_rows_and_batching_do_not_matter(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 80
    X = np.column_stack([rng.integers(0, 2, n), rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    t = np.round(rng.exponential(10 * np.exp(-0.5 * X[:, 0] + 0.3 * X[:, 2])), 0) + 1  # ties on purpose
    e = (rng.random(n) < 0.7).astype(float)
    one = standardized_survival(t, e, X, 8.0, engine="numpy")
    perm = rng.permutation(n)
    other = standardized_survival(t[perm], e[perm], X[perm], 8.0, engine="numpy")
    np.testing.assert_allclose(other.survival, one.survival, rtol=1e-9)
    np.testing.assert_allclose(other.iid, one.iid[perm], rtol=1e-7, atol=1e-12)
    batch = standardized_survival(np.stack([t, t[perm]]), np.stack([e, e[perm]]), np.stack([X, X[perm]]), 8.0)
    np.testing.assert_allclose(batch.survival, [one.survival, one.survival], rtol=1e-7)
    np.testing.assert_allclose(batch.difference_se, [one.difference_se] * 2, rtol=1e-6)


def test_without_covariates_it_is_the_cox_models_own_survival() -> None:
    """With the arm alone the standardized survival of an arm is exp(-Lambda_0(tau) exp(beta a)):
    the Breslow baseline d/S0 at untied times, written out by hand."""
    rng = np.random.default_rng(3)
    n = 60
    a = np.repeat([0.0, 1.0], n // 2)
    t = rng.exponential(12 * np.exp(0.4 * a)) + rng.random(n) * 1e-3
    e = (rng.random(n) < 0.8).astype(float)
    res = standardized_survival(t, e, a[:, None], 10.0, ties="breslow")
    b = float(res.fit.coef[0])
    lam = sum(1 / np.exp(b * a[t >= ti]).sum() for ti in t[(e == 1) & (t <= 10.0)])
    assert res.survival[0] == pytest.approx(math.exp(-lam * math.exp(b)), rel=1e-9)
    assert res.survival[1] == pytest.approx(math.exp(-lam), rel=1e-9)
    assert res.baseline == pytest.approx(lam, rel=1e-9)


def test_unestimable_and_bad_input() -> None:
    d = an.primary_data(_data("protocol"))
    no_deaths_a = d.copy()
    no_deaths_a.loc[no_deaths_a["arm"] == "A", "death"] = 0
    res = an.standardized_milestone(no_deaths_a)
    assert not res.estimable and "no death in arm A" in res.reason and math.isnan(res.difference)
    assert "no estimate" in res.summary()
    with pytest.raises(OutsideDataError, match="beyond the plan's horizon"):
        an.standardized_milestone(d, tau=30.0)
    with pytest.raises(OutsideDataError, match="beyond the last follow-up"):
        an.standardized_milestone(d.assign(os_months=np.minimum(d["os_months"], 12.0)), tau=20.0)
    with pytest.raises(TrialAnalysisError):
        an.standardized_milestone(d.drop(columns="her2"))
    with pytest.raises(TrialAnalysisError, match="TrialPlan"):
        an.standardized_milestone(d, plan=PLAN.analysis)
    t, e = d["os_months"].to_numpy(), d["death"].to_numpy()
    with pytest.raises(ValueError, match="treatment column"):
        standardized_survival(t, e, np.column_stack([t, e]), 24.0)
    with pytest.raises(ValueError, match="treatment must be a column"):
        standardized_survival(t, e, e[:, None], 24.0, treatment=1)


def test_follows_the_plan() -> None:
    df = _data("protocol")
    unadj = an.standardized_milestone(df, plan=PLAN.with_changes(covariates=()))
    assert unadj.covariates == ()
    t, e, arm = (an.primary_data(df)[c].to_numpy() for c in ("os_months", "death", "arm"))
    fit = fit_cox(t, e, (arm == "A").astype(float)[:, None])
    assert math.log(unadj.ratio) != 0 and fit.converged
    res12 = an.standardized_milestone(df, tau=12.0)
    direct = standardized_survival(t, e, cox_matrix(an.primary_data(df))[0], 12.0)
    assert res12.tau == 12.0 and res12.survival_a == pytest.approx(float(direct.survival[0]), rel=1e-12)
    breslow = an.standardized_milestone(df, plan=PLAN.with_changes(ties="breslow"))
    assert breslow.survival_a != an.standardized_milestone(df).survival_a
    frame = an.standardized_milestone(df).to_frame()
    assert list(frame.index) == ["S_A(24)", "S_B(24)", "S_A - S_B", "S_A / S_B"]
    assert "percentage points" in an.standardized_milestone(df).summary()


# ---------------------------------------------------------------------------- the simulation
def _frame(d, time: np.ndarray, event: np.ndarray, i: int) -> pd.DataFrame:
    levels = {f.name: f.levels for f in FACTORS}
    site = np.array(levels["dominant_site"])[d.site[i]]
    return pd.DataFrame({
        "arm": np.where(d.arm[i] == 1, "A", "B"), "os_months": time[i], "death": event[i].astype(int),
        "dominant_site": site, "hormone_receptor": np.where(d.hr_negative[i] == 1, "negative", "positive"),
        "her2": np.where(d.her2_positive[i] == 1, "positive", "negative")})


@pytest.mark.parametrize("change", [{}, {"covariates": ("hormone_receptor",)}, {"ties": "breslow"}])
def test_registry_equals_the_one_trial_analysis(change: dict) -> None:
    plan = PLAN.with_changes(**change)
    d = simulate_trials(PLAN.design, 5, np.random.default_rng(8))
    time, event = cut(d, d.entry[:, -1] + 24.0, 24.0)
    time = np.ceil(time)  # whole months: tied deaths
    out = analyse_cut(time, event, d, ("standardized_milestone", "cox_wald"), plan.analysis, 24.0)
    st_ = out["standardized_milestone"]
    assert st_.ok.all()
    for i in range(d.n_trials):
        res = an.standardized_milestone(_frame(d, time, event, i), plan=plan)
        assert st_.estimate[i] == pytest.approx(res.difference, rel=1e-9, abs=1e-12)
        assert st_.z[i] == pytest.approx(-res.z, rel=1e-9, abs=1e-12)


def test_calibrated_under_minimization_and_centred_on_the_true_marginal_difference() -> None:
    """2,000 trials of the plan (minimization on the three prognostic factors): the estimates
    centre on the design's true marginal two-year survival difference (the Cox working model is
    the simulator's model) and their SD matches the influence-function SE."""
    d = simulate_trials(PLAN.design, 2000, np.random.default_rng(2024))
    time, event = cut(d, final_cutoff(d, PLAN), 24.0)
    res = standardized_survival(time, event, d.covariates(), 24.0)
    assert res.ok.all()
    truth = true_estimands(PLAN.design)["milestone_difference"]
    est = res.difference
    mc = est.std() / math.sqrt(len(est))
    assert abs(est.mean() - truth) < 3.5 * mc
    ratio = math.sqrt(np.mean(res.difference_se ** 2)) / est.std()
    assert 0.95 < ratio < 1.06


def test_gains_over_the_kaplan_meier_difference() -> None:
    """On the same 4,000 trials under the design, the standardized test rejects more often than
    the Kaplan-Meier milestone test (paired: the two tests see the same trials)."""
    r = simulate(PLAN, 4000, seed=5, analyses=["standardized_milestone", "milestone"])
    std, km = r.reject["standardized_milestone"], r.reject["milestone"]
    gained, lost = int((std & ~km).sum()), int((km & ~std).sum())
    assert gained > lost
    # McNemar: the gain is not chance
    assert (gained - lost) / math.sqrt(gained + lost) > 2.0
    assert replace(PLAN.design).allocation == "minimization"
