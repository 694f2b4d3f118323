"""The batched minimization (the compiled kernel and its numpy twin, ``engine=``) equals
PocockSimon fed the same uniforms, trial by trial; the simulated trials' allocation
(``trialnb.simulation.simulate_trials``) goes through it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb.plan import DesignAssumptions
from trialnb.protocol import FACTORS
from trialnb.randomization import PocockSimon, minimization_batched
from trialnb.simulation import simulate_trials

ENGINES = ["numpy", "numba", "auto"]
OFFSETS = np.array([0, 3, 5])  # global level index of each factor's first level (3 + 2 + 2 levels)


def _patients(R: int, n: int, rng: np.random.Generator) -> np.ndarray:
    return np.stack([rng.integers(0, 3, (R, n)), rng.integers(0, 2, (R, n)), rng.integers(0, 2, (R, n))], axis=2)


def _reference(local: np.ndarray, u: np.ndarray, p: float) -> np.ndarray:
    """PocockSimon(p) trial by trial, each patient allocated with its own uniform."""
    R, n, _ = local.shape
    out = np.empty((R, n), dtype=np.int8)
    for r in range(R):
        ps = PocockSimon(p=p)
        for i in range(n):
            pat = {f.name: f.levels[local[r, i, k]] for k, f in enumerate(FACTORS)}
            out[r, i] = ps.assign_uniform(pat, float(u[r, i])).arm == "A"
    return out


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("p", [0.8, 0.65, 1.0, 0.7])
def test_batched_equals_pocock_simon(engine, p):
    rng = np.random.default_rng(int(p * 100))
    local = _patients(25, 60, rng)
    u = rng.random((25, 60))
    got = minimization_batched(local + OFFSETS, u, p, n_levels=7, engine=engine)
    np.testing.assert_array_equal(got, _reference(local, u, p))


@pytest.mark.parametrize("engine", ENGINES)
def test_same_generator_same_arms(engine):
    """Row r of rng.random((R, n)) is what one generator feeds PocockSimon.assign in trial r."""
    local = _patients(5, 40, np.random.default_rng(3))
    got = minimization_batched(local + OFFSETS, np.random.default_rng(9).random((5, 40)), 0.8, engine=engine)
    rng = np.random.default_rng(9)
    for r in range(5):
        ps = PocockSimon()
        arms = [ps.assign({f.name: f.levels[local[r, i, k]] for k, f in enumerate(FACTORS)}, rng).arm
                for i in range(40)]
        assert "".join("A" if a else "B" for a in got[r]) == "".join(arms)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30), p=st.sampled_from([0.55, 0.75, 0.8, 0.9, 1.0]))
def test_property_numpy_equals_reference(seed, n, p):
    rng = np.random.default_rng(seed)
    local = _patients(3, n, rng)
    u = rng.random((3, n))
    ref = _reference(local, u, p)
    np.testing.assert_array_equal(minimization_batched(local + OFFSETS, u, p, engine="numpy"), ref)
    np.testing.assert_array_equal(minimization_batched(local + OFFSETS, u, p, engine="numba"), ref)


def test_bad_input_refused():
    with pytest.raises(ValueError, match="shape"):
        minimization_batched(np.zeros((2, 3), int), np.zeros((2, 3)), 0.8)
    with pytest.raises(ValueError, match="p must lie"):
        minimization_batched(np.zeros((2, 3, 1), int), np.zeros((2, 3)), 1.5)
    with pytest.raises(ValueError, match="non-negative integer"):
        minimization_batched(-np.ones((2, 3, 1), int), np.zeros((2, 3)), 0.8)
    with pytest.raises(ValueError, match="n_levels"):
        minimization_batched(np.full((2, 3, 1), 7), np.zeros((2, 3)), 0.8, n_levels=7)
    with pytest.raises(ValueError, match="p must lie"):
        minimization_batched(np.zeros((2, 3, 1), int), np.zeros((2, 3)), True)
    with pytest.raises(ValueError, match="engine must be one of"):
        minimization_batched(np.zeros((2, 3, 1), int), np.zeros((2, 3)), 0.8, engine="gpu")


def test_the_simulated_trials_are_minimized_by_pocock_simon():
    """simulate_trials' arms are PocockSimon(p) fed the trial's factors in arrival order and the
    allocation uniforms it draws (after the site, receptor and HER2 uniforms of the same stream)."""
    design = DesignAssumptions(n_patients=50, minimization_p=0.75)
    R, n = 4, 50
    d = simulate_trials(design, R, np.random.default_rng(17))
    rng = np.random.default_rng(17)
    rng.random((R, n)), rng.random((R, n)), rng.random((R, n))  # site, receptor, HER2
    u = rng.random((R, n))
    local = np.stack([d.site, d.hr_negative, 1 - d.her2_positive], axis=2)  # level indices of FACTORS
    np.testing.assert_array_equal(d.arm, _reference(local, u, 0.75))
