#!/usr/bin/env python3
"""Notebook pipeline: the only way notebook outputs are (re)generated.

    python tools/notebooks.py build notebooks/02_sample_size.py ...   # .py -> .ipynb, execute in place
    python tools/notebooks.py handouts --out build/handouts NB.py ...  # code-free, offline HTML
    python tools/notebooks.py slides --out build/slides NB.py ...      # reveal.js slides
    python tools/notebooks.py slide-tags NB.py ...                     # slide metadata into the .py (RISE)

The ``.py`` (jupytext percent format) is the source a person edits; the ``.ipynb`` is made from
it and executed top to bottom in a fresh kernel, with widget state and cell timings not stored,
so nbval has deterministic outputs to compare against.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import math
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from trialnb.files import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def ipynb_for(py: Path) -> Path:
    return py.with_suffix(".ipynb")


def sync(py: Path) -> nbformat.NotebookNode:
    """Read the .py pair and return the notebook (no outputs) it describes."""
    nb = jupytext.read(py, fmt="py:percent")
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata.setdefault("jupytext", {})["formats"] = "ipynb,py:percent"
    nb.metadata["language_info"] = {"name": "python"}
    # Stable cell ids (position + content) so rebuilding an unchanged notebook changes nothing.
    for i, cell in enumerate(nb.cells):
        digest = hashlib.sha1(f"{i}\0{cell.cell_type}\0{cell.source}".encode("utf-8")).hexdigest()
        cell["id"] = digest[:8]
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 900) -> nbformat.NotebookNode:
    env_backup = dict(os.environ)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["TRIALNB_PROGRESS"] = "0"  # no progress bars in stored outputs (trialnb.workload)
    try:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
            record_timing=False,
            store_widget_state=False,
            allow_errors=False,
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    nb.metadata.pop("widgets", None)
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _stable_outputs(cell)
    return nb


def _stable_outputs(cell: nbformat.NotebookNode) -> list:
    """Outputs without run-to-run noise: consecutive stream chunks merged (how they were split
    depends on flush timing), and widget view ids made deterministic (no widget state is
    stored, so the random model id refers to nothing after the kernel stops)."""
    merged: list = []
    for out in cell.outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1].text += out.text
            continue
        merged.append(out)
    for k, out in enumerate(merged):
        view = out.get("data", {}).get("application/vnd.jupyter.widget-view+json")
        if view is not None:
            view["model_id"] = hashlib.sha1(f"{cell.id}:{k}".encode()).hexdigest()[:32]
    return merged


def build(paths: list[Path]) -> int:
    for py in paths:
        t0 = time.perf_counter()
        nb = sync(py)
        nb = execute(nb, py.parent)
        nb.metadata["kernelspec"] = KERNELSPEC
        out = ipynb_for(py)
        nbformat.write(nb, out)
        print(f"built {out} in {time.perf_counter() - t0:.1f} s")
    return 0


# --- hand-outs and slides ------------------------------------------------------------------
# Hand-outs must read correctly offline: no script, stylesheet or font is fetched from the
# network. Formulas are converted from LaTeX to MathML here, at export time (latex2mathml), so
# the browser draws them natively (Chromium, Firefox and Safari render MathML Core) instead of
# MathJax loading from a CDN; figures are PNG outputs, which nbconvert embeds as base64 data
# URIs (images linked from markdown are embedded too, ``embed_images``). Interactive widgets
# cannot run in a static page: their outputs are replaced by a one-line note, followed by the
# static snapshot of the panel when the widget carries one (``trialnb.widgets.snapshot``: the
# dashboards display their panel with its default figures and numbers).

_MATH_TOKEN = "TRIALNBMATH{:05d}X"
_MATH_TOKEN_RE = re.compile(r"TRIALNBMATH(\d{5})X")
_FENCE_RE = re.compile(r"(^```.*?^```[^\n]*$|^~~~.*?^~~~[^\n]*$|`[^`\n]+`)", re.S | re.M)
_DISPLAY_RE = re.compile(r"\$\$(.+?)\$\$", re.S)
# inline $...$: not after a backslash or a word character, no space just inside the dollars,
# closing dollar not followed by a digit (so "$5 and $10" is left alone, as in pandoc).
_INLINE_RE = re.compile(r"(?<![\\\w$])\$(?=[^\s$])((?:[^$\\\n]|\\.)+?)(?<=[^\s\\])\$(?![\d$])")
# LaTeX that latex2mathml does not know, mapped to what it does (applied only after a failure).
_LATEX_FALLBACKS = {r"\tfrac": r"\frac", r"\dfrac": r"\frac", r"\operatorname": r"\mathrm",
                    r"\bigl": r"\left", r"\bigr": r"\right", r"\Bigl": r"\left", r"\Bigr": r"\right"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = ('<p class="trialnb-widget-note"><em>Interactive control: open this notebook in '
               'JupyterLab (<code>make lab</code>) or the dashboards (<code>make present</code>) '
               'to use it.</em></p>')


class MathConversionError(ValueError):
    """A formula that could not be converted to MathML (the message names it)."""


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One LaTeX formula as a single-line MathML element (``<math ...>...</math>``)."""
    from latex2mathml.converter import convert

    mode = "block" if display else "inline"
    src = latex.strip()

    def attempt(tex: str) -> str:
        out = convert(tex, display=mode)
        unknown = re.findall(r">(\\[A-Za-z]+)<", out)  # latex2mathml passes unknown macros through as text
        if unknown:
            raise ValueError(f"unknown command(s) {', '.join(sorted(set(unknown)))}")
        return out

    try:
        out = attempt(src)
    except Exception:  # noqa: BLE001 - retry with known substitutions, then report
        fixed = src
        for a, b in _LATEX_FALLBACKS.items():
            fixed = fixed.replace(a, b)
        try:
            out = attempt(fixed)
        except Exception as exc:
            raise MathConversionError(f"cannot convert formula {latex!r} to MathML: "
                                      f"{type(exc).__name__} {exc}".rstrip()) from exc
    alt = html.escape(src, quote=True)
    return out.replace("<math ", f'<math alttext="{alt}" ', 1).replace("\n", "")


