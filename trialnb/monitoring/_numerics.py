"""Recursive numerical integration for group-sequential boundaries.

The canonical joint distribution (Jennison & Turnbull 2000, *Group Sequential Methods with
Applications to Clinical Trials*, ch. 3 and ch. 19): with information levels
``I_1 < ... < I_K`` and drift ``theta``, the standardized statistics satisfy

    Z_k sqrt(I_k) = Z_{k-1} sqrt(I_{k-1}) + theta (I_k - I_{k-1}) + sqrt(I_k - I_{k-1}) e_k,

``e_k`` independent N(0, 1), so ``E[Z_k] = theta sqrt(I_k)``. The sub-density of ``Z_k`` on
the continuation region is obtained by integrating the previous sub-density against the normal
transition kernel (Armitage, McPherson & Rowe 1969, *J R Stat Soc A* 132:235-244). The
integral is a composite Gauss-Legendre rule (8 nodes per panel, panels no wider than 0.25 and
no wider than half the kernel's standard deviation on the previous z scale); infinite bounds are
truncated 9 standard deviations from the mean (tail mass < 1e-18). Crossing probabilities at
stage k integrate the normal CDF of the kernel, so they need no grid on the stopping region.

Bounds per stage: ``upper`` (stop above, reject), ``lower`` (stop below: futility for a one-sided
design, rejection in the lower direction for a two-sided design; ``-inf`` for none) and
optionally ``inner`` (two-sided futility: stop when ``|Z_k| < inner``; ``nan`` or 0 for none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)
_TAIL = 9.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)
XTOL = 1e-12


@dataclass(frozen=True)
class StageProbabilities:
    """Stage-wise (not cumulative) probabilities of stopping in each region."""

    upper: np.ndarray
    lower: np.ndarray
    inner: np.ndarray

    @property
    def stop(self) -> np.ndarray:
        return self.upper + self.lower + self.inner


def _nodes(intervals: list[tuple[float, float]], h: float) -> tuple[np.ndarray, np.ndarray]:
    xs, ws = [], []
    for a, b in intervals:
        if not b > a:
            continue
        n = max(1, math.ceil((b - a) / h))
        edges = np.linspace(a, b, n + 1)
        half = (b - a) / (2 * n)
        mid = (edges[:-1] + edges[1:]) / 2
        xs.append((mid[:, None] + half * _GL_X[None, :]).ravel())
        ws.append(np.tile(half * _GL_W, n))
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ws)


def _continuation(lo: float, up: float, inner: float, mean: float) -> list[tuple[float, float]]:
    lo = max(lo, mean - _TAIL)
    up = min(up, mean + _TAIL)
    if not up > lo:
        return []
    if inner > 0 and not math.isnan(inner):
        return [(lo, min(up, -inner)), (max(lo, inner), up)]
    return [(lo, up)]


def _bounds(k_max, upper, lower, inner):
    upper = np.asarray(upper, dtype=float)
    lower = np.full(k_max, -np.inf) if lower is None else np.asarray(lower, dtype=float)
    inner = np.zeros(k_max) if inner is None else np.nan_to_num(np.asarray(inner, dtype=float), nan=0.0)
    return upper, lower, inner


@dataclass(frozen=True)
class Prefix:
    """The recursion run through looks ``0 .. j-1`` (their stopping probabilities) and the
    sub-density of ``Z_(j-1)`` on its continuation region (nodes ``x``, weighted density
    ``wf``), ready to give crossing probabilities at look ``j`` for any bound: searches for a
    bound at look j then cost one vector product per trial value."""

    probs: StageProbabilities
    info: np.ndarray
    theta: float
    x: np.ndarray | None
    wf: np.ndarray | None

    def _args(self, x: np.ndarray, bound: float) -> np.ndarray:
        j = self.info.size - 1
        sk, sp = math.sqrt(self.info[j]), math.sqrt(self.info[j - 1])
        d = self.info[j] - self.info[j - 1]
        return (x * sp + self.theta * d - bound * sk) / math.sqrt(d)

    def above(self, bound: float) -> float:
        """P(continue to look j and Z_j > bound)."""
        x, wf = self.x, self.wf
        if x is None or wf is None:  # look 0: both None
            return float(ndtr(self.theta * math.sqrt(self.info[0]) - bound))
        if not np.isfinite(bound):
            return float(wf.sum() if bound < 0 else 0.0)
        return float(wf @ ndtr(self._args(x, bound)))

    def below(self, bound: float) -> float:
        """P(continue to look j and Z_j < bound)."""
        x, wf = self.x, self.wf
        if x is None or wf is None:  # look 0: both None
            if not np.isfinite(bound):
                return 0.0 if bound < 0 else 1.0
            return float(ndtr(bound - self.theta * math.sqrt(self.info[0])))
        if not np.isfinite(bound):
            return 0.0 if bound < 0 else float(wf.sum())
        return float(wf @ ndtr(-self._args(x, bound)))


def _run(info, upper, lower, inner, theta, k_stop):
    """Stages ``0 .. k_stop - 1`` and the density for the transition to stage ``k_stop``."""
    p_up = np.zeros(info.size)
    p_lo = np.zeros(info.size)
    p_in = np.zeros(info.size)
    x = wf = None
    for k in range(k_stop):
        sk = math.sqrt(info[k])
        mean = theta * sk
        b, a, f = upper[k], lower[k], inner[k]
        if k == 0:
            p_up[0] = ndtr(mean - b)
            p_lo[0] = ndtr(a - mean)
            p_in[0] = max(0.0, ndtr(f - mean) - ndtr(-f - mean)) if f > 0 else 0.0
        else:
            if x.size == 0:
                return p_up, p_lo, p_in, np.zeros(0), np.zeros(0)
            sp = math.sqrt(info[k - 1])
            d = info[k] - info[k - 1]
            sd = math.sqrt(d)
            shift = x * sp + theta * d
            p_up[k] = wf @ ndtr((shift - b * sk) / sd)
            p_lo[k] = wf @ ndtr((a * sk - shift) / sd) if np.isfinite(a) else 0.0
            if f > 0:
                p_in[k] = max(0.0, wf @ (ndtr((f * sk - shift) / sd) - ndtr((-f * sk - shift) / sd)))
        if k + 1 >= info.size:
            break
        # sub-density of Z_k on the continuation region, on a grid fit for the next kernel
        d_next = info[k + 1] - info[k]
        h = min(0.25, 0.5 * math.sqrt(d_next / info[k]))
        z, w = _nodes(_continuation(a, b, f, mean), h)
        if k == 0:
            dens = np.exp(-0.5 * (z - mean) ** 2) / _SQRT_2PI
        else:
            u = (z[:, None] * sk - shift[None, :]) / sd
            dens = (np.exp(-0.5 * u * u) @ wf) * sk / (sd * _SQRT_2PI)
        x, wf = z, w * dens
    return p_up, p_lo, p_in, x, wf


def stage_probabilities(
    info: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray | None = None,
    inner: np.ndarray | None = None,
    theta: float = 0.0,
) -> StageProbabilities:
    """Probabilities of first stopping above ``upper``, below ``lower`` or inside
    ``(-inner, inner)`` at each stage, for drift ``theta`` (``E[Z_k] = theta sqrt(I_k)``)."""
    info = np.asarray(info, dtype=float)
    upper, lower, inner = _bounds(info.size, upper, lower, inner)
    p_up, p_lo, p_in, _, _ = _run(info, upper, lower, inner, theta, info.size)
    return StageProbabilities(p_up, p_lo, p_in)


def prefix(info: np.ndarray, upper: np.ndarray, lower: np.ndarray | None = None, theta: float = 0.0) -> Prefix:
    """Run the recursion through looks ``0 .. j-1`` of ``info`` (length ``j + 1``; the bounds
    at look j are ignored) and keep the density for look j (see :class:`Prefix`)."""
    info = np.asarray(info, dtype=float)
    upper, lower, inner = _bounds(info.size, upper, lower, None)
    j = info.size - 1
    p_up, p_lo, p_in, x, wf = _run(info, upper, lower, inner, theta, j)
    probs = StageProbabilities(p_up[:j], p_lo[:j], p_in[:j])
    return Prefix(probs, info, float(theta), None if j == 0 else x, None if j == 0 else wf)


def root(fun: Callable[[float], float], lo: float, hi: float, what: str, clamp: bool = False) -> float:
    """Brent's root of ``fun`` on ``[lo, hi]``; a ValueError says what could not be found.

    ``clamp=True`` returns the end of the bracket nearer to a root when ``fun`` keeps one sign
    (what rpact's bisection returns; used inside outer searches that pass through extremes)."""
    flo, fhi = fun(lo), fun(hi)
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    if np.sign(flo) == np.sign(fhi):
        if clamp:
            return lo if abs(flo) < abs(fhi) else hi
        raise ValueError(
            f"cannot compute {what}: no solution in [{lo}, {hi}] (the boundaries asked for are "
            "not attainable; try less extreme futility bounds, spending or information rates)"
        )
    return float(brentq(fun, lo, hi, xtol=XTOL, rtol=4 * np.finfo(float).eps, maxiter=200))


def qnorm_upper(p: float) -> float:
    """z_{1-p}, accurate for small p."""
    return float(-ndtri(p))


def pnorm_upper(z: float) -> float:
    return float(ndtr(-z))
