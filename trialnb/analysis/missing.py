"""Missing data in the primary endpoint: a tipping-point (delta-adjusted) sensitivity analysis.

The primary analysis censors a patient lost to follow-up before ``censor_months`` at her last
contact: it assumes that, given her arm (and her minimization factors), her risk of death after
the loss is that of the patients still followed (missing at random, MAR; non-informative
censoring). :func:`tipping_point` asks how much worse -- or better -- the lost patients of each
arm would have to fare before the trial's conclusion changes (ICH E9(R1), section A.5.2; the
delta-adjustment of Carpenter JR, Roger JH, Kenward MG. Analysis of longitudinal trials with
protocol deviation: a framework for relevant, accessible assumptions, and inference via multiple
imputation. J Biopharm Stat 2013;23:1352-1371; for survival Leacy FP, Floyd S, Yates TA, White IR.
Analyses of sensitivity to the missing-at-random assumption using multiple imputation with
delta adjustment: application to a tuberculosis/HIV prevalence survey with incomplete HIV-status
data. Am J Epidemiol 2017;185:304-315; Zhao Y, Herring AH, Zhou H, Ali MW, Koch GG. A multiple
imputation method for sensitivity analyses of time-to-event data with possibly informative
censoring. J Biopharm Stat 2014;24:229-253).

The method, on the plan's endpoint (follow-up censored at h = ``plan.analysis.censor_months``):

1. **Who is missing.** A patient censored before h with ``lost_to_follow_up`` = 1. Patients alive
   at h are not missing, nor is follow-up cut by a data cut-off; an interim data cut does not
   know who was lost (:func:`trialnb.analysis.cut_at`), so the analysis is refused there.
2. **Imputation model** (one per arm): piecewise-exponential hazard with pieces ``cuts`` (6-month
   pieces to h by default) and the minimization factors as proportional covariates, fitted to
   the arm's patients (Poisson likelihood of deaths and person-time), with weakly informative
   normal priors (SD 2.5 on the log scale: log rates centred on the arm's crude rate, factor
   effects on 0) so that an empty piece or factor level stays finite. Each imputation draws the
   parameters from the normal approximation to their posterior (a proper imputation, Rubin
   1987, section 3.3).
3. **Delta adjustment.** After her loss time c, a lost patient of arm A has the imputation
   model's hazard multiplied by ``delta_a`` (arm B: ``delta_b``): delta 1 is MAR, delta > 1 a
   worse fate than comparable patients still followed. Her death time is drawn from that hazard
   given survival to c (inverting the cumulative hazard at a unit-exponential draw); a draw
   beyond h means alive at h. delta 0 is the best case (no lost patient dies before h), delta
   infinity the worst (every lost patient dies at her loss time). The same draws serve every
   cell of the (delta_a, delta_b) grid (common random numbers), so the grid is smooth and monotone in each delta.
4. **Analyses** of every completed data set: the plan's primary statistic (log HR of the Cox
   model with the plan's covariates and ties, or the Peto log HR of the log-rank family),
   the Kaplan-Meier difference in survival at h (Greenwood SE) and the standardized difference
   (:func:`trialnb.survival.standardized_survival`).
5. **Rubin's rules** (Rubin DB. Multiple Imputation for Nonresponse in Surveys. Wiley 1987):
   estimate Q = mean of the M estimates, total variance T = W + (1 + 1/M) B (W the mean
   within-imputation variance, B the between-imputation variance), reference t distribution with
   nu = (M - 1)(1 + W / ((1 + 1/M) B))^2 degrees of freedom, the plan's alpha and sides.

The tipping point of an analysis is, for each delta_b of the grid, the smallest departure of
delta_a from 1 at which the conclusion (benefit shown, harm shown, neither) differs from the
MAR cell's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrialAnalysisError
from ..plan import PLAN, TrialPlan, check_plan
from ..protocol import FACTOR_NAMES
from ..report import fmt_hr, fmt_n, fmt_num, fmt_p
from ..results import Result
from ..survival import fit_cox, km_milestone, logrank, standardized_survival
from ..validation import check_int, check_seed
from ._frame import REQUIRED, arrays, censor_at, check_df, cox_matrix, strata_labels

__all__ = ["DELTAS", "MI_ANALYSES", "N_IMPUTATIONS", "PIECES", "TippingPointResult", "tipping_point"]

DELTAS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf)
"""Default hazard multipliers after loss to follow-up, for each arm: the best case (0: no lost
patient dies before the horizon), half to eight times the MAR hazard, and the worst case
(infinity: every lost patient dies at her loss)."""

MI_ANALYSES: tuple[str, ...] = ("primary", "milestone", "standardized")
"""The analyses of each completed data set: the plan's primary statistic (log HR), the
Kaplan-Meier difference S_A(h) - S_B(h), the standardized difference."""

N_IMPUTATIONS = 50
"""Default number of imputations per cell of the grid."""

PIECES = 4
"""Default pieces of the imputation model's hazard: the horizon cut in four equal pieces (6 months
each for the plan's 24)."""

