"""The allocation log keeps its promises (issue 12, section 1): durable (a real kill test),
all-or-nothing (fault injection), keyed and tamper-evident (each kind of damage named),
concealed, resumable exactly, duplicate ids refused, complete export."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trialnb.randomization.log as logmod
from trialnb.protocol import PATIENT_ID_PATTERN
from trialnb.errors import PatientRecordError
from trialnb.randomization import (AllocationLog, CompleteRandomization, EfronBiasedCoin, PermutedBlock,
                                   PocockSimon, StratifiedPermutedBlock, TornLineWarning, allocation_list_csv,
                                   entries_from_csv, simulate_patients, verify_chain)
from trialnb.errors import AllocationLogError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
PATS = simulate_patients(40, np.random.default_rng(11))
ROOT = Path(__file__).resolve().parents[1]


def _fill(log: AllocationLog, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        log.allocate(PATS[i % len(PATS)], patient_id=f"P{i + 1:03d}", timestamp="2026-11-29T10:00:00+00:00")


def _made(tmp_path: Path, n: int = 6, proc=None) -> tuple[Path, str]:
    path = tmp_path / "log.jsonl"
    log = AllocationLog.create(path, proc or PocockSimon(), seed=2026, key=KEY)
    _fill(log, n)
    head = log.head
    log.close()
    return path, head


def _content(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("prev", "mac")} for e in entries]


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
                            for r in records))


# ---- basic contract -------------------------------------------------------------------------


def test_create_refuses_existing_path_and_bad_key(tmp_path):
    path, _ = _made(tmp_path, 1)
    with pytest.raises(AllocationLogError, match="exists") as e:
        AllocationLog.create(path, PocockSimon(), seed=1, key=KEY)
    assert e.value.kind == "exists"
    with pytest.raises(ValueError, match="at least 16 random bytes"):
        AllocationLog.create(tmp_path / "b.jsonl", PocockSimon(), seed=1, key=b"short")
    with pytest.raises(TypeError, match="AllocationLog.create"):
        AllocationLog(PocockSimon(), 1)


def test_file_is_json_lines_with_keyed_chain(tmp_path):
    path, head = _made(tmp_path, 5)
    recs = _lines(path)
    assert recs[0]["type"] == "header" and [r["seq"] for r in recs[1:]] == [1, 2, 3, 4, 5]
    assert recs[-1]["mac"] == head
    assert verify_chain(recs, KEY) == [] and verify_chain(recs, KEY, head=head) == []
    # the chain is keyed: a plain SHA-256 (or another key) does not reproduce it
    assert verify_chain(recs, OTHER_KEY)[0].startswith("wrong_key")


def test_bypass_refused_while_bound(tmp_path):
    proc = PocockSimon()
    log = AllocationLog.create(tmp_path / "l.jsonl", proc, seed=1, key=KEY)
    for call in (lambda: proc.record(PATS[0], "A"), lambda: proc.assign(PATS[0], np.random.default_rng(1)),
                 lambda: proc.assign_uniform(PATS[0], 0.3)):
        with pytest.raises(AllocationLogError, match="belongs to the allocation log") as e:
            call()
        assert e.value.kind == "bypass"
    assert proc.n == 0 and len(log) == 0
    assert proc.probabilities(PATS[0]) == {"A": 0.5, "B": 0.5}  # reading stays allowed
    with pytest.raises(ValueError, match="must be fresh"):
        AllocationLog.in_memory(_used_procedure(), seed=1, key=KEY)


def _used_procedure():
    p = PocockSimon()
    p.assign(PATS[0], np.random.default_rng(0))
    return p


def test_validation_before_draw_and_duplicate_ids(tmp_path):
    path = tmp_path / "l.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=3, key=KEY)
    log.allocate(PATS[0], patient_id="P003")
    size = path.stat().st_size
    bad_calls = [
        (lambda: log.allocate(PATS[1], patient_id="  P003 "), AllocationLogError, "already in the log"),
        (lambda: log.allocate(PATS[1], patient_id="P003\u00a0\t"), AllocationLogError, "already in the log"),
        (lambda: log.allocate(PATS[1], patient_id="\uff30\uff10\uff10\uff13"), AllocationLogError, "already"),
        (lambda: log.allocate(PATS[1], patient_id=" "), ValueError, "patient_id must have"),
        (lambda: log.allocate(PATS[1], patient_id=17), ValueError, "patient_id must be a string"),
        (lambda: log.allocate(PATS[1], patient_id="P9", timestamp="yesterday"), ValueError, "timestamp must be"),
        (lambda: log.allocate(PATS[1], patient_id="P9", timestamp="2026-01-01T10:00:00"), ValueError, "time zone"),
        (lambda: log.allocate(PATS[1], patient_id="P9", timestamp=object()), ValueError, "timestamp must be"),
        (lambda: log.allocate({"dominant_site": "bone"}, patient_id="P9"), PatientRecordError, "missing"),
    ]
    for call, exc, match in bad_calls:
        with pytest.raises(exc, match=match):
            call()
    assert len(log) == 1 and log.procedure.n == 1 and path.stat().st_size == size and log.verify()
    with pytest.raises(AllocationLogError) as e:
        log.allocate(PATS[1], patient_id="P003 ")
    assert e.value.kind == "duplicate_id"
    # the next allocation is the one an undisturbed log gives
    log.allocate(PATS[1], patient_id="P004")
    ref = AllocationLog.in_memory(PocockSimon(), seed=3, key=KEY)
    ref.allocate(PATS[0], patient_id="P003")
    ref.allocate(PATS[1], patient_id="P004")
    assert [e["arm"] for e in log.entries] == [e["arm"] for e in ref.entries]


# ---- resume -----------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda: PocockSimon(p=0.75, imbalance="sd", weights=(2, 1, 1), random_element=0.1),
    lambda: StratifiedPermutedBlock(block_sizes=(2, 4, 6)),
    lambda: PermutedBlock((4, 6)),
    lambda: EfronBiasedCoin(),
    lambda: StratifiedPermutedBlock({"site": ["x", "y"], "age": ["old", "young"]}, block_sizes=(4,)),
])
def test_resume_equals_uninterrupted(tmp_path, make):
    custom = isinstance(make().factors, tuple) and make().factors[0].name == "site"
    pats = ([{"site": random.Random(i).choice("xy"), "age": random.Random(-i).choice(["old", "young"])}
             for i in range(30)] if custom else PATS[:30])
    path = tmp_path / "r.jsonl"
    log = AllocationLog.create(path, make(), seed=5, key=KEY)
    for stop in (7, 13, 22, 30):
        for i in range(len(log), stop):
            log.allocate(pats[i], patient_id=f"P{i}", timestamp="2026-11-29T10:00:00+00:00")
        head = log.head
        log.close()
        log = AllocationLog.open(path, key=KEY, head=head)
    ref = AllocationLog.in_memory(make(), seed=5, key=KEY)
    for i, p in enumerate(pats):
        ref.allocate(p, patient_id=f"P{i}", timestamp="2026-11-29T10:00:00+00:00")
    assert _content(log.entries) == _content(ref.entries)  # macs differ: the headers' creation times do
    assert log.procedure.settings() == ref.procedure.settings()


# ---- fault injection --------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["write", "fsync", "partial_write"])
def test_failed_write_allocates_nothing(tmp_path, monkeypatch, where):
    path = tmp_path / "f.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=9, key=KEY)
    _fill(log, 3)
    before = path.read_bytes()
    state = (log.procedure.n, log.procedure.marginal_counts(), log.head)

    real_write = logmod._write_all

    def bad_write(fd, data):
        if where == "partial_write":
            os.write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    calls = []

    def bad_fsync(fd):  # the entry's fsync fails; the rollback's succeeds
        calls.append(fd)
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        os.fsync(fd)

    monkeypatch.setattr(logmod, "_write_all", bad_write if where != "fsync" else real_write)
    if where == "fsync":
        monkeypatch.setattr(logmod, "_fsync", bad_fsync)
    with pytest.raises(AllocationLogError, match="nothing was allocated") as e:
        log.allocate(PATS[3], patient_id="P004")
    assert e.value.kind == "io"
    assert (log.procedure.n, log.procedure.marginal_counts(), log.head) == state
    assert path.read_bytes() == before and len(log) == 3
    monkeypatch.undo()
    log.allocate(PATS[3], patient_id="P004")  # the same id is free again: it was never allocated
    ref = AllocationLog.in_memory(PocockSimon(), seed=9, key=KEY)
    _fill(ref, 4)
    assert [e["arm"] for e in log.entries] == [e["arm"] for e in ref.entries]
    log.close()
    assert AllocationLog.verify_file(path, key=KEY, head=log.head) == 4


def test_failed_rollback_blocks_the_log_until_reopened(tmp_path, monkeypatch):
    path = tmp_path / "b.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=9, key=KEY)
    _fill(log, 2)

    def dead(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(logmod, "_fsync", dead)
    with pytest.raises(AllocationLogError, match="nothing was allocated"):
        log.allocate(PATS[2], patient_id="P003")
    monkeypatch.undo()
    with pytest.raises(AllocationLogError, match="reopen it") as e:
        log.allocate(PATS[2], patient_id="P003")
    assert e.value.kind == "closed" and len(log) == 2
    log.close()
    assert len(AllocationLog.open(path, key=KEY)) == 2  # the file was cut back, then verified


# ---- tampering: each kind detected and named ---------------------------------------------------


def _tamper(recs: list[dict], how: str) -> list[dict]:
    r = [dict(x) for x in recs]
    if how == "edited":
        r[3]["arm"] = "B" if r[3]["arm"] == "A" else "A"
    elif how == "edited_header":
        r[0]["procedure"] = dict(r[0]["procedure"], p=1.0)
    elif how == "deleted":
        del r[3]
    elif how == "reordered":
        r[2], r[3] = r[3], r[2]
    elif how == "forged":  # appended by someone without the key, linked and numbered correctly
        fake = dict(r[-1], seq=len(r), patient_id="P999", prev=r[-1]["mac"])
        import hashlib

        fake["mac"] = hashlib.sha256(json.dumps(fake, sort_keys=True).encode()).hexdigest()
        r.append(fake)
    elif how == "forged_insert":
        fake = dict(r[2], patient_id="P998")
        r.insert(3, fake)
    elif how == "rehashed_edit":  # edit and recompute plain SHA-256 'macs' down the chain
        import hashlib

        r[3]["arm"] = "B" if r[3]["arm"] == "A" else "A"
        for i in range(3, len(r)):
            r[i]["prev"] = r[i - 1]["mac"]
            body = {k: v for k, v in r[i].items() if k != "mac"}
            r[i]["mac"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    elif how == "truncated":
        del r[-2:]
    return r


@pytest.mark.parametrize("how, kind", [
    ("edited", "edited"), ("edited_header", "edited"), ("deleted", "deleted"), ("reordered", "reordered"),
    ("forged", "forged"), ("forged_insert", "forged"), ("rehashed_edit", "edited"), ("truncated", "truncated"),
])
def test_tampering_is_detected_and_named(tmp_path, how, kind):
    path, head = _made(tmp_path, 6)
    _write(path, _tamper(_lines(path), how))
    with pytest.raises(AllocationLogError) as e:
        AllocationLog.open(path, key=KEY, head=head)
    assert e.value.kind == kind, e.value.problems
    assert kind.replace("_", " ") in str(e.value)
    with pytest.raises(AllocationLogError) as e2:
        AllocationLog.verify_file(path, key=KEY, head=head)
    assert e2.value.kind == kind


def test_wrong_key_named(tmp_path):
    path, head = _made(tmp_path, 3)
    with pytest.raises(AllocationLogError, match="wrong key") as e:
        AllocationLog.open(path, key=OTHER_KEY, head=head)
    assert e.value.kind == "wrong_key"


def test_edited_key_id_is_an_edit_not_a_wrong_key(tmp_path):
    path, head = _made(tmp_path, 3)
    recs = _lines(path)
    recs[0]["key_id"] = logmod._Keys(OTHER_KEY).key_id
    _write(path, recs)
    with pytest.raises(AllocationLogError) as e:
        AllocationLog.open(path, key=KEY, head=head)
    assert e.value.kind == "edited"


def test_truncation_is_detected_without_a_published_head(tmp_path):
    """Issue 24: removing the last lines no longer leaves a log that opens. The head witness
    (a second file) names the cut; receipts from the CRFs name it even when the witness was
    rolled back too; a published head still works; an older head accepts the grown log."""
    path, head = _made(tmp_path, 6)
    witness = path.with_name(path.name + ".witness")
    _write(path, _tamper(_lines(path), "truncated"))
    for call in (lambda: AllocationLog.open(path, key=KEY), lambda: AllocationLog.verify_file(path, key=KEY)):
        with pytest.raises(AllocationLogError, match="witness says the log had 6 entries, the file has 4") as e:
            call()
        assert e.value.kind == "truncated"
    # without the witness the cut cannot be ruled out: refused, and said why
    witness.unlink()
    with pytest.raises(AllocationLogError, match="head witness .* is missing") as e:
        AllocationLog.open(path, key=KEY)
    assert e.value.kind == "witness"
    # verify_file of a copy without a witness (an export) checks only what it is given
    assert AllocationLog.verify_file(path, key=KEY) == 4
    with pytest.raises(AllocationLogError) as e:
        AllocationLog.verify_file(path, key=KEY, head=head)
    assert e.value.kind == "truncated"
    # an old witness put back with the cut log is the limit of the witness ...
    sub = tmp_path / "grown"
    sub.mkdir()
    path2, _ = _made(sub, 4)
    w2 = path2.with_name(path2.name + ".witness")
    old_head, old_w2 = _lines(path2)[-1]["mac"], w2.read_bytes()
    log = AllocationLog.open(path2, key=KEY, head=old_head)  # an older head accepts the grown log
    _fill(log, 2, start=4)
    receipt_6 = log.receipt()
    log.close()
    assert AllocationLog.verify_file(path2, key=KEY, head=old_head) == 6
    recs = _lines(path2)
    _write(path2, recs[:-2])
    w2.write_bytes(old_w2)
    with AllocationLog.open(path2, key=KEY) as shorter:  # witness rolled back with the log: not seen
        assert len(shorter) == 4
    # ... and what a receipt on the CRF covers
    with pytest.raises(AllocationLogError, match="receipt 6-.* the log ends at seq 4") as e:
        AllocationLog.open(path2, key=KEY, receipts=[receipt_6.code])
    assert e.value.kind == "truncated"


def test_edit_behind_an_open_log_is_seen(tmp_path):
    path = tmp_path / "o.jsonl"
    log = AllocationLog.create(path, PocockSimon(), seed=1, key=KEY)
    _fill(log, 4)
    recs = _lines(path)
    _write(path, _tamper(recs, "edited"))
    assert not log.verify() and log.problems()[0].startswith("edited")


def test_inconsistent_arm_with_the_key_is_named(tmp_path):
    """Even a line signed with the key is refused if its arm is not what the key's stream gives."""
    path, _ = _made(tmp_path, 4)
    recs = _lines(path)
    keys = logmod._Keys(KEY)
    recs[2]["arm"] = "B" if recs[2]["arm"] == "A" else "A"
    for i in range(2, len(recs)):
        recs[i]["prev"] = recs[i - 1]["mac"]
        recs[i]["mac"] = keys.sign({k: v for k, v in recs[i].items() if k != "mac"})
    _write(path, recs)
    with pytest.raises(AllocationLogError) as e:
        AllocationLog.open(path, key=KEY)
    assert e.value.kind == "inconsistent"


