"""Every field of the trial plan, changed to any value: a named error at once, or a plan that every
consumer takes -- each returns a result or refuses with a named error, never a traceback later
(issue 24, part 2). Property-based over the fields and a wide space of values (hypothesis)."""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import trialnb.errors as E
from trialnb import monitoring
from trialnb.analysis import primary
from trialnb.data import load_trial
from trialnb.interim import interim_report, report_json, text_report
from trialnb.plan import PLAN, AnalysisPlan, DesignAssumptions, MonitoringPlan, TrialPlan
from trialnb.sample_size import sample_size
from trialnb.simulation import simulate, simulate_sequential

NAMED = tuple(c for c in vars(E).values() if isinstance(c, type) and issubclass(c, Exception)
              and c.__module__ == "trialnb.errors")
FIELDS = sorted({f.name for cls in (DesignAssumptions, AnalysisPlan, MonitoringPlan) for f in dataclasses.fields(cls)}
                - {"items"})

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=10),
    st.floats(min_value=0, max_value=1),
    st.integers(min_value=-10, max_value=10**6),
    st.sampled_from([0, 1, 2, -1, 10**30, 5e-324, 1e-320, 1e300, 0.5, 0.999999, 1 - 1e-16, 4, 3]),
    st.builds(np.float64, st.floats(min_value=0.001, max_value=100)),
    st.builds(np.int64, st.integers(min_value=0, max_value=5000)),
)
VALUES = st.one_of(
    NUMBERS,
    st.booleans(), st.none(), st.text(max_size=5),
    st.sampled_from(["asOF", "asP", "asKD", "asHSD", "bogus", "logrank", "stratified_logrank", "cox_wald", "efron",
                     "breslow", "events", "calendar", "blocks", "complete", "minimization"]),
    st.tuples(NUMBERS), st.tuples(NUMBERS, NUMBERS), st.tuples(NUMBERS, NUMBERS, NUMBERS),
    st.sampled_from([(), ("her2",), ("dominant_site", "her2"), ["her2"], ("her2", "her2"), ("bogus",)]),
    st.lists(NUMBERS, max_size=3),
)


def _default(field: str):
    for part in (PLAN.design, PLAN.analysis, PLAN.monitoring):
        if hasattr(part, field):
            return getattr(part, field)
    raise KeyError(field)


def _near_default(field: str):
    """Values near and far from the field's default, in its own type: most become valid plans, so
    the consumers meet extreme but accepted plans, not only refusals."""
    d = _default(field)
    if isinstance(d, bool) or not isinstance(d, (int, float)) or d == 0:
        return VALUES
    scaled = st.sampled_from([1e-3, 0.01, 0.1, 0.5, 0.9, 1.1, 2.0, 10.0, 100.0, 1e3]).map(
        lambda k: type(d)(d * k) if isinstance(d, float) else max(1, int(d * k)))
    return st.one_of(scaled, st.floats(min_value=abs(d) / 100, max_value=abs(d) * 100), VALUES)


FIELD_VALUES = st.sampled_from(FIELDS).flatmap(lambda f: st.tuples(st.just(f), _near_default(f)))


@pytest.fixture(scope="module")
def trial() -> pd.DataFrame:
    return load_trial(PLAN_DATA)


PLAN_DATA = "data/trial_protocol.csv"


def _consumers(p: TrialPlan, df: pd.DataFrame) -> None:
    """Run the plan through its consumers; each may refuse with a named error."""
    steps = (
        lambda: sample_size(plan=p).summary(),
        lambda: monitoring.plan_design(p),
        lambda: monitoring.plan_interim_events(p),
        lambda: simulate(p, 6, seed=1, max_seconds=60).summary(),
        lambda: simulate_sequential(p, 6, seed=1, max_seconds=60).summary(),
        lambda: primary(df, p).summary(),
        lambda: text_report(interim_report(df, 29.1, plan=p, predict=False)),
        lambda: report_json(interim_report(df, 40.0, plan=p, predict=False)),
        lambda: p.summary(),
        lambda: p.analysis.table(),
    )
    for step in steps:
        try:
            step()
        except NAMED:
            pass


@settings(max_examples=int(os.environ.get("PLAN_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(change=FIELD_VALUES)
def test_any_field_any_value_is_refused_by_name_or_works_everywhere(trial, change) -> None:
    field, value = change
    try:
        p = PLAN.with_changes(**{field: value})
    except NAMED:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _consumers(p, trial)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, True, None, "x", [1], 10**30, 1e300, 5e-324])
def test_every_field_refuses_what_it_cannot_be(trial, field, value) -> None:
    """The fixed hostile values, every field: named error at once, or a plan its consumers take."""
    try:
        p = PLAN.with_changes(**{field: value})
    except NAMED:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _consumers(p, trial)


def test_numbers_are_stored_as_plain_floats_and_ints() -> None:
    p = PLAN.with_changes(hazard_ratio=np.float64(0.7), n_patients=np.int64(300), accrual_months=30,
                          information_rates=(np.float64(0.5), 1))
    assert type(p.design.hazard_ratio) is float and type(p.design.n_patients) is int
    assert type(p.design.accrual_months) is float
    assert all(type(r) is float for r in p.monitoring.information_rates)
    assert p == PLAN.with_changes(hazard_ratio=0.7, n_patients=300, accrual_months=30.0)


@pytest.mark.parametrize("change,match", [
    ({"hazard_ratio": 1e300}, "hazard_ratio must lie in"),
    ({"hazard_ratio": 5e-324}, "hazard_ratio must lie in"),
    ({"hr_visceral": 10**30}, "hr_visceral must lie in"),
    ({"n_patients": 10**30}, "n_patients must be an integer in"),
    ({"accrual_months": 1e300}, "accrual_months must lie in"),
    ({"control_survival": 1 - 1e-16}, "control_survival must lie in"),
    ({"name": ["x"]}, "name must be a string"),
    ({"information_rates": (1e-9, 1.0)}, "first look"),
    ({"alpha": 0.9}, "alpha must lie in"),
])
def test_out_of_range_values_are_refused_with_the_range(change, match) -> None:
    with pytest.raises(E.ScenarioError, match=match):
        PLAN.with_changes(**change)


def test_a_plan_too_strong_for_its_looks_is_refused_by_name(trial) -> None:
    """HR 0.001 needs one death: two looks cannot each add one (was an IndexError in the DMC report)."""
    p = PLAN.with_changes(hazard_ratio=0.001)
    with pytest.raises(E.DesignError, match="do not each add a death"):
        monitoring.plan_interim_events(p)
    with pytest.raises(E.DesignError, match="do not each add a death"):
        interim_report(trial, 29.1, plan=p, predict=False)
    r = simulate(p, 5, seed=1)  # the fixed design alone runs: no death in arm A, so every Cox fit fails
    assert r.failed() == 5 and math.isnan(r.power) and "failed in every trial" in r.summary()
