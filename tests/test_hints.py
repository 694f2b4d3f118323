"""Every hint can be followed: the code a hint shows runs in its notebook.

A trainee stuck on exercise NN.k asks for ``hint=2`` and types what it says into the notebook.
So every hint writes its code between backticks, and every backtick span runs, as it is, in the
namespace the notebook has built by the time its exercises come (all code cells executed in
order, in ``notebooks/``, as a kernel would). Prose must not name code outside backticks (a
call ``f(``, a dotted name ``a.b`` or a snake_case name): a name the notebook does not define
under that name is exactly the defect this test exists for (05.3's ``conditional_power(design,
...)`` with no ``design``). Running the eight notebooks takes a few minutes: marked slow.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import re
import warnings
from pathlib import Path

import jupytext
import pytest

import trialnb.exercises as exercises_pkg
from trialnb.exercises import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CODE = re.compile(r"`([^`]+)`")
QUOTED = re.compile(r"(?<!\w)'[^'\n]*?'(?!\w)")  # 'os_months', 'trial_realistic.csv': data, not code
CODE_LIKE = re.compile(r"(?<![\w.])(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|[A-Za-z_]\w+\.[A-Za-z_]\w*|[A-Za-z_]\w*\()")

for _m in pkgutil.iter_modules(exercises_pkg.__path__):  # every checker registers its exercise on import
    importlib.import_module(f"{exercises_pkg.__name__}.{_m.name}")


def _notebook(key: str) -> Path:
    found = sorted(NOTEBOOKS.glob(f"{key[:2]}_*.py"))
    assert len(found) == 1, f"exercise {key}: no single notebook {key[:2]}_*.py ({found})"
    return found[0]


def _hints_by_notebook() -> dict[str, list[tuple[str, int, str]]]:
    out: dict[str, list[tuple[str, int, str]]] = {}
    for key in sorted(EXERCISES):
        for level, text in enumerate(EXERCISES[key].hints, start=1):
            out.setdefault(_notebook(key).stem, []).append((key, level, text))
    return out


HINTS = _hints_by_notebook()


def run_notebook(py: Path) -> dict:
    """Execute the notebook's code cells in order in one namespace, in its folder, with figures
    drawn off screen and printed output discarded; the namespace its exercises see."""
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython.display import display

    matplotlib.use("Agg")
    ns: dict = {"__name__": "__main__", "display": display}
    nb = jupytext.read(py, fmt="py:percent")
    old = os.getcwd()
    os.chdir(py.parent)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    exec(compile(cell.source, f"<{py.stem} cell {i}>", "exec"), ns)  # noqa: S102 - our notebook
    finally:
        os.chdir(old)
        plt.close("all")
    return ns


def test_hints_name_code_only_between_backticks():
    bad = []
    for key, ex in sorted(EXERCISES.items()):
        for level, text in enumerate(ex.hints, start=1):
            prose = QUOTED.sub(" ", CODE.sub(" ", text))
            found = CODE_LIKE.findall(prose)
            if found:
                bad.append(f"{key} hint {level}: {found} outside backticks")
    assert bad == [], "\n".join(bad)


def test_the_check_finds_code_outside_backticks():
    """The rule above is not vacuous: the defects it was written for are caught."""
    for text in ("Call monitoring.conditional_power(design, [33])", "use survival_at(df, 24)",
                 "(hazard_ratio_from_survival)", "sample_size.power computes it"):
        assert CODE_LIKE.findall(QUOTED.sub(" ", CODE.sub(" ", text))), text
    for text in ("Call `monitoring.design(2)` and read it", "arm 'B' and 'os_months'", "O'Brien-Fleming, e.g. 1.96"):
        assert not CODE_LIKE.findall(QUOTED.sub(" ", CODE.sub(" ", text))), text


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HINTS))
def test_every_hint_runs_in_its_notebook(name: str):
    ns = run_notebook(NOTEBOOKS / f"{name}.py")
    failures = []
    ran = 0
    for key, level, text in HINTS[name]:
        for code in CODE.findall(text):
            scope = dict(ns)  # a hint may assign names; the next one starts from the notebook's state
            try:
                with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compile(code, f"<hint {key}.{level}>", "exec"), scope)  # noqa: S102 - our hint
                ran += 1
            except Exception as exc:  # noqa: BLE001 - report every hint that fails
                failures.append(f"{key} hint {level}: `{code}` -> {type(exc).__name__}: {exc}")
    assert failures == [], f"{name}: hints that fail when followed:\n" + "\n".join(failures)
    assert ran > 0 or not any(CODE.search(t) for _, _, t in HINTS[name])
