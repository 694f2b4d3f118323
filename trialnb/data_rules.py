"""The cross-field rules of the CRF files, written once, as data, next to the data dictionary.

Each :class:`Rule` names the file it applies to, the columns it reads, a sentence saying what
it requires, and a ``check``. The loaders of :mod:`trialnb.data` run every rule of a file
(:func:`rules_for`) after every cell has parsed; :func:`rules_table` is the same list as a
table, written by ``trialnb build-data`` to ``data/cross_field_rules.csv`` and listed in
``data/README.md`` (both regenerated from this tuple, so the documentation cannot drift from
the code).

A ``check`` receives the typed records of the file (a sequence of read-only mappings, one
per data row, in file order; an empty cell is ``None``) and a :class:`RuleContext`, and yields
``(position, column, message)`` for each violation (``position``: 0-based index into the
records, or ``None`` for a problem of the file as a whole). Every check runs in linear time
(or n log n for the one that sorts). A rule made from a per-row function (``_per_row``) keeps
it as ``check.per_row``, so a loader can run all of them in one pass over the rows.

Rules that connect two files (a trial file and the screening log) run only when the loader is
given both (:func:`trialnb.data.load_trial` with ``screening=``): they read the screening log
from :attr:`RuleContext.screening`.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from .eligibility import SCREENING_FIELDS

__all__ = ["RULES", "Rule", "RuleContext", "rules_for", "rules_table"]

Record = Mapping[str, Any]
Violation = tuple["int | None", str, str]

ROUNDING_MONTHS = 0.01
"""Times are written with 2 decimals, so entry_month + os_months may differ from the cut-off by
up to 0.01 month by rounding alone."""
_EPS = 1e-9


@dataclass(frozen=True)
class RuleContext:
    """What a rule may need besides the file: the data cut-off, for QoL the trial records, and
    for a trial file checked against its screening log, the log's records by ``screening_id``
    (``screening``) and its size (``screened``)."""

    cutoff_month: float = 60.0
    trial: Sequence[Record] | None = None
    screening: Mapping[str, Record] | None = None


@dataclass(frozen=True)
class Rule:
    """One cross-field rule: ``name`` (stable id), ``file`` (pattern), columns read, description, check."""

    name: str
    file: str
    columns: tuple[str, ...]
    description: str
    check: Callable[[Sequence[Record], RuleContext], Iterable[Violation]]


def _per_row(fn: Callable[[Record, RuleContext], Iterable[tuple[str, str]]]
             ) -> Callable[[Sequence[Record], RuleContext], Iterator[Violation]]:
    def check(records: Sequence[Record], ctx: RuleContext) -> Iterator[Violation]:
        for i, r in enumerate(records):
            for column, message in fn(r, ctx):
                yield i, column, message
    check.per_row = fn  # type: ignore[attr-defined]
    return check


# ------------------------------------------------------------------------------ trial file

def _end(r: Record) -> float:
    return r["entry_month"] + r["os_months"]


def _entry_after_cutoff(r: Record, ctx: RuleContext):
    if r["entry_month"] > ctx.cutoff_month + _EPS:
        yield "entry_month", (f"randomized at month {r['entry_month']:g}, after the data cut-off "
                              f"(month {ctx.cutoff_month:g})")


def _follow_up_beyond_cutoff(r: Record, ctx: RuleContext):
    if r["entry_month"] <= ctx.cutoff_month + _EPS and _end(r) > ctx.cutoff_month + 1e-6:
        yield "os_months", (f"follow-up ends at month {_end(r):g} (entry_month + os_months), after the "
                            f"data cut-off (month {ctx.cutoff_month:g})")


def _death_and_lost(r: Record, ctx: RuleContext):
    if r["death"] == 1 and r["lost_to_follow_up"] == 1:
        yield "lost_to_follow_up", "a patient who died (death = 1) cannot also be lost to follow-up"


def _censored_early(r: Record, ctx: RuleContext):
    if r["death"] == 0 and r["lost_to_follow_up"] == 0 and _end(r) < ctx.cutoff_month - ROUNDING_MONTHS - _EPS:
        yield "os_months", (f"censored at month {_end(r):g} (entry_month + os_months), before the data "
                            f"cut-off (month {ctx.cutoff_month:g}), with neither death = 1 nor lost_to_follow_up = 1")


def _lost_at_cutoff(r: Record, ctx: RuleContext):
    if r["lost_to_follow_up"] == 1 and _end(r) >= ctx.cutoff_month - ROUNDING_MONTHS - _EPS:
        yield "lost_to_follow_up", (f"lost to follow-up, yet followed to month {_end(r):g}, the data cut-off "
                                    f"(month {ctx.cutoff_month:g})")


_SURGERY_FIELDS = ("surgery_month", "surgery_reason", "surgery_type", "margin_status")


def _surgery_fields(r: Record, ctx: RuleContext):
    for f in _SURGERY_FIELDS:
        if r["operated"] == 1 and r[f] is None:
            yield f, "empty although operated = 1"
        elif r["operated"] == 0 and r[f] is not None:
            yield f, f"{r[f]!r} given although operated = 0 (must be empty)"


def _surgery_after_follow_up(r: Record, ctx: RuleContext):
    sm = r["surgery_month"]
    if r["operated"] == 1 and sm is not None and sm > r["os_months"] + _EPS:
        yield "surgery_month", f"surgery at month {sm:g} after the end of follow-up (os_months = {r['os_months']:g})"


def _reason_matches_arm(r: Record, ctx: RuleContext):
    arm, reason = r["arm"], r["surgery_reason"]
    if arm == "A" and reason not in (None, "protocol"):
        yield "surgery_reason", f"{reason!r} is an arm B reason; arm A surgery is 'protocol'"
    if arm == "B" and reason == "protocol":
        yield "surgery_reason", "'protocol' surgery is arm A only; arm B: local_progression or patient_request"


def _not_operated_reason(r: Record, ctx: RuleContext):
    arm, op, nor = r["arm"], r["operated"], r["not_operated_reason"]
    if nor is not None and (arm != "A" or op == 1):
        yield "not_operated_reason", "allowed only for arm A patients with operated = 0"
    if arm == "A" and op == 0 and nor is None:
        yield "not_operated_reason", "empty although an arm A patient was not operated"


def _not_operated_died_alive(r: Record, ctx: RuleContext):
    if r["not_operated_reason"] == "died" and r["death"] == 0:
        yield "not_operated_reason", "'died' although death = 0 (the patient is alive at the end of follow-up)"


def _per_protocol(r: Record, ctx: RuleContext):
    arm, op, reason = r["arm"], r["operated"], r["surgery_reason"]
    reason_ok = (arm == "A" and reason in (None, "protocol")) or (arm == "B" and reason != "protocol")
    if reason_ok:
        expected = int(op == 1) if arm == "A" else int(reason in (None, "local_progression"))
        if r["per_protocol"] != expected:
            yield "per_protocol", (f"{r['per_protocol']} contradicts arm {arm} with operated = {op} "
                                   f"(expected {expected})")


def _unplanned_month(r: Record, ctx: RuleContext):
    m, k = r["unplanned_local_therapy_month"], r["unplanned_local_therapies"]
    if k >= 1 and m is None:
        yield "unplanned_local_therapy_month", f"empty although unplanned_local_therapies = {k}"
    elif k == 0 and m is not None:
        yield "unplanned_local_therapy_month", (f"{m:g} given although unplanned_local_therapies = 0 "
                                                "(must be empty)")


def _dated_within_follow_up(column: str, what: str):
    def check(r: Record, ctx: RuleContext):
        m = r[column]
        if m is not None and m > r["os_months"] + _EPS:
            end = "death" if r["death"] == 1 else "the end of follow-up"
            yield column, f"{what} at month {m:g}, after {end} (os_months = {r['os_months']:g})"
    return check


def _arm_b_surgery_is_unplanned(r: Record, ctx: RuleContext):
    m, sm = r["unplanned_local_therapy_month"], r["surgery_month"]
    if r["arm"] == "B" and r["operated"] == 1 and sm is not None:
        if m is None or m > sm + _EPS:
            shown = "empty" if m is None else f"month {m:g}"
            yield "unplanned_local_therapy_month", (f"{shown}, although the arm B surgery at month {sm:g} is "
                                                    "an unplanned local therapy (the first is at or before it)")


def _progression_before_surgery(r: Record, ctx: RuleContext):
    m, sm = r["locoregional_progression_month"], r["surgery_month"]
    if r["surgery_reason"] == "local_progression" and sm is not None and (m is None or m > sm + _EPS):
        shown = "empty" if m is None else f"month {m:g}"
        yield "locoregional_progression_month", (f"{shown}, although the surgery at month {sm:g} was for local "
                                                 "progression (diagnosed at or before it)")


_TRIAL_NUMBER = re.compile(r"([A-Za-z]*)([0-9]+)", re.ASCII)


def _columns(records: Sequence[Record], *names: str) -> list[list[Any]]:
    """The values of some columns of the records, read column-wise when the records offer it
    (the loaders' lazy rows do: :meth:`trialnb.data_reader.Rows.column`)."""
    column = getattr(records, "column", None)
    if column is not None:
        return [column(n) for n in names]
    return [[r[n] for r in records] for n in names]


def _randomization_order(records: Sequence[Record], ctx: RuleContext) -> Iterator[Violation]:
    """Trial numbers are given in order of randomization: by number, entry_month never decreases.

    Checked on every row whose id is a numbered trial id (letters, then digits: ``P001``,
    ``NCT-`` is not) and whose (letters, number) is not shared with another row; other rows
    (another id form, or a repeated number such as ``P001`` and ``P1``) are left out of the
    order, not the whole file. Sorted with numpy: n log n time, 40 bytes per row."""
    prefix, number, pos, entry = array("q"), array("q"), array("q"), array("d")
    codes: dict[str, int] = {}
    ids, entries = _columns(records, "patient_id", "entry_month")
    for i, (month, m) in enumerate(zip(entries, map(_TRIAL_NUMBER.fullmatch, ids), strict=True)):
        if m is None or len(m.group(2)) > 18:  # not a numbered trial id: left out of the order
            continue
        prefix.append(codes.setdefault(m.group(1), len(codes)))
        number.append(int(m.group(2)))
        pos.append(i)
        entry.append(month)
    if len(pos) < 2:
        return
    p, n, i_, e = (np.frombuffer(a, dtype=t) for a, t in ((prefix, np.int64), (number, np.int64),
                                                          (pos, np.int64), (entry, np.float64)))
    order = np.lexsort((i_, n, p))
    p, n, i_, e = p[order], n[order], i_[order], e[order]
    same = (p[1:] == p[:-1]) & (n[1:] == n[:-1])
    shared = np.zeros(len(p), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same  # a repeated number (a duplicate id, or P001 and P1): not ordered
    keep = ~shared
    p, i_, e = p[keep], i_[keep], e[keep]
    for b in np.nonzero((p[1:] == p[:-1]) & (e[1:] < e[:-1] - _EPS))[0]:
        a, c = records[int(i_[b])], records[int(i_[b + 1])]
        yield int(i_[b + 1]), "entry_month", (f"{c['patient_id']} randomized at month {c['entry_month']:g}, before "
                                              f"{a['patient_id']} (month {a['entry_month']:g}): trial numbers are "
                                              "given in order of randomization")


# ------------------------------------------------------------------------------ trial file and screening log

_SAME_AS_SCREENING = ("dominant_site", "hormone_receptor", "her2")


def _screened(r: Record, ctx: RuleContext):
    if ctx.screening is None:
        return
    s = ctx.screening.get(r["screening_id"])
    if s is None:
        yield "screening_id", (f"{r['screening_id']!r} is not in the screening log: every randomized patient "
                               "was screened first")
        return
    if s["patient_id"] != r["patient_id"]:
        given = ("no trial number (not randomized)" if s["patient_id"] is None
                 else f"the trial number {s['patient_id']!r}")
        yield "screening_id", f"the screening log gives {r['screening_id']} {given}, this file {r['patient_id']!r}"


def _same_as_screening(r: Record, ctx: RuleContext):
    s = None if ctx.screening is None else ctx.screening.get(r["screening_id"])
    if s is None:
        return
    for f in _SAME_AS_SCREENING:
        if s[f] != r[f]:
            yield f, (f"{r[f]!r} differs from the screening log's {s[f]!r} for {r['screening_id']}: minimization "
                      "used the screening values")
    if not s["age"] <= r["age"] <= s["age"] + 1:
        yield "age", f"{r['age']} at randomization, {s['age']} at screening ({r['screening_id']}): at most 1 year later"
    if r["entry_month"] < s["referral_month"] - _EPS:
        yield "entry_month", (f"randomized at month {r['entry_month']:g}, before the referral of {r['screening_id']} "
                              f"(month {s['referral_month']:g})")


def _consort_counts(records: Sequence[Record], ctx: RuleContext) -> Iterator[Violation]:
    """Screened = eligible + not eligible; eligible = randomized (a trial number in the log);
    randomized in the log = the patients of this file, the same trial numbers."""
    if ctx.screening is None:
        return
    in_log = {s["patient_id"] for s in ctx.screening.values() if s["patient_id"] is not None}
    in_file = {r["patient_id"] for r in records}
    missing = sorted(in_log - in_file)
    if missing or len(in_log) != len(records):
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing)} in all)" if len(missing) > 10 else "")
        yield None, "patient_id", (f"CONSORT counts do not add up: the screening log randomized {len(in_log)} "
                                   f"patients, this file has {len(records)}"
                                   + (f"; missing from this file: {shown} (a file cut short?)" if missing else ""))


