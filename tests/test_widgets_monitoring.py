"""The interim-monitoring widgets (trialnb.widgets.monitoring), driven headless: every control
changes what is shown, the numbers equal the pure functions they wire, bad input is reported."""

from __future__ import annotations

import numpy as np
import pytest

from trialnb import interim, monitoring
from trialnb.plan import PLAN
from trialnb.widgets.lookup import text_of
from trialnb.widgets.monitoring import DesignExplorer, MonitoringDashboard, boundary_svg


@pytest.fixture(scope="module")
def dash() -> MonitoringDashboard:
    return MonitoringDashboard()


def test_explorer_wires_the_design_functions():
    e = DesignExplorer()
    d = monitoring.plan_design(PLAN)
    np.testing.assert_allclose(e.design.critical_values, d.critical_values)
    assert f"<b>{monitoring.plan_max_events(PLAN)}</b> deaths within 24 months at most" in e.numbers.value
    before = (e.numbers.value, e.chart.value)
    for control, value in ((e.spending, "asP"), (e.looks, 3), (e.first, 0.3), (e.futility, False)):
        control.value = value
        now = (e.numbers.value, e.chart.value)
        assert now != before, control.description
        before = now
    assert e.message.value == ""
    assert e.design.k == 3 and e.plan.monitoring.futility_z is None and e.plan.monitoring.spending == "asP"
    np.testing.assert_allclose(e.design.information_rates, [0.3, 0.65, 1.0])
    np.testing.assert_allclose(e.design.critical_values, monitoring.plan_design(e.plan).critical_values)


def test_dashboard_file_mode_equals_the_interim_report(dash):
    dash.source.value = "file"
    dash.file.value = "trial_protocol.csv"
    look = interim.death_month(dash._trials["trial_protocol.csv"], 33)
    assert dash.cutoff.value == pytest.approx(look)  # opens at the planned interim look
    dash.cutoff.value = 30.0
    rep = interim.interim_report(dash._trials["trial_protocol.csv"], 30.0)
    assert text_of(dash.decision) == f"{rep.primary_deaths} deaths within 24 months: {rep.decision}"
    assert [r[0] for r in rep.rows()] == [r for r in dash.table.value.split("<tr><td>")[1:] and
                                          [x.split("</td>")[0].replace("&#x27;", "'") for x in
                                           dash.table.value.split("<tr><td>")[1:]]]
    dash.cutoff.value = 6.5  # four deaths: no estimate, said so, nothing printed as a number
    assert "no estimate" in text_of(dash.decision) and "nan" not in dash.table.value.lower().replace("dominant", "")
    dash.cutoff.value = 30.0
    assert "trialnb-observed" in dash.chart.value


def test_dashboard_number_mode_and_errors(dash):
    dash.source.value = "numbers"
    assert dash.file.disabled and not dash.events.disabled
    dash.events.value, dash.z.value = 33, -3.5
    assert "efficacy boundary crossed" in text_of(dash.decision)
    dash.z.value = -1.0
    assert "continue" in text_of(dash.decision)
    dash.z.value = 0.5
    assert "futility guideline met" in text_of(dash.decision)
    dash.z.value = 2.5
    assert "harm guideline met" in text_of(dash.decision)
    dash.z.value = 3.5
    assert "harm boundary crossed" in text_of(dash.decision)
    dash.events.value = 500
    assert "Cannot analyse" in dash.decision.value and "maximum is 66" in dash.error
    dash.events.value = 33
    assert dash.error == ""
    dash.source.value = "file"


def test_boundary_svg_is_plain_markup():
    s = boundary_svg([33, 66], [2.96, 1.97], [0.0], observed=(33, 3.1), harm_z=-2.326)
    assert s.startswith("<svg") and s.endswith("</svg>") and "<script" not in s
    assert s.count("<circle") == 3
    both = boundary_svg([33, 66], [2.96, 1.97], [0.0], observed=(33, 3.1), harm_z=-2.326, two_sided=True)
    assert both.count("<circle") == 5 and both.count("<polyline") == 2  # the harm boundary mirrors the efficacy one


def test_dashboard_says_why_there_is_no_estimate_and_refuses_out_of_range_input(dash):
    dash.source.value = "file"
    start = dash.cutoff.value
    dash.cutoff.value = 6.5  # 4 deaths: the Cox fit does not converge
    table = text_of(dash.table)
    assert "none: the Cox model did not converge" in table and "NA" not in table.split()
    dash.cutoff.value = start
    dash.source.value = "numbers"
    dash.events.value, dash.z.value = 4, -1.2  # so early the boundary (z >= 9.03) allows no finite repeated CI
    table = text_of(dash.table)
    assert "no repeated CI: with 4 of 66 planned deaths" in table and "NA" not in table.split()
    for field, value, words in ((dash.z, 12.0, "between -8 and 8; 12 was entered"),
                                (dash.events, 0, "between 1 and 65 (the plan's maximum is 66), got 0")):
        old = field.value
        field.value = value
        assert field.value == value, "the input is kept as typed, not clamped"
        assert "Cannot analyse" in dash.decision.value and words in text_of(dash.decision)
        field.value = old
        assert dash.error == ""
    dash.source.value = "file"


def test_explorer_shows_the_boundary_table_and_when_the_deaths_arrive():
    """gsDesign's gsBoundSummary view and the plan's analysis times, equal to the pure functions
    for every setting of the controls."""
    from trialnb.widgets.lookup import table_rows

    e = DesignExplorer()
    for looks, spending in ((2, "asOF"), (3, "asP"), (4, "asKD")):
        e.looks.value, e.spending.value = looks, spending
        t = monitoring.boundary_table(e.design, e.max_events, hazard_ratio=0.5)
        rows = table_rows(e.bounds)
        assert len(rows) == looks + 1 and rows[0].startswith("look | deaths | z bound | nominal p")
        for i, row in enumerate(rows[1:]):
            cells = row.split(" | ")
            assert float(cells[2]) == pytest.approx(t.z_bound[i], abs=5e-4)
            assert float(cells[4]) == pytest.approx(t.hr_bound[i], abs=5e-4)
            assert float(cells[6]) == pytest.approx(t.efficacy_h1[i], abs=5e-5)
        assert e.table.z_bound.tolist() == t.z_bound.tolist()
        times = monitoring.plan_analysis_times(e.plan)
        np.testing.assert_array_equal(e.analysis_times.months_h1, times.months_h1)
        assert f"month {times.months_h1[0]:.1f}" in text_of(e.times)
    assert "power" in text_of(e.bounds)


def test_monitoring_dashboard_holds_the_dmc_look_and_the_plan_explorer(dash):
    from trialnb.widgets.monitoring import build_dashboard

    root = build_dashboard()
    assert "trialnb-monitoring-dashboard" in root._dom_classes
    kinds = [next(c for c in child._dom_classes if c.startswith("trialnb-monitor")) for child in root.children]
    assert kinds == ["trialnb-monitor", "trialnb-monitor-design"]
    times = monitoring.plan_analysis_times(PLAN)
    assert f"month {times.months_h1[0]:.1f}" in text_of(dash.times)  # 27.9 under H1
    assert f"month {times.months_h0[0]:.1f}" in text_of(dash.times)
