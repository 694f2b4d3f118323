"""One errors module: every exception of the package is declared once in ``trialnb.errors``, is
a ``ValueError`` with a docstring, and is raised by the package when its input is wrong (each
shown here by a call that raises it)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import trialnb
from trialnb import errors

CLASSES = sorted(n for n in errors.__all__ if inspect.isclass(getattr(errors, n)))


def _trigger(name: str, tmp_path: Path) -> None:
    """A call of the package that raises the named error."""
    import numpy as np

    from trialnb import (analysis, bias, evidence, files, monitoring, plan, protocol, report, reproduce, sample_size,
                         survival)
    from trialnb.data import load_trial
    from trialnb.exercises import _verdict
    from trialnb.randomization import AllocationLog, BigStick
    from trialnb.simulation import simulate

    calls = {
        "AllocationLogError": lambda: AllocationLog.open(tmp_path / "no-log.jsonl", key=b"k" * 32),
        "AnswerError": lambda: _verdict.parse_number("abc", "a number"),
        "BiasParameterError": lambda: bias.simulate_registry(0, 1),
        "DesignError": lambda: monitoring.design(0),
        "EvidenceError": lambda: evidence.meta_analysis([0.1], [-1.0]),
        "NoEstimateError": lambda: report.fmt_estimate(float("nan")),
        "OutputFolderError": lambda: files.check_output_folder(""),
        "OutsideDataError": lambda: survival.survival_at(np.array([1.0, 2.0]), np.array([0, 0]), 5.0),
        "PatientRecordError": lambda: protocol.check_patient_factors({}),
        "RandomizationError": lambda: BigStick(max_imbalance=0),
        "ResourceLimitError": lambda: simulate(plan.PLAN, 10**12),
        "SampleSizeError": lambda: sample_size.sample_size(hazard_ratio=-1.0),
        "ScenarioError": lambda: plan.PLAN.with_changes(hazard_ratio=-1.0),
        "SurvivalDataError": lambda: survival.logrank([1.0, 2.0], ["yes", "no"], [0, 1]),
        "SettingsError": lambda: reproduce.read_settings("not json", "sample_size"),
        "TrialAnalysisError": lambda: analysis.primary("not a data frame"),
        "TrialDataError": lambda: load_trial((tmp_path / "bad.csv").write_text("a,b\n1,2\n") and tmp_path / "bad.csv"),
    }
    calls[name]()


def test_every_exception_class_of_the_package_lives_in_errors() -> None:
    """Every exception class any module of the package defines is one of trialnb.errors' (warning
    categories, which are not errors, live with the code that warns)."""
    found = set()
    for m in pkgutil.walk_packages(trialnb.__path__, prefix="trialnb."):
        mod = importlib.import_module(m.name)
        for obj in vars(mod).values():
            if (inspect.isclass(obj) and issubclass(obj, Exception) and not issubclass(obj, Warning)
                    and obj.__module__.startswith("trialnb")):
                found.add((obj.__module__, obj.__name__))
    assert {mod for mod, _ in found} == {"trialnb.errors"}
    assert {name for _, name in found} == set(CLASSES)


@pytest.mark.parametrize("name", CLASSES)
def test_each_error_is_a_documented_value_error(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, ValueError) and cls.__module__ == "trialnb.errors"
    assert (cls.__doc__ or "").strip().startswith("Raised ")


@pytest.mark.parametrize("name", CLASSES)
def test_each_error_is_raised_by_the_package(name: str, tmp_path: Path) -> None:
    """An exception the package never raises should not exist: each is raised by a real call."""
    with pytest.raises(getattr(errors, name)):
        _trigger(name, tmp_path)


def test_trial_data_error_message_is_capped() -> None:
    e = errors.TrialDataError("f.csv", [f"p{i}" for i in range(errors.MESSAGE_LIMIT + 5)])
    assert "... and 5 more" in str(e) and len(e.problems) == errors.MESSAGE_LIMIT + 5
    from trialnb.data import MESSAGE_LIMIT

    assert MESSAGE_LIMIT == errors.MESSAGE_LIMIT


def test_every_analysis_of_one_trial_refuses_a_wrong_plan_by_name() -> None:
    """A wrong ``plan`` is bad input like any other: the one-trial layer names it
    (TrialAnalysisError, a ValueError), never a bare TypeError."""
    import pandas as pd

    from trialnb import analysis
    from trialnb.plan import PLAN

    df = pd.DataFrame({"arm": ["A", "B"], "os_months": [1.0, 2.0], "death": [1, 0]})
    for fn in (analysis.standardized_milestone, analysis.tipping_point, analysis.pool_strata, analysis.primary):
        with pytest.raises(errors.TrialAnalysisError, match="TrialPlan"):
            fn(df, plan=PLAN.analysis)
