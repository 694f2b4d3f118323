"""trialnb.monitoring.analyse from a log hazard ratio and its standard error (the Cox Wald route).

* The log-rank input is the special case SE = (1 + r)/sqrt(r D): every rpact reference analysis
  given as (log HR = z SE, SE) gives the log-rank route's numbers and rpact's.
* The Wald case re-derived independently for two looks: boundaries from the bivariate normal
  (one-dimensional quadrature, not the package's recursive grid), repeated confidence
  intervals exp(b -+ c SE), repeated p-values in closed form, the stage-wise-ordering final
  p-value, confidence interval and median-unbiased estimate (information time from the deaths,
  scale from the stopping look's SE), and conditional power.
* Issue 20's look: data/trial_protocol.csv cut at month 28.5 gives rpact's 55.1% and 98.7%.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.optimize import brentq
from scipy.stats import norm

from trialnb.monitoring import analyse, design, logrank_standard_error
from trialnb.errors import DesignError

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "rpact_monitoring.json").read_text())
ANALYSES = {a["id"]: a for a in REF["analyses"]}
_ARGS = {"kMax": "k", "alpha": "alpha", "beta": "beta", "sided": "sided", "typeOfDesign": "type_of_design",
         "informationRates": "information_rates", "deltaWT": "delta_wt", "gammaA": "gamma_a",
         "futilityBounds": "futility_bounds", "typeBetaSpending": "type_beta_spending", "gammaB": "gamma_b",
         "bindingFutility": "binding_futility"}


def _design(args: dict):
    kw = {_ARGS[k]: (list(np.atleast_1d(v)) if k in ("informationRates", "futilityBounds") else v)
          for k, v in args.items()}
    return design(kw.pop("k"), **kw)


def _nan(x):
    return np.array([np.nan if v is None else v for v in np.atleast_1d(x)], dtype=float)


def _same(a, b, rtol=1e-12):
    a = np.atleast_1d(np.asarray(a, dtype=float))
    b = np.atleast_1d(np.asarray(b, dtype=float))
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, atol=0)


# ---------------------------------------------------------------------------------------
# the log-rank input is the Wald input with Schoenfeld's SE


@pytest.mark.parametrize("aid", sorted(ANALYSES))
def test_wald_route_with_logrank_se_is_the_logrank_analysis(aid):
    a = ANALYSES[aid]
    d = _design(a["design"])
    ev, z = np.atleast_1d(a["events"]).astype(float), np.atleast_1d(a["logRanks"]).astype(float)
    ratios = np.atleast_1d(a["allocationRatios"]).astype(float)
    kw = {}
    if a["maxInformation"] is not None:
        kw["max_information"] = a["maxInformation"]
    if a["informationEpsilon"] is not None:
        kw["information_epsilon"] = a["informationEpsilon"]
    lr = analyse(d, ev, z, direction_upper=a["directionUpper"], allocation_ratio=ratios, **kw)
    se = (1 + ratios) / np.sqrt(ratios * ev)
    wd = analyse(d, ev, log_hazard_ratio=z * se, standard_error=se, direction_upper=a["directionUpper"], **kw)
    assert wd.statistic == "wald" and lr.statistic == "logrank"
    _same(wd.z, z)
    _same(wd.critical_values, lr.critical_values, rtol=0)
    assert wd.actions == lr.actions and wd.final_stage == lr.final_stage
    for name in ("hazard_ratios", "repeated_p_values", "rci_lower", "rci_upper", "conditional_rejection_probabilities"):
        _same(getattr(wd, name), getattr(lr, name))
    if lr.final_p_value is None:
        assert wd.final_p_value is None and wd.final_ci is None and wd.median_unbiased_hr is None
    else:
        _same(wd.final_p_value, lr.final_p_value)
        if lr.final_ci is None:
            assert wd.final_ci is None
        else:
            _same(wd.final_ci, lr.final_ci)
            _same(wd.median_unbiased_hr, lr.median_unbiased_hr)
    # and rpact's numbers (the reference was made with log-rank z)
    np.testing.assert_allclose(wd.rci_lower[: ev.size], _nan(a["rciLower"])[: ev.size], rtol=1e-7)
    np.testing.assert_allclose(wd.rci_upper[: ev.size], _nan(a["rciUpper"])[: ev.size], rtol=1e-7)
    if a["nPlanned"] is not None:
        theta = None if aid.endswith("observedHR") else a["thetaH1"]
        cw = wd.conditional_power(theta, n_planned=a["nPlanned"])
        cl = lr.conditional_power(theta, n_planned=a["nPlanned"])
        _same(cw.conditional_power, cl.conditional_power)
        np.testing.assert_allclose(cw.conditional_power, _nan(a["conditionalPower"])[ev.size:], atol=1e-7)


def test_logrank_standard_error_is_schoenfelds():
    np.testing.assert_allclose(logrank_standard_error([64, 100], 1), [2 / 8, 2 / 10], rtol=1e-15)
    assert logrank_standard_error(90, 2)[0] == pytest.approx(3 / math.sqrt(180), rel=1e-15)


# ---------------------------------------------------------------------------------------
# the Wald case re-derived independently (two looks, quadrature)

ALPHA = 0.025
PLAN_MAX = 66.0


def _p_cross(c1: float, x: float, t1: float, drift1: float = 0.0, drift2: float = 0.0) -> float:
    """P(Z1 >= c1) + P(Z1 < c1, Z2 >= x) for (Z1, Z2) normal with means drift1, drift2,
    unit variances and correlation sqrt(t1), by quadrature over Z1."""
    rho = math.sqrt(t1)
    sd = math.sqrt(1 - t1)

    def f(z1: float) -> float:
        return norm.pdf(z1 - drift1) * norm.sf((x - drift2 - rho * (z1 - drift1)) / sd)

    lo = drift1 - 12
    part, _ = integrate.quad(f, lo, c1, epsabs=1e-14, epsrel=1e-12, limit=200)
    return float(norm.sf(c1 - drift1) + part)


def _asof_bounds(t1: float, alpha: float = ALPHA) -> tuple[float, float]:
    """One-sided Lan-DeMets O'Brien-Fleming bounds at (t1, 1), independently."""
    a1 = 2 * norm.sf(norm.isf(alpha / 2) / math.sqrt(t1))
    c1 = float(norm.isf(a1))
    c2 = brentq(lambda x: _p_cross(c1, x, t1) - alpha, 0.5, 5, xtol=1e-13)
    return c1, c2


