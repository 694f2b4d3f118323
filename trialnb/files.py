"""Safe file output: atomic writes and output folders that are never overwritten by accident.

:func:`write_text_atomic` writes to a temporary file in the destination's folder, flushes and
fsyncs it, then renames it over the destination with :func:`os.replace` (atomic on POSIX and
Windows when both are in the same folder): a reader sees the old file or the new one, never a
half-written one, and a failed write leaves the old file untouched.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import OutputFolderError

__all__ = ["OutputFolderError", "check_output_folder", "write_text_atomic"]


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


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder and :func:`os.replace`.

    Line endings are written as given (no translation). On any error the temporary file is
    removed, the destination is unchanged, and the ``OSError`` propagates.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