def test_torn_last_line_reported_and_dropped(tmp_path):
    path = tmp_path / "log.jsonl"
    witness = path.with_name(path.name + ".witness")
    log = AllocationLog.create(path, PocockSimon(), seed=2026, key=KEY)
    _fill(log, 4)
    before = witness.read_bytes()  # a kill during the 5th write leaves the 4-entry witness
    _fill(log, 1, start=4)
    head = log.head
    log.close()
    data = path.read_bytes()
    last = data[: -1].rfind(b"\n") + 1
    path.write_bytes(data[: last + 40])  # the 5th line cut mid-way, as by a kill during write
    witness.write_bytes(before)
    with pytest.warns(TornLineWarning, match="incomplete last line"):
        log = AllocationLog.open(path, key=KEY)
    assert len(log) == 4 and path.read_bytes() == data[:last]
    _fill(log, 1, start=4)  # the dropped allocation is redone identically
    assert log.head == head


# ---- concealment --------------------------------------------------------------------------------


def test_log_and_site_list_do_not_reveal_the_stream(tmp_path):
    """The old attack: the seed and the uniforms were in the log, and np.random.default_rng(seed)
    predicted 200 of 200 allocations. Now no uniform is stored, and replaying the stored seed
    predicts no better than a coin (the stream is HMAC(key, trial|seed|i))."""
    path = tmp_path / "c.jsonl"
    log = AllocationLog.create(path, CompleteRandomization(), seed=2026, key=KEY)
    _fill(log, 200)
    recs = _lines(path)
    assert all("u" not in r for r in recs) and "u" not in log.to_csv().splitlines()[0].split(",")
    site = log.site_list()
    assert site.splitlines()[0] == "seq,patient_id,stratum,arm,timestamp"
    arms = np.array([r["arm"] == "A" for r in recs[1:]])
    seed = recs[0]["seed"]
    guess = np.random.default_rng(seed).random(200) < 0.5
    hits = int(np.sum(guess == arms))
    assert 70 <= hits <= 130  # a fair coin: 100 +- 3.5 SD
    # a different key gives an unrelated stream for the same seed
    other = AllocationLog.in_memory(CompleteRandomization(), seed=2026, key=OTHER_KEY)
    _fill(other, 200)
    same = sum(a["arm"] == b["arm"] for a, b in zip(other.entries, log.entries, strict=True))
    assert 70 <= same <= 130


