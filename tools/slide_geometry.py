"""How tall a notebook cell is on a slide: the geometry behind the slide rule of ``notebooks.py``.

``make slides`` decides where a slide ends from the cells' heights, not only from their words:
a figure, a table or a printed report can fill a slide on its own. This module estimates, for
each cell of an executed notebook, the height (and the width, for tables and printed lines)
it takes on a reveal.js slide of :data:`SLIDE_WIDTH` x :data:`SLIDE_HEIGHT` pixels, from the
content itself:

* figures: the pixel size in the PNG header (or the SVG's ``width``/``height``), shrunk as the
  deck's stylesheet shrinks it;
* printed output: its lines, wrapped at the width of the output area (monospace);
* tables (HTML outputs and markdown tables): rows, each as tall as its most wrapped cell, with
  the columns sized as a browser's automatic table layout sizes them;
* text (markdown and HTML): paragraphs, list items, headings, formulas, wrapped at the slide width.

The font metrics are those of the deck's stylesheet measured in Debian Chromium (DejaVu fonts);
every estimate errs on the tall side (wide average character widths), so that a slide the rule
accepts fits on the screen. ``tests/test_browser.py`` measures every slide of every deck in a
real browser and fails on any overflow, so this model is held to the real layout.

Pure string and byte work: no browser, no network; the same notebook always gives the same slides.
"""

from __future__ import annotations

import base64
import math
import re
import struct
from dataclasses import dataclass, field
from html.parser import HTMLParser

SLIDE_WIDTH = 1280
"""Width of a slide in reveal.js pixels (``Reveal.initialize({width})``); the deck is scaled to the screen."""
SLIDE_HEIGHT = 720
"""Height of a slide in reveal.js pixels (``Reveal.initialize({height})``)."""
HEIGHT_BUDGET = SLIDE_HEIGHT - 30
"""Estimated content height a slide may carry: the slide less a safety margin for font differences."""
FIGURE_MAX_HEIGHT = 520
"""Tallest a figure is drawn on a slide (the stylesheet's ``max-height``), in slide pixels."""
MIN_FIGURE_HEIGHT = 300
"""A figure is not shrunk below this height to share a slide: the slide is split instead."""
MIN_FONT_SCALE = 0.7
"""Printed output and tables are drawn at no less than this fraction of their font size; a block
that does not fit even then goes to the hand-out."""

# --- the deck's stylesheet, measured in Debian Chromium (px at slide scale 1) -----------------
# Average character width as a fraction of the font size, a little wider than measured on the
# notebooks' own prose (DejaVu Sans 0.51, bold 0.57, upper-case bold 0.66, Mono 0.60), because
# lines wrap at word boundaries and other machines' fonts differ.
_PROPORTIONAL_EM = 0.56
_BOLD_EM = 0.62
_HEADING_EM = 0.70                # headings are upper-case (the theme) and bold
_MONO_EM = 0.61
# tag: (font size, line height, margin above, margin below, horizontal padding + border)
_BLOCKS = {
    "h1": (50, 60, 30, 20, 0), "h2": (32, 38.4, 19.2, 20, 0), "h3": (26, 31.2, 15.6, 20, 0),
    "h4": (22, 27, 15, 20, 0), "h5": (20, 26, 15, 20, 0), "h6": (20, 26, 15, 20, 0),
    "p": (20, 26, 20, 20, 0), "li": (20, 32, 0, 0, 0), "ul": (20, 32, 0, 10, 40), "ol": (20, 32, 0, 10, 40),
    "div": (20, 32, 0, 0, 0), "dd": (20, 32, 0, 0, 40), "figure": (20, 32, 0, 0, 0),
}
_WIDER = {"b": 0.11, "strong": 0.11, "code": 0.2, "kbd": 0.2, "tt": 0.2}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKQUOTE = (0.7, 20, 10, 10)   # width fraction, margin above, below, padding (both sides)
_MARKDOWN_WIDTH = SLIDE_WIDTH - 43  # a markdown cell's text width (cell and markdown padding)
_OUTPUT_WIDTH = SLIDE_WIDTH - 38    # an HTML output's width
_CELL_PADDING = 10                # a cell's padding (5 px above and below)
_OUTPUT_GAP = 5                   # the output area's margin above
_TOP_DIV_MARGIN = 10              # an HTML output's top-level <div> has this margin below
_PRE = (19, 22.8, 7.6, 0.9)       # printed output: font size, line height, padding, width fraction
_PRE_INDENT = 25.3                # printed output's left padding
_TABLE = (14, 16.5, 2.8, 7.0)     # table cell: font size, line height, vertical, horizontal padding
_TABLE_MARGIN = 12                # a table's margins
_MATH_BLOCK = (40.0, 64.0)        # a display formula: plain, with a fraction or a sum
_INLINE_MATH_EXTRA = 4.0          # an inline formula's sub- and superscripts stretch its line
_IMG_MARGIN = 20                  # margin above and below an <img> on a slide
_IMG_LINE_GAP = 14                # an <img> sits on a text line: the line's descent is added below it


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list["Node | str"] = field(default_factory=list)


