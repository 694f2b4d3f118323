"""A durable, keyed, concealed allocation log (JSON Lines, one entry per line).

What the log promises, and what each promise rests on:

* **Durable.** :meth:`AllocationLog.allocate` returns only after the entry's line has been
  written with ``os.write`` (no user-space buffer to flush) and ``os.fsync`` returned. A
  process killed at any moment therefore loses no *acknowledged* allocation. A line torn by a
  kill was never acknowledged: :meth:`AllocationLog.open` reports it (:class:`TornLineWarning`)
  and drops it. Rests on: ``fsync`` reaching stable storage (the OS and the disk honouring
  it); a disk that lies about flushes, or a lost file system, is not covered.
* **All or nothing.** Everything is validated (factors, ``patient_id``, timestamp, procedure
  limits) before the draw; the procedure's state changes only after the line (and the head
  witness) are on disk. If a write or an fsync fails, the file is cut back to its previous
  length and nothing was allocated. If even that fails the log refuses further allocations
  until it is reopened.
* **Tamper-evident.** Each line carries ``mac = HMAC-SHA256(K_mac, canonical JSON of the
  line without its mac)`` and the previous line's mac in ``prev`` (RFC 2104; the header is
  the first link). ``K_mac`` is derived from a secret key kept *outside* the log. Without the
  key nobody can make a line that verifies, so an edit, a deletion, a reordering or a forged
  line is detected and named (:attr:`AllocationLogError.kind`). Verification is bounded in
  time and memory by the file's size whatever its bytes, and every kind of damage is an
  :class:`AllocationLogError` (never another exception).
* **A cut at the end is detected**, which the chain alone cannot do (a prefix of a valid
  chain is a valid chain). Three mechanisms, each covering what the previous one does not:

  - the **head witness**: a second small file, ``<log name>.witness`` in ``witness_dir``
    (default: the log's folder; better another folder or device), rewritten atomically after
    every allocation with the number of entries and the head, and keyed (HMAC). :meth:`open`
    refuses a log shorter than its witness ("truncated"), a log whose entry differs from the
    witnessed one ("rewritten"), and a missing or damaged witness ("witness"). It protects
    against a cut of the log alone: an editor, a partial restore or copy, a sync conflict, a
    disk that lost the last writes of the log but not of the witness's device. It does not
    protect against someone who cuts the log *and* puts back an older witness (or deletes
    both): the two files are usually in reach of the same person.
  - the **receipt** of each allocation (:class:`AllocationReceipt`: the sequence number and the
    first 16 hex digits of the head, e.g. ``12-3f9a1c2b4d5e6f70``), written by the site on the
    patient's CRF. ``open(..., receipts=[...])`` checks that every receipt's entry is still in
    the log with that head: it detects a cut below the receipt, a log replaced by another, and
    a rewrite made with the key, because the CRFs are outside the log keeper's reach. It does
    not cover allocations after the last receipt checked, or a receipt never written down.
  - the **published head** (``head=``, the last line's mac sent to the trial statistician):
    as a receipt, for the whole chain up to the moment it was published.
* **Concealed.** The uniform deciding entry ``i`` is
  ``u_i = HMAC-SHA256(K_stream, "trial|seed|i")`` (first 53 bits / 2^53): a pseudo-random
  function of the key. The file stores the seed (it names the stream) but no uniform; without
  the key the next ``u`` cannot be computed, so the log and the sites' allocation list reveal
  nothing about the next allocation beyond what the procedure itself makes predictable from
  the allocations already made (e.g. the last patient of a permuted block; the favoured arm
  under minimization, chosen with probability ``p``).
* **Ids a spreadsheet cannot run.** ``patient_id`` must match the trial's pattern
  (:data:`trialnb.protocol.PATIENT_ID_PATTERN`, stored in the header); every CSV export is
  neutralised as well (:func:`trialnb.files.csv_text`).

What it does **not** protect against: anyone who holds the key. The key holder can predict
every allocation (and choose when to enrol a patient) and can rewrite the whole file with
valid macs and a matching witness; only receipts and heads recorded earlier, outside their
control, expose a rewrite of what they cover. Keep the key with the independent statistician,
not at the sites.

One process at a time: the file is locked (``flock``) while a log object holds it. Opening it
twice says who holds it: this same process (another :class:`AllocationLog` object, which must
be closed first) or another process (its pid where the system tells it).

The key must be at least 16 random bytes (``secrets.token_bytes(32)``). Sub-keys are derived
with HMAC for separate purposes (mac, stream, witness, key identifier), so the published
``key_id`` says which key made the log and reveals nothing about it.
"""

