"""trialnb.data loaders against every failure of issue 12 section 2 (one parametrized table),
a hypothesis fuzz test of the loaders, and linear time / bounded messages for huge files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialnb.data import MESSAGE_LIMIT, load_qol, load_screening, load_trial
from trialnb.errors import TrialDataError
from trialnb.data_rules import RULES, rules_table
from trialnb.eligibility import example_patient, screen
from trialnb.errors import PatientRecordError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
TRIAL = (DATA / "trial_protocol.csv").read_text(encoding="utf-8")
QOL = (DATA / "qol_protocol.csv").read_text(encoding="utf-8")
SCREENING = (DATA / "screening_log.csv").read_text(encoding="utf-8")
HEADER = TRIAL.splitlines()[0].split(",")


def _set(text: str, pid: str, **cells: str) -> str:
    """The trial text with the cells of patient ``pid`` replaced."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        f = line.split(",")
        if f[0] == pid:
            for k, v in cells.items():
                f[HEADER.index(k)] = v
            lines[i] = ",".join(f)
            return "\n".join(lines)
    raise KeyError(pid)


def _line_of(text: str, pid: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), start=1) if line.split(",")[0] == pid)


def _screening_set(sid: str, **cells: str) -> str:
    lines = SCREENING.split("\n")
    head = lines[0].split(",")
    for i, line in enumerate(lines):
        f = line.split(",")
        if f[0] == sid:
            for k, v in cells.items():
                f[head.index(k)] = v
            lines[i] = ",".join(f)
    return "\n".join(lines)