_VOID = {"br", "img", "hr", "input", "meta", "link", "col", "source", "wbr"}
_SKIP = {"style", "script", "head", "title"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skipping += 1
            return
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        if tag not in _SKIP:
            self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if not self.skipping:
            self.stack[-1].children.append(data)


def parse_html(text: str) -> Node:
    """A small DOM of ``text`` (style and script contents dropped)."""
    b = _TreeBuilder()
    b.feed(text)
    b.close()
    return b.root


_BLOCK_TAGS = {"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table",
               "blockquote", "figure", "hr", "section", "details", "summary", "dl", "dt", "dd",
               "img", "svg", "thead", "tbody", "tr", "figcaption", "header", "footer", "main"}


def text_of(node: "Node | str") -> str:
    """Visible text of ``node`` (an inline formula counted by its visible tokens)."""
    if isinstance(node, str):
        return node
    if node.tag == "math":
        return "x" * max(2, int(0.8 * len(re.sub(r"\s+", "", _plain(node)))))
    if node.tag == "br":
        return "\n"
    inner = "".join(text_of(c) for c in node.children)
    widen = _WIDER.get(node.tag)
    if widen:  # bold and code are wider than the text around them: count them as longer words
        inner = re.sub(r"\S+", lambda m: m.group(0) + "x" * math.ceil(widen * len(m.group(0))), inner)
    return inner


def _plain(node: "Node | str") -> str:
    return node if isinstance(node, str) else "".join(_plain(c) for c in node.children)


def _is_block(node: "Node | str") -> bool:
    if isinstance(node, str):
        return False
    if node.tag in _BLOCK_TAGS or (node.tag == "math" and node.attrs.get("display") == "block"):
        return True
    return any(_is_block(c) for c in node.children)


def text_lines(text: str, width: float, size: float, em: float = _PROPORTIONAL_EM) -> int:
    """Lines ``text`` takes when wrapped at word boundaries within ``width`` pixels."""
    per_line = max(1, int(width / (size * em)))
    n = 0
    for para in text.split("\n"):
        words = para.split()
        if not words:
            continue
        lines, current = 1, 0
        for w in words:
            need = len(w) if current == 0 else current + 1 + len(w)
            if need <= per_line:
                current = need
                continue
            extra = max(0, math.ceil(len(w) / per_line) - 1)  # a word longer than a line breaks
            lines += (1 if current else 0) + extra
            current = len(w) - extra * per_line
        n += lines
    return n


def png_size(data: str) -> tuple[int, int]:
    """(width, height) in pixels of a base64 PNG, read from its header."""
    raw = base64.b64decode(data[:64])
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", raw[16:24])


def _svg_size(node: Node) -> tuple[float, float]:
    def px(v: str) -> float | None:
        m = re.match(r"\s*([\d.]+)\s*(px|pt)?\s*$", v or "")
        return float(m.group(1)) * (4 / 3 if m.group(2) == "pt" else 1) if m else None

    box = [float(x) for x in re.split(r"[\s,]+", node.attrs.get("viewbox", "").strip()) if x]
    w = px(node.attrs.get("width", "")) or (box[2] if len(box) == 4 else 600.0)
    h = px(node.attrs.get("height", "")) or (box[3] * w / box[2] if len(box) == 4 and box[2] else 0.5 * w)
    return w, h


def image_height(width_px: float, height_px: float, avail: float, max_height: float = FIGURE_MAX_HEIGHT) -> float:
    """Height an image of natural size (width_px, height_px) is drawn with: no taller than
    ``max_height``, no wider than ``avail``, aspect kept (CSS ``max-width``/``max-height``)."""
    scale = min(1.0, max_height / height_px if height_px else 1.0, avail / width_px if width_px else 1.0)
    return height_px * scale


@dataclass
class Measure:
    """Estimated size of a block on a slide: its border-box height, its outer margins (which
    collapse with a neighbour's, as in CSS), and how much wider than its room its widest
    table or printed line is (``overflow_x`` > 1 means it does not fit across)."""
    height: float
    top: float = 0.0              # margin above
    bottom: float = 0.0           # margin below
    overflow_x: float = 0.0
    figures: float = 0.0          # the part of ``height`` that is figures (they can shrink)
    shrinkable: float = 0.0       # the part that is printed text or a table (its font can shrink)

    @property
    def outer(self) -> float:
        return self.height + self.top + self.bottom

    def __add__(self, other: "Measure") -> "Measure":
        """Padding or a fixed block added to this one's height (margins unchanged)."""
        return Measure(self.height + other.height, self.top, self.bottom, max(self.overflow_x, other.overflow_x),
                       self.figures + other.figures, self.shrinkable + other.shrinkable)


def stack(parts: list[Measure], *, padded: bool = False) -> Measure:
    """Blocks one below the other, adjacent margins collapsed; ``padded``: the parent has
    padding or a border, so the first and last margins stay inside it."""
    parts = [m for m in parts if m.height or m.top or m.bottom]
    if not parts:
        return Measure(0.0)
    if padded and len(parts) == 1 and parts[0].height == 0:
        return Measure(0.0)
    h = parts[0].height
    for a, b in zip(parts, parts[1:], strict=False):
        h += max(a.bottom, b.top) + b.height
    out = Measure(h, parts[0].top, parts[-1].bottom, max(m.overflow_x for m in parts),
                  sum(m.figures for m in parts), sum(m.shrinkable for m in parts))
    if padded:
        out.height += out.top + out.bottom
        out.top = out.bottom = 0.0
    return out


def _iter(node: Node, tag: str):
    for c in node.children:
        if isinstance(c, Node):
            if c.tag == tag:
                yield c
            elif c.tag != "table":
                yield from _iter(c, tag)


def _table_measure(node: Node, width: float) -> Measure:
    size, line, vpad, hpad = _TABLE
    rows = []
    for tr in _iter(node, "tr"):
        cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]
        rows.append([(re.sub(r"\s+", " ", text_of(c)).strip(), c.tag == "th") for c in cells])
    if not rows:
        return Measure(0.0)
    ncol = max(len(r) for r in rows)
    max_w, min_w = [0.0] * ncol, [0.0] * ncol
    for r in rows:
        for j, (t, th) in enumerate(r):
            cw = size * (_BOLD_EM if th else _PROPORTIONAL_EM)
            max_w[j] = max(max_w[j], len(t) * cw + 2 * hpad)
            min_w[j] = max(min_w[j], max((len(w) for w in t.split()), default=0) * cw + 2 * hpad)
    total_max, total_min = sum(max_w), sum(min_w)
    if total_max <= width:
        col = max_w
    elif total_min >= width:
        col = min_w
    else:  # automatic table layout: each column between its longest word and its whole text
        f = (width - total_min) / (total_max - total_min)
        col = [a + (b - a) * f for a, b in zip(min_w, max_w, strict=True)]
    height = 0.0
    for r in rows:
        lines = 1
        for j, (t, th) in enumerate(r):
            if t:
                em = _BOLD_EM if th else _PROPORTIONAL_EM
                lines = max(lines, text_lines(t, max(col[j] - 2 * hpad, 1.0), size, em))
        height += lines * line + 2 * vpad + 1
    return Measure(height, _TABLE_MARGIN / 2, _TABLE_MARGIN / 2, overflow_x=total_min / width, shrinkable=height)


