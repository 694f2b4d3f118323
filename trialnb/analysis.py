"""The statistical analysis plan of NCT04697043 as a thin layer over lifelines.

Input is a trial DataFrame in the CRF schema of :mod:`trialnb.data` (as returned by
:func:`trialnb.data.load_trial` or :func:`trialnb.simulation.simulate_trial`); times are
months from randomization (``os_months``), events are ``death`` (1) vs censored (0).

* :func:`baseline_table` - characteristics by arm (counts and percentages).
* :func:`km_by_arm`, :func:`numbers_at_risk` - Kaplan-Meier curves (Kaplan & Meier 1958).
* :func:`survival_at` - 2-year survival per arm with Greenwood standard errors and log-log
  ("exponential Greenwood") CIs (Kalbfleisch & Prentice 2002, section 1.4), and the
  difference A - B with a Wald CI (the primary endpoint as the protocol words it).
* :func:`logrank` - the log-rank test (Mantel 1966), computed by :mod:`trialnb.survival`.
* :func:`primary_cox` - Cox model (Cox 1972; Efron 1977 ties) of the ITT population with
  arm and the minimization factors (reference levels: arm B, bone, receptor positive,
  HER2 negative); the protocol's planned primary analysis.
* :func:`ph_tests` - scaled Schoenfeld residual tests (Grambsch & Therneau 1994).
* :func:`subgroup_hrs` - HR of arm A vs B within each factor level, with interaction tests.
* :func:`population_comparison` - ITT vs per-protocol vs as-treated (naive and time-varying).
* :func:`secondary_summary`, :func:`qol_summary` - the protocol's secondary endpoints.
* :func:`consort_counts` - the numbers of a CONSORT flow diagram.

The primary analysis is defined once, in :data:`trialnb.protocol.PRIMARY_ANALYSIS`: the Cox
model above of death within 24 months (follow-up censored at 24 months by
:func:`primary_data`), ITT, arm and the minimization factors. :func:`overall_survival_cox` is
the secondary overall-survival analysis (:data:`trialnb.protocol.OS_ANALYSIS`): the same model
on all follow-up to the cut-off. :func:`rerandomization_test` gives the log-rank statistic's
null distribution under the trial's own allocation procedure (minimization) re-run on the
same patients (Rosenberger & Lachin 2016, ch. 6); a free label permutation ignores
minimization.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test
from scipy import stats

from . import survival as _surv
from .protocol import ARM_CODES, FACTOR_NAMES, FACTORS
from .report import fmt_hr, fmt_n, fmt_num, fmt_p, fmt_pct
from .results import Result
from .validation import is_number

from .protocol import OS_ANALYSIS, PRIMARY_ANALYSIS, AnalysisPlan  # the analysis plan, defined once

__all__ = [
    "RerandomizationResult",
    "COX_COVARIATES",
    "REFERENCE_LEVELS",
    "TreatmentEffect",
    "LogrankByArm",
    "SurvivalAt",
    "baseline_table",
    "consort_counts",
    "censor_at",
    "cox_design",
    "fit_cox",
    "greenwood_by_hand",
    "km_by_arm",
    "logrank",
    "logrank_statistic",
    "numbers_at_risk",
    "overall_survival_cox",
    "ph_tests",
    "population_comparison",
    "primary_cox",
    "primary_data",
    "qol_summary",
    "rerandomization_test",
    "secondary_summary",
    "subgroup_hrs",
    "survival_at",
    "zph_test",
]

REFERENCE_LEVELS: dict[str, str] = {"arm": "B", "dominant_site": "bone", "hormone_receptor": "positive",
                                    "her2": "negative"}
"""Reference level of each covariate of the primary Cox model."""

COX_COVARIATES: tuple[str, ...] = ("arm_A", "dominant_site_soft_tissue", "dominant_site_visceral",
                                   "hormone_receptor_negative", "her2_positive")
"""Columns of the design matrix of :func:`primary_cox`, in order (treatment contrasts)."""

_SURV = ("arm", "os_months", "death")
_REQUIRED = _SURV + FACTOR_NAMES
Z975 = float(stats.norm.ppf(0.975))


def _check_df(df: Any, needed: Sequence[str] = _REQUIRED, what: str = "df") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame in the CRF schema, got {type(df).__name__}")
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; load it with trialnb.data.load_trial")
    if len(df) == 0:
        raise ValueError(f"{what} has no rows")
    bad = set(df["arm"].unique()) - set(ARM_CODES) if "arm" in df else set()
    if bad:
        raise ValueError(f"{what}['arm'] has unknown value(s) {sorted(bad)}; allowed: A, B")
    return df


# ---------------------------------------------------------------- baseline

def baseline_table(df: pd.DataFrame) -> pd.DataFrame:
    """Baseline characteristics by arm: n (%) for categories, median (range) and mean (SD) for age.

    Returns a DataFrame of strings indexed by (characteristic, level) with columns
    ``Arm A``, ``Arm B``, ``Total`` (the header row ``N`` gives the arm sizes).
    """
    df = _check_df(df)
    groups = {"Arm A": df[df["arm"] == "A"], "Arm B": df[df["arm"] == "B"], "Total": df}
    rows: list[tuple[str, str, dict[str, str]]] = [("N", "", {k: fmt_n(len(g)) for k, g in groups.items()})]
    if "age" in df:
        rows.append(("Age, years", "median (range)", {k: f"{fmt_num(float(g['age'].median()), 0)} "
                     f"({fmt_num(float(g['age'].min()), 0)} to {fmt_num(float(g['age'].max()), 0)})"
                     for k, g in groups.items()}))
        rows.append(("Age, years", "mean (SD)", {k: f"{fmt_num(float(g['age'].mean()), 1)} "
                     f"({fmt_num(float(g['age'].std()), 1)})" for k, g in groups.items()}))
    cats: list[tuple[str, str, tuple[Any, ...]]] = [(f.name, f.label, f.levels) for f in FACTORS]
    for col, label, levels in (("ecog", "ECOG performance status", (0, 1, 2)),
                               ("t_stage", "Clinical T stage", ("T1", "T2", "T3", "T4")),
                               ("n_stage", "Clinical N stage", ("N0", "N1", "N2", "N3"))):
        if col in df:
            cats.append((col, label, levels))
    for col, label, levels in cats:
        for lvl in levels:
            rows.append((label, str(lvl), {k: f"{fmt_n(int((g[col] == lvl).sum()))} "
                                              f"({fmt_pct((g[col] == lvl).mean(), 0)})" for k, g in groups.items()}))
    idx = pd.MultiIndex.from_tuples([(a, b) for a, b, _ in rows], names=["characteristic", "level"])
    return pd.DataFrame([r for _, _, r in rows], index=idx, columns=list(groups))


# ---------------------------------------------------------------- Kaplan-Meier

def km_by_arm(df: pd.DataFrame) -> dict[str, KaplanMeierFitter]:
    """A fitted lifelines KaplanMeierFitter per arm (log-log 95% CIs), keys "A", "B"."""
    df = _check_df(df, _SURV)
    out = {}
    for arm in ARM_CODES:
        g = df[df["arm"] == arm]
        if len(g) == 0:
            raise ValueError(f"df has no patient in arm {arm}")
        out[arm] = KaplanMeierFitter(label=f"Arm {arm}").fit(g["os_months"], g["death"])
    return out


def numbers_at_risk(df: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    """Patients still at risk (os_months >= t) per arm at each time; rows A, B; columns the times."""
    df = _check_df(df, _SURV)
    times = [float(t) for t in times]
    if any(t < 0 for t in times):
        raise ValueError(f"times must be non-negative months, got {times}")
    data = {t: [int((df.loc[df["arm"] == a, "os_months"] >= t).sum()) for a in ARM_CODES] for t in times}
    return pd.DataFrame(data, index=pd.Index(list(ARM_CODES), name="arm"))


def greenwood_by_hand(time: np.ndarray, event: np.ndarray, t: float) -> tuple[float, float]:
    """Kaplan-Meier S(t) and Greenwood's variance, computed directly from the definitions.

    S(t) = prod_{t_j <= t} (1 - d_j / n_j); Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (n_j (n_j - d_j))
    (Greenwood 1926). Returns (S(t), Var S(t)); the variance is NaN when S(t) = 0.
    """
    time = np.asarray(time, float)
    event = np.asarray(event, int)
    s, acc = 1.0, 0.0
    for tj in np.unique(time[(event == 1) & (time <= t)]):
        n_j = int((time >= tj).sum())
        d_j = int(((time == tj) & (event == 1)).sum())
        s *= 1.0 - d_j / n_j
        acc += d_j / (n_j * (n_j - d_j)) if n_j > d_j else math.inf
    var = s * s * acc if math.isfinite(acc) else math.nan
    return s, var


@dataclass(frozen=True)
class SurvivalAt(Result):
    """Survival at ``time`` months per arm and the difference A - B.

    Per arm: KM estimate, Greenwood SE, log-log 95% CI (exp(-exp(log(-log S) +/- z se_loglog)),
    se_loglog = SE / (S |log S|)). Difference: S_A - S_B with Wald 95% CI and two-sided p.
    """

    time: float
    table: pd.DataFrame  # index arm; columns survival, se, ci_lower, ci_upper, n, events_by_time
    difference: float
    diff_se: float
    diff_lower: float
    diff_upper: float
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        """The per-arm table (survival, SE, log-log CI, n, deaths and at risk by ``time``)."""
        return self.table.copy()

    def summary(self) -> str:
        a, b = self.table.at["A", "survival"], self.table.at["B", "survival"]
        return (f"Survival at {fmt_num(self.time, 0)} months: A {fmt_num(a, 3)}, B {fmt_num(b, 3)}; difference "
                f"A - B {fmt_num(self.difference, 3)} (95% CI {fmt_num(self.diff_lower, 3)} to "
                f"{fmt_num(self.diff_upper, 3)}), {fmt_p(self.p_value)}")


def _loglog_ci(s: float, se: float, z: float = Z975) -> tuple[float, float]:
    if not (0 < s < 1) or not math.isfinite(se):
        return (math.nan, math.nan)
    sl = se / (s * abs(math.log(s)))
    return (math.exp(-math.exp(math.log(-math.log(s)) + z * sl)), math.exp(-math.exp(math.log(-math.log(s)) - z * sl)))


def survival_at(df: pd.DataFrame, time: float = 24.0) -> SurvivalAt:
    """Kaplan-Meier survival at ``time`` months per arm, with CIs, and the difference A - B.

    The protocol's primary endpoint is "the percentage of patients who survive two years";
    with censoring the KM estimate at 24 months is the estimand. Greenwood variances;
    difference CI = (S_A - S_B) +/- 1.96 sqrt(Var_A + Var_B) (arms independent).
    """
    df = _check_df(df, _SURV)
    if not is_number(time) or not time > 0:
        raise ValueError(f"time must be a positive number of months, got {time!r}")
    rows = {}
    for arm in ARM_CODES:
        g = df[df["arm"] == arm]
        s, var = greenwood_by_hand(g["os_months"].to_numpy(), g["death"].to_numpy(), float(time))
        se = math.sqrt(var) if math.isfinite(var) else math.nan
        lo, hi = _loglog_ci(s, se)
        rows[arm] = {"survival": s, "se": se, "ci_lower": lo, "ci_upper": hi, "n": len(g),
                     "events_by_time": int(((g["os_months"] <= time) & (g["death"] == 1)).sum()),
                     "at_risk_at_time": int((g["os_months"] >= time).sum())}
    table = pd.DataFrame(rows).T.rename_axis("arm")
    for c in ("n", "events_by_time", "at_risk_at_time"):
        table[c] = table[c].astype(int)
    for c in ("survival", "se", "ci_lower", "ci_upper"):
        table[c] = table[c].astype(float)
    d = float(table.at["A", "survival"] - table.at["B", "survival"])
    dse = float(math.sqrt(table.at["A", "se"] ** 2 + table.at["B", "se"] ** 2))
    p = float(2 * stats.norm.sf(abs(d) / dse)) if dse > 0 else math.nan
    return SurvivalAt(float(time), table, d, dse, d - Z975 * dse, d + Z975 * dse, p)


@dataclass(frozen=True)
class LogrankByArm(Result):
    """Log-rank test of arm A vs B as a report shows it: chi-square (1 df), p-value, observed and
    expected deaths per arm (computed by :func:`trialnb.survival.logrank`)."""

    statistic: float
    p_value: float
    observed: dict[str, int]
    expected: dict[str, float]

    def to_frame(self) -> pd.DataFrame:
        """Observed and expected deaths per arm."""
        return pd.DataFrame({"observed": self.observed, "expected": self.expected}).rename_axis("arm")

    def summary(self) -> str:
        oe = "; ".join(f"{arm} {fmt_n(self.observed[arm])} observed, {fmt_num(self.expected[arm], 1)} expected"
                       for arm in self.observed)
        return f"Log-rank chi-square {fmt_num(self.statistic, 2)} (1 df), {fmt_p(self.p_value)}; deaths: {oe}"


def logrank_statistic(time: np.ndarray, event: np.ndarray, is_a: np.ndarray) -> float:
    """Log-rank chi-square from the definition (vectorised; used for permutation tests).

    U = sum_j (d_Aj - d_j n_Aj / n_j); V = sum_j d_j (n_Aj / n_j)(1 - n_Aj / n_j)(n_j - d_j)/(n_j - 1);
    chi-square = U^2 / V over the distinct death times j (Mantel 1966; Peto & Peto 1972).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    a = np.asarray(is_a).astype(bool)
    if not (t.shape == e.shape == a.shape):
        raise ValueError("time, event and is_a must have the same length")
    return float(_surv.logrank(t, e.astype(int), a.astype(int)).chisq)


