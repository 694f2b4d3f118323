"""Seeds for a notebook's simulations: one master seed, a fresh seed for each simulation.

A notebook creates one seeded stream and takes every simulation's seed from it, in order, so
the notebook gives the same numbers on every run and no two simulations share their trials:

    next_seed = SeedStream(SEED)
    result = simulate(PLAN, 5000, seed=next_seed())

The seeds are ``numpy.random.default_rng(seed).integers(2**31)`` drawn in turn (the notebooks'
former ``next_seed`` helper, so the numbers they printed are unchanged). Within a simulation,
:func:`trialnb.simulation.fixed.chunk_seeds` spawns the independent child streams
(``numpy.random.SeedSequence``).
"""

from __future__ import annotations

import numpy as np

from ..errors import ScenarioError
from ..validation import check_seed

__all__ = ["SEED", "SeedStream"]

SEED = 20201120
"""The trial's start date (20 November 2020): the master seed of the notebooks' generators and
the seed of the operating-characteristics dashboard's opening draw, so the dashboard opens at
the number notebook 06 prints."""

_LIMIT = 2**31


class SeedStream:
    """Successive simulation seeds (integers in [0, 2^31)) from one master ``seed``: call the
    stream for the next seed. ``drawn`` counts the seeds given so far; the same master seed
    gives the same sequence."""

    def __init__(self, seed: int = SEED) -> None:
        self.seed = check_seed(seed, error=ScenarioError)
        self._rng = np.random.default_rng(self.seed)
        self.drawn = 0

    def __call__(self) -> int:
        """The next seed."""
        self.drawn += 1
        return int(self._rng.integers(_LIMIT))

    def __repr__(self) -> str:
        return f"SeedStream(seed={self.seed}; {self.drawn} seeds drawn)"
