"""Speed and memory of trialnb.simulation, each figure against a baseline measured in the same run.

Run:  .venv/bin/python benchmarks/bench_simulation.py [--trials 10000] [--seed 2026] [--repeat 3]
      [--sample 30] [--skip-r] [--skip-cold]

What it prints (the machine is shared and noisy: read the ratios, not the seconds; the load
average is printed before and after):

1. **The plan as written** (``simulate_sequential(PLAN, trials)``): 236 patients, two looks at
   33 and 66 primary-endpoint deaths, the adjusted Cox Wald z at each look, the calendar-driven
   final analysis, guidelines followed. Its wall time against R rpact's
   ``getSimulationSurvival`` (log-rank, event-driven looks, the same number of trials, timed
   inside R) -- rpact cannot simulate the adjusted Cox plan, so its log-rank simulation is the
   yardstick -- and against trialnb's own log-rank event-driven comparison path on the same
   design (``PLAN.with_changes(statistic="logrank", censor_months=None, final_analysis="events")``).
   Target (issue 20): the plan's 10,000 trials x 2 looks in under 2 s on these 2 cores.
2. **The fixed design** (``simulate(PLAN, trials)``): the adjusted Cox at the final analysis,
   against lifelines ``CoxPHFitter`` on a ``--sample`` of the same trials' data, extrapolated
   (what a Python user would write) -- the ratio is the speed-up.
3. **Peak memory** (tracemalloc) of the sequential run, per trial.
4. **First use** (``--skip-cold`` to leave out): a fresh process importing trialnb and running
   a small simulation with an empty numba cache (cold: the kernels compile) and again with the
   cache the first process wrote (warm), the ratio cold / warm -- what ``make lab``'s set-up
   (``tools/warm_kernels.py``) saves a trainee on the first run of notebook 06.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trialnb.plan import PLAN  # noqa: E402
from trialnb.simulation import simulate, simulate_sequential, simulate_trials  # noqa: E402
from trialnb.simulation.trials import cut  # noqa: E402

R_CODE = r"""
suppressPackageStartupMessages({library(rpact); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
n <- as.integer(a[1]); seed <- as.integer(a[2])
d <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                              informationRates = c(0.5, 1))
t0 <- proc.time()
s <- getSimulationSurvival(design = d, lambda2 = 0.5 / 24, hazardRatio = 0.5,
                           directionUpper = FALSE, accrualTime = c(0, 36),
                           maxNumberOfSubjects = 236, plannedEvents = c(33, 66),
                           maxNumberOfIterations = n, seed = seed)
el <- proc.time() - t0
writeLines(toJSON(list(wall = el[["elapsed"]], cpu = el[["user.self"]] + el[["sys.self"]],
                       power = s$overallReject), digits = I(15), auto_unbox = TRUE), a[3])
"""

COLD_CODE = """
import time
t0 = time.perf_counter()
from trialnb.plan import PLAN
from trialnb.simulation import simulate_sequential
t1 = time.perf_counter()
simulate_sequential(PLAN, 200, seed=1)
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def _repeat(fn, n: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``n`` calls (after one warm-up call), and the last result."""
    fn(small=True)
    walls, cpus, res = [], [], None
    for _ in range(max(n, 1)):
        w0, c0 = time.perf_counter(), time.process_time()
        res = fn(small=False)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), res


def _rpact(trials: int, seed: int) -> dict | None:
    rs = shutil.which("Rscript")
    if rs is None:
        print("Rscript not found: no rpact baseline")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "bench.R", Path(tmp) / "out.json"
        script.write_text(R_CODE)
        proc = subprocess.run([rs, str(script), str(trials), str(seed), str(out)], capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return None
        return json.loads(out.read_text())


def _lifelines_per_fit(trials: int, seed: int, sample: int) -> float:
    """Seconds per lifelines CoxPHFitter fit (arm + the three factors, Efron ties) on the
    primary-endpoint data of ``sample`` of the simulated trials at the planned final date."""
    from lifelines import CoxPHFitter

    data = simulate_trials(PLAN.design, sample, np.random.default_rng(seed))
    final = PLAN.design.accrual_months + PLAN.analysis.censor_months
    time_, event = cut(data, final, PLAN.analysis.censor_months)
    X = data.covariates()  # trials x patients x (arm, the factors' dummy columns)
    frames = []
    for i in range(sample):
        f = pd.DataFrame({"time": time_[i], "event": event[i]})
        for j in range(X.shape[-1]):
            f[f"x{j}"] = X[i, :, j]
        frames.append(f)
    w0 = time.perf_counter()
    for f in frames:
        CoxPHFitter().fit(f, "time", "event")
    return (time.perf_counter() - w0) / sample


def _first_use() -> tuple[tuple[float, float], tuple[float, float]] | None:
    """(import s, first simulation s) in a fresh process with an empty numba cache, then with
    the cache that process wrote."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = []
        for _ in range(2):
            p = subprocess.run([sys.executable, "-c", COLD_CODE], capture_output=True, text=True, env=env, cwd=ROOT)
            if p.returncode:
                print(p.stderr, file=sys.stderr)
                return None
            a, b = (float(x) for x in p.stdout.split())
            out.append((a, b))
        return out[0], out[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sample", type=int, default=30, help="lifelines fits to time")
    ap.add_argument("--skip-r", action="store_true")
    ap.add_argument("--skip-cold", action="store_true")
    a = ap.parse_args(argv)
    n = a.trials
    print(f"{n:,} trials of the plan (236 patients); cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")

    comparison = PLAN.with_changes(statistic="logrank", censor_months=None, final_analysis="events")
    plan_w, plan_c, plan_res = _repeat(lambda small: simulate_sequential(PLAN, 500 if small else n, seed=a.seed),
                                       a.repeat)
    comp_w, comp_c, comp_res = _repeat(
        lambda small: simulate_sequential(comparison, 500 if small else n, seed=a.seed), a.repeat)
    r = None if a.skip_r else _rpact(n, a.seed)

    print(f"\n1. group-sequential, {n:,} trials x 2 looks      {'wall s':>8s} {'cpu s':>8s} {'power':>7s}")
    print(f"   the plan: adjusted Cox, calendar final      {plan_w:8.3f} {plan_c:8.3f} {plan_res.power:7.4f}")
    print(f"   comparison: log-rank, all deaths, 66 deaths {comp_w:8.3f} {comp_c:8.3f} {comp_res.power:7.4f}")
    if r is not None:
        print(f"   rpact getSimulationSurvival (log-rank)      {r['wall']:8.3f} {r['cpu']:8.3f} {r['power']:7.4f}")
        print(f"   ratio rpact / the plan: wall {r['wall'] / plan_w:.1f}x, cpu {r['cpu'] / plan_c:.1f}x;"
              f" rpact / comparison path: wall {r['wall'] / comp_w:.1f}x")
        se = math.sqrt(comp_res.power * (1 - comp_res.power) / n + r["power"] * (1 - r["power"]) / n)
        print(f"   log-rank power, trialnb - rpact: {comp_res.power - r['power']:+.4f} (MC SE {se:.4f}; "
              "trialnb's comparison path has the plan's 10% drop-out, rpact none)")
    if n == 10_000:
        print(f"   target: the plan's 10,000 trials in under 2 s wall -> {'met' if plan_w < 2 else 'not met'} this run "
              f"(cpu {plan_c:.2f} s; at a load average above the 2 cores, wall includes waiting)")

    fix_w, fix_c, fix_res = _repeat(lambda small: simulate(PLAN, 500 if small else n, seed=a.seed), a.repeat)
    per_fit = _lifelines_per_fit(n, a.seed, a.sample)
    print(f"\n2. fixed design, {n:,} adjusted Cox fits        {'wall s':>8s}")
    print(f"   trialnb simulate (data + fits)              {fix_w:8.3f}   power {fix_res.power:.4f}")
    print(f"   lifelines CoxPHFitter, {a.sample} fits extrapolated  {per_fit * n:8.1f}   ratio "
          f"{per_fit * n / fix_w:.0f}x")

    tracemalloc.start()
    simulate_sequential(PLAN, n, seed=a.seed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"\n3. peak traced memory of the plan's {n:,} trials: {peak / 2**20:.1f} MiB "
          f"({peak / n / 1024:.1f} KiB per trial)")

    if not a.skip_cold:
        fu = _first_use()
        if fu is not None:
            (ci, cs), (wi, ws) = fu
            print("\n4. first use in a fresh process (import s, first 200-trial simulation s)")
            print(f"   empty numba cache (cold)  {ci:6.2f} {cs:7.2f}")
            print(f"   cache written (warm)      {wi:6.2f} {ws:7.2f}   cold / warm: {(ci + cs) / (wi + ws):.1f}x")
    print(f"\nload average after the run: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
