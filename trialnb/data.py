"""The case-report-form (CRF) schema of the trial dataset, its data dictionary, and strict loading.

The schema is data: one :class:`Column` per CRF field with its type, unit, allowed values and
meaning. :func:`load_trial` reads a CSV written in this schema and checks *every* cell and
every cross-field rule (:mod:`trialnb.data_rules`); it raises one :class:`TrialDataError`
whose ``problems`` list names each problem with its line, column and rule. Nothing is
dropped, guessed or coerced silently: a file either loads completely, or the error says
everything that is wrong with it, in time linear in the size of the file.

Row numbers in problems are **physical line numbers in the file** (line 1 is the header;
blank lines are counted). Problems about the file as a whole have ``row = None``. The
returned frames keep a 1-based data-row index (row 1 = first data record).

Time origin: ``entry_month`` is measured in months from the start of accrual (month 0);
every other ``*_month`` field is measured in months from the patient's own randomization.
The data cut-off is :data:`DATA_CUTOFF_MONTH` months after the start of accrual (36 months
accrual + 24 months minimum follow-up, protocol sample-size section).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .data_rules import RuleContext, rules_for
from .errors import MESSAGE_LIMIT, TrialDataError
from .protocol import ARM_CODES, FACTORS, PROTOCOL

__all__ = [
    "DATA_CUTOFF_MONTH",
    "QOL_SCHEMA",
    "QOL_VISITS",
    "SCREENING_SCHEMA",
    "TRIAL_SCHEMA",
    "Column",
    "MESSAGE_LIMIT",
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
    Column("unplanned_local_therapy_month", "float", "months from randomization", "Time of the first "
           "unplanned local therapy; empty exactly when unplanned_local_therapies is 0; at or before os_months "
           "(death competes with it: a patient who died first has none).", minimum=0, nullable=True),
    Column("locoregional_progression_month", "float", "months from randomization", "Time locoregional "
           "progression (breast or regional nodes) was first diagnosed; empty if none was diagnosed during "
           "follow-up; at or before os_months (death competes with it).", minimum=0, nullable=True),
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
    """One problem found in a data file.

    ``row`` is the physical line number in the file (1 = the header; blank lines and the
    lines of a quoted multi-line cell are counted), ``None`` for a problem of the whole file;
    ``column`` is the column name (``"*"``: the whole line or file); ``rule`` names the check
    that failed (a cell rule such as ``"number"`` or a cross-field rule of
    :data:`trialnb.data_rules.RULES`).
    """

    row: int | None
    column: str
    message: str
    rule: str = ""

    def __str__(self) -> str:
        where = "file" if self.row is None else f"line {self.row}"
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}, column {self.column!r}{rule}: {self.message}"


def data_dictionary() -> pd.DataFrame:
    """The data dictionary of every shipped file: file, column, type, unit, allowed values, meaning."""
    rows = []
    for fname, schema in (("trial_*.csv", TRIAL_SCHEMA), ("screening_log.csv", SCREENING_SCHEMA),
                          ("qol_*.csv", QOL_SCHEMA)):
        for c in schema:
            rows.append({"file": fname, "column": c.name, "type": c.dtype, "unit": c.unit,
                         "allowed": c.allowed, "meaning": c.meaning})
    return pd.DataFrame(rows, columns=["file", "column", "type", "unit", "allowed", "meaning"])


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}


def _show(raw: str, limit: int = 40) -> str:
    """``repr`` of a cell, cut to ``limit`` characters so a message stays bounded."""
    if len(raw) <= limit:
        return repr(raw)
    return f"{raw[:limit]!r}... ({len(raw)} characters)"


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    if ch == "\x00":
        return "a NUL character (U+0000)"
    if ch == "_":
        return "an underscore '_' (U+005F)"
    if ch.isdigit():
        return f"the non-ASCII digit {ch!r} ({code}); only ASCII digits 0-9 are allowed"
    if ch.isspace():
        return f"whitespace ({code})"
    return f"the character {ch!r} ({code})"


def _bad_number(raw: str, col: Column) -> str:
    pos = next((i for i, ch in enumerate(raw) if ch not in "0123456789.-"), None)
    found = "" if pos is None else f" (found {_describe_char(raw[pos])} at position {pos + 1})"
    return f"{_show(raw)} is not a number{found}; allowed: {col.allowed}, written with ASCII digits, '-' and '.'"


def _parse_cell(col: Column, raw: str, levels: frozenset[str] | None = None) -> tuple[object, str | None, str]:
    """Parse one raw CSV cell; return (value, problem message or None, rule name).

    Numbers are parsed strictly (``-?digits[.digits]``, ASCII only); ids are compared without
    surrounding whitespace, which is itself reported. ``levels`` is the set of a category's levels.
    """
    if raw == "":
        if col.nullable:
            return None, None, ""
        return None, f"empty value; allowed: {col.allowed}", "required"
    if col.kind == "id":
        s = raw.strip()
        if not s:
            return None, f"{_show(raw)} is blank (only whitespace); allowed: {col.allowed}", "id"
        bad = next((ch for ch in s if not ch.isprintable()), None)
        if bad is not None:
            return None, f"{_show(raw)} contains {_describe_char(bad)}; ids are printable text", "id"
        if s != raw:
            return s, (f"{_show(raw)} has surrounding whitespace; ids are compared without it "
                       f"(as {s!r}), write {s!r}"), "id"
        return s, None, ""
    if col.kind == "category":
        if col.name == "failed_criteria":
            return raw, None, ""
        if raw not in (levels if levels is not None else col.levels):
            return None, f"unknown level {_show(raw)}; allowed: {col.allowed}", "level"
        return raw, None, ""
    if col.kind == "binary":
        if raw not in ("0", "1"):
            return None, f"{_show(raw)} is not 0/1; allowed: 0, 1", "binary"
        return int(raw), None, ""
    if _NUMBER.fullmatch(raw) is None:
        return None, _bad_number(raw, col), "number"
    x = float(raw)
    if not math.isfinite(x):  # 400 digits or more
        return None, f"{_show(raw)} is not a finite number; allowed: {col.allowed}", "number"
    if col.kind == "int" and x != int(x):
        return None, f"{_show(raw)} is not a whole number; allowed: {col.allowed}", "whole_number"
    if col.minimum is not None and x < col.minimum:
        what = "negative" if x < 0 else "below the minimum"
        return None, f"{_show(raw)} is {what}; allowed: {col.allowed}", "range"
    if col.maximum is not None and x > col.maximum:
        return None, f"{_show(raw)} is above the maximum; allowed: {col.allowed}", "range"
    return (int(x) if col.kind == "int" else x), None, ""


def _fail(path: Path, row: int | None, message: str, rule: str, column: str = "*") -> TrialDataError:
    return TrialDataError(path, [Problem(row, column, message, rule)])


def _decode(path: Path) -> str:
    """The file's text: UTF-8 with an optional byte-order mark; anything else is reported."""
    if not path.is_file():
        raise FileNotFoundError(f"path: no such data file {str(path)!r}")
    data = path.read_bytes()
    if not data:
        return ""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(path, 1, "the file starts with a UTF-16 byte-order mark (byte offset 0); "
                             "save it as UTF-8", "encoding")
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        off = skip + exc.start
        line = len(re.findall(rb"\r\n|\r|\n", data[:off])) + 1
        raise _fail(path, line, f"not UTF-8 text: byte 0x{data[off]:02x} at byte offset {off} cannot be decoded "
                                "(a Latin-1, UTF-16 or binary file?); save it as UTF-8", "encoding") from None
    first = text.split("\n", 1)[0]
    if "\x00" in first:
        off = skip + len(first[: first.index("\x00")].encode("utf-8"))
        raise _fail(path, 1, f"NUL byte at byte offset {off} in the header: a binary or UTF-16 file, "
                             "not UTF-8 CSV text", "encoding")
    return text


