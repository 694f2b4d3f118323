"""What a simulation of the plan costs, in time and memory, before it runs; how it is chunked.

The rules are :mod:`trialnb.workload`'s; the numbers for the simulations of this component
are here, in one place. A *cell* is one patient of one simulated trial (``n_trials x
n_patients`` cells in a run).

**Seed blocks.** Trials are drawn in blocks, each from its own child of
``numpy.random.SeedSequence(seed)`` (:func:`trialnb.simulation.fixed.chunk_seeds`): the stream
layout, so a block's trials depend only on the seed and the trial size. A block holds
:data:`~trialnb.simulation.fixed.CHUNK` (2,000) trials, or fewer for large trials, so that it
never exceeds :data:`BLOCK_CELLS` cells (:func:`block_trials`): every design of up to 4,000
patients keeps blocks of 2,000 trials (the layout of earlier versions, so their results are
unchanged); 200,000 patients gives blocks of 40 trials.

**Analysis chunks.** Within a block, trials are cut and analysed in chunks of at most
:data:`trialnb.workload.CHUNK_BYTES` of working memory (:func:`analysis_chunk`). Each
trial's analysis depends only on that trial, so the chunk size never changes a result
(``tests/test_simulation_resources.py`` checks it to the bit).

**Per-unit costs** (:data:`SECONDS_PER_CELL`, :data:`BYTES_PER_CELL`), measured with
``benchmarks/bench_simulation_resources.py`` on the project's reference machine (a shared
2-core virtual machine, numba engine, protocol design, 236 and 2,000 patients, 2,000 trials;
seconds rounded up, bytes are the peak resident-set growth of the run over the cells):

* drawing the trials (:func:`~trialnb.simulation.trials.simulate_trials`): measured 0.68
  microseconds and 91 bytes per cell (constants 0.6 and 95);
* each analysis of the registry on top, measured: the Cox Wald z 1.03 microseconds per cell
  (constant 1.2), the log-rank test 0.57 (0.7), stratified 0.66 (1.0), the statistics that
  share one sort (FH(0,1), MaxCombo, milestone, RMST) 0.10 together (0.5), the stratified
  MaxCombo 1.96 (2.0); 80 to 180 bytes per cell while a chunk is analysed (constant 180);
* the sequential simulation analyses each trial at every look it reaches (at most ``looks x``
  the analysis cost) and recalculates each trial's final boundary: 0.3 milliseconds per trial;
* the results kept: :func:`result_bytes` per trial.

(``benchmarks/bench_simulation_resources.py``, 2,000 patients x 1,000 trials, December 2026.)

The estimate is deliberately an upper-side figure for a loaded machine; it decides only whether
a run is refused (:mod:`trialnb.workload`).
"""

from __future__ import annotations

import math
from typing import Sequence

from ..report import fmt_n
from ..workload import CHUNK_BYTES, Estimate

__all__ = ["BLOCK_CELLS", "BYTES_PER_CELL", "CHUNK", "GENERATE_BYTES_PER_CELL", "GENERATE_SECONDS_PER_CELL",
           "SECONDS_PER_CELL", "SEQUENTIAL_SECONDS_PER_TRIAL", "analysis_chunk", "block_trials", "estimate_calls",
           "estimate_run", "result_bytes"]

CHUNK = 2000
"""Trials per seed block (fewer for trials of more than 4,000 patients: :func:`block_trials`)."""

BLOCK_CELLS = 2000 * 4000
"""Largest seed block in cells: 2,000 trials of 4,000 patients (so every design up to 4,000
patients keeps the 2,000-trial blocks of earlier versions)."""

GENERATE_SECONDS_PER_CELL = 0.6e-6
"""Drawing one patient of one trial (factors, minimization, entry, death and loss times)."""

GENERATE_BYTES_PER_CELL = 95.0
"""Peak working memory of drawing one cell (arrays of the block alive at once)."""

SECONDS_PER_CELL: dict[str, float] = {
    "cox_wald": 1.2e-6,
    "logrank": 0.7e-6,
    "stratified_logrank": 1.0e-6,
    "fh01": 0.5e-6,
    "maxcombo": 0.5e-6,
    "stratified_maxcombo": 2.0e-6,
    "milestone": 0.5e-6,
    "rmst": 0.5e-6,
    "standardized_milestone": 3.6e-6,  # the Cox fit and two predictions per patient: 3x cox_wald
}
"""Analysing one cell, per analysis of the registry (the one-sort statistics -- FH(0,1),
MaxCombo, milestone, RMST -- share one pass: counted once)."""

_SHARED = ("fh01", "maxcombo", "milestone", "rmst")

