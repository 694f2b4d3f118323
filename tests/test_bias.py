"""Tests for trialnb.bias: each bias mechanism, each analysis, over a set of seeds.

Simulations use the numpy Cox engine (checked against lifelines below) and small cohorts so
the file runs in well under a minute. Results are deterministic (seeded), but every claim is
made over several seeds, never a single one.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import bias
from trialnb.errors import BiasParameterError

SEEDS = range(8)
N = 2000

# strengths well above the defaults, so that each mechanism alone shows clearly at N = 2000
STRONG = bias.SOLO_STRENGTHS


def _runs(mechanism: str | None, strength: float | None = None, n: int = N, true_hr: float = 1.0,
          seeds=SEEDS) -> list[pd.DataFrame]:
    kw = bias.scenario(mechanism, strength=strength) if mechanism != "all" else bias.scenario("all")
    return [bias.compare_analyses(bias.simulate_registry(n, 1000 + s, hazard_ratio=true_hr, **kw),
                                  seed=s) for s in seeds]


def _covers(r: pd.DataFrame, analysis: str, value: float) -> bool:
    return bool(r.loc[analysis, "ci_lower"] <= value <= r.loc[analysis, "ci_upper"])


_CACHE: dict[tuple, list[pd.DataFrame]] = {}


def runs(mechanism: str | None, strength: float | None = None, n: int = N) -> list[pd.DataFrame]:
    key = (mechanism, strength, n)
    if key not in _CACHE:
        _CACHE[key] = _runs(mechanism, strength, n=n)
    return _CACHE[key]


# --- the simulator ---------------------------------------------------------------------------

def test_registry_is_reproducible_and_documented():
    a = bias.simulate_registry(500, 3)
    b = bias.simulate_registry(500, 3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(bias.simulate_registry(500, 4))
    expected = {"patient_id", "age", "dominant_site", "hormone_receptor", "her2", "ecog2", "multiple_sites",
                "chemotherapy", "surgery", "surgery_month", "time", "event", "true_stage", "true_candidate",
                "true_planned_month", "true_hazard"}
    assert set(a.columns) == expected
    assert a.attrs["hazard_ratio"] == 1.0 and a.attrs["selection"] == bias.DEFAULTS["selection"]
    assert set(a["dominant_site"]) <= {"bone", "soft_tissue", "visceral"}
    # operated <=> surgery month recorded
    assert (a["surgery"] == a["surgery_month"].notna()).all()
    # default fractions of migrated / miscoded patients
    assert (a["true_stage"] == "IV-migrated").sum() == round(500 * bias.DEFAULTS["stage_migration"])
    assert (a["true_stage"] == "I-III-miscoded").sum() == round(500 * bias.DEFAULTS["coding_errors"])


def test_population_calibration():
    """True stage IV, no surgery: 2-year survival near the protocol's 60% (exact expectation
    over the simulated hazards); ~45% surgical candidates whatever the selection strength."""
    c = bias.simulate_registry(20000, 1, **bias.scenario(None))
    s2 = float(np.mean(np.exp(-24 * c["true_hazard"])))
    assert 0.55 < s2 < 0.62
    for sel in (0.0, 0.4, 2.0):
        c = bias.simulate_registry(5000, 2, **{**bias.scenario(None), "selection": sel})
        assert c["true_candidate"].mean() == pytest.approx(bias.P_CANDIDATE, abs=0.02)


def test_selection_operates_on_the_fitter():
    c = bias.simulate_registry(5000, 5, **bias.scenario("selection", strength=1.0))
    op, no = c[c["surgery"]], c[~c["surgery"]]
    assert op["true_hazard"].median() < no["true_hazard"].median()
    assert (op["dominant_site"] == "visceral").mean() < (no["dominant_site"] == "visceral").mean()


def test_immortal_time_candidates_who_die_early_count_as_not_operated():
    c = bias.simulate_registry(3000, 6, **bias.scenario("immortal_time", strength=6.0))
    died_first = c["true_candidate"] & ~c["surgery"]
    assert died_first.sum() > 0
    assert (c.loc[died_first, "time"] < c.loc[died_first, "true_planned_month"]).all()
    assert (c.loc[c["surgery"], "time"] >= c.loc[c["surgery"], "surgery_month"]).all()


def test_co_treatment_changes_chemotherapy_by_surgery_status():
    c = bias.simulate_registry(5000, 7, **bias.scenario("co_treatment", strength=0.5))
    diff = c.loc[c["true_candidate"], "chemotherapy"].mean() - c.loc[~c["true_candidate"], "chemotherapy"].mean()
    assert diff == pytest.approx(0.5, abs=0.05)


# --- each mechanism alone: naive HR < 1 under the null, randomized covers 1 ------------------

@pytest.mark.parametrize("mechanism", bias.MECHANISMS)
def test_each_mechanism_alone_biases_naive_hr_below_one(mechanism):
    rs = runs(mechanism, STRONG[mechanism])
    naive = np.array([r.loc["naive", "hazard_ratio"] for r in rs])
    assert (naive < 1).sum() >= 7, naive
    assert sum(r.loc["naive", "ci_upper"] < 1 for r in rs) >= 6
    assert sum(_covers(r, "randomized", 1.0) for r in rs) >= 6


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", bias.MECHANISMS)
def test_each_mechanism_at_default_strength_biases_on_average(mechanism):
    """At the notebook's default strengths the bias is smaller, but the mean log-HR over 8
    seeds (n = 4000) is still clearly negative (more than 2 standard errors below 0)."""
    rs = runs(mechanism, n=4000)
    logs = np.log([r.loc["naive", "hazard_ratio"] for r in rs])
    assert logs.mean() + 2 * logs.std(ddof=1) / math.sqrt(len(logs)) < 0, np.exp(logs)
    rand = np.log([r.loc["randomized", "hazard_ratio"] for r in rs])
    assert abs(rand.mean()) < 0.06


def test_no_mechanism_no_bias():
    rs = runs(None)
    assert sum(_covers(r, "naive", 1.0) for r in rs) >= 6
    assert sum(_covers(r, "randomized", 1.0) for r in rs) >= 6
    for a in bias.ANALYSES:
        assert abs(np.mean(np.log([r.loc[a, "hazard_ratio"] for r in rs]))) < 0.06, a


def test_all_mechanisms_reproduce_the_literature():
    """Null truth, every mechanism at its default: naive HR near 0.6 (literature 0.61-0.66,
    NCDB naive 0.54), randomized comparison near 1."""
    rs = runs("all")
    naive = np.exp(np.mean(np.log([r.loc["naive", "hazard_ratio"] for r in rs])))
    assert 0.52 < naive < 0.66
    assert all(r.loc["naive", "ci_upper"] < 0.85 for r in rs)
    assert sum(_covers(r, "randomized", 1.0) for r in rs) >= 6


def test_time_varying_and_landmark_remove_immortal_time_bias_only():
    it = runs("immortal_time", STRONG["immortal_time"])
    for a in ("time_varying", "landmark"):
        assert sum(_covers(r, a, 1.0) for r in it) >= 6, a
    assert sum(_covers(r, "adjusted", 1.0) for r in it) == 0  # adjustment does not move time zero
    sel = runs("selection", STRONG["selection"])
    assert all(r.loc["time_varying", "ci_upper"] < 1 for r in sel)  # ... and does not remove selection


def test_adjustment_removes_measured_co_treatment_not_unmeasured_selection():
    co = runs("co_treatment", STRONG["co_treatment"])
    assert sum(_covers(r, "adjusted", 1.0) for r in co) >= 6
    sel = runs("selection", STRONG["selection"])
    assert np.mean([r.loc["adjusted", "hazard_ratio"] for r in sel]) < 0.9  # frailty is not recorded
    c = bias.simulate_registry(N, 11, **bias.scenario("co_treatment", strength=0.5))
    without_chemo = [v for v in bias.MEASURED_COVARIATES if v != "chemotherapy"]
    assert bias.adjusted_cox(c, without_chemo).hazard_ratio < 0.9  # SEER has no chemo data


def test_randomized_recovers_a_chosen_true_hazard_ratio():
    rs = _runs("all", true_hr=0.6, seeds=range(6))
    est = np.array([r.loc["randomized", "hazard_ratio"] for r in rs])
    assert 0.55 < np.exp(np.mean(np.log(est))) < 0.68  # slight attenuation: non-collapsibility of the HR
    assert sum(_covers(r, "randomized", 0.6) for r in rs) >= 4
    assert all(r.loc["naive", "hazard_ratio"] < 0.5 for r in rs)  # bias adds to the true effect


def test_at_diagnosis_randomization_dilutes_towards_one():
    c = bias.simulate_registry(4000, 21, hazard_ratio=0.5, **bias.scenario("immortal_time", strength=12.0))
    post = bias.randomized_comparison(c, 1).hazard_ratio
    itt = bias.randomized_comparison(c, 1, design="at_diagnosis").hazard_ratio
    assert post < itt < 1


# --- Cox engines -------------------------------------------------------------------------------

def test_engine_matches_lifelines():
    """What a Python user would write (lifelines CoxPHFitter / CoxTimeVaryingFitter on the same
    rows) gives the engine's hazard ratios and intervals."""
    from lifelines import CoxPHFitter, CoxTimeVaryingFitter

    c = bias.simulate_registry(800, 2)
    ours = bias.compare_analyses(c, seed=3)
    assert list(ours.index) == list(bias.ANALYSES)
    d = pd.DataFrame({"time": c["time"], "event": c["event"].astype(int), "surgery": c["surgery"].astype(float)})
    naive = CoxPHFitter().fit(d, "time", "event").summary.loc["surgery"]
    tv = CoxTimeVaryingFitter().fit(bias.split_at_surgery(c), id_col="id", event_col="event", start_col="start",
                                    stop_col="stop").summary.loc["surgery"]
    cols = ["exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%"]
    for name, row in (("naive", naive), ("time_varying", tv)):
        np.testing.assert_allclose(ours.loc[name, ["hazard_ratio", "ci_lower", "ci_upper"]].to_numpy(float),
                                   row[cols].to_numpy(float), rtol=1e-4)


