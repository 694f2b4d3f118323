"""Self-checks for the notebooks' Exercises sections: the teaching layer, kept out of the
library core. One module per notebook (``protocol`` for 00, ``rationale`` 01, ``sample_size``
02, ``randomization`` 03, ``analysis`` 04, ``monitoring`` 05, ``operating_characteristics``
06, ``estimands`` 07, ``evidence`` 08), all written with the one verdict helper in
:mod:`trialnb.exercises._verdict`::

    from trialnb.exercises.sample_size import check_accrual_n
    check_accrual_n(None)          # "No answer yet" and the first hint
    check_accrual_n("144", hint=2) # right, with the rounding explained, and both hints
    hint("02.2", 1)                # the nudge alone

Checkers never raise on a trainee's answer; they return a :class:`Verdict`.

Adding a notebook's checks: create ``trialnb/exercises/<topic>.py`` (no edit here; modules
are found by :func:`get_exercise`) and write each checker as::

    @exercise("05.1", "one-line question", ("a nudge", "the method"))
    def check_something(answer):            # never called with None
        x = parse_proportion(answer, "the power")   # raises AnswerError -> "Cannot check"
        return close(x, truth, 0.005), "why it is right, or what is wrong with it"

In the notebook each exercise is one cell: ``answer = None`` then ``check_something(answer)``.
"""

from ._verdict import (EXERCISES, Exercise, Verdict, close, exercise, get_exercise, hint, normalize_text,
                       parse_choice, parse_count, parse_number, parse_proportion, parse_yes_no)

__all__ = [
    "EXERCISES", "Exercise", "Verdict", "close", "exercise", "get_exercise", "hint",
    "normalize_text", "parse_choice", "parse_count", "parse_number", "parse_proportion",
    "parse_yes_no",
]
