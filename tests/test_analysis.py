"""trialnb.analysis (one trial, by the plan): cross-checked against R survival (committed JSON), lifelines and
hand formulas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from scipy import optimize

from trialnb import analysis as an
from trialnb.plan import PLAN
from trialnb.data import load_qol, load_trial

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
SCEN = ("protocol", "null", "realistic")
R = json.loads((REF / "survival_coxph.json").read_text())["results"]


@pytest.fixture(scope="module")
def trials() -> dict[str, pd.DataFrame]:
    return {s: load_trial(ROOT / "data" / f"trial_{s}.csv") for s in SCEN}


# ---------------------------------------------------------------- R survival cross-checks

@pytest.mark.parametrize("scen", SCEN)
def test_primary_matches_r_coxph(trials, scen) -> None:
    res = an.primary(trials[scen])
    ref = R[f"trial_{scen}"]
    assert res.n == ref["n"] and res.events == ref["events"]
    assert res.hazard_ratio == pytest.approx(ref["cox"]["arm_A"]["hr"], abs=1e-6)
    assert res.ci_lower == pytest.approx(ref["cox"]["arm_A"]["ci_lower"], abs=1e-6)
    assert res.ci_upper == pytest.approx(ref["cox"]["arm_A"]["ci_upper"], abs=1e-6)
    assert res.p_value == pytest.approx(ref["cox"]["arm_A"]["p"], abs=1e-6)
    summ = res.coefficients()
    for term, r in ref["cox"].items():
        assert summ.loc[term, "coef"] == pytest.approx(r["coef"], abs=1e-6), term
        assert summ.loc[term, "se(coef)"] == pytest.approx(r["se"], abs=1e-6), term
        assert summ.loc[term, "exp(coef)"] == pytest.approx(r["hr"], abs=1e-6), term
    assert res.cox.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    assert res.z == pytest.approx(res.log_hr / res.se) and res.estimable and not res.reason


@pytest.mark.parametrize("scen", SCEN)
def test_lifelines_as_a_trainee_writes_it_equals_the_engine(trials, scen) -> None:
    """What a Python user would write in their own work (lifelines' CoxPHFitter on the data
    censored at 24 months) gives the plan's primary result: lifelines is a reference here, not
    behind a reported number."""
    df = an.primary_data(trials[scen])
    design = pd.get_dummies(df[["os_months", "death", "arm", "dominant_site", "hormone_receptor", "her2"]],
                            columns=["arm", "dominant_site", "hormone_receptor", "her2"], dtype=float)
    design = design.drop(columns=["arm_B", "dominant_site_bone", "hormone_receptor_positive", "her2_negative"])
    cph = CoxPHFitter().fit(design, "os_months", "death",
                            fit_options={"precision": 1e-12, "r_precision": 1e-12, "max_steps": 200})
    res = an.primary(trials[scen])
    assert float(cph.summary.loc["arm_A", "exp(coef)"]) == pytest.approx(res.hazard_ratio, rel=1e-7)
    assert float(cph.summary.loc["arm_A", "se(coef)"]) == pytest.approx(res.se, rel=1e-6)


@pytest.mark.parametrize("scen", SCEN)
def test_two_year_survival_matches_r_survfit(trials, scen) -> None:
    sa = an.milestone(trials[scen], 24.0)
    for arm in ("A", "B"):
        ref = R[f"trial_{scen}"]["km_24"][arm]
        row = sa.table.loc[arm]
        assert row["survival"] == pytest.approx(ref["survival"], abs=1e-10)
        assert row["se"] == pytest.approx(ref["se"], abs=1e-10)
        assert row["ci_lower"] == pytest.approx(ref["ci_lower"], abs=1e-10)
        assert row["ci_upper"] == pytest.approx(ref["ci_upper"], abs=1e-10)


@pytest.mark.parametrize("scen", SCEN)
def test_logrank_matches_r_survdiff(trials, scen) -> None:
    lr = an.logrank_test(trials[scen])
    ref = R[f"trial_{scen}"]["logrank"]
    assert lr.statistic == pytest.approx(ref["chisq"], rel=1e-9)
    assert lr.p_value == pytest.approx(ref["p"], abs=1e-9)
    for arm in ("A", "B"):
        assert lr.observed[arm] == ref["observed"][arm]
        assert lr.expected[arm] == pytest.approx(ref["expected"][arm], rel=1e-9)




# ---------------------------------------------------------------- hand re-derivations

def _efron_loglik(beta: np.ndarray, x: np.ndarray, t: np.ndarray, d: np.ndarray) -> float:
    """Efron (1977) partial log-likelihood written out from the definition."""
    eta = x @ beta
    r = np.exp(eta)
    ll = 0.0
    for tj in np.unique(t[d == 1]):
        dead = (t == tj) & (d == 1)
        m = int(dead.sum())
        risk = r[t >= tj].sum()
        dsum = r[dead].sum()
        ll += eta[dead].sum() - sum(math.log(risk - k / m * dsum) for k in range(m))
    return ll


def test_cox_equals_direct_maximisation_of_efron_likelihood() -> None:
    rng = np.random.default_rng(1)
    n = 80
    df = pd.DataFrame({
        "arm": rng.choice(["A", "B"], n), "dominant_site": rng.choice(["bone", "soft_tissue", "visceral"], n),
        "hormone_receptor": rng.choice(["positive", "negative"], n), "her2": rng.choice(["positive", "negative"], n),
        "os_months": np.round(rng.exponential(20, n), 0) + 1.0,  # whole months: many ties
        "death": rng.integers(0, 2, n),
    })
    res = an.primary(df)
    des = an.primary_data(df)  # the primary analysis censors at 24 months
    x = np.column_stack([(des["arm"] == "A"), des["dominant_site"] == "soft_tissue", des["dominant_site"] == "visceral",
                         des["hormone_receptor"] == "negative", des["her2"] == "positive"]).astype(float)
    t, d = des["os_months"].to_numpy(), des["death"].to_numpy()
    opt = optimize.minimize(lambda b: -_efron_loglik(b, x, t, d), np.zeros(x.shape[1]), method="BFGS",
                            options={"gtol": 1e-9})
    assert np.allclose(res.cox.coef, opt.x, atol=1e-4)
    assert res.cox.loglik == pytest.approx(-opt.fun, abs=1e-8)


def _greenwood_by_hand(time: np.ndarray, event: np.ndarray, t: float) -> tuple[float, float]:
    """Kaplan-Meier S(t) and Greenwood's variance from the definitions, a Python loop."""
    s, acc = 1.0, 0.0
    for tj in np.unique(time[(event == 1) & (time <= t)]):
        n_j, d_j = int((time >= tj).sum()), int(((time == tj) & (event == 1)).sum())
        s *= 1.0 - d_j / n_j
        acc += d_j / (n_j * (n_j - d_j))
    return s, s * s * acc


