"""Hand-outs and slides (tools/notebooks.py handouts|slides|slide-tags), without a browser:
formulas become MathML, nothing is fetched from the network, widgets leave a note, the slide
rule is applied. The browser check of a hand-out offline is in test_browser.py."""

from __future__ import annotations

import copy
import importlib.util
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("trialnb_tools_notebooks", ROOT / "tools" / "notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


nbt = _load()


def _math_count(s: str) -> int:
    return s.count("TRIALNBMATH")


@pytest.mark.parametrize("text, n", [
    ("Events $D = 4(z_{1-\\alpha/2} + z_{1-\\beta})^2 / (\\ln \\mathrm{HR})^2$ here.", 1),
    ("$$\\Pr(\\text{event}) = 1 - \\frac{S_1(2) + S_2(2)}{2}$$", 1),
    ("two $a$ and $b$", 2),
    ("costs $5 and $10 today", 0),             # currency, not math (pandoc's rule)
    ("escaped \\$ sign and \\$x\\$", 0),
    ("code `$x$` and\n```\n$y$\n```\n", 0),     # code is left alone
    ("a $$x$$ then $y$", 2),
])
def test_protect_math_finds_formulas_not_dollars(text: str, n: int):
    store: list[str] = []
    out = nbt.protect_math(text, store)
    assert _math_count(out) == n == len(store)
    assert all(m.startswith("<math ") and m.endswith("</math>") and "\n" not in m for m in store)
    assert "$" not in re.sub(r"`[^`]*`|```.*?```|\\\$|\$\d+", "", out, flags=re.S)


def test_display_math_is_block_and_alttext_keeps_the_latex():
    store: list[str] = []
    nbt.protect_math("$$e^{-0.5}$$ and $x_1$", store)
    assert 'display="block"' in store[0] and 'display="inline"' in store[1]
    assert 'alttext="e^{-0.5}"' in store[0]


@pytest.mark.parametrize("bad", ["x^", "\\notamacro{x} + 1", "\\left( x"])
def test_unsupported_latex_is_reported_with_the_formula(bad: str):
    with pytest.raises(nbt.MathConversionError, match=re.escape(repr(bad))):
        nbt.latex_to_mathml(bad, display=False)


def test_fallbacks_rescue_common_macros():
    assert "<mfrac>" in nbt.latex_to_mathml("\\tfrac{1}{2}")
    assert "<mo>logit</mo>" in nbt.latex_to_mathml("\\operatorname{logit}(p)")


def _nb() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\nThe hazard is $\\lambda = -\\ln S(t)/t$."),
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
            "display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2,
                                                                                "version_minor": 0},
                                  "text/plain": "VBox(...)"})]),
        nbformat.v4.new_markdown_cell("## Second\ntext"),
        nbformat.v4.new_code_cell("print(1)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="1\n")]),
        nbformat.v4.new_markdown_cell("### Detail\n$$N = \\lceil D / p \\rceil$$"),
        nbformat.v4.new_code_cell("y", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/markdown": "Result: $\\hat\\beta = 0.1$"}, execution_count=3)]),
    ]
    return nb


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for k in ("src", "href"):
            if a.get(k) and tag in ("script", "link", "img", "iframe"):
                self.urls.append(a[k])


def test_handout_is_code_free_offline_and_mathml():
    html = nbt.export_html(_nb(), source="x.ipynb")
    assert html.count("<math") == 3  # markdown inline, markdown display, markdown output
    assert "$" not in re.sub(r"<style.*?</style>|<math.*?</math>", "", html, flags=re.S)
    assert "TRIALNBMATH" not in html
    p = _Tags()
    p.feed(html)
    assert [u for u in p.urls if not u.startswith("data:")] == []
    assert "mathjax" not in html.lower() and "require.js" not in html
    assert "x = 1" not in html and "print(1)" not in html  # no code
    assert "trialnb-widget-note" in html and "VBox(" not in html


def test_slides_follow_the_heading_rule():
    nb = nbt.apply_slide_rule(_nb())
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds == ["slide", "-", "slide", "-", "subslide", "-"]
    nb2 = _nb()
    nb2.cells[3].metadata["slideshow"] = {"slide_type": "fragment"}
    assert nbt.apply_slide_rule(nb2).cells[3].metadata["slideshow"]["slide_type"] == "fragment"
    html = nbt.export_html(_nb(), slides=True)
    assert html.count("<math") == 3
    assert not re.search(r"<script[^>]+src=[^>]*mathjax", html, flags=re.I)
    assert html.count("<section") >= 3


def test_slide_tags_writes_the_rule_into_the_py_source(tmp_path: Path):
    src = (ROOT / "notebooks" / "dashboards" / "sample_size.py").read_text()
    py = tmp_path / "nb.py"
    py.write_text(src + "\n# %% [markdown]\n# ### A detail\n# text\n\n# %% [markdown]\n# plain\n")
    n = nbt.add_slide_metadata(py)
    assert n == 2  # the H1 title and the H3 cell; not the plain cell
    text = py.read_text()
    assert '# %% [markdown] slideshow={"slide_type": "slide"}' in text
    assert '# %% [markdown] slideshow={"slide_type": "subslide"}' in text
    assert nbt.add_slide_metadata(py) == 0  # idempotent
    import jupytext

    nb = jupytext.read(py, fmt="py:percent")
    assert nb.cells[0].metadata["slideshow"] == {"slide_type": "slide"}
    assert [c.source for c in nb.cells] == [c.source for c in jupytext.reads(
        src + "\n# %% [markdown]\n# ### A detail\n# text\n\n# %% [markdown]\n# plain\n", fmt="py:percent").cells]


def test_handouts_command_writes_every_notebook(tmp_path: Path):
    srcs = [ROOT / "notebooks" / "00_protocol.py", ROOT / "notebooks" / "dashboards" / "sample_size.py"]
    assert nbt.main(["handouts", "--out", str(tmp_path), *map(str, srcs)]) == 0
    for s in srcs:
        out = tmp_path / f"{s.stem}.html"
        html = out.read_text()
        p = _Tags()
        p.feed(html)
        assert [u for u in p.urls if not u.startswith("data:")] == [], out
        assert p.scripts == 0 or all("application/" in m for m in re.findall(r"<script[^>]*>", html)), out


# --- slides: offline, one idea per slide ------------------------------------------------------

def _slide_texts(html: str) -> list[str]:
    """Visible text of every innermost reveal.js section (a slide or sub-slide)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    out = []
    for sec in soup.select(".reveal .slides section"):
        if sec.find("section") is None:
            for t in sec.find_all(["style", "script", "math"]):  # formulas are not words
                t.decompose()
            out.append(sec.get_text(" "))
    return out


def _loaded_urls(html: str) -> list[str]:
    """Every URL the page would fetch: script/link/img/iframe sources, CSS url() and @import."""
    p = _Tags()
    p.feed(html)
    urls = list(p.urls)
    for css in re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S | re.I):
        urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", css)
        urls += re.findall(r"@import\s+['\"]([^'\"]+)", css)
    urls += re.findall(r"""\bimport\s[^;]*?from\s+['"](https?:[^'"]+)""", html)
    return urls


def test_long_slides_are_split_at_cells_and_paragraphs():
    para = "The hazard ratio of surgery is estimated by the planned Cox model in this trial. " * 6  # 90 words
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("## One heading\n" + "\n\n".join([para] * 5)),  # ~450 words
        nbformat.v4.new_code_cell("print()", outputs=[nbformat.v4.new_output("stream", name="stdout", text=para * 2)]),
        nbformat.v4.new_markdown_cell("A short closing sentence."),
    ]
    assert nbt.count_words(para) == 90
    out = nbt.apply_slide_rule(copy.deepcopy(nb))
    kinds = [c.metadata["slideshow"]["slide_type"] for c in out.cells]
    assert kinds[0] == "slide" and "subslide" in kinds
    assert "".join(c.source for c in out.cells if c.cell_type == "markdown").replace("\n", "") == \
        "".join(c.source for c in nb.cells if c.cell_type == "markdown").replace("\n", "")  # nothing lost
    texts = _slide_texts(nbt.export_html(nb, slides=True))
    assert max(nbt.count_words(t) for t in texts) <= nbt.MAX_SLIDE_WORDS
    assert sum(nbt.count_words(t) for t in texts) >= 450 + 180  # every word is on some slide
    assert nbt.count_words("HR 0.66 (95% CI 0.49 to 0.88), hr060_a05_p90") == 3  # HR, CI, to: letters only


