"""Batched simulation engine for the operating characteristics of NCT04697043.

Thousands of complete trials are generated as arrays (one row per simulated trial), allocated,
followed up and analysed at once: there is no per-trial Python loop. Sequential allocation
(minimization) loops over the 236 *patients*, vectorised over trials. When the optional
``numba`` package is installed, the minimization runs as a compiled per-trial loop instead
(``trialnb.randomization._numba``) and the Cox fits use the compiled kernel of the survival
engine (``trialnb._survival_numba``), with the same numbers.

Three public building blocks:

* :class:`Scenario` -- every assumption of one simulated trial; ``Scenario()`` is the
  protocol's own design (see the class docstring for what "the analysis" means).
* :func:`simulate` -- ``n_trials`` trials of a scenario, analysed by the planned Cox model
  (Wald test of the arm coefficient, minimization factors as covariates) or by the
  log-rank test; returns a :class:`SimulationResult` (power, Monte-Carlo SE, HR estimates,
  events, duration).
* :func:`fit_cox_batch` / :func:`logrank_batch` -- R independent Cox fits (Newton-Raphson,
  Efron ties) or log-rank tests at once: thin wrappers of :func:`trialnb.survival.fit_cox`
  and :func:`trialnb.survival.logrank`, the package's one survival engine.

References
----------
* Efron B. The efficiency of Cox's likelihood function for censored data. JASA 1977;72:557-565
  (tie correction used in the partial likelihood, its score and information).
* Therneau TM, Grambsch PM. Modeling Survival Data. Springer 2000, ch. 3 (Newton-Raphson with
  step halving, as in R's ``coxph``).
* Mantel N. Evaluation of survival data and two new rank order statistics. Cancer Chemother
  Rep 1966;50:163-170 (log-rank statistic with hypergeometric variance).
* Pocock SJ, Simon R. Sequential treatment assignment with balancing for prognostic factors.
  Biometrics 1975;31:103-115 (minimization, range criterion, assignment probability p).
* Schoenfeld DA. The asymptotic properties of nonparametric tests for comparing survival
  distributions. Biometrika 1981;68:316-319 (analytic power used for comparison).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field, fields
from dataclasses import replace as _replace
from typing import Literal

import numpy as np
from scipy import stats

from .population import FACTOR_FREQUENCIES, PROGNOSTIC_HR, calibrate_baseline, factor_strata
from ._deprecation import renamed_fields
from .errors import ScenarioError
from .results import Result
from .protocol import PROTOCOL
from .randomization.batched import minimization_batched
from .sample_size import expected_events, schoenfeld_power, split_events_power
from .survival import HAVE_NUMBA, CoxResult, LogrankResult, fit_cox, logrank
from .validation import (check_choice, check_int, check_nonnegative, check_positive, check_probability,
                         check_real, check_seed)
from .fastsim_analyses import ANALYSES, RequiredPatients, analyse_trials, check_analyses, required_patients

"""Whether the numba engine is available (``engine="auto"`` then uses it for Cox fits)."""

__all__ = [
    "TrialData",
    "COVARIATE_NAMES",
    "REFERENCE_PROGNOSIS",
    "CoxBatchResult",
    "LogrankBatchResult",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "fit_cox_batch",
    "logrank_batch",
    "schoenfeld_power",
    "simulate",
    "simulate_data",
    "ANALYSES",
    "RequiredPatients",
    "required_patients",
    "expected_events",
    "split_events_power",
]

COVARIATE_NAMES: tuple[str, ...] = ("arm_A", "soft_tissue", "visceral", "hr_negative", "her2_positive")
"""Columns of the planned Cox model: arm (A = 1, B = 0) and the minimization factors as dummies
(reference: bone-dominant, hormone-receptor positive, HER2 negative)."""

REFERENCE_PROGNOSIS: dict[str, float] = {
    "hr_visceral": PROGNOSTIC_HR["visceral"],
    "hr_soft_tissue": PROGNOSTIC_HR["soft_tissue"],
    "hr_hr_negative": PROGNOSTIC_HR["hr_negative"],
    "hr_her2_positive": PROGNOSTIC_HR["her2_positive"],
}
"""Prognostic hazard ratios suggested for simulation (:data:`trialnb.population.PROGNOSTIC_HR`,
``references/clinical_evidence.md`` section 5): visceral vs bone 1.6, soft tissue vs
bone 1.1, HR-negative vs positive 2.0, HER2-positive vs negative 0.8 (anti-HER2 era).
Use ``dataclasses.replace(Scenario(), **REFERENCE_PROGNOSIS)``."""

_CHUNK = 2000  # trials per chunk: the Cox arrays of one chunk take ~60 MB


Allocation = Literal["minimization", "blocks", "complete"]
FollowUp = Literal["fixed", "to_cutoff"]
Analysis = Literal["cox", "logrank"]


@renamed_fields({"loss_to_follow_up": "dropout_probability"})
@dataclass(frozen=True)
class Scenario:
    """Every assumption of one simulated trial (times in months).

    ``Scenario()`` is the protocol's design (``trialnb.protocol.PROTOCOL.design``): 236
    patients (118 per arm), 1:1 allocation by minimization on the three factors, uniform
    accrual over 36 months, exponential survival with control 2-year survival 0.60, hazard
    ratio 0.50 (arm A vs B) from randomization on, 10% drop-out by 2 years, no
    non-compliance, no crossover, and no prognostic effect of the factors (the protocol's
    calculation assumes one homogeneous exponential population; use
    :data:`REFERENCE_PROGNOSIS` for realistic factor effects).

    **What "the analysis" means.** The primary endpoint is 2-year survival analysed by Cox
    regression. With ``follow_up="fixed"`` (default) every patient is followed from
    randomization until death, loss to follow-up or ``horizon_months`` (24), whichever comes
    first: the observed time is ``min(T_death, T_loss, 24)``. The data cut-off is when the
    last patient reaches 24 months, so the study duration is ``last entry + 24`` months
    (about 60 months). With ``follow_up="to_cutoff"`` the cut-off is the same calendar date
    but every patient contributes all follow-up up to it (early patients up to ~60 months),
    i.e. ``min(T_death, T_loss, cutoff - entry)``. With ``target_events`` set the analysis is
    event-driven instead: the cut-off is the calendar date of the ``target_events``-th death
    (follow-up to cut-off; patients not yet enrolled then are not in the analysis).

    Options:

    * ``control_survival``: 2-year survival of the control arm (B), i.e. its survival at
      ``horizon_months`` (24), averaged over the factor distribution (the same name and
      meaning as in :class:`trialnb.simulation.TrialScenario`); ``hazard_ratio``: hazard
      ratio of arm A vs arm B once the surgery effect acts.
    * ``allocation``: ``"minimization"`` (Pocock-Simon range criterion on the three factors;
      the arm that minimizes imbalance is taken with probability ``minimization_p``, ties
      1/2; the protocol does not state p, 0.8 is assumed), ``"blocks"`` (permuted blocks of
      ``block_size``, unstratified) or ``"complete"`` (fair coin).
    * ``accrual_shape``: accrual fraction by time t is ``(t / accrual_months) ** shape``
      (1 uniform; > 1 slow start).
    * ``dropout_probability``: probability of being lost to follow-up by ``horizon_months``
      (exponential drop-out, independent of arm; the same name and meaning as in
      :class:`trialnb.simulation.TrialScenario`). The default reads the protocol's 10% loss
      (``PROTOCOL.design.loss_to_follow_up``, which the protocol uses to inflate N) as a 10%
      drop-out probability by 2 years. ``loss_to_follow_up`` is the package's name for the
      N-inflation fraction only (:mod:`trialnb.sample_size`); as a keyword of ``Scenario`` it
      is a deprecated alias of ``dropout_probability`` (with a DeprecationWarning).
    * ``non_compliance``: fraction of arm A never operated (their hazard stays the control
      hazard; analysed in arm A: intention to treat).
    * ``crossover``, ``crossover_months``: fraction of arm B operated (for local progression)
      and the time from randomization of that surgery; from then on they get the surgery effect.
    * ``effect_delay_months``: the surgery effect (hazard ratio) only starts this long after
      surgery (piecewise-constant hazard ratio: 1, then ``hazard_ratio``).
    * ``early_hazard_ratio``, ``early_months``: an early period after surgery with its own
      hazard ratio (perioperative harm: > 1); the operated patient's hazard ratio is then
      ``early_hazard_ratio`` for ``early_months``, 1 until ``effect_delay_months`` (if later)
      and ``hazard_ratio`` after. Shapes: proportional (defaults), delayed benefit
      (``effect_delay_months``), early harm then benefit (``early_hazard_ratio`` > 1,
      ``early_months`` > 0), crossing survival curves (a larger or longer early harm).
    * factor frequencies ``p_soft_tissue``, ``p_visceral`` (bone = the rest),
      ``p_hr_positive``, ``p_her2_positive`` (defaults 0.10 / 0.45 / 0.75 / 0.25 from the
      evidence file, section 3) and prognostic hazard ratios ``hr_*`` (default 1). The
      baseline hazard is calibrated so that the *control arm as a whole* has 2-year survival
      ``control_survival`` whatever the factor effects.
    """

    n_patients: int = PROTOCOL.stated.n_per_arm_after_loss * 2
    allocation: Allocation = "minimization"
    minimization_p: float = 0.8
    block_size: int = 4
    accrual_months: float = PROTOCOL.design.accrual_months
    accrual_shape: float = 1.0
    control_survival: float = PROTOCOL.design.control_survival
    horizon_months: float = PROTOCOL.primary_analysis.censor_months or PROTOCOL.design.horizon_months
    hazard_ratio: float = PROTOCOL.design.hazard_ratio
    effect_delay_months: float = 0.0
    early_hazard_ratio: float = 1.0
    early_months: float = 0.0
    dropout_probability: float = PROTOCOL.design.loss_to_follow_up
    non_compliance: float = 0.0
    crossover: float = 0.0
    crossover_months: float = 6.0
    follow_up: FollowUp = PROTOCOL.primary_analysis.follow_up  # type: ignore[assignment]
    target_events: int | None = None
    alpha: float = PROTOCOL.design.alpha
    p_soft_tissue: float = FACTOR_FREQUENCIES["dominant_site"]["soft_tissue"]
    p_visceral: float = FACTOR_FREQUENCIES["dominant_site"]["visceral"]
    p_hr_positive: float = FACTOR_FREQUENCIES["hormone_receptor"]["positive"]
    p_her2_positive: float = FACTOR_FREQUENCIES["her2"]["positive"]
    hr_soft_tissue: float = 1.0
    hr_visceral: float = 1.0
    hr_hr_negative: float = 1.0
    hr_her2_positive: float = 1.0

    def __post_init__(self) -> None:
        err = ScenarioError
        check_int(self.n_patients, "n_patients", minimum=4, error=err)
        check_choice(self.allocation, "allocation", ("minimization", "blocks", "complete"), error=err)
        check_choice(self.follow_up, "follow_up", ("fixed", "to_cutoff"), error=err)
        check_real(self.minimization_p, "minimization_p", lo=0.5, hi=1.0, error=err)
        if check_int(self.block_size, "block_size", minimum=2, error=err) % 2:
            raise ScenarioError(f"block_size must be an even integer >= 2, got {self.block_size!r}")
        for name in ("accrual_months", "accrual_shape", "horizon_months", "hazard_ratio", "early_hazard_ratio",
                     "hr_soft_tissue", "hr_visceral", "hr_hr_negative", "hr_her2_positive"):
            check_positive(getattr(self, name), name, error=err)
        for name in ("effect_delay_months", "crossover_months", "early_months"):
            check_nonnegative(getattr(self, name), name, error=err)
        for name in ("control_survival", "alpha"):
            check_probability(getattr(self, name), name, lo_open=True, hi_open=True, error=err)
        check_probability(self.dropout_probability, "dropout_probability", lo_open=False, hi_open=True, error=err)
        for name in ("non_compliance", "crossover", "p_soft_tissue", "p_visceral",
                     "p_hr_positive", "p_her2_positive"):
            check_probability(getattr(self, name), name, lo_open=False, hi_open=False, error=err)
        if self.p_soft_tissue + self.p_visceral > 1 + 1e-12:
            raise ScenarioError(
                "p_soft_tissue + p_visceral must be <= 1 (bone takes the rest), got "
                f"{self.p_soft_tissue + self.p_visceral}"
            )
        if self.target_events is not None:  # None: analysis at the fixed horizon
            check_int(self.target_events, "target_events", minimum=1, maximum=self.n_patients, error=err)

    # ---- derived quantities -------------------------------------------------------------
    @property
    def site_probs(self) -> tuple[float, float, float]:
        """(bone, soft_tissue, visceral) probabilities."""
        return (1.0 - self.p_soft_tissue - self.p_visceral, self.p_soft_tissue, self.p_visceral)

    @property
    def dropout_rate(self) -> float:
        """Exponential drop-out hazard per month: -ln(1 - dropout_probability) / horizon."""
        return -math.log1p(-self.dropout_probability) / self.horizon_months

    def _strata_lp(self) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and linear predictors of the 12 factor combinations
        (:func:`trialnb.population.factor_strata`)."""
        return factor_strata(self.site_probs, self.p_hr_positive, self.p_her2_positive,
                             {"soft_tissue": self.hr_soft_tissue, "visceral": self.hr_visceral,
                              "hr_negative": self.hr_hr_negative, "her2_positive": self.hr_her2_positive})

    @property
    def baseline_hazard(self) -> float:
        """Monthly hazard of a control patient in the reference stratum (bone, HR+, HER2-),
        calibrated so that the control arm's marginal survival at the horizon is
        ``control_survival``: solve sum_s p_s exp(-lambda0 e^{lp_s} h) = S0 (exponential in
        each stratum; :func:`trialnb.population.calibrate_baseline`). Without factor effects
        this is -ln(S0) / h."""
        ps, lp = self._strata_lp()
        h = self.horizon_months
        if np.allclose(lp, 0.0):
            return -math.log(self.control_survival) / h
        return calibrate_baseline(ps, lp, self.control_survival) / h

    @property
    def is_null(self) -> bool:
        """True when arm A and arm B have the same survival distribution (HR = 1 and no early
        period with another hazard ratio)."""
        return self.hazard_ratio == 1.0 and (self.early_hazard_ratio == 1.0 or self.early_months == 0.0)

    def describe(self) -> str:
        """One line per assumption that differs from the protocol design."""
        base = Scenario()
        diffs = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                 if getattr(self, f.name) != getattr(base, f.name)]
        return "protocol design" + ("" if not diffs else " with " + ", ".join(diffs))


