"""The case-report-form (CRF) schema of the trial dataset, its data dictionary, and strict loading.

The schema is data: one :class:`Column` per CRF field with its type, unit, allowed values and
meaning. :func:`load_trial` reads a CSV written in this schema and checks *every* cell and
every cross-field rule; it raises one :class:`TrialDataError` whose ``problems`` list names
each problem with its row and column. Nothing is dropped, guessed or coerced silently: a
file either loads completely, or the error says everything that is wrong with it.

Row numbers in problems are **1-based data rows** (row 1 is the first line after the
header; the CSV line number is row + 1). Problems about the file as a whole (a missing
column, an unknown column) have ``row = None``.

Time origin: ``entry_month`` is measured in months from the start of accrual (month 0);
every other ``*_month`` field is measured in months from the patient's own randomization.
The data cut-off is :data:`DATA_CUTOFF_MONTH` months after the start of accrual (36 months
accrual + 24 months minimum follow-up, protocol sample-size section).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .protocol import ARM_CODES, FACTORS, PROTOCOL

__all__ = [
    "DATA_CUTOFF_MONTH",
    "QOL_SCHEMA",
    "QOL_VISITS",
    "SCREENING_SCHEMA",
    "TRIAL_SCHEMA",
    "Column",
    "Problem",
    "TrialDataError",
    "data_dictionary",
    "load_qol",
    "load_screening",
    "load_trial",
]

DATA_CUTOFF_MONTH: float = PROTOCOL.design.accrual_months + PROTOCOL.design.horizon_months
"""Data cut-off in months after the start of accrual: 36 accrual + 24 follow-up = 60."""

QOL_VISITS: tuple[float, ...] = (0.0, 3.0, 6.0, 12.0, 24.0)
"""Quality-of-life visits, months after randomization (baseline, then 3, 6, 12, 24 months)."""


@dataclass(frozen=True)
class Column:
    """One CRF field.

    ``kind`` is one of ``"id"`` (non-empty text, unique), ``"category"`` (one of ``levels``),
    ``"binary"`` (0 or 1), ``"int"`` (whole number in [``minimum``, ``maximum``]) or
    ``"float"`` (number in [``minimum``, ``maximum``]). ``nullable`` columns may be empty
    (only where :attr:`meaning` says when).
    """

    name: str
    kind: str
    unit: str
    meaning: str
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False

    @property
    def allowed(self) -> str:
        """The allowed values as text, for the data dictionary and error messages."""
        if self.kind == "id":
            return "unique non-empty text"
        if self.kind == "category":
            s = ", ".join(self.levels)
        elif self.kind == "binary":
            s = "0, 1"
        else:
            lo = "-inf" if self.minimum is None else f"{self.minimum:g}"
            hi = "inf" if self.maximum is None else f"{self.maximum:g}"
            s = f"{'whole number' if self.kind == 'int' else 'number'} in [{lo}, {hi}]"
        return s + (" or empty" if self.nullable else "")

    @property
    def dtype(self) -> str:
        return {"id": "text", "category": "text", "binary": "integer", "int": "integer", "float": "decimal"}[self.kind]


_F = {f.name: f for f in FACTORS}
_MONTHS_MAX = DATA_CUTOFF_MONTH

TRIAL_SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "id", "", "Trial number given at randomization (P001, P002, ...)."),
    Column("screening_id", "id", "", "Screening log number of the referral that led to randomization."),
    Column("arm", "category", "", "Randomized arm: A = systemic therapy then surgery if not progressive; "
           "B = systemic therapy alone.", levels=ARM_CODES),
    Column("dominant_site", "category", "", _F["dominant_site"].label + " (minimization factor).",
           levels=_F["dominant_site"].levels),
    Column("hormone_receptor", "category", "", _F["hormone_receptor"].label + " (minimization factor).",
           levels=_F["hormone_receptor"].levels),
    Column("her2", "category", "", _F["her2"].label + " (minimization factor).", levels=_F["her2"].levels),
    Column("age", "int", "years", "Age at randomization.", minimum=18, maximum=100),
    Column("ecog", "int", "ECOG grade", "ECOG performance status at randomization.", minimum=0, maximum=2),
    Column("t_stage", "category", "", "Clinical T stage of the primary.", levels=("T1", "T2", "T3", "T4")),
    Column("n_stage", "category", "", "Clinical N stage.", levels=("N0", "N1", "N2", "N3")),
    Column("entry_month", "float", "months from start of accrual",
           "Date of randomization, months after the start of accrual.",
           minimum=0),
    Column("operated", "binary", "", "1 if the primary tumour was operated at any time."),
    Column("surgery_month", "float", "months from randomization",
           "Time of surgery of the primary; empty if not operated.", minimum=0,
           nullable=True),
    Column("surgery_reason", "category", "", "Why the primary was operated: protocol (arm A), "
           "local_progression (arm B, allowed by protocol), patient_request (arm B, protocol deviation); "
           "empty if not operated.", levels=("protocol", "local_progression", "patient_request"), nullable=True),
    Column("not_operated_reason", "category", "", "Arm A only: why the planned surgery was not done "
           "(progression, died, declined, lost); empty otherwise.",
           levels=("progression", "died", "declined", "lost"), nullable=True),
    Column("surgery_type", "category", "", "Lumpectomy or mastectomy; empty if not operated.",
           levels=("lumpectomy", "mastectomy"), nullable=True),
    Column("margin_status", "category", "", "Pathological resection margin of the invasive component "
           "(free or involved); empty if not operated.", levels=("free", "involved"), nullable=True),
    Column("axillary_dissection", "binary", "", "1 if an axillary lymph node dissection was done."),
    Column("axillary_radiotherapy", "binary", "", "1 if the axilla was irradiated."),
    Column("unplanned_local_therapies", "int", "count", "Number of unplanned local therapies of the "
           "breast/axilla (surgery or radiotherapy not part of the allocated strategy).", minimum=0, maximum=10),
    Column("os_months", "float", "months from randomization", "Follow-up time for overall survival: "
           "to death, loss to follow-up or the data cut-off (entry_month + os_months <= cut-off).", minimum=0),
    Column("death", "binary", "", "1 if the patient died at os_months, 0 if censored."),
    Column("lost_to_follow_up", "binary", "", "1 if censored because follow-up was lost before the cut-off."),
    Column("per_protocol", "binary", "", "1 if the patient received the allocated strategy: arm A operated; "
           "arm B not operated, or operated only for local progression."),
)

SCREENING_SCHEMA: tuple[Column, ...] = (
    Column("screening_id", "id", "", "Screening log number of a referred patient."),
    Column("referral_month", "float", "months from start of accrual", "Time of referral/screening.",
           minimum=0, maximum=_MONTHS_MAX),
    Column("age", "int", "years", "Age at referral.", minimum=0, maximum=120),
    Column("metastatic_at_diagnosis", "binary", "", "1 if distant metastases (M1) at initial diagnosis."),
    Column("anticipated_survival_months", "int", "months", "Anticipated survival.", minimum=0, maximum=240),
    Column("histology_confirmed", "binary", "", "1 if the breast tumour is histologically proven."),
    Column("hormone_receptor", "category", "", "ER/PR status.", levels=("positive", "negative", "unknown")),
    Column("her2", "category", "", "HER2 status.", levels=("positive", "negative", "unknown")),
    Column("dominant_site", "category", "", "Dominant metastatic site.", levels=_F["dominant_site"].levels),
    Column("ecog", "int", "ECOG grade", "ECOG performance status.", minimum=0, maximum=4),
    Column("t_stage", "category", "", "Clinical T stage.", levels=("T1", "T2", "T3", "T4")),
    Column("t4_resectable", "binary", "", "For T4 tumours: 1 if judged resectable (0 otherwise)."),
    Column("n_stage", "category", "", "Clinical N stage.", levels=("N0", "N1", "N2", "N3")),
    Column("fit_for_treatment", "binary", "", "1 if PS and comorbidity allow surgery and/or systemic therapy."),
    Column("informed_consent", "binary", "", "1 if written informed consent was given."),
    Column("prior_invasive_breast_cancer", "binary", "", "1 if a previous primary invasive breast cancer."),
    Column("other_malignancy_10y", "binary", "", "1 if another malignancy in the last 10 years (exceptions apply)."),
    Column("prior_breast_local_treatment", "binary", "", "1 if surgery/radiotherapy of the breast tumour before randomization."),
    Column("bilateral_synchronous", "binary", "", "1 if synchronous bilateral breast cancer."),
    Column("eligible", "binary", "", "1 if trialnb.eligibility.screen found the patient eligible."),
    Column("failed_criteria", "category", "", "Criterion ids failed (I1-I8, E1-E5), separated by ';'; empty if eligible.",
           nullable=True),
    Column("patient_id", "id", "", "Trial number if randomized; empty otherwise.", nullable=True),
)

QOL_SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "category", "", "Trial number (links to the trial dataset)."),
    Column("visit_month", "float", "months from randomization", "Scheduled visit.", minimum=0, maximum=24),
    Column("qol_score", "float", "points (0-100)", "Global health status / QoL score (EORTC QLQ-C30 "
           "scale, 0 = worst, 100 = best); only visits attended alive before the cut-off are recorded.",
           minimum=0, maximum=100),
)


class Problem(NamedTuple):
    """One problem found in a data file: 1-based data row (None = whole file), column, message."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row} (CSV line {self.row + 1})"
        return f"{where}, column {self.column!r}: {self.message}"