# (case id, loader, file content (str: written as UTF-8; bytes: as is), expected line, column, rule,
#  a phrase the message must contain)
CASES: list[tuple[str, str, Callable[[], str | bytes], int | None, str, str, str]] = [
    ("nul_inside_number", "trial", lambda: _set(TRIAL, "P002", os_months="5\x009.21"),
     3, "os_months", "number", "NUL character"),
    ("underscore_in_number", "trial", lambda: _set(TRIAL, "P002", age="5_8"),
     3, "age", "number", "underscore"),
    ("full_width_digits", "trial", lambda: _set(TRIAL, "P002", age="\uff15\uff18"),
     3, "age", "number", "FULLWIDTH DIGIT FIVE"),
    ("arabic_indic_digits", "trial", lambda: _set(TRIAL, "P002", age="\u0665\u0668"),
     3, "age", "number", "ARABIC-INDIC DIGIT FIVE"),
    ("nan_text", "trial", lambda: _set(TRIAL, "P002", os_months="NaN"), 3, "os_months", "number", "'N'"),
    ("infinity_text", "trial", lambda: _set(TRIAL, "P002", os_months="inf"), 3, "os_months", "number", "'i'"),
    ("whitespace_only_id", "trial", lambda: _set(TRIAL, "P002", patient_id=" "),
     3, "patient_id", "id", "blank (only whitespace)"),
    ("id_with_trailing_space", "trial", lambda: _set(TRIAL, "P003", patient_id="P003 "),
     4, "patient_id", "id", "surrounding whitespace"),
    ("same_id_with_trailing_space_is_duplicate", "trial", lambda: _set(TRIAL, "P003", patient_id="P002 "),
     4, "patient_id", "duplicate_id", "written 'P002 '; ids are compared without surrounding whitespace"),
    ("latin1_file", "trial", lambda: _set(TRIAL, "P002", her2="n\u00e9gative").encode("latin-1"),
     3, "*", "encoding", "byte 0xe9 at byte offset"),
    ("utf16_file", "trial", lambda: TRIAL.encode("utf-16"), 1, "*", "encoding", "UTF-16"),
    ("utf16_without_bom", "trial", lambda: TRIAL.encode("utf-16-le"), 1, "*", "encoding", "NUL byte"),
    ("binary_file", "trial", lambda: bytes(range(256)) * 4, 3, "*", "encoding", "not UTF-8"),
    ("duplicated_column_name", "trial", lambda: TRIAL.replace(",ecog,", ",age,", 1),
     1, "age", "duplicate_column", "appears 2 times"),
    ("semicolon_delimiter", "trial", lambda: TRIAL.replace(",", ";"), 1, "*", "delimiter", "';'-separated"),
    ("tab_delimiter", "trial", lambda: TRIAL.replace(",", "\t"), 1, "*", "delimiter", "tab-separated"),
    ("header_without_rows", "trial", lambda: TRIAL.split("\n", 1)[0] + "\n", None, "*", "no_rows", "no data rows"),
    ("blank_lines_are_counted", "trial",
     lambda: _set(TRIAL, "P005", arm="C").replace("\nP001,", "\n\n\nP001,", 1), 8, "arm", "level", "'C'"),
    ("missing_field", "trial", lambda: _set(TRIAL, "P004", per_protocol="").replace(",\nP005", "\nP005"),
     5, "*", "field_count", f"{len(HEADER) - 1} fields, the header has {len(HEADER)}"),
    ("unplanned_month_missing", "trial", lambda: _set(TRIAL, "P014", unplanned_local_therapy_month=""),
     _line_of(TRIAL, "P014"), "unplanned_local_therapy_month", "unplanned_therapy_month_iff_therapies",
     "empty although unplanned_local_therapies = 1"),
    ("unplanned_month_without_therapy", "trial", lambda: _set(TRIAL, "P001", unplanned_local_therapy_month="3.00"),
     2, "unplanned_local_therapy_month", "unplanned_therapy_month_iff_therapies", "must be empty"),
    ("unplanned_therapy_after_loss", "trial", lambda: _set(TRIAL, "P014", unplanned_local_therapy_month="3.90"),
     _line_of(TRIAL, "P014"), "unplanned_local_therapy_month", "unplanned_therapy_within_follow_up",
     "after the end of follow-up (os_months = 3.88)"),
    ("progression_after_death", "trial", lambda: _set(TRIAL, "P050", locoregional_progression_month="27.00"),
     _line_of(TRIAL, "P050"), "locoregional_progression_month", "locoregional_progression_within_follow_up",
     "after death (os_months = 26.53)"),
    ("arm_b_surgery_before_first_therapy", "trial", lambda: _set(TRIAL, "P018", unplanned_local_therapy_month="27.00"),
     _line_of(TRIAL, "P018"), "unplanned_local_therapy_month", "arm_b_surgery_is_unplanned_therapy",
     "surgery at month 26.03 is an unplanned local therapy"),
    ("local_progression_surgery_without_progression", "trial",
     lambda: _set(TRIAL, "P018", locoregional_progression_month=""),
     _line_of(TRIAL, "P018"), "locoregional_progression_month", "local_progression_surgery_after_progression",
     "was for local progression"),
    ("censored_before_cutoff", "trial", lambda: _set(TRIAL, "P001", os_months="30.00"),
     2, "os_months", "censored_at_cutoff", "neither death = 1 nor lost_to_follow_up = 1"),
    ("lost_yet_followed_to_cutoff", "trial", lambda: _set(TRIAL, "P001", lost_to_follow_up="1"),
     2, "lost_to_follow_up", "lost_before_cutoff", "followed to month 60"),
    ("not_operated_died_but_alive", "trial", lambda: _set(TRIAL, "P003", death="0", os_months="59.04"),
     4, "not_operated_reason", "not_operated_died_is_dead", "'died' although death = 0"),
    ("trial_numbers_out_of_order", "trial", lambda: _set(TRIAL, "P002", entry_month="0.70"),
     3, "entry_month", "trial_numbers_in_randomization_order", "before P001"),
    ("id_a_spreadsheet_would_run", "trial", lambda: _set(TRIAL, "P002", patient_id="=1+1"),
     3, "patient_id", "id_pattern", "not an id of this trial; allowed: 1 to 64 ASCII letters"),
    ("screening_id_not_in_the_log", "study", lambda: _set(TRIAL, "P002", screening_id="S9999"),
     3, "screening_id", "screened_before_randomization", "'S9999' is not in the screening log"),
    ("factor_differs_from_screening", "study", lambda: _set(TRIAL, "P001", her2="negative"),
     2, "her2", "same_patient_as_screening", "differs from the screening log's 'positive'"),
    ("trial_file_cut_at_a_row_boundary", "study", lambda: "\n".join(TRIAL.split("\n")[:201]) + "\n",
     None, "patient_id", "consort_counts_add_up", "randomized 236 patients, this file has 200; missing from "
     "this file: P201"),
    ("qol_visit_after_death", "qol", lambda: QOL.replace("\nP003,0,", "\nP003,12,", 1),
     None, "visit_month", "qol_visit_within_follow_up", "after the death of P003"),
    ("screening_flag_contradicts_criteria", "screening", lambda: _screening_set("S0001", eligible="1",
                                                                               failed_criteria="", patient_id="P999"),
     2, "eligible", "eligibility_matches_criteria", "contradicts the criteria"),
    ("screening_failed_criteria_wrong", "screening", lambda: _screening_set("S0002", failed_criteria="E4"),
     3, "failed_criteria", "eligibility_matches_criteria", "screen() finds 'E3'"),
]


