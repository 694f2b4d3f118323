"""One errors module: every exception of the package is declared once in ``trialnb.errors``, is
a ``ValueError`` with a docstring, is raised somewhere in the package, and is re-exported (the
same class object) by the module that used to declare it, so old imports and ``except``
clauses keep working."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import trialnb
from trialnb import errors

PACKAGE = Path(trialnb.__file__).parent
CLASSES = sorted(n for n in errors.__all__ if inspect.isclass(getattr(errors, n)))

# where each exception was declared before trialnb.errors existed (the public import path)
OLD_HOMES = {
    "SampleSizeError": ["trialnb.sample_size"],
    "ScenarioError": ["trialnb.fastsim"],
    "BiasParameterError": ["trialnb.bias"],
    "DesignError": ["trialnb.monitoring.design", "trialnb.monitoring"],
    "NoEstimateError": ["trialnb.report"],
    "PatientRecordError": ["trialnb.protocol"],
    "AllocationLogError": ["trialnb.randomization.log", "trialnb.randomization"],
    "TrialDataError": ["trialnb.data"],
    "OutputFolderError": ["trialnb.files"],
    "AnswerError": ["trialnb.exercises._verdict", "trialnb.exercises"],
}


def _package_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py")) if p.name != "errors.py")


def test_every_exception_class_of_the_package_lives_in_errors() -> None:
    declared = set()
    for p in PACKAGE.rglob("*.py"):
        declared |= set(re.findall(r"^class (\w+)\((?:\w+Error|ValueError|Exception)\)", p.read_text(), re.M))
    assert declared == set(CLASSES)
    assert set(OLD_HOMES) == set(CLASSES)


@pytest.mark.parametrize("name", CLASSES)
def test_each_error_is_a_documented_value_error(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, ValueError) and cls.__module__ == "trialnb.errors"
    assert (cls.__doc__ or "").strip().startswith("Raised ")


@pytest.mark.parametrize("name", CLASSES)
def test_each_error_is_raised_somewhere(name: str) -> None:
    """Raised directly (``raise X(...)``, ``X(...)`` built by a helper) or handed to a checker of
    trialnb.validation as ``error=X``; an exception never raised should not exist."""
    src = _package_source()
    pattern = rf"(raise {name}\b|\b{name}\(|error={name}\b|_ERR = {name}\b)"
    assert re.search(pattern, src), f"{name} is never raised in trialnb/"


@pytest.mark.parametrize("name, module", [(n, m) for n, ms in OLD_HOMES.items() for m in ms])
def test_old_import_paths_give_the_same_class(name: str, module: str) -> None:
    mod = importlib.import_module(module)
    assert getattr(mod, name) is getattr(errors, name)
    assert name in getattr(mod, "__all__", [name]) or module.rsplit(".", 1)[-1].startswith("_")
    cls = getattr(errors, name)
    with pytest.raises(getattr(mod, name)):  # an old except clause still matches
        raise (cls("f.csv", []) if cls is errors.TrialDataError else cls("x"))


def test_trial_data_error_message_is_capped() -> None:
    e = errors.TrialDataError("f.csv", [f"p{i}" for i in range(errors.MESSAGE_LIMIT + 5)])
    assert "... and 5 more" in str(e) and len(e.problems) == errors.MESSAGE_LIMIT + 5
    from trialnb.data import MESSAGE_LIMIT

    assert MESSAGE_LIMIT == errors.MESSAGE_LIMIT
