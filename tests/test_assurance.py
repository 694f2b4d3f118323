"""trialnb.assurance: the probability of success equals its closed form (fixed design), an
independent integration and a Monte-Carlo draw of the normal model; the group-sequential value
equals a simulation of the same normal statistics and, within Monte-Carlo error, the package's
trial simulator with the hazard ratio drawn from the prior per block of trials; the priors and
"what it would take" are re-derived here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from trialnb import assurance as A
from trialnb import evidence as ev
from trialnb import monitoring
from trialnb.errors import EvidenceError
from trialnb.protocol import PROTOCOL
from trialnb.plan import PLAN
from trialnb.sample_size import sample_size, schoenfeld_events

Z975 = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def priors() -> dict[str, A.Prior]:
    return A.named_priors()


@pytest.fixture(scope="module")
def plan() -> monitoring.GroupSequentialDesign:
    return monitoring.plan_benefit_design(PLAN)


def _by_integration(m: float, s: float, d: float, z: float = Z975, lo: float = -np.inf, hi: float = np.inf) -> float:
    """P(success and lo < ln HR < hi), integrating the Schoenfeld power over the prior density."""
    c = math.sqrt(d) / 2
    f = lambda x: stats.norm.pdf(x, m, s) * stats.norm.cdf(-x * c - z)  # noqa: E731
    a, b = max(lo, m - 14 * s), min(hi, m + 14 * s)  # the prior's mass, where a narrow prior has it
    return integrate.quad(f, a, b, epsabs=1e-13, epsrel=1e-12, limit=400)[0] if b > a else 0.0


# ---------------------------------------------------------------------------- fixed design

@settings(max_examples=40, deadline=None)
@given(st.floats(-1.0, 0.7), st.floats(0.02, 1.0), st.floats(5, 3000))
def test_fixed_design_equals_the_closed_form_and_the_integral(m: float, s: float, d: float) -> None:
    a = A.assurance(events=d, prior_mean_log_hr=m, prior_sd=s)
    c = math.sqrt(d) / 2
    closed = stats.norm.cdf((-m * c - Z975) / math.sqrt(1 + c * c * s * s))
    assert a.probability_of_success == pytest.approx(closed, rel=1e-12, abs=1e-15)
    assert a.probability_of_success == pytest.approx(_by_integration(m, s, d), rel=1e-7, abs=1e-10)
    assert a.success_with_benefit + a.success_without_benefit == pytest.approx(a.probability_of_success, rel=1e-8,
                                                                                 abs=1e-12)
    assert a.probability_benefit == pytest.approx(stats.norm.cdf(-m / s))


def test_split_equals_the_bivariate_normal() -> None:
    """P(success and HR < 1) = P(ln HR < 0, benefit z > z) for the jointly normal (ln HR, z)."""
    m, s, d = -0.07, 0.21, 66
    c = math.sqrt(d) / 2
    cov = [[s * s, c * s * s], [c * s * s, 1 + c * c * s * s]]  # (ln HR, -Z): Cov(X, -Z) = c s^2
    joint = stats.multivariate_normal([m, c * m], cov).cdf([0.0, -Z975])
    a = A.assurance(events=d, prior_mean_log_hr=m, prior_sd=s)
    assert a.success_with_benefit == pytest.approx(joint, abs=1e-6)


def test_fixed_design_equals_a_monte_carlo_of_the_normal_model() -> None:
    rng = np.random.default_rng(20)
    m, s, d = -0.0707, 0.2133, 66
    x = rng.normal(m, s, 2_000_000)
    z = rng.normal(-x * math.sqrt(d) / 2, 1.0)
    hit = z > Z975
    a = A.assurance(events=d, prior_mean_log_hr=m, prior_sd=s)
    se = math.sqrt(a.probability_of_success * (1 - a.probability_of_success) / x.size)
    assert abs(hit.mean() - a.probability_of_success) < 4 * se
    assert abs((hit & (x < 0)).mean() - a.success_with_benefit) < 4 * se


def test_limits_power_and_ceiling() -> None:
    m = math.log(0.8)
    tiny = A.assurance(events=100, prior_mean_log_hr=m, prior_sd=1e-7)
    assert tiny.probability_of_success == pytest.approx(stats.norm.cdf(-m * 5 - Z975), rel=1e-9)
    assert tiny.power_at_prior_mean == pytest.approx(tiny.probability_of_success, rel=1e-9)
    huge = A.assurance(events=1e12, prior_mean_log_hr=m, prior_sd=0.3)
    assert huge.probability_of_success == pytest.approx(stats.norm.cdf(-m / 0.3), abs=1e-4)
    one = A.assurance(events=66, prior_mean_log_hr=m, prior_sd=0.3, alpha=0.025, sided=1)
    two = A.assurance(events=66, prior_mean_log_hr=m, prior_sd=0.3)
    assert one.probability_of_success == pytest.approx(two.probability_of_success, rel=1e-12)


# ---------------------------------------------------------------------------- group-sequential

def test_a_one_look_design_gives_the_closed_form() -> None:
    d1 = monitoring.design(1, alpha=0.025, sided=1)
    for m, s in ((-0.07, 0.21), (0.0, 0.42), (math.log(0.5), 0.42)):
        gs = A.assurance(events=66, prior_mean_log_hr=m, prior_sd=s, design=d1)
        fx = A.assurance(events=66, prior_mean_log_hr=m, prior_sd=s)
        assert gs.probability_of_success == pytest.approx(fx.probability_of_success, rel=1e-7)
        assert gs.success_with_benefit == pytest.approx(fx.success_with_benefit, rel=1e-7)
        assert gs.method == "numerical integration" and fx.method == "closed form"


def test_plan_equals_a_simulation_of_the_normal_statistics(plan, priors) -> None:
    """Independent of the recursive integration: draw ln HR from the prior and the two looks'
    benefit z from their joint normal law (the canonical joint distribution), apply the plan's
    efficacy and futility bounds."""
    rng = np.random.default_rng(7)
    n, d = 1_000_000, 66
    t = plan.information_rates
    crit = plan.critical_values
    fut = -np.inf if plan.futility_bounds is None or plan.futility_bounds[0] is None else plan.futility_bounds[0]
    for name in ("pooled", "sceptical"):
        p = priors[name]
        theta = -rng.normal(p.mean_log_hr, p.sd, n) * math.sqrt(d) / 2
        b1 = rng.normal(theta * t[0], math.sqrt(t[0]))  # Brownian motion B(t) = Z(t) sqrt(t)
        b2 = b1 + rng.normal(theta * (t[1] - t[0]), math.sqrt(t[1] - t[0]))
        z1, z2 = b1 / math.sqrt(t[0]), b2
        success = (z1 >= crit[0]) | ((z1 < crit[0]) & (z1 > fut) & (z2 >= crit[1]))
        a = A.assurance(events=d, prior=p, design=plan)
        se = math.sqrt(a.probability_of_success * (1 - a.probability_of_success) / n)
        assert abs(success.mean() - a.probability_of_success) < 4 * se, name


@pytest.mark.parametrize("design_kind", ["fixed", "plan"])
def test_simulated_trials_agree_within_monte_carlo_error(design_kind: str, plan, priors) -> None:
    """The package's trial simulator (the plan: its Cox analysis of deaths within 24 months, the
    final analysis at its 66 deaths), a true HR drawn from the pooled prior per block of 20 trials."""
    sim = A.simulate_assurance(priors["pooled"], sequential=design_kind != "fixed", n_draws=250, trials_per_draw=20,
                               seed=11)
    assert sim.within_mc_error, sim.summary()
    assert sim.mc_se < 0.012 and sim.success_by_draw.shape == (250,)
    assert sim.analytic == pytest.approx(
        A.assurance(events=66, prior=priors["pooled"], design=None if design_kind == "fixed" else plan)
        .probability_of_success)
    assert "within" in sim.summary() and "<table" in sim._repr_html_()


# ---------------------------------------------------------------------------- priors

def test_named_priors(priors) -> None:
    assert tuple(priors) == A.PRIOR_NAMES
    pooled = ev.pool_trials()
    assert priors["pooled"].mean_log_hr == pooled.log_hr
    assert priors["pooled"].sd == pytest.approx(math.sqrt(pooled.se**2 + pooled.tau2))
    after = ev.pool_trials(randomized_at=ev.AFTER_INDUCTION)
    assert priors["after_induction"].sd == pytest.approx(after.se)  # tau2 = 0 there
    assert priors["sceptical"].mean_log_hr == 0
    assert priors["sceptical"].probability_below(0.5) == pytest.approx(0.05)
    assert 1 - priors["enthusiastic"].probability_below(1.0) == pytest.approx(0.05)
    assert priors["enthusiastic"].hazard_ratio == pytest.approx(PROTOCOL.design.hazard_ratio)
    lo, hi = priors["pooled"].interval()
    assert lo < 1 < hi and "pooled" in priors["pooled"].describe()


def test_the_protocol_design_under_the_evidence(priors) -> None:
    """The issue's claims: at the pooled HR the protocol's 66 deaths have about 5% power (one
    direction) and the probability of success is near 10%, far from 80%."""
    a = A.assurance(events=66, prior=priors["pooled"])
    assert 0.08 < a.probability_of_success < 0.14 and a.power_at_prior_mean < 0.07
    assert A.assurance(events=66, prior=priors["enthusiastic"]).probability_of_success < 0.8
    table = A.assurance_table(priors, [66, 500])
    assert len(table) == 10 and (table.groupby("prior")["probability_of_success"].diff().dropna() > 0).all()


# ---------------------------------------------------------------------------- what it would take

def test_what_it_would_take(priors) -> None:
    p = priors["pooled"]
    w = A.what_it_would_take(p)
    assert w.events_for_power == math.ceil(schoenfeld_events(p.hazard_ratio))
    assert w.patients_for_power == sample_size(hazard_ratio=p.hazard_ratio).n_total_after_loss
    assert w.centres_for_power == math.ceil(w.patients_for_power / 236)
    assert not w.reachable and w.assurance_ceiling == pytest.approx(p.probability_benefit)
    assert "unreachable" in w.summary()
    half = A.what_it_would_take(p, assurance_target=0.5)
    e = half.events_for_assurance
    assert A.assurance(events=e, prior=p).probability_of_success >= 0.5 > \
        A.assurance(events=e - 1, prior=p).probability_of_success
    assert half.patients_for_assurance > half.events_for_assurance and half.centres_for_assurance >= 1
    enth = A.what_it_would_take(priors["enthusiastic"])
    assert enth.reachable and enth.events_for_assurance > 66
    assert w.protocol_events == 66 and w.protocol_assurance == pytest.approx(
        A.assurance(events=66, prior=p).probability_of_success)


def test_unreachable_when_the_prior_does_not_favour_surgery() -> None:
    harmful = A.Prior("harm", math.log(1.2), 0.2)
    w = A.what_it_would_take(harmful, assurance_target=0.3)
    assert harmful.probability_benefit < 0.3 and not w.reachable
    assert math.isinf(w.events_for_power) and "not below 1" in w.summary()  # no benefit to power for
    dip = A.what_it_would_take(A.Prior("flat", 0.0, 0.4), assurance_target=0.3)
    e = dip.events_for_assurance  # P(success) first dips below alpha/2, then rises to 0.5
    assert A.assurance(events=e, prior_mean_log_hr=0.0, prior_sd=0.4).probability_of_success >= 0.3


def test_centres_and_rule_out_harm() -> None:
    assert A.centres_needed(236) == 1 and A.centres_needed(237) == 2 and A.centres_needed(472, 18) == 4
    r = A.rule_out_harm()
    lam = 0.5 / 24
    eta = -math.log(0.9) / 24
    p_death = lam / (lam + eta) * (1 - math.exp(-(lam + eta) * 24))
    assert r.expected_deaths == pytest.approx(236 * p_death, rel=1e-12)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert r.margin == pytest.approx(math.exp(z * 2 / math.sqrt(r.expected_deaths)), rel=1e-10)
    assert r.expected_upper_limit == pytest.approx(math.exp(Z975 * 2 / math.sqrt(r.expected_deaths)), rel=1e-10)
    assert 1.6 < r.margin < 2.0 and "exclude HR" in r.summary()


# ---------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, match", [
    (dict(events=66), "a prior is needed"),
    (dict(events=66, prior_mean_log_hr=0.0, prior_sd=0.0), "sd .* must be > 0"),
    (dict(events=66, prior_mean_log_hr=True, prior_sd=0.2), "mean_log_hr must be a number"),
    (dict(events=0, prior_mean_log_hr=0.0, prior_sd=0.2), "events must be > 0"),
    (dict(events=66, prior_mean_log_hr=0.0, prior_sd=0.2, sided=3), "sided must be one of 1, 2"),
    (dict(events=66, prior_mean_log_hr=0.0, prior_sd=0.2, alpha=1.5), "alpha must lie strictly between"),
    (dict(events=66, prior=A.Prior("p", 0.0, 0.2), prior_sd=0.2), "either prior or"),
    (dict(events=66, prior="pooled"), "must be a trialnb.assurance.Prior"),
    (dict(events=66, prior_mean_log_hr=0.0, prior_sd=0.2, design="plan"), "trialnb.monitoring design"),
])
def test_bad_input_says_what_is_allowed(kwargs: dict, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        A.assurance(**kwargs)


def test_more_bad_input(plan) -> None:
    with pytest.raises(EvidenceError, match="carries its own alpha"):
        A.assurance(events=66, prior_mean_log_hr=0.0, prior_sd=0.2, design=plan, alpha=0.05)
    with pytest.raises(EvidenceError, match="alternative_hr must differ from 1"):
        A.sceptical_prior(1.0)
    with pytest.raises(EvidenceError, match="tail must be below 0.5"):
        A.enthusiastic_prior(0.5, 0.7)
    with pytest.raises(EvidenceError, match="needs a name"):
        A.Prior("", 0.0, 0.1)
    with pytest.raises(EvidenceError, match="patients must be an integer"):
        A.centres_needed(10.5)
    with pytest.raises(EvidenceError, match="must be a MetaAnalysis"):
        A.predictive_prior("pooled")
    with pytest.raises(EvidenceError, match="n_draws must be an integer"):
        A.simulate_assurance(A.Prior("p", 0.0, 0.1), n_draws=1)
