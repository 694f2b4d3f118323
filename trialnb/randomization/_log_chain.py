"""The allocation log's keyed chain: keys, canonical lines, parsing and verification (private
to :mod:`trialnb.randomization.log`).

Verification is bounded by the file: every step is one pass over the lines (or a sort of the
sequence numbers), every message shows at most a few values, each cut to a few dozen
characters, and nothing is built from a value read in the file (no ``range(max(seq))``). Any
damage, whatever its bytes (a huge integer, a string where a number was, a non-ASCII or lone
surrogate character, a nested object, invalid UTF-8, an object nested thousands deep), ends in
one :class:`~trialnb.errors.AllocationLogError` whose ``kind`` names it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..errors import AllocationLogError

FORMAT = "trialnb-allocation-log/1"
GENESIS_HASH = "0" * 64
"""``prev`` of the header line (the chain's start)."""

ERROR_KINDS: tuple[str, ...] = (
    "edited", "deleted", "reordered", "forged", "wrong_key", "truncated", "rewritten", "witness", "malformed",
    "inconsistent", "duplicate_id", "bypass", "exists", "locked", "io", "closed",
)

RECEIPT_HEX = 16
"""Hex digits of the head a receipt carries (64 bits: without the key, a guess matches with
probability 2^-64)."""

_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_LONG_DIGITS = re.compile(rb"[0-9]{300,}")
"""A run of digits no line of a log contains: refused before parsing, so that converting a huge
integer cannot take time quadratic in its length (even with ``sys.set_int_max_str_digits(0)``)."""
_RECEIPT = re.compile(r"([1-9][0-9]{0,17})-([0-9a-f]{16,64})", re.ASCII)


def short(value: Any, limit: int = 40) -> str:
    """``repr`` of a value read from a file, cut to ``limit`` characters (bounded messages)."""
    try:
        r = repr(value)
    except (ValueError, RecursionError):  # an int beyond the str-conversion limit, a deep object
        return f"<{type(value).__name__} too large to show>"
    return r if len(r) <= limit else f"{r[:limit]}... ({len(r)} characters)"


def check_key(key: Any) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise ValueError(
            "key must be at least 16 random bytes kept outside the log, e.g. secrets.token_bytes(32); "
            f"got {type(key).__name__}" + (f" of length {len(key)}" if isinstance(key, (bytes, bytearray)) else "")
        )
    return bytes(key)


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def line_bytes(record: Mapping[str, Any]) -> bytes:
    return (canonical(record) + "\n").encode("utf-8")


def body(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "mac"}


def same(stored: Any, expected: str) -> bool:
    """Constant-time ``stored == expected`` for a value read from a file (any type, any text)."""
    if not isinstance(stored, str):
        return False
    return hmac.compare_digest(stored.encode("utf-8", "surrogatepass"), expected.encode("ascii"))


class Keys:
    """The sub-keys derived from the secret key (RFC 2104 HMAC-SHA256, one label each)."""

    def __init__(self, key: Any) -> None:
        key = check_key(key)
        self.mac = hmac.new(key, b"trialnb/allocation-log/mac", hashlib.sha256).digest()
        self.stream = hmac.new(key, b"trialnb/allocation-log/stream", hashlib.sha256).digest()
        self.witness = hmac.new(key, b"trialnb/allocation-log/witness", hashlib.sha256).digest()
        self.key_id = hmac.new(key, b"trialnb/allocation-log/key-id", hashlib.sha256).hexdigest()[:16]

    def sign(self, record_body: Mapping[str, Any]) -> str:
        return hmac.new(self.mac, canonical(record_body).encode("utf-8"), hashlib.sha256).hexdigest()

    def sign_witness(self, record_body: Mapping[str, Any]) -> str:
        return hmac.new(self.witness, canonical(record_body).encode("utf-8"), hashlib.sha256).hexdigest()

    def uniform(self, trial: str, seed: int, seq: int) -> float:
        d = hmac.new(self.stream, f"{trial}|{seed}|{seq}".encode("utf-8"), hashlib.sha256).digest()
        return (int.from_bytes(d[:8], "big") >> 11) / float(1 << 53)


def verifies(keys: Keys, record: Mapping[str, Any]) -> bool:
    """True iff ``record``'s mac is the key's mac of the rest of it (False for anything the log
    could not have written: a value JSON cannot encode, a lone surrogate, a non-string mac)."""
    try:
        return same(record.get("mac"), keys.sign(body(record)))
    except (TypeError, ValueError, RecursionError):
        return False


def fail(kind: str, problems: list[str], where: str = "") -> AllocationLogError:
    return AllocationLogError(f"allocation log{where} {kind.replace('_', ' ')}: " + "; ".join(problems[:5])
                              + (f"; ... ({len(problems)} problems)" if len(problems) > 5 else ""),
                              kind=kind, problems=problems)


def _lines_text(lines: list[int], limit: int = 10) -> str:
    shown = ", ".join(map(str, lines[:limit]))
    return shown + (f", ... ({len(lines)} lines)" if len(lines) > limit else "")


def parse(data: bytes, where: str) -> tuple[list[dict[str, Any]], bytes]:
    """(records of the complete lines, torn tail bytes).

    A line that is valid JSON but not in canonical form (e.g. ``1e0`` written for ``1.0``) is
    marked ``{"__noncanonical__": True}`` so that verification names it as edited: every byte
    of the file is covered, not only its meaning. A line that is not a JSON object (invalid
    UTF-8, a lone surrogate, an integer beyond Python's 4300-digit conversion limit, NaN,
    nesting deeper than the interpreter allows) is malformed."""
    cut = data.rfind(b"\n") + 1
    torn = data[cut:]
    records: list[dict[str, Any]] = []
    bad: list[int] = []
    for i, raw in enumerate(data[:cut].split(b"\n")[:-1], start=1):
        try:
            if _LONG_DIGITS.search(raw):
                raise ValueError("a number of 300 digits or more")
            rec = json.loads(raw.decode("utf-8"))
            if not isinstance(rec, dict):
                raise ValueError("not an object")
            if line_bytes(rec) != raw + b"\n":
                rec["__noncanonical__"] = True
            records.append(rec)
        except (ValueError, RecursionError):  # UnicodeError and JSONDecodeError are ValueErrors
            bad.append(i)
            records.append({})
    if bad:
        raise fail("malformed", [f"lines {_lines_text(bad)} are not JSON objects of the log "
                                 "(not UTF-8 JSON, or a value JSON cannot round-trip)"], where)
    if not records:
        raise fail("malformed", ["no complete header line (the log was never created completely)"], where)
    return records, torn


def check_records(records: Sequence[Mapping[str, Any]], keys: Keys, head: str | None, where: str = "") -> None:
    """Raise :class:`AllocationLogError` naming the first kind of damage found (all problems listed).

    Order of the verdicts: malformed, reordered, deleted, inserted (reported as forged),
    edited, forged, truncated. The sequence numbers are judged only on lines whose mac
    verifies: a line whose mac fails is an edit or a forgery, whatever its ``seq`` says.
    """
    if not records or not all(isinstance(r, Mapping) for r in records) or records[0].get("type") != "header":
        raise fail("malformed", ["the first line is not the log's header (header deleted or not a log)"], where)
    header = records[0]
    if header.get("format") != FORMAT:
        raise fail("malformed", [f"unknown format {short(header.get('format'))}, expected {FORMAT!r}"], where)
    entries = list(records[1:])
    n = len(entries)
    signed = [verifies(keys, e) for e in entries]
    header_ok = header.get("prev") == GENESIS_HASH and verifies(keys, header)
    if header.get("key_id") != keys.key_id and not header_ok and not any(signed):
        # (if this key signed the lines, the header's key_id was edited: reported below)
        raise fail("wrong_key", [f"the log was made with key {short(header.get('key_id'))}, "
                                 f"this key is {keys.key_id!r}"], where)
    found: dict[str, list[str]] = {}

    def add(kind: str, msg: str) -> None:
        found.setdefault(kind, []).append(msg)

    if not header_ok:
        add("edited", "line 1 (header): its mac does not verify (header edited)")
    not_entries = [i + 2 for i, e in enumerate(entries) if signed[i] and e.get("type") != "allocation"]
    if not_entries:
        add("malformed", f"lines {_lines_text(not_entries)} are signed but are not allocation entries")
    seqs = [e.get("seq") for e in entries]
    not_int = [i + 2 for i, s in enumerate(seqs) if signed[i] and type(s) is not int]
    int_seqs: list[int] = [s for s in seqs if type(s) is int]
    if not_int:
        add("malformed", f"lines {_lines_text(not_int)} are signed but their seq is not an integer")
    elif len(int_seqs) == len(seqs) and any(s != i + 1 for i, s in enumerate(int_seqs)):
        if all(signed) and sorted(int_seqs) == list(range(1, n + 1)):
            moved = [i + 2 for i, s in enumerate(int_seqs) if s != i + 1]
            add("reordered", f"entries out of order at lines {_lines_text(moved)}")
        elif all(signed) and int_seqs[0] >= 1 and all(b > a for a, b in zip(int_seqs, int_seqs[1:], strict=False)):
            missing: list[int] = []
            total = 0
            for a, b in zip([0] + int_seqs, int_seqs, strict=False):  # the gaps between consecutive seq numbers
                total += b - a - 1
                missing.extend(range(a + 1, min(b, a + 1 + 10 - len(missing))))
            add("deleted", f"{total} entries missing before seq {int_seqs[-1]}: seq {missing[:10]}"
                + (" ..." if total > 10 else ""))
        else:
            counts = Counter(s for s, ok in zip(int_seqs, signed, strict=True) if ok)
            dup = sorted(s for s, c in counts.items() if c > 1)
            if dup:
                add("inserted", f"signed entries repeated: seq {[short(s) for s in dup[:10]]} "
                                "(a valid line copied into the log)")
    for i, r in enumerate(records):
        if r.get("__noncanonical__"):
            add("edited", f"line {i + 1}: its bytes were changed (not the canonical JSON the log writes)")
    macs = Counter(e.get("mac") for e in entries if isinstance(e.get("mac"), str))
    prev: Any = header.get("mac")
    for i, e in enumerate(entries):
        line, mac = i + 2, e.get("mac")
        if not signed[i]:
            unique = isinstance(mac, str) and macs[mac] == 1 and mac != header.get("mac")
            vouched = unique and ((i + 1 < n and entries[i + 1].get("prev") == mac) or head == mac)
            if vouched:
                add("edited", f"line {line} (seq {short(e.get('seq'))}): its mac does not verify (entry edited)")
            else:
                add("forged", f"line {line} (seq {short(e.get('seq'))}): a mac the key never made (entry forged)")
        elif e.get("prev") != prev:
            add("forged", f"line {line} (seq {short(e.get('seq'))}): a valid entry from another place "
                          "in the chain or another chain (spliced in)")
        prev = mac
    if head is not None and not found:
        if head != header.get("mac") and head not in macs:
            add("truncated", f"the published head {head[:16]}... is not in the log: entries were cut from its end "
                             f"(the log now ends at seq {n}), or the log was replaced or rewritten")
    for kind in ("malformed", "reordered", "deleted", "inserted", "edited", "forged", "truncated"):
        if kind in found:
            rest = [p for k in found if k != kind for p in found[k]]
            # an inserted entry is a forged one (the key never signed it in that place)
            raise fail("forged" if kind == "inserted" else kind, found[kind] + rest, where)


@dataclass(frozen=True)
class AllocationReceipt:
    """What the site writes on the patient's CRF after an allocation: the sequence number and
    the log's running head (the allocation's mac) at that moment.

    ``code`` (``"12-3f9a1c2b4d5e6f70"``: seq, then the first :data:`RECEIPT_HEX` hex digits of
    the head) is short enough to copy by hand. Checked with
    ``AllocationLog.open(path, key=..., receipts=[...])`` (or ``verify_file``): the log must still
    contain entry ``seq`` with that head, so a log cut below ``seq``, or replaced by another log
    or by a rewrite made with the key, is detected and named ("truncated", "rewritten").
    """

    seq: int
    head: str
    patient_id: str = ""
    arm: str = ""

    @property
    def code(self) -> str:
        return f"{self.seq}-{self.head[:RECEIPT_HEX]}"

    def __str__(self) -> str:
        who = f"{self.patient_id}, arm {self.arm}, " if self.patient_id else ""
        return f"allocation {self.seq} ({who}receipt {self.code})"

    @classmethod
    def parse(cls, value: Any) -> "AllocationReceipt":
        """A receipt from its ``code`` (or an :class:`AllocationReceipt`, returned as is)."""
        if isinstance(value, AllocationReceipt):
            return value
        if isinstance(value, str):
            m = _RECEIPT.fullmatch(value.strip().lower())
            if m is not None:
                return cls(int(m.group(1)), m.group(2))
        raise AllocationLogError(
            "a receipt must be an AllocationReceipt or its code 'SEQ-HEAD' (the allocation's number, '-', "
            f"at least {RECEIPT_HEX} hex digits of its head, e.g. '12-3f9a1c2b4d5e6f70'), got {short(value)}",
            kind="malformed")


def check_head_argument(head: Any) -> str | None:
    """``head=`` of open/verify: None, or a full head (64 lower-case hex digits)."""
    if head is None:
        return None
    if isinstance(head, str) and _HEX64.fullmatch(head):
        return head
    raise AllocationLogError(f"head must be a log head (64 hex digits, log.head) or None, got {short(head)}; "
                             "a receipt code goes to receipts=[...]", kind="malformed")


def check_receipts(receipts: Sequence[AllocationReceipt], entries: Sequence[Mapping[str, Any]],
                   where: str = "") -> None:
    """Every receipt's entry is in the log with the receipt's head, or AllocationLogError."""
    n = len(entries)
    cut = [r for r in receipts if r.seq > n]
    if cut:
        top = max(cut, key=lambda r: r.seq)
        raise fail("truncated", [f"receipt {top.code} names allocation {top.seq}, the log ends at seq {n}: "
                                 "entries were cut from its end"], where)
    other = [r for r in receipts if not str(entries[r.seq - 1].get("mac", "")).startswith(r.head)]
    if other:
        raise fail("rewritten", [f"receipt {r.code}: allocation {r.seq} in the log has another head "
                                 f"({str(entries[r.seq - 1].get('mac'))[:RECEIPT_HEX]}): the log was rewritten "
                                 "(with the key) or is another log" for r in other], where)