def html_measure(node: "Node | str", width: float, line: float = 32.0) -> Measure:
    """Estimated size of the HTML ``node`` laid out ``width`` pixels wide; ``line`` is the line
    height its bare text inherits."""
    if isinstance(node, str):
        text = node.strip()
        return Measure(text_lines(text, width, 20) * line if text else 0.0)
    tag = node.tag
    if tag == "table":
        return _table_measure(node, width)
    if tag == "img":
        w = float(re.sub(r"[^\d.]", "", node.attrs.get("width", "")) or 600)
        h = float(re.sub(r"[^\d.]", "", node.attrs.get("height", "")) or 0.6 * w)
        fh = image_height(w, h, 0.95 * width)
        return Measure(fh, _IMG_MARGIN, _IMG_MARGIN, figures=fh)
    if tag == "svg":
        w, h = _svg_size(node)
        fh = image_height(w, h, width, max_height=10_000)
        return Measure(fh + 4, figures=fh + 4)
    if tag == "math" and node.attrs.get("display") == "block":
        tall = any(True for _ in _iter(node, "mfrac")) or "∑" in _plain(node)
        return Measure(_MATH_BLOCK[1] if tall else _MATH_BLOCK[0])
    if tag == "pre":
        h = pre_height(_plain(node), width)
        return Measure(h, overflow_x=0.0, shrinkable=h)
    if tag == "hr":
        return Measure(2.0, 20, 20)
    if tag == "blockquote":
        frac, mt, mb, pad = _BLOCKQUOTE
        inner = _children_measure(node, frac * width - pad, line)
        return Measure(inner.height + inner.top + inner.bottom + pad, mt, mb, inner.overflow_x,
                       inner.figures, inner.shrinkable)
    size, own_line, mt, mb, indent = _BLOCKS.get(tag, (20, line, 0, 0, 0))
    if tag in _HEADINGS:
        text = re.sub(r"\s+", " ", text_of(node)).strip().replace("¶", "")
        return Measure(text_lines(text or "x", width, size, _HEADING_EM) * own_line, mt, mb)
    vpad, hpad = _style_padding(node.attrs.get("style", ""))
    inner = _children_measure(node, width - indent - hpad, own_line if tag in _BLOCKS else line)
    if vpad:  # padding keeps the children's margins inside
        return Measure(inner.height + inner.top + inner.bottom + vpad, mt, mb, inner.overflow_x,
                       inner.figures, inner.shrinkable)
    return Measure(inner.height, max(mt, inner.top), max(mb, inner.bottom), inner.overflow_x,
                   inner.figures, inner.shrinkable)


