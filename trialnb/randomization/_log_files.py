"""The allocation log's second file and its lock (private to :mod:`trialnb.randomization.log`):
the head witness (where it lives, its keyed content, reading and checking it) and the
per-process registry of held logs that lets a refused lock say who holds the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import AllocationLogError
from ._log_chain import Keys, fail, line_bytes, short

try:  # advisory lock so that two processes never append to the same log (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

WITNESS_FORMAT = "trialnb-allocation-witness/1"
WITNESS_SUFFIX = ".witness"
"""The head witness of ``log.jsonl`` is ``log.jsonl.witness`` in the witness folder."""
WITNESS_MAX_BYTES = 4096


def witness_path(log_path: Path, witness_dir: Any) -> Path:
    if witness_dir is None:
        return log_path.parent / (log_path.name + WITNESS_SUFFIX)
    if not isinstance(witness_dir, (str, os.PathLike)) or not str(os.fspath(witness_dir)).strip():
        raise AllocationLogError("witness_dir must be a folder path or None (the log's folder), "
                                 f"got {short(witness_dir)}", kind="witness")
    folder = Path(witness_dir)
    if not folder.is_dir():
        raise AllocationLogError(f"witness_dir {str(folder)!r} is not an existing folder", kind="witness")
    return folder / (log_path.name + WITNESS_SUFFIX)


def witness_text(keys: Keys, header_mac: str, seq: int, head: str) -> str:
    body = {"type": "witness", "format": WITNESS_FORMAT, "log": header_mac, "key_id": keys.key_id,
            "seq": seq, "head": head}
    return line_bytes(dict(body, mac=keys.sign_witness(body))).decode("utf-8")


def read_witness(path: Path, keys: Keys, header_mac: str, where: str) -> tuple[int, str]:
    """(seq, head) the witness vouches for; AllocationLogError (kind "witness") if it cannot."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(WITNESS_MAX_BYTES + 1)
    except FileNotFoundError:
        raise fail("witness", [f"its head witness {str(path)!r} is missing: a cut at the end of the log cannot be "
                               "ruled out. If the witness is in another folder, pass witness_dir=...; if it was lost, "
                               "reopen with receipts=[...] or head=... you trust and restore_witness=True"],
                   where) from None
    except OSError as exc:
        raise fail("witness", [f"its head witness {str(path)!r} cannot be read ({exc.strerror})"], where) from None
    try:
        if len(data) > WITNESS_MAX_BYTES:
            raise ValueError("too long")
        rec = json.loads(data.decode("utf-8"))
        if not isinstance(rec, dict) or rec.get("format") != WITNESS_FORMAT:
            raise ValueError("not a witness")
    except (ValueError, RecursionError):
        raise fail("witness", [f"{str(path)!r} is not a head witness of an allocation log"], where) from None
    if not verifies_witness(keys, rec):
        raise fail("witness", [f"the head witness {str(path)!r} does not verify with this key (edited, or made "
                               "with another key)"], where)
    if rec.get("log") != header_mac:
        raise fail("witness", [f"the head witness {str(path)!r} belongs to another log (its header differs)"], where)
    seq, head = rec.get("seq"), rec.get("head")
    if type(seq) is not int or seq < 0 or not isinstance(head, str):
        raise fail("witness", [f"the head witness {str(path)!r} is malformed"], where)
    return seq, head


def verifies_witness(keys: Keys, rec: Mapping[str, Any]) -> bool:
    """True iff a witness record's mac is the key's witness mac of the rest of it."""
    try:
        mac = keys.sign_witness({k: v for k, v in rec.items() if k != "mac"})
    except (TypeError, ValueError, RecursionError):
        return False
    stored = rec.get("mac")
    return isinstance(stored, str) and stored == mac


def check_witness(witness: tuple[int, str], records: Sequence[Mapping[str, Any]], where: str) -> None:
    seq, head = witness
    n = len(records) - 1
    if seq > n:
        raise fail("truncated", [f"the head witness says the log had {seq} entries, the file has {n}: entries "
                                 "were cut from its end"], where)
    if records[seq].get("mac") != head:
        raise fail("rewritten", [f"entry {seq} of the log is not the one its head witness recorded: the log was "
                                 "rewritten (with the key) or replaced by another copy"], where)


HELD: dict[tuple[int, int], str] = {}
"""(device, inode) of every log file an AllocationLog of this process holds -> which object."""


def file_id(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def holder_pid(file_id: tuple[int, int]) -> int | None:
    """The pid holding an flock on the file, from /proc/locks (Linux); None if unknown."""
    dev, ino = file_id
    want = f"{os.major(dev):02x}:{os.minor(dev):02x}:{ino}"
    try:
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if "FLOCK" in parts and "->" not in parts and want in parts:
            pid = parts[parts.index(want) - 1]
            return int(pid) if pid.isdigit() else None
    return None


def acquire(fd: int, path: Path, who: str) -> tuple[int, int]:
    """Lock the log file for this object, or say who holds it (this process, or which other)."""
    fid = file_id(fd)
    holder = HELD.get(fid)
    if holder is not None:
        raise AllocationLogError(f"{path} is already open in this process (pid {os.getpid()}), by {holder}; "
                                 "close that log (log.close()) before opening it again", kind="locked")
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = holder_pid(fid)
            raise AllocationLogError(f"{path} is in use by another process"
                                     + (f" (pid {pid})" if pid is not None else "")
                                     + f", not this one (pid {os.getpid()}); close the log there first",
                                     kind="locked") from None
    HELD[fid] = who
    return fid
