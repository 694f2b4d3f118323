"""Estimand analyses over simulated trials (trialnb.fastsim with trialnb.fastsim_analyses):
hazard shapes of the Scenario, several analyses of the same trials, null type-I errors,
required_patients."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from trialnb import fastsim as fs
from trialnb import survival as surv
from trialnb.fastsim import ANALYSES, Scenario, ScenarioError, simulate, simulate_data


def test_early_period_survival_is_the_piecewise_exponential() -> None:
    """Arm A (all operated, no loss): KM at 2, 6 and 20 months within 4 SE of
    exp(-lam (e min(t, 3) + max(0, min(t, 6) - 3) + 0.5 max(0, t - 6)))."""
    sc = Scenario(n_patients=4000, dropout_probability=0.0, early_hazard_ratio=2.5, early_months=3.0,
                  effect_delay_months=6.0, hazard_ratio=0.5, allocation="complete")
    d = simulate_data(sc, 1, np.random.default_rng(3))
    a = d.arm[0] == 1
    lam = sc.baseline_hazard
    for t in (2.0, 6.0, 20.0):
        H = lam * (2.5 * min(t, 3.0) + max(0.0, min(t, 6.0) - 3.0) + 0.5 * max(0.0, t - 6.0))
        s, se = surv.survival_at(d.time[0][a], d.event[0][a], t)
        assert abs(s - math.exp(-H)) < 4 * se
        s0, se0 = surv.survival_at(d.time[0][~a], d.event[0][~a], t)
        assert abs(s0 - math.exp(-lam * t)) < 4 * se0


def test_no_early_period_leaves_the_simulation_unchanged() -> None:
    base = simulate_data(Scenario(), 50, np.random.default_rng(1))
    same = simulate_data(Scenario(early_hazard_ratio=3.0, early_months=0.0), 50, np.random.default_rng(1))
    np.testing.assert_array_equal(base.time, same.time)
    assert Scenario(hazard_ratio=1.0, early_hazard_ratio=2.0).is_null
    assert not Scenario(hazard_ratio=1.0, early_hazard_ratio=2.0, early_months=3.0).is_null


@pytest.mark.parametrize("kw,msg", [({"early_hazard_ratio": 0.0}, "early_hazard_ratio"),
                                    ({"early_months": -1.0}, "early_months")])
def test_bad_early_period_raises(kw, msg) -> None:
    with pytest.raises(ScenarioError, match=msg):
        Scenario(**kw)


def test_several_analyses_use_the_same_trials() -> None:
    sc = Scenario(effect_delay_months=6.0)
    one = simulate(sc, 600, seed=4, analysis="cox")
    many = simulate(sc, 600, seed=4, analysis=["rmst", "cox", "logrank", "fh01"])
    lr = simulate(sc, 600, seed=4, analysis="logrank")
    np.testing.assert_array_equal(one.events, many.events)
    assert many.power_by_analysis["cox"] == one.power
    assert many.power_by_analysis["logrank"] == lr.power  # FH(0,0) of the shared sort = the engine's log-rank
    assert list(many.power_by_analysis) == ["rmst", "cox", "logrank", "fh01"]
    assert many.power == many.power_by_analysis["rmst"] and many.analysis == "rmst"
    tab = many.power_table()
    assert list(tab["analysis"]) == ["rmst", "cox", "logrank", "fh01"]
    assert np.allclose(tab["mc_se"], np.sqrt(tab["power"] * (1 - tab["power"]) / 600))
    # a delayed effect: the late-weighted FH(0,1) is more powerful than the log-rank test
    assert many.power_by_analysis["fh01"] > many.power_by_analysis["logrank"]


def test_milestone_and_rmst_z_match_the_one_trial_analyses() -> None:
    from trialnb import analysis as an
    from trialnb.fastsim_analyses import analyse_trials

    d = simulate_data(Scenario(), 3, np.random.default_rng(6))
    res = analyse_trials(d.time, d.event, d.arm, ["rmst", "milestone", "maxcombo"], 0.05, 24.0)
    for i in range(3):
        data = (d.time[i], d.event[i], d.arm[i])
        assert res["rmst"][0][i] == pytest.approx(-an.rmst_difference(data).z, rel=1e-10)
        assert res["milestone"][0][i] == pytest.approx(-an.milestone(data).z, rel=1e-10)
        mc = an.maxcombo(data)
        assert abs(res["maxcombo"][0][i]) == pytest.approx(mc.statistic, rel=1e-10)
        if abs(mc.p_value - 0.05) > 0.005:
            assert res["maxcombo"][1][i] == (mc.p_value < 0.05)


def test_every_analysis_keeps_its_type_one_error_under_the_null() -> None:
    """4,000 null trials of the protocol design: each analysis rejects within 3 MC SE of 5%."""
    r = simulate(Scenario(hazard_ratio=1.0), 4000, seed=14, analysis=list(ANALYSES))
    se = math.sqrt(0.05 * 0.95 / 4000)
    for name, p in r.power_by_analysis.items():
        assert abs(p - 0.05) < 3 * se, (name, p)


@pytest.mark.parametrize("bad", ["wilcoxon", ["cox", "cox"], [], 3])
def test_bad_analysis_names(bad) -> None:
    with pytest.raises(ValueError, match="analysis must be"):
        simulate(Scenario(), 10, analysis=bad)


def test_required_patients_brackets_the_target() -> None:
    sc = Scenario(hazard_ratio=0.5)
    res = fs.required_patients(sc, power=0.8, analysis="logrank", n_trials=400, seed=3)
    ev = res.evaluations.set_index("n_patients")["power"]
    assert ev.loc[res.n_patients] == res.power
    assert abs(res.power - 0.8) < 3 * res.power_se + 0.02
    assert res.n_lower < res.n_patients < res.n_upper + 2 and res.n_upper - res.n_lower < 80
    assert (ev[ev.index < res.n_lower - 40] < 0.8).all() and (ev[ev.index > res.n_upper + 40] > 0.8).all()
    assert 100 < res.n_patients < 400  # Schoenfeld: ~ 236 patients for 80% at HR 0.5 (the protocol)
    assert "patients for" in res.summary()
    with pytest.raises(ValueError, match="no treatment effect"):
        fs.required_patients(replace(sc, hazard_ratio=1.0))
    with pytest.raises(ValueError, match="power"):
        fs.required_patients(sc, power=1.5)


def test_true_curves_and_estimands() -> None:
    from trialnb.fastsim_analyses import SHAPES, scenario_curves, true_estimands

    te = true_estimands(Scenario())
    assert te["survival_b"] == pytest.approx(0.60, rel=1e-9)
    assert te["survival_a"] == pytest.approx(0.60**0.5, rel=1e-9)
    lam = -math.log(0.6) / 24
    exact = (1 - math.exp(-lam * 0.5 * 24)) / (lam * 0.5) - (1 - math.exp(-lam * 24)) / lam
    assert te["rmst_difference"] == pytest.approx(exact, rel=1e-6)
    # 30% of arm A not operated: a mixture of the two survival curves
    mix = true_estimands(Scenario(non_compliance=0.3))
    assert mix["survival_a"] == pytest.approx(0.7 * 0.6**0.5 + 0.3 * 0.6, rel=1e-9)
    c = scenario_curves(Scenario(**SHAPES["crossing"]), [1.0, 5.0, 7.0, 24.0])
    assert list(c["hr_operated"]) == [2.0, 2.0, 0.6, 0.6]
    assert c["survival_a"].iloc[0] < c["survival_b"].iloc[0] and c["survival_a"].iloc[-1] > c["survival_b"].iloc[-1]
    # the crossing shape: the 2-year difference favours A, the RMST difference favours B
    te = true_estimands(Scenario(**SHAPES["crossing"]))
    assert te["milestone_difference"] > 0 > te["rmst_difference"]


def test_compiled_and_numpy_analyses_agree() -> None:
    from trialnb.fastsim_analyses import _nbk, analyse_trials

    if _nbk is None:
        pytest.skip("numba not installed: only the numpy path exists")
    d = simulate_data(Scenario(effect_delay_months=6.0), 300, np.random.default_rng(2))
    t = np.ceil(d.time * 2) / 2  # ties
    names = list(ANALYSES[1:])
    a = analyse_trials(t, d.event, d.arm, names, 0.05, 24.0, engine="numba")
    b = analyse_trials(t, d.event, d.arm, names, 0.05, 24.0, engine="numpy")
    for k in names:
        np.testing.assert_allclose(a[k][0], b[k][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(a[k][1], b[k][1])
        np.testing.assert_array_equal(a[k][2], b[k][2])


def test_maxcombo_as_the_first_analysis_uses_its_own_decision() -> None:
    sc = Scenario(effect_delay_months=6.0)
    one = simulate(sc, 400, seed=5, analysis="maxcombo")
    many = simulate(sc, 400, seed=5, analysis=["cox", "maxcombo"])
    assert one.power == many.power_by_analysis["maxcombo"]
    # MaxCombo's critical value exceeds 1.96: some trials with max |z| just above 1.96 do not reject
    assert (one.reject <= (np.abs(one.z) > 1.959964)).all()
    assert ((np.abs(one.z) > 1.959964) & ~one.reject).any()
