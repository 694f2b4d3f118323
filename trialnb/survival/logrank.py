"""The weighted log-rank family of the survival engine, batched over trials and stratified.

Arrays of shape (R, n) hold R independent two-group trials (``group`` 1 = arm A, 0 = arm B);
shape (n,) is one trial. One computation serves every member of the family: within each
stratum, at every distinct death time with N at risk (N1 in group 1), D deaths (D1 in group 1)
and weight W = S(t-)^rho (1 - S(t-))^gamma (S the pooled Kaplan-Meier estimate of the stratum
just before t), O1 += W D1, E1 += W D N1/N and, for two weights k and l,
V_kl += W_k W_l D (N1/N)(1 - N1/N)(N - D)/(N - 1); then everything is summed over strata.

* :func:`logrank` -- one weight pair: rho = gamma = 0 is Mantel's log-rank test (R
  ``survdiff``), rho = 1 the Peto-Peto Prentice-Wilcoxon test (``survdiff(rho = 1)``).
* :func:`fh_statistics` -- several weight pairs at once with their full covariance matrix
  (the correlation MaxCombo needs: Karrison 2016; Lin et al. 2020).
* :func:`maxcombo_pvalue` -- p-value of max_k |Z_k| for one trial from the multivariate normal;
  :func:`maxcombo_reject` -- the same decision for thousands of trials.
* :func:`prepare` -- sort the trials once for several of the functions above (``prepared=``).

References
----------
* Mantel N. Evaluation of survival data and two new rank order statistics arising in its
  consideration. Cancer Chemother Rep 1966;50:163-170.
* Harrington DP, Fleming TR. A class of rank test procedures for censored survival data.
  Biometrika 1982;69:553-566; Fleming TR, Harrington DP. Counting Processes and Survival
  Analysis. Wiley 1991, ch. 7 (G(rho, gamma) weights).
* Karrison TG. Versatile tests for comparing survival curves based on weighted log-rank
  statistics. Stata J 2016;16:678-690 (MaxCombo and the covariance of the FH statistics).
* Lin RS, Lin J, Roychoudhury S, et al. Alternative analysis methods for time to event
  endpoints under nonproportional hazards. Stat Biopharm Res 2020;12:187-198.
* Genz A. Numerical computation of multivariate normal probabilities. J Comput Graph Stat
  1992;1:141-149.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ..errors import SurvivalDataError
from ..report import fmt_n, fmt_num, fmt_value
from ..results import Result
from ..validation import check_choice, check_int, check_nonnegative, check_probability, is_number
from ._core import check_group, check_strata, check_times, pooled_km_before, risk_terms, two_sample_rows

__all__ = ["FH_MAXCOMBO", "FHStatistics", "LogrankResult", "fh_statistics", "logrank", "maxcombo_pvalue",
           "maxcombo_reject", "prepare"]

FH_MAXCOMBO: tuple[tuple[float, float], ...] = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
"""The four Fleming-Harrington (rho, gamma) pairs of MaxCombo: log-rank, late, early, middle."""

_QMC_POINTS = 2**13
_QMC_CACHE: dict[int, np.ndarray] = {}
_CHUNK = 5000  # trials per chunk: bounds the (chunk, n, K) weight arrays


@dataclass(frozen=True)
class LogrankResult(Result):
    """Two-sample (weighted) log-rank tests of group 1 vs group 0, summed over strata:
    ``observed``/``expected`` (weighted) deaths in group 1, ``variance``,
    ``z = (O - E)/sqrt(V)`` (> 0: group 1 dies more than expected), ``chisq = z^2`` (1 df),
    two-sided ``p`` and the Peto hazard-ratio estimate ``hr = exp((O - E)/V)`` (meaningful for
    rho = gamma = 0). Arrays of shape (R,), or floats for one data set."""

    observed: np.ndarray | float
    expected: np.ndarray | float
    variance: np.ndarray | float
    z: np.ndarray | float
    chisq: np.ndarray | float
    p: np.ndarray | float
    hr: np.ndarray | float
    rho: float = 0.0
    gamma: float = 0.0

    @property
    def statistic(self) -> np.ndarray | float:
        """The chi-square statistic (alias of ``chisq``)."""
        return self.chisq

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: np.atleast_1d(getattr(self, k))
                             for k in ("observed", "expected", "variance", "z", "chisq", "p", "hr")})

    def summary(self) -> str:
        from ..report import fmt_num, fmt_p

        if np.ndim(self.z) == 1:
            return f"{np.size(self.z)} log-rank tests, FH(rho={self.rho:g}, gamma={self.gamma:g}) weights"
        return (f"log-rank FH(rho={self.rho:g}, gamma={self.gamma:g}): chi-square {fmt_num(float(self.chisq), 3)} "
                f"(1 df), {fmt_p(float(self.p))}; group 1 observed {fmt_num(float(self.observed), 2)}, "
                f"expected {fmt_num(float(self.expected), 2)}")


@dataclass(frozen=True)
class FHStatistics(Result):
    """Weighted log-rank numerators ``u`` (R, K), covariance ``cov`` (R, K, K) and
    ``z = u / sqrt(diag cov)`` (R, K) for the weight pairs ``weights`` (K of them).
    z > 0: group 1 (arm A) dies more than expected."""

    weights: tuple[tuple[float, float], ...]
    u: np.ndarray
    cov: np.ndarray
    z: np.ndarray

    @property
    def corr(self) -> np.ndarray:
        """Correlation matrices (R, K, K) of the statistics."""
        sd = np.sqrt(np.diagonal(self.cov, axis1=1, axis2=2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.cov / (sd[:, :, None] * sd[:, None, :])

    def to_frame(self) -> pd.DataFrame:
        """One row per trial and weight pair: ``trial``, ``rho``, ``gamma``, ``u``, ``var``, ``z``."""
        n_trials, k = self.z.shape
        var = np.diagonal(self.cov, axis1=1, axis2=2)
        return pd.DataFrame({
            "trial": np.repeat(np.arange(n_trials), k),
            "rho": np.tile([float(w[0]) for w in self.weights], n_trials),
            "gamma": np.tile([float(w[1]) for w in self.weights], n_trials),
            "u": self.u.ravel(), "var": var.ravel(), "z": self.z.ravel(),
        })

    def summary(self) -> str:
        pairs = ", ".join(f"FH({fmt_value(float(r), trim=True)}, {fmt_value(float(g), trim=True)})"
                          for r, g in self.weights)
        head = f"Weighted log-rank statistics {pairs} over {fmt_n(self.z.shape[0])} trial(s)"
        if self.z.shape[0] == 1:
            return head + ": z = " + ", ".join(fmt_num(float(z), 3) for z in self.z[0])
        return head + "; z > 0: arm A dies more than expected"


def prepare(time: Any, event: Any, group: Any, strata: Any = None) -> tuple:
    """Sort the trials once by (stratum, time) for several functions of the engine
    (``prepared=``): the simulation analyses the same trials with each of them. Returns the
    sorted rows, their tie-group and stratum-block index maps, and whether the input was one
    trial."""
    t, e, single = check_times(time, event)
    g = check_group(group, t.shape)
    st = check_strata(strata, t)
    return (*two_sample_rows(t, e, g, st), single)



def _check_weights(weights: Any) -> tuple[tuple[float, float], ...]:
    wts: tuple[tuple[float, float], ...] = ()
    if isinstance(weights, (list, tuple)) and all(isinstance(w, (list, tuple)) and len(w) == 2
                                                 and all(is_number(x) for x in w) for w in weights):
        wts = tuple((float(r), float(g)) for r, g in weights)
    if not wts or any(not (math.isfinite(r) and math.isfinite(g) and r >= 0 and g >= 0) for r, g in wts):
        raise SurvivalDataError(f"weights must be a non-empty list of (rho, gamma) pairs of finite numbers >= 0 "
                                f"(e.g. [(0, 0), (0, 1)]; a bool is not a number), got {weights!r}")
    return wts


def _weighted(prep: tuple, wts: tuple[tuple[float, float], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(O1, E1, V): weighted observed and expected deaths of group 1 (R, K) and the covariance
    (R, K, K) of O1 - E1 for the weight pairs ``wts`` (the module docstring's sums)."""
    ts, es, gs, new, bst, bend, gst, gen = prep[:8]
    N, frac, D, D1, use = risk_terms(ts, es, gs, new, bend, gst, gen)
    if all(r == 0 and g == 0 for r, g in wts):
        W = np.ones(ts.shape + (len(wts),))
    else:
        S_ = pooled_km_before(use, D, N, bst)
        W = np.stack([_power(S_, r) * _power(1.0 - S_, g) for r, g in wts], axis=2)  # (R, n, K)
    with np.errstate(invalid="ignore", divide="ignore"):
        v0 = np.where(use & (N > 1), D * frac * (1 - frac) * (N - D) / np.maximum(N - 1, 1), 0.0)
    O1 = np.einsum("rnk,rn->rk", W, np.where(use, D1, 0.0))
    E1 = np.einsum("rnk,rn->rk", W, np.where(use, D * frac, 0.0))
    cov = np.matmul((W * v0[..., None]).transpose(0, 2, 1), W)
    return O1, E1, cov