def test_time_varying_split_by_hand():
    """Counting-process split of a tiny cohort, checked row by row."""
    c = pd.DataFrame({"time": [10.0, 5.0, 8.0, 3.0], "event": [True, True, False, True],
                      "surgery": [True, False, True, True], "surgery_month": [4.0, np.nan, 0.0, 5.0]})
    rows = bias.split_at_surgery(c).sort_values(["id", "start"]).reset_index(drop=True)
    # patient 0: (0,4] unexposed, (4,10] exposed + death; 1: (0,5] death; 2: (0,8] exposed, censored;
    # patient 3 is marked operated at month 5 but died at month 3: inconsistent input is kept unexposed
    assert rows[["id", "start", "stop", "event", "surgery"]].values.tolist() == [
        [0, 0, 4, 0, 0], [0, 4, 10, 1, 1], [1, 0, 5, 1, 0], [2, 0, 8, 0, 1], [3, 0, 3, 1, 0]]


# --- Will Rogers -----------------------------------------------------------------------------

def test_will_rogers_both_groups_improve_by_hand():
    t = bias.will_rogers().set_index(["staging", "stage"])["survival"]
    he, hl = -math.log(0.70) / 60, -math.log(0.60) / 24
    hm = 0.6 * hl
    old_early = (900 * math.exp(-24 * he) + 100 * math.exp(-24 * hm)) / 1000
    new_late = (400 * 0.60 + 100 * math.exp(-24 * hm)) / 500
    assert t["old staging", "stage I-III"] == pytest.approx(old_early, rel=1e-12)
    assert t["old staging", "stage IV"] == pytest.approx(0.60, rel=1e-12)
    assert t["new staging", "stage I-III"] == pytest.approx(math.exp(-24 * he), rel=1e-12)
    assert t["new staging", "stage IV"] == pytest.approx(new_late, rel=1e-12)
    assert t["new staging", "stage I-III"] > t["old staging", "stage I-III"]
    assert t["new staging", "stage IV"] > t["old staging", "stage IV"]
    curves = bias.will_rogers_curves([0, 24, 60])
    assert curves.loc[24.0, "new staging: stage IV"] == pytest.approx(new_late)
    assert (curves.loc[0.0] == 1).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 2000), st.integers(1, 2000), st.floats(0.01, 0.99), st.floats(1e-4, 0.05),
       st.floats(1.01, 10.0), st.floats(0.01, 0.99))
