"""Randomization procedures with exact allocation probabilities, metrics and an audit log.

Every procedure has the same small interface:

* ``probabilities(patient=None) -> {"A": p, "B": 1 - p}`` — the exact probability of each
  arm for the next patient given everything allocated so far (nothing is changed);
* ``assign(patient=None, rng=...) -> Assignment`` — draws **exactly one** uniform
  ``u = rng.random()`` and gives arm A iff ``u < P(A)``, so the same seed gives the same
  allocations and two procedures fed the same generator see the same uniforms;
* ``record(patient, arm)`` — add an allocation made elsewhere (to replay a history).

Procedures: :class:`CompleteRandomization`, :class:`PermutedBlock` (fixed or random block
sizes), :class:`StratifiedPermutedBlock`, :class:`EfronBiasedCoin` (Efron 1971, Biometrika
58:403), :class:`BigStick` (Soares & Wu 1983, Commun Stat Theory Methods 12:2017),
:class:`MaximalProcedure` (Berger, Ivanova & Knoll 2003, Stat Med 22:3017) and
:class:`PocockSimon` minimization (Pocock & Simon 1975, Biometrics 31:103; Taves 1974, Clin
Pharmacol Ther 15:443).

Notation (the usual one, e.g. Rosenberger & Lachin, *Randomization in Clinical Trials*, 2nd ed.,
Wiley 2016): two arms A and B, ``D_i = N_A(i) - N_B(i)``,
``phi_i = P(delta_i = 1 | history, newcomer's covariates)``.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

from .protocol import ARM_CODES, FACTORS, Factor, PatientRecordError, Sourced, check_patient_factors

__all__ = [
    "ARMS",
    "TIE_RULES",
    "IMBALANCE_MEASURES",
    "AllocationLog",
    "AllocationLogError",
    "Assignment",
    "BigStick",
    "CompleteRandomization",
    "EfronBiasedCoin",
    "MaximalProcedure",
    "PermutedBlock",
    "PocockSimon",
    "Procedure",
    "StratifiedPermutedBlock",
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
    "expected_correct_guesses",
    "exact_summary",
    "imbalance_metrics",
    "imbalance_path",
    "minimization_scores",
    "run_procedure",
    "selection_bias_type1",
    "SELECTION_STRATEGIES",
    "simulate_correct_guesses",
    "simulate_patients",
    "simulate_trials",
    "tie_fraction",
    "verify_chain",
    "check_minimization_choice",
    "check_block_formula",
    "check_efron_limit",
]

ARMS: tuple[str, str] = (ARM_CODES[0], ARM_CODES[1])  # ("A", "B")
IMBALANCE_MEASURES: tuple[str, ...] = ("range", "variance", "sd", "taves")
TIE_RULES: tuple[str, ...] = ("random", "overall", "A", "B")
_TOL = 1e-9  # relative tolerance when comparing imbalance scores (SD scores are irrational)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def as_factors(factors: Any = None) -> tuple[Factor, ...]:
    """Normalise a ``factors`` argument to a tuple of :class:`~trialnb.protocol.Factor`.

    ``None`` means the protocol's three factors (:data:`trialnb.protocol.FACTORS`); a mapping
    ``name -> levels`` defines generic factors; a sequence of ``Factor`` objects is kept.
    """
    if factors is None:
        return FACTORS
    if isinstance(factors, Mapping):
        out = []
        for name, levels in factors.items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"factors: factor names must be non-empty strings, got {name!r}")
            if isinstance(levels, str) or not isinstance(levels, Iterable):
                raise ValueError(f"factors[{name!r}]: levels must be a sequence of strings, got {levels!r}")
            lv = tuple(levels)
            if len(lv) < 1 or len(set(lv)) != len(lv) or not all(isinstance(x, str) for x in lv):
                raise ValueError(
                    f"factors[{name!r}]: levels must be distinct strings (at least one), got {lv!r}"
                )
            out.append(Factor(name, name, lv, {x: x for x in lv}, Sourced("user-supplied factor")))
        if not out:
            raise ValueError("factors: at least one factor is required")
        return tuple(out)
    try:
        fs = tuple(factors)
    except TypeError:
        raise ValueError(
            f"factors must be None, a mapping name -> levels or a sequence of Factor, got {factors!r}"
        ) from None
    if not fs or not all(isinstance(f, Factor) for f in fs):
        raise ValueError("factors: a sequence must contain trialnb.protocol.Factor objects (at least one)")
    return fs


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy Generator (e.g. numpy.random.default_rng(2026)), got {type(rng).__name__}"
        )
    return rng


def _check_arm(arm: Any) -> str:
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {', '.join(ARMS)}, got {arm!r}")
    return arm


def _check_prob(p: Any, name: str, lo: float, hi: float, lo_open: bool = False) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not math.isfinite(p):
        raise ValueError(f"{name} must be a number, got {p!r}")
    if p < lo or p > hi or (lo_open and p == lo):
        bracket = "(" if lo_open else "["
        raise ValueError(f"{name} must lie in {bracket}{lo}, {hi}], got {p}")
    return float(p)


def _probs(p_a: float) -> dict[str, float]:
    return {ARMS[0]: float(p_a), ARMS[1]: float(1.0 - p_a)}


# --------------------------------------------------------------------------------------------
# the common interface
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    """One allocation: the arm, the exact probabilities used and why.

    ``explanation`` is a human-readable sentence; ``table`` (minimization only) holds the
    imbalance table per candidate arm as a list of row dicts (see :meth:`PocockSimon.table`).
    ``u`` is the single uniform drawn; ``deterministic`` is True when one arm had probability 1;
    ``tie`` is True when minimization found equal scores.
    """

    arm: str
    probabilities: dict[str, float]
    explanation: str
    sequence: int
    u: float
    deterministic: bool = False
    tie: bool = False
    patient: dict[str, str] | None = None
    table: tuple[dict[str, Any], ...] = ()
    scores: dict[str, float] | None = None


class Procedure:
    """Base class: state ``n_A``, ``n_B``, ``history`` and the shared interface.

    Subclasses implement ``_p_a(levels)`` (probability of A for the next patient, ``levels`` the
    validated factor levels or None) and ``_update(levels, arm, **kw)``.
    """

    name = "procedure"
    uses_factors = False
    _strict_record = False  # refuse to record an arm that has probability 0 (state would break)

    def __init__(self) -> None:
        self.n_a = 0
        self.n_b = 0
        self.history: list[tuple[dict[str, str] | None, str]] = []
        self.factors: tuple[Factor, ...] = FACTORS

    # ---- state --------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of patients allocated so far."""
        return self.n_a + self.n_b

    @property
    def imbalance(self) -> int:
        """D = N_A - N_B."""
        return self.n_a - self.n_b

    @property
    def arms(self) -> list[str]:
        """The allocated arms in order."""
        return [a for _, a in self.history]

    def settings(self) -> dict[str, Any]:
        """The procedure's parameters (for exports and logs)."""
        return {"procedure": self.name}

    def _levels(self, patient: Mapping[str, Any] | None) -> dict[str, str] | None:
        if self.uses_factors:
            if patient is None:
                raise PatientRecordError(
                    f"{self.name} needs the patient's factors ({', '.join(f.name for f in self.factors)})"
                )
            return {k: str(v) for k, v in check_patient_factors(patient, self.factors).items()}
        if patient is None:
            return None
        if not isinstance(patient, Mapping):
            raise PatientRecordError(
                f"a patient must be a mapping from factor name to level, got {type(patient).__name__}"
            )
        return {str(k): v for k, v in patient.items()}

    # ---- to implement -------------------------------------------------------------------
    def _p_a(self, levels: dict[str, str] | None) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, levels: dict[str, str] | None, arm: str, **kw: Any) -> None:
        pass

    def _explain(self, levels: dict[str, str] | None, p_a: float) -> str:
        return f"{self.name}: D = {self.imbalance:+d} before this patient; P(A) = {p_a:.4g}"

    # ---- interface ----------------------------------------------------------------------
    def probabilities(self, patient: Mapping[str, Any] | None = None) -> dict[str, float]:
        """Exact ``{"A": P(A), "B": P(B)}`` for the next patient (state unchanged)."""
        return _probs(self._p_a(self._levels(patient)))

    def record(self, patient: Mapping[str, Any] | None, arm: str, **kw: Any) -> None:
        """Add an allocation made elsewhere (replay). Validates the patient and the arm."""
        levels = self._levels(patient)
        arm = _check_arm(arm)
        if self._strict_record and self._p_a(levels) == (0.0 if arm == "A" else 1.0):
            raise ValueError(f"arm {arm!r} has probability 0 for this patient under {self.name}")
        self._update(levels, arm, **kw)
        if arm == "A":
            self.n_a += 1
        else:
            self.n_b += 1
        self.history.append((levels, arm))

    def assign(self, patient: Mapping[str, Any] | None = None, rng: np.random.Generator | None = None) -> Assignment:
        """Allocate the next patient: one uniform ``u``; arm A iff ``u < P(A)``."""
        rng = _check_rng(rng)
        levels = self._levels(patient)
        p_a = self._p_a(levels)
        expl = self._explain(levels, p_a)
        u = float(rng.random())
        arm = "A" if u < p_a else "B"
        extra = self._assign_extra(u, p_a, arm)
        seq = self.n + 1
        self.record(patient, arm, **extra)
        return Assignment(
            arm=arm,
            probabilities=_probs(p_a),
            explanation=expl,
            sequence=seq,
            u=u,
            deterministic=p_a in (0.0, 1.0),
            patient=levels,
        )

    def _assign_extra(self, u: float, p_a: float, arm: str) -> dict[str, Any]:
        return {}

    # ---- exact computations --------------------------------------------------------------
    def _state_key(self) -> Any:
        """Hashable summary of everything that determines future probabilities."""
        raise NotImplementedError(f"{self.name} has no finite state for exact computation")

    def _clone(self) -> "Procedure":
        new = copy.copy(self)
        new.history = []
        return new

    def _branches(self) -> list[tuple[float, "Procedure"]]:
        """Successor states with their probabilities (for exact dynamic programming)."""
        p_a = self._p_a(None)
        out = []
        for arm, p in (("A", p_a), ("B", 1.0 - p_a)):
            if p > 0:
                nxt = self._clone()
                nxt.record(None, arm)
                out.append((p, nxt))
        return out


