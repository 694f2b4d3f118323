"""Coverage of the next-look prediction interval: model averaging vs the single best model.

Run:  .venv/bin/python benchmarks/bench_prediction_coverage.py [--replicates 400]

Replicate trials with a known future (236 patients, Poisson enrollment 6.5 a month, 1:1 coin,
deaths with control 2-year survival 0.60 and hazard ratio 0.50, Weibull shape 1 (exponential),
0.7 (falling hazard) or 1.3 (rising hazard), 10% drop-out by 2 years) are cut at months 12, 20
and 30, and the month of a target number of primary-endpoint deaths (30, 40, 60) is predicted
with ``enrollment_model = death_model = "average"`` (the default, AIC weights) and ``"best"``
(the AIC-best model alone); trials with no death yet or the target already reached at the cut-off
are skipped (and counted). Prints the share of 80% intervals that contain the true month, with
its Monte-Carlo standard error. The module docstring of trialnb.monitoring.prediction quotes
this table (400 replicates). A measurement, not a test (tests/test_prediction_coverage.py holds
the default's coverage); about 3 minutes with 400 replicates on the shared 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb.monitoring import predict_deaths  # noqa: E402

N = 236
CASES = ((12.0, 30), (20.0, 40), (30.0, 60))


def trial(rng: np.random.Generator, shape: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    entry = np.cumsum(rng.standard_exponential(N) / 6.5)
    h24 = -math.log(0.60) * np.where(rng.random(N) < 0.5, 0.50, 1.0)  # cumulative hazard at 24 months
    t_death = 24.0 * (rng.standard_exponential(N) / h24) ** (1.0 / shape)
    t_loss = rng.standard_exponential(N) / (-math.log(0.90) / 24.0)
    return entry, t_death, t_loss


def as_of(entry: np.ndarray, t_death: np.ndarray, t_loss: np.ndarray, cutoff: float) -> pd.DataFrame:
    keep = entry <= cutoff
    e, td, tl = entry[keep], t_death[keep], t_loss[keep]
    dead = (td <= tl) & (e + td <= cutoff)
    return pd.DataFrame({"entry_month": e, "os_months": np.where(dead, td, np.minimum(np.minimum(td, tl), cutoff - e)),
                         "death": dead.astype(int)})


def true_month(entry: np.ndarray, t_death: np.ndarray, t_loss: np.ndarray, k: int) -> float:
    ok = (t_death <= t_loss) & (t_death <= 24.0)
    dates = np.sort(entry[ok] + t_death[ok])
    return float(dates[k - 1]) if dates.size >= k else math.inf


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=400)
    a, _ = ap.parse_known_args()  # run.py passes the same options to every script
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}; {a.replicates} replicate trials per row, "
          "500 simulations each; share of 80% intervals containing the true month (MC SE)\n")
    print(f"{'death times':>22s} {'cut-off':>8s} {'target':>7s} {'average':>15s} {'best':>15s} {'seconds':>8s}")
    for shape in (1.0, 0.7, 1.3):
        for cutoff, k in CASES:
            rng = np.random.default_rng(0)
            hits: dict[str, list[bool]] = {"average": [], "best": []}
            skipped = 0
            t0 = time.perf_counter()
            for r in range(a.replicates):
                entry, td, tl = trial(rng, shape)
                df = as_of(entry, td, tl, cutoff)
                truth = true_month(entry, td, tl, k)
                observed = ((df["death"] == 1) & (df["os_months"] <= 24)).sum()
                if not 0 < observed < k:  # nothing to predict, or no death to fit a hazard to
                    skipped += 1
                    continue
                for mode in hits:
                    p = predict_deaths(df, cutoff, k, n_planned=N, n_sims=500, seed=r, enrollment_model=mode,
                                       death_model=mode)
                    hits[mode].append(p.lower_month <= truth <= p.upper_month)
            cells = []
            for h in hits.values():
                c = float(np.mean(h))
                cells.append(f"{c:.3f} ({math.sqrt(c * (1 - c) / len(h)):.3f})")
            label = "exponential" if shape == 1 else f"Weibull shape {shape:g}"
            print(f"{label:>22s} {cutoff:8.1f} {k:7d} {cells[0]:>15s} {cells[1]:>15s} {time.perf_counter() - t0:8.1f}"
                  + (f"   ({skipped} trial(s) skipped: target reached or no death at the cut-off)" if skipped else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