BYTES_PER_CELL = 180.0
"""Working memory of cutting and analysing one cell (the Cox design matrix, risk-set indices,
log-rank weight arrays): the largest of the analyses (the stratified MaxCombo)."""

SEQUENTIAL_SECONDS_PER_TRIAL = 3e-4
"""The sequential simulation's cost per trial beyond its analyses (the final boundary
recalculated from each trial's observed deaths)."""


def block_trials(n_patients: int) -> int:
    """Trials per seed block for trials of ``n_patients``: :data:`CHUNK` (2,000), or fewer so
    that a block holds at most :data:`BLOCK_CELLS` cells (at least one trial)."""
    return max(1, min(CHUNK, BLOCK_CELLS // max(int(n_patients), 1)))


def analysis_chunk(n_patients: int, block: int) -> int:
    """Trials cut and analysed at once: at most :data:`trialnb.workload.CHUNK_BYTES` of working
    memory (:data:`BYTES_PER_CELL`), at most a block, at least one trial."""
    return max(1, min(int(block), int(CHUNK_BYTES // (BYTES_PER_CELL * max(int(n_patients), 1)))))


def result_bytes(n_analyses: int = 1, looks: int = 1) -> float:
    """Bytes kept per trial: the fixed simulation's arrays (z, ok, reject per analysis; estimate,
    deaths, deaths in arm A, month), or the sequential one's (six (looks,) arrays, stage,
    decision); doubled for the concatenation at the end."""
    fixed = 32 + 10 * n_analyses
    sequential = 48 * looks + 9
    return 2.0 * (fixed if looks == 1 else sequential)


def _analysis_seconds(analyses: Sequence[str]) -> float:
    shared = any(a in _SHARED for a in analyses)
    own = sum(SECONDS_PER_CELL[a] for a in analyses if a not in _SHARED)
    return own + (SECONDS_PER_CELL["maxcombo"] if shared else 0.0)


def estimate_run(what: str, n_trials: int, n_patients: int, analyses: Sequence[str], *, looks: int = 1,
                 block: int, chunk: int) -> Estimate:
    """The :class:`~trialnb.workload.Estimate` of simulating ``n_trials`` trials of ``n_patients``
    analysed by ``analyses`` at ``looks`` looks, drawn in blocks of ``block`` trials and analysed
    in chunks of ``chunk``: time = cells x (drawing + looks x analyses); memory = one block
    drawn + one chunk analysed + the results kept."""
    cells = float(n_trials) * float(n_patients)
    per_cell = GENERATE_SECONDS_PER_CELL + looks * _analysis_seconds(analyses)
    seconds = (cells * per_cell + 0.05 * math.ceil(n_trials / max(block, 1))
               + (float(n_trials) * SEQUENTIAL_SECONDS_PER_TRIAL if looks > 1 else 0.0))
    n_in_block = min(block, n_trials)
    memory = (n_in_block * n_patients * GENERATE_BYTES_PER_CELL + min(chunk, n_trials) * n_patients * BYTES_PER_CELL
              + n_trials * result_bytes(len(analyses), looks))
    basis = (f"{per_cell * 1e6:.1g} microseconds per patient per trial ({', '.join(analyses)}"
             + (f", {looks} looks" if looks > 1 else "") + f"), {GENERATE_BYTES_PER_CELL + BYTES_PER_CELL:.0f} bytes "
             f"per patient of a block of {fmt_n(n_in_block)} trials, {result_bytes(len(analyses), looks):.0f} bytes "
             "per trial kept")
    return Estimate(f"{what}: {_count(n_trials)} trials of {_count(n_patients)} patients", seconds, memory, basis)


def _count(n: int) -> str:
    return fmt_n(n) if n < 10**7 else f"{float(n):.3g}"


def estimate_calls(what: str, calls: int, n_trials: int, n_patients: int, analyses: Sequence[str], *,
                   looks: int = 1) -> Estimate:
    """The estimate of ``calls`` simulations of ``n_trials`` trials each, one after the other
    (e.g. one per hazard ratio drawn from a prior): ``calls`` times the time of one, the memory
    of one plus the per-trial results of all."""
    block = block_trials(n_patients)
    one = estimate_run(what, n_trials, n_patients, analyses, looks=looks, block=block,
                       chunk=analysis_chunk(n_patients, block))
    kept = float(calls) * n_trials * result_bytes(len(analyses), looks)
    return Estimate(f"{what}: {_count(calls)} simulations of {_count(n_trials)} trials of "
                    f"{_count(n_patients)} patients",
                    float(calls) * one.seconds, one.memory + kept, one.basis)
