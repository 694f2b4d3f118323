"""A durable, keyed, concealed allocation log (JSON Lines, one entry per line).

What the log promises, and what each promise rests on:

* **Durable.** :meth:`AllocationLog.allocate` returns only after the entry's line has been
  written with ``os.write`` (no user-space buffer to flush) and ``os.fsync`` returned. A
  process killed at any moment therefore loses no *acknowledged* allocation. A line torn by a
  kill was never acknowledged: :meth:`AllocationLog.open` reports it (:class:`TornLineWarning`)
  and drops it. Rests on: ``fsync`` reaching stable storage (the OS and the disk honouring
  it); a disk that lies about flushes, or a lost file system, is not covered.
* **All or nothing.** Everything is validated (factors, ``patient_id``, timestamp, procedure
  limits) before the draw; the procedure's state changes only after the line is on disk. If
  the write or the fsync fails, the file is cut back to its previous length and nothing was
  allocated. If even that fails the log refuses further allocations until it is reopened.
* **Tamper-evident.** Each line carries ``mac = HMAC-SHA256(K_mac, canonical JSON of the
  line without its mac)`` and the previous line's mac in ``prev`` (RFC 2104; the header is
  the first link). ``K_mac`` is derived from a secret key kept *outside* the log. Without the
  key nobody can make a line that verifies, so an edit, a deletion, a reordering or a forged
  line is detected and named (:attr:`AllocationLogError.kind`). A cut at the end leaves a
  valid shorter chain: it is detected only against a ``head`` (the last mac) published
  elsewhere, e.g. e-mailed to the trial statistician after each allocation.
* **Concealed.** The uniform deciding entry ``i`` is
  ``u_i = HMAC-SHA256(K_stream, "trial|seed|i")`` (first 53 bits / 2^53): a pseudo-random
  function of the key. The file stores the seed (it names the stream) but no uniform; without
  the key the next ``u`` cannot be computed, so the log and the sites' allocation list reveal
  nothing about the next allocation beyond what the procedure itself makes predictable from
  the allocations already made (e.g. the last patient of a permuted block; the favoured arm
  under minimization, chosen with probability ``p``).

What it does **not** protect against: anyone who holds the key. The key holder can predict
every allocation (and choose when to enrol a patient) and can rewrite the whole file with
valid macs; only a head published earlier, outside their control, exposes a rewrite of what it
covered. Keep the key with the independent statistician, not at the sites.

The key must be at least 16 random bytes (``secrets.token_bytes(32)``). Sub-keys are derived
with HMAC for separate purposes (mac, stream, key identifier), so the published ``key_id``
says which key made the log and reveals nothing about it.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import hmac
import io
import json
import os
import unicodedata
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import AllocationLogError
from ..protocol import check_patient_factors
from ._common import as_factors
from .procedures import Assignment, Procedure, _factors_from_settings, procedure_from_settings

try:  # advisory lock so that two processes never append to the same log (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT",
    "GENESIS_HASH",
    "AllocationLog",
    "AllocationLogError",
    "TornLineWarning",
    "allocation_list_csv",
    "entries_from_csv",
    "verify_chain",
]

FORMAT = "trialnb-allocation-log/1"
GENESIS_HASH = "0" * 64
"""``prev`` of the header line (the chain's start)."""

ERROR_KINDS: tuple[str, ...] = (
    "edited", "deleted", "reordered", "forged", "wrong_key", "truncated", "malformed",
    "inconsistent", "duplicate_id", "bypass", "exists", "locked", "io", "closed",
)


class TornLineWarning(UserWarning):
    """The log ended with an incomplete line (a write interrupted by a kill); it was dropped."""


# ---- keys, macs, uniforms -------------------------------------------------------------------


def _check_key(key: Any) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise ValueError(
            "key must be at least 16 random bytes kept outside the log, e.g. secrets.token_bytes(32); "
            f"got {type(key).__name__}" + (f" of length {len(key)}" if isinstance(key, (bytes, bytearray)) else "")
        )
    return bytes(key)


class _Keys:
    def __init__(self, key: Any) -> None:
        key = _check_key(key)
        self.mac = hmac.new(key, b"trialnb/allocation-log/mac", hashlib.sha256).digest()
        self.stream = hmac.new(key, b"trialnb/allocation-log/stream", hashlib.sha256).digest()
        self.key_id = hmac.new(key, b"trialnb/allocation-log/key-id", hashlib.sha256).hexdigest()[:16]

    def sign(self, body: Mapping[str, Any]) -> str:
        return hmac.new(self.mac, _canonical(body).encode("utf-8"), hashlib.sha256).hexdigest()

    def uniform(self, trial: str, seed: int, seq: int) -> float:
        d = hmac.new(self.stream, f"{trial}|{seed}|{seq}".encode("utf-8"), hashlib.sha256).digest()
        return (int.from_bytes(d[:8], "big") >> 11) / float(1 << 53)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _line(record: Mapping[str, Any]) -> bytes:
    return (_canonical(record) + "\n").encode("utf-8")


def _body(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "mac"}


# ---- verification --------------------------------------------------------------------------


def _fail(kind: str, problems: list[str], where: str = "") -> AllocationLogError:
    return AllocationLogError(f"allocation log{where} {kind.replace('_', ' ')}: " + "; ".join(problems[:5])
                              + (f"; ... ({len(problems)} problems)" if len(problems) > 5 else ""),
                              kind=kind, problems=problems)


def _check_records(records: Sequence[Mapping[str, Any]], keys: _Keys, head: str | None, where: str = "") -> None:
    """Raise :class:`AllocationLogError` naming the first kind of damage found (all problems listed)."""
    if not records or records[0].get("type") != "header":
        raise _fail("malformed", ["the first line is not the log's header (header deleted or not a log)"], where)
    header = records[0]
    if header.get("format") != FORMAT:
        raise _fail("malformed", [f"unknown format {header.get('format')!r}, expected {FORMAT!r}"], where)
    if header.get("key_id") != keys.key_id and not any(
        hmac.compare_digest(str(e.get("mac")), keys.sign(_body(e))) for e in records[1:]
    ):  # (if this key signed the entries, the header's key_id was edited: reported below)
        raise _fail("wrong_key", [f"the log was made with key {header.get('key_id')!r}, "
                                  f"this key is {keys.key_id!r}"], where)
    found: dict[str, list[str]] = {}

    def add(kind: str, msg: str) -> None:
        found.setdefault(kind, []).append(msg)

    if header.get("prev") != GENESIS_HASH or not hmac.compare_digest(str(header.get("mac")), keys.sign(_body(header))):
        add("edited", "line 1 (header): its mac does not verify (header edited)")
    entries = list(records[1:])
    n = len(entries)
    seqs = [e.get("seq") for e in entries]
    ints = all(isinstance(s, int) and not isinstance(s, bool) for s in seqs)
    if any(e.get("type") != "allocation" for e in entries):
        bad = [i + 2 for i, e in enumerate(entries) if e.get("type") != "allocation"]
        add("malformed", f"lines {bad} are not allocation entries")
    if ints and seqs != list(range(1, n + 1)):
        if sorted(seqs) == list(range(1, n + 1)):
            moved = [i + 2 for i, s in enumerate(seqs) if s != i + 1]
            add("reordered", f"entries out of order at lines {moved} (seq {[seqs[i - 2] for i in moved]})")
        elif len(set(seqs)) == n and seqs == sorted(seqs):
            missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
            add("deleted", f"entries with seq {missing[:10]} are missing")
        else:
            dup = sorted({s for s in seqs if seqs.count(s) > 1})
            add("inserted", f"seq numbers repeated or out of range: {dup or seqs[:10]} (entries inserted)")
    elif not ints:
        add("malformed", "a seq is not an integer")
    for i, r in enumerate(records):
        if r.get("__noncanonical__"):
            add("edited", f"line {i + 1}: its bytes were changed (not the canonical JSON the log writes)")
    prev = str(header.get("mac"))
    for i, e in enumerate(entries):
        line = i + 2
        if not hmac.compare_digest(str(e.get("mac")), keys.sign(_body(e))):
            vouched = (i + 1 < n and entries[i + 1].get("prev") == e.get("mac")) or (head is not None and head == e.get("mac"))
            if vouched:
                add("edited", f"line {line} (seq {e.get('seq')!r}): its mac does not verify (entry edited)")
            else:
                add("forged", f"line {line} (seq {e.get('seq')!r}): a mac the key never made (entry forged)")
        elif e.get("prev") != prev:
            add("forged", f"line {line} (seq {e.get('seq')!r}): a valid entry from another chain (spliced in)")
        prev = str(e.get("mac"))
    if head is not None and not found:
        macs = [str(header.get("mac"))] + [str(e.get("mac")) for e in entries]
        if head not in macs:
            add("truncated", f"the published head {head[:16]}... is not in the log: entries were cut from its end "
                             f"(the log now ends at seq {n})")
    for kind in ("malformed", "reordered", "deleted", "inserted", "edited", "forged", "truncated"):
        if kind in found:
            allp = [p for k in found for p in found[k]]
            # an inserted entry is a forged one (the key never signed it in that place)
            raise _fail("forged" if kind == "inserted" else kind,
                        found[kind] + [p for p in allp if p not in found[kind]], where)


def verify_chain(records: Sequence[Mapping[str, Any]], key: bytes, head: str | None = None) -> list[str]:
    """Problems found in a log's records (header first, then entries); empty list: intact.

    Checks the keyed chain only (:meth:`AllocationLog.open` also replays every allocation
    from the key's stream). Each problem string starts with its kind, e.g. ``"edited: ..."``.
    """
    try:
        _check_records(records, _Keys(key), head)
    except AllocationLogError as exc:
        return [f"{exc.kind}: {p}" for p in exc.problems]
    return []


def _parse(data: bytes, where: str) -> tuple[list[dict[str, Any]], bytes, int]:
    """(records of the complete lines, torn tail bytes, byte length of the complete lines).

    A line that is valid JSON but not in canonical form (e.g. ``1e0`` written for ``1.0``) is
    marked ``{"__noncanonical__": True}`` so that verification names it as edited: every byte
    of the file is covered, not only its meaning."""
    cut = data.rfind(b"\n") + 1
    torn = data[cut:]
    records: list[dict[str, Any]] = []
    bad: list[str] = []
    for i, raw in enumerate(data[:cut].split(b"\n")[:-1], start=1):
        try:
            rec = json.loads(raw.decode("utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("not an object")
            if _line(rec) != raw + b"\n":
                rec["__noncanonical__"] = True
            records.append(rec)
        except (UnicodeDecodeError, ValueError) as exc:
            bad.append(f"line {i} is not a JSON object ({exc.__class__.__name__})")
            records.append({})
    if bad:
        raise _fail("malformed", bad, where)
    if not records:
        raise _fail("malformed", ["no complete header line (the log was never created completely)"], where)
    return records, torn, cut


# ---- input checks ----------------------------------------------------------------------------


def _check_patient_id(patient_id: Any) -> str:
    if not isinstance(patient_id, str):
        raise ValueError(f"patient_id must be a string such as 'P001', got {patient_id!r}")
    pid = " ".join(unicodedata.normalize("NFKC", patient_id).split())
    if not pid or len(pid) > 64 or not pid.isprintable():
        raise ValueError(
            f"patient_id must have 1 to 64 printable characters after normalising whitespace, got {patient_id!r}"
        )
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
        raise ValueError(
            "timestamp must be None (now) or an ISO 8601 date-time with a time zone, "
            f"e.g. '2026-11-29T17:30:00+00:00', got {timestamp!r}"
        )
    return ts.isoformat()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync(fd: int) -> None:
    os.fsync(fd)


# ---- the log -------------------------------------------------------------------------------


class AllocationLog:
    """Append-only allocation log: durable, keyed (HMAC-SHA256 chain), concealed.

    Make one with :meth:`create` (a new file), reopen it with :meth:`open`, or use
    :meth:`in_memory` for teaching and benchmarks (nothing on disk: not an audit trail).
    The procedure is bound to the log: its ``assign``/``record`` refuse to run, so every
    allocation goes through :meth:`allocate`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use AllocationLog.create(path, procedure, seed, key=...), AllocationLog.open(path, key=...) "
                        "or AllocationLog.in_memory(procedure, seed, key=...)")

    # ---- construction ------------------------------------------------------------------
    @classmethod
    def _new(cls, procedure: Procedure, seed: int, key: bytes, trial: str, path: Path | None) -> "AllocationLog":
        if not isinstance(procedure, Procedure):
            raise ValueError(f"procedure must be a trialnb.randomization procedure, got {type(procedure).__name__}")
        if procedure.n:
            raise ValueError(f"procedure must be fresh (no allocations), it has {procedure.n}")
        if procedure._bound_to is not None:
            raise AllocationLogError(f"procedure already belongs to the log {procedure._bound_to}", kind="bypass")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(trial, str) or not trial.strip():
            raise ValueError(f"trial must be a non-empty string, got {trial!r}")
        self = object.__new__(cls)
        self._keys = _Keys(key)
        self.path = path
        self.trial = trial
        self.seed = int(seed)
        self.procedure = procedure
        self.factors = as_factors(procedure.factors if procedure.uses_factors else None)
        self._entries: list[dict[str, Any]] = []
        self._ids: set[str] = set()
        self.assignments: list[Assignment] = []
        self.torn_tail: bytes = b""
        self._fd: int | None = None
        self._size = 0
        self._broken: str | None = None
        return self

    def _header(self) -> dict[str, Any]:
        body = {
            "type": "header", "format": FORMAT, "trial": self.trial, "seed": self.seed,
            "procedure": self.procedure.settings(),
            "factors": [[f.name, list(f.levels)] for f in self.factors],  # a list: keeps the order
            "key_id": self._keys.key_id, "created": _check_timestamp(None), "prev": GENESIS_HASH,
            "stream": "u_i = first 53 bits of HMAC-SHA256(K_stream, 'trial|seed|i') / 2^53; arm A iff u_i < p_A",
        }
        return dict(body, mac=self._keys.sign(body))

    @classmethod
    def create(cls, path: str | os.PathLike, procedure: Procedure, seed: int, *, key: bytes,
               trial: str = "NCT04697043") -> "AllocationLog":
        """Start a new log file at ``path`` (refused if it exists) for a fresh ``procedure``.

        ``seed`` names the random stream (it is stored; the stream itself needs the key).
        """
        p = Path(path)
        self = cls._new(procedure, seed, key, trial, p)
        header = self._header()
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise AllocationLogError(f"{p} exists; refusing to overwrite a log (use AllocationLog.open to resume it)",
                                     kind="exists") from None
        except OSError as exc:
            raise AllocationLogError(f"cannot create {p}: {exc.strerror}", kind="io") from exc
        self._fd = fd
        self._lock()
        data = _line(header)
        try:
            _write_all(fd, data)
            _fsync(fd)
            dfd = os.open(p.parent if str(p.parent) else ".", os.O_RDONLY)
            try:
                os.fsync(dfd)  # make the new directory entry durable too
            finally:
                os.close(dfd)
        except OSError as exc:
            os.close(fd)
            self._fd = None
            try:
                os.unlink(p)
            except OSError:
                pass
            raise AllocationLogError(f"cannot write the header of {p}: {exc}", kind="io") from exc
        self._size = len(data)
        self._records = [header]
        procedure._bound_to = str(p)
        return self

    @classmethod
    def in_memory(cls, procedure: Procedure, seed: int, *, key: bytes, trial: str = "NCT04697043") -> "AllocationLog":
        """A log kept only in memory (teaching, benchmarks): same chain and stream, no durability."""
        self = cls._new(procedure, seed, key, trial, None)
        self._records = [self._header()]
        procedure._bound_to = "<in memory>"
        return self

    @classmethod
    def open(cls, path: str | os.PathLike, *, key: bytes, head: str | None = None) -> "AllocationLog":
        """Reopen a log: verify it (and, given a published ``head``, that nothing was cut from
        its end), drop a torn last line (:class:`TornLineWarning`), replay every allocation
        from the key's stream and resume exactly where it stopped."""
        p = Path(path)
        keys = _Keys(key)
        try:
            fd = os.open(p, os.O_RDWR | os.O_APPEND)
        except OSError as exc:
            raise AllocationLogError(f"cannot open {p}: {exc.strerror}", kind="io") from exc
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    raise AllocationLogError(f"{p} is in use by another process", kind="locked") from None
            data = p.read_bytes()
            self = cls._replay(data, keys, head, f" {p}", key)
            self.path = p
            self._fd = fd
            if self.torn_tail:
                warnings.warn(f"{p}: dropped an incomplete last line of {len(self.torn_tail)} bytes "
                              "(a write interrupted before it was acknowledged)", TornLineWarning, stacklevel=2)
                os.ftruncate(fd, len(data) - len(self.torn_tail))
                _fsync(fd)
            self._size = len(data) - len(self.torn_tail)
            self.procedure._bound_to = str(p)
            return self
        except BaseException:
            os.close(fd)
            raise

    @classmethod
    def _replay(cls, data: bytes, keys: _Keys, head: str | None, where: str, key: bytes) -> "AllocationLog":
        records, torn, _ = _parse(data, where)
        _check_records(records, keys, head, where)
        header = records[0]
        try:
            factors = {str(name): list(levels) for name, levels in header["factors"]}
            settings = dict(header["procedure"])
            if isinstance(settings.get("factors"), dict) and set(settings["factors"]) == set(factors):
                # canonical JSON sorts keys: restore the factor order recorded in the header
                settings["factors"] = {n: settings["factors"][n] for n in factors}
            proc = procedure_from_settings(settings)
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail("malformed", [f"the header's procedure settings cannot be used ({exc})"], where) from None
        self = cls._new(proc, header["seed"], key, header["trial"], None)
        self.factors = as_factors(_factors_from_settings(factors))
        self._records = [header]
        self.torn_tail = torn
        for e in records[1:]:
            levels = proc._levels(e["factors"])
            a, extra = proc._plan(levels, lambda s=e["seq"]: keys.uniform(self.trial, self.seed, s))
            if a.arm != e["arm"] or a.probabilities["A"] != e["p_A"]:
                raise _fail("inconsistent", [f"seq {e['seq']}: the log says arm {e['arm']} with P(A) = {e['p_A']}, "
                                             f"the key's stream gives arm {a.arm} with P(A) = {a.probabilities['A']}"], where)
            proc._commit(levels, a.arm, extra)
            self._records.append(e)
            self._entries.append(e)
            self._ids.add(e["patient_id"])
            self.assignments.append(a)
        return self

    @classmethod
    def verify_file(cls, path: str | os.PathLike, *, key: bytes, head: str | None = None) -> int:
        """Verify a log file (or an export) read-only, replaying every allocation; returns the
        number of entries. Raises :class:`AllocationLogError` naming the damage."""
        p = Path(path)
        log = cls._replay(p.read_bytes(), _Keys(key), head, f" {p}", key)
        return len(log)

    # ---- state -------------------------------------------------------------------------
    def _lock(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def close(self) -> None:
        """Release the file (the procedure stays bound: reopen the log to allocate again)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._broken = self._broken or "closed"

    def __enter__(self) -> "AllocationLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - depends on the garbage collector
        fd = getattr(self, "_fd", None)
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
    def entries(self) -> list[dict[str, Any]]:
        """Copies of the entries (the log itself cannot be edited through them)."""
        return copy.deepcopy(self._entries)

    def records(self) -> list[dict[str, Any]]:
        """Copies of every line: the header, then the entries."""
        return copy.deepcopy(self._records)

    def __len__(self) -> int:
        return len(self._entries)

    # ---- allocating --------------------------------------------------------------------
    def allocate(self, patient: Mapping[str, Any], *, patient_id: str, timestamp: Any = None) -> dict[str, Any]:
        """Validate, allocate, write durably and return the entry (a copy).

        Everything is checked before the draw: the factors (``PatientRecordError``), the
        ``patient_id`` (whitespace normalised; refused if already in the log, kind
        "duplicate_id"), the timestamp (None: now, UTC) and the procedure's own limits. Returns
        only after write and fsync; if either fails, the file is cut back, the procedure is
        unchanged and :class:`AllocationLogError` (kind "io") says nothing was allocated.
        """
        if self._broken is not None:
            raise AllocationLogError(f"this log cannot allocate ({self._broken}); reopen it with AllocationLog.open",
                                     kind="closed")
        levels = {k: str(v) for k, v in check_patient_factors(patient, self.factors).items()}
        pid = _check_patient_id(patient_id)
        if pid in self._ids:
            raise AllocationLogError(f"patient_id {pid!r} is already in the log; a patient is randomized once",
                                     kind="duplicate_id")
        ts = _check_timestamp(timestamp)
        proc = self.procedure
        seq = len(self._entries) + 1
        plevels = proc._levels(levels)
        a, extra = proc._plan(plevels, lambda: self._keys.uniform(self.trial, self.seed, seq))
        body = {
            "type": "allocation", "seq": seq, "patient_id": pid, "factors": levels,
            "stratum": "/".join(levels[f.name] for f in self.factors), "arm": a.arm,
            "p_A": a.probabilities["A"], "p_B": a.probabilities["B"], "tie": a.tie,
            "deterministic": a.deterministic, "explanation": a.explanation, "timestamp": ts,
            "prev": self.head,
        }
        entry = dict(body, mac=self._keys.sign(body))
        self._append(_line(entry), seq)
        proc._commit(plevels, a.arm, extra)
        self._records.append(entry)
        self._entries.append(entry)
        self._ids.add(pid)
        self.assignments.append(a)
        return copy.deepcopy(entry)

    def _append(self, data: bytes, seq: int) -> None:
        if self.path is None:
            return
        if self._fd is None:
            raise AllocationLogError("the log is closed; reopen it with AllocationLog.open", kind="closed")
        try:
            _write_all(self._fd, data)
            _fsync(self._fd)
        except OSError as exc:
            try:
                os.ftruncate(self._fd, self._size)
                _fsync(self._fd)
            except OSError as exc2:
                self._broken = f"rolling back a failed write also failed ({exc2})"
            raise AllocationLogError(
                f"writing entry {seq} to {self.path} failed ({exc}); nothing was allocated", kind="io"
            ) from exc
        self._size += len(data)

    # ---- checking and exporting --------------------------------------------------------
    def problems(self, head: str | None = None) -> list[str]:
        """Problems in the log as it is now on disk (in memory for :meth:`in_memory`); [] if intact."""
        try:
            if self.path is None:
                _check_records(self._records, self._keys, head)
            else:
                self._check_disk(head)
        except AllocationLogError as exc:
            return [f"{exc.kind}: {p}" for p in exc.problems]
        return []

    def _check_disk(self, head: str | None) -> None:
        assert self.path is not None
        data = self.path.read_bytes()
        records, torn, _ = _parse(data, f" {self.path}")
        _check_records(records, self._keys, head if head is not None else self.head, f" {self.path}")
        if torn or len(records) != len(self._records):
            raise _fail("forged", [f"{len(records) - len(self._records)} lines added to the file behind the log's back"])

    def verify(self, head: str | None = None) -> bool:
        """True iff the chain is intact and ends at this log's head (or contains ``head``)."""
        return not self.problems(head)

    def export(self, path: str | os.PathLike) -> Path:
        """Copy the verified log (every line, every field) to ``path`` (refused if it exists).

        A reviewer checks it with ``AllocationLog.verify_file(path, key=..., head=...)``.
        """
        p = Path(path)
        if p.exists():
            raise AllocationLogError(f"{p} exists; refusing to overwrite", kind="exists")
        if self.path is not None:
            self._check_disk(None)
        p.write_bytes(b"".join(_line(r) for r in self._records))
        return p

    def _csv_columns(self) -> list[str]:
        names = [f.name for f in self.factors]
        return ["seq", "patient_id", *names, "stratum", "arm", "p_A", "p_B", "tie", "deterministic",
                "explanation", "timestamp", "prev", "mac"]

    def to_csv(self) -> str:
        """Every field of every entry as CSV (floats exactly, via repr), so that
        :func:`entries_from_csv` and the header re-verify it with the key."""
        buf = io.StringIO()
        names = [f.name for f in self.factors]
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self._csv_columns())
        for e in self._entries:
            w.writerow([e["seq"], e["patient_id"], *[e["factors"][n] for n in names], e["stratum"], e["arm"],
                        repr(e["p_A"]), repr(e["p_B"]), json.dumps(e["tie"]), json.dumps(e["deterministic"]),
                        e["explanation"], e["timestamp"], e["prev"], e["mac"]])
        return buf.getvalue()

    def site_list(self) -> str:
        """The allocation list handed to sites: seq, patient_id, stratum, arm, timestamp (CSV)."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["seq", "patient_id", "stratum", "arm", "timestamp"])
        for e in self._entries:
            w.writerow([e["seq"], e["patient_id"], e["stratum"], e["arm"], e["timestamp"]])
        return buf.getvalue()


def entries_from_csv(text: str, header: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rebuild the entries from :meth:`AllocationLog.to_csv` (``header``: the log's header line)."""
    names = [name for name, _ in header["factors"]]
    out = []
    for row in csv.DictReader(io.StringIO(text)):
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
