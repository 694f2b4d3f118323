"""trialnb.monitoring.boundary_table: gsDesign's gsBoundSummary view, equal to rpact.

* rpact ``getPowerSurvival(design, hazardRatio = c(1, HR), maxNumberOfEvents = ...)``: the
  cumulative crossing probabilities under H0 and H1 (rejection, futility), the expected number
  of events and the bounds on the hazard-ratio scale (tests/reference/rpact_monitoring.R);
  ``getDesignGroupSequential``: bounds, nominal p and alpha spent.
* Independently: two looks by quadrature; one look is Schoenfeld's power.
* The plan's design, two-sided 0.05 vs one-sided 0.025.
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
from scipy.stats import norm

from trialnb.monitoring import boundary_table, design, sequential_sample_size
from trialnb.errors import DesignError
from trialnb.sample_size import power

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests" / "reference" / "rpact_monitoring.json").read_text())
POWERS = {p["id"]: p for p in REF["powers"]}
_ARGS = {"kMax": "k", "alpha": "alpha", "beta": "beta", "sided": "sided", "typeOfDesign": "type_of_design",
         "informationRates": "information_rates", "futilityBounds": "futility_bounds",
         "typeBetaSpending": "type_beta_spending", "bindingFutility": "binding_futility"}


def _design(args: dict):
    kw = {_ARGS[k]: (list(np.atleast_1d(v)) if k in ("informationRates", "futilityBounds") else v)
          for k, v in args.items()}
    return design(kw.pop("k"), **kw)


@pytest.mark.parametrize("pid", sorted(POWERS))
def test_boundary_table_equals_rpact(pid):
    c = POWERS[pid]
    d = _design(c["design"])
    tab = boundary_table(d, c["maxEvents"], hazard_ratio=c["hazardRatio"], allocation_ratio=c["ratio"])
    np.testing.assert_allclose(tab.deaths, c["eventsPerStage"], rtol=1e-12)
    np.testing.assert_allclose(tab.reject_h0, np.cumsum(c["rejectPerStageH0"]), atol=1e-7)
    np.testing.assert_allclose(tab.reject_h1, np.cumsum(c["rejectPerStageH1"]), atol=1e-7)
    assert tab.reject_h0[-1] == pytest.approx(c["overallReject"][0], abs=1e-7)
    assert tab.reject_h1[-1] == pytest.approx(c["overallReject"][1], abs=1e-7)
    np.testing.assert_allclose([tab.expected_deaths_h0, tab.expected_deaths_h1], c["expectedNumberOfEvents"], rtol=1e-7)
    np.testing.assert_allclose(tab.hr_bound, c["criticalValuesEffectScale"], rtol=1e-7)
    if d.sided == 2:
        np.testing.assert_allclose(tab.reverse_hr_bound, c["criticalValuesEffectScaleReverse"], rtol=1e-7)
        np.testing.assert_allclose(np.r_[0, np.diff(tab.efficacy_h0)] * 2, np.r_[0, np.diff(tab.reject_h0)], atol=1e-12)
        assert tab.futility_h0 is None
    else:
        assert tab.reverse_h0 is None
    fut0 = np.atleast_1d(c["futilityPerStageH0"])
    if np.any(fut0 > 1e-6):  # rpact counts z < -6 (its "no futility bound") as a futility stop: ~1e-9
        k1 = d.k - 1
        np.testing.assert_allclose(tab.futility_h0[:k1], np.cumsum(fut0), atol=1e-7)
        np.testing.assert_allclose(tab.futility_h1[:k1], np.cumsum(c["futilityPerStageH1"]), atol=1e-7)
        # rpact rounds futilityBoundsEffectScale to 8 decimals
        np.testing.assert_allclose(tab.futility_hr[:k1], c["futilityBoundsEffectScale"], atol=1e-8 / 2 + 1e-9)
    else:
        assert tab.futility_h0 is None
    # the design's own numbers
    np.testing.assert_array_equal(tab.z_bound, d.critical_values)
    np.testing.assert_array_equal(tab.alpha_spent, d.alpha_spent)
    np.testing.assert_array_equal(tab.nominal_p, d.stage_levels)
    if d.sided == 1 and (d.futility_bounds is None or d.binding_futility):
        np.testing.assert_allclose(tab.efficacy_h0, d.alpha_spent, atol=1e-9)  # futility in force = design's alpha
    frame = tab.to_frame()
    assert frame.shape[0] == d.k and {"z_bound", "nominal_p", "hr_bound", "efficacy_h0", "efficacy_h1"} <= set(frame)
    assert "<table" in tab._repr_html_() and "look 1" in tab.summary()


def test_two_looks_by_quadrature():
    """P(cross by look 2) under H1 for a one-sided asOF design at (0.4, 1) with 80 deaths."""
    d = design(2, information_rates=[0.4, 1])
    c1, c2 = d.critical_values
    hr, events = 0.6, 80.0
    delta = -math.log(hr)
    i1, i2 = 0.4 * events / 4, events / 4
    m1, m2 = delta * math.sqrt(i1), delta * math.sqrt(i2)
    rho = math.sqrt(0.4)
    def integrand(z1: float) -> float:
        return norm.pdf(z1 - m1) * norm.sf((c2 - m2 - rho * (z1 - m1)) / math.sqrt(1 - rho**2))

    inner, _ = integrate.quad(integrand, m1 - 12, c1, epsabs=1e-14, epsrel=1e-12)
    tab = boundary_table(d, events, hazard_ratio=hr)
    assert tab.efficacy_h1[0] == pytest.approx(norm.sf(c1 - m1), abs=1e-12)
    assert tab.efficacy_h1[1] == pytest.approx(norm.sf(c1 - m1) + inner, abs=1e-9)
    assert tab.expected_deaths_h1 == pytest.approx(events - norm.sf(c1 - m1) * 0.6 * events, rel=1e-12)
    np.testing.assert_allclose(tab.hr_bound, np.exp(-np.array([c1, c2]) * 2 / np.sqrt([32.0, 80.0])), rtol=1e-14)


def test_one_look_is_schoenfelds_power():
    for sided, alpha in ((1, 0.025), (2, 0.05)):
        tab = boundary_table(design(1, alpha=alpha, sided=sided), 66, hazard_ratio=0.5)
        assert tab.reject_h1[0] == pytest.approx(power(66, 0.5, alpha=alpha, sided=sided), abs=1e-12)
        assert tab.reject_h0[0] == pytest.approx(alpha, abs=1e-12)


def test_the_plans_design_two_sided_vs_one_sided():
    """The plan (two-sided 0.05, asOF at (0.5, 1), 80% power at HR 0.5) and the one-sided 0.025
    version have the same bounds to 1e-9 and the same maximum deaths (66 after rounding up):
    rpact's two-sided asOF spends on each side what the one-sided design spends."""
    two = design(2, alpha=0.05, sided=2, information_rates=[0.5, 1])
    one = design(2, alpha=0.025, sided=1, information_rates=[0.5, 1])
    np.testing.assert_allclose(two.critical_values, one.critical_values, atol=1e-9)
    m2, m1 = (sequential_sample_size(d, 0.5).max_events for d in (two, one))
    assert math.ceil(m2) == math.ceil(m1) == 66
    assert abs(m2 - m1) < 1e-3
    t2, t1 = boundary_table(two, 66, hazard_ratio=0.5), boundary_table(one, 66, hazard_ratio=0.5)
    np.testing.assert_allclose(t2.efficacy_h1, t1.efficacy_h1, atol=1e-6)
    np.testing.assert_allclose(t2.efficacy_h0, t1.efficacy_h0, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(k=st.integers(2, 4), hr=st.floats(0.4, 0.9), events=st.floats(30, 400), sided=st.sampled_from([1, 2]),
       futility=st.booleans())
def test_crossing_probabilities_are_cumulative_and_ordered(k, hr, events, sided, futility):
    fut = [0.0] * (k - 1) if futility and sided == 1 else None
    d = design(k, alpha=0.025 * sided, sided=sided, futility_bounds=fut)
    tab = boundary_table(d, events, hazard_ratio=hr)
    for arr in (tab.efficacy_h0, tab.efficacy_h1, tab.reject_h0, tab.reject_h1):
        assert np.all(np.diff(arr) >= -1e-15) and 0 <= arr[0] and arr[-1] <= 1
    assert np.all(tab.efficacy_h1 >= tab.efficacy_h0 - 1e-15)
    assert np.all(tab.efficacy_h0 <= tab.alpha_spent / sided + 1e-9)  # a non-binding futility stop only lowers it
    assert np.all(tab.hr_bound < 1) and np.all(np.diff(tab.hr_bound) > 0)  # later looks accept a smaller effect
    assert tab.expected_deaths_h1 <= events + 1e-9 and tab.expected_deaths_h0 <= events + 1e-9


def test_bad_inputs():
    d = design(2)
    with pytest.raises(DesignError, match="hazard_ratio"):
        boundary_table(d, 66, hazard_ratio=1.0)
    with pytest.raises(DesignError, match="k = 2"):
        boundary_table(d, [10, 20, 30], hazard_ratio=0.5)
    with pytest.raises(DesignError, match="increasing"):
        boundary_table(d, [40, 20], hazard_ratio=0.5)
    with pytest.raises(DesignError, match="a bool is not a number"):
        boundary_table(d, True, hazard_ratio=0.5)
    with pytest.raises(DesignError, match="a bool is not a number"):
        boundary_table(d, [True, 20], hazard_ratio=0.5)
    with pytest.raises(DesignError, match="GroupSequentialDesign"):
        boundary_table("asOF", 66, hazard_ratio=0.5)
