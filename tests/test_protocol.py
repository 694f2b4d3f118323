"""trialnb.protocol holds what the protocol text says, with its source, in one vocabulary."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from trialnb.protocol import ARM_CODES, FACTOR_NAMES, FACTORS, PROTOCOL, check_patient_factors, strata
from trialnb.errors import PatientRecordError

PROTOCOL_TEXT = Path(__file__).resolve().parents[1] / "references" / "NCT04697043-protocol-record.txt"


def test_vocabulary():
    assert ARM_CODES == ("A", "B")
    assert FACTOR_NAMES == ("dominant_site", "hormone_receptor", "her2")
    assert PROTOCOL.factor("dominant_site").levels == ("bone", "soft_tissue", "visceral")
    assert PROTOCOL.factor("hormone_receptor").levels == ("positive", "negative")
    assert PROTOCOL.factor("her2").levels == ("positive", "negative")
    assert PROTOCOL.n_strata == 12 == len(set(strata()))


def test_design_parameters_as_stated():
    d, s = PROTOCOL.design, PROTOCOL.stated
    assert (d.alpha, d.sided, d.power, d.allocation_ratio, d.hazard_ratio) == (0.05, 2, 0.80, 1.0, 0.50)
    assert (d.horizon_months, d.accrual_months, d.loss_to_follow_up) == (24, 36, 0.10)
    assert d.control_survival == 0.60 and math.isclose(d.control_survival_exact, math.exp(-0.5))
    assert (s.events, s.n_total, s.n_per_arm, s.n_per_arm_after_loss) == (66, 212, 106, 118)
    assert (s.z_alpha_half, s.z_beta, s.s1_2y, s.s2_2y, s.p_event) == (1.96, 0.84, 0.60, 0.78, 0.31)


def test_protocol_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOL.design.alpha = 0.1  # type: ignore[misc]


def test_every_quoted_source_is_in_the_protocol_text():
    text = " ".join(PROTOCOL_TEXT.read_text(encoding="utf-8").split())
    table = PROTOCOL.parameters_table()
    assert len(table) == 20
    for quote in table["protocol text"]:
        assert quote and " ".join(quote.split()) in text, quote
    for f in FACTORS:
        assert f.source.quote in text
    for a in PROTOCOL.arms:
        assert a.source.quote in text
    for e in PROTOCOL.endpoints:
        assert " ".join(e.source.quote.split()) in text
    from trialnb.plan import OS_ANALYSIS, PLAN

    for plan in (PLAN.analysis, OS_ANALYSIS):
        for item in plan.items:
            assert item.source is None or " ".join(item.source.quote.split()) in text, item.name
    for f in PROTOCOL.findings:
        assert f.sources
        for src in f.sources:
            assert src.quote and " ".join(src.quote.split()) in text, (f.key, src.quote)


def test_protocol_record_says_where_it_comes_from():
    head = PROTOCOL_TEXT.read_text(encoding="utf-8")[:2000]
    assert "ClinicalTrials.gov record NCT04697043" in head and "retriev" in head


def test_findings_name_the_known_problems():
    from trialnb.protocol import findings_table
    keys = {f.key for f in PROTOCOL.findings}
    assert {"surgery_timing", "feasibility_dates", "single_centre_accrual", "trials_out_of_date",
            "two_control_survivals", "registry_hr_free_margins", "biases_named"} <= keys
    feas = next(f for f in PROTOCOL.findings if f.key == "feasibility_dates")
    assert "13 months" in feas.statement and "60 months" in feas.statement
    acc = next(f for f in PROTOCOL.findings if f.key == "single_centre_accrual")
    assert f"{236 / 36:.1f}" in acc.statement
    assert len(findings_table()) == len(PROTOCOL.findings)


def test_source_lookup_and_errors():
    assert "HR =0.50" in PROTOCOL.source("hazard_ratio").quote
    with pytest.raises(KeyError, match="known"):
        PROTOCOL.source("nonsense")
    with pytest.raises(KeyError, match="known: A, B"):
        PROTOCOL.arm("C")
    with pytest.raises(KeyError, match="dominant_site"):
        PROTOCOL.factor("age")


def test_check_patient_factors_reports_every_problem():
    with pytest.raises(PatientRecordError) as e:
        check_patient_factors({"dominant_site": "liver", "her2": True})
    msg = str(e.value)
    assert "dominant_site: 'liver' is not a known level" in msg
    assert "hormone_receptor: missing" in msg and "her2: True" in msg
    with pytest.raises(PatientRecordError, match="mapping"):
        check_patient_factors(["bone"])  # type: ignore[arg-type]


@given(st.sampled_from(strata()))
def test_every_stratum_is_a_valid_patient(combo):
    patient = dict(zip(FACTOR_NAMES, combo, strict=True))
    assert check_patient_factors({**patient, "age": 50}) == patient


_SHARED_POINTERS = tuple("/".join(parts) for parts in (("shared", "references"), ("shared", "protocol"),
                                                          ("..", "shared")))


def test_the_repository_carries_its_sources_and_never_points_into_shared():
    root = Path(__file__).resolve().parents[1]
    assert (root / "references" / "clinical_evidence.md").is_file()
    bad = []
    for p in root.rglob("*"):
        if any(part in (".git", ".venv", "build", "__pycache__", ".pytest_cache", "node_modules") for part in p.parts):
            continue
        if p.is_file() and p.suffix in (".py", ".md", ".R", ".txt", ".toml", ".cfg", ".yml", ".ipynb") \
                and p.name != "Makefile":
            text = p.read_text(encoding="utf-8", errors="replace")
            if any(pointer in text for pointer in _SHARED_POINTERS):
                bad.append(str(p.relative_to(root)))
    assert bad == [], bad


def test_evidence_module_is_the_one_source_of_cited_numbers():
    from trialnb import bias, evidence, protocol_audit
    e = bias.evidence_table().set_index("study")
    for s in evidence.STUDIES:
        if s.study in e.index:
            assert e.loc[s.study, "hazard_ratio"] == s.hazard_ratio
    hrs = {name: hr for name, _, hr, _ in protocol_audit.RCT_EFFECT_SIZES}
    assert hrs["E2108 (Khan 2022)"] == evidence.study("e2108_2022").hazard_ratio
    assert evidence.REGISTRY_FIGURE.hazard_ratio == 0.61 and "free" in evidence.REGISTRY_FIGURE.note
    params = evidence.parameters_table()
    assert {"dominant_site", "hormone_receptor", "her2", "visceral"} <= set(params["name"])
    assert params["sources"].str.len().min() > 5
    assert [round(a.not_randomized, 2) for a in evidence.ATTRITION] == [0.34, 0.29]
    cited = (Path(__file__).resolve().parents[1] / "references" / "clinical_evidence.md").read_text(encoding="utf-8")
    for s in evidence.STUDIES:
        assert f"{s.hazard_ratio:g}" in cited or f"{s.hazard_ratio:.2f}" in cited, s.key
