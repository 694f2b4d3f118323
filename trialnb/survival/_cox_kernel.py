"""Compiled kernel of the Cox model (:mod:`trialnb.survival.cox`; its numpy twin is
``cox._values_numpy``).

:func:`cox_values` computes, for each requested trial, the log partial likelihood, score and
information at ``beta`` from the same sorted rows and index maps as
``cox._values_numpy`` (see ``cox._RiskSets``): one backward pass over the rows
sorted by (stratum, time) keeps running risk-set sums S0, S1, S2; a whole tie group is added
before its deaths are scored (Efron fractions l/d, or Breslow), rows whose entry time is at
or after the current time are removed (counting-process data), and the sums restart at each
stratum. Parallel over trials (``prange``: both cores; ``cox_values_serial`` for a few
trials). The Newton driver stays in ``cox._newton``. ``cache=True`` keeps the one-off
compilation out of later processes.
"""

from __future__ import annotations

import math
import types

import numba as nb
import numpy as np

from .. import compiled  # noqa: F401  (sets numba's threading layer before any parallel launch)

_P = -1  # the number of covariates the build is specialised for (-1: any, read from X)


def _cox_values(X, d, gstart, bend, ostart, pt, has_entry, efron, rows, beta, W, V, M,
               ll, score, info):  # pragma: no cover - compiled
    R, n, p = X.shape
    if _P > 0:  # a compile-time constant in the specialised builds: LLVM unrolls the p loops
        p = _P
    m = rows.shape[0]
    for i in nb.prange(m):  # scratch rows W[i] (n), V[i] (4, p), M[i] (3, p, p): no allocation
        r = rows[i]
        w = W[i]
        S1, D1, mj, sc = V[i, 0], V[i, 1], V[i, 2], V[i, 3]
        S2, D2, inf = M[i, 0], M[i, 1], M[i, 2]
        for a in range(p):  # D1, D2 too: untied groups use them with weight c = 0
            sc[a] = 0.0
            D1[a] = 0.0
            for b in range(p):
                inf[a, b] = 0.0
                D2[a, b] = 0.0
        shift = -np.inf
        for j in range(n):
            s = 0.0
            for a in range(p):
                s += X[r, j, a] * beta[i, a]
            w[j] = s
            if s > shift:
                shift = s
        lli = 0.0
        S0 = 0.0
        block_end = -1
        q = n
        j = n - 1
        while j >= 0:
            be = bend[r, j]
            if be != block_end:  # a new stratum: restart the risk-set sums
                block_end = be
                q = be
                S0 = 0.0
                for a in range(p):
                    S1[a] = 0.0
                    for b in range(a + 1):
                        S2[a, b] = 0.0
            gs = gstart[r, j]
            D0 = 0.0
            nd = 0
            tied = efron and j > gs  # D1, D2 only matter for Efron with tied rows (c > 0)
            if tied:
                for a in range(p):
                    D1[a] = 0.0
                    for b in range(a + 1):
                        D2[a, b] = 0.0
            for k in range(j, gs - 1, -1):  # the whole tie group joins the risk set
                dead = d[r, k] > 0
                if dead:
                    lli += w[k] - shift
                    for a in range(p):
                        sc[a] += X[r, k, a]
                wk = math.exp(w[k] - shift)  # w holds eta until the row joins, then its weight
                w[k] = wk
                S0 += wk
                if dead:
                    nd += 1
                    D0 += wk
                for a in range(p):
                    wxa = wk * X[r, k, a]
                    S1[a] += wxa
                    for b in range(a + 1):
                        S2[a, b] += wxa * X[r, k, b]
                if dead and tied:
                    for a in range(p):
                        wxa = wk * X[r, k, a]
                        D1[a] += wxa
                        for b in range(a + 1):
                            D2[a, b] += wxa * X[r, k, b]
            if nd > 0:
                if has_entry:  # rows with entry >= t leave the risk set
                    ps = pt[r, j]
                    while q > ps:
                        q -= 1
                        k = ostart[r, q]
                        wk = w[k]
                        S0 -= wk
                        for a in range(p):
                            wxa = wk * X[r, k, a]
                            S1[a] -= wxa
                            for b in range(a + 1):
                                S2[a, b] -= wxa * X[r, k, b]
                reps = nd if efron else 1
                mult = 1.0 if efron else float(nd)
                for tie in range(reps):
                    c = tie / nd if efron else 0.0
                    den = S0 - c * D0
                    lli -= mult * math.log(den)
                    iden = 1.0 / den  # one division per death, not p (p + 3) / 2
                    for a in range(p):
                        mj[a] = (S1[a] - c * D1[a]) * iden
                        sc[a] -= mult * mj[a]
                    for a in range(p):
                        for b in range(a + 1):
                            inf[a, b] += mult * ((S2[a, b] - c * D2[a, b]) * iden - mj[a] * mj[b])
            j = gs - 1
        ll[i] = lli
        for a in range(p):
            score[i, a] = sc[a]
            for b in range(a + 1):
                info[i, a, b] = inf[a, b]
                info[i, b, a] = inf[a, b]


