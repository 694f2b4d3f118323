"""Notebook 07's widget, figures and self-checking exercises."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")


from dataclasses import replace  # noqa: E402

from trialnb.plan import PLAN  # noqa: E402
from trialnb.simulation import SHAPES, simulate, true_estimands  # noqa: E402
from trialnb.plots.estimands import plot_power_table, plot_shapes  # noqa: E402
from trialnb.widgets.estimands import EstimandsExplorer, curves_svg  # noqa: E402


def test_explorer_shows_the_engines_numbers() -> None:
    from trialnb.reproduce import ESTIMAND_ANALYSES
    from trialnb.simulation import ANALYSIS_LABELS
    from trialnb.widgets.svg import esc

    e = EstimandsExplorer(n_trials=200, seed=3)
    ref = simulate(PLAN, 200, seed=3, truth=PLAN.design, analyses=ESTIMAND_ANALYSES)
    assert e.result.to_frame().equals(ref.to_frame())
    e.shape.value = "crossing"
    e.non_compliance.value = 0.3
    assert e.scenario == replace(PLAN.design, **SHAPES["crossing"], non_compliance=0.3)
    te = true_estimands(e.scenario)
    assert f"{te['rmst_difference']:.2f}" in e.estimands.value
    # every analysis in words, in the registry's order
    at = [e.power.value.index(esc(ANALYSIS_LABELS[k])) for k in ESTIMAND_ANALYSES]
    assert at == sorted(at) and "<svg" in e.curves.value
    assert "<path" in curves_svg(PLAN.design)


def test_figures_draw() -> None:
    import pandas as pd

    fig = plot_shapes({k: replace(PLAN.design, **v) for k, v in SHAPES.items()})
    assert len(fig.axes) == 8
    t = pd.DataFrame({"cox": [0.8, 0.5], "fh01": [0.7, 0.6]}, index=["a", "b"])
    assert len(plot_power_table(t, t * 0 + 0.01).axes) == 1




