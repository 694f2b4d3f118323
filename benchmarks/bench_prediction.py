"""Speed of the next-look prediction (trialnb.monitoring.predict_deaths) on the protocol's trial.

Run:  .venv/bin/python benchmarks/bench_prediction.py [--sims 2000] [--repeat 3]

The shipped trial (data/trial_protocol.csv, 236 planned patients) is cut at months 12, 20 and
28.5 (patients randomized by then, follow-up to the cut-off), and the month of the 66th
primary-endpoint death is predicted with ``--sims`` simulations:

* the baseline of this run: the same prediction (Poisson enrollment, exponential deaths and
  drop-out, the same Gamma posteriors) written as a loop over simulations, each simulation
  vectorised over patients, the way one would write it first;
* ``predict_deaths`` with the same fixed models (the ratio loop / vectorised, and the medians
  of both, which must agree within Monte-Carlo error);
* ``predict_deaths`` with the defaults (3 enrollment and 3 death models fitted, averaged by
  AIC weight), and its scaling in the number of simulations.

Best of ``--repeat`` wall seconds; the 1-minute load average is printed (the machine is shared).
A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _timing import timed  # noqa: E402  (benchmarks/ is the script folder)

from trialnb.data import load_trial  # noqa: E402
from trialnb.monitoring import predict_deaths  # noqa: E402

TARGET = 66
CENSOR = 24.0


def cut(trial: pd.DataFrame, cutoff: float) -> pd.DataFrame:
    keep = trial["entry_month"] <= cutoff
    e, o, d = (trial.loc[keep, c].to_numpy() for c in ("entry_month", "os_months", "death"))
    dead = (d == 1) & (e + o <= cutoff)
    return pd.DataFrame({"entry_month": e, "os_months": np.where(dead, o, np.minimum(o, cutoff - e)),
                         "death": dead.astype(int)})


def loop_prediction(df: pd.DataFrame, cutoff: float, n_planned: int, n_sims: int, seed: int) -> np.ndarray:
    """The baseline: one simulation at a time (Poisson enrollment, exponential death and drop-out
    with their Gamma(count + 1/2, exposure) posteriors)."""
    rng = np.random.default_rng(seed)
    entry, os_, death = (df[c].to_numpy(dtype=float) for c in ("entry_month", "os_months", "death"))
    t = np.minimum(os_, CENSOR)
    primary = (death == 1) & (os_ <= CENSOR)
    lost = (death == 0) & (os_ < np.minimum(cutoff - entry, CENSOR) - 0.01)
    at_risk = (death == 0) & ~lost & (cutoff - entry < CENSOR)
    u0 = cutoff - entry[at_risk]
    needed, n_new = TARGET - int(primary.sum()), n_planned - len(df)
    months = np.empty(n_sims)
    for s in range(n_sims):
        lam = rng.gamma(primary.sum() + 0.5) / t.sum()
        gam = rng.gamma(lost.sum() + 0.5) / t.sum()
        rate = rng.gamma(len(df) + 0.5) / cutoff
        new = cutoff + np.cumsum(rng.standard_exponential(n_new)) / rate
        start = np.concatenate([entry[at_risk], new])
        u = np.concatenate([u0, np.zeros(n_new)])
        td = u + rng.standard_exponential(start.size) / lam
        tl = u + rng.standard_exponential(start.size) / gam
        cal = np.sort(np.where((td <= CENSOR) & (td <= tl), start + td, np.inf))
        months[s] = cal[needed - 1]
    return months


def best(fn, repeat: int):
    runs = [timed(fn) for _ in range(repeat)]
    return runs[0][0], min(r[1] for r in runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sims", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    a, _ = ap.parse_known_args()  # run.py passes the same options to every script
    trial = load_trial(ROOT / "data" / "trial_protocol.csv")
    n_planned = len(trial)
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {a.sims:,} simulations, "
          f"best of {a.repeat}; target: the {TARGET}th primary-endpoint death of {n_planned} planned patients\n")
    predict_deaths(cut(trial, 20.0), 20.0, TARGET, n_planned=n_planned, n_sims=100)  # warm-up (imports)
    print(f"{'cut-off':>8s} {'randomized':>10s} {'loop s':>8s} {'vector s':>9s} {'loop/vector':>12s} "
          f"{'median loop':>12s} {'median vector':>14s} {'default s':>10s} {'default median':>15s}")
    for c in (12.0, 20.0, 28.5):
        df = cut(trial, c)
        loop, w_loop = best(lambda df=df, c=c: loop_prediction(df, c, n_planned, a.sims, 1), a.repeat)
        fixed, w_vec = best(lambda df=df, c=c: predict_deaths(df, c, TARGET, n_planned=n_planned, n_sims=a.sims, seed=1,
                                                   enrollment_model="poisson", death_model="exponential"), a.repeat)
        default, w_def = best(lambda df=df, c=c: predict_deaths(df, c, TARGET, n_planned=n_planned, n_sims=a.sims,
                                                                seed=1), a.repeat)
        print(f"{c:8.1f} {len(df):10d} {w_loop:8.3f} {w_vec:9.3f} {w_loop / w_vec:12.1f} "
              f"{np.median(loop):12.2f} {fixed.median_month:14.2f} {w_def:10.3f} {default.median_month:15.2f}")
    df = cut(trial, 20.0)
    print("\nscaling of the default prediction at month 20 (seconds per 1,000 simulations):")
    for n in (500, 2000, 10_000):
        _, w = best(lambda n=n: predict_deaths(df, 20.0, TARGET, n_planned=n_planned, n_sims=n, seed=1), a.repeat)
        print(f"  {n:6,d} simulations  wall {w:7.3f} s   {1000 * w / n:6.3f} s per 1,000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