class CompleteRandomization(Procedure):
    """Complete (simple) randomization: phi = 1/2 whatever the history."""

    name = "complete"

    def _p_a(self, levels: dict[str, str] | None) -> float:
        return 0.5

    def _state_key(self) -> Any:
        return (self.imbalance,)

    def _p_a_of_d(self, d: np.ndarray) -> np.ndarray:
        return np.full(d.shape, 0.5)


class EfronBiasedCoin(Procedure):
    """Efron's biased coin (1971): phi = 1/2 if D = 0, p if D < 0, 1 - p if D > 0."""

    name = "efron"

    def __init__(self, p: float = 2 / 3) -> None:
        super().__init__()
        self.p = _check_prob(p, "p", 0.5, 1.0)

    def settings(self) -> dict[str, Any]:
        return {"procedure": self.name, "p": self.p}

    def _p_a(self, levels: dict[str, str] | None) -> float:
        d = self.imbalance
        return 0.5 if d == 0 else (self.p if d < 0 else 1.0 - self.p)

    def _state_key(self) -> Any:
        return (self.imbalance,)

    def _p_a_of_d(self, d: np.ndarray) -> np.ndarray:
        return np.where(d == 0, 0.5, np.where(d < 0, self.p, 1.0 - self.p))


class BigStick(Procedure):
    """Big stick design (Soares & Wu 1983): phi = 1/2 while |D| < b, forced toward balance at |D| = b."""

    name = "big_stick"

    def __init__(self, max_imbalance: int = 3) -> None:
        super().__init__()
        if isinstance(max_imbalance, bool) or not isinstance(max_imbalance, (int, np.integer)) or max_imbalance < 1:
            raise ValueError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
        self.max_imbalance = int(max_imbalance)

    def settings(self) -> dict[str, Any]:
        return {"procedure": self.name, "max_imbalance": self.max_imbalance}

    def _p_a(self, levels: dict[str, str] | None) -> float:
        d = self.imbalance
        if d >= self.max_imbalance:
            return 0.0
        if d <= -self.max_imbalance:
            return 1.0
        return 0.5

    def _state_key(self) -> Any:
        return (self.imbalance,)

    def _p_a_of_d(self, d: np.ndarray) -> np.ndarray:
        b = self.max_imbalance
        return np.where(d >= b, 0.0, np.where(d <= -b, 1.0, 0.5))


class MaximalProcedure(Procedure):
    """Maximal procedure (Berger, Ivanova & Knoll 2003).

    All sequences of length ``n`` with ``|D_i| <= b`` for every i and ``D_n = 0`` are equally
    likely. Sampled sequentially with completion counts: ``phi = C(i+1, D+1) / C(i, D)`` where
    ``C(i, d)`` is the number of admissible completions from imbalance d after i allocations.
    """

    name = "maximal"
    _strict_record = True

    def __init__(self, n: int, max_imbalance: int = 3) -> None:
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or n % 2:
            raise ValueError(f"n must be an even integer >= 2 (the sequence ends balanced), got {n!r}")
        if isinstance(max_imbalance, bool) or not isinstance(max_imbalance, (int, np.integer)) or max_imbalance < 1:
            raise ValueError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
        self.total = int(n)
        self.max_imbalance = int(max_imbalance)
        b = self.max_imbalance
        # completions[i][d + b]: admissible ways to finish from imbalance d after i allocations
        comp = [[0] * (2 * b + 1) for _ in range(self.total + 1)]
        comp[self.total][b] = 1
        for i in range(self.total - 1, -1, -1):
            for d in range(-b, b + 1):
                c = 0
                if d + 1 <= b:
                    c += comp[i + 1][d + 1 + b]
                if d - 1 >= -b:
                    c += comp[i + 1][d - 1 + b]
                comp[i][d + b] = c
        self._comp = comp

    @property
    def n_sequences(self) -> int:
        """Number of admissible sequences (each has probability 1 / n_sequences)."""
        return self._comp[0][self.max_imbalance]

    def settings(self) -> dict[str, Any]:
        return {"procedure": self.name, "n": self.total, "max_imbalance": self.max_imbalance}

    def _p_a(self, levels: dict[str, str] | None) -> float:
        i, d, b = self.n, self.imbalance, self.max_imbalance
        if i >= self.total:
            raise ValueError(f"the maximal procedure was set up for n = {self.total} patients; all are allocated")
        here = self._comp[i][d + b]
        up = self._comp[i + 1][d + 1 + b] if d + 1 <= b else 0
        return up / here

    def _state_key(self) -> Any:
        return (self.n, self.imbalance)


