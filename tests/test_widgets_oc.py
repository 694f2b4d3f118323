"""Headless tests of the operating-characteristics explorer (trialnb.widgets.oc)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from trialnb.plan import PLAN
from trialnb.simulation import simulate
from trialnb.widgets.oc import OCExplorer, build_dashboard, hr_histogram_svg


@pytest.fixture(scope="module")
def panel() -> OCExplorer:
    return OCExplorer(n_trials=500, seed=7)


def _pct(html: str) -> float:
    return float(re.search(r"(\d+\.\d)%", html).group(1)) / 100


def test_initial_state_is_the_protocol(panel: OCExplorer) -> None:
    assert panel.truth == PLAN.design
    assert "trialnb-oc" in panel.root._dom_classes
    assert "trialnb-power" in panel.power_display._dom_classes
    ref = simulate(PLAN, 500, seed=7)
    assert panel.result.power == ref.power  # the widget shows exactly the engine's numbers
    assert _pct(panel.power_display.value) == pytest.approx(ref.power, abs=0.0005)
    assert "<svg" in panel.histogram.value and "months" in panel.details.value


def test_moving_controls_changes_power(panel: OCExplorer) -> None:
    before = panel.result.power
    panel.non_compliance.value = 0.35
    assert panel.truth.non_compliance == 0.35
    assert panel.result.power < before - 0.1
    panel.hazard_ratio.value = 1.0
    assert "Type-I error" in panel.power_display.value
    assert abs(panel.result.rejection() - 0.05) < 0.04
    panel.analysis.value = "logrank"
    assert panel.result.analysis == "logrank"
    panel.hazard_ratio.value = 0.5
    panel.non_compliance.value = 0.0
    panel.analysis.value = "cox_wald"
    assert panel.elapsed < 30


def test_invalid_input_shows_message_and_keeps_last_result() -> None:
    p = OCExplorer(n_trials=500)
    last = p.result
    p.accrual_months.value = 96.0
    p.effect_delay_months.value = 24.0
    p.control_survival.value = 0.2  # every move simulates; a valid one replaces the result
    assert p.result is not last
    last = p.result
    p.n_patients.value = 2  # below the slider's minimum: ipywidgets clamps it to 60, still valid
    assert p.n_patients.value == 60 and p.error == ""
    assert p.message.value == "" and p.result is not last
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
    ok = res.ok["cox_wald"]
    assert res.n_failed > 600 and res.n_failed / res.n_trials > 0.3
    assert np.isnan(res.hazard_ratio[~ok]).all() and not (res.hazard_ratio == 1.0).any()
    assert res.power == pytest.approx((res.reject["cox_wald"] & (res.z["cox_wald"] < 0))[ok].mean())
    html = p.power_display.value
    assert "trialnb-warning" in html and f"{res.n_failed:,} of 2,000" in html
    assert "successful analyses" in html
    p.analysis.value = "logrank"
    assert p.result.n_failed / p.result.n_trials < 0.05  # log-rank fails only without deaths


def test_the_panel_opens_at_notebook_06s_figure() -> None:
    """The dashboard opens with the call notebook 06 prints as the plan's own figure (section 2),
    so the meeting and the notebook show the same power, with its Monte-Carlo interval."""
    from pathlib import Path

    from trialnb.simulation import SEED

    p = OCExplorer()
    assert (p.seed, p.n_trials.value, p.base) == (SEED, 5000, PLAN)
    ref = simulate(PLAN, 5000, seed=SEED)
    assert p.result.power == ref.power
    lo, hi = ref.power - 1.96 * ref.power_se, ref.power + 1.96 * ref.power_se
    assert f"95% Monte-Carlo interval {100 * lo:.1f}% to {100 * hi:.1f}%" in p.power_display.value
    source = (Path(__file__).resolve().parents[1] / "notebooks" / "06_operating_characteristics.py").read_text()
    assert "res_plan = simulate(PLAN, 5000, seed=SEED)" in source
    assert re.search(r"^SEED = (\d+)", source, flags=re.M).group(1) == str(SEED)
