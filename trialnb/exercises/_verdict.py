"""The one verdict helper of the notebooks' self-checks: answer parsing, the :class:`Verdict`
result, staged hints and the registry of exercises.

Every checker in :mod:`trialnb.exercises` is written with the :func:`exercise` decorator, so all
of them behave the same way:

* ``answer=None`` (the exercise as shipped) gives "No answer yet" plus the first hint;
* an answer that cannot be read (wrong type, junk text, out of range) gives "Cannot check" and
  says which forms are accepted: a checker never raises on a trainee's answer;
* a right answer in any accepted form (rounded, percent ``"80%"`` / ``80`` or proportion
  ``0.8``, text in any case and spacing, synonyms) gives "Right" and why;
* a wrong answer gives "Not yet", what is wrong with it when the mistake is a known one, and
  the first hint;
* ``hint=1`` or ``hint=2`` adds the hints up to that level: a nudge first, then the method.
  No hint states the answer.
"""

from __future__ import annotations

import html
import importlib
import math
import numbers
import pkgutil
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import wraps
from typing import Any, Callable, Iterable, Literal, Mapping

from ..errors import AnswerError

__all__ = [
    "EXERCISES", "Exercise", "Verdict", "close", "exercise", "get_exercise", "hint",
    "normalize_text", "parse_choice", "parse_count", "parse_number", "parse_proportion",
    "parse_yes_no",
]

Status = Literal["right", "wrong", "unanswered", "invalid"]

_PREFIX: dict[str, str] = {
    "right": "Right",
    "wrong": "Not yet",
    "unanswered": "No answer yet",
    "invalid": "Cannot check",
}
_COLOUR = {"right": "#1b7837", "wrong": "#b35806", "unanswered": "#4d4d4d", "invalid": "#b2182b"}
HINT_LEVELS = 2


