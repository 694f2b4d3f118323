"""Figures as a reader sees them: every label inside the figure and big enough to read, plain
hazard-ratio tick labels, and notebooks that take their figures from trialnb.plots only."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from trialnb import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MIN_FONT_PT = 8.0


def _texts_inside(fig) -> list[str]:
    """Texts of ``fig`` that stick out of the figure or are smaller than MIN_FONT_PT."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        if ax.axison:  # tick and axis labels are drawn only when the axis is on
            texts += [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label, ax.yaxis.label]
    bad = []
    for t in texts:
        if not t.get_visible() or not t.get_text().strip():
            continue
        bb = t.get_window_extent(renderer)
        if bb.x0 < -1 or bb.y0 < -1 or bb.x1 > W + 1 or bb.y1 > H + 1:
            bad.append(f"outside: {t.get_text()[:40]!r} {bb}")
        if t.get_fontsize() < MIN_FONT_PT:
            bad.append(f"{t.get_fontsize():.1f} pt: {t.get_text()[:40]!r}")
    return bad


def _counts() -> dict:
    return {"assessed": 375, "excluded": 139,
            "excluded_by_criterion": {k: 10 for k in ("E1", "E2", "E3", "E4", "E5", "I1", "I2", "I3", "I4", "I5",
                                                      "I6", "I7", "I8")},
            "randomized": 236,
            "arm_A": {"allocated": 117, "operated": 79, "not_operated": {"declined": 2, "died": 4, "lost": 2,
                                                                         "progression": 30},
                      "lost": 5, "analysed_itt": 117, "per_protocol": 79},
            "arm_B": {"allocated": 119, "operated": 16, "surgery_reasons": {"local_progression": 15,
                                                                             "patient_request": 1},
                      "lost": 3, "analysed_itt": 119, "per_protocol": 118}}


def test_consort_diagram_every_label_inside_and_readable():
    plots.use_style()
    ax = plots.consort_diagram(_counts())  # all 13 criteria listed: the longest box there is
    try:
        assert _texts_inside(ax.figure) == []
        text = " ".join(t.get_text() for t in ax.figure.findobj(matplotlib.text.Text))
        assert "I7  age < 18: 10" in text and "Excluded (n = 139)" in text
    finally:
        plt.close(ax.figure)


def test_trial_schema_readable():
    from trialnb.protocol import PROTOCOL

    plots.use_style()
    ax = plots.trial_schema(PROTOCOL)
    try:
        assert _texts_inside(ax.figure) == []
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("lims", [(0.2, 2.0), (0.18, 3.2), (0.15, 12.0), (0.45, 1.6)])
def test_hr_ticks_are_plain_numbers_without_minor_labels(lims):
    fig, ax = plt.subplots()
    try:
        ax.set_xscale("log")
        ax.set_xlim(*lims)
        plots.hr_ticks(ax)
        fig.canvas.draw()
        major = [t.get_text() for t in ax.get_xticklabels()]
        minor = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
        assert len(major) >= 3 and minor == []
        assert all(re.fullmatch(r"\d+(\.\d+)?", s) for s in major), major  # no "0.253×10⁻¹"
        assert len(major) <= 11  # a wide range gets the sparse set, so labels do not collide
    finally:
        plt.close(fig)


def test_notebooks_take_figures_from_trialnb_plots_only():
    figure_names = set(plots.__all__) | {"hr_ticks", "analyses_forest", "HR_TICKS"}
    sources = sorted((ROOT / "notebooks").glob("**/*.py"))
    assert sources
    for py in sources:
        text = py.read_text(encoding="utf-8")
        assert "trialnb.plots_analysis" not in text, py.name
        for mod, names in re.findall(r"from trialnb\.(widgets\.\w+) import ([^\n#]+)", text):
            got = {n.strip() for n in names.split(",")}
            assert not (got & figure_names), f"{py.name} imports figures {got & figure_names} from {mod}"


