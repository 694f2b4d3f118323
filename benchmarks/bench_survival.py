"""Speed of the survival engine (trialnb.survival.fit_cox) against lifelines and R coxph loops.

Run:  .venv/bin/python benchmarks/bench_survival.py [--trials 10000] [--sample 30] [--r-sample 200]
      [--repeat 3]

Prints, for ``--trials`` simulated trials of the plan's design (236 patients, arm and the
minimization factors: 5 covariates, Efron ties, follow-up censored at 24 months at the planned
final date): the engine's numpy twin and its compiled kernel (parallel over trials, numba
threads shown); ``lifelines.CoxPHFitter`` on ``--sample`` fits and R
``coxph`` (``Rscript``, timed inside R with ``proc.time``) on ``--r-sample`` fits, both
extrapolated to ``--trials``; and the ratios, all measured in this run. The engine is timed
``--repeat`` times (every run printed, the best used for the ratios). Wall and CPU seconds
are shown with the load average: the machine is shared. Not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import timed, row  # noqa: E402  (benchmarks/ is the script folder)

from lifelines import CoxPHFitter  # noqa: E402

from trialnb import survival as sv  # noqa: E402
from trialnb.plan import PLAN  # noqa: E402
from trialnb.simulation import covariate_names, cut, simulate_trials  # noqa: E402

R_LOOP = r"""
suppressPackageStartupMessages({library(survival); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(a[1], simplifyVector = TRUE, simplifyMatrix = FALSE)
t0 <- proc.time()[["elapsed"]]
for (k in seq_along(d$time)) {
  X <- do.call(cbind, d$X[[k]])
  coxph(Surv(d$time[[k]], d$event[[k]]) ~ X, ties = "efron")
}
cat(proc.time()[["elapsed"]] - t0)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--sample", type=int, default=30, help="lifelines fits to time")
    ap.add_argument("--r-sample", type=int, default=200, help="R coxph fits to time")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each engine (best is used)")
    a = ap.parse_args()
    R = a.trials
    import numba

    print(f"numpy {np.__version__}; numba {numba.__version__} ({numba.get_num_threads()} threads); "
          f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}")
    trials = simulate_trials(PLAN.design, R, np.random.default_rng(a.seed))
    time_, event = cut(trials, PLAN.design.accrual_months + PLAN.analysis.censor_months, PLAN.analysis.censor_months)
    X = trials.covariates(PLAN.analysis.covariates)
    names = covariate_names(PLAN.analysis.covariates)
    print(f"{R:,} trials x {PLAN.design.n_patients} patients, {len(names)}-covariate Cox model, Efron ties\n")
    print(f"{'step':<50s} {'wall s':>9s} {'cpu s':>8s}")

    engines = ["numpy", "numba"]
    sv.fit_cox(time_[:4], event[:4], X[:4], engine="numba")  # compile (or load the cache) outside the timing
    wall = {}
    for eng in engines:
        runs = [timed(sv.fit_cox, time_, event, X, engine=eng) for _ in range(a.repeat)]
        fit = runs[0][0]
        walls = sorted(r[1] for r in runs)
        wall[eng] = walls[0]
        row(f"survival.fit_cox, {R:,} fits, engine={eng}", walls[0], min(r[2] for r in runs),
            f"(best of {a.repeat}; all: {', '.join(f'{r[1]:.3f}' for r in runs)}; "
            f"mean {fit.iterations.mean():.1f} Newton steps; {fit.n_failed} not converged, "
            f"{fit.n_infinite} with a coefficient flagged infinite)")

    k = min(a.sample, R)
    frames = []
    for r in range(k):
        df = pd.DataFrame(X[r], columns=list(names))
        df["T"], df["E"] = time_[r], event[r]
        frames.append(df)
    w0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for df in frames:
            CoxPHFitter().fit(df, "T", "E")
    per = (time.perf_counter() - w0) / k
    row(f"lifelines CoxPHFitter loop, {k} fits -> x{R:,}", per * R, None, f"({per * 1e3:.1f} ms per fit)")

    rs = shutil.which("Rscript")
    per_r = None
    if rs:
        k2 = min(a.r_sample, R)
        with tempfile.TemporaryDirectory() as tmp:
            inp, script = Path(tmp) / "in.json", Path(tmp) / "loop.R"
            inp.write_text(json.dumps({"time": time_[:k2].tolist(), "event": event[:k2].astype(int).tolist(),
                                       "X": [X[r].T.tolist() for r in range(k2)]}))
            script.write_text(R_LOOP)
            out = subprocess.run([rs, str(script), str(inp)], check=True, capture_output=True, text=True)
        per_r = float(out.stdout.strip()) / k2
        row(f"R coxph loop, {k2} fits -> x{R:,}", per_r * R, None, f"({per_r * 1e3:.2f} ms per fit, inside R)")
    else:
        print("R coxph loop: Rscript not found, skipped")

    print()
    for eng, wsec in wall.items():
        line = f"  fit_cox[{eng}]: {per * R / wsec:,.0f}x faster than lifelines"
        if per_r is not None:
            line += f", {per_r * R / wsec:,.1f}x faster than R coxph"
        print(line)
    if "numba" in wall:
        print(f"  numba kernel vs numpy path: {wall['numpy'] / wall['numba']:.1f}x")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
