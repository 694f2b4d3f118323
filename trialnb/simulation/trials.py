"""Simulated trials of a plan's design, as arrays: thousands at once, cut at any calendar date.

:func:`simulate_trials` draws R complete trials of ``plan.design``
(:class:`trialnb.plan.DesignAssumptions`) as (R, n) arrays -- no per-trial Python loop. Each
patient has a calendar entry date, a latent death time and a latent loss-to-follow-up time
(months from randomization), the arm and the three minimization factors. What an analysis
sees is a *cut* of these latent times (:func:`cut`): at calendar month c, with follow-up
censored at ``censor_months`` h, a patient randomized by c is followed to
``min(T_death, T_loss, c - entry, h)`` and has an event when the death comes first. The looks
of a monitoring plan and the final analysis are cuts of the same trials.

The model (every assumption a field of the design):

* factors drawn independently with the design's frequencies; allocation by Pocock-Simon
  minimization on the three factors (batched over trials, :func:`trialnb.randomization.
  minimization_batched`), permuted blocks or a fair coin; entry
  ``accrual_months * U_(i) ** (1 / accrual_shape)`` from sorted uniforms;
* exponential survival within each factor stratum, hazard ``lambda0 exp(lp)`` with the
  baseline calibrated so that arm B as a whole has ``control_survival`` at ``horizon_months``
  (:attr:`trialnb.plan.DesignAssumptions.baseline_hazard`); an operated patient's hazard is
  multiplied by a piecewise-constant hazard ratio from surgery on (arm A at randomization
  unless among the ``non_compliance`` never operated; arm B at ``crossover_months`` for the
  ``crossover`` fraction): ``early_hazard_ratio`` for ``early_months``, 1 until
  ``effect_delay_months``, ``hazard_ratio`` after; death times by inverting the cumulative
  hazard (Bender, Augustin & Blettner, Stat Med 2005;24:1713-1723);
* exponential loss to follow-up with probability ``dropout_probability`` by ``horizon_months``;
* who is not operated in arm A and who crosses over in arm B is random (the design's fractions)
  or, with ``non_compliance_selection`` / ``crossover_selection`` (:func:`simulate_trials`),
  depends on the patient's prognosis (:func:`trialnb.simulation.truth.selected_probability`:
  the world of the supplementary estimands, notebook 07).

The random numbers are drawn in a fixed order (site, receptor, HER2, allocation, entry,
non-compliance, crossover, death, loss), which the compiled trial generator of
:mod:`trialnb.simulation.sequential` reproduces bit for bit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..compiled import use_compiled
from ..errors import ScenarioError
from ..plan import FACTOR_NAMES, DesignAssumptions
from ..randomization.batched import minimization_batched
from ..validation import check_int, check_real, check_real_array, check_rng
from .truth import selected_probability

__all__ = ["COVARIATE_COLUMNS", "TrialData", "covariate_names", "cut", "primary_death_dates", "simulate_trials"]

COVARIATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "dominant_site": ("soft_tissue", "visceral"),
    "hormone_receptor": ("hr_negative",),
    "her2": ("her2_positive",),
}
"""Dummy columns of each minimization factor in a Cox model (treatment contrasts; references:
bone-dominant, hormone-receptor positive, HER2 negative)."""


def covariate_names(covariates: tuple[str, ...]) -> tuple[str, ...]:
    """Column names of the Cox model with arm and the factors ``covariates``: ``arm_A`` first."""
    return ("arm_A",) + tuple(c for f in FACTOR_NAMES if f in covariates for c in COVARIATE_COLUMNS[f])


@dataclass(frozen=True)
class TrialData:
    """R simulated trials of n patients, arrays of shape (R, n), patients in order of entry:
    ``entry`` (calendar month of randomization), ``t_death`` and ``t_loss`` (latent months from
    randomization to death and to loss to follow-up; inf when never), ``arm`` (1 = A), ``site``
    (0 bone / 1 soft tissue / 2 visceral), ``hr_negative``, ``her2_positive``, and
    ``surgery_month`` (latent month of surgery: 0 for an operated arm-A patient,
    ``crossover_months`` for an arm-B patient who crosses over, inf otherwise; an operation
    after death or loss did not happen; None for data built without it)."""

    entry: np.ndarray
    t_death: np.ndarray
    t_loss: np.ndarray
    arm: np.ndarray
    site: np.ndarray
    hr_negative: np.ndarray
    her2_positive: np.ndarray
    surgery_month: np.ndarray | None = None

    @property
    def n_trials(self) -> int:
        return int(self.entry.shape[0])

    @property
    def n_patients(self) -> int:
        return int(self.entry.shape[1])

    def take(self, rows: np.ndarray | slice) -> "TrialData":
        """The trials ``rows`` (an index or boolean array, or a slice)."""
        return TrialData(self.entry[rows], self.t_death[rows], self.t_loss[rows], self.arm[rows], self.site[rows],
                         self.hr_negative[rows], self.her2_positive[rows],
                         surgery_month=None if self.surgery_month is None else self.surgery_month[rows])

    @functools.cached_property
    def _factor_columns(self) -> dict[str, np.ndarray]:
        s = self.site
        return {"soft_tissue": s == 1, "visceral": s == 2, "hr_negative": self.hr_negative == 1,
                "her2_positive": self.her2_positive == 1}

    def covariates(self, factors: tuple[str, ...] = FACTOR_NAMES) -> np.ndarray:
        """Design matrix (R, n, p) of a Cox model with arm and the minimization factors ``factors``
        (columns :func:`covariate_names`)."""
        cols = [self.arm.astype(float)] + [self._factor_columns[c].astype(float)
                                           for c in covariate_names(factors)[1:]]
        return np.stack(cols, axis=2)

    def strata(self, factors: tuple[str, ...] = FACTOR_NAMES) -> np.ndarray | None:
        """Stratum label (R, n) of each patient by the factors ``factors`` (None for no factor)."""
        codes = {"dominant_site": (self.site, 3), "hormone_receptor": (self.hr_negative, 2),
                 "her2": (self.her2_positive, 2)}
        used = [codes[f] for f in FACTOR_NAMES if f in factors]
        if not used:
            return None
        label = np.zeros(self.entry.shape, dtype=np.int64)
        for x, k in used:
            label = label * k + x
        return label


def _allocate(design: DesignAssumptions, site: np.ndarray, hrneg: np.ndarray, her2: np.ndarray,
              rng: np.random.Generator, engine: str) -> np.ndarray:
    """Arm indicator (1 = A) of shape (R, n), patients in order of arrival."""
    R, n = site.shape
    if design.allocation == "complete":
        return (rng.random((R, n)) < 0.5).astype(np.int8)
    if design.allocation == "blocks":
        b = design.block_size
        nb = -(-n // b)
        ranks = np.argsort(rng.random((R, nb, b)), axis=2)
        return (ranks < b // 2).reshape(R, nb * b)[:, :n].astype(np.int8)
    cols = np.stack([site, 3 + hrneg, 5 + her2], axis=2).astype(np.intp)  # level columns 0..6
    return minimization_batched(cols, rng.random((R, n)), design.minimization_p, n_levels=7, engine=engine)


def _death_times(design: DesignAssumptions, lam: np.ndarray, E: np.ndarray, operated_a: np.ndarray,
                 operated_b: np.ndarray) -> np.ndarray:
    """Death times by inverting the piecewise-constant cumulative hazard of each patient (surgery
    at s: 0 in arm A, ``crossover_months`` in arm B): multiplier 1 on [0, s),
    ``early_hazard_ratio`` on [s, s + early), 1 on [s + early, s + max(early, delay)),
    ``hazard_ratio`` after; not operated: 1 throughout (T = E / lambda)."""
    d = design
    op = operated_a | operated_b
    if not (d.early_months > 0 and d.early_hazard_ratio != 1.0):
        change = np.where(operated_b, d.crossover_months, 0.0) + d.effect_delay_months
        ratio = np.where(op, d.hazard_ratio, 1.0)
        H_change = lam * change
        return np.where(E < H_change, E / lam, change + (E - H_change) / (lam * ratio))
    b1 = np.where(operated_b, d.crossover_months, 0.0)
    b2 = b1 + d.early_months
    b3 = b1 + max(d.early_months, d.effect_delay_months)
    e_r = np.where(op, d.early_hazard_ratio, 1.0)
    h_r = np.where(op, d.hazard_ratio, 1.0)
    H1 = lam * b1
    H2 = H1 + lam * e_r * (b2 - b1)
    H3 = H2 + lam * (b3 - b2)
    t = np.where(E < H1, E / lam,
                 np.where(E < H2, b1 + (E - H1) / (lam * e_r),
                          np.where(E < H3, b2 + (E - H2) / lam, b3 + (E - H3) / (lam * h_r))))
    return np.where(op, t, E / lam)


def simulate_trials(design: DesignAssumptions, n_trials: int, rng: np.random.Generator, *,
                    engine: str = "auto", non_compliance_selection: float = 0.0,
                    crossover_selection: float = 0.0) -> TrialData:
    """``n_trials`` trials of ``design`` (the module docstring's model), not yet analysed.
    ``engine`` selects the compiled or numpy minimization (same arms). The selections (0: the
    design's random non-operation and crossover) make them depend on prognosis
    (:func:`trialnb.simulation.truth.selected_probability`); they use the same random numbers, so
    with both 0 the trials are those of the design bit for bit."""
    if not isinstance(design, DesignAssumptions):
        raise ScenarioError(f"design must be a trialnb.plan.DesignAssumptions (e.g. PLAN.design), got "
                            f"{type(design).__name__}")
    check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    check_rng(rng, error=ScenarioError)
    use_compiled(engine, ScenarioError)
    d = design
    R, n = int(n_trials), d.n_patients
    u = rng.random((R, n))
    bone, soft, _ = d.site_probs
    site = (u >= bone).astype(np.int8)
    site += u >= bone + soft
    hrneg = (rng.random((R, n)) >= d.p_hr_positive).astype(np.int8)
    her2 = (rng.random((R, n)) < d.p_her2_positive).astype(np.int8)
    arm = _allocate(d, site, hrneg, her2, rng, engine)
    entry = d.accrual_months * np.sort(rng.random((R, n)), axis=1) ** (1.0 / d.accrual_shape)
    lp = (np.log(d.hr_soft_tissue) * (site == 1) + np.log(d.hr_visceral) * (site == 2)
          + np.log(d.hr_hr_negative) * hrneg + np.log(d.hr_her2_positive) * her2)
    lam = d.baseline_hazard * np.exp(lp)
    if non_compliance_selection == 0.0 and crossover_selection == 0.0:
        p_nc, p_cr = d.non_compliance, d.crossover
    else:
        stratum = site.astype(np.int64) * 4 + hrneg * 2 + her2  # the order of DesignAssumptions.strata_model
        p_nc = selected_probability(d, d.non_compliance, non_compliance_selection)[stratum]
        p_cr = selected_probability(d, d.crossover, crossover_selection)[stratum]
    operated_a = (arm == 1) & (rng.random((R, n)) >= p_nc)
    operated_b = (arm == 0) & (rng.random((R, n)) < p_cr)
    E = rng.standard_exponential((R, n))
    t_death = _death_times(d, lam, E, operated_a, operated_b)
    if d.dropout_probability > 0:
        t_loss = rng.standard_exponential((R, n)) / d.dropout_rate
    else:
        t_loss = np.full((R, n), np.inf)
    surgery = np.where(operated_a, 0.0, np.where(operated_b, d.crossover_months, np.inf))
    return TrialData(entry=entry, t_death=t_death, t_loss=t_loss, arm=arm, site=site, hr_negative=hrneg,
                     her2_positive=her2, surgery_month=surgery)


def cut(data: TrialData, cutoff: np.ndarray | float, censor_months: float | None) -> tuple[np.ndarray, np.ndarray]:
    """(time, event) of every patient as known at calendar month ``cutoff`` (scalar or one per
    trial), follow-up censored at ``censor_months`` (None: all follow-up): time =
    min(T_death, T_loss, cutoff - entry, censor), event when the death comes first. A patient
    randomized after the cut-off gets time 0 and no event, which leaves every risk set of the
    log-rank test and the Cox model unchanged (all deaths happen at times > 0). The comparison
    is made on the calendar scale (entry + T_death <= cutoff), so no round-off moves a death
    across its own cut-off."""
    if not isinstance(data, TrialData):
        raise ScenarioError(f"data must be a TrialData from simulate_trials, got {type(data).__name__}")
    cuts = check_real_array(cutoff, "cutoff", error=ScenarioError, allow_inf=True,
                            what="calendar months (one, or one per trial; inf: no cut)")
    if cuts.size not in (1, data.n_trials):
        raise ScenarioError(f"cutoff must be one calendar month or one per trial ({data.n_trials}), got {cuts.size}")
    c = np.broadcast_to(cuts, (data.n_trials,))[:, None]
    if censor_months is None:
        h = np.inf
    else:
        h = check_real(censor_months, "censor_months", lo=0.0, lo_open=True, error=ScenarioError)
    admin = np.clip(np.minimum(c - data.entry, h), 0.0, None)
    seen = (data.entry + data.t_death <= c) & (data.t_death <= h)
    event = (data.t_death <= data.t_loss) & seen
    time = np.where(event, data.t_death, np.minimum(data.t_loss, admin))
    return time, event.astype(np.int8)


def primary_death_dates(data: TrialData, censor_months: float | None) -> np.ndarray:
    """Calendar date of each patient's primary-endpoint death (death before loss and within
    ``censor_months`` of randomization; None: any death before loss), inf otherwise; (R, n)."""
    h = np.inf if censor_months is None else float(censor_months)
    ok = (data.t_death <= data.t_loss) & (data.t_death <= h)
    return np.where(ok, data.entry + data.t_death, np.inf)
