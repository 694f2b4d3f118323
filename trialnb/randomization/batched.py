"""Pocock-Simon minimization vectorised over many simulated trials.

The special case used by the trial simulations (:func:`trialnb.simulation.simulate_trials`): two
arms, the range criterion, unit factor weights, random tie rule and no random element, i.e.
``PocockSimon(factors, p=p)``. With two arms the range imbalance of a level with
``D = n_A - n_B`` is ``|D + 1|`` if the newcomer joins A and ``|D - 1|`` if B, so

    G_A - G_B = sum_f (|D_f + 1| - |D_f - 1|) = 2 sum_f sign(D_f)

(Pocock & Simon 1975, Biometrics 31:103): arm A is favoured iff ``sum_f sign(D_f) < 0``.
Only the per-level differences ``D`` are kept, one vector per trial. The loop runs over the
patients, vectorised over trials (numpy), or trial by trial compiled (numba); both
give the arms :class:`~trialnb.randomization.PocockSimon` gives when fed the same uniforms
(``tests/test_randomization_batched.py``).
"""

from __future__ import annotations

import numpy as np

from ..errors import RandomizationError
from ..compiled import use_compiled
from . import _numba as _nbk
from ..validation import is_number

__all__ = ["minimization_batched"]


def _favoured_probabilities(p: float) -> tuple[float, float]:
    """(P(A) when B minimizes, P(A) when A minimizes), rounded exactly as ``PocockSimon`` does."""
    pe = round(float(p), 12)
    return round(1.0 - pe, 12), pe


def minimization_batched(cols: np.ndarray, u: np.ndarray, p: float, *, n_levels: int | None = None,
                         engine: str = "auto") -> np.ndarray:
    """Arm indicator (1 = A, int8) of shape (R, n) for R trials of n patients in arrival order.

    ``cols`` (R, n, F): for each patient, the global index of its level of each of the F
    factors (levels of different factors get different indices, e.g. site 0..2, hormone
    receptor 3..4, HER2 5..6); ``u`` (R, n): one uniform per patient, arm A iff
    ``u < P(A)``; ``p``: probability of the arm that minimizes imbalance (1/2 on a tie).
    ``engine``: the compiled loop or its numpy twin (:mod:`trialnb.compiled`; the same arms).
    """
    cols = np.asarray(cols)
    u = np.asarray(u, dtype=float)
    if cols.ndim != 3 or u.shape != cols.shape[:2]:
        raise RandomizationError(f"cols must have shape (R, n, F) and u shape (R, n), got {cols.shape} and {u.shape}")
    if not np.issubdtype(cols.dtype, np.integer) or (cols.size and cols.min() < 0):
        raise RandomizationError("cols must hold non-negative integer level indices")
    if not is_number(p) or not 0.0 <= float(p) <= 1.0:  # "0.8" and True are not numbers
        raise RandomizationError(f"p must lie in [0, 1], got {p!r}")
    R, n, _ = cols.shape
    L = int(cols.max()) + 1 if n_levels is None and cols.size else int(n_levels or 1)
    if cols.size and cols.max() >= L:
        raise RandomizationError(f"cols holds level index {int(cols.max())} but n_levels is {L}")
    p_min, p_max = _favoured_probabilities(p)
    cols = cols.astype(np.intp, copy=False)
    if use_compiled(engine):
        arm_nb = np.empty((R, n), dtype=np.int8)
        _nbk.minimization(np.ascontiguousarray(cols), np.ascontiguousarray(u), p_min, p_max, L, arm_nb)
        return arm_nb
    flat = np.ascontiguousarray((cols + (np.arange(R, dtype=np.intp) * L)[:, None, None]).transpose(1, 0, 2))
    diff = np.zeros(R * L, dtype=np.int32)  # n_A - n_B per trial and factor level
    arm = np.empty((n, R), dtype=np.int8)
    ut = u.T.copy()
    F = cols.shape[2]
    lut = np.array([p_max] * F + [0.5] + [p_min] * F)  # by sum of signs + F
    for i in range(n):
        f = flat[i]
        s = np.sign(diff[f]).sum(axis=1)
        a = ut[i] < lut[s + F]
        arm[i] = a
        diff[f] += (2 * a.astype(np.int32) - 1)[:, None]
    return np.ascontiguousarray(arm.T)
