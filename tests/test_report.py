import math

import pytest
from hypothesis import given, strategies as st

from trialnb import report


def test_formats():
    assert report.fmt_hr(0.6134, 0.58, 0.652) == "0.61 (95% CI 0.58 to 0.65)"
    assert report.fmt_p(0.0004) == "p < 0.001"
    assert report.fmt_p(0.0043) == "p = 0.004"
    assert report.fmt_p(0.043) == "p = 0.043"
    assert report.fmt_p(0.21) == "p = 0.21"
    assert report.fmt_n(16023) == "16,023"
    assert report.fmt_pct(0.60653) == "60.7%"
    assert report.fmt_months(32.61) == "32.6 months"
    assert report.fmt_num(float("nan")) == "NA"
    assert report.fmt_num(-0.0001) == "0.00"


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.1"])
def test_bad_p(bad):
    with pytest.raises(ValueError, match="p"):
        report.fmt_p(bad)


def test_counts_must_be_whole():
    with pytest.raises(ValueError, match="whole"):
        report.fmt_n(212.9)


@given(st.floats(1e-6, 1e6))
def test_fmt_num_round_trips_to_two_decimals(x):
    assert math.isclose(float(report.fmt_num(x)), round(x, 2), abs_tol=0.0051)


def test_fmt_value_whole_numbers_print_as_integers():
    # the protocol's table values: counts and the sidedness without ".00" or ".0000"
    assert [report.fmt_value(v) for v in (2.0, 66.0, 212.0, 16023.0)] == ["2", "66", "212", "16,023"]
    assert report.fmt_value(0.30733) == "0.3073"
    assert report.fmt_value(0.05, trim=True) == "0.05"
    assert report.fmt_value(0.6, 4) == "0.6000"
    assert report.fmt_value(float("nan")) == "NA"
    with pytest.raises(ValueError, match="number"):
        report.fmt_value("66")


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_fmt_value_round_trips(x):
    assert math.isclose(float(report.fmt_value(x).replace(",", "")), round(x, 4), abs_tol=0.000051)