# ------------------------------------------------------------------------------ screening log

def _patient_id_iff_eligible(r: Record, ctx: RuleContext):
    if r["eligible"] == 1 and r["patient_id"] is None:
        yield "patient_id", "empty although eligible = 1"
    if r["eligible"] == 0 and r["patient_id"] is not None:
        yield "patient_id", "given although eligible = 0 (not randomized)"


def _failed_criteria_iff_not_eligible(r: Record, ctx: RuleContext):
    if (r["eligible"] == 1) == (r["failed_criteria"] is not None):
        yield "failed_criteria", "must be empty exactly when eligible = 1"


def _eligibility_matches_criteria(r: Record, ctx: RuleContext):
    from .eligibility import record_from_row, screen
    from .errors import PatientRecordError

    try:
        res = screen(record_from_row(r))
    except PatientRecordError as exc:
        yield "eligible", f"the criteria cannot be evaluated: {exc}"
        return
    if r["eligible"] != int(res.eligible):
        yield "eligible", (f"{r['eligible']} contradicts the criteria (screen() finds "
                           + ("eligible" if res.eligible else "not eligible: " + ";".join(res.failed)) + ")")
    elif r["failed_criteria"] is not None and r["failed_criteria"] != ";".join(res.failed):
        yield "failed_criteria", (f"{r['failed_criteria']!r} contradicts the criteria (screen() finds "
                                  f"{';'.join(res.failed)!r})")


