"""The shared argument checkers (trialnb.validation): each with a good value, each kind of bad
value (wrong type, NaN, infinity, bool where a number is wanted, out of range at each end, open
vs closed ends) and what the message says (the name, the value received, what is allowed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialnb import validation as v
from trialnb.errors import BiasParameterError, PatientRecordError, SampleSizeError, ScenarioError

NAN, INF = float("nan"), float("inf")


class CustomError(ValueError):
    pass


# ---- numbers --------------------------------------------------------------------------------

@pytest.mark.parametrize("good", [0, 1, -2.5, 3.0, np.float64(0.25), np.int64(7), np.float32(0.5)])
def test_finite_accepts_real_numbers_and_returns_float(good) -> None:
    out = v.check_finite(good, "x")
    assert type(out) is float and out == float(good)


@pytest.mark.parametrize("bad, words", [
    ("0.5", "x must be a number, got '0.5'"), (None, "x must be a number, got None"),
    (True, "x must be a number, got True"), (np.bool_(False), "x must be a number"),
    ([1.0], "x must be a number, got [1.0]"), (1 + 2j, "x must be a number"),
    (NAN, "x must be finite, got nan"), (INF, "x must be finite, got inf"), (-INF, "x must be finite, got -inf"),
])
def test_finite_refuses_non_numbers_bools_and_non_finite(bad, words) -> None:
    with pytest.raises(ValueError) as exc:
        v.check_finite(bad, "x")
    assert words in str(exc.value)


def test_the_error_class_is_the_callers() -> None:
    def prob(x, n, error=ValueError):
        return v.check_probability(x, n, lo_open=True, hi_open=True, error=error)

    def real(x, n, error=ValueError):
        return v.check_real(x, n, lo=0, hi=1, error=error)

    def integer(x, n, error=ValueError):
        return v.check_int(x, n, minimum=1, error=error)

    def choice(x, n, error=ValueError):
        return v.check_choice(x, n, ("a",), error=error)

    for check, bad in [(v.check_finite, NAN), (v.check_positive, 0), (v.check_nonnegative, -1), (prob, 1.0),
                       (real, 2), (integer, 0), (choice, "b"), (v.check_hazard_ratio, -1), (v.check_seed, -1),
                       (v.check_rng, 42)]:
        with pytest.raises(CustomError):
            check(bad, "arg", error=CustomError)
        with pytest.raises(ValueError):  # default: ValueError
            check(bad, "arg")


# ---- intervals: open and closed ends --------------------------------------------------------

@pytest.mark.parametrize("lo_open, hi_open, text", [
    (False, False, "p must lie in [0, 1]"), (True, False, "p must lie in (0, 1]"),
    (False, True, "p must lie in [0, 1)"), (True, True, "p must lie strictly between 0 and 1"),
])
def test_probability_ends_are_chosen_explicitly(lo_open, hi_open, text) -> None:
    check = lambda x: v.check_probability(x, "p", lo_open=lo_open, hi_open=hi_open)  # noqa: E731
    assert check(0.5) == 0.5
    for end, is_open in ((0.0, lo_open), (1.0, hi_open)):
        if is_open:
            with pytest.raises(ValueError) as exc:
                check(end)
            assert str(exc.value) == f"{text}, got {end!r}"
        else:
            assert check(end) == end
    for outside in (-0.01, 1.01):
        with pytest.raises(ValueError, match="got " + repr(outside)):
            check(outside)
    with pytest.raises(ValueError, match=r"p must lie .*got nan"):  # finite ends: the interval is the message
        check(NAN)
    with pytest.raises(ValueError, match="p must be a number, got True"):
        check(True)


def test_probability_needs_both_ends_said() -> None:
    with pytest.raises(TypeError):
        v.check_probability(0.5, "p")  # type: ignore[call-arg]


def test_real_in_a_general_interval() -> None:
    assert v.check_real(0.5, "p", lo=0.5, hi=1.0) == 0.5
    with pytest.raises(ValueError, match=r"^p must lie in \(0.5, 1\], got 0.5$"):
        v.check_real(0.5, "p", lo=0.5, hi=1.0, lo_open=True)
    with pytest.raises(ValueError, match=r"^hazard_ratio must lie in \(0, 10\], got 10.5$"):
        v.check_real(10.5, "hazard_ratio", lo=0.0, hi=10.0, lo_open=True)
    with pytest.raises(ValueError, match=r"^alpha must lie in \[1e-06, 0.5\], got 1e-07$"):
        v.check_real(1e-7, "alpha", lo=1e-6, hi=0.5)
    assert v.check_real(-3, "x", hi=0) == -3.0
    with pytest.raises(ValueError, match="^x must be < 0, got 0$"):
        v.check_real(0, "x", hi=0, hi_open=True)
    with pytest.raises(ValueError, match="^x must be <= 0, got 1$"):
        v.check_real(1, "x", hi=0)


@pytest.mark.parametrize("check, name, good, edge, below, text", [
    (v.check_positive, "control_hazard", 0.02, 0.0, -1.0, "control_hazard must be > 0"),
    (v.check_nonnegative, "accrual_time", 0.0, None, -0.5, "accrual_time must be >= 0"),
])
def test_positive_and_nonnegative(check, name, good, edge, below, text) -> None:
    assert check(good, name) == good
    assert check(1e300, name) == 1e300
    for bad in [b for b in (edge, below) if b is not None]:
        with pytest.raises(ValueError) as exc:
            check(bad, name)
        assert str(exc.value) == f"{text}, got {bad!r}"
    with pytest.raises(ValueError, match=rf"^{name} must be finite \(a number {text.split('must be ')[1]}\), got inf$"):
        check(INF, name)
    with pytest.raises(ValueError, match=rf"^{name} must be finite .*got nan$"):
        check(NAN, name)
    with pytest.raises(ValueError, match=f"{name} must be a number, got False"):
        check(False, name)


@given(st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.booleans())
def test_probability_accepts_exactly_its_interval(x, lo_open, hi_open) -> None:
    inside = math.isfinite(x) and (x > 0 if lo_open else x >= 0) and (x < 1 if hi_open else x <= 1)
    try:
        out = v.check_probability(x, "p", lo_open=lo_open, hi_open=hi_open)
    except ValueError as exc:
        assert not inside and str(exc).startswith("p must lie") and "got" in str(exc)
    else:
        assert inside and out == x


# ---- hazard ratio ---------------------------------------------------------------------------

def test_hazard_ratio() -> None:
    assert v.check_hazard_ratio(0.5) == 0.5 and v.check_hazard_ratio(1) == 1.0
    with pytest.raises(ValueError, match="^hazard_ratio must be > 0, got 0$"):
        v.check_hazard_ratio(0)
    with pytest.raises(ValueError, match="hazard_ratio must differ from 1.*allowed: > 0 and != 1, got 1.0"):
        v.check_hazard_ratio(1.0, allow_one=False)
    with pytest.raises(ValueError, match="^hr must be finite"):
        v.check_hazard_ratio(NAN, "hr")
    with pytest.raises(ValueError, match="hazard_ratio must be a number"):
        v.check_hazard_ratio("0.5")


# ---- integers, seeds, generators ------------------------------------------------------------

def test_int() -> None:
    assert v.check_int(5, "n") == 5 and type(v.check_int(np.int32(5), "n")) is int
    assert v.check_int(200, "n", minimum=200) == 200
    for bad, text in [(199, "n must be an integer >= 200, got 199"), (500.0, "n must be an integer >= 200, got 500.0"),
                      (True, "n must be an integer >= 200, got True"), ("5", "n must be an integer >= 200, got '5'"),
                      (NAN, "n must be an integer >= 200, got nan")]:
        with pytest.raises(ValueError) as exc:
            v.check_int(bad, "n", minimum=200)
        assert str(exc.value) == text
    assert v.check_int(10, "k", minimum=1, maximum=10) == 10
    with pytest.raises(ValueError, match=r"^k must be an integer in \[1, 10\], got 11$"):
        v.check_int(11, "k", minimum=1, maximum=10)
    with pytest.raises(ValueError, match="^k must be an integer <= 3, got 4$"):
        v.check_int(4, "k", maximum=3)
    with pytest.raises(ValueError, match="^k must be an integer, got 1.5$"):
        v.check_int(1.5, "k")


def test_seed() -> None:
    assert v.check_seed(0) == 0 and v.check_seed(np.uint32(7)) == 7
    for bad in (-1, 1.0, None, True):
        with pytest.raises(ValueError, match=f"^seed must be an integer >= 0, got {bad!r}$"):
            v.check_seed(bad)


def test_rng() -> None:
    g = np.random.default_rng(1)
    assert v.check_rng(g) is g
    for bad, kind in ((42, "int"), (np.random.RandomState(1), "RandomState"), (None, "NoneType")):
        with pytest.raises(ValueError, match=r"^rng must be a numpy Generator "
                                             rf"\(e.g. numpy.random.default_rng\(2026\)\), got {kind}$"):
            v.check_rng(bad)


# ---- choices --------------------------------------------------------------------------------

def test_choice() -> None:
    assert v.check_choice("efron", "ties", ("efron", "breslow")) == "efron"
    assert v.check_choice("Freedman", "method", ("schoenfeld", "freedman"), ignore_case=True) == "freedman"
    with pytest.raises(ValueError, match="^method must be one of schoenfeld, freedman, got 'Freedman'$"):
        v.check_choice("Freedman", "method", ("schoenfeld", "freedman"))
    assert v.check_choice(2.0, "sided", (1, 2)) == 2 and type(v.check_choice(2.0, "sided", (1, 2))) is int
    for bad in (3, True, "2", NAN, None, [1]):
        with pytest.raises(ValueError) as exc:
            v.check_choice(bad, "sided", (1, 2))
        assert str(exc.value) == f"sided must be one of 1, 2, got {bad!r}"
    with pytest.raises(ValueError, match="arm must be one of A, B, got 'a'"):
        v.check_choice("a", "arm", ("A", "B"))


# ---- records --------------------------------------------------------------------------------

def _level(x):
    if x not in ("yes", "no"):
        raise PatientRecordError(f"flag: level {x!r} unknown; allowed: yes, no")
    return x


def test_record_reports_every_problem_at_once() -> None:
    fields = [("flag", _level, "; allowed: yes, no"), ("other", _level, " (a yes/no field)")]
    assert v.check_record({"flag": "yes", "other": "no", "extra": 1}, fields, what="test record",
                          error=PatientRecordError) == {"flag": "yes", "other": "no"}
    with pytest.raises(PatientRecordError) as exc:
        v.check_record({"flag": "maybe"}, fields, what="test record", error=PatientRecordError)
    assert str(exc.value) == ("invalid test record: flag: level 'maybe' unknown; allowed: yes, no; "
                              "other: missing (a yes/no field)")
    with pytest.raises(PatientRecordError, match="a test record must be a mapping of field -> value, got list"):
        v.check_record([], fields, what="test record", error=PatientRecordError)


# ---- the package uses them ------------------------------------------------------------------

def test_package_errors_come_through_the_shared_checkers() -> None:
    from trialnb import bias, sample_size, simulation
    from trialnb.plan import DesignAssumptions

    with pytest.raises(SampleSizeError, match="alpha must lie strictly between 0 and 1, got 1.2"):
        sample_size.schoenfeld_events(0.5, alpha=1.2)
    with pytest.raises(ScenarioError, match=r"dropout_probability must lie in \[0, 1\), got 1.0"):
        DesignAssumptions(dropout_probability=1.0)
    with pytest.raises(BiasParameterError, match="seed must be an integer >= 0, got -1"):
        bias.simulate_registry(300, -1)
    with pytest.raises(ValueError, match="control_survival must lie strictly between 0 and 1, got 1.2"):
        simulation.CRFScenario(control_survival=1.2)
