"""Safe file output: atomic writes, CSV a spreadsheet cannot execute, output folders that are
never overwritten by accident.

Every file the package writes goes through :func:`write_bytes_atomic` (or its text and CSV
forms): the bytes go to a temporary file in the destination's folder, which is flushed and
fsynced, then renamed over the destination with :func:`os.replace` (atomic on POSIX and Windows
when both are in the same folder), and the folder is fsynced so the rename itself is durable.
A reader sees the old file or the new one, never a half-written one; a failed write (a full
disk, a quota, a permission) removes the temporary file and leaves the old file untouched.
The one exception is the allocation log (:mod:`trialnb.randomization.log`), an append-only
file whose every line is fsynced before it is acknowledged.

**CSV exports** (:func:`csv_text`, :func:`frame_csv_text`, :func:`write_csv_atomic`) are
neutralised against formula injection (OWASP, "CSV Injection"): a spreadsheet that opens a
CSV runs a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). :func:`neutralise_cell` prefixes such a
text cell with an apostrophe, which spreadsheets show as text. The rules:

* only **text** cells are changed; numbers (``int``, ``float`` and numeric columns of a frame)
  are written as they are, and so is a text cell that is itself a plain number such as
  ``-2.0`` or ``-1.5e-3`` (a spreadsheet reads it as that number, not as a formula), so
  negative numbers stay data and ``trialnb build-data`` stays byte-for-byte reproducible;
* a text cell whose first character (after any leading spaces or line breaks) is ``=``, ``+``,
  ``-``, ``@``, tab, carriage return, their full-width forms, or an apostrophe is prefixed
  with one apostrophe; the apostrophe case makes the change reversible:
  :func:`restore_cell` drops exactly one leading apostrophe, so a reader of our own exports
  (e.g. :func:`trialnb.randomization.entries_from_csv`) gets every cell back unchanged.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .errors import OutputFolderError

if TYPE_CHECKING:  # pandas is imported only by the functions that write a frame
    import pandas as pd

__all__ = [
    "FORMULA_TRIGGERS",
    "check_output_folder",
    "check_output_path",
    "csv_text",
    "frame_csv_text",
    "neutralise_cell",
    "restore_cell",
    "write_bytes_atomic",
    "write_csv_atomic",
    "write_text_atomic",
]

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""First characters that make a spreadsheet read a CSV cell as a formula (OWASP's list: equals,
plus, minus, at, tab, carriage return; and their full-width forms, which some spreadsheets
accept in East Asian locales)."""

_NUMBER_CELL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def neutralise_cell(value: Any) -> Any:
    """``value`` made safe for a spreadsheet (see the module docstring): a text cell starting
    with a formula trigger or an apostrophe gets one leading apostrophe; anything else,
    including a text cell that is a plain number such as ``"-2.0"``, is returned unchanged."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] == "'":
        return "'" + value
    first = value.lstrip(" \n")[:1]
    if (value[0] in FORMULA_TRIGGERS or first in FORMULA_TRIGGERS) and _NUMBER_CELL.fullmatch(value) is None:
        return "'" + value
    return value


def restore_cell(text: str) -> str:
    """The inverse of :func:`neutralise_cell` for a cell read back from our CSV: one leading
    apostrophe dropped (a cell we wrote never starts with one unless we added it)."""
    return text[1:] if text.startswith("'") else text


def csv_text(rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, *,
             text_columns: Sequence[bool] | None = None) -> str:
    """CSV text with every text cell neutralised (``text_columns``: which columns are text;
    default all, a plain number being left as it is anyway).

    Line endings are ``\\n``; a cell is quoted when it holds a comma, a quote, a line feed *or
    a carriage return*. (:mod:`csv` with ``lineterminator="\\n"`` leaves a lone carriage return
    unquoted, and a spreadsheet then starts a new row there: a cell ``"x\\r=1+1"`` would put
    a formula at the start of a line.)
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # quotes every cell holding \r or \n
    out: list[str] = []

    def put(cells: Sequence[Any], mask: Sequence[bool] | None) -> None:
        w.writerow([neutralise_cell(c) if mask is None or mask[i] else c for i, c in enumerate(cells)])
        out.append(buf.getvalue()[:-2] + "\n")
        buf.seek(0)
        buf.truncate()

    if header is not None:
        put(header, None)
    for r in rows:
        put(r, text_columns)
    return "".join(out)


