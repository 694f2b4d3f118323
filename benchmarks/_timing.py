"""Timing helpers shared by the benchmark scripts (run as scripts from any folder: each script
puts ``benchmarks/`` on ``sys.path`` by being in it)."""

from __future__ import annotations

import time
from typing import Any, Callable


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``fn(*args, **kwargs)`` with its wall and CPU seconds: (result, wall, cpu)."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - w0, time.process_time() - c0


def row(label: str, wall: float, cpu: float | None = None, note: str = "", width: int = 50) -> None:
    """One line of a timing table: label, wall seconds, CPU seconds (blank if None), note."""
    cpu_s = f"{cpu:8.2f}" if cpu is not None else " " * 8
    print(f"{label:<{width}s} {wall:9.3f} {cpu_s}  {note}")
