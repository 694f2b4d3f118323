"""The simulated NCT04697043 population, declared once: factor frequencies, prognostic hazard
ratios (each with its source), the linear predictor and the calibration of the baseline hazard.

Every simulator of the project composes these values instead of re-declaring them: the plan's
design (:class:`trialnb.plan.DesignAssumptions`, which the batched trial simulations of
:mod:`trialnb.simulation` draw from), the CRF-level data generator
(:class:`trialnb.simulation.CRFScenario`), the registry simulator of the rationale notebook
(:mod:`trialnb.bias`) and the patient stream of the randomization notebook.

The protocol records the three minimization factors (dominant metastatic site, hormone
receptor status, HER2 status: section "Randomization") but gives no frequencies and no
prognostic effects; the values below are **modelling choices** taken from the published ranges
summarised in ``references/clinical_evidence.md`` (section "Parameters for simulating the
trial population"), not facts about the trial.

Calibration: with the factor effects switched on, the baseline hazard is chosen so that the
*control arm as a whole* has the protocol's 2-year survival (the protocol's sample-size
calculation assumes one homogeneous exponential population, S(24) = exp(-0.5)): solve

    sum_x w_x exp(-H0 exp(lp_x)) = S_target

for the baseline cumulative hazard ``H0`` at the horizon (Brent's method on log H0), where
``w_x`` are the probabilities of the covariate patterns and ``lp_x`` their linear predictors
(Bender, Augustin & Blettner, Stat Med 2005;24:1713-1723, for simulating Cox models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
from scipy import optimize

from .errors import ScenarioError
from .validation import is_number

__all__ = [
    "SITES",
    "FACTOR_FREQUENCIES",
    "PROGNOSTIC_HR",
    "REGISTRY_PROGNOSTIC_HR",
    "AGE",
    "P_ECOG2",
    "P_MULTIPLE_SITES",
    "SOURCES",
    "Source",
    "linear_predictor",
    "factor_strata",
    "calibrate_baseline",
]

SITES: tuple[str, ...] = ("bone", "soft_tissue", "visceral")
"""Levels of the dominant metastatic site, in the protocol's order of listing."""


@dataclass(frozen=True)
class Source:
    """Where a population value comes from: the published range and the reference."""

    value: str
    range: str
    reference: str


FACTOR_FREQUENCIES: Mapping[str, Mapping[str, float]] = MappingProxyType({
    "dominant_site": MappingProxyType({"bone": 0.45, "soft_tissue": 0.10, "visceral": 0.45}),
    "hormone_receptor": MappingProxyType({"positive": 0.75, "negative": 0.25}),
    "her2": MappingProxyType({"positive": 0.25, "negative": 0.75}),
})
"""Frequencies of the minimization factors' levels among randomized patients (drawn
independently). Sources in :data:`SOURCES`."""

PROGNOSTIC_HR: Mapping[str, float] = MappingProxyType({
    "soft_tissue": 1.1,  # vs bone-dominant
    "visceral": 1.6,  # vs bone-dominant
    "hr_negative": 2.0,  # hormone-receptor negative vs positive
    "her2_positive": 0.8,  # HER2 positive vs negative (anti-HER2 era)
    "ecog2": 1.7,  # ECOG 2 vs 0-1 (not a minimization factor)
    "age_per_decade_above_50": 1.1,  # per 10 years above 50 (not a minimization factor)
})
"""Prognostic hazard ratios for overall survival used in simulation (reference levels: bone,
receptor positive, HER2 negative, ECOG 0-1, age <= 50). Sources in :data:`SOURCES`."""

REGISTRY_PROGNOSTIC_HR: Mapping[str, float] = MappingProxyType({
    **PROGNOSTIC_HR,
    "ecog2": 1.8,  # registries include patients less fit than a surgical trial admits
    "multiple_sites": 1.5,  # more than one metastatic site
})
"""Prognostic hazard ratios of the registry simulator (:mod:`trialnb.bias`): the trial's
values, plus more than one metastatic site, and a stronger ECOG 2 effect because a registry is
not restricted to patients fit for surgery (both assumptions within the published ranges)."""

