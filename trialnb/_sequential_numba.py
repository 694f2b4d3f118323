"""Optional numba kernel for :mod:`trialnb.sequential_sim` (used only when numba is installed).

The log-rank statistic of every simulated trial cut at its own calendar date, in one pass per
trial: only the deaths by the cut are sorted (a few dozen); every patient randomized before the
cut is binned by how many death times its follow-up (ended at the cut) reaches, and suffix sums
of the bins give the numbers at risk. The Mantel (1966) sums run over the distinct death times
(tied times form one group: E1 += D N1 / N, V += D (N1/N) (1 - N1/N) (N - D) / (N - 1)),
exactly as ``fastsim.logrank_batch`` computes them on the data of
``sequential_sim.looks_of_data``.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def logrank_at_cut(time, event, entry, arm, rows, cut, o_minus_e, var):  # pragma: no cover - compiled
    """Trial ``rows[q]`` cut at ``cut[q]``: fills ``o_minus_e[q]`` (O - E in group 1) and
    ``var[q]`` (hypergeometric variance)."""
    R = rows.shape[0]
    n = time.shape[1]
    dt = np.empty(n)
    dg = np.empty(n, dtype=np.int8)
    cnt = np.empty(n + 1, dtype=np.int64)
    cnt1 = np.empty(n + 1, dtype=np.int64)
    for q in range(R):
        r = rows[q]
        c = cut[q]
        # the deaths by the cut, sorted by time (a few dozen values)
        D = 0
        for i in range(n):
            if event[r, i] > 0 and entry[r, i] < c and entry[r, i] + time[r, i] <= c:
                dt[D] = time[r, i]
                dg[D] = arm[r, i]
                D += 1
        order = np.argsort(dt[:D])
        ds = np.empty(D)
        gs = np.empty(D, dtype=np.int8)
        for j in range(D):
            ds[j] = dt[order[j]]
            gs[j] = dg[order[j]]
        # each patient in the analysis is at risk at the death times <= its own time:
        # bin it at p = #(death times <= t), then at risk at death j = sum of bins p > j
        for j in range(D + 1):
            cnt[j] = 0
            cnt1[j] = 0
        for i in range(n):
            e0 = entry[r, i]
            if e0 < c:
                ti = time[r, i]
                if not (event[r, i] > 0 and e0 + ti <= c):
                    ti = min(ti, c - e0)
                lo, hi = 0, D
                while lo < hi:  # searchsorted(ds, ti, side="right")
                    mid = (lo + hi) // 2
                    if ds[mid] <= ti:
                        lo = mid + 1
                    else:
                        hi = mid
                cnt[lo] += 1
                cnt1[lo] += arm[r, i]
        for j in range(D - 1, -1, -1):  # suffix sums: cnt[j] = patients at risk beyond bin j
            cnt[j] += cnt[j + 1]
            cnt1[j] += cnt1[j + 1]
        oe = 0.0
        v = 0.0
        j = 0
        while j < D:
            k = j
            dd1 = 0
            while k < D and ds[k] == ds[j]:  # tied deaths: one group
                dd1 += gs[k]
                k += 1
            dd = k - j
            at_risk = cnt[j + 1]
            at_risk1 = cnt1[j + 1]
            f = at_risk1 / at_risk
            oe += dd1 - dd * f
            if at_risk > 1:
                v += dd * f * (1.0 - f) * (at_risk - dd) / (at_risk - 1)
            j = k
        o_minus_e[q] = oe
        var[q] = v
