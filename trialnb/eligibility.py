"""Eligibility criteria of NCT04697043 as structured, checkable rules.

Each criterion of the protocol's "Patient selection criteria" paragraph is one
:class:`Criterion` with the protocol's wording, the record fields it reads and a rule.
:func:`screen` validates a patient record strictly (it never guesses a missing or
malformed value) and returns every reason a patient is not eligible.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from .protocol import Sourced
from .errors import PatientRecordError
from .results import Result
from .validation import check_record, is_number

__all__ = [
    "record_from_row",
    "example_patient",
    "CRITERIA",
    "SCREENING_FIELDS",
    "Criterion",
    "FieldSpec",
    "ScreeningResult",
    "criteria_table",
    "screen",
    "validate_record",
]

_SEL = Sourced("Patient selection criteria")


@dataclass(frozen=True)
class FieldSpec:
    """One field of a screening record: its type, for categorical fields its levels, and for
    numbers the allowed range [``minimum``, ``maximum``] (finite; the same bounds as the
    screening log's data dictionary, :data:`trialnb.data.SCREENING_SCHEMA`)."""

    name: str
    kind: str  # "bool" | "number" | "category"
    description: str
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any) -> Any:
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise PatientRecordError(
                    f"{self.name}: {value!r} is not a yes/no value; allowed: True or False"
                )
            value = bool(value)
        elif self.kind == "number":
            if not is_number(value) or value != value:  # numpy's int64/float32 are numbers; a bool is not
                raise PatientRecordError(f"{self.name}: {value!r} is not a number")
            lo = -math.inf if self.minimum is None else self.minimum
            hi = math.inf if self.maximum is None else self.maximum
            if not (math.isfinite(value) and lo <= value <= hi):
                raise PatientRecordError(
                    f"{self.name}: {value!r} is outside the allowed range; allowed: a number in [{lo:g}, {hi:g}]"
                )
            value = int(value) if isinstance(value, numbers.Integral) else float(value)
        elif self.kind == "category":
            if not isinstance(value, str) or value not in self.levels:
                raise PatientRecordError(
                    f"{self.name}: {value!r} is not a known level; allowed: {', '.join(self.levels)}"
                )
        return value


SCREENING_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("age", "number", "age in years at diagnosis", minimum=0, maximum=120),
    FieldSpec("metastatic_at_diagnosis", "bool", "distant metastases (M1) at initial diagnosis"),
    FieldSpec("anticipated_survival_months", "number", "anticipated survival, months", minimum=0, maximum=240),
    FieldSpec("histology_confirmed", "bool", "histologically proven breast tumour"),
    FieldSpec("hormone_receptor", "category", "ER and/or PR status", ("positive", "negative", "unknown")),
    FieldSpec("her2", "category", "HER2 status", ("positive", "negative", "unknown")),
    FieldSpec("t_stage", "category", "clinical T stage", ("T1", "T2", "T3", "T4")),
    FieldSpec("t4_resectable", "bool", "for T4 tumours: judged resectable (ignored otherwise)"),
    FieldSpec("n_stage", "category", "clinical N stage", ("N0", "N1", "N2", "N3")),
    FieldSpec("fit_for_treatment", "bool", "performance status and comorbidity allow surgery and/or systemic therapy"),
    FieldSpec("informed_consent", "bool", "written informed consent"),
    FieldSpec("prior_invasive_breast_cancer", "bool", "primary invasive breast cancer in the history"),
    FieldSpec("other_malignancy_10y", "bool",
              "another malignancy in the last 10 years (except basal cell skin carcinoma, early cervical cancer)"),
    FieldSpec("prior_breast_local_treatment", "bool",
              "surgery and/or radiotherapy of the breast tumour before randomization"),
    FieldSpec("bilateral_synchronous", "bool", "synchronous bilateral breast cancer"),
)
_FIELDS = {f.name: f for f in SCREENING_FIELDS}


@dataclass(frozen=True)
class Criterion:
    """One inclusion or exclusion criterion: the protocol's words and a rule over fields.

    ``rule`` returns True when the patient *satisfies* the criterion (for an exclusion
    criterion: when the exclusion does *not* apply).
    """

    id: str
    kind: str  # "inclusion" | "exclusion"
    text: str
    fields: tuple[str, ...]
    rule_text: str
    rule: Callable[[Mapping[str, Any]], bool]
    source: Sourced = _SEL


