"""Sparse strata in the stratified analyses: a rule that pools them, fixed before unblinding.

The three minimization factors make 12 strata (3 dominant sites x receptor x HER2); with 236
patients several hold 2-4 patients (soft-tissue-dominant disease is rare). A stratified
log-rank test gains nothing from a stratum of two patients and loses the deaths in it that have
no comparator at risk. :func:`pool_strata` applies one rule, written down before the data are
unblinded and using no outcome by arm:

* the strata are the combinations of the levels of the analysis' factors
  (``plan.analysis.covariates``);
* while a stratum holds fewer than ``min_patients`` patients (both arms together; or, with
  ``min_events``, fewer deaths of both arms together), merge the two groups of levels, within one
  factor, that are closest in prognosis -- the distance being the smallest difference of the
  levels' log hazard ratios in the design's population (``plan.design.prognostic_hazard_ratios``,
  fixed in advance from the literature: :mod:`trialnb.population`); merging the two levels of a
  two-level factor drops it from the strata; ties go to the factor listed last;
* stop when every stratum is large enough (or only one is left: the unstratified test).

With the design's population (soft tissue 1.1, visceral 1.6 vs bone; receptor negative 2.0;
HER2 positive 0.8) the merges come in the order: soft tissue with bone, HER2 dropped, visceral
with bone/soft tissue, receptor status dropped. The counts the rule reads are those a blinded
statistician sees (patients, and deaths pooled over the arms), so it can be run, and its result
recorded, before the arms are revealed (ICH E9, section 5.7; Kahan BC, Morris TP. Improper
analysis of trials randomised using stratified blocks or minimisation. Stat Med
2012;31:328-340 on keeping the factors in the analysis).

The statistic itself is the engine's stratified log-rank (:func:`trialnb.survival.logrank` with
``strata=`` the pooled labels); :func:`trialnb.analysis.weighted_logrank` and
:func:`trialnb.analysis.maxcombo` take ``strata="pooled"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import TrialAnalysisError
from ..plan import PLAN, TrialPlan, check_plan
from ..protocol import FACTOR_NAMES, FACTORS
from ..report import fmt_n
from ..results import Result
from ..validation import check_int
from ._frame import SURV, censor_at, check_df

__all__ = ["MIN_STRATUM_PATIENTS", "PooledStrata", "level_log_hazard_ratios", "pool_strata"]

MIN_STRATUM_PATIENTS = 10
"""The rule's default: every stratum of a stratified analysis holds at least 10 patients."""


def level_log_hazard_ratios(plan: TrialPlan = PLAN) -> dict[str, dict[str, float]]:
    """Log hazard ratio of each level of each minimization factor in the design's population
    (0 for the reference levels: bone, receptor positive, HER2 negative)."""
    hr = plan.design.prognostic_hazard_ratios
    return {"dominant_site": {"bone": 0.0, "soft_tissue": math.log(hr["soft_tissue"]),
                              "visceral": math.log(hr["visceral"])},
            "hormone_receptor": {"positive": 0.0, "negative": math.log(hr["hr_negative"])},
            "her2": {"negative": 0.0, "positive": math.log(hr["her2_positive"])}}


@dataclass(frozen=True)
class PooledStrata(Result):
    """The strata of a stratified analysis after the rule (the module docstring).

    ``labels``: the pooled stratum of each row of the data (strings such as
    ``"bone+soft_tissue|positive"``); ``factors``: the factors still stratifying; ``groups``:
    for each factor of the analysis, its groups of levels (one group: the factor is dropped);
    ``steps``: each merge in order, in words; ``table``: every pooled stratum with its patients
    and deaths (both arms together: what the rule reads); ``min_patients``, ``min_events``."""

    labels: np.ndarray
    factors: tuple[str, ...]
    groups: dict[str, tuple[tuple[str, ...], ...]]
    steps: tuple[str, ...]
    table: pd.DataFrame
    min_patients: int
    min_events: int | None

    @property
    def n_strata(self) -> int:
        return int(len(self.table))

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> str:
        need = f"at least {fmt_n(self.min_patients)} patients" + (
            f" and {fmt_n(self.min_events)} deaths" if self.min_events else "")
        merges = "; ".join(self.steps) if self.steps else "no merge needed"
        return (f"{fmt_n(self.n_strata)} {'stratum' if self.n_strata == 1 else 'strata'} with {need} each "
                f"(both arms together, no outcome by arm): {merges}")