def logrank(df: pd.DataFrame) -> LogrankByArm:
    """Unstratified log-rank test of A vs B (:func:`trialnb.survival.logrank`, equal to lifelines
    ``logrank_test`` and R ``survdiff``) with O and E per arm.

    E_A = sum over death times of d_j n_Aj / n_j (Mantel 1966); E_B = total deaths - E_A.
    """
    df = _check_df(df, _SURV)
    is_a = (df["arm"] == "A").to_numpy().astype(int)
    e = df["death"].to_numpy().astype(int)
    res = _surv.logrank(df["os_months"].to_numpy(dtype=float), e, is_a)
    exp_a = float(res.expected)
    total = int(e.sum())
    return LogrankByArm(float(res.chisq), float(res.p),
                         {"A": int(e[is_a == 1].sum()), "B": int(e[is_a == 0].sum())},
                         {"A": exp_a, "B": float(total - exp_a)})


@dataclass(frozen=True)
class RerandomizationResult(Result):
    """Observed statistic, its null distribution under re-randomization, and the p-value
    (1 + #{null >= observed}) / (1 + n)."""

    observed: float
    null: np.ndarray
    p_value: float

    def to_frame(self) -> pd.DataFrame:
        """One row: observed statistic, p-value and the number of re-randomizations."""
        return pd.DataFrame([{"observed": self.observed, "p_value": self.p_value, "n_rerandomizations": len(self.null)}])

    def summary(self) -> str:
        return (f"Re-randomization test: observed log-rank chi-square {fmt_num(self.observed, 2)}, "
                f"{fmt_p(self.p_value)} over {fmt_n(len(self.null))} re-randomizations")