def _load(kind: str, path: Path) -> pd.DataFrame:
    if kind == "trial":
        return load_trial(path)
    if kind == "study":  # the trial file with the shipped screening log: the cross-file rules run
        return load_trial(path, screening=DATA / "screening_log.csv")
    if kind == "qol":
        return load_qol(path, trial=load_trial(DATA / "trial_protocol.csv"))
    return load_screening(path)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_every_listed_case_raises_naming_file_line_column_and_rule(tmp_path: Path, case) -> None:
    name, kind, make, line, column, rule, phrase = case
    content = make()
    path = tmp_path / f"{name}.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    with pytest.raises(TrialDataError) as ei:
        _load(kind, path)
    err = ei.value
    hits = [p for p in err.problems if p.rule == rule and p.column == column and phrase in p.message]
    assert hits, f"no {rule!r} problem in column {column!r} containing {phrase!r}: {err.problems[:5]}"
    if line is not None:
        assert hits[0].row == line
    assert str(path) in str(err) and f"[{rule}]" in str(err)


def test_qol_visit_after_death_names_the_line(tmp_path: Path) -> None:
    text = QOL.replace("\nP003,0,", "\nP003,12,", 1)
    line = next(i for i, ln in enumerate(text.split("\n"), start=1) if ln.startswith("P003,12,"))
    p = tmp_path / "q.csv"
    p.write_text(text)
    with pytest.raises(TrialDataError) as ei:
        load_qol(p, trial=load_trial(DATA / "trial_protocol.csv"))
    assert [(q.row, q.rule) for q in ei.value.problems] == [(line, "qol_visit_within_follow_up")]


def test_one_delimiter_problem_instead_of_one_per_column(tmp_path: Path) -> None:
    p = tmp_path / "semi.csv"
    p.write_text(TRIAL.replace(",", ";"))
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    assert len(ei.value.problems) == 1


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + TRIAL.encode("utf-8"))
    assert len(load_trial(p)) == 236


def test_windows_line_endings_and_blank_lines_load(tmp_path: Path) -> None:
    p = tmp_path / "crlf.csv"
    p.write_bytes(TRIAL.replace("\n", "\r\n\r\n").encode("utf-8"))
    assert len(load_trial(p)) == 236


def test_latin1_error_gives_the_byte_offset(tmp_path: Path) -> None:
    text = _set(TRIAL, "P002", her2="n\u00e9gative")
    raw = text.encode("latin-1")
    p = tmp_path / "l1.csv"
    p.write_bytes(raw)
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    assert f"byte offset {raw.index(0xE9)}" in ei.value.problems[0].message


# ---------------------------------------------------------------- rules are data, documented once

