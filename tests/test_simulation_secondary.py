"""The plan's key secondary hypothesis in the sequential simulation (``simulate_sequential(...,
secondary=True)``): tested only at the look where the primary rejects, on the same cut, against
its own Lan-DeMets boundary (``trialnb.monitoring.plan_secondary_design``).

Held by behaviour: the secondary z of a trial is the milestone contrast of
``trialnb.analysis.milestone`` on that trial's data at the look's date (another code path of
the survival engine); no trial whose primary did not reject has a secondary test; the
family-wise error is at most alpha under the global null and under a configuration where the
primary hypothesis is false and the secondary true (a survival difference of exactly 0 at 24
months with hazards that differ), within Monte-Carlo error; the naive fixed-sequence test (1.96
at every look) rejects whenever the spending boundary does and more often; and the spending
design is rpact's for the same looks (the primary's O'Brien-Fleming values; Pocock's differ).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from trialnb import analysis as an
from trialnb.errors import ScenarioError
from trialnb.monitoring import design as gs_design
from trialnb.monitoring import plan_design, plan_secondary_design
from trialnb.plan import PLAN
from trialnb.simulation import (BENEFIT, CONTINUE, HARM, cut, equal_survival_shape, simulate_sequential,
                                simulate_trials, true_estimands)
from trialnb.simulation.fixed import chunk_seeds

N = 2000
ALPHA = PLAN.analysis.alpha


SEC_NULL = equal_survival_shape(0.05, 18.0)
"""Benefit for 18 months (HR 0.05), then harm, with the same cumulative hazard at 24 months in
every stratum: S_A(24) = S_B(24) exactly, hazards unequal."""


@pytest.mark.parametrize("early,months", [(0.05, 18.0), (0.3, 6.0), (3.0, 6.0), (2.0, 3.0)])
def test_the_configuration_makes_the_secondary_true_and_the_primary_false(early: float, months: float) -> None:
    shape = equal_survival_shape(early, months)
    assert shape["hazard_ratio"] == pytest.approx((24 - early * months) / (24 - months))
    te = true_estimands(replace(PLAN.design, **shape))
    assert abs(te["milestone_difference"]) < 1e-12
    assert abs(math.log(te["conditional_hazard_ratio"])) > 0.02  # the hazards differ: the primary null is false
    with pytest.raises(ScenarioError, match="positive late hazard ratio"):
        equal_survival_shape(5.0, 6.0)


@pytest.fixture(scope="module")
def sec_null_runs():
    kw = dict(seed=7, truth=SEC_NULL, secondary=True)
    return (simulate_sequential(PLAN, N, **kw),
            simulate_sequential(PLAN, N, **kw, secondary_critical_values=(1.959964, 1.959964)))


def test_the_secondary_is_tested_only_where_the_primary_rejects(sec_null_runs) -> None:
    r, _ = sec_null_runs
    rejected = np.isin(r.decision, (BENEFIT, HARM))
    tested = np.isfinite(r.secondary_bound).any(axis=1)
    assert np.array_equal(tested, rejected)
    assert np.all(r.secondary_decision[~rejected] == CONTINUE)
    rows = np.flatnonzero(rejected)
    assert np.all(np.isfinite(r.secondary_bound[rows, r.stage[rows] - 1]))  # at the stopping look, no other
    assert int(np.isfinite(r.secondary_bound).sum()) == rows.size
    assert rows.size > 200  # the primary rejects often in this configuration


def test_the_secondary_z_is_the_milestone_contrast_of_the_trial_at_its_look(sec_null_runs) -> None:
    r, _ = sec_null_runs
    (m, child), = chunk_seeds(N, 7)
    data = simulate_trials(replace(PLAN.design, **SEC_NULL), m, np.random.default_rng(child))
    rows = np.flatnonzero(np.isin(r.decision, (BENEFIT, HARM)))[:12]
    for i in rows:
        j = r.stage[i] - 1
        month = float(r.months[i, j])
        one = data.take(np.array([i]))
        t, e = cut(one, month, PLAN.analysis.censor_months)
        seen = one.entry[0] <= month
        res = an.milestone((t[0, seen], e[0, seen], one.arm[0, seen].astype(int)))
        assert r.secondary_z[i, j] == pytest.approx(-res.z, rel=1e-9, abs=1e-12)


def test_the_familywise_error_holds_where_the_secondary_is_true(sec_null_runs) -> None:
    r, naive = sec_null_runs
    fwer = r.familywise_error(primary_null=False, secondary_null=True)
    se = math.sqrt(ALPHA * (1 - ALPHA) / N)
    assert fwer <= ALPHA + 2.576 * se
    assert fwer == pytest.approx(r.secondary_rejection)
    # the naive boundary (lower at the interim) rejects whenever the spending one does
    assert np.all(naive.secondary_decision[r.secondary_decision != CONTINUE] != CONTINUE)
    assert naive.familywise_error(primary_null=False, secondary_null=True) > fwer


def test_the_familywise_error_holds_under_the_global_null() -> None:
    r = simulate_sequential(PLAN, N, seed=8, truth={"hazard_ratio": 1.0}, secondary=True, follow_guidelines=False)
    fwer = r.familywise_error(primary_null=True, secondary_null=True)
    assert fwer == pytest.approx(r.rejection)  # the secondary is tested only after the primary rejects
    assert fwer <= ALPHA + 2.576 * math.sqrt(ALPHA * (1 - ALPHA) / N)
    assert r.secondary_rejection <= r.rejection


def test_the_secondary_boundaries_are_a_spending_design_at_the_same_looks() -> None:
    assert np.allclose(plan_secondary_design(PLAN).critical_values, plan_design(PLAN).critical_values)
    pocock = PLAN.with_changes(secondary_spending="asP")
    ref = gs_design(2, alpha=ALPHA, sided=2, beta=0.2, type_of_design="asP", information_rates=[0.5, 1.0])
    assert np.allclose(plan_secondary_design(pocock).critical_values, ref.critical_values, rtol=1e-12)
    assert np.allclose(plan_design(pocock).critical_values, plan_design(PLAN).critical_values)  # primary unchanged
    r = simulate_sequential(pocock, 300, seed=7, truth=SEC_NULL, secondary=True)
    interim = r.secondary_bound[:, 0]
    assert np.allclose(interim[np.isfinite(interim)], ref.critical_values[0])


def test_bad_secondary_requests_are_refused() -> None:
    with pytest.raises(ScenarioError, match="secondary=True"):
        simulate_sequential(PLAN, 10, secondary_critical_values=(2.0, 2.0))
    with pytest.raises(ScenarioError, match="one per look"):
        simulate_sequential(PLAN, 10, secondary=True, secondary_critical_values=(2.0,))
    with pytest.raises(ScenarioError, match="names no key secondary"):
        simulate_sequential(PLAN.with_changes(secondary=None), 10, secondary=True)
    with pytest.raises(ScenarioError, match="secondary"):
        PLAN.with_changes(secondary="os")
    with pytest.raises(ScenarioError, match="secondary_spending"):
        PLAN.with_changes(secondary_spending=1)
    with pytest.raises(ScenarioError, match="was not tested"):
        _ = simulate_sequential(PLAN, 10).secondary_rejection
