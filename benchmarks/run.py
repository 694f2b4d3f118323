#!/usr/bin/env python3
"""Run every benchmark script in this folder, one after the other (``make benchmark``).

Each ``bench_*.py`` prints its own figures as ratios against a baseline measured in the same
run (the machine is shared and noisy). Arguments after ``--`` go to every script, e.g.
``python benchmarks/run.py bench_simulation -- --trials 2000``. Exit status is non-zero if a
script fails. This is a measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    scripts = sorted(HERE.glob("bench_*.py"))
    if names:
        scripts = [s for s in scripts if s.stem in names]
        unknown = set(names) - {s.stem for s in scripts}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
                  f"available: {', '.join(s.stem for s in sorted(HERE.glob('bench_*.py')))}", file=sys.stderr)
            return 2
    failed = []
    for script in scripts:
        print(f"\n===== {script.stem} =====", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, str(script), *extra])
        print(f"----- {script.stem}: exit {rc}, {time.perf_counter() - t0:.1f} s wall", flush=True)
        if rc:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