class PermutedBlock(Procedure):
    """Permuted blocks (random allocation rule within each block).

    ``block_sizes``: even sizes; with several, each new block's size is drawn with
    ``block_weights`` (default equal). Within a block of size 2m with a A's and b B's so far,
    phi = (m - a) / (2m - a - b). To keep one uniform per allocation, the new block's size is
    taken from the same uniform: after deciding the arm with ``u < 1/2``, the rescaled
    remainder (uniform and independent of the arm) picks the size.
    """

    name = "permuted_block"
    _strict_record = True

    def __init__(self, block_sizes: Sequence[int] = (4,), block_weights: Sequence[float] | None = None) -> None:
        super().__init__()
        sizes = tuple(block_sizes) if not isinstance(block_sizes, (int, np.integer)) else (int(block_sizes),)
        if not sizes or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 2 or s % 2 for s in sizes
        ):
            raise ValueError(f"block_sizes must be even integers >= 2, got {block_sizes!r}")
        if len(set(sizes)) != len(sizes):
            raise ValueError(f"block_sizes must be distinct, got {block_sizes!r}")
        if block_weights is None:
            w = [1.0 / len(sizes)] * len(sizes)
        else:
            w = [float(x) for x in block_weights]
            if len(w) != len(sizes) or any((not math.isfinite(x)) or x < 0 for x in w) or sum(w) <= 0:
                raise ValueError(
                    f"block_weights must be {len(sizes)} non-negative numbers with a positive sum, got {block_weights!r}"
                )
            total = sum(w)
            w = [x / total for x in w]
        self.block_sizes = tuple(int(s) for s in sizes)
        self.block_weights = tuple(w)
        self.block_size: int | None = None  # size of the current block (None: between blocks)
        self.block_a = 0
        self.block_b = 0
        self.block_log: list[int] = []  # sizes of the blocks started so far (for replay and audit)

    def settings(self) -> dict[str, Any]:
        return {
            "procedure": self.name,
            "block_sizes": list(self.block_sizes),
            "block_weights": list(self.block_weights),
        }

    @property
    def random_sizes(self) -> bool:
        return sum(1 for w in self.block_weights if w > 0) > 1

    def _p_a(self, levels: dict[str, str] | None) -> float:
        if self.block_size is None:
            return 0.5
        m = self.block_size // 2
        return (m - self.block_a) / (self.block_size - self.block_a - self.block_b)

    def _size_from_uniform(self, v: float) -> int:
        acc = 0.0
        for s, w in zip(self.block_sizes, self.block_weights):
            acc += w
            if v < acc:
                return s
        return [s for s, w in zip(self.block_sizes, self.block_weights) if w > 0][-1]

    def _assign_extra(self, u: float, p_a: float, arm: str) -> dict[str, Any]:
        if self.block_size is not None:
            return {}
        v = u / 0.5 if arm == "A" else (u - 0.5) / 0.5
        return {"block_size": self._size_from_uniform(v)}

    def _update(self, levels: dict[str, str] | None, arm: str, block_size: int | None = None, **kw: Any) -> None:
        if self.block_size is None:
            if block_size is None:
                if self.random_sizes:
                    raise ValueError(
                        "block_size is required when recording the first allocation of a block "
                        f"with random block sizes {self.block_sizes}"
                    )
                block_size = next(s for s, w in zip(self.block_sizes, self.block_weights) if w > 0)
            if block_size not in self.block_sizes:
                raise ValueError(f"block_size must be one of {self.block_sizes}, got {block_size!r}")
            self.block_size = int(block_size)
            self.block_a = self.block_b = 0
            self.block_log = self.block_log + [self.block_size]
        if arm == "A":
            self.block_a += 1
        else:
            self.block_b += 1
        if self.block_a + self.block_b == self.block_size:
            self.block_size = None

    def _explain(self, levels: dict[str, str] | None, p_a: float) -> str:
        if self.block_size is None:
            return f"{self.name}: new block (sizes {self.block_sizes}); P(A) = 0.5"
        return (
            f"{self.name}: block of {self.block_size} with {self.block_a} A and {self.block_b} B so far; "
            f"P(A) = {p_a:.4g}"
        )

    def _state_key(self) -> Any:
        return (self.imbalance, self.block_size, self.block_a, self.block_b)

    def _branches(self) -> list[tuple[float, "Procedure"]]:
        if self.block_size is not None:
            return super()._branches()
        out = []
        for s, w in zip(self.block_sizes, self.block_weights):
            if w <= 0:
                continue
            for arm in ARMS:
                nxt = self._clone()
                nxt.record(None, arm, block_size=s)
                out.append((0.5 * w, nxt))
        return out


class StratifiedPermutedBlock(Procedure):
    """Permuted blocks run independently within each stratum (12 for the protocol's factors)."""

    name = "stratified_permuted_block"
    uses_factors = True

    def __init__(
        self,
        factors: Any = None,
        block_sizes: Sequence[int] = (4,),
        block_weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        self.factors = as_factors(factors)
        self._template = PermutedBlock(block_sizes, block_weights)
        self.block_sizes = self._template.block_sizes
        self.block_weights = self._template.block_weights
        self.blocks: dict[tuple[str, ...], PermutedBlock] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "procedure": self.name,
            "factors": {f.name: list(f.levels) for f in self.factors},
            "block_sizes": list(self.block_sizes),
            "block_weights": list(self.block_weights),
        }

    def stratum(self, levels: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(levels[f.name] for f in self.factors)

    def _block(self, levels: dict[str, str]) -> PermutedBlock:
        key = self.stratum(levels)
        if key not in self.blocks:
            self.blocks[key] = PermutedBlock(self.block_sizes, self.block_weights)
        return self.blocks[key]

    def _p_a(self, levels: dict[str, str] | None) -> float:
        assert levels is not None
        key = self.stratum(levels)
        return self.blocks[key]._p_a(None) if key in self.blocks else 0.5

    def _assign_extra(self, u: float, p_a: float, arm: str) -> dict[str, Any]:
        # the block of the current stratum decides (same rescaling rule as PermutedBlock)
        return {"_u": u, "_p": p_a}

    def _update(self, levels: dict[str, str] | None, arm: str, block_size: int | None = None, **kw: Any) -> None:
        assert levels is not None
        blk = self._block(levels)
        if "_u" in kw:
            extra = blk._assign_extra(kw["_u"], kw["_p"], arm)
            block_size = extra.get("block_size", block_size)
        blk.record(None, arm, block_size=block_size)

    def _explain(self, levels: dict[str, str] | None, p_a: float) -> str:
        assert levels is not None
        key = self.stratum(levels)
        blk = self.blocks.get(key)
        inner = blk._explain(None, p_a) if blk is not None else "new block; P(A) = 0.5"
        return f"stratum {'/'.join(key)}: " + inner


@dataclass(frozen=True)
class _MinimizationResult:
    scores: dict[str, float]
    rows: tuple[dict[str, Any], ...]
    tie: bool
    preferred: str | None  # arm with the smaller G (None on a tie)
    p_a: float


def minimization_scores(
    counts: Mapping[str, Mapping[str, Sequence[int]]],
    levels: Mapping[str, str],
    measure: str = "range",
    weights: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], tuple[dict[str, Any], ...]]:
    """Pocock-Simon scores ``G_t = sum_i w_i d_it`` for each candidate arm t.

    ``counts[factor][level] = (x_A, x_B)`` are the patients already on each arm; ``levels`` the
    newcomer's levels r_i. For candidate t the newcomer is added to t and d_it is the
    imbalance of the counts at level r_i: range (max - min), variance (sample variance,
    ``ddof = 1`` as in R's ``var``), sd (its square root) or taves (the marginal total
    already on t, Taves 1974, i.e. without adding the newcomer). Returns the scores and one
    row per factor (the table a reviewer checks by hand).
    """
    if measure not in IMBALANCE_MEASURES:
        raise ValueError(f"imbalance must be one of {', '.join(IMBALANCE_MEASURES)}, got {measure!r}")
    scores = {t: 0.0 for t in ARMS}
    rows = []
    for fname, lvl in levels.items():
        x = [int(c) for c in counts[fname][lvl]]
        w = 1.0 if weights is None else float(weights[fname])
        row: dict[str, Any] = {"factor": fname, "level": lvl, "weight": w, "n_A": x[0], "n_B": x[1]}
        for k, t in enumerate(ARMS):
            y = list(x)
            if measure != "taves":
                y[k] += 1
            if measure == "range":
                d = float(max(y) - min(y))
            elif measure == "taves":
                d = float(y[k])
            else:
                mean = sum(y) / len(y)
                var = sum((v - mean) ** 2 for v in y) / (len(y) - 1)
                d = var if measure == "variance" else math.sqrt(var)
            row[f"d_if_{t}"] = d
            scores[t] += w * d
        rows.append(row)
    return scores, tuple(rows)


