"""Headless tests of the BiasExplorer widget: setting a slider's value recomputes the result."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from trialnb import bias  # noqa: E402
from trialnb.widgets.bias import BiasExplorer, build_dashboard  # noqa: E402


@pytest.fixture(scope="module")
def explorer() -> BiasExplorer:
    return BiasExplorer(n=1500, seed=7)


def test_initial_state_matches_library(explorer):
    assert set(explorer.sliders) == set(bias.MECHANISMS) | {"hazard_ratio"}
    assert explorer.strengths() == {k: pytest.approx(v) for k, v in bias.DEFAULTS.items()}
    expected = bias.compare_analyses(bias.simulate_registry(1500, 7), seed=7)
    np.testing.assert_allclose(explorer.result["hazard_ratio"], expected["hazard_ratio"])
    assert list(explorer.result.index) == list(bias.ANALYSES)
    assert "Randomized comparison" in explorer.table.value
    assert len(explorer.plot.outputs) == 1  # one figure drawn


def test_slider_changes_result(explorer):
    before = explorer.result.copy()
    explorer.sliders["immortal_time"].value = 10.0
    after = explorer.result
    assert after.loc["naive", "hazard_ratio"] < before.loc["naive", "hazard_ratio"]
    # the time-varying analysis barely moves: it removes immortal time
    assert abs(np.log(after.loc["time_varying", "hazard_ratio"] / before.loc["time_varying", "hazard_ratio"])) < 0.1
    assert len(explorer.plot.outputs) == 1  # redrawn, not appended


def test_buttons_and_true_hr(explorer):
    explorer.reset.click()
    assert all(v == 0 for v in explorer.strengths().values())
    off = explorer.result
    assert off.loc["naive", "ci_lower"] < 1 < off.loc["naive", "ci_upper"]
    explorer.sliders["hazard_ratio"].value = 0.6
    assert explorer.result.loc["randomized", "hazard_ratio"] < 0.8
    assert "true 0.60" in explorer.table.value
    explorer.defaults.click()
    assert explorer.strengths() == {k: pytest.approx(v) for k, v in bias.DEFAULTS.items()}


def test_dashboard_root_and_css_class():
    root = build_dashboard(n=400, seed=1)
    assert isinstance(root, W.VBox) and isinstance(root.children[0], W.HBox)  # the panel, then its export section
    assert "trialnb-bias" in root._dom_classes


def test_widget_validates_arguments():
    with pytest.raises(ValueError, match="n must be an integer >= 200"):
        BiasExplorer(n=50)
