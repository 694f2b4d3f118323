"""The argument checkers of the package, written once.

Every checker takes the value, the argument's ``name`` and the exception class to raise
(``error``, default :class:`ValueError`; the package passes its own subclasses from
:mod:`trialnb.errors`), returns the value converted to the plain Python type (``float``,
``int``) and raises with a message that names the argument, shows the value received and says
what is allowed, e.g. ``alpha must lie strictly between 0 and 1, got 1.2``.

Rules shared by all of them:

* a number is an ``int`` or ``float`` (numpy scalars too); ``bool`` is not a number here
  (``True`` is almost always a slip for a flag, not the value 1);
* an interval's ends are chosen explicitly: ``lo_open`` / ``hi_open`` say whether the end
  itself is excluded (``check_probability(p, "p", lo_open=True, hi_open=False)`` is (0, 1]);
* NaN and infinities are refused; with both ends finite the message gives the interval,
  otherwise it says the value must be finite.

This module is a leaf: it imports nothing from the package, so every module may use it.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import Any, Callable, Mapping, Sequence, TypeVar

import numpy as np

__all__ = [
    "check_choice",
    "check_finite",
    "check_hazard_ratio",
    "check_identifier",
    "check_int",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_real",
    "check_real_array",
    "check_record",
    "check_rng",
    "check_seed",
    "is_number",
]

T = TypeVar("T")
ErrorType = type[Exception]


def _fmt(x: float) -> str:
    return f"{x:g}"


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_number(value: Any) -> bool:
    """True for a real number: ``int``, ``float`` and numpy's integer and floating scalars
    (``np.int64(48)``, ``np.float32(48.0)``); False for ``bool`` and ``np.bool_``, text, None
    and everything else. The one test of "is this a number" for hand-written checks."""
    return _is_real(value)


def check_real_array(value: Any, name: str, *, allow_neg_inf: bool = False, allow_inf: bool = False,
                     error: ErrorType = ValueError, what: str = "numbers") -> np.ndarray:
    """One or more real numbers (a number, a list or tuple, a numpy array or a pandas Series)
    as a 1-d ``float`` array with at least one value. Refused: a ``bool`` anywhere (Python's
    or numpy's, as a value or as an array's dtype), text, None, nested sequences, NaN and
    infinities (``allow_neg_inf``: minus infinity is allowed, e.g. "no bound"; ``allow_inf``: both
    infinities are, e.g. "never" for a calendar cut-off)."""
    if not isinstance(value, (list, tuple, np.ndarray)) and hasattr(value, "__array__"):
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        arr = value.astype(float).ravel()
    else:
        items = value.ravel().tolist() if isinstance(value, np.ndarray) else (
            list(value) if isinstance(value, (list, tuple)) else [value])
        if isinstance(value, np.ndarray) and value.dtype.kind == "b":
            items = [np.bool_(x) for x in items]
        if not all(_is_real(x) for x in items):
            raise error(f"{name} must be {what} (a bool is not a number here), got {value!r}")
        arr = np.array([float(x) for x in items], dtype=float)
    if arr.size == 0:
        raise error(f"{name} must hold at least one number, got {value!r}")
    bad = np.isnan(arr) | ((arr == np.inf) & (not allow_inf)) | ((arr == -np.inf) & (not (allow_neg_inf or allow_inf)))
    if bad.any():
        allowed = ("numbers (infinities allowed, not NaN)" if allow_inf
                   else "finite numbers or -inf" if allow_neg_inf else "finite numbers")
        raise error(f"{name} must be {allowed}, got {arr.tolist()!r}")
    return arr


def check_finite(value: Any, name: str, *, error: ErrorType = ValueError) -> float:
    """A finite real number (not bool, NaN or infinite), returned as ``float``."""
    if not _is_real(value):
        raise error(f"{name} must be a number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise error(f"{name} must be finite, got {value!r}")
    return x


def _interval(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    """The allowed set in words: 'lie in [0, 1)', 'lie strictly between 0 and 1', 'be > 0'."""
    if lo is not None and hi is not None:
        if lo_open and hi_open:
            return f"lie strictly between {_fmt(lo)} and {_fmt(hi)}"
        return f"lie in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"be {'>' if lo_open else '>='} {_fmt(lo)}"
    if hi is not None:
        return f"be {'<' if hi_open else '<='} {_fmt(hi)}"
    return "be finite"


def check_real(value: Any, name: str, *, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False, hi_open: bool = False, error: ErrorType = ValueError) -> float:
    """A finite real number in the interval from ``lo`` to ``hi`` (``None``: unbounded on that
    side); ``lo_open``/``hi_open`` exclude the end itself. Returned as ``float``."""
    if not _is_real(value):
        raise error(f"{name} must be a number, got {value!r}")
    x = float(value)
    allowed = _interval(lo, hi, lo_open, hi_open)
    if not math.isfinite(x):
        if lo is not None and hi is not None:
            raise error(f"{name} must {allowed}, got {value!r}")
        bound = "" if allowed == "be finite" else f" (a number {allowed[3:]})"
        raise error(f"{name} must be finite{bound}, got {value!r}")
    too_low = lo is not None and (x <= lo if lo_open else x < lo)
    too_high = hi is not None and (x >= hi if hi_open else x > hi)
    if too_low or too_high:
        raise error(f"{name} must {allowed}, got {value!r}")
    return x


def check_probability(value: Any, name: str, *, lo_open: bool, hi_open: bool,
                      error: ErrorType = ValueError) -> float:
    """A probability: a number in [0, 1] whose ends are excluded or not, as the caller says
    explicitly (``lo_open=True, hi_open=True`` is (0, 1), e.g. a significance level)."""
    return check_real(value, name, lo=0.0, hi=1.0, lo_open=lo_open, hi_open=hi_open, error=error)


def check_positive(value: Any, name: str, *, error: ErrorType = ValueError) -> float:
    """A finite number > 0."""
    return check_real(value, name, lo=0.0, lo_open=True, error=error)


def check_nonnegative(value: Any, name: str, *, error: ErrorType = ValueError) -> float:
    """A finite number >= 0."""
    return check_real(value, name, lo=0.0, error=error)


def check_hazard_ratio(value: Any, name: str = "hazard_ratio", *, allow_one: bool = True,
                       error: ErrorType = ValueError) -> float:
    """A hazard ratio: a finite number > 0; with ``allow_one=False`` also != 1 (a design
    quantity such as the number of events needed is infinite when there is no effect)."""
    hr = check_positive(value, name, error=error)
    if hr == 1 and not allow_one:
        raise error(f"{name} must differ from 1 (no effect needs infinitely many events); "
                    f"allowed: > 0 and != 1, got {value!r}")
    return hr


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None,
              error: ErrorType = ValueError) -> int:
    """A whole number of type ``int`` (numpy integers too; not bool, not a float such as 5.0)
    in ``[minimum, maximum]`` (``None``: unbounded), returned as ``int``."""
    if minimum is not None and maximum is not None:
        allowed = f"an integer in [{minimum}, {maximum}]"
    elif minimum is not None:
        allowed = f"an integer >= {minimum}"
    elif maximum is not None:
        allowed = f"an integer <= {maximum}"
    else:
        allowed = "an integer"
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not ok or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise error(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def _short_repr(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else f"{r[:limit]}... ({len(r)} characters)"


def check_identifier(value: Any, name: str, *, pattern: str, rule: str, error: ErrorType = ValueError) -> str:
    """An identifier: a ``str`` matching ``pattern`` in full (ASCII classes, :func:`re.fullmatch`).

    ``rule`` says the pattern in words for the message, e.g. ``"1 to 64 ASCII letters, digits,
    '-' or '_', starting with a letter or digit"``. The value shown in the message is cut to
    60 characters, so a huge or hostile value cannot make a huge message.
    """
    if not isinstance(value, str):
        raise error(f"{name} must be a string of {rule}, got {type(value).__name__} {_short_repr(value)}")
    if re.fullmatch(pattern, value, flags=re.ASCII) is None:
        raise error(f"{name} must be {rule}, got {_short_repr(value)}")
    return value


def check_seed(value: Any, name: str = "seed", *, error: ErrorType = ValueError) -> int:
    """A seed for :func:`numpy.random.default_rng`: an integer >= 0."""
    return check_int(value, name, minimum=0, error=error)


def check_rng(value: Any, name: str = "rng", *, error: ErrorType = ValueError) -> np.random.Generator:
    """A :class:`numpy.random.Generator` (a seed is refused: the caller owns the stream)."""
    if not isinstance(value, np.random.Generator):
        raise error(f"{name} must be a numpy Generator (e.g. numpy.random.default_rng(2026)), "
                    f"got {type(value).__name__}")
    return value


def check_choice(value: Any, name: str, allowed: Sequence[T], *, ignore_case: bool = False,
                 error: ErrorType = ValueError) -> T:
    """One of ``allowed`` (compared with ``==``; ``bool`` never matches a number; with
    ``ignore_case`` a string is compared case-insensitively and the allowed spelling returned)."""
    for a in allowed:
        if isinstance(value, str) and isinstance(a, str):
            if value == a or (ignore_case and value.lower() == a.lower()):
                return a
        elif _is_real(value) and _is_real(a):
            if value == a:
                return a
        elif type(value) is type(a) and value == a:
            return a
    raise error(f"{name} must be one of {', '.join(map(str, allowed))}, got {value!r}")


def check_record(record: Any, fields: Sequence[tuple[str, Callable[[Any], Any], str]], *, what: str,
                 error: ErrorType = ValueError) -> dict[str, Any]:
    """A record (a mapping field -> value) checked field by field, every problem reported at once.

    ``fields`` lists ``(name, check, hint)``: ``check(value)`` returns the clean value or raises
    ``error``; ``hint`` is shown after "missing" when the field is absent (e.g. the allowed
    levels). Fields not listed are ignored (a record may carry more). Returns
    ``{name: clean value}``; raises ``error("invalid <what>: problem; problem; ...")``.
    """
    if not isinstance(record, Mapping):
        raise error(f"a {what} must be a mapping of field -> value, got {type(record).__name__}")
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for name, check, hint in fields:
        if name not in record:
            problems.append(f"{name}: missing{hint}")
            continue
        try:
            clean[name] = check(record[name])
        except error as exc:
            problems.append(str(exc))
    if problems:
        raise error(f"invalid {what}: " + "; ".join(problems))
    return clean