@dataclass(frozen=True)
class Verdict:
    """The result of a self-check: ``correct`` (bool), ``status`` ("right", "wrong",
    "unanswered" or "invalid"), the exercise key (e.g. "02.2") and one ``message`` in the house
    style "<Right|Not yet|No answer yet|Cannot check>: ...". Prints as the message, shows as a
    coloured box in Jupyter, and is truthy only when right."""

    exercise: str
    status: Status
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "right"

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        return f"Exercise {self.exercise}. {self.message}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = _COLOUR[self.status]
        prefix = _PREFIX[self.status]
        body = self.message[len(prefix) + 1:].strip() if self.message.startswith(prefix + ":") else self.message
        return (f'<div class="trialnb-verdict trialnb-verdict-{self.status}" '
                f'style="border-left: 4px solid {colour}; padding: 0.3em 0.8em;">'
                f'Exercise {html.escape(self.exercise)}. <strong style="color: {colour}">'
                f'{html.escape(prefix)}:</strong> {html.escape(body)}</div>')


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its key ("NN.k": notebook NN, exercise k), the question in one
    line, and its staged hints (a nudge, then the method)."""

    key: str
    question: str
    hints: tuple[str, ...]
    checker: Callable[..., Verdict]


EXERCISES: dict[str, Exercise] = {}
"""Every exercise checker by key ("00.1", ..., "06.3"); filled as the modules are imported
(:func:`get_exercise` imports them all when a key is not there yet)."""


def _load_all() -> None:
    pkg = importlib.import_module(__package__ or "trialnb.exercises")
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{pkg.__name__}.{mod.name}")


def get_exercise(exercise: str | Callable[..., Any]) -> Exercise:
    """The registered :class:`Exercise` for a key ("02.2") or a checker function."""
    key = getattr(exercise, "exercise_key", exercise)
    if not isinstance(key, str):
        raise ValueError(f"exercise must be a key such as '02.2' or a checker function, got {exercise!r}")
    if key not in EXERCISES:
        _load_all()
    if key not in EXERCISES:
        raise ValueError(f"unknown exercise {key!r}; known: {', '.join(sorted(EXERCISES))}")
    return EXERCISES[key]


def _check_level(level: Any) -> int:
    if isinstance(level, bool) or not isinstance(level, numbers.Integral) or not 0 <= int(level) <= HINT_LEVELS:
        raise ValueError(f"hint level must be 0 (none), 1 (a nudge) or 2 (the method), got {level!r}")
    return int(level)


def _hint_text(ex: Exercise, level: int) -> str:
    return " ".join(f"Hint {i}: {ex.hints[i - 1]}" for i in range(1, level + 1))


def hint(exercise: str | Callable[..., Any], level: int = 1) -> str:
    """The hint of ``level`` for an exercise (key or checker): 1 is a nudge, 2 the method.
    A hint never states the answer; it is staged so that level 1 can be read alone."""
    ex = get_exercise(exercise)
    lv = _check_level(level)
    if lv == 0:
        raise ValueError("hint level must be 1 (a nudge) or 2 (the method), got 0")
    return f"Hint {lv}: {ex.hints[lv - 1]}"


def exercise(key: str, question: str, hints: tuple[str, str]) -> Callable[[Callable[..., tuple[bool, str]]],
                                                                           Callable[..., Verdict]]:
    """Register a checker. The decorated function takes the (non-``None``) answer plus keyword
    options and returns ``(correct, explanation)``; it raises :class:`AnswerError` when the
    answer cannot be read. The wrapper adds the unanswered / cannot-check / hint handling."""
    if not re.fullmatch(r"\d\d\.\d+", key) or len(hints) != HINT_LEVELS:
        raise ValueError(f"exercise key must look like '02.2' and have {HINT_LEVELS} hints, got {key!r}")

    def decorate(fn: Callable[..., tuple[bool, str]]) -> Callable[..., Verdict]:
        @wraps(fn)
        def checker(answer: Any = None, *, hint: int = 0, **options: Any) -> Verdict:
            level = _check_level(hint)
            ex = EXERCISES[key]
            if answer is None:
                text = ("replace None with your answer and run the cell again. "
                        + _hint_text(ex, max(level, 1)))
                return Verdict(key, "unanswered", f"{_PREFIX['unanswered']}: {text}")
            try:
                ok, text = fn(answer, **options)
            except ValueError as exc:  # AnswerError, or a library function refusing the value
                status: Status = "invalid"
                text = str(exc)
            else:
                status = "right" if ok else "wrong"
            if status == "wrong":
                text = f"{text} {_hint_text(ex, max(level, 1))}"
            elif level:
                text = f"{text} {_hint_text(ex, level)}"
            return Verdict(key, status, f"{_PREFIX[status]}: {text}")

        checker.exercise_key = key  # type: ignore[attr-defined]
        EXERCISES[key] = Exercise(key, question, tuple(hints), checker)
        return checker

    return decorate


# --- parsing ---------------------------------------------------------------------------------

_NUM = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def _show(answer: Any) -> str:
    s = repr(answer)
    return s if len(s) <= 60 else s[:57] + "..."


def parse_number(answer: Any, what: str = "a number", *, allowed: str | None = None) -> float:
    """A finite real number from a number (int, float, numpy scalar, Fraction) or a string
    such as ``"142"``, ``" 2.83 "``, ``"0,39"`` (decimal comma), ``"1,234"`` (thousands:
    groups of exactly three digits), ``"17/6"``. Booleans, text, NaN and
    infinities raise :class:`AnswerError` naming the accepted forms."""
    allowed = allowed or f"give {what}, e.g. 0.25, 142 or '17/6'"
    if isinstance(answer, bool):
        raise AnswerError(f"{_show(answer)} is a yes/no value; {allowed}.")
    if isinstance(answer, numbers.Real):
        x = float(answer)
    elif isinstance(answer, str):
        s = answer.strip().replace("\u2212", "-")
        if _THOUSANDS.fullmatch(s):
            s = s.replace(",", "")
        elif re.fullmatch(r"[+-]?\d*,\d+", s):  # a decimal comma: "0,39"
            s = s.replace(",", ".")
        try:
            if _NUM.fullmatch(s):
                x = float(s)
            elif re.fullmatch(r"[+-]?\d+\s*/\s*\d+", s):
                x = float(Fraction(s.replace(" ", "")))
            else:
                raise AnswerError(f"could not read {_show(answer)} as a number; {allowed}.")
        except ZeroDivisionError:
            raise AnswerError(f"{_show(answer)} divides by zero; {allowed}.") from None
    else:
        try:
            x = float(answer)  # numpy 0-d arrays and other numeric scalars
        except (TypeError, ValueError, OverflowError):
            raise AnswerError(f"{_show(answer)} ({type(answer).__name__}) is not a number; {allowed}.") from None
    if not math.isfinite(x):
        raise AnswerError(f"{_show(answer)} is not a finite number; {allowed}.")
    return x


def parse_proportion(answer: Any, what: str = "a proportion", *, signed: bool = False) -> float:
    """A proportion from ``0.8``, ``80`` (read as percent because it exceeds 1), ``"80%"`` or
    ``"80 %"``. With ``signed`` the proportion may be negative (a difference, e.g. ``-0.05``
    or ``"-5%"``). Out of range raises :class:`AnswerError`."""
    allowed = (f"give {what} as a proportion (0.8) or a percent (80 or '80%')"
               + (", negative if it is a decrease" if signed else ""))
    percent = False
    if isinstance(answer, str) and answer.strip().endswith("%"):
        answer, percent = answer.strip()[:-1], True
    x = parse_number(answer, what, allowed=allowed)
    if percent or abs(x) > 1:
        x /= 100
    lo = -1.0 if signed else 0.0
    if not lo <= x <= 1:
        raise AnswerError(f"{_show(answer)} is not between {'-100%' if signed else '0%'} and 100%; {allowed}.")
    return x


def parse_count(answer: Any, what: str = "a whole number") -> int:
    """A whole number (``144``, ``144.0``, ``"144"``); a fraction raises :class:`AnswerError`
    saying that a count is whole."""
    x = parse_number(answer, what, allowed=f"give {what}, e.g. 142")
    if abs(x - round(x)) > 1e-9:
        raise AnswerError(f"{_show(answer)} is not whole; give {what} (round as the exercise says).")
    return int(round(x))


def normalize_text(text: str) -> str:
    """Lower case, punctuation and ``-``/``_`` as spaces, runs of spaces collapsed, British
    "-ise" spellings of randomise as "-ize"."""
    s = text.lower().replace("randomis", "randomiz")
    s = re.sub(r"[^a-z0-9%.]+", " ", s)
    s = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", s)
    return " ".join(s.split())


def parse_choice(answer: Any, choices: Mapping[str, Iterable[str]], what: str = "one of the choices") -> str:
    """The canonical choice whose synonyms contain ``answer`` (case, spacing and punctuation
    ignored). Not text, or text matching no choice and no known wrong choice, raises
    :class:`AnswerError` listing the accepted words; the caller handles known wrong choices by
    including them in ``choices`` under their own canonical name."""
    canon = ", ".join(repr(c) for c in choices)
    if not isinstance(answer, str):
        raise AnswerError(f"{_show(answer)} is not text; give {what}: {canon}.")
    a = normalize_text(answer)
    for name, synonyms in choices.items():
        if a in {normalize_text(s) for s in (name, *synonyms)}:
            return name
    raise AnswerError(f"could not read {_show(answer)}; give {what}: {canon}.")


_YES = ("yes", "y", "true", "t")
_NO = ("no", "n", "false", "f")


def parse_yes_no(answer: Any, yes: Iterable[str] = (), no: Iterable[str] = ()) -> bool:
    """``True``/``False`` or text yes/no (plus the given synonyms) as a bool."""
    if isinstance(answer, bool):
        return answer
    choices = {"yes": (*_YES, *yes), "no": (*_NO, *no)}
    return parse_choice(answer, choices, "True or False (or 'yes' / 'no')") == "yes"


def close(x: float, truth: float, tol: float) -> bool:
    """``|x - truth| <= tol`` (with a hair of slack for floating-point rounding)."""
    return abs(x - truth) <= tol + 1e-12
