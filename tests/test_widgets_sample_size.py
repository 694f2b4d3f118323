"""Headless tests of the sample-size explorer: set a control's .value, check the result and
the displayed numbers changed, and that they equal the pure functions' answers."""

from __future__ import annotations

import math
import re

import ipywidgets as W
import numpy as np
import pytest

from trialnb import sample_size as ss
from trialnb.widgets.sample_size import HR_GRID, SampleSizeExplorer, build_dashboard, power_curve_svg


@pytest.fixture
def panel():
    return SampleSizeExplorer()


def shown_n(panel) -> int:
    m = re.search(r"N = ([\d,]+)", panel.n_display.value)
    assert m, panel.n_display.value
    return int(m.group(1).replace(",", ""))


def test_defaults_reproduce_the_protocol_design(panel):
    ref = ss.sample_size()
    assert panel.result.events_rounded == 66
    assert panel.result.n_total == pytest.approx(ref.n_total, rel=1e-12)
    assert shown_n(panel) == ref.n_total_after_loss == 240
    assert "120 in arm A + 120 in arm B" in panel.n_display.value
    assert panel.error == ""


def test_accrual_36_changes_displayed_n_to_about_142_before_loss(panel):
    before = panel.n_display.value
    panel.accrual.value = 36
    assert panel.result.n_total == pytest.approx(141.46, abs=0.01)
    assert panel.n_display.value != before
    assert shown_n(panel) == panel.result.n_total_after_loss


@pytest.mark.parametrize(
    "name,value",
    [
        ("alpha", 0.01),
        ("power", 0.9),
        ("hazard_ratio", 0.7),
        ("control_survival", 0.8),
        ("accrual", 24.0),
        ("follow_up", 12.0),
        ("dropout_probability", 0.2),
        ("loss_to_follow_up", 0.3),
        ("allocation_ratio", 2.0),
        ("method", "freedman"),
        ("sided", 1),
    ],
)
def test_every_control_drives_the_result(panel, name, value):
    old_result, old_n = panel.result, panel.n_display.value
    getattr(panel, name).value = value
    assert panel.result is not old_result
    assert panel.n_display.value != old_n
    kw = panel.settings()
    expected = ss.solve(**kw)
    assert expected.design.n_total_after_loss == panel.result.n_total_after_loss == shown_n(panel)
    assert panel.curve_power == pytest.approx(
        ss.power_curve(expected.design.events_rounded, HR_GRID, kw["alpha"], kw["allocation_ratio"], kw["sided"],
                       kw["method"])
    )


def test_settings_are_the_solve_call_with_survival_and_dropout_by_2_years(panel):
    panel.control_survival.value = 0.60
    panel.dropout_probability.value = 0.10
    kw = panel.settings()
    assert kw["control_survival"] == 0.60 and kw["survival_time"] == 24
    assert kw["dropout_probability"] == 0.10 and kw["dropout_time"] == 24
    sol = ss.solve(**kw)
    assert sol.control_hazard == pytest.approx(-math.log(0.60) / 24)
    assert sol.dropout_hazard == pytest.approx(-math.log(0.90) / 24)
    # a 0.60 control survival reproduces the protocol's own 236 (118 per arm)
    panel.dropout_probability.value = 0.0
    assert shown_n(panel) == 236


@pytest.mark.parametrize("what", ["power", "hazard_ratio"])
def test_solve_for_power_or_the_hazard_ratio(panel, what):
    """The panel shows the answer of solve() for the patients typed; at the plan's own N (236.2
    unrounded) the power is the target and the detectable hazard ratio the design's."""
    from trialnb.widgets.lookup import text_of

    panel.solve_for.value = what
    assert panel.n_patients in panel._controls_box.children
    assert (panel.power if what == "power" else panel.hazard_ratio) not in panel._controls_box.children
    panel.n_patients.value = 300
    kw = panel.settings()
    assert kw["n_patients"] == 300 and ("power" not in kw if what == "power" else "hazard_ratio" not in kw)
    sol = ss.solve(**kw)
    assert panel.solution.power == sol.power and panel.solution.hazard_ratio == sol.hazard_ratio
    assert panel.result is None  # the rounded design belongs to solving for N
    text = text_of(panel.n_display)
    if what == "power":
        assert text.startswith(f"Power {100 * sol.power:.1f}%"), text
    else:
        assert text.startswith(f"Detectable HR {sol.hazard_ratio:.3f}"), text
    n = ss.solve().n_patients
    assert ss.solve("power", n_patients=n).power == pytest.approx(0.8, abs=1e-5)
    assert ss.solve("hazard_ratio", n_patients=n).hazard_ratio == pytest.approx(0.5, rel=1e-9)


