"""trialnb.bayesian: the posterior and the predictive probability equal their closed forms,
re-derived here by numerical Bayes on a grid, by integrating the conditional power over the
posterior and by Monte Carlo; the conditional power equals rpact's (trialnb.monitoring); the
predictive-probability futility guideline has the predictive probability it promises at its
bound, and its analytic operating characteristics agree with the trial simulator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from trialnb.plan import PLAN
from scipy import integrate, stats

from trialnb import assurance as A
from trialnb import bayesian as B
from trialnb import interim, monitoring
from trialnb.errors import EvidenceError


@pytest.fixture(scope="module")
def plan() -> monitoring.GroupSequentialDesign:
    return monitoring.plan_benefit_design(PLAN)


@pytest.fixture(scope="module")
def priors() -> dict[str, A.Prior]:
    return A.named_priors()


def _grid_posterior(prior: A.Prior, y: float, se: float) -> tuple[float, float, float]:
    """Posterior mean, SD and P(ln HR < 0) by brute force: prior density x likelihood on a grid."""
    x = np.linspace(-4, 4, 400_001)
    w = stats.norm.pdf(x, prior.mean_log_hr, prior.sd) * stats.norm.pdf(y, x, se)
    w /= w.sum()
    mean = float(np.sum(w * x))
    below = w[x < 0].sum() + 0.5 * w[x == 0].sum()  # the grid point at 0 is half below (trapezoid rule)
    return mean, float(np.sqrt(np.sum(w * (x - mean) ** 2))), float(below)


@pytest.mark.parametrize("y, se", [(-0.36, 0.41), (math.log(1.2), 0.3), (-1.36, 0.41), (0.0, 0.25)])
def test_posterior_equals_numerical_bayes(priors, y: float, se: float) -> None:
    for p in priors.values():
        post = B.posterior(p, y, se)
        mean, sd, p_benefit = _grid_posterior(p, y, se)
        assert (post.mean_log_hr, post.sd) == pytest.approx((mean, sd), abs=1e-6)
        assert post.probability_benefit == pytest.approx(p_benefit, abs=1e-5)
        w0, w1 = 1 / p.sd**2, 1 / se**2  # precision weighting, by hand
        assert post.mean_log_hr == pytest.approx((w0 * p.mean_log_hr + w1 * y) / (w0 + w1), rel=1e-12)


def test_predictive_probability_is_the_conditional_power_averaged_over_the_posterior(priors) -> None:
    y, se, d1, dmax, c = -0.36, 2 / math.sqrt(33), 33, 66, 1.9686
    for p in priors.values():
        post = B.posterior(p, y, se)

        def f(u: float, post: B.Prior = post) -> float:
            lhr = post.mean_log_hr + post.sd * u
            return stats.norm.pdf(u) * B.conditional_power_final(math.exp(lhr), y, se, events=d1, max_events=dmax,
                                                                 critical_value=c)

        by_quad = integrate.quad(f, -12, 12, epsabs=1e-12, limit=200)[0]
        pp = B.predictive_probability(p, y, se, events=d1, max_events=dmax, critical_value=c)
        assert pp == pytest.approx(by_quad, abs=1e-9), p.name


def test_predictive_probability_by_monte_carlo(priors) -> None:
    """Draw ln HR from the posterior, then the second-stage increment of the score statistic."""
    rng = np.random.default_rng(3)
    y, se, d1, dmax, c = -0.2, 2 / math.sqrt(33), 33, 66, 1.9686
    i1 = 1 / se**2
    i_f = i1 * dmax / d1
    p = priors["pooled"]
    post = B.posterior(p, y, se)
    theta = -rng.normal(post.mean_log_hr, post.sd, 2_000_000)
    s_inc = rng.normal(theta * (i_f - i1), math.sqrt(i_f - i1))
    z_final = (-y / se**2 + s_inc) / math.sqrt(i_f)
    hit = (z_final >= c).mean()
    pp = B.predictive_probability(p, y, se, events=d1, max_events=dmax, critical_value=c)
    assert abs(hit - pp) < 4 * math.sqrt(pp * (1 - pp) / theta.size)


def test_conditional_power_equals_rpact_conditional_power(plan) -> None:
    """With the interim at the design's information rate and se = 2 / sqrt(D1), the closed form is
    rpact's getConditionalPower (trialnb.monitoring.conditional_power, equal to rpact in its tests)."""
    d1, dmax = 33, 66
    for z_lr in (-1.0, -2.1, 0.4):
        se = 2 / math.sqrt(d1)
        y = z_lr * se
        for hr in (0.5, 0.8, 1.0):
            ours = B.conditional_power_final(hr, y, se, events=d1, max_events=dmax,
                                             critical_value=float(plan.critical_values[-1]))
            ref = monitoring.conditional_power(plan, [d1], [z_lr], n_planned=[dmax - d1], theta_h1=hr,
                                               direction_upper=False)
            assert ours == pytest.approx(float(np.asarray(ref.conditional_power)[-1]), abs=1e-10)


def test_a_sharp_prior_gives_the_conditional_power() -> None:
    sharp = A.Prior("sharp", math.log(0.7), 1e-6)
    y, se = -0.1, 0.35
    pp = B.predictive_probability(sharp, y, se, events=33, max_events=66, critical_value=1.97)
    cp = B.conditional_power_final(0.7, y, se, events=33, max_events=66, critical_value=1.97)
    assert pp == pytest.approx(cp, abs=1e-6)


