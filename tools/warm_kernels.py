#!/usr/bin/env python3
"""Compile the package's numba kernels once, during set-up (``make lab`` / ``make test``), so that
a trainee's first simulation (notebook 06, a dashboard) does not wait for the compiler.

Every kernel is compiled with ``cache=True``: this script runs each public path that uses one on
a tiny input -- the Cox fit (serial and parallel, 5 and any number of covariates), the two-arm
trial statistics, minimization, the sequential comparison path and the plan's own sequential
simulation -- and numba writes the machine code next to the package (``__pycache__``), where
every later process finds it. ``benchmarks/bench_simulation.py`` measures first use cold and warm.
"""

from __future__ import annotations

import time


def main() -> int:
    t0 = time.perf_counter()
    from trialnb.plan import PLAN
    from trialnb.simulation import simulate, simulate_sequential

    small = PLAN.with_changes(n_patients=60)
    for engine_plan in (small, small.with_changes(statistic="logrank", censor_months=None, final_analysis="events"),
                        small.with_changes(statistic="stratified_logrank")):
        simulate(engine_plan, 40, seed=1)
        simulate_sequential(engine_plan, 40, seed=1)
    simulate(small, 40, seed=1, analyses=["cox_wald", "logrank", "fh01", "maxcombo", "milestone", "rmst"])
    print(f"numba kernels compiled and cached in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
