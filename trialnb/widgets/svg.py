"""The widgets' inline SVG charts, written once: the escape function, the chart frame and the
house colours. Pure string building, so a chart redraws in milliseconds on every slider move
(no matplotlib round trip) and looks the same in JupyterLab, Voila and a hand-out.

The frame matches the matplotlib house style (:func:`trialnb.plots.use_style`): DejaVu Sans, a
bold title aligned left over the plotting area, left and bottom axis lines only, light grid.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["SVG_AXIS", "SVG_FONT", "SVG_GRID", "esc", "frame", "grid_line"]

SVG_FONT = "DejaVu Sans, Verdana, sans-serif"
SVG_GRID = "#dddddd"
SVG_AXIS = "#333333"


def esc(value: Any) -> str:
    """``value`` as text safe inside HTML or SVG markup and attribute values (quotes escaped)."""
    return html.escape(str(value), quote=True)


def frame(width: int, height: int, ml: float, mt: float, pw: float, ph: float, title: str, label: str,
          *, css_class: str | None = None) -> list[str]:
    """Opening of a house-style inline SVG chart: root element (``label`` for screen readers,
    optional ``css_class``), left-aligned bold ``title`` and the left and bottom axis lines of the
    plotting area (``ml``, ``mt``, ``pw``, ``ph`` in pixels). The caller appends grid, data and
    tick labels, then ``"</svg>"``."""
    klass = f"class='{esc(css_class)}' " if css_class else ""
    return [
        f"<svg {klass}xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"font-family='{SVG_FONT}' role='img' aria-label='{esc(label)}'>",
        f"<text x='{ml}' y='{mt - 10}' text-anchor='start' font-size='13' font-weight='bold'>{esc(title)}</text>",
        f"<line x1='{ml}' x2='{ml}' y1='{mt}' y2='{mt + ph:.1f}' stroke='{SVG_AXIS}'/>",
        f"<line x1='{ml}' x2='{ml + pw:.1f}' y1='{mt + ph:.1f}' y2='{mt + ph:.1f}' stroke='{SVG_AXIS}'/>",
    ]


def grid_line(x1: float, x2: float, y1: float, y2: float, colour: str = SVG_GRID) -> str:
    """One grid (or reference) line of a chart."""
    return f"<line x1='{x1:.1f}' x2='{x2:.1f}' y1='{y1:.1f}' y2='{y2:.1f}' stroke='{colour}'/>"