CRITERIA: tuple[Criterion, ...] = (
    Criterion("I1", "inclusion", "primary distant metastatic breast cancer (M1)",
              ("metastatic_at_diagnosis",), "metastatic_at_diagnosis is True",
              lambda p: p["metastatic_at_diagnosis"]),
    Criterion("I2", "inclusion", "an anticipated survival of at least 6 months",
              ("anticipated_survival_months",), "anticipated_survival_months >= 6",
              lambda p: p["anticipated_survival_months"] >= 6),
    Criterion("I3", "inclusion", "a histologically proven diagnosis of the breast tumor",
              ("histology_confirmed",), "histology_confirmed is True",
              lambda p: p["histology_confirmed"]),
    Criterion("I4", "inclusion", "a known hormonal and HER2Neu status",
              ("hormone_receptor", "her2"), "hormone_receptor and her2 are not 'unknown'",
              lambda p: p["hormone_receptor"] != "unknown" and p["her2"] != "unknown"),
    Criterion("I5", "inclusion", "TNM classification: T1-T3, resectable T4 status, and N0-N3",
              ("t_stage", "t4_resectable", "n_stage"), "t_stage in T1-T3, or T4 with t4_resectable; n_stage in N0-N3",
              lambda p: p["t_stage"] != "T4" or p["t4_resectable"]),
    Criterion("I6", "inclusion", "performance status and comorbidity should allow surgery and/or systemic therapy",
              ("fit_for_treatment",), "fit_for_treatment is True",
              lambda p: p["fit_for_treatment"]),
    Criterion("I7", "inclusion", "age ≥ 18 years", ("age",), "age >= 18", lambda p: p["age"] >= 18),
    Criterion("I8", "inclusion", "written informed consent", ("informed_consent",),
              "informed_consent is True", lambda p: p["informed_consent"]),
    Criterion("E1", "exclusion", "primary invasive breast cancer in the medical history",
              ("prior_invasive_breast_cancer",), "prior_invasive_breast_cancer is False",
              lambda p: not p["prior_invasive_breast_cancer"]),
    Criterion("E2", "exclusion",
              "another malignancy within the last 10 years, besides basal cell carcinoma of the skin "
              "or early-stage cervical cancer",
              ("other_malignancy_10y",), "other_malignancy_10y is False",
              lambda p: not p["other_malignancy_10y"]),
    Criterion("E3", "exclusion", "surgical treatment and/or radiotherapy of the breast tumor before randomization",
              ("prior_breast_local_treatment",), "prior_breast_local_treatment is False",
              lambda p: not p["prior_breast_local_treatment"]),
    Criterion("E4", "exclusion", "irresectable T4 breast tumor",
              ("t_stage", "t4_resectable"), "not (t_stage == 'T4' and t4_resectable is False)",
              lambda p: not (p["t_stage"] == "T4" and not p["t4_resectable"])),
    Criterion("E5", "exclusion", "synchronous bilateral breast cancer",
              ("bilateral_synchronous",), "bilateral_synchronous is False",
              lambda p: not p["bilateral_synchronous"]),
)


@dataclass(frozen=True)
class ScreeningResult(Result):
    """Outcome of screening one patient: eligible or not, with every failed criterion."""

    eligible: bool
    reasons: tuple[str, ...]
    failed: tuple[str, ...]  # criterion ids

    def __bool__(self) -> bool:  # pragma: no cover - convenience
        return self.eligible

    def __str__(self) -> str:
        if self.eligible:
            return "eligible"
        return "not eligible: " + "; ".join(self.reasons)

    def summary(self) -> str:
        return str(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per failed criterion (``criterion``, ``reason``); none when eligible."""
        return pd.DataFrame({"criterion": list(self.failed), "reason": list(self.reasons)},
                            columns=["criterion", "reason"])


def validate_record(patient: Mapping[str, Any]) -> dict[str, Any]:
    """Check that a screening record has every field with the right type and level.

    Raises :class:`~trialnb.errors.PatientRecordError` listing every problem (missing
    field, wrong type, unknown level, unknown extra field is *not* an error: records may
    carry more information, e.g. ``dominant_site``).
    """
    return check_record(patient, [(f.name, f.check, f" ({f.description})") for f in SCREENING_FIELDS],
                        what="screening record", error=PatientRecordError)


def record_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A screening-log row (:data:`trialnb.data.SCREENING_SCHEMA`, booleans stored as 0/1) as
    the record :func:`screen` takes: the fields of :data:`SCREENING_FIELDS`, yes/no fields as
    ``bool``."""
    return {f.name: (bool(row[f.name]) if f.kind == "bool" else row[f.name]) for f in SCREENING_FIELDS}


def screen(patient: Mapping[str, Any]) -> ScreeningResult:
    """Apply every eligibility criterion to one patient record.

    The record is validated first (:func:`validate_record`); a malformed record raises
    :class:`~trialnb.errors.PatientRecordError` naming the field rather than being
    guessed at. Returns a :class:`ScreeningResult` with the reason for each failed
    criterion, in protocol order.
    """
    p = validate_record(patient)
    reasons, failed = [], []
    for c in CRITERIA:
        if not c.rule(p):
            failed.append(c.id)
            prefix = "fails inclusion" if c.kind == "inclusion" else "meets exclusion"
            reasons.append(f"{c.id} {prefix}: {c.text}")
    return ScreeningResult(not failed, tuple(reasons), tuple(failed))


def criteria_table() -> pd.DataFrame:
    """The eligibility criteria as a table: id, kind, protocol wording, fields and rule."""
    return pd.DataFrame(
        [
            {"id": c.id, "kind": c.kind, "protocol text": c.text,
             "fields": ", ".join(c.fields), "rule": c.rule_text}
            for c in CRITERIA
        ]
    ).set_index("id")


def example_patient(**overrides: Any) -> dict[str, Any]:
    """A complete, eligible screening record; keyword arguments replace fields."""
    base: dict[str, Any] = {
        "age": 48, "metastatic_at_diagnosis": True, "anticipated_survival_months": 18,
        "histology_confirmed": True, "hormone_receptor": "positive", "her2": "negative",
        "t_stage": "T2", "t4_resectable": False, "n_stage": "N1", "fit_for_treatment": True,
        "informed_consent": True, "prior_invasive_breast_cancer": False,
        "other_malignancy_10y": False, "prior_breast_local_treatment": False,
        "bilateral_synchronous": False, "dominant_site": "bone",
    }
    unknown = set(overrides) - set(base)
    if unknown:
        raise PatientRecordError(f"unknown field(s) {sorted(unknown)}; known: {sorted(base)}")
    base.update(overrides)
    return base
