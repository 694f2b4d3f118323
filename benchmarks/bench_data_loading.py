"""Time and message size of trialnb.data.load_trial as the file grows: linear or not.

Run:  .venv/bin/python benchmarks/bench_data_loading.py [--max-rows 16000]

Two files per size n (doubling from 1,000 rows): ``valid`` (the shipped trial rows repeated
with new trial numbers; loads, apart from one randomization-order problem per repeat of the
236 rows) and ``duplicates`` (one patient row repeated n times: n - 1 duplicate ids, the case
that took 58 s and a 376 MB message before). Printed per size: wall seconds, the ratio to the
previous size (about 2 for linear time, 4 for quadratic) and the length of the error message.
The baseline is the smallest size measured in the same run. Not a timed test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb.data import TrialDataError, load_trial  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def make_files(folder: Path, n: int) -> dict[str, Path]:
    lines = (ROOT / "data" / "trial_protocol.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    valid = [header]
    for k in range(n):
        f = rows[k % len(rows)].split(",")
        f[0], f[1] = f"P{k + 1:06d}", f"S{k + 1:06d}"
        valid.append(",".join(f))
    out = {"valid": folder / f"valid_{n}.csv", "duplicates": folder / f"dups_{n}.csv"}
    out["valid"].write_text("\n".join(valid) + "\n", encoding="utf-8")
    out["duplicates"].write_text("\n".join([header] + [rows[0]] * n) + "\n", encoding="utf-8")
    return out


def measure(path: Path) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    try:
        load_trial(path)
        nprob, msg = 0, 0
    except TrialDataError as exc:
        nprob, msg = len(exc.problems), len(str(exc))
    return time.perf_counter() - t0, nprob, msg


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-rows", type=int, default=16_000)
    args, _ = ap.parse_known_args(argv)  # run.py may pass other scripts' options
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")
    print(f"{'file':<11} {'rows':>7} {'seconds':>8} {'x prev':>7} {'problems':>9} {'message chars':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        n, prev = 1_000, {}
        while n <= args.max_rows:
            for kind, path in make_files(Path(tmp), n).items():
                secs, nprob, msg = measure(path)
                ratio = f"{secs / prev[kind]:.2f}" if kind in prev else "-"
                prev[kind] = secs
                print(f"{kind:<11} {n:>7} {secs:>8.3f} {ratio:>7} {nprob:>9} {msg:>14}", flush=True)
            n *= 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
