"""The operating characteristics of the plan as written, as the companion quotes them.

Notebook 05 and the SAP (:func:`trialnb.sap.build_sap`) both quote the simulated operating
characteristics of the plan: this module is the one call they make, with its number of trials
and seeds in one place (:data:`OC_N_TRIALS`, :data:`OC_SEED`), so the two documents give the
same numbers from the same trials.

Three simulations of :func:`~trialnb.simulation.sequential.simulate_sequential`, every look
analysed with the plan's statistic on the plan's endpoint and the final look timed as the plan
says:

* ``benefit``: the plan's own design (its hazard ratio, 0.5), guidelines followed, seed ``seed``:
  the power, the stops at each look, the expected primary-endpoint deaths and duration;
* ``null``: no effect (hazard ratio 1), guidelines followed, seed ``seed + 1``: the type-I error
  of a trial that follows the non-binding futility and harm guidelines;
* ``null_ignoring``: the same trials as ``null`` (same seed) with the guidelines ignored: the
  type-I error the alpha spending controls (two-sided: benefit and harm).

Each rate comes with its Monte-Carlo standard error, sqrt(p (1 - p) / n) (means: SD / sqrt(n)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ..errors import ScenarioError
from ..plan import PLAN, TrialPlan, check_plan
from ..report import fmt_n, fmt_num, fmt_pct
from ..results import Result
from ..validation import check_int, check_seed
from .sequential import SequentialResult, simulate_sequential

__all__ = ["OC_N_TRIALS", "OC_SEED", "PlanOperatingCharacteristics", "plan_operating_characteristics"]

OC_N_TRIALS: int = 4000
"""Trials per scenario in the quoted operating characteristics (Monte-Carlo SE of an 80% power
about 0.6 percentage points, of a 2.5% type-I error about 0.25)."""

OC_SEED: int = 20201120
"""The seed of the quoted operating characteristics (the trial's start date); the null
scenarios use ``OC_SEED + 1``."""


@dataclass(frozen=True)
class PlanOperatingCharacteristics(Result):
    """The plan's simulated operating characteristics (see the module docstring): three
    :class:`~trialnb.simulation.sequential.SequentialResult`, one per scenario."""

    plan: TrialPlan
    n_trials: int
    seed: int
    benefit: SequentialResult
    null: SequentialResult
    null_ignoring: SequentialResult

    def scenarios(self) -> dict[str, SequentialResult]:
        """The three simulations by label."""
        hr = fmt_num(self.plan.design.hazard_ratio, 2)
        return {f"HR {hr}, guidelines followed": self.benefit, "HR 1, guidelines followed": self.null,
                "HR 1, guidelines ignored": self.null_ignoring}

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario: rejection for benefit and for harm (any look) with their MC
        SEs, the stops at the first interim by decision, the expected primary-endpoint deaths and
        duration (months) with their MC SEs and the mean month of the first interim."""
        rows = []
        for label, r in self.scenarios().items():
            n = r.n_trials
            se = lambda p, n=n: math.sqrt(p * (1 - p) / n)  # noqa: E731
            by = r.decisions_by_stage()
            first = by.iloc[0]
            rows.append({
                "scenario": label, "benefit": r.power, "benefit_se": r.power_se,
                "harm": r.harm_rejection, "harm_se": se(r.harm_rejection),
                "interim_benefit": first["rejected for benefit"], "interim_futility": first["futility guideline"],
                "interim_harm_guideline": first["harm guideline"], "interim_harm": first["rejected for harm"],
                "expected_deaths": r.expected_events, "expected_deaths_se": r.expected_events_se,
                "expected_months": r.expected_months, "expected_months_se": r.expected_months_se,
                "interim_month": float(r.analysis_months[0]),
            })
        return pd.DataFrame(rows).set_index("scenario")

    def summary(self) -> str:
        b, n, i = self.benefit, self.null, self.null_ignoring
        hr = fmt_num(self.plan.design.hazard_ratio, 2)
        pct = lambda p, se: f"{fmt_pct(p)} (MC SE {fmt_pct(se)})"  # noqa: E731
        se = lambda r, p: math.sqrt(p * (1 - p) / r.n_trials)  # noqa: E731
        return "\n".join([
            f"The plan as written, {fmt_n(self.n_trials)} simulated trials per scenario (seeds {self.seed} and "
            f"{self.seed + 1}).",
            f"HR {hr}: power {pct(b.power, b.power_se)}; stops for benefit at the interim "
            f"{fmt_pct(float(b.rejection_by_stage[0]))}; expected primary-endpoint deaths "
            f"{fmt_num(b.expected_events, 1)}, expected duration {fmt_num(b.expected_months, 1)} months.",
            f"HR 1, guidelines followed: rejects for benefit {pct(n.power, n.power_se)}, for harm "
            f"{pct(n.harm_rejection, se(n, n.harm_rejection))}; futility stops at the interim "
            f"{fmt_pct(float(n.futility_by_stage[0]))}.",
            f"HR 1, guidelines ignored: rejects for benefit {pct(i.power, i.power_se)}, for harm "
            f"{pct(i.harm_rejection, se(i, i.harm_rejection))}.",
        ])


def plan_operating_characteristics(plan: TrialPlan = PLAN, n_trials: int = OC_N_TRIALS, seed: int = OC_SEED, *,
                                   engine: str = "auto") -> PlanOperatingCharacteristics:
    """The operating characteristics of ``plan`` that notebook 05 and the SAP quote: the three
    simulations of the module docstring, ``n_trials`` trials each, seeds ``seed`` (the plan's
    hazard ratio) and ``seed + 1`` (no effect, with and without the guidelines)."""
    plan = check_plan(plan, error=ScenarioError)
    n_trials = check_int(n_trials, "n_trials", minimum=1, error=ScenarioError)
    seed = check_seed(seed, error=ScenarioError)
    null = {"hazard_ratio": 1.0}
    return PlanOperatingCharacteristics(
        plan=plan, n_trials=n_trials, seed=seed,
        benefit=simulate_sequential(plan, n_trials, seed=seed, engine=engine),
        null=simulate_sequential(plan, n_trials, seed=seed + 1, truth=null, engine=engine),
        null_ignoring=simulate_sequential(plan, n_trials, seed=seed + 1, truth=null, follow_guidelines=False,
                                          engine=engine, label="the plan, guidelines ignored"))