def protect_math(markdown: str, store: list[str]) -> str:
    """Replace every ``$$...$$`` and ``$...$`` (outside code) by a placeholder token whose MathML
    is appended to ``store``; the markdown renderer then never sees the LaTeX."""

    def display(m: re.Match) -> str:
        store.append(latex_to_mathml(m.group(1), display=True))
        return _MATH_TOKEN.format(len(store) - 1)

    def inline(m: re.Match) -> str:
        store.append(latex_to_mathml(m.group(1), display=False))
        return _MATH_TOKEN.format(len(store) - 1)

    parts = _FENCE_RE.split(markdown)
    for i in range(0, len(parts), 2):  # even parts are outside code
        parts[i] = _INLINE_RE.sub(inline, _DISPLAY_RE.sub(display, parts[i]))
    return "".join(parts)


def restore_math(body: str, store: list[str]) -> str:
    """Put the MathML back in place of the placeholders in the exported HTML."""
    return _MATH_TOKEN_RE.sub(lambda m: store[int(m.group(1))], body)


def prepare_for_export(nb: nbformat.NotebookNode, store: list[str]) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready for a static export: math protected, widget outputs replaced."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = protect_math(cell.source, store)
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            if WIDGET_MIME in data:  # keep a static snapshot of the panel if the widget carried one
                out["data"] = {"text/html": WIDGET_NOTE + data.get("text/html", "")}
                continue
            if "text/markdown" in data:
                data["text/markdown"] = protect_math(data["text/markdown"], store)
            if "text/latex" in data and "text/html" not in data:
                store.append(latex_to_mathml(data["text/latex"].strip().strip("$"), display=True))
                data["text/html"] = _MATH_TOKEN.format(len(store) - 1)
    return nb


def _heading_level(cell: nbformat.NotebookNode) -> int:
    if cell.cell_type != "markdown":
        return 0
    first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
    m = re.match(r"(#{1,6})\s", first)
    return len(m.group(1)) if m else 0