def test_will_rogers_always_raises_both_groups(n_early, n_late, mig_frac, he, ratio, pos):
    """Whenever the migrants' hazard lies between the two stages', both stages improve."""
    n_mig = max(1, min(n_early - 1, int(mig_frac * n_early)))
    hl = he * ratio
    hm = he + pos * (hl - he)
    if not he < hm < hl:
        return
    t = bias.will_rogers(n_early, n_late, n_mig, hazard_early=he, hazard_late=hl, hazard_migrants=hm)
    s = t.set_index(["staging", "stage"])
    for stage in ("stage I-III", "stage IV"):
        assert s.loc[("new staging", stage), "survival"] > s.loc[("old staging", stage), "survival"]
        assert s.loc[("new staging", stage), "median_months"] > s.loc[("old staging", stage), "median_months"]


# --- evidence table ------------------------------------------------------------------------------

def test_evidence_table_published_values():
    e = bias.evidence_table().set_index("study")
    assert tuple(e.loc["Khan 2002", ["n", "hazard_ratio", "ci_lower", "ci_upper"]]) == (16023, 0.61, 0.58, 0.65)
    assert tuple(e.loc["Tata Memorial (Badwe 2015)", ["hazard_ratio", "ci_lower", "ci_upper"]]) == (1.04, 0.81, 1.34)
    assert e.loc["E2108 (Khan 2022)", "ci_level"] == 0.90
    obs = e[~e["randomized"]]
    assert (obs["ci_upper"] < 1).all()  # every observational estimate excludes 1
    meta = e[e["design"] == "randomized meta-analysis"]
    assert ((meta["ci_lower"] < 1) & (meta["ci_upper"] > 1)).all()  # no RCT meta-analysis is significant
    assert (e["ci_lower"] <= e["hazard_ratio"]).all() and (e["hazard_ratio"] <= e["ci_upper"]).all()
    assert not e.index.str.contains("abstract|10 years").any()  # superseded / implausible reports left out
    assert e.loc["ABCSG-28 POSYTIVE (Fitzal 2019)", "hazard_ratio"] > 1  # printed 0.691, inverted
    assert e.loc["JCOG1017 (Shien, full paper)", "ci_level"] == 0.90


