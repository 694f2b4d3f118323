"""trialnb.evidence: the randomized trials' inputs and their meta-analysis.

* the log HR and SE recovered from each reported interval equal R's, computed independently in
  tests/reference/metafor_meta.R (90% intervals with z = 1.645);
* meta_analysis equals R metafor::rma (FE, DL, REML, PM; with and without Knapp-Hartung) to
  1e-6 on six data sets (k = 2, 3, 4, 5, 13; heterogeneous, homogeneous, tau2 = 0 boundary),
  and the published BCG values (Viechtbauer 2010);
* independent re-derivations: DL and FE by hand, REML as the maximiser of the restricted
  likelihood written here, PM as the root of the generalized Q; properties with hypothesis.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from trialnb import evidence as ev
from trialnb.errors import EvidenceError

REF = Path(__file__).resolve().parent / "reference"
REFDATA = json.loads((REF / "metafor_meta.json").read_text(encoding="utf-8"))
TOL = 1e-6


def _case_id(c: dict) -> str:
    return f"{c['dataset']}-{c['method']}-{c['test']}"


# ---------------------------------------------------------------------------- inputs

def test_trial_inputs_equal_the_r_recovery_from_the_printed_intervals() -> None:
    d = REFDATA["datasets"]["rct_all"]
    tab = ev.trial_inputs().set_index("key")
    assert list(tab.index) == d["labels"] == list(ev.RANDOMIZED_TRIALS)
    assert tab["log_hr"].tolist() == pytest.approx(d["yi"], abs=1e-12)
    assert tab["se"].tolist() == pytest.approx(d["sei"], abs=1e-12)


def test_a_90_percent_interval_uses_z_0_95() -> None:
    log_hr, se = ev.log_hr_se(1.11, 0.82, 1.52, 0.90)
    assert log_hr == pytest.approx(math.log(1.11))
    assert se == pytest.approx((math.log(1.52) - math.log(0.82)) / (2 * 1.6448536269514722), rel=1e-12)
    wrong = (math.log(1.52) - math.log(0.82)) / (2 * 1.959963984540054)
    assert se / wrong == pytest.approx(1.959963984540054 / 1.6448536269514722)  # 19% larger than with 1.96


def test_recovered_se_agrees_with_the_deaths_each_trial_reported() -> None:
    """4 / se^2 is Schoenfeld's deaths for the recovered SE: within 10% of the deaths reported."""
    for key in ("tata2015", "e2108_2022", "jcog1017"):
        s = ev.study(key)
        assert s.deaths is not None
        assert s.implied_deaths == pytest.approx(s.deaths, rel=0.10), key
    ten_year = ev.study("mf0701_2021")  # its CI implies more deaths than it had patients
    assert ten_year.implied_deaths > ten_year.n and not ten_year.verified
    assert "mf0701_2021" not in ev.RANDOMIZED_TRIALS


def test_abcsg28_is_inverted_to_agree_with_its_medians() -> None:
    s = ev.study("abcsg28")
    hr, lo, hi = ev.ABCSG28_PRINTED
    assert (s.hazard_ratio, s.ci_lower, s.ci_upper) == pytest.approx((1 / hr, 1 / hi, 1 / lo), rel=1e-15)
    from_medians = ev.median_ratio_hazard_ratio(*ev.ABCSG28_MEDIANS)
    assert from_medians > 1 and s.hazard_ratio > 1 and hr < 1  # printed < 1 contradicts the medians
    assert abs(math.log(s.hazard_ratio) - math.log(from_medians)) < abs(math.log(hr) - math.log(from_medians))
    assert s.randomized_at == ev.AT_DIAGNOSIS


def test_timing_of_randomization_and_sources() -> None:
    at = {k for k in ev.RANDOMIZED_TRIALS if ev.study(k).randomized_at == ev.AT_DIAGNOSIS}
    after = {k for k in ev.RANDOMIZED_TRIALS if ev.study(k).randomized_at == ev.AFTER_INDUCTION}
    assert at == {"mf0701_2018", "abcsg28"} and after == {"tata2015", "e2108_2022", "jcog1017"}
    jcog = ev.study("jcog1017")
    assert (jcog.hazard_ratio, jcog.ci_lower, jcog.ci_upper, jcog.ci_level) == (0.86, 0.69, 1.07, 0.90)
    assert ev.figure("jcog1017_lrfs").value == 0.42
    assert ev.figure("jcog1017_non_progression").value == 0.772
    for k in ev.RANDOMIZED_TRIALS:
        assert ev.study(k).citation and ev.study(k).randomized


