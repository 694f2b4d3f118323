"""The trial generator of ``trialnb.simulation`` (``simulate_trials``, ``cut``,
``primary_death_dates``, ``TrialData``) on the plan's design (``trialnb.plan.DesignAssumptions``).

Checked against closed forms (the calibrated control survival, the piecewise-exponential
survival of an early-harm-then-benefit effect, the expected primary-endpoint deaths of
``trialnb.sample_size.expected_events`` and the true curves of ``trialnb.simulation.truth``)
within Monte-Carlo error; the allocation re-derived patient by patient (minimization, blocks, a
coin); the cut held to its definition by properties (hypothesis); the compiled and numpy
minimization give the same trials bit for bit; bad designs are refused with a named error.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb.errors import ScenarioError
from trialnb.plan import PLAN, DesignAssumptions
from trialnb.sample_size import expected_events
from trialnb.simulation import (COVARIATE_COLUMNS, TrialData, covariate_names, cut, design_curves,
                                primary_death_dates, simulate_trials)
from trialnb.survival import fit_cox, logrank, survival_at

DESIGN = PLAN.design
HOMOGENEOUS = {"hr_soft_tissue": 1.0, "hr_visceral": 1.0, "hr_hr_negative": 1.0, "hr_her2_positive": 1.0}
FIELDS = ("entry", "t_death", "t_loss", "arm", "site", "hr_negative", "her2_positive")


def _trials(design: DesignAssumptions = DESIGN, n_trials: int = 200, seed: int = 1, **kw) -> TrialData:
    return simulate_trials(design, n_trials, np.random.default_rng(seed), **kw)


# ---------------------------------------------------------------------------- the design
def test_the_plan_design_is_the_protocol_in_a_realistic_population() -> None:
    d = DESIGN
    assert d == DesignAssumptions()
    assert (d.n_patients, d.accrual_months, d.horizon_months, d.hazard_ratio) == (236, 36.0, 24.0, 0.5)
    assert d.control_survival == pytest.approx(math.exp(-0.5), rel=1e-15)
    assert d.dropout_probability == 0.10 and d.allocation == "minimization"
    assert not d.homogeneous and replace(d, **HOMOGENEOUS).homogeneous
    assert d.proportional and not d.is_null and replace(d, hazard_ratio=1.0).is_null
    # an early period changes the null only when it has a length
    assert replace(d, hazard_ratio=1.0, early_hazard_ratio=2.0).is_null
    assert not replace(d, hazard_ratio=1.0, early_hazard_ratio=2.0, early_months=3.0).is_null


@pytest.mark.parametrize("kwargs,word", [
    ({"hazard_ratio": 0.0}, "hazard_ratio"),
    ({"hazard_ratio": True}, "hazard_ratio"),
    ({"control_survival": 1.0}, "control_survival"),
    ({"non_compliance": 1.5}, "non_compliance"),
    ({"allocation": "coin"}, "allocation"),
    ({"block_size": 3}, "block_size"),
    ({"n_patients": 2}, "n_patients"),
    ({"n_patients": 236.0}, "n_patients"),
    ({"p_soft_tissue": 0.6, "p_visceral": 0.6}, "p_soft_tissue"),
    ({"minimization_p": 0.3}, "minimization_p"),
    ({"effect_delay_months": -1.0}, "effect_delay_months"),
    ({"early_hazard_ratio": 0.0}, "early_hazard_ratio"),
    ({"early_months": -1.0}, "early_months"),
    ({"dropout_probability": 1.0}, "dropout_probability"),
    ({"hr_visceral": -1.6}, "hr_visceral"),
    ({"accrual_months": float("nan")}, "accrual_months"),
])
def test_bad_design_is_refused_with_its_name(kwargs: dict, word: str) -> None:
    with pytest.raises(ScenarioError, match=word):
        DesignAssumptions(**kwargs)


def test_bad_generator_arguments_are_named() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ScenarioError, match="design"):
        simulate_trials(PLAN, 10, rng)  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="n_trials"):
        simulate_trials(DESIGN, 0, rng)
    with pytest.raises(ScenarioError, match="rng"):
        simulate_trials(DESIGN, 10, 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="engine"):
        simulate_trials(DESIGN, 10, rng, engine="gpu")


# ---------------------------------------------------------------------------- the arrays
def test_shapes_and_ranges() -> None:
    d = _trials(n_trials=50)
    for f in FIELDS:
        assert getattr(d, f).shape == (50, 236), f
    assert (d.n_trials, d.n_patients) == (50, 236)
    assert np.all(np.diff(d.entry, axis=1) >= 0) and d.entry.min() >= 0 and d.entry.max() <= 36
    assert set(np.unique(d.arm)) == {0, 1} and set(np.unique(d.site)) == {0, 1, 2}
    assert np.all(d.t_death > 0) and np.all(d.t_loss > 0) and np.isfinite(d.t_loss).all()
    assert np.isinf(_trials(replace(DESIGN, dropout_probability=0.0), n_trials=3).t_loss).all()
    sub = d.take(np.array([3, 1]))
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(sub, f), getattr(d, f)[[3, 1]])


def test_factor_frequencies_are_the_designs() -> None:
    d = _trials(n_trials=400)
    n = d.entry.size
    for got, p in (((d.site == 1).mean(), DESIGN.p_soft_tissue), ((d.site == 2).mean(), DESIGN.p_visceral),
                   ((d.hr_negative == 1).mean(), 1 - DESIGN.p_hr_positive),
                   ((d.her2_positive == 1).mean(), DESIGN.p_her2_positive)):
        assert abs(got - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_same_seed_same_trials_and_engines_give_the_same_trials() -> None:
    a, b = _trials(seed=5, engine="numpy"), _trials(seed=5, engine="numba")
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    c = _trials(seed=6)
    assert not np.array_equal(a.t_death, c.t_death)


def test_common_random_numbers_across_effects() -> None:
    """The draws do not depend on the effect: patients, arms, entry and loss are the same, arm B's
    deaths are the same and arm A's death times scale by 1/HR (T = E / (lambda HR))."""
    a = _trials(replace(DESIGN, hazard_ratio=1.0), seed=3)
    b = _trials(replace(DESIGN, hazard_ratio=0.5), seed=3)
    for f in ("entry", "t_loss", "arm", "site", "hr_negative", "her2_positive"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    B = a.arm == 0
    np.testing.assert_array_equal(a.t_death[B], b.t_death[B])
    np.testing.assert_allclose(b.t_death[~B], 2 * a.t_death[~B], rtol=1e-14)


# ---------------------------------------------------------------------------- survival model
def test_control_survival_is_calibrated_over_the_factor_strata() -> None:
    ps, lp = DESIGN.strata_model()
    assert ps.shape == (12,) and ps.sum() == pytest.approx(1.0, abs=1e-14)
    s24 = np.sum(ps * np.exp(-DESIGN.baseline_hazard * np.exp(lp) * 24.0))
    assert s24 == pytest.approx(DESIGN.control_survival, abs=1e-12)
    hom = replace(DESIGN, **HOMOGENEOUS)
    assert hom.baseline_hazard == pytest.approx(0.5 / 24, rel=1e-14) == DESIGN.control_hazard
    assert DESIGN.baseline_hazard < DESIGN.control_hazard  # the reference stratum has the best prognosis
    # simulated: the fraction of arm B dead by 24 months
    d = _trials(replace(DESIGN, hazard_ratio=1.0), n_trials=300)
    died = (d.t_death <= 24.0).mean()
    p = 1 - DESIGN.control_survival
    assert abs(died - p) < 4 * math.sqrt(p * (1 - p) / d.t_death.size)


def test_early_harm_then_benefit_is_the_piecewise_exponential() -> None:
    """Arm A (everyone operated at randomization, homogeneous population): HR 2.5 for 3 months, 1
    until month 6, 0.5 after: S_A(t) = exp(-lambda (2.5 min(t, 3) + (min(t, 6) - 3)+ + 0.5 (t - 6)+))
    within 4 Kaplan-Meier SEs; arm B exp(-lambda t)."""
    design = DesignAssumptions(n_patients=4000, dropout_probability=0.0, early_hazard_ratio=2.5, early_months=3.0,
                               effect_delay_months=6.0, allocation="complete", **HOMOGENEOUS)
    d = _trials(design, n_trials=1, seed=3)
    time, event = cut(d, np.inf, None)
    np.testing.assert_array_equal(time, d.t_death)
    a = d.arm[0] == 1
    lam = design.baseline_hazard
    for t in (2.0, 6.0, 20.0):
        H = lam * (2.5 * min(t, 3.0) + max(0.0, min(t, 6.0) - 3.0) + 0.5 * max(0.0, t - 6.0))
        s, se = survival_at(time[0][a], event[0][a], t)
        assert abs(s - math.exp(-H)) < 4 * se, t
        s0, se0 = survival_at(time[0][~a], event[0][~a], t)
        assert abs(s0 - math.exp(-lam * t)) < 4 * se0, t


@pytest.mark.parametrize("shape", [{}, {"non_compliance": 0.3}, {"crossover": 0.4, "crossover_months": 6.0},
                                   {"early_hazard_ratio": 2.0, "early_months": 6.0, "hazard_ratio": 0.6}])
def test_arm_survival_follows_the_true_curves(shape: dict) -> None:
    """With prognostic factors, non-operation, crossover or crossing hazards the Kaplan-Meier
    curve of each arm lies within 4 SEs of the true mixture curve (trialnb.simulation.design_curves)."""
    design = replace(DESIGN, n_patients=3000, dropout_probability=0.0, **shape)
    d = _trials(design, n_trials=1, seed=11)
    time, event = cut(d, np.inf, None)
    truth = design_curves(design, [3.0, 12.0, 24.0]).set_index("time")
    a = d.arm[0] == 1
    for t in (3.0, 12.0, 24.0):
        for arm, col in ((a, "survival_a"), (~a, "survival_b")):
            s, se = survival_at(time[0][arm], event[0][arm], t)
            assert abs(s - truth.loc[t, col]) < 4 * se, (shape, t, col)


def test_no_early_period_leaves_the_trials_unchanged() -> None:
    base = _trials(seed=1, n_trials=50)
    same = _trials(replace(DESIGN, early_hazard_ratio=3.0, early_months=0.0), seed=1, n_trials=50)
    np.testing.assert_array_equal(base.t_death, same.t_death)


def test_dropout_probability_is_the_loss_by_the_horizon() -> None:
    d = _trials(n_trials=300)
    p = DESIGN.dropout_probability
    assert abs((d.t_loss <= DESIGN.horizon_months).mean() - p) < 4 * math.sqrt(p * (1 - p) / d.t_loss.size)
    assert DESIGN.dropout_rate == pytest.approx(-math.log(0.9) / 24, rel=1e-14)


@pytest.mark.parametrize("change", [{}, {"non_compliance": 0.25}, HOMOGENEOUS, {"dropout_probability": 0.3}])
def test_primary_deaths_match_the_closed_form(change: dict) -> None:
    """Every patient followed 24 months (the calendar final analysis): mean primary-endpoint deaths
    per arm within 4 MC SEs of trialnb.sample_size.expected_events (closed form over the strata)."""
    design = replace(DESIGN, **change)
    d = _trials(design, n_trials=1500, seed=7)
    time, event = cut(d, d.entry[:, -1] + 24.0, 24.0)
    assert time.max() <= 24.0 and time.min() > 0
    ea, eb = expected_events(design, 24.0)
    for got, exp in (((event * d.arm).sum(axis=1), ea), ((event * (1 - d.arm)).sum(axis=1), eb)):
        assert abs(got.mean() - exp) < 4 * got.std() / math.sqrt(got.size), (change, got.mean(), exp)
    # a longer endpoint has more deaths, by the same closed form
    assert sum(expected_events(design, 36.0)) > ea + eb


# ---------------------------------------------------------------------------- allocation
@pytest.mark.parametrize("allocation", ["minimization", "blocks", "complete"])
def test_allocation_balance(allocation: str) -> None:
    d = _trials(replace(DESIGN, allocation=allocation), n_trials=400, seed=9)
    imbalance = np.abs(2 * d.arm.sum(axis=1) - 236)
    assert abs(d.arm.mean() - 0.5) < 0.01
    vis = d.site == 2
    imb_vis = np.abs((d.arm * vis).sum(1) - ((1 - d.arm) * vis).sum(1))
    if allocation == "blocks":
        assert imbalance.max() == 0  # 236 is a multiple of 4
        assert np.all(np.abs(np.cumsum(2 * d.arm.astype(int) - 1, axis=1)) <= 2)  # balanced every 4 patients
    elif allocation == "minimization":
        assert imbalance.max() <= 8
        assert imb_vis.mean() < 3  # factor-level balance much tighter than a coin
    else:
        assert imbalance.mean() > 5 and imb_vis.mean() > 5  # sd sqrt(236) ~ 15


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_minimization_follows_the_rule_patient_by_patient(engine: str) -> None:
    """With p = 1 the arm taken is the one that lowers sum_f |n_A - n_B| over the patient's levels
    (Pocock & Simon's range criterion); ties are the only random allocations."""
    d = _trials(replace(DESIGN, n_patients=80, minimization_p=1.0), n_trials=5, seed=4, engine=engine)
    ties = 0
    for r in range(5):
        diff = np.zeros(7, dtype=int)
        for i in range(80):
            cols = [d.site[r, i], 3 + d.hr_negative[r, i], 5 + d.her2_positive[r, i]]
            imb_a = sum(abs(diff[c] + 1) for c in cols)
            imb_b = sum(abs(diff[c] - 1) for c in cols)
            if imb_a != imb_b:
                assert d.arm[r, i] == (imb_a < imb_b), (r, i)
            else:
                ties += 1
            for c in cols:
                diff[c] += 1 if d.arm[r, i] else -1
    assert ties > 20


# ---------------------------------------------------------------------------- covariates and strata
def test_covariates_and_strata() -> None:
    d = _trials(n_trials=4)
    assert covariate_names(("dominant_site", "hormone_receptor", "her2")) == (
        "arm_A", "soft_tissue", "visceral", "hr_negative", "her2_positive")
    assert covariate_names(()) == ("arm_A",) and covariate_names(("her2",)) == ("arm_A", "her2_positive")
    assert sum(len(v) for v in COVARIATE_COLUMNS.values()) == 4
    X = d.covariates()
    assert X.shape == (4, 236, 5)
    np.testing.assert_array_equal(X[:, :, 0], d.arm)
    np.testing.assert_array_equal(X[:, :, 2], d.site == 2)
    np.testing.assert_array_equal(d.covariates(("her2",))[:, :, 1], d.her2_positive)
    s = d.strata()
    assert len(np.unique(s)) == 12
    assert len(np.unique(d.strata(("hormone_receptor",)))) == 2 and d.strata(()) is None
    # the stratum label is a function of the three factors, and each combination has one label
    key = d.site * 4 + d.hr_negative * 2 + d.her2_positive
    assert all(len(np.unique(key[s == v])) == 1 for v in np.unique(s))


# ---------------------------------------------------------------------------- the cut
SMALL = _trials(replace(DESIGN, n_patients=40), n_trials=12, seed=8)


@settings(max_examples=60, deadline=None)
@given(cutoff=st.floats(0.0, 90.0), censor=st.sampled_from([None, 6.0, 24.0, 36.0]))
def test_cut_is_what_was_known_at_the_cutoff(cutoff: float, censor: float | None) -> None:
    d = SMALL
    time, event = cut(d, cutoff, censor)
    h = np.inf if censor is None else censor
    randomized = d.entry <= cutoff
    assert np.all(time >= 0) and np.all(time <= h)
    assert np.all(time[~randomized] == 0) and np.all(event[~randomized] == 0)
    assert np.all(time[randomized] <= cutoff - d.entry[randomized] + 1e-12)
    # an event is a death before loss, by the cut-off and within the censoring horizon
    expect = (d.t_death <= d.t_loss) & (d.entry + d.t_death <= cutoff) & (d.t_death <= h)
    np.testing.assert_array_equal(event.astype(bool), expect)
    np.testing.assert_array_equal(time[expect], d.t_death[expect])
    # nothing known at the cut-off is forgotten later: events only accumulate, follow-up only grows
    t2, e2 = cut(d, cutoff + 5.0, censor)
    assert np.all(e2 >= event) and np.all(t2 >= time)


def test_cut_per_trial_cutoffs_and_all_follow_up() -> None:
    d = SMALL
    c = np.linspace(10, 60, d.n_trials)
    time, event = cut(d, c, 24.0)
    for r in range(d.n_trials):
        tr, er = cut(d.take(np.array([r])), float(c[r]), 24.0)
        np.testing.assert_array_equal(tr[0], time[r])
        np.testing.assert_array_equal(er[0], event[r])
    t_all, e_all = cut(d, np.inf, None)
    np.testing.assert_array_equal(t_all, np.minimum(d.t_death, d.t_loss))
    np.testing.assert_array_equal(e_all, d.t_death <= d.t_loss)


@pytest.mark.parametrize("censor", [None, 24.0])
def test_the_kth_primary_death_date_cuts_k_deaths(censor: float | None) -> None:
    d = SMALL
    dates = primary_death_dates(d, censor)
    h = np.inf if censor is None else censor
    ok = (d.t_death <= d.t_loss) & (d.t_death <= h)
    np.testing.assert_array_equal(np.isfinite(dates), ok)
    np.testing.assert_array_equal(dates[ok], (d.entry + d.t_death)[ok])
    srt = np.sort(dates, axis=1)
    for k in (1, 5, 10):
        _, event = cut(d, srt[:, k - 1], censor)  # a trial with fewer deaths: cut at inf, all of them
        np.testing.assert_array_equal(event.sum(axis=1), np.minimum(k, ok.sum(axis=1)))
    if censor is not None:  # both branches exercised: some trials have fewer than 10 primary deaths
        assert np.any(ok.sum(axis=1) < 10) and np.any(ok.sum(axis=1) >= 10)


def test_patients_randomized_after_the_cutoff_change_no_statistic() -> None:
    """Time 0 and no event for a patient not yet randomized leaves the log-rank test and the Cox
    model unchanged: the same numbers as on the randomized patients alone."""
    d = _trials(n_trials=3, seed=12)
    time, event = cut(d, 20.0, 24.0)
    X = d.covariates()
    for r in range(3):
        keep = d.entry[r] <= 20.0
        assert 0 < keep.sum() < d.n_patients
        whole, part = logrank(time[r], event[r], d.arm[r]), logrank(time[r][keep], event[r][keep], d.arm[r][keep])
        assert whole.z == pytest.approx(part.z, abs=1e-12)
        fw, fp = fit_cox(time[r], event[r], X[r]), fit_cox(time[r][keep], event[r][keep], X[r][keep])
        np.testing.assert_allclose(fw.coef, fp.coef, atol=1e-10)
        np.testing.assert_allclose(fw.se, fp.se, atol=1e-10)
