"""trialnb.data: the CRF schema, strict loading (one error listing every problem), shipped files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialnb.data import (DATA_CUTOFF_MONTH, QOL_SCHEMA, SCREENING_SCHEMA, TRIAL_SCHEMA, Problem,
                          data_dictionary, load_qol, load_trial)
from trialnb.errors import TrialDataError

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHIPPED = DATA / "trial_protocol.csv"


def _rows() -> tuple[list[str], list[dict[str, str]]]:
    with SHIPPED.open(newline="") as fh:
        r = csv.DictReader(fh)
        return list(r.fieldnames or []), [dict(x) for x in r]


def _write(tmp_path: Path, header: list[str], rows: list[dict[str, str]], name: str = "t.csv") -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in header})
    p = tmp_path / name
    p.write_text(buf.getvalue())
    return p


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(TrialDataError) as ei:
        load_trial(path)
    assert isinstance(ei.value, ValueError)
    return ei.value.problems


def _find(rows: list[dict[str, str]], **cond: str) -> int:
    """0-based index of the first row matching every condition."""
    return next(i for i, r in enumerate(rows) if all(r[k] == v for k, v in cond.items()))


# ---------------------------------------------------------------- shipped data

def test_shipped_trial_loads_and_matches_schema() -> None:
    df = load_trial(SHIPPED)
    assert list(df.columns) == [c.name for c in TRIAL_SCHEMA]
    assert len(df) == 236
    assert df.index[0] == 1  # 1-based data rows
    assert set(df["arm"]) == {"A", "B"}
    assert df["death"].isin([0, 1]).all()
    assert ((df["entry_month"] + df["os_months"]) <= DATA_CUTOFF_MONTH + 1e-9).all()


def test_shipped_files_equal_regenerated_byte_for_byte(tmp_path: Path) -> None:
    from trialnb.simulation import build_data

    paths = build_data(tmp_path)
    names = sorted(p.name for p in paths)
    assert names == sorted(p.name for p in DATA.iterdir() if p.is_file())
    for p in paths:
        assert p.read_bytes() == (DATA / p.name).read_bytes(), f"{p.name} differs from the regenerated file"


def test_cli_build_data_writes_the_same_files(tmp_path: Path) -> None:
    from trialnb.cli import main

    assert main(["build-data", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "trial_null.csv").read_bytes() == (DATA / "trial_null.csv").read_bytes()


def test_data_dictionary_covers_every_shipped_column() -> None:
    dd = data_dictionary()
    assert list(dd.columns) == ["file", "column", "type", "unit", "allowed", "meaning"]
    assert dd["meaning"].str.len().min() > 5
    for fname, schema in (("trial_*.csv", TRIAL_SCHEMA), ("screening_log.csv", SCREENING_SCHEMA),
                          ("qol_*.csv", QOL_SCHEMA)):
        assert dd.loc[dd["file"] == fname, "column"].tolist() == [c.name for c in schema]
    shipped = pd.read_csv(DATA / "data_dictionary.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(shipped, dd)
    assert dd.loc[dd["column"] == "arm", "allowed"].tolist() == ["A, B"]


def test_shipped_qol_loads_and_links_to_trial() -> None:
    df = load_trial(SHIPPED)
    q = load_qol(DATA / "qol_protocol.csv", set(df["patient_id"]))
    assert len(q) > len(df)
    assert q["qol_score"].between(0, 100).all()


def test_readme_says_synthetic_and_seed() -> None:
    text = (DATA / "README.md").read_text()
    from trialnb.simulation import SHIPPED_SEED

    assert "synthetic" in text.lower() and str(SHIPPED_SEED) in text and "trialnb build-data" in text


# ---------------------------------------------------------------- malformed files, one kind each

def test_missing_column(tmp_path: Path) -> None:
    header, rows = _rows()
    header.remove("death")
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(1, "death", "missing column", "header")]


def test_unknown_column(tmp_path: Path) -> None:
    header, rows = _rows()
    probs = _problems(_write(tmp_path, header + ["favourite_colour"], rows))
    assert len(probs) == 1 and probs[0].row == 1 and probs[0].column == "favourite_colour"
    assert probs[0].message.startswith("unknown column")


def test_unknown_arm_level(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[4]["arm"] = "C"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(6, "arm", "unknown level 'C'; allowed: A, B", "level")]  # line 6: header + 5th row


def test_unknown_factor_level_including_case(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[0]["dominant_site"] = "liver"
    rows[1]["her2"] = "Positive"  # never case-folded silently
    probs = _problems(_write(tmp_path, header, rows))
    assert [(p.row, p.column) for p in probs] == [(2, "dominant_site"), (3, "her2")]
    assert "allowed: bone, soft_tissue, visceral" in probs[0].message


def test_negative_time(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[9]["os_months"] = "-3.20"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(11, "os_months", "'-3.20' is negative; allowed: number in [0, inf]", "range")]


def test_non_numeric_time(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[2]["os_months"] = "12,5"
    rows[3]["entry_month"] = "NaN"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs[0] == Problem(4, "os_months", "'12,5' is not a number (found the character ',' (U+002C COMMA) "
                               "at position 3); allowed: number in [0, inf], written with ASCII digits, '-' and '.'",
                               "number")
    assert probs[1].row == 5 and probs[1].column == "entry_month" and "'NaN' is not a number" in probs[1].message


def test_event_not_zero_one(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, death="0", lost_to_follow_up="0")
    rows[i]["death"] = "2"
    j = _find(rows, death="1")
    rows[j]["death"] = "yes"
    probs = _problems(_write(tmp_path, header, rows))
    assert sorted(probs) == sorted([Problem(i + 2, "death", "'2' is not 0/1; allowed: 0, 1", "binary"),
                                    Problem(j + 2, "death", "'yes' is not 0/1; allowed: 0, 1", "binary")])


def test_duplicate_patient_id(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[7]["patient_id"] = rows[2]["patient_id"]
    pid = rows[2]["patient_id"]
    probs = _problems(_write(tmp_path, header, rows))
    # reported once, at the repeat, naming the line of the first occurrence (linear time)
    assert Problem(9, "patient_id", f"duplicate id {pid!r}: already at line 4", "duplicate_id") in probs
    assert [p for p in probs if p.rule == "duplicate_id"] == [probs[0]]


def test_entry_after_data_cutoff(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, operated="0", death="1")
    rows[i]["entry_month"] = "61.00"
    rows[i]["os_months"] = "0.50"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs[0] == Problem(i + 2, "entry_month", "randomized at month 61, after the data cut-off (month 60)",
                               "entry_before_cutoff")
    # the next trial number now looks randomized before this one: named by its own rule
    assert [p.rule for p in probs[1:]] == ["trial_numbers_in_randomization_order"]


def test_follow_up_beyond_cutoff(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, death="0", lost_to_follow_up="0")
    rows[i]["os_months"] = f"{float(rows[i]['os_months']) + 1:.2f}"
    probs = _problems(_write(tmp_path, header, rows))
    assert len(probs) == 1 and probs[0][:2] == (i + 2, "os_months")
    assert "after the data cut-off (month 60)" in probs[0].message and probs[0].rule == "follow_up_within_cutoff"


def test_custom_cutoff_is_used(tmp_path: Path) -> None:
    header, rows = _rows()
    p = _write(tmp_path, header, rows)
    with pytest.raises(TrialDataError) as ei:
        load_trial(p, cutoff_month=48.0)
    assert ei.value.problems and all("cut-off (month 48)" in q.message for q in ei.value.problems)
    with pytest.raises(ValueError, match="cutoff_month must be a positive number"):
        load_trial(p, cutoff_month=-1)


def test_empty_required_value(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[0]["age"] = ""
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(2, "age", "empty value; allowed: whole number in [18, 100]", "required")]


def test_non_integer_and_out_of_range_age(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[0]["age"] = "45.5"
    rows[1]["age"] = "12"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(2, "age", "'45.5' is not a whole number; allowed: whole number in [18, 100]",
                             "whole_number"),
                     Problem(3, "age", "'12' is below the minimum; allowed: whole number in [18, 100]", "range")]


def test_operated_without_surgery_fields(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, arm="A", operated="1")
    rows[i]["surgery_month"] = ""
    rows[i]["margin_status"] = ""
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(i + 2, "surgery_month", "empty although operated = 1", "surgery_fields_iff_operated"),
                     Problem(i + 2, "margin_status", "empty although operated = 1", "surgery_fields_iff_operated")]


def test_surgery_after_end_of_follow_up(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, operated="1", death="1")
    rows[i]["surgery_month"] = f"{float(rows[i]['os_months']) + 2:.2f}"
    probs = _problems(_write(tmp_path, header, rows))
    assert len(probs) == 1 and probs[0][:2] == (i + 2, "surgery_month")
    assert "after the end of follow-up" in probs[0].message


def test_death_and_lost_together(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, death="1")
    rows[i]["lost_to_follow_up"] = "1"
    probs = _problems(_write(tmp_path, header, rows))
    assert Problem(i + 2, "lost_to_follow_up", "a patient who died (death = 1) cannot also be lost to follow-up",
                   "death_xor_lost") in probs


def test_surgery_fields_when_not_operated(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, arm="B", operated="0")
    rows[i]["margin_status"] = "free"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(i + 2, "margin_status", "'free' given although operated = 0 (must be empty)",
                             "surgery_fields_iff_operated")]


def test_per_protocol_flag_contradiction(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, arm="A", operated="1")
    rows[i]["per_protocol"] = "0"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(i + 2, "per_protocol", "0 contradicts arm A with operated = 1 (expected 1)",
                             "per_protocol_matches_treatment")]


def test_arm_reason_mismatch(tmp_path: Path) -> None:
    header, rows = _rows()
    i = _find(rows, arm="B", surgery_reason="local_progression")
    rows[i]["surgery_reason"] = "protocol"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(i + 2, "surgery_reason",
                             "'protocol' surgery is arm A only; arm B: local_progression or patient_request",
                             "surgery_reason_matches_arm")]


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("")
    assert _problems(p) == [Problem(None, "*", "the file is empty (no header line)", "empty_file")]
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_trial(tmp_path / "nope.csv")


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[0]["arm"] = "X"
    rows[10]["os_months"] = "-1"
    rows[20]["death"] = "3"
    rows[30]["her2"] = ""
    with pytest.raises(TrialDataError) as ei:
        load_trial(_write(tmp_path, header, rows))
    err = ei.value
    assert [(p.row, p.column) for p in err.problems] == [(2, "arm"), (12, "os_months"), (22, "death"), (32, "her2")]
    msg = str(err)
    assert "4 problem(s)" in msg and "line 12, column 'os_months' [range]" in msg


def test_nothing_is_coerced_whitespace_is_an_error(tmp_path: Path) -> None:
    header, rows = _rows()
    rows[3]["arm"] = " A"
    probs = _problems(_write(tmp_path, header, rows))
    assert probs == [Problem(5, "arm", "unknown level ' A'; allowed: A, B", "level")]


@settings(max_examples=25, deadline=None)
@given(row=st.integers(0, 235), col=st.sampled_from(["death", "operated", "axillary_dissection", "per_protocol",
                                                    "lost_to_follow_up"]),
       value=st.sampled_from(["2", "-1", "0.5", "x", "true"]))
def test_property_a_bad_binary_cell_is_reported_at_its_row_and_column(tmp_path_factory, row, col, value) -> None:
    header, rows = _rows()
    rows[row][col] = value
    p = _write(tmp_path_factory.mktemp("h"), header, rows)
    with pytest.raises(TrialDataError) as ei:
        load_trial(p)
    # the bad cell itself is reported; cross-field rules are not evaluated on an unparsable cell
    assert Problem(row + 2, col, f"{value!r} is not 0/1; allowed: 0, 1", "binary") in ei.value.problems


def test_qol_problems(tmp_path: Path) -> None:
    p = tmp_path / "q.csv"
    p.write_text("patient_id,visit_month,qol_score\nP001,0,50.0\nP001,0,58.3\nP999,5,101\n")
    with pytest.raises(TrialDataError) as ei:
        load_qol(p, {"P001", "P002"})
    got = [(q.row, q.column) for q in ei.value.problems]
    assert (3, "visit_month") in got and (4, "patient_id") in got and (4, "qol_score") in got
    assert (4, "visit_month") in got  # 5 months is not a scheduled visit


def test_shipped_screening_log_loads_and_matches_trial(tmp_path: Path) -> None:
    from trialnb.data import load_screening

    scr = load_screening(DATA / "screening_log.csv")
    df = load_trial(SHIPPED)
    assert scr["eligible"].sum() == len(df)
    assert set(scr["patient_id"].dropna()) == set(df["patient_id"])
    text = (DATA / "screening_log.csv").read_text().splitlines()
    i = next(k for k, line in enumerate(text) if line.endswith(",0,I8,"))  # a non-consenting patient
    text[i] = text[i][: -len(",0,I8,")] + ",0,I8,P999"
    p = tmp_path / "s.csv"
    p.write_text("\n".join(text) + "\n")
    with pytest.raises(TrialDataError) as ei:
        load_screening(p)
    assert ei.value.problems == [Problem(i + 1, "patient_id", "given although eligible = 0 (not randomized)",
                                         "patient_id_iff_eligible")]