def test_forest_keeps_the_superseded_and_implausible_reports_out() -> None:
    keys = set(ev.studies_table(in_forest=True)["key"])
    assert set(ev.RANDOMIZED_TRIALS) <= keys
    assert not {"jcog1017_asco2023", "mf0701_2021"} & keys


# ---------------------------------------------------------------------------- metafor

@pytest.mark.parametrize("case", REFDATA["cases"], ids=_case_id)
def test_meta_analysis_equals_metafor(case: dict) -> None:
    d = REFDATA["datasets"][case["dataset"]]
    r = ev.meta_analysis(d["yi"], d["sei"], method=case["method"], hksj=case["test"] == "knha", labels=d["labels"])
    assert r.k == case["k"]
    got = (r.log_hr, r.se, math.log(r.ci_lower), math.log(r.ci_upper), r.statistic, r.p_value, r.tau2,
           r.i2, r.h2, r.q, r.q_p_value, math.log(r.pi_lower), math.log(r.pi_upper))
    want = tuple(case[k] for k in ("b", "se", "ci_lb", "ci_ub", "statistic", "pval", "tau2", "I2", "H2", "QE",
                                   "QEp", "pi_lb", "pi_ub"))
    assert got == pytest.approx(want, rel=TOL, abs=TOL)
    assert list(r.weights) == pytest.approx(case["weights"], rel=TOL, abs=TOL)


def test_reference_covers_what_the_issue_asks() -> None:
    ks = {c["dataset"]: c["k"] for c in REFDATA["cases"]}
    assert {2, 3, 5} <= set(ks.values())
    by = {(c["dataset"], c["method"], c["test"]): c for c in REFDATA["cases"]}
    assert by[("rct_all", "REML", "z")]["tau2"] > 0.01  # heterogeneous
    for name in ("after_induction", "homogeneous_k4", "homogeneous_k2"):  # the tau2 = 0 boundary
        assert all(by[(name, m, "z")]["tau2"] == 0 for m in ("DL", "REML", "PM"))
    assert {c["test"] for c in REFDATA["cases"]} == {"z", "knha"}


def test_published_bcg_values() -> None:
    """Viechtbauer W. J Stat Softw 2010;36(3): REML on the BCG data, log risk ratios: estimate
    -0.7145 (SE 0.1798), tau^2 0.3132, I^2 92.22%, Q(df = 12) = 152.2330 (as printed, rounded)."""
    d = REFDATA["datasets"]["bcg"]
    r = ev.meta_analysis(d["yi"], d["sei"], method="REML")
    assert (round(r.log_hr, 4), round(r.se, 4), round(r.tau2, 4), round(r.i2, 2), round(r.q, 4)) == \
        (-0.7145, 0.1798, 0.3132, 92.22, 152.2330)




# ---------------------------------------------------------------------------- re-derivations