def frame_csv_text(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)`` (``\\n`` line endings), its text cells and column names
    neutralised as :func:`csv_text` does; numeric columns are formatted by pandas and written
    as they are."""
    import pandas as pd

    mask = [not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
            for c in frame.columns]
    formatted = frame.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    rows = csv.reader(io.StringIO(formatted, newline=""))
    header = next(rows)
    return csv_text(rows, header, text_columns=mask)


def check_output_folder(out: str | Path, force: bool = False) -> Path:
    """Validate an output folder before anything is written to it; return it as a Path.

    Refuses an empty name (``""`` would mean the current folder), a path that is an existing
    file, and an existing non-empty folder unless ``force`` is true.
    """
    if str(out).strip() == "":
        raise OutputFolderError("the output folder is empty (''); give a folder name, e.g. --out data")
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{str(path)!r} exists and is not a folder")
    if path.is_dir() and not force and any(path.iterdir()):
        raise OutputFolderError(f"the output folder {str(path)!r} is not empty; files in it would be "
                                "overwritten (use --force to overwrite)")
    return path


def check_output_path(path: Any, name: str = "path", *, suffixes: tuple[str, ...] = ()) -> Path:
    """Validate the path of one output file before anything is computed or written.

    Refuses a path that is not a ``str``/``os.PathLike``, an empty or blank name (``''`` would
    write nothing and look like success), an existing folder, and (when ``suffixes`` is given,
    e.g. ``(".html", ".htm")``) another extension. Raises :class:`OutputFolderError`.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise OutputFolderError(f"{name} must be a file path, got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str) or text.strip() == "":
        raise OutputFolderError(f"{name} is empty ({text!r}); give a file name"
                                + (f" ending in {' or '.join(suffixes)}" if suffixes else ""))
    p = Path(text)
    if p.is_dir():
        raise OutputFolderError(f"{name} {text!r} is a folder; give a file name inside it")
    if suffixes and p.suffix.lower() not in suffixes:
        raise OutputFolderError(f"{name} must end in {' or '.join(suffixes)}, got {text!r}")
    return p


def write_bytes_atomic(path: str | Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    The temporary file is fsynced before the rename and the folder after it. With
    ``overwrite=False`` an existing ``path`` is never replaced (the rename is a hard link,
    which fails if the name exists: :class:`FileExistsError`). On any error the temporary file
    is removed, the destination is unchanged, and the ``OSError`` propagates.
    """
    path = Path(path)
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        try:
            _write_fd(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644 & ~_umask())
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # FileExistsError if path exists: never replaced
            except FileExistsError:
                raise
            except OSError as exc:  # a file system without hard links: check, then rename
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                if path.exists():
                    raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
                os.replace(tmp, path)
            else:
                os.unlink(tmp)
        _fsync_folder(folder)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """:func:`write_bytes_atomic` of ``text`` encoded (line endings written as given)."""
    return write_bytes_atomic(path, text.encode(encoding))


def write_csv_atomic(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a frame as neutralised CSV (:func:`frame_csv_text`) atomically."""
    return write_text_atomic(path, frame_csv_text(table))


def _write_fd(fd: int, data: bytes) -> None:
    """Every byte of ``data`` to the file descriptor (``os.write`` may write part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_folder(folder: Path) -> None:
    try:
        dfd = os.open(folder if str(folder) else ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open a folder
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover - some file systems refuse to fsync a folder
        pass
    finally:
        os.close(dfd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