def _renamed(f, name, **consts):
    """A copy of ``f`` under another name (numba's on-disk cache is keyed by the function's
    name and line, so each build needs its own), with module constants overridden (numba
    freezes globals at compile time)."""
    g = types.FunctionType(f.__code__, f.__globals__ | consts if consts else f.__globals__, name,
                           f.__defaults__, f.__closure__)
    g.__qualname__ = name
    return g


cox_values = nb.njit(cache=True, parallel=True, error_model="numpy")(_renamed(_cox_values, "cox_values"))
cox_values_serial = nb.njit(cache=True, error_model="numpy")(_renamed(_cox_values, "cox_values_serial"))
"""The same kernel on one thread: for the last Newton steps of a few trials, where waking a
second thread costs more than it saves."""
cox_values_p5 = nb.njit(cache=True, parallel=True, error_model="numpy")(_renamed(_cox_values, "cox_values_p5", _P=5))
cox_values_serial_p5 = nb.njit(cache=True, error_model="numpy")(_renamed(_cox_values, "cox_values_serial_p5", _P=5))
"""The kernels built for p = 5 covariates (the planned analysis: arm and four factors), where
the compiler unrolls the p x p loops: about 1.4x faster than the general build (measured)."""


@nb.njit(cache=True, parallel=True)
def prepare(t, d, X, strata, has_strata, n_strata, order, gstart, bend, ds, Xs):  # pragma: no cover
    """Per trial: stable order by (stratum, time), the first row of each tie group, one past
    the last row of each stratum, and the events and covariates in that order (as
    ``survival._risk_sets``)."""
    R, n = t.shape
    for r in nb.prange(R):
        o = np.argsort(t[r], kind="mergesort")
        if has_strata:  # stable counting sort by stratum
            cnt = np.zeros(n_strata + 1, np.int64)
            for j in range(n):
                cnt[strata[r, j] + 1] += 1
            for k in range(n_strata):
                cnt[k + 1] += cnt[k]
            o2 = np.empty(n, np.int64)
            for j in range(n):
                k = o[j]
                sk = strata[r, k]
                o2[cnt[sk]] = k
                cnt[sk] += 1
            o = o2
        for j in range(n):
            k = o[j]
            order[r, j] = k
            ds[r, j] = d[r, k]
            for a in range(X.shape[2]):
                Xs[r, j, a] = X[r, k, a]
            new = j == 0 or t[r, k] != t[r, o[j - 1]]
            if has_strata and j > 0 and strata[r, k] != strata[r, o[j - 1]]:
                new = True
            gstart[r, j] = j if new else gstart[r, j - 1]
        end = n
        for j in range(n - 1, -1, -1):
            bend[r, j] = end
            if has_strata and j > 0 and strata[r, o[j]] != strata[r, o[j - 1]]:
                end = j