from __future__ import annotations

import copy
import csv
import functools
import io
import json
import os
import re
import secrets
import unicodedata
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import AllocationLogError
from ..files import csv_text, restore_cell, write_bytes_atomic, write_text_atomic
from ..protocol import PATIENT_ID_PATTERN, PATIENT_ID_RULE, Factor, check_patient_factors
from ..validation import check_identifier
from ._common import as_factors
from ._log_chain import (
    ERROR_KINDS,
    FORMAT,
    GENESIS_HASH,
    AllocationReceipt,
    check_head_argument,
    check_receipts,
    check_records,
    fail,
    line_bytes,
    parse,
    short,
)
from ._log_chain import Keys as _Keys
from ._log_files import (
    HELD,
    WITNESS_SUFFIX,
    acquire,
    check_witness,
    read_witness,
    witness_path,
    witness_text,
)
from .procedures import Assignment, Procedure, factors_from_settings, procedure_from_settings

__all__ = [
    "ERROR_KINDS",
    "FORMAT",
    "GENESIS_HASH",
    "WITNESS_SUFFIX",
    "Allocation",
    "AllocationLog",
    "AllocationReceipt",
    "TornLineWarning",
    "allocation_list_csv",
    "entries_from_csv",
    "verify_chain",
]



class TornLineWarning(UserWarning):
    """The log ended with an incomplete line (a write interrupted by a kill); it was dropped."""


class Allocation(dict):
    """One entry of the log (every field of its line, as a ``dict``), with its :attr:`receipt`."""

    @property
    def receipt(self) -> AllocationReceipt:
        """What the site writes on the patient's CRF (:class:`AllocationReceipt`)."""
        return AllocationReceipt(self["seq"], self["mac"], self["patient_id"], self["arm"])


def verify_chain(records: Sequence[Mapping[str, Any]], key: bytes, head: str | None = None) -> list[str]:
    """Problems found in a log's records (header first, then entries); empty list: intact.

    Checks the keyed chain only (:meth:`AllocationLog.open` also replays every allocation
    from the key's stream). Each problem string starts with its kind, e.g. ``"edited: ..."``.
    """
    try:
        check_records(records, _Keys(key), check_head_argument(head))
    except AllocationLogError as exc:
        return [f"{exc.kind}: {p}" for p in exc.problems]
    return []


# ---- the head witness (its reading and checking: _log_files) ---------------------------------


def _write_witness(path: Path, text: str) -> None:
    write_text_atomic(path, text)



# ---- input checks ----------------------------------------------------------------------------


def _check_pattern(pattern: Any) -> str | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str) or not pattern:
        raise AllocationLogError(f"patient_id_pattern must be a regular expression (str) or None, got {short(pattern)}")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise AllocationLogError(f"patient_id_pattern {short(pattern)} is not a regular expression ({exc})") from None
    return pattern


def _check_patient_id(patient_id: Any, pattern: str | None = PATIENT_ID_PATTERN) -> str:
    """The id with Unicode compatibility forms and whitespace normalised, checked against the
    log's pattern (None: any 1 to 64 printable characters)."""
    if not isinstance(patient_id, str):
        raise AllocationLogError(f"patient_id must be a string such as 'P001', got {short(patient_id)}")
    pid = " ".join(unicodedata.normalize("NFKC", patient_id).split())
    if not pid or len(pid) > 64 or not pid.isprintable():
        raise AllocationLogError(
            f"patient_id must have 1 to 64 printable characters after normalising whitespace, got {short(patient_id)}"
        )
    if pattern is not None:
        rule = PATIENT_ID_RULE if pattern == PATIENT_ID_PATTERN else f"text matching the pattern {pattern!r}"
        check_identifier(pid, "patient_id", pattern=pattern, rule=rule, error=AllocationLogError)
    return pid