def _chunked(time: Any, event: Any, group: Any, strata: Any, prepared: tuple | None,
             wts: tuple[tuple[float, float], ...],
             chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    if prepared is not None:
        return (*_weighted(prepared, wts), bool(prepared[8]))
    t, e, single = check_times(time, event)
    g = check_group(group, t.shape)
    st = check_strata(strata, t)
    check_int(chunk, "chunk", minimum=1, error=SurvivalDataError)
    parts = [_weighted(two_sample_rows(t[s:s + chunk], e[s:s + chunk], g[s:s + chunk],
                                       None if st is None else st[s:s + chunk]), wts)
             for s in range(0, t.shape[0], chunk)]
    O1, E1, cov = (np.concatenate(x) for x in zip(*parts, strict=True))
    return O1, E1, cov, single


def logrank(time: Any, event: Any, group: Any, *, strata: Any = None, rho: float = 0.0,
            gamma: float = 0.0, prepared: tuple | None = None, chunk: int = _CHUNK) -> LogrankResult:
    """Two-sample (weighted, stratified) log-rank tests of group 1 vs group 0, batched over trials.

    The sums of the module docstring with one weight pair (rho, gamma): z = (O1 - E1)/sqrt(V),
    chisq = z^2 (1 df), the Peto hazard-ratio estimate exp((O1 - E1)/V). rho = gamma = 0 is
    Mantel's log-rank test (R ``survdiff``), rho = 1 the Peto-Peto Prentice-Wilcoxon test
    (``survdiff(rho = 1)``). ``strata``: stratum labels (a stratified test sums O1, E1 and V
    over strata). Equal to R ``survdiff`` to 1e-12 (``tests/test_survival.py``)."""
    check_nonnegative(rho, "rho", error=SurvivalDataError)
    check_nonnegative(gamma, "gamma", error=SurvivalDataError)
    O1, E1, V, single = _chunked(time, event, group, strata, prepared, ((float(rho), float(gamma)),), chunk)
    O1, E1, V = O1[:, 0], E1[:, 0], V[:, 0, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        z, hr = (O1 - E1) / np.sqrt(V), np.exp((O1 - E1) / V)
    p = special.chdtrc(1, chi := z**2)
    if single:
        return LogrankResult(float(O1[0]), float(E1[0]), float(V[0]), float(z[0]), float(chi[0]), float(p[0]),
                             float(hr[0]), float(rho), float(gamma))
    return LogrankResult(O1, E1, V, z, chi, p, hr, float(rho), float(gamma))


def fh_statistics(time: Any = None, event: Any = None, group: Any = None, *,
                  weights: Sequence[tuple[float, float]] = FH_MAXCOMBO,
                  strata: Any = None, prepared: tuple | None = None, chunk: int = _CHUNK) -> FHStatistics:
    """Fleming-Harrington G(rho, gamma) statistics for several weight pairs and their covariance:
    u = O1 - E1 (R, K), cov (R, K, K) and z = u / sqrt(diag cov), the sums of the module
    docstring (the diagonal is :func:`logrank`'s variance). Batched: (R, n) arrays give R trials.
    """
    wts = _check_weights(weights)
    O1, E1, cov, _ = _chunked(time, event, group, strata, prepared, wts, chunk)
    u = O1 - E1
    with np.errstate(invalid="ignore", divide="ignore"):
        z = u / np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    return FHStatistics(wts, u, cov, z)


def _power(x: np.ndarray, a: float) -> np.ndarray | float:
    return np.ones_like(x) if a == 0 else x if a == 1 else x**a


def maxcombo_pvalue(z: Any, corr: Any, method: str = "aloe", n_samples: int = 200_000) -> float:
    """Two-sided p-value of max_k |Z_k| for one trial: P(max_k |Y_k| >= m), Y ~ N(0, corr),
    m = max |z|.

    ``method="aloe"`` (default) estimates this union probability directly (Owen AB, Maximov Y,
    Chertkov M. Importance sampling the union of rare events. Electron J Stat 2019;13:231-254):
    p = sum_k P(|Y_k| >= m) E_k[1 / #{l: |Y_l| >= m}], Y drawn given |Y_k| >= m (k uniform,
    every Y_k being standard normal); the ratio 1/# lies in [1/K, 1], so the relative error is
    about 0.2% with 200,000 draws at any p, and a singular ``corr`` (FH(0,1) = FH(0,0) - FH(1,0)
    in the numerators) is fine. ``method="genz"`` is 1 - ``scipy.stats.multivariate_normal.cdf``
    of the box [-m, m]^K (Genz 1992): accurate to ~1e-5 in absolute terms, so tiny p-values
    lose relative precision. Fixed seeds: the same input gives the same p.
    """
    try:
        zz = np.asarray(z, float).ravel()
        C = np.asarray(corr, float)
    except (TypeError, ValueError):
        raise SurvivalDataError("z and corr must be numbers: K statistics and their K x K correlation matrix") from None
    if zz.size == 0 or C.shape != (zz.size, zz.size) or not np.all(np.isfinite(C)) or not np.all(np.isfinite(zz)):
        raise SurvivalDataError(f"z must be {max(zz.size, 1)} finite statistics and corr a finite "
                                f"{zz.size}x{zz.size} correlation matrix, got z {zz.tolist()[:8]} and corr of shape "
                                f"{C.shape}")
    check_choice(method, "method", ("aloe", "genz"), error=SurvivalDataError)
    check_int(n_samples, "n_samples", minimum=1000, error=SurvivalDataError)
    m = float(np.max(np.abs(zz)))
    K = zz.size
    if K == 1:
        return float(2 * stats.norm.sf(m))
    if method == "genz":
        # scipy passes maxpts, abseps, releps on to multivariate_normal_frozen (**kwds); scipy-stubs
        # 1.17 declares no **kwds on multivariate_normal_gen.__call__
        mvn = stats.multivariate_normal(mean=np.zeros(K), cov=C, allow_singular=True,  # type: ignore[call-overload]
                                        maxpts=100_000 * K, abseps=1e-6, releps=0.0)
        inside = mvn.cdf(np.full(K, m), lower_limit=np.full(K, -m), rng=np.random.default_rng(20260101))
        return float(min(1.0, max(0.0, 1.0 - inside)))
    rng = np.random.default_rng(20260114)
    tail = float(stats.norm.sf(m))
    k = rng.integers(K, size=n_samples)
    yk = stats.norm.isf(rng.random(n_samples) * tail) * np.where(rng.random(n_samples) < 0.5, -1.0, 1.0)
    eps = rng.standard_normal((n_samples, K))
    count = np.empty(n_samples)
    for j in range(K):  # Y = C[:, j] Y_j + residual, residual ~ N(0, C - C[:, j] C[j, :])
        sel = k == j
        lam, vec = np.linalg.eigh(C - np.outer(C[:, j], C[j, :]))
        L = vec * np.sqrt(np.clip(lam, 0.0, None))
        Y = yk[sel, None] * C[None, :, j] + eps[sel] @ L.T
        Y[:, j] = yk[sel]
        count[sel] = (np.abs(Y) >= m).sum(axis=1)
    return float(min(1.0, 2 * K * tail * np.mean(1.0 / count)))


def _qmc_normals(k: int) -> np.ndarray:
    if k not in _QMC_CACHE:
        u = stats.qmc.Sobol(d=k, scramble=True, rng=np.random.default_rng(14)).random(_QMC_POINTS)
        _QMC_CACHE[k] = stats.norm.ppf(u)
    return _QMC_CACHE[k]


def maxcombo_reject(z: Any, corr: Any, alpha: float) -> np.ndarray:
    """Two-sided MaxCombo decisions at level ``alpha`` for R trials: ``z`` (R, K), ``corr``
    (R, K, K). max|Z| below the unadjusted critical value z_{alpha/2} never rejects, above the
    Bonferroni value z_{alpha/(2K)} always does (both exact); in between the p-value is the
    fraction of 2^13 scrambled-Sobol normal vectors Y = L x (L L' = corr) with max|Y| >= max|Z|
    (error about 0.0025 at p = 0.05, relevant only to trials at the boundary)."""
    check_probability(alpha, "alpha", lo_open=True, hi_open=True, error=SurvivalDataError)
    try:
        Z = np.atleast_2d(np.asarray(z, float))
        C = np.asarray(corr, float).reshape(Z.shape[0], Z.shape[1], Z.shape[1])
    except (TypeError, ValueError):
        raise SurvivalDataError(f"z must be (R, K) statistics and corr (R, K, K) correlation matrices, got shapes "
                                f"{np.shape(z)} and {np.shape(corr)}") from None
    R, K = Z.shape
    m = np.max(np.abs(Z), axis=1)
    ok = np.isfinite(m) & np.all(np.isfinite(C.reshape(R, -1)), axis=1)
    rej = ok & (m > stats.norm.isf(alpha / (2 * K)))
    mid = np.flatnonzero(ok & ~rej & (m > stats.norm.isf(alpha / 2)))
    if mid.size:
        x = _qmc_normals(K)
        lam, vec = np.linalg.eigh(C[mid])  # corr is singular for FH(0,0), FH(0,1), FH(1,0): W01 = W00 - W10
        L = vec * np.sqrt(np.clip(lam, 0.0, None))[:, None, :]  # L L' = corr (m, K, K)
        for s in range(0, mid.size, 64):
            sl = slice(s, s + 64)
            y = np.abs(np.matmul(x, L[sl].transpose(0, 2, 1))).max(axis=2)  # (m, P)
            p = (y >= m[mid[sl], None]).mean(axis=1)
            rej[mid[sl]] = p < alpha
    return rej
