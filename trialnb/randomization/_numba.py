"""Compiled (numba) kernel for :mod:`trialnb.randomization.batched` (chosen by :mod:`trialnb.compiled`).

Pocock-Simon minimization (range criterion, unit weights, random tie rule) trial by trial,
with the same rule and the same uniforms as the numpy version in ``batched``. ``cache=True``
keeps the one-off compilation out of every later process.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def minimization(cols, u, p_min, p_max, n_levels, arm):  # pragma: no cover - compiled
    """``cols`` (R, n, F) global factor-level indices 0..n_levels-1, ``u`` (R, n) uniforms;
    fills ``arm`` (R, n) with 1 = A. P(A) is ``p_max`` when A minimizes the imbalance
    (sum of signs of D_f < 0), ``p_min`` when B does, 1/2 on a tie."""
    R, n, f = cols.shape
    for r in range(R):
        diff = np.zeros(n_levels, dtype=np.int64)
        for i in range(n):
            s = 0
            for k in range(f):
                v = diff[cols[r, i, k]]
                s += (v > 0) - (v < 0)
            prob_a = p_max if s < 0 else (p_min if s > 0 else 0.5)
            a = 1 if u[r, i] < prob_a else 0
            arm[r, i] = a
            step = 1 if a == 1 else -1
            for k in range(f):
                diff[cols[r, i, k]] += step