AGE: Mapping[str, float] = MappingProxyType({"mean": 50.0, "sd": 11.0, "min": 25.0, "max": 80.0})
"""Age at randomization ~ Normal(mean, sd) truncated to [min, max] years."""

P_ECOG2: float = 0.10
"""Share of ECOG performance status 2 among patients fit for surgery and systemic therapy."""

P_MULTIPLE_SITES: float = 0.65
"""Share of patients with more than one metastatic site (registry simulator only): about a
third of SEER de novo stage IV patients have multiple organ sites (Wang 2019), more once
nodal and bone sites are counted separately."""

SOURCES: Mapping[str, Source] = MappingProxyType({
    "dominant_site": Source(
        "bone 0.45, soft tissue 0.10, visceral 0.45",
        "bone-dominant 40-45%, visceral-dominant 45-55%, soft-tissue/nodal 5-10%",
        "Wang R et al. BMC Cancer 2019;19:1091 (SEER stage IV 2010-2015); Leung AM et al. "
        "Ann Surg Oncol 2010;17:1647-1655; mapped to the protocol's site hierarchy"),
    "hormone_receptor": Source(
        "receptor positive 0.75", "HR+ about 70-80% of de novo metastatic breast cancer",
        "SEER 2012-2016 de novo stage IV with bone metastases (BMC Cancer 2020, "
        "doi 10.1186/s12885-020-07593-8); Tao L et al. Cancer Causes Control 2016;27:1127-1138"),
    "her2": Source(
        "HER2 positive 0.25", "HER2+ about 21-28% (enriched in de novo disease)",
        "Tao L et al. Cancer Causes Control 2016;27:1127-1138; BMC Cancer 2020 "
        "(doi 10.1186/s12885-020-07593-8)"),
    "visceral": Source(
        "HR 1.6 vs bone", "1.4-2.0 (liver 1.6-2.1, lung 1.4)",
        "SEER 2012-2016 bone-metastasis cohort (BMC Cancer 2020); Bafford AC et al. Breast "
        "Cancer Res Treat 2009;115:7-12"),
    "soft_tissue": Source("HR 1.1 vs bone", "1.0-1.2", "assumption (no published estimate)"),
    "hr_negative": Source(
        "HR 2.0 vs receptor positive", "triple negative vs HR+/HER2- 2.8",
        "California Cancer Registry 2005-2011 (Tao 2016); SEER bone-metastasis cohort"),
    "her2_positive": Source(
        "HR 0.8 vs HER2 negative", "0.65-1.0 with anti-HER2 therapy, 1.3-1.6 without",
        "SEER bone-metastasis cohort (BMC Cancer 2020); Tao 2016"),
    "ecog2": Source("HR 1.7 vs ECOG 0-1", "1.5-2.0", "assumption (no de novo stage IV estimate)"),
    "multiple_sites": Source(
        "HR 1.5 for more than one metastatic site", "> 3 vs 1 site 3.24 (cancer-specific)",
        "Taskindoust M et al. 2021 (SEER 1988-2016); 1.5 for 'more than one' is an assumption"),
    "age": Source(
        "Normal(50, 11) truncated 25-80; HR 1.1 per decade above 50",
        "Iranian series: mean age 47-50",
        "Iran breast cancer meta-analysis (Iran J Public Health); Tehran surgical cohort "
        "2017-2021 (Pourriahi et al. BMC Womens Health 2023)"),
})
"""One :class:`Source` per population value."""