def _plan():
    return design(2, alpha=ALPHA, information_rates=[0.5, 1], futility_bounds=[0.0])


def test_independent_bounds_match_the_recalculated_design():
    c1, c2 = _asof_bounds(29 / PLAN_MAX)
    res = analyse(_plan(), [29], [-1.0], direction_upper=False, max_information=PLAN_MAX)
    np.testing.assert_allclose(res.critical_values, [c1, c2], atol=1e-9)


def test_wald_interim_look_rederived():
    """Look 1 of 2 at 29 of 66 deaths, Cox-like estimate and SE (not Schoenfeld's)."""
    b1, se1, d1 = math.log(0.26), 0.45, 29.0
    assert not math.isclose(se1, 2 / math.sqrt(d1), rel_tol=0.05)  # a genuinely different SE
    res = analyse(_plan(), [d1], log_hazard_ratio=[b1], standard_error=[se1], direction_upper=False,
                  max_information=PLAN_MAX)
    t1 = d1 / PLAN_MAX
    c1, c2 = _asof_bounds(t1)
    z1 = b1 / se1
    assert res.z[0] == pytest.approx(z1, rel=1e-15) and res.hazard_ratios[0] == pytest.approx(0.26, rel=1e-14)
    # repeated CI: exp(b -+ c1 SE)
    assert res.rci_lower[0] == pytest.approx(math.exp(b1 - c1 * se1), rel=1e-8)
    assert res.rci_upper[0] == pytest.approx(math.exp(b1 + c1 * se1), rel=1e-8)
    # repeated p: the level whose first bound equals the benefit z (asOF closed form)
    level = 2 * norm.sf(math.sqrt(t1) * norm.isf(norm.sf(-z1) / 2))
    assert res.repeated_p_values[0] == pytest.approx(level, rel=1e-7)
    assert res.final_p_value is None  # no boundary crossed: the trial goes on
    # conditional power: information per death from this look's SE, Z2 | Z1 normal
    kappa = 1 / (se1**2 * d1)
    i1, i2 = kappa * d1, kappa * PLAN_MAX
    for hr in (1.0, 0.5, 0.26):
        delta = -math.log(hr)
        mean = (-z1 * math.sqrt(i1) + delta * (i2 - i1)) / math.sqrt(i2)
        expect = norm.sf((c2 - mean) / math.sqrt((i2 - i1) / i2))
        got = res.conditional_power(hr).final
        assert got == pytest.approx(expect, abs=1e-9), hr
    # and it differs from the log-rank approximation of the same z (the SE matters)
    lr = analyse(_plan(), [d1], [z1], direction_upper=False, max_information=PLAN_MAX)
    assert abs(lr.conditional_power(0.5).final - res.conditional_power(0.5).final) > 1e-3


