"""Reading one CRF file: from bytes to checked, typed columns in one streaming pass.

:func:`read_table` is the engine behind the loaders of :mod:`trialnb.data`. It reads the file
as a stream (never the whole text in memory), plain or gzip-compressed (``.csv.gz``, found
by its magic bytes; bzip2, xz and zip files are refused by name), decodes UTF-8 (an optional
byte-order mark), splits lines as :mod:`csv` does, and parses every cell as soon as its line
is read, keeping only the typed value in a compact column (a category level is shared, not
copied; a decimal is 8 bytes in an ``array('d')``). Every problem is collected with its
physical line number; the caller raises one :class:`~trialnb.errors.TrialDataError`.

Memory: about 8 bytes per cell plus the id strings, instead of the text of every cell;
time: linear in the size of the file (``benchmarks/bench_data_loading.py`` measures both).
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import math
import re
import unicodedata
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple, Sequence

from .errors import TrialDataError

__all__ = ["Column", "Problem", "Rows", "Table", "describe_cell", "duplicates", "read_table", "show"]


@dataclass(frozen=True)
class Column:
    """One CRF field.

    ``kind`` is one of ``"id"`` (non-empty text, unique; of ``pattern`` when one is set,
    described by ``pattern_rule``), ``"category"`` (one of ``levels``), ``"binary"`` (0 or 1),
    ``"int"`` (whole number in [``minimum``, ``maximum``]) or ``"float"`` (number in
    [``minimum``, ``maximum``]). ``nullable`` columns may be empty (only where
    :attr:`meaning` says when).
    """

    name: str
    kind: str
    unit: str
    meaning: str
    levels: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    pattern: str | None = None
    pattern_rule: str = ""

    @property
    def allowed(self) -> str:
        """The allowed values as text, for the data dictionary and error messages."""
        if self.kind == "id":
            s = f"unique; {self.pattern_rule}" if self.pattern else "unique non-empty text"
        elif self.kind == "category":
            s = ", ".join(self.levels)
        elif self.kind == "binary":
            s = "0, 1"
        else:
            lo = "-inf" if self.minimum is None else f"{self.minimum:g}"
            hi = "inf" if self.maximum is None else f"{self.maximum:g}"
            s = f"{'whole number' if self.kind == 'int' else 'number'} in [{lo}, {hi}]"
        return s + (" or empty" if self.nullable else "")

    @property
    def dtype(self) -> str:
        return {"id": "text", "category": "text", "binary": "integer", "int": "integer", "float": "decimal"}[self.kind]


class Problem(NamedTuple):
    """One problem found in a data file.

    ``row`` is the physical line number in the file (1 = the header; blank lines and the
    lines of a quoted multi-line cell are counted), ``None`` for a problem of the whole file;
    ``column`` is the column name (``"*"``: the whole line or file); ``rule`` names the check
    that failed (a cell rule such as ``"number"`` or a cross-field rule of
    :data:`trialnb.data_rules.RULES`).
    """

    row: int | None
    column: str
    message: str
    rule: str = ""

    def __str__(self) -> str:
        where = "file" if self.row is None else f"line {self.row}"
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{where}, column {self.column!r}{rule}: {self.message}"


# ---------------------------------------------------------------- cells

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_OTHER_DELIMITERS = {";": "';'", "\t": "tab", "|": "'|'"}


def show(raw: str, limit: int = 40) -> str:
    """``repr`` of a cell, cut to ``limit`` characters so a message stays bounded."""
    if len(raw) <= limit:
        return repr(raw)
    return f"{raw[:limit]!r}... ({len(raw)} characters)"


def _describe_char(ch: str) -> str:
    name = unicodedata.name(ch, "")
    code = f"U+{ord(ch):04X}" + (f" {name}" if name else "")
    if ch == "\x00":
        return "a NUL character (U+0000)"
    if ch == "_":
        return "an underscore '_' (U+005F)"
    if ch.isdigit():
        return f"the non-ASCII digit {ch!r} ({code}); only ASCII digits 0-9 are allowed"
    if ch.isspace():
        return f"whitespace ({code})"
    return f"the character {ch!r} ({code})"


def _bad_number(raw: str, col: Column) -> str:
    pos = next((i for i, ch in enumerate(raw) if ch not in "0123456789.-"), None)
    found = "" if pos is None else f" (found {_describe_char(raw[pos])} at position {pos + 1})"
    return f"{show(raw)} is not a number{found}; allowed: {col.allowed}, written with ASCII digits, '-' and '.'"


def describe_cell(col: Column, raw: str, levels: frozenset[str] | None = None) -> tuple[object, str | None, str]:
    """(value, problem message or None, rule name): the complete, slow check of one cell.

    Numbers are parsed strictly (``-?digits[.digits]``, ASCII only); ids are compared without
    surrounding whitespace, which is itself reported, and must match the column's pattern.
    ``levels`` is the set of a category's levels.
    """
    if raw == "":
        if col.nullable:
            return None, None, ""
        return None, f"empty value; allowed: {col.allowed}", "required"
    if col.kind == "id":
        s = raw.strip()
        if not s:
            return None, f"{show(raw)} is blank (only whitespace); allowed: {col.allowed}", "id"
        bad = next((ch for ch in s if not ch.isprintable()), None)
        if bad is not None:
            return None, f"{show(raw)} contains {_describe_char(bad)}; ids are printable text", "id"
        if s != raw:
            return s, (f"{show(raw)} has surrounding whitespace; ids are compared without it "
                       f"(as {s!r}), write {s!r}"), "id"
        if col.pattern is not None and re.fullmatch(col.pattern, s, re.ASCII) is None:
            return s, f"{show(raw)} is not an id of this trial; allowed: {col.pattern_rule}", "id_pattern"
        return s, None, ""
    if col.kind == "category":
        if col.name == "failed_criteria":
            return raw, None, ""
        if raw not in (levels if levels is not None else col.levels):
            return None, f"unknown level {show(raw)}; allowed: {col.allowed}", "level"
        return raw, None, ""
    if col.kind == "binary":
        if raw not in ("0", "1"):
            return None, f"{show(raw)} is not 0/1; allowed: 0, 1", "binary"
        return int(raw), None, ""
    if _NUMBER.fullmatch(raw) is None:
        return None, _bad_number(raw, col), "number"
    x = float(raw)
    if not math.isfinite(x):  # 400 digits or more
        return None, f"{show(raw)} is not a finite number; allowed: {col.allowed}", "number"
    if col.kind == "int" and x != int(x):
        return None, f"{show(raw)} is not a whole number; allowed: {col.allowed}", "whole_number"
    if col.minimum is not None and x < col.minimum:
        what = "negative" if x < 0 else "below the minimum"
        return None, f"{show(raw)} is {what}; allowed: {col.allowed}", "range"
    if col.maximum is not None and x > col.maximum:
        return None, f"{show(raw)} is above the maximum; allowed: {col.allowed}", "range"
    return (int(x) if col.kind == "int" else x), None, ""


_BAD = object()
_BATCH = 4096  # rows parsed together, column by column


def _batch_parser(col: Column, levels: frozenset[str]) -> Callable[[Sequence[str]], list[Any]]:
    """A parser of one column of a batch of rows for the common, valid cells: their values, with
    ``_BAD`` where a cell needs :func:`describe_cell` (which may still accept it, e.g. ``5.0``
    for a whole number). The work is done by C-level ``map``/``dict.get``/one regex over the
    joined batch where it can be. Category levels are returned as the schema's own string
    objects, so a column shares them instead of holding a copy per cell."""
    empty: dict[str, Any] = {"": None} if col.nullable else {}
    if col.kind == "id":
        if col.pattern is None:  # no pattern: the slow path checks printable text and whitespace
            return lambda raws: [_BAD] * len(raws)
        rx = re.compile(col.pattern, re.ASCII)

        def ids(raws: Sequence[str]) -> list[Any]:
            return [r if m else (None if r == "" and col.nullable else _BAD)
                    for r, m in zip(raws, map(rx.fullmatch, raws), strict=True)]
        return ids
    if col.kind == "category" and col.name == "failed_criteria":
        return lambda raws: [r if r else (None if col.nullable else _BAD) for r in raws]
    lo = -math.inf if col.minimum is None else col.minimum
    hi = math.inf if col.maximum is None else col.maximum
    if col.kind == "category":
        table: dict[str, Any] = dict({lv: lv for lv in levels}, **empty)
    elif col.kind == "binary":
        table = dict({"0": 0, "1": 1}, **empty)
    elif col.kind == "int" and math.isfinite(lo) and math.isfinite(hi) and hi - lo <= 100_000:
        table = dict({str(v): v for v in range(math.ceil(lo), math.floor(hi) + 1)}, **empty)
    else:
        table = {}
    if table:
        get = table.get
        return lambda raws: list(map(get, raws, itertools.repeat(_BAD, len(raws))))
    number = _NUMBER.fullmatch
    every = re.compile(r"(?:(?:-?[0-9]{1,30}(?:\.[0-9]{1,30})?)" + ("?" if col.nullable else "") + r"\n)*", re.ASCII)
    convert = int if col.kind == "int" else float

    def one(raw: str) -> Any:
        if raw == "" and col.nullable:
            return None
        if len(raw) < 40 and number(raw) and (col.kind == "float" or "." not in raw):
            x = convert(raw)
            return x if lo <= x <= hi else _BAD
        return _BAD

    def numbers(raws: Sequence[str]) -> list[Any]:
        if every.fullmatch("\n".join(raws) + "\n") and (col.kind == "float" or not any("." in r for r in raws)):
            xs: list[Any] = [convert(r) if r else None for r in raws] if col.nullable else list(map(convert, raws))
            present: list[float] = [x for x in xs if x is not None] if col.nullable else xs
            if not present or (lo <= min(present) and max(present) <= hi):
                return xs
        return list(map(one, raws))
    return numbers


# ---------------------------------------------------------------- the byte stream

_COMPRESSED = ((b"BZh", "bzip2 (.bz2)"), (b"\xfd7zXZ\x00", "xz (.xz)"), (b"PK\x03\x04", "zip (.zip)"),
               (b"(\xb5/\xfd", "zstandard (.zst)"))


def _fail(path: Path, row: int | None, message: str, rule: str, column: str = "*") -> TrialDataError:
    return TrialDataError(path, [Problem(row, column, message, rule)])


def _open_binary(path: Path) -> tuple[io.BufferedReader | gzip.GzipFile, bool]:
    """(byte stream of the file's content, whether it was gzip-compressed)."""
    if path.is_dir():
        raise _fail(path, None, "is a folder, not a data file; give a CSV file in it (e.g. trial_protocol.csv)",
                    "file")
    if not path.is_file():
        raise FileNotFoundError(f"path: no such data file {str(path)!r}")
    fh = open(path, "rb")
    magic = fh.peek(8)[:8]
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=fh, mode="rb"), True
    for sig, what in _COMPRESSED:
        if magic.startswith(sig):
            fh.close()
            raise _fail(path, None, f"the file is compressed with {what}; trialnb reads CSV files, plain or "
                                    "gzip-compressed (.csv.gz)", "compression")
    return fh, False


