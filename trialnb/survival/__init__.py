"""THE survival engine of trialnb: every survival estimate the package reports is computed here.

Batched over trials: arrays of shape (R, n) hold R independent data sets (a simulation), shape
(n,) one (a trial's analysis). The modules, by estimator:

* :mod:`~trialnb.survival.cox` -- :func:`fit_cox` / :class:`CoxResult`: the Cox model (Efron or
  Breslow ties, (entry, time] rows, strata), R ``coxph.fit``'s iterations, convergence and
  "may be infinite" flags; the result keeps the covariate names.
* :mod:`~trialnb.survival.logrank` -- :func:`logrank` / :func:`fh_statistics`: one weighted,
  stratified log-rank computation (Mantel, Peto-Prentice, Fleming-Harrington G(rho, gamma));
  :func:`maxcombo_pvalue`, :func:`maxcombo_reject`.
* :mod:`~trialnb.survival.km` -- :func:`kaplan_meier` (the curve), :func:`survival_at` and
  :func:`rmst` (one sample), :func:`km_milestone` and :func:`km_rmst` (per arm, batched).
* :mod:`~trialnb.survival.ph` -- :func:`zph_test`: the proportional-hazards score tests of R
  ``cox.zph``.
* :mod:`~trialnb.survival.standardize` -- :func:`standardized_survival`: survival at tau
  standardized over the sample from a Cox model (G-computation), with its influence function;
  :func:`cox_score_residuals` (R ``residuals(fit, type = "score")``).
* :mod:`~trialnb.survival.split` -- :func:`split_at`: (start, stop] rows for a covariate that
  switches on (time-varying surgery).
* :mod:`~trialnb.survival.trials` -- :func:`trial_statistics`: the MaxCombo, milestone and RMST
  statistics of many simulated trials from one sort (a compiled kernel).
* :mod:`~trialnb.survival.competing` -- competing risks: :func:`cumulative_incidence`
  (Aalen-Johansen), :func:`gray_test`, :func:`fine_gray` (equal to R ``cmprsk``).
* :mod:`~trialnb.survival.weighted` -- time-varying case weights: :func:`censoring_weights`
  (IPCW for a hypothetical strategy), :func:`weighted_kaplan_meier` and :func:`weighted_cox`
  with robust variances (equal to R ``survfit``/``coxph`` with ``weights`` and ``robust``).

The compiled kernels (``_cox_kernel``, ``_trial_kernel``) are this package's internals; each
has a numpy twin that gives the same numbers (``engine="numpy"``, :mod:`trialnb.compiled`).
Cross-checked against R ``survival`` (``coxph``, ``survdiff``, ``survfit``) in
``tests/test_survival.py`` and ``tests/reference/survival_engine.R``, and against R ``cmprsk``
in ``tests/test_competing.py`` and ``tests/reference/cmprsk_reference.R``.
"""

from __future__ import annotations

from .competing import (CumulativeIncidence, FineGrayResult, GrayTest, competing_status, cumulative_incidence,
                        fine_gray, gray_test)
from .cox import CoxResult, cox_event_terms, fit_cox
from .km import KaplanMeier, kaplan_meier, km_milestone, km_rmst, rmst, survival_at
from .logrank import (FH_MAXCOMBO, FHStatistics, LogrankResult, fh_statistics, logrank, maxcombo_pvalue,
                      maxcombo_reject, prepare)
from .ph import ZPH_TRANSFORMS, zph_test
from .split import split_at
from .standardize import StandardizedSurvival, cox_score_residuals, standardized_survival
from .trials import TrialStatistics, trial_statistics
from .weighted import (CensoringWeights, WeightedKaplanMeier, censoring_weights, survival_influence, weighted_cox,
                       weighted_kaplan_meier)

__all__ = ["CensoringWeights", "CoxResult", "CumulativeIncidence", "FHStatistics", "FH_MAXCOMBO", "FineGrayResult",
           "GrayTest", "KaplanMeier", "LogrankResult", "StandardizedSurvival", "TrialStatistics",
           "WeightedKaplanMeier", "ZPH_TRANSFORMS", "censoring_weights", "competing_status", "cox_event_terms",
           "cox_score_residuals", "cumulative_incidence", "fh_statistics", "fine_gray", "fit_cox", "gray_test",
           "kaplan_meier", "km_milestone", "km_rmst", "logrank", "maxcombo_pvalue", "maxcombo_reject", "prepare",
           "rmst", "split_at", "standardized_survival", "survival_at", "survival_influence", "trial_statistics",
           "weighted_cox", "weighted_kaplan_meier", "zph_test"]
