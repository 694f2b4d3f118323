"""Randomization procedures with exact allocation probabilities.

Every procedure has the same small interface:

* ``probabilities(patient=None) -> {"A": p, "B": 1 - p}`` — the exact probability of each
  arm for the next patient given everything allocated so far (nothing is changed);
* ``assign(patient=None, rng=...) -> Assignment`` — draws **exactly one** uniform
  ``u = rng.random()`` and gives arm A iff ``u < P(A)``, so the same seed gives the same
  allocations and two procedures fed the same generator see the same uniforms;
  ``assign_uniform(patient, u)`` does the same with a given uniform;
* ``record(patient, arm)`` — add an allocation made elsewhere (to replay a history).

A procedure bound to an :class:`~trialnb.randomization.AllocationLog` refuses ``assign``,
``assign_uniform`` and ``record``: every allocation then goes through the log.

Procedures: :class:`CompleteRandomization`, :class:`PermutedBlock` (fixed or random block
sizes), :class:`StratifiedPermutedBlock`, :class:`EfronBiasedCoin` (Efron 1971, Biometrika
58:403), :class:`BigStick` (Soares & Wu 1983, Commun Stat Theory Methods 12:2017),
:class:`MaximalProcedure` (Berger, Ivanova & Knoll 2003, Stat Med 22:3017) and
:class:`PocockSimon` minimization (Pocock & Simon 1975, Biometrics 31:103; Taves 1974, Clin
Pharmacol Ther 15:443).

Notation (docs of :mod:`trialnb.randomization`): two arms A and B, ``D_i = N_A(i) - N_B(i)``,
``phi_i = P(delta_i = 1 | history, newcomer's covariates)``.
"""

from __future__ import annotations

