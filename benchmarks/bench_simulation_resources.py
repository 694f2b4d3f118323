#!/usr/bin/env python3
"""Time and peak memory of the bounded simulations (issue 24, part 2), as ratios against a
baseline measured in the same run, and the per-unit costs behind the estimates of
:mod:`trialnb.simulation.costs` re-measured beside the constants the package uses.

    .venv/bin/python benchmarks/bench_simulation_resources.py [--quick]

Each configuration runs in a fresh child process (so its peak resident memory, ``ru_maxrss``,
is its own), after a warm-up that compiles the kernels; the peak is reported as the growth
over the warm process. What to look for: time grows with trials x patients; memory does not
grow with the number of trials beyond the results kept (a few dozen bytes per trial), and a
trial of 100,000 patients runs in a bounded working set (earlier versions drew every trial of
a run at once: 2,000 trials of 200,000 patients asked for more than 3 GB and failed). The
machine is shared and noisy: read ratios, not absolute seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent("""
    import json, os, resource, sys, time
    os.environ["TRIALNB_PROGRESS"] = "0"
    import numpy as np
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate, simulate_sequential, simulate_trials
    kind, n, R, analyses = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), tuple(sys.argv[4].split(","))
    simulate(PLAN, 70, seed=9, analyses=("cox_wald", "logrank", "stratified_logrank", "maxcombo",
                                         "stratified_maxcombo"))  # compile every kernel first
    simulate_sequential(PLAN, 70, seed=9)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    plan = PLAN.with_changes(n_patients=n)
    t0 = time.perf_counter()
    if kind == "generate":
        simulate_trials(plan.design, R, np.random.default_rng(1))
    elif kind == "sequential":
        simulate_sequential(plan, R, seed=1, max_seconds=float("inf"))
    else:
        simulate(plan, R, seed=1, analyses=analyses, max_seconds=float("inf"))
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"wall": wall, "peak": max(peak - base, 0)}))
""")


def run(kind: str, n: int, trials: int, analyses: str = "cox_wald") -> dict:
    cp = subprocess.run([sys.executable, "-c", CHILD, kind, str(n), str(trials), analyses], capture_output=True,
                        text=True, env={**os.environ, "TRIALNB_PROGRESS": "0"})
    if cp.returncode != 0:
        raise SystemExit(f"{kind} n={n} R={trials} failed:\n{cp.stderr[-2000:]}")
    return json.loads(cp.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer and smaller configurations")
    args = ap.parse_args(argv)
    from trialnb.simulation import costs

    q = args.quick
    base_n, base_r = 236, 1000
    base = run("fixed", base_n, base_r)
    print(f"baseline: simulate(PLAN, {base_r} trials of {base_n} patients, cox_wald): {base['wall']:.2f} s wall, "
          f"peak growth {base['peak'] / 2**20:.0f} MB\n")
    print(f"{'configuration':<46}{'cells ratio':>12}{'time ratio':>12}{'memory ratio':>14}{'peak MB':>9}")
    rows = [("fixed", base_n, r) for r in ((2000, 4000) if q else (2000, 4000, 8000, 16000))]
    rows += [("fixed", n, 200) for n in ((1000, 4000) if q else (1000, 4000, 16000))]
    rows += [("fixed", 100_000, 40 if q else 120)]
    rows += [("sequential", base_n, base_r)]
    for kind, n, r in rows:
        m = run(kind, n, r)
        cells = n * r / (base_n * base_r)
        print(f"{kind + f' {r} trials x {n} patients':<46}{cells:>12.2f}{m['wall'] / base['wall']:>12.2f}"
              f"{m['peak'] / max(base['peak'], 1):>14.2f}{m['peak'] / 2**20:>9.0f}")

    print("\nper-unit costs (re-measured here; the package's constants in trialnb.simulation.costs beside them)")
    n, r = (236, 1000) if q else (2000, 1000)
    cells = n * r
    gen = run("generate", n, r)
    print(f"{'drawing':<24} {1e6 * gen['wall'] / cells:6.2f} us/cell (constant "
          f"{1e6 * costs.GENERATE_SECONDS_PER_CELL:.2f}); {gen['peak'] / cells:5.0f} B/cell (constant "
          f"{costs.GENERATE_BYTES_PER_CELL:.0f})")
    for a in ("cox_wald", "logrank", "stratified_logrank", "maxcombo", "stratified_maxcombo"):
        m = run("fixed", n, r, a)
        own = max(m["wall"] - gen["wall"], 0.0)
        print(f"{a:<24} {1e6 * own / cells:6.2f} us/cell (constant {1e6 * costs.SECONDS_PER_CELL[a]:.2f}); "
              f"{m['peak'] / cells:5.0f} B/cell in all (constants "
              f"{costs.GENERATE_BYTES_PER_CELL + costs.BYTES_PER_CELL:.0f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