def _check_timestamp(timestamp: Any) -> str:
    if timestamp is None:
        return datetime.now(timezone.utc).isoformat(timespec="seconds")
    if isinstance(timestamp, str):
        try:
            ts = datetime.fromisoformat(timestamp)
        except ValueError:
            ts = None
    else:
        ts = timestamp if isinstance(timestamp, datetime) else None
    if ts is None or ts.tzinfo is None:
        raise AllocationLogError(
            "timestamp must be None (now) or an ISO 8601 date-time with a time zone, "
            f"e.g. '2026-11-29T17:30:00+00:00', got {short(timestamp)}"
        )
    return ts.isoformat()


def _check_receipt_list(receipts: Any) -> list[AllocationReceipt]:
    if isinstance(receipts, (str, AllocationReceipt)) or not isinstance(receipts, Iterable):
        raise AllocationLogError("receipts must be a list of receipts (AllocationReceipt or codes such as "
                                 f"'12-3f9a1c2b4d5e6f70'), got {short(receipts)}", kind="malformed")
    return [AllocationReceipt.parse(r) for r in receipts]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync(fd: int) -> None:
    os.fsync(fd)


# ---- the log -------------------------------------------------------------------------------


class AllocationLog:
    """Append-only allocation log: durable, keyed (HMAC-SHA256 chain), concealed, with a head
    witness and a receipt per allocation so that a cut at its end is detected.

    Make one with :meth:`create` (a new file), reopen it with :meth:`open`, or use
    :meth:`in_memory` for teaching and benchmarks (nothing on disk: not an audit trail).
    The procedure is bound to the log: its ``assign``/``record`` refuse to run, so every
    allocation goes through :meth:`allocate`.
    """

    # Set by _new (the constructors go around __init__, which refuses to run).
    _keys: _Keys
    path: Path | None
    trial: str
    seed: int
    procedure: Procedure
    patient_id_pattern: str | None
    factors: tuple[Factor, ...]
    _entries: list[dict[str, Any]]
    _ids: set[str]
    assignments: list[Assignment]
    torn_tail: bytes
    witness_path: Path | None
    _fd: int | None
    _fid: tuple[int, int] | None
    _size: int
    _broken: str | None
    _records: list[dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use AllocationLog.create(path, procedure, seed, key=...), AllocationLog.open(path, key=...) "
                        "or AllocationLog.in_memory(procedure, seed, key=...)")

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def _new(cls, procedure: Procedure, seed: int, key: bytes, trial: str, path: Path | None,
             pattern: str | None = PATIENT_ID_PATTERN) -> "AllocationLog":
        if not isinstance(procedure, Procedure):
            raise AllocationLogError("procedure must be a trialnb.randomization procedure, "
                                     f"got {type(procedure).__name__}")
        if procedure.n:
            raise AllocationLogError(f"procedure must be fresh (no allocations), it has {procedure.n}")
        if procedure._bound_to is not None:
            raise AllocationLogError(f"procedure already belongs to the log {procedure._bound_to}", kind="bypass")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise AllocationLogError(f"seed must be a non-negative integer, got {short(seed)}")
        if not isinstance(trial, str) or not trial.strip():
            raise AllocationLogError(f"trial must be a non-empty string, got {short(trial)}")
        self = object.__new__(cls)
        self._keys = _Keys(key)
        self.path = path
        self.trial = trial
        self.seed = int(seed)
        self.procedure = procedure
        self.patient_id_pattern = _check_pattern(pattern)
        self.factors = as_factors(procedure.factors if procedure.uses_factors else None)
        self._entries = []
        self._ids = set()
        self.assignments = []
        self.torn_tail = b""
        self.witness_path = None
        self._fd = None
        self._fid = None
        self._size = 0
        self._broken = None
        return self

    def _header(self, witness: bool) -> dict[str, Any]:
        body = {
            "type": "header", "format": FORMAT, "trial": self.trial, "seed": self.seed,
            "procedure": self.procedure.settings(),
            "factors": [[f.name, list(f.levels)] for f in self.factors],  # a list: keeps the order
            "key_id": self._keys.key_id, "created": _check_timestamp(None), "prev": GENESIS_HASH,
            "stream": "u_i = first 53 bits of HMAC-SHA256(K_stream, 'trial|seed|i') / 2^53; arm A iff u_i < p_A",
            "patient_id_pattern": self.patient_id_pattern, "witness": witness,
            "log_id": secrets.token_hex(8),  # two logs made alike in the same second still differ
        }
        return dict(body, mac=self._keys.sign(body))

    def _who(self, how: str) -> str:
        return f"the AllocationLog object {id(self):#x} made by AllocationLog.{how} at " \
               f"{datetime.now().isoformat(timespec='seconds')}"

    @classmethod
    def create(cls, path: str | os.PathLike, procedure: Procedure, seed: int, *, key: bytes,
               trial: str = "NCT04697043", witness_dir: str | os.PathLike | None = None,
               patient_id_pattern: str | None = PATIENT_ID_PATTERN) -> "AllocationLog":
        """Start a new log file at ``path`` (refused if it exists) for a fresh ``procedure``.

        ``seed`` names the random stream (it is stored; the stream itself needs the key). The
        head witness ``<name>.witness`` is kept in ``witness_dir`` (default: the log's folder;
        another folder or device protects more, see the module docstring); a witness already
        there (a log of that name existed) is refused. ``patient_id_pattern`` (stored in the
        header; default the trial's :data:`~trialnb.protocol.PATIENT_ID_PATTERN`; None: any
        printable id) is the form every ``patient_id`` must have.
        """
        p = Path(path)
        self = cls._new(procedure, seed, key, trial, p, patient_id_pattern)
        wpath = witness_path(p, witness_dir)
        if wpath.exists():
            raise AllocationLogError(f"a head witness {str(wpath)!r} already exists: a log named {p.name!r} was kept "
                                     "there (was it deleted?). Remove the witness deliberately, or choose another name",
                                     kind="exists")
        header = self._header(witness=True)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise AllocationLogError(f"{p} exists; refusing to overwrite a log (use AllocationLog.open to resume it)",
                                     kind="exists") from None
        except OSError as exc:
            raise AllocationLogError(f"cannot create {p}: {exc.strerror}", kind="io") from exc
        self._fd = fd
        self._fid = acquire(fd, p, self._who("create"))
        data = line_bytes(header)
        try:
            _write_all(fd, data)
            _fsync(fd)
            dfd = os.open(p.parent if str(p.parent) else ".", os.O_RDONLY)
            try:
                os.fsync(dfd)  # make the new directory entry durable too
            finally:
                os.close(dfd)
            _write_witness(wpath, witness_text(self._keys, header["mac"], 0, header["mac"]))
        except OSError as exc:
            self.close()
            try:
                os.unlink(p)
            except OSError:
                pass
            raise AllocationLogError(f"cannot write the header of {p} or its head witness: {exc}", kind="io") from exc
        self._size = len(data)
        self._records = [header]
        self.witness_path = wpath
        self._broken = None
        procedure._bound_to = str(p)
        return self

    @classmethod
    def in_memory(cls, procedure: Procedure, seed: int, *, key: bytes, trial: str = "NCT04697043",
                  patient_id_pattern: str | None = PATIENT_ID_PATTERN) -> "AllocationLog":
        """A log kept only in memory (teaching, benchmarks): same chain and stream, no durability."""
        self = cls._new(procedure, seed, key, trial, None, patient_id_pattern)
        self._records = [self._header(witness=False)]
        procedure._bound_to = "<in memory>"
        return self

    @classmethod
    def open(cls, path: str | os.PathLike, *, key: bytes, head: str | None = None, receipts: Iterable[Any] = (),
             witness_dir: str | os.PathLike | None = None, restore_witness: bool = False) -> "AllocationLog":
        """Reopen a log: verify it, check that nothing was cut from its end, drop a torn last line
        (:class:`TornLineWarning`), replay every allocation from the key's stream and resume
        exactly where it stopped.

        A cut at the end is checked against the head witness (in ``witness_dir``, default the
        log's folder; refused if missing or damaged, kind "witness"), every receipt in
        ``receipts`` (codes such as ``"12-3f9a1c2b4d5e6f70"`` from the CRFs) and a published
        ``head``. A lost witness is rebuilt with ``restore_witness=True``, which requires a
        receipt or a head you trust (it vouches for the log up to that point; entries after it
        are taken as they are). Logs made before witnesses existed have none and are not checked.
        """
        p = Path(path)
        keys = _Keys(key)
        head = check_head_argument(head)
        checks = _check_receipt_list(receipts)
        if not isinstance(restore_witness, bool):
            raise AllocationLogError(f"restore_witness must be True or False, got {short(restore_witness)}",
                                     kind="witness")
        if restore_witness and head is None and not checks:
            raise AllocationLogError("restore_witness=True needs evidence of the log's end kept elsewhere: "
                                     "receipts=[...] from the CRFs or a published head=...", kind="witness")
        wpath = witness_path(p, witness_dir)
        try:
            fd = os.open(p, os.O_RDWR | os.O_APPEND)
        except IsADirectoryError:
            raise AllocationLogError(f"cannot open {p}: it is a folder, not a log file", kind="io") from None
        except OSError as exc:
            raise AllocationLogError(f"cannot open {p}: {exc.strerror}", kind="io") from exc
        fid = None
        try:
            fid = acquire(fd, p, f"the log being opened at {datetime.now().isoformat(timespec='seconds')}")
            data = p.read_bytes()
            where = f" {p}"
            self = cls._replay(data, keys, head, where, key, checks)
            witnessed = bool(self._records[0].get("witness"))
            if witnessed and not restore_witness:
                check_witness(read_witness(wpath, keys, self._records[0]["mac"], where), self._records, where)
            self.path = p
            self._fd = fd
            self._fid = fid
            HELD[fid] = self._who("open")
            if self.torn_tail:
                warnings.warn(f"{p}: dropped an incomplete last line of {len(self.torn_tail)} bytes "
                              "(a write interrupted before it was acknowledged)", TornLineWarning, stacklevel=2)
                os.ftruncate(fd, len(data) - len(self.torn_tail))
                _fsync(fd)
            self._size = len(data) - len(self.torn_tail)
            if witnessed:
                self.witness_path = wpath
                _write_witness(wpath, witness_text(keys, self._records[0]["mac"], len(self), self.head))
            self.procedure._bound_to = str(p)
            return self
        except BaseException:
            if fid is not None:
                HELD.pop(fid, None)
            os.close(fd)
            raise

    @classmethod
    def _replay(cls, data: bytes, keys: _Keys, head: str | None, where: str, key: bytes,
                receipts: Sequence[AllocationReceipt] = ()) -> "AllocationLog":
        records, torn = parse(data, where)
        check_records(records, keys, head, where)
        check_receipts(receipts, records[1:], where)
        header = records[0]
        try:
            factors = {str(name): list(levels) for name, levels in header["factors"]}
            settings = dict(header["procedure"])
            if isinstance(settings.get("factors"), dict) and set(settings["factors"]) == set(factors):
                # canonical JSON sorts keys: restore the factor order recorded in the header
                settings["factors"] = {n: settings["factors"][n] for n in factors}
            proc = procedure_from_settings(settings)
            self = cls._new(proc, header["seed"], key, header["trial"], None, header.get("patient_id_pattern"))
        except AllocationLogError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise fail("malformed", [f"the header's settings cannot be used ({short(str(exc), 80)})"], where) from None
        self.factors = as_factors(factors_from_settings(factors))
        self._records = [header]
        self.torn_tail = torn
        for e in records[1:]:
            try:
                levels = proc._levels(e["factors"])
                a, extra = proc._plan(levels, functools.partial(keys.uniform, self.trial, self.seed, e["seq"]))
                consistent = a.arm == e["arm"] and a.probabilities["A"] == e["p_A"]
            except AllocationLogError:
                raise
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise fail("malformed", [f"seq {short(e.get('seq'))}: the entry cannot be replayed "
                                         f"({exc.__class__.__name__}: {short(str(exc), 80)})"], where) from None
            if not consistent:
                raise fail("inconsistent", [f"seq {e['seq']}: the log says arm {short(e['arm'])} with P(A) = "
                                            f"{short(e['p_A'])}, the key's stream gives arm {a.arm} with "
                                            f"P(A) = {a.probabilities['A']}"], where)
            proc._commit(levels, a.arm, extra)
            self._records.append(e)
            self._entries.append(e)
            self._ids.add(e["patient_id"])
            self.assignments.append(a)
        return self

    @classmethod
    def verify_file(cls, path: str | os.PathLike, *, key: bytes, head: str | None = None, receipts: Iterable[Any] = (),
                    witness_dir: str | os.PathLike | None = None) -> int:
        """Verify a log file (or an export) read-only, replaying every allocation; returns the
        number of entries. Raises :class:`AllocationLogError` naming the damage.

        The head witness is checked when ``witness_dir`` is given (it must be there) or when a
        witness for this log lies next to the file; an export has none, so check it against
        ``receipts`` or ``head``.
        """
        p = Path(path)
        head = check_head_argument(head)
        checks = _check_receipt_list(receipts)
        wpath = witness_path(p, witness_dir)
        try:
            data = p.read_bytes()
        except IsADirectoryError:
            raise AllocationLogError(f"cannot read {p}: it is a folder, not a log file", kind="io") from None
        except OSError as exc:
            raise AllocationLogError(f"cannot read {p}: {exc.strerror}", kind="io") from exc
        log = cls._replay(data, _Keys(key), head, f" {p}", key, checks)
        if log._records[0].get("witness") and (witness_dir is not None or wpath.exists()):
            check_witness(read_witness(wpath, log._keys, log._records[0]["mac"], f" {p}"), log._records, f" {p}")
        return len(log)

    # ---- state -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the file (the procedure stays bound: reopen the log to allocate again)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._fid is not None:
            HELD.pop(self._fid, None)
            self._fid = None
        self._broken = self._broken or "closed"

    def __enter__(self) -> "AllocationLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - depends on the garbage collector
        fd = getattr(self, "_fd", None)
        fid = getattr(self, "_fid", None)
        if fid is not None:
            HELD.pop(fid, None)
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    @property
    def head(self) -> str:
        """The last line's mac: publish it (outside the log) so that a cut is detectable."""
        return str(self._records[-1]["mac"])

    @property
    def key_id(self) -> str:
        """Identifier of the key (an HMAC of it; reveals nothing about the key)."""
        return self._keys.key_id

    @property
    def header(self) -> dict[str, Any]:
        """A copy of the header line (trial, seed, procedure settings, factors, key_id, mac)."""
        return copy.deepcopy(self._records[0])

    @property
    def entries(self) -> list[Allocation]:
        """Copies of the entries (the log itself cannot be edited through them)."""
        return [Allocation(copy.deepcopy(e)) for e in self._entries]

    def records(self) -> list[dict[str, Any]]:
        """Copies of every line: the header, then the entries."""
        return copy.deepcopy(self._records)

    def receipt(self, seq: int | None = None) -> AllocationReceipt:
        """The receipt of allocation ``seq`` (default: the last one) for the patient's CRF."""
        n = len(self._entries)
        if seq is None:
            seq = n
        if isinstance(seq, bool) or not isinstance(seq, (int, np.integer)) or not 1 <= seq <= n:
            raise AllocationLogError(f"seq must be an allocation number in [1, {n}], got {short(seq)}",
                                     kind="malformed")
        return Allocation(self._entries[int(seq) - 1]).receipt

    def __len__(self) -> int:
        return len(self._entries)

    # ---- allocating --------------------------------------------------------------------
    def allocate(self, patient: Mapping[str, Any], *, patient_id: str, timestamp: Any = None) -> Allocation:
        """Validate, allocate, write durably and return the entry (a copy, with its ``receipt``).

        Everything is checked before the draw: the factors (``PatientRecordError``), the
        ``patient_id`` (whitespace normalised; of the log's pattern, by default the trial's
        :data:`~trialnb.protocol.PATIENT_ID_PATTERN`; refused if already in the log, kind
        "duplicate_id"), the timestamp (None: now, UTC) and the procedure's own limits. Returns
        only after the line is written and fsynced and the head witness replaced; if any of
        these fails, the file is cut back, the procedure is unchanged and
        :class:`AllocationLogError` (kind "io") says nothing was allocated.
        """
        if self._broken is not None:
            raise AllocationLogError(f"this log cannot allocate ({self._broken}); reopen it with AllocationLog.open",
                                     kind="closed")
        levels = {k: str(v) for k, v in check_patient_factors(patient, self.factors).items()}
        pid = _check_patient_id(patient_id, self.patient_id_pattern)
        if pid in self._ids:
            raise AllocationLogError(f"patient_id {pid!r} is already in the log; a patient is randomized once",
                                     kind="duplicate_id")
        ts = _check_timestamp(timestamp)
        proc = self.procedure
        seq = len(self._entries) + 1
        plevels = proc._levels(levels)
        a, extra = proc._plan(plevels, lambda: self._keys.uniform(self.trial, self.seed, seq))
        body: dict[str, Any] = {
            "type": "allocation", "seq": seq, "patient_id": pid, "factors": levels,
            "stratum": "/".join(levels[f.name] for f in self.factors), "arm": a.arm,
            "p_A": a.probabilities["A"], "p_B": a.probabilities["B"], "tie": a.tie,
            "deterministic": a.deterministic, "explanation": a.explanation, "timestamp": ts,
            "prev": self.head,
        }
        entry = dict(body, mac=self._keys.sign(body))
        self._append(line_bytes(entry), seq, entry["mac"])
        proc._commit(plevels, a.arm, extra)
        self._records.append(entry)
        self._entries.append(entry)
        self._ids.add(pid)
        self.assignments.append(a)
        return Allocation(copy.deepcopy(entry))

    def _append(self, data: bytes, seq: int, mac: str) -> None:
        if self.path is None:
            return
        if self._fd is None:
            raise AllocationLogError("the log is closed; reopen it with AllocationLog.open", kind="closed")
        try:
            _write_all(self._fd, data)
            _fsync(self._fd)
            if self.witness_path is not None:
                _write_witness(self.witness_path, witness_text(self._keys, self._records[0]["mac"], seq, mac))
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)
                _fsync(self._fd)
            except OSError as exc2:
                self._broken = f"rolling back a failed write also failed ({exc2})"
            raise AllocationLogError(
                f"writing entry {seq} to {self.path} (or its head witness) failed ({exc}); nothing was allocated",
                kind="io") from exc
        self._size += len(data)

    # ---- checking and exporting --------------------------------------------------------
    def problems(self, head: str | None = None, receipts: Iterable[Any] = ()) -> list[str]:
        """Problems in the log as it is now on disk (in memory for :meth:`in_memory`), its head
        witness included; [] if intact."""
        try:
            head = check_head_argument(head)
            checks = _check_receipt_list(receipts)
            if self.path is None:
                check_records(self._records, self._keys, head)
                check_receipts(checks, self._records[1:])
            else:
                self._check_disk(head, checks)
        except AllocationLogError as exc:
            return [f"{exc.kind}: {p}" for p in exc.problems]
        return []

    def _check_disk(self, head: str | None, receipts: Sequence[AllocationReceipt] = ()) -> None:
        assert self.path is not None
        where = f" {self.path}"
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise fail("io", [f"cannot read the file ({exc.strerror})"], where) from None
        records, torn = parse(data, where)
        check_records(records, self._keys, head if head is not None else self.head, where)
        check_receipts(receipts, records[1:], where)
        if torn or len(records) != len(self._records):
            raise fail("forged", [f"{len(records) - len(self._records)} lines added to the file behind the log's back"],
                       where)
        if self.witness_path is not None:
            check_witness(read_witness(self.witness_path, self._keys, records[0]["mac"], where), records, where)

    def verify(self, head: str | None = None, receipts: Iterable[Any] = ()) -> bool:
        """True iff the chain is intact, ends at this log's head (or contains ``head`` and every
        receipt) and agrees with its head witness."""
        return not self.problems(head, receipts)

    def export(self, path: str | os.PathLike) -> Path:
        """Copy the verified log (every line, every field) to ``path`` (refused if it exists),
        atomically (a temporary file renamed into place: a full disk leaves nothing behind).

        A reviewer checks it with ``AllocationLog.verify_file(path, key=..., head=...)``.
        """
        p = Path(path)
        if p.exists():
            raise AllocationLogError(f"{p} exists; refusing to overwrite", kind="exists")
        if self.path is not None:
            self._check_disk(None)
        try:
            return write_bytes_atomic(p, b"".join(line_bytes(r) for r in self._records), overwrite=False)
        except FileExistsError:
            raise AllocationLogError(f"{p} exists; refusing to overwrite", kind="exists") from None

    def _csv_columns(self) -> list[str]:
        names = [f.name for f in self.factors]
        return ["seq", "patient_id", *names, "stratum", "arm", "p_A", "p_B", "tie", "deterministic",
                "explanation", "timestamp", "prev", "mac"]

    def to_csv(self) -> str:
        """Every field of every entry as CSV (floats exactly, via repr), so that
        :func:`entries_from_csv` and the header re-verify it with the key. Text cells a
        spreadsheet would run as a formula are neutralised (:func:`trialnb.files.csv_text`)."""
        names = [f.name for f in self.factors]
        rows = ([e["seq"], e["patient_id"], *[e["factors"][n] for n in names], e["stratum"], e["arm"],
                 repr(e["p_A"]), repr(e["p_B"]), json.dumps(e["tie"]), json.dumps(e["deterministic"]),
                 e["explanation"], e["timestamp"], e["prev"], e["mac"]] for e in self._entries)
        return csv_text(rows, self._csv_columns())

    def site_list(self) -> str:
        """The allocation list handed to sites: seq, patient_id, stratum, arm, timestamp (CSV,
        neutralised as :meth:`to_csv`)."""
        return csv_text(([e["seq"], e["patient_id"], e["stratum"], e["arm"], e["timestamp"]] for e in self._entries),
                        ["seq", "patient_id", "stratum", "arm", "timestamp"])


