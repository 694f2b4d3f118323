"""Issue 24 §5: booleans are not numbers anywhere, numpy scalars are; a futility bound above the
efficacy bound is refused; extreme times end in a named error, never an OverflowError or a
ZeroDivisionError traceback."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import monitoring as mon
from trialnb import report
from trialnb.cli import main
from trialnb.eligibility import example_patient, screen
from trialnb.errors import DesignError, PatientRecordError, SampleSizeError
from trialnb.sample_size import event_probability, sample_size
from trialnb.validation import check_real_array, is_number

ROOT = Path(__file__).resolve().parents[1]
BOOLS = [True, False, np.bool_(True), np.bool_(False)]
NUMPY_NUMBERS = [np.int64(48), np.int32(48), np.float32(48.0), np.float64(48.0), np.uint8(48)]


@pytest.mark.parametrize("x", NUMPY_NUMBERS + [48, 48.0])
def test_numpy_scalars_are_numbers(x):
    assert is_number(x)
    assert check_real_array(x, "x").tolist() == [48.0]
    assert check_real_array(np.array([x, x]), "x").tolist() == [48.0, 48.0]


@pytest.mark.parametrize("x", BOOLS + ["48", None, [1], 1j, np.array(True)])
def test_booleans_and_others_are_not_numbers(x):
    assert not is_number(x)


@pytest.mark.parametrize("value", [[True], [1.0, True], np.array([True, False]), (np.bool_(True),), "3", [[1.0]],
                                   [float("nan")], [], [None]])
def test_check_real_array_refuses_booleans_text_and_nan(value):
    with pytest.raises(ValueError, match="must be|must hold"):
        check_real_array(value, "events")


# ---- monitoring -----------------------------------------------------------------------------

D = mon.design(2, alpha=0.025, sided=1, type_of_design="asOF")


def test_a_futility_bound_above_the_efficacy_bound_is_refused():
    """Issue 24: futility_bounds=[4.0] above the efficacy bound (2.96 at half the information)
    was accepted."""
    with pytest.raises(DesignError, match=r"futility_bounds\[0\] = 4 is at or above the efficacy bound 2\.9626 "
                                          r"of look 1: the futility and efficacy regions would overlap") as e:
        mon.design(2, alpha=0.025, sided=1, type_of_design="asOF", futility_bounds=[4.0])
    assert "z < 2.9626" in str(e.value)
    ok = mon.design(2, alpha=0.025, sided=1, type_of_design="asOF", futility_bounds=[0.0])
    assert ok.futility_bounds[0] < ok.critical_values[0]
    with pytest.raises(DesignError, match="at or above the efficacy bound"):
        mon.design(3, alpha=0.025, sided=1, type_of_design="OF", futility_bounds=[0.0, 2.5])  # look 2: 2.50 >= 2.34
    assert mon.design(2, alpha=0.025, sided=1, futility_bounds=[-np.inf]).futility_bounds[0] == -np.inf
    with pytest.raises(DesignError, match="a bool is not a number"):
        mon.design(2, alpha=0.025, sided=1, futility_bounds=[True])


@pytest.mark.parametrize("call, match", [
    (lambda: mon.analyse(D, [30], [-1.0], max_information=True), "max_information"),
    (lambda: mon.analyse(D, [30], [-1.0], max_information=np.bool_(True)), "max_information"),
    (lambda: mon.analyse(D, [True], [-1.0]), "events must be numbers"),
    (lambda: mon.analyse(D, [30], [True]), "logrank_z must be numbers"),
    (lambda: mon.analyse(D, np.array([True]), [-1.0]), "events must be numbers"),
    (lambda: mon.analyse(D, [30], [-1.0], allocation_ratio=True), "allocation_ratio must be numbers"),
    (lambda: mon.analyse(D, [30], [-1.0], max_information=66, information_epsilon=True), "information_epsilon"),
    (lambda: mon.conditional_power(D, [30], [-1.0], n_planned=[30], theta_h1=True), "theta_h1"),
    (lambda: mon.conditional_power(D, [30], [-1.0], n_planned=[True], theta_h1=0.5), "n_planned must be numbers"),
    (lambda: mon.design(2, information_rates=[0.5, True]), "information_rates must be numbers"),
])
def test_booleans_are_refused_by_monitoring(call, match):
    """Issue 24: analyse(max_information=True), events=[True] and conditional_power(theta_h1=True)
    treated True as 1."""
    with pytest.raises(DesignError, match=match):
        call()


def test_numpy_scalars_are_accepted_by_monitoring():
    ref = mon.analyse(D, [30], [-1.0], max_information=66)
    got = mon.analyse(D, np.array([np.int64(30)]), [np.float32(-1.0)], max_information=np.int64(66))
    assert got.critical_values[0] == pytest.approx(ref.critical_values[0])
    cp = mon.conditional_power(D, [30], [-1.0], n_planned=[np.int64(36)], theta_h1=np.float32(0.5))
    assert cp.to_frame().shape[0] == 1


# ---- eligibility and formatting -----------------------------------------------------------------


@pytest.mark.parametrize("age", [np.int64(48), np.float32(48.0), np.float64(48.0), np.int32(48)])
def test_a_screening_record_with_numpy_numbers_is_accepted(age):
    """Issue 24: age=np.int64(48) or np.float32 was refused as "not a number"."""
    ref = screen(example_patient(age=48))
    res = screen(example_patient(age=age, anticipated_survival_months=np.int64(12),
                                 histology_confirmed=np.bool_(True)))
    assert res.eligible == ref.eligible and res.failed == ref.failed


@pytest.mark.parametrize("age", [True, "48", None, float("nan")])
def test_a_screening_record_with_a_boolean_age_is_refused(age):
    with pytest.raises(PatientRecordError, match="age: .* is not a number"):
        screen(example_patient(age=age))


def test_report_formats_numpy_numbers_and_refuses_booleans():
    assert report.fmt_num(np.float32(0.5)) == "0.50" and report.fmt_n(np.int64(236)) == "236"
    assert report.fmt_p(np.float64(0.03)) == "p = 0.030"
    for bad in (True, np.bool_(False), "0.5"):
        with pytest.raises(ValueError, match="must be a number"):
            report.fmt_num(bad)


def test_other_hand_written_checks_refuse_booleans_and_text_and_accept_numpy():
    from trialnb import analysis, population
    from trialnb.data import load_trial
    from trialnb.randomization import PocockSimon

    df = load_trial(ROOT / "data" / "trial_protocol.csv")
    assert analysis.milestone(df, tau=np.int64(24)).to_frame().shape[0] >= 1
    for bad in (True, "24"):
        with pytest.raises(ValueError, match="tau must be"):
            analysis.milestone(df, tau=bad)
    for bad in ("0.6", True):
        with pytest.raises(ValueError, match="survival must lie strictly between 0 and 1"):
            population.calibrate_baseline(np.array([1.0]), np.array([0.0]), bad)
    assert population.calibrate_baseline(np.array([1.0]), np.array([0.0]), np.float32(0.6)) == \
        pytest.approx(-math.log(0.6), rel=1e-6)
    p = PocockSimon()
    assert p.assign_uniform({"dominant_site": "bone", "hormone_receptor": "positive", "her2": "negative"},
                            np.float32(0.25)).arm in ("A", "B")


# ---- extreme times -------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs", [dict(follow_up_time=5e-324), dict(control_hazard=1e-320),
                                    dict(accrual_time=5e-324, follow_up_time=5e-324),
                                    dict(control_hazard=5e-324, dropout_hazard=1e308)])
def test_underflowing_event_probability_is_a_named_error(kwargs):
    """Issue 24: sample_size(follow_up=5e-324) ended in ZeroDivisionError, control_hazard=1e-320
    in OverflowError."""
    with pytest.raises(SampleSizeError, match=r"Pr\(event\) = .* is not a finite number"):
        sample_size(0.5, **kwargs)


_extreme = st.one_of(st.floats(min_value=0, max_value=1e308, allow_subnormal=True), st.sampled_from(
    [0.0, 5e-324, 1e-320, 1e-300, 1e-12, 1.0, 24.0, 1e12, 1e300, 1e308]))


@settings(max_examples=300, deadline=None)
@given(lam=_extreme, a=_extreme, f=_extreme, eta=_extreme, hr=st.sampled_from([0.5, 0.9, 2.0]))
def test_sample_size_never_overflows_on_any_time_or_hazard(lam, a, f, eta, hr):
    try:
        res = sample_size(hr, control_hazard=lam, accrual_time=a, follow_up_time=f, dropout_hazard=eta)
    except SampleSizeError:
        return
    assert math.isfinite(res.n_total) and res.n_total > 0 and 0 < res.event_probability <= 1
    assert res.n_total_after_loss >= res.events_rounded
    assert 0 <= event_probability(hr, lam, a, f, 1.0, eta) <= 1


def test_overflowing_hazards_give_the_limit_not_a_wrong_share():
    """lam = eta = 1e308: their sum overflows; every follow-up ends at once and half of the
    control arm's endings are events (lam / (lam + eta)), a third of the treatment arm's."""
    res = sample_size(0.5, control_hazard=1e308, dropout_hazard=1e308)
    assert res.event_probability_control == pytest.approx(0.5)
    assert res.event_probability_treatment == pytest.approx(1 / 3)


@pytest.mark.parametrize("args", [["--follow-up", "1e-320"], ["--control-hazard", "1e-320"],
                                  ["--follow-up", "5e-324", "--accrual", "5e-324"]])
def test_cli_sample_size_with_extreme_times_exits_2_with_one_line(args, capsys):
    assert main(["sample-size", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("trialnb sample-size: Pr(event)") and "Traceback" not in err[0]
    assert re.search(r"not a finite number", err[0])
