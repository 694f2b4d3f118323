"""Checks that keep the notebook pairs honest (used by test_notebooks.py and its self-tests)."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat


def notebook_sources(root: Path) -> list[Path]:
    """Every paired notebook .py (jupytext percent) under notebooks/."""
    return sorted(p for p in (root / "notebooks").rglob("*.py")
                  if ".ipynb_checkpoints" not in p.parts and "# %%" in p.read_text(encoding="utf-8"))


def notebook_files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _cells(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def pairing_problems(ipynb: Path) -> list[str]:
    """Differences between an .ipynb and its .py twin (cell types and sources, in order)."""
    py = ipynb.with_suffix(".py")
    if not py.exists():
        return [f"{ipynb.name}: no paired {py.name}"]
    a = _cells(nbformat.read(ipynb, as_version=4))
    b = _cells(jupytext.read(py, fmt="py:percent"))
    problems = []
    if len(a) != len(b):
        problems.append(f"{ipynb.name}: {len(a)} cells in .ipynb vs {len(b)} in .py")
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            problems.append(f"{ipynb.name}: cell {i} differs ({x[0]} vs {y[0]}): "
                            f"{x[1][:60]!r} vs {y[1][:60]!r}")
            break
    return problems


def execution_problems(ipynb: Path) -> list[str]:
    """Unexecuted code cells, out-of-order execution, error outputs, stored widget state."""
    nb = nbformat.read(ipynb, as_version=4)
    problems = []
    if nb.metadata.get("widgets"):
        problems.append(f"{ipynb.name}: stores widget state (metadata.widgets)")
    expected = 1
    for i, c in enumerate(nb.cells):
        if c.cell_type != "code" or not c.source.strip():
            continue
        tags = c.metadata.get("tags", [])
        if c.execution_count is None:
            problems.append(f"{ipynb.name}: code cell {i} not executed")
        elif c.execution_count != expected:
            problems.append(f"{ipynb.name}: code cell {i} has execution count {c.execution_count}, "
                            f"expected {expected} (not run top to bottom in one kernel)")
        expected += 1
        for o in c.get("outputs", []):
            if o.get("output_type") == "error" and "raises-exception" not in tags:
                problems.append(f"{ipynb.name}: code cell {i} stores an error output ({o.get('ename')})")
    return problems
