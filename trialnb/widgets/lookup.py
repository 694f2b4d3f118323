"""Find controls and outputs inside a displayed widget tree, by CSS class or by label.

The dashboards (``notebooks/dashboards``) display the root widget that a topic module's
``build_dashboard()`` returns; these helpers let the next cell reach into that tree the way
a person would (the control labelled "Hazard ratio", the output with class
``trialnb-n-total``), without relying on the position of a widget in its parent.
"""

from __future__ import annotations

import html
import re
from typing import Iterator

import ipywidgets as W

__all__ = ["by_class", "by_description", "table_rows", "text_of", "walk"]


def walk(root: W.Widget) -> Iterator[W.Widget]:
    """Every widget in the tree under ``root`` (``root`` first, depth first)."""
    if not isinstance(root, W.Widget):
        raise ValueError(f"root must be an ipywidgets Widget, got {type(root).__name__}")
    stack = [root]
    while stack:
        w = stack.pop()
        yield w
        kids = getattr(w, "children", None) or ()
        stack.extend(reversed([k for k in kids if isinstance(k, W.Widget)]))


def by_class(root: W.Widget, css_class: str) -> W.Widget:
    """The first widget under ``root`` that carries ``css_class`` (``.add_class``)."""
    for w in walk(root):
        if css_class in getattr(w, "_dom_classes", ()):
            return w
    raise ValueError(f"no widget with CSS class {css_class!r} under this root")


def by_description(root: W.Widget, text: str) -> W.Widget:
    """The first control under ``root`` whose label (``description``) starts with ``text``."""
    for w in walk(root):
        if str(getattr(w, "description", "")).startswith(text):
            return w
    labels = [w.description for w in walk(root) if getattr(w, "description", "")]
    raise ValueError(f"no control labelled {text!r}...; labels are {labels}")


def text_of(widget: W.Widget) -> str:
    """The visible text of an HTML/Label widget: tags removed, entities decoded, spaces collapsed."""
    value = getattr(widget, "value", None)
    if not isinstance(value, str):
        raise ValueError(f"widget must have a text value (HTML, Label), got {type(widget).__name__}")
    no_svg = re.sub(r"<svg.*?</svg>", " ", value, flags=re.S)
    no_tags = re.sub(r"<[^>]+>", " ", no_svg)
    return re.sub(r"\s+", " ", html.unescape(no_tags)).strip()


def table_rows(widget: W.Widget) -> list[str]:
    """The rows of the first HTML table in an HTML widget, each as ``cell | cell | ...`` text."""
    value = getattr(widget, "value", None)
    if not isinstance(value, str) or "<tr" not in value:
        raise ValueError(f"widget must be an HTML widget holding a <table>, got {type(widget).__name__}")
    rows = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", value, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, flags=re.S)
        rows.append(" | ".join(re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", c))).strip()
                               for c in cells))
    return rows