def test_export_keeps_every_field_and_reverifies(tmp_path):
    path, head = _made(tmp_path, 6)
    log = AllocationLog.open(path, key=KEY, head=head)
    exported = log.export(tmp_path / "review.jsonl")
    assert AllocationLog.verify_file(exported, key=KEY, head=head) == 6
    entries = entries_from_csv(log.to_csv(), log.header)
    assert entries == log.entries
    assert verify_chain([log.header] + entries, KEY, head=head) == []
    with pytest.raises(AllocationLogError, match="exists"):
        log.export(exported)
    text = allocation_list_csv(PocockSimon(), PATS[:5], seed=4, key=KEY)
    assert text == allocation_list_csv(PocockSimon(), PATS[:5], seed=4, key=KEY)
    assert len(text.splitlines()) == 6


# ---- hypothesis properties ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """An 8-entry log's bytes, its head, and its head witness after each allocation (0 to 8)."""
    path = tmp_path_factory.mktemp("h") / "h.jsonl"
    witness = path.with_name(path.name + ".witness")
    log = AllocationLog.create(path, PocockSimon(), seed=1, key=KEY)
    witnesses = [witness.read_bytes()]
    for i in range(8):
        _fill(log, 1, start=i)
        witnesses.append(witness.read_bytes())
    log.close()
    return path.read_bytes(), log.head, witnesses


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_byte_change_is_detected_against_the_head(built, tmp_path, data):
    raw, head, _ = built
    pos = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[pos]))
    bad = raw[:pos] + bytes([new]) + raw[pos + 1:]
    path = tmp_path / f"p{pos}_{new}.jsonl"
    path.write_bytes(bad)
    with pytest.raises(AllocationLogError), warnings.catch_warnings():
        warnings.simplefilter("ignore", TornLineWarning)
        AllocationLog.verify_file(path, key=KEY, head=head)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10_000), lag=st.booleans())
