"""Data loading, issue 24: the shipped files' manifest (written by build_data, checked by the
loaders and `trialnb verify-data`), cross-file consistency with the screening log, the order
check that no longer switches off for a whole file, compressed files, ids a spreadsheet would
run, numpy scalars and booleans as cut-offs."""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import lzma
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialnb.cli import main
from trialnb.data import load_qol, load_screening, load_trial, verify_data
from trialnb.errors import TrialDataError
from trialnb.data_manifest import MANIFEST_NAME, describe_file, read_manifest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
TRIAL = (DATA / "trial_protocol.csv").read_text(encoding="utf-8")
HEADER = TRIAL.splitlines()[0].split(",")


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "data"
    shutil.copytree(DATA, out)
    return out


def _cells(text: str, pid: str, **cells: str) -> str:
    lines = text.split("\n")
    for i, line in enumerate(lines):
        f = line.split(",")
        if f[0] == pid:
            for k, v in cells.items():
                f[HEADER.index(k)] = v
            lines[i] = ",".join(f)
    return "\n".join(lines)


# ---- the manifest -----------------------------------------------------------------------------


def test_manifest_lists_every_shipped_file_with_independently_recomputed_rows_and_sha256():
    manifest = read_manifest(DATA)
    shipped = sorted(p.name for p in DATA.iterdir() if p.is_file() and p.name != MANIFEST_NAME)
    assert sorted(manifest) == shipped
    for name, entry in manifest.items():
        raw = (DATA / name).read_bytes()
        assert entry.sha256 == hashlib.sha256(raw).hexdigest() and entry.bytes == len(raw)
        if name.endswith(".csv"):  # rows as pandas counts them: an independent reader
            assert entry.rows == len(pd.read_csv(DATA / name, dtype=str, keep_default_na=False)), name
        else:
            assert entry.rows == raw.count(b"\n")
    assert describe_file(DATA / "trial_protocol.csv") == manifest["trial_protocol.csv"]


def test_a_shipped_file_cut_at_a_row_boundary_is_refused(tmp_path):
    """Issue 24: 200 of 236 rows loaded silently. The manifest says 236."""
    folder = _copy(tmp_path)
    path = folder / "trial_protocol.csv"
    path.write_text("\n".join(TRIAL.split("\n")[:201]) + "\n")
    with pytest.raises(TrialDataError) as e:
        load_trial(path)
    p = [q for q in e.value.problems if q.rule == "manifest"]
    assert p and p[0].row is None and "200 data rows, the manifest (manifest.csv) lists 236: the file was cut short" \
        in p[0].message
    assert len(load_trial(path, check_manifest=False)) == 200  # said, on request: a deliberate subset
    # a valid cell changed: same rows, another SHA-256
    path.write_text(_cells(TRIAL, "P010", age="51"))
    with pytest.raises(TrialDataError, match="content differs from the shipped file") as e:
        load_trial(path)
    assert [q.rule for q in e.value.problems] == ["manifest"]
    # files elsewhere (no manifest, or not listed) are not checked against it
    other = tmp_path / "mine.csv"
    other.write_text(_cells(TRIAL, "P010", age="51"))
    assert len(load_trial(other)) == 236
    with pytest.raises(ValueError, match="check_manifest must be True or False"):
        load_trial(path, check_manifest=1)


def test_screening_and_qol_files_are_checked_too(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "screening_log.csv").read_text()
    (folder / "screening_log.csv").write_text(text.rsplit("\n", 2)[0] + "\n")  # the last row removed
    with pytest.raises(TrialDataError, match="374 data rows, the manifest .* lists 375"):
        load_screening(folder / "screening_log.csv")
    q = folder / "qol_null.csv"
    q.write_text(q.read_text().replace("\nP001,3,41.7", "\nP001,3,41.6", 1))
    with pytest.raises(TrialDataError, match="content differs"):
        load_qol(q)


def test_a_damaged_manifest_is_named(tmp_path):
    folder = _copy(tmp_path)
    m = folder / MANIFEST_NAME
    good = m.read_text()
    for damage, match in ((good.replace("sha256", "sha"), "header must be file,rows,bytes,sha256"),
                          (good.replace(",236,", ",2x6,", 1), "not a manifest line"),
                          (good + "../x.csv,1,1," + "0" * 64 + "\n", "not a manifest line"),
                          (b"\xff\xfe".decode("latin-1") + good, "not a manifest line|header")):
        m.write_text(damage, encoding="utf-8")
        with pytest.raises(TrialDataError, match=match) as e:
            load_trial(folder / "trial_protocol.csv")
        assert str(m) in str(e.value)