def _decode_error(path: Path, gz: bool) -> TrialDataError:
    """The first byte that is not UTF-8, with its offset and line (read again, error path only)."""
    data = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
    skip = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        off = skip + exc.start
        line = len(re.findall(rb"\r\n|\r|\n", data[:off])) + 1
        where = " (after gzip decompression)" if gz else ""
        return _fail(path, line, f"not UTF-8 text: byte 0x{data[off]:02x} at byte offset {off}{where} "
                                 "cannot be decoded (a Latin-1, UTF-16 or binary file?); save it as UTF-8", "encoding")
    return _fail(path, None, "not UTF-8 text; save it as UTF-8", "encoding")  # pragma: no cover


class _Lines:
    """The physical lines of the file as text (``newline=""``: ``\\r\\n``, ``\\r`` and ``\\n`` end
    a line, kept), first the header line (checked for a NUL byte) then the rest, streamed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        stream, self.gz = _open_binary(path)
        self.stream = stream
        head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            stream.close()
            raise _fail(path, 1, "the file starts with a UTF-16 byte-order mark (byte offset 0); "
                                 "save it as UTF-8", "encoding")
        self.bom = head.startswith(b"\xef\xbb\xbf")
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")

    def close(self) -> None:
        self.text.close()

    def __iter__(self) -> Iterator[str]:
        try:
            first = self.text.readline()
            if "\x00" in first:
                try:  # a file that is not UTF-8 at all is named as such
                    for _ in self.text:
                        pass
                except UnicodeDecodeError:
                    raise self.error(UnicodeDecodeError) from None
                off = (3 if self.bom else 0) + len(first[: first.index("\x00")].encode("utf-8"))
                raise _fail(self.path, 1, f"NUL byte at byte offset {off} in the header: a binary or UTF-16 file, "
                                          "not UTF-8 CSV text", "encoding")
            if first:
                yield first
            yield from self.text
        except UnicodeDecodeError:
            raise self.error(UnicodeDecodeError) from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _fail(self.path, None, f"the gzip-compressed file is damaged or cut short ({exc}); "
                                         "compress the complete CSV again", "compression") from None

    def error(self, kind: type) -> TrialDataError:
        try:
            return _decode_error(self.path, self.gz)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            return _fail(self.path, None, f"the gzip-compressed file is damaged or cut short ({exc}); "
                                          "compress the complete CSV again", "compression")


# ---------------------------------------------------------------- the table


def _none_for_nan(col: array) -> Callable[[int], Any]:
    def get(k: int) -> Any:
        x = col[k]
        return x if x == x else None
    return get


class Rows(Sequence[Mapping[str, Any]]):
    """Rows of a :class:`Table` (all, or the given positions) as read-only mappings made on
    demand: the rules of :mod:`trialnb.data_rules` see records without a dict per row kept."""

    def __init__(self, table: "Table", positions: Sequence[int] | None = None) -> None:
        self._t = table
        self._pos = positions

    def __len__(self) -> int:
        return self._t.n if self._pos is None else len(self._pos)

    def column(self, name: str) -> list[Any]:
        """The values of one column for these rows, in order (``None`` for an empty cell): a
        whole-file rule reads the columns it needs without a mapping per row."""
        col = self._t.columns[name]
        values = list(col) if self._pos is None else [col[k] for k in self._pos]
        return [x if x == x else None for x in values] if isinstance(col, array) else values

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        k = i if self._pos is None else self._pos[i]
        return _RowView(self._t.getters, k)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        getters = self._t.getters
        for k in (range(self._t.n) if self._pos is None else self._pos):
            yield _RowView(getters, k)


class _RowView(Mapping):
    __slots__ = ("_g", "_k")

    def __init__(self, getters: dict[str, Callable[[int], Any]], k: int) -> None:
        self._g, self._k = getters, k

    def __getitem__(self, name: str) -> Any:
        return self._g[name](self._k)

    def __iter__(self) -> Iterator[str]:
        return iter(self._g)

    def __len__(self) -> int:
        return len(self._g)


@dataclass
class Table:
    """What :func:`read_table` found: typed columns (``None`` for an empty or bad cell; a
    decimal column is an ``array('d')`` with NaN for ``None``), the physical line of each row,
    the raw text of id cells written with whitespace, the rows with a cell problem, and every
    problem of the CSV layer, the header and the cells."""

    names: list[str]
    columns: dict[str, Any]
    lines: array
    raw_ids: dict[str, dict[int, str]]
    bad_rows: set[int]
    problems: list[Problem]
    n: int

    @property
    def getters(self) -> dict[str, Callable[[int], Any]]:
        out: dict[str, Callable[[int], Any]] = {}
        for name in self.names:
            col = self.columns[name]
            out[name] = _none_for_nan(col) if isinstance(col, array) else col.__getitem__
        return out

    def record_batches(self, positions: Sequence[int] | None = None, size: int = _BATCH
                       ) -> Iterator[tuple[Sequence[int], Iterator[dict[str, Any]]]]:
        """The rows (all, or ``positions``) as short-lived dicts, a batch at a time:
        (positions, dicts), built column-wise by C-level ``zip`` (NaN of a decimal column -> None)."""
        names = self.names
        cols = [self.columns[n] for n in names]
        total = self.n if positions is None else len(positions)
        for a in range(0, total, size):
            ks: Sequence[int] = range(a, min(a + size, total)) if positions is None else positions[a:a + size]
            if positions is None:
                parts = [c[a:a + size] for c in cols]
            else:
                parts = [[c[k] for k in ks] for c in cols]
            parts = [[x if x == x else None for x in p] if isinstance(c, array) else p
                     for p, c in zip(parts, cols, strict=True)]
            yield ks, (dict(zip(names, vals, strict=True)) for vals in zip(*parts, strict=True))

    def rows(self, positions: Sequence[int] | None = None) -> Rows:
        return Rows(self, positions)

    def frame(self, schema: Sequence[Column]) -> Any:
        """The columns as a DataFrame in schema order (index: 1-based data row, named "row").

        The table's columns are handed over (the table is left empty) and the frame is built
        without consolidating its columns into 2-D blocks (``copy=False``), so the peak memory
        is the table plus one array per column, not twice the frame."""
        import numpy as np
        import pandas as pd

        data: dict[str, Any] = {}
        for c in schema:
            if c.name not in self.columns:
                continue
            col = self.columns.pop(c.name)
            if isinstance(col, array):
                data[c.name] = np.frombuffer(col, dtype=np.float64) if len(col) else np.empty(0)
            elif c.kind in ("int", "binary") and None not in col:
                data[c.name] = np.fromiter(col, dtype=np.int64, count=len(col))
            elif c.kind in ("id", "category"):
                data[c.name] = np.array(col, dtype=object)
            else:
                data[c.name] = col
            del col
        self.names = []
        return pd.DataFrame(data, index=pd.RangeIndex(1, self.n + 1, name="row"), copy=False)


def _check_header(hline: int, header: list[str], schema: Sequence[Column]) -> list[Problem]:
    names = [c.name for c in schema]
    known = set(names)
    problems: list[Problem] = []
    present = set(header)
    missing = [n for n in names if n not in present]
    if missing:
        joined = ",".join(header)
        for sep, label in _OTHER_DELIMITERS.items():
            parts = [x.strip().strip('"') for x in joined.split(sep)]
            hits = sum(x in known for x in parts)
            if sep in joined and hits >= max(2, len(missing) // 2):
                return [Problem(hline, "*", f"the header looks {label}-separated ({hits} of the {len(names)} column "
                                        f"names appear when it is split at {label}); trialnb files are "
                                        "comma-separated", "delimiter")]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        seen.setdefault(name, []).append(i)
    for name, where in seen.items():
        if len(where) > 1:
            problems.append(Problem(hline, name, f"column name appears {len(where)} times in the header (positions "
                                             f"{', '.join(map(str, where))}); each column must appear once",
                                    "duplicate_column"))
    problems += [Problem(hline, n, "missing column", "header") for n in missing]
    problems += [Problem(hline, n, f"unknown column; the schema has: {', '.join(names)}", "header")
                 for n in seen if n not in known]
    return problems


def read_table(path: Path, schema: Sequence[Column], levels: dict[str, frozenset[str]] | None = None) -> Table:
    """Read ``path`` and check its header, field counts and every cell against ``schema``.

    Raises :class:`~trialnb.errors.TrialDataError` at once for a file that cannot be read as
    CSV text (not UTF-8, another delimiter, a damaged compressed file, a folder); every other
    problem is returned in :attr:`Table.problems`. Blank lines are skipped but counted.
    """
    lines = _Lines(path)
    try:
        return _read(path, lines, schema, levels)
    finally:
        lines.close()


def _read(path: Path, lines: _Lines, schema: Sequence[Column], levels: dict[str, frozenset[str]] | None) -> Table:
    reader = csv.reader(lines, strict=True)
    problems: list[Problem] = []
    prev = 0
    header: list[str] | None = None
    hline = 0
    try:
        for fields in reader:
            line, prev = prev + 1, reader.line_num
            if fields:
                header, hline = fields, line
                break
    except csv.Error as exc:
        problems.append(Problem(prev + 1, "*", f"not a well-formed CSV line: {exc}", "csv"))
    if header is None:
        if problems:
            raise TrialDataError(path, problems)
        raise _fail(path, None, "the file is empty (no header line)", "empty_file")
    problems += _check_header(hline, header, schema)
    if any(p.rule == "delimiter" for p in problems):
        raise TrialDataError(path, problems)
    where: dict[str, int] = {}
    for i, name in enumerate(header):
        where.setdefault(name, i)
    levels = dict(levels or {})
    cols = [c for c in schema if c.name in where]
    for c in cols:
        if c.kind == "category" and c.name not in levels:
            levels[c.name] = frozenset(c.levels)
    plan = [(c, where[c.name], _batch_parser(c, levels.get(c.name, frozenset())), levels.get(c.name)) for c in cols]
    columns: dict[str, Any] = {c.name: (array("d") if c.kind == "float" else []) for c in cols}
    raw_ids: dict[str, dict[int, str]] = {c.name: {} for c in cols if c.kind == "id"}
    rows = array("q")
    bad_rows: set[int] = set()
    width = len(header)
    placeholder = [""] * width
    k = 0
    batch: list[list[str]] = []
    short: set[int] = set()  # positions in the batch of rows with a wrong field count

    def flush() -> None:
        nonlocal k
        if not batch:
            return
        cells = list(zip(*batch, strict=True))
        for c, j, parse, lv in plan:
            raws = cells[j]
            vals = parse(raws)
            if vals.count(_BAD) or short:
                for i in range(len(vals)):
                    if i in short:
                        vals[i] = None
                    elif vals[i] is _BAD:
                        v, msg, rule = describe_cell(c, raws[i], lv)
                        if msg is not None:
                            line = rows[k + i]
                            problems.append(Problem(line, c.name, msg, rule))
                            bad_rows.add(k + i)
                            if rule == "id" and v is not None:
                                raw_ids[c.name][k + i] = raws[i]
                        vals[i] = v
            if c.kind == "float":
                columns[c.name].extend(math.nan if v is None else v for v in vals)
            else:
                columns[c.name].extend(vals)
        k += len(batch)
        batch.clear()
        short.clear()

    try:
        for fields in reader:
            line, prev = prev + 1, reader.line_num
            if not fields:
                continue
            rows.append(line)
            if len(fields) != width:
                problems.append(Problem(line, "*", f"{len(fields)} fields, the header has {width}", "field_count"))
                bad_rows.add(k + len(batch))
                short.add(len(batch))
                fields = placeholder
            batch.append(fields)
            if len(batch) == _BATCH:
                flush()
    except csv.Error as exc:
        problems.append(Problem(prev + 1, "*", f"not a well-formed CSV line: {exc}", "csv"))
    flush()
    if k == 0 and not problems:
        problems.append(Problem(None, "*", "the file has a header but no data rows", "no_rows"))
    return Table([c.name for c in cols], columns, rows, raw_ids, bad_rows, problems, k)


def duplicates(t: Table, column: str) -> list[Problem]:
    """Every repeat of an id after its first line (linear time; a set, then one dict of the
    repeated ids only)."""
    if column not in t.columns:
        return []
    values = t.columns[column]
    seen: set[Any] = set()
    repeated: list[int] = []
    for k, v in enumerate(values):
        if v is None:
            continue
        if v in seen:
            repeated.append(k)
        else:
            seen.add(v)
    if not repeated:
        return []
    wanted = {values[k] for k in repeated}
    first: dict[Any, int] = {}
    for k, v in enumerate(values):
        if v in wanted and v not in first:
            first[v] = t.lines[k]
    out: list[Problem] = []
    raws = t.raw_ids.get(column, {})
    for k in repeated:
        v = values[k]
        raw = raws.get(k, v)
        how = "" if raw == v else f" (written {show(raw)}; ids are compared without surrounding whitespace)"
        out.append(Problem(t.lines[k], column, f"duplicate id {show(str(v))}{how}: already at line {first[v]}",
                           "duplicate_id"))
    return out