SLIDE_NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("name", SLIDE_NOTEBOOKS)
def test_slides_offline_and_no_slide_over_200_words(name: str):
    nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    html = nbt.export_html(nb, slides=True, source=f"notebooks/{name}.ipynb")
    remote = [u for u in _loaded_urls(html) if re.match(r"(https?:)?//", u)]
    assert remote == [], f"{name} slides would fetch {remote}"
    assert "Reveal.initialize" in html and "unpkg.com" not in html and "require.js" not in html
    texts = _slide_texts(html)
    words = [nbt.count_words(t) for t in texts]
    assert len(texts) > 5, f"{name}: only {len(texts)} slides"
    worst = max(range(len(words)), key=words.__getitem__)
    assert words[worst] <= nbt.MAX_SLIDE_WORDS, f"{name} slide {worst}: {words[worst]} words: {texts[worst][:300]!r}"


DASHBOARD_EXPECTED = {"sample_size": "N = 240", "operating_characteristics": "Power",
                      "bias": "Naive Cox", "randomization": "Allocate", "evidence": "Probability of success",
                      "monitoring": "33 deaths within 24 months", "estimands": "Finds benefit"}


def test_every_dashboard_has_a_handout_check():
    assert set(DASHBOARD_EXPECTED) == {p.stem for p in (ROOT / "notebooks" / "dashboards").glob("*.py")}