def test_verify_data_checks_every_file_and_the_cross_file_rules(tmp_path, capsys):
    ok = verify_data(DATA)
    assert ok.ok and "all 11 files" in ok.summary() and set(ok.to_frame()["status"]) == {"ok"}
    assert main(["verify-data", "--dir", str(DATA)]) == 0
    assert "intact" in capsys.readouterr().out
    folder = _copy(tmp_path)
    (folder / "trial_null.csv").write_text("\n".join(TRIAL.split("\n")[:201]) + "\n")
    (folder / "qol_realistic.csv").unlink()
    (folder / "notes.txt").write_text("mine")
    check = verify_data(folder)
    frame = check.to_frame().set_index("file")
    assert not check.ok
    assert frame.loc["trial_null.csv", "status"] == "changed" and frame.loc["trial_null.csv", "rows_found"] == 200
    assert frame.loc["qol_realistic.csv", "status"] == "missing"
    assert frame.loc["notes.txt", "status"] == "not listed"
    assert frame.loc["trial_protocol.csv", "status"] == "ok"
    assert "2 of 11 files failed: qol_realistic.csv, trial_null.csv" in check.summary()
    assert main(["verify-data", "--dir", str(folder)]) == 1
    assert main(["verify-data", "--dir", str(folder / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (folder / MANIFEST_NAME).unlink()
    assert verify_data(folder).to_frame()["status"].tolist() == ["missing"]


def test_verify_data_names_a_file_that_fails_the_cross_file_checks(tmp_path, monkeypatch):
    """A consistent pair of edits (file and manifest regenerated by hand) is what the manifest
    cannot see; the cross-file rules still catch a trial file that lost patients."""
    folder = _copy(tmp_path)
    (folder / "trial_null.csv").write_text("\n".join(TRIAL.split("\n")[:201]) + "\n")
    from trialnb.data_manifest import write_manifest

    write_manifest(folder, [p.name for p in folder.iterdir() if p.name != MANIFEST_NAME])
    frame = verify_data(folder).to_frame().set_index("file")
    assert frame.loc["trial_null.csv", "status"] == "fails checks"
    assert "consort_counts_add_up" in frame.loc["trial_null.csv", "detail"]


# ---- cross-file consistency --------------------------------------------------------------------


def test_the_shipped_trial_files_agree_with_the_screening_log():
    screening = load_screening(DATA / "screening_log.csv")
    for name in ("protocol", "null", "realistic"):
        assert len(load_trial(DATA / f"trial_{name}.csv", screening=screening)) == 236
    assert len(load_trial(DATA / "trial_null.csv", screening=DATA / "screening_log.csv")) == 236
    with pytest.raises(ValueError, match="screening must be the screening log"):
        load_trial(DATA / "trial_null.csv", screening=42)


def test_cross_file_rules_name_each_inconsistency(tmp_path):
    p = tmp_path / "t.csv"
    text = _cells(TRIAL, "P003", screening_id="S0001")  # S0001 was screened out (not randomized)
    text = _cells(text, "P004", age="80")
    p.write_text(text)
    with pytest.raises(TrialDataError) as e:
        load_trial(p, screening=DATA / "screening_log.csv")
    got = {(q.row, q.rule, q.column) for q in e.value.problems}
    assert (4, "screened_before_randomization", "screening_id") in got
    assert (5, "same_patient_as_screening", "age") in got
    msg = next(q.message for q in e.value.problems if q.rule == "screened_before_randomization")
    assert "gives S0001 no trial number (not randomized), this file 'P003'" in msg
    assert not any(q.rule == "consort_counts_add_up" for q in e.value.problems)  # the same 236 trial numbers


# ---- the order check ---------------------------------------------------------------------------


def test_a_non_numbered_id_no_longer_switches_off_the_order_check(tmp_path):
    """Issue 24: one id not of the P### form made the rule return at once for the whole file."""
    p = tmp_path / "t.csv"
    text = _cells(TRIAL, "P005", patient_id="XA-5")
    text = _cells(text, "P002", entry_month="0.70")  # before P001 (0.75)
    p.write_text(text)
    with pytest.raises(TrialDataError) as e:
        load_trial(p)
    hits = [q for q in e.value.problems if q.rule == "trial_numbers_in_randomization_order"]
    assert [(q.row, q.column) for q in hits] == [(3, "entry_month")] and "before P001" in hits[0].message
    # two ids with the same number (P001 and P1) leave those two out, not the rest
    text = _cells(TRIAL, "P003", patient_id="P1")
    text = _cells(text, "P010", entry_month="0.01")
    p.write_text(text)
    with pytest.raises(TrialDataError) as e:
        load_trial(p)
    hits = [q for q in e.value.problems if q.rule == "trial_numbers_in_randomization_order"]
    assert [q.row for q in hits] == [11]


def _order_problems_by_hand(rows: list[tuple[str, float]]) -> set[int]:
    """An independent re-derivation: numbered ids (letters then digits) whose number is not
    shared, sorted by (letters, number); a row is out of order if its entry is earlier than
    the previous numbered row's of the same letters."""
    keyed: dict[tuple[str, int], list[int]] = {}
    for i, (pid, _) in enumerate(rows):
        m = re.fullmatch(r"([A-Za-z]*)([0-9]+)", pid)
        if m:
            keyed.setdefault((m.group(1), int(m.group(2))), []).append(i)
    unique = sorted((k, v[0]) for k, v in keyed.items() if len(v) == 1)
    bad = set()
    for (k0, i0), (k1, i1) in zip(unique, unique[1:], strict=False):
        if k0[0] == k1[0] and rows[i1][1] < rows[i0][1] - 1e-9:
            bad.add(i1)
    return bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_order_rule_equals_a_re_derivation_on_any_mix_of_id_forms(tmp_path, data):
    lines = TRIAL.split("\n")[:41]  # header + 40 patients
    rows = [ln.split(",") for ln in lines[1:]]
    ids = data.draw(st.lists(st.sampled_from(["P", "Q", "", "X-", "keep", "dup"]), min_size=40, max_size=40))
    for k, (r, form) in enumerate(zip(rows, ids, strict=True)):
        if form == "dup":
            r[0] = f"P{int(r[0][1:])}"  # P007 -> P7: same number, another id
            rows[(k + 1) % 40][0] = rows[(k + 1) % 40][0] if form else r[0]
        elif form == "X-":
            r[0] = f"X-{k}"
        elif form != "keep":
            r[0] = f"{form}{1000 + k}"
    shuffle = data.draw(st.permutations(range(40)))
    entries = [rows[i][HEADER.index("entry_month")] for i in shuffle]
    for r, e in zip(rows, entries, strict=True):
        r[HEADER.index("entry_month")] = e
    assert len({r[0] for r in rows}) == 40
    path = tmp_path / "o.csv"
    path.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n")
    try:
        load_trial(path)
        found: set[int] = set()
    except TrialDataError as exc:
        found = {q.row - 2 for q in exc.problems if q.rule == "trial_numbers_in_randomization_order"}
    assert found == _order_problems_by_hand([(r[0], float(r[HEADER.index("entry_month")])) for r in rows])


# ---- compressed files, folders, ids, arguments ------------------------------------------------------


def test_a_gzip_file_loads_as_its_csv_and_a_damaged_one_is_named(tmp_path):
    """Issue 24: a .csv.gz loaded in the first round and no longer did (a regression)."""
    gz = tmp_path / "trial_protocol.csv.gz"
    gz.write_bytes(gzip.compress(TRIAL.encode("utf-8"), mtime=0))
    pd.testing.assert_frame_equal(load_trial(gz), load_trial(DATA / "trial_protocol.csv"))
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gz.read_bytes()[: len(gz.read_bytes()) // 2])
    with pytest.raises(TrialDataError, match="damaged or cut short") as e:
        load_trial(cut)
    assert e.value.problems[0].rule == "compression"
    latin = tmp_path / "latin.csv.gz"
    latin.write_bytes(gzip.compress(_cells(TRIAL, "P002", her2="n\u00e9gative").encode("latin-1")))
    with pytest.raises(TrialDataError, match="after gzip decompression") as e:
        load_trial(latin)
    assert e.value.problems[0].row == 3


@pytest.mark.parametrize("kind, make", [
    ("bzip2", lambda b: bz2.compress(b)), ("xz", lambda b: lzma.compress(b)),
    ("zip", lambda b: _zipped(b)),
])
def test_other_compressions_are_refused_by_name(tmp_path, kind, make):
    p = tmp_path / f"t.{kind}"
    p.write_bytes(make(TRIAL.encode()))
    with pytest.raises(TrialDataError, match=f"compressed with {kind}.*plain or gzip-compressed") as e:
        load_trial(p)
    assert e.value.problems[0].rule == "compression"


def _zipped(raw: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("trial.csv", raw)
    return buf.getvalue()


def test_a_folder_is_named_as_a_folder(tmp_path):
    with pytest.raises(TrialDataError, match="is a folder, not a data file") as e:
        load_trial(tmp_path)
    assert e.value.problems[0].rule == "file"
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_trial(tmp_path / "nope.csv")


@pytest.mark.parametrize("pid", ["=1+1", "+1+1", "-1+1", "@SUM(1+1)", "=cmd|' /C calc'!A0", "P 001", "P001;x"])
def test_ids_a_spreadsheet_would_run_are_refused_by_the_loaders(tmp_path, pid):
    buf = io.StringIO()
    rows = list(csv.reader(io.StringIO(TRIAL)))
    rows[1][0] = pid
    csv.writer(buf, lineterminator="\n").writerows(rows)
    p = tmp_path / "t.csv"
    p.write_text(buf.getvalue())
    with pytest.raises(TrialDataError) as e:
        load_trial(p)
    assert any(q.rule == "id_pattern" and q.row == 2 for q in e.value.problems), e.value.problems[:3]
    s = (DATA / "screening_log.csv").read_text().replace("\nS0001,", f"\n{'=2+2' if pid[0] != '=' else pid},", 1)
    sp = tmp_path / "s.csv"
    sp.write_text(s)
    with pytest.raises(TrialDataError) as e:
        load_screening(sp)
    assert any(q.rule == "id_pattern" and q.column == "screening_id" for q in e.value.problems)


@pytest.mark.parametrize("cutoff", [np.float64(60.0), np.int64(60), np.float32(60.0), 60])
def test_numpy_scalars_are_cut_offs_and_booleans_are_not(cutoff):
    assert len(load_trial(DATA / "trial_protocol.csv", cutoff_month=cutoff)) == 236
    for bad in (True, np.bool_(True), float("nan"), "60", 0):
        with pytest.raises(ValueError, match="cutoff_month must be a positive number of months"):
            load_trial(DATA / "trial_protocol.csv", cutoff_month=bad)


# ---- every CSV the package writes is neutralised --------------------------------------------------

_TRIGGER = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _formula_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [c for row in csv.reader(fh) for c in row if c[:1] in _TRIGGER and not _NUMBER.fullmatch(c)]


def test_build_data_neutralises_every_csv_it_writes(tmp_path, monkeypatch):
    """Every CSV writer of build_data (the trial, QoL and screening files, scenarios, the data
    dictionary, the rules table, the manifest), fed hostile text: no cell a spreadsheet runs,
    the negative numbers of scenarios.csv kept as numbers."""
    import trialnb.simulation.crf as sim
    from dataclasses import replace

    hostile = '=HYPERLINK("http://example.invalid","x")'
    monkeypatch.setitem(sim.SCENARIOS, "protocol", replace(sim.SCENARIOS["protocol"], description="@SUM(1+1)"))
    real_dd, real_rules = sim.data_dictionary, sim.rules_table
    monkeypatch.setattr(sim, "data_dictionary", lambda: pd.concat(
        [real_dd(), pd.DataFrame([{"file": hostile, "column": "-1+1", "type": "+1", "unit": "\t=1", "allowed": "-",
                                   "meaning": "=cmd|' /C calc'!A0"}])], ignore_index=True))
    monkeypatch.setattr(sim, "rules_table", lambda: pd.concat(
        [real_rules(), pd.DataFrame([{"file": "=1", "rule": "+r", "columns": "@c", "requirement": "\r=1"}])],
        ignore_index=True))
    paths = sim.build_data(tmp_path, scenarios=("protocol",))
    csvs = [p for p in paths if p.suffix == ".csv"]
    assert {p.name for p in csvs} == {"trial_protocol.csv", "qol_protocol.csv", "screening_log.csv", "scenarios.csv",
                                      "data_dictionary.csv", "cross_field_rules.csv", MANIFEST_NAME}
    for p in csvs:
        assert _formula_cells(p) == [], p.name
    text = (tmp_path / "data_dictionary.csv").read_text()
    assert "'=HYPERLINK" in text and "'-1+1" in text and "'=cmd|" in text
    assert "\nqol_slope_per_year,-2.0\n" in (tmp_path / "scenarios.csv").read_text()  # a number stays a number
    assert "'@SUM(1+1)" in (tmp_path / "scenarios.csv").read_text()


def test_no_module_writes_a_file_or_a_csv_behind_the_helpers():
    """Structural: every file goes through trialnb.files (atomic), every CSV through its
    neutralising helpers; the allocation log's own appends are the one documented exception."""
    offenders = []
    for path in sorted((ROOT / "trialnb").rglob("*.py")):
        if path.name == "files.py":
            continue
        src = path.read_text()
        for pattern in (r"\.to_csv\(", r"csv\.writer\(", r"\.write_text\(", r"\.write_bytes\(",
                        r"open\([^)]*['\"][wax]b?['\"]", r"\.savefig\([^)]*['\"][^)]*\.(png|svg|pdf)"):
            for m in re.finditer(pattern, src):
                line = src[: m.start()].count("\n") + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {m.group(0)}")
    assert offenders == []


def test_shipped_csvs_hold_no_formula_cell():
    for p in sorted(DATA.glob("*.csv")):
        assert _formula_cells(p) == [], p.name