class TrialDataError(ValueError):
    """A data file does not follow its schema. ``problems`` lists every problem found."""

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.path = str(path)
        self.problems = list(problems)
        head = f"{self.path}: {len(self.problems)} problem(s) found (rows are 1-based data rows):"
        super().__init__("\n  ".join([head] + [str(p) for p in self.problems]))


def data_dictionary() -> pd.DataFrame:
    """The data dictionary of every shipped file: file, column, type, unit, allowed values, meaning."""
    rows = []
    for fname, schema in (("trial_*.csv", TRIAL_SCHEMA), ("screening_log.csv", SCREENING_SCHEMA),
                          ("qol_*.csv", QOL_SCHEMA)):
        for c in schema:
            rows.append({"file": fname, "column": c.name, "type": c.dtype, "unit": c.unit,
                         "allowed": c.allowed, "meaning": c.meaning})
    return pd.DataFrame(rows, columns=["file", "column", "type", "unit", "allowed", "meaning"])


def _parse_cell(col: Column, raw: str) -> tuple[object, str | None]:
    """Parse one raw CSV cell; return (value, problem message or None)."""
    if raw == "":
        if col.nullable:
            return None, None
        return None, f"empty value; allowed: {col.allowed}"
    if col.kind == "id":
        return raw, None
    if col.kind == "category":
        if col.name == "failed_criteria":
            return raw, None
        if raw not in col.levels:
            return None, f"unknown level {raw!r}; allowed: {col.allowed}"
        return raw, None
    if col.kind == "binary":
        if raw not in ("0", "1"):
            return None, f"{raw!r} is not 0/1; allowed: 0, 1"
        return int(raw), None
    try:
        x = float(raw)
    except ValueError:
        return None, f"{raw!r} is not a number; allowed: {col.allowed}"
    if not math.isfinite(x):
        return None, f"{raw!r} is not a finite number; allowed: {col.allowed}"
    if col.kind == "int" and x != int(x):
        return None, f"{raw!r} is not a whole number; allowed: {col.allowed}"
    if col.minimum is not None and x < col.minimum:
        what = "negative" if x < 0 else "below the minimum"
        return None, f"{raw!r} is {what}; allowed: {col.allowed}"
    if col.maximum is not None and x > col.maximum:
        return None, f"{raw!r} is above the maximum; allowed: {col.allowed}"
    return (int(x) if col.kind == "int" else x), None


