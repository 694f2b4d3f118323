"""Static snapshots of widget panels (trialnb.widgets.snapshot): what hand-outs show of a dashboard."""

from __future__ import annotations

import base64
import re

import ipywidgets as W
import pytest

from trialnb.widgets.snapshot import snapshot_html, with_snapshot

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode("ascii")


def _panel() -> W.Widget:
    out = W.Output()
    out.outputs = ({"output_type": "display_data", "metadata": {},
                    "data": {"image/png": PNG, "text/plain": "<forest plot>"}},)
    slider = W.FloatSlider(value=0.5, description="Hazard ratio", readout_format=".2f")
    mode = W.ToggleButtons(options=[("Cox (planned)", "cox"), ("log-rank", "logrank")], value="logrank",
                           description="Analysis")
    return W.VBox([W.HBox([slider, mode, W.Button(description="Reset")]),
                   W.HTML("<b class='n'>N = 240</b><svg width='10' height='10'></svg>"), out])


def test_snapshot_shows_controls_numbers_charts_and_images():
    html = snapshot_html(_panel())
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Hazard ratio" in text and "0.50" in text
    assert "log-rank" in text and "logrank" not in text  # the option's label, not its value
    assert "Reset" not in text  # buttons do nothing on paper
    assert "<b class='n'>N = 240</b>" in html and "<svg" in html
    assert f"data:image/png;base64,{PNG}" in html


def test_with_snapshot_adds_html_beside_the_live_view():
    panel = _panel()
    assert with_snapshot(panel) is panel
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "N = 240" in bundle["text/html"]
    panel.children[1].value = "N = 300"  # the snapshot is taken when displayed
    assert "N = 300" in panel._repr_mimebundle_()["text/html"]


@pytest.mark.parametrize("bad", [None, "panel", 3])
def test_bad_input_says_what_is_allowed(bad):
    with pytest.raises(ValueError, match="ipywidgets Widget"):
        snapshot_html(bad)
    with pytest.raises(ValueError, match="ipywidgets Widget"):
        with_snapshot(bad)