# ======================================================================================
# Cox model and log-rank test: thin wrappers of the survival engine
# ======================================================================================

CoxBatchResult = CoxResult
"""Old name of :class:`trialnb.survival.CoxResult` (kept for notebooks that import it)."""

LogrankBatchResult = LogrankResult
"""Old name of :class:`trialnb.survival.LogrankResult` (``statistic`` is its ``chisq``)."""


def _batched(a: np.ndarray, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    return a[None] if a.ndim == ndim - 1 else a


def fit_cox_batch(time: np.ndarray, event: np.ndarray, covariates: np.ndarray, *,
                  max_iter: int = 20, tol: float = 1e-9, chunk: int = _CHUNK,
                  engine: Literal["auto", "numpy", "numba"] = "auto") -> CoxResult:
    """R independent Cox fits (Efron ties): :func:`trialnb.survival.fit_cox` with the results
    always batched, shape (R, p) (a single data set is taken as R = 1), and only the usable
    estimates kept, as the simulations count them: a coefficient R flags "may be infinite"
    (monotone likelihood: an arm or a covariate level without deaths) has NaN coef and se,
    the other coefficients of that fit stay (``infinite`` says which were flagged); a fit
    whose log-likelihood did not converge in ``max_iter`` (R ``iter.max``) iterations has NaN
    coef and se and ``converged`` False. So a trial with a finite arm coefficient is analysed
    with its arm z even when a nuisance coefficient is infinite; one whose arm coefficient is
    infinite has a NaN arm z (a failed analysis: counted, never "rejected")."""
    t = np.asarray(time)
    if t.ndim == 1:
        X = np.asarray(covariates, dtype=float)
        covariates = X[None, :, None] if X.ndim == 1 else _batched(X, 3)
    fit = fit_cox(_batched(time, 2), _batched(event, 2), covariates, max_iter=max_iter, tol=tol,
                  chunk=chunk, engine=engine)
    drop = fit.infinite | ~fit.converged[:, None]
    return _replace(fit, coef=np.where(drop, np.nan, fit.coef), se=np.where(drop, np.nan, fit.se),
                               cov=np.where(drop[:, :, None] | drop[:, None, :], np.nan, fit.cov))


def logrank_batch(time: np.ndarray, event: np.ndarray, group: np.ndarray, *,
                  chunk: int = 5000) -> LogrankResult:
    """R two-sample log-rank tests at once: :func:`trialnb.survival.logrank` with the results
    always batched, shape (R,)."""
    return logrank(_batched(time, 2), _batched(event, 2), _batched(group, 2), chunk=chunk)


# ======================================================================================
# Trial generation
# ======================================================================================


def _allocate(sc: Scenario, site: np.ndarray, hrneg: np.ndarray, her2: np.ndarray,
              rng: np.random.Generator, use_numba: bool | None = None) -> np.ndarray:
    """Arm indicator (1 = A) of shape (R, n), patients in order of arrival."""
    R, n = site.shape
    if sc.allocation == "complete":
        return (rng.random((R, n)) < 0.5).astype(np.int8)
    if sc.allocation == "blocks":
        b = sc.block_size
        nb = -(-n // b)
        ranks = np.argsort(rng.random((R, nb, b)), axis=2)
        return (ranks < b // 2).reshape(R, nb * b)[:, :n].astype(np.int8)
    # Pocock-Simon minimization (range criterion) on the three factors, batched over trials
    cols = np.stack([site, 3 + hrneg, 5 + her2], axis=2).astype(np.intp)  # level columns 0..6
    return minimization_batched(cols, rng.random((R, n)), sc.minimization_p, n_levels=7, use_numba=use_numba)


@dataclass(frozen=True)
class TrialData:
    """One chunk of simulated trials, arrays of shape (R, n): follow-up, events, arm (1 = A),
    the minimization factors (site 0 bone / 1 soft tissue / 2 visceral, receptor negative,
    HER2 positive), entry and study duration; ``covariates`` (R, n, 5) is the planned Cox
    model's design matrix (:data:`COVARIATE_NAMES`), built on first use (log-rank analyses
    never need it)."""

    time: np.ndarray
    event: np.ndarray
    arm: np.ndarray
    site: np.ndarray
    hr_negative: np.ndarray
    her2_positive: np.ndarray
    entry: np.ndarray
    duration: np.ndarray

    @functools.cached_property
    def covariates(self) -> np.ndarray:
        """Design matrix of the planned Cox model, shape (R, n, 5): arm, soft tissue, visceral,
        receptor negative, HER2 positive."""
        s = self.site
        return np.stack([self.arm, s == 1, s == 2, self.hr_negative, self.her2_positive], axis=2).astype(float)


def simulate_data(scenario: Scenario, n_trials: int, rng: np.random.Generator) -> TrialData:
    """Generate ``n_trials`` trials of ``scenario`` as arrays (no analysis)."""
    sc = scenario
    R, n = n_trials, sc.n_patients
    u = rng.random((R, n))
    bone, soft, _ = sc.site_probs
    site = (u >= bone).astype(np.int8)  # 0 bone, 1 soft tissue, 2 visceral
    site += u >= bone + soft
    hrneg = (rng.random((R, n)) >= sc.p_hr_positive).astype(np.int8)
    her2 = (rng.random((R, n)) < sc.p_her2_positive).astype(np.int8)
    arm = _allocate(sc, site, hrneg, her2, rng)
    entry = sc.accrual_months * np.sort(rng.random((R, n)), axis=1) ** (1.0 / sc.accrual_shape)

    lp = (np.log(sc.hr_soft_tissue) * (site == 1) + np.log(sc.hr_visceral) * (site == 2)
          + np.log(sc.hr_hr_negative) * hrneg + np.log(sc.hr_her2_positive) * her2)
    lam = sc.baseline_hazard * np.exp(lp)
    # Who gets the surgery effect, and from when (piecewise-constant hazard ratio 1 -> HR).
    operated_a = (arm == 1) & (rng.random((R, n)) >= sc.non_compliance)
    operated_b = (arm == 0) & (rng.random((R, n)) < sc.crossover)
    change = np.where(operated_b, sc.crossover_months, 0.0) + sc.effect_delay_months
    ratio = np.where(operated_a | operated_b, sc.hazard_ratio, 1.0)
    E = rng.standard_exponential((R, n))
    H_change = lam * change
    t_death = np.where(E < H_change, E / lam, change + (E - H_change) / (lam * ratio))
    if sc.early_months > 0 and sc.early_hazard_ratio != 1.0:
        t_death = _early_period_times(sc, lam, E, operated_a, operated_b)
    if sc.dropout_probability > 0:
        t_loss = rng.standard_exponential((R, n)) / sc.dropout_rate
    else:
        t_loss = np.full((R, n), np.inf)

    last_entry = entry[:, -1]
    if sc.target_events is not None:
        cal = np.where(t_death <= t_loss, entry + t_death, np.inf)
        k = sc.target_events
        cutoff = np.partition(cal, k - 1, axis=1)[:, k - 1]
        fallback = last_entry + 10 * sc.horizon_months  # never reached: follow 10 horizons
        cutoff = np.where(np.isfinite(cutoff), cutoff, fallback)
        admin = np.clip(cutoff[:, None] - entry, 0.0, None)
        duration = cutoff
    else:
        duration = last_entry + sc.horizon_months
        if sc.follow_up == "fixed":
            admin = np.full((R, n), sc.horizon_months)
        else:
            admin = duration[:, None] - entry
    if sc.target_events is not None:  # compare on the calendar scale: no round-off at the cut
        seen = entry + t_death <= cutoff[:, None]
    else:
        seen = t_death <= admin
    event = (t_death <= t_loss) & seen & (admin > 0)
    time = np.where(event, t_death, np.minimum(t_loss, admin))
    event = event.astype(np.int8)
    return TrialData(time=time, event=event, arm=arm, site=site, hr_negative=hrneg, her2_positive=her2,
                     entry=entry, duration=duration)


def _early_period_times(sc: Scenario, lam: np.ndarray, E: np.ndarray, operated_a: np.ndarray,
                        operated_b: np.ndarray) -> np.ndarray:
    """Death times by inverting the piecewise-constant cumulative hazard of an operated
    patient (surgery at s: 0 in arm A, ``crossover_months`` in arm B): multiplier 1 on [0, s),
    ``early_hazard_ratio`` on [s, s + early), 1 on [s + early, s + max(early, delay)),
    ``hazard_ratio`` after; not operated: 1 throughout (T = E / lambda)."""
    op = operated_a | operated_b
    b1 = np.where(operated_b, sc.crossover_months, 0.0)
    b2 = b1 + sc.early_months
    b3 = b1 + max(sc.early_months, sc.effect_delay_months)
    e_r = np.where(op, sc.early_hazard_ratio, 1.0)
    h_r = np.where(op, sc.hazard_ratio, 1.0)
    H1 = lam * b1
    H2 = H1 + lam * e_r * (b2 - b1)
    H3 = H2 + lam * (b3 - b2)
    t = np.where(E < H1, E / lam,
                 np.where(E < H2, b1 + (E - H1) / (lam * e_r),
                          np.where(E < H3, b2 + (E - H2) / lam, b3 + (E - H3) / (lam * h_r))))
    return np.where(op, t, E / lam)


# ======================================================================================
# Simulation driver and result
# ======================================================================================


@dataclass(frozen=True)
class SimulationResult(Result):
    """Operating characteristics of a scenario from ``n_trials`` simulated trials.

    ``events_a``: deaths in arm A per trial. ``reject``: two-sided test at ``scenario.alpha``
    rejected (False for a failed analysis); ``z``: Wald (Cox, arm
    coefficient) or log-rank z (negative favours arm A); ``hr``: estimated HR A vs B (Cox
    exp(coef) or the Peto log-rank estimate); ``events`` and ``duration`` (months, data
    cut-off since the first randomization) per trial; ``converged`` per trial: False when
    the analysis failed (NaN z and HR, never HR 1): for the Cox analysis, a fit whose
    log-likelihood did not converge or whose ARM coefficient R flags "may be infinite" (an
    arm without deaths); a fit with an infinite NUISANCE coefficient (a factor level without
    deaths) but a finite arm coefficient is a valid analysis with its arm z (as R ``coxph``).
    :attr:`power` is computed over the successful analyses; :attr:`n_failed` counts the rest.
    """

    scenario: Scenario
    analysis: str
    n_trials: int
    seed: int
    reject: np.ndarray
    z: np.ndarray
    hr: np.ndarray
    events: np.ndarray
    duration: np.ndarray
    converged: np.ndarray = field(repr=False)
    events_a: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    by_analysis: dict = field(default_factory=dict, repr=False)  # name -> (reject, converged)

    @property
    def power_by_analysis(self) -> dict[str, float]:
        """Rejection rate (two-sided, ``scenario.alpha``) of each analysis applied to these same
        trials, over its successful analyses (``simulate(..., analysis=[...])``)."""
        out = {self.analysis: self.power}
        for name, (rej, ok) in self.by_analysis.items():
            out[name] = float(rej[ok].mean()) if ok.any() else math.nan
        return out

    @property
    def power_se_by_analysis(self) -> dict[str, float]:
        """Monte-Carlo SE sqrt(p (1 - p) / n_analysed) of each entry of :attr:`power_by_analysis`."""
        n_ok = {self.analysis: self.n_analysed} | {k: int(ok.sum()) for k, (_, ok) in self.by_analysis.items()}
        return {k: math.sqrt(p * (1 - p) / n_ok[k]) if n_ok[k] else math.nan
                for k, p in self.power_by_analysis.items()}

    def to_frame(self):
        """The operating characteristics, one row per analysis (:meth:`power_table`)."""
        return self.power_table()

    def power_table(self):
        """DataFrame: analysis, power (or type-I error), MC SE, failed analyses."""
        import pandas as pd

        se = self.power_se_by_analysis
        failed = {self.analysis: self.n_failed} | {k: int((~ok).sum()) for k, (_, ok) in self.by_analysis.items()}
        return pd.DataFrame({"analysis": list(se), "power": list(self.power_by_analysis.values()),
                             "mc_se": list(se.values()), "failed": [failed[k] for k in se]})

    @property
    def n_failed(self) -> int:
        """Trials whose analysis failed (Cox fit not converged or with an infinite or singular
        arm coefficient, log-rank with no deaths): their z and HR are NaN and they are left
        out of :attr:`power` (none of them rejects)."""
        return int((~self.converged).sum())

    @property
    def failed_fraction(self) -> float:
        """``n_failed / n_trials``."""
        return self.n_failed / self.n_trials

    @property
    def n_analysed(self) -> int:
        """Trials with a successful analysis (the denominator of :attr:`power`)."""
        return self.n_trials - self.n_failed

    @property
    def power(self) -> float:
        """Fraction of the successfully analysed trials rejecting H0 (two-sided); NaN when
        none succeeded. Under HR = 1 it is the type-I error."""
        ok = self.converged
        return float(self.reject[ok].mean()) if ok.any() else math.nan

    @property
    def power_se(self) -> float:
        """Monte-Carlo standard error sqrt(p (1 - p) / n_analysed)."""
        p = self.power
        return math.sqrt(p * (1 - p) / self.n_analysed) if self.n_analysed else math.nan

    @property
    def power_favouring_a(self) -> float:
        """Fraction of the successfully analysed trials rejecting with the estimate favouring
        arm A (z < 0)."""
        ok = self.converged
        return float((self.reject & (self.z < 0))[ok].mean()) if ok.any() else math.nan

    @property
    def mean_events(self) -> float:
        return float(self.events.mean())

    @property
    def mean_duration(self) -> float:
        return float(self.duration.mean())

    @property
    def median_hr(self) -> float:
        return float(np.nanmedian(self.hr))

    @property
    def n_not_converged(self) -> int:
        """Old name of :attr:`n_failed`."""
        return self.n_failed

    @property
    def type_one_error_ok(self) -> bool | None:
        """Under the null: is the rejection rate within 2.576 MC SE (computed at alpha) of
        alpha? ``None`` when the scenario is not null."""
        if not self.scenario.is_null:
            return None
        a = self.scenario.alpha
        return abs(self.power - a) <= 2.576 * math.sqrt(a * (1 - a) / max(self.n_analysed, 1))

    def summary(self) -> str:
        """A short plain-text report (numbers formatted by :mod:`trialnb.report`)."""
        from .report import fmt_hr, fmt_months, fmt_n, fmt_num, fmt_pct

        label = "type-I error" if self.scenario.is_null else "power"
        lines = [
            f"{fmt_n(self.n_trials)} simulated trials, {self.analysis} analysis, seed {self.seed}",
            f"scenario: {self.scenario.describe()}",
            f"{label}: {fmt_pct(self.power)} (MC SE {fmt_pct(self.power_se)})"
            + ("" if not self.n_failed else f", over the {fmt_n(self.n_analysed)} successful analyses"),
            f"median estimated HR (A vs B): {fmt_hr(self.median_hr)}",
            f"mean events: {fmt_num(self.mean_events, 1)}; mean duration: {fmt_months(self.mean_duration)}",
        ]
        if self.scenario.is_null:
            verdict = "within" if self.type_one_error_ok else "OUTSIDE"
            lines.append(
                f"HR = 1: this is the type-I error; {verdict} 99% Monte-Carlo limits of "
                f"alpha = {fmt_pct(self.scenario.alpha)}"
            )
        if self.n_failed:
            why = ("Cox fits whose arm coefficient may be infinite (monotone likelihood: an arm "
                   "without deaths) or that did not converge" if self.analysis == "cox"
                   else "trials without deaths")
            lines.append(f"failed analyses (no estimate; left out of the {label}): {fmt_n(self.n_failed)} "
                         f"({fmt_pct(self.failed_fraction)}) - {why}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"SimulationResult(\n  " + self.summary().replace("\n", "\n  ") + "\n)"


def _check_run(n_trials: object, seed: object, analysis: object, engine: object) -> None:
    """The arguments every simulation entry point shares (also used by :mod:`trialnb.sequential_sim`);
    ``analysis=None`` leaves the analysis to the caller's own check."""
    check_int(n_trials, "n_trials", minimum=1)
    check_seed(seed)
    if analysis is not None:
        check_choice(analysis, "analysis", ("cox", "logrank"))
    check_choice(engine, "engine", ("auto", "numpy", "numba"))


def simulate(scenario: Scenario | None = None, n_trials: int = 1000, seed: int = 0,
             analysis: Analysis | str | list[str] = "cox",
             engine: Literal["auto", "numpy", "numba"] = "auto", design=None):
    """Simulate and analyse ``n_trials`` trials of ``scenario`` (default: the protocol).

    With a group-sequential ``design`` (``trialnb.monitoring.design(...)`` or a
    ``trialnb.sequential_sim.Boundaries``) and ``Scenario(target_events=...)``, every trial is
    analysed at each interim look and stops at the first boundary crossed: this delegates to
    :func:`trialnb.sequential_sim.simulate_sequential` and returns its ``SequentialResult``.

    ``analysis="cox"``: the planned analysis, a Cox model with arm and the minimization
    factors (5 columns, :data:`COVARIATE_NAMES`), Wald test of the arm coefficient.
    ``analysis="logrank"``: unstratified log-rank test. Rejection is two-sided at
    ``scenario.alpha``. A list among :data:`ANALYSES` ("cox", "logrank", "fh01", "maxcombo",
    "rmst", "milestone"; :mod:`trialnb.fastsim_analyses`) analyses the same trials with each:
    the first gives ``reject``/``z``/``power``, all are in ``power_by_analysis``.
    Deterministic given ``seed`` (chunks of 2,000 trials each use
    their own child seed of ``numpy.random.SeedSequence(seed)``). ``engine`` is passed to
    :func:`fit_cox_batch` (both engines give the same estimates to rounding error).
    """
    sc = Scenario() if scenario is None else scenario
    if design is not None:
        from .sequential_sim import simulate_sequential
        return simulate_sequential(sc, design, n_trials, seed, analysis, engine)
    if not isinstance(sc, Scenario):
        raise ValueError(f"scenario must be a Scenario, got {type(sc).__name__}")
    names = check_analyses(analysis)
    analysis = names[0]
    extra: dict[str, list] = {a: [] for a in names[1:]}
    _check_run(n_trials, seed, None, engine)
    n_chunks = -(-int(n_trials) // _CHUNK)
    children = np.random.SeedSequence(int(seed)).spawn(n_chunks)
    zcrit = stats.norm.isf(sc.alpha / 2)
    zs, hrs, evs, durs, convs, eva, rejs = [], [], [], [], [], [], []
    for k in range(n_chunks):
        m = min(_CHUNK, n_trials - k * _CHUNK)
        data = simulate_data(sc, m, np.random.default_rng(children[k]))
        if analysis == "cox":
            fit = fit_cox_batch(data.time, data.event, data.covariates, engine=engine)
            z = fit.coef[:, 0] / fit.se[:, 0]
            hr = np.exp(fit.coef[:, 0])
            conv = np.isfinite(z)  # converged, arm coefficient finite (a nuisance may be infinite)
        else:
            lr = logrank_batch(data.time, data.event, data.arm)
            z, hr = lr.z, lr.hr
            conv = np.isfinite(z)
        more = analyse_trials(data.time, data.event, data.arm, [a for a in names if a != "cox"],
                              sc.alpha, sc.horizon_months, engine) if len(names) > 1 or analysis not in ("cox", "logrank") else {}
        if analysis not in ("cox", "logrank"):
            z, conv = more[analysis][0], more[analysis][2]
        rejs.append(more[analysis][1] if analysis not in ("cox", "logrank") else np.abs(np.nan_to_num(z)) > zcrit)
        if "cox" in extra:
            fit = fit_cox_batch(data.time, data.event, data.covariates, engine=engine)
            zc = fit.coef[:, 0] / fit.se[:, 0]
            more["cox"] = (zc, np.isfinite(zc) & (np.abs(np.nan_to_num(zc)) > zcrit), np.isfinite(zc))
        for a in extra:
            extra[a].append(more[a])
        zs.append(z)
        hrs.append(hr)
        evs.append(data.event.sum(axis=1))
        eva.append((data.event * data.arm).sum(axis=1))
        durs.append(data.duration)
        convs.append(conv)
    z = np.concatenate(zs)
    return SimulationResult(
        scenario=sc, analysis=analysis, n_trials=int(n_trials), seed=int(seed),
        reject=np.concatenate(rejs), z=z, hr=np.concatenate(hrs),
        events=np.concatenate(evs), duration=np.concatenate(durs), converged=np.concatenate(convs),
        events_a=np.concatenate(eva),
        by_analysis={a: (np.concatenate([v[1] for v in vs]), np.concatenate([v[2] for v in vs]))
                     for a, vs in extra.items()},
    )