def test_kaplan_meier_equals_the_definition_and_lifelines(trials) -> None:
    b = trials["protocol"][lambda d: d["arm"] == "B"]
    s, var = _greenwood_by_hand(b["os_months"].to_numpy(), b["death"].to_numpy(), 24.0)
    km = KaplanMeierFitter().fit(b["os_months"], b["death"])
    assert s == pytest.approx(float(km.survival_function_at_times(24.0).iloc[0]), abs=1e-12)
    m = an.milestone(trials["protocol"])
    assert (m.survival_b, m.se_b ** 2) == pytest.approx((s, var), rel=1e-12)
    ci = km.confidence_interval_survival_function_
    lo = float(ci[ci.index <= 24.0].iloc[-1, 0])
    assert m.table.at["B", "ci_lower"] == pytest.approx(lo, abs=1e-10)
    ours = an.km_by_arm(trials["protocol"])["B"]
    np.testing.assert_allclose(ours.survival_at_times(km.timeline), km.survival_function_.iloc[:, 0], atol=1e-12)
    lo_all, hi_all = ours.confidence_interval()
    ref_ci = km.confidence_interval_survival_function_.reindex(ours.time)
    ok = np.isfinite(lo_all) & (ours.survival < 1) & (ours.survival > 0)
    np.testing.assert_allclose(lo_all[ok], ref_ci.iloc[:, 0].to_numpy()[ok], atol=1e-10)
    np.testing.assert_allclose(hi_all[ok], ref_ci.iloc[:, 1].to_numpy()[ok], atol=1e-10)