MAX_SLIDE_WORDS = 200
"""One idea per slide: no slide (or sub-slide) of the exported deck carries more words."""
_WORD_RE = re.compile(r"\b[^\W\d_]+\b")  # runs of letters: "power", "HR"; not "0.66" or "hr060_a05"
_TAG_RE = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
_PARAGRAPH_RE = re.compile(r"\n[ \t]*>?[ \t]*\n")  # a blank line, also inside a blockquote ("> ...")
_LIST_ITEM_RE = re.compile(r"\n(?=[ \t]*>?[ \t]*(?:[-*+]|\d+\.)[ \t])")  # before a markdown list item


def count_words(text: str) -> int:
    """Words of visible text (runs of letters; numbers and identifiers with digits not counted),
    HTML tags removed: the measure of the 200-word rule."""
    return len(_WORD_RE.findall(html.unescape(_TAG_RE.sub(" ", text))))


def cell_words(cell: nbformat.NotebookNode) -> int:
    """Words a cell shows on a slide (code is hidden in the slides: only its outputs count)."""
    if cell.cell_type == "markdown":
        return count_words(_MATH_TOKEN_RE.sub(" ", cell.source))
    if cell.cell_type != "code":
        return 0
    n = 0
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            n += count_words(html.escape(out.get("text", "")))
            continue
        data = out.get("data", {})
        if "image/png" in data or "image/svg+xml" in data:
            continue
        for mime in ("text/html", "text/markdown", "text/plain"):
            if mime in data:
                text = data[mime] if mime == "text/html" else html.escape(data[mime])
                n += count_words(text)
                break
    return n


def _geometry():
    """tools/slide_geometry.py, loaded beside this file (tools/ is not a package)."""
    name = "trialnb_tools_slide_geometry"
    if name not in sys.modules:
        import importlib.util

        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("slide_geometry.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


geometry = _geometry()


def _markdown_html(source: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(source)


def cell_height(cell: nbformat.NotebookNode, store: "list[str] | None" = None) -> float:
    """Estimated height of ``cell`` on a slide, in slide pixels (:mod:`slide_geometry`), with
    the figure height and font scale the slide rule gave it (``trialnb_slide`` metadata)."""
    return _fitted(cell, geometry.cell_measure(cell, _markdown_html, _math_store(cell, store)))


def _math_store(cell: nbformat.NotebookNode, store: "list[str] | None") -> list[str]:
    """The MathML store, or (for cells measured outside an export) a stand-in formula per token."""
    if store is not None:
        return store
    tokens = [int(t) for t in _MATH_TOKEN_RE.findall(cell.get("source", ""))]
    return ["<math><mi>x</mi></math>"] * (max(tokens) + 1 if tokens else 0)


def _fitted(cell: nbformat.NotebookNode, m) -> float:
    fit = cell.metadata.get("trialnb_slide", {})
    h = m.height
    if "figure_height" in fit and m.figures:
        h -= m.figures - min(m.figures, fit["figure_height"] * max(1, _figure_count(cell)))
    if "font_scale" in fit:
        h = (h - m.shrinkable) + m.shrinkable * fit["font_scale"]
    return h


def _figure_count(cell: nbformat.NotebookNode) -> int:
    return sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))


def split_long_markdown(nb: nbformat.NotebookNode, limit: int = MAX_SLIDE_WORDS,
                        store: "list[str] | None" = None) -> nbformat.NotebookNode:
    """Split every markdown cell of more than ``limit`` words, or taller than a slide
    (:data:`slide_geometry.HEIGHT_BUDGET`), at its paragraphs (blank lines; a paragraph still
    too long at its list items) into consecutive cells, so that :func:`apply_slide_rule` can
    start a sub-slide between them. The first piece keeps the cell's metadata; the others
    continue the slide."""
    budget = geometry.HEIGHT_BUDGET

    def too_long(text: str) -> bool:
        probe = nbformat.v4.new_markdown_cell(text)
        return count_words(text) > limit or cell_height(probe, store) > budget

    cells = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or not too_long(cell.source):
            cells.append(cell)
            continue
        quoted = cell.source.lstrip().startswith(">")
        units: list[tuple[str, str]] = []  # (text, separator before it)
        for i, para in enumerate(_PARAGRAPH_RE.split(cell.source)):
            sep = "\n>\n" if quoted else "\n\n"
            items = _LIST_ITEM_RE.split(para) if too_long(para) else [para]
            units.extend((item, sep if (j == 0 and i) else "\n") for j, item in enumerate(items))
        pieces, current = [], ""
        for text, sep in units:
            if current and too_long(current + sep + text):
                pieces.append(current)
                current = text
            else:
                current = current + sep + text if current else text
        pieces.append(current)
        for k, piece in enumerate(pieces):
            new = nbformat.v4.new_markdown_cell(piece)
            new.metadata = copy.deepcopy(cell.metadata) if k == 0 else {}
            new["id"] = f"{cell.get('id', 'md')}-{k}"
            cells.append(new)
    nb.cells = cells
    return nb


