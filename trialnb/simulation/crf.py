"""Seeded generator of synthetic NCT04697043 trial data in the CRF schema of :mod:`trialnb.data`.

Every assumption is a field of :class:`CRFScenario` (named scenarios in :data:`SCENARIOS`).
One call of :func:`simulate_study` runs the whole trial:

1. **Screening.** Referred patients get a complete screening record (the fields of
   :data:`trialnb.eligibility.SCREENING_FIELDS`) and are screened with
   :func:`trialnb.eligibility.screen`, until ``n_patients`` are eligible. Referrals arrive
   at sorted uniform times over the accrual period (a Poisson process conditioned on the
   count), so entry is staggered and a CONSORT flow can be drawn from the screening log.
2. **Allocation.** Eligible patients are allocated in order of entry by the allocation
   procedure given (default: Pocock-Simon minimization on the three protocol factors).
3. **Survival.** Proportional hazards with a Weibull baseline (shape 1 = exponential, the
   protocol's assumption): ``H(t | x, arm) = Lambda0 (t/h)^k exp(x'beta) HR^[arm A]`` with h the
   design's ``horizon_months`` (24).
   ``Lambda0`` is calibrated so the *population-averaged* 2-year survival of arm B is
   ``control_survival`` (0.60 in the protocol) given the factor distribution (exact
   enumeration of the discrete factors and integer ages; see :func:`baseline_cumulative_hazard`).
   Death times by inversion: ``T = h (E / (Lambda0 exp(x'beta) HR^[A]))^(1/k)``, E ~ Exp(1)
   (Bender, Augustin & Blettner, Stat Med 2005;24:1713).
4. **Treatment course.** Arm A: surgery planned ``surgery_window`` months after
   randomization; not done if the patient died, was lost, progressed (probability
   ``p_progression_arm_a``, higher for patients with a poor individual prognosis, so a
   per-protocol analysis is biased) or declined. Arm B: surgery for local progression
   (allowed) or on patient request (a deviation).
5. **Censoring.** Loss to follow-up (exponential drop-out, probability ``dropout_probability`` of
   being lost by 2 years) and
   administrative censoring at the data cut-off (``accrual_months + horizon_months``).
6. **Secondary endpoints.** Margin status, axillary dissection/radiotherapy, locoregional
   progression and unplanned local therapies (dated), and QoL scores (EORTC QLQ-C30 global
   health scale) at the scheduled visits. Locoregional progression has a constant hazard by arm
   (``p_locoregional_progression_3y_a`` / ``_b``: the probability by 36 months without death,
   E2108's 3-year cumulative incidences, 16.3% with and 39.8% without early local therapy); it
   is seen only if diagnosed before death or the end of follow-up (death is a competing event),
   and an arm-B operation for local progression is one. The unplanned local therapies are the
   arm-B operations, a re-excision after involved margins and a local treatment of a progression
   not operated (``p_local_therapy_after_progression``), each counted only if it happened
   within follow-up; the CRF records their number and the month of the first.

Random streams: one :class:`numpy.random.SeedSequence` per seed, spawned into independent
streams for screening, allocation, outcomes, QoL and the locoregional course (progression and
the dates of unplanned local therapies, added last so the other streams are unchanged), so
scenarios that differ only in outcome parameters share the same screened and allocated patients
(common random numbers).

**Which estimand.** The treatment effect ``hazard_ratio`` is the hazard ratio of *allocation*
to arm A, acting from randomization on every arm-A patient, including those never operated
(progression, death, refusal). It is therefore the intention-to-treat (treatment-policy)
effect of the strategy "plan surgery after systemic therapy" under proportional hazards, not
the effect of the operation itself: in these data surgery has no effect beyond allocation,
and a non-operated arm-A patient benefits as much as an operated one. That is the estimand the
ITT Cox model targets, so the ITT analysis recovers ``hazard_ratio``; it is not a realistic model
of how surgery could act (an effect of surgery would start at the operation and spare the
non-operated), which would dilute the ITT hazard ratio towards 1 (see
:class:`trialnb.plan.DesignAssumptions` ``non_compliance`` and ``effect_delay_months``, simulated by
:func:`trialnb.simulation.simulate`). The
per-protocol and as-treated contrasts in the data are biased on purpose, which is what the
analysis notebook shows.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Protocol

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .. import population
from ..errors import ScenarioError
from ..data import QOL_SCHEMA, QOL_VISITS, SCREENING_SCHEMA, TRIAL_SCHEMA, Column, data_dictionary
from ..data_manifest import MANIFEST_NAME, write_manifest
from ..data_rules import RULES, rules_table
from ..eligibility import screen
from ..files import frame_csv_text, write_csv_atomic, write_text_atomic
from ..plan import DesignAssumptions
from ..population import AGE, P_ECOG2, PROGNOSTIC_HR, SITES
from ..protocol import FACTOR_NAMES, PATIENT_ID_RULE
from ..randomization import CompleteRandomization, PermutedBlock, PocockSimon
from ..validation import check_positive, check_probability, check_seed

__all__ = [
    "linear_predictor",
    "scenario",
    "SCENARIOS",
    "SHIPPED_SCENARIOS",
    "SHIPPED_SEED",
    "Allocator",
    "DESIGN_FIELDS",
    "SimulatedStudy",
    "CRFScenario",
    "baseline_cumulative_hazard",
    "build_data",
    "control_survival",
    "format_table",
    "simulate_screening",
    "simulate_study",
    "simulate_trial",
]


DESIGN_FIELDS: frozenset[str] = frozenset(f.name for f in fields(DesignAssumptions))
"""The fields :class:`CRFScenario` takes from the plan's design."""

