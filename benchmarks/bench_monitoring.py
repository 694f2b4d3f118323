"""Speed of trialnb.monitoring against R rpact, measured in the same run.

Run:  .venv/bin/python benchmarks/bench_monitoring.py [--repeat 5]

Times, per call, ``design()`` (boundaries + characteristics) for four designs and
``analyse()`` for a two-look interim, and the same calls in rpact 3.3.4
(``getDesignGroupSequential`` + ``getDesignCharacteristics``; ``getAnalysisResults`` at its
default tolerance) in one Rscript process, then prints the ratio rpact / trialnb. Wall seconds
on a shared machine (the load average is printed). A measurement, not a test. Needs Rscript
with rpact for the comparison column; without it only trialnb is timed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb.monitoring import analyse, design  # noqa: E402

CASES = [
    ("asOF, 3 looks", dict(k=3, type_of_design="asOF"), "kMax = 3, typeOfDesign = 'asOF'"),
    ("OF, 5 looks", dict(k=5, type_of_design="OF"), "kMax = 5, typeOfDesign = 'OF'"),
    ("asOF + bsOF non-binding, 3 looks", dict(k=3, type_of_design="asOF", type_beta_spending="bsOF"),
     "kMax = 3, typeOfDesign = 'asOF', typeBetaSpending = 'bsOF'"),
    ("asOF + bsP binding, 4 looks", dict(k=4, type_of_design="asOF", type_beta_spending="bsP", binding_futility=True),
     "kMax = 4, typeOfDesign = 'asOF', typeBetaSpending = 'bsP', bindingFutility = TRUE"),
]
ANALYSIS = ("analyse: asOF 3 looks, interim at look 2",
            "kMax = 3, typeOfDesign = 'asOF', informationRates = c(0.3, 0.7, 1)")


def per_call(fn, repeat: int) -> float:
    fn()  # warm-up (imports, caches)
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def rpact_times(repeat: int) -> list[float] | None:
    exe = shutil.which("Rscript")
    if exe is None:
        return None
    lines = ["suppressPackageStartupMessages(library(rpact))", f"n <- {repeat}"]
    for _, _, rargs in CASES:
        lines.append(
            "cat('TIME', system.time(for (i in 1:n) "
            f"getDesignCharacteristics(getDesignGroupSequential({rargs})))[['elapsed']] / n, '\\n')"
        )
    lines.append(
        f"d <- getDesignGroupSequential({ANALYSIS[1]}); "
        "ds <- getDataset(overallEvents = c(30, 72), overallLogRanks = c(-1.2, -2.4)); "
        "cat('TIME', system.time(for (i in 1:n) "
        "suppressMessages(getAnalysisResults(d, ds, directionUpper = FALSE)))[['elapsed']] / n, '\\n')"
    )
    proc = subprocess.run([exe, "-e", "; ".join(lines)], capture_output=True, text=True)
    if proc.returncode != 0:
        print("rpact timing failed:", proc.stderr.strip()[:300])
        return None
    # rpact prints progress lines on stdout; keep only ours
    return [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("TIME ")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    a, _ = ap.parse_known_args()
    print(f"cores {os.cpu_count()}; load average {os.getloadavg()[0]:.2f}; {a.repeat} calls each\n")
    mine = [per_call(lambda kw=kw: design(**kw), a.repeat) for _, kw, _ in CASES]
    d = design(3, type_of_design="asOF", information_rates=[0.3, 0.7, 1])
    mine.append(per_call(lambda: analyse(d, [30, 72], [-1.2, -2.4], direction_upper=False), a.repeat))
    theirs = rpact_times(a.repeat)
    labels = [c[0] for c in CASES] + [ANALYSIS[0]]
    print(f"{'call':<46s} {'trialnb s':>10s} {'rpact s':>10s} {'rpact/trialnb':>14s}")
    for i, label in enumerate(labels):
        r = theirs[i] if theirs else float("nan")
        print(f"{label:<46s} {mine[i]:10.4f} {r:10.4f} {r / mine[i]:14.1f}")


if __name__ == "__main__":
    main()
