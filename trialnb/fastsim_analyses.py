"""The estimand analyses of :mod:`trialnb.fastsim`, batched over simulated trials.

:func:`analyse_trials` applies the log-rank test, FH(0,1), MaxCombo, the RMST difference and the
milestone (2-year survival) difference to the *same* simulated trials, arrays of shape (R, n),
with one sort of each trial shared by all of them (:func:`trialnb.survival_weighted.prepare`);
the Cox model stays in :func:`trialnb.fastsim.simulate`. :func:`required_patients` finds the
number of patients that reaches a power by simulation.

Sign convention (as the Cox and log-rank z of ``fastsim``): z < 0 favours arm A. For RMST and
milestone z = -(A - B) / SE, so a longer RMST or a higher 2-year survival in arm A gives z < 0.
Two-sided rejection at ``alpha``; MaxCombo's decision is :func:`trialnb.survival_weighted.
maxcombo_reject` and its z is the component with the largest |z|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import survival_weighted as sw

try:  # optional acceleration (PyPI ``numba``); the numpy path gives the same numbers
    from . import _estimands_numba as _nbk
except ImportError:  # pragma: no cover - depends on the environment
    _nbk = None

__all__ = ["ANALYSES", "RequiredPatients", "analyse_trials", "check_analyses", "required_patients", "scenario_curves",
           "true_estimands", "SHAPES"]

ANALYSES: tuple[str, ...] = ("cox", "logrank", "fh01", "maxcombo", "rmst", "milestone")
"""Analyses :func:`trialnb.fastsim.simulate` can apply to the same simulated trials."""


def check_analyses(analysis: Any) -> tuple[str, ...]:
    """The analysis names as a tuple (a single name or a list of distinct names of ANALYSES)."""
    names = (analysis,) if isinstance(analysis, str) else tuple(analysis) if isinstance(analysis, (list, tuple)) else ()
    bad = [a for a in names if a not in ANALYSES]
    if not names or bad or len(set(names)) != len(names):
        raise ValueError(f"analysis must be one of {', '.join(map(repr, ANALYSES))} or a list of distinct ones, "
                         f"got {analysis!r}")
    return names


def _compiled_stats(time: np.ndarray, event: np.ndarray, arm: np.ndarray, tau: float):
    t = np.ascontiguousarray(np.atleast_2d(time), dtype=float)
    e = np.ascontiguousarray(np.atleast_2d(event), dtype=float)
    g = np.ascontiguousarray(np.atleast_2d(arm), dtype=float)
    R = t.shape[0]
    u, cov, km = np.empty((R, 4)), np.empty((R, 4, 4)), np.empty((R, 8))
    _nbk.trial_stats(t, e, g, float(tau), u, cov, km)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = u / np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    return sw.FHStatistics(sw.FH_MAXCOMBO, u, cov, z), km


def analyse_trials(time: np.ndarray, event: np.ndarray, arm: np.ndarray, names: Sequence[str],
                   alpha: float, tau: float, engine: str = "auto"
                   ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each non-Cox analysis in ``names``: (z, reject, ok) arrays of shape (R,); ``ok`` is
    False where the statistic is undefined (no deaths, S(tau) = 0 ...), and such a trial
    does not reject. ``engine``: "numba" (or "auto" with numba installed) uses the compiled
    one-pass kernel :mod:`trialnb._estimands_numba`, "numpy" the vectorised
    :mod:`trialnb.survival_weighted` functions; same numbers to rounding error."""
    zcrit = stats.norm.isf(alpha / 2)
    out: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    need_fh = [a for a in names if a in ("logrank", "fh01", "maxcombo")]
    need_km = [a for a in names if a in ("rmst", "milestone")]
    if not need_fh and not need_km:
        return out
    if engine not in ("auto", "numpy", "numba"):
        raise ValueError(f"engine must be 'auto', 'numpy' or 'numba', got {engine!r}")
    compiled = _nbk is not None and engine != "numpy"
    if compiled:
        fh_c, km = _compiled_stats(time, event, arm, tau)
    else:
        prep = sw.prepare(time, event, arm)
    if need_fh:
        weights = sw.FH_MAXCOMBO if "maxcombo" in need_fh else ((0.0, 0.0), (0.0, 1.0))
        fh = fh_c if compiled else sw.fh_statistics(prepared=prep, weights=weights)
        for a, k in (("logrank", 0), ("fh01", 1)):
            if a in need_fh:
                z = fh.z[:, k]
                ok = np.isfinite(z)
                out[a] = (z, ok & (np.abs(np.nan_to_num(z)) > zcrit), ok)
        if "maxcombo" in need_fh:
            ok = np.all(np.isfinite(fh.z), axis=1)
            zz = np.nan_to_num(fh.z)
            z = np.where(ok, zz[np.arange(len(zz)), np.argmax(np.abs(zz), axis=1)], np.nan)
            out["maxcombo"] = (z, ok & sw.maxcombo_reject(zz, fh.corr, alpha), ok)
    for a in need_km:
        if compiled:
            ea, va, eb, vb = km[:, 4:8].T if a == "rmst" else km[:, 0:4].T
        else:
            fn = sw.km_rmst if a == "rmst" else sw.km_milestone
            ea, va, eb, vb = fn(None, None, None, tau, prepared=prep)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = -(ea - eb) / np.sqrt(va + vb)
        ok = np.isfinite(z)
        out[a] = (z, ok & (np.abs(np.nan_to_num(z)) > zcrit), ok)
    return out


