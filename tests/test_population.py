"""trialnb.population: the one declaration of the simulated population."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import population as pop
from trialnb.simulation import TrialScenario, baseline_cumulative_hazard, control_survival


def test_every_value_has_a_source() -> None:
    for key in (*pop.FACTOR_FREQUENCIES, *(k for k in pop.PROGNOSTIC_HR if k != "age_per_decade_above_50")):
        assert key in pop.SOURCES, key
        assert pop.SOURCES[key].reference


def test_frequencies_are_distributions() -> None:
    for factor, levels in pop.FACTOR_FREQUENCIES.items():
        assert sum(levels.values()) == pytest.approx(1.0, abs=1e-12), factor
    assert set(pop.FACTOR_FREQUENCIES["dominant_site"]) == set(pop.SITES)


def test_simulators_compose_the_population() -> None:
    s = TrialScenario()
    assert s.site_probs == tuple(pop.FACTOR_FREQUENCIES["dominant_site"][x] for x in pop.SITES)
    assert s.hr_visceral == pop.PROGNOSTIC_HR["visceral"]
    assert s.hr_receptor_negative == pop.PROGNOSTIC_HR["hr_negative"]


def test_linear_predictor_by_hand() -> None:
    lp = pop.linear_predictor(np.array(["visceral", "bone"]), np.array(["negative", "positive"]),
                              np.array(["positive", "negative"]), age=np.array([70.0, 40.0]),
                              ecog=np.array([2, 0]))
    expected0 = math.log(1.6) + math.log(2.0) + math.log(0.8) + math.log(1.7) + 2 * math.log(1.1)
    assert lp[0] == pytest.approx(expected0, abs=1e-14)
    assert lp[1] == 0.0


def test_factor_strata_sum_and_order() -> None:
    p, lp = pop.factor_strata((0.45, 0.10, 0.45), 0.75, 0.25)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    assert lp[0] == 0.0  # bone, receptor positive, HER2 negative
    assert lp[-1] == pytest.approx(math.log(1.6) + math.log(2.0) + math.log(0.8), abs=1e-14)


def test_calibration_reaches_the_target_and_matches_the_trial_generator() -> None:
    s = TrialScenario()
    h0 = baseline_cumulative_hazard(s)
    assert control_survival(s, h0) == pytest.approx(s.control_survival, abs=1e-12)


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
])
def test_calibration_rejects_bad_input(weights, lp, surv, match) -> None:
    with pytest.raises(ValueError, match=match):
        pop.calibrate_baseline(weights, lp, surv)


def test_bad_hazard_ratio_is_named() -> None:
    with pytest.raises(ValueError, match="visceral"):
        pop.linear_predictor(np.array(["visceral"]), np.array(["positive"]), np.array(["negative"]),
                             hazard_ratios={"visceral": -1.0})
