"""One SVG chart helper for the widgets (trialnb.widgets.svg): one escape, one frame; no widget
module keeps a private copy."""

from __future__ import annotations

import re
from pathlib import Path

from trialnb.widgets import svg

WIDGETS = Path(svg.__file__).parent


def test_escape_and_frame():
    assert svg.esc("<b>'A' & \"B\"</b>") == "&lt;b&gt;&#x27;A&#x27; &amp; &quot;B&quot;&lt;/b&gt;"
    parts = svg.frame(400, 200, 40, 30, 340, 140, "Power <with> 66 events", "Power 'curve'", css_class="x-y")
    assert parts[0].startswith("<svg class='x-y' ") and "aria-label='Power &#x27;curve&#x27;'" in parts[0]
    assert "Power &lt;with&gt; 66 events" in parts[1] and len(parts) == 4
    assert svg.grid_line(0, 10, 5, 5) == f"<line x1='0.0' x2='10.0' y1='5.0' y2='5.0' stroke='{svg.SVG_GRID}'/>"


def test_no_widget_keeps_its_own_escape_or_frame():
    for py in sorted(WIDGETS.glob("*.py")):
        if py.name == "svg.py":
            continue
        text = py.read_text(encoding="utf-8")
        assert not re.search(r"^def _esc\(", text, re.M), f"{py.name} defines its own _esc"
        assert "<svg xmlns" not in text and "<svg width" not in text, f"{py.name} opens an SVG chart by hand"