@dataclass(frozen=True)
class RequiredPatients:
    """Patients needed for ``target`` power under a scenario and analysis, by simulation.

    ``n_patients``: the N (rounded up to the step) where the smoothed simulated power curve
    probit(power) = a + b sqrt(N), fitted by weighted least squares to every evaluated N,
    reaches the target; ``power`` and ``power_se``: the simulated power at that N;
    ``n_lower``, ``n_upper``: 95% Monte-Carlo interval of the crossing point (delta method on
    the fit); ``evaluations``: every N simulated with its power and SE."""

    analysis: str
    target: float
    n_patients: int
    power: float
    power_se: float
    n_lower: float
    n_upper: float
    n_trials: int
    evaluations: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.evaluations

    def summary(self) -> str:
        from .report import fmt_n, fmt_pct

        return (f"{self.analysis}: {fmt_n(self.n_patients)} patients for {fmt_pct(self.target)} power "
                f"(simulated {fmt_pct(self.power)}, MC SE {fmt_pct(self.power_se)}; Monte-Carlo range "
                f"{fmt_n(math.floor(self.n_lower))} to {fmt_n(math.ceil(self.n_upper))}; {fmt_n(self.n_trials)} trials per N)")

    def _repr_html_(self) -> str:
        return f"<p>{self.summary()}</p>" + self.evaluations.to_html(index=False, float_format=lambda v: f"{v:.4g}")


def required_patients(scenario: Any, power: float = 0.8, analysis: str = "cox", *, n_trials: int = 2000,
                      seed: int = 0, n_min: int = 20, n_max: int = 4000, step: int = 2) -> RequiredPatients:
    """Total N (multiple of ``step``) that reaches ``power`` under the scenario, by simulation.

    Every N is simulated with the same ``seed`` (common random numbers in the sense of one
    stream per N; the draws are not nested across N, so the power curve can wiggle by its MC
    error). Search: doubling from the scenario's N until the power is reached (at most
    ``n_max``), bisection between the last N below and the first N above, then the smoothed
    curve of :class:`RequiredPatients` over all evaluated N gives the answer. Each step runs
    :func:`trialnb.fastsim.simulate` with ``n_trials`` trials.
    """
    from .fastsim import Scenario, simulate

    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be a trialnb.fastsim.Scenario, got {type(scenario).__name__}")
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power < 1:
        raise ValueError(f"power must lie in (0, 1), got {power!r}")
    (name,) = check_analyses(analysis) if isinstance(analysis, str) else (None,)
    if name is None:
        raise ValueError(f"analysis must be one name of {ANALYSES}, got {analysis!r}")
    if scenario.is_null:
        raise ValueError("the scenario has no treatment effect (is_null): no N reaches a power above alpha")
    if not (isinstance(step, int) and step >= 2 and step % 2 == 0 and n_min >= 4 and n_max > n_min):
        raise ValueError("step must be an even integer >= 2 and 4 <= n_min < n_max")
    seen: dict[int, tuple[float, float]] = {}

    def pw(n: int) -> float:
        if n not in seen:
            r = simulate(replace(scenario, n_patients=int(n)), n_trials, seed=seed, analysis=name)
            seen[n] = (r.power, r.power_se)
        return seen[n][0]

    rnd = lambda n: int(max(n_min, min(n_max, step * math.ceil(n / step))))  # noqa: E731
    lo, hi = n_min, rnd(scenario.n_patients)
    while pw(hi) < power:
        if hi >= n_max:
            raise ValueError(f"power {power} not reached with n_max = {n_max} patients")
        lo, hi = hi, rnd(2 * hi)
    while hi - lo > step:
        mid = rnd((lo + hi) / 2)
        if mid >= hi:
            break
        if pw(mid) >= power:
            hi = mid
        else:
            lo = mid
    ev = pd.DataFrame([(n, p, se) for n, (p, se) in sorted(seen.items())], columns=["n_patients", "power", "power_se"])
    # smooth the simulated curve: probit(power) = a + b sqrt(N) (the normal approximation of a
    # test whose z grows as sqrt(N)), weighted least squares over the evaluated N
    use = ev[(ev["power"] > 0.02) & (ev["power"] < 0.995)]
    if len(use) >= 2:
        x = np.sqrt(use["n_patients"].to_numpy(float))
        pp = use["power"].to_numpy()
        q = stats.norm.ppf(pp)
        w = n_trials * stats.norm.pdf(q) ** 2 / (pp * (1 - pp))
        Xd = np.column_stack([np.ones_like(x), x])
        cov = np.linalg.inv(Xd.T @ (w[:, None] * Xd))
        a, b = cov @ (Xd.T @ (w * q))
        qt = stats.norm.ppf(power)
        n_fit = ((qt - a) / b) ** 2
        g = np.array([-1.0, -(qt - a) / b]) * 2 * (qt - a) / b**2  # d n / d (a, b)
        se_n = float(math.sqrt(g @ cov @ g))
        n_req = rnd(n_fit) if b > 0 else hi
        lo_n, hi_n = n_fit - 1.96 * se_n, n_fit + 1.96 * se_n
    else:
        n_req, lo_n, hi_n = hi, math.nan, math.nan
    if n_req not in seen:
        pw(n_req)
        ev = pd.DataFrame([(n, p, se) for n, (p, se) in sorted(seen.items())],
                          columns=["n_patients", "power", "power_se"])
    p_hi, se_hi = seen[n_req]
    return RequiredPatients(name, float(power), int(n_req), p_hi, se_hi, float(lo_n), float(hi_n), int(n_trials), ev)


