"""Speed of the estimand analyses over simulated trials of the plan, and their null type-I errors.

Run:  .venv/bin/python benchmarks/bench_estimands.py [--trials 10000]

Prints, for ``--trials`` simulated trials of the plan's design (236 patients, the primary
endpoint: deaths within 24 months, at the planned final date):
* ``simulate(PLAN, trials)`` with the plan's own analysis (the adjusted Cox) -- the baseline of
  this run;
* ``simulate(PLAN, trials, analyses=[all of the registry])`` on the same trials: Cox, log-rank
  (plain and stratified), FH(0,1), MaxCombo (plain and stratified), milestone and RMST, as
  seconds and as a ratio to the baseline (target: 10,000 trials x the analyses in under 3 s);
* each analysis alone on one batch of cut trials (``trialnb.simulation.analyses.analyse_cut``);
* under the null (hazard ratio 1) the two-sided type-I error of every analysis with its
  Monte-Carlo SE and whether it lies within 2.576 SE of alpha.
Wall and CPU seconds are both shown with the 1-minute load average: the machine is shared.
Not a timed test.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import timed  # noqa: E402  (benchmarks/ is the script folder)

from trialnb.plan import PLAN  # noqa: E402
from trialnb.simulation import cut, simulate, simulate_trials  # noqa: E402
from trialnb.simulation.analyses import ANALYSES, analyse_cut  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=0, help="ignored (run.py passes the same options to every script)")
    args = ap.parse_args()
    R = args.trials
    names = list(ANALYSES)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    simulate(PLAN, 200, seed=99, analyses=names)  # warm-up (compilation, QMC points)

    _, w_cox, c_cox = timed(simulate, PLAN, R, seed=1)
    res, w_all, c_all = timed(simulate, PLAN, R, seed=1, analyses=names)
    print(f"\n{R:,} trials, the plan's design")
    print(f"  baseline simulate(the plan's Cox)   wall {w_cox:6.2f} s   cpu {c_cox:6.2f} s")
    print(f"  simulate(all {len(names)} analyses)          wall {w_all:6.2f} s   cpu {c_all:6.2f} s   "
          f"ratio to baseline {w_all / w_cox:4.2f}" + (f"   target < 3 s wall: {'met' if w_all < 3 else 'not met'}"
                                                          if R == 10_000 else ""))
    n = min(R, 2000)
    data = simulate_trials(PLAN.design, n, np.random.default_rng(5))
    h = PLAN.analysis.censor_months
    time_, event = cut(data, PLAN.design.accrual_months + h, h)
    print(f"  per analysis on {n:,} cut trials (one batch):")
    for name in names:
        _, w, c = timed(analyse_cut, time_, event, data, [name], PLAN.analysis, h)
        print(f"    {name:20s} wall {w:6.3f} s   cpu {c:6.3f} s")
    print("  power for benefit (MC SE):", ", ".join(f"{k} {res.benefit(k):.3f} ({res.mc_se(res.benefit(k), k):.3f})"
                                                    for k in names))

    null, w_null, _ = timed(simulate, PLAN, R, seed=2, truth={"hazard_ratio": 1.0}, analyses=names)
    a = PLAN.analysis.alpha
    lim = 2.576 * math.sqrt(a * (1 - a) / R)
    print(f"\nnull two-sided type-I errors ({R:,} trials, alpha {a}, 99% MC limits {a - lim:.4f}-{a + lim:.4f}; "
          f"{w_null:.1f} s wall)")
    for k in names:
        p = null.rejection(k)
        print(f"  {k:20s} {p:.4f} (MC SE {null.mc_se(p, k):.4f})  {'within' if abs(p - a) <= lim else 'OUTSIDE'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
