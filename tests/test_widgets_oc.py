"""Headless tests of the operating-characteristics explorer (trialnb.widgets.oc)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from trialnb.fastsim import Scenario, simulate
from trialnb.widgets.oc import OCExplorer, build_dashboard, hr_histogram_svg


@pytest.fixture(scope="module")
def panel() -> OCExplorer:
    return OCExplorer(n_trials=500, seed=7)


def _pct(html: str) -> float:
    return float(re.search(r"(\d+\.\d)%", html).group(1)) / 100


def test_initial_state_is_the_protocol(panel: OCExplorer) -> None:
    assert panel.scenario == Scenario()
    assert "trialnb-oc" in panel.root._dom_classes
    assert "trialnb-power" in panel.power_display._dom_classes
    ref = simulate(Scenario(), 500, seed=7, analysis="cox")
    assert panel.result.power == ref.power  # the widget shows exactly the engine's numbers
    assert _pct(panel.power_display.value) == pytest.approx(ref.power, abs=0.0005)
    assert "<svg" in panel.histogram.value and "months" in panel.details.value


def test_moving_controls_changes_power(panel: OCExplorer) -> None:
    before = panel.result.power
    panel.non_compliance.value = 0.35
    assert panel.scenario.non_compliance == 0.35
    assert panel.result.power < before - 0.1
    panel.hazard_ratio.value = 1.0
    assert "Type-I error" in panel.power_display.value
    assert abs(panel.result.power - 0.05) < 0.04
    panel.analysis.value = "logrank"
    assert panel.result.analysis == "logrank"
    panel.hazard_ratio.value = 0.5
    panel.non_compliance.value = 0.0
    panel.analysis.value = "cox"
    assert panel.elapsed < 30


def test_invalid_input_shows_message_and_keeps_last_result() -> None:
    p = OCExplorer(base=Scenario(target_events=150), n_trials=500)
    last = p.result
    assert np.all(last.events == 150)
    p.n_patients.value = 100  # fewer patients than the target number of deaths
    assert "target_events" in p.error and "Cannot simulate" in p.message.value
    assert p.result is last
    p.n_patients.value = 236
    assert p.error == "" and p.message.value == "" and p.result is not last
    with pytest.raises(ValueError, match="n_trials"):
        OCExplorer(n_trials=123)
    with pytest.raises(ValueError, match="base"):
        OCExplorer(base="protocol")  # type: ignore[arg-type]


def test_build_dashboard_and_histogram() -> None:
    root = build_dashboard(n_trials=500)
    assert "trialnb-oc" in root._dom_classes
    svg = hr_histogram_svg(np.array([0.5, 0.6, np.nan, 5.0]), np.array([True, False, False, False]), 0.5)
    assert svg.startswith("<svg") and "3 simulated trials" in svg


def test_failed_fits_are_counted_and_warned() -> None:
    """HR 0.30, control survival 0.90, N 60: about 3.7 deaths per trial, so many Cox fits have
    an arm without deaths (infinite arm coefficient) or do not converge. Once reported as HR 1,
    they are NaN, counted, left out of the power, and the panel says so. A fit whose only
    infinite coefficients are nuisance factors (a factor level without deaths) is analysed,
    as R coxph would."""
    p = OCExplorer(n_trials=2000)
    assert "trialnb-warning" not in p.power_display.value  # the protocol: no failures
    p.n_patients.value = 60
    p.control_survival.value = 0.90
    p.hazard_ratio.value = 0.30
    res = p.result
    assert res.n_failed > 600 and res.failed_fraction > 0.3
    assert np.isnan(res.hr[~res.converged]).all() and not (res.hr == 1.0).any()
    assert res.power == pytest.approx(res.reject[res.converged].mean())
    html = p.power_display.value
    assert "trialnb-warning" in html and f"{res.n_failed:,} of 2,000" in html
    assert "successful analyses" in html
    p.analysis.value = "logrank"
    assert p.result.failed_fraction < 0.05  # log-rank fails only without deaths