def test_evidence_forest_rows_diamond_prediction_interval_and_labels():
    from matplotlib.patches import Polygon

    from trialnb import evidence as ev

    m = ev.pool_trials()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    plots.evidence_forest(m, design_hr=0.5, ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == m.k + 2 and labels[-1].startswith("95% prediction interval")
    assert all(f"({w:.0f}%)" in lab for lab, w in zip(labels[: m.k], m.weights, strict=True))  # weights in labels
    assert any(isinstance(p, Polygon) for p in ax.patches)  # the pooled diamond
    assert any(line.get_linestyle() == "--" and line.get_ydata()[0] == 0 for line in ax.lines)  # PI dashed
    lo, hi = ax.get_xlim()
    assert lo < 0.5 and hi > m.pi_upper  # the design HR and every interval are inside
    assert all(re.fullmatch(r"[\d.]+", t.get_text()) for t in ax.get_xticklabels())
    assert _texts_inside(fig) == []
    plt.close(fig)


def test_boundary_plot_draws_the_harm_mirror_of_a_two_sided_plan():
    from trialnb import monitoring
    from trialnb.plots.monitoring import boundary_plot

    plots.use_style()
    d = monitoring.plan_design()
    fig = boundary_plot(d, 66, harm_z=-2.326, observed_events=[33], observed_z=[2.962],
                        critical_values=[2.9626], title="the plan")
    try:
        z = fig.axes[0]
        labels = [line.get_label() for line in z.lines]
        harm = z.lines[labels.index("harm boundary (two-sided)")]
        assert list(harm.get_ydata()) == pytest.approx([-c for c in d.critical_values])
        assert "efficacy boundary" in labels and "harm guideline" in labels
    finally:
        plt.close(fig)
    one = boundary_plot(monitoring.plan_benefit_design(), 66)
    try:
        assert "harm boundary (two-sided)" not in [line.get_label() for line in one.axes[0].lines]
    finally:
        plt.close(one)


def test_expected_deaths_plot_marks_both_finals():
    import numpy as np

    from trialnb.monitoring import plan_expected_deaths
    from trialnb.plots.monitoring import expected_deaths_plot

    plots.use_style()
    months = np.linspace(0, 70, 71)
    curves = {f"HR {hr:g}": plan_expected_deaths(months, hazard_ratio=hr) for hr in (1.0, 0.5, 0.4)}
    fig = expected_deaths_plot(months, curves, interim_deaths=33, max_deaths=66, final_month=60)
    try:
        ax = fig.axes[0]
        assert [line.get_label() for line in ax.lines[:3]] == list(curves)
        assert list(ax.lines[0].get_ydata()) == pytest.approx(list(curves["HR 1"]))
        vertical = [line for line in ax.lines if list(line.get_xdata()) == [60, 60]]
        assert len(vertical) == 1  # the calendar-driven final
        assert _texts_inside(fig) == []
    finally:
        plt.close(fig)


def test_the_shapes_figure_labels_its_log_hr_axis_plainly():
    """Notebook 07's hazard-shape panels: "0.5, 1, 2" on the log axis, not "6×10⁻¹"."""
    from dataclasses import replace

    from trialnb.plan import PLAN
    from trialnb.plots.estimands import plot_shapes
    from trialnb.simulation import SHAPES

    fig = plot_shapes({k: replace(PLAN.design, **v) for k, v in SHAPES.items()})
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        major = [t.get_text() for t in ax.get_yticklabels()]
        minor = [t.get_text() for t in ax.get_yticklabels(minor=True) if t.get_text()]
        assert len(major) >= 2 and minor == [] and all(re.fullmatch(r"\d+(\.\d+)?", s) for s in major), major
    finally:
        plt.close(fig)


def test_the_boundary_legend_covers_no_line():
    """Notebook 05's boundary figure: the legend sits below the panels, not over the harm line."""
    from trialnb.monitoring import plan_design
    from trialnb.plots.monitoring import boundary_plot

    fig = boundary_plot(plan_design(), 66, observed_events=[33], observed_z=[3.3],
                        critical_values=[2.96], harm_z=-2.326, title="t")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
        legend = fig.legends[0].get_window_extent(renderer)
        for ax in fig.axes:
            assert not legend.overlaps(ax.get_window_extent(renderer)), "the legend overlaps a panel"
        assert fig.bbox.contains(legend.x0, legend.y0) and fig.bbox.contains(legend.x1, legend.y1)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("lims", [(0.45, 3.3), (0.2, 2.0)])
def test_hr_ticks_on_the_y_axis(lims):
    fig, ax = plt.subplots()
    try:
        ax.set_yscale("log")
        ax.set_ylim(*lims)
        plots.hr_ticks(ax, "y")
        fig.canvas.draw()
        major = [t.get_text() for t in ax.get_yticklabels()]
        assert len(major) >= 3 and all(re.fullmatch(r"\d+(\.\d+)?", s) for s in major), major
        assert [t for t in ax.get_yticklabels(minor=True) if t.get_text()] == []
        with pytest.raises(ValueError, match="axis must be"):
            plots.hr_ticks(ax, "z")
    finally:
        plt.close(fig)


def test_km_plot_draws_the_engines_curves_and_numbers_at_risk() -> None:
    import numpy as np

    from trialnb import analysis as an
    from trialnb.data import load_trial

    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    ax = plots.km_plot(df)
    km = an.km_by_arm(df)
    steps = [ln for ln in ax.get_lines() if ln.get_label() in ("Arm A", "Arm B")]
    assert len(steps) == 2
    for ln in steps:
        k = km[ln.get_label()[-1]]
        np.testing.assert_allclose(ln.get_ydata()[1:], k.survival)
        assert ln.get_ydata()[0] == 1.0 and ln.get_xdata()[0] == 0.0
    nar = an.numbers_at_risk(df, (0, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60))
    assert [t.get_text() for t in ax.texts].count(str(nar.loc["A", 24.0])) >= 1
    assert _texts_inside(ax.figure) == []
    plt.close(ax.figure)


def test_tipping_point_heatmap_fits_its_figure() -> None:
    from trialnb import analysis as an
    from trialnb.data import load_trial

    tp = an.tipping_point(load_trial(ROOT / "data" / "trial_protocol.csv"), n_imputations=5)
    ax = plots.tipping_point_heatmap(tp, "milestone")
    assert len(ax.texts) == len(tp.deltas_a) * len(tp.deltas_b)
    assert _texts_inside(ax.figure) == []
    plt.close(ax.figure)