def test_survival_difference_and_its_ci(trials) -> None:
    sa = an.milestone(trials["protocol"])
    t = sa.table
    assert sa.difference == pytest.approx(t.at["A", "survival"] - t.at["B", "survival"])
    assert sa.diff_se == pytest.approx(math.hypot(t.at["A", "se"], t.at["B", "se"]))
    assert sa.diff_upper - sa.difference == pytest.approx(1.959963984540054 * sa.diff_se)
    assert 0 < sa.p_value < 1


def test_swapping_arm_labels_inverts_the_hazard_ratio(trials) -> None:
    df = trials["null"].copy()
    res = an.primary(df)
    df["arm"] = df["arm"].map({"A": "B", "B": "A"})
    swapped = an.primary(df)
    assert swapped.hazard_ratio == pytest.approx(1 / res.hazard_ratio, rel=1e-8)
    assert swapped.ci_lower == pytest.approx(1 / res.ci_upper, rel=1e-8)
    assert swapped.p_value == pytest.approx(res.p_value, rel=1e-6)


def test_time_unit_does_not_change_the_cox_model(trials) -> None:
    df = trials["protocol"].copy()
    # the primary model censors at 24 *months*, so the unit-free property is checked on the
    # overall-survival model (same code path, no censoring)
    res = an.overall_survival(df)
    df["os_months"] = df["os_months"] / 12.0  # years
    assert an.overall_survival(df).hazard_ratio == pytest.approx(res.hazard_ratio, rel=1e-9)


def test_numbers_at_risk_by_definition(trials) -> None:
    df = trials["protocol"]
    nar = an.numbers_at_risk(df, [0, 12, 24])
    assert nar.loc["A", 0.0] == (df["arm"] == "A").sum()
    assert nar.loc["B", 24.0] == ((df["arm"] == "B") & (df["os_months"] >= 24)).sum()
    km = an.km_by_arm(df)["A"]
    assert int(km.at_risk[km.time >= 12][0]) == nar.loc["A", 12.0]


# ---------------------------------------------------------------- tables and secondary analyses

def test_baseline_table_counts(trials) -> None:
    df = trials["protocol"]
    tab = an.baseline_table(df)
    assert list(tab.columns) == ["Arm A", "Arm B", "Total"]
    assert tab.loc[("N", ""), "Total"] == "236"
    n_visc_a = int(((df["arm"] == "A") & (df["dominant_site"] == "visceral")).sum())
    assert tab.loc[("Dominant metastatic site", "visceral"), "Arm A"].startswith(f"{n_visc_a} (")


def test_ph_tests_table(trials) -> None:
    ph = an.ph_tests(trials["protocol"])
    assert list(ph.index) == list(an.COX_COVARIATES) + ["GLOBAL"]
    assert ph["p"].between(0, 1).all()
    with pytest.raises(ValueError, match="transform must be one of"):
        an.ph_tests(trials["protocol"], transform="weird")


def test_subgroups_cover_everyone(trials) -> None:
    df = trials["protocol"]
    sg = an.subgroup_hrs(df)
    assert sg.iloc[0]["n"] == len(df)
    # the "All patients" row is the primary model itself (adjusted, censored at 24 months)
    assert sg.iloc[0]["hr"] == pytest.approx(an.primary(df).hazard_ratio, rel=1e-12)
    assert sg.iloc[0]["events"] == an.primary(df).events
    assert set(sg.loc[sg["in_protocol"] == False, "factor"]) <= {"age_group", "ecog_group"}  # noqa: E712
    for f, g in sg[sg["factor"] != "all"].groupby("factor"):
        assert g["n"].sum() == len(df), f
        assert g["p_interaction"].nunique() == 1
    ok = sg.dropna(subset=["hr"])
    assert ((ok["ci_lower"] < ok["hr"]) & (ok["hr"] < ok["ci_upper"])).all()