# ------------------------------------------------------------------------------ QoL file

def _trial_index(ctx: RuleContext) -> dict[str, Record] | None:
    if ctx.trial is None:
        return None
    return {t["patient_id"]: t for t in ctx.trial}


def _visit_within_follow_up(records: Sequence[Record], ctx: RuleContext) -> Iterator[Violation]:
    trial = _trial_index(ctx)
    if trial is None:
        return
    for i, r in enumerate(records):
        t = trial.get(r["patient_id"])
        if t is None or r["visit_month"] <= t["os_months"] + _EPS:
            continue
        if t["death"] == 1:
            yield i, "visit_month", (f"visit at month {r['visit_month']:g} after the death of {r['patient_id']} "
                                     f"(month {t['os_months']:g})")
        else:
            yield i, "visit_month", (f"visit at month {r['visit_month']:g} after the end of follow-up of "
                                     f"{r['patient_id']} (os_months = {t['os_months']:g})")


RULES: tuple[Rule, ...] = (
    Rule("entry_before_cutoff", "trial_*.csv", ("entry_month",),
         "randomization (entry_month) is at or before the data cut-off", _per_row(_entry_after_cutoff)),
    Rule("follow_up_within_cutoff", "trial_*.csv", ("entry_month", "os_months"),
         "follow-up ends at or before the data cut-off: entry_month + os_months <= cut-off",
         _per_row(_follow_up_beyond_cutoff)),
    Rule("death_xor_lost", "trial_*.csv", ("death", "lost_to_follow_up"),
         "a patient who died is not also lost to follow-up", _per_row(_death_and_lost)),
    Rule("censored_at_cutoff", "trial_*.csv", ("entry_month", "os_months", "death", "lost_to_follow_up"),
         "a patient neither dead nor lost is followed to the cut-off (entry_month + os_months = cut-off, "
         "within 0.01 month of rounding)", _per_row(_censored_early)),
    Rule("lost_before_cutoff", "trial_*.csv", ("entry_month", "os_months", "lost_to_follow_up"),
         "a patient lost to follow-up was lost before the cut-off (entry_month + os_months < cut-off - 0.01)",
         _per_row(_lost_at_cutoff)),
    Rule("surgery_fields_iff_operated", "trial_*.csv", ("operated",) + _SURGERY_FIELDS,
         "surgery_month, surgery_reason, surgery_type and margin_status are given exactly when operated = 1",
         _per_row(_surgery_fields)),
    Rule("surgery_within_follow_up", "trial_*.csv", ("surgery_month", "os_months"),
         "surgery happens before the end of follow-up: surgery_month <= os_months", _per_row(_surgery_after_follow_up)),
    Rule("surgery_reason_matches_arm", "trial_*.csv", ("arm", "surgery_reason"),
         "arm A surgery is 'protocol'; arm B surgery is 'local_progression' or 'patient_request'",
         _per_row(_reason_matches_arm)),
    Rule("not_operated_reason_arm_a", "trial_*.csv", ("arm", "operated", "not_operated_reason"),
         "not_operated_reason is given exactly for arm A patients with operated = 0", _per_row(_not_operated_reason)),
    Rule("not_operated_died_is_dead", "trial_*.csv", ("not_operated_reason", "death"),
         "not_operated_reason 'died' only for a patient with death = 1", _per_row(_not_operated_died_alive)),
    Rule("per_protocol_matches_treatment", "trial_*.csv", ("arm", "operated", "surgery_reason", "per_protocol"),
         "per_protocol = 1 exactly when arm A was operated, or arm B was not operated or operated only for "
         "local progression", _per_row(_per_protocol)),
    Rule("unplanned_therapy_month_iff_therapies", "trial_*.csv",
         ("unplanned_local_therapies", "unplanned_local_therapy_month"),
         "unplanned_local_therapy_month is given exactly when unplanned_local_therapies >= 1",
         _per_row(_unplanned_month)),
    Rule("unplanned_therapy_within_follow_up", "trial_*.csv", ("unplanned_local_therapy_month", "os_months", "death"),
         "the first unplanned local therapy is at or before the end of follow-up (never after death): "
         "unplanned_local_therapy_month <= os_months",
         _per_row(_dated_within_follow_up("unplanned_local_therapy_month", "first unplanned local therapy"))),
    Rule("arm_b_surgery_is_unplanned_therapy", "trial_*.csv",
         ("arm", "operated", "surgery_month", "unplanned_local_therapy_month"),
         "an arm B operation is an unplanned local therapy: the first one is at or before surgery_month",
         _per_row(_arm_b_surgery_is_unplanned)),
    Rule("locoregional_progression_within_follow_up", "trial_*.csv",
         ("locoregional_progression_month", "os_months", "death"),
         "locoregional progression is diagnosed at or before the end of follow-up (never after death): "
         "locoregional_progression_month <= os_months",
         _per_row(_dated_within_follow_up("locoregional_progression_month", "locoregional progression"))),
    Rule("local_progression_surgery_after_progression", "trial_*.csv",
         ("surgery_reason", "surgery_month", "locoregional_progression_month"),
         "surgery for local progression comes at or after the diagnosis of locoregional progression",
         _per_row(_progression_before_surgery)),
    Rule("trial_numbers_in_randomization_order", "trial_*.csv", ("patient_id", "entry_month"),
         "trial numbers are given in order of randomization: a higher number never has an earlier entry_month",
         _randomization_order),
    Rule("screened_before_randomization", "trial_*.csv", ("screening_id", "patient_id"),
         "every patient's screening_id is in the screening log, which gives it this patient_id (checked when the "
         "screening log is given)", _per_row(_screened)),
    Rule("same_patient_as_screening", "trial_*.csv", _SAME_AS_SCREENING + ("age", "entry_month"),
         "the minimization factors equal the screening log's, age is the screening age or one more, and "
         "randomization is not before referral (checked when the screening log is given)",
         _per_row(_same_as_screening)),
    Rule("consort_counts_add_up", "trial_*.csv", ("patient_id",),
         "the patients randomized in the screening log (with a trial number) are exactly the patients of the file "
         "(checked when the screening log is given)", _consort_counts),
    Rule("patient_id_iff_eligible", "screening_log.csv", ("eligible", "patient_id"),
         "a trial number is given exactly to eligible (randomized) patients", _per_row(_patient_id_iff_eligible)),
    Rule("failed_criteria_iff_not_eligible", "screening_log.csv", ("eligible", "failed_criteria"),
         "failed_criteria is empty exactly when eligible = 1", _per_row(_failed_criteria_iff_not_eligible)),
    Rule("eligibility_matches_criteria", "screening_log.csv",
         ("eligible", "failed_criteria") + tuple(f.name for f in SCREENING_FIELDS),
         "eligible and failed_criteria equal what trialnb.eligibility.screen finds from the screening fields",
         _per_row(_eligibility_matches_criteria)),
    Rule("qol_visit_within_follow_up", "qol_*.csv", ("patient_id", "visit_month"),
         "a QoL visit is at or before the patient's end of follow-up (never after death); checked when the "
         "trial records are given", _visit_within_follow_up),
)


def rules_for(file: str) -> tuple[Rule, ...]:
    """The rules of one file pattern (``"trial_*.csv"``, ``"screening_log.csv"``, ``"qol_*.csv"``)."""
    return tuple(r for r in RULES if r.file == file)


def rules_table() -> pd.DataFrame:
    """Every cross-field rule as a table: file, rule, columns, requirement."""
    return pd.DataFrame([{"file": r.file, "rule": r.name, "columns": ", ".join(r.columns),
                          "requirement": r.description} for r in RULES],
                        columns=["file", "rule", "columns", "requirement"])
