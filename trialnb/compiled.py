"""The one switch between the compiled (numba) kernels and their numpy twins.

numba is a dependency of trialnb: every batched computation (Cox fits, weighted log-rank and
Kaplan-Meier statistics of simulated trials, interim looks, minimization over thousands of
trials) has a compiled kernel. Each also has a numpy twin that computes the same numbers; the
twins are the test oracles of the kernels (``engine="numpy"``). Every function that has both
takes ``engine`` in :data:`ENGINES` and asks :func:`use_compiled`.
"""

from __future__ import annotations

import os

import numba

from .validation import check_choice

__all__ = ["ENGINES", "use_compiled"]

ENGINES: tuple[str, ...] = ("auto", "numpy", "numba")
"""``"auto"`` and ``"numba"``: the compiled kernel; ``"numpy"``: the numpy twin."""

if not os.environ.get("NUMBA_THREADING_LAYER"):
    # numba's default OpenMP layer keeps its threads spinning after each parallel call; on a
    # shared 2-core machine that cost ~20 ms per Newton step (measured); the workqueue layer
    # sleeps instead. Set before the first parallel launch; an explicit user choice wins.
    # numba.config fills its settings in at import from the environment: not declared to mypy
    numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]


def use_compiled(engine: object, error: type[Exception] = ValueError) -> bool:
    """Whether ``engine`` (one of :data:`ENGINES`) runs the compiled kernel; any other value is
    refused with ``error`` (the caller's named error of :mod:`trialnb.errors`)."""
    check_choice(engine, "engine", ENGINES, error=error)
    return engine != "numpy"
