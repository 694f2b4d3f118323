"""The next-look prediction (trialnb.monitoring.prediction): model fits against R survreg/glm
and against direct numerical maximisation, the simulated predictive distribution against its
closed form, the special cases, bad input, and properties that common random numbers make
exact (more deaths needed -> later; one more observed death or more planned patients -> not
later; the arm column is never read). The coverage of the interval on synthetic trials with a
known truth is in tests/test_prediction_coverage.py."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from scipy import optimize, stats

from trialnb.data import load_trial
from trialnb.errors import DesignError
from trialnb.monitoring import DeathPrediction, ModelFit, predict_deaths
from trialnb.monitoring.prediction import (PRECISION, fit_death_models, fit_dropout, fit_enrollment_models,
                                           model_weights)

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"


def cut_rule(entry: np.ndarray, os_: np.ndarray, death: np.ndarray, cutoff: float) -> pd.DataFrame:
    """The interim cut as the issue states it: patients randomized by the cut-off, follow-up
    min(os, cut - entry), a death only if entry + os <= cut."""
    keep = entry <= cutoff
    e, o, d = entry[keep], os_[keep], death[keep]
    dead = (d == 1) & (e + o <= cutoff)
    return pd.DataFrame({"entry_month": e, "os_months": np.where(dead, o, np.minimum(o, cutoff - e)),
                         "death": dead.astype(int)})


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return load_trial(ROOT / "data" / "trial_protocol.csv")


def primary_deaths(df: pd.DataFrame) -> int:
    return int(((df["death"] == 1) & (df["os_months"] <= 24)).sum())


def protocol_cut(trial: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    out = cut_rule(trial["entry_month"].to_numpy(), trial["os_months"].to_numpy(), trial["death"].to_numpy(), cutoff)
    out["arm"] = trial.loc[trial["entry_month"] <= cutoff, "arm"].to_numpy()
    return out


# ---------------------------------------------------------------------------------------
# what is known at the cut-off


def test_counts_at_the_cut_off_are_recomputed_independently(trial) -> None:
    c = 28.5
    df = protocol_cut(trial, c)
    p = predict_deaths(df, c, primary_deaths(df) + 10, n_sims=200, seed=1)
    primary = (df["death"] == 1) & (df["os_months"] <= 24)
    censored_early = (df["death"] == 0) & (df["os_months"] < np.minimum(c - df["entry_month"], 24) - PRECISION)
    # on the full file: a patient lost before the cut-off is one whose follow-up ended before it alive
    full_lost = ((trial["death"] == 0) & (trial["entry_month"] + trial["os_months"] < c - PRECISION)
                 & (trial["os_months"] < 24 - PRECISION))
    assert p.observed_deaths == int(primary.sum())
    assert p.randomized_at_cutoff == int((trial["entry_month"] <= c).sum()) == len(df)
    assert p.lost == int(censored_early.sum()) == int(full_lost.sum())
    alive = (df["death"] == 0) & ~censored_early & (c - df["entry_month"] < 24)
    assert p.at_risk == int(alive.sum())
    assert p.cutoff_month < p.lower_month <= p.median_month <= p.upper_month
    assert p.randomized_at_cutoff <= p.lower_randomized <= p.median_randomized <= p.upper_randomized <= 236
    assert np.all(p.randomized >= p.randomized_at_cutoff) and np.all(p.randomized <= p.n_planned)


def test_a_lost_to_follow_up_flag_and_the_arm_are_never_read(trial) -> None:
    c = 24.0
    df = protocol_cut(trial, c)
    k = primary_deaths(df) + 8
    base = predict_deaths(df, c, k, n_sims=300, seed=3)
    other = df.assign(arm=np.random.default_rng(0).permutation(df["arm"].to_numpy()),
                      lost_to_follow_up=np.random.default_rng(1).integers(0, 2, len(df)))
    again = predict_deaths(other, c, k, n_sims=300, seed=3)
    np.testing.assert_array_equal(base.months, again.months)
    np.testing.assert_array_equal(predict_deaths(df.drop(columns="arm"), c, k, n_sims=300, seed=3).months,
                                  base.months)


def test_same_seed_same_prediction_other_seed_other_draws(trial) -> None:
    df = protocol_cut(trial, 20.0)
    k = primary_deaths(df) + 10
    a, b = (predict_deaths(df, 20.0, k, n_sims=300, seed=s) for s in (5, 5))
    np.testing.assert_array_equal(a.months, b.months)
    assert not np.array_equal(a.months, predict_deaths(df, 20.0, k, n_sims=300, seed=6).months)


# ---------------------------------------------------------------------------------------
# the simulated predictive distribution against its closed form


def _small_trial() -> tuple[pd.DataFrame, float]:
    """40 patients entered at months 0.5, 1.0, ..., 20; 10 deaths, 3 lost, the rest alive at 24."""
    entry = np.arange(1, 41) * 0.5
    c = 24.0
    os_ = c - entry
    death = np.zeros(40, int)
    death[::4] = 1
    os_[::4] = np.round(0.4 * (c - entry[::4]), 2)
    for i in (1, 5, 9):
        os_[i] = np.round(0.5 * (c - entry[i]), 2)
    return pd.DataFrame({"entry_month": entry, "os_months": os_, "death": death}), c


def test_first_future_death_has_the_posterior_predictive_distribution() -> None:
    """One more death needed, no patient still to come, exponential deaths: with lambda ~
    Gamma(D + 1/2, E) and drop-out gamma ~ Gamma(L + 1/2, E) (E the follow-up), each of the m
    patients at risk dies within w (and before drop-out) with probability
    lambda/(lambda + gamma) (1 - exp(-(lambda + gamma) w)), so P(W > w) = E[(1 - that)^m],
    computed here by quadrature over the two Gamma distributions."""
    df, c = _small_trial()
    censor = 1000.0  # no truncation: the memoryless formula holds for every w used
    n = 20_000
    p = predict_deaths(df, c, 11, n_planned=40, censor_months=censor, n_sims=n, seed=7,
                       death_model="exponential")
    assert (p.observed_deaths, p.lost, p.at_risk) == (10, 3, 27)
    exposure = df["os_months"].sum()
    grid = (np.arange(400) + 0.5) / 400
    lam = stats.gamma.ppf(grid, 10.5)[:, None] / exposure
    gam = stats.gamma.ppf(grid, 3.5)[None, :] / exposure
    for w in (0.3, 1.0, 2.5, 5.0):
        one = lam / (lam + gam) * -np.expm1(-(lam + gam) * w)
        survival = float(np.mean((1 - one) ** 27))
        simulated = float(np.mean(p.months - c > w))
        assert simulated == pytest.approx(survival, abs=4.5 * math.sqrt(survival * (1 - survival) / n) + 2e-3)


def test_enrollment_end_has_the_beta_prime_predictive_distribution() -> None:
    """Poisson enrollment with rate ~ Gamma(n + 1/2, T): the time to the m-th new patient is
    G / lambda with G ~ Gamma(m, 1), i.e. T X / Y with X / Y ~ BetaPrime(m, n + 1/2)."""
    df, c = _small_trial()
    n = 20_000
    p = predict_deaths(df, c, 15, n_planned=70, n_sims=n, seed=8, enrollment_model="poisson")
    span, m = c - 0.0, 30
    for q in (0.1, 0.5, 0.9):
        x = c + span * stats.betaprime.ppf(q, m, 40.5)
        assert float(np.mean(p.enrollment_end <= x)) == pytest.approx(q, abs=4.5 * math.sqrt(q * (1 - q) / n))


# ---------------------------------------------------------------------------------------
# the fits: R survreg / glm and direct maximisation


def _ref() -> dict:
    return json.loads((REF / "prediction_survreg.json").read_text())


@pytest.mark.parametrize("name", ["early", "middle", "late"])
def test_death_fits_equal_r_survreg_and_glm(name: str) -> None:
    ref = _ref()
    t, e = np.array(ref["inputs"][name]["time"]), np.array(ref["inputs"][name]["event"])
    r = ref["results"][name]
    fits = {f.model: f for f in fit_death_models(t, e)}
    assert fits["exponential"].parameters["hazard"] == pytest.approx(r["exponential"]["rate"], rel=1e-9)
    assert fits["exponential"].log_likelihood == pytest.approx(r["exponential"]["loglik"], rel=1e-9)
    w = fits["weibull"]
    assert w.parameters["shape"] == pytest.approx(r["weibull"]["shape"], rel=1e-7)
    assert w.parameters["scale"] == pytest.approx(r["weibull"]["scale"], rel=1e-7)
    assert w.log_likelihood == pytest.approx(r["weibull"]["loglik"], rel=1e-9)
    # survreg's vcov is for (log scale b, log sigma), sigma = 1/shape; ours for (a, log k), a = -k log b
    mu, sig = math.log(r["weibull"]["scale"]), 1 / r["weibull"]["shape"]
    jac = np.array([[-1 / sig, mu / sig], [0.0, -1.0]])
    np.testing.assert_allclose(np.array(w.log_cov), jac @ np.reshape(r["weibull"]["vcov"], (2, 2)) @ jac.T,
                               rtol=1e-6)
    pw = fits["piecewise_exponential"].parameters
    np.testing.assert_allclose([pw[f"hazard_{j + 1}"] for j in range(len(pw))], r["piecewise"]["hazards"],
                               rtol=1e-9)


def test_reference_covers_few_and_many_deaths() -> None:
    events = {nm: sum(v["event"]) for nm, v in _ref()["inputs"].items()}
    assert events["early"] < 10 < 30 < events["late"]




def test_piecewise_fit_by_hand_and_knots_past_follow_up_dropped() -> None:
    t = np.array([1.0, 2.0, 7.0, 8.0, 13.0, 20.0])
    e = np.array([1, 0, 1, 1, 0, 1])
    pw = {f.model: f for f in fit_death_models(t, e, knots=(6, 12, 30))}["piecewise_exponential"]
    assert pw.knots == (6.0, 12.0)  # 30 is past the longest follow-up
    expo = [1 + 2 + 6 * 4, 1 + 2 + 6 + 6, 1 + 8]
    assert [pw.parameters[f"hazard_{j}"] for j in (1, 2, 3)] == pytest.approx([1 / expo[0], 2 / expo[1], 1 / expo[2]])
    by_hand = sum(d * math.log(d / x) - d for d, x in zip((1, 2, 1), expo, strict=True))
    assert pw.log_likelihood == pytest.approx(by_hand)
    assert [f.model for f in fit_death_models(t, e, knots=(25.0,))] == ["exponential", "weibull"]


def test_weibull_needs_two_death_times_and_no_death_is_an_error() -> None:
    assert [f.model for f in fit_death_models(np.array([3.0, 5.0, 9.0]), np.array([0, 1, 0]))] == [
        "exponential", "piecewise_exponential"]
    with pytest.raises(DesignError, match="no death"):
        fit_death_models(np.array([3.0, 5.0]), np.array([0, 0]))


def _enrollment_loglik(model: str, x: np.ndarray, s: np.ndarray, span: float) -> float:
    """The log-likelihood of a non-homogeneous Poisson process on (0, span]: sum log intensity
    - integrated intensity, written from the intensities directly."""
    if model == "power":  # Lambda(s) = a s^b
        a, b = np.exp(x)
        return float(np.sum(np.log(a * b * s ** (b - 1))) - a * span ** b)
    rho, delta = np.exp(x)  # time-decay: rho (1 - exp(-delta s))
    integral = rho * (span - (1 - math.exp(-delta * span)) / delta)
    return float(np.sum(np.log(rho * (1 - np.exp(-delta * s)))) - integral)


@pytest.mark.parametrize("shape", [0.7, 1.6])
def test_enrollment_fits_maximise_their_likelihood(shape: float) -> None:
    rng = np.random.default_rng(4)
    span = 30.0
    s = np.sort(span * rng.random(150) ** (1 / shape))
    fits = {f.model: f for f in fit_enrollment_models(s, span)}
    assert fits["poisson"].parameters["rate"] == pytest.approx(150 / span)
    assert fits["poisson"].log_likelihood == pytest.approx(150 * math.log(150 / span) - 150)
    for model in ("power", "time_decay"):
        if model not in fits:
            assert shape < 1  # a slowing process has no ramp-up: the time-decay MLE is delta -> infinity
            continue
        f = fits[model]
        x0 = np.array(f.log_mean)
        ours = _enrollment_loglik(model, x0 if model == "time_decay" else
                                  np.array([x0[0] - math.exp(x0[1]) * math.log(span), x0[1]]), s, span)
        assert ours == pytest.approx(f.log_likelihood, rel=1e-9)
        best = optimize.minimize(lambda x, model=model: -_enrollment_loglik(model, x, s, span), x0 + 0.3,
                                 method="Nelder-Mead",
                                 options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
        assert -best.fun <= f.log_likelihood + 1e-7  # no better point exists
    # b / b_hat ~ Gamma(n, 1) / n: within 4 standard deviations (4 / sqrt(150) = 0.33)
    assert fits["power"].parameters["shape"] == pytest.approx(shape, rel=0.33)


def test_enrollment_at_the_start_is_taken_at_half_the_precision() -> None:
    fits = {f.model: f for f in fit_enrollment_models(np.array([0.0, 1.0, 2.5, 3.0]), 4.0)}
    assert fits["power"].parameters["shape"] == pytest.approx(4 / -np.log(np.array([0.005, 1, 2.5, 3]) / 4).sum())


def test_dropout_fit_and_its_posterior_without_losses() -> None:
    f = fit_dropout(np.array([10.0, 20.0, 30.0]), np.array([0, 1, 0]))
    assert f.parameters["hazard"] == pytest.approx(1 / 60)
    none = fit_dropout(np.array([10.0, 20.0]), np.array([0, 0]))
    draws = none.draw(5000, np.random.default_rng(0))[:, 0]
    assert none.parameters["hazard"] == 0 and np.all(draws > 0)
    assert draws.mean() == pytest.approx(0.5 / 30, rel=0.05)  # Gamma(1/2, rate 30)


def test_model_weights_are_akaike_weights() -> None:
    df, c = _small_trial()
    fits = fit_death_models(np.minimum(df["os_months"], 24), df["death"])
    w = model_weights(fits)
    aic = np.array([f.aic for f in fits])
    assert w.sum() == pytest.approx(1)
    assert w[0] / w[1] == pytest.approx(math.exp(-(aic[0] - aic[1]) / 2))
    assert model_weights(fits, "best")[np.argmin(aic)] == 1
    bic = np.array([f.bic for f in fits])
    assert model_weights(fits, "best", "bic")[np.argmin(bic)] == 1
    assert model_weights(fits, "weibull").tolist() == [0, 0, 1]
    assert fits[0].bic == pytest.approx(math.log(10) - 2 * fits[0].log_likelihood)


# ---------------------------------------------------------------------------------------
# special cases


def test_target_already_reached_says_when(trial) -> None:
    c = 28.5
    df = protocol_cut(trial, c)
    prim = (df["death"] == 1) & (df["os_months"] <= 24)
    observed = int(prim.sum())
    month = np.sort((df["entry_month"] + df["os_months"])[prim])[observed - 1]
    with pytest.raises(DesignError, match=rf"already reached at month {month:g}"):
        predict_deaths(df, c, observed, n_sims=50)
    assert predict_deaths(df, c, observed + 1, n_sims=50).lower_month > c


def test_no_primary_death_yet_is_an_error() -> None:
    df = pd.DataFrame({"entry_month": [1.0, 2.0, 3.0], "os_months": [3.0, 2.0, 1.0], "death": [0, 0, 0]})
    with pytest.raises(DesignError, match="no death in the data"):
        predict_deaths(df, 4.0, 1, n_sims=50)
    late = df.assign(os_months=[30.0, 2.0, 1.0], death=[1, 0, 0], entry_month=[1.0, 29.0, 30.0])
    with pytest.raises(DesignError, match="no death in the data"):  # a death after 24 months is not primary
        predict_deaths(late, 31.0, 1, n_sims=50)


def test_unreachable_target_is_an_error_and_a_nearly_unreachable_one_says_not_reached() -> None:
    df, c = _small_trial()
    with pytest.raises(DesignError, match="cannot be reached.*target_deaths <= 47"):
        predict_deaths(df, c, 48, n_planned=50, n_sims=50)
    p = predict_deaths(df, c, 47, n_planned=50, n_sims=200)  # every patient at risk and to come must die
    assert p.probability_not_reached > 0.99 and math.isinf(p.median_month) and math.isinf(p.upper_month)
    assert "not reached" in p.summary() and "never reached" in p.summary()
    assert p.to_dict()["upper_month"] is None and p.to_dict()["median_month"] is None
    assert np.all(p.randomized[np.isinf(p.months)] == 50)


def test_no_patient_still_to_come() -> None:
    df, c = _small_trial()
    p = predict_deaths(df, c, 14, n_planned=40, n_sims=200)
    assert np.all(p.randomized == 40) and np.all(p.enrollment_end == df["entry_month"].max())


def test_intervals_and_result_contract(trial) -> None:
    df = protocol_cut(trial, 24.0)
    k = primary_deaths(df) + 12
    p = predict_deaths(df, 24.0, k, n_sims=500, seed=2)
    assert isinstance(p, DeathPrediction) and isinstance(p.death, ModelFit)
    assert p.interval(0.8) == (p.lower_month, p.upper_month)
    lo50, hi50 = p.interval(0.5)
    lo95, hi95 = p.interval(0.95)
    assert lo95 <= p.lower_month <= lo50 <= p.median_month <= hi50 <= p.upper_month <= hi95
    assert p.randomized_interval(0.8) == (p.lower_randomized, p.upper_randomized)
    frame = p.to_frame()
    assert list(frame.columns) == ["quantity", "median", "80% lower", "80% upper"] and len(frame) == 3
    assert frame.loc[0, "median"] == p.median_month
    models = p.models_frame()
    assert models.groupby("component")["weight"].sum().tolist() == pytest.approx([1, 1, 1])
    assert re.search(rf"the {k}(st|nd|rd|th) primary-endpoint death", p.summary()) and "blinded" in p.summary()
    assert "<table" in p._repr_html_()
    record = json.loads(json.dumps(p.to_dict()))
    assert record["median_month"] == p.median_month and record["target_deaths"] == k
    assert record["models"]["death"]["weights"] == p.weights["death"]
    with pytest.raises(DesignError, match="level"):
        p.interval(1.0)


def test_named_models_are_used_alone_and_one_that_cannot_be_fitted_is_an_error() -> None:
    df, c = _small_trial()
    p = predict_deaths(df, c, 14, n_planned=60, n_sims=100, death_model="weibull", enrollment_model="poisson")
    assert p.weights["death"]["weibull"] == 1 and p.death.model == "weibull"
    assert p.weights["enrollment"]["poisson"] == 1 and sum(p.weights["enrollment"].values()) == 1
    one = pd.DataFrame({"entry_month": [1.0, 2.0, 3.0], "os_months": [2.0, 3.0, 2.0], "death": [1, 0, 0]})
    with pytest.raises(DesignError, match="weibull.*cannot be fitted"):
        predict_deaths(one, 5.0, 2, n_sims=50, death_model="weibull")


# ---------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize("change, match", [
    (dict(cutoff_month=float("nan")), "cutoff_month"),
    (dict(target_deaths=0), "target_deaths"),
    (dict(target_deaths=True), "target_deaths"),
    (dict(target_deaths=12.0), "target_deaths"),
    (dict(n_sims=5), "n_sims"),
    (dict(n_sims=True), "n_sims"),
    (dict(seed=-1), "seed"),
    (dict(level=1.0), "level"),
    (dict(level=0), "level"),
    (dict(censor_months=0), "censor_months"),
    (dict(n_planned=30), "n_planned must be at least the 40"),
    (dict(n_planned=False), "n_planned"),
    (dict(accrual_start=30.0), "accrual_start"),
    (dict(accrual_start=0.75), "entry_month must be >= accrual_start"),
    (dict(criterion="aicc"), "criterion must be one of aic, bic"),
    (dict(death_model="cox"), "death_model must be one of"),
    (dict(enrollment_model="linear"), "enrollment_model must be one of"),
    (dict(death_knots="6"), "death_knots must be a sequence"),
    (dict(death_knots=(6, -1)), "death_knots"),
])
def test_bad_arguments_are_named_errors(change: dict, match: str) -> None:
    df, c = _small_trial()
    kwargs = dict(cutoff_month=c, target_deaths=12, n_planned=60, n_sims=50) | change
    with pytest.raises(DesignError, match=match):
        predict_deaths(df, **kwargs)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.drop(columns="death"), "lacks the column"),
    (lambda d: d.iloc[:0], "no patient"),
    (lambda d: d.assign(death=d["death"].astype(bool)), "must be numeric"),
    (lambda d: d.assign(death=d["death"].astype(str)), "must be numeric"),
    (lambda d: d.assign(os_months=d["os_months"].where(d.index != 3)), "missing or infinite"),
    (lambda d: d.assign(death=d["death"] * 2), "death must be 0 or 1"),
    (lambda d: d.assign(os_months=d["os_months"] - 100), "os_months must be >= 0"),
    (lambda d: d.assign(os_months=np.where(d["death"] == 1, 0.0, d["os_months"])), "a death needs os_months > 0"),
    (lambda d: pd.concat([d, d.iloc[:1].assign(entry_month=25.0, os_months=0.0, death=0)]), "randomized later"),
    (lambda d: d.assign(os_months=d["os_months"] + 0.5), "follow-up past the cut-off"),
    (lambda d: d.to_dict("list"), "pandas DataFrame"),
])
def test_bad_data_are_named_errors(edit, match: str) -> None:
    df, c = _small_trial()
    with pytest.raises(DesignError, match=match):
        predict_deaths(edit(df), c, 12, n_planned=60, n_sims=50)


# ---------------------------------------------------------------------------------------
# properties (common random numbers make them hold simulation by simulation)


@st.composite
def cut_trials(draw) -> tuple[pd.DataFrame, float]:
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(12, 80))
    cutoff = draw(st.floats(8.0, 40.0))
    scale = draw(st.floats(8.0, 80.0))
    rng = np.random.default_rng(seed)
    entry = np.sort(np.round(rng.uniform(0.01, cutoff, n), 2))
    t_death = rng.exponential(scale, n)
    t_loss = rng.exponential(150.0, n)
    os_ = np.round(np.minimum(t_death, t_loss), 2) + 0.01
    df = cut_rule(entry, os_, (t_death <= t_loss).astype(int), cutoff)
    return df, cutoff


def _counts(df: pd.DataFrame, cutoff: float) -> tuple[int, np.ndarray]:
    primary = int(((df["death"] == 1) & (df["os_months"] <= 24)).sum())
    at_risk = ((df["death"] == 0) & (df["os_months"] >= np.minimum(cutoff - df["entry_month"], 24) - PRECISION)
               & (cutoff - df["entry_month"] < 24)).to_numpy()
    return primary, at_risk


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cut_trials(), st.integers(1, 10), st.sampled_from(["average", "best", "weibull"]))
def test_more_deaths_needed_is_never_earlier(trial_cut, extra: int, model: str) -> None:
    df, c = trial_cut
    observed, at_risk = _counts(df, c)
    assume(observed >= 2 and at_risk.sum() >= 1)
    target = observed + 1
    n_planned = len(df) + 20
    try:
        a = predict_deaths(df, c, target, n_planned=n_planned, n_sims=100, seed=1, death_model=model)
    except DesignError as exc:  # a Weibull needs two different death times
        assume("cannot be fitted" not in str(exc))
        raise
    b = predict_deaths(df, c, target + extra, n_planned=n_planned, n_sims=100, seed=1, death_model=model)
    assert np.all(b.months >= a.months) and np.all(b.randomized >= a.randomized)
    assert b.median_month >= a.median_month and b.upper_month >= a.upper_month


@SETTINGS
@given(cut_trials(), st.integers(0, 10_000), st.sampled_from(["poisson", "average"]))
def test_one_more_observed_death_is_never_later(trial_cut, pick: int, enrollment: str) -> None:
    """An at-risk patient who instead died at the cut-off: the exponential hazard's posterior
    moves up (same exposure, one more death), the other patients' futures are the same draws."""
    df, c = trial_cut
    observed, at_risk = _counts(df, c)
    assume(observed >= 1 and at_risk.sum() >= 2)
    i = np.flatnonzero(at_risk)[pick % int(at_risk.sum())]
    more = df.copy()
    more.iloc[i, more.columns.get_loc("death")] = 1
    target = observed + 2
    kw = dict(n_planned=len(df) + 10, n_sims=150, seed=4, death_model="exponential", enrollment_model=enrollment)
    a = predict_deaths(df, c, target, **kw)
    b = predict_deaths(more, c, target, **kw)
    assert b.observed_deaths == a.observed_deaths + 1
    assert np.all(b.months <= a.months + 1e-9)


@SETTINGS
@given(cut_trials(), st.integers(1, 30), st.sampled_from(["poisson", "power", "average"]))
def test_more_planned_patients_is_never_later(trial_cut, more: int, enrollment: str) -> None:
    df, c = trial_cut
    observed, at_risk = _counts(df, c)
    assume(observed >= 1)
    target = observed + 1 + int(at_risk.sum()) // 2
    kw = dict(n_sims=150, seed=9, enrollment_model=enrollment)
    try:
        a = predict_deaths(df, c, target, n_planned=len(df) + 5, **kw)
    except DesignError as exc:
        assume("cannot be fitted" not in str(exc))
        raise
    b = predict_deaths(df, c, target, n_planned=len(df) + 5 + more, **kw)
    assert np.all(b.months <= a.months + 1e-6)