__all__ = ["factors_from_settings",
    "ARMS", "Assignment", "BigStick", "CompleteRandomization", "EfronBiasedCoin", "IMBALANCE_MEASURES",
    "MaximalProcedure", "PermutedBlock", "PocockSimon", "Procedure", "StratifiedPermutedBlock", "TIE_RULES",
    "minimization_scores", "procedure_from_settings",
]

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..protocol import FACTORS, Factor, check_patient_factors
from ..errors import PatientRecordError, RandomizationError
from ._common import (
    ARMS,
    IMBALANCE_MEASURES,
    TIE_RULES,
    _TOL,
    _check_arm,
    _probs,
    as_factors,
)
from ..validation import check_probability, check_real, check_rng, is_number

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
        self._bound_to: str | None = None  # path of the AllocationLog that owns this procedure

    def _check_unbound(self, what: str) -> None:
        if self._bound_to is not None:
            from ..errors import AllocationLogError

            raise AllocationLogError(
                f"{self.name}.{what}() refused: this procedure belongs to the allocation log "
                f"{self._bound_to}; allocate through log.allocate(patient, patient_id=...)",
                kind="bypass",
            )

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
        self._check_unbound("record")
        levels = self._levels(patient)
        arm = _check_arm(arm)
        if self._strict_record and self._p_a(levels) == (0.0 if arm == "A" else 1.0):
            raise RandomizationError(f"arm {arm!r} has probability 0 for this patient under {self.name}")
        self._commit(levels, arm, kw)

    def _commit(self, levels: dict[str, str] | None, arm: str, extra: Mapping[str, Any]) -> None:
        """Apply an allocation (already validated) to the state."""
        self._update(levels, arm, **extra)
        if arm == "A":
            self.n_a += 1
        else:
            self.n_b += 1
        self.history.append((levels, arm))

    def _plan(self, levels: dict[str, str] | None, draw: Callable[[], float]) -> tuple[Assignment, dict[str, Any]]:
        """The allocation ``draw()`` gives, without changing the state: (assignment, extra
        arguments for :meth:`_commit`). ``draw`` is called once, after every check."""
        p_a = self._p_a(levels)
        expl = self._explain(levels, p_a)
        u = float(draw())
        arm = "A" if u < p_a else "B"
        extra = self._assign_extra(u, p_a, arm)
        a = Assignment(arm=arm, probabilities=_probs(p_a), explanation=expl, sequence=self.n + 1, u=u,
                       deterministic=p_a in (0.0, 1.0), patient=levels)
        return a, extra

    def assign(self, patient: Mapping[str, Any] | None = None, rng: np.random.Generator | None = None) -> Assignment:
        """Allocate the next patient: one uniform ``u = rng.random()``; arm A iff ``u < P(A)``."""
        self._check_unbound("assign")
        rng = check_rng(rng, error=RandomizationError)
        levels = self._levels(patient)
        a, extra = self._plan(levels, rng.random)
        self._commit(levels, a.arm, extra)
        return a

    def assign_uniform(self, patient: Mapping[str, Any] | None, u: float) -> Assignment:
        """Allocate the next patient with the given uniform ``u`` in [0, 1): arm A iff ``u < P(A)``
        (``assign(patient, rng)`` is ``assign_uniform(patient, rng.random())``)."""
        self._check_unbound("assign_uniform")
        if not is_number(u) or not 0.0 <= u < 1.0:
            raise RandomizationError(f"u must be a number in [0, 1), got {u!r}")
        levels = self._levels(patient)
        a, extra = self._plan(levels, lambda: float(u))
        self._commit(levels, a.arm, extra)
        return a

    def _assign_extra(self, u: float, p_a: float, arm: str) -> dict[str, Any]:
        return {}

    # ---- exact computations --------------------------------------------------------------
    def _state_key(self) -> Any:
        """Hashable summary of everything that determines future probabilities."""
        raise NotImplementedError(f"{self.name} has no finite state for exact computation")

    def _clone(self) -> "Procedure":
        new = copy.copy(self)
        new.history = []
        new._bound_to = None
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
        self.p = check_real(p, "p", lo=0.5, hi=1.0, error=RandomizationError)

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
            raise RandomizationError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
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
            raise RandomizationError(f"n must be an even integer >= 2 (the sequence ends balanced), got {n!r}")
        if isinstance(max_imbalance, bool) or not isinstance(max_imbalance, (int, np.integer)) or max_imbalance < 1:
            raise RandomizationError(f"max_imbalance must be an integer >= 1, got {max_imbalance!r}")
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
            raise RandomizationError(f"the maximal procedure was set up for n = {self.total} patients; "
                                     "all are allocated")
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
            raise RandomizationError(f"block_sizes must be even integers >= 2, got {block_sizes!r}")
        if len(set(sizes)) != len(sizes):
            raise RandomizationError(f"block_sizes must be distinct, got {block_sizes!r}")
        if block_weights is None:
            w = [1.0 / len(sizes)] * len(sizes)
        else:
            w = [float(x) for x in block_weights]
            if len(w) != len(sizes) or any((not math.isfinite(x)) or x < 0 for x in w) or sum(w) <= 0:
                raise RandomizationError(
                    f"block_weights must be {len(sizes)} non-negative numbers with a positive sum, "
                    f"got {block_weights!r}"
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
        for s, w in zip(self.block_sizes, self.block_weights, strict=True):
            acc += w
            if v < acc:
                return s
        return [s for s, w in zip(self.block_sizes, self.block_weights, strict=True) if w > 0][-1]

    def _assign_extra(self, u: float, p_a: float, arm: str) -> dict[str, Any]:
        if self.block_size is not None:
            return {}
        v = u / 0.5 if arm == "A" else (u - 0.5) / 0.5
        return {"block_size": self._size_from_uniform(v)}

    def _update(self, levels: dict[str, str] | None, arm: str, block_size: int | None = None, **kw: Any) -> None:
        if self.block_size is None:
            if block_size is None:
                if self.random_sizes:
                    raise RandomizationError(
                        "block_size is required when recording the first allocation of a block "
                        f"with random block sizes {self.block_sizes}"
                    )
                block_size = next(s for s, w in zip(self.block_sizes, self.block_weights, strict=True) if w > 0)
            if block_size not in self.block_sizes:
                raise RandomizationError(f"block_size must be one of {self.block_sizes}, got {block_size!r}")
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
        for s, w in zip(self.block_sizes, self.block_weights, strict=True):
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
        raise RandomizationError(f"imbalance must be one of {', '.join(IMBALANCE_MEASURES)}, got {measure!r}")
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
        self.p = check_real(p, "p", lo=0.5, hi=1.0, lo_open=True, error=RandomizationError)
        if imbalance not in IMBALANCE_MEASURES:
            raise RandomizationError(f"imbalance must be one of {', '.join(IMBALANCE_MEASURES)}, got {imbalance!r}")
        self.imbalance_measure = imbalance
        names = [f.name for f in self.factors]
        if weights is None:
            w = {n: 1.0 for n in names}
        elif isinstance(weights, Mapping):
            unknown = set(weights) - set(names)
            missing = set(names) - set(weights)
            if unknown or missing:
                raise RandomizationError(
                    f"weights must name exactly the factors {names}; unknown: {sorted(unknown)}, "
                    f"missing: {sorted(missing)}"
                )
            w = {n: float(weights[n]) for n in names}
        else:
            ws = list(weights)
            if len(ws) != len(names):
                raise RandomizationError(f"weights must have one number per factor ({len(names)}: {names}), "
                                         f"got {len(ws)}")
            w = {n: float(x) for n, x in zip(names, ws, strict=True)}
        if any((not math.isfinite(x)) or x <= 0 for x in w.values()):
            raise RandomizationError(f"weights must be positive finite numbers, got {w}")
        self.weights = w
        if tie_rule not in TIE_RULES:
            raise RandomizationError(f"tie_rule must be one of {', '.join(TIE_RULES)}, got {tie_rule!r}")
        self.tie_rule = tie_rule
        self.random_element = check_probability(random_element, "random_element", lo_open=False, hi_open=False,
                                                error=RandomizationError)
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
        new._bound_to = None
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

    def _plan(self, levels: dict[str, str] | None, draw: Callable[[], float]) -> tuple[Assignment, dict[str, Any]]:
        """Allocate by minimization; the Assignment carries the imbalance table and scores."""
        assert levels is not None
        r = self._result(levels)
        expl = self._explain_result(r)
        u = float(draw())
        arm = "A" if u < r.p_a else "B"
        a = Assignment(
            arm=arm,
            probabilities=_probs(r.p_a),
            explanation=expl,
            sequence=self.n + 1,
            u=u,
            deterministic=r.p_a in (0.0, 1.0),
            tie=r.tie,
            patient=levels,
            table=self._table_rows(r),
            scores=dict(r.scores),
        )
        return a, {}

    def marginal_counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """``{factor: {level: {"A": n, "B": n}}}`` of the patients allocated so far."""
        return {f: {lv: {"A": c[0], "B": c[1]} for lv, c in d.items()} for f, d in self.counts.items()}



def factors_from_settings(spec: Mapping[str, Sequence[str]]) -> Any:
    """The protocol's factors when ``spec`` names exactly them (keeps their labels), else generic ones."""
    if {f.name: list(f.levels) for f in FACTORS} == {k: list(v) for k, v in spec.items()}:
        return FACTORS
    return dict(spec)


def procedure_from_settings(settings: Mapping[str, Any]) -> Procedure:
    """A fresh procedure from :meth:`Procedure.settings` (used to reopen an allocation log).

    ``procedure_from_settings(p.settings()).settings() == p.settings()`` for every procedure.
    """
    if not isinstance(settings, Mapping) or "procedure" not in settings:
        raise RandomizationError(f"settings must be a mapping with a 'procedure' name, got {settings!r}")
    s = dict(settings)
    name = s.pop("procedure")
    if name == CompleteRandomization.name:
        return CompleteRandomization()
    if name == EfronBiasedCoin.name:
        return EfronBiasedCoin(p=s["p"])
    if name == BigStick.name:
        return BigStick(max_imbalance=s["max_imbalance"])
    if name == MaximalProcedure.name:
        return MaximalProcedure(n=s["n"], max_imbalance=s["max_imbalance"])
    if name == PermutedBlock.name:
        return PermutedBlock(tuple(s["block_sizes"]), s["block_weights"])
    if name == StratifiedPermutedBlock.name:
        return StratifiedPermutedBlock(factors_from_settings(s["factors"]), tuple(s["block_sizes"]), s["block_weights"])
    if name == PocockSimon.name:
        return PocockSimon(factors_from_settings(s["factors"]), p=s["p"], imbalance=s["imbalance"],
                           weights=s["weights"], tie_rule=s["tie_rule"], random_element=s["random_element"])
    raise RandomizationError(f"unknown procedure {name!r} in settings")