def _read_raw(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no such data file {str(path)!r}")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise TrialDataError(path, [Problem(None, "*", "the file is empty (no header line)")]) from None
    except pd.errors.ParserError as exc:
        raise TrialDataError(path, [Problem(None, "*", f"not a well-formed CSV file: {exc}")]) from None


def _check_table(path: str | Path, raw: pd.DataFrame, schema: tuple[Column, ...]) -> tuple[pd.DataFrame, list[Problem]]:
    """Check columns and every cell of ``raw`` against ``schema``; return typed frame and problems."""
    problems: list[Problem] = []
    names = [c.name for c in schema]
    for c in schema:
        if c.name not in raw.columns:
            problems.append(Problem(None, c.name, "missing column"))
    for name in raw.columns:
        if name not in names:
            problems.append(Problem(None, str(name), f"unknown column; the schema has: {', '.join(names)}"))
    if len(set(raw.columns)) != len(raw.columns):
        problems.append(Problem(None, "*", "duplicated column names in the header"))
    typed: dict[str, list[object]] = {}
    for c in schema:
        if c.name not in raw.columns:
            continue
        values: list[object] = []
        for i, cell in enumerate(raw[c.name].tolist(), start=1):
            v, msg = _parse_cell(c, cell)
            if msg is not None:
                problems.append(Problem(i, c.name, msg))
            values.append(v)
        typed[c.name] = values
    return pd.DataFrame(typed, index=pd.RangeIndex(1, len(raw) + 1, name="row")), problems


def _duplicates(df: pd.DataFrame, column: str) -> list[Problem]:
    out = []
    if column in df:
        s = df[column]
        dup = s[s.notna() & s.duplicated(keep=False)]
        for row, v in dup.items():
            others = [r for r in dup.index[dup == v] if r != row]
            out.append(Problem(int(row), column, f"duplicate id {v!r} (also in row(s) {', '.join(map(str, others))})"))
    return out


def load_trial(path: str | Path, cutoff_month: float = DATA_CUTOFF_MONTH) -> pd.DataFrame:
    """Load and validate a trial CSV in :data:`TRIAL_SCHEMA`.

    Checks every column and cell (missing/unknown column, empty required value, unknown level,
    non-numeric, negative or out-of-range number, event not 0/1, duplicate ``patient_id``) and
    the cross-field rules of the CRF: randomization after the data cut-off, follow-up beyond
    the cut-off (entry_month + os_months > cutoff_month), death together with loss to
    follow-up, surgery fields present exactly when ``operated`` = 1, surgery after the end of
    follow-up, reasons consistent with the arm, per-protocol flag consistent with surgery.

    Returns a DataFrame with typed columns in schema order (index: 1-based data row).
    Raises :class:`TrialDataError` listing every problem; never drops or coerces a row.
    """
    if not (isinstance(cutoff_month, (int, float)) and math.isfinite(cutoff_month) and cutoff_month > 0):
        raise ValueError(f"cutoff_month must be a positive number of months, got {cutoff_month!r}")
    raw = _read_raw(path)
    df, problems = _check_table(path, raw, TRIAL_SCHEMA)
    problems += _duplicates(df, "patient_id")
    problems += _duplicates(df, "screening_id")
    if not any(p.row is None for p in problems):
        problems += _cross_checks(df, cutoff_month)
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row))
        raise TrialDataError(path, problems)
    return df


