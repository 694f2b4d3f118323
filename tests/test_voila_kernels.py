"""Voila started as `make present` starts it opens a dashboard from a pre-heated kernel and
frees the kernel of every closed dashboard page.

Pre-heated kernels (``--VoilaConfiguration.preheat_kernel=True``, ``default_pool_size``): Voila
keeps, for each dashboard, a pool of kernels that have already run the notebook, so a page opens
without waiting for the notebook to run; after each use the pool is filled again. Each page
load takes a kernel (~300 MB) and Voila refuses the page's shutdown request, so without culling
14 loads held 4.1 GB (issue 12). `make present` passes jupyter_server's culler options
(``--MappingKernelManager.cull_idle_timeout/cull_interval``, with ``cull_connected=False`` so
that the kernel of a page still open is never culled); Voila never culls a pooled kernel. This
test loads a dashboard 10 times in a real browser (Debian Chromium), closing each page, keeps
the last one open, and checks that within a minute at most the pools plus 2 kernels remain and
that the open dashboard still responds. Voila has no /api/kernels listing, so kernels are
counted as the ipykernel processes under the server. Bounded: about 10 loads plus at most 90 s
of waiting.
"""

from __future__ import annotations

import time

import pytest

from servers import ROOT, kernels_under  # tests/ is on sys.path
from test_browser import CHROMIUM_ARGS, move_slider

pytestmark = pytest.mark.browser

LOADS = 10
EXTRA_KERNELS = 2
WITHIN_S = 60.0
DASHBOARD = "sample_size"
DASHBOARDS = sorted(p.name for p in (ROOT / "notebooks" / "dashboards").glob("*.ipynb"))


def _pool_size(command: tuple[str, ...]) -> int:
    if "--VoilaConfiguration.preheat_kernel=True" not in command:
        return 0
    sizes = [a.split("=", 1)[1] for a in command if a.startswith("--VoilaConfiguration.default_pool_size=")]
    return max(0, int(sizes[0])) if sizes else 1


def test_make_present_culls_the_kernels_of_closed_pages(voila_server, chromium_path: str) -> None:
    from playwright.sync_api import sync_playwright

    assert (ROOT / "notebooks" / "dashboards" / f"{DASHBOARD}.ipynb").exists(), "run make outputs"
    url, pid = voila_server.url, voila_server.pid
    cmd = " ".join(voila_server.command)
    assert "--MappingKernelManager.cull_idle_timeout=" in cmd and "cull_connected=False" in cmd
    pools = _pool_size(voila_server.command) * len(DASHBOARDS)
    assert pools >= len(DASHBOARDS), "make present should keep a pre-heated kernel per dashboard"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            peak = 0
            started = time.monotonic()
            for i in range(LOADS):
                ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
                page = ctx.new_page()
                page.goto(f"{url}/voila/render/{DASHBOARD}.ipynb", timeout=120_000)
                page.wait_for_selector(".trialnb-n-total", timeout=120_000)
                peak = max(peak, kernels_under(pid))
                if i < LOADS - 1:
                    ctx.close()  # the presenter closes the tab (or reloads)
            open_page = page
            log = voila_server.log_text()
            # jupyter_server starts the culler with the first kernel and logs its settings
            assert "Culling kernels with idle durations" in log, "no kernel culler"
            assert "Using pre-heated kernel" in log, "no page was served from a pre-heated kernel"
            deadline = time.monotonic() + WITHIN_S
            counts = [kernels_under(pid)]
            while counts[-1] > pools + EXTRA_KERNELS and time.monotonic() < deadline:
                time.sleep(2)
                counts.append(kernels_under(pid))
            assert counts[-1] <= pools + EXTRA_KERNELS, (
                f"{counts[-1]} kernels still running {WITHIN_S:.0f} s after {LOADS} loads "
                f"({pools} pre-heated; peak {peak}; counts {counts})")
            # the kernel of the page still open is kept, and the dashboard still works
            assert kernels_under(pid) >= 1
            before = open_page.inner_text(".trialnb-n-total").strip()
            move_slider(open_page, ".trialnb-sample-size", "Hazard ratio", 5)
            end = time.monotonic() + 45
            while open_page.inner_text(".trialnb-n-total").strip() == before and time.monotonic() < end:
                open_page.wait_for_timeout(250)
            assert open_page.inner_text(".trialnb-n-total").strip() != before, "the open dashboard stopped responding"
            # A kernel that waited in the pool longer than the cull timeout and is handed to a
            # page: the page's scripts are held back 12 s (more than a culler interval), so a
            # culler pass certainly falls between hand-out and connection. The kernel must survive
            # (trialnb_voila.GraceKernelManager); the monitoring pool has been idle since start-up.
            while time.monotonic() - started < 55:
                time.sleep(1)
            ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
            late = ctx.new_page()

            held = []

            def slow_scripts(route):
                if route.request.resource_type == "script" and not held:  # the first script, once
                    held.append(route.request.url)
                    time.sleep(12)
                route.continue_()

            late.route("**/voila/static/**", slow_scripts)
            late.goto(f"{url}/voila/render/monitoring.ipynb", timeout=120_000)
            late.wait_for_selector(".trialnb-monitor-decision", timeout=120_000)
            assert held and "33 deaths" in late.inner_text(".trialnb-monitor-decision")  # rendered: the kernel survived
        finally:
            browser.close()
