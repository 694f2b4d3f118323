"""The primary analysis is defined once, in the plan (``trialnb.plan.PLAN.analysis``), executed by
``trialnb.analysis.primary``, and every consumer takes it from there: the one-trial analysis,
the simulations and the sample size follow the plan's ``censor_months`` (behaviour, not a
search of the source for the number 24); the simulation's analysis path, the one-trial
analysis and R ``coxph`` (``tests/reference/survival_coxph.json``) agree on the shipped data.
``tests/test_plan.py`` holds that every consumer moves with every plan field."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from trialnb import analysis as an
from trialnb.data import load_trial
from trialnb.plan import OS_ANALYSIS, PLAN
from trialnb.protocol import FACTOR_NAMES
from trialnb.sample_size import expected_events, sample_size
from trialnb.simulation import TrialData, analyse_cut, cut, simulate, simulate_sequential
from trialnb.survival import fit_cox

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"
R_REF = json.loads((REF / "survival_coxph.json").read_text(encoding="utf-8"))


def _trial(scen: str = "protocol"):
    return load_trial(ROOT / "data" / f"trial_{scen}.csv")


def test_the_definition_and_its_sources() -> None:
    a = PLAN.analysis
    assert (a.censor_months, a.follow_up, a.statistic, a.ties, a.alpha, a.sided) == \
        (24.0, "fixed", "cox_wald", "efron", 0.05, 2)
    assert a.covariates == FACTOR_NAMES and a.critical_z == pytest.approx(1.959963984540054, rel=1e-12)
    assert OS_ANALYSIS.follow_up == "to_cutoff" and OS_ANALYSIS.kind == "secondary"
    table = a.table()
    # every item rests on a protocol sentence or says what the project decided
    assert ((table["protocol text"] != "") | (table["project decision"] != "")).all()
    assert "two years after randomization" in " ".join(table["protocol text"])
    assert "censored at 24 months" in a.describe() and "Wald z" in a.statistic_label()


# ---------------------------------------------------------------------------- censor_months moves everything
@pytest.mark.parametrize("months", [12.0, 24.0, 36.0])
def test_primary_follows_the_plans_censoring(months: float) -> None:
    """primary() counts the deaths within censor_months and fits the Cox model to the data censored
    there by hand: the same coefficient."""
    df = _trial()
    plan = PLAN.with_changes(censor_months=months)
    res = an.primary(df, plan)
    t, e = df["os_months"].to_numpy(float), df["death"].to_numpy(int)
    within = (e == 1) & (t <= months)
    assert res.events == int(within.sum())
    fit = fit_cox(np.minimum(t, months), within.astype(int), _design(df))
    assert res.log_hr == pytest.approx(float(fit.coef[0]), rel=1e-10)
    assert res.se == pytest.approx(float(fit.se[0]), rel=1e-10)
    np.testing.assert_allclose(res.cox.coef, fit.coef, rtol=1e-10)  # every coefficient of the model
    assert an.milestone(df, plan=plan).tau == months  # the estimands follow the same endpoint


def _design(df) -> np.ndarray:
    return np.column_stack([(df["arm"] == "A"), df["dominant_site"] == "soft_tissue", df["dominant_site"] == "visceral",
                            df["hormone_receptor"] == "negative", df["her2"] == "positive"]).astype(float)


def test_the_simulations_follow_the_plans_censoring() -> None:
    """The same trials analysed at 12, 24 and 36 months: more primary deaths with a longer endpoint
    (in the closed form's amount), the calendar final later by the difference, the interim look
    (33 primary deaths) earlier."""
    runs = {h: simulate(PLAN.with_changes(censor_months=h), 400, seed=3, analyses="logrank")
            for h in (12.0, 24.0, 36.0)}
    assert runs[12.0].mean_events < runs[24.0].mean_events < runs[36.0].mean_events
    for h, r in runs.items():
        assert abs(r.mean_events - sum(expected_events(PLAN.design, h))) < 4 * r.events.std() / 20, h
        np.testing.assert_allclose(r.months - runs[24.0].months, h - 24.0, atol=1e-9)
    seq = {h: simulate_sequential(PLAN.with_changes(censor_months=h), 300, seed=3) for h in (24.0, 36.0)}
    assert seq[24.0].planned_events == seq[36.0].planned_events  # the planned deaths do not depend on it
    assert np.all(seq[36.0].months[:, 0] <= seq[24.0].months[:, 0])  # deaths within 36 months come sooner
    assert seq[36.0].analysis_months[0] < seq[24.0].analysis_months[0]


def test_the_sample_size_follows_the_plans_censoring() -> None:
    """Every patient followed censor_months: Pr(event) = 1 - (S_B(h) + S_B(h)^HR) / 2 with the
    exponential control S_B(h) = exp(-0.5 h / 24); no censoring: uniform accrual plus the horizon."""
    for h in (12.0, 24.0, 36.0):
        ss = sample_size(plan=PLAN.with_changes(censor_months=h))
        sb = math.exp(-0.5 * h / 24.0)
        assert ss.inputs["follow_up_time"] == h and ss.inputs["accrual_time"] == 0.0
        assert ss.event_probability == pytest.approx(1 - (sb + sb**0.5) / 2, rel=1e-12)
        assert ss.events_rounded == 66  # the deaths needed do not depend on the endpoint's length
    n = {h: sample_size(plan=PLAN.with_changes(censor_months=h)).n_total_after_loss for h in (12.0, 24.0, 36.0)}
    assert n[12.0] > n[24.0] > n[36.0]
    allfu = sample_size(plan=PLAN.with_changes(censor_months=None))
    assert (allfu.inputs["accrual_time"], allfu.inputs["follow_up_time"]) == (36.0, 24.0)


# ---------------------------------------------------------------------------- one analysis, three routes
@pytest.mark.parametrize("scen", ["protocol", "null", "realistic"])
def test_analysis_simulation_and_r_agree_on_the_same_data(scen: str) -> None:
    df = _trial(scen)
    r = R_REF["results"][f"trial_{scen}"]
    assert R_REF["primary_censor_months"] == PLAN.analysis.censor_months
    ours = an.primary(df)
    t, e = df["os_months"].to_numpy(float), df["death"].to_numpy(int)
    assert ours.events == r["events"] == int(((e == 1) & (t <= 24.0)).sum())
    assert ours.log_hr == pytest.approx(r["cox"]["arm_A"]["coef"], rel=1e-6)
    assert ours.se == pytest.approx(r["cox"]["arm_A"]["se"], rel=1e-6)
    assert ours.hazard_ratio == pytest.approx(r["cox"]["arm_A"]["hr"], rel=1e-6)
    # the simulation's analysis path on the same trial: latent death and loss times from the file,
    # cut at the end of follow-up and censored at the plan's 24 months
    row = lambda x: np.asarray(x)[None, :]  # noqa: E731
    data = TrialData(entry=row(df["entry_month"].to_numpy(float)), t_death=row(np.where(e == 1, t, np.inf)),
                     t_loss=row(np.where(e == 1, np.inf, t)), arm=row((df["arm"] == "A").to_numpy(np.int8)),
                     site=row(df["dominant_site"].map({"bone": 0, "soft_tissue": 1, "visceral": 2}).to_numpy(np.int8)),
                     hr_negative=row((df["hormone_receptor"] == "negative").to_numpy(np.int8)),
                     her2_positive=row((df["her2"] == "positive").to_numpy(np.int8)))
    time, event = cut(data, np.inf, PLAN.analysis.censor_months)
    assert int(event.sum()) == r["events"]
    out = analyse_cut(time, event, data, ("cox_wald",), PLAN.analysis, 24.0)["cox_wald"]
    assert float(out.estimate[0]) == pytest.approx(r["cox"]["arm_A"]["coef"], rel=1e-6)
    assert float(out.z[0]) == pytest.approx(ours.z, rel=1e-9)
    # and the secondary OS analysis is a different model (all follow-up)
    os_ = an.overall_survival(df)
    assert os_.events == r["events_os"] > ours.events
    assert os_.log_hr == pytest.approx(r["cox_os"]["arm_A"]["coef"], rel=1e-6)
    time_os, event_os = cut(data, np.inf, None)
    assert int(event_os.sum()) == r["events_os"]
