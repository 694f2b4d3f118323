"""The DMC's report at a data cut-off (``trialnb.interim``, ``trialnb monitor``) and the data cut
behind it (``trialnb.analysis.cut_at``): what was known then and nothing else, the plan's
statistic, the recalculated boundary, repeated CI and conditional power, re-derived here."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb import analysis as an
from trialnb import interim, monitoring
from trialnb.cli import main
from trialnb.data import load_trial
from trialnb.errors import TrialAnalysisError
from trialnb.plan import PLAN

DATA = "data/trial_protocol.csv"
JSON_KEYS = {"cutoff_month", "randomized", "primary_deaths", "information_fraction", "statistic", "z", "boundary",
             "decision", "hazard_ratio", "rci_lower", "rci_upper", "repeated_p_value", "conditional_power",
             "operated_by_cutoff", "perioperative_deaths", "next_look"}


@pytest.fixture(scope="module")
def trial(root):
    return load_trial(root / DATA)


def _interim_month(trial: pd.DataFrame, k: int = 33) -> float:
    """Calendar month of the k-th death within 24 months of randomization."""
    d = trial[(trial["death"] == 1) & (trial["os_months"] <= 24)]
    return float(np.sort((d["entry_month"] + d["os_months"]).to_numpy())[k - 1])


# ---------------------------------------------------------------- the data cut

def test_cut_keeps_what_was_known(trial):
    c = 28.5
    cut = an.cut_at(trial, c)
    end = trial["entry_month"] + trial["os_months"]
    assert len(cut) == int((trial["entry_month"] <= c).sum())
    assert int(cut["death"].sum()) == int(((trial["death"] == 1) & (end <= c + 1e-9)).sum())
    assert np.all(cut["entry_month"] + cut["os_months"] <= c + 0.005 + 1e-9)  # 0.01-month precision
    assert np.all(np.round(cut["os_months"], 2) == cut["os_months"])
    # surgery after the cut-off is not known; undated fields are missing
    later = trial["surgery_month"] + trial["entry_month"] > c
    assert int(cut["operated"].sum()) == int(((trial["operated"] == 1) & ~later & (trial["entry_month"] <= c)).sum())
    for f in an.UNDATED_FIELDS:
        assert cut[f].isna().all(), f


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cut_and_primary_analysis_equal_r(root, ties):
    """R cuts the file itself (tests/reference/survival_coxph.R) and fits coxph: same deaths,
    coefficient, SE and log-likelihood, with either tie method (no floating-point near-ties)."""
    ref = json.loads((root / "tests/reference/survival_coxph.json").read_text())["cuts"]
    trial = load_trial(root / DATA)
    for r in ref:
        cut = an.cut_at(trial, r["cutoff_month"])
        res = an.primary(cut, PLAN.with_changes(ties=ties))
        assert (res.n, res.events) == (r["n"], r["events"])
        assert res.log_hr == pytest.approx(r[ties]["coef"], abs=1e-7)
        assert res.se == pytest.approx(r[ties]["se"], abs=1e-7)
        assert res.cox.loglik == pytest.approx(r[ties]["loglik"], abs=1e-7)


def _dated_after(trial: pd.DataFrame, c: float, rng: np.random.Generator) -> pd.DataFrame:
    """Change everything recorded after calendar month c: patients randomized later get new
    outcomes and factors; the follow-up of everyone beyond c (a death after c moves, or becomes
    a censoring), surgery after c (type, margins, dissection), and every undated field."""
    df = trial.copy()
    end = df["entry_month"] + df["os_months"]
    late_entry = df["entry_month"] > c
    n = int(late_entry.sum())
    df.loc[late_entry, "arm"] = rng.choice(["A", "B"], n)
    df.loc[late_entry, "dominant_site"] = rng.choice(["bone", "soft_tissue", "visceral"], n)
    df.loc[late_entry, "death"] = rng.integers(0, 2, n)
    beyond = end > c + 0.01
    extra = rng.uniform(0.02, 20.0, int(beyond.sum()))
    df.loc[beyond, "os_months"] = np.round(np.maximum(c - df.loc[beyond, "entry_month"], 0) + extra, 2)
    df.loc[beyond, "death"] = rng.integers(0, 2, int(beyond.sum()))
    op_late = (df["operated"] == 1) & (df["entry_month"] + df["surgery_month"] > c + 0.01)
    df.loc[op_late, "surgery_type"] = rng.choice(["lumpectomy", "mastectomy"], int(op_late.sum()))
    df.loc[op_late, "margin_status"] = rng.choice(["free", "involved"], int(op_late.sum()))
    df["unplanned_local_therapies"] = rng.integers(0, 4, len(df))
    df["per_protocol"] = rng.integers(0, 2, len(df))
    df["lost_to_follow_up"] = np.where(df["death"] == 1, 0, rng.integers(0, 2, len(df)))
    return df


@settings(max_examples=12, deadline=None)
@given(c=st.floats(20.0, 50.0), seed=st.integers(0, 10_000))
def test_nothing_after_the_cutoff_changes_the_report(trial, c, seed):
    """Property: changing or adding anything dated after the cut-off, or any undated field,
    never changes the interim report."""
    c = round(c, 2)
    before = interim.report_json(interim.interim_report(trial, c))
    changed = _dated_after(trial, c, np.random.default_rng(seed))
    after = interim.report_json(interim.interim_report(changed, c))
    for key in ("data_sha256", "generated"):
        before.pop(key), after.pop(key)
    assert after == before


# ---------------------------------------------------------------- the report

def test_report_numbers_recomputed_independently(trial):
    c = 28.5
    rep = interim.interim_report(trial, c)
    res = an.primary(an.cut_at(trial, c))
    mx = monitoring.plan_max_events(PLAN)
    assert (rep.primary_deaths, rep.max_events) == (res.events, mx) and rep.look == 1 and not rep.final
    assert rep.information_fraction == pytest.approx(res.events / mx)
    # the boundary: Lan-DeMets OBF spending at t = D/66, two-sided 0.05, by the engine with the rates given
    d = monitoring.design(2, alpha=0.05, sided=2, type_of_design="asOF", information_rates=[res.events / mx, 1.0])
    assert rep.boundary == pytest.approx(float(d.critical_values[0]), rel=1e-8)
    # repeated CI of the plan's own estimate (Cox coefficient and SE), not the log-rank approximation
    assert rep.rci_lower == pytest.approx(math.exp(res.log_hr - rep.boundary * res.se), rel=1e-10)
    assert rep.rci_upper == pytest.approx(math.exp(res.log_hr + rep.boundary * res.se), rel=1e-10)
    # conditional power on the recalculated design (the design with rates (D/66, 1) built above,
    # not the plan's original (0.5, 1)), each future death carrying the information per death of
    # the Cox estimate: 1 / (SE^2 D)
    assert list(rep.conditional_power) == [f"{res.hazard_ratio:.2f} (observed)", "0.5 (design)", "1 (no effect)"]
    per_death = 1 / (res.se ** 2 * res.events)
    for hr, p in zip((res.hazard_ratio, 0.5, 1.0), rep.conditional_power.values(), strict=True):
        cp = monitoring.conditional_power(d, [res.events], log_hazard_ratio=[res.log_hr], standard_error=[res.se],
                                          n_planned=[mx - res.events], theta_h1=hr, direction_upper=False)
        assert p == pytest.approx(float(np.asarray(cp.conditional_power)[-1]), rel=1e-9)
        # by hand: the final look's z after 66 - D more deaths, drift log(HR) per unit of information
        i1, i2 = 1 / res.se ** 2, 1 / res.se ** 2 + per_death * (mx - res.events)
        c2 = float(d.critical_values[1])
        mean = (-res.log_hr * i1 - math.log(hr) * (i2 - i1)) / math.sqrt(i2)
        sd = math.sqrt((i2 - i1) / i2)
        by_hand = 1 - float(__import__("scipy").stats.norm.cdf((c2 - mean) / sd))
        assert p == pytest.approx(by_hand, abs=2e-3)  # the harm side (two-sided) adds a little
    cps = list(rep.conditional_power.values())
    assert cps[0] >= cps[1] >= cps[2]


def test_the_interim_look_crosses_or_not_as_the_plan_says(trial):
    c = _interim_month(trial)
    rep = interim.interim_report(trial, c)
    assert rep.primary_deaths == 33 and rep.information_fraction == 0.5
    assert rep.boundary == pytest.approx(2.9626, abs=1e-4)
    crossed = rep.benefit_z >= rep.boundary
    assert (rep.decision == "efficacy boundary crossed") == crossed
    assert "stop" not in rep.decision  # a DMC recommends; the report never says "stop"


def test_a_look_one_death_later_is_an_unscheduled_look(trial):
    """The synthetic file misses the boundary at the 33rd primary-endpoint death by 2e-4; a cut
    at month 30 (34 deaths) is a second, unscheduled look: its boundary spends alpha(34/66) after
    the interim's alpha(33/66) (rpact getAnalysisResults with the two looks and maxInformation),
    and is crossed."""
    from trialnb.monitoring import analyse, plan_design

    at33 = interim.interim_report(trial, _interim_month(trial), predict=False)
    assert at33.decision == "continue" and not at33.unscheduled and at33.look == 1
    assert at33.boundary - at33.benefit_z == pytest.approx(2.19e-4, abs=2e-6)
    rep = interim.interim_report(trial, 30.0, predict=False)
    assert rep.primary_deaths == 34 and rep.look == 2 and not rep.final and rep.unscheduled
    assert "unscheduled" in rep.rows()[0][1] and "unscheduled" not in at33.rows()[0][1]
    assert interim.report_json(rep)["unscheduled"] is True and interim.report_json(at33)["unscheduled"] is False
    two = analyse(plan_design(), [33, 34], log_hazard_ratio=[0.0, rep.primary.log_hr],
                  standard_error=[2 / math.sqrt(33), rep.primary.se], direction_upper=False, max_information=66.0)
    assert rep.boundary == pytest.approx(float(two.critical_values[1]), rel=1e-12)
    # held at 34 deaths instead of 33 (one look, moved), the boundary would be lower
    one = analyse(plan_design(), [34], log_hazard_ratio=[rep.primary.log_hr], standard_error=[rep.primary.se],
                  direction_upper=False, max_information=66.0)
    assert float(one.critical_values[0]) < at33.boundary < rep.boundary
    assert rep.decision == "efficacy boundary crossed"


def test_perioperative_deaths_in_both_arms(trial):
    c = 40.0
    rep = interim.interim_report(trial, c)
    cut = an.cut_at(trial, c)
    for arm in ("A", "B"):
        op = cut[(cut["arm"] == arm) & (cut["operated"] == 1)]
        early = ((op["death"] == 1) & (op["os_months"] - op["surgery_month"] <= 1.0 + 1e-9)).sum()
        assert rep.operated_by_arm[arm] == len(op) and rep.perioperative_deaths_by_arm[arm] == int(early)
    months = [s.month for s in rep.safety_reviews]
    assert months == sorted(months) and all(m <= c for m in months) and np.allclose(np.diff(months), 6.0)


def test_a_failed_fit_is_never_printed_as_a_number(trial):
    rep = interim.interim_report(trial, 6.5)
    assert not rep.estimable and rep.decision == "no estimate"
    text = interim.text_report(rep)
    import re
    assert "none:" in text and "HR 0.00" not in text and "NA to NA" not in text
    assert not re.search(r"\bnan\b", text, re.I)
    js = interim.report_json(rep)
    assert js["z"] is None and js["hazard_ratio"] is None and js["reason"]


def test_final_analysis_at_the_calendar_end(trial):
    rep = interim.interim_report(trial, 60.0)
    assert rep.final and rep.look == 2 and not rep.conditional_power
    assert rep.primary_deaths == an.primary(trial).events
    assert rep.decision in ("efficacy boundary crossed", "harm boundary crossed", "final analysis: no boundary crossed")


def test_changing_the_plan_moves_the_report(trial):
    c = 28.5
    base = interim.interim_report(trial, c)
    lr = interim.interim_report(trial, c, plan=PLAN.with_changes(statistic="stratified_logrank"))
    assert lr.z != base.z and lr.plan.analysis.statistic == "stratified_logrank"
    pocock = interim.interim_report(trial, c, plan=PLAN.with_changes(spending="asP"))
    assert pocock.boundary < base.boundary


# ---------------------------------------------------------------- the command

def test_json_output(root, capsys):
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "28.5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and JSON_KEYS <= set(out)
    assert out["statistic"] == "cox_wald" and out["z"] < 0 and out["boundary"] > 0
    assert set(out["conditional_power"]) == {f"{out['hazard_ratio']:.2f} (observed)", "0.5 (design)", "1 (no effect)"}


def test_text_and_html(root, tmp_path, capsys):
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "28.5"]) == 0
    out = capsys.readouterr().out
    assert "Recommendation to consider" in out and "trialnb 0.1.0" in out and "SHA-256" in out
    assert all(len(line) <= 100 or " " not in line[90:] for line in out.splitlines())
    path = tmp_path / "interim.html"
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "28.5", "--html", str(path)]) == 0
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    assert "<script" not in text and "<link" not in text and 'src="http' not in text and 'href="http' not in text


def test_bad_input_is_refused(root, tmp_path, capsys):
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "61"]) != 0
    assert "beyond the data" in capsys.readouterr().err
    assert main(["monitor", "--data", str(root / "data"), "--cutoff-month", "20"]) != 0
    err = capsys.readouterr().err
    assert "is a folder; give a trial CSV file in it" in err and "no such file" not in err
    assert main(["monitor", "--data", str(tmp_path / "nope.csv"), "--cutoff-month", "20"]) != 0
    assert "no such file" in capsys.readouterr().err
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "nan"]) != 0
    assert "not a number" in capsys.readouterr().err
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "20", "--html", str(tmp_path / "r.txt")]) != 0
    assert ".html" in capsys.readouterr().err
    # issue 24: an empty --html (like sap's) is refused, not treated as absent; a folder is named
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "20", "--html", ""]) == 2
    assert "--html is empty" in capsys.readouterr().err
    assert main(["monitor", "--data", str(root / DATA), "--cutoff-month", "20", "--html", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    for bad in (True, "29", None):
        with pytest.raises(TrialAnalysisError, match="must be a number of months"):
            an.cut_at(load_trial(root / DATA), bad)
    trial = load_trial(root / DATA)
    assert len(an.cut_at(trial, np.float32(29.25))) == len(an.cut_at(trial, 29.25))
    with pytest.raises(ValueError, match="before the first randomization"):
        an.cut_at(load_trial(root / DATA), 0.01)


def test_console_entry_point_exit_code(root):
    proc = subprocess.run([sys.executable, "-m", "trialnb.cli", "monitor", "--data", str(root / DATA),
                           "--cutoff-month", "99"], capture_output=True, text=True, cwd=root)
    assert proc.returncode != 0 and "beyond the data" in proc.stderr


def test_death_month_is_the_cut_that_first_shows_that_many_primary_deaths(trial) -> None:
    """The test's own derivation (_interim_month) and the report: cut a day before the month,
    fewer deaths; at the month, at least that many."""
    for k in (1, 10, 33):
        m = interim.death_month(trial, k)
        assert m == pytest.approx(_interim_month(trial, k), abs=0.005)
        at = interim.interim_report(trial, m, predict=False).primary.events
        before = interim.interim_report(trial, m - 0.01, predict=False).primary.events
        assert before < k <= at
    with pytest.raises(TrialAnalysisError, match="primary-endpoint deaths, fewer than"):
        interim.death_month(trial, 10_000)
    with pytest.raises(TrialAnalysisError, match="whole number"):
        interim.death_month(trial, 2.5)  # type: ignore[arg-type]


def test_after_the_interim_the_next_look_is_the_calendar_final(trial) -> None:
    """With a calendar-driven final and no interim ahead, the report predicts the final's month:
    the month enrollment completes (the same blinded simulation) plus censor_months; the file's
    own final date (last randomization + 24) lies in its 80% interval; --json says which kind."""
    rep = interim.interim_report(trial, interim.death_month(trial, 33))
    assert rep.next_look_calendar
    med, lo, hi = rep.final_month_predicted
    end = np.asarray(rep.next_look.enrollment_end) + PLAN.analysis.censor_months
    assert med == pytest.approx(np.median(end)) and lo < med < hi
    actual = float(trial["entry_month"].max()) + PLAN.analysis.censor_months
    assert lo <= actual <= hi
    j = interim.report_json(rep)["next_look"]
    assert j["kind"] == "calendar final" and j["final_month"]["median"] == pytest.approx(med)
    assert "Final analysis (calendar-driven) predicted" in interim.text_report(rep)
    before = interim.interim_report(trial, 24.0)  # the interim still ahead: its deaths are predicted
    assert not before.next_look_calendar and before.next_look.target_deaths == 33
    assert interim.report_json(before)["next_look"]["kind"] == "event-driven look"