_SHAPE_FIELDS = ("effect_delay_months", "early_hazard_ratio", "early_months", "non_compliance", "crossover",
                 "crossover_months")


class Allocator(Protocol):
    """Anything with ``assign(patient, rng)`` returning an object with ``.arm`` in {"A", "B"}."""

    def assign(self, patient: Mapping[str, Any], rng: np.random.Generator) -> Any:  # pragma: no cover
        ...


@dataclass(frozen=True)
class CRFScenario(DesignAssumptions):
    """The plan's design assumptions (:class:`trialnb.plan.DesignAssumptions`: the same fields,
    names and defaults) extended with what a CRF-level trial needs besides: age and ECOG and
    their prognostic effects, screening, the treatment course, secondary endpoints and QoL
    (times in months, hazard ratios as ratios).

    The survival model is the design's, with two extensions: a Weibull baseline
    (``weibull_shape``; 1 = exponential, the design's) and the prognostic effects of age and
    ECOG 2 besides the three factors (:mod:`trialnb.population`, with their sources). The
    treatment effect ``hazard_ratio`` acts from randomization on every arm-A patient (the ITT
    effect, see the module docstring), so the design's effect shapes (delay, early period,
    non-compliance, crossover) are not modelled here: they must keep their defaults.
    The screening, treatment-course and QoL values are assumptions (the evidence file's
    ranges where it has them).
    """

    name: str = "protocol"
    description: str = "protocol assumptions: HR 0.50, control 2-year survival exp(-0.5)"
    weibull_shape: float = 1.0
    age_mean: float = AGE["mean"]
    age_sd: float = AGE["sd"]
    age_min: float = AGE["min"]
    age_max: float = AGE["max"]
    p_ecog2: float = P_ECOG2  # among patients fit for treatment; ECOG 0 and 1 share the rest equally
    hr_age_per_decade_above_50: float = PROGNOSTIC_HR["age_per_decade_above_50"]  # (age - 50)/10 for age > 50 only
    hr_ecog2: float = PROGNOSTIC_HR["ecog2"]  # vs ECOG 0-1
    # screening (probability that a referred patient fails the item)
    p_not_m1: float = 0.05
    p_short_anticipated_survival: float = 0.05
    p_no_histology: float = 0.02
    p_receptor_unknown: float = 0.03
    p_her2_unknown: float = 0.04
    p_t4: float = 0.20
    p_t4_resectable: float = 0.60
    p_unfit: float = 0.05
    p_no_consent: float = 0.08
    p_prior_breast_cancer: float = 0.02
    p_other_malignancy: float = 0.02
    p_prior_local_treatment: float = 0.03
    p_bilateral: float = 0.01
    # treatment course
    surgery_window: tuple[float, float] = (3.0, 8.0)  # months after randomization (evidence 4.2)
    # arm A progressive by planned surgery (evidence 3.7); deaths first count as 'died'
    p_progression_arm_a: float = 0.25
    progression_prognosis_slope: float = 1.5  # logit slope on probit(S(T | x)) (large = dies early)
    p_decline_arm_a: float = 0.03
    p_local_progression_surgery_b_2y: float = 0.10  # arm B surgery for local progression by 2 years
    p_crossover_b: float = 0.03  # arm B surgery on patient request (protocol deviation)
    p_mastectomy: float = 0.65
    p_margin_involved: float = 0.12
    p_axillary_dissection_node_positive: float = 0.70
    p_axillary_dissection_node_negative: float = 0.15
    p_axillary_rt_operated: float = 0.30
    p_axillary_rt_not_operated: float = 0.03
    p_reexcision_if_involved: float = 0.50
    reexcision_delay_months: tuple[float, float] = (0.5, 2.0)  # after the operation, uniform
    # locoregional progression: a constant hazard by arm (death competes), E2108's 3-year cumulative
    # incidences (references/clinical_evidence.md, section 3) read as the probabilities without death
    p_locoregional_progression_3y_a: float = 0.163
    p_locoregional_progression_3y_b: float = 0.398
    p_local_therapy_after_progression: float = 0.60  # surgery or radiotherapy of a progression not operated
    local_therapy_delay_months: tuple[float, float] = (0.0, 2.0)  # after the diagnosis, uniform
    # QoL (EORTC QLQ-C30 global health status, 0-100)
    qol_baseline_mean: float = 62.0
    qol_patient_sd: float = 12.0
    qol_residual_sd: float = 10.0
    qol_slope_per_year: float = -2.0
    qol_ecog2_shift: float = -10.0
    qol_postoperative_dip: float = -6.0  # at the first visit within 3 months after surgery
    qol_last_6_months_shift: float = -15.0  # visits in the 6 months before death
    qol_attendance: float = 0.90

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("weibull_shape", "age_sd", "qol_patient_sd", "qol_residual_sd", "hr_age_per_decade_above_50",
                     "hr_ecog2", "progression_prognosis_slope"):
            check_positive(getattr(self, name), name, error=ScenarioError)
        for f in self.__dataclass_fields__:
            if (f.startswith("p_") and f not in DESIGN_FIELDS) or f == "qol_attendance":
                check_probability(getattr(self, f), f, lo_open=False, hi_open=False, error=ScenarioError)
        if not self.age_min < self.age_max or self.age_min < 18:
            raise ScenarioError("age_min/age_max must satisfy 18 <= age_min < age_max, "
                                f"got {self.age_min}, {self.age_max}")
        lo, hi = self.surgery_window
        if not 0 < lo <= hi < self.horizon_months:
            raise ScenarioError("surgery_window must satisfy 0 < start <= end < horizon_months, "
                                f"got {self.surgery_window}")
        for name in ("reexcision_delay_months", "local_therapy_delay_months"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ScenarioError(f"{name} must satisfy 0 <= start <= end, got {getattr(self, name)}")
        for name in ("p_locoregional_progression_3y_a", "p_locoregional_progression_3y_b"):
            if getattr(self, name) == 1.0:
                raise ScenarioError(f"{name} must be below 1 (a probability of progression by 3 years), got 1.0")
        if self.p_progression_arm_a in (0.0, 1.0):
            raise ScenarioError("p_progression_arm_a must lie strictly between 0 and 1")
        if not self.proportional:
            raise ScenarioError("the CRF-level generator models the ITT effect from randomization: "
                                "effect_delay_months, early_hazard_ratio/early_months, non_compliance and crossover "
                                "must keep their defaults "
                                f"(got {', '.join(k for k in self.differences() if k in _SHAPE_FIELDS)}); "
                                "use trialnb.simulation.simulate for those shapes")

    @property
    def cutoff_month(self) -> float:
        """Data cut-off, months after the start of accrual: the end of accrual plus the horizon."""
        return self.accrual_months + self.horizon_months

    def table(self) -> pd.DataFrame:
        """The scenario's assumptions as a (parameter, value) table."""
        d = asdict(self)
        d["cutoff_month"] = self.cutoff_month
        # derived by root finding: fixed decimals so shipped files do not depend on the last bits
        d["baseline_cumulative_hazard_24m"] = f"{baseline_cumulative_hazard(self):.10f}"
        return pd.DataFrame({"parameter": list(d), "value": [str(v) for v in d.values()]})


SCENARIOS: dict[str, CRFScenario] = {
    "protocol": CRFScenario(),
    "null": CRFScenario(name="null", description="no effect of surgery: HR 1.0 (type I error scenario)",
                        hazard_ratio=1.0),
    "realistic": CRFScenario(name="realistic", description="a deliberately hopeful effect, HR 0.90: the "
                             "randomized trials' pooled estimates are 0.93-1.03 (references/clinical_evidence.md, "
                             "section 3)", hazard_ratio=0.90),
}
"""Named scenarios: the protocol's design assumptions, the null (HR 1) and a realistic HR 0.90."""

SHIPPED_SCENARIOS: tuple[str, ...] = ("protocol", "null", "realistic")
SHIPPED_SEED: int = 20201120  # the trial's start date, 20 November 2020


# ---------------------------------------------------------------- population model

def _age_weights(s: CRFScenario) -> tuple[np.ndarray, np.ndarray]:
    """Integer ages and their probabilities: Normal(mean, sd) truncated to [min, max], rounded."""
    ages = np.arange(math.ceil(s.age_min), math.floor(s.age_max) + 1, dtype=float)
    edges_lo = np.clip(ages - 0.5, s.age_min, s.age_max)
    edges_hi = np.clip(ages + 0.5, s.age_min, s.age_max)
    z = stats.norm(s.age_mean, s.age_sd)
    w = z.cdf(edges_hi) - z.cdf(edges_lo)
    return ages, w / w.sum()


def linear_predictor(s: CRFScenario, site: np.ndarray, receptor: np.ndarray, her2: np.ndarray,
                     age: np.ndarray, ecog: np.ndarray) -> np.ndarray:
    """Prognostic log-hazard x'beta (arm excluded) for arrays of patient characteristics."""
    return population.linear_predictor(site, receptor, her2, age=age, ecog=ecog, hazard_ratios=_hazard_ratios(s))


def _hazard_ratios(s: CRFScenario) -> dict[str, float]:
    """The scenario's prognostic hazard ratios under :data:`trialnb.population.PROGNOSTIC_HR`'s keys."""
    return {"visceral": s.hr_visceral, "soft_tissue": s.hr_soft_tissue, "hr_negative": s.hr_hr_negative,
            "her2_positive": s.hr_her2_positive, "ecog2": s.hr_ecog2,
            "age_per_decade_above_50": s.hr_age_per_decade_above_50}


def _population(s: CRFScenario) -> tuple[np.ndarray, np.ndarray]:
    """(weights, linear predictors) over every combination of site, receptor, HER2, ECOG 2 and age."""
    ages, aw = _age_weights(s)
    w_list, lp_list = [], []
    for si, site in enumerate(SITES):
        for rec, pr in (("positive", s.p_hr_positive), ("negative", 1 - s.p_hr_positive)):
            for h2, ph in (("positive", s.p_her2_positive), ("negative", 1 - s.p_her2_positive)):
                for ec, pe in ((2, s.p_ecog2), (0, 1 - s.p_ecog2)):
                    w_list.append(s.site_probs[si] * pr * ph * pe * aw)
                    n = len(ages)
                    lp_list.append(linear_predictor(s, np.repeat(site, n), np.repeat(rec, n), np.repeat(h2, n),
                                                    ages, np.repeat(ec, n)))
    return np.concatenate(w_list), np.concatenate(lp_list)


def control_survival(s: CRFScenario, baseline_h24: float, t: float | None = None, hr: float = 1.0) -> float:
    """Population-averaged survival at ``t`` months (default the horizon h, 24 months):
    sum_x w_x exp(-Lambda0 (t/h)^k exp(lp_x) hr), Lambda0 the baseline cumulative hazard at h."""
    w, lp = _population(s)
    h = s.horizon_months
    t = h if t is None else t
    return float(np.sum(w * np.exp(-baseline_h24 * (t / h) ** s.weibull_shape * np.exp(lp) * hr)))


def baseline_cumulative_hazard(s: CRFScenario) -> float:
    """Lambda0 = baseline cumulative hazard at the horizon h (``horizon_months``, 24) such that arm
    B's averaged S(h) = ``control_survival``.

    Solves ``sum_x w_x exp(-Lambda0 exp(lp_x)) = control_survival`` by Brent's method; the
    weights enumerate the discrete factors and the integer ages exactly.
    """
    w, lp = _population(s)
    return population.calibrate_baseline(w, lp, s.control_survival)


def _progression_intercept(p: float, slope: float) -> float:
    """c0 with E[expit(c0 + slope Z)] = p for Z ~ N(0, 1) (Gauss-Hermite quadrature)."""
    x, wq = np.polynomial.hermite_e.hermegauss(80)
    wq = wq / wq.sum()
    g = lambda c: float(np.sum(wq * special.expit(c + slope * x))) - p  # noqa: E731
    return float(optimize.brentq(g, -30.0, 30.0, xtol=1e-14))


# ---------------------------------------------------------------- screening

def _streams(seed: int) -> dict[str, np.random.Generator]:
    check_seed(seed, error=ScenarioError)
    # a stream added later is spawned after the others: SeedSequence children are numbered, so the
    # first four (and every number drawn from them) are unchanged by it
    names = ("screening", "allocation", "outcome", "qol", "local")
    children = np.random.SeedSequence(int(seed)).spawn(len(names))
    return {n: np.random.default_rng(c) for n, c in zip(names, children, strict=True)}


def _screening_record(s: CRFScenario, rng: np.random.Generator) -> dict[str, Any]:
    """One referred patient's complete screening record (fields of eligibility.SCREENING_FIELDS)."""
    u = rng.random(20)
    lo, hi = special.ndtr((s.age_min - s.age_mean) / s.age_sd), special.ndtr((s.age_max - s.age_mean) / s.age_sd)
    x = s.age_mean + s.age_sd * float(special.ndtri(lo + u[0] * (hi - lo)))  # truncated normal by inversion
    age = int(np.clip(np.round(x), math.ceil(s.age_min), math.floor(s.age_max)))
    fit = bool(u[1] >= s.p_unfit)
    if fit:
        ecog = 2 if u[2] < s.p_ecog2 else (0 if u[3] < 0.5 else 1)
    else:
        ecog = 3
    rec = "unknown" if u[4] < s.p_receptor_unknown else ("positive" if u[5] < s.p_hr_positive else "negative")
    her2 = "unknown" if u[6] < s.p_her2_unknown else ("positive" if u[7] < s.p_her2_positive else "negative")
    site = SITES[int(np.searchsorted(np.cumsum(s.site_probs), u[8], side="right").clip(0, 2))]
    t4 = bool(u[9] < s.p_t4)
    t_stage = "T4" if t4 else ("T1", "T2", "T3")[int(min(u[10] * 3, 2.999))]
    short = bool(u[11] < s.p_short_anticipated_survival)
    surv_ant = int(rng.integers(2, 6)) if short else int(rng.integers(8, 61))
    return {
        "age": age,
        "metastatic_at_diagnosis": bool(u[12] >= s.p_not_m1),
        "anticipated_survival_months": surv_ant,
        "histology_confirmed": bool(u[13] >= s.p_no_histology),
        "hormone_receptor": rec,
        "her2": her2,
        "dominant_site": site,
        "ecog": ecog,
        "t_stage": t_stage,
        "t4_resectable": bool(t4 and u[14] < s.p_t4_resectable),
        "n_stage": ("N0", "N1", "N2", "N3")[int(np.searchsorted([0.2, 0.65, 0.85], u[15], side="right"))],
        "fit_for_treatment": fit,
        "informed_consent": bool(u[16] >= s.p_no_consent),
        "prior_invasive_breast_cancer": bool(u[17] < s.p_prior_breast_cancer),
        "other_malignancy_10y": bool(u[18] < s.p_other_malignancy),
        "prior_breast_local_treatment": bool(u[19] < s.p_prior_local_treatment),
        "bilateral_synchronous": bool(rng.random() < s.p_bilateral),
    }


def simulate_screening(scenario: CRFScenario, seed: int) -> pd.DataFrame:
    """Screening log: referred patients screened with :func:`trialnb.eligibility.screen`.

    Patients are referred until ``scenario.n_patients`` are eligible; referral times are
    sorted uniforms over the accrual period. Eligible patients get trial numbers P001, ...
    in order of referral (randomization immediately after screening). Columns follow
    :data:`trialnb.data.SCREENING_SCHEMA`.
    """
    if not isinstance(scenario, CRFScenario):
        raise ScenarioError(f"scenario must be a CRFScenario, got {type(scenario).__name__}")
    rng = _streams(seed)["screening"]
    records, n_elig = [], 0
    while n_elig < scenario.n_patients:
        r = _screening_record(scenario, rng)
        res = screen(r)
        r["eligible"] = int(res.eligible)
        r["failed_criteria"] = ";".join(res.failed) if res.failed else None
        n_elig += res.eligible
        records.append(r)
    months = np.sort(rng.uniform(0.0, scenario.accrual_months, size=len(records)))
    width = max(3, len(str(scenario.n_patients)))
    k = 0
    for i, r in enumerate(records):
        r["screening_id"] = f"S{i + 1:04d}"
        r["referral_month"] = round(float(months[i]), 2)
        if r["eligible"]:
            k += 1
            r["patient_id"] = f"P{k:0{width}d}"
        else:
            r["patient_id"] = None
        for f in ("metastatic_at_diagnosis", "histology_confirmed", "t4_resectable", "fit_for_treatment",
                  "informed_consent", "prior_invasive_breast_cancer", "other_malignancy_10y",
                  "prior_breast_local_treatment", "bilateral_synchronous"):
            r[f] = int(r[f])
    return pd.DataFrame(records)[[c.name for c in SCREENING_SCHEMA]]


# ---------------------------------------------------------------- the trial

@dataclass(frozen=True)
class SimulatedStudy:
    """One simulated trial: the CRF dataset, the screening log and the long-format QoL visits."""

    scenario: CRFScenario
    seed: int
    trial: pd.DataFrame
    screening: pd.DataFrame
    qol: pd.DataFrame
    truth: dict[str, float] = field(default_factory=dict)


def _default_allocator(s: CRFScenario) -> Allocator:
    """The design's allocation: Pocock-Simon minimization with its p, unstratified permuted
    blocks of its size, or a fair coin."""
    if s.allocation == "minimization":
        return PocockSimon(p=s.minimization_p)
    if s.allocation == "blocks":
        return PermutedBlock(block_sizes=(s.block_size,))
    return CompleteRandomization()


def _r2(x: np.ndarray | float) -> np.ndarray:
    return np.round(np.asarray(x, dtype=float), 2)


def simulate_study(scenario: CRFScenario, seed: int, allocator: Allocator | None = None) -> SimulatedStudy:
    """Run the whole synthetic trial (see the module docstring for the model, step by step).

    ``allocator`` is any object with ``assign(patient, rng)`` returning something with
    ``.arm`` in {"A", "B"}; it is deep-copied first, so the caller's object is left untouched
    and repeated calls with the same seed give identical data. Default: a fresh
    allocation of the design: :class:`trialnb.randomization.PocockSimon` with its ``minimization_p``
    (minimization on the protocol's factors) by default.
    """
    if not isinstance(scenario, CRFScenario):
        raise ScenarioError(f"scenario must be a CRFScenario, got {type(scenario).__name__}")
    if allocator is None:
        allocator = _default_allocator(scenario)
    elif not callable(getattr(allocator, "assign", None)):
        raise ScenarioError(f"allocator must have an assign(patient, rng) method, got {type(allocator).__name__}")
    else:
        allocator = copy.deepcopy(allocator)
    s = scenario
    screening = simulate_screening(s, seed)
    streams = _streams(seed)
    rng_alloc, rng, rng_q, rng_l = streams["allocation"], streams["outcome"], streams["qol"], streams["local"]

    pts = screening[screening["eligible"] == 1].reset_index(drop=True)
    n = len(pts)
    arms = []
    for _, p in pts.iterrows():
        a = allocator.assign({f: p[f] for f in FACTOR_NAMES}, rng_alloc)
        arm = getattr(a, "arm", a)
        if arm not in ("A", "B"):
            raise ScenarioError(f"allocator returned arm {arm!r}; allowed: 'A', 'B'")
        arms.append(arm)
    arm = np.array(arms)
    is_a = arm == "A"
    entry = _r2(pts["referral_month"].to_numpy())
    admin = _r2(s.cutoff_month - entry)

    # survival (Bender et al. 2005 inversion)
    lam0 = baseline_cumulative_hazard(s)
    lp = linear_predictor(s, pts["dominant_site"].to_numpy(), pts["hormone_receptor"].to_numpy(),
                          pts["her2"].to_numpy(), pts["age"].to_numpy(), pts["ecog"].to_numpy())
    e = rng.exponential(1.0, n)
    h = s.horizon_months  # control_survival and dropout_probability are the design's, at the horizon
    t_death = h * (e / (lam0 * np.exp(lp) * np.where(is_a, s.hazard_ratio, 1.0))) ** (1.0 / s.weibull_shape)
    loss_rate = -math.log(1.0 - s.dropout_probability) / h if s.dropout_probability > 0 else 0.0
    t_loss = rng.exponential(1.0 / loss_rate, n) if loss_rate > 0 else np.full(n, np.inf)
    # prognosis-linked progression: Z = probit of S(T | x) = exp(-E), uniform on (0, 1) given x;
    # E small = early death = large Z, so progression concentrates on the patients who die early
    z = special.ndtri(np.clip(np.exp(-e), 1e-12, 1 - 1e-12))
    c0 = _progression_intercept(s.p_progression_arm_a, s.progression_prognosis_slope)
    progressive = rng.random(n) < special.expit(c0 + s.progression_prognosis_slope * z)
    planned = rng.uniform(*s.surgery_window, n)
    declines = rng.random(n) < s.p_decline_arm_a
    # arm B surgery
    p_lp = s.p_local_progression_surgery_b_2y
    lp_rate = -math.log(1.0 - p_lp) / 24.0 if p_lp > 0 else 0.0
    t_local = rng.exponential(1.0 / lp_rate, n) if lp_rate > 0 else np.full(n, np.inf)
    crossover = rng.random(n) < s.p_crossover_b
    t_cross = rng.uniform(3.0, 12.0, n)
    # secondary-endpoint draws (drawn for everyone, used where they apply; the sixth was an undated
    # breast radiotherapy before therapies had dates, still drawn so the stream is unchanged)
    u_mast, u_margin, u_axd, u_axrt, _u_unused, u_reex = (rng.random(n) for _ in range(6))
    # locoregional progression and the dates of unplanned local therapies: their own stream
    lrp_rate = -np.log1p(-np.where(is_a, s.p_locoregional_progression_3y_a, s.p_locoregional_progression_3y_b)) / 36.0
    with np.errstate(divide="ignore"):
        t_lrp = rng_l.exponential(1.0, n) / lrp_rate
    treat_lrp = rng_l.random(n) < s.p_local_therapy_after_progression
    lrp_delay = rng_l.uniform(*s.local_therapy_delay_months, n)
    reex_delay = rng_l.uniform(*s.reexcision_delay_months, n)

    end_fu = np.minimum(np.minimum(t_death, t_loss), admin)
    rows = []
    for i in range(n):
        op, reason, nor = 0, None, None
        sm: float | None = None
        if is_a[i]:
            if t_loss[i] < planned[i] and t_loss[i] < t_death[i]:
                nor = "lost"
            elif t_death[i] <= planned[i]:
                nor = "died"
            elif progressive[i]:
                nor = "progression"
            elif declines[i]:
                nor = "declined"
            else:
                op, sm, reason = 1, planned[i], "protocol"
        else:
            cands = []
            if t_local[i] < end_fu[i]:
                cands.append((t_local[i], "local_progression"))
            if crossover[i] and t_cross[i] < end_fu[i]:
                cands.append((t_cross[i], "patient_request"))
            if cands:
                sm, reason = min(cands)
                op = 1
        if t_death[i] < t_loss[i] and t_death[i] <= admin[i]:
            os_, death, lost = max(round(float(t_death[i]), 2), 0.01), 1, 0
        elif t_loss[i] < t_death[i] and t_loss[i] <= admin[i]:
            os_, death, lost = max(round(float(t_loss[i]), 2), 0.01), 0, 1
        else:
            os_, death, lost = float(admin[i]), 0, 0
        node_pos = pts.at[i, "n_stage"] != "N0"
        therapies: list[float] = []  # dates of the unplanned local therapies within follow-up
        lrp = round(float(t_lrp[i]), 2) if t_lrp[i] <= os_ else None
        stype: str | None
        margin: str | None
        if op and sm is not None:  # an operated patient has a surgery month
            sm = min(round(float(sm), 2), os_)
            stype = "mastectomy" if u_mast[i] < s.p_mastectomy else "lumpectomy"
            margin = "involved" if u_margin[i] < s.p_margin_involved else "free"
            p_axd = s.p_axillary_dissection_node_positive if node_pos else s.p_axillary_dissection_node_negative
            axd = int(u_axd[i] < p_axd)
            axrt = int(u_axrt[i] < (s.p_axillary_rt_operated if node_pos else s.p_axillary_rt_not_operated))
            if reason == "local_progression":  # the operation treats a progression diagnosed by then
                lrp = sm if lrp is None else min(lrp, sm)
            if reason in ("local_progression", "patient_request"):
                therapies.append(sm)
            if margin == "involved" and u_reex[i] < s.p_reexcision_if_involved:
                therapies.append(round(sm + float(reex_delay[i]), 2))
        else:
            stype = margin = None
            axd = 0
            axrt = int(u_axrt[i] < s.p_axillary_rt_not_operated)
        if lrp is not None and reason != "local_progression" and treat_lrp[i]:
            therapies.append(round(lrp + float(lrp_delay[i]), 2))
        therapies = [m for m in therapies if m <= os_]
        unplanned = len(therapies)
        per_protocol = int(op == 1) if is_a[i] else int(reason in (None, "local_progression"))
        rows.append({
            "patient_id": pts.at[i, "patient_id"], "screening_id": pts.at[i, "screening_id"], "arm": arm[i],
            "dominant_site": pts.at[i, "dominant_site"], "hormone_receptor": pts.at[i, "hormone_receptor"],
            "her2": pts.at[i, "her2"], "age": int(pts["age"][i]), "ecog": int(pts["ecog"][i]),
            "t_stage": pts.at[i, "t_stage"], "n_stage": pts.at[i, "n_stage"], "entry_month": float(entry[i]),
            "operated": op, "surgery_month": sm, "surgery_reason": reason, "not_operated_reason": nor,
            "surgery_type": stype, "margin_status": margin, "axillary_dissection": axd,
            "axillary_radiotherapy": axrt, "unplanned_local_therapies": unplanned,
            "unplanned_local_therapy_month": min(therapies) if therapies else None,
            "locoregional_progression_month": lrp, "os_months": os_,
            "death": death, "lost_to_follow_up": lost, "per_protocol": per_protocol,
        })
    trial = pd.DataFrame(rows)[[c.name for c in TRIAL_SCHEMA]]
    for col in ("surgery_month", "unplanned_local_therapy_month", "locoregional_progression_month"):
        trial[col] = trial[col].astype(float)
    qol = _simulate_qol(s, trial, t_death, rng_q)
    truth = {"baseline_cumulative_hazard_24m": lam0, "hazard_ratio": s.hazard_ratio,
             "control_survival": control_survival(s, lam0),
             "arm_a_survival": control_survival(s, lam0, hr=s.hazard_ratio)}
    return SimulatedStudy(s, int(seed), trial, screening, qol, truth)


def _simulate_qol(s: CRFScenario, trial: pd.DataFrame, t_death: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """QoL visits (long format): a random-intercept model on the QLQ-C30 global health scale.

    score = mean + patient effect + slope*t + shifts (ECOG 2, 6 months before death, first
    visit within 3 months after surgery) + residual, rounded to the scale's steps of 100/12
    and clipped to [0, 100]. A visit is recorded only if the patient is alive and followed
    at that time (and attends, probability ``qol_attendance``; baseline always attended).
    """
    n = len(trial)
    b = rng.normal(0.0, s.qol_patient_sd, n)
    rows = []
    for i, r in enumerate(trial.to_dict("records")):
        for v in QOL_VISITS:
            eps = rng.normal(0.0, s.qol_residual_sd)
            att = rng.random()
            if v > r["os_months"] or (v > 0 and att >= s.qol_attendance):
                continue
            x = s.qol_baseline_mean + b[i] + s.qol_slope_per_year * v / 12.0 + eps
            x += s.qol_ecog2_shift * (r["ecog"] == 2)
            x += s.qol_last_6_months_shift * (t_death[i] - v <= 6.0)
            if r["operated"] and 0 <= v - r["surgery_month"] <= 3.0:
                x += s.qol_postoperative_dip
            score = float(np.clip(np.round(x / (100 / 12)) * (100 / 12), 0.0, 100.0))
            rows.append({"patient_id": r["patient_id"], "visit_month": v, "qol_score": round(score, 1)})
    return pd.DataFrame(rows, columns=[c.name for c in QOL_SCHEMA])


def simulate_trial(scenario: CRFScenario, seed: int, allocator: Allocator | None = None) -> pd.DataFrame:
    """The CRF dataset of one simulated trial (:data:`trialnb.data.TRIAL_SCHEMA` columns).

    Same as ``simulate_study(scenario, seed, allocator).trial``; see :func:`simulate_study`.
    """
    return simulate_study(scenario, seed, allocator).trial


# ---------------------------------------------------------------- shipping

_DECIMALS = {"entry_month": 2, "surgery_month": 2, "os_months": 2, "referral_month": 2, "visit_month": 0,
             "qol_score": 1}


def format_table(df: pd.DataFrame, schema: tuple[Column, ...]) -> pd.DataFrame:
    """All-text copy of ``df`` with fixed formatting per column (floats to fixed decimals, empty = missing)."""
    out = {}
    for c in schema:
        col = df[c.name]
        if c.kind == "float":
            d = _DECIMALS.get(c.name, 2)
            out[c.name] = [("" if (v is None or pd.isna(v)) else f"{float(v):.{d}f}") for v in col]
        elif c.kind in ("int", "binary"):
            out[c.name] = [("" if (v is None or pd.isna(v)) else str(int(v))) for v in col]
        else:
            out[c.name] = [("" if (v is None or (isinstance(v, float) and pd.isna(v))) else str(v)) for v in col]
    return pd.DataFrame(out)


def _write_csv(df: pd.DataFrame, path: Path) -> Path:
    return write_csv_atomic(path, df)


_README = """# Synthetic data for NCT04697043 (trialnb)

**These data are synthetic.** No patient's data are here. They were generated by
`trialnb.simulation` to teach and rehearse the statistical analysis plan of NCT04697043
(surgery of the primary tumour in de novo metastatic breast cancer, Tehran University of
Medical Sciences). Do not cite any number computed from them as evidence.

Regenerate byte-for-byte with

    trialnb build-data --out data --force

(`trialnb.simulation.build_data`); `tests/test_data.py` checks that the shipped files equal
the regenerated ones.

## How they were generated
- seed `{seed}` (numpy `SeedSequence`, one stream each for screening, allocation, outcomes, QoL);
  every scenario uses the same seed, so the screened and randomized patients are the same in
  every scenario and only the outcomes differ;
- referred patients screened with `trialnb.eligibility.screen` until {n} were eligible;
  staggered entry over {accrual:g} months; data cut-off at month {cutoff:g};
- allocation by minimization: `trialnb.randomization.PocockSimon(p=0.8)` (the plan's design);
- survival: proportional hazards, exponential baseline calibrated so that arm B's
  population 2-year survival is {s2:.2f}; factor frequencies and prognostic HRs from
  `trialnb.evidence` (written up in `references/clinical_evidence.md`, section 5);
- locoregional progression: a constant hazard by arm, the probability by 3 years without death
  {lrp_a:.1%} in arm A and {lrp_b:.1%} in arm B (E2108's 3-year cumulative incidences with and
  without early local therapy, `references/clinical_evidence.md`, section 3); \
death before it is a competing event, so it is
  recorded (`locoregional_progression_month`) only when diagnosed during follow-up; an arm-B
  operation for local progression is one;
- unplanned local therapies: arm-B operations, a re-excision after involved margins, and a local
  treatment of a progression not operated (probability {treat:.0%}); `unplanned_local_therapies`
  counts those within follow-up and `unplanned_local_therapy_month` dates the first (death
  before it is a competing event); the progression and therapy dates are drawn from their own
  random stream, so no other column depends on them;
- every assumption: `scenarios.csv` (one column per scenario) and `trialnb.simulation.CRFScenario`.

## Which effect do these data contain (the estimand)
The "true effect of surgery" of each scenario (`hazard_ratio`) is a hazard ratio of
*allocation* to arm A that acts from randomization on every arm-A patient, including the
arm-A patients who were never operated. It is the intention-to-treat (treatment-policy)
effect of planning surgery, which the primary analysis (ITT Cox model, death within 24
months) estimates; it is not an effect of the operation itself. In a real trial an effect of
surgery would start at the operation and spare the non-operated patients, so the ITT hazard
ratio would be diluted towards 1.

## Files
| file | content |
|---|---|
{files}

Column definitions (type, unit, allowed values, meaning): `data_dictionary.csv`
(`trialnb.data.data_dictionary()`). Load a trial file with validation:
`trialnb.data.load_trial("data/trial_protocol.csv")`.

## Loading rules
The loaders (`trialnb.data.load_trial`, `load_screening`, `load_qol`) read UTF-8 text (an
optional byte-order mark is allowed), comma-separated, and check every line and cell:
numbers are written with ASCII digits, `-` and `.` only; ids are compared without
surrounding whitespace (which is itself reported) and must be unique. Any problem raises one
`trialnb.errors.TrialDataError` naming the file, the line (physical line in the file, blank
lines counted), the column and the rule; nothing is dropped or coerced. Rules of the file
and its cells: `file`, `compression`, `encoding`, `csv`, `delimiter`, `header`,
`duplicate_column`, `no_rows`, `field_count`, `required`, `number`, `whole_number`, `range`,
`binary`, `level`, `id`, `id_pattern`, `duplicate_id`, `manifest`, and for QoL files
`scheduled_visit`, `visit_once`, `patient_link`. Ids (trial and screening numbers) are
{id_rule}: no id can start a formula in a spreadsheet. A `.csv.gz` file loads as its CSV.

`manifest.csv` lists every file of this folder with its data rows, bytes and SHA-256. The
loaders check a listed file against it (a file cut short, even at a row boundary, or edited
is refused, rule `manifest`), and `trialnb verify-data --dir data` checks the whole folder,
loading every file with the cross-file rules (`load_trial(path, screening=...)`). It guards
against accidents, not against someone who edits a file and the manifest together.

## Cross-field rules
Written once, as data, in `trialnb.data_rules.RULES`; the same list is in
`cross_field_rules.csv`. When the header is right, they are checked on every row whose
cells all parsed.

| file | rule | requirement |
|---|---|---|
{rules}
"""


def build_data(out_dir: Path, seed: int = SHIPPED_SEED, scenarios: tuple[str, ...] = SHIPPED_SCENARIOS,
               allocator: Allocator | None = None) -> list[Path]:
    """Write the shipped datasets into ``out_dir`` (created if needed); return the paths written.

    Files: ``trial_<scenario>.csv`` and ``qol_<scenario>.csv`` per scenario, one
    ``screening_log.csv`` (identical for every shipped scenario, checked), ``scenarios.csv``,
    ``data_dictionary.csv``, ``cross_field_rules.csv``, ``README.md`` and, last, ``manifest.csv``
    (every other file with its rows, bytes and SHA-256: :mod:`trialnb.data_manifest`). Output
    is byte-for-byte deterministic: fixed decimals, ``\\n`` line endings, fixed column order;
    CSV cells a spreadsheet would run are neutralised (:func:`trialnb.files.frame_csv_text`).
    """
    out_dir = Path(out_dir)
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise ScenarioError(f"scenarios must be a non-empty tuple of names from {sorted(SCENARIOS)}, got {scenarios!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    files: list[tuple[str, str]] = []
    screening_text: str | None = None
    for name in scenarios:
        sc = SCENARIOS[name]
        st = simulate_study(sc, seed, allocator)
        paths.append(_write_csv(format_table(st.trial, TRIAL_SCHEMA), out_dir / f"trial_{name}.csv"))
        files.append((f"trial_{name}.csv", f"CRF dataset, scenario `{name}`: {sc.description} "
                      f"({len(st.trial)} patients, {int(st.trial['death'].sum())} deaths)"))
        paths.append(_write_csv(format_table(st.qol, QOL_SCHEMA), out_dir / f"qol_{name}.csv"))
        files.append((f"qol_{name}.csv", f"QoL visits (long format), scenario `{name}` ({len(st.qol)} visits)"))
        text = frame_csv_text(format_table(st.screening, SCREENING_SCHEMA))
        if screening_text is None:
            screening_text = text
            nscr = len(st.screening)
        elif text != screening_text:  # pragma: no cover - guards the common-random-numbers design
            raise RuntimeError("screening differs between scenarios; ship one log per scenario instead")
    paths.append(write_text_atomic(out_dir / "screening_log.csv", screening_text or ""))
    files.append(("screening_log.csv", f"every referred patient ({nscr}), screening fields, eligibility, trial number"))
    tables = [SCENARIOS[n].table().set_index("parameter")["value"].rename(n) for n in scenarios]
    paths.append(_write_csv(pd.concat(tables, axis=1).reset_index(), out_dir / "scenarios.csv"))
    files.append(("scenarios.csv", "every simulation assumption, one column per scenario"))
    paths.append(_write_csv(data_dictionary(), out_dir / "data_dictionary.csv"))
    files.append(("data_dictionary.csv", "column, type, unit, allowed values, meaning for every file"))
    paths.append(_write_csv(rules_table(), out_dir / "cross_field_rules.csv"))
    files.append(("cross_field_rules.csv",
                  "every cross-field rule the loaders check: file, rule, columns, requirement"))
    files.append((MANIFEST_NAME, "every file above with its data rows, bytes and SHA-256 (checked by the loaders "
                                 "and `trialnb verify-data`)"))
    base = SCENARIOS[scenarios[0]]
    readme = _README.format(seed=seed, n=base.n_patients, id_rule=PATIENT_ID_RULE, accrual=base.accrual_months,
                            cutoff=base.cutoff_month, s2=base.control_survival,
                            lrp_a=base.p_locoregional_progression_3y_a, lrp_b=base.p_locoregional_progression_3y_b,
                            treat=base.p_local_therapy_after_progression,
                            files="\n".join(f"| `{f}` | {d} |" for f, d in files + [("README.md", "this file")]),
                            rules="\n".join(f"| `{r.file}` | `{r.name}` | {r.description} |" for r in RULES))
    paths.append(write_text_atomic(out_dir / "README.md", readme))
    paths.append(write_manifest(out_dir, [p.name for p in paths]))
    return paths


def scenario(name: str, **changes: Any) -> CRFScenario:
    """A named scenario from :data:`SCENARIOS`, optionally with fields replaced."""
    if name not in SCENARIOS:
        raise ScenarioError(f"name must be one of {sorted(SCENARIOS)}, got {name!r}")
    return replace(SCENARIOS[name], **changes)