def test_rules_are_listed_in_the_shipped_readme_and_csv() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"`{r.name}`" in readme, f"rule {r.name} not listed in data/README.md"
    shipped = pd.read_csv(DATA / "cross_field_rules.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(shipped, rules_table())
    assert len({r.name for r in RULES}) == len(RULES)


def test_every_rule_is_exercised_by_a_case() -> None:
    covered = {c[5] for c in CASES} | {"entry_before_cutoff", "follow_up_within_cutoff", "death_xor_lost",
                                       "surgery_fields_iff_operated", "surgery_within_follow_up",
                                       "surgery_reason_matches_arm", "per_protocol_matches_treatment",
                                       "not_operated_reason_arm_a", "patient_id_iff_eligible",
                                       "failed_criteria_iff_not_eligible"}  # the last ones: tests/test_data.py
    assert {r.name for r in RULES} <= covered


# ---------------------------------------------------------------- screen() bounds

@pytest.mark.parametrize("age", [float("inf"), float("-inf"), 250, -1, 121])
def test_screen_rejects_impossible_ages(age) -> None:
    with pytest.raises(PatientRecordError, match=r"age: .* outside the allowed range; allowed: a number in \[0, 120\]"):
        screen(example_patient(age=age))


def test_screen_rejects_infinite_anticipated_survival() -> None:
    with pytest.raises(PatientRecordError, match="anticipated_survival_months"):
        screen(example_patient(anticipated_survival_months=float("inf")))


def test_screen_bounds_match_the_screening_data_dictionary() -> None:
    from trialnb.data import SCREENING_SCHEMA
    from trialnb.eligibility import SCREENING_FIELDS

    cols = {c.name: c for c in SCREENING_SCHEMA}
    for f in SCREENING_FIELDS:
        if f.kind == "number":
            assert (f.minimum, f.maximum) == (cols[f.name].minimum, cols[f.name].maximum), f.name


# ---------------------------------------------------------------- linear time, bounded message

@pytest.mark.parametrize("n", [8_000, 16_000])
def test_many_identical_ids_finish_with_a_bounded_message(tmp_path: Path, n: int) -> None:
    row = TRIAL.split("\n")[1]
    p = tmp_path / "dups.csv"
    p.write_text(TRIAL.split("\n")[0] + "\n" + (row + "\n") * n)
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    err = ei.value
    dups = [q for q in err.problems if q.rule == "duplicate_id" and q.column == "patient_id"]
    assert len(dups) == n - 1  # every repeat is kept in .problems
    assert dups[0].row == 3 and "already at line 2" in dups[0].message
    msg = str(err)
    assert len(msg.encode()) < 10_000
    assert f"... and {len(err.problems) - MESSAGE_LIMIT} more" in msg


def test_a_huge_cell_does_not_make_a_huge_message(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    p.write_text(_set(TRIAL, "P002", arm="X" * 1_000_000))
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    assert len(str(ei.value)) < 2_000


# ---------------------------------------------------------------- fuzz

SMALL = "\n".join(TRIAL.split("\n")[:31]) + "\n"  # header + 30 patients
SMALL_QOL = "\n".join(QOL.split("\n")[:41]) + "\n"
SMALL_SCREENING = "\n".join(SCREENING.split("\n")[:41]) + "\n"


def _write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _data_rows(raw: bytes) -> int:
    """Non-blank physical lines after the header (\\r\\n, \\r and \\n end a line, as in csv)."""
    text = raw.decode("utf-8-sig")
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text) if ln != ""]
    return len(lines) - 1


_mutation = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 10**6), st.binary(min_size=1, max_size=3)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(
        [b",", b"\n", b"\r", b"\"", b" ", b"\x00", b"_", b"-", b"1", b".", b";", b"\xff", b"\xef\xbc\x95",
         b"\xd9\xa5", b"A", b"\t", b"\n\n", b"e"])),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 5)),
    st.tuples(st.just("dupline"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("swaplines"), st.integers(0, 10**6), st.integers(1, 30)),
)


def _mutate(raw: bytes, muts) -> bytes:
    for kind, pos, arg in muts:
        if kind in ("dupline", "swaplines"):
            lines = raw.split(b"\n")
            i = pos % len(lines)
            if kind == "dupline":
                lines.insert(i, lines[i])
            else:
                j = (i + arg) % len(lines)
                lines[i], lines[j] = lines[j], lines[i]
            raw = b"\n".join(lines)
            continue
        i = pos % (len(raw) + 1)
        if kind == "replace":
            raw = raw[:i] + arg + raw[i + len(arg):]
        elif kind == "insert":
            raw = raw[:i] + arg + raw[i:]
        else:
            raw = raw[:i] + raw[i + arg:]
    return raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(muts=st.lists(_mutation, min_size=1, max_size=4), which=st.sampled_from(["trial", "qol", "screening"]))
def test_fuzz_loader_returns_every_row_or_raises_trial_data_error(tmp_path: Path, muts, which) -> None:
    base, load = {"trial": (SMALL, load_trial), "qol": (SMALL_QOL, load_qol),
                  "screening": (SMALL_SCREENING, load_screening)}[which]
    assert len(load(_write_text(tmp_path / "base.csv", base))) == base.count("\n") - 1
    raw = _mutate(base.encode("utf-8"), muts)
    p = tmp_path / "fuzz.csv"
    p.write_bytes(raw)
    try:
        df = load(p)
    except TrialDataError as exc:
        assert exc.problems and len(str(exc)) < 20_000
        return
    assert len(df) == _data_rows(raw), "a row was dropped or invented silently"


def test_header_after_blank_lines_is_named_at_its_own_line(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("\n\n" + TRIAL.replace("per_protocol", "per_protocl", 1))
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    assert {(q.row, q.column, q.rule) for q in ei.value.problems} == {
        (3, "per_protocol", "header"), (3, "per_protocl", "header")}
