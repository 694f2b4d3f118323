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
