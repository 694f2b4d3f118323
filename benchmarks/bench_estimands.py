"""Speed of the six estimand analyses over simulated trials, and their null type-I errors.

Run:  .venv/bin/python benchmarks/bench_estimands.py [--trials 10000]

Prints, for ``--trials`` simulated trials of the protocol design (236 patients):
* ``simulate(..., analysis="cox")`` end to end (the baseline of this run);
* ``simulate(..., analysis=[all six])``: Cox, log-rank, FH(0,1), MaxCombo, RMST and milestone
  on the same trials, as seconds and as a ratio to the baseline (the issue's target: 10,000
  trials x six analyses in under 3 s);
* each non-Cox analysis alone on one batch of simulated data (trialnb.fastsim_analyses);
* under the null (hazard ratio 1) the type-I error of every analysis with its Monte-Carlo SE
  and whether it lies within 2.576 SE of alpha.
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

from trialnb import fastsim as fs  # noqa: E402
from trialnb.fastsim_analyses import ANALYSES, analyse_trials  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=0, help="ignored (run.py passes the same options to every script)")
    args = ap.parse_args()
    R = args.trials
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; numba: {fs.HAVE_NUMBA}")
    fs.simulate(fs.Scenario(), 200, seed=99, analysis=list(ANALYSES))  # warm-up (compilation, QMC points)

    sc = fs.Scenario()
    _, w_cox, c_cox = timed(fs.simulate, sc, R, seed=1, analysis="cox")
    res, w_all, c_all = timed(fs.simulate, sc, R, seed=1, analysis=list(ANALYSES))
    print(f"\n{R:,} trials, protocol design")
    print(f"  baseline simulate(cox)          wall {w_cox:6.2f} s   cpu {c_cox:6.2f} s")
    print(f"  simulate(all six analyses)      wall {w_all:6.2f} s   cpu {c_all:6.2f} s   "
          f"ratio to baseline {w_all / w_cox:4.2f}   target < 3 s wall: {'met' if w_all < 3 else 'NOT met'}")
    data = fs.simulate_data(sc, min(R, 2000), np.random.default_rng(5))
    print(f"  per analysis on {data.time.shape[0]:,} trials (one batch):")
    for name in ANALYSES[1:]:
        _, w, c = timed(analyse_trials, data.time, data.event, data.arm, [name], sc.alpha, sc.horizon_months)
        print(f"    {name:10s} wall {w:6.3f} s   cpu {c:6.3f} s")
    print("  power (MC SE):", ", ".join(f"{k} {p:.3f} ({res.power_se_by_analysis[k]:.3f})"
                                        for k, p in res.power_by_analysis.items()))

    null, w_null, _ = timed(fs.simulate, fs.Scenario(hazard_ratio=1.0), R, seed=2, analysis=list(ANALYSES))
    a = sc.alpha
    lim = 2.576 * math.sqrt(a * (1 - a) / R)
    print(f"\nnull type-I errors ({R:,} trials, alpha {a}, 99% MC limits {a - lim:.4f}-{a + lim:.4f}; "
          f"{w_null:.1f} s wall)")
    for k, p in null.power_by_analysis.items():
        se = null.power_se_by_analysis[k]
        print(f"  {k:10s} {p:.4f} (MC SE {se:.4f})  {'within' if abs(p - a) <= lim else 'OUTSIDE'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