def entries_from_csv(text: str, header: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rebuild the entries from :meth:`AllocationLog.to_csv` (``header``: the log's header line);
    the neutralised cells are restored (:func:`trialnb.files.restore_cell`)."""
    names = [name for name, _ in header["factors"]]
    out = []
    for raw in csv.DictReader(io.StringIO(text)):
        row = {restore_cell(k): restore_cell(v) for k, v in raw.items()}
        out.append({
            "type": "allocation", "seq": int(row["seq"]), "patient_id": row["patient_id"],
            "factors": {n: row[n] for n in names}, "stratum": row["stratum"], "arm": row["arm"],
            "p_A": float(row["p_A"]), "p_B": float(row["p_B"]), "tie": json.loads(row["tie"]),
            "deterministic": json.loads(row["deterministic"]), "explanation": row["explanation"],
            "timestamp": row["timestamp"], "prev": row["prev"], "mac": row["mac"],
        })
    return out


def allocation_list_csv(procedure: Procedure, patients: Sequence[Mapping[str, Any]], seed: int, *,
                        key: bytes, timestamp: Any = "2026-01-01T00:00:00+00:00") -> str:
    """Allocate ``patients`` in order (ids P0001, ...) with an in-memory log; the sites' list."""
    log = AllocationLog.in_memory(procedure, seed, key=key)
    for i, p in enumerate(patients, start=1):
        log.allocate(p, patient_id=f"P{i:04d}", timestamp=timestamp)
    return log.site_list()
