"""How fast does the sample-size explorer react? (a measurement, not a test)

    .venv/bin/python benchmarks/bench_sample_size.py [--repeats 200]

Times one full widget update (a control's ``.value`` is set, the callback solves the design,
computes when the deaths arrive, the power curve and the SVG, refreshes the export section's
settings link and code, and assigns the outputs) and, in the same run, a trivial baseline (one
bare :func:`trialnb.sample_size.schoenfeld_events` call), the pure computation alone (``solve``
+ ``power_curve``), an update without the export refresh (what export and reproduce cost), and
the two other quantities solved for (power, detectable hazard ratio: a root search). Reports
medians and the ratio to the baseline, so the figure can be compared across machines. Target:
an update under 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trialnb.sample_size import power_curve, schoenfeld_events, solve  # noqa: E402
from trialnb.widgets.sample_size import HR_GRID, SampleSizeExplorer  # noqa: E402


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=200)
    n = ap.parse_args(argv).repeats

    panel = SampleSizeExplorer()
    kw = panel.settings()
    hrs = (0.50, 0.51)
    baseline = _median_seconds(lambda i: schoenfeld_events(hrs[i % 2]), n)

    def compute(i: int) -> None:
        res = solve(**{**kw, "hazard_ratio": hrs[i % 2]})
        power_curve(res.design.events_rounded, HR_GRID, kw["alpha"], kw["allocation_ratio"], kw["sided"], kw["method"])

    pure = _median_seconds(compute, n)

    def update(i: int) -> None:
        panel.hazard_ratio.value = hrs[i % 2]

    widget = _median_seconds(update, n)
    # a second control type, the method toggle
    methods = ("freedman", "schoenfeld")
    toggle = _median_seconds(lambda i: setattr(panel.method, "value", methods[i % 2]), n)
    # the same update without refreshing the export section (settings link, Python and R code)
    refresh = panel.export.refresh
    panel.export.refresh = lambda: None
    bare = _median_seconds(update, n)
    panel.export.refresh = refresh
    # the other answers: power of 236 patients, the hazard ratio they detect (a root search)
    panel.solve_for.value = "power"
    power_update = _median_seconds(update, n)
    panel.solve_for.value = "hazard_ratio"
    sizes = (236, 240)
    hr_update = _median_seconds(lambda i: setattr(panel.n_patients, "value", sizes[i % 2]), n)
    panel.solve_for.value = "n"

    print(f"repeats per measurement: {n}")
    print(f"baseline  schoenfeld_events call      {baseline * 1e6:9.1f} µs")
    print(f"pure      solve + power_curve         {pure * 1e6:9.1f} µs  ({pure / baseline:6.1f} x baseline)")
    print(f"widget    HR slider update            {widget * 1e3:9.3f} ms  ({widget / baseline:6.1f} x baseline)")
    print(f"widget    method toggle update        {toggle * 1e3:9.3f} ms  ({toggle / baseline:6.1f} x baseline)")
    print(f"widget    HR update, no export refresh {bare * 1e3:8.3f} ms  (export and reproduce add "
          f"{(widget - bare) * 1e3:.3f} ms, {widget / bare:.2f} x)")
    print(f"widget    solve for power, HR update  {power_update * 1e3:9.3f} ms  "
          f"({power_update / baseline:6.1f} x baseline)")
    print(f"widget    solve for HR, N update      {hr_update * 1e3:9.3f} ms  ({hr_update / baseline:6.1f} x baseline)")
    worst = max(widget, toggle, power_update, hr_update)
    print(f"target    < 20 ms per update: {'met' if worst < 0.020 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
