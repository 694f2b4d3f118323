"""Bounded runs: what a simulation will cost, checked before it starts; its progress bar; a clean Ctrl-C.

Every simulation of the package that can be made arbitrarily large --
:func:`trialnb.simulation.simulate`, :func:`trialnb.simulation.simulate_sequential`,
:func:`trialnb.simulation.required_patients`, :func:`trialnb.assurance.simulate_assurance`,
:func:`trialnb.bayesian.futility_operating_characteristics` and
:func:`trialnb.bias.simulate_registry` -- follows the same four rules, written here once:

1. **Estimate first.** Before drawing anything it computes an :class:`Estimate` of its time and
   peak memory from its size (trials x patients x analyses or looks) and per-unit costs
   measured on the project's reference machine (a shared 2-core virtual machine; the costs and
   how they were measured are documented where they are defined, next to each simulator, and
   ``benchmarks/bench_simulation_resources.py`` re-measures them). Machines differ by a small
   factor: the estimate is there to refuse runs that are out of reach by orders of magnitude
   (years, terabytes), not to schedule a meeting; the progress bar shows the real rate.
2. **Refuse what cannot fit.** A run whose estimate exceeds the limits is refused with a
   :class:`~trialnb.errors.ResourceLimitError` that gives the estimate, the limit and how to
   raise it (``max_seconds=``, ``max_memory_gb=``; :data:`DEFAULT_MAX_SECONDS`,
   :func:`default_max_memory`).
3. **Work in bounded chunks.** Memory does not grow with the number of trials beyond the
   results kept (a few bytes per trial): trials are drawn in seed blocks and analysed in chunks
   sized by :data:`CHUNK_BYTES`. The chunk size never changes a result (each trial's numbers
   depend only on its seed block, which depends only on the seed and the trial size).
4. **Show progress, stop cleanly.** ``progress=None`` (default) shows a tqdm bar
   (``tqdm.auto``: a widget in notebooks, text in a terminal) when the run is estimated to take
   at least :data:`PROGRESS_AFTER_SECONDS` and the session is interactive (a terminal or a
   Jupyter kernel; never under pytest, never with ``TRIALNB_PROGRESS=0``); ``True`` or ``False``
   force it; a callable ``progress(done, total)`` is called after each chunk instead (a widget
   or a test can follow the run). Ctrl-C (``KeyboardInterrupt``, also raised from a progress
   callable) propagates at the next chunk boundary: the bar is closed and nothing is returned
   or cached.

This module is a leaf: it imports only :mod:`trialnb.errors`, :mod:`trialnb.validation` and
:mod:`trialnb.report` (tqdm is imported when a bar is shown).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Union

from .errors import ResourceLimitError
from .report import fmt_bytes, fmt_duration
from .validation import is_number

__all__ = ["CHUNK_BYTES", "DEFAULT_MAX_MEMORY_GB", "DEFAULT_MAX_SECONDS", "PROGRESS_AFTER_SECONDS", "Estimate",
           "Limits", "Progress", "ProgressArg", "check_progress", "default_max_memory", "limits", "progress",
           "show_progress"]

DEFAULT_MAX_SECONDS = 3600.0
"""Default time limit of one run (estimated seconds): an hour. Raise it with ``max_seconds=``."""

DEFAULT_MAX_MEMORY_GB = 4.0
"""Default memory limit of one run, in GB (2**30 bytes), before the cap by available memory of
:func:`default_max_memory`. Raise it with ``max_memory_gb=``."""

CHUNK_BYTES = 256 * 2**20
"""Working memory one chunk of trials may take (256 MB): sets how many trials are analysed at
once (never what they give)."""

PROGRESS_AFTER_SECONDS = 5.0
"""A run estimated to take at least this long shows a progress bar (when interactive)."""

ProgressArg = Union[None, bool, Callable[[int, int], Any]]
"""``None`` (automatic), ``True``/``False`` (force the bar on or off), or a callable
``progress(done, total)`` called after each chunk."""


def _available_memory() -> float | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def default_max_memory() -> float:
    """The default memory limit in bytes: :data:`DEFAULT_MAX_MEMORY_GB`, or 80% of the memory
    available now if that is less (so a run that would push the machine into swap is refused)."""
    cap = DEFAULT_MAX_MEMORY_GB * 2**30
    avail = _available_memory()
    return min(cap, 0.8 * avail) if avail else cap


@dataclass(frozen=True)
class Limits:
    """The limits a run is checked against: ``max_seconds`` (estimated wall time) and
    ``max_memory`` (estimated peak bytes)."""

    max_seconds: float
    max_memory: float


def _limit(value: Any, name: str, unit: str) -> float:
    if not is_number(value) or math.isnan(value) or not value > 0:
        raise ResourceLimitError(f"{name} must be a number of {unit} > 0 (math.inf: no limit), got {value!r}")
    return float(value)


def limits(max_seconds: float | None = None, max_memory_gb: float | None = None) -> Limits:
    """The run's :class:`Limits` from a function's ``max_seconds`` and ``max_memory_gb``
    arguments (None: the defaults; ``math.inf`` switches a limit off)."""
    s = DEFAULT_MAX_SECONDS if max_seconds is None else _limit(max_seconds, "max_seconds", "seconds")
    m = default_max_memory() if max_memory_gb is None else _limit(max_memory_gb, "max_memory_gb", "GB") * 2**30
    return Limits(s, m)


@dataclass(frozen=True)
class Estimate:
    """What a run will cost: ``seconds`` (wall time) and ``memory`` (peak bytes), for ``what``
    (the run in words, e.g. "simulate: 2,000 trials of 236 patients"), with the per-unit costs it
    rests on (``basis``, e.g. "0.5 microseconds per patient per trial and analysis")."""

    what: str
    seconds: float
    memory: float
    basis: str

    def describe(self) -> str:
        return (f"{self.what}: about {fmt_duration(self.seconds)} and {fmt_bytes(self.memory)} of memory "
                f"(estimated from {self.basis})")

    def check(self, lim: Limits) -> "Estimate":
        """``self`` if it fits ``lim``; else a :class:`~trialnb.errors.ResourceLimitError` whose
        message gives the estimate, the limit and how to raise it."""
        over = []
        if self.seconds > lim.max_seconds:
            over.append(f"the time limit is {fmt_duration(lim.max_seconds)} (raise it with max_seconds=)")
        if self.memory > lim.max_memory:
            over.append(f"the memory limit is {fmt_bytes(lim.max_memory)} (raise it with max_memory_gb=, if "
                        "the machine has the memory)")
        if over:
            raise ResourceLimitError(f"refused before starting: {self.describe()}; " + "; ".join(over)
                                     + ". Make the run smaller, or raise the limit explicitly.",
                                     estimate=self, limits=lim)
        return self


def _interactive() -> bool:
    """A terminal or a Jupyter kernel, and not a test run (``PYTEST_CURRENT_TEST``)."""
    if "PYTEST_CURRENT_TEST" in os.environ:
        return False
    if "ipykernel" in sys.modules:
        try:
            from IPython import get_ipython

            shell = get_ipython()
            if shell is not None and getattr(shell, "kernel", None) is not None:
                return True
        except ImportError:  # pragma: no cover - ipykernel without IPython
            pass
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def show_progress(progress: ProgressArg, seconds: float) -> bool:
    """Whether ``progress`` (an argument of :data:`ProgressArg`; a callable is handled by
    :func:`progress` itself) asks for a bar for a run estimated at ``seconds``: ``True`` or
    ``False`` as given; ``None``: not with ``TRIALNB_PROGRESS=0`` (``=1`` always), else when the
    session is interactive and the run long (:data:`PROGRESS_AFTER_SECONDS`)."""
    if isinstance(progress, bool):
        return progress
    env = os.environ.get("TRIALNB_PROGRESS", "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    return seconds >= PROGRESS_AFTER_SECONDS and _interactive()


def check_progress(progress: Any, error: type[Exception] = ResourceLimitError) -> ProgressArg:
    """``progress`` if it is None, a bool or a callable; else a named error."""
    if progress is None or isinstance(progress, bool) or callable(progress):
        return progress
    raise error(f"progress must be None (automatic), True, False or a callable progress(done, total), "
                f"got {type(progress).__name__}")


class Progress:
    """The progress of one run: :meth:`advance` after each chunk. Updates a tqdm bar, calls the
    caller's callable, or does nothing (see :func:`progress`)."""

    def __init__(self, total: int | None, bar: Any = None, callback: Callable[[int, int], Any] | None = None):
        self.total = total
        self.done = 0
        self._bar = bar
        self._callback = callback

    def advance(self, k: int = 1) -> None:
        """``k`` more units done."""
        self.done += int(k)
        if self._bar is not None:
            self._bar.update(int(k))
        if self._callback is not None:
            self._callback(self.done, -1 if self.total is None else self.total)


@contextlib.contextmanager
def progress(total: int | None, desc: str, arg: ProgressArg, seconds: float, unit: str = "trial") -> Iterator[Progress]:
    """The :class:`Progress` of a run of ``total`` units (None: unknown) described by ``desc``,
    shown as ``arg`` asks (:func:`show_progress`; a callable gets ``(done, total)``). The bar is
    closed however the run ends; an exception, ``KeyboardInterrupt`` included, propagates."""
    bar = None
    if not callable(arg) and show_progress(arg, seconds):
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, leave=False, dynamic_ncols=True)
    try:
        yield Progress(total, bar, arg if callable(arg) and not isinstance(arg, bool) else None)
    finally:
        if bar is not None:
            bar.close()
