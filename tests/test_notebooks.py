"""Every notebook is a faithful pair, fully executed, with no error and no widget state.

nbval itself (``--nbval``, run by ``make test``) re-executes each .ipynb and compares outputs;
these tests make sure there is something to compare and that it was made from the .py.
"""

from __future__ import annotations

import re

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nbchecks import execution_problems, notebook_files, notebook_sources, pairing_problems

ROOT = Path(__file__).resolve().parents[1]
IPYNBS = notebook_files(ROOT)
PYS = notebook_sources(ROOT)


def test_there_are_notebooks():
    assert len(IPYNBS) >= 1 and any(p.name.startswith("00_") for p in IPYNBS)


@pytest.mark.parametrize("py", PYS, ids=lambda p: p.name)
def test_every_py_has_its_ipynb(py: Path):
    assert py.with_suffix(".ipynb").exists(), f"{py} has no executed .ipynb twin: run make outputs"


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.name)
def test_pair_has_identical_cells(ipynb: Path):
    assert pairing_problems(ipynb) == []


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.name)
def test_fully_executed_without_errors(ipynb: Path):
    assert execution_problems(ipynb) == []


@pytest.mark.parametrize("ipynb", IPYNBS, ids=lambda p: p.name)
def test_code_cells_with_output_keep_it(ipynb: Path):
    """Most code cells print or draw something; a notebook whose outputs were stripped checks nothing."""
    nb = nbformat.read(ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    with_output = [c for c in code if c.outputs]
    assert len(with_output) >= 0.5 * len(code), f"{ipynb.name}: only {len(with_output)}/{len(code)} cells have outputs"


def test_notebooks_follow_the_anatomy():
    for ipynb in [p for p in IPYNBS if "dashboards" not in p.parts]:
        nb = nbformat.read(ipynb, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), ipynb.name
        for heading in ("## Overview", "## Prerequisites", "## Summary", "## Exercises", "## Glossary"):
            assert heading in text, f"{ipynb.name} lacks {heading}"


# --- the checks themselves must catch what they are for (mutation self-tests) ---------------

@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    src = ROOT / "notebooks" / "00_protocol"
    for ext in (".py", ".ipynb"):
        (tmp_path / ("nb" + ext)).write_bytes(src.with_suffix(ext).read_bytes())
    return tmp_path / "nb.ipynb"


def _edit(path: Path, fn) -> None:
    nb = nbformat.read(path, as_version=4)
    fn(nb)
    nbformat.write(nb, path)


def test_check_catches_edited_py(sample: Path):
    py = sample.with_suffix(".py")
    text = py.read_text()
    assert "use_style()" in text
    py.write_text(text.replace("use_style()", "use_style()  # edited", 1))
    assert pairing_problems(sample)


def test_check_catches_unexecuted_cell(sample: Path):
    def strip(nb):
        c = next(c for c in nb.cells if c.cell_type == "code")
        c.execution_count, c.outputs = None, []
    _edit(sample, strip)
    assert any("not executed" in p for p in execution_problems(sample))


def test_check_catches_error_output(sample: Path):
    def err(nb):
        c = next(c for c in nb.cells if c.cell_type == "code")
        c.outputs.append(nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[]))
    _edit(sample, err)
    assert any("error output" in p for p in execution_problems(sample))


def test_check_catches_widget_state(sample: Path):
    _edit(sample, lambda nb: nb.metadata.__setitem__("widgets", {"application/vnd.jupyter.widget-state+json": {}}))
    assert any("widget state" in p for p in execution_problems(sample))


@pytest.mark.slow
def test_nbval_fails_on_deleted_output(sample: Path):
    """Strict nbval must fail when a stored output no longer matches what the cell prints."""
    def delete(nb):
        c = next(c for c in nb.cells if c.cell_type == "code" and "strata" in c.source and c.outputs)
        c.outputs = []
    _edit(sample, delete)
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                        "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"), str(sample)],
                       cwd=sample.parent, capture_output=True, text=True)
    assert r.returncode != 0, r.stdout[-2000:]


@pytest.mark.parametrize("ipynb", [p for p in IPYNBS if "dashboards" not in p.parts], ids=lambda p: p.name)
def test_every_code_cell_is_introduced_by_a_sentence(ipynb: Path):
    nb = nbformat.read(ipynb, as_version=4)
    bare = [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (i == 0 or nb.cells[i - 1].cell_type != "markdown")]
    assert bare == [], f"{ipynb.name}: code cells {bare} have no markdown sentence before them"


@pytest.mark.parametrize("ipynb", [p for p in IPYNBS if "dashboards" not in p.parts], ids=lambda p: p.name)
def test_imports_cell_seeds_one_generator(ipynb: Path):
    """Every notebook sets the house style; one that draws random numbers (``rng``) seeds its
    generator from ``SEED``."""
    nb = nbformat.read(ipynb, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "use_style()" in code, ipynb.name
    if re.search(r"\brng\b", code):
        assert code.count("default_rng(SEED") >= 1, ipynb.name
