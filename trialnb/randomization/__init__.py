"""Randomization: procedures with exact allocation probabilities, their assessment, a durable
keyed allocation log, and minimization batched over simulated trials.

Modules (imports run downwards only):

* :mod:`~trialnb.randomization.procedures` — the procedures (complete, permuted and
  stratified blocks, Efron's coin, big stick, maximal procedure, Pocock-Simon minimization);
* :mod:`~trialnb.randomization.assessment` — simulated patients, metrics, exact values,
  simulated predictability and bias, the notebook 03 exercise checks;
* :mod:`~trialnb.randomization.log` — the allocation log (durable, HMAC-chained, concealed);
* :mod:`~trialnb.randomization.batched` — minimization vectorised over trials (numpy, or
  the compiled kernel in ``_numba``) for :func:`trialnb.simulation.simulate_trials`.

Everything public is re-exported here, so ``from trialnb.randomization import X`` works for
every name of the former single module.
"""

from __future__ import annotations

from ._common import ARMS, IMBALANCE_MEASURES, TIE_RULES, as_factors
from .assessment import (
    DEFAULT_FACTOR_FREQUENCIES,
    EXERCISE_CASE,
    SELECTION_STRATEGIES,
    bigstick_long_run,
    block_correct_guesses_closed_form,
    chronological_bias_type1,
    correct_guess_proportion,
    covariate_balance,
    deterministic_fraction,
    efron_long_run,
    exact_summary,
    expected_correct_guesses,
    imbalance_metrics,
    imbalance_path,
    run_procedure,
    selection_bias_type1,
    simulate_correct_guesses,
    simulate_patients,
    simulate_trials,
    tie_fraction,
)
from .batched import minimization_batched
from .log import (GENESIS_HASH, Allocation, AllocationLog, AllocationReceipt, TornLineWarning,
                  allocation_list_csv, entries_from_csv, verify_chain)
from .procedures import (
    Assignment,
    BigStick,
    CompleteRandomization,
    EfronBiasedCoin,
    MaximalProcedure,
    PermutedBlock,
    PocockSimon,
    Procedure,
    StratifiedPermutedBlock,
    minimization_scores,
    procedure_from_settings,
)

__all__ = [
    "ARMS",
    "TIE_RULES",
    "IMBALANCE_MEASURES",
    "Allocation",
    "AllocationLog",
    "AllocationReceipt",
    "Assignment",
    "BigStick",
    "CompleteRandomization",
    "EfronBiasedCoin",
    "MaximalProcedure",
    "PermutedBlock",
    "PocockSimon",
    "Procedure",
    "StratifiedPermutedBlock",
    "TornLineWarning",
    "as_factors",
    "block_correct_guesses_closed_form",
    "allocation_list_csv",
    "DEFAULT_FACTOR_FREQUENCIES",
    "EXERCISE_CASE",
    "GENESIS_HASH",
    "bigstick_long_run",
    "chronological_bias_type1",
    "correct_guess_proportion",
    "covariate_balance",
    "deterministic_fraction",
    "efron_long_run",
    "entries_from_csv",
    "expected_correct_guesses",
    "exact_summary",
    "imbalance_metrics",
    "imbalance_path",
    "minimization_batched",
    "minimization_scores",
    "procedure_from_settings",
    "run_procedure",
    "selection_bias_type1",
    "SELECTION_STRATEGIES",
    "simulate_correct_guesses",
    "simulate_patients",
    "simulate_trials",
    "tie_fraction",
    "verify_chain",
]
