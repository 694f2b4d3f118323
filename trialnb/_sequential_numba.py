"""Optional numba kernel for :mod:`trialnb.sequential_sim` (used only when numba is installed).

The log-rank statistic of every simulated trial cut at its own calendar date, in one pass per
trial: the patients randomized before the cut, their follow-up ended at the cut, sorted by
time, and the Mantel (1966) sums over the distinct death times (tied times form one group:
E1 += D N1 / N, V += D (N1/N) (1 - N1/N) (N - D) / (N - 1)), exactly as
``fastsim.logrank_batch`` computes them on the data of ``sequential_sim.looks_of_data``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def logrank_at_cut(time, event, entry, arm, cut, o_minus_e, var):  # pragma: no cover - compiled
    R, n = time.shape
    t = np.empty(n)
    d = np.empty(n, dtype=np.int8)
    g = np.empty(n, dtype=np.int8)
    for r in range(R):
        c = cut[r]
        m = 0
        for i in range(n):
            e0 = entry[r, i]
            if e0 < c:
                ti = time[r, i]
                if event[r, i] > 0 and e0 + ti <= c:
                    t[m] = ti
                    d[m] = 1
                else:
                    t[m] = min(ti, c - e0)
                    d[m] = 0
                g[m] = arm[r, i]
                m += 1
        order = np.argsort(t[:m])
        at_risk = m
        at_risk1 = 0
        for i in range(m):
            at_risk1 += g[i]
        oe = 0.0
        v = 0.0
        j = 0
        while j < m:
            tj = t[order[j]]
            dd = 0
            dd1 = 0
            cc = 0
            cc1 = 0
            k = j
            while k < m and t[order[k]] == tj:
                idx = order[k]
                if d[idx] > 0:
                    dd += 1
                    dd1 += g[idx]
                cc += 1
                cc1 += g[idx]
                k += 1
            if dd > 0:
                f = at_risk1 / at_risk
                oe += dd1 - dd * f
                if at_risk > 1:
                    v += dd * f * (1.0 - f) * (at_risk - dd) / (at_risk - 1)
            at_risk -= cc
            at_risk1 -= cc1
            j = k
        o_minus_e[r] = oe
        var[r] = v
