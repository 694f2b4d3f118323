"""Bounded simulations (issue 24, part 2; :mod:`trialnb.workload`, :mod:`trialnb.simulation.costs`):
the chunk size never changes a result, runs beyond the limits are refused before they start with
the estimate in the message, memory stays bounded whatever the number of trials, the progress is
reported, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from trialnb import bias, workload
from trialnb.analysis import rerandomization_test
from trialnb.assurance import sceptical_prior, simulate_assurance
from trialnb.data import load_trial
from trialnb.errors import ResourceLimitError, ScenarioError
from trialnb.plan import PLAN
from trialnb.randomization import PocockSimon
from trialnb.simulation import costs, required_patients, simulate, simulate_sequential
from trialnb.simulation.fixed import CHUNK, chunk_seeds

FIXED_FIELDS = ("estimate", "events", "events_a", "months")
SEQ_FIELDS = ("stage", "decision", "z", "estimate", "events", "months", "bound", "complete")


def _same(a, b, fields) -> None:
    for f in fields:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


# ---- the chunk size never changes a result -------------------------------------------------

@pytest.mark.parametrize("chunk", [1, 7, 64, 150])
def test_fixed_results_do_not_depend_on_the_chunk_size(chunk) -> None:
    names = ("cox_wald", "logrank", "stratified_logrank", "maxcombo", "milestone", "rmst")
    ref = simulate(PLAN, 150, seed=11, analyses=names)
    res = simulate(PLAN, 150, seed=11, analyses=names, chunk_trials=chunk)
    _same(ref, res, FIXED_FIELDS)
    for k in names:
        np.testing.assert_array_equal(ref.z[k], res.z[k], err_msg=k)
        np.testing.assert_array_equal(ref.reject[k], res.reject[k], err_msg=k)


@pytest.mark.parametrize("chunk", [1, 13])
@pytest.mark.parametrize("change", [{}, {"statistic": "logrank", "censor_months": None, "final_analysis": "events"},
                                    {"statistic": "stratified_logrank", "information_rates": (0.3, 0.6, 1.0)}])
def test_sequential_results_do_not_depend_on_the_chunk_size(chunk, change) -> None:
    plan = PLAN.with_changes(**change)
    ref = simulate_sequential(plan, 120, seed=5)
    res = simulate_sequential(plan, 120, seed=5, chunk_trials=chunk)
    _same(ref, res, SEQ_FIELDS)


def test_seed_blocks_shrink_only_beyond_4000_patients() -> None:
    """Designs up to 4,000 patients keep the 2,000-trial blocks (their results are those of
    earlier versions); larger trials get blocks of at most 8 million patient-cells."""
    assert costs.block_trials(236) == costs.block_trials(4000) == CHUNK == 2000
    assert costs.block_trials(8000) == 1000 and costs.block_trials(200_000) == 40
    assert costs.block_trials(10**7) == 1
    assert [m for m, _ in chunk_seeds(2500, 1, 8000)] == [1000, 1000, 500]
    assert [m for m, _ in chunk_seeds(2500, 1)] == [2000, 500]
    assert costs.analysis_chunk(236, 2000) == 2000  # a whole block at once
    assert costs.analysis_chunk(200_000, 40) < 40  # large trials: smaller chunks than the block


def test_large_trials_give_the_same_results_in_any_chunk() -> None:
    plan = PLAN.with_changes(n_patients=9000)  # blocks of 888 trials: several per run
    a = simulate(plan, 3, seed=2, analyses="logrank")
    b = simulate(plan, 3, seed=2, analyses="logrank", chunk_trials=1)
    _same(a, b, FIXED_FIELDS)


# ---- refused before starting, with the estimate ------------------------------------------------

def test_a_run_of_years_is_refused_at_once_with_the_estimate() -> None:
    t0 = time.perf_counter()
    with pytest.raises(ResourceLimitError, match="refused before starting") as exc:
        simulate(PLAN, 10**12)
    assert time.perf_counter() - t0 < 5  # nothing was drawn
    msg = str(exc.value)
    assert "years" in msg and "max_seconds=" in msg and "TB" in msg and "max_memory_gb=" in msg
    est = exc.value.estimate
    assert est.seconds > 3.15e7 and est.memory > 2**40
    with pytest.raises(ResourceLimitError, match="years"):
        simulate_sequential(PLAN, 10**12)


def test_memory_is_refused_even_when_time_is_allowed() -> None:
    with pytest.raises(ResourceLimitError, match="memory limit") as exc:
        simulate(PLAN, 10**10, max_seconds=math.inf)
    assert "time limit" not in str(exc.value)


def test_the_caller_can_lower_and_raise_the_limits_explicitly() -> None:
    with pytest.raises(ResourceLimitError, match="time limit is"):
        simulate(PLAN, 50, seed=1, max_seconds=1e-6)
    with pytest.raises(ResourceLimitError, match="memory limit is"):
        simulate(PLAN, 50, seed=1, max_memory_gb=1e-6)
    assert simulate(PLAN, 50, seed=1, max_seconds=math.inf, max_memory_gb=64).n_trials == 50


@pytest.mark.parametrize("bad", [0, -1, True, "1", float("nan"), None])
def test_bad_limits_are_refused_by_name(bad) -> None:
    if bad is None:  # None is the default
        return
    with pytest.raises(ResourceLimitError, match="max_seconds must be"):
        simulate(PLAN, 5, max_seconds=bad)
    with pytest.raises(ResourceLimitError, match="max_memory_gb must be"):
        simulate(PLAN, 5, max_memory_gb=bad)


@pytest.mark.parametrize("bad", ["yes", 1, 2.0, [1]])
def test_a_progress_that_is_not_one_is_refused(bad) -> None:
    with pytest.raises(ScenarioError, match="progress must be"):
        simulate(PLAN, 5, progress=bad)


def test_every_long_simulation_of_the_package_is_bounded() -> None:
    df = load_trial("data/trial_protocol.csv")
    calls = [
        lambda: required_patients(PLAN, n_trials=10**9),
        lambda: required_patients(PLAN.with_changes(hazard_ratio=0.99), n_trials=200, n_max=10**7),
        lambda: simulate_assurance(sceptical_prior(), n_draws=10**9),
        lambda: bias.simulate_registry(10**9, 1),
        lambda: rerandomization_test(df, PocockSimon, 10**9, np.random.default_rng(1)),
    ]
    for call in calls:
        t0 = time.perf_counter()
        with pytest.raises(ResourceLimitError, match="refused before starting"):
            call()
        assert time.perf_counter() - t0 < 10


def test_required_patients_estimates_its_worst_case() -> None:
    with pytest.raises(ResourceLimitError, match="worst case"):
        required_patients(PLAN.with_changes(hazard_ratio=0.99), n_trials=200, n_max=10**7)


def test_the_estimate_grows_with_trials_and_patients() -> None:
    e = lambda r, n: costs.estimate_run("x", r, n, ("cox_wald",), block=costs.block_trials(n),  # noqa: E731
                                        chunk=costs.analysis_chunk(n, costs.block_trials(n)))
    base = e(4000, 236)
    assert e(8000, 236).seconds == pytest.approx(2 * base.seconds, rel=1e-9)  # per cell and per block
    assert 1.8 < e(4000, 472).seconds / base.seconds < 2  # the per-block overhead does not double
    # memory: the results grow with the trials, the working set does not
    assert e(10**6, 236).memory - e(10**5, 236).memory == pytest.approx(9e5 * costs.result_bytes(1), rel=1e-9)
    assert e(2000, 200_000).memory < 2 * 2**30  # one block of 40 trials, chunks of 14


# ---- memory bounded whatever the size ---------------------------------------------------------

_LIMITED = textwrap.dedent("""
    import resource, sys
    lim = int(float(sys.argv[1]) * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate
    r = simulate(PLAN.with_changes(n_patients=int(sys.argv[2])), int(sys.argv[3]), seed=1, analyses="logrank",
                 max_seconds=float("inf"))
    print("trials", r.n_trials, "peak MB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
""")


@pytest.mark.slow
def test_a_large_trial_runs_in_bounded_memory() -> None:
    """100,000 patients x 120 trials (12 million patient-cells, about 1.1 GB if drawn at once, as
    earlier versions did) run under a 3 GB address-space limit: blocks of 80 trials, chunks of 29."""
    cp = subprocess.run([sys.executable, "-c", _LIMITED, "3", "100000", "120"], capture_output=True, text=True,
                        timeout=600, env={**os.environ, "TRIALNB_PROGRESS": "0"})
    assert cp.returncode == 0, cp.stderr[-2000:]
    assert "trials 120" in cp.stdout


# ---- progress and Ctrl-C --------------------------------------------------------------------

def test_a_progress_callable_sees_every_chunk_and_the_total() -> None:
    seen = []
    simulate(PLAN, 50, seed=1, chunk_trials=20, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(20, 50), (40, 50), (50, 50)]
    seen.clear()
    simulate_sequential(PLAN, 30, seed=1, chunk_trials=10, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 30), (20, 30), (30, 30)]


def test_a_bar_is_shown_when_asked_and_never_by_default_in_tests(capsys) -> None:
    simulate(PLAN, 20, seed=1, progress=True)
    assert "simulate" in capsys.readouterr().err  # tqdm writes to stderr
    simulate(PLAN, 20, seed=1)
    assert capsys.readouterr().err == ""
    assert not workload.show_progress(None, 1e6)  # under pytest, however long the run


def test_show_progress_rules(monkeypatch) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.setenv("TRIALNB_PROGRESS", "")
    monkeypatch.setattr(workload, "_interactive", lambda: True)
    assert workload.show_progress(None, 60) and not workload.show_progress(None, 1.0)  # short runs: no bar
    monkeypatch.setattr(workload, "_interactive", lambda: False)
    assert not workload.show_progress(None, 60)  # not interactive: no bar
    monkeypatch.setenv("TRIALNB_PROGRESS", "1")
    assert workload.show_progress(None, 0.1)
    monkeypatch.setenv("TRIALNB_PROGRESS", "0")
    assert not workload.show_progress(None, 1e6) and workload.show_progress(True, 0)


class _Stop(Exception):
    pass


def _interrupt_after(k: int):
    def cb(done: int, total: int) -> None:
        if done >= k:
            raise KeyboardInterrupt
    return cb


@pytest.mark.parametrize("run", [
    lambda cb: simulate(PLAN, 100, seed=3, chunk_trials=10, progress=cb),
    lambda cb: simulate_sequential(PLAN, 100, seed=3, chunk_trials=10, progress=cb),
    lambda cb: simulate_assurance(sceptical_prior(), n_draws=6, trials_per_draw=3, progress=cb),
    lambda cb: required_patients(PLAN.with_changes(statistic="logrank"), n_trials=40, progress=cb),
])
def test_ctrl_c_propagates_and_leaves_no_half_result(run) -> None:
    with pytest.raises(KeyboardInterrupt):
        run(_interrupt_after(1))
    # nothing kept from the interrupted run: the same call, uninterrupted, is the fresh result
    seen = []
    first = run(lambda d, t: seen.append(d))
    again = run(lambda d, t: None)
    assert seen and type(first) is type(again)
    if hasattr(first, "z") and isinstance(first.z, np.ndarray):
        np.testing.assert_array_equal(first.z, again.z)


_SIGINT = textwrap.dedent("""
    import sys
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate
    def tell(done, total):
        if done == 200:
            print("started", flush=True)
    r = simulate(PLAN, 10**6, seed=1, analyses="logrank", chunk_trials=200, max_seconds=float("inf"), progress=tell)
    print("finished", flush=True)
""")


def test_sigint_stops_a_long_run_with_keyboard_interrupt() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SIGINT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TRIALNB_PROGRESS": "0"})
    try:
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in err and "finished" not in out
