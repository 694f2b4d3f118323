"""A static HTML picture of a widget panel, for places where widgets cannot run.

Hand-outs (``make handouts``), GitHub and nbviewer show a notebook's stored outputs without a
kernel, so a dashboard's panel would be an empty box there. :func:`with_snapshot` makes a
displayed widget carry, beside its live view, a ``text/html`` rendering of its state at the
moment it was displayed: every control with its value, every HTML output (numbers, tables,
inline SVG charts) and every image an ``Output`` holds. JupyterLab and Voila still show the
live widget (they prefer the widget view); static exports show the snapshot.
"""

from __future__ import annotations

import base64
import html
from typing import Any

import ipywidgets as W

__all__ = ["OPENING_NOTE", "snapshot_html", "with_snapshot"]

_BOX_STYLE = {"HBox": "display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start",
              "VBox": "display:flex;flex-direction:column;gap:4px"}


def _control(w: W.Widget) -> str:
    desc = html.escape(str(getattr(w, "description", "") or ""))
    label = getattr(w, "label", None)
    value = label if isinstance(label, str) and label else getattr(w, "value", "")
    if isinstance(value, float):
        fmt = getattr(w, "readout_format", ".2f") or ".2f"
        try:
            value = format(value, fmt)
        except (TypeError, ValueError):
            value = repr(value)
    return (f"<div class='trialnb-snapshot-control'><span style='color:#555'>{desc}</span> "
            f"<b>{html.escape(str(value))}</b></div>")


def _output(w: W.Output) -> str:
    parts = []
    for out in w.outputs:
        data = out.get("data", {}) if isinstance(out, dict) else {}
        if "image/png" in data:
            png = data["image/png"]
            png = png if isinstance(png, str) else base64.b64encode(png).decode("ascii")
            alt = html.escape(data.get("text/plain", "figure"))
            parts.append(f"<img src='data:image/png;base64,{png}' alt='{alt}'/>")
        elif "text/html" in data:
            parts.append(data["text/html"])
        elif out.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(out.get('text', ''))}</pre>")
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return "".join(parts)


OPENING_NOTE = ("The panel as it opens, with its default settings (a static picture: the controls do not "
                "move here).")
"""What a hand-out says above a dashboard's picture."""


def snapshot_html(widget: W.Widget, *, note: str = OPENING_NOTE,
                  exclude: tuple[str, ...] = ("trialnb-no-snapshot",)) -> str:
    """Static HTML of ``widget`` and everything under it, as it is now (pure string building;
    buttons are left out, they do nothing on paper, and so is every widget carrying a CSS class
    of ``exclude``: download links and upload buttons), under ``note``."""
    if not isinstance(widget, W.Widget):
        raise ValueError(f"widget must be an ipywidgets Widget, got {type(widget).__name__}")

    def render(w: W.Widget) -> str:
        if any(c in getattr(w, "_dom_classes", ()) for c in exclude):
            return ""
        if isinstance(w, W.Output):
            return _output(w)
        if isinstance(w, (W.HTML, W.HTMLMath)):
            return f"<div>{w.value}</div>"
        if isinstance(w, W.Label):
            return f"<div>{html.escape(w.value)}</div>"
        if isinstance(w, W.Button):
            return ""
        if isinstance(w, W.Box):
            style = _BOX_STYLE.get(type(w).__name__, "display:flex;flex-direction:column;gap:4px")
            titles = getattr(w, "titles", None) or ()
            kids = []
            for i, c in enumerate(w.children):
                title = titles[i] if i < len(titles) and titles[i] else ""
                head = f"<div style='font-weight:bold;margin-top:6px'>{html.escape(title)}</div>" if title else ""
                kids.append(head + render(c))
            return f"<div style='{style}'>{''.join(kids)}</div>"
        if isinstance(w, W.ValueWidget) or hasattr(w, "value"):
            return _control(w)
        return ""

    return ("<div class='trialnb-snapshot' style='border-left:3px solid #1b6ca8;padding-left:10px'>"
            f"<p style='color:#555;font-size:0.9em'><em>{html.escape(note)}</em></p>"
            f"{render(widget)}</div>")


def with_snapshot(widget: W.Widget) -> W.Widget:
    """Return ``widget`` itself, made to display with a ``text/html`` snapshot beside its live
    view (taken when it is displayed). Notebooks show the live panel; static exports the
    snapshot."""
    if not isinstance(widget, W.Widget):
        raise ValueError(f"widget must be an ipywidgets Widget, got {type(widget).__name__}")
    live = type(widget)._repr_mimebundle_

    def bundle(**kwargs: Any) -> dict | None:
        data = live(widget, **kwargs)
        if data is None:
            return data
        data = dict(data)
        data["text/html"] = snapshot_html(widget)
        return data

    widget._repr_mimebundle_ = bundle  # IPython looks the method up on the instance
    return widget