def rerandomization_test(df: pd.DataFrame, procedure_factory: Any, n: int, rng: np.random.Generator) -> RerandomizationResult:
    """Re-randomization test of the log-rank statistic (Rosenberger & Lachin, *Randomization in
    Clinical Trials*, 2nd ed., 2016, chapter 6).

    Under the null hypothesis the outcomes do not depend on the arm, so the trial's allocation
    procedure is re-run ``n`` times on the same patients in the same order (rows of ``df`` in
    randomization order, their minimization factors as recorded) with fresh random draws, and
    the log-rank statistic of ``df``'s times and events is recomputed for each re-allocation.
    ``procedure_factory()`` must return a fresh procedure with ``assign(patient, rng).arm``
    (e.g. :class:`trialnb.randomization.PocockSimon`). The observed statistic uses the
    allocation recorded in ``df``.
    """
    df = _check_df(df)
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive whole number of re-randomizations, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    t = df["os_months"].to_numpy(float)
    e = df["death"].to_numpy(int)
    observed = logrank_statistic(t, e, (df["arm"] == "A").to_numpy())
    patients = df[list(FACTOR_NAMES)].to_dict("records")
    null = np.empty(n)
    for r in range(n):
        proc = procedure_factory()
        arms = np.array([proc.assign(p, rng).arm == "A" for p in patients])
        null[r] = logrank_statistic(t, e, arms)
    return RerandomizationResult(observed, null, (1 + int((null >= observed).sum())) / (1 + n))


