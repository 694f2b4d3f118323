"""Why observational studies made surgery of the primary look good: a seeded registry simulator.

The protocol of NCT04697043 justifies a randomized trial because the retrospective evidence
(NCDB, 16,023 stage IV patients, HR 0.61 for surgery with free margins vs none; Bafford 2009;
Leung 2010; Cady 2008) can be explained by bias. This module simulates a registry-like
cohort of patients coded as de novo stage IV breast cancer in which surgery of the primary
has **no** effect (or a true hazard ratio you choose), with five bias mechanisms, each a
separate switch with a strength (0 switches it off):

``selection``        confounding by indication: the log-odds of being a surgical candidate
                     fall by ``selection`` per unit of the patient's baseline log-hazard
                     (measured factors + unmeasured fitness/response). Blanchard 2008,
                     Pons-Tostivint 2019.
``immortal_time``    mean delay from diagnosis to surgery, in months (uniform on
                     [mean/3, 5 mean/3]); a candidate who dies before the operation is
                     counted as "not operated". Khan 2002, Gnerlich 2007, CEBP 2022;31:2079.
``stage_migration``  fraction of the registry made of patients found metastatic only on
                     staging after an operation done for presumed stage I-III disease: all
                     operated (at diagnosis), low-volume disease (hazard x 0.6). Bafford 2009,
                     Feinstein 1985 (Will Rogers).
``co_treatment``     difference in the probability of chemotherapy between surgical
                     candidates and the others (chemotherapy itself has a true HR of 0.6).
                     Leung 2010.
``coding_errors``    fraction of the registry made of stage I-III patients miscoded as stage IV:
                     all operated, hazard x 0.25. Cady 2008.

The analyses a careful epidemiologist would try are each a function: :func:`naive_cox`,
:func:`adjusted_cox`, :func:`landmark_cox`, :func:`time_varying_cox` (surgery as a
time-varying covariate, counting-process rows) and :func:`randomized_comparison` (the same patients, a coin decides
who is operated). :func:`compare_analyses` runs them all.

Model (all times in months). Each patient has a constant hazard (exponential survival)
``h = LAMBDA0 * exp(x'beta + u) * chemo_HR^chemo * m`` where ``x`` are the measured factors,
``u ~ N(0, FRAILTY_SD^2)`` is unmeasured prognosis (fitness, response to first-line therapy),
and ``m`` is 0.6 for stage-migrated and 0.25 for miscoded patients; after surgery the hazard
is multiplied by ``hazard_ratio`` (the true effect of surgery). Prognostic hazard ratios follow the suggested
simulation values declared once in :mod:`trialnb.population` (with their sources): visceral vs
bone 1.6, soft tissue 1.1, HR-negative 2.0, HER2-positive 0.8, 1.1 per decade of age; ECOG 2
1.8 and more than one metastatic site 1.5 are assumptions
(:data:`trialnb.population.REGISTRY_PROGNOSTIC_HR`). ``LAMBDA0`` is set so that true stage IV
patients have 2-year survival of about 60 % (the protocol's control assumption).
All parameters other than the published estimates quoted in :func:`evidence_table` are
modelling assumptions, not facts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from .errors import BiasParameterError
from .population import AGE, FACTOR_FREQUENCIES, P_ECOG2, P_MULTIPLE_SITES, REGISTRY_PROGNOSTIC_HR, SITES
from .report import fmt_hr, fmt_n
from .results import Result
from .survival import fit_cox, split_at
from .validation import check_int, check_real, check_seed
from .workload import Estimate, limits

__all__ = [
    "ANALYSES",
    "BYTES_PER_PATIENT",
    "DEFAULTS",
    "SECONDS_PER_PATIENT",
    "SOLO_STRENGTHS",
    "MECHANISMS",
    "MEASURED_COVARIATES",
    "ExposureEffect",
    "adjusted_cox",
    "compare_analyses",
    "evidence_table",
    "landmark_cox",
    "naive_cox",
    "randomized_comparison",
    "scenario",
    "simulate_registry",
    "split_at_surgery",
    "label",
    "time_varying_cox",
    "will_rogers",
    "will_rogers_curves",
]


# --- model constants (assumptions; see module docstring) ---------------------------------
LOG_HR = {  # from trialnb.population (one declaration, with sources)
    "age_per_decade": math.log(REGISTRY_PROGNOSTIC_HR["age_per_decade_above_50"]),
    "soft_tissue": math.log(REGISTRY_PROGNOSTIC_HR["soft_tissue"]),
    "visceral": math.log(REGISTRY_PROGNOSTIC_HR["visceral"]),
    "hr_negative": math.log(REGISTRY_PROGNOSTIC_HR["hr_negative"]),
    "her2_positive": math.log(REGISTRY_PROGNOSTIC_HR["her2_positive"]),
    "ecog2": math.log(REGISTRY_PROGNOSTIC_HR["ecog2"]),
    "multiple_sites": math.log(REGISTRY_PROGNOSTIC_HR["multiple_sites"]),
}
CHEMO_HR = 0.6
MIGRANT_HR = 0.6
MISCODED_HR = 0.25
FRAILTY_SD = 0.5
LAMBDA0 = 0.0140  # per month; gives 2-year survival ~60% in true stage IV patients [D]
P_CANDIDATE = 0.45  # share of surgical candidates among true stage IV (NCDB 57%, SEER 47%, ESME 40%)
P_CHEMO = 0.55
ADMIN_CENSOR = (12.0, 72.0)  # registry follow-up: uniform between these (months)
SECONDS_PER_PATIENT = 6e-6  # simulate_registry's cost, measured at 200,000 and 1,000,000 patients
BYTES_PER_PATIENT = 720.0  # (reference machine; benchmarks/bench_simulation_resources.py)

#: Default strengths: the values the rationale notebook uses (all mechanisms on).
DEFAULTS: dict[str, float] = {
    "selection": 0.4,
    "immortal_time": 3.0,
    "stage_migration": 0.08,
    "co_treatment": 0.2,
    "coding_errors": 0.03,
}
#: Stronger strengths at which each mechanism, switched on alone, shows clearly in one registry
#: of a few thousand patients (used by the notebook's one-mechanism sections and the tests).
#: Stage migration 0.25 is Bafford 2009's share (36 of 147 patients); coding errors 0.10 is
#: below the 23% of records Cady 2008 removed (808 -> 622, all reasons together).
SOLO_STRENGTHS: dict[str, float] = {
    "selection": 1.0,
    "immortal_time": 6.0,
    "stage_migration": 0.25,
    "co_treatment": 0.5,
    "coding_errors": 0.10,
}
#: Allowed range of each strength (inclusive).
RANGES: dict[str, tuple[float, float]] = {
    "selection": (0.0, 5.0),
    "immortal_time": (0.0, 24.0),
    "stage_migration": (0.0, 0.4),
    "co_treatment": (0.0, 0.8),
    "coding_errors": (0.0, 0.3),
}
MECHANISMS: tuple[str, ...] = tuple(DEFAULTS)
#: Variables a registry records (used by the adjusted analysis).
MEASURED_COVARIATES: tuple[str, ...] = (
    "age", "dominant_site", "hormone_receptor", "her2", "ecog2", "multiple_sites", "chemotherapy",
)
ANALYSES: tuple[str, ...] = ("naive", "adjusted", "landmark", "time_varying", "randomized")
_LABELS = {
    "naive": "Naive Cox (operated vs not)",
    "adjusted": "Cox adjusted for recorded factors",
    "landmark": "Landmark analysis",
    "time_varying": "Surgery as time-varying covariate",
    "randomized": "Randomized comparison",
}


def _err(msg: str) -> BiasParameterError:
    return BiasParameterError(msg)


def _linear_score(df: pd.DataFrame) -> np.ndarray:
    """Baseline log-hazard from the measured factors (no chemotherapy, no surgery)."""
    return (
        LOG_HR["age_per_decade"] * (df["age"].to_numpy() - 50.0) / 10.0
        + LOG_HR["soft_tissue"] * (df["dominant_site"].to_numpy() == "soft_tissue")
        + LOG_HR["visceral"] * (df["dominant_site"].to_numpy() == "visceral")
        + LOG_HR["hr_negative"] * (df["hormone_receptor"].to_numpy() == "negative")
        + LOG_HR["her2_positive"] * (df["her2"].to_numpy() == "positive")
        + LOG_HR["ecog2"] * df["ecog2"].to_numpy()
        + LOG_HR["multiple_sites"] * df["multiple_sites"].to_numpy()
    )


def _patients(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Baseline factors of ``n`` patients (the population of :mod:`trialnb.population`; the age
    effect is linear in (age - 50) in both directions in the registry model)."""
    age = np.clip(rng.normal(AGE["mean"], AGE["sd"], n), AGE["min"], AGE["max"])
    site_p = [FACTOR_FREQUENCIES["dominant_site"][s] for s in SITES]
    site = rng.choice(np.array(SITES), size=n, p=site_p)
    hr = np.where(rng.random(n) < FACTOR_FREQUENCIES["hormone_receptor"]["positive"], "positive", "negative")
    her2 = np.where(rng.random(n) < FACTOR_FREQUENCIES["her2"]["positive"], "positive", "negative")
    ecog2 = rng.random(n) < P_ECOG2
    multiple = rng.random(n) < P_MULTIPLE_SITES
    return pd.DataFrame(
        {"age": np.round(age, 1), "dominant_site": site, "hormone_receptor": hr, "her2": her2,
         "ecog2": ecog2, "multiple_sites": multiple}
    )