def _multiplier_integral(sc: Any, t: np.ndarray, start: float) -> np.ndarray:
    """integral_0^t of the operated patient's hazard multiplier, surgery effect from ``start``
    (1 before start, early_hazard_ratio for early_months, 1 until the delay, hazard_ratio after)."""
    e_end = start + sc.early_months
    d_end = start + max(sc.early_months, sc.effect_delay_months)
    seg = lambda a, b: np.clip(t, a, b) - a  # noqa: E731  time spent in [a, b) by t
    return (np.minimum(t, start) + sc.early_hazard_ratio * seg(start, e_end) + seg(e_end, d_end)
            + sc.hazard_ratio * np.clip(t - d_end, 0.0, None))


def scenario_curves(scenario: Any, t: Any) -> pd.DataFrame:
    """True curves of a :class:`trialnb.fastsim.Scenario` at times ``t`` (months): the hazard
    ratio of an operated patient vs an unoperated one (``hr_operated``), and the survival of
    each arm as randomized (``survival_a``, ``survival_b``: mixtures over the 12 factor
    strata, over operated / not operated in arm A (``non_compliance``) and over crossover in
    arm B; loss to follow-up and censoring play no part)."""
    sc = scenario
    t = np.asarray(t, float)
    ps, lp = sc._strata_lp()
    lam = sc.baseline_hazard * np.exp(lp)
    M_a = _multiplier_integral(sc, t, 0.0)
    M_b = _multiplier_integral(sc, t, sc.crossover_months)
    S = lambda M: (ps[:, None] * np.exp(-lam[:, None] * M[None, :])).sum(axis=0)  # noqa: E731
    s_none = S(t)
    s_a = (1 - sc.non_compliance) * S(M_a) + sc.non_compliance * s_none
    s_b = sc.crossover * S(M_b) + (1 - sc.crossover) * s_none
    e_end = sc.early_months
    d_end = max(sc.early_months, sc.effect_delay_months)
    hr = np.where(t < e_end, sc.early_hazard_ratio, np.where(t < d_end, 1.0, sc.hazard_ratio))
    return pd.DataFrame({"time": t, "hr_operated": hr, "survival_a": s_a, "survival_b": s_b})


def true_estimands(scenario: Any, tau: float | None = None) -> dict[str, float]:
    """The population-level summaries the analyses estimate, from the true curves: 2-year
    (tau) survival per arm, their difference and ratio, and the RMST difference
    integral_0^tau (S_A - S_B) dt (trapezoid rule on a 0.01-month grid). tau defaults to the
    scenario's horizon (24 months)."""
    tau = float(scenario.horizon_months if tau is None else tau)
    grid = np.linspace(0.0, tau, int(round(tau * 100)) + 1)
    c = scenario_curves(scenario, grid)
    sa, sb = float(c["survival_a"].iloc[-1]), float(c["survival_b"].iloc[-1])
    diff = (c["survival_a"] - c["survival_b"]).to_numpy()
    rmst = float(np.sum((diff[1:] + diff[:-1]) / 2 * np.diff(grid)))
    return {"tau": tau, "survival_a": sa, "survival_b": sb, "milestone_difference": sa - sb,
            "survival_ratio": sa / sb, "rmst_difference": rmst}


SHAPES: dict[str, dict[str, float]] = {
    "proportional": {},
    "delayed benefit": {"effect_delay_months": 6.0},
    "early harm then benefit": {"early_hazard_ratio": 3.0, "early_months": 3.0},
    "crossing": {"early_hazard_ratio": 2.0, "early_months": 6.0, "hazard_ratio": 0.6},
}
"""Hazard shapes surgery can produce, as Scenario arguments on top of the protocol design
(HR 0.5): proportional; no effect for 6 months, then HR 0.5; perioperative harm (HR 3 for 3
months) then HR 0.5; HR 2 for 6 months then 0.6, whose survival curves cross."""