def _read_records(path: Path) -> tuple[int, list[str], list[tuple[int, list[str]]], list[Problem]]:
    """Header line, header, data records as (physical line, fields) and problems of the CSV layer.

    Blank lines are skipped but counted, so every line number is the line in the file.
    """
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    prev = 0
    try:
        for fields in reader:
            line, prev = prev + 1, reader.line_num
            if fields:
                records.append((line, fields))
    except csv.Error as exc:
        problems.append(Problem(prev + 1, "*", f"not a well-formed CSV line: {exc}", "csv"))
    if not records:
        raise _fail(path, None, "the file is empty (no header line)", "empty_file")
    (hline, header), data = records[0], records[1:]
    return hline, header, data, problems


def _check_header(hline: int, header: list[str], schema: tuple[Column, ...]) -> list[Problem]:
    names = [c.name for c in schema]
    known = set(names)
    problems: list[Problem] = []
    present = set(header)
    missing = [n for n in names if n not in present]
    if missing:
        joined = ",".join(header)
        for sep, label in _OTHER_DELIMITERS.items():
            parts = [x.strip().strip('"') for x in joined.split(sep)]
            hits = sum(x in known for x in parts)
            if sep in joined and hits >= max(2, len(missing) // 2):
                return [Problem(hline, "*", f"the header looks {label}-separated ({hits} of the {len(names)} column "
                                        f"names appear when it is split at {label}); trialnb files are "
                                        "comma-separated", "delimiter")]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        seen.setdefault(name, []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            problems.append(Problem(hline, name, f"column name appears {len(where)} times in the header (positions "
                                             f"{', '.join(map(str, where))}); each column must appear once",
                                    "duplicate_column"))
    problems += [Problem(hline, n, "missing column", "header") for n in missing]
    problems += [Problem(hline, n, f"unknown column; the schema has: {', '.join(names)}", "header")
                 for n in seen if n not in known]
    return problems


class _Table(NamedTuple):
    frame: pd.DataFrame
    values: dict[str, list[object]]  # parsed cells per column (None: empty or bad)
    lines: list[int]                 # physical line of each data row
    raw_ids: dict[str, list[str]]    # raw text of each id column, for duplicate messages
    bad_rows: set[int]               # 0-based positions of rows with a cell problem
    problems: list[Problem]


def _check_table(path: Path, schema: tuple[Column, ...],
                 levels: dict[str, frozenset[str]] | None = None) -> _Table:
    """Read ``path`` and check header, field counts and every cell against ``schema``."""
    hline, header, records, problems = _read_records(path)
    problems += _check_header(hline, header, schema)
    if any(p.rule == "delimiter" for p in problems):
        raise TrialDataError(path, problems)
    if not records and not problems:
        problems.append(Problem(None, "*", "the file has a header but no data rows", "no_rows"))
    levels = dict(levels or {})
    for c in schema:
        if c.kind == "category" and c.name not in levels:
            levels[c.name] = frozenset(c.levels)
    where = {}
    for i, name in enumerate(header):
        where.setdefault(name, i)
    n = len(header)
    lines = [line for line, _ in records]
    bad_rows: set[int] = set()
    for k, (line, fields) in enumerate(records):
        if len(fields) != n:
            problems.append(Problem(line, "*", f"{len(fields)} fields, the header has {n}", "field_count"))
            bad_rows.add(k)
    typed: dict[str, list[object]] = {}
    raw_ids: dict[str, list[str]] = {}
    for c in schema:
        if c.name not in where:
            continue
        j, lv = where[c.name], levels.get(c.name)
        values: list[object] = []
        raws: list[str] = []
        for k, (line, fields) in enumerate(records):
            if len(fields) != n:
                values.append(None)
                raws.append("")
                continue
            v, msg, rule = _parse_cell(c, fields[j], lv)
            if msg is not None:
                problems.append(Problem(line, c.name, msg, rule))
                bad_rows.add(k)
            values.append(v)
            raws.append(fields[j])
        typed[c.name] = values
        if c.kind == "id":
            raw_ids[c.name] = raws
    frame = pd.DataFrame(typed, index=pd.RangeIndex(1, len(records) + 1, name="row"))
    return _Table(frame, typed, lines, raw_ids, bad_rows, problems)


def _duplicates(t: _Table, column: str) -> list[Problem]:
    """Every repeat of an id after its first line (linear time: one dict)."""
    out: list[Problem] = []
    if column not in t.values:
        return out
    first: dict[object, int] = {}
    for k, v in enumerate(t.values[column]):
        if v is None:
            continue
        line = t.lines[k]
        if v in first:
            raw = t.raw_ids[column][k]
            how = "" if raw == v else f" (written {_show(raw)}; ids are compared without surrounding whitespace)"
            out.append(Problem(line, column, f"duplicate id {_show(str(v))}{how}: already at line {first[v]}",
                               "duplicate_id"))
        else:
            first[v] = line
    return out


_FILE_RULES = frozenset({"csv", "header", "duplicate_column", "no_rows"})


def _apply_rules(t: _Table, file: str, ctx: RuleContext) -> list[Problem]:
    """Run the cross-field rules of ``file`` on the rows whose every cell parsed."""
    if any(p.rule in _FILE_RULES for p in t.problems):  # header or file problem: columns unreliable
        return []
    names = list(t.values)
    records = [dict(zip(names, vals)) for vals in zip(*t.values.values())]
    clean = [k for k in range(len(records)) if k not in t.bad_rows]
    subset = [records[k] for k in clean]
    out: list[Problem] = []
    for rule in rules_for(file):
        for pos, column, message in rule.check(subset, ctx):
            out.append(Problem(t.lines[clean[pos]], column, message, rule.name))
    return out


def _raise_if(path: Path, problems: list[Problem]) -> None:
    if problems:
        problems.sort(key=lambda p: -1 if p.row is None else p.row)
        raise TrialDataError(path, problems)


def load_trial(path: str | Path, cutoff_month: float = DATA_CUTOFF_MONTH) -> pd.DataFrame:
    """Load and validate a trial CSV in :data:`TRIAL_SCHEMA`.

    The file must be UTF-8 (optional byte-order mark) and comma-separated. Checks the header
    (missing, unknown or duplicated column, another delimiter), every line (field count) and
    every cell (empty required value, unknown level, number not written ``-?digits[.digits]``
    in ASCII, out-of-range number, event not 0/1, blank id, id with surrounding whitespace,
    duplicate ``patient_id``/``screening_id`` compared without whitespace), then every
    cross-field rule of :data:`trialnb.data_rules.RULES` for ``trial_*.csv`` (with the data
    cut-off ``cutoff_month``) on the rows whose cells parsed.

    Returns a DataFrame with typed columns in schema order (index: 1-based data row; the
    line in the file is given in problems). Raises :class:`TrialDataError` listing every
    problem with its line, column and rule; never drops or coerces a row. Linear time.
    """
    if not (isinstance(cutoff_month, (int, float)) and math.isfinite(cutoff_month) and cutoff_month > 0):
        raise ValueError(f"cutoff_month must be a positive number of months, got {cutoff_month!r}")
    path = Path(path)
    t = _check_table(path, TRIAL_SCHEMA)
    problems = t.problems + _duplicates(t, "patient_id") + _duplicates(t, "screening_id")
    problems += _apply_rules(t, "trial_*.csv", RuleContext(cutoff_month=float(cutoff_month)))
    _raise_if(path, problems)
    return t.frame


def load_qol(path: str | Path, patient_ids: set[str] | None = None, *,
             trial: pd.DataFrame | None = None) -> pd.DataFrame:
    """Load and validate a long-format QoL CSV in :data:`QOL_SCHEMA` (one row per visit).

    Checks cells as :func:`load_trial` does, that each (patient_id, visit_month) appears once,
    that visits are scheduled ones (:data:`QOL_VISITS`), and, if ``patient_ids`` (or ``trial``,
    a frame from :func:`load_trial`) is given, that every patient is in the trial dataset.
    With ``trial``, the rule ``qol_visit_within_follow_up`` also checks that no visit is after
    the patient's death or end of follow-up. Raises :class:`TrialDataError` listing every problem.
    """
    path = Path(path)
    if trial is not None and patient_ids is None:
        patient_ids = set(trial["patient_id"])
    schema = tuple(Column(c.name, "id", c.unit, c.meaning) if c.name == "patient_id" else c for c in QOL_SCHEMA)
    t = _check_table(path, schema)
    problems = t.problems
    pids = t.values.get("patient_id", [])
    if patient_ids is not None:
        known = frozenset(patient_ids)
        problems += [Problem(t.lines[k], "patient_id", f"{_show(str(v))} is not a patient of the trial dataset",
                             "patient_link") for k, v in enumerate(pids) if v is not None and v not in known]
    seen: dict[tuple[object, object], int] = {}
    for k, v in enumerate(t.values.get("visit_month", [])):
        if v is None:
            continue
        line = t.lines[k]
        if v not in QOL_VISITS:
            problems.append(Problem(line, "visit_month", f"{v:g} is not a scheduled visit; allowed: "
                                    + ", ".join(f"{x:g}" for x in QOL_VISITS), "scheduled_visit"))
        key = (pids[k] if pids else None, v)
        if key in seen:
            problems.append(Problem(line, "visit_month", f"visit {v:g} of {key[0]} repeated (also line {seen[key]})",
                                    "visit_once"))
        else:
            seen[key] = line
    ctx = RuleContext(trial=None if trial is None else tuple(trial.to_dict("records")))
    problems += _apply_rules(t, "qol_*.csv", ctx)
    _raise_if(path, problems)
    return t.frame


def load_screening(path: str | Path) -> pd.DataFrame:
    """Load and validate a screening log in :data:`SCREENING_SCHEMA` (every cell, unique ids).

    Then the cross-field rules of ``screening_log.csv`` (:data:`trialnb.data_rules.RULES`):
    ``patient_id`` given exactly for eligible patients, ``failed_criteria`` empty exactly for
    them, and ``eligible``/``failed_criteria`` equal to what
    :func:`trialnb.eligibility.screen` finds from the row's screening fields. Raises
    :class:`TrialDataError` listing every problem.
    """
    path = Path(path)
    t = _check_table(path, SCREENING_SCHEMA)
    problems = t.problems + _duplicates(t, "screening_id") + _duplicates(t, "patient_id")
    problems += _apply_rules(t, "screening_log.csv", RuleContext())
    _raise_if(path, problems)
    return t.frame
