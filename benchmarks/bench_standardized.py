"""Speed of the standardized two-year survival (G-computation with its influence function) over
simulated trials, and of the tipping-point analysis of one trial.

Run:  .venv/bin/python benchmarks/bench_standardized.py [--trials 10000]

Prints, for ``--trials`` simulated trials of the plan (236 patients, minimization):
* ``simulate(PLAN, analyses="cox_wald")`` end to end (the baseline of this run);
* ``simulate(PLAN, analyses=["cox_wald", "standardized_milestone"])``: the same trials with the
  standardized difference added (it reuses the Cox fits), as seconds and as a ratio to the
  baseline;
* ``analysis.tipping_point`` of the shipped protocol file (default grid 7 x 7, 50 imputations:
  2,450 completed data sets, each analysed three ways), as seconds and as a ratio to one
  ``analysis.primary`` of the same file times the number of completed data sets.
Wall and CPU seconds, with the 1-minute load average: the machine is shared. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import timed  # noqa: E402  (benchmarks/ is the script folder)

from trialnb import analysis as an  # noqa: E402
from trialnb.data import load_trial  # noqa: E402
from trialnb.plan import PLAN  # noqa: E402
from trialnb.resources import example_trial  # noqa: E402
from trialnb.simulation import simulate  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=0, help="ignored (run.py passes the same options to every script)")
    args = ap.parse_args()
    R = args.trials
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    simulate(PLAN, 200, seed=99, analyses=["cox_wald", "standardized_milestone"])  # warm-up (compilation)
    _, w0, c0 = timed(simulate, PLAN, R, seed=1, analyses="cox_wald")
    _, w1, c1 = timed(simulate, PLAN, R, seed=1, analyses=["cox_wald", "standardized_milestone"])
    print(f"\n{R:,} trials of the plan")
    print(f"  baseline simulate(cox_wald)                  wall {w0:6.2f} s   cpu {c0:6.2f} s")
    print(f"  + standardized_milestone on the same trials  wall {w1:6.2f} s   cpu {c1:6.2f} s   "
          f"ratio to baseline {w1 / w0:4.2f}")
    df = load_trial(example_trial("protocol"))
    _, wp, _ = timed(an.primary, df)
    tp, wt, ct = timed(an.tipping_point, df)
    n_sets = len(tp.deltas_a) * len(tp.deltas_b) * tp.n_imputations
    print(f"\ntipping point of trial_protocol.csv: {n_sets:,} completed data sets")
    print(f"  one analysis.primary                          wall {wp:6.3f} s")
    print(f"  analysis.tipping_point                        wall {wt:6.2f} s   cpu {ct:6.2f} s   "
          f"ratio to {n_sets:,} x one primary {wt / (n_sets * wp):5.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
