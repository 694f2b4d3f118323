"""How fast a dashboard opens under `make present`, with and without pre-heated kernels, and
what the pool costs in memory.

Run:  .venv/bin/python benchmarks/bench_dashboards.py [--rounds 2] [--pool 1]

Starts Voila exactly as `make present` does (its command line read from ``make -n present``),
first with ``VOILA_POOL=0`` (the baseline: every page load starts a kernel and runs the
notebook) and then with ``VOILA_POOL=<pool>`` (pre-heated kernels). For each dashboard it opens
the page in Debian Chromium ``--rounds`` times and times it from the request to the key number
on screen with the loading spinner gone; between loads it waits until the server's kernels are
idle (the pool refilled). The pages share one browser context, as a presenter's tabs do: a
first round warms its cache and is not counted. It prints the median seconds per dashboard, the ratio baseline /
pre-heated, and the memory of the idle kernels (RSS and USS, the memory a kernel alone holds)
with nobody connected. Wall seconds on a shared machine (the load average is printed). A
measurement, not a test. Needs /usr/bin/chromium and the venv's playwright and psutil.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the `make present` helpers the browser tests use

from servers import free_port, present_command, start, stop, wait_http  # noqa: E402

DASHBOARDS = {  # notebook: the CSS selector of its key number (as in tests/test_browser.py)
    "sample_size": ".trialnb-n-total",
    "randomization": ".trialnb-allocation",
    "bias": ".trialnb-bias-result",
    "operating_characteristics": ".trialnb-power",
    "monitoring": ".trialnb-monitor-decision",
    "evidence": ".trialnb-evidence-pos",
}
LOADED = ("() => !document.querySelector('#loading')"
          " || getComputedStyle(document.querySelector('#loading')).display === 'none'")


def kernels(pid: int) -> list:
    import psutil

    out = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                out.append(child)
        except psutil.Error:
            pass
    return out


def wait_idle(pid: int, expect: int, timeout: float = 300.0, quiet: float = 3.0) -> float:
    """Wait until at least ``expect`` kernels run under ``pid`` and together use under 5% of a
    CPU for ``quiet`` seconds (their notebooks have run); returns the seconds waited."""
    import psutil

    t0 = time.monotonic()
    since = None
    seen: dict[int, psutil.Process] = {}  # cpu_percent() measures from the previous call on the same object
    while time.monotonic() - t0 < timeout:
        for k in kernels(pid):
            seen.setdefault(k.pid, k)
        time.sleep(1.0)
        busy, alive = 0.0, 0
        for k in list(seen.values()):
            try:
                busy += k.cpu_percent(interval=None)
                alive += 1
            except psutil.Error:
                seen.pop(k.pid, None)
        if alive >= expect and busy < 5.0:
            since = since or time.monotonic()
            if time.monotonic() - since >= quiet:
                break
        else:
            since = None
    return time.monotonic() - t0


def memory(pid: int) -> tuple[int, float, float]:
    """(kernels, total RSS MB, total USS MB) of the kernels under ``pid``."""
    import psutil

    rss = uss = 0.0
    ks = kernels(pid)
    for k in ks:
        try:
            info = k.memory_full_info()
            rss += info.rss / 2**20
            uss += info.uss / 2**20
        except psutil.Error:
            pass
    return len(ks), rss, uss


def run(pool: int, rounds: int, browser) -> tuple[dict[str, list[float]], tuple[int, float, float], float]:
    port = free_port()
    assignments, cmd = present_command(port, VOILA_POOL=str(pool))
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_dashboards_{port}.log"
    proc = start(cmd, log, env={**os.environ, **assignments})
    times: dict[str, list[float]] = {name: [] for name in DASHBOARDS}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", proc, log)
        heat = wait_idle(proc.pid, expect=pool * len(DASHBOARDS))
        mem = memory(proc.pid)
        # one browser, as a presenter has: after the first page its cache holds Voila's scripts
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        try:
            for r in range(rounds + 1):
                for name, selector in DASHBOARDS.items():
                    page = ctx.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{url}/voila/render/{name}.ipynb", timeout=180_000)
                    page.wait_for_selector(selector, timeout=180_000)
                    page.wait_for_function(LOADED, timeout=180_000)
                    if r:  # round 0 warms the browser's cache and is not counted
                        times[name].append(time.perf_counter() - t0)
                    page.close()
                    wait_idle(proc.pid, expect=pool * len(DASHBOARDS))  # the pool refilled, the machine quiet
        finally:
            ctx.close()
        return times, mem, heat
    finally:
        stop(proc)
        log.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="page loads per dashboard and setting (default 2)")
    ap.add_argument("--pool", type=int, default=1, help="pre-heated kernels per dashboard (default 1, as make present)")
    args = ap.parse_args(argv)
    if not Path("/usr/bin/chromium").exists():
        print("needs /usr/bin/chromium (Debian chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            base, base_mem, _ = run(0, args.rounds, browser)
            hot, hot_mem, heat = run(args.pool, args.rounds, browser)
        finally:
            browser.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\nseconds from request to the key number on screen (median of {args.rounds}):")
    print(f"{'dashboard':<28s} {'no pool':>9s} {'pool ' + str(args.pool):>9s} {'ratio':>7s}")
    for name in DASHBOARDS:
        a, b = statistics.median(base[name]), statistics.median(hot[name])
        print(f"{name:<28s} {a:9.2f} {b:9.2f} {a / b:7.1f}x")
    every_a = statistics.median([t for v in base.values() for t in v])
    every_b = statistics.median([t for v in hot.values() for t in v])
    print(f"{'all dashboards':<28s} {every_a:9.2f} {every_b:9.2f} {every_a / every_b:7.1f}x")
    print(f"\nidle memory with nobody connected (the pool filled in {heat:.0f} s after start):")
    for label, (n, rss, uss) in (("no pool", base_mem), (f"pool {args.pool}", hot_mem)):
        per = f"; per kernel RSS {rss / n:.0f} MB, USS {uss / n:.0f} MB" if n else ""
        print(f"  {label:<8s} {n} kernels, RSS {rss:.0f} MB, USS {uss:.0f} MB{per}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