def simulate_registry(
    n: int,
    seed: int,
    *,
    hazard_ratio: float = 1.0,
    selection: float = DEFAULTS["selection"],
    immortal_time: float = DEFAULTS["immortal_time"],
    stage_migration: float = DEFAULTS["stage_migration"],
    co_treatment: float = DEFAULTS["co_treatment"],
    coding_errors: float = DEFAULTS["coding_errors"],
    max_seconds: float | None = None,
    max_memory_gb: float | None = None,
) -> pd.DataFrame:
    """Simulate a registry of ``n`` patients coded as de novo stage IV breast cancer.

    Bounded (:mod:`trialnb.workload`): about :data:`SECONDS_PER_PATIENT` and
    :data:`BYTES_PER_PATIENT` per patient (measured on the reference machine: 6 microseconds,
    720 bytes of peak memory); a registry beyond ``max_seconds`` / ``max_memory_gb`` (defaults:
    an hour, 4 GB) is refused before it is drawn.

    Parameters
    ----------
    n, seed
        Registry size (>= 200) and the seed of ``numpy.random.default_rng``.
    hazard_ratio
        The true hazard ratio of death after surgery vs no surgery (1 = surgery does nothing).
    selection, immortal_time, stage_migration, co_treatment, coding_errors
        Strengths of the bias mechanisms (see the module docstring; 0 switches one off).

    Returns
    -------
    DataFrame, one row per registry patient. Columns a registry would record: ``age``,
    ``dominant_site``, ``hormone_receptor``, ``her2``, ``ecog2``, ``multiple_sites``,
    ``chemotherapy``, ``surgery`` (operated on the primary), ``surgery_month`` (NaN if not
    operated), ``time`` (months from diagnosis to death or censoring), ``event`` (death).
    Columns known only to the simulator start with ``true_``: ``true_stage`` ("IV",
    "IV-migrated", "I-III-miscoded"), ``true_candidate`` (surgeon would operate),
    ``true_planned_month`` (when the operation would take place), ``true_hazard`` (hazard per
    month without any surgery effect). ``DataFrame.attrs`` holds the parameters.
    """
    n = check_int(n, "n", minimum=200, error=BiasParameterError)
    seed = check_seed(seed, error=BiasParameterError)
    Estimate(f"simulate_registry: {n:,} patients", n * SECONDS_PER_PATIENT, n * BYTES_PER_PATIENT,
             "6 microseconds and 720 bytes per patient").check(limits(max_seconds, max_memory_gb))
    thr = check_real(hazard_ratio, "hazard_ratio", lo=0.0, hi=10.0, lo_open=True, error=BiasParameterError)
    s = {}
    strengths = (selection, immortal_time, stage_migration, co_treatment, coding_errors)
    for name, value in zip(MECHANISMS, strengths, strict=True):
        lo, hi = RANGES[name]
        s[name] = check_real(value, name, lo=lo, hi=hi, error=BiasParameterError)
    if s["stage_migration"] + s["coding_errors"] > 0.5:
        raise _err(
            "stage_migration + coding_errors must be <= 0.5 (most of the registry must be true stage IV), "
            f"got {s['stage_migration'] + s['coding_errors']:g}"
        )
    rng = np.random.default_rng(seed)
    n_mig = int(round(s["stage_migration"] * n))
    n_mis = int(round(s["coding_errors"] * n))
    n_iv = n - n_mig - n_mis
    df = _patients(n, rng)
    stage = np.array(["IV"] * n_iv + ["IV-migrated"] * n_mig + ["I-III-miscoded"] * n_mis, dtype=object)
    # miscoded stage I-III patients rarely have visceral or multiple "metastatic" sites recorded;
    # we keep their recorded factors as drawn (the miscoding is what makes them look stage IV).
    score = _linear_score(df)
    frailty = rng.normal(0.0, FRAILTY_SD, n)
    is_iv = stage == "IV"
    # selection: logistic in the baseline prognosis, intercept solved so P_CANDIDATE of true
    # stage IV patients are candidates whatever the strength.
    z = -s["selection"] * (score + frailty)
    zc = z[is_iv] - z[is_iv].mean()
    if s["selection"] > 0:
        a = optimize.brentq(lambda a: special.expit(a + zc).mean() - P_CANDIDATE, -20, 20)
    else:
        a = special.logit(P_CANDIDATE)
    p_cand = special.expit(a + z - z[is_iv].mean())
    candidate = np.where(is_iv, rng.random(n) < p_cand, True)
    # co-treatment: chemotherapy more often given to surgical candidates
    p_chemo = np.where(candidate, P_CHEMO + s["co_treatment"] / 2, P_CHEMO - s["co_treatment"] / 2)
    chemo = rng.random(n) < np.clip(p_chemo, 0.0, 1.0)
    mult = np.where(stage == "IV-migrated", MIGRANT_HR, np.where(stage == "I-III-miscoded", MISCODED_HR, 1.0))
    hazard = LAMBDA0 * np.exp(score + frailty) * np.where(chemo, CHEMO_HR, 1.0) * mult
    m = s["immortal_time"]
    planned = np.where(is_iv, rng.uniform(m / 3, 5 * m / 3, n), 0.0)
    # survival: constant hazard before surgery, hazard * true HR after it (piecewise exponential)
    e1 = rng.exponential(1.0, n) / hazard
    e2 = rng.exponential(1.0, n) / (hazard * thr)
    censor = rng.uniform(*ADMIN_CENSOR, n)
    # operated = a candidate still alive and still followed at the planned date; a candidate who
    # dies (or leaves follow-up) first is recorded as not operated
    operated = candidate & (e1 >= planned) & (censor >= planned)
    t_death = np.where(candidate & (e1 >= planned), planned + e2, e1)
    time = np.minimum(t_death, censor)
    event = t_death <= censor
    out = df.assign(
        chemotherapy=chemo,
        surgery=operated,
        surgery_month=np.where(operated, planned, np.nan),
        time=time,
        event=event,
        true_stage=stage,
        true_candidate=candidate,
        true_planned_month=planned,
        true_hazard=hazard,
    )
    out = out.sample(frac=1.0, random_state=np.random.RandomState(seed % 2**32)).reset_index(drop=True)
    out.insert(0, "patient_id", np.arange(1, n + 1))
    attrs: dict[Hashable, Any] = {"n": n, "seed": seed, "hazard_ratio": thr}
    attrs.update(s.items())  # the bias strengths
    out.attrs = attrs
    return out


