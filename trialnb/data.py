"""The case-report-form (CRF) schema of the trial dataset, its data dictionary, and strict loading.

The schema is data: one :class:`Column` per CRF field with its type, unit, allowed values and
meaning. :func:`load_trial` reads a CSV written in this schema and checks *every* cell and
every cross-field rule (:mod:`trialnb.data_rules`); it raises one :class:`TrialDataError`
whose ``problems`` list names each problem with its line, column and rule. Nothing is
dropped, guessed or coerced silently: a file either loads completely, or the error says
everything that is wrong with it, in time linear in the size of the file and memory of about
8 bytes per cell (:mod:`trialnb.data_reader` streams the file; ``.csv.gz`` files load too).

Beyond one file: a file listed in the ``manifest.csv`` of its folder (the shipped data, written
by ``trialnb build-data``) must still have the listed rows and SHA-256
(:mod:`trialnb.data_manifest`), so a file cut at a row boundary is caught; given the screening
log too (``load_trial(path, screening=...)``), every randomized patient must be in it and the
CONSORT counts must add up; :func:`verify_data` (``trialnb verify-data``) checks a whole folder.

Row numbers in problems are **physical line numbers in the file** (line 1 is the header;
blank lines are counted). Problems about the file as a whole have ``row = None``. The
returned frames keep a 1-based data-row index (row 1 = first data record).

Time origin: ``entry_month`` is measured in months from the start of accrual (month 0);
every other ``*_month`` field is measured in months from the patient's own randomization.
The data cut-off is :data:`DATA_CUTOFF_MONTH` months after the start of accrual (36 months
accrual + 24 months minimum follow-up, protocol sample-size section).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, TypedDict, cast

import numpy as np
import pandas as pd

from .data_manifest import MANIFEST_NAME, describe_file, manifest_problems, read_manifest
from .data_reader import Column, Problem, Table, duplicates, read_table, show
from .data_rules import RuleContext, rules_for
from .errors import MESSAGE_LIMIT, TrialDataError
from .protocol import ARM_CODES, FACTORS, PATIENT_ID_PATTERN, PATIENT_ID_RULE, PROTOCOL
from .report import fmt_n
from .results import Result

__all__ = [
    "DATA_CUTOFF_MONTH",
    "QOL_SCHEMA",
    "QOL_VISITS",
    "SCREENING_SCHEMA",
    "TRIAL_SCHEMA",
    "Column",
    "DataCheck",
    "MESSAGE_LIMIT",
    "Problem",
    "data_dictionary",
    "load_qol",
    "load_screening",
    "load_trial",
    "verify_data",
]

DATA_CUTOFF_MONTH: float = PROTOCOL.design.accrual_months + PROTOCOL.design.horizon_months
"""Data cut-off in months after the start of accrual: 36 accrual + 24 follow-up = 60."""

QOL_VISITS: tuple[float, ...] = (0.0, 3.0, 6.0, 12.0, 24.0)
"""Quality-of-life visits, months after randomization (baseline, then 3, 6, 12, 24 months)."""


_F = {f.name: f for f in FACTORS}
_MONTHS_MAX = DATA_CUTOFF_MONTH


class _IdForm(TypedDict):
    pattern: str
    pattern_rule: str


_ID: _IdForm = {"pattern": PATIENT_ID_PATTERN, "pattern_rule": PATIENT_ID_RULE}

TRIAL_SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "id", "", "Trial number given at randomization (P001, P002, ...).", **_ID),
    Column("screening_id", "id", "", "Screening log number of the referral that led to randomization.", **_ID),
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
    Column("screening_id", "id", "", "Screening log number of a referred patient.", **_ID),
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
    Column("prior_breast_local_treatment", "binary", "",
           "1 if surgery/radiotherapy of the breast tumour before randomization."),
    Column("bilateral_synchronous", "binary", "", "1 if synchronous bilateral breast cancer."),
    Column("eligible", "binary", "", "1 if trialnb.eligibility.screen found the patient eligible."),
    Column("failed_criteria", "category", "",
           "Criterion ids failed (I1-I8, E1-E5), separated by ';'; empty if eligible.", nullable=True),
    Column("patient_id", "id", "", "Trial number if randomized; empty otherwise.", nullable=True, **_ID),
)

QOL_SCHEMA: tuple[Column, ...] = (
    Column("patient_id", "category", "", "Trial number (links to the trial dataset)."),
    Column("visit_month", "float", "months from randomization", "Scheduled visit.", minimum=0, maximum=24),
    Column("qol_score", "float", "points (0-100)", "Global health status / QoL score (EORTC QLQ-C30 "
           "scale, 0 = worst, 100 = best); only visits attended alive before the cut-off are recorded.",
           minimum=0, maximum=100),
)


def data_dictionary() -> pd.DataFrame:
    """The data dictionary of every shipped file: file, column, type, unit, allowed values, meaning."""
    rows = []
    for fname, schema in (("trial_*.csv", TRIAL_SCHEMA), ("screening_log.csv", SCREENING_SCHEMA),
                          ("qol_*.csv", QOL_SCHEMA)):
        for c in schema:
            rows.append({"file": fname, "column": c.name, "type": c.dtype, "unit": c.unit,
                         "allowed": c.allowed, "meaning": c.meaning})
    return pd.DataFrame(rows, columns=["file", "column", "type", "unit", "allowed", "meaning"])


_FILE_RULES = frozenset({"csv", "header", "duplicate_column", "no_rows"})


def _apply_rules(t: Table, file: str, ctx: RuleContext) -> list[Problem]:
    """Run the cross-field rules of ``file`` on the rows whose every cell parsed: the per-row
    rules in one pass (one short-lived dict per row), the whole-file rules on lazy rows."""
    if any(p.rule in _FILE_RULES for p in t.problems):  # header or file problem: columns unreliable
        return []
    positions = None if not t.bad_rows else [k for k in range(t.n) if k not in t.bad_rows]
    rules = rules_for(file)
    per_row = [(r.name, r.check.per_row) for r in rules if hasattr(r.check, "per_row")]
    whole = [r for r in rules if not hasattr(r.check, "per_row")]
    out: list[Problem] = []
    lines = t.lines
    if per_row:
        for ks, records in t.record_batches(positions):
            for k, rec in zip(ks, records, strict=True):
                for rule_name, fn in per_row:
                    for column, message in fn(rec, ctx):
                        out.append(Problem(lines[k], column, message, rule_name))
    rows = t.rows(positions)
    for rule in whole:
        for pos, column, message in rule.check(rows, ctx):
            line = None if pos is None else lines[pos if positions is None else positions[pos]]
            out.append(Problem(line, column, message, rule.name))
    return out


def _raise_if(path: Path, problems: list[Problem]) -> None:
    if problems:
        problems.sort(key=lambda p: -1 if p.row is None else p.row)
        raise TrialDataError(path, problems)


def _manifest(path: Path, check: bool) -> list[Problem]:
    """The differences between ``path`` and the manifest of its folder (none if not listed)."""
    if not isinstance(check, bool):
        raise ValueError(f"check_manifest must be True or False, got {check!r}")
    found = manifest_problems(path) if check else None
    return [Problem(None, "*", msg, "manifest") for msg in found or ()]


def _screening_index(screening: Any) -> Mapping[str, Mapping[str, Any]]:
    if isinstance(screening, (str, Path)):
        screening = load_screening(screening)
    if not isinstance(screening, pd.DataFrame) or not {"screening_id", "patient_id"} <= set(screening.columns):
        raise ValueError("screening must be the screening log: a path, or the frame load_screening returns, "
                         f"got {type(screening).__name__}")
    records = cast(list[dict[str, Any]], screening.to_dict("records"))  # the columns are named by str
    return {r["screening_id"]: {k: (None if isinstance(v, float) and v != v and k == "patient_id" else v)
                                for k, v in r.items()} for r in records}


def load_trial(path: str | Path, cutoff_month: float = DATA_CUTOFF_MONTH, *, screening: Any = None,
               check_manifest: bool = True) -> pd.DataFrame:
    """Load and validate a trial CSV (or ``.csv.gz``) in :data:`TRIAL_SCHEMA`.

    The file must be UTF-8 (optional byte-order mark) and comma-separated. Checks the header
    (missing, unknown or duplicated column, another delimiter), every line (field count) and
    every cell (empty required value, unknown level, number not written ``-?digits[.digits]``
    in ASCII, out-of-range number, event not 0/1, blank id, id with surrounding whitespace or
    not of the trial's form (:data:`~trialnb.protocol.PATIENT_ID_PATTERN`, rule ``id_pattern``),
    duplicate ``patient_id``/``screening_id`` compared without whitespace), then every
    cross-field rule of :data:`trialnb.data_rules.RULES` for ``trial_*.csv`` (with the data
    cut-off ``cutoff_month``) on the rows whose cells parsed.

    With ``check_manifest`` (default) a file listed in the ``manifest.csv`` of its folder
    must have the listed rows and SHA-256 (rule ``manifest``). With ``screening`` (the
    screening log: a path, or the frame :func:`load_screening` returns) the rules that connect
    the two files run too: every patient screened, the same minimization factors, the CONSORT
    counts adding up.

    Returns a DataFrame with typed columns in schema order (index: 1-based data row; the
    line in the file is given in problems). Raises :class:`TrialDataError` listing every
    problem with its line, column and rule; never drops or coerces a row. Linear time.
    """
    if not (isinstance(cutoff_month, (int, float, np.integer, np.floating)) and not isinstance(cutoff_month, bool)
            and math.isfinite(cutoff_month) and cutoff_month > 0):
        raise ValueError(f"cutoff_month must be a positive number of months, got {cutoff_month!r}")
    cutoff = float(cutoff_month)
    path = Path(path)
    index = None if screening is None else _screening_index(screening)
    problems = _manifest(path, check_manifest)
    t = read_table(path, TRIAL_SCHEMA)
    problems += t.problems + duplicates(t, "patient_id") + duplicates(t, "screening_id")
    problems += _apply_rules(t, "trial_*.csv", RuleContext(cutoff_month=cutoff, screening=index))
    _raise_if(path, problems)
    return t.frame(TRIAL_SCHEMA)


def load_qol(path: str | Path, patient_ids: set[str] | None = None, *,
             trial: pd.DataFrame | None = None, check_manifest: bool = True) -> pd.DataFrame:
    """Load and validate a long-format QoL CSV in :data:`QOL_SCHEMA` (one row per visit).

    Checks cells as :func:`load_trial` does, that each (patient_id, visit_month) appears once,
    that visits are scheduled ones (:data:`QOL_VISITS`), and, if ``patient_ids`` (or ``trial``,
    a frame from :func:`load_trial`) is given, that every patient is in the trial dataset.
    With ``trial``, the rule ``qol_visit_within_follow_up`` also checks that no visit is after
    the patient's death or end of follow-up. A file listed in its folder's manifest is checked
    against it. Raises :class:`TrialDataError` listing every problem.
    """
    path = Path(path)
    if trial is not None and patient_ids is None:
        patient_ids = set(trial["patient_id"])
    schema = tuple(Column(c.name, "id", c.unit, c.meaning, **_ID) if c.name == "patient_id" else c
                   for c in QOL_SCHEMA)
    problems = _manifest(path, check_manifest)
    t = read_table(path, schema)
    problems += t.problems
    pids = t.columns.get("patient_id", [])
    if patient_ids is not None:
        known = frozenset(patient_ids)
        problems += [Problem(t.lines[k], "patient_id", f"{show(str(v))} is not a patient of the trial dataset",
                             "patient_link") for k, v in enumerate(pids) if v is not None and v not in known]
    seen: dict[tuple[object, object], int] = {}
    visits = t.columns.get("visit_month", [])
    for k, v in enumerate(visits):
        if v != v:  # empty or bad (NaN in the decimal column)
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
    ctx = RuleContext(trial=None if trial is None else tuple(cast(list[dict[str, Any]], trial.to_dict("records"))))
    problems += _apply_rules(t, "qol_*.csv", ctx)
    _raise_if(path, problems)
    return t.frame(schema)


def load_screening(path: str | Path, *, check_manifest: bool = True) -> pd.DataFrame:
    """Load and validate a screening log in :data:`SCREENING_SCHEMA` (every cell, unique ids).

    Then the cross-field rules of ``screening_log.csv`` (:data:`trialnb.data_rules.RULES`):
    ``patient_id`` given exactly for eligible patients, ``failed_criteria`` empty exactly for
    them, and ``eligible``/``failed_criteria`` equal to what
    :func:`trialnb.eligibility.screen` finds from the row's screening fields. A file listed
    in its folder's manifest is checked against it. Raises :class:`TrialDataError` listing
    every problem.
    """
    path = Path(path)
    problems = _manifest(path, check_manifest)
    t = read_table(path, SCREENING_SCHEMA)
    problems += t.problems + duplicates(t, "screening_id") + duplicates(t, "patient_id")
    problems += _apply_rules(t, "screening_log.csv", RuleContext())
    _raise_if(path, problems)
    return t.frame(SCREENING_SCHEMA)


# ---------------------------------------------------------------- a whole data folder


@dataclass(frozen=True)
class DataCheck(Result):
    """What :func:`verify_data` found in a data folder: one row per file (``files``: tuples of
    file, status, rows listed, rows found, detail), ``ok`` if every listed file is intact and
    loads with its cross-file checks."""

    folder: str
    files: tuple[tuple[str, str, int | None, int | None, str], ...]

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(status in ("ok", "not listed") for _, status, *_ in self.files)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(list(self.files), columns=["file", "status", "rows_listed", "rows_found", "detail"])

    def summary(self) -> str:
        bad = [f for f, status, *_ in self.files if status not in ("ok", "not listed")]
        listed = sum(status != "not listed" for _, status, *_ in self.files)
        if self.ok:
            return (f"{self.folder}: all {fmt_n(listed)} files of {MANIFEST_NAME} are intact (rows and SHA-256) "
                    "and load with every check, the cross-file checks included.")
        return f"{self.folder}: {fmt_n(len(bad))} of {fmt_n(listed)} files failed: {', '.join(bad)}."


def verify_data(folder: str | Path | None = None) -> DataCheck:
    """Check a data folder against its ``manifest.csv``: every listed file present with its
    rows and SHA-256, then every trial, QoL and screening file loaded with every check (the
    trial files against the screening log, the QoL files against their trial file). Files
    in the folder but not in the manifest are listed as "not listed" (not an error). The
    default folder is the shipped synthetic data (:func:`trialnb.resources.data_dir`)."""
    if folder is None:
        from .resources import data_dir

        folder = data_dir()
    if not isinstance(folder, (str, Path)) or not str(folder).strip():
        raise ValueError(f"folder must be a data folder path, got {folder!r}")
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{str(root)!r} is not a folder" + (" (it is a file)" if root.exists() else ""))
    manifest = read_manifest(root)
    if manifest is None:
        return DataCheck(str(root), ((MANIFEST_NAME, "missing", None, None,
                                      "no manifest in this folder: nothing to check against"),))
    rows: list[tuple[str, str, int | None, int | None, str]] = []
    intact: set[str] = set()
    for name, want in sorted(manifest.items()):
        p = root / name
        if not p.is_file():
            rows.append((name, "missing", want.rows, None, "listed in the manifest, not in the folder"))
            continue
        got = describe_file(p)
        diff = manifest_problems(p) or []
        rows.append((name, "ok" if not diff else "changed", want.rows, got.rows, "; ".join(diff)))
        if not diff:
            intact.add(name)
    for p in sorted(root.iterdir()):
        if p.is_file() and p.name != MANIFEST_NAME and p.name not in manifest:
            rows.append((p.name, "not listed", None, None, "not in the manifest (not checked)"))
    status = {r[0]: i for i, r in enumerate(rows)}

    def loaded(name: str, load: Any) -> Any:
        if name not in intact:
            return None
        try:
            return load()
        except TrialDataError as exc:
            f, _, want, got, _ = rows[status[name]]
            rows[status[name]] = (f, "fails checks", want, got, f"{len(exc.problems)} problem(s): {exc.problems[0]}")
            return None

    screening = loaded("screening_log.csv", lambda: load_screening(root / "screening_log.csv"))
    for name in sorted(n for n in intact if n.startswith("trial_") and n.endswith(".csv")):
        trial = loaded(name, lambda n=name: load_trial(root / n, screening=screening))
        qol = name.replace("trial_", "qol_", 1)
        if trial is not None and qol in intact:
            loaded(qol, lambda q=qol, tr=trial: load_qol(root / q, trial=tr))
    return DataCheck(str(root), tuple(rows))