def slide_type_for(cell: nbformat.NotebookNode, previous: "nbformat.NotebookNode | None") -> str:
    """The documented slide rule: a markdown cell starting with an H1 or H2 heading starts a new
    slide, one starting with an H3 heading a sub-slide (reveal.js vertical slide); every other
    cell continues the current slide ("-"). A cell's own ``slideshow.slide_type`` always wins."""
    level = _heading_level(cell)
    if previous is None or level in (1, 2):
        return "slide"
    if level == 3:
        return "subslide"
    return "-"


def _handout_note(cell: nbformat.NotebookNode, what: str) -> nbformat.NotebookNode:
    note = nbformat.v4.new_markdown_cell(
        f"*{what} is too large for a slide: it is in the notebook and its hand-out (`make handouts`).*")
    note["id"] = f"{cell.get('id', 'code')}-too-long"
    return note


def _describe(cell: nbformat.NotebookNode) -> str:
    """What a code cell's output is, for the note that replaces it on a slide."""
    kinds = {o.get("output_type") for o in cell.get("outputs", [])}
    html_out = [o["data"]["text/html"] for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]
    rows = sum(h.count("<tr") for h in html_out)
    if rows:
        return f"A table of {rows} rows"
    if "stream" in kinds:
        lines = sum(o.get("text", "").count("\n") for o in cell.outputs if o.get("output_type") == "stream")
        return f"A printed output of {lines} lines"
    return "This output"


def fit_alone(cell: nbformat.NotebookNode, store: "list[str] | None" = None) -> "dict | None":
    """How a code cell's outputs fit on a slide of their own: ``{}`` as they are,
    ``{"figure_height": h}`` (figures drawn ``h`` px tall), ``{"font_scale": s}`` (printed output
    and tables drawn at ``s`` times their font size, also to fit a wide table across), or
    ``None``: not even at :data:`slide_geometry.MIN_FONT_SCALE` (the cell goes to the hand-out)."""
    g = geometry
    m = g.cell_measure(cell, _markdown_html, _math_store(cell, store))
    fit: dict = {}
    scale = 1.0
    if m.overflow_x > 1:
        scale = 1 / m.overflow_x
    fixed = m.height - m.figures - m.shrinkable
    if m.shrinkable and fixed + m.figures + m.shrinkable * scale > g.HEIGHT_BUDGET:
        # 3% in hand: borders and rounded line heights do not shrink with the font
        scale = min(scale, 0.97 * (g.HEIGHT_BUDGET - fixed - m.figures) / m.shrinkable)
    if m.shrinkable and scale < 1:
        if scale < g.MIN_FONT_SCALE:
            return None
        fit["font_scale"] = math.floor(scale * 100) / 100
    if m.figures and fixed + m.figures + m.shrinkable * scale > g.HEIGHT_BUDGET:
        n = max(1, _figure_count(cell))
        room = (g.HEIGHT_BUDGET - fixed - m.shrinkable * scale) / n
        if room < g.MIN_FIGURE_HEIGHT:
            return None
        fit["figure_height"] = math.floor(room)
    return fit