def test_any_cut_recovers_the_complete_lines_and_resumes(built, tmp_path, cut, lag):
    """A kill leaves a prefix of the file: it opens with exactly its complete entries (the
    header's own line included), and resuming reproduces the uncut log. The head witness is
    the one of the complete entries, or one behind (``lag``: killed after the line's fsync,
    before the witness was replaced)."""
    raw, head, witnesses = built
    cut = cut % (len(raw) + 1)
    path = tmp_path / f"c{cut}_{lag}.jsonl"
    path.write_bytes(raw[:cut])
    first_nl = raw.index(b"\n") + 1
    if cut < first_nl:
        with pytest.raises(AllocationLogError, match="header"):
            AllocationLog.open(path, key=KEY)
        return
    complete = raw[:cut].count(b"\n") - 1
    path.with_name(path.name + ".witness").write_bytes(witnesses[max(complete - lag, 0)])
    with pytest.warns(TornLineWarning) if raw[:cut][-1:] != b"\n" else _nothing():
        log = AllocationLog.open(path, key=KEY)
    assert len(log) == complete
    _fill(log, 8 - complete, start=complete)
    assert log.head == head
    log.close()


@settings(max_examples=25, deadline=None)
@given(ids=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=8))
def test_patient_ids_unique_after_normalisation(ids):
    log = AllocationLog.in_memory(CompleteRandomization(), seed=1, key=KEY)
    seen = set()
    for pid in ids:
        norm = " ".join(__import__("unicodedata").normalize("NFKC", pid).split())
        try:
            log.allocate(PATS[0], patient_id=pid)
        except AllocationLogError as e:
            if e.kind == "duplicate_id":
                assert norm in seen
            else:  # not of the trial's form (PATIENT_ID_PATTERN) once normalised
                assert e.kind == "malformed" and re.fullmatch(PATIENT_ID_PATTERN, norm, flags=re.ASCII) is None
            continue
        assert norm not in seen
        seen.add(norm)
    assert len(log) == len(seen) and log.verify()