def test_input_forms_change_the_controls_not_the_design(panel):
    n = panel.solution.n_evaluable
    panel.control_form.value = "median"
    assert panel.control_median in panel._controls_box.children
    assert panel.control_survival not in panel._controls_box.children
    # the median opens at the 2-year survival's own median: the same design
    assert panel.solution.n_evaluable == pytest.approx(n, rel=1e-12)
    panel.accrual_form.value = "intensity"
    assert panel.accrual_intensity in panel._controls_box.children and panel.accrual not in panel._controls_box.children
    assert panel.solution.accrual_intensity == pytest.approx(panel.accrual_intensity.value, rel=1e-9)
    assert panel.solution.accrual_time == pytest.approx(panel.solution.n_patients / panel.accrual_intensity.value)


def test_when_the_deaths_arrive(panel):
    from trialnb.monitoring import analysis_times
    from trialnb.widgets.lookup import table_rows

    panel.accrual.value = 36
    sol = panel.solution
    t = analysis_times([sol.events], n_patients=sol.n_evaluable, accrual_time=36, hazard_ratio=0.5,
                       control_hazard=sol.control_hazard)
    rows = table_rows(panel.times)
    assert rows[1] == f"H1, HR 0.50 | month {t.months_h1[0]:.1f} | {sol.n_patients:.1f}"  # the analysis: a + f
    assert t.months_h1[0] == pytest.approx(60.0)
    assert rows[2].startswith(f"H0, no effect | month {t.months_h0[0]:.1f}")
    assert t.months_h0[0] < 60


def test_freedman_needs_71_events(panel):
    panel.method.value = "freedman"
    assert panel.result.events_rounded == 71
    assert "71" in panel.summary.value


def test_power_curve_is_alpha_at_no_effect_and_target_at_design(panel):
    assert panel.curve_power[-1] == pytest.approx(0.05)
    i = int(np.argmin(np.abs(HR_GRID - 0.5)))
    assert panel.curve_power[i] == pytest.approx(ss.power(66, 0.5))
    assert panel.curve_power[i] >= 0.8
    assert "<svg" in panel.curve.value and "polyline" in panel.curve.value


def test_input_problem_is_shown_not_raised(panel):
    panel.alpha.max = 0.9
    last = panel.result
    panel.alpha.value = 0.6  # power 0.8 is still > alpha; now push alpha above power
    panel.power.value = 0.55
    assert "power must exceed alpha" in panel.error
    assert "Cannot compute" in panel.message.value
    assert panel.result is not last  # the 0.6 update was valid
    panel.alpha.value = 0.05
    assert panel.error == "" and panel.message.value == ""


def test_css_classes_and_dashboard():
    root = build_dashboard()
    assert isinstance(root, W.VBox)
    assert "trialnb-sample-size" in root._dom_classes
    p = SampleSizeExplorer()
    assert "trialnb-n-total" in p.n_display._dom_classes
    assert "Calculation steps" in p.root.children[-1].titles


def test_initial_settings_and_unknown_names():
    p = SampleSizeExplorer(hazard_ratio=0.7, accrual=36.0)
    assert p.result.inputs["hazard_ratio"] == 0.7
    with pytest.raises(ValueError, match="unknown initial setting"):
        SampleSizeExplorer(hr=0.7)


def test_power_curve_svg_marks_design_hr():
    svg = power_curve_svg([0.3, 0.65, 1.0], [0.99, 0.5, 0.05], 0.5, 0.8, 66)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "Power with 66 events" in svg
    assert "#d1495b" in svg  # design marker drawn
    assert "#d1495b" not in power_curve_svg([0.3, 1.0], [0.9, 0.05], 1.2, 0.8, 66)


def test_panel_says_on_screen_why_it_shows_240_not_236():
    import re

    from trialnb.protocol import PROTOCOL
    from trialnb.widgets.sample_size import SampleSizeExplorer, protocol_note_html

    ex = SampleSizeExplorer()
    assert ex.result.n_total_after_loss == 240  # full precision, every step rounded up
    note = re.sub(r"<[^>]+>", "", protocol_note_html())
    assert f"protocol's {2 * PROTOCOL.stated.n_per_arm_after_loss}?" in note
    for s in ("0.607", "0.3073", "66 events", "108 per arm", "120 per arm", "= 240", "212.9", "down"):
        assert s in note, s
    assert any("trialnb-protocol-note" in str(getattr(w, "value", "")) for w in _walk(ex.root))


def _walk(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from _walk(c)


def test_an_unknown_control_name_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match=r"unknown initial setting\(s\) \['dropout'\]; allowed: .*dropout_probability"):
        SampleSizeExplorer(dropout=0.1)


def test_slider_dust_from_the_browser_is_the_readout_number(panel):
    """A browser slider sends back min + k x step: 0.049999999999999996 for 0.05. The panel
    computes (and saves, and writes into its code) the number on the readout, and keeps the
    exact exp(-0.5) it opens at."""
    panel.alpha.value = 0.005 + 9 * 0.005
    assert panel.alpha.value != 0.05
    assert panel.panel_settings()["alpha"] == 0.05 == panel.solution.alpha
    assert panel.panel_settings()["control_survival"] == math.exp(-0.5)
    assert "alpha=0.05," in panel.export.python.value
