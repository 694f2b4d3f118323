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
* :mod:`~trialnb.survival.split` -- :func:`split_at`: (start, stop] rows for a covariate that
  switches on (time-varying surgery).
* :mod:`~trialnb.survival.trials` -- :func:`trial_statistics`: the MaxCombo, milestone and RMST
  statistics of many simulated trials from one sort (a compiled kernel).

The compiled kernels (``_cox_kernel``, ``_trial_kernel``) are this package's internals; each
has a numpy twin that gives the same numbers (``engine="numpy"``, :mod:`trialnb.compiled`).
Cross-checked against R ``survival`` (``coxph``, ``survdiff``, ``survfit``) in
``tests/test_survival.py`` and ``tests/reference/survival_engine.R``.
"""

from __future__ import annotations

from .cox import CoxResult, cox_event_terms, fit_cox
from .km import KaplanMeier, kaplan_meier, km_milestone, km_rmst, rmst, survival_at
from .logrank import (FH_MAXCOMBO, FHStatistics, LogrankResult, fh_statistics, logrank, maxcombo_pvalue,
                      maxcombo_reject, prepare)
from .ph import ZPH_TRANSFORMS, zph_test
from .split import split_at
from .trials import TrialStatistics, trial_statistics

__all__ = ["FH_MAXCOMBO", "ZPH_TRANSFORMS", "CoxResult", "FHStatistics", "KaplanMeier", "LogrankResult",
           "TrialStatistics", "cox_event_terms", "fh_statistics", "fit_cox", "kaplan_meier", "km_milestone", "km_rmst",
           "logrank", "maxcombo_pvalue", "maxcombo_reject", "prepare", "rmst", "split_at", "survival_at",
           "trial_statistics", "zph_test"]
