"""Servers the browser tests drive: free loopback ports, start/stop a process group, wait for
HTTP, and the Voilà command line of `make present` (read from ``make -n present`` so the tests
run exactly what users run). The session fixture ``voila_server`` in conftest.py uses these;
tests import them directly (tests/ is on sys.path)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=3):
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    raise RuntimeError(f"{url} not answering after {timeout} s:\n{log.read_text()[-3000:]}")


def start(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


_ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def present_command(port: int, **make_vars: str) -> tuple[dict[str, str], list[str]]:
    """The Voilà command line of `make present` with our port, as (environment variables the
    recipe sets, argv)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    extra = [f"{k}={v}" for k, v in make_vars.items()]
    out = subprocess.run(["make", "-s", "-n", "present", f"VOILA_PORT={port}", *extra], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if "voila" in ln and not ln.lstrip().startswith("echo"))
    words = shlex.split(line)
    assignments: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, value = _ASSIGNMENT.match(words.pop(0)).groups()
        assignments[name] = value
    words[0] = str(BIN / "voila") if not Path(words[0]).is_absolute() else words[0]
    assert f"--port={port}" in words and "--Voila.ip=127.0.0.1" in words and "--no-browser" in words
    return assignments, words


@dataclass(frozen=True)
class VoilaServer:
    """A running `make present`: its URL, process id, log file and command line."""
    url: str
    pid: int
    log: Path
    command: tuple[str, ...]
    env: dict[str, str]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def kernels_under(pid: int) -> int:
    """ipykernel processes under ``pid`` (Voilà has no kernel listing for its pages)."""
    import psutil

    n = 0
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                n += 1
        except psutil.Error:  # exited while we looked
            pass
    return n
