"""Optional numba kernels for :mod:`trialnb.fastsim` (used only when numba is installed).

The same Efron partial likelihood, score and information as ``fastsim._efron`` (Efron 1977;
Therneau & Grambsch 2000, section 3.3), computed trial by trial in one backward pass over the
time-sorted rows (a whole group of tied times is added to the risk set before its events are
scored), with a hand-written Cholesky solve. No allocation happens inside the Newton
iterations. The kernels are serial (``parallel=True`` compiled ~2x slower and gave no wall-time
gain on the shared 2-core machine); ``cache=True`` keeps the one-off compilation (~10-20 s)
out of every later process.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, error_model="numpy")
def _efron_one(t, d, X, beta, eta, S1, S2, D1, D2, m, score, info):  # pragma: no cover
    n, p = X.shape
    shift = -np.inf
    for j in range(n):
        s = 0.0
        for a in range(p):
            s += X[j, a] * beta[a]
        eta[j] = s
        if s > shift:
            shift = s
    for a in range(p):
        score[a] = 0.0
        S1[a] = 0.0
        for b in range(p):
            info[a, b] = 0.0
            S2[a, b] = 0.0
    S0 = 0.0
    ll = 0.0
    i = n - 1
    while i >= 0:
        ti = t[i]
        D0 = 0.0
        nd = 0
        for a in range(p):
            D1[a] = 0.0
            for b in range(a + 1):
                D2[a, b] = 0.0
        j = i
        while j >= 0 and t[j] == ti:  # one tie group: add all of it to the risk set
            w = math.exp(eta[j] - shift)
            S0 += w
            ev = d[j] > 0
            if ev:
                nd += 1
                D0 += w
                ll += eta[j] - shift
            for a in range(p):
                wxa = w * X[j, a]
                S1[a] += wxa
                for b in range(a + 1):
                    S2[a, b] += wxa * X[j, b]
                if ev:
                    D1[a] += wxa
                    score[a] += X[j, a]
                    for b in range(a + 1):
                        D2[a, b] += wxa * X[j, b]
            j -= 1
        for l in range(nd):  # Efron: the l-th of nd tied deaths
            c = l / nd
            den = S0 - c * D0
            ll -= math.log(den)
            for a in range(p):
                m[a] = (S1[a] - c * D1[a]) / den
                score[a] -= m[a]
            for a in range(p):
                for b in range(a + 1):
                    info[a, b] += (S2[a, b] - c * D2[a, b]) / den - m[a] * m[b]
        i = j
    for a in range(p):
        for b in range(a):
            info[b, a] = info[a, b]
    return ll


@nb.njit(cache=True)
def _cholesky(A, L):  # pragma: no cover - compiled
    p = A.shape[0]
    big = 0.0
    for a in range(p):
        big = max(big, abs(A[a, a]))
    for a in range(p):
        for b in range(a + 1):
            s = A[a, b]
            for k in range(b):
                s -= L[a, k] * L[b, k]
            if a == b:
                if not s > 1e-12 * big:  # singular or not positive definite
                    return False
                L[a, a] = math.sqrt(s)
            else:
                L[a, b] = s / L[b, b]
    return True


@nb.njit(cache=True)
def _chol_solve(L, rhs, out):  # pragma: no cover - compiled
    p = L.shape[0]
    for a in range(p):
        s = rhs[a]
        for k in range(a):
            s -= L[a, k] * out[k]
        out[a] = s / L[a, a]
    for a in range(p - 1, -1, -1):
        s = out[a]
        for k in range(a + 1, p):
            s -= L[k, a] * out[k]
        out[a] = s / L[a, a]


@nb.njit(cache=True)
def cox_batch(t, d, X, max_iter, tol, coef, se, conv, loglik, iters):  # pragma: no cover
    R, n, p = X.shape
    for r in range(R):
        order = np.argsort(t[r], kind="mergesort")
        ts = np.empty(n)
        ds = np.empty(n)
        Xs = np.empty((n, p))
        for j in range(n):
            k = order[j]
            ts[j] = t[r, k]
            ds[j] = d[r, k]
            for a in range(p):
                Xs[j, a] = X[r, k, a]
        eta = np.empty(n)
        S1 = np.empty(p)
        S2 = np.empty((p, p))
        D1 = np.empty(p)
        D2 = np.empty((p, p))
        m = np.empty(p)
        score = np.empty(p)
        info = np.empty((p, p))
        L = np.zeros((p, p))
        Ltry = np.zeros((p, p))
        step = np.empty(p)
        unit = np.zeros(p)
        col = np.empty(p)
        beta = np.zeros(p)
        prev_beta = np.zeros(p)
        prev_ll = -np.inf
        have_info = False
        for _ in range(max_iter):
            ll = _efron_one(ts, ds, Xs, beta, eta, S1, S2, D1, D2, m, score, info)
            if ll < prev_ll - 1e-10 * abs(prev_ll):  # step halving
                for a in range(p):
                    beta[a] = 0.5 * (beta[a] + prev_beta[a])
                continue
            prev_ll = ll
            loglik[r] = ll
            if not _cholesky(info, Ltry):  # singular: keep the last usable coef and se
                break
            have_info = True
            for a in range(p):
                for b in range(p):
                    L[a, b] = Ltry[a, b]
            _chol_solve(L, score, step)
            big = 0.0
            for a in range(p):
                prev_beta[a] = beta[a]
                beta[a] += step[a]
                big = max(big, abs(step[a]))
            iters[r] += 1
            if big < tol:
                conv[r] = True
                break
        for a in range(p):
            coef[r, a] = beta[a]
        if have_info:  # se = sqrt(diag(I^-1)) at the last evaluated point
            for a in range(p):
                unit[a] = 1.0
                _chol_solve(L, unit, col)
                unit[a] = 0.0
                se[r, a] = math.sqrt(col[a]) if col[a] > 0 else np.nan
