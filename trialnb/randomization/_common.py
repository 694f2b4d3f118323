"""Shared constants and argument checks of :mod:`trialnb.randomization` (private)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping


from ..errors import RandomizationError
from ..protocol import ARM_CODES, FACTORS, Factor, Sourced
from ..validation import check_choice

ARMS: tuple[str, str] = (ARM_CODES[0], ARM_CODES[1])  # ("A", "B")
IMBALANCE_MEASURES: tuple[str, ...] = ("range", "variance", "sd", "taves")
TIE_RULES: tuple[str, ...] = ("random", "overall", "A", "B")
_TOL = 1e-9  # relative tolerance when comparing imbalance scores (SD scores are irrational)


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
                raise RandomizationError(f"factors: factor names must be non-empty strings, got {name!r}")
            if isinstance(levels, str) or not isinstance(levels, Iterable):
                raise RandomizationError(f"factors[{name!r}]: levels must be a sequence of strings, got {levels!r}")
            lv = tuple(levels)
            if len(lv) < 1 or len(set(lv)) != len(lv) or not all(isinstance(x, str) for x in lv):
                raise RandomizationError(
                    f"factors[{name!r}]: levels must be distinct strings (at least one), got {lv!r}"
                )
            out.append(Factor(name, name, lv, {x: x for x in lv}, Sourced("user-supplied factor")))
        if not out:
            raise RandomizationError("factors: at least one factor is required")
        return tuple(out)
    try:
        fs = tuple(factors)
    except TypeError:
        raise RandomizationError(
            f"factors must be None, a mapping name -> levels or a sequence of Factor, got {factors!r}"
        ) from None
    if not fs or not all(isinstance(f, Factor) for f in fs):
        raise RandomizationError("factors: a sequence must contain trialnb.protocol.Factor objects (at least one)")
    return fs


def _check_arm(arm: Any) -> str:
    return check_choice(arm, "arm", ARMS, error=RandomizationError)


def _probs(p_a: float) -> dict[str, float]:
    return {ARMS[0]: float(p_a), ARMS[1]: float(1.0 - p_a)}