def _style_padding(style: str) -> tuple[float, float]:
    """Vertical and horizontal padding plus border (both sides, px) of an inline ``style``."""
    def px(v: str) -> float:
        m = re.match(r"([\d.]+)(px|em|rem)?", v)
        return float(m.group(1)) * (20 if m.group(2) in ("em", "rem") else 1) if m else 0.0

    v = h = 0.0
    m = re.search(r"(?:^|;)\s*padding\s*:\s*([^;]+)", style)
    if m:
        vals = [px(x) for x in m.group(1).split()]
        top, right, bottom, left = (vals * 4)[:1] * 4 if len(vals) == 1 else (
            [vals[0], vals[1], vals[0], vals[1]] if len(vals) == 2 else (vals + [vals[1]])[:4])
        v, h = top + bottom, left + right
    for side in ("left", "right", "top", "bottom"):
        b = re.search(rf"border-{side}\s*:\s*([\d.]+)px", style)
        if b:
            if side in ("left", "right"):
                h += float(b.group(1))
            else:
                v += float(b.group(1))
    return v, h


def _inline_math(run: list["Node | str"]) -> int:
    return sum((1 if x.tag == "math" else 0) + _inline_math(x.children) for x in run if isinstance(x, Node))


def _children_measure(node: Node, width: float, line: float) -> Measure:
    """A node's children: runs of inline content become line boxes, blocks stack."""
    parts: list[Measure] = []
    run: list["Node | str"] = []

    def flush() -> None:
        text = re.sub(r"[ \t\r\f\v\n]+", " ", "".join(text_of(x) for x in run)).strip()
        text = re.sub(r" ?\n ?", "\n", "".join(text_of(x) for x in run)) if any(
            isinstance(x, Node) and x.tag == "br" for x in run) else text
        if text.strip():  # an inline formula with a sub- or superscript makes its line taller
            parts.append(Measure(text_lines(text, width, 20) * line + _INLINE_MATH_EXTRA * _inline_math(run)))
        run.clear()

    for c in node.children:
        if _is_block(c):
            flush()
            parts.append(html_measure(c, width, line))
        else:
            run.append(c)
    flush()
    return stack(parts)