def _stagewise_final(b, se, d, stop_look, c1, c2_obs_z, t1, alpha=ALPHA):
    """Final p-value, CI and median-unbiased HR (benefit = HR < 1) re-derived: the drift
    delta (= -log HR) gives E[Z_k] = delta sqrt(I_k) with I_k = (D_k / D_s) / SE_s^2."""
    if stop_look == 1:
        z1 = -b[0] / se[0]
        q = norm.isf(alpha)
        return norm.sf(z1), (math.exp(b[0] - q * se[0]), math.exp(b[0] + q * se[0])), math.exp(b[0])
    i2 = 1 / se[1] ** 2
    i1 = t1 * i2

    def prob(delta: float) -> float:
        return _p_cross(c1, c2_obs_z, t1, delta * math.sqrt(i1), delta * math.sqrt(i2))

    p = prob(0.0)
    lo = brentq(lambda x: prob(x) - alpha, -20, 20, xtol=1e-13)
    hi = brentq(lambda x: prob(x) - (1 - alpha), -20, 20, xtol=1e-13)
    mu = brentq(lambda x: prob(x) - 0.5, -20, 20, xtol=1e-13)
    return p, (math.exp(-hi), math.exp(-lo)), math.exp(-mu)


def test_wald_final_inference_at_the_second_look_rederived():
    b = [math.log(0.55), math.log(0.58)]
    se = [0.40, 0.255]
    d = [29.0, PLAN_MAX]
    res = analyse(_plan(), d, log_hazard_ratio=b, standard_error=se, direction_upper=False, max_information=PLAN_MAX)
    assert res.actions == ("continue", "reject") and res.final_stage == 2
    t1 = d[0] / PLAN_MAX
    c1, c2 = _asof_bounds(t1)
    z2 = -b[1] / se[1]
    assert z2 > c2
    p, ci, med = _stagewise_final(b, se, d, 2, c1, z2, t1)
    assert res.final_p_value == pytest.approx(p, abs=1e-9)
    np.testing.assert_allclose(res.final_ci, ci, rtol=1e-7)
    assert res.median_unbiased_hr == pytest.approx(med, rel=1e-7)
    np.testing.assert_allclose(res.rci_lower[:2], np.exp(np.array(b) - np.array([c1, c2]) * se), rtol=1e-8)
    np.testing.assert_allclose(res.rci_upper[:2], np.exp(np.array(b) + np.array([c1, c2]) * se), rtol=1e-8)
    # the median-unbiased estimate is pulled towards 1 from the naive exp(b2) after a boundary crossing
    assert math.exp(b[1]) < res.median_unbiased_hr < 1


def test_wald_stop_at_the_first_look_rederived():
    b, se, d = [math.log(0.2)], [0.45], [29.0]
    res = analyse(_plan(), d, log_hazard_ratio=b, standard_error=se, direction_upper=False, max_information=PLAN_MAX)
    assert res.actions == ("reject",) and res.final_stage == 1
    p, ci, med = _stagewise_final(b, se, d, 1, None, None, None)
    assert res.final_p_value == pytest.approx(p, rel=1e-12)
    np.testing.assert_allclose(res.final_ci, ci, rtol=1e-12)
    assert res.median_unbiased_hr == pytest.approx(med, rel=1e-12)


def test_wald_two_sided_plan_rederived():
    """The lead's plan: two-sided 0.05, asOF at (0.5, 1); a look at 29 of 66 deaths."""
    plan = design(2, alpha=0.05, sided=2, information_rates=[0.5, 1])
    b1, se1 = math.log(0.26), 0.41
    res = analyse(plan, [29], log_hazard_ratio=[b1], standard_error=[se1], direction_upper=False,
                  max_information=PLAN_MAX)
    t1 = 29 / PLAN_MAX
    a1 = 4 * norm.sf(norm.isf(0.05 / 4) / math.sqrt(t1))  # both sides, rpact's two-sided asOF
    c1 = norm.isf(a1 / 2)
    assert res.critical_values[0] == pytest.approx(c1, abs=1e-10)
    assert res.rci_upper[0] == pytest.approx(math.exp(b1 + c1 * se1), rel=1e-9)
    level = 4 * norm.sf(math.sqrt(t1) * norm.isf(norm.sf(abs(b1 / se1)) / 2))
    assert res.repeated_p_values[0] == pytest.approx(level, rel=1e-7)


@settings(max_examples=25, deadline=None)
@given(z=st.lists(st.floats(-4, 4), min_size=1, max_size=3), scale=st.floats(0.5, 2.0),
       two_sided=st.booleans())