PRIOR_SD = 2.5
"""SD of the imputation model's normal priors on the log scale."""


# ---------------------------------------------------------------- the imputation model

def _exposure(t: np.ndarray, e: np.ndarray, cuts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Person-time (n, J) in each piece [cuts[j], cuts[j+1]) and the death indicator (n, J) of
    the piece holding each death."""
    lo, hi = cuts[:-1], cuts[1:]
    pt = np.clip(np.minimum(t[:, None], hi) - lo, 0.0, None)
    piece = np.clip(np.searchsorted(cuts, t, side="left") - 1, 0, len(lo) - 1)
    dth = np.zeros_like(pt)
    dth[np.arange(len(t)), piece] = e
    return pt, dth


def _fit_pwexp(t: np.ndarray, e: np.ndarray, Z: np.ndarray, cuts: np.ndarray,
               max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode and covariance of (log rate of each piece, factor log HRs) of one arm:
    Poisson likelihood of the deaths and person-time in each piece, normal priors N(log crude
    rate, PRIOR_SD^2) on the log rates and N(0, PRIOR_SD^2) on the factor effects; Newton's
    method (a concave log posterior: one maximum)."""
    pt, dth = _exposure(t, e, cuts)
    J, q = pt.shape[1], Z.shape[1]
    rows = pt.ravel() > 0
    design = np.concatenate([np.tile(np.eye(J), (len(t), 1)), np.repeat(Z, J, axis=0)], axis=1)[rows]
    off = np.log(pt.ravel()[rows])
    y = dth.ravel()[rows]
    crude = math.log(max(float(e.sum()), 0.5) / float(pt.sum()))
    prior_mean = np.concatenate([np.full(J, crude), np.zeros(q)])
    prec = np.eye(J + q) / PRIOR_SD ** 2
    theta = prior_mean.copy()
    for _ in range(max_iter):
        mu = np.exp(off + design @ theta)
        score = design.T @ (y - mu) - prec @ (theta - prior_mean)
        info = (design * mu[:, None]).T @ design + prec
        step = np.linalg.solve(info, score)
        theta = theta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = np.exp(off + design @ theta)
    info = (design * mu[:, None]).T @ design + prec
    return theta, np.linalg.inv(info)


def _impute_times(c: np.ndarray, rates: np.ndarray, u: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Death times after loss times ``c`` (L,) for hazards ``rates`` (M, L, J) piecewise on
    ``cuts``, at cumulative hazards ``u`` (M, L) from c on; inf where u is beyond the horizon."""
    lo, hi = cuts[:-1], cuts[1:]
    seg = np.clip(hi - np.maximum(lo, c[:, None]), 0.0, None)        # time at risk in each piece after c
    H = np.cumsum(rates * seg, axis=-1)                              # cumulative hazard at each piece's end
    j = np.sum(H < u[..., None], axis=-1)                            # the piece where u is reached
    beyond = j >= len(lo)
    jj = np.minimum(j, len(lo) - 1)
    H_before = np.where(jj > 0, np.take_along_axis(H, np.maximum(jj - 1, 0)[..., None], -1)[..., 0], 0.0)
    start = np.maximum(lo[jj], c[None, :])
    r = np.take_along_axis(rates, jj[..., None], -1)[..., 0]
    return np.where(beyond, np.inf, start + (u - H_before) / r)


# ---------------------------------------------------------------- the result

@dataclass(frozen=True)
class TippingPointResult(Result):
    """The delta-adjusted multiple-imputation analyses on a (delta_a, delta_b) grid.

    ``grid``: one row per analysis (:data:`MI_ANALYSES`) and cell -- ``delta_a``, ``delta_b``,
    the pooled ``estimate`` (log HR for ``primary``, S_A(h) - S_B(h) otherwise), ``se``
    (sqrt of Rubin's total variance), ``within`` and ``between`` variances, ``df``,
    ``ci_lower``/``ci_upper``, ``p_value`` and the ``conclusion`` ("benefit", "harm", "none")
    at the plan's alpha. ``lost``: patients lost to follow-up before h per arm;
    ``n_imputations``, ``seed``, ``cuts`` (the imputation model's pieces), ``statistic`` (the
    plan's primary statistic). ``figure``: :func:`trialnb.plots.tipping_point_heatmap`."""

    grid: pd.DataFrame
    lost: dict[str, int]
    n_imputations: int
    seed: int
    cuts: tuple[float, ...]
    horizon: float
    statistic: str
    alpha: float
    deltas_a: tuple[float, ...]
    deltas_b: tuple[float, ...]

    def cell(self, analysis: str, delta_a: float = 1.0, delta_b: float = 1.0) -> pd.Series:
        """The pooled row of ``analysis`` at (delta_a, delta_b)."""
        g = self.grid
        row = g[(g["analysis"] == analysis) & np.isclose(g["delta_a"], delta_a) & np.isclose(g["delta_b"], delta_b)]
        if row.empty:
            raise TrialAnalysisError(f"no cell ({delta_a:g}, {delta_b:g}) of analysis {analysis!r}; analyses "
                                     f"{MI_ANALYSES}, deltas_a {self.deltas_a}, deltas_b {self.deltas_b}")
        return row.iloc[0]

    def table(self, analysis: str = "primary", value: str = "p_value") -> pd.DataFrame:
        """``value`` of ``analysis`` as a (delta_b rows, delta_a columns) table."""
        if analysis not in MI_ANALYSES:
            raise TrialAnalysisError(f"analysis must be one of {MI_ANALYSES}, got {analysis!r}")
        g = self.grid[self.grid["analysis"] == analysis]
        return g.pivot(index="delta_b", columns="delta_a", values=value)

    def tipping_points(self, analysis: str = "primary") -> pd.DataFrame:
        """For each delta_b: the conclusion at MAR (delta_a = 1, that delta_b), and the delta_a
        closest to 1 -- above 1 (arm A's lost patients worse) and below 1 (better) -- at which
        the conclusion differs from the MAR cell's (delta 1, 1); NaN when no cell of the grid
        changes it."""
        mar = self.cell(analysis)["conclusion"]
        conc = self.table(analysis, "conclusion")
        rows = []
        for db, r in conc.iterrows():
            up = [da for da in sorted(c for c in r.index if c > 1) if r[da] != mar]
            down = [da for da in sorted((c for c in r.index if c < 1), reverse=True) if r[da] != mar]
            rows.append({"delta_b": db, "conclusion at delta_a = 1": r.get(1.0, ""),
                         "delta_a above 1 that changes it": up[0] if up else math.nan,
                         "delta_a below 1 that changes it": down[0] if down else math.nan})
        return pd.DataFrame(rows).set_index("delta_b")

    def to_frame(self) -> pd.DataFrame:
        return self.grid

    def summary(self) -> str:
        lost = ", ".join(f"{k} {fmt_n(v)}" for k, v in self.lost.items())
        lines = [f"delta-adjusted multiple imputation ({fmt_n(self.n_imputations)} imputations, seed {self.seed}) of "
                 f"the patients lost before {self.horizon:g} months (arm {lost}); grid delta_a "
                 f"{', '.join(f'{d:g}' for d in self.deltas_a)} x delta_b {', '.join(f'{d:g}' for d in self.deltas_b)}"]
        for a in MI_ANALYSES:
            c = self.cell(a)
            est = fmt_hr(math.exp(c["estimate"])) if a == "primary" else \
                f"{fmt_num(100 * c['estimate'], 1)} percentage points"
            what = "HR" if a == "primary" else "difference"
            tp = self.tipping_points(a)
            changes = int(tp.iloc[:, 1:].notna().to_numpy().sum())
            lines.append(f"{a}: at MAR {what} {est}, {fmt_p(c['p_value'])} ({c['conclusion']}); the conclusion changes "
                         f"in {fmt_n(int((self.table(a, 'conclusion') != c['conclusion']).to_numpy().sum()))} of "
                         f"{fmt_n(self.table(a).size)} cells ({fmt_n(changes)} tipping points)")
        return "\n".join(lines)


# ---------------------------------------------------------------- the analysis

def _deltas(x: Sequence[float], name: str) -> tuple[float, ...]:
    if isinstance(x, (str, bytes)) or not isinstance(x, (list, tuple, np.ndarray)) or len(x) == 0:
        raise TrialAnalysisError(f"{name} must be a non-empty sequence of hazard multipliers >= 0 (inf allowed), "
                                 f"got {x!r}")
    out = []
    for v in x:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v >= 0:
            raise TrialAnalysisError(f"{name} must hold hazard multipliers >= 0 (0: best case, inf: worst case), "
                                     f"got {v!r}")
        out.append(float(v))
    return tuple(sorted(set(out) | {1.0}))


def _rubin(q: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rubin's rules over the last axis (M imputations): estimate, total SE, W, B, df."""
    M = q.shape[-1]
    qbar = q.mean(axis=-1)
    W = u.mean(axis=-1)
    B = q.var(axis=-1, ddof=1) if M > 1 else np.zeros_like(qbar)
    T = W + (1 + 1 / M) * B
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (1 + 1 / M) * B / W
        df = np.where(r > 1e-12, (M - 1) * (1 + 1 / r) ** 2, np.inf)
    return qbar, np.sqrt(T), W, B, df


def tipping_point(df: pd.DataFrame, *, deltas_a: Sequence[float] = DELTAS, deltas_b: Sequence[float] = DELTAS,
                  n_imputations: int = N_IMPUTATIONS, seed: int = 20201120, cuts: Sequence[float] | None = None,
                  plan: TrialPlan = PLAN) -> TippingPointResult:
    """The delta-adjusted multiple-imputation (tipping-point) analysis of ``df`` (the module
    docstring) on the grid ``deltas_a`` x ``deltas_b`` (1 is always added: the MAR cell), with
    ``n_imputations`` imputations from ``seed``; ``cuts`` the imputation model's pieces (default
    :data:`PIECES` equal pieces from 0 to h)."""
    check_plan(plan, error=TrialAnalysisError)
    a = plan.analysis
    h = a.censor_months
    if h is None:
        raise TrialAnalysisError("the tipping-point analysis needs the plan's horizon (censor_months); "
                                 "overall survival on all follow-up has no fixed time at which a lost patient's "
                                 "fate is complete")
    da, db = _deltas(deltas_a, "deltas_a"), _deltas(deltas_b, "deltas_b")
    M = check_int(n_imputations, "n_imputations", minimum=2, error=TrialAnalysisError)
    check_seed(seed, error=TrialAnalysisError)
    d = censor_at(check_df(df, REQUIRED + ("lost_to_follow_up",), both_arms=True), h).reset_index(drop=True)
    lf = pd.to_numeric(d["lost_to_follow_up"], errors="coerce")
    if lf.isna().any() or not lf.isin([0, 1]).all():
        raise TrialAnalysisError("lost_to_follow_up must be 0 or 1 for every patient (a data cut at an interim does "
                                 "not know it: run the tipping-point analysis on the final data)")
    cut_pts = np.linspace(0.0, h, PIECES + 1) if cuts is None else np.asarray(cuts, float)
    if cut_pts.ndim != 1 or len(cut_pts) < 2 or cut_pts[0] != 0 or not np.isclose(cut_pts[-1], h) \
            or np.any(np.diff(cut_pts) <= 0):
        raise TrialAnalysisError(f"cuts must increase from 0 to the horizon {h:g}, got {cuts!r}")
    t, e, arm = arrays(d)
    lost = (lf.to_numpy() == 1) & (e == 0) & (t < h)
    Zf, _ = cox_matrix(d, FACTOR_NAMES, arm=False)
    X, _ = cox_matrix(d, a.covariates)
    rng = np.random.default_rng(seed)
    idx_lost = np.flatnonzero(lost)
    L = len(idx_lost)
    C = len(da) * len(db)
    times = np.broadcast_to(t, (C * M, len(t))).copy()
    events = np.broadcast_to(e.astype(float), (C * M, len(t))).copy()
    if L:
        rates = np.empty((M, L, len(cut_pts) - 1))
        for k in (1, 0):
            rows = arm == k
            theta, cov = _fit_pwexp(t[rows], e[rows], Zf[rows], cut_pts)
            draws = rng.multivariate_normal(theta, cov, size=M, method="cholesky")
            sel = arm[idx_lost] == k
            J = len(cut_pts) - 1
            lin = np.einsum("mq,lq->ml", draws[:, J:], Zf[idx_lost[sel]])
            rates[:, sel, :] = np.exp(draws[:, None, :J] + lin[..., None])
        u = rng.standard_exponential((M, L))
        in_a = arm[idx_lost] == 1
        c = 0
        for dbv in db:
            for dav in da:
                delta = np.where(in_a, dav, dbv)
                with np.errstate(divide="ignore"):  # delta 0: u / 0 = inf, never dies before h
                    tt = _impute_times(t[idx_lost], rates, u / delta[None, :], cut_pts)
                dead = tt <= h
                sl = slice(c * M, (c + 1) * M)
                times[sl, idx_lost] = np.where(dead, tt, h)
                events[sl, idx_lost] = dead.astype(float)
                c += 1
    # the analyses of every completed data set
    est: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if a.statistic == "cox_wald":
        fit = fit_cox(times, events, np.broadcast_to(X, (C * M,) + X.shape), ties=a.ties)
        est["primary"] = (fit.coef[:, 0], fit.se[:, 0] ** 2)
    else:
        st = strata_labels(d, a.covariates) if a.statistic == "stratified_logrank" else None
        lr = logrank(times, events, np.broadcast_to(arm, times.shape), strata=st)
        v = np.asarray(lr.variance, float)
        est["primary"] = ((np.asarray(lr.observed) - np.asarray(lr.expected)) / v, 1 / v)
    sa, va, sb, vb = km_milestone(times, events, np.broadcast_to(arm, times.shape), h)
    est["milestone"] = (sa - sb, va + vb)
    std = standardized_survival(times, events, np.broadcast_to(X, (C * M,) + X.shape), h, ties=a.ties,
                                fit=fit if a.statistic == "cox_wald" else None)
    est["standardized"] = (std.difference, std.difference_se ** 2)
    level = a.alpha if a.sided == 2 else 2 * a.alpha
    cells = [(dav, dbv) for dbv in db for dav in da]
    rows = []
    for name in MI_ANALYSES:
        q, uvar = (x.reshape(C, M) for x in est[name])
        qbar, se, W, B, nu = _rubin(q, uvar)
        crit = np.asarray(stats.t.isf(level / 2, np.where(np.isfinite(nu), nu, 1e12)))
        with np.errstate(invalid="ignore", divide="ignore"):
            z = qbar / se
        p = 2 * np.asarray(stats.t.sf(np.abs(z), np.where(np.isfinite(nu), nu, 1e12)))
        favours_a = qbar < 0 if name == "primary" else qbar > 0
        for i, (dav, dbv) in enumerate(cells):
            rej = bool(np.isfinite(p[i]) and p[i] <= level)
            if a.sided == 1 and not favours_a[i]:
                rej = False
            conclusion = "none" if not rej else ("benefit" if favours_a[i] else "harm")
            rows.append({"analysis": name, "delta_a": dav, "delta_b": dbv, "estimate": float(qbar[i]),
                         "se": float(se[i]), "within": float(W[i]), "between": float(B[i]), "df": float(nu[i]),
                         "ci_lower": float(qbar[i] - crit[i] * se[i]), "ci_upper": float(qbar[i] + crit[i] * se[i]),
                         "p_value": float(p[i]) if a.sided == 2 else float(p[i] / 2 if favours_a[i] else 1 - p[i] / 2),
                         "conclusion": conclusion})
    grid = pd.DataFrame(rows)
    lost_by_arm = {"A": int((lost & (arm == 1)).sum()), "B": int((lost & (arm == 0)).sum())}
    return TippingPointResult(grid, lost_by_arm, M, int(seed), tuple(float(x) for x in cut_pts), float(h),
                              a.statistic, a.alpha, da, db)