class PocockSimon(Procedure):
    """Minimization (Pocock & Simon 1975) with a named imbalance measure.

    Parameters
    ----------
    factors: ``None`` (the protocol's three factors), a mapping ``name -> levels`` or a
        sequence of :class:`~trialnb.protocol.Factor`.
    p: probability given to the arm with the smaller score G (0.5 < p <= 1; p = 1 with random
        ties is Taves' deterministic minimization).
    imbalance: "range" (Pocock & Simon's default), "variance", "sd" or "taves".
    weights: factor weights w_i (mapping name -> positive number or a sequence in factor
        order); default 1 for every factor.
    tie_rule: what equal scores give: "random" (1/2 each), "overall" (the arm with fewer
        patients overall gets p, 1/2 if the arms are also equal), "A" or "B" (that arm gets p).
    random_element: rate r in [0, 1]: with probability r the allocation ignores the scores
        and is a fair coin, so the minimizing arm's *effective* probability is
        ``(1 - r) p + r / 2`` (:attr:`effective_p`), not ``1 - r``.

    Scores are compared with a relative tolerance of 1e-9 so that exact ties under "range"
    stay ties under "sd" (SD scores are sums of irrational numbers).
    """

    name = "pocock_simon"
    uses_factors = True

    def __init__(
        self,
        factors: Any = None,
        p: float = 0.8,
        imbalance: str = "range",
        weights: Mapping[str, float] | Sequence[float] | None = None,
        tie_rule: str = "random",
        random_element: float = 0.0,
    ) -> None:
        super().__init__()
        self.factors = as_factors(factors)
        self.p = _check_prob(p, "p", 0.5, 1.0, lo_open=True)
        if imbalance not in IMBALANCE_MEASURES:
            raise ValueError(f"imbalance must be one of {', '.join(IMBALANCE_MEASURES)}, got {imbalance!r}")
        self.imbalance_measure = imbalance
        names = [f.name for f in self.factors]
        if weights is None:
            w = {n: 1.0 for n in names}
        elif isinstance(weights, Mapping):
            unknown = set(weights) - set(names)
            missing = set(names) - set(weights)
            if unknown or missing:
                raise ValueError(
                    f"weights must name exactly the factors {names}; unknown: {sorted(unknown)}, missing: {sorted(missing)}"
                )
            w = {n: float(weights[n]) for n in names}
        else:
            ws = list(weights)
            if len(ws) != len(names):
                raise ValueError(f"weights must have one number per factor ({len(names)}: {names}), got {len(ws)}")
            w = {n: float(x) for n, x in zip(names, ws)}
        if any((not math.isfinite(x)) or x <= 0 for x in w.values()):
            raise ValueError(f"weights must be positive finite numbers, got {w}")
        self.weights = w
        if tie_rule not in TIE_RULES:
            raise ValueError(f"tie_rule must be one of {', '.join(TIE_RULES)}, got {tie_rule!r}")
        self.tie_rule = tie_rule
        self.random_element = _check_prob(random_element, "random_element", 0.0, 1.0)
        self.counts: dict[str, dict[str, list[int]]] = {
            f.name: {lv: [0, 0] for lv in f.levels} for f in self.factors
        }

    @property
    def effective_p(self) -> float:
        """Probability that the minimizing arm is chosen: (1 - r) p + r / 2."""
        return (1.0 - self.random_element) * self.p + self.random_element / 2.0

    def settings(self) -> dict[str, Any]:
        return {
            "procedure": self.name,
            "factors": {f.name: list(f.levels) for f in self.factors},
            "p": self.p,
            "imbalance": self.imbalance_measure,
            "weights": dict(self.weights),
            "tie_rule": self.tie_rule,
            "random_element": self.random_element,
            "effective_p": self.effective_p,
        }

    def _clone(self) -> "PocockSimon":
        new = copy.copy(self)
        new.history = []
        new.counts = {f: {lv: list(c) for lv, c in d.items()} for f, d in self.counts.items()}
        return new

    def _result(self, levels: dict[str, str]) -> _MinimizationResult:
        scores, rows = minimization_scores(self.counts, levels, self.imbalance_measure, self.weights)
        ga, gb = scores["A"], scores["B"]
        tie = math.isclose(ga, gb, rel_tol=_TOL, abs_tol=_TOL)
        pe = round(self.effective_p, 12)  # so that 1 - pe prints as 0.2, not 0.19999999999999996
        if not tie:
            preferred = "A" if ga < gb else "B"
            p_a = pe if preferred == "A" else round(1.0 - pe, 12)
        else:
            preferred = None
            if self.tie_rule == "random":
                p_a = 0.5
            elif self.tie_rule == "overall":
                d = self.imbalance
                p_a = 0.5 if d == 0 else (pe if d < 0 else round(1.0 - pe, 12))
            else:
                p_a = pe if self.tie_rule == "A" else round(1.0 - pe, 12)
        return _MinimizationResult(scores, rows, tie, preferred, p_a)

    def _p_a(self, levels: dict[str, str] | None) -> float:
        assert levels is not None
        return self._result(levels).p_a

    def table(self, patient: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The imbalance table for this patient: one row per factor plus a row ``G`` of totals.

        Columns: factor, level (the newcomer's), weight, n_A, n_B (patients already on each
        arm at that level), d_if_A, d_if_B (the factor's imbalance if the newcomer went to A/B).
        """
        levels = self._levels(patient)
        assert levels is not None
        return list(self._table_rows(self._result(levels)))

    def _explain(self, levels: dict[str, str] | None, p_a: float) -> str:
        assert levels is not None
        return self._explain_result(self._result(levels))

    def _explain_result(self, r: _MinimizationResult) -> str:
        g = f"G_A = {r.scores['A']:.4g}, G_B = {r.scores['B']:.4g} ({self.imbalance_measure})"
        how = f"tie, rule '{self.tie_rule}'" if r.tie else f"arm {r.preferred} minimizes imbalance"
        extra = (
            f"; random element r = {self.random_element:g} gives effective p = {self.effective_p:.4g}"
            if self.random_element > 0
            else ""
        )
        return f"{g}: {how}; P(A) = {r.p_a:.4g}, P(B) = {1 - r.p_a:.4g}{extra}"

    def _update(self, levels: dict[str, str] | None, arm: str, **kw: Any) -> None:
        assert levels is not None
        k = 0 if arm == "A" else 1
        for fname, lvl in levels.items():
            self.counts[fname][lvl][k] += 1

    def _table_rows(self, r: _MinimizationResult) -> tuple[dict[str, Any], ...]:
        total = {"factor": "G (weighted sum)", "level": "", "weight": None, "n_A": None, "n_B": None,
                 "d_if_A": r.scores["A"], "d_if_B": r.scores["B"]}
        return tuple(dict(x) for x in r.rows) + (total,)

    def assign(self, patient: Mapping[str, Any] | None = None, rng: np.random.Generator | None = None) -> Assignment:
        """Allocate by minimization; the Assignment carries the imbalance table and scores."""
        rng = _check_rng(rng)
        levels = self._levels(patient)
        assert levels is not None
        r = self._result(levels)
        expl = self._explain_result(r)
        u = float(rng.random())
        arm = "A" if u < r.p_a else "B"
        seq = self.n + 1
        self._update(levels, arm)
        if arm == "A":
            self.n_a += 1
        else:
            self.n_b += 1
        self.history.append((levels, arm))
        return Assignment(
            arm=arm,
            probabilities=_probs(r.p_a),
            explanation=expl,
            sequence=seq,
            u=u,
            deterministic=r.p_a in (0.0, 1.0),
            tie=r.tie,
            patient=levels,
            table=self._table_rows(r),
            scores=dict(r.scores),
        )

    def marginal_counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{factor: {level: {"A": n, "B": n}}}`` of the patients allocated so far."""
        return {f: {lv: {"A": c[0], "B": c[1]} for lv, c in d.items()} for f, d in self.counts.items()}


# --------------------------------------------------------------------------------------------
# running procedures, patients
# --------------------------------------------------------------------------------------------

DEFAULT_FACTOR_FREQUENCIES: dict[str, dict[str, float]] = {
    # trialnb.population.FACTOR_FREQUENCIES (references/clinical_evidence.md section 5): dominant site
    # bone 0.45, visceral 0.45, soft tissue 0.10; HR+ 0.75; HER2+ 0.25; drawn independently.
    "dominant_site": {"bone": 0.45, "soft_tissue": 0.10, "visceral": 0.45},
    "hormone_receptor": {"positive": 0.75, "negative": 0.25},
    "her2": {"positive": 0.25, "negative": 0.75},
}


def simulate_patients(
    n: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, str]]:
    """``n`` patients whose factor levels are drawn independently with ``frequencies``.

    Default :data:`DEFAULT_FACTOR_FREQUENCIES` (clinical_evidence.md section 3). Draws one
    vectorised categorical sample per factor, in the mapping's order.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rng = _check_rng(rng)
    freqs = DEFAULT_FACTOR_FREQUENCIES if frequencies is None else frequencies
    cols: dict[str, np.ndarray] = {}
    for fname, lv in freqs.items():
        levels = list(lv)
        p = np.array([float(lv[x]) for x in levels])
        if np.any(p < 0) or not math.isclose(p.sum(), 1.0, abs_tol=1e-9):
            raise ValueError(f"frequencies[{fname!r}] must be non-negative and sum to 1, got {dict(lv)}")
        cols[fname] = np.array(levels, dtype=object)[rng.choice(len(levels), size=int(n), p=p / p.sum())]
    return [{f: str(cols[f][i]) for f in cols} for i in range(int(n))]


def run_procedure(
    procedure: Procedure, patients: Sequence[Mapping[str, Any]] | int, rng: np.random.Generator
) -> list[Assignment]:
    """Allocate ``patients`` in order (or ``n`` patients without factors if an int is given)."""
    rng = _check_rng(rng)
    if isinstance(patients, (int, np.integer)) and not isinstance(patients, bool):
        return [procedure.assign(None, rng) for _ in range(int(patients))]
    return [procedure.assign(p, rng) for p in patients]


# --------------------------------------------------------------------------------------------
# metrics for one finished sequence
# --------------------------------------------------------------------------------------------


def _deltas(arms: Sequence[str] | Iterable[Assignment]) -> np.ndarray:
    out = []
    for a in arms:
        arm = a.arm if isinstance(a, Assignment) else a
        out.append(1 if _check_arm(arm) == "A" else 0)
    return np.asarray(out, dtype=int)


def imbalance_path(arms: Sequence[str] | Iterable[Assignment]) -> np.ndarray:
    """D_1, ..., D_n (D_i = N_A(i) - N_B(i))."""
    d = _deltas(arms)
    return np.cumsum(2 * d - 1)


def imbalance_metrics(arms: Sequence[str] | Iterable[Assignment]) -> dict[str, float]:
    """Final D_n, |D_n|, max_i |D_i|, loss D_n^2 / n and RMS of the path sqrt(mean_i D_i^2)."""
    path = imbalance_path(arms)
    if path.size == 0:
        raise ValueError("arms must contain at least one allocation")
    n = path.size
    return {
        "n": int(n),
        "final": int(path[-1]),
        "abs_final": int(abs(path[-1])),
        "max_abs": int(np.max(np.abs(path))),
        "loss": float(path[-1] ** 2 / n),
        "rms": float(np.sqrt(np.mean(path.astype(float) ** 2))),
    }


def correct_guess_proportion(arms: Sequence[str] | Iterable[Assignment]) -> float:
    """Proportion of correct guesses under the convergence strategy (Blackwell & Hodges 1957).

    Before each allocation the observer guesses the arm allocated less often so far; a tie
    scores 1/2.
    """
    d = _deltas(arms)
    if d.size == 0:
        raise ValueError("arms must contain at least one allocation")
    before = np.concatenate([[0], np.cumsum(2 * d - 1)[:-1]])
    score = np.where(before == 0, 0.5, np.where(before < 0, d == 1, d == 0).astype(float))
    return float(score.mean())


def deterministic_fraction(assignments: Sequence[Assignment]) -> float:
    """Fraction of allocations where one arm had probability 1 (forced)."""
    if not assignments:
        raise ValueError("assignments must not be empty")
    return float(np.mean([a.deterministic for a in assignments]))


def tie_fraction(assignments: Sequence[Assignment]) -> float:
    """tau: fraction of minimization allocations made on tied scores G_A = G_B."""
    if not assignments:
        raise ValueError("assignments must not be empty")
    return float(np.mean([a.tie for a in assignments]))


def covariate_balance(
    patients: Sequence[Mapping[str, Any]],
    arms: Sequence[str] | Iterable[Assignment],
    factors: Any = None,
) -> "pd.DataFrame":
    """Arm counts and D = n_A - n_B overall, within each stratum and within each margin.

    Columns: scope ("overall", "stratum", "margin"), group, n_A, n_B, D, abs_D.
    """
    import pandas as pd

    fs = as_factors(factors)
    d = _deltas(arms)
    if len(patients) != d.size:
        raise ValueError(f"patients and arms must have the same length, got {len(patients)} and {d.size}")
    levels = [check_patient_factors(p, fs) for p in patients]
    rows = []

    def add(scope: str, group: str, mask: np.ndarray) -> None:
        na = int(np.sum(d[mask] == 1))
        nb = int(np.sum(d[mask] == 0))
        rows.append({"scope": scope, "group": group, "n_A": na, "n_B": nb, "D": na - nb, "abs_D": abs(na - nb)})

    add("overall", "all", np.ones(d.size, bool))
    from .protocol import strata as _strata

    keys = np.array(["/".join(lv[f.name] for f in fs) for lv in levels], dtype=object)
    for combo in _strata(fs):
        add("stratum", "/".join(combo), keys == "/".join(combo))
    for f in fs:
        col = np.array([lv[f.name] for lv in levels], dtype=object)
        for lvl in f.levels:
            add("margin", f"{f.name}={lvl}", col == lvl)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# exact values
# --------------------------------------------------------------------------------------------


def exact_summary(procedure_factory: Callable[[], Procedure], n: int) -> dict[str, Any]:
    """EXACT summary of the first n allocations by dynamic programming over the procedure state.

    The distribution of the procedure's finite state (imbalance D; plus the position in the
    current block for permuted blocks; plus the step for the maximal procedure) is propagated
    one allocation at a time. Returns

    * ``correct_guess``: expected proportion of correct convergence-strategy guesses, the
      mean over steps of sum_state P(state) * (1/2 if D = 0, else P(arm allocated less often));
    * ``deterministic``: expected fraction of forced allocations (P(A) in {0, 1});
    * ``imbalance_distribution``: ``{d: P(D_n = d)}``;
    * ``expected_abs_imbalance``: E|D_n|.

    Works for :class:`CompleteRandomization`, :class:`PermutedBlock` (fixed and random
    sizes), :class:`EfronBiasedCoin`, :class:`BigStick` and :class:`MaximalProcedure`.
    """
    if not callable(procedure_factory):
        raise ValueError("procedure_factory must be a zero-argument callable returning a fresh procedure")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    n = int(n)
    proc = procedure_factory()
    if not isinstance(proc, Procedure):
        raise ValueError(f"procedure_factory must return a Procedure, got {type(proc).__name__}")
    if proc.uses_factors:
        raise ValueError(
            f"{proc.name} depends on the patients' covariates; no exact value — use simulate_correct_guesses"
        )
    if proc.n:
        raise ValueError("procedure_factory must return a fresh procedure (no allocations yet)")
    if isinstance(proc, MaximalProcedure) and n > proc.total:
        raise ValueError(f"n must be <= the maximal procedure's n = {proc.total}, got {n}")
    try:
        proc._state_key()
    except NotImplementedError as exc:
        raise ValueError(str(exc)) from None
    correct = 0.0
    forced = 0.0
    if hasattr(proc, "_p_a_of_d"):
        # Markov chain over D alone: vectorised over all reachable imbalances -n..n
        d = np.arange(-n, n + 1)
        w = np.zeros(d.size)
        w[n] = 1.0
        for _ in range(n):
            pa = proc._p_a_of_d(d)
            correct += float(np.sum(w * np.where(d == 0, 0.5, np.where(d < 0, pa, 1.0 - pa))))
            forced += float(np.sum(w * ((pa == 0.0) | (pa == 1.0))))
            nw = np.zeros_like(w)
            nw[1:] += (w * pa)[:-1]
            nw[:-1] += (w * (1.0 - pa))[1:]
            w = nw
        dist = {int(k): float(v) for k, v in zip(d, w) if v > 0}
    else:
        states: dict[Any, tuple[float, Procedure]] = {proc._state_key(): (1.0, proc)}
        for _ in range(n):
            new: dict[Any, tuple[float, Procedure]] = {}
            for wt, pr in states.values():
                p_a = pr._p_a(None)
                dd = pr.imbalance
                correct += wt * (0.5 if dd == 0 else (p_a if dd < 0 else 1.0 - p_a))
                forced += wt * (p_a in (0.0, 1.0))
                for q, nxt in pr._branches():
                    k = nxt._state_key()
                    if k in new:
                        new[k] = (new[k][0] + wt * q, new[k][1])
                    else:
                        new[k] = (wt * q, nxt)
            states = new
        dist = {}
        for wt, pr in states.values():
            dist[pr.imbalance] = dist.get(pr.imbalance, 0.0) + wt
    dist = dict(sorted(dist.items()))
    return {
        "n": n,
        "correct_guess": correct / n,
        "deterministic": forced / n,
        "imbalance_distribution": dist,
        "expected_abs_imbalance": float(sum(abs(k) * v for k, v in dist.items())),
    }


def expected_correct_guesses(procedure_factory: Callable[[], Procedure], n: int) -> float:
    """EXACT expected proportion of correct convergence-strategy guesses over the first n allocations.

    ``procedure_factory`` is a zero-argument callable returning a fresh procedure, e.g.
    ``lambda: EfronBiasedCoin(p=2/3)``. Computed by :func:`exact_summary` (a Markov chain over
    the imbalance, or dynamic programming over the procedure state).
    """
    return float(exact_summary(procedure_factory, n)["correct_guess"])


def block_correct_guesses_closed_form(block_size: int) -> float:
    """E_m = m + 2^(2m-1) / C(2m, m) - 1/2: expected correct guesses in one block of 2m."""
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or block_size < 2 or block_size % 2:
        raise ValueError(f"block_size must be an even integer >= 2, got {block_size!r}")
    m = int(block_size) // 2
    return m + 2 ** (2 * m - 1) / math.comb(2 * m, m) - 0.5


def efron_long_run(p: float = 2 / 3) -> float:
    """Long-run correct-guess proportion of Efron's coin: (4p - 1) / (4p)."""
    p = _check_prob(p, "p", 0.5, 1.0)
    return (4 * p - 1) / (4 * p)