@pytest.mark.parametrize("name", sorted(DASHBOARD_EXPECTED))
def test_dashboard_handouts_show_the_default_panel(name: str):
    """A dashboard's hand-out is not an empty box: the panel's default numbers and its chart."""
    nb = nbformat.read(ROOT / "notebooks" / "dashboards" / f"{name}.ipynb", as_version=4)
    html = nbt.export_html(nb, source=f"notebooks/dashboards/{name}.ipynb")
    assert "trialnb-widget-note" in html and "trialnb-snapshot" in html, name
    snap = html[html.index("trialnb-snapshot"):]
    assert DASHBOARD_EXPECTED[name] in re.sub(r"<[^>]+>", " ", snap), name
    assert [u for u in _loaded_urls(html) if not u.startswith("data:")] == [], name


def test_long_blockquote_is_split_inside_the_quote():
    para = "> The hazard ratio of surgery is estimated by the planned Cox model in this trial. " * 4  # 60 words
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("\n>\n".join([para] * 5))]  # 300 words, one quote
    out = nbt.split_long_markdown(copy.deepcopy(nb))
    assert len(out.cells) >= 2 and all(c.source.lstrip().startswith(">") for c in out.cells)
    assert max(nbt.cell_words(c) for c in out.cells) <= nbt.MAX_SLIDE_WORDS


# --- slides: the geometry rule (the browser check of every deck is in test_browser.py) --------

def _png(width: int, height: int) -> str:
    """A base64 PNG header of the given pixel size (all the geometry reads)."""
    import base64
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + chunk).decode("ascii")


def _figure_cell(width: int, height: int) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell("plt.show()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": _png(width, height), "text/plain": "<Figure>"})])


def _kinds(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["slideshow"]["slide_type"] for c in nb.cells]