# ---------------------------------------------------------------- Cox

def cox_design(df: pd.DataFrame, arm: bool = True, factors: Sequence[str] = FACTOR_NAMES) -> pd.DataFrame:
    """Design matrix with treatment (dummy) contrasts against :data:`REFERENCE_LEVELS`.

    Columns: ``os_months``, ``death``, then ``arm_A`` (if ``arm``) and one 0/1 column per
    non-reference level of each factor (``dominant_site_soft_tissue``, ...).
    """
    df = _check_df(df)
    out = pd.DataFrame({"os_months": df["os_months"].astype(float).to_numpy(),
                        "death": df["death"].astype(int).to_numpy()})
    if arm:
        out["arm_A"] = (df["arm"] == "A").astype(float).to_numpy()
    for f in FACTORS:
        if f.name not in factors:
            continue
        bad = set(df[f.name].unique()) - set(f.levels)
        if bad:
            raise ValueError(f"df[{f.name!r}] has unknown level(s) {sorted(bad)}; allowed: {', '.join(f.levels)}")
        for lvl in f.levels:
            if lvl != REFERENCE_LEVELS[f.name]:
                out[f"{f.name}_{lvl}"] = (df[f.name] == lvl).astype(float).to_numpy()
    return out


def fit_cox(design: pd.DataFrame) -> CoxPHFitter:
    """Fit lifelines' Cox model (Efron ties, no penalty) to a design matrix, converged tightly.

    Newton-Raphson to precision 1e-12 so the coefficients agree with R ``coxph`` to ~1e-9.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CoxPHFitter().fit(design, duration_col="os_months", event_col="death",
                                 fit_options={"precision": 1e-12, "r_precision": 1e-12, "max_steps": 200})


@dataclass(frozen=True)
class TreatmentEffect(Result):
    """The effect of arm A vs B from one fitted Cox model (lifelines, the library trainees see;
    checked against :func:`trialnb.survival.fit_cox` and R): hazard ratio, 95% Wald CI,
    p-value and the model. The Cox fit itself is :class:`trialnb.survival.CoxResult`."""

    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    p_value: float
    coef: float
    se: float
    n: int
    events: int
    model: CoxPHFitter
    design: pd.DataFrame

    @property
    def summary_frame(self) -> pd.DataFrame:
        """lifelines' coefficient table (coef, exp(coef), se, CI, z, p) for every covariate
        (this was the property ``summary``; ``summary()`` is now the text, as on every result)."""
        return self.model.summary

    def summary(self) -> str:
        return (f"HR A vs B {fmt_hr(self.hazard_ratio, self.ci_lower, self.ci_upper)}, {fmt_p(self.p_value)}; "
                f"{fmt_n(self.n)} patients, {fmt_n(self.events)} deaths")


def _cox_result(design: pd.DataFrame, term: str = "arm_A") -> TreatmentEffect:
    if design["death"].sum() == 0:
        raise ValueError("no deaths in the data: a Cox model cannot be fitted")
    const = [c for c in design.columns if c not in ("os_months", "death") and design[c].nunique() < 2]
    if const:
        raise ValueError(f"covariate(s) {const} take a single value in these data (a level with no patients, "
                         "or everyone in it); the Cox model cannot estimate them")
    m = fit_cox(design)
    s = m.summary.loc[term]
    return TreatmentEffect(float(s["exp(coef)"]), float(s["exp(coef) lower 95%"]), float(s["exp(coef) upper 95%"]),
                     float(s["p"]), float(s["coef"]), float(s["se(coef)"]), len(design),
                     int(design["death"].sum()), m, design)


def censor_at(df: pd.DataFrame, months: float | None) -> pd.DataFrame:
    """A copy of ``df`` with follow-up cut at ``months``: ``os_months = min(os_months, months)``
    and ``death = 0`` for deaths after ``months`` (a death at exactly ``months`` counts).
    ``months=None`` returns ``df`` unchanged (all follow-up to the data cut-off)."""
    df = _check_df(df, _SURV)
    if months is None:
        return df
    if not is_number(months) or not months > 0:
        raise ValueError(f"months must be a positive number of months or None, got {months!r}")
    out = df.copy()
    late = out["os_months"] > months
    out.loc[late, "death"] = 0
    out.loc[late, "os_months"] = float(months)
    return out


def primary_data(df: pd.DataFrame, plan: AnalysisPlan = PRIMARY_ANALYSIS) -> pd.DataFrame:
    """``df`` as the primary analysis sees it: follow-up censored at
    ``PRIMARY_ANALYSIS.censor_months`` (24) months after randomization."""
    return censor_at(df, plan.censor_months)


def primary_cox(df: pd.DataFrame) -> TreatmentEffect:
    """The primary analysis (:data:`trialnb.protocol.PRIMARY_ANALYSIS`): Cox model of death within
    24 months of randomization, ITT, arm + minimization factors.

    Follow-up is censored at 24 months (:func:`primary_data`): the primary endpoint is two-year
    survival, so deaths after month 24 are not part of it. ``h(t) = h0(t) exp(b_A [arm A] +
    b_soft [soft tissue] + b_visc [visceral] + b_HR- [receptor negative] + b_HER2+ [HER2
    positive])``, Efron ties; hazard_ratio = exp(b_A) (A vs B), Wald CI exp(b_A +/- 1.96 se)
    and Wald p-value. Every row of ``df`` is analysed in the arm it was randomized to.
    """
    return _cox_result(cox_design(primary_data(df)))


def overall_survival_cox(df: pd.DataFrame) -> TreatmentEffect:
    """The secondary overall-survival analysis (:data:`trialnb.protocol.OS_ANALYSIS`): the
    primary's Cox model on all follow-up to the data cut-off (no censoring at 24 months)."""
    return _cox_result(cox_design(censor_at(df, OS_ANALYSIS.censor_months)))