def bigstick_long_run(max_imbalance: int = 3) -> float:
    """Long-run correct-guess proportion of the big stick design: 1/2 + 1/(4b)."""
    if isinstance(max_imbalance, bool) or not isinstance(max_imbalance, (int, np.integer)) or max_imbalance < 1:
        raise ValueError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
    return 0.5 + 1 / (4 * int(max_imbalance))


# --------------------------------------------------------------------------------------------
# simulations
# --------------------------------------------------------------------------------------------


def _check_count(x: Any, name: str, lo: int = 1) -> int:
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def _simulate_deltas(
    procedure_factory: Callable[[], Procedure],
    n: int,
    n_sim: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[np.ndarray, list[list[dict[str, str]] | None], list[list[Assignment]]]:
    """(n_sim, n) 0/1 matrix of A allocations; patients from one stream, uniforms from another."""
    rng_pat, rng_alloc = rng.spawn(2)
    out = np.zeros((n_sim, n), dtype=int)
    pats_all: list[list[dict[str, str]] | None] = []
    assigns_all: list[list[Assignment]] = []
    for s in range(n_sim):
        proc = procedure_factory()
        pats = simulate_patients(n, rng_pat, frequencies) if proc.uses_factors else None
        asg = run_procedure(proc, pats if pats is not None else n, rng_alloc)
        out[s] = [1 if a.arm == "A" else 0 for a in asg]
        pats_all.append(pats)
        assigns_all.append(asg)
    return out, pats_all, assigns_all


def simulate_correct_guesses(
    procedure_factory: Callable[[], Procedure], n: int, n_sim: int, rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> tuple[float, float]:
    """Simulated counterpart of :func:`expected_correct_guesses`: (mean proportion, its SE)."""
    n, n_sim = _check_count(n, "n"), _check_count(n_sim, "n_sim", 2)
    rng = _check_rng(rng)
    deltas, _, _ = _simulate_deltas(procedure_factory, n, n_sim, rng, frequencies)
    props = np.array([correct_guess_proportion(["A" if x else "B" for x in row]) for row in deltas])
    return float(props.mean()), float(props.std(ddof=1) / math.sqrt(n_sim))


def simulate_trials(
    procedure_factory: Callable[[], Procedure],
    n: int,
    n_sim: int,
    rng: np.random.Generator,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
    factors: Any = None,
) -> "pd.DataFrame":
    """Per simulated trial: imbalance metrics, worst stratum and worst margin |D|, predictability.

    Columns: abs_final, max_abs, loss, rms, max_abs_stratum, max_abs_margin, correct_guess,
    deterministic, tie. Patients are drawn with ``frequencies`` from a stream independent of
    the allocation uniforms.
    """
    import pandas as pd

    n, n_sim = _check_count(n, "n"), _check_count(n_sim, "n_sim")
    rng = _check_rng(rng)
    fs = as_factors(factors)
    rng_pat, rng_alloc = rng.spawn(2)
    rows = []
    for _ in range(n_sim):
        proc = procedure_factory()
        pats = simulate_patients(n, rng_pat, frequencies)
        asg = run_procedure(proc, pats if proc.uses_factors else n, rng_alloc)
        im = imbalance_metrics(asg)
        cb = covariate_balance(pats, asg, fs)
        rows.append(
            {
                "abs_final": im["abs_final"],
                "max_abs": im["max_abs"],
                "loss": im["loss"],
                "rms": im["rms"],
                "max_abs_stratum": int(cb.loc[cb.scope == "stratum", "abs_D"].max()),
                "max_abs_margin": int(cb.loc[cb.scope == "margin", "abs_D"].max()),
                "correct_guess": correct_guess_proportion(asg),
                "deterministic": deterministic_fraction(asg),
                "tie": tie_fraction(asg),
            }
        )
    return pd.DataFrame(rows)


def _ttest_reject(y: np.ndarray, deltas: np.ndarray, alpha: float) -> np.ndarray:
    """Row-wise pooled two-sample t-test of A vs B; True where p < alpha (NaN rows: False)."""
    from scipy.special import stdtr  # Student t CDF (lighter import than scipy.stats)

    na = deltas.sum(axis=1)
    nb = deltas.shape[1] - na
    ok = (na >= 2) & (nb >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (y * deltas).sum(axis=1) / na
        mb = (y * (1 - deltas)).sum(axis=1) / nb
        ssa = (((y - ma[:, None]) ** 2) * deltas).sum(axis=1)
        ssb = (((y - mb[:, None]) ** 2) * (1 - deltas)).sum(axis=1)
        df = na + nb - 2
        sp2 = (ssa + ssb) / df
        t = (ma - mb) / np.sqrt(sp2 * (1 / na + 1 / nb))
        p = 2 * stdtr(df, -np.abs(t))
    return ok & (p < alpha)


SELECTION_STRATEGIES: tuple[str, ...] = ("convergence", "favoured")


def selection_bias_type1(
    procedure_factory: Callable[[], Procedure],
    n: int,
    eta: float,
    n_sim: int,
    rng: np.random.Generator,
    alpha: float = 0.05,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
    strategy: str | Sequence[str] = "convergence",
) -> float | dict[str, float]:
    """Type-I error of the two-sample t-test under Blackwell-Hodges selection bias (Proschan 1994).

    No treatment effect; the response is N(0, 1) shifted by +eta when the investigator
    expects A, -eta when B is expected, 0 when no arm is expected. ``strategy``:

    * "convergence": expect the arm allocated less often overall so far (ties: none);
    * "favoured": an investigator who knows the procedure's whole state (e.g. the counts in
      the patient's stratum, or the minimization table) expects the arm with P > 1/2.

    A sequence of strategies returns ``{strategy: type-I error}`` computed on the same
    simulated allocations and the same response noise.
    """
    n, n_sim = _check_count(n, "n", 4), _check_count(n_sim, "n_sim")
    rng = _check_rng(rng)
    eta = float(eta)
    alpha = _check_prob(alpha, "alpha", 0.0, 1.0, lo_open=True)
    strategies = [strategy] if isinstance(strategy, str) else list(strategy)
    bad = [x for x in strategies if x not in SELECTION_STRATEGIES]
    if bad or not strategies:
        raise ValueError(f"strategy must be one of {', '.join(SELECTION_STRATEGIES)} (or a sequence of them), got {strategy!r}")
    rng_sim, rng_y = rng.spawn(2)
    deltas, _, assigns = _simulate_deltas(procedure_factory, n, n_sim, rng_sim, frequencies)
    noise = rng_y.standard_normal((n_sim, n))
    out: dict[str, float] = {}
    for strat in strategies:
        if strat == "convergence":
            before = np.concatenate([np.zeros((n_sim, 1), int), np.cumsum(2 * deltas - 1, axis=1)[:, :-1]], axis=1)
            expect = np.sign(-before)
        else:
            pa = np.array([[a.probabilities["A"] for a in row] for row in assigns])
            expect = np.sign(pa - 0.5)
        out[strat] = float(_ttest_reject(eta * expect + noise, deltas, alpha).mean())
    return out[strategy] if isinstance(strategy, str) else out


def chronological_bias_type1(
    procedure_factory: Callable[[], Procedure],
    n: int,
    theta: float,
    n_sim: int,
    rng: np.random.Generator,
    trend: str = "linear",
    alpha: float = 0.05,
    frequencies: Mapping[str, Mapping[str, float]] | None = None,
) -> float:
    """Type-I error of the t-test when a time trend theta * f(i) is added to N(0, 1) responses.

    ``trend``: "linear" f(i) = i/n, "log" f(i) = log(i)/log(n), "step" f(i) = 1 for i > n/2.
    """
    n, n_sim = _check_count(n, "n", 4), _check_count(n_sim, "n_sim")
    rng = _check_rng(rng)
    alpha = _check_prob(alpha, "alpha", 0.0, 1.0, lo_open=True)
    i = np.arange(1, n + 1, dtype=float)
    if trend == "linear":
        f = i / n
    elif trend == "log":
        f = np.log(i) / np.log(n)
    elif trend == "step":
        f = (i > n / 2).astype(float)
    else:
        raise ValueError(f"trend must be one of linear, log, step, got {trend!r}")
    rng_sim, rng_y = rng.spawn(2)
    deltas, _, _ = _simulate_deltas(procedure_factory, n, n_sim, rng_sim, frequencies)
    y = float(theta) * f[None, :] + rng_y.standard_normal((n_sim, n))
    return float(_ttest_reject(y, deltas, alpha).mean())


# --------------------------------------------------------------------------------------------
# audit log
# --------------------------------------------------------------------------------------------

GENESIS_HASH = "0" * 64


class AllocationLogError(ValueError):
    """An allocation log failed verification or was used incorrectly."""


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8")).hexdigest()


def verify_chain(
    entries: Sequence[Mapping[str, Any]], head: str | None = None, length: int | None = None
) -> list[str]:
    """Problems found in a hash-chained log (empty list: intact).

    Each entry's ``hash`` must equal sha256(previous hash + canonical JSON of the entry
    without its ``hash``), its ``prev_hash`` the previous entry's hash (the first: 64 zeros)
    and its ``seq`` 1, 2, ... An edited entry breaks its own hash; a deleted or reordered
    entry breaks the link and the numbering. Deleting the *last* entries is only visible
    against a ``head`` hash (or ``length``) kept elsewhere.
    """
    problems: list[str] = []
    prev = GENESIS_HASH
    for pos, e in enumerate(entries, start=1):
        body = {k: v for k, v in e.items() if k != "hash"}
        if e.get("seq") != pos:
            problems.append(f"entry {pos}: seq is {e.get('seq')!r}, expected {pos} (deleted or reordered entry)")
        if e.get("prev_hash") != prev:
            problems.append(f"entry {pos}: prev_hash does not match the previous entry (deleted or reordered entry)")
        try:
            h = _entry_hash(str(e.get("prev_hash")), body)
        except (TypeError, ValueError) as exc:
            problems.append(f"entry {pos}: not serialisable ({exc})")
            h = None
        if h != e.get("hash"):
            problems.append(f"entry {pos}: hash mismatch (entry edited)")
        prev = str(e.get("hash"))
    if length is not None and len(entries) != length:
        problems.append(f"log has {len(entries)} entries, expected {length} (entries deleted or added)")
    if head is not None and (entries[-1].get("hash") if entries else GENESIS_HASH) != head:
        problems.append("last hash differs from the recorded head (entries deleted or added at the end)")
    return problems


class AllocationLog:
    """Append-only, hash-chained allocation log around one procedure and one seed.

    :meth:`allocate` validates the patient's factors *before* anything happens (a bad record
    raises :class:`~trialnb.protocol.PatientRecordError` and nothing is drawn or logged),
    allocates with the procedure and appends an entry whose ``hash`` chains it to the
    previous one. :meth:`verify` re-checks the whole chain and the head hash.
    """

    def __init__(self, procedure: Procedure, seed: int, factors: Any = None, trial: str = "NCT04697043") -> None:
        if not isinstance(procedure, Procedure):
            raise ValueError(f"procedure must be a trialnb.randomization procedure, got {type(procedure).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.procedure = procedure
        self.seed = int(seed)
        self.trial = trial
        self.factors = as_factors(factors if factors is not None else (procedure.factors if procedure.uses_factors else None))
        self._rng = np.random.default_rng(self.seed)
        self._entries: list[dict[str, Any]] = []
        self._head = GENESIS_HASH
        self._length = 0
        self.assignments: list[Assignment] = []

    @property
    def head(self) -> str:
        """Hash of the last entry (publish it to make tail deletion detectable)."""
        return self._head

    @property
    def entries(self) -> list[dict[str, Any]]:
        """Copies of the entries (the log itself cannot be edited through them)."""
        return copy.deepcopy(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def allocate(self, patient: Mapping[str, Any], patient_id: str | None = None, timestamp: str | None = None) -> dict[str, Any]:
        """Validate, allocate and log one patient; return the logged entry (a copy)."""
        levels = {k: str(v) for k, v in check_patient_factors(patient, self.factors).items()}
        if patient_id is not None and not isinstance(patient_id, str):
            raise ValueError(f"patient_id must be a string or None, got {patient_id!r}")
        a = self.procedure.assign(levels, self._rng)
        self.assignments.append(a)
        seq = len(self._entries) + 1
        body = {
            "seq": seq,
            "trial": self.trial,
            "patient_id": patient_id if patient_id is not None else f"P{seq:04d}",
            "factors": levels,
            "stratum": "/".join(levels[f.name] for f in self.factors),
            "arm": a.arm,
            "p_A": a.probabilities["A"],
            "p_B": a.probabilities["B"],
            "u": a.u,
            "tie": a.tie,
            "explanation": a.explanation,
            "procedure": self.procedure.settings(),
            "seed": self.seed,
            "timestamp": timestamp,
            "prev_hash": self._head,
        }
        entry = dict(body, hash=_entry_hash(self._head, body))
        self._entries.append(entry)
        self._head = entry["hash"]
        self._length += 1
        return copy.deepcopy(entry)

    def problems(self) -> list[str]:
        """Everything :func:`verify_chain` finds, checked against the recorded head and length."""
        return verify_chain(self._entries, head=self._head, length=self._length)

    def verify(self) -> bool:
        """True iff no entry was edited, deleted, added or reordered."""
        return not self.problems()

    def to_csv(self) -> str:
        """The allocation list as CSV: seq, patient_id, one column per factor, stratum, arm,
        p_A, seed, procedure settings (JSON), hash."""
        buf = io.StringIO()
        names = [f.name for f in self.factors]
        cols = ["seq", "patient_id", *names, "stratum", "arm", "p_A", "seed", "procedure", "hash"]
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for e in self._entries:
            w.writerow(
                [e["seq"], e["patient_id"], *[e["factors"][n] for n in names], e["stratum"], e["arm"],
                 repr(e["p_A"]), e["seed"], _canonical(e["procedure"]), e["hash"]]
            )
        return buf.getvalue()


def allocation_list_csv(procedure: Procedure, patients: Sequence[Mapping[str, Any]], seed: int) -> str:
    """Allocate ``patients`` in order with a fresh :class:`AllocationLog` and return its CSV."""
    log = AllocationLog(procedure, seed)
    for p in patients:
        log.allocate(p)
    return log.to_csv()


# --------------------------------------------------------------------------------------------
# exercise self-checks (notebook 03)
# --------------------------------------------------------------------------------------------

EXERCISE_CASE: dict[str, Any] = {
    # counts (A, B) already allocated at the newcomer's levels
    "counts": {"dominant_site": (1, 4), "hormone_receptor": (4, 3), "her2": (5, 4)},
    "patient": {"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"},
}


def _exercise_choice(measure: str) -> str:
    counts = {f: {lv: [0, 0] for lv in fac.levels} for f, fac in ((x.name, x) for x in FACTORS)}
    for f, lv in EXERCISE_CASE["patient"].items():
        counts[f][lv] = list(EXERCISE_CASE["counts"][f])
    scores, _ = minimization_scores(counts, EXERCISE_CASE["patient"], measure)
    return "A" if scores["A"] < scores["B"] else ("B" if scores["B"] < scores["A"] else "tie")


def check_minimization_choice(answer: str, measure: str = "range") -> str:
    """Self-check: which arm does ``measure`` minimization favour for :data:`EXERCISE_CASE`?"""
    right = _exercise_choice(measure)
    if str(answer).strip().upper() == right.upper():
        return f"Right: with {measure} the favoured arm is {right}."
    return (
        f"Not quite. Add the newcomer to A, then to B, and compute the {measure} of the two counts "
        "at each of the newcomer's levels; the arm with the smaller sum G is favoured."
    )


def check_block_formula(answer: float, block_size: int = 4) -> str:
    """Self-check: expected correct convergence guesses in one permuted block of ``block_size``."""
    right = block_correct_guesses_closed_form(block_size)
    if isinstance(answer, (int, float)) and abs(answer - right) < 0.01:
        return f"Right: E = {right:.4f} correct guesses per block of {block_size}."
    return "Not quite. Use E_m = m + 2^(2m-1)/C(2m, m) - 1/2 with 2m the block size."


def check_efron_limit(answer: float, p: float = 2 / 3) -> str:
    """Self-check: long-run correct-guess proportion of Efron's coin with bias ``p``."""
    right = efron_long_run(p)
    if isinstance(answer, (int, float)) and abs(answer - right) < 0.005:
        return f"Right: (4p - 1)/(4p) = {right:.4f}."
    return "Not quite. In the long run D = 0 a fraction (2p-1)/(2p) of the time; guess 1/2 there and p elsewhere."
