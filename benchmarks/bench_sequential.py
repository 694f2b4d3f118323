"""Simulated interim decisions: trialnb vs R rpact ``getSimulationSurvival`` (a measurement).

    .venv/bin/python benchmarks/bench_sequential.py [--trials 10000] [--seed 2026] [--repeat 3]

Both simulate the same group-sequential design, the same number of trials, in the same run:
236 patients, uniform accrual over 36 months, control 2-year survival exp(-0.5),
no drop-out, hazard ratio 0.5, looks at 33 and 66 deaths, Lan-DeMets O'Brien-Fleming alpha
spending (one-sided 0.025), log-rank test, stop at the first efficacy bound crossed. The R
time is measured inside R (``proc.time`` around ``getSimulationSurvival`` only, so R's start-up
and package loading are excluded), once; the trialnb time around
``trialnb.sequential_sim.simulate_sequential`` after one small warm-up call (numba kernels
loaded, for each thread count), ``--repeat`` times (every time and the median are printed), with numba's threads
(``numba.get_num_threads()``, the trials split over them) and again with one thread. Prints
both powers (they agree within Monte-Carlo error) and the wall-time ratios against the median.
The machine is shared: the load average is printed before and after. Target ratio >= 3, goal 10.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb import fastsim as fs  # noqa: E402
from trialnb.sequential_sim import Boundaries, simulate_sequential  # noqa: E402

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
                       power = s$overallReject, critical_values = d$criticalValues,
                       expected_events = s$expectedNumberOfEvents),
                  digits = 15, auto_unbox = TRUE), a[3])
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    rs = shutil.which("Rscript")
    if rs is None:
        print("Rscript not found: cannot run the rpact baseline", file=sys.stderr)
        return 1
    print(f"{a.trials:,} trials, 236 patients, looks at 33 and 66 deaths, asOF, log-rank; "
          f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        script, out = Path(tmp) / "bench.R", Path(tmp) / "out.json"
        script.write_text(R_CODE)
        proc = subprocess.run([rs, str(script), str(a.trials), str(a.seed), str(out)],
                              capture_output=True, text=True)
        if proc.returncode:
            print(proc.stderr, file=sys.stderr)
            return 1
        r = json.loads(out.read_text())

    sc = fs.Scenario(n_patients=236, accrual_months=36.0, control_survival=math.exp(-0.5),
                     horizon_months=24.0, dropout_probability=0.0, hazard_ratio=0.5,
                     target_events=66, allocation="blocks")
    b = Boundaries((0.5, 1.0), tuple(r["critical_values"]), alpha=0.025)

    def timed() -> tuple[float, float, object]:
        simulate_sequential(sc, b, 1000, seed=1)  # warm-up: load this thread count's kernels
        walls, cpus = [], []
        for _ in range(max(a.repeat, 1)):
            w0, c0 = time.perf_counter(), time.process_time()
            res = simulate_sequential(sc, b, a.trials, seed=a.seed, analysis="logrank")
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        return walls, cpus, res

    try:
        import numba
    except ImportError:  # the numpy path: no threads
        numba = None
    threads = numba.get_num_threads() if numba else 1
    rows = [(f"trialnb, {threads} thread{'s' if threads > 1 else ''}", *timed())]
    if numba and threads > 1:
        numba.set_num_threads(1)
        rows.append(("trialnb, 1 thread", *timed()))
        numba.set_num_threads(threads)

    print(f"{'':<34s} {'wall s':>8s} {'cpu s':>8s} {'power':>8s} {'E[deaths]':>10s}")
    print(f"{'rpact getSimulationSurvival':<34s} {r['wall']:8.2f} {r['cpu']:8.2f} "
          f"{r['power']:8.4f} {r['expected_events']:10.2f}")
    for name, walls, cpus, res in rows:
        print(f"{name + ' (median)':<34s} {statistics.median(walls):8.3f} {statistics.median(cpus):8.3f} "
              f"{res.power:8.4f} {res.expected_events:10.2f}   runs: "
              + ", ".join(f"{w:.3f}" for w in walls))
    res = rows[0][3]
    se = math.sqrt(2 * res.power * (1 - res.power) / a.trials)
    print(f"power difference {res.power - r['power']:+.4f} (MC SE of the difference {se:.4f})")
    for name, walls, cpus, _ in rows:
        print(f"speed-up {name} vs rpact: wall {r['wall'] / statistics.median(walls):.1f}x, "
              f"cpu {r['cpu'] / statistics.median(cpus):.1f}x (target >= 3x, goal 10x)")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