def ph_tests(result: TreatmentEffect, time_transform: str = "km") -> pd.DataFrame:
    """Scaled Schoenfeld residual tests of proportional hazards, one row per covariate.

    lifelines ``proportional_hazard_test`` (Grambsch & Therneau 1994 approximation) with the
    given time transform ("km", "rank", "identity", "log"). Columns: test_statistic, p.
    """
    if not isinstance(result, TreatmentEffect):
        raise ValueError(f"result must be a TreatmentEffect (from primary_cox or overall_survival_cox), got {type(result).__name__}")
    allowed = ("km", "rank", "identity", "log")
    if time_transform not in allowed:
        raise ValueError(f"time_transform must be one of {allowed}, got {time_transform!r}")
    r = proportional_hazard_test(result.model, result.design, time_transform=time_transform)
    out = r.summary[["test_statistic", "p"]].copy()
    out.index = [i[0] if isinstance(i, tuple) else i for i in out.index]
    return out.reindex([c for c in COX_COVARIATES if c in out.index])


def zph_test(result: TreatmentEffect, transform: str = "km") -> pd.DataFrame:
    """Proportional-hazards score tests as R survival (>= 3.0) ``cox.zph`` computes them.

    For g(t) the transformed time centred over the deaths, the score test of gamma = 0 in the
    extended model h(t) = h0(t) exp(x'beta + (x g(t))'gamma), at (beta_hat, 0) (Grambsch &
    Therneau, Biometrika 1994;81:515; Therneau & Grambsch 2000, section 6.2):
    U_gamma = sum over death times of g(t_j) (sum_{i in D_j} x_i - sum_k xbar_jk) and the
    information blocks sum V_jk, sum g V_jk, sum g^2 V_jk (Efron weights k/m within ties).
    One row per covariate (1 df, all beta partialled out) and ``GLOBAL``. Transforms:
    "km" (1 - left-continuous KM of all patients), "rank", "identity", "log".
    """
    if not isinstance(result, TreatmentEffect):
        raise ValueError(f"result must be a TreatmentEffect (from primary_cox or overall_survival_cox), got {type(result).__name__}")
    allowed = ("km", "rank", "identity", "log")
    if transform not in allowed:
        raise ValueError(f"transform must be one of {allowed}, got {transform!r}")
    d = result.design
    names = [c for c in d.columns if c not in ("os_months", "death")]
    x = d[names].to_numpy(float)
    t = d["os_months"].to_numpy(float)
    e = d["death"].to_numpy(int) == 1
    beta = result.model.params_.reindex(names).to_numpy(float)
    if transform == "km":
        km = _surv.kaplan_meier(t, e.astype(int))
        idx = np.searchsorted(km.time, t, side="left")  # distinct times strictly before t
        g_all = 1.0 - np.concatenate([[1.0], km.survival])[idx]
    elif transform == "rank":
        g_all = stats.rankdata(t)
    elif transform == "log":
        g_all = np.log(t)
    else:
        g_all = t.copy()
    g_all = g_all - g_all[e].mean()
    p = len(names)
    rows_d, m, V = _surv.cox_event_terms(t, e.astype(int), x, beta, ties="efron")
    g = g_all[rows_d]
    u = np.sum(g[:, None] * (x[rows_d] - m), axis=0)
    imat = np.zeros((2 * p, 2 * p))
    imat[:p, :p] = V.sum(axis=0)
    imat[:p, p:] = imat[p:, :p] = np.einsum("j,jab->ab", g, V)
    imat[p:, p:] = np.einsum("j,jab->ab", g * g, V)
    rows = {}
    for j, name in enumerate(names):
        kk = list(range(p)) + [p + j]
        uu = np.concatenate([np.zeros(p), [u[j]]])
        chi = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
        rows[name] = {"chisq": chi, "df": 1, "p": float(stats.chi2.sf(chi, 1))}
    uu = np.concatenate([np.zeros(p), u])
    chi = float(uu @ np.linalg.solve(imat, uu))
    rows["GLOBAL"] = {"chisq": chi, "df": p, "p": float(stats.chi2.sf(chi, p))}
    return pd.DataFrame(rows).T.astype({"chisq": float, "df": int, "p": float})