# --- analyses ----------------------------------------------------------------------------------

def _check_cohort(cohort: Any, needed: Sequence[str] = ("time", "event", "surgery")) -> pd.DataFrame:
    if not isinstance(cohort, pd.DataFrame):
        raise _err(f"cohort must be a pandas DataFrame from simulate_registry, got {type(cohort).__name__}")
    missing = [c for c in needed if c not in cohort.columns]
    if missing:
        raise _err(f"cohort lacks column(s) {', '.join(missing)}; pass a DataFrame from simulate_registry")
    if len(cohort) < 20:
        raise _err(f"cohort must have at least 20 rows, got {len(cohort)}")
    return cohort


def _check_covariates(covariates: Sequence[str]) -> None:
    if isinstance(covariates, str):
        raise _err(f"covariates must be a sequence of names, not the string {covariates!r}")
    for c in covariates:
        if c not in MEASURED_COVARIATES:
            raise _err(f"covariates: {c!r} is not a recorded covariate; allowed: {', '.join(MEASURED_COVARIATES)}")


def _design(cohort: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design columns for the recorded covariates (reference levels: bone, HR+, HER2-)."""
    cols: dict[str, np.ndarray] = {}
    for c in covariates:
        if c not in MEASURED_COVARIATES:
            raise _err(f"covariates: {c!r} is not a recorded covariate; allowed: {', '.join(MEASURED_COVARIATES)}")
        v = cohort[c].to_numpy()
        if c == "age":
            cols["age_per_decade"] = (v.astype(float) - 50.0) / 10.0
        elif c == "dominant_site":
            cols["soft_tissue"] = (v == "soft_tissue").astype(float)
            cols["visceral"] = (v == "visceral").astype(float)
        elif c == "hormone_receptor":
            cols["hr_negative"] = (v == "negative").astype(float)
        elif c == "her2":
            cols["her2_positive"] = (v == "positive").astype(float)
        else:
            cols[c] = v.astype(float)
    return pd.DataFrame(cols, index=cohort.index)


@dataclass(frozen=True)
class ExposureEffect(Result):
    """Hazard ratio of the exposure (surgery, or arm A) with its 95% CI, patients and deaths, as
    one analysis of a registry reports it (the Cox fit itself: :class:`trialnb.survival.CoxResult`)."""

    hazard_ratio: float
    ci_lower: float
    ci_upper: float
    n: int
    events: int

    def summary(self) -> str:
        return (f"HR {fmt_hr(self.hazard_ratio, self.ci_lower, self.ci_upper)}; "
                f"{fmt_n(self.n)} patients, {fmt_n(self.events)} deaths")


_Z975 = 1.959963984540054


def _counting_process_fit(X: np.ndarray, stop: np.ndarray, event: np.ndarray, start: np.ndarray | None = None,
                          *, max_iter: int = 50, tol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Cox fit (Breslow ties; exact without ties) of right-censored data or counting-process
    data ``(start, stop]`` (Andersen & Gill 1982) by :func:`trialnb.survival.fit_cox`, the
    package's one engine. Returns ``(beta, covariance)``; a failed fit (log-likelihood not
    converged) gives NaN."""
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    fit = fit_cox(np.asarray(stop, float), np.asarray(event, bool).astype(int), X, entry=start,
                  ties="breslow", max_iter=max_iter, tol=tol, engine="numpy")
    if not fit.converged:
        return np.full_like(fit.coef, np.nan), np.full_like(fit.cov, np.nan)
    return fit.coef, fit.cov


def _cox(df: pd.DataFrame, exposure: str, duration: str = "time", event: str = "event") -> ExposureEffect:
    """Fit a Cox model of ``event``/``duration`` on every other column (the engine,
    :func:`trialnb.survival.fit_cox`); return the exposure's HR."""
    d = df.loc[:, ~df.columns.duplicated()]
    covs = [c for c in d.columns if c not in (duration, event)]
    beta, cov = _counting_process_fit(d[covs].to_numpy(float), d[duration].to_numpy(float), d[event].to_numpy(bool))
    return _fit_from(beta, cov, covs.index(exposure), len(d), int(d[event].sum()))


def _fit_from(beta: np.ndarray, cov: np.ndarray, j: int, n: int, events: int) -> ExposureEffect:
    b, se = float(beta[j]), float(math.sqrt(cov[j, j]))
    return ExposureEffect(math.exp(b), math.exp(b - _Z975 * se), math.exp(b + _Z975 * se), n, events)


def naive_cox(cohort: pd.DataFrame) -> ExposureEffect:
    """Cox model of death on "ever operated", time zero at diagnosis (the registry analysis)."""
    c = _check_cohort(cohort)
    d = pd.DataFrame({"time": c["time"], "event": c["event"].astype(int), "surgery": c["surgery"].astype(float)})
    return _cox(d, "surgery")


def adjusted_cox(cohort: pd.DataFrame, covariates: Sequence[str] = MEASURED_COVARIATES) -> ExposureEffect:
    """Naive Cox model plus the recorded prognostic factors (removes measured confounding only)."""
    _check_covariates(covariates)
    c = _check_cohort(cohort, ("time", "event", "surgery", *covariates))
    d = pd.concat([pd.DataFrame({"time": c["time"], "event": c["event"].astype(int),
                                 "surgery": c["surgery"].astype(float)}), _design(c, covariates)], axis=1)
    return _cox(d, "surgery")


def landmark_cox(cohort: pd.DataFrame, landmark_months: float = 12.0,
                 covariates: Sequence[str] = ()) -> ExposureEffect:
    """Landmark analysis: patients alive at ``landmark_months``, exposure = operated by then,
    time counted from the landmark (Anderson, Cain & Gelber, J Clin Oncol 1983)."""
    _check_covariates(covariates)
    c = _check_cohort(cohort, ("time", "event", "surgery", "surgery_month", *covariates))
    lm = check_real(landmark_months, "landmark_months", lo=0.0, hi=120.0, error=BiasParameterError)
    at_risk = c["time"] > lm
    if at_risk.sum() < 20:
        raise _err(f"landmark_months = {lm:g} leaves {int(at_risk.sum())} patients at risk; choose an earlier landmark")
    c = c[at_risk]
    exposed = (c["surgery"] & (c["surgery_month"].fillna(np.inf) <= lm)).astype(float)
    d = pd.concat([pd.DataFrame({"time": c["time"] - lm, "event": c["event"].astype(int), "surgery": exposed}),
                   _design(c, covariates)], axis=1)
    return _cox(d, "surgery")


def split_at_surgery(cohort: pd.DataFrame) -> pd.DataFrame:
    """Counting-process rows: (0, surgery] unexposed, (surgery, time] exposed
    (:func:`trialnb.survival.split_at`; an operation at or after the end of follow-up leaves
    the patient unexposed)."""
    switch = np.where(cohort["surgery"].to_numpy(bool), cohort["surgery_month"].to_numpy(float), np.nan)
    rows = split_at(cohort["time"].to_numpy(float), cohort["event"].to_numpy(int), switch)
    return rows.rename(columns={"exposed": "surgery"})


def time_varying_cox(cohort: pd.DataFrame) -> ExposureEffect:
    """Cox model with surgery as a time-varying covariate (unexposed until the operation):
    counting-process rows ``(start, stop]`` (:func:`split_at_surgery`) fitted by the engine
    (:func:`trialnb.survival.fit_cox` with ``entry``; lifelines' ``CoxTimeVaryingFitter`` gives
    the same, notebook 01); removes immortal-time bias (NCDB analysis, Cancer Epidemiol
    Biomarkers Prev 2022), not confounding."""
    c = _check_cohort(cohort, ("time", "event", "surgery", "surgery_month"))
    rows = split_at_surgery(c)
    beta, cov = _counting_process_fit(rows[["surgery"]].to_numpy(float), rows["stop"].to_numpy(float),
                                      rows["event"].to_numpy(bool), rows["start"].to_numpy(float))
    return _fit_from(beta, cov, 0, len(c), int(c["event"].sum()))


def randomized_comparison(cohort: pd.DataFrame, seed: int, *, design: str = "post_induction",
                          hazard_ratio: float | None = None) -> ExposureEffect:
    """The randomized trial on the same population: the cohort's true stage IV patients
    (including stage-migrated ones; miscoded stage I-III patients fail the trial's staging),
    each keeps his or her own hazard, and a coin (1:1) decides who is operated.

    ``design="post_induction"`` (E2108, JCOG1017): randomize at the planned surgery month among
    patients still alive, arm A operated that day; time zero = randomization. ``"at_diagnosis"``
    (MF07-01, NCT04697043): randomize at diagnosis, arm A operated at the planned month if alive
    (intention to treat: the estimate is diluted towards 1 when the true HR is not 1).
    Cox model of arm adjusted for the minimization factors (protocol's primary analysis).
    Follow-up: administrative censoring as in the registry. ``hazard_ratio`` (the true effect of
    surgery) defaults to the cohort's ``attrs["hazard_ratio"]``.
    """
    c = _check_cohort(cohort, ("true_stage", "true_hazard", "true_planned_month", *MEASURED_COVARIATES))
    seed = check_seed(seed, error=BiasParameterError)
    if design not in ("post_induction", "at_diagnosis"):
        raise _err(f"design must be 'post_induction' or 'at_diagnosis', got {design!r}")
    if hazard_ratio is None:
        hazard_ratio = c.attrs.get("hazard_ratio")
        if hazard_ratio is None:
            raise _err("hazard_ratio: not given and cohort.attrs has none; pass it explicitly")
    thr = check_real(hazard_ratio, "hazard_ratio", lo=0.0, hi=10.0, lo_open=True, error=BiasParameterError)
    rng = np.random.default_rng([seed, 20201120])
    c = c[c["true_stage"] != "I-III-miscoded"]
    h = c["true_hazard"].to_numpy(float)
    planned = c["true_planned_month"].to_numpy(float)
    n = len(c)
    e1 = rng.exponential(1.0, n) / h
    arm_a = rng.random(n) < 0.5
    e2 = rng.exponential(1.0, n) / (h * np.where(arm_a, thr, 1.0))
    censor = rng.uniform(*ADMIN_CENSOR, n)
    if design == "post_induction":
        keep = e1 >= planned
        t_death, cens = e2[keep], censor[keep]
        c, arm_a = c[keep], arm_a[keep]
    else:
        t_death = np.where(arm_a & (e1 >= planned), planned + e2, e1)
        cens = censor
    time = np.minimum(t_death, cens)
    d = pd.concat([pd.DataFrame({"time": time, "event": (t_death <= cens).astype(int),
                                 "arm_a": arm_a.astype(float)}, index=c.index),
                   _design(c, ("dominant_site", "hormone_receptor", "her2"))], axis=1)
    return _cox(d, "arm_a")


def compare_analyses(cohort: pd.DataFrame, seed: int = 0, *, landmark_months: float = 12.0,
                     randomized_design: str = "post_induction") -> pd.DataFrame:
    """All five analyses of one cohort: DataFrame indexed ``naive, adjusted, landmark,
    time_varying, randomized`` with columns ``hazard_ratio, ci_lower, ci_upper`` (95 %),
    ``n``, ``events`` and ``label``. ``seed`` drives the randomized comparison only.
    Every model is fitted by the package's engine (:func:`trialnb.survival.fit_cox`)."""
    fits = {
        "naive": naive_cox(cohort),
        "adjusted": adjusted_cox(cohort),
        "landmark": landmark_cox(cohort, landmark_months),
        "time_varying": time_varying_cox(cohort),
        "randomized": randomized_comparison(cohort, seed, design=randomized_design),
    }
    out = pd.DataFrame(
        {k: {"hazard_ratio": f.hazard_ratio, "ci_lower": f.ci_lower, "ci_upper": f.ci_upper,
             "n": f.n, "events": f.events, "label": _LABELS[k]} for k, f in fits.items()}
    ).T
    out.index.name = "analysis"
    for col in ("hazard_ratio", "ci_lower", "ci_upper"):
        out[col] = out[col].astype(float)
    out["n"] = out["n"].astype(int)
    out["events"] = out["events"].astype(int)
    return out


# --- Will Rogers ---------------------------------------------------------------------------------

def _mix_surv(t: np.ndarray, weights: Sequence[float], hazards: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, float)
    w = w / w.sum()
    return sum(wi * np.exp(-hi * t) for wi, hi in zip(w, hazards, strict=True))


def _check_wr(n_early: int, n_late: int, n_migrants: int, hazard_early: float, hazard_late: float,
              hazard_migrants: float) -> None:
    for name, v in (("n_early", n_early), ("n_late", n_late), ("n_migrants", n_migrants)):
        check_int(v, name, minimum=1, error=BiasParameterError)
    if n_migrants >= n_early:
        raise _err(f"n_migrants must be smaller than n_early (they are part of it), got {n_migrants} >= {n_early}")
    for name, h in (("hazard_early", hazard_early), ("hazard_late", hazard_late), ("hazard_migrants", hazard_migrants)):
        check_real(h, name, lo=0.0, hi=1.0, lo_open=True, error=BiasParameterError)
    if not hazard_early < hazard_migrants < hazard_late:
        raise _err("hazards must satisfy hazard_early < hazard_migrants < hazard_late "
                   "(migrants are the worst of the early stage and the best of the late stage), "
                   f"got {hazard_early:g}, {hazard_migrants:g}, {hazard_late:g}")


def will_rogers(n_early: int = 1000, n_late: int = 400, n_migrants: int = 100, *,
                hazard_early: float = -math.log(0.70) / 60, hazard_late: float = -math.log(0.60) / 24,
                hazard_migrants: float = MIGRANT_HR * -math.log(0.60) / 24,
                horizon_months: float = 24.0) -> pd.DataFrame:
    """Stage migration (Feinstein, Sosin & Wells, N Engl J Med 1985): moving patients with silent
    metastases from "stage I-III" (where they are the worst) to "stage IV" (where they are the
    best) raises the survival of both stages although nobody's outcome changes.

    Exponential survival per subgroup; defaults: stage I-III 5-year survival 70 %, stage IV
    2-year survival 60 %, migrants with the stage IV hazard x 0.6 (all assumptions).
    Returns one row per (staging, stage) with ``n``, ``survival`` at ``horizon_months`` and
    ``median_months`` (exact mixture quantities, no sampling).
    """
    _check_wr(n_early, n_late, n_migrants, hazard_early, hazard_late, hazard_migrants)
    hz = check_real(horizon_months, "horizon_months", lo=0.0, hi=240.0, lo_open=True, error=BiasParameterError)
    groups = {
        ("old staging", "stage I-III"): ([n_early - n_migrants, n_migrants], [hazard_early, hazard_migrants]),
        ("old staging", "stage IV"): ([n_late], [hazard_late]),
        ("new staging", "stage I-III"): ([n_early - n_migrants], [hazard_early]),
        ("new staging", "stage IV"): ([n_late, n_migrants], [hazard_late, hazard_migrants]),
    }
    rows = []
    for (staging, stage), (w, h) in groups.items():
        surv = float(_mix_surv(np.array([hz]), w, h)[0])
        med = optimize.brentq(lambda t, w=w, h=h: float(_mix_surv(np.array([t]), w, h)[0]) - 0.5, 0.0, 1e5)
        rows.append({"staging": staging, "stage": stage, "n": int(sum(w)), "survival": surv, "median_months": med})
    out = pd.DataFrame(rows)
    out.attrs["horizon_months"] = hz
    return out


def will_rogers_curves(months: Sequence[float] | np.ndarray | None = None, **kwargs: Any) -> pd.DataFrame:
    """Survival curves for the Will Rogers picture: index = months, one column per
    ``"<staging>: <stage>"`` (same arguments as :func:`will_rogers`, without ``horizon_months``)."""
    t = np.linspace(0, 60, 121) if months is None else np.asarray(months, float)
    if t.ndim != 1 or len(t) == 0 or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise _err("months must be a non-empty 1-D sequence of finite values >= 0")
    n_early = kwargs.pop("n_early", 1000)
    n_late = kwargs.pop("n_late", 400)
    n_mig = kwargs.pop("n_migrants", 100)
    he = kwargs.pop("hazard_early", -math.log(0.70) / 60)
    hl = kwargs.pop("hazard_late", -math.log(0.60) / 24)
    hm = kwargs.pop("hazard_migrants", MIGRANT_HR * -math.log(0.60) / 24)
    if kwargs:
        raise _err(f"unknown argument(s) {', '.join(kwargs)}; allowed: n_early, n_late, n_migrants, hazard_*")
    _check_wr(n_early, n_late, n_mig, he, hl, hm)
    return pd.DataFrame({
        "old staging: stage I-III": _mix_surv(t, [n_early - n_mig, n_mig], [he, hm]),
        "old staging: stage IV": _mix_surv(t, [n_late], [hl]),
        "new staging: stage I-III": _mix_surv(t, [n_early - n_mig], [he]),
        "new staging: stage IV": _mix_surv(t, [n_late, n_mig], [hl, hm]),
    }, index=pd.Index(t, name="months"))


# --- evidence ---------------------------------------------------------------------------------------

def evidence_table() -> pd.DataFrame:
    """Published hazard ratios of death (surgery of the primary vs none): observational studies
    against randomized trials, read from :mod:`trialnb.evidence` (the one place the clinical
    evidence lives; written up in ``references/clinical_evidence.md``). The estimates drawn in
    the evidence forest (:func:`trialnb.evidence.studies_table` with ``in_forest=True``):
    JCOG1017's superseded conference abstract and MF07-01's 10-year update (an implausibly
    narrow interval) are left out; ABCSG-28 is shown as surgery vs none, its printed hazard
    ratio inverted (:data:`trialnb.evidence.ABCSG28_PRINTED`)."""
    from .evidence import studies_table

    t = studies_table(in_forest=True)
    cols = ["study", "design", "data", "n", "hazard_ratio", "ci_lower", "ci_upper", "ci_level", "citation"]
    out = t[cols].copy()
    out["citation"] = [c if not note else f"{c} ({note})" for c, note in zip(t["citation"], t["note"], strict=True)]
    out["randomized"] = out["design"].str.startswith("randomized")
    return out


def scenario(mechanism: str | None = None, *, strength: float | None = None) -> dict[str, float]:
    """Keyword arguments for :func:`simulate_registry` with only ``mechanism`` on (its default or
    ``strength``); ``None`` switches every mechanism off, ``"all"`` keeps all defaults."""
    if mechanism == "all":
        return dict(DEFAULTS)
    kw = {m: 0.0 for m in MECHANISMS}
    if mechanism is None:
        return kw
    if mechanism not in MECHANISMS:
        raise _err(f"mechanism must be one of {', '.join(MECHANISMS)}, 'all' or None, got {mechanism!r}")
    kw[mechanism] = DEFAULTS[mechanism] if strength is None else strength
    return kw


def label(analysis: str) -> str:
    """Human-readable label of an analysis name."""
    if analysis not in _LABELS:
        raise _err(f"analysis must be one of {', '.join(ANALYSES)}, got {analysis!r}")
    return _LABELS[analysis]