def test_bayesian_interim_of_the_synthetic_trial(plan, priors) -> None:
    from trialnb.data import load_trial

    from pathlib import Path
    df = load_trial(Path(__file__).resolve().parents[1] / "data" / "trial_protocol.csv")
    rep = interim.interim_report(df, 29.75)
    y, se = rep.primary.log_hr, rep.primary.se
    res = B.bayesian_interim(y, se, rep.primary_deaths, rep.max_events, rep.inference.design)
    assert set(res.posterior_prob_benefit) == set(A.PRIOR_NAMES) == set(res.predictive_probability)
    for name, p in priors.items():
        post = B.posterior(p, y, se)
        assert res.posterior_prob_benefit[name] == pytest.approx(post.probability_benefit)
        assert res.posterior_prob_below_threshold[name] == pytest.approx(post.probability_below(0.8))
    # the strong interim effect is pulled towards the prior: the after-induction prior (SD 0.08) most
    rows = {r.prior: r for r in res.posteriors}
    assert rows["after_induction"].posterior_hazard_ratio > rows["pooled"].posterior_hazard_ratio > rep.hazard_ratio
    assert res.conditional_power_observed > max(res.predictive_probability.values()) - 1e-9
    data = json.loads(json.dumps(res.to_dict()))
    assert set(data["posterior_prob_benefit"]) == set(A.PRIOR_NAMES)
    assert len(res.to_frame()) == 5 and "predictive probability" in res.summary()
    assert "<table" in res._repr_html_()


def test_pp_futility_bound_has_the_promised_predictive_probability(plan, priors) -> None:
    g = B.pp_futility(plan, max_events=66, prior=priors["pooled"], threshold=0.10)
    se1 = 2 / math.sqrt(g.look_events)
    pp = B.predictive_probability(priors["pooled"], -g.z_bound * se1, se1, events=g.look_events, max_events=66,
                                  critical_value=float(plan.critical_values[-1]))
    assert pp == pytest.approx(0.10, abs=1e-9)
    assert g.look_events == 33 and g.hr_bound == pytest.approx(math.exp(-g.z_bound * se1))
    oc = g.operating_characteristics.set_index("scenario")
    assert oc.loc["no effect", "rejection"] <= 0.025 + 1e-9  # a futility stop never adds type-I error
    assert (oc["rejection"] <= oc["rejection_without_futility"] + 1e-12).all()
    # analytic futility stop under H0: P(Z_1 <= z_f) = Phi(z_f)
    assert oc.loc["no effect", "futility_stop"] == pytest.approx(stats.norm.cdf(g.z_bound), abs=1e-9)
    stricter = B.pp_futility(plan, max_events=66, prior=priors["pooled"], threshold=0.2)
    assert stricter.z_bound > g.z_bound
    assert "predictive probability" in g.summary() and "<table" in g._repr_html_()


def test_pp_futility_operating_characteristics_agree_with_the_trial_simulator(plan, priors) -> None:
    g = B.pp_futility(plan, max_events=66, prior=priors["pooled"], threshold=0.10)
    sim = B.futility_operating_characteristics(g, n_trials=2000, seed=5)
    for r in sim.to_dict("records"):
        assert abs(r["simulated_rejection"] - r["rejection"]) <= 3.29 * max(r["rejection_mc_se"], 0.004), r
        assert abs(r["simulated_futility_stop"] - r["futility_stop"]) <= 3.29 * max(r["futility_mc_se"], 0.004), r


def test_bad_input(plan, priors) -> None:
    p = priors["pooled"]
    with pytest.raises(EvidenceError, match="se .* must be > 0"):
        B.posterior(p, -0.2, 0.0)
    with pytest.raises(EvidenceError, match="log_hr must be a number"):
        B.posterior(p, "-0.2", 0.3)
    with pytest.raises(EvidenceError, match="must be a trialnb.assurance.Prior"):
        B.posterior("pooled", -0.2, 0.3)
    with pytest.raises(EvidenceError, match="max_events must exceed the deaths at the interim"):
        B.predictive_probability(p, -0.2, 0.3, events=66, max_events=66, critical_value=1.97)
    with pytest.raises(EvidenceError, match="trialnb.monitoring design"):
        B.bayesian_interim(-0.2, 0.3, 33, 66, design="plan")
    with pytest.raises(EvidenceError, match="map names to"):
        B.bayesian_interim(-0.2, 0.3, 33, 66, plan, priors={"x": 0.3})
    with pytest.raises(EvidenceError, match="at least one interim"):
        B.pp_futility(monitoring.design(1), max_events=66, prior=p)
    with pytest.raises(EvidenceError, match="threshold must lie strictly between"):
        B.pp_futility(plan, max_events=66, prior=p, threshold=1.0)
    with pytest.raises(EvidenceError, match="only above the efficacy bound"):
        B.pp_futility(plan, max_events=66, prior=A.Prior("harm", 0.5, 0.05), threshold=0.9)
    with pytest.raises(EvidenceError, match="sets no bound"):
        B.pp_futility(plan, max_events=66, prior=A.Prior("sure", math.log(0.3), 0.01), threshold=1e-300)
    with pytest.raises(EvidenceError, match="must be a FutilityGuideline"):
        B.futility_operating_characteristics("guideline")