def test_population_comparison_shows_the_biases_under_the_null(trials) -> None:
    pc = an.population_comparison(trials["null"]).set_index("population")
    itt = an.primary(trials["null"])
    assert pc.at["ITT (primary)", "hr"] == pytest.approx(itt.hazard_ratio)
    assert pc.at["per-protocol", "n"] == trials["null"]["per_protocol"].sum()
    # true effect null; PP and naive as-treated favour surgery spuriously on these data
    assert pc.at["per-protocol", "hr"] < itt.hazard_ratio
    assert pc.at["as-treated (naive)", "hr"] < pc.at["as-treated (time-varying)", "hr"]


def test_secondary_summary_counts(trials) -> None:
    df = trials["protocol"]
    sec = an.secondary_summary(df).set_index("endpoint")
    assert sec.at["axillary lymph node dissection", "A"] == int(df.loc[df["arm"] == "A", "axillary_dissection"].sum())
    assert sec.at["free margins (of operated)", "n_A"] == int(df.loc[df["arm"] == "A", "operated"].sum())
    assert sec.at["deaths", "A"] + sec.at["deaths", "B"] == df["death"].sum()


def test_qol_summary(trials) -> None:
    df = trials["protocol"]
    q = load_qol(ROOT / "data" / "qol_protocol.csv", set(df["patient_id"]))
    s = an.qol_summary(q, df)
    assert s["n"].sum() == len(q)
    assert (s["completion"] <= 1).all()
    with pytest.raises(ValueError, match="not in df"):
        an.qol_summary(pd.DataFrame({"patient_id": ["X"], "visit_month": [0.0], "qol_score": [50.0]}), df)


def test_consort_counts_add_up(trials) -> None:
    scr = pd.read_csv(ROOT / "data" / "screening_log.csv")
    c = an.consort_counts(scr, trials["protocol"])
    assert c["assessed"] == c["excluded"] + c["randomized"]
    assert c["arm_A"]["allocated"] + c["arm_B"]["allocated"] == c["randomized"]
    a = c["arm_A"]
    assert a["operated"] + sum(a["not_operated"].values()) == a["allocated"]


def test_errors_name_what_is_wrong(trials) -> None:
    with pytest.raises(ValueError, match="lacks column"):
        an.primary(trials["protocol"].drop(columns=["her2"]))
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        an.primary([1, 2])  # type: ignore[arg-type]
    bad = trials["protocol"].copy()
    bad.loc[1, "arm"] = "C"
    with pytest.raises(ValueError, match="unknown value"):
        an.logrank_test(bad)
    with pytest.raises(ValueError, match="tau must be a positive number"):
        an.milestone(trials["protocol"], -1)
    with pytest.raises(ValueError, match="beyond the plan's horizon"):
        an.milestone(trials["protocol"], 100)
    with pytest.raises(ValueError, match="beyond the last follow-up"):
        an.milestone(trials["protocol"], 100, plan=PLAN.with_changes(censor_months=None))


@pytest.mark.parametrize("scen", SCEN)
def test_zph_test_matches_r_cox_zph(trials, scen) -> None:
    z = an.ph_tests(trials[scen], transform="km")
    ref = R[f"trial_{scen}"]["cox_zph_km"]
    assert set(z.index) == set(ref)
    for term, r in ref.items():
        assert z.loc[term, "chisq"] == pytest.approx(r["chisq"], abs=1e-6), term
        assert z.loc[term, "p"] == pytest.approx(r["p"], abs=1e-6), term


