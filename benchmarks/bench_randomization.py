"""How long does it take to allocate a whole trial? (a measurement, not a test)

    .venv/bin/python benchmarks/bench_randomization.py [--repeats 20]

Times allocating the trial's 236 patients (same patients, same seed) by Pocock-Simon
minimization and by complete randomization, each through ``run_procedure`` (one ``assign``
call per patient, one uniform each), plus minimization through the keyed ``AllocationLog``
kept in memory and written durably to a file (write + fsync per allocation, in a temporary
folder on this machine's disk), and one console click. Reports medians, the ratio to complete
randomization, and the ratio durable / in-memory log, so the figures can be compared across
machines.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from trialnb.randomization import (  # noqa: E402
    AllocationLog,
    CompleteRandomization,
    PocockSimon,
    run_procedure,
    simulate_patients,
)

N = 236


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    n = ap.parse_args(argv).repeats
    patients = simulate_patients(N, np.random.default_rng(1))

    complete = _median_seconds(lambda: run_procedure(CompleteRandomization(), patients, np.random.default_rng(2)), n)
    minim = _median_seconds(lambda: run_procedure(PocockSimon(), patients, np.random.default_rng(2)), n)

    key = b"benchmark key, not a secret one"

    def logged() -> None:
        log = AllocationLog.in_memory(PocockSimon(), seed=2, key=key)
        for i, p in enumerate(patients):
            log.allocate(p, patient_id=f"P{i}")

    audit = _median_seconds(logged, n)

    tmp = Path(tempfile.mkdtemp(prefix="bench-randomization-"))
    runs = iter(range(10**6))

    def durable() -> None:
        log = AllocationLog.create(tmp / f"log{next(runs)}.jsonl", PocockSimon(), seed=2, key=key)
        for i, p in enumerate(patients):
            log.allocate(p, patient_id=f"P{i}")
        log.close()

    disk = _median_seconds(durable, max(3, n // 4))

    from trialnb.widgets.randomization import RandomizationConsole

    console = RandomizationConsole(seed=3, log_dir=tmp / "console", key=key)
    ids = iter(range(10**6))

    def click() -> None:
        console.patient_id.value = f"C{next(ids)}"
        console.allocate()

    click_s = _median_seconds(click, max(n, 50))

    print(f"repeats per measurement: {n}; {N} patients per trial")
    print(f"complete randomization   {complete * 1e3:8.2f} ms per trial ({complete / N * 1e6:6.1f} µs per patient)")
    print(f"minimization (range)     {minim * 1e3:8.2f} ms per trial ({minim / complete:5.1f} x complete)")
    print(f"minimization + in-memory log {audit * 1e3:8.2f} ms per trial ({audit / complete:5.1f} x complete)")
    print(f"minimization + durable log   {disk * 1e3:8.2f} ms per trial ({disk / complete:5.1f} x complete; "
          f"{disk / audit:5.1f} x the in-memory log; {disk / N * 1e3:.2f} ms per allocation)")
    print(f"console allocate()       {click_s * 1e3:8.2f} ms per click (durable log; re-verifies the file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
