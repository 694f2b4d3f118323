"""Tests of trialnb.sample_size: published values, the protocol audit, closed forms against
numerical integration, hypothesis properties, error messages and the R rpact cross-check."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import ndtr, ndtri

from trialnb import sample_size as ss
from trialnb.errors import SampleSizeError
from trialnb.protocol_audit import power_at_effect_sizes, protocol_audit
from trialnb.protocol import PROTOCOL

REF = Path(__file__).parent / "reference"
RPACT_JSON = REF / "rpact_sample_size.json"
RPACT_R = REF / "rpact_sample_size.R"
REFDATA = json.loads(RPACT_JSON.read_text())
REL = 1e-9  # rpact and trialnb agree to ~1e-12 relative; 1e-9 leaves room for libm differences

# ---------------------------------------------------------------- published / protocol values


def test_protocol_events_unrounded_and_rounded():
    d = PROTOCOL.design
    ev = ss.schoenfeld_events(d.hazard_ratio, d.alpha, d.power, d.allocation_ratio, d.sided)
    assert ev == pytest.approx(65.3457, abs=1e-4)
    assert math.ceil(ev) == PROTOCOL.stated.events == 66


def test_events_with_printed_z_values():
    # the protocol's printed z (1.96 + 0.84 = 2.80) give 65.27, still 66 after rounding up
    assert 4 * 2.8**2 / math.log(0.5) ** 2 == pytest.approx(65.27, abs=0.01)


def test_jcog1017_design_events_from_fact_sheet():
    # clinical_evidence.md 2.2: HR 0.77, one-sided 0.05, 80% -> 362 (Freedman 366) vs 359 reported
    assert ss.schoenfeld_events(0.77, 0.05, 0.8, sided=1) == pytest.approx(362.0, abs=0.05)
    assert ss.freedman_events(0.77, 0.05, 0.8, sided=1) == pytest.approx(366.1, abs=0.1)


def test_fact_sheet_targets_for_the_tehran_control():
    # 2-y OS 60% -> 70% / 75% / 80%: 243, 95, 46 events (two-sided 0.05, 80%; the sheet rounds
    # to the nearest event, a design rounds up: 244, 96, 46)
    got = [round(ss.schoenfeld_events(ss.hazard_ratio_from_survival(0.60, s))) for s in (0.70, 0.75, 0.80)]
    assert got == [243, 95, 46]


def test_event_probability_is_protocol_formula_for_fixed_follow_up():
    s1, s2 = math.exp(-0.5), math.exp(-0.25)
    got = ss.event_probability(0.5, 0.25, 0.0, 2.0)  # years
    assert got == pytest.approx(1 - (s1 + s2) / 2, rel=1e-14)
    assert got == pytest.approx(0.3073, abs=1e-4)


def test_protocol_sample_size_rounded_design():
    res = ss.sample_size()
    assert res.events_rounded == 66
    assert res.n_total == pytest.approx(65.3457 / 0.30733, rel=1e-4)
    assert (res.n_control, res.n_treatment) == (108, 108)  # 66 / 0.3073 = 214.7 -> 216
    assert res.n_per_arm_after_loss == 120
    assert res.n_total_after_loss == 240


def test_accrual_36_follow_up_24_gives_about_142_patients():
    res = ss.sample_size(accrual_time=36, loss_to_follow_up=0.0)
    assert res.n_total == pytest.approx(141.46, abs=0.01)
    assert math.ceil(res.n_total) == 142


def test_conversions():
    lam = ss.hazard_from_survival(0.60, 24)
    assert lam == pytest.approx(0.0213, abs=1e-4)
    assert ss.median_from_hazard(lam) == pytest.approx(32.6, abs=0.05)  # fact sheet 2.2
    assert ss.survival_from_hazard(lam, 24) == pytest.approx(0.60, rel=1e-12)
    assert ss.hazard_from_median(ss.median_from_hazard(0.1)) == pytest.approx(0.1, rel=1e-12)
    assert ss.survival_from_median(32.0, 32.0) == pytest.approx(0.5, rel=1e-12)
    assert ss.hazard_ratio_from_survival(math.exp(-0.5), math.exp(-0.25)) == pytest.approx(0.5, rel=1e-12)
    assert ss.z_value(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert ss.z_value(0.05, 1) == pytest.approx(1.644854, abs=1e-6)


# ---------------------------------------------------------------- protocol audit


@pytest.fixture(scope="module")
def audit():
    return protocol_audit().set_index("quantity")


def test_audit_columns_and_rows(audit):
    assert {"protocol", "recomputed", "exact", "verdict", "explanation"} <= set(audit.columns)
    for q in ("z_(alpha/2)", "z_beta", "events", "S1(2), control", "S2(2), treatment", "Pr(event)", "N",
              "N per arm", "N per arm after loss", "N after loss (2 x per arm)", "40% die within 2 years",
              "S(t) = exp{0.5}, as printed"):
        assert q in audit.index
    assert audit["explanation"].str.len().min() > 20


def test_audit_values(audit):
    assert audit.loc["events", "recomputed"] == pytest.approx(65.35, abs=0.005)
    assert audit.loc["events", "verdict"] == "correct"
    assert audit.loc["S(t) = exp{0.5}, as printed", "recomputed"] == pytest.approx(1.6487, abs=1e-4)
    assert audit.loc["S(t) = exp{0.5}, as printed", "verdict"] == "sign typo"
    assert audit.loc["S1(2), control", "exact"] == pytest.approx(0.6065, abs=1e-4)
    assert audit.loc["S2(2), treatment", "recomputed"] == pytest.approx(0.7788, abs=1e-4)
    assert audit.loc["Pr(event)", "recomputed"] == pytest.approx(0.31, abs=1e-12)
    assert audit.loc["N", "protocol"] == 212
    assert audit.loc["N", "recomputed"] == pytest.approx(212.9, abs=0.05)
    assert audit.loc["N", "verdict"] == "rounded down"
    assert audit.loc["N per arm", "recomputed"] == 107
    assert audit.loc["N per arm after loss", "protocol"] == 118
    assert audit.loc["N per arm after loss", "recomputed"] == 119
    assert audit.loc["N after loss (2 x per arm)", "recomputed"] == 238
    assert audit.loc["40% die within 2 years", "exact"] == pytest.approx(0.3935, abs=1e-4)
    assert audit.loc["N if follow-up runs to the end of the study", "recomputed"] == pytest.approx(141.46, abs=0.01)


def test_audit_reads_protocol_numbers_not_copies(monkeypatch, audit):
    from dataclasses import replace

    import trialnb.protocol_audit as mod

    monkeypatch.setattr(mod, "PROTOCOL", replace(PROTOCOL, stated=replace(PROTOCOL.stated, n_total=999)))
    assert mod.protocol_audit().set_index("quantity").loc["N", "protocol"] == 999
    other = replace(PROTOCOL, stated=replace(PROTOCOL.stated, n_total=998))
    assert mod.protocol_audit(other).set_index("quantity").loc["N", "protocol"] == 998


# ---------------------------------------------------------------- closed form vs numerical integration


def _p_event_numeric(lam: float, eta: float, a: float, f: float) -> float:
    """Integrate the event sub-density over follow-up time, averaged over uniform entry."""
    dens = lambda t: lam * math.exp(-(lam + eta) * t)  # noqa: E731
    if a == 0:
        return integrate.quad(dens, 0, f)[0]
    # entry u ~ U(0, a); potential follow-up a + f - u
    val, _ = integrate.dblquad(lambda t, u: dens(t) / a, 0, a, 0, lambda u: a + f - u)
    return val


@pytest.mark.parametrize(
    "hr,lam,a,f,r,eta",
    [
        (0.5, 0.5 / 24, 0, 24, 1, 0),
        (0.5, 0.5 / 24, 36, 24, 1, 0),
        (0.7, 0.03, 30, 18, 2, 0.004),
        (1.3, 0.01, 12, 6, 0.5, 0.02),
        (0.5, 0.5 / 24, 0, 24, 1, 0.01),
    ],
)
def test_event_probability_closed_form_matches_integration(hr, lam, a, f, r, eta):
    num = (_p_event_numeric(lam, eta, a, f) + r * _p_event_numeric(hr * lam, eta, a, f)) / (1 + r)
    assert ss.event_probability(hr, lam, a, f, r, eta) == pytest.approx(num, rel=1e-8)


@settings(max_examples=25, deadline=None)
@given(
    lam=st.floats(0.001, 0.3),
    eta=st.floats(0.0, 0.1),
    a=st.one_of(st.just(0.0), st.floats(0.01, 60.0)),
    f=st.floats(0.5, 60.0),
)
def test_event_probability_integration_property(lam, eta, a, f):
    num = _p_event_numeric(lam, eta, a, f)
    assert ss.event_probability(1.0, lam, a, f, 1.0, eta) == pytest.approx(num, rel=1e-7, abs=1e-12)


def test_tiny_accrual_tends_to_fixed_follow_up():
    assert ss.event_probability(0.5, 0.02, 5e-324, 24) == ss.event_probability(0.5, 0.02, 0, 24)
    assert ss.event_probability(0.5, 0.02, 1e-6, 24) == pytest.approx(ss.event_probability(0.5, 0.02, 0, 24), rel=1e-6)


# ---------------------------------------------------------------- hypothesis properties

hrs = st.floats(0.2, 0.95)
alphas = st.floats(0.001, 0.2)
powers = st.floats(0.5, 0.99)
ratios = st.floats(0.25, 4.0)
sides = st.sampled_from([1, 2])
methods = st.sampled_from(["schoenfeld", "freedman"])


@settings(max_examples=60, deadline=None)
@given(hr=hrs, alpha=alphas, pw=powers, r=ratios, sided=sides, method=methods)
def test_power_of_required_events_is_target(hr, alpha, pw, r, sided, method):
    fn = ss.schoenfeld_events if method == "schoenfeld" else ss.freedman_events
    d = fn(hr, alpha, pw, r, sided)
    got = ss.power(d, hr, alpha, r, sided, method)
    # one-sided: exact; two-sided adds the far rejection region Phi(-theta - z_a)
    za, zb = ndtri(1 - alpha / sided), ndtri(pw)
    far = ndtr(-2 * za - zb) if sided == 2 else 0.0
    assert got >= pw - 1e-10
    assert got == pytest.approx(pw + far, abs=1e-10)


@settings(max_examples=60, deadline=None)
@given(hr=hrs, alpha=alphas, pw=powers, r=ratios, sided=sides, method=methods)
def test_detectable_hr_inverts_events(hr, alpha, pw, r, sided, method):
    fn = ss.schoenfeld_events if method == "schoenfeld" else ss.freedman_events
    d = fn(hr, alpha, pw, r, sided)
    assert ss.detectable_hazard_ratio(d, alpha, pw, r, sided, method) == pytest.approx(hr, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(hr=hrs, alpha=alphas, pw=powers, r=ratios, method=methods, dh=st.floats(0.01, 0.04))
def test_events_monotone(hr, alpha, pw, r, method, dh):
    fn = ss.schoenfeld_events if method == "schoenfeld" else ss.freedman_events
    base = fn(hr, alpha, pw, r)
    assert fn(min(hr + dh, 0.99), alpha, pw, r) > base  # weaker effect -> more events
    assert fn(hr, alpha, min(pw + 0.005, 0.995), r) > base  # more power -> more events
    assert fn(hr, alpha * 0.9, pw, r) > base  # smaller alpha -> more events
    assert fn(hr, alpha, pw, r, sided=1) < base  # one-sided needs fewer


@settings(max_examples=40, deadline=None)
@given(hr=st.floats(0.2, 5.0).filter(lambda x: abs(x - 1) > 1e-3), r=ratios)
def test_schoenfeld_symmetries(hr, r):
    e = ss.schoenfeld_events(hr, allocation_ratio=r)
    assert ss.schoenfeld_events(1 / hr, allocation_ratio=r) == pytest.approx(e, rel=1e-12)
    assert ss.schoenfeld_events(hr, allocation_ratio=1 / r) == pytest.approx(e, rel=1e-12)
    assert e >= ss.schoenfeld_events(hr) * (1 - 1e-12)  # equal allocation is optimal


@settings(max_examples=40, deadline=None)
@given(d=st.floats(5, 2000), alpha=alphas, r=ratios, method=methods)
def test_power_curve_monotone_and_alpha_at_one(d, alpha, r, method):
    grid = np.linspace(0.3, 1.0, 29)
    pw = ss.power_curve(d, grid, alpha, r, 2, method)
    assert np.all(np.diff(pw) <= 1e-12)
    assert pw[-1] == pytest.approx(alpha, rel=1e-9)
    assert pw[5] == pytest.approx(ss.power(d, grid[5], alpha, r, 2, method), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(hr=hrs, lam=st.floats(0.005, 0.2), a=st.floats(0, 48), f=st.floats(1, 48), eta=st.floats(0, 0.05))
def test_event_probability_monotone(hr, lam, a, f, eta):
    p = ss.event_probability(hr, lam, a, f, 1.0, eta)
    assert 0 < p < 1
    assert ss.event_probability(hr, lam, a, f + 1, 1.0, eta) > p
    assert ss.event_probability(hr, lam * 1.1, a, f, 1.0, eta) > p
    assert ss.event_probability(hr, lam, a, f, 1.0, eta + 0.01) < p
    assert ss.event_probability(hr, lam, a + 1, f, 1.0, eta) > p  # longer accrual = more follow-up


@settings(max_examples=60, deadline=None)
@given(hr=hrs, r=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), loss=st.floats(0, 0.5), a=st.floats(0, 48))
def test_rounded_design_invariants(hr, r, loss, a):
    res = ss.sample_size(hr, allocation_ratio=r, accrual_time=a, loss_to_follow_up=loss)
    assert res.events_rounded == math.ceil(res.events - 1e-9)
    n_from_rounded = res.events_rounded / res.event_probability
    assert res.n_control >= n_from_rounded / (1 + r) - 1e-9 and res.n_control - n_from_rounded / (1 + r) < 1
    assert res.n_treatment >= n_from_rounded * r / (1 + r) - 1e-9
    assert res.n_total_rounded >= res.n_total - 1e-9
    for before, after in ((res.n_control, res.n_control_after_loss), (res.n_treatment, res.n_treatment_after_loss)):
        assert after * (1 - loss) >= before - 1e-9  # the patients left after the loss suffice
        assert (after - 1) * (1 - loss) < before  # and no more than needed
    if r == 1.0:
        assert res.n_control == res.n_treatment


# ---------------------------------------------------------------- results render


def test_result_renders_as_table():
    res = ss.sample_size()
    text, page = str(res), res._repr_html_()
    assert "N after loss" in text and "240" in text and "65.3457" in text
    assert "<table>" in page and "events / Pr(event)" in page
    assert list(res.to_frame().columns) == ["step", "formula", "value", "note"]
    assert res.to_frame()["value"].iloc[-1] == 240


def test_n_per_arm_refuses_unequal_arms():
    res = ss.sample_size(0.5, allocation_ratio=2)
    with pytest.raises(ValueError, match="equal arms"):
        _ = res.n_per_arm


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: ss.schoenfeld_events(0), "hazard_ratio must be > 0"),
        (lambda: ss.schoenfeld_events(-0.5), "hazard_ratio must be > 0"),
        (lambda: ss.schoenfeld_events(1.0), "hazard_ratio must differ from 1"),
        (lambda: ss.freedman_events(1.0), "hazard_ratio must differ from 1"),
        (lambda: ss.schoenfeld_events(0.5, alpha=0), r"alpha must lie strictly between 0 and 1"),
        (lambda: ss.schoenfeld_events(0.5, alpha=1.2), r"alpha must lie strictly between 0 and 1"),
        (lambda: ss.schoenfeld_events(0.5, power=1), r"power must lie strictly between 0 and 1"),
        (lambda: ss.schoenfeld_events(0.5, alpha=0.3, power=0.2), "power must exceed alpha"),
        (lambda: ss.schoenfeld_events(0.5, allocation_ratio=0), "allocation_ratio"),
        (lambda: ss.schoenfeld_events(0.5, sided=3), "sided must be one of 1, 2"),
        (lambda: ss.schoenfeld_events("0.5"), "hazard_ratio must be a number"),
        (lambda: ss.schoenfeld_events(float("nan")), "hazard_ratio must be finite"),
        (lambda: ss.sample_size(0.5, method="logrank"), "method must be one of schoenfeld, freedman"),
        (lambda: ss.sample_size(0.5, accrual_time=-1), "accrual_time must be >= 0"),
        (lambda: ss.sample_size(0.5, follow_up_time=-2), "follow_up_time must be >= 0"),
        (lambda: ss.sample_size(0.5, loss_to_follow_up=1.0), r"loss_to_follow_up must lie in \[0, 1\)"),
        (lambda: ss.sample_size(0.5, loss_to_follow_up=-0.1), r"loss_to_follow_up must lie in \[0, 1\)"),
        (lambda: ss.sample_size(0.5, dropout_hazard=-0.1), "dropout_hazard must be >= 0"),
        (lambda: ss.sample_size(0.5, control_hazard=0), "control_hazard must be > 0"),
        (lambda: ss.event_probability(0.5, 0.1, 0, 0), "accrual_time \\+ follow_up_time must be > 0"),
        (lambda: ss.power(0, 0.5), "events must be > 0"),
        (lambda: ss.power(66, 0.5, alpha=1), "alpha must lie strictly"),
        (lambda: ss.detectable_hazard_ratio(2, method="freedman"), "too few"),
        (lambda: ss.proportion_sample_size(0.6, 0.6), "must differ"),
        (lambda: ss.proportion_sample_size(0.6, 1.0), "treatment_proportion must lie strictly"),
        (lambda: ss.hazard_from_survival(0.6, 0), "time must be > 0"),
    ],
)
def test_errors_name_the_argument(call, match):
    with pytest.raises(SampleSizeError, match=match):
        call()


def test_error_class_is_value_error():
    assert issubclass(SampleSizeError, ValueError)


def test_power_allows_no_effect_and_returns_alpha():
    assert ss.power(66, 1.0) == pytest.approx(0.05, rel=1e-12)
    assert ss.power(66, 1.0, sided=1) == pytest.approx(0.05, rel=1e-12)


# ---------------------------------------------------------------- proportions, RCT effect sizes


def test_proportion_design_060_vs_078():
    res = ss.proportion_sample_size(0.60, 0.78)
    assert res.n_total == pytest.approx(204.89, abs=0.01)
    assert (res.n_control, res.n_treatment) == (103, 103)
    assert ss.proportion_sample_size(0.60, 0.78, loss_to_follow_up=0.1).n_total_after_loss == 2 * 115


def test_power_at_effect_sizes_uses_fact_sheet_hrs():
    tab = power_at_effect_sizes().set_index("study")
    assert tab.loc["Tata Memorial (Badwe 2015)", "hazard_ratio"] == 1.04
    assert tab.loc["E2108 (Khan 2022)", "hazard_ratio"] == 1.11
    assert tab.loc["MF07-01 (Soran 2018)", "power"] == pytest.approx(0.3929, abs=1e-4)
    assert (tab.loc[tab["kind"] == "meta-analysis", "power"] < 0.1).all()
    assert tab.loc["MF07-01 (Soran 2018)", "events_needed"] == math.ceil(ss.schoenfeld_events(0.66))


# ---------------------------------------------------------------- rpact cross-check


@pytest.mark.parametrize("case", REFDATA["survival"], ids=[c["id"] for c in REFDATA["survival"]])
def test_rpact_sample_size_survival(case):
    res = ss.sample_size(
        case["hazard_ratio"], case["alpha"], case["power"], case["allocation_ratio"], case["sided"],
        case["method"], case["control_hazard"], case["accrual_time"], case["follow_up_time"],
        case["dropout_hazard"],
    )
    fn = ss.schoenfeld_events if case["method"] == "schoenfeld" else ss.freedman_events
    got = fn(case["hazard_ratio"], case["alpha"], case["power"], case["allocation_ratio"], case["sided"])
    assert got == pytest.approx(case["events"], rel=REL)
    assert res.events == pytest.approx(case["events"], rel=REL)
    assert res.n_total == pytest.approx(case["n_total"], rel=REL)
    r = case["allocation_ratio"]
    assert res.n_total * r / (1 + r) == pytest.approx(case["n_treatment"], rel=REL)
    assert res.n_total / (1 + r) == pytest.approx(case["n_control"], rel=REL)


@pytest.mark.parametrize("case", REFDATA["power"], ids=[c["id"] for c in REFDATA["power"]])
def test_rpact_power(case):
    got = ss.power(case["events"], case["hazard_ratio"], case["alpha"], case["allocation_ratio"], case["sided"],
                   case["method"])
    assert got == pytest.approx(case["power"], rel=REL)


@pytest.mark.parametrize("case", REFDATA["rates"], ids=[c["id"] for c in REFDATA["rates"]])
def test_rpact_rates(case):
    res = ss.proportion_sample_size(
        case["control_proportion"], case["treatment_proportion"], case["alpha"], case["power"],
        case["allocation_ratio"], case["sided"],
    )
    assert res.n_total == pytest.approx(case["n_total"], rel=REL)
    assert res.n_treatment_unrounded == pytest.approx(case["n_treatment"], rel=REL)
    assert res.n_control_unrounded == pytest.approx(case["n_control"], rel=REL)


def test_rpact_reference_covers_the_spread():
    surv = REFDATA["survival"]
    assert {c["method"] for c in surv} == {"schoenfeld", "freedman"}
    assert {c["sided"] for c in surv} == {1, 2}
    assert len({c["allocation_ratio"] for c in surv}) >= 3
    assert any(c["dropout_hazard"] > 0 for c in surv)
    assert len(REFDATA["power"]) >= 5 and len(REFDATA["rates"]) >= 3


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}/{k}"))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}/{v.get('id', i) if isinstance(v, dict) else i}"))
        return out
    return {prefix: obj}


