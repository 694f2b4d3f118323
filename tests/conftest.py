"""Shared fixtures. External tools (R, Chromium) are required in CI and optional elsewhere:
outside CI a missing tool skips its tests with a reason; with CI=true it fails them, so a
required suite can never skip silently in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path to Rscript with rpact, survival, metafor, cmprsk, riskRegression and jsonlite installed
    (Debian r-cran-rpact, r-cran-survival, r-cran-metafor, r-cran-cmprsk, r-cran-riskregression,
    r-cran-jsonlite: the reference scripts write their values with jsonlite)."""
    exe = shutil.which("Rscript")
    if exe is None:
        _missing("Rscript not found (apt-get install r-base-core r-cran-rpact r-cran-survival r-cran-metafor "
                 "r-cran-cmprsk r-cran-riskregression r-cran-jsonlite)")
    for pkg in ("rpact", "survival", "metafor", "cmprsk", "riskRegression", "jsonlite"):
        ok = subprocess.run([exe, "-e", f"library({pkg})"], capture_output=True).returncode == 0
        if not ok:
            _missing(f"R package {pkg} not installed (apt-get install r-cran-{pkg.lower()})")
    return exe


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path to Debian's Chromium for Playwright (never `playwright install`)."""
    exe = "/usr/bin/chromium"
    if not Path(exe).exists():
        _missing("Debian chromium not installed at /usr/bin/chromium (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("python playwright not installed")
    return exe


@pytest.fixture(scope="session")
def voila_server(tmp_path_factory):
    """`make present` running on a free loopback port (its exact command line, from
    ``make -n present``), shared by the browser and kernel-culling tests; stopped at the end."""
    from servers import VoilaServer, free_port, present_command, start, stop, wait_http

    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    assignments, cmd = present_command(port)
    proc = start(cmd, log, env={**os.environ, **assignments})
    server = VoilaServer(f"http://127.0.0.1:{port}", proc.pid, log, tuple(cmd), assignments)
    try:
        wait_http(server.url + "/", proc, log)
        yield server
    finally:
        stop(proc)