def apply_slide_rule(nb: nbformat.NotebookNode, limit: int = MAX_SLIDE_WORDS,
                     store: "list[str] | None" = None) -> nbformat.NotebookNode:
    """Give every cell without ``slideshow`` metadata its slide type from :func:`slide_type_for`,
    then make every slide fit the screen and keep one idea per slide, by the cells' estimated
    geometry (:mod:`slide_geometry`: figures, tables and printed output by their size, text by
    its lines) and words:

    1. a markdown cell taller than a slide or longer than ``limit`` words is split at its
       paragraphs (:func:`split_long_markdown`);
    2. a code cell whose outputs do not fit a slide of their own is scaled (figures drawn
       smaller, down to :data:`slide_geometry.MIN_FIGURE_HEIGHT`; printed output and tables at a
       smaller font, down to :data:`slide_geometry.MIN_FONT_SCALE`, also to fit a wide table
       across); if even that is not enough, or its output passes ``limit`` words, it is left to
       the hand-out, with a one-line note in its place (:func:`fit_alone`);
    3. a cell that continues a slide ("-") and would take it past the height budget or past
       ``limit`` words starts a new sub-slide, together with the sentence that introduces it
       (the markdown cell just before it); a figure shrinks instead when it keeps at least
       80% of its height (and :data:`slide_geometry.MIN_FIGURE_HEIGHT`).

    Scaling is written in each cell's ``trialnb_slide`` metadata and becomes CSS in the deck
    (:func:`slide_fit_css`). A cell's own "slide", "subslide", "skip" or "notes" always wins."""
    g = geometry
    nb = split_long_markdown(nb, limit, store)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "slideshow" not in cell.metadata and cell.get("outputs"):
            fit = fit_alone(cell, store) if cell_words(cell) <= limit else None
            if fit is None:  # an output too large for any slide is left to the hand-out, and the slide says so
                cell.metadata["slideshow"] = {"slide_type": "skip"}
                cells.append(_handout_note(cell, _describe(cell)))
            elif fit:
                cell.metadata["trialnb_slide"] = fit
        cells.append(cell)
    nb.cells = cells
    heights: dict[int, float] = {}
    prev = None
    used = words = 0.0
    first = 0  # index of the cell that opened the current slide
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.setdefault("slideshow", {"slide_type": slide_type_for(cell, prev)})
        kind = meta.get("slide_type") or "-"
        n = cell_words(cell)
        h = heights[i] = cell_height(cell, store)
        prev = cell
        if kind in ("skip", "notes"):
            continue
        if kind in ("slide", "subslide"):
            used, words, first = h, n, i
            continue
        if used + h > g.HEIGHT_BUDGET and _shrink_figures(cell, h, g.HEIGHT_BUDGET - used, store):
            h = heights[i] = cell_height(cell, store)
        if (words and words + n > limit) or (used and used + h > g.HEIGHT_BUDGET):
            lead = _lead_in(nb.cells, i, first)
            fits = lead is not None and heights[lead] + h <= g.HEIGHT_BUDGET and cell_words(nb.cells[lead]) + n <= limit
            start = lead if fits else i
            nb.cells[start].metadata["slideshow"]["slide_type"] = "subslide"
            used = sum(heights[k] for k in range(start, i + 1) if _shown(nb.cells[k]))
            words = sum(cell_words(nb.cells[k]) for k in range(start, i + 1) if _shown(nb.cells[k]))
            first = start
            continue
        used += h
        words += n
    return nb


def _shown(cell: nbformat.NotebookNode) -> bool:
    return cell.metadata.get("slideshow", {}).get("slide_type") not in ("skip", "notes")


def _lead_in(cells: list, i: int, first: int) -> "int | None":
    """The markdown cell that introduces cell ``i`` (the shown cell just before it), if it only
    continues the slide that ``first`` opened."""
    k = i - 1
    while k > first and not _shown(cells[k]):
        k -= 1
    if k > first and cells[k].cell_type == "markdown" and cells[i].cell_type == "code" \
            and cells[k].metadata["slideshow"].get("slide_type") == "-":
        return k
    return None


def _shrink_figures(cell: nbformat.NotebookNode, height: float, room: float, store) -> bool:
    """Draw the cell's figures smaller so that it fits ``room``, if they keep at least 80% of
    their height and :data:`slide_geometry.MIN_FIGURE_HEIGHT`; True if done."""
    g = geometry
    m = g.cell_measure(cell, _markdown_html, _math_store(cell, store))
    n = _figure_count(cell)
    if not m.figures or not n:
        return False
    per = m.figures / n
    current = min(per, cell.metadata.get("trialnb_slide", {}).get("figure_height", per))
    target = current - (height - room) / n
    if target < max(g.MIN_FIGURE_HEIGHT, 0.8 * per):
        return False
    cell.metadata.setdefault("trialnb_slide", {})["figure_height"] = math.floor(target)
    return True


