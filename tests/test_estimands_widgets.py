"""Notebook 07's widget, figures and self-checking exercises."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from trialnb.exercises import estimands as ex  # noqa: E402
from trialnb.exercises import get_exercise  # noqa: E402
from dataclasses import replace  # noqa: E402

from trialnb.plan import PLAN  # noqa: E402
from trialnb.simulation import SHAPES, simulate, true_estimands  # noqa: E402
from trialnb.plots_estimands import plot_power_table, plot_shapes  # noqa: E402
from trialnb.widgets.estimands import EstimandsExplorer, curves_svg  # noqa: E402


def test_explorer_shows_the_engines_numbers() -> None:
    from trialnb.widgets.estimands import _ANALYSES

    e = EstimandsExplorer(n_trials=200, seed=3)
    ref = simulate(PLAN, 200, seed=3, truth=PLAN.design, analyses=_ANALYSES)
    assert e.result.to_frame().equals(ref.to_frame())
    e.shape.value = "crossing"
    e.non_compliance.value = 0.3
    assert e.scenario == replace(PLAN.design, **SHAPES["crossing"], non_compliance=0.3)
    te = true_estimands(e.scenario)
    assert f"{te['rmst_difference']:.2f}" in e.estimands.value
    assert all(k in e.power.value for k in _ANALYSES) and "<svg" in e.curves.value
    assert "<path" in curves_svg(PLAN.design)


def test_figures_draw() -> None:
    import pandas as pd

    fig = plot_shapes({k: replace(PLAN.design, **v) for k, v in SHAPES.items()})
    assert len(fig.axes) == 8
    t = pd.DataFrame({"cox": [0.8, 0.5], "fh01": [0.7, 0.6]}, index=["a", "b"])
    assert len(plot_power_table(t, t * 0 + 0.01).axes) == 1


CASES = {
    "07.1": (ex.check_best_analysis_delayed, ["fh01", "FH(0,1)", " FH01 "], ["logrank", "rmst", "milestone"]),
    "07.2": (ex.check_rmst_difference, [2.35, "2.35", 2.3, "2,35"], [0.17, 17.2, 5.0]),
    "07.3": (ex.check_crossing_directions, ["no", False, "No"], ["yes", True]),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_exercises_right_wrong_unanswered_and_hints(key: str) -> None:
    fn, right, wrong = CASES[key]
    assert get_exercise(key).key == key
    for a in right:
        v = fn(a)
        assert v.correct and v.status == "right", (a, v.message)
    for a in wrong:
        v = fn(a)
        assert not v.correct and v.status == "wrong" and "Hint 1" in v.message, (a, v.message)
    v = fn(None)
    assert v.status == "unanswered" and "Hint 1" in v.message
    assert fn(object()).status == "invalid"
    assert "Hint 2" in fn(None, hint=2).message
    # hints never state the answer
    hints = " ".join(get_exercise(key).hints)
    assert "2.35" not in hints and "fh01 has" not in hints