# ---- the kill test ----------------------------------------------------------------------------------

CHILD = r"""
import sys
from pathlib import Path
from trialnb.randomization import AllocationLog, PocockSimon, simulate_patients
import numpy as np
path, key = Path(sys.argv[1]), bytes.fromhex(sys.argv[2])
pats = simulate_patients(40, np.random.default_rng(11))
log = AllocationLog.open(path, key=key) if path.exists() else AllocationLog.create(path, PocockSimon(), 77, key=key)
print("READY", len(log), flush=True)
i = len(log)
while True:
    e = log.allocate(pats[i % 40], patient_id=f"K{i + 1:05d}", timestamp="2026-11-29T10:00:00+00:00")
    print("ACK", e["seq"], e["patient_id"], e["arm"], e["mac"], flush=True)
    i += 1
"""


def test_killed_process_loses_no_acknowledged_allocation(tmp_path):
    """~10 real SIGKILLs at random moments of a process allocating in a loop: every allocation
    it acknowledged (printed after allocate returned) is in the reopened log, which verifies
    and continues exactly as an uninterrupted log would."""
    path = tmp_path / "kill.jsonl"
    rnd = random.Random(20261129)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    acked: list[tuple[int, str, str, str]] = []
    torn = 0
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), KEY.hex()], stdout=subprocess.PIPE,
                                text=True, env=env, cwd=tmp_path)
        ready = proc.stdout.readline()
        assert ready.startswith("READY"), ready
        time.sleep(rnd.uniform(0.02, 0.4))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        # an acknowledgement is a whole printed line: the kill may tear the last one mid-print
        # (after allocate returned), so only newline-terminated lines count
        for line in out.split("\n")[:-1]:
            if line.startswith("ACK "):
                _, seq, pid, arm, mac = line.split()
                acked.append((int(seq), pid, arm, mac))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            log = AllocationLog.open(path, key=KEY)
        torn += sum(issubclass(x.category, TornLineWarning) for x in w)
        got = {(e["seq"], e["patient_id"], e["arm"], e["mac"]) for e in log.entries}
        missing = [a for a in acked if a not in got]
        assert not missing, f"acknowledged allocations lost: {missing[:3]}"
        assert log.verify()
        log.close()
    assert len(acked) > 10
    log = AllocationLog.open(path, key=KEY)
    ref = AllocationLog.in_memory(PocockSimon(), 77, key=KEY)
    for i in range(len(log)):
        ref.allocate(PATS[i % 40], patient_id=f"K{i + 1:05d}", timestamp="2026-11-29T10:00:00+00:00")
    assert _content(log.entries) == _content(ref.entries)  # as if never interrupted
    log.close()