def _cross_checks(df: pd.DataFrame, cutoff: float) -> list[Problem]:
    out: list[Problem] = []
    tol = 1e-9
    for row, r in df.iterrows():
        row = int(row)
        entry, os_, op = r["entry_month"], r["os_months"], r["operated"]
        if entry is not None and not pd.isna(entry) and entry > cutoff + tol:
            out.append(Problem(row, "entry_month", f"randomized at month {entry:g}, after the data cut-off "
                                                   f"(month {cutoff:g})"))
        elif entry is not None and os_ is not None and not pd.isna(entry) and not pd.isna(os_) \
                and entry + os_ > cutoff + 1e-6:
            out.append(Problem(row, "os_months", f"follow-up ends at month {entry + os_:g} (entry_month + "
                                                 f"os_months), after the data cut-off (month {cutoff:g})"))
        if r["death"] == 1 and r["lost_to_follow_up"] == 1:
            out.append(Problem(row, "lost_to_follow_up", "a patient who died (death = 1) cannot also be lost to follow-up"))
        surg_fields = ("surgery_month", "surgery_reason", "surgery_type", "margin_status")
        if op == 1:
            for f in surg_fields:
                if r[f] is None or (isinstance(r[f], float) and pd.isna(r[f])):
                    out.append(Problem(row, f, "empty although operated = 1"))
            sm = r["surgery_month"]
            if sm is not None and os_ is not None and not pd.isna(sm) and not pd.isna(os_) and sm > os_ + tol:
                out.append(Problem(row, "surgery_month", f"surgery at month {sm:g} after the end of follow-up "
                                                         f"(os_months = {os_:g})"))
        elif op == 0:
            for f in surg_fields:
                if r[f] is not None and not (isinstance(r[f], float) and pd.isna(r[f])):
                    out.append(Problem(row, f, f"{r[f]!r} given although operated = 0 (must be empty)"))
        arm, reason, nor = r["arm"], r["surgery_reason"], r["not_operated_reason"]
        if arm == "A" and reason not in (None, "protocol"):
            out.append(Problem(row, "surgery_reason", f"{reason!r} is an arm B reason; arm A surgery is 'protocol'"))
        if arm == "B" and reason == "protocol":
            out.append(Problem(row, "surgery_reason", "'protocol' surgery is arm A only; arm B: local_progression or patient_request"))
        if nor is not None and (arm != "A" or op == 1):
            out.append(Problem(row, "not_operated_reason", "allowed only for arm A patients with operated = 0"))
        if arm == "A" and op == 0 and nor is None:
            out.append(Problem(row, "not_operated_reason", "empty although an arm A patient was not operated"))
        reason_ok = (arm == "A" and reason in (None, "protocol")) or (arm == "B" and reason != "protocol")
        if reason_ok and op in (0, 1) and r["per_protocol"] in (0, 1):
            expected = int(op == 1) if arm == "A" else int(reason in (None, "local_progression"))
            if r["per_protocol"] != expected:
                out.append(Problem(row, "per_protocol", f"{r['per_protocol']} contradicts arm {arm} with "
                                                        f"operated = {op} (expected {expected})"))
    return out


