"""Simulated trials of the plan (:mod:`trialnb.plan`): one component, by role.

* :mod:`~trialnb.simulation.trials` -- :func:`simulate_trials`: thousands of trials of a
  design as arrays of latent entry, death and loss times; :func:`cut`: a trial as known at a
  calendar date, follow-up censored at the plan's horizon.
* :mod:`~trialnb.simulation.analyses` -- :data:`ANALYSES`: the registry of analyses (the Cox
  Wald z, log-rank, stratified log-rank, FH(0,1), MaxCombo, milestone, RMST), each a batched
  call into the survival engine.
* :mod:`~trialnb.simulation.fixed` -- :func:`simulate`: the plan's final analysis alone;
  :func:`required_patients`.
* :mod:`~trialnb.simulation.sequential` -- :func:`simulate_sequential`: the plan as written,
  every look analysed with the plan's statistic on the plan's endpoint.
* :mod:`~trialnb.simulation.characteristics` -- :func:`plan_operating_characteristics`: the
  plan's simulated operating characteristics as notebook 05 and the SAP quote them (one call,
  one number of trials, one seed).
* :mod:`~trialnb.simulation.truth` -- the true curves and estimands of a design, and the
  limiting hazard ratio a Cox model estimates.
* :mod:`~trialnb.simulation.seeds` -- :class:`SeedStream`: a notebook's simulation seeds.
* :mod:`~trialnb.simulation.supplementary` -- :func:`simulate_complier_effect` and
  :func:`simulate_hypothetical`: the supplementary estimands' estimators checked against the
  truth (bias, coverage).
* :mod:`~trialnb.simulation.crf` -- :class:`CRFScenario` and :func:`simulate_study`: one
  synthetic trial in the CRF schema (screening log, trial file, QoL), and
  :func:`build_data`, which writes the shipped ``data/``.

* :mod:`~trialnb.simulation.costs` -- what a run costs before it starts (time, memory), its
  seed blocks and analysis chunks (the rules of :mod:`trialnb.workload`: every simulation here
  is refused beyond ``max_seconds`` / ``max_memory_gb``, bounded in memory, shows a progress
  bar when long, and stops cleanly on Ctrl-C).

Every function takes the plan (or its design) and reads nothing else; the same seed gives the
same trials in the fixed and the sequential simulation.
"""

from __future__ import annotations

from .analyses import ANALYSES, ANALYSIS_LABELS, AnalysisOutcome, analyse_cut, check_analyses, decide
from .crf import (SCENARIOS, SHIPPED_SCENARIOS, SHIPPED_SEED, CRFScenario, SimulatedStudy, build_data,
                  simulate_screening, simulate_study, simulate_trial)
from .fixed import RequiredPatients, SimulationResult, final_cutoff, required_patients, simulate
from .sequential import (BENEFIT, CONTINUE, FUTILITY, HARM, HARM_GUIDELINE, Boundaries, SequentialResult,
                         naive_type_one_error, simulate_sequential)
from .characteristics import OC_N_TRIALS, OC_SEED, PlanOperatingCharacteristics, plan_operating_characteristics
from .seeds import SEED, SeedStream
from .supplementary import SupplementaryCheck, simulate_complier_effect, simulate_hypothetical
from .trials import COVARIATE_COLUMNS, TrialData, covariate_names, cut, primary_death_dates, simulate_trials
from .truth import (SHAPES, complier_effect, design_curves, equal_survival_shape, hypothetical_estimands,
                    limiting_hazard_ratio, selected_probability, true_estimands)

__all__ = [
    "ANALYSES", "ANALYSIS_LABELS", "BENEFIT", "CONTINUE", "COVARIATE_COLUMNS", "FUTILITY", "HARM", "HARM_GUIDELINE",
    "SCENARIOS", "SEED",
    "SHAPES", "SHIPPED_SCENARIOS", "SHIPPED_SEED", "AnalysisOutcome", "Boundaries", "CRFScenario",
    "RequiredPatients", "SeedStream", "SequentialResult", "SimulatedStudy", "SimulationResult", "SupplementaryCheck",
    "TrialData", "analyse_cut", "build_data", "check_analyses", "complier_effect", "covariate_names", "cut", "decide",
    "design_curves", "equal_survival_shape", "final_cutoff", "hypothetical_estimands", "limiting_hazard_ratio",
    "naive_type_one_error", "OC_N_TRIALS", "OC_SEED", "PlanOperatingCharacteristics", "plan_operating_characteristics",
    "primary_death_dates", "required_patients", "selected_probability", "simulate", "simulate_complier_effect",
    "simulate_hypothetical", "simulate_screening", "simulate_sequential", "simulate_study", "simulate_trial",
    "simulate_trials", "true_estimands",
]