def subgroup_hrs(df: pd.DataFrame, min_events: int = 5) -> pd.DataFrame:
    """Hazard ratio A vs B within each level of each minimization factor (and ECOG 0-1 / 2, age).

    Every model uses the primary analysis's follow-up (censored at 24 months,
    :func:`primary_data`). The ``All patients`` row is the primary model itself (adjusted for
    the minimization factors). Within a subgroup: Cox model with arm only (the subgroup fixes
    one factor). Interaction p-value per factor: likelihood-ratio test of arm x factor terms
    added to the primary model. Subgroups with fewer than ``min_events`` deaths or one arm
    only get NaN estimates. Column ``in_protocol`` is True for the minimization factors (the
    protocol records them) and False for age and ECOG, which the protocol does not name as
    subgroups: all subgroup analyses are exploratory.
    """
    df = primary_data(_check_df(df))
    groupings: list[tuple[str, str, pd.Series]] = []
    for f in FACTORS:
        groupings.append((f.name, f.label, df[f.name]))
    if "age" in df:
        groupings.append(("age_group", "Age (not a protocol factor)", pd.Series(np.where(df["age"] < 50, "< 50 years", ">= 50 years"),
                                                        index=df.index)))
    if "ecog" in df:
        groupings.append(("ecog_group", "ECOG (not a protocol factor)", pd.Series(np.where(df["ecog"] >= 2, "2", "0-1"), index=df.index)))
    base = cox_design(df)
    ll0 = fit_cox(base).log_likelihood_
    prim = _cox_result(base)
    rows = [{"factor": "all", "label": "All patients (primary model, adjusted)", "level": "", "n": len(df),
             "events": int(df["death"].sum()), "hr": prim.hazard_ratio, "ci_lower": prim.ci_lower,
             "ci_upper": prim.ci_upper, "p": prim.p_value, "p_interaction": math.nan, "in_protocol": True}]
    for key, label, g in groupings:
        levels = [lv for lv in dict.fromkeys(sorted(g.unique()))]
        # interaction LR test
        inter = base.copy()
        dummies = pd.get_dummies(g, dtype=float).reindex(columns=levels).fillna(0.0)
        for lv in levels[1:]:
            inter[f"arm_x_{key}_{lv}"] = inter["arm_A"] * dummies[lv].to_numpy()
            if key not in FACTOR_NAMES:
                inter[f"{key}_{lv}"] = dummies[lv].to_numpy()
        try:
            ll1 = fit_cox(inter).log_likelihood_
            base_ll = ll0 if key in FACTOR_NAMES else fit_cox(inter.drop(columns=[c for c in inter if c.startswith("arm_x_")])).log_likelihood_
            k = len(levels) - 1
            p_int = float(stats.chi2.sf(2 * (ll1 - base_ll), k)) if k > 0 else math.nan
        except Exception:  # noqa: BLE001 - a non-estimable interaction is reported as NaN, not hidden
            p_int = math.nan
        for lv in levels:
            sub = df[g == lv]
            rows.append({"factor": key, "label": f"{label}: {lv}", "level": lv, "n": len(sub),
                         "events": int(sub["death"].sum()), **_arm_hr(sub, min_events), "p_interaction": p_int,
                         "in_protocol": key in FACTOR_NAMES})
    return pd.DataFrame(rows)