def test_zph_test_is_invariant_to_shifting_all_times() -> None:
    """Adding a constant to every time keeps the risk sets (same Cox fit) and shifts g(t) = t by
    a constant that the centring removes: the identity-transform statistics must not change."""
    rng = np.random.default_rng(5)
    n = 150
    df = pd.DataFrame({"arm": rng.choice(["A", "B"], n),
                       "dominant_site": rng.choice(["bone", "soft_tissue", "visceral"], n),
                       "hormone_receptor": rng.choice(["positive", "negative"], n),
                       "her2": rng.choice(["positive", "negative"], n),
                       "os_months": np.round(rng.exponential(20, n), 1) + 0.1, "death": rng.integers(0, 2, n)})
    all_fu = PLAN.with_changes(censor_months=None)  # no 24-month cut: shifting is harmless
    r1 = an.ph_tests(df, plan=all_fu, transform="identity")
    shifted = df.assign(os_months=df["os_months"] + 100.0)
    r2 = an.ph_tests(shifted, plan=all_fu, transform="identity")
    assert np.allclose(r1["chisq"], r2["chisq"], rtol=1e-7)
    assert r1.loc["GLOBAL", "df"] == 5
    with pytest.raises(ValueError, match="transform must be one of"):
        an.ph_tests(df, transform="sqrt")
    # a factor level absent from the data: set aside as R does (coef NA), said in a note
    res = an.primary(df[df["dominant_site"] != "soft_tissue"])
    assert res.estimable and any("take one value" in n for n in res.notes)


@pytest.mark.parametrize("scen", SCEN)
def test_analysis_populations_match_r(trials, scen) -> None:
    pc = an.population_comparison(trials[scen]).set_index("population")
    ref = R[f"trial_{scen}"]["populations"]
    for key, row in (("per_protocol", "per-protocol"), ("as_treated_naive", "as-treated (naive)"),
                     ("as_treated_time_varying", "as-treated (time-varying)")):
        r = ref[key]
        for col in ("hr", "ci_lower", "ci_upper", "p"):
            assert pc.at[row, col] == pytest.approx(r[col], abs=1e-6), (key, col)
        assert pc.at[row, "events"] == r["events"]
    assert pc.at["per-protocol", "n"] == ref["per_protocol"]["n"]


# ---------------------------------------------------------------- one primary analysis

def test_primary_censors_at_the_plans_horizon(trials) -> None:
    from trialnb.plan import OS_ANALYSIS
    df = trials["protocol"]
    h = PLAN.analysis.censor_months
    assert h == 24.0 and OS_ANALYSIS.censor_months is None
    prim, os_ = an.primary(df), an.overall_survival(df)
    assert prim.events == int(((df["os_months"] <= h) & (df["death"] == 1)).sum()) < os_.events
    assert an.primary_data(df)["os_months"].max() == h
    assert os_.hazard_ratio == pytest.approx(R["trial_protocol"]["cox_os"]["arm_A"]["hr"], rel=1e-6)
    # censoring by hand gives the same model
    cut = df.assign(death=np.where(df["os_months"] > h, 0, df["death"]), os_months=np.minimum(df["os_months"], h))
    assert an.overall_survival(cut).log_hr == pytest.approx(prim.log_hr, rel=1e-12)
    with pytest.raises(ValueError, match="positive number of months"):
        an.censor_at(df, -1)


def test_rerandomization_test_reuses_the_allocation_procedure(trials) -> None:
    from trialnb.randomization import PocockSimon
    df = trials["null"]
    r1 = an.rerandomization_test(df, PocockSimon, 30, np.random.default_rng(3))
    r2 = an.rerandomization_test(df, PocockSimon, 30, np.random.default_rng(3))
    assert np.array_equal(r1.null, r2.null)  # seeded: reproducible
    assert r1.observed == pytest.approx(an.logrank_test(df).statistic, rel=1e-9)
    assert r1.p_value == (1 + (r1.null >= r1.observed).sum()) / 31
    assert (r1.null >= 0).all() and len(set(np.round(r1.null, 12))) > 20  # different allocations
    with pytest.raises(ValueError, match="positive whole number"):
        an.rerandomization_test(df, PocockSimon, 0, np.random.default_rng(3))


def test_secondary_summary_says_what_each_p_is(trials) -> None:
    sec = an.secondary_summary(trials["protocol"]).set_index("endpoint")
    assert np.isnan(sec.at["deaths", "p"]) and "unequal follow-up" in sec.at["deaths", "test"]
    assert "log-rank" in sec.at["median overall survival (months)", "test"]
    assert "selected after randomization" in sec.at["free margins (of operated)", "test"]