def linear_predictor(site: np.ndarray, receptor: np.ndarray, her2: np.ndarray, *,
                     age: np.ndarray | None = None, ecog: np.ndarray | None = None,
                     hazard_ratios: Mapping[str, float] = PROGNOSTIC_HR) -> np.ndarray:
    """Prognostic log-hazard ``x'beta`` (treatment excluded) of patients given as arrays of
    levels: ``site`` in :data:`SITES`, ``receptor`` and ``her2`` in {"positive", "negative"},
    optional ``age`` (years; only ages above 50 count) and ``ecog`` (0, 1 or 2).

    ``hazard_ratios`` maps the keys of :data:`PROGNOSTIC_HR` to hazard ratios (a missing key
    counts as 1).
    """
    def log_hr(key: str) -> float:
        v = float(hazard_ratios.get(key, 1.0))
        if not (math.isfinite(v) and v > 0):
            raise ScenarioError(f"hazard ratio {key!r} must be a positive finite number, got {v!r}")
        return math.log(v)

    site = np.asarray(site)
    lp = (log_hr("visceral") * (site == "visceral") + log_hr("soft_tissue") * (site == "soft_tissue")
          + log_hr("hr_negative") * (np.asarray(receptor) == "negative")
          + log_hr("her2_positive") * (np.asarray(her2) == "positive"))
    if ecog is not None:
        lp = lp + log_hr("ecog2") * (np.asarray(ecog) == 2)
    if age is not None:
        lp = lp + log_hr("age_per_decade_above_50") * np.maximum(np.asarray(age, float) - 50.0, 0.0) / 10.0
    return np.asarray(lp, dtype=float)


def factor_strata(site_probs: tuple[float, float, float], p_receptor_positive: float,
                  p_her2_positive: float,
                  hazard_ratios: Mapping[str, float] = PROGNOSTIC_HR) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and linear predictors of the 12 combinations of the minimization factors
    (site x receptor x HER2, drawn independently), in the order site (bone, soft tissue,
    visceral), then receptor (positive, negative), then HER2 (negative, positive)."""
    probs, sites, receptors, her2s = [], [], [], []
    for site, p_s in zip(SITES, site_probs, strict=True):
        for receptor, p_r in (("positive", p_receptor_positive), ("negative", 1 - p_receptor_positive)):
            for her2, p_h in (("negative", 1 - p_her2_positive), ("positive", p_her2_positive)):
                probs.append(p_s * p_r * p_h)
                sites.append(site)
                receptors.append(receptor)
                her2s.append(her2)
    lp = linear_predictor(np.array(sites), np.array(receptors), np.array(her2s), hazard_ratios=hazard_ratios)
    return np.array(probs), lp


def calibrate_baseline(weights: np.ndarray, lp: np.ndarray, survival: float, *,
                       bracket: tuple[float, float] = (-20.0, 10.0)) -> float:
    """Baseline cumulative hazard ``H0`` at the horizon such that the population-averaged
    survival ``sum_x w_x exp(-H0 exp(lp_x))`` equals ``survival``.

    ``weights`` are the probabilities of the covariate patterns (summing to 1), ``lp``
    their linear predictors. Solved on log H0 by Brent's method (xtol 1e-14) within
    ``bracket``. Without prognostic effects (all lp equal to 0) this is ``-ln(survival)``.
    """
    w = np.asarray(weights, dtype=float)
    x = np.asarray(lp, dtype=float)
    if w.shape != x.shape or w.ndim != 1 or w.size == 0:
        raise ScenarioError(f"weights and lp must be 1-d arrays of the same length, got {w.shape} and {x.shape}")
    if np.any(w < 0) or not np.isfinite(w).all() or abs(w.sum() - 1.0) > 1e-9 or not np.isfinite(x).all():
        raise ScenarioError("weights must be non-negative probabilities summing to 1 and lp finite, got "
                         f"sum(weights) = {w.sum()!r}")
    if not is_number(survival) or not 0 < float(survival) < 1:  # "0.6" and True are not numbers
        raise ScenarioError(f"survival must lie strictly between 0 and 1, got {survival!r}")
    ex = np.exp(x)

    def f(log_h: float) -> float:
        return float(np.sum(w * np.exp(-np.exp(log_h) * ex))) - float(survival)

    return float(np.exp(optimize.brentq(f, bracket[0], bracket[1], xtol=1e-14)))
