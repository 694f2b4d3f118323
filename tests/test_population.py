"""trialnb.population: the one declaration of the simulated population, and the simulators that
compose it (the plan's design, the CRF-level generator)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import population as pop
from trialnb.errors import ScenarioError
from trialnb.plan import PLAN, DesignAssumptions
from trialnb.simulation import CRFScenario
from trialnb.simulation.crf import baseline_cumulative_hazard, control_survival


def test_every_value_has_a_source() -> None:
    for key in (*pop.FACTOR_FREQUENCIES, *(k for k in pop.PROGNOSTIC_HR if k != "age_per_decade_above_50")):
        assert key in pop.SOURCES, key
        assert pop.SOURCES[key].reference
    assert "age" in pop.SOURCES


def test_frequencies_are_distributions() -> None:
    for factor, levels in pop.FACTOR_FREQUENCIES.items():
        assert sum(levels.values()) == pytest.approx(1.0, abs=1e-12), factor
    assert set(pop.FACTOR_FREQUENCIES["dominant_site"]) == set(pop.SITES)


@pytest.mark.parametrize("design", [DesignAssumptions(), PLAN.design, CRFScenario()], ids=["design", "plan", "crf"])
def test_simulators_compose_the_population(design: DesignAssumptions) -> None:
    assert design.site_probs == tuple(pop.FACTOR_FREQUENCIES["dominant_site"][x] for x in pop.SITES)
    assert design.p_hr_positive == pop.FACTOR_FREQUENCIES["hormone_receptor"]["positive"]
    assert design.p_her2_positive == pop.FACTOR_FREQUENCIES["her2"]["positive"]
    assert design.prognostic_hazard_ratios == {k: pop.PROGNOSTIC_HR[k] for k in
                                               ("soft_tissue", "visceral", "hr_negative", "her2_positive")}
    ps, lp = design.strata_model()
    ps2, lp2 = pop.factor_strata(design.site_probs, design.p_hr_positive, design.p_her2_positive)
    np.testing.assert_array_equal(ps, ps2)
    np.testing.assert_array_equal(lp, lp2)


def test_the_crf_generator_adds_age_and_ecog_from_the_population() -> None:
    s = CRFScenario()
    assert (s.age_mean, s.age_sd, s.age_min, s.age_max) == tuple(pop.AGE[k] for k in ("mean", "sd", "min", "max"))
    assert s.p_ecog2 == pop.P_ECOG2
    assert s.hr_ecog2 == pop.PROGNOSTIC_HR["ecog2"]
    assert s.hr_age_per_decade_above_50 == pop.PROGNOSTIC_HR["age_per_decade_above_50"]


def test_linear_predictor_by_hand() -> None:
    lp = pop.linear_predictor(np.array(["visceral", "bone"]), np.array(["negative", "positive"]),
                              np.array(["positive", "negative"]), age=np.array([70.0, 40.0]),
                              ecog=np.array([2, 0]))
    expected0 = math.log(1.6) + math.log(2.0) + math.log(0.8) + math.log(1.7) + 2 * math.log(1.1)
    assert lp[0] == pytest.approx(expected0, abs=1e-14)
    assert lp[1] == 0.0


def test_factor_strata_sum_and_order() -> None:
    p, lp = pop.factor_strata((0.45, 0.10, 0.45), 0.75, 0.25)
    assert p.shape == lp.shape == (12,)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert lp[0] == 0.0 and p[0] == pytest.approx(0.45 * 0.75 * 0.75)  # bone, receptor positive, HER2 negative
    assert lp[-1] == pytest.approx(math.log(1.6) + math.log(2.0) + math.log(0.8), abs=1e-14)
    flat = pop.factor_strata((0.45, 0.10, 0.45), 0.75, 0.25, hazard_ratios={})
    assert np.all(flat[1] == 0.0)


def test_calibration_reaches_the_target_in_every_simulator() -> None:
    d = PLAN.design
    ps, lp = d.strata_model()
    h0 = d.baseline_hazard * d.horizon_months
    assert h0 == pytest.approx(pop.calibrate_baseline(ps, lp, d.control_survival), rel=1e-14)
    assert float(np.sum(ps * np.exp(-h0 * np.exp(lp)))) == pytest.approx(d.control_survival, abs=1e-12)
    s = CRFScenario()  # also over ECOG and whole-year ages
    assert control_survival(s, baseline_cumulative_hazard(s)) == pytest.approx(s.control_survival, abs=1e-12)
    # the homogeneous population (the protocol's own assumption): H0 = -ln S
    hom = replace(d, hr_soft_tissue=1.0, hr_visceral=1.0, hr_hr_negative=1.0, hr_her2_positive=1.0)
    assert hom.baseline_hazard * 24 == pytest.approx(0.5, rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 0.95), st.lists(st.floats(-2, 2), min_size=1, max_size=6))
def test_calibration_property(target: float, lps: list[float]) -> None:
    w = np.full(len(lps), 1.0 / len(lps))
    h0 = pop.calibrate_baseline(w, np.array(lps), target)
    assert float(np.sum(w * np.exp(-h0 * np.exp(lps)))) == pytest.approx(target, abs=1e-10)


def test_homogeneous_calibration_is_minus_log_survival() -> None:
    assert pop.calibrate_baseline(np.array([1.0]), np.array([0.0]), math.exp(-0.5)) == pytest.approx(0.5, rel=1e-12)


@pytest.mark.parametrize("weights, lp, surv, match", [
    (np.array([0.5, 0.4]), np.array([0.0, 1.0]), 0.6, "summing to 1"),
    (np.array([0.5, 0.5]), np.array([0.0]), 0.6, "same length"),
    (np.array([1.0]), np.array([0.0]), 1.0, "strictly between 0 and 1"),
    (np.array([1.0]), np.array([0.0]), True, "strictly between 0 and 1"),
])
def test_calibration_rejects_bad_input(weights, lp, surv, match) -> None:
    with pytest.raises(ScenarioError, match=match):
        pop.calibrate_baseline(weights, lp, surv)


def test_bad_hazard_ratio_is_named() -> None:
    with pytest.raises(ScenarioError, match="visceral"):
        pop.linear_predictor(np.array(["visceral"]), np.array(["positive"]), np.array(["negative"]),
                             hazard_ratios={"visceral": -1.0})
