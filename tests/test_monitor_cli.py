"""``trialnb monitor``: the DMC interim report of a trial file, as text or self-contained HTML,
and the interim computations behind it (``trialnb.interim``)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from lifelines.statistics import logrank_test

from trialnb import interim, monitoring
from trialnb.cli import main
from trialnb.data import load_trial

DATA = "data/trial_protocol.csv"


@pytest.fixture(scope="module")
def trial(root):
    return load_trial(root / DATA)


def test_text_report_at_the_33rd_death(root, capsys):
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "29.1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Deaths" in out and "33 (A 8, B 25)" in out
    assert "Decision" in out and "stop for efficacy" in out
    for name in ("observed", "design", "no effect"):
        assert name in out


def test_html_report_is_self_contained(root, tmp_path, capsys):
    path = tmp_path / "interim.html"
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "28.5", "--html", str(path)])
    assert rc == 0 and f"wrote {path}" in capsys.readouterr().out
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    # no scripts and nothing fetched from elsewhere (XML namespaces in the SVG are only names)
    assert "<script" not in text and "<link" not in text and 'src="http' not in text and 'href="http' not in text
    assert 'data-decision="continue"' in text  # 29 deaths: z 3.11 below the recalculated 3.21


def test_cutoff_beyond_the_data_is_refused(root, capsys):
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "61"])
    err = capsys.readouterr().err
    assert rc != 0
    assert "beyond the data" in err and "month 60" in err


def test_cutoff_at_or_after_the_final_analysis_is_refused(root, capsys):
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "50"])
    assert rc != 0 and "final analysis, not an interim" in capsys.readouterr().err


def test_missing_file_and_bad_html_path_are_refused(root, tmp_path, capsys):
    assert main(["monitor", "--data", str(tmp_path / "nope.csv"), "--cutoff-month", "20"]) != 0
    assert "no such file" in capsys.readouterr().err
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "20", "--html", str(tmp_path / "r.txt")])
    assert rc != 0 and ".html" in capsys.readouterr().err


def test_console_entry_point_exit_code(root):
    proc = subprocess.run([sys.executable, "-m", "trialnb.cli", "monitor", "--data", str(root / DATA),
                           "--cutoff-month", "99"], capture_output=True, text=True, cwd=root)
    assert proc.returncode != 0 and "beyond the data" in proc.stderr


def test_cut_at_month_matches_an_independent_count(trial):
    c = 29.1
    cut = interim.cut_at_month(trial, c)
    end = trial["entry_month"] + trial["os_months"]
    assert len(cut) == int((trial["entry_month"] <= c).sum())
    assert int(cut["death"].sum()) == int(((trial["death"] == 1) & (end <= c)).sum()) == 33
    assert np.all(cut["entry_month"] + cut["os_months"] <= c + 1e-9)


def test_report_numbers_recomputed_independently(trial):
    rep = interim.interim_report(trial, 29.1)
    cut = interim.cut_at_month(trial, 29.1)
    a, b = cut[cut["arm"] == "A"], cut[cut["arm"] == "B"]
    lr = logrank_test(a["os_months"], b["os_months"], a["death"], b["death"])
    assert abs(rep.logrank_z) == pytest.approx(math.sqrt(lr.test_statistic), rel=1e-9)
    assert rep.logrank_z < 0  # fewer deaths in arm A than expected
    d = interim.proposed_design()
    ref = monitoring.analyse(d, [33], [rep.logrank_z], direction_upper=False, max_information=rep.max_events)
    assert rep.efficacy_bound == pytest.approx(float(ref.critical_values[0]))
    assert rep.decision == "stop for efficacy" and rep.benefit_z >= rep.efficacy_bound
    hrs = {k: v[0] for k, v in rep.conditional_power.items()}
    assert hrs["design"] == 0.5 and hrs["no effect"] == 1.0
    assert hrs["observed"] == pytest.approx(float(ref.hazard_ratios[0]))
    cps = [v[1] for v in rep.conditional_power.values()]
    assert all(0 <= p <= 1 for p in cps)
    assert rep.conditional_power["observed"][1] >= rep.conditional_power["no effect"][1]


def test_planned_max_events_is_schoenfeld_times_inflation():
    d = monitoring.design(2, information_rates=[0.5, 1], type_of_design="asOF")
    # protocol: 66 deaths fixed (65.3 unrounded); O'Brien-Fleming spending costs 0.4%
    assert interim.planned_max_events(d) == 66
    assert interim.planned_max_events(interim.proposed_design()) >= 66


def test_bad_cutoffs(trial):
    with pytest.raises(ValueError, match="before the first randomization"):
        interim.cut_at_month(trial, 0.1)
    with pytest.raises(ValueError, match="beyond the data"):
        interim.cut_at_month(trial, float("nan"))
    with pytest.raises(ValueError, match="no death"):
        interim.interim_report(trial, 1.0)


def test_a_failed_cox_fit_is_explained_not_printed(root, trial, capsys):
    """At month 6.5 of the protocol file (4 deaths) the planned Cox model does not converge
    (R coxph semantics, trialnb.survival.fit_cox) and the efficacy boundary (z >= 9.03) is too
    far out for a repeated CI: the report says so instead of printing 0.000, HR 0.00 or NA."""
    rows = dict(interim.interim_report(trial, 6.5).rows())
    assert rows["Cox Wald z, arm A (with minimization factors)"].startswith(
        "no estimate: the Cox model did not converge: 4 deaths (A 1, B 3)")
    assert rows["HR (A vs B) with repeated CI"].startswith(
        "0.30 (no repeated confidence interval: with 4 of 66 planned deaths (6.1%) the efficacy boundary is z >= 9.029")
    rc = main(["monitor", "--data", str(root / DATA), "--cutoff-month", "6.5"])
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    assert rc == 0 and "no estimate:" in flat and "no repeated confidence interval:" in flat
    assert "0.000" not in out and "HR 0.00" not in out and "NA" not in out.split()
    assert max(len(line) for line in out.splitlines()) <= 80  # wrapped at words, not by the terminal


def test_cox_failure_follows_the_engine(trial):
    from trialnb.analysis import COX_COVARIATES, cox_design, primary_data
    from trialnb.survival import fit_cox

    for month in (6.5, 8.0, 29.1):
        cut = interim.cut_at_month(trial, month)
        d = cox_design(primary_data(cut))
        fit = fit_cox(d["os_months"].to_numpy(float), d["death"].to_numpy(float), d[list(COX_COVARIATES)].to_numpy(float))
        usable = bool(fit.converged) and not bool(np.asarray(fit.infinite)[0])
        assert (interim.cox_failure(cut) == "") == usable, month
    assert interim.cox_failure(interim.cut_at_month(trial, 8.0)) == ""  # an infinite nuisance coefficient is fine
