"""Every "section N" / "section N.M" citation of a file in ``references/`` resolves to a heading
that exists in that file.

Searched: the notebooks' sources (``notebooks/**/*.py``), every Markdown file of the repository
(README, data/README, ...) and the package's source (the SAP and the data documentation are
written from it). A citation is the name of a ``references/*.md`` file followed, within the same
sentence, by ``section N``, ``sections N and M`` or ``§N``, or ``section N of`` followed by the
file. A heading ``## 3. Randomized trials`` is section 3, ``### 3.4 How many ...`` section 3.4.
Notebook comment markers (``# ``) are removed and lines joined first, so a citation broken over
two lines is read whole.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "references"
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)\.?\s", flags=re.M)
FILE = r"(?:references/)?(?P<file>[A-Za-z0-9_\-]+\.md)"
NUMBERS = r"(?P<nums>\d+(?:\.\d+)?(?:(?:\s*,\s*|\s+and\s+|\s*[-–]\s*)\d+(?:\.\d+)?)*)"
AFTER = re.compile(FILE + r"`?[^.;]{0,40}?(?:sections?|§)\s*" + NUMBERS, flags=re.I)
BEFORE = re.compile(r"(?:sections?|§)\s*" + NUMBERS + r"\s+of\s+`?" + FILE, flags=re.I)


def sections(md: Path) -> set[str]:
    """The numbered headings of a Markdown file: {"1", "2", "3", "3.1", ...}."""
    return set(HEADING.findall(md.read_text(encoding="utf-8")))


def _plain(text: str) -> str:
    """Comment markers removed and lines joined (a citation may wrap)."""
    lines = [re.sub(r"^\s*#+ ?", "", ln) if ln.lstrip().startswith("#") else ln for ln in text.splitlines()]
    return re.sub(r"\s+", " ", " ".join(lines))


def citations(text: str) -> list[tuple[str, str]]:
    """(file, section) of every section citation of a Markdown file in ``text``."""
    out = []
    plain = _plain(text)
    for pattern in (AFTER, BEFORE):
        for m in pattern.finditer(plain):
            for num in re.findall(r"\d+(?:\.\d+)?", m.group("nums")):
                out.append((m.group("file"), num.rstrip(".")))
    return out


def _sources() -> list[Path]:
    found = list((ROOT / "notebooks").rglob("*.py")) + list((ROOT / "trialnb").rglob("*.py"))
    found += [p for p in ROOT.rglob("*.md") if not any(part.startswith(".") or part in ("build", "node_modules")
                                                       for part in p.relative_to(ROOT).parts)]
    return sorted(p for p in found if "references" not in p.relative_to(ROOT).parts[:1])


def test_the_reader_finds_the_citations_it_is_for() -> None:
    """Not vacuous: the issue's broken citations and the usual forms are read."""
    text = ("# non-operated (…`references/clinical_evidence.md`, section 3.7) and\n"
            "# the timings in `references/clinical_evidence.md` section\n"
            "# 2.1, and (section 5 of clinical_evidence.md)")
    assert citations(text) == [("clinical_evidence.md", "3.7"), ("clinical_evidence.md", "2.1"),
                               ("clinical_evidence.md", "5")]
    assert "3.7" not in sections(REFERENCES / "clinical_evidence.md")
    assert {"1", "2", "3", "3.4", "5"} <= sections(REFERENCES / "clinical_evidence.md")
    assert citations("see `references/clinical_evidence.md`. Section 2 of the protocol") == []


def test_some_sources_cite_sections() -> None:
    cited = [c for p in _sources() for c in citations(p.read_text(encoding="utf-8"))]
    assert len(cited) >= 5


def test_every_section_citation_resolves() -> None:
    bad = []
    for path in _sources():
        for file, sec in citations(path.read_text(encoding="utf-8")):
            target = REFERENCES / file
            if not target.is_file():
                continue  # a Markdown file outside references/ (e.g. README.md) is not a source we cite
            if sec not in sections(target):
                bad.append(f"{path.relative_to(ROOT)}: {file} section {sec} is no heading (it has "
                           f"{', '.join(sorted(sections(target)))})")
    assert bad == [], "\n".join(bad)