def slide_fit_css(nb: nbformat.NotebookNode) -> str:
    """CSS that draws each cell as :func:`apply_slide_rule` fitted it (figure heights, font scales)."""
    rules = []
    for cell in nb.cells:
        fit = cell.metadata.get("trialnb_slide")
        if not fit:
            continue
        sel = f'.reveal [id="cell-id={cell.get("id")}"]'
        if "figure_height" in fit:
            rules.append(f"{sel} .jp-RenderedImage img {{ max-height: {fit['figure_height']}px; }}")
        if "font_scale" in fit:
            rules.append(f"{sel} .jp-OutputArea {{ zoom: {fit['font_scale']}; }}")
    return "\n".join(rules)


_MARKER_RE = re.compile(r"^# %% \[markdown\](.*)$")


def add_slide_metadata(py: Path) -> int:
    """Write the slide rule into a notebook's ``.py`` source, so RISE in JupyterLab presents it
    (rebuild the .ipynb afterwards). Only markdown cell markers of H1/H2/H3 cells without
    slideshow metadata are touched; idempotent. Returns the number of markers changed."""
    lines = py.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = 0
    for i, line in enumerate(lines):
        m = _MARKER_RE.match(line.rstrip("\n"))
        if not m or "slideshow" in m.group(1):
            continue
        nxt = next((ln for ln in lines[i + 1:] if ln.strip() not in ("", "#")), "")
        h = re.match(r"^# (#{1,3})\s", nxt)
        if not h:
            continue
        kind = "subslide" if len(h.group(1)) == 3 else "slide"
        lines[i] = line.rstrip("\n") + f' slideshow={{"slide_type": "{kind}"}}\n'
        changed += 1
    if changed:
        py.write_text("".join(lines), encoding="utf-8")
    return changed


_OFFLINE_BLOCKS = """
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
"""
HANDOUT_TEMPLATE = "{%- extends 'lab/index.html.j2' -%}\n" + _OFFLINE_BLOCKS + """
{% block extra_css %}
<style>
  main { max-width: 980px; margin: 0 auto; }
  math[display="block"] { margin: 0.6em 0; }
  .trialnb-handout-footer { color: #666; font-size: 0.85em; margin: 2em 0 1em 0; }
</style>
{% endblock extra_css %}
{% block body_footer %}
<p class="trialnb-handout-footer">Hand-out generated from {{ resources.trialnb_source }} by
<code>make handouts</code>; formulas are MathML and figures are embedded, so this page needs no
network.</p>
</main>
</body>
{% endblock body_footer %}
"""
# Slides: reveal.js from the copy vendored in tools/vendor (pinned, MIT), inlined into every deck
# together with its stylesheet and theme, so a deck is one file that presents with no network.
# nbconvert's reveal template would load reveal.js, jQuery, require.js and mermaid from CDNs:
# the blocks that do so are replaced here.
REVEAL_DIR = ROOT / "tools" / "vendor" / "reveal.js-4.6.0"
SLIDES_TEMPLATE = "{%- extends 'reveal/index.html.j2' -%}\n" + _OFFLINE_BLOCKS + """
{%- block html_head_css -%}
<style type="text/css">
{{ resources.trialnb_reveal_css }}
</style>
<style type="text/css">
.reveal .slides section { text-align: left; }
.reveal .jp-RenderedHTMLCommon table { font-size: 0.7em; }
.reveal .jp-RenderedImage img { max-height: {{ resources.trialnb_figure_max }}px; width: auto; }
.reveal .jp-RenderedText pre { word-break: normal; overflow-wrap: anywhere; }
{{ resources.trialnb_fit_css }}
</style>
{%- endblock html_head_css -%}
{% block footer_js %}
<script>
{{ resources.trialnb_reveal_js }}
</script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, transition: "none", slideNumber: "c/t",
                   width: {{ resources.trialnb_slide_width }}, height: {{ resources.trialnb_slide_height }}});
</script>
{% endblock footer_js %}
"""


