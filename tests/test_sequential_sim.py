"""Tests of simulated interim decisions (``trialnb.sequential_sim``, ``fastsim.simulate(design=)``).

Cross-checks: R rpact ``getSimulationSurvival`` on the issue-13 design (power, rejection and
futility by look, expected deaths, within Monte-Carlo error; reference JSON committed next to
the R script that regenerates it); the type-I error under H0 within MC error of the design
alpha; the interim data cut equals an independently generated event-driven trial stopped at
that number of deaths; a one-look design equals the fixed-design simulation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

from trialnb import fastsim as fs
from trialnb import sequential_sim as seq
from trialnb.sequential_sim import (
    Boundaries,
    SequentialResult,
    as_boundaries,
    look_events,
    looks_of_data,
    simulate_sequential,
)

REF = Path(__file__).resolve().parent / "reference"
RPACT_R = REF / "rpact_sequential_sim.R"
RPACT = json.loads((REF / "rpact_sequential_sim.json").read_text())
CASES = {c["id"]: c for c in RPACT["cases"]}
Z_TOL = 4.0  # |difference| / combined MC SE: a 4-sigma band (fails by chance ~1 in 16,000)


def issue_scenario(hr: float, target: int = 66, **kw) -> fs.Scenario:
    """The rpact design of issue 13 as a fastsim scenario (no drop-out, blocks of 4)."""
    return fs.Scenario(n_patients=236, accrual_months=36.0, control_survival=math.exp(-0.5),
                       horizon_months=24.0, dropout_probability=0.0, hazard_ratio=hr,
                       target_events=target, allocation="blocks", **kw)


def case_boundaries(c: dict) -> Boundaries:
    return Boundaries(c["information_rates"], c["critical_values"], c["futility_bounds"], alpha=0.025)


def _close(ours: float, ref: float, n_ours: int, n_ref: int, what: str) -> None:
    p = (ours * n_ours + ref * n_ref) / (n_ours + n_ref)
    se = math.sqrt(max(p * (1 - p), 1e-12) * (1 / n_ours + 1 / n_ref))
    assert abs(ours - ref) <= Z_TOL * se + 1e-12, f"{what}: trialnb {ours:.4f} vs rpact {ref:.4f} (SE {se:.4f})"


@pytest.fixture(scope="module")
def rpact_runs() -> dict[str, SequentialResult]:
    out = {}
    for i, c in enumerate(RPACT["cases"]):
        sc = issue_scenario(c["hazard_ratio"], c["planned_events"][-1])
        out[c["id"]] = simulate_sequential(sc, case_boundaries(c), 10_000, seed=100 + i)
    return out


@pytest.mark.parametrize("cid", list(CASES))
def test_same_power_and_stopping_as_rpact(cid, rpact_runs):
    c, res = CASES[cid], rpact_runs[cid]
    n, nr = res.n_trials, c["iterations"]
    assert res.planned_events == tuple(c["planned_events"])
    _close(res.power, c["overall_reject"], n, nr, "overall rejection")
    for j, ref in enumerate(c["reject_per_stage"]):
        _close(res.rejection_by_stage[j], ref, n, nr, f"rejection at look {j + 1}")
    if c["futility_per_stage"] is not None:
        for j, ref in enumerate(c["futility_per_stage"]):
            _close(res.futility_by_stage[j], ref, n, nr, f"futility at look {j + 1}")
    else:
        assert np.all(res.futility_by_stage == 0)
    # expected deaths: SE from our run, doubled for rpact's (20,000 trials, similar spread)
    assert abs(res.expected_events - c["expected_events"]) <= Z_TOL * 1.3 * res.expected_events_se + 1e-9


def test_analysis_months_close_to_rpact(rpact_runs):
    # rpact places entries slightly differently (deterministic accrual intensity); the mean
    # calendar month of a look agrees to within 0.2 months (about 1% of a 20-40 month look)
    for cid, res in rpact_runs.items():
        np.testing.assert_allclose(res.analysis_months, CASES[cid]["analysis_time"], atol=0.2, err_msg=cid)


def test_type_one_error_within_mc_error_of_alpha():
    c = CASES["asOF_33_66_hr050"]
    res = simulate_sequential(issue_scenario(1.0), case_boundaries(c), 20_000, seed=7)
    se = math.sqrt(0.025 * 0.975 / res.n_trials)
    assert abs(res.power - 0.025) <= 3 * se, res.summary()
    assert res.type_one_error_ok is True
    assert "type-I error" in res.summary()


def test_naive_repeated_testing_inflates_type_one_error():
    # five looks, each at the fixed-design one-sided 2.5% bound 1.96: the classic inflation
    # (Armitage, McPherson & Rowe 1969: about 7% one-sided... here at least 5%)
    naive = Boundaries((0.2, 0.4, 0.6, 0.8, 1.0), (1.959964,) * 5, alpha=0.025)
    res = simulate_sequential(issue_scenario(1.0, target=100), naive, 5000, seed=3)
    assert res.power > 0.025 + 5 * math.sqrt(0.025 * 0.975 / 5000)
    assert res.type_one_error_ok is False


def test_interim_cut_equals_an_event_driven_trial_stopped_there():
    # simulate_data draws the same random numbers whatever target_events is: the trial cut at
    # the date of its 33rd death must be exactly the trial generated with target_events=33
    full = fs.simulate_data(issue_scenario(0.5, 66), 50, np.random.default_rng(11))
    short = fs.simulate_data(issue_scenario(0.5, 33), 50, np.random.default_rng(11))
    cal = np.sort(np.where(full.event > 0, full.entry + full.time, np.inf), axis=1)
    t, e = looks_of_data(full.time, full.event, full.entry, cal[:, 32])
    np.testing.assert_array_equal(e, short.event)
    np.testing.assert_allclose(t, short.time, rtol=0, atol=1e-9)
    assert np.all(e.sum(axis=1) == 33)


def test_one_look_design_equals_the_fixed_simulation():
    sc = issue_scenario(0.5, 66)
    one = Boundaries((1.0,), (1.959964,), alpha=0.025)
    for analysis in ("logrank", "cox"):
        seq = simulate_sequential(sc, one, 300, seed=5, analysis=analysis)
        fixed = fs.simulate(sc, 300, seed=5, analysis=analysis)
        np.testing.assert_allclose(seq.z[:, 0], -fixed.z, rtol=1e-12, equal_nan=True)
        assert np.array_equal(seq.events[:, 0], fixed.events)


def test_fastsim_simulate_delegates_with_a_design():
    c = CASES["asOF_33_66_hr050"]
    sc = issue_scenario(0.5)
    a = fs.simulate(sc, 200, seed=2, analysis="logrank", design=case_boundaries(c))
    b = simulate_sequential(sc, case_boundaries(c), 200, seed=2)
    assert isinstance(a, SequentialResult)
    np.testing.assert_array_equal(a.z, b.z)


def test_stopping_rule_is_applied_trial_by_trial():
    c = CASES["asOF_33_66_futility05_hr050"]
    res = simulate_sequential(issue_scenario(0.5), case_boundaries(c), 2000, seed=9)
    crit, fut = c["critical_values"], c["futility_bounds"]
    z1 = res.z[:, 0]
    assert np.array_equal(res.stage == 1, (z1 >= crit[0]) | (z1 <= fut[0]))
    assert np.all(np.isnan(res.z[res.stage == 1, 1]))  # no second look after a stop
    assert np.all(res.events[res.stage == 2, 1] == 66)
    assert np.all(res.events[:, 0] == 33)
    assert np.all(res.months[:, 0] < res.months[np.arange(res.n_trials), res.stage - 1] + 1e-12)
    rej2 = (res.stage == 2) & (res.z[:, 1] >= crit[1])
    assert np.array_equal(res.decision == 1, (res.stage == 1) & (z1 >= crit[0]) | rej2)
    assert res.rejection_by_stage.sum() == pytest.approx(res.power)
    frame = res.to_frame()
    assert list(frame.index) == [1, 2]
    assert frame["cumulative_rejection"].iloc[-1] == pytest.approx(res.power)


def test_cox_analysis_gives_similar_power_to_logrank():
    c = CASES["asOF_33_66_hr050"]
    sc = issue_scenario(0.5)
    lr = simulate_sequential(sc, case_boundaries(c), 1500, seed=4, analysis="logrank")
    cox = simulate_sequential(sc, case_boundaries(c), 1500, seed=4, analysis="cox")
    assert abs(lr.power - cox.power) < 0.03  # same trials: the two tests nearly always agree
    ok = np.isfinite(cox.z[:, 0])  # a Cox fit that fails (e.g. no death in a factor level) is NaN
    assert ok.mean() > 0.95
    assert cox.failed_by_stage[0] == np.sum(~ok)  # counted, and reported
    assert lr.failed_by_stage.sum() == 0
    assert ("failed analyses" in cox.summary()) == bool(cox.failed_by_stage.any())
    assert np.corrcoef(lr.z[ok, 0], cox.z[ok, 0])[0, 1] > 0.95


def test_look_events_and_bad_input():
    assert look_events((0.5, 1.0), 66) == (33, 66)
    assert look_events((0.44, 1.0), 66) == (30, 66)  # 29.04 rounded up
    with pytest.raises(ValueError, match="at least one more death"):
        look_events((0.41, 0.5, 1.0), 10)  # 4.1 -> 5 and 5
    with pytest.raises(ValueError, match="end at 1"):
        Boundaries((0.5, 0.9), (3.0, 2.0))
    with pytest.raises(ValueError, match="one per look"):
        Boundaries((0.5, 1.0), (2.0,))
    with pytest.raises(ValueError, match="below its efficacy"):
        Boundaries((0.5, 1.0), (2.0, 1.9), futility_bounds=(2.5,))
    with pytest.raises(ValueError, match="target_events"):
        simulate_sequential(fs.Scenario(), Boundaries((1.0,), (1.96,)), 10)
    with pytest.raises(ValueError, match="has no"):
        as_boundaries(object())


def test_as_boundaries_reads_a_design_like_object():
    @dataclasses.dataclass
    class D:
        information_rates: tuple = (0.5, 1.0)
        critical_values: tuple = (2.96, 1.97)
        futility_bounds: tuple | None = (-np.inf,)
        sided: int = 1
        alpha: float = 0.025

    b = as_boundaries(D())
    assert b.futility_bounds is None and b.critical_values == (2.96, 1.97) and b.alpha == 0.025


@pytest.mark.r
@pytest.mark.slow
def test_rpact_script_reproduces_committed_json(rscript, tmp_path):
    out = tmp_path / "seq.json"
    proc = subprocess.run([rscript, str(RPACT_R), str(out)], capture_output=True, text=True,
                          timeout=600, cwd=REF.parent.parent)
    assert proc.returncode == 0, proc.stderr
    fresh = json.loads(out.read_text())
    assert len(fresh["cases"]) == len(RPACT["cases"])
    for new, old in zip(fresh["cases"], RPACT["cases"]):
        assert new.keys() == old.keys()
        for k, v in old.items():
            if isinstance(v, float) or (isinstance(v, list) and v and isinstance(v[0], float)):
                np.testing.assert_allclose(new[k], v, rtol=1e-12, err_msg=f"{old['id']}/{k}")
            else:
                assert new[k] == v, f"{old['id']}/{k}"


@pytest.mark.skipif(not fs.HAVE_NUMBA, reason="numba not installed")
def test_numba_and_numpy_engines_agree():
    c = CASES["asOF_22_44_66_hr070"]
    sc = dataclasses.replace(issue_scenario(0.7, 66), dropout_probability=0.1)  # censoring before the cut
    a = simulate_sequential(sc, case_boundaries(c), 1500, seed=8, engine="numpy")
    b = simulate_sequential(sc, case_boundaries(c), 1500, seed=8, engine="numba")
    np.testing.assert_allclose(a.z, b.z, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a.hr, b.hr, rtol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(a.events, b.events)
    np.testing.assert_array_equal(a.stage, b.stage)
    np.testing.assert_array_equal(a.decision, b.decision)


def test_type_one_error_with_a_trialnb_monitoring_design():
    from trialnb import monitoring

    d = monitoring.design(3, alpha=0.025, type_of_design="asOF", information_rates=[1 / 3, 2 / 3, 1])
    sc = dataclasses.replace(fs.Scenario(), hazard_ratio=1.0, target_events=66)  # protocol: minimization, 10% loss
    res = fs.simulate(sc, 10_000, seed=31, analysis="logrank", design=d)
    assert isinstance(res, SequentialResult) and res.boundaries.alpha == pytest.approx(0.025)
    assert res.planned_events == (22, 44, 66)
    assert abs(res.power - 0.025) <= 3 * math.sqrt(0.025 * 0.975 / res.n_trials), res.summary()
    # the boundaries were spent as designed: most of the error at the last look
    assert res.rejection_by_stage[-1] > res.rejection_by_stage[0]


# ---- the compiled path (trialnb._sequential_numba) gives the numpy engine's numbers ----------
# The numpy engine is simulate_data + looks_of_data + logrank_batch, the reference; the
# compiled path generates the trials itself when the scenario needs no factor
# (sequential_sim._compiled_trials) and computes every look in one pass per trial.

def _engine_scenarios() -> dict[str, fs.Scenario]:
    rep = dataclasses.replace
    return {
        "issue": issue_scenario(0.5),
        "loss": rep(issue_scenario(0.7), dropout_probability=0.2),
        "coin_delay_slow_start": rep(issue_scenario(0.6), allocation="complete",
                                     effect_delay_months=6.0, accrual_shape=2.0),
        "blocks_of_6": rep(issue_scenario(0.7, target=150), block_size=6, dropout_probability=0.1),
        "fewer_deaths_than_planned": rep(issue_scenario(0.8, target=20), n_patients=20,
                                         dropout_probability=0.6),
        "minimization": dataclasses.replace(fs.Scenario(), target_events=66),
        "factors_noncompliance_crossover": rep(issue_scenario(0.6), hr_visceral=1.5,
                                               non_compliance=0.1, crossover=0.2),
        "early_harm": rep(issue_scenario(0.6), early_hazard_ratio=2.0, early_months=2.0),
    }


ENGINE_SCENARIOS = _engine_scenarios()
THREE_LOOKS = Boundaries((1 / 3, 2 / 3, 1.0), (3.71, 2.51, 1.99), futility_bounds=(-0.5, 0.8), alpha=0.025)
THREE_LOOKS_TWO_SIDED = Boundaries((1 / 3, 2 / 3, 1.0), (3.71, 2.51, 1.99), sided=2, alpha=0.05)


@pytest.mark.skipif(not fs.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", list(ENGINE_SCENARIOS))
@pytest.mark.parametrize("design", [THREE_LOOKS, THREE_LOOKS_TWO_SIDED], ids=["futility", "two_sided"])
def test_compiled_looks_equal_the_numpy_engine(name, design):
    sc = ENGINE_SCENARIOS[name]
    ref = simulate_sequential(sc, design, 300, seed=12, engine="numpy")
    new = simulate_sequential(sc, design, 300, seed=12, engine="numba")
    np.testing.assert_allclose(new.z, ref.z, rtol=0, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(new.hr, ref.hr, rtol=1e-12, equal_nan=True)
    for f in ("events", "months", "stage", "decision"):
        np.testing.assert_array_equal(getattr(new, f), getattr(ref, f), err_msg=f)
    if name == "fewer_deaths_than_planned":  # the fallback to the final cut-off is exercised
        assert np.any(new.events[new.stage == 3, 2] < 20)


@pytest.mark.skipif(not fs.HAVE_NUMBA, reason="numba not installed")
@pytest.mark.parametrize("name", [n for n, sc in ENGINE_SCENARIOS.items() if seq._compiled_trials(sc)])
@pytest.mark.parametrize("bit_generator", ["PCG64", "MT19937"])
def test_compiled_trials_are_simulate_data_bit_for_bit(name, bit_generator):
    sc = ENGINE_SCENARIOS[name]
    rng = lambda: np.random.Generator(getattr(np.random, bit_generator)(21))  # noqa: E731
    need = np.array([5, 10, 0], dtype=np.int64)
    r1, r2 = rng(), rng()
    data, looks = seq._simulate_looks(sc, 250, r1, need)
    ref = fs.simulate_data(sc, 250, r2)
    for f in ("time", "event", "arm", "entry", "duration"):
        np.testing.assert_array_equal(getattr(data, f), getattr(ref, f), err_msg=f)
    assert r1.random() == r2.random()  # the stream goes on from the same place
    # and the looks of those trials are those of the general kernel on simulate_data's trials
    for a, b in zip(looks, seq._logrank_looks(ref, need)):
        np.testing.assert_array_equal(a, b)


def test_compiled_trials_only_without_factors():
    assert seq._compiled_trials(ENGINE_SCENARIOS["issue"])
    for name in ("minimization", "factors_noncompliance_crossover", "early_harm"):
        assert not seq._compiled_trials(ENGINE_SCENARIOS[name]), name


@pytest.mark.skipif(not fs.HAVE_NUMBA, reason="numba not installed")
def test_looks_kernel_threads_and_patient_order():
    from trialnb import _sequential_numba as snb

    sc = ENGINE_SCENARIOS["loss"]
    data = fs.simulate_data(sc, 200, np.random.default_rng(4))
    need = np.array([22, 44, 0], dtype=np.int64)

    def run(d, n_blocks=1):
        out = [np.empty((200, 3)), np.empty((200, 3)), np.empty((200, 3), dtype=np.int64), np.empty((200, 3))]
        args = (d.time, d.event, d.entry, d.arm, d.duration, need, *out)
        snb.logrank_looks_parallel(*args, n_blocks) if n_blocks > 1 else snb.logrank_looks(*args)
        return out

    serial = run(data)
    for a, b in zip(serial, run(data, n_blocks=3)):  # blocks over the threads: same numbers
        np.testing.assert_array_equal(a, b)
    # patients out of entry order take the binary-search path: the same risk sets
    perm = np.argsort(np.random.default_rng(5).random(data.time.shape), axis=1)
    rows = np.arange(200)[:, None]
    shuffled = dataclasses.replace(data, time=data.time[rows, perm], event=data.event[rows, perm],
                                   entry=data.entry[rows, perm], arm=data.arm[rows, perm])
    for a, b in zip(serial, run(shuffled)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # and the numbers are the numpy engine's: look 2 of every trial, cut by hand
    cal = np.where(data.event > 0, data.entry + data.time, np.inf)
    cut = np.minimum(np.sort(cal, axis=1)[:, 43], data.duration)
    t, e = looks_of_data(data.time, data.event, data.entry, cut)
    lr = fs.logrank_batch(t, e, data.arm)
    np.testing.assert_allclose(serial[0][:, 1] / np.sqrt(serial[1][:, 1]), lr.z, rtol=0, atol=1e-12)  # (O - E) / sqrt(V)
    np.testing.assert_array_equal(serial[2][:, 1], e.sum(axis=1))
    np.testing.assert_array_equal(serial[3][:, 1], cut)


@pytest.mark.skipif(not fs.HAVE_NUMBA, reason="numba not installed")
def test_looks_kernel_stays_in_bounds_on_non_finite_times():
    # the kernel trusts simulate_data's finite times for its numbers, never for memory safety
    from trialnb import _sequential_numba as snb

    data = fs.simulate_data(ENGINE_SCENARIOS["issue"], 50, np.random.default_rng(6))
    time = data.time.copy()
    time[:, ::7] = np.nan
    time[::3, 5] = np.inf
    out = [np.empty((50, 2)), np.empty((50, 2)), np.empty((50, 2), dtype=np.int64), np.empty((50, 2))]
    snb.logrank_looks(time, data.event, data.entry, data.arm, data.duration,
                      np.array([33, 0], dtype=np.int64), *out)
    assert np.all((out[2] >= 0) & (out[2] <= 66))