# --- argument validation -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"n": 10}, "n must be an integer >= 200"),
    ({"n": 500.0}, "n must be an integer"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"hazard_ratio": 0}, r"hazard_ratio must lie in \(0, 10\]"),
    ({"selection": -0.1}, r"selection must lie in \[0, 5\]"),
    ({"immortal_time": 30}, r"immortal_time must lie in \[0, 24\]"),
    ({"stage_migration": 0.5}, r"stage_migration must lie in \[0, 0.4\]"),
    ({"co_treatment": "high"}, "co_treatment must be a number"),
    ({"coding_errors": float("nan")}, "coding_errors must lie in"),
    ({"stage_migration": 0.3, "coding_errors": 0.3}, "stage_migration \\+ coding_errors must be <= 0.5"),
])
def test_simulate_registry_validation(kwargs, match):
    args = {"n": 500, "seed": 1, **kwargs}
    with pytest.raises(BiasParameterError, match=match):
        bias.simulate_registry(args.pop("n"), args.pop("seed"), **args)


def test_analysis_validation():
    c = bias.simulate_registry(300, 1)
    with pytest.raises(ValueError, match="cohort must be a pandas DataFrame"):
        bias.naive_cox([1, 2, 3])
    with pytest.raises(ValueError, match="cohort lacks column"):
        bias.naive_cox(c.drop(columns="event"))
    with pytest.raises(ValueError, match="covariates: 'frailty' is not a recorded covariate"):
        bias.adjusted_cox(c, ["age", "frailty"])
    with pytest.raises(ValueError, match="landmark_months = 100 leaves"):
        bias.landmark_cox(c, 100.0)
    with pytest.raises(ValueError, match="design must be"):
        bias.randomized_comparison(c, 1, design="crossover")
    with pytest.raises(ValueError, match="hazard_early < hazard_migrants < hazard_late"):
        bias.will_rogers(hazard_migrants=0.5)
    with pytest.raises(ValueError, match="n_migrants must be smaller than n_early"):
        bias.will_rogers(n_early=10, n_migrants=10)
    with pytest.raises(ValueError, match="mechanism must be one of"):
        bias.scenario("frailty")