def _arm_hr(sub: pd.DataFrame, min_events: int) -> dict[str, float]:
    nan = {"hr": math.nan, "ci_lower": math.nan, "ci_upper": math.nan, "p": math.nan}
    if sub["death"].sum() < min_events or sub["arm"].nunique() < 2:
        return nan
    d = cox_design(sub, factors=())
    try:
        r = _cox_result(d)
    except Exception:  # noqa: BLE001
        return nan
    return {"hr": r.hazard_ratio, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p": r.p_value}


def _time_varying_surgery(df: pd.DataFrame) -> pd.DataFrame:
    """Counting-process rows: surgery as a time-varying covariate (0 before, 1 after surgery),
    split by :func:`trialnb.survival.split_at`, with the patient's factor columns."""
    dm = cox_design(df, arm=False)
    cov = [c for c in dm.columns if c not in ("os_months", "death")]
    operated = df["operated"].to_numpy() == 1
    switch = np.where(operated, df["surgery_month"].to_numpy(float), np.nan)
    rows = _surv.split_at(df["os_months"].to_numpy(float), df["death"].to_numpy(int), switch)
    rows = rows.sort_values(["id", "start"], kind="stable").reset_index(drop=True)
    out = pd.DataFrame({"id": rows["id"], "start": rows["start"], "stop": rows["stop"],
                        "death": rows["event"], "surgery": rows["exposed"]})
    base = dm[cov].to_numpy(float)[rows["id"].to_numpy()]
    for j, c in enumerate(cov):
        out[c] = base[:, j]
    return out


def population_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """ITT (primary), per-protocol, and as-treated hazard ratios, all adjusted for the factors.

    Every model uses the primary analysis's follow-up (death within 24 months,
    :func:`primary_data`), so the rows differ only in the population or the exposure.

    * ITT: every randomized patient in the allocated arm (arm A vs B) - protected by randomization.
    * per-protocol: only ``per_protocol == 1`` (arm A operated, arm B not operated except for
      local progression) - arm A loses exactly the patients who progressed or died early.
    * as-treated, naive: operated (ever) vs not, fixed at baseline - adds immortal time bias.
    * as-treated, time-varying: surgery as a time-dependent covariate - removes immortal time
      but not selection on prognosis.
    """
    df = _check_df(df, _REQUIRED + ("operated", "surgery_month", "per_protocol"))
    df = primary_data(df)
    out = []
    itt = primary_cox(df)
    out.append(("ITT (primary)", "arm A vs arm B", itt))
    pp = df[df["per_protocol"] == 1]
    out.append(("per-protocol", "arm A vs arm B", primary_cox(pp)))
    d = cox_design(df, arm=False)
    d.insert(2, "surgery", df["operated"].astype(float).to_numpy())
    out.append(("as-treated (naive)", "operated vs not operated", _cox_result(d, "surgery")))
    rows = []
    for pop, comp, r in out:
        rows.append({"population": pop, "comparison": comp, "n": r.n, "events": r.events, "hr": r.hazard_ratio,
                     "ci_lower": r.ci_lower, "ci_upper": r.ci_upper, "p": r.p_value})
    # surgery after the end of a patient's (24-month) follow-up: unexposed during follow-up
    tv = _time_varying_surgery(df.assign(operated=np.where(df["surgery_month"] > df["os_months"], 0,
                                                           df["operated"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv = CoxTimeVaryingFitter().fit(tv, id_col="id", event_col="death", start_col="start", stop_col="stop",
                                         fit_options={"precision": 1e-12, "r_precision": 1e-12, "max_steps": 200})
    s = ctv.summary.loc["surgery"]
    rows.append({"population": "as-treated (time-varying)", "comparison": "after vs before/without surgery",
                 "n": len(df), "events": int(df["death"].sum()), "hr": float(s["exp(coef)"]),
                 "ci_lower": float(s["exp(coef) lower 95%"]), "ci_upper": float(s["exp(coef) upper 95%"]),
                 "p": float(s["p"])})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- secondary endpoints

def secondary_summary(df: pd.DataFrame) -> pd.DataFrame:
    """The protocol's secondary endpoints (except QoL) by arm, as numbers (not strings).

    Rows: deaths; median overall survival (KM, months); operated on the primary; free
    margins among operated; axillary dissection; axillary radiotherapy; axillary dissection
    or radiotherapy; patients with >= 1 unplanned local therapy; total unplanned local
    therapies. Columns ``A``, ``B`` and, for counts, Fisher's exact p-value (two-sided) of
    the proportion of patients, and ``test``, which says what the p-value is:

    * deaths: no p-value - crude counts over unequal follow-up (patients entered over 36
      months) are not comparable; the survival analyses compare deaths properly;
    * median overall survival: the p-value is the log-rank test of the whole curves (all
      follow-up), not a test of the medians;
    * free margins: among operated patients only, a group selected after randomization
      (operated arm-A patients are those who did not progress), so not a randomized comparison.

    None of these tests is adjusted for multiplicity; they are descriptive.
    """
    needed = _REQUIRED + ("operated", "margin_status", "axillary_dissection", "axillary_radiotherapy",
                          "unplanned_local_therapies")
    df = _check_df(df, needed)
    km = km_by_arm(df)
    rows = []

    def count_row(name: str, mask: pd.Series, denom: pd.Series | None = None, test: str = "Fisher exact") -> None:
        base = df if denom is None else df[denom]
        ks = {a: int(mask[base.index][base["arm"] == a].sum()) for a in ARM_CODES}
        ns = {a: int((base["arm"] == a).sum()) for a in ARM_CODES}
        table = [[ks["A"], ns["A"] - ks["A"]], [ks["B"], ns["B"] - ks["B"]]]
        p = float(stats.fisher_exact(table)[1]) if min(ns.values()) > 0 and test.startswith("Fisher") else math.nan
        rows.append({"endpoint": name, "A": ks["A"], "B": ks["B"], "n_A": ns["A"], "n_B": ns["B"], "p": p,
                     "test": test})

    count_row("deaths", df["death"] == 1,
              test="none: crude counts over unequal follow-up; see the survival analyses")
    rows.append({"endpoint": "median overall survival (months)", "A": float(km["A"].median_survival_time_),
                 "B": float(km["B"].median_survival_time_), "n_A": int((df["arm"] == "A").sum()),
                 "n_B": int((df["arm"] == "B").sum()), "p": logrank(df).p_value,
                 "test": "log-rank (whole curves, all follow-up), not a test of medians"})
    count_row("operated on the primary", df["operated"] == 1)
    count_row("free margins (of operated)", df["margin_status"] == "free", df["operated"] == 1,
              test="Fisher exact, among operated patients only: selected after randomization, not randomized")
    count_row("axillary lymph node dissection", df["axillary_dissection"] == 1)
    count_row("axillary radiotherapy", df["axillary_radiotherapy"] == 1)
    count_row("axillary dissection or radiotherapy",
              (df["axillary_dissection"] == 1) | (df["axillary_radiotherapy"] == 1))
    count_row("patients with >= 1 unplanned local therapy", df["unplanned_local_therapies"] >= 1)
    rows.append({"endpoint": "unplanned local therapies (total)",
                 "A": int(df.loc[df["arm"] == "A", "unplanned_local_therapies"].sum()),
                 "B": int(df.loc[df["arm"] == "B", "unplanned_local_therapies"].sum()),
                 "n_A": int((df["arm"] == "A").sum()), "n_B": int((df["arm"] == "B").sum()), "p": math.nan,
                 "test": "none (counts of events, several per patient possible)"})
    return pd.DataFrame(rows)


def qol_summary(qol: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """QoL score by arm and visit: patients with a score, mean, SD, and alive-and-followed patients.

    ``qol`` is long format (patient_id, visit_month, qol_score); ``df`` gives the arms. The
    column ``completion`` = scored / followed shows the informative missingness (deaths).
    """
    if not isinstance(qol, pd.DataFrame) or not {"patient_id", "visit_month", "qol_score"} <= set(qol.columns):
        raise ValueError("qol must be a DataFrame with columns patient_id, visit_month, qol_score")
    df = _check_df(df, _REQUIRED + ("patient_id",))
    unknown = set(qol["patient_id"]) - set(df["patient_id"])
    if unknown:
        raise ValueError(f"qol has patient_id(s) not in df: {sorted(unknown)[:5]}")
    m = qol.merge(df[["patient_id", "arm", "os_months"]], on="patient_id")
    rows = []
    for (arm, v), g in m.groupby(["arm", "visit_month"]):
        followed = int(((df["arm"] == arm) & (df["os_months"] >= v)).sum())
        rows.append({"arm": arm, "visit_month": float(v), "n": len(g), "mean": float(g["qol_score"].mean()),
                     "sd": float(g["qol_score"].std()), "followed": followed, "completion": len(g) / followed})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- CONSORT

def consort_counts(screening: pd.DataFrame, df: pd.DataFrame) -> dict[str, Any]:
    """The numbers of a CONSORT 2010 flow diagram from the screening log and the trial data.

    Keys: assessed, excluded, excluded_by_criterion (criterion id -> patients failing it; a
    patient may fail several), randomized, and per arm ``arm_<X>``: allocated, operated,
    not_operated (reason -> n), lost, analysed_itt, per_protocol.
    """
    if not isinstance(screening, pd.DataFrame) or not {"eligible", "failed_criteria"} <= set(screening.columns):
        raise ValueError("screening must be the screening log (columns eligible, failed_criteria, ...)")
    df = _check_df(df, _REQUIRED + ("operated", "not_operated_reason", "surgery_reason", "lost_to_follow_up",
                                    "per_protocol"))
    by_crit: dict[str, int] = {}
    for f in screening.loc[screening["eligible"] == 0, "failed_criteria"]:
        for c in str(f).split(";"):
            by_crit[c] = by_crit.get(c, 0) + 1
    out: dict[str, Any] = {
        "assessed": len(screening), "excluded": int((screening["eligible"] == 0).sum()),
        "excluded_by_criterion": dict(sorted(by_crit.items())), "randomized": len(df),
    }
    for arm in ARM_CODES:
        g = df[df["arm"] == arm]
        reasons = g["not_operated_reason"].dropna().value_counts().to_dict() if arm == "A" else \
            g["surgery_reason"].dropna().value_counts().to_dict()
        out[f"arm_{arm}"] = {"allocated": len(g), "operated": int(g["operated"].sum()),
                             ("not_operated" if arm == "A" else "surgery_reasons"): {k: int(v) for k, v in sorted(reasons.items())},
                             "lost": int(g["lost_to_follow_up"].sum()), "analysed_itt": len(g),
                             "per_protocol": int(g["per_protocol"].sum())}
    return out



# ---------------------------------------------------------------- estimands (issue 14)
# Milestone, RMST, weighted log-rank, MaxCombo and piecewise HRs of one trial live in
# trialnb.analysis_estimands (this module stays under 800 lines); they are part of this API.
from .analysis_estimands import (MaxComboResult, MilestoneResult, PiecewiseHRResult, RMSTResult,  # noqa: E402
                                 WeightedLogrankResult, maxcombo, milestone, piecewise_hr, rmst_difference,
                                 weighted_logrank)

__all__ += ["MaxComboResult", "MilestoneResult", "PiecewiseHRResult", "RMSTResult", "WeightedLogrankResult",
            "maxcombo", "milestone", "piecewise_hr", "rmst_difference", "weighted_logrank"]