def test_geometry_reads_figures_and_wraps_text():
    g = nbt.geometry
    assert g.png_size(_png(729, 425)) == (729, 425)
    assert g.image_height(800, 1000, avail=2000) == g.FIGURE_MAX_HEIGHT  # capped by the stylesheet
    assert g.image_height(2000, 500, avail=1000) == 250                   # capped by the width
    assert g.text_lines("word " * 10, width=1000, size=20) == 1
    per_line = int(1000 / (20 * g._PROPORTIONAL_EM))                     # characters
    assert g.text_lines("word " * 200, width=1000, size=20) == math.ceil(200 / (1 + (per_line - 4) // 5))
    short, long_ = g.pre_height("x\n" * 3), g.pre_height("x\n" * 30)
    assert math.isclose(long_ - short, 27 * g._PRE[1])                    # printed lines add up
    assert g.pre_height("y" * 400) > g.pre_height("y" * 40)               # a long line wraps


def test_a_figure_that_does_not_fit_under_its_text_moves_with_its_lead_in():
    para = "Prose that explains the design, long enough to take several lines on a slide. " * 6
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Heading\n" + para),
                nbformat.v4.new_markdown_cell("The figure below shows the survival curves."),
                _figure_cell(800, 560)]
    out = nbt.apply_slide_rule(copy.deepcopy(nb))
    assert _kinds(out) == ["slide", "subslide", "-"]  # the sentence that introduces the figure goes with it
    heights = [nbt.cell_height(c) for c in out.cells]
    assert heights[0] <= nbt.geometry.HEIGHT_BUDGET and sum(heights[1:]) <= nbt.geometry.HEIGHT_BUDGET


def test_a_figure_shrinks_a_little_rather_than_leave_its_slide():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Heading\nOne sentence. " * 3), _figure_cell(800, 640)]
    out = nbt.apply_slide_rule(copy.deepcopy(nb))
    assert _kinds(out) == ["slide", "-"]
    fit = out.cells[1].metadata["trialnb_slide"]["figure_height"]
    assert 0.8 * nbt.geometry.FIGURE_MAX_HEIGHT <= fit < nbt.geometry.FIGURE_MAX_HEIGHT
    assert sum(nbt.cell_height(c) for c in out.cells) <= nbt.geometry.HEIGHT_BUDGET
    assert f"max-height: {fit}px" in nbt.slide_fit_css(out)


def test_long_printed_output_is_scaled_or_left_to_the_handout():
    def printed(lines: int) -> nbformat.NotebookNode:
        text = "".join(f"row {i:3d}   value {i / 7:.4f}\n" for i in range(lines))
        return nbformat.v4.new_code_cell("print(t)",
                                         outputs=[nbformat.v4.new_output("stream", name="stdout", text=text)])

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Short"), printed(5), printed(31), printed(200)]
    out = nbt.apply_slide_rule(copy.deepcopy(nb))
    assert "trialnb_slide" not in out.cells[1].metadata                    # fits as it is
    scale = out.cells[2].metadata["trialnb_slide"]["font_scale"]
    assert nbt.geometry.MIN_FONT_SCALE <= scale < 1                        # drawn smaller, alone on its slide
    assert out.cells[2].metadata["slideshow"]["slide_type"] == "subslide"
    assert f"zoom: {scale}" in nbt.slide_fit_css(out)
    note, skipped = out.cells[3], out.cells[4]
    assert skipped.metadata["slideshow"]["slide_type"] == "skip"
    assert "printed output of 200 lines" in note.source and "make handouts" in note.source


def test_a_table_wider_than_the_slide_is_drawn_smaller_or_left_to_the_handout():
    def table(ncol: int) -> nbformat.NotebookNode:
        cols = "".join(f"<th>a_long_column_name_{i}</th>" for i in range(ncol))
        row = "".join(f"<td>{i}.25</td>" for i in range(ncol))
        return nbformat.v4.new_code_cell("df", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/html": f"<table><tr>{cols}</tr><tr>{row}</tr></table>", "text/plain": "df"},
            execution_count=1)])

    assert nbt.fit_alone(table(4)) == {}
    fit = nbt.fit_alone(table(7))
    assert fit is not None and nbt.geometry.MIN_FONT_SCALE <= fit["font_scale"] < 1
    assert nbt.fit_alone(table(14)) is None  # unreadable even at the smallest font: the hand-out has it


def test_markdown_taller_than_a_slide_is_split_by_height_not_only_words():
    items = "\n".join(f"- item {i}" for i in range(40))  # few words, many lines
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## A long list\n" + items)]
    assert nbt.cell_words(nb.cells[0]) < nbt.MAX_SLIDE_WORDS
    out = nbt.apply_slide_rule(copy.deepcopy(nb))
    assert len(out.cells) >= 2 and all(nbt.cell_height(c) <= nbt.geometry.HEIGHT_BUDGET for c in out.cells)
    assert "\n".join(c.source for c in out.cells) == nb.cells[0].source  # list items rejoined as a list
