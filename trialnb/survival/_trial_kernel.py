"""Compiled kernel of :func:`trialnb.survival.trial_statistics`: one pass over each trial's
sorted times gives the four Fleming-Harrington numerators and their covariance (FH(0,0),
FH(0,1), FH(1,0), FH(1,1)), Kaplan-Meier S(tau) with the Greenwood variance and the RMST to
tau with R ``survfit``'s variance, per arm. Same formulas as the numpy twins in
:mod:`trialnb.survival.logrank` and :mod:`trialnb.survival.km` (tested equal).
``cache=True`` keeps the compilation out of later processes.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import compiled  # noqa: F401  (sets numba's threading layer before any parallel launch)


@nb.njit(cache=True, parallel=True)
def trial_stats(t, e, g, tau, u, cov, km):  # pragma: no cover - compiled
    """t, e, g (R, n): time, event 0/1, group 0/1 (1 = arm A). Fills u (R, 4), cov (R, 4, 4)
    and km (R, 8) = S_A(tau), Var, S_B(tau), Var, RMST_A, Var, RMST_B, Var."""
    R, n = t.shape
    for r in nb.prange(R):
        o = np.argsort(t[r], kind="mergesort")
        N = float(n)
        N1 = 0.0
        for i in range(n):
            N1 += g[r, i]
        S = 1.0
        w = np.empty(4)
        Sa = np.ones(2)
        gw = np.zeros(2)
        area = np.zeros(2)
        tp = np.zeros(2)
        Na = np.empty(2)
        Na[0], Na[1] = N1, N - N1  # index 0 = arm A (g = 1), 1 = arm B
        ta = np.empty((2, n))
        ar = np.empty((2, n))
        tm = np.empty((2, n))
        m = np.zeros(2, np.int64)
        for k in range(4):
            u[r, k] = 0.0
            for k2 in range(4):
                cov[r, k, k2] = 0.0
        i = 0
        while i < n:
            j = i
            tt = t[r, o[i]]
            D = 0.0
            D1 = 0.0
            C1 = 0.0
            while j < n and t[r, o[j]] == tt:
                D += e[r, o[j]]
                D1 += e[r, o[j]] * g[r, o[j]]
                C1 += g[r, o[j]]
                j += 1
            if D > 0:
                p = N1 / N
                w[0], w[1], w[2], w[3] = 1.0, 1.0 - S, S, S * (1.0 - S)
                v0 = D * p * (1.0 - p) * (N - D) / (N - 1.0) if N > 1 else 0.0
                oe = D1 - D * p
                for k in range(4):
                    u[r, k] += w[k] * oe
                    for k2 in range(4):
                        cov[r, k, k2] += w[k] * w[k2] * v0
                S *= 1.0 - D / N
                if tt <= tau:
                    Da = np.empty(2)
                    Da[0], Da[1] = D1, D - D1
                    for a in range(2):
                        if Da[a] > 0:
                            area[a] += Sa[a] * (tt - tp[a])
                            tp[a] = tt
                            term = Da[a] / (Na[a] * (Na[a] - Da[a])) if Na[a] > Da[a] else np.inf
                            gw[a] += term
                            ta[a, m[a]] = tt
                            ar[a, m[a]] = area[a]
                            tm[a, m[a]] = term
                            m[a] += 1
                            Sa[a] *= 1.0 - Da[a] / Na[a]
            N -= j - i
            N1 -= C1
            Na[0] -= C1
            Na[1] -= (j - i) - C1
            i = j
        for a in range(2):
            area[a] += Sa[a] * (tau - tp[a])
            var = 0.0
            for q in range(m[a]):
                if ta[a, q] < tau:
                    A = area[a] - ar[a, q]
                    var += A * A * tm[a, q]
            km[r, 2 * a] = Sa[a]
            km[r, 2 * a + 1] = Sa[a] * Sa[a] * gw[a] if Sa[a] > 0 else np.nan
            km[r, 4 + 2 * a] = area[a]
            km[r, 5 + 2 * a] = var
