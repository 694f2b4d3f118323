"""Optional numba kernel for :mod:`trialnb.fastsim` (used only when numba is installed):
the Pocock-Simon minimization, trial by trial, with the same rule and random numbers as the
numpy version in ``fastsim._allocate``. (The Cox kernels moved to
:mod:`trialnb._survival_numba`.) ``cache=True`` keeps the one-off compilation out of every
later process.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def minimization(cols, u, p, arm):  # pragma: no cover - compiled
    """Pocock-Simon minimization trial by trial: ``cols`` (R, n, 3) factor-level columns
    0..6, ``u`` (R, n) uniforms; fills ``arm`` (R, n) with 1 = A. Same rule and random
    numbers as the numpy version in ``fastsim._allocate``."""
    R, n, f = cols.shape
    for r in range(R):
        diff = np.zeros(7, dtype=np.int64)
        for i in range(n):
            s = 0
            for k in range(f):
                v = diff[cols[r, i, k]]
                s += (v > 0) - (v < 0)
            prob_a = p if s < 0 else (1.0 - p if s > 0 else 0.5)
            a = 1 if u[r, i] < prob_a else 0
            arm[r, i] = a
            step = 1 if a == 1 else -1
            for k in range(f):
                diff[cols[r, i, k]] += step
