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


# --- a number that is not one is never printed ----------------------------------------------

def test_estimate_or_the_reason_there_is_none():
    assert report.fmt_estimate(-3.31234, 3) == "-3.312"
    why = "the Cox model did not converge"
    assert report.fmt_estimate(9.2e-13, 2, unavailable=why) == f"no estimate: {why}"  # finite, but not an estimate
    assert report.fmt_estimate(float("nan"), unavailable=why) == f"no estimate: {why}"
    assert report.fmt_interval(0.114, 0.876, 2, label="repeated CI") == "repeated CI 0.11 to 0.88"
    assert (report.fmt_interval(math.nan, math.nan, label="repeated CI", unavailable="too early")
            == "no repeated CI: too early")


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf])
def test_a_non_number_without_a_reason_is_refused(bad):
    with pytest.raises(report.NoEstimateError, match="no reason was given"):
        report.fmt_estimate(bad)
    with pytest.raises(report.NoEstimateError, match="no reason was given"):
        report.fmt_interval(0.1, bad)
    with pytest.raises(ValueError, match="must be a number"):
        report.fmt_estimate(True)  # booleans are not numbers


@given(st.lists(st.tuples(st.text("abc xyz-", min_size=1, max_size=60),
                          st.text("0123456789 abcdefgh.,()", max_size=300)),
                min_size=1, max_size=8))
def test_text_table_wraps_at_words_within_the_width(rows):
    out = report.text_table(rows, width=80)
    col = min(max(len(k) for k, _ in rows), 30)
    longest = max((len(w) for _, v in rows for w in v.split()), default=0)
    if longest <= 80 - col - 2 and all(len(w) <= col for k, _ in rows for w in k.split()):
        assert all(len(line) <= 80 for line in out.splitlines())
    printed = out.split()
    for _, value in rows:  # every word of every value is printed whole
        for w in value.split():
            assert w in printed


def test_wrap_text_never_breaks_a_word():
    text = "Plan: 2 looks (interim at half the planned deaths), Lan-DeMets O'Brien-Fleming alpha spending"
    lines = report.wrap_text(text, 30).splitlines()
    assert all(len(ln) <= 30 for ln in lines) and " ".join(lines) == text


def test_significant_digits_for_tables():
    cases = {0.7569375529: "0.7569", 212.6207969864: "212.6", -0.154996: "-0.155", 65.3512: "65.35",
             1.0: "1", 16023.0: "16,023", 123456.7: "123,457", 1.2345e-05: "1.234e-05", 0.5: "0.5",
             -0.00001: "-1e-05", math.nan: "NA"}
    assert {x: report.fmt_sig(x) for x in cases} == cases
    with pytest.raises(ValueError, match="digits"):
        report.fmt_sig(0.5, 0)


@given(st.floats(min_value=1e-4, max_value=9999.0), st.integers(min_value=3, max_value=6), st.booleans())
def test_significant_digits_keep_the_value(x, digits, negative):
    x = -x if negative else x
    shown = float(report.fmt_sig(x, digits).replace(",", ""))
    assert abs(shown - x) <= 0.5 * 10 ** (math.floor(math.log10(abs(x))) - digits + 1) * (1 + 1e-9)


def test_result_tables_print_readable_precision():
    """The result contract's HTML table: 0.7569, not 0.7569375529 (or pandas' 0.756938)."""
    import dataclasses

    from trialnb.results import Result

    @dataclasses.dataclass(frozen=True)
    class Demo(Result):
        estimate: float
        events: int
        label: str

        def summary(self) -> str:
            return "demo"

    html = Demo(0.7569375529, 66, "x")._repr_html_()
    assert "<td>0.7569</td>" in html and "0.75693" not in html and "<td>66</td>" in html