# ---- the pieces the log relies on -------------------------------------------------------------------


@pytest.mark.parametrize("proc", [
    CompleteRandomization(), EfronBiasedCoin(0.7), PermutedBlock((2, 4), (1, 3)),
    StratifiedPermutedBlock({"a": ["x", "y"]}, block_sizes=(4,)),
    PocockSimon(p=0.9, imbalance="taves", weights={"dominant_site": 2, "hormone_receptor": 1, "her2": 1},
                tie_rule="overall", random_element=0.2),
    __import__("trialnb.randomization", fromlist=["BigStick"]).BigStick(2),
    __import__("trialnb.randomization", fromlist=["MaximalProcedure"]).MaximalProcedure(10, 2),
], ids=lambda p: p.name)
def test_procedure_rebuilt_from_its_settings(proc):
    from trialnb.randomization import procedure_from_settings

    again = procedure_from_settings(json.loads(json.dumps(proc.settings())))
    assert type(again) is type(proc) and again.settings() == proc.settings()


def test_assign_uniform_is_assign_with_that_uniform():
    a, b = PocockSimon(), PocockSimon()
    rng = np.random.default_rng(4)
    us = np.random.default_rng(4).random(30)
    for pat, u in zip(PATS[:30], us, strict=True):
        assert a.assign(pat, rng) == b.assign_uniform(pat, float(u))
    for bad in (1.0, -0.1, float("nan"), "0.3", True):
        with pytest.raises(ValueError, match=r"u must be a number in \[0, 1\)"):
            b.assign_uniform(PATS[0], bad)
