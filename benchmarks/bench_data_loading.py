"""Time, peak memory and message size of trialnb.data.load_trial as the file grows: linear or not,
and how lean against pandas.read_csv of the same file.

Run:  .venv/bin/python benchmarks/bench_data_loading.py [--max-rows 16000] [--memory-rows 1000000]

Part 1, time and message (in this process). Two files per size n (doubling from 1,000 rows):
``valid`` (the shipped trial rows repeated, each repeat under its own letters so trial
numbers stay in randomization order: the file loads) and ``duplicates`` (one patient row
repeated n times: n - 1 duplicate ids, the case that took 58 s and a 376 MB message before).
Printed per size: wall and CPU seconds, the CPU ratio to the previous size (about 2 for
linear time, 4 for quadratic) and the length of the error message.

Part 2, peak memory (issue 24: 1,000,000 CRF rows took 2.4 GB). For each size (doubling up to
``--memory-rows``), two fresh processes load the same ``valid`` file: ``pandas.read_csv`` (the
baseline, default options) and ``trialnb.data.load_trial``. Each reports its peak resident
memory above what it held after its imports (``resource.getrusage`` maxrss) and its CPU
seconds. Printed: both peaks in MB, the ratio trialnb / pandas, trialnb's bytes per row, and
the ratio to the previous size for memory and CPU (about 2: linear). Not a timed test: the
machine is shared, so read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb.data import load_trial  # noqa: E402
from trialnb.errors import TrialDataError

ROOT = Path(__file__).resolve().parents[1]


def _letters(k: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'BA', ...: the letters of one repeat of the shipped rows."""
    out = ""
    while True:
        out = chr(65 + k % 26) + out
        k //= 26
        if not k:
            return out


def make_valid(path: Path, n: int) -> Path:
    lines = (ROOT / "data" / "trial_protocol.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        for k in range(n):
            f = rows[k % len(rows)].split(",")
            f[0], f[1] = f"P{_letters(k // len(rows))}{k % len(rows) + 1:03d}", f"S{k + 1:07d}"
            fh.write(",".join(f) + "\n")
    return path


def make_files(folder: Path, n: int) -> dict[str, Path]:
    lines = (ROOT / "data" / "trial_protocol.csv").read_text(encoding="utf-8").splitlines()
    out = {"valid": make_valid(folder / f"valid_{n}.csv", n), "duplicates": folder / f"dups_{n}.csv"}
    out["duplicates"].write_text("\n".join([lines[0]] + [lines[1]] * n) + "\n", encoding="utf-8")
    return out


def measure(path: Path) -> tuple[float, float, int, int]:
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        load_trial(path)
        nprob, msg = 0, 0
    except TrialDataError as exc:
        nprob, msg = len(exc.problems), len(str(exc))
    return time.perf_counter() - w0, time.process_time() - c0, nprob, msg


_CHILD = r"""
import json, resource, sys, time
import pandas as pd
from trialnb.data import load_trial
from trialnb.errors import TrialDataError
which, path = sys.argv[1], sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c0 = time.process_time()
if which == "pandas":
    rows = len(pd.read_csv(path))
else:
    rows = len(load_trial(path))
cpu = time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": rows, "cpu": cpu, "peak_kb": peak - base}))
"""


def peak(which: str, path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", _CHILD, which, str(path)], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT)  # cwd: this checkout's trialnb is the one imported
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=16_000, help="largest file of part 1 (time and message)")
    ap.add_argument("--memory-rows", type=int, default=1_000_000, help="largest file of part 2 (peak memory)")
    args, _ = ap.parse_known_args(argv)  # run.py may pass other scripts' options
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    print(f"{'file':<11} {'rows':>7} {'wall s':>8} {'cpu s':>7} {'x prev':>7} {'problems':>9} {'message chars':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        n, prev = 1_000, {}
        while n <= args.max_rows:
            for kind, path in make_files(Path(tmp), n).items():
                wall, cpu, nprob, msg = measure(path)
                ratio = f"{cpu / prev[kind]:.2f}" if kind in prev else "-"
                prev[kind] = cpu
                print(f"{kind:<11} {n:>7} {wall:>8.3f} {cpu:>7.3f} {ratio:>7} {nprob:>9} {msg:>14}", flush=True)
            n *= 2
        print("\npeak memory above imports, fresh process each (baseline: pandas.read_csv of the same file)")
        print(f"{'rows':>9} {'MB file':>8} {'pandas MB':>10} {'trialnb MB':>11} {'ratio':>6} {'B/row':>6} "
              f"{'mem x prev':>10} {'pandas cpu':>10} {'trialnb cpu':>11} {'cpu x prev':>10}")
        n = max(args.memory_rows // 16, 1_000)
        last: dict | None = None
        while n <= args.memory_rows:
            path = make_valid(Path(tmp) / f"mem_{n}.csv", n)
            base, ours = peak("pandas", path), peak("trialnb", path)
            assert base["rows"] == ours["rows"] == n
            mem_x = f"{ours['peak_kb'] / last['peak_kb']:.2f}" if last and last["peak_kb"] else "-"
            cpu_x = f"{ours['cpu'] / last['cpu']:.2f}" if last else "-"
            print(f"{n:>9} {path.stat().st_size / 1e6:>8.1f} {base['peak_kb'] / 1024:>10.0f} "
                  f"{ours['peak_kb'] / 1024:>11.0f} {ours['peak_kb'] / max(base['peak_kb'], 1):>6.2f} "
                  f"{ours['peak_kb'] * 1024 / n:>6.0f} {mem_x:>10} {base['cpu']:>10.2f} {ours['cpu']:>11.2f} "
                  f"{cpu_x:>10}", flush=True)
            path.unlink()
            last = ours
            n *= 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