# --- invariants of the simulator, for any strengths ---------------------------------------------

@settings(max_examples=25, deadline=None)
@given(st.floats(0, 5), st.floats(0, 24), st.floats(0, 0.25), st.floats(0, 0.8), st.floats(0, 0.25),
       st.floats(0.2, 3.0), st.integers(0, 2**31))
def test_registry_invariants(sel, imm, mig, co, code, thr, seed):
    c = bias.simulate_registry(300, seed, hazard_ratio=thr, selection=sel, immortal_time=imm,
                               stage_migration=mig, co_treatment=co, coding_errors=code)
    op = c[c["surgery"]]
    assert (op["surgery_month"] <= op["time"]).all()  # nobody is operated after death or censoring
    assert (c.loc[~c["surgery"], "surgery_month"].isna()).all()
    assert c.loc[c["surgery"] & (c["true_stage"] == "IV"), "surgery_month"].between(imm / 3, 5 * imm / 3).all()
    other = c[c["true_stage"] != "IV"]
    assert other["surgery"].all() and (other["surgery_month"] == 0).all()  # operated before staging
    missed = c["true_candidate"] & ~c["surgery"]
    assert (c.loc[missed, "time"] <= c.loc[missed, "true_planned_month"]).all()  # died or left first
    assert c["time"].gt(0).all() and c["time"].le(bias.ADMIN_CENSOR[1]).all()
    assert (c["true_hazard"] > 0).all()


# --- cross-check against R survival (reference values committed in tests/reference) --------------

def _reference() -> dict:
    import json
    from pathlib import Path

    return json.loads((Path(__file__).parent / "reference" / "bias_coxph.json").read_text())


def _registry_from(ref: dict) -> pd.DataFrame:
    reg = ref["inputs"]["registry"]
    c = pd.DataFrame({"time": reg["time"], "event": np.array(reg["event"], bool),
                      "surgery": np.array(reg["surgery"], bool),
                      "surgery_month": [np.nan if v is None else v for v in reg["surgery_month"]]})
    return c


def test_reference_inputs_come_from_our_simulator():
    ref = _reference()
    c = bias.simulate_registry(300, 5)
    got = _registry_from(ref)
    np.testing.assert_allclose(got["time"], c["time"], rtol=1e-13)
    np.testing.assert_allclose(got["surgery_month"], c["surgery_month"], rtol=1e-13)
    assert (got["event"] == c["event"]).all() and (got["surgery"] == c["surgery"]).all()


def test_cox_analyses_match_r_survival():
    """naive, adjusted, landmark (12 months) and time-varying (tmerge/tdc) coxph in R survival 3.5."""
    ref = _reference()
    c = bias.simulate_registry(300, 5)
    ours = {"naive": bias.naive_cox(c), "adjusted": bias.adjusted_cox(c),
            "landmark": bias.landmark_cox(c, 12.0), "time_varying": bias.time_varying_cox(c)}
    tol = 1e-7
    for name, fit in ours.items():
        r = ref["results"][name]
        se = (math.log(fit.ci_upper) - math.log(fit.ci_lower)) / (2 * 1.959963984540054)
        assert math.log(fit.hazard_ratio) == pytest.approx(r["coef"], rel=tol), name
        assert se == pytest.approx(r["se"], rel=max(tol, 1e-6)), name
    assert len(bias.split_at_surgery(c)) == ref["results"]["time_varying"]["rows"]


