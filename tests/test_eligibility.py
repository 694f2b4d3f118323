from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from trialnb.eligibility import (
    CRITERIA, SCREENING_FIELDS, criteria_table, example_patient, screen,
)
from trialnb.errors import PatientRecordError


def test_example_patient_is_eligible():
    r = screen(example_patient())
    assert r.eligible and r.reasons == () and str(r) == "eligible"


@pytest.mark.parametrize("change, failed", [
    ({"age": 17}, {"I7"}),
    ({"metastatic_at_diagnosis": False}, {"I1"}),
    ({"anticipated_survival_months": 5.9}, {"I2"}),
    ({"histology_confirmed": False}, {"I3"}),
    ({"hormone_receptor": "unknown"}, {"I4"}),
    ({"her2": "unknown"}, {"I4"}),
    ({"t_stage": "T4", "t4_resectable": False}, {"I5", "E4"}),
    ({"fit_for_treatment": False}, {"I6"}),
    ({"informed_consent": False}, {"I8"}),
    ({"prior_invasive_breast_cancer": True}, {"E1"}),
    ({"other_malignancy_10y": True}, {"E2"}),
    ({"prior_breast_local_treatment": True}, {"E3"}),
    ({"bilateral_synchronous": True}, {"E5"}),
])
def test_each_criterion_fails_alone(change, failed):
    r = screen(example_patient(**change))
    assert not r.eligible and set(r.failed) == failed
    assert len(r.reasons) == len(failed)


@pytest.mark.parametrize("change", [{"age": 18}, {"anticipated_survival_months": 6},
                                    {"t_stage": "T4", "t4_resectable": True}, {"n_stage": "N3"},
                                    {"age": 95}])
def test_boundaries_are_eligible(change):
    assert screen(example_patient(**change)).eligible


def test_every_reason_is_reported():
    r = screen(example_patient(age=16, her2="unknown", bilateral_synchronous=True))
    assert r.failed == ("I4", "I7", "E5")
    assert "I7 fails inclusion: age ≥ 18 years" in r.reasons


@pytest.mark.parametrize("field, value, message", [
    ("age", "48", "age: '48' is not a number"),
    ("age", None, "age: None is not a number"),
    ("age", float("nan"), "age: nan is not a number"),
    ("her2", "equivocal", "her2: 'equivocal' is not a known level; allowed: positive, negative, unknown"),
    ("t_stage", "T5", "t_stage: 'T5' is not a known level"),
    ("informed_consent", "yes", "informed_consent: 'yes' is not a yes/no value"),
    ("metastatic_at_diagnosis", 1, "metastatic_at_diagnosis: 1 is not a yes/no value"),
])
def test_malformed_fields_raise_naming_the_field(field, value, message):
    with pytest.raises(PatientRecordError, match=message.replace("(", r"\(")):
        screen(example_patient(**{field: value}))


def test_missing_fields_all_named():
    p = example_patient()
    del p["age"], p["informed_consent"]
    with pytest.raises(PatientRecordError) as e:
        screen(p)
    assert "age: missing" in str(e.value) and "informed_consent: missing" in str(e.value)


def test_not_a_mapping():
    with pytest.raises(PatientRecordError, match="mapping"):
        screen([1, 2])  # type: ignore[arg-type]


def test_criteria_table_matches_rules():
    t = criteria_table()
    assert list(t.index) == [c.id for c in CRITERIA]
    assert set(t["kind"]) == {"inclusion", "exclusion"}
    used = {f for c in CRITERIA for f in c.fields}
    assert used <= {f.name for f in SCREENING_FIELDS}


@given(age=st.floats(0, 120), surv=st.floats(0, 120), t=st.sampled_from(["T1", "T2", "T3", "T4"]),
       res=st.booleans(), hr=st.sampled_from(["positive", "negative", "unknown"]))
def test_screen_agrees_with_a_direct_reading_of_the_protocol(age, surv, t, res, hr):
    p = example_patient(age=age, anticipated_survival_months=surv, t_stage=t, t4_resectable=res, hormone_receptor=hr)
    expected = age >= 18 and surv >= 6 and (t != "T4" or res) and hr != "unknown"
    assert screen(p).eligible == expected
