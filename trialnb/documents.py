"""One HTML page shell for the package's three documents: the reviewer's audit
(:mod:`trialnb.review`), the DMC's interim report (:mod:`trialnb.interim`) and the SAP draft
(:mod:`trialnb.sap_document`).

Each is one self-contained file (inline CSS, no script, nothing fetched) that says exactly what
it was made from: a provenance line with the time it was generated (UTC), the package version,
Python's, the command, and for a document made from a data file that file's name and SHA-256
checksum (:func:`provenance`). Printed (or saved as PDF from a browser), every page carries the
document's title and "page n of N" in its margins and the provenance line at the end; headings
never end a page (``break-after: avoid``), and long tables break between rows, repeating their
header, so no page holds a heading alone.
"""

from __future__ import annotations

import hashlib
import html
import sys
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["PAGE_CSS", "file_checksum", "page", "provenance"]

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.provenance { color: #555; font-size: .85rem; border-top: 1px solid #ccc; margin-top: 2rem; padding-top: .4rem; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h1, h2, h3, h4 { break-after: avoid-page; break-inside: avoid; }
  thead { display: table-header-group; }
  tr, figure, li { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""
"""Layout shared by the three documents (each adds its own stylesheet after it)."""


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the page-margin boxes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def file_checksum(path: str | Path) -> str:
    """SHA-256 of the file at ``path`` (hex): what a data file is identified by in a provenance line."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance(command: str, *, data: str | Path | None = None, generated: datetime | None = None) -> str:
    """The line that says what a document was made from: when (UTC), by which ``command`` of
    which trialnb and Python, and, for a document made from a data file, its name and SHA-256."""
    from . import __version__

    when = (generated or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    line = (f"Generated {when} by {command} (trialnb {__version__}, Python {sys.version.split()[0]})")
    if data is not None:
        line += f" from {Path(data).name}, SHA-256 {file_checksum(data)}"
    return line + "."


def page(title: str, body: str, *, provenance_line: str, css: str = "", lang: str = "en") -> str:
    """One self-contained HTML document: ``title``, the ``body`` HTML, the provenance line at the
    end, :data:`PAGE_CSS` then ``css`` inline, and print rules that put the title and
    "page n of N" in every printed page's margins."""
    margins = (f"@page {{ size: A4; margin: 18mm 16mm 20mm 16mm;"
               f" @bottom-left {{ content: {_css_string(title)}; font-size: 8pt; color: #555; }}"
               ' @bottom-right { content: "page " counter(page) " of " counter(pages);'
               " font-size: 8pt; color: #555; } }")
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<style>{PAGE_CSS}\n{css}\n{margins}</style></head>\n<body>\n{body}\n"
            f'<footer class="provenance">{html.escape(provenance_line)}</footer>\n</body></html>\n')