def _reml_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Restricted log-likelihood of the random-effects model (up to a constant), written here
    from its definition: -1/2 [sum log(v + t) + log sum w + sum w (y - mu)^2]."""
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / np.sum(w)
    return -0.5 * (np.sum(np.log(v + tau2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))


def test_dl_and_fe_by_hand() -> None:
    tab = ev.trial_inputs()
    y, s = tab["log_hr"].to_numpy(), tab["se"].to_numpy()
    w = 1 / s**2
    mu_fe = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu_fe) ** 2)
    tau2 = max(0.0, (q - 4) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    ws = 1 / (s**2 + tau2)
    fe, dl = ev.meta_analysis(y, s, method="FE"), ev.meta_analysis(y, s, method="DL")
    assert (fe.log_hr, fe.se, fe.q) == pytest.approx((mu_fe, np.sum(w) ** -0.5, q), rel=1e-13)
    assert (dl.tau2, dl.log_hr, dl.se) == pytest.approx((tau2, np.sum(ws * y) / np.sum(ws), np.sum(ws) ** -0.5),
                                                        rel=1e-12)
    assert fe.ci_lower == pytest.approx(math.exp(mu_fe - 1.959963984540054 / math.sqrt(np.sum(w))), rel=1e-12)


def test_reml_maximises_the_restricted_likelihood() -> None:
    tab = ev.trial_inputs()
    y, s = tab["log_hr"].to_numpy(), tab["se"].to_numpy()
    best = optimize.minimize_scalar(lambda t: -_reml_loglik(t, y, s**2), bounds=(0, 5), method="bounded",
                                    options={"xatol": 1e-12})
    assert ev.meta_analysis(y, s, method="REML").tau2 == pytest.approx(best.x, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(0.05, 0.8)), min_size=2, max_size=8))
def test_properties(trials: list[tuple[float, float]]) -> None:
    y = np.array([t[0] for t in trials])
    s = np.array([t[1] for t in trials])
    k = y.size
    for method in ev.METHODS:
        r = ev.meta_analysis(y, s, method=method)
        assert y.min() - 1e-12 <= r.log_hr <= y.max() + 1e-12
        assert sum(r.weights) == pytest.approx(100.0)
        assert r.tau2 >= 0 and 0 <= r.i2 <= 100 and r.pi_lower <= r.ci_lower + 1e-12
        # the order of the trials does not matter
        p = ev.meta_analysis(y[::-1], s[::-1], method=method)
        assert (p.log_hr, p.tau2) == pytest.approx((r.log_hr, r.tau2), rel=1e-9, abs=1e-12)
        kh = ev.meta_analysis(y, s, method=method, hksj=True) if method != "FE" and np.ptp(y) > 1e-6 else None
        if kh is not None:
            w = 1 / (s**2 + r.tau2)
            q_gen = np.sum(w * (y - r.log_hr) ** 2)
            assert kh.se == pytest.approx(r.se * math.sqrt(q_gen / (k - 1)), rel=1e-9, abs=1e-15)
    pm = ev.meta_analysis(y, s, method="PM")
    w = 1 / (s**2 + pm.tau2)
    q_pm = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    if pm.tau2 > 0:
        assert q_pm == pytest.approx(k - 1, rel=1e-8)
    else:
        assert q_pm <= k - 1 + 1e-9
    reml = ev.meta_analysis(y, s, method="REML")
    grid = np.linspace(0, 4, 401)
    assert _reml_loglik(reml.tau2, y, s**2) >= max(_reml_loglik(t, y, s**2) for t in grid) - 1e-9


def test_pooled_trials_and_subsets() -> None:
    every = ev.pool_trials()
    assert every.k == 5 and every.labels[0] == ev.study("tata2015").study
    assert 0.85 < every.hazard_ratio < 0.95 and every.ci_lower < 1 < every.ci_upper
    at = ev.pool_trials(randomized_at=ev.AT_DIAGNOSIS)
    after = ev.pool_trials(randomized_at=ev.AFTER_INDUCTION)
    assert (at.k, after.k) == (2, 3) and after.tau2 == 0 and at.tau2 > every.tau2
    assert every.predictive_sd == pytest.approx(math.hypot(every.se, every.tau))
    frame = every.to_frame()
    assert list(frame["label"])[-1] == "pooled (REML)" and frame["weight_percent"].iloc[:-1].sum() == pytest.approx(100)
    text = every.summary()
    assert "REML" in text and "prediction interval" in text and "I²" in text
    assert "<table" in every._repr_html_()


@pytest.mark.parametrize("kwargs, match", [
    (dict(log_hr=[0.1], se=[0.2]), "at least 2 trials"),
    (dict(log_hr=[0.1, 0.2], se=[0.2]), "one entry per trial"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.0]), "se must be > 0"),
    (dict(log_hr=[0.1, float("nan")], se=[0.2, 0.3]), "finite"),
    (dict(log_hr=[True, 0.2], se=[0.2, 0.3]), "not True/False"),
    (dict(log_hr="0.1, 0.2", se=[0.2, 0.3]), "sequence of numbers"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.3], method="ML"), "method must be one of FE, DL, REML, PM"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.3], method="FE", hksj=True), "random-effects models only"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.3], hksj=1), "hksj must be True or False"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.3], labels=["a"]), "labels must name each"),
    (dict(log_hr=[0.1, 0.2], se=[0.2, 0.3], level=95), "level must lie strictly between 0 and 1"),
])
def test_bad_input_says_what_is_allowed(kwargs: dict, match: str) -> None:
    with pytest.raises(EvidenceError, match=match):
        ev.meta_analysis(**kwargs)


def test_other_bad_input() -> None:
    with pytest.raises(EvidenceError, match="contain the estimate"):
        ev.log_hr_se(1.2, 0.8, 1.1, 0.95)
    with pytest.raises(EvidenceError, match="must be a finite number > 0"):
        ev.log_hr_se(True, 0.8, 1.1)
    with pytest.raises(EvidenceError, match="not a randomized trial"):
        ev.pool_trials(["khan2002", "tata2015"])
    with pytest.raises(EvidenceError, match="randomized_at must be one of"):
        ev.pool_trials(randomized_at="later")
    with pytest.raises(EvidenceError, match="Knapp-Hartung SE is 0"):
        ev.meta_analysis([0.1, 0.1], [0.2, 0.3], hksj=True)
    with pytest.raises(KeyError, match="unknown figure"):
        ev.figure("nope")
    assert stats.norm.ppf(0.95) == pytest.approx(1.6448536269514722)