def pre_height(text: str, scale: float = 1.0) -> float:
    """Height of printed output at ``scale`` times its font size: monospace lines wrapped at
    spaces within the output area, as the deck's ``white-space: pre-wrap; word-break: normal``
    wraps them (a word longer than a line breaks anywhere)."""
    size, line, pad, frac = _PRE
    width = frac * (_OUTPUT_WIDTH + 20 - _PRE_INDENT)
    per_line = max(1, int(width / (size * scale * _MONO_EM)))
    n = 0
    for ln in text.rstrip("\n").split("\n"):
        lines, current = 1, 0
        for tok in re.findall(r"\s*\S+|\s+$", ln.expandtabs(8)):
            word = tok.lstrip()
            if current + len(tok) <= per_line:
                current += len(tok)
                continue
            extra = max(0, math.ceil(len(word) / per_line) - 1)
            lines += (1 if current else 0) + extra
            current = len(word) - extra * per_line
        n += lines
    return n * line * scale + 2 * pad


def output_measure(out, markdown_to_html, math_store: list[str]) -> Measure:
    """Estimated size of one output of a code cell."""
    kind = out.get("output_type")
    if kind == "stream":
        h = pre_height(out.get("text", ""))
        return Measure(h, shrinkable=h)
    if kind == "error":
        return Measure(pre_height("\n".join(out.get("traceback", []))))
    data = out.get("data", {})
    if "image/png" in data:
        w, h = png_size(data["image/png"])
        fh = image_height(w, h, 0.95 * (_OUTPUT_WIDTH + 20))
        return Measure(fh + _IMG_LINE_GAP, _IMG_MARGIN, _IMG_MARGIN, figures=fh)
    if "image/svg+xml" in data:
        return html_measure(parse_html(data["image/svg+xml"]), _OUTPUT_WIDTH)
    for mime in ("text/html", "text/markdown"):
        if mime in data:
            body = data[mime] if mime == "text/html" else markdown_to_html(data[mime])
            root = parse_html(_restore(body, math_store))
            parts = []
            for c in root.children:  # the output's top-level blocks (a <div> keeps a margin below)
                m = html_measure(c, _OUTPUT_WIDTH)
                if isinstance(c, Node) and c.tag == "div":
                    m.bottom = max(m.bottom, _TOP_DIV_MARGIN)
                parts.append(m)
            return stack(parts)
    if "text/plain" in data:
        h = pre_height(data["text/plain"])
        return Measure(h, shrinkable=h)
    return Measure(0.0)


def cell_measure(cell, markdown_to_html, math_store: list[str]) -> Measure:
    """Estimated size of one exported cell on a slide (code is hidden: only its outputs count).
    ``markdown_to_html`` renders markdown as the exporter does; ``math_store`` holds the MathML
    that replaced each formula (placeholders ``TRIALNBMATHnnnnnX``)."""
    if cell.cell_type == "markdown":
        body = _restore(markdown_to_html(cell.source), math_store)
        inner = _children_measure(parse_html(body), _MARKDOWN_WIDTH, 32.0)
        return stack([Measure(0.0), inner, Measure(0.0)], padded=True) + _pad(_CELL_PADDING)
    if cell.cell_type != "code":
        return Measure(0.0)
    if not cell.get("outputs"):
        return Measure(_CELL_PADDING)  # an empty cell still takes its padding
    inner = stack([output_measure(o, markdown_to_html, math_store) for o in cell.outputs], padded=True)
    return inner + _pad(_CELL_PADDING + _OUTPUT_GAP)


def _pad(h: float) -> Measure:
    return Measure(h)


def _restore(body: str, math_store: list[str]) -> str:
    return re.sub(r"TRIALNBMATH(\d{5})X", lambda m: math_store[int(m.group(1))], body)
