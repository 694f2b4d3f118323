"""Speed and memory of trialnb.fastsim against a lifelines loop, measured in the same run.

Run:  .venv/bin/python benchmarks/bench_fastsim.py [--trials 10000] [--sample 30]

Prints, for 10,000 simulated trials of the protocol design (236 patients):
* data generation (allocation by minimization, entry, survival, censoring);
* 10,000 five-covariate Cox fits (Efron ties) with fastsim's numpy engine and, if installed,
  its numba engine, vs ``lifelines.CoxPHFitter`` on a sample of fits, extrapolated;
* 10,000 log-rank tests with fastsim vs ``lifelines.statistics.logrank_test`` (sample);
* end-to-end ``simulate(..., analysis="cox" | "logrank")``;
* peak traced memory (tracemalloc) of the end-to-end Cox run and the process's max RSS.
Wall and CPU seconds are both shown: the machine is shared, so wall time depends on load
(the 1-minute load average is printed). Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import timed, row as _row  # noqa: E402  (benchmarks/ is the script folder)

from lifelines import CoxPHFitter  # noqa: E402
from lifelines.statistics import logrank_test  # noqa: E402

from trialnb import fastsim as fs  # noqa: E402


def row(label: str, wall: float, cpu: float | None = None, note: str = "") -> None:
    _row(label, wall, cpu, note, width=52)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=30, help="lifelines fits to time")
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    R = a.trials
    sc = fs.Scenario()
    print(f"numpy {np.__version__}; numba engine: {'yes' if fs.HAVE_NUMBA else 'no'}; "
          f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    print(f"{R:,} trials x {sc.n_patients} patients, 5-covariate Cox model (arm + 4 factor dummies)\n")
    print(f"{'step':<52s} {'wall s':>9s} {'cpu s':>8s}")

    fs.simulate_data(sc, 4, np.random.default_rng(0))  # load compiled kernels (numba cache)
    data, w, c = timed(fs.simulate_data, sc, R, np.random.default_rng(a.seed))
    row("generate trials (minimization, survival, censoring)", w, c)

    if fs.HAVE_NUMBA:  # compile (or load the cache) outside the timing
        fs.logrank_batch(data.time[:4], data.event[:4], data.arm[:4])
        fs.fit_cox_batch(data.time[:4], data.event[:4], data.covariates[:4], engine="numba")
    engines = ["numpy"] + (["numba"] if fs.HAVE_NUMBA else [])
    cox_wall = {}
    for eng in engines:
        fit, w, c = timed(fs.fit_cox_batch, data.time, data.event, data.covariates, engine=eng)
        cox_wall[eng] = w
        row(f"fastsim Cox, {R:,} fits, engine={eng}", w, c,
            f"({int((~fit.converged).sum())} monotone-likelihood fits flagged)")

    k = min(a.sample, R)
    frames = []
    for r in range(k):
        df = pd.DataFrame(data.covariates[r], columns=list(fs.COVARIATE_NAMES))
        df["T"], df["E"] = data.time[r], data.event[r]
        frames.append(df)
    w0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for df in frames:
            CoxPHFitter().fit(df, "T", "E")
    per = (time.perf_counter() - w0) / k
    row(f"lifelines CoxPHFitter loop, {k} fits -> x{R:,}", per * R, None,
        f"({per * 1e3:.1f} ms per fit, extrapolated)")
    for eng, wsec in cox_wall.items():
        print(f"  speed-up fastsim[{eng}] vs lifelines: {per * R / wsec:,.0f}x")

    lr, w, c = timed(fs.logrank_batch, data.time, data.event, data.arm)
    lr_wall = w
    row(f"fastsim log-rank, {R:,} tests", w, c)
    k2 = min(10 * a.sample, R)
    w0 = time.perf_counter()
    for r in range(k2):
        g = data.arm[r] == 1
        logrank_test(data.time[r][g], data.time[r][~g], data.event[r][g], data.event[r][~g])
    per2 = (time.perf_counter() - w0) / k2
    row(f"lifelines logrank_test loop, {k2} tests -> x{R:,}", per2 * R, None,
        f"({per2 * 1e3:.2f} ms per test, extrapolated)")
    print(f"  speed-up fastsim log-rank vs lifelines: {per2 * R / lr_wall:,.0f}x")

    for analysis in ("cox", "logrank"):
        res, w, c = timed(fs.simulate, sc, R, seed=a.seed, analysis=analysis)
        row(f"end-to-end simulate(analysis={analysis!r})", w, c,
            f"power {res.power:.3f} (MC SE {res.power_se:.3f})")

    tracemalloc.start()
    fs.simulate(sc, R, seed=a.seed, analysis="cox")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if fs.HAVE_NUMBA:
        tracemalloc.start()
        fs.fit_cox_batch(data.time, data.event, data.covariates, engine="numpy")
        _, peak_np = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    else:
        peak_np = peak
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(f"\npeak traced memory: simulate(cox) {peak / 2**20:.0f} MiB; numpy-engine Cox on "
          f"{R:,} pre-generated trials {peak_np / 2**20:.0f} MiB (chunks of {fs._CHUNK:,}); "
          f"process max RSS {rss:.0f} MiB (limit 1024 MiB)")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
