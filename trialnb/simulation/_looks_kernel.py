"""Compiled kernels of the comparison path of :mod:`trialnb.simulation.sequential` (log-rank on all
deaths, looks at death counts, event-driven final).

**The looks of one trial** (:func:`_trial_looks`). The log-rank statistic of a trial cut at the
calendar date of its ``need[j]``-th death, for every look j at once. Once per trial: the deaths
are gathered and sorted by time, and their calendar dates sorted (a bucket pass over the range
of the values, then an insertion sort: a few dozen values); the patients with no death who were
followed to the final cut-off ("regular") get prefix counts along the entry order. At each look
the cut is the ``need[j]``-th death date, the deaths by the cut are taken from the sorted list,
and the numbers at risk at each death time s are: the regular patients randomized at least s
before the cut (their follow-up ``cut - entry`` does not increase along the sorted entries, so
they are the first P(s) by entry, P found by a pointer that only moves down as s grows), plus
the other patients binned by how many death times their follow-up reaches (deaths by the cut:
the bin after their group of tied times; the others by the same kind of pointer when followed
to the cut, by binary search otherwise), summed from the top bin down. Every comparison is the
one :func:`trialnb.simulation.trials.cut` implies (``time <= c - entry`` as floating-point numbers),
so the risk sets are exactly those of the numpy engine. Entries out of order (not from
:func:`trialnb.simulation.simulate_trials`) are handled too: every patient is then binned by binary
search. The Mantel (1966) sums run over the distinct death times (tied times form one group:
E1 += D N1 / N, V += D (N1/N) (1 - N1/N) (N - D) / (N - 1)), as :func:`trialnb.survival.logrank`
computes them.

**The trials themselves** (:func:`simulate_looks`), for scenarios whose log-rank analysis needs
no prognostic factor (see ``sequential._generated_by_kernel``): from the uniforms of the
allocation blocks, the entry dates and the standard exponential draws that
``simulate_trials`` draws (same generator, same order), the arms, death and loss times,
the event-driven cut-off and the follow-up are computed with the same floating-point operations
as ``simulate_trials`` (so the same numbers, bit for bit; the ``target_events``-th death date
by quickselect, the value ``np.partition`` gives), then the looks.

Trials are independent: with ``parallel=True`` they are split in blocks over numba's threads
(``numba.get_num_threads()``, at most ``NUMBA_NUM_THREADS``), each block with its own buffers.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def _n_le(ds, D, x):  # pragma: no cover - compiled
    """#{j < D: ds[j] <= x} for ascending ds (searchsorted side="right")."""
    lo, hi = 0, D
    while lo < hi:
        mid = (lo + hi) >> 1
        if ds[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@nb.njit(cache=True)
def _select(a, n, k):  # pragma: no cover - compiled
    """The k-th smallest (0-based) of a[:n] (the value np.partition puts at k); reorders a[:n]
    in place so that a[:k] holds the k smallest (Hoare quickselect, median-of-three pivot)."""
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        x, y, z = a[lo], a[mid], a[hi]
        if x > y:
            x, y = y, x
        if y > z:
            y = z
            if x > y:
                y = x
        pivot = y
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@nb.njit(cache=True)
def _bucket(x, lo, scale, m):  # pragma: no cover - compiled
    """Bucket of x in 0..m-1 (a NaN key goes to bucket 0: never out of bounds)."""
    y = (x - lo) * scale
    if y >= m - 1:
        return m - 1
    if y >= 0:
        return int(y)
    return 0


@nb.njit(cache=True)
def _bucket_sort(key, idx, m, wk, wi, wc):  # pragma: no cover - compiled
    """Sort key[:m] ascending, carrying idx[:m] along: a counting pass into m buckets of the
    range of the keys, then an insertion sort of the nearly sorted result (the same order of
    values as any sort; tied keys stay tied). wk, wi, wc: work buffers of length >= m + 1."""
    if m < 2:
        return
    lo, hi = key[0], key[0]
    for k in range(1, m):
        lo = min(lo, key[k])
        hi = max(hi, key[k])
    if hi > lo and np.isfinite(hi - lo):
        scale = m / (hi - lo)
        for q in range(m + 1):
            wc[q] = 0
        for k in range(m):
            wc[_bucket(key[k], lo, scale, m) + 1] += 1
        for q in range(m):
            wc[q + 1] += wc[q]
        for k in range(m):
            q = _bucket(key[k], lo, scale, m)
            pos = wc[q]
            wc[q] = pos + 1
            wk[pos] = key[k]
            wi[pos] = idx[k]
        for k in range(m):
            key[k] = wk[k]
            idx[k] = wi[k]
    for k in range(1, m):
        t, i = key[k], idx[k]
        h = k
        while h > 0 and key[h - 1] > t:
            key[h] = key[h - 1]
            idx[h] = idx[h - 1]
            h -= 1
        key[h] = t
        idx[h] = i


@nb.njit(cache=True)
def _trial_looks(time, event, entry, arm, duration, need, o_minus_e, var, n_events, cut, fb,
                 ib):  # pragma: no cover - compiled
    """All looks of one trial (1-D arrays of its n patients): look j is cut at the date of the
    ``need[j]``-th death, or at ``duration`` when ``need[j]`` is 0 or the trial has fewer deaths
    (never later than ``duration``). Fills row-vectors ``o_minus_e``, ``var``, ``n_events``,
    ``cut`` (length K); ``fb``, ``ib``: work buffers of :func:`_buffers`.

    A "regular" patient (no death, follow-up at least ``duration - entry``: followed to the
    final cut-off) is followed to any earlier cut c: its time there is ``c - entry``, which
    does not increase along sorted entries, so the regular patients at risk at a death time s
    are the first P(s) by entry (P found by a pointer that moves down as s grows) and prefix
    counts give how many. The deaths by the cut fall in the bin after their group of tied times;
    the other patients (dead after the cut, lost) are binned by the same pointer when followed
    to the cut, by binary search otherwise. With entries out of order every patient is treated
    as "other" (binary search)."""
    n = time.shape[0]
    et, cal, ds, wk = fb[0], fb[1], fb[2], fb[3]
    ei, gs, cnt, cnt1, irr, reg, reg1, wi, wc, ci = ib[0], ib[1], ib[2], ib[3], ib[4], ib[5], ib[6], ib[7], ib[8], ib[9]
    ordered = True
    m = 0  # deaths
    q = 0  # other patients
    s0 = 0
    s1 = 0
    reg[0] = 0
    reg1[0] = 0
    prev = -np.inf
    for i in range(n):  # written always, kept by advancing the count (no branch)
        e0 = entry[i]
        ordered &= e0 >= prev
        prev = e0
        d = event[i] > 0
        et[m] = time[i]
        ei[m] = i
        m += d
        r = (not d) & (time[i] >= duration - e0)
        irr[q] = i
        q += not r
        s0 += r
        s1 += r * arm[i]
        reg[i + 1] = s0
        reg1[i + 1] = s1
    if not ordered:  # every patient is "other"
        for i in range(n):
            irr[i] = i
            reg[i + 1] = 0
            reg1[i + 1] = 0
        q = n
    _bucket_sort(et, ei, m, wk, wi, wc)  # the deaths by time
    sorted_cal = False
    for j in range(need.shape[0]):
        c = duration
        if 0 < need[j] <= m:
            if not sorted_cal:  # the death dates, sorted once for all the looks
                for k in range(m):
                    cal[k] = entry[ei[k]] + et[k]
                    ci[k] = k
                _bucket_sort(cal, ci, m, wk, wi, wc)
                sorted_cal = True
            if cal[need[j] - 1] < c:
                c = cal[need[j] - 1]
        cut[j] = c
        D = 0  # the deaths by the cut, in time order
        for k in range(m):
            e0 = entry[ei[k]]
            ds[D] = et[k]
            gs[D] = arm[ei[k]]
            D += (e0 + et[k] <= c) & (e0 < c)
        n_events[j] = D
        for k in range(D + 1):
            cnt[k] = 0
            cnt1[k] = 0
        p = D  # pointer of the merge below
        last = np.inf
        for h in range(q):  # the other patients by entry (deaths by the cut are counted below)
            i = irr[h]
            e0 = entry[i]
            if e0 >= c:
                if ordered:
                    break
                continue
            ti = time[i]
            if event[i] > 0 and e0 + ti <= c:
                continue
            f = c - e0
            if f <= ti and f <= last:  # followed to the cut: f does not increase by entry
                last = f
                while p > 0 and ds[p - 1] > f:
                    p -= 1
                b = p
            else:
                b = _n_le(ds, D, min(ti, f))  # bin = #(death times <= its time)
            cnt[b] += 1
            cnt1[b] += arm[i]
        k = 0
        while k < D:  # a death by the cut is in the bin after its group of tied times
            h = k
            g = 0
            while h < D and ds[h] == ds[k]:
                g += gs[h]
                h += 1
            cnt[h] += h - k
            cnt1[h] += g
            k = h
        for k in range(D - 1, -1, -1):  # suffix sums: cnt[k] = patients at risk beyond bin k
            cnt[k] += cnt[k + 1]
            cnt1[k] += cnt1[k + 1]
        P = 0  # regular patients randomized before the cut (entries sorted)
        if ordered:
            lo, hi = 0, n
            while lo < hi:
                mid = (lo + hi) >> 1
                if entry[mid] < c:
                    lo = mid + 1
                else:
                    hi = mid
            P = lo
        oe = 0.0
        vv = 0.0
        k = 0
        while k < D:
            h = k
            dd1 = 0
            while h < D and ds[h] == ds[k]:  # tied deaths: one group
                dd1 += gs[h]
                h += 1
            dd = h - k
            while P > 0 and c - entry[P - 1] < ds[k]:  # regular followed to c: time c - entry
                P -= 1
            # at risk at ds[k]: the patients binned beyond k, and the regular patients
            # followed to the cut for at least ds[k]
            at_risk = cnt[k + 1] + reg[P]
            at_risk1 = cnt1[k + 1] + reg1[P]
            f = at_risk1 / at_risk
            oe += dd1 - dd * f
            if at_risk > 1:
                vv += dd * f * (1.0 - f) * (at_risk - dd) / (at_risk - 1)
            k = h
        o_minus_e[j] = oe
        var[j] = vv


@nb.njit(cache=True)
def _buffers(n):  # pragma: no cover - compiled
    """Work buffers of :func:`_trial_looks` for trials of n patients (one set per thread)."""
    return np.empty((4, n + 1)), np.empty((10, n + 1), dtype=np.int64)


@nb.njit(cache=True)
def _looks_rows(lo, hi, time, event, entry, arm, duration, need, o_minus_e, var, n_events,
                cut):  # pragma: no cover - compiled
    fb, ib = _buffers(time.shape[1])
    for r in range(lo, hi):
        _trial_looks(time[r], event[r], entry[r], arm[r], duration[r], need, o_minus_e[r], var[r],
                     n_events[r], cut[r], fb, ib)


@nb.njit(cache=True)
def logrank_looks(time, event, entry, arm, duration, need, o_minus_e, var, n_events,
                  cut):  # pragma: no cover - compiled
    """Every look of every trial (rows of (R, n) arrays cut from a ``TrialData``): fills
    the (R, K) arrays ``o_minus_e``, ``var``, ``n_events`` and ``cut`` (see _trial_looks)."""
    _looks_rows(0, time.shape[0], time, event, entry, arm, duration, need, o_minus_e, var,
                n_events, cut)


@nb.njit(cache=True, parallel=True)
def logrank_looks_parallel(time, event, entry, arm, duration, need, o_minus_e, var, n_events,
                           cut, n_blocks):  # pragma: no cover - compiled
    """:func:`logrank_looks` with the trials split in ``n_blocks`` blocks over the threads."""
    R = time.shape[0]
    for b in nb.prange(n_blocks):
        _looks_rows(b * R // n_blocks, (b + 1) * R // n_blocks, time, event, entry, arm, duration,
                    need, o_minus_e, var, n_events, cut)


@nb.njit(cache=True)
def _simulate_rows(lo, hi, u_blocks, u_coin, entry, e_death, e_loss, lam, hr, change, dropout,
                   target, fallback_add, need, time, event, arm, duration, o_minus_e, var,
                   n_events, cut):  # pragma: no cover - compiled
    n = entry.shape[1]
    fb, ib = _buffers(n)
    rk = np.zeros(max(u_blocks.shape[2], 1), dtype=np.int64)
    t_death = np.empty(n)
    t_loss = np.empty(n)
    cal = np.empty(n)
    near = np.empty(n)
    hc = lam * change
    threshold = np.inf  # calendar dates below it are kept for the selection (any value is exact)
    for r in range(lo, hi):
        # allocation: permuted blocks (np.argsort of the block's uniforms < size / 2) or a coin
        if u_blocks.shape[0] > 0:
            bs = u_blocks.shape[2]
            for blk in range(u_blocks.shape[1]):
                for j in range(bs):
                    rk[j] = 0
                for j in range(bs):  # position in the sorted block, ties in index order
                    x = u_blocks[r, blk, j]
                    for h in range(j + 1, bs):
                        c = x <= u_blocks[r, blk, h]  # j before h
                        rk[h] += c
                        rk[j] += 1 - c
                for j in range(bs):
                    pos = blk * bs + rk[j]
                    if pos < n:
                        arm[r, pos] = 2 * j < bs
        else:
            for i in range(n):
                arm[r, i] = u_coin[r, i] < 0.5
        # death and loss times, calendar death dates (simulate_trials' operations)
        m = 0
        for i in range(n):
            e = e_death[r, i]
            if e < hc:
                t = e / lam
            else:
                t = change + (e - hc) / (lam * (hr if arm[r, i] == 1 else 1.0))
            tl = e_loss[r, i] / dropout if e_loss.shape[0] > 0 else np.inf
            t_death[i] = t
            t_loss[i] = tl
            cd = entry[r, i] + t if t <= tl else np.inf
            cal[i] = cd
            near[m] = cd
            m += cd <= threshold
        # the target-th death date (np.partition's value): among the dates below the threshold
        # when there are enough of them, else among all; with fewer patients than the target, the
        # last patient's (inf unless everyone died): never an index beyond the n dates
        k = min(target, n) - 1
        if m > k:
            cutoff = _select(near, m, k)
        else:
            cutoff = _select(cal, n, k)
        if np.isfinite(cutoff):
            threshold = 1.25 * cutoff  # the next trial's cut-off is rarely far above
        # no later than the fallback date (final_cutoff's rule): when the deaths never come
        cutoff = min(cutoff, entry[r, n - 1] + fallback_add)
        for i in range(n):
            t = t_death[i]
            e0 = entry[r, i]
            admin = max(cutoff - e0, 0.0)
            ev = (t <= t_loss[i]) & (e0 + t <= cutoff) & (admin > 0)
            event[r, i] = ev
            time[r, i] = t if ev else min(t_loss[i], admin)
        duration[r] = cutoff
        _trial_looks(time[r], event[r], entry[r], arm[r], cutoff, need, o_minus_e[r], var[r],
                     n_events[r], cut[r], fb, ib)


@nb.njit(cache=True)
def simulate_looks(u_blocks, u_coin, entry, e_death, e_loss, lam, hr, change, dropout, target,
                   fallback_add, need, time, event, arm, duration, o_minus_e, var, n_events,
                   cut):  # pragma: no cover - compiled
    """Trials from their random draws (see the module docstring), then every look: fills
    ``time``, ``event``, ``arm`` (R, n), ``duration`` (R,) as ``simulate_trials`` + ``cut`` and the
    (R, K) look arrays as :func:`logrank_looks`. ``u_blocks`` (R, blocks, size) or empty
    (0, 0, 0) when ``u_coin`` (R, n) decides the arms; ``e_loss`` empty (0, 0) without loss."""
    _simulate_rows(0, entry.shape[0], u_blocks, u_coin, entry, e_death, e_loss, lam, hr, change,
                   dropout, target, fallback_add, need, time, event, arm, duration, o_minus_e,
                   var, n_events, cut)


@nb.njit(cache=True, parallel=True)
def simulate_looks_parallel(u_blocks, u_coin, entry, e_death, e_loss, lam, hr, change, dropout,
                            target, fallback_add, need, time, event, arm, duration, o_minus_e, var,
                            n_events, cut, n_blocks):  # pragma: no cover - compiled
    """:func:`simulate_looks` with the trials split in ``n_blocks`` blocks over the threads."""
    R = entry.shape[0]
    for b in nb.prange(n_blocks):
        _simulate_rows(b * R // n_blocks, (b + 1) * R // n_blocks, u_blocks, u_coin, entry,
                       e_death, e_loss, lam, hr, change, dropout, target, fallback_add, need, time,
                       event, arm, duration, o_minus_e, var, n_events, cut)