def _labels(df: pd.DataFrame, groups: dict[str, list[list[str]]]) -> np.ndarray:
    parts = []
    for f in FACTOR_NAMES:
        g = groups.get(f)
        if g is None or len(g) < 2:
            continue
        name = {lvl: "+".join(grp) for grp in g for lvl in grp}
        parts.append(df[f].astype(str).map(name).to_numpy())
    if not parts:
        return np.full(len(df), "all", dtype=object)
    return np.array(["|".join(p) for p in zip(*parts, strict=True)], dtype=object)


def pool_strata(df: pd.DataFrame, covariates: Sequence[str] | None = None, *,
                min_patients: int = MIN_STRATUM_PATIENTS, min_events: int | None = None,
                plan: TrialPlan = PLAN) -> PooledStrata:
    """The strata of ``covariates`` (default ``plan.analysis.covariates``) pooled by the rule of
    the module docstring until each holds ``min_patients`` patients (and ``min_events`` deaths
    within ``plan.analysis.censor_months``, both arms together, if given)."""
    check_plan(plan, error=TrialAnalysisError)
    covs = tuple(plan.analysis.covariates if covariates is None else covariates)
    bad = [c for c in covs if c not in FACTOR_NAMES]
    if bad or len(set(covs)) != len(covs):
        raise TrialAnalysisError(f"covariates must be distinct minimization factors from {FACTOR_NAMES}, got {covs!r}")
    check_int(min_patients, "min_patients", minimum=1, error=TrialAnalysisError)
    if min_events is not None:
        check_int(min_events, "min_events", minimum=1, error=TrialAnalysisError)
    df = check_df(df, SURV + covs)
    dead = censor_at(df, plan.analysis.censor_months)["death"].to_numpy() == 1
    lhr = level_log_hazard_ratios(plan)
    order = {f.name: list(f.levels) for f in FACTORS}
    groups = {f: [[lvl] for lvl in order[f]] for f in covs}
    steps: list[str] = []

    def too_small(labels: np.ndarray) -> bool:
        s = pd.Series(labels)
        if (s.value_counts() < min_patients).any():
            return True
        return bool(min_events is not None and (pd.Series(dead).groupby(s.to_numpy()).sum() < min_events).any())

    labels = _labels(df, groups)
    while too_small(labels) and any(len(g) > 1 for g in groups.values()):
        best: tuple[float, int, str, int, int] | None = None
        for rank, f in enumerate(covs):
            g = groups[f]
            for i in range(len(g)):
                for j in range(i + 1, len(g)):
                    dist = min(abs(lhr[f][a] - lhr[f][b]) for a in g[i] for b in g[j])
                    key = (round(dist, 12), -rank, f, i, j)
                    if best is None or key < best:
                        best = key
        assert best is not None
        _, _, f, i, j = best
        g = groups[f]
        merged = g[i] + g[j]
        groups[f] = [grp for k, grp in enumerate(g) if k not in (i, j)] + [merged]
        groups[f].sort(key=lambda grp: order[f].index(grp[0]))
        fac = FACTORS[FACTOR_NAMES.index(f)]
        names = [x.replace("_", " ") for x in sorted(merged, key=order[f].index)]
        words = " and ".join(names) if len(names) == 2 else ", ".join(names[:-1]) + " and " + names[-1]
        steps.append(f"{fac.label}: {words} pooled"
                     + (f" ({fac.label} no longer stratifies)" if len(groups[f]) == 1 else ""))
        labels = _labels(df, groups)
    s = pd.Series(labels)
    table = pd.DataFrame({"patients": s.value_counts(sort=False),
                          "deaths": pd.Series(dead.astype(int)).groupby(s.to_numpy()).sum()}).rename_axis("stratum")
    table = table.sort_values("patients", ascending=False)
    return PooledStrata(labels, tuple(f for f in covs if len(groups[f]) > 1),
                        {f: tuple(tuple(g) for g in groups[f]) for f in covs}, tuple(steps), table,
                        int(min_patients), None if min_events is None else int(min_events))
