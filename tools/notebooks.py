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
import hashlib
import copy
import html
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


def split_long_markdown(nb: nbformat.NotebookNode, limit: int = MAX_SLIDE_WORDS) -> nbformat.NotebookNode:
    """Split every markdown cell of more than ``limit`` words at its paragraphs (blank lines)
    into consecutive cells, so that :func:`apply_slide_rule` can start a sub-slide between
    them. The first piece keeps the cell's metadata; the others continue the slide."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell_words(cell) <= limit:
            cells.append(cell)
            continue
        pieces, current = [], ""
        quoted = cell.source.lstrip().startswith(">")
        paras = []
        for para in _PARAGRAPH_RE.split(cell.source):  # a paragraph still too long splits at its list items
            paras.extend(_LIST_ITEM_RE.split(para) if count_words(para) > limit else [para])
        for para in paras:
            if current and count_words(current + " " + para) > limit:
                pieces.append(current)
                current = para
            else:
                current = f"{current}\n{'>' if quoted else ''}\n{para}" if current else para
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


def apply_slide_rule(nb: nbformat.NotebookNode, limit: int = MAX_SLIDE_WORDS) -> nbformat.NotebookNode:
    """Give every cell without ``slideshow`` metadata its slide type from :func:`slide_type_for`,
    then keep one idea per slide: a cell that continues a slide ("-") starts a new sub-slide
    when it would take the slide past ``limit`` words (:func:`cell_words`). Long markdown cells
    are first split at their paragraphs (:func:`split_long_markdown`); a code cell whose output
    alone passes ``limit`` is skipped in the slides, with a one-line note in its place. A cell's
    own "slide", "subslide", "skip" or "notes" always wins."""
    nb = split_long_markdown(nb, limit)
    cells = []
    for cell in nb.cells:  # an output too long for any slide is left to the hand-out, and the slide says so
        if cell.cell_type == "code" and "slideshow" not in cell.metadata and cell_words(cell) > limit:
            cell.metadata["slideshow"] = {"slide_type": "skip"}
            note = nbformat.v4.new_markdown_cell(
                f"*A table of {cell_words(cell)} words is too long for a slide: it is in the notebook "
                "and its hand-out (`make handouts`).*")
            note["id"] = f"{cell.get('id', 'code')}-too-long"
            cells.append(note)
        cells.append(cell)
    nb.cells = cells
    prev = None
    words = 0
    for cell in nb.cells:
        meta = cell.metadata.setdefault("slideshow", {"slide_type": slide_type_for(cell, prev)})
        kind = meta.get("slide_type") or "-"
        n = cell_words(cell)
        if kind in ("slide", "subslide"):
            words = 0
        elif kind in ("skip", "notes"):
            n = 0
        elif words and words + n > limit:
            meta["slide_type"] = "subslide"
            words = 0
        words += n
        prev = cell
    return nb


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
.reveal .jp-RenderedImage img { max-height: 560px; width: auto; }
</style>
{%- endblock html_head_css -%}
{% block footer_js %}
<script>
{{ resources.trialnb_reveal_js }}
</script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, transition: "none", slideNumber: "c/t",
                   width: 1100, height: 760});
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
        nb = apply_slide_rule(nb)
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
        resources.update(reveal_assets())
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