def load_qol(path: str | Path, patient_ids: set[str] | None = None) -> pd.DataFrame:
    """Load and validate a long-format QoL CSV in :data:`QOL_SCHEMA` (one row per visit).

    Checks cells as :func:`load_trial` does, that each (patient_id, visit_month) appears once,
    that visits are scheduled ones (:data:`QOL_VISITS`), and, if ``patient_ids`` is given, that
    every patient is in the trial dataset. Raises :class:`TrialDataError` listing every problem.
    """
    raw = _read_raw(path)
    qol_schema = tuple(
        Column(c.name, "category", c.unit, c.meaning, levels=tuple(sorted(patient_ids)))
        if (c.name == "patient_id" and patient_ids is not None) else
        (Column(c.name, "id", c.unit, c.meaning) if c.name == "patient_id" else c)
        for c in QOL_SCHEMA
    )
    df, problems = _check_table(path, raw, qol_schema)
    if not any(p.row is None for p in problems):
        seen: dict[tuple[object, object], int] = {}
        for row, r in df.iterrows():
            v = r["visit_month"]
            if v is not None and not pd.isna(v) and v not in QOL_VISITS:
                problems.append(Problem(int(row), "visit_month", f"{v:g} is not a scheduled visit; allowed: "
                                        + ", ".join(f"{x:g}" for x in QOL_VISITS)))
            key = (r["patient_id"], v)
            if key in seen:
                problems.append(Problem(int(row), "visit_month", f"visit {v:g} of {r['patient_id']} repeated "
                                                                 f"(also row {seen[key]})"))
            else:
                seen[key] = int(row)
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row))
        raise TrialDataError(path, problems)
    return df


def load_screening(path: str | Path) -> pd.DataFrame:
    """Load and validate a screening log in :data:`SCREENING_SCHEMA` (every cell, unique ids).

    Also checks that ``patient_id`` is given exactly for eligible patients and that
    ``failed_criteria`` is empty exactly for them. Raises :class:`TrialDataError` listing every problem.
    """
    raw = _read_raw(path)
    df, problems = _check_table(path, raw, SCREENING_SCHEMA)
    problems += _duplicates(df, "screening_id") + _duplicates(df, "patient_id")
    if not any(p.row is None for p in problems):
        for row, r in df.iterrows():
            if r["eligible"] == 1 and r["patient_id"] is None:
                problems.append(Problem(int(row), "patient_id", "empty although eligible = 1"))
            if r["eligible"] == 0 and r["patient_id"] is not None:
                problems.append(Problem(int(row), "patient_id", "given although eligible = 0 (not randomized)"))
            if (r["eligible"] == 1) == (r["failed_criteria"] is not None):
                problems.append(Problem(int(row), "failed_criteria", "must be empty exactly when eligible = 1"))
    if problems:
        problems.sort(key=lambda p: (-1 if p.row is None else p.row))
        raise TrialDataError(path, problems)
    return df
