"""The dashboards in notebooks/dashboards: their shape, and the widget lookup they rely on
(trialnb.widgets.lookup). Rendering in Voila is tested in test_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import ipywidgets as W
import jupytext
import pytest

from trialnb.widgets.lookup import by_class, by_description, table_rows, text_of, walk

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks" / "dashboards").glob("*.py"))


def test_the_four_dashboards_exist():
    assert {p.stem for p in SOURCES} >= {"sample_size", "randomization", "bias", "operating_characteristics"}


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_dashboard_shape(py: Path):
    """Title and explanation, one display cell (not compared by nbval), one checked state change."""
    nb = jupytext.read(py, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code", "markdown", "code"], kinds
    assert nb.cells[0].source.startswith("# ") and "Protocol section" in nb.cells[0].source
    show, check = nb.cells[1], nb.cells[3]
    assert "nbval-ignore-output" in show.metadata.get("tags", [])
    assert "build_dashboard(" in show.source and show.source.strip().endswith("dashboard")
    assert "nbval-ignore-output" not in check.metadata.get("tags", [])
    assert ".value = " in check.source or ".click()" in check.source
    assert "print(" in check.source


def _run(cells: list, cwd: Path) -> dict:
    """Execute notebook code cells in order in one namespace, in ``cwd``, as a kernel would
    (their printed output is discarded)."""
    import contextlib
    import io
    import os

    ns: dict = {"__name__": "__main__"}
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for i, cell in enumerate(cells):
                exec(compile(cell.source, f"<cell {i}>", "exec"), ns)  # noqa: S102 - our own notebook
    finally:
        os.chdir(old)
    return ns


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_dashboard_opens_at_its_defaults_after_the_notebook_ran(py: Path):
    """Voila (and a pre-heated kernel) runs the whole notebook before anyone sees the panel, so
    no later cell may change the panel it displays: after every cell has run, the displayed
    panel (every control's value, every number, table and chart) equals a panel freshly built
    by the display cell alone."""
    from trialnb.widgets.snapshot import snapshot_html

    nb = jupytext.read(py, fmt="py:percent")
    code = [c for c in nb.cells if c.cell_type == "code"]
    ran = _run(code, py.parent)
    fresh = _run(code[:1], py.parent)
    assert len(code) > 1 and isinstance(ran["dashboard"], W.Widget)
    # the wall-clock time an update took, and a new log's own identity (its head), are not the
    # panel's state
    timing = re.compile(r"<(div|span) class='trialnb-(?:timing|run-id)'[^>]*>[^<]*</\1>")
    after, before = (timing.sub("", snapshot_html(ns["dashboard"])) for ns in (ran, fresh))
    assert after == before, f"{py.stem}: a cell after the display changed the panel it shows"


@pytest.mark.parametrize("py", SOURCES, ids=lambda p: p.stem)
def test_every_dashboard_is_driven_in_the_browser(py: Path):
    import test_browser

    assert py.stem in {d.notebook for d in test_browser.DASHBOARDS}


@pytest.fixture()
def tree() -> W.Widget:
    n = W.HTML("<div><b>N = 214</b> patients</div><svg><text>ignored</text></svg>").add_class("trialnb-n-total")
    t = W.HTML("<table><tr><th>A</th><th>B &amp; C</th></tr><tr><td>1</td><td><i>2</i></td></tr></table>")
    hr = W.FloatSlider(value=0.5, description="Hazard ratio A vs B")
    return W.VBox([W.HBox([hr, W.Button(description="Allocate")]), W.VBox([n, t])])


def test_lookup_finds_by_class_and_label(tree):
    assert len(list(walk(tree))) == 7
    assert by_class(tree, "trialnb-n-total").value.startswith("<div>")
    assert by_description(tree, "Hazard ratio").value == 0.5
    assert isinstance(by_description(tree, "Allocate"), W.Button)


def test_lookup_text(tree):
    assert text_of(by_class(tree, "trialnb-n-total")) == "N = 214 patients"
    table = [w for w in walk(tree) if isinstance(w, W.HTML) and "<table" in w.value][0]
    assert table_rows(table) == ["A | B & C", "1 | 2"]


def test_lookup_errors_say_what_is_there(tree):
    with pytest.raises(ValueError, match="no widget with CSS class 'trialnb-nope'"):
        by_class(tree, "trialnb-nope")
    with pytest.raises(ValueError, match=r"labels are \['Hazard ratio A vs B', 'Allocate'\]"):
        by_description(tree, "Power")
    with pytest.raises(ValueError, match="root must be an ipywidgets Widget"):
        list(walk("not a widget"))
    with pytest.raises(ValueError, match="text value"):
        text_of(W.FloatSlider())
    with pytest.raises(ValueError, match="<table>"):
        table_rows(by_class(tree, "trialnb-n-total"))