_REVEAL_LINK_RE = re.compile(r'<link\b[^>]*\bhref="[^"]*/dist/(?:reveal|theme/[\w-]+)\.css"[^>]*>')


def reveal_assets() -> dict[str, str]:
    """The vendored reveal.js script and stylesheets as text, ready to inline (the theme's web
    font ``@import`` and the source-map comment dropped: neither may be fetched)."""
    js = (REVEAL_DIR / "dist" / "reveal.js").read_text(encoding="utf-8")
    js = re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.M)
    css = (REVEAL_DIR / "dist" / "reveal.css").read_text(encoding="utf-8")
    theme = (REVEAL_DIR / "dist" / "theme" / "white.css").read_text(encoding="utf-8")
    theme = re.sub(r"@import url\([^)]*\);", "", theme)
    css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css + "\n" + theme)
    return {"trialnb_reveal_js": js.replace("</script", "<\\/script"), "trialnb_reveal_css": css}


def export_html(nb: nbformat.NotebookNode, *, slides: bool = False, source: str = "") -> str:
    """A notebook as code-free HTML (hand-out) or reveal.js slides, formulas as MathML."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter, SlidesExporter

    store: list[str] = []
    nb = prepare_for_export(nb, store)
    if slides:
        nb = apply_slide_rule(nb, store=store)
        exp = SlidesExporter(extra_loaders=[DictLoader({"trialnb_slides.j2": SLIDES_TEMPLATE})],
                             template_file="trialnb_slides.j2")
    else:
        exp = HTMLExporter(extra_loaders=[DictLoader({"trialnb_handout.j2": HANDOUT_TEMPLATE})],
                           template_file="trialnb_handout.j2")
        exp.embed_images = True
    exp.exclude_input = True
    exp.exclude_input_prompt = True
    exp.exclude_output_prompt = True
    resources = {"trialnb_source": source}
    if slides:
        resources.update(reveal_assets(), trialnb_fit_css=slide_fit_css(nb),
                         trialnb_slide_width=geometry.SLIDE_WIDTH, trialnb_slide_height=geometry.SLIDE_HEIGHT,
                         trialnb_figure_max=geometry.FIGURE_MAX_HEIGHT)
    body, _ = exp.from_notebook_node(nb, resources=resources)
    if slides:  # the two stylesheet links of the reveal template sit outside any block: drop them
        body = _REVEAL_LINK_RE.sub("", body)
    return restore_math(body, store)


def _export(paths: list[Path], out_dir: Path, exporter_name: str) -> int:
    """Export executed notebooks without code (hand-outs) or as slides into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    slides = exporter_name == "slides"
    for py in paths:
        ipynb = ipynb_for(py)
        if not ipynb.exists():
            raise SystemExit(f"{ipynb} does not exist: run `make outputs` first")
        nb = nbformat.read(ipynb, as_version=4)
        try:
            rel = ipynb.resolve().relative_to(ROOT)
        except ValueError:
            rel = ipynb
        body = export_html(nb, slides=slides, source=str(rel))
        target = out_dir / (py.stem + (".slides.html" if slides else ".html"))
        write_text_atomic(target, body)  # a full disk leaves the previous hand-out or slides intact
        print(f"wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="sync .py -> .ipynb and execute in place")
    b.add_argument("paths", nargs="+", type=Path)
    for name, text in (("handouts", "code-free HTML that reads offline (MathML formulas, embedded figures)"),
                       ("slides", "reveal.js slides; H1/H2 cells start a slide, H3 a sub-slide")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--out", type=Path, required=True)
        s.add_argument("paths", nargs="+", type=Path)
    t = sub.add_parser("slide-tags", help="write the slide rule into .py sources (for RISE); rebuild afterwards")
    t.add_argument("paths", nargs="+", type=Path)
    args = ap.parse_args(argv)
    paths = [p if p.suffix == ".py" else p.with_suffix(".py") for p in args.paths]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        ap.error(f"no such notebook source: {', '.join(missing)}")
    if args.cmd == "build":
        return build(paths)
    if args.cmd == "slide-tags":
        for py in paths:
            print(f"{py}: {add_slide_metadata(py)} cell markers given slide metadata")
        return 0
    return _export(paths, args.out, args.cmd)


if __name__ == "__main__":
    sys.exit(main())
