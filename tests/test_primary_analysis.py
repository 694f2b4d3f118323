"""The primary analysis is defined once (trialnb.protocol.PRIMARY_ANALYSIS) and every user of it
agrees: trialnb.analysis, fastsim's default scenario, notebook 04, the audit and the R script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from trialnb import analysis as an
from trialnb import fastsim
from trialnb.data import load_trial
from trialnb.protocol import OS_ANALYSIS, PRIMARY_ANALYSIS, PROTOCOL

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference"


def test_the_definition_and_its_sources() -> None:
    p = PROTOCOL.primary_analysis
    assert p is PRIMARY_ANALYSIS and PROTOCOL.os_analysis is OS_ANALYSIS
    assert (p.censor_months, p.follow_up, p.ties, p.test, p.alpha, p.sided) == (24.0, "fixed", "efron", "Wald", 0.05, 2)
    assert p.covariates == tuple(f.name for f in PROTOCOL.factors)
    assert OS_ANALYSIS.follow_up == "to_cutoff" and OS_ANALYSIS.kind == "secondary"
    table = p.table()
    # every item rests on a protocol sentence or says what the project decided
    assert ((table["protocol text"] != "") | (table["project decision"] != "")).all()
    assert "two years after randomization" in " ".join(table["protocol text"])
    assert "24 months" in p.describe()


_HARD_CODED = re.compile(r"censor_at\([^)]*\b24(\.0)?\b|np\.minimum\([^)]*\b24(\.0)?\b|clip\([^)]*upper\s*=\s*24")


def test_no_module_hard_codes_the_24_month_censoring() -> None:
    offenders = []
    for py in sorted((ROOT / "trialnb").rglob("*.py")):
        if py.name == "protocol.py":
            continue
        for i, line in enumerate(py.read_text(encoding="utf-8").splitlines(), 1):
            if _HARD_CODED.search(line):
                offenders.append(f"{py.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not offenders, "24-month censoring must come from PROTOCOL.primary_analysis:\n" + "\n".join(offenders)
    src = (ROOT / "trialnb" / "analysis.py").read_text(encoding="utf-8")
    assert "def primary_data(df: pd.DataFrame, plan: AnalysisPlan = PRIMARY_ANALYSIS)" in src


def test_fastsim_default_is_the_primary_analysis() -> None:
    sc = fastsim.Scenario()
    assert sc.follow_up == PRIMARY_ANALYSIS.follow_up == "fixed"
    assert sc.horizon_months == PRIMARY_ANALYSIS.censor_months


def test_r_script_uses_the_same_censoring() -> None:
    script = (REF / "survival_coxph.R").read_text(encoding="utf-8")
    m = re.search(r"^PRIMARY_CENSOR_MONTHS <- (\d+(?:\.\d+)?)", script, flags=re.M)
    assert m and float(m.group(1)) == PRIMARY_ANALYSIS.censor_months
    ref = json.loads((REF / "survival_coxph.json").read_text(encoding="utf-8"))
    assert ref["primary_censor_months"] == PRIMARY_ANALYSIS.censor_months


@pytest.mark.parametrize("scen", ["protocol", "null", "realistic"])
def test_analysis_fastsim_and_r_agree_on_the_same_data(scen) -> None:
    df = load_trial(ROOT / "data" / f"trial_{scen}.csv")
    ours = an.primary_cox(df)
    r = json.loads((REF / "survival_coxph.json").read_text(encoding="utf-8"))["results"][f"trial_{scen}"]
    assert ours.events == r["events"]
    assert ours.coef == pytest.approx(r["cox"]["arm_A"]["coef"], rel=1e-6)
    assert ours.se == pytest.approx(r["cox"]["arm_A"]["se"], rel=1e-6)
    # fastsim's batched Cox on the primary's data (censored at Scenario().horizon_months)
    h = fastsim.Scenario().horizon_months
    t = np.minimum(df["os_months"].to_numpy(float), h)
    e = np.where(df["os_months"].to_numpy(float) > h, 0, df["death"].to_numpy(int))
    x = an.cox_design(df)[list(an.COX_COVARIATES)].to_numpy(float)
    fit = fastsim.fit_cox_batch(t, e, x, tol=1e-10, max_iter=50)
    assert float(fit.coef[0, 0]) == pytest.approx(ours.coef, rel=1e-6)
    # and the secondary OS analysis is a different model (all follow-up)
    assert an.overall_survival_cox(df).events == r["events_os"] > ours.events


def test_notebook_04_runs_the_defined_analyses() -> None:
    src = (ROOT / "notebooks" / "04_analysis.py").read_text(encoding="utf-8")
    assert "an.primary_cox(df)" in src and "an.overall_survival_cox(df)" in src
    assert "PRIMARY_ANALYSIS" in src