def test_only_the_hazard_ratio_scale_depends_on_the_se(z, scale, two_sided):
    """Same z and deaths, standard errors multiplied by `scale`: decisions, repeated and final
    p-values are unchanged; on the log scale the estimate and every interval scale by `scale`."""
    d = design(3, alpha=0.05 if two_sided else 0.025, sided=2 if two_sided else 1)
    ev = np.array([30.0, 60.0, 90.0])[: len(z)]
    se = logrank_standard_error(ev)
    zz = np.array(z)
    one = analyse(d, ev, log_hazard_ratio=zz * se, standard_error=se, direction_upper=False)
    two = analyse(d, ev, log_hazard_ratio=zz * se * scale, standard_error=se * scale, direction_upper=False)
    assert one.actions == two.actions
    _same(one.repeated_p_values, two.repeated_p_values, rtol=1e-9)  # z = b/SE equal up to rounding
    assert (one.final_p_value is None) == (two.final_p_value is None)
    if one.final_p_value is not None:
        assert two.final_p_value == pytest.approx(one.final_p_value, rel=1e-9, abs=1e-15)
    n = ev.size
    for name in ("rci_lower", "rci_upper"):
        _same(np.log(getattr(two, name)[:n]), scale * np.log(getattr(one, name)[:n]), rtol=1e-9)
    if one.median_unbiased_hr is not None:
        assert math.log(two.median_unbiased_hr) == pytest.approx(scale * math.log(one.median_unbiased_hr),
                                                                 rel=1e-7, abs=1e-9)
    # the repeated CI always holds the estimate
    assert np.all(one.rci_lower[:n] <= one.hazard_ratios) and np.all(one.hazard_ratios <= one.rci_upper[:n])


def test_wald_bad_inputs():
    d = design(2)
    with pytest.raises(DesignError, match="not both"):
        analyse(d, [30], [1.0], log_hazard_ratio=[0.1], standard_error=[0.3])
    with pytest.raises(DesignError, match="not both and not neither"):
        analyse(d, [30])
    with pytest.raises(DesignError, match="go together"):
        analyse(d, [30], log_hazard_ratio=[0.1])
    with pytest.raises(DesignError, match="standard_error must be > 0"):
        analyse(d, [30], log_hazard_ratio=[0.1], standard_error=[0.0])
    with pytest.raises(DesignError, match="finite"):
        analyse(d, [30], log_hazard_ratio=[-np.inf], standard_error=[np.inf])  # a failed Cox fit
    with pytest.raises(DesignError, match="same length"):
        analyse(d, [30, 60], log_hazard_ratio=[0.1], standard_error=[0.3, 0.2])
    with pytest.raises(DesignError, match="allocation_ratio is used only with logrank_z"):
        analyse(d, [30], log_hazard_ratio=[0.1], standard_error=[0.3], allocation_ratio=2)
    wald = analyse(d, [30], log_hazard_ratio=[0.1], standard_error=[0.3])
    with pytest.raises(AttributeError, match=r"\.z"):
        _ = wald.logrank_z
    assert "Wald z" in wald.summary() and "log-rank approximation" in analyse(d, [30], [1.0]).summary()


# ---------------------------------------------------------------------------------------
# issue 20's look (the synthetic data of that round)


def test_month_28_5_conditional_power_is_rpacts():
    """The issue's case: the earlier synthetic file cut at month 28.5 gave 29 deaths and log-rank
    z -3.108 (kept in the rpact script as numbers: data/ has been regenerated since); an
    off-plan look, conditional power on the recalculated design = rpact's 55.1% and 98.7%."""
    ref1 = ANALYSES["cp_maxinfo_k2_month28p5_hr1"]
    deaths, z = int(ref1["events"]), float(ref1["logRanks"])
    assert deaths == 29 and z == pytest.approx(-3.108, abs=5e-4)
    plan = _design(ref1["design"])
    res = analyse(plan, [deaths], [z], direction_upper=False, max_information=66)
    cps = {hr: res.conditional_power(hr).final for hr in (1.0, 0.5)}
    assert cps[1.0] == pytest.approx(ref1["conditionalPower"][1], abs=1e-7)
    assert cps[0.5] == pytest.approx(ANALYSES["cp_maxinfo_k2_month28p5_hr05"]["conditionalPower"][1], abs=1e-7)
    assert (round(100 * cps[1.0], 1), round(100 * cps[0.5], 1)) == (55.1, 98.7)
    # the two-sided plan gives the same at this look (the bounds agree to ~1e-10)
    two = _design(ANALYSES["cp_maxinfo_k2_sided2_month28p5_hr1"]["design"])
    res2 = analyse(two, [deaths], [z], direction_upper=False, max_information=66)
    assert res2.conditional_power(1.0).final == pytest.approx(cps[1.0], abs=1e-8)
