"""The statistical analysis plan as a document: numbers with their sources, guideline items,
amendments, and the two renderings (self-contained HTML, Markdown).

This module knows nothing about the trial: :mod:`trialnb.sap` fills it. What it guarantees:

* **Every number carries its source.** Prose never contains a typed number: a number (or a
  verbatim protocol sentence, or a citation) is registered once in a :class:`Numbers`
  registry, with the value, the text printed and where it came from (the function and its
  inputs, or the protocol's section), and the prose holds a token ``⟦key⟧`` in its place.
  Rendering replaces the tokens; the appendix "Where every number comes from" lists them all.
  ``tests/test_sap.py`` checks that the prose outside tokens holds no digit.
* **Structure of the guideline.** The sections and the checklist follow Gamble C, Krishan A,
  Stocken D, et al. Guidelines for the content of statistical analysis plans in clinical
  trials. JAMA 2017;318(23):2337-2343 (:data:`GUIDELINE`, its items in our own words).
* **Two renderings** of the same content: :meth:`SAP.to_html` (one file, inline CSS, no script,
  no external link, printable) and :meth:`SAP.to_markdown` (for pasting into the trial's own
  documents).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import pandas as pd

from .documents import page
from .results import Result

__all__ = ["FILLED", "DECIDE", "GUIDELINE", "GUIDELINE_SECTIONS", "Amendment", "GuidelineItem", "Item", "Number",
           "Numbers", "Section", "SAP", "TOKEN"]

FILLED = "filled from the companion"
DECIDE = "to be decided by the investigators"
TOKEN = re.compile(r"⟦([a-z0-9_.\-]+)⟧")


@dataclass(frozen=True)
class Number:
    """One value printed in the SAP: ``value`` (for tests), ``text`` (as printed), ``source``
    (function and inputs, or protocol section), ``kind``: "number" (computed), "quote" (the protocol's
    words, verbatim), "citation" or "label" (a text defined once in the package)."""

    key: str
    value: Any
    text: str
    source: str
    kind: str = "number"


class Numbers:
    """The registry: ``add`` stores a :class:`Number` and returns its token for the prose.
    Registering the same key twice with a different text is an error (one number, one text)."""

    def __init__(self) -> None:
        self._items: dict[str, Number] = {}

    def add(self, key: str, value: Any, text: str, source: str, kind: str = "number") -> str:
        if not TOKEN.fullmatch(f"⟦{key}⟧"):
            raise ValueError(f"number key {key!r}: use lower-case letters, digits, '_', '-' and '.'")
        old = self._items.get(key)
        if old is not None and (old.text != text or old.source != source):
            raise ValueError(f"number {key!r} registered twice with different texts: {old.text!r} vs {text!r}")
        self._items[key] = Number(key, value, text, source, kind)
        return f"⟦{key}⟧"

    def quote(self, key: str, section: str, words: str) -> str:
        """A verbatim protocol sentence (digits and typing errors kept)."""
        return self.add(f"q.{key}", words, f"“{words}”", f"protocol record, {section} (verbatim)", "quote")

    def cite(self, key: str, citation: str) -> str:
        """A bibliographic reference, printed as given."""
        return self.add(f"ref.{key}", citation, citation, "reference list", "citation")

    def label(self, key: str, text: str, source: str) -> str:
        """A text defined once in the package (a table label, a finding's statement), printed as
        the package defines it; ``source`` names where."""
        return self.add(f"t.{key}", text, text, source, "label")

    def __getitem__(self, key: str) -> Number:
        return self._items[key]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def all(self) -> dict[str, Number]:
        return dict(self._items)


@dataclass(frozen=True)
class GuidelineItem:
    """One item of the SAP guideline (Gamble et al. 2017), paraphrased."""

    code: str
    section: str
    topic: str
    asks: str


# Gamble et al., JAMA 2017;318:2337-2343, Table (items 1a-32); descriptions in our own words.
GUIDELINE: tuple[GuidelineItem, ...] = tuple(GuidelineItem(*row) for row in (
    ("1a", "Administrative information", "Title", "descriptive title matching the protocol, SAP as (sub)title"),
    ("1b", "Administrative information", "Trial registration", "trial registration number"),
    ("2", "Administrative information", "SAP version", "version number and date of the SAP"),
    ("3", "Administrative information", "Protocol version", "which protocol version the SAP refers to"),
    ("4a", "Administrative information", "SAP revisions", "revision history"),
    ("4b", "Administrative information", "SAP revisions", "why each revision was made"),
    ("4c", "Administrative information", "SAP revisions", "when each revision was made relative to interim analyses"),
    ("5", "Administrative information", "Roles and responsibility", "names, affiliations and roles of contributors"),
    ("6a", "Administrative information", "Signatures", "person writing the SAP"),
    ("6b", "Administrative information", "Signatures", "senior statistician responsible"),
    ("6c", "Administrative information", "Signatures", "chief investigator or clinical lead"),
    ("7", "Introduction", "Background and rationale", "synopsis of background, research question and justification"),
    ("8", "Introduction", "Objectives", "specific objectives or hypotheses"),
    ("9", "Study methods", "Trial design", "type of trial, allocation ratio, interventions"),
    ("10", "Study methods", "Randomization", "randomization details: minimization or stratification and its factors"),
    ("11", "Study methods", "Sample size", "full sample-size calculation or reference to the protocol's"),
    ("12", "Study methods", "Framework", "superiority, equivalence or non-inferiority framework"),
    ("13a", "Study methods", "Interim analyses and stopping guidance", "which interim analyses and when"),
    ("13b", "Study methods", "Interim analyses and stopping guidance",
     "adjustment of the significance level for interim analyses"),
    ("13c", "Study methods", "Interim analyses and stopping guidance", "guidelines for stopping the trial early"),
    ("14", "Study methods", "Timing of final analysis", "when the final analysis happens"),
    ("15", "Study methods", "Timing of outcome assessments", "time points of outcome assessment, with windows"),
    ("16", "Statistical principles", "Confidence intervals and P values", "level of statistical significance"),
    ("17", "Statistical principles", "Confidence intervals and P values",
     "adjustment for multiplicity and how type-I error is controlled"),
    ("18", "Statistical principles", "Confidence intervals and P values", "confidence intervals to be reported"),
    ("19a", "Statistical principles", "Adherence and protocol deviations", "definition and assessment of adherence"),
    ("19b", "Statistical principles", "Adherence and protocol deviations", "how adherence will be presented"),
    ("19c", "Statistical principles", "Adherence and protocol deviations", "definition of protocol deviations"),
    ("19d", "Statistical principles", "Adherence and protocol deviations", "which deviations are summarized and how"),
    ("20", "Statistical principles", "Analysis populations", "definition of the analysis populations"),
    ("21", "Trial population", "Screening data", "screening data reported to describe representativeness"),
    ("22", "Trial population", "Eligibility", "summary of eligibility criteria"),
    ("23", "Trial population", "Recruitment", "content of the CONSORT flow diagram"),
    ("24a", "Trial population", "Withdrawal and follow-up", "level of withdrawal (from treatment, from follow-up)"),
    ("24b", "Trial population", "Withdrawal and follow-up", "timing of withdrawal and loss to follow-up"),
    ("24c", "Trial population", "Withdrawal and follow-up", "how withdrawal and loss will be presented"),
    ("25a", "Trial population", "Baseline characteristics", "list of baseline characteristics summarized"),
    ("25b", "Trial population", "Baseline characteristics", "how they are summarized (no significance tests)"),
    ("26a", "Analysis", "Outcome definitions", "each primary and secondary outcome listed and described"),
    ("26b", "Analysis", "Outcome definitions", "specification of each outcome and its timing"),
    ("26c", "Analysis", "Outcome definitions", "measurement and units"),
    ("26d", "Analysis", "Outcome definitions", "any calculation or transformation deriving the outcome"),
    ("27a", "Analysis", "Analysis methods", "method for each outcome and how effects are presented"),
    ("27b", "Analysis", "Analysis methods", "adjustment for covariates"),
    ("27c", "Analysis", "Analysis methods", "how the methods' assumptions are checked"),
    ("27d", "Analysis", "Analysis methods", "alternative methods if assumptions fail"),
    ("27e", "Analysis", "Analysis methods", "planned sensitivity analyses"),
    ("27f", "Analysis", "Analysis methods", "planned subgroup analyses and their definition"),
    ("28", "Analysis", "Missing data", "reporting of missing data and methods for it"),
    ("29", "Analysis", "Additional analyses", "any other planned analyses"),
    ("30", "Analysis", "Harms", "summary of safety data and adverse events"),
    ("31", "Analysis", "Statistical software", "software used"),
    ("32", "Analysis", "References", "references for non-standard methods"),
))
GUIDELINE_SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(g.section for g in GUIDELINE))


@dataclass(frozen=True)
class Item:
    """One heading of the SAP. ``covers`` names the guideline items it answers; ``status`` is
    :data:`FILLED` or :data:`DECIDE`; a DECIDE item says what the decision is (``decision``)
    and what the companion recommends (``recommendation``). ``paragraphs`` and ``bullets`` are
    prose with tokens; ``table`` is (header, rows) or None."""

    title: str
    covers: tuple[str, ...]
    status: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None = None
    decision: str = ""
    recommendation: str = ""

    def __post_init__(self) -> None:
        if self.status not in (FILLED, DECIDE):
            raise ValueError(f"item {self.title!r}: status must be {FILLED!r} or {DECIDE!r}")
        if self.status == DECIDE and not (self.decision and self.recommendation):
            raise ValueError(f"item {self.title!r}: a decision item needs its decision and a recommendation")
        unknown = set(self.covers) - {g.code for g in GUIDELINE}
        if unknown:
            raise ValueError(f"item {self.title!r}: unknown guideline items {sorted(unknown)}")

    def prose(self) -> list[str]:
        """Every text of the item (for token checks)."""
        out = [*self.paragraphs, *self.bullets, self.decision, self.recommendation]
        if self.table:
            out += list(self.table[0]) + [c for row in self.table[1] for c in row]
        return out


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Amendment:
    """A proposed protocol amendment: what the audit or a finding found (``origin``), the
    protocol's section and words, the proposed text and the reason (prose with tokens)."""

    key: str
    title: str
    origin: str
    section: str
    protocol_text: str
    proposed_text: str
    reason: str

    def prose(self) -> list[str]:
        return [self.title, self.protocol_text, self.proposed_text, self.reason]


_CSS = """
body { font-family: Georgia, "Times New Roman", serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.3rem; margin-top: 2.2rem;
  border-bottom: 1px solid #999; } h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
.subtitle { font-size: 1.05rem; color: #444; margin-top: 0; }
.draft { border: 2px solid #a15c00; background: #fff7e6; padding: .6rem 1rem; border-radius: 4px; }
.code { color: #555; font-size: .85rem; font-weight: normal; }
.status { font-family: system-ui, sans-serif; font-size: .75rem; padding: 1px 7px; border-radius: 9px;
          margin-left: .4rem; vertical-align: middle; white-space: nowrap; }
.status-filled { background: #e3f1e6; color: #1d5a2c; } .status-decide { background: #fde9c8; color: #6b3d00; }
.decide { border-left: 4px solid #d08a1e; padding: .2rem .8rem; background: #fffaf0; margin: .6rem 0; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .6rem 0;
        font-family: system-ui, sans-serif; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef0f3; }
.num { border-bottom: 1px dotted #555; }
.num sup a, a.ref { font-size: .65rem; color: #555; text-decoration: none; }
.quote { font-style: italic; }
ul.toc { list-style: none; padding-left: 0; }
.meta { color: #555; font-size: .85rem; font-family: system-ui, sans-serif; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  h2 { break-before: page; } h2.first { break-before: avoid; }
  .decide, tr { break-inside: avoid; }
  a { color: inherit; }
}
"""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class SAP(Result):
    """The SAP draft: title, front matter, sections, amendments, the number registry."""

    title: str
    subtitle: str
    front: tuple[str, ...]
    sections: tuple[Section, ...]
    amendments: tuple[Amendment, ...]
    numbers: dict[str, Number] = field(repr=False)
    generated: str = ""
    generator: str = ""

    # --- access ------------------------------------------------------------------------
    def items(self) -> list[Item]:
        return [i for s in self.sections for i in s.items]

    def number(self, key: str) -> Number:
        """The :class:`Number` registered under ``key`` (KeyError lists nothing: see ``numbers``)."""
        return self.numbers[key]

    def prose(self) -> list[str]:
        """Every text of the document that may hold tokens."""
        out = list(self.front)
        for it in self.items():
            out += it.prose()
        for a in self.amendments:
            out += a.prose()
        return out

    def checklist(self) -> pd.DataFrame:
        """Each guideline item, the SAP heading(s) answering it and their status."""
        rows = []
        for g in GUIDELINE:
            where = [(s, it) for s in self.sections for it in s.items if g.code in it.covers]
            rows.append({"item": g.code, "section": g.section, "topic": g.topic, "the guideline asks for": g.asks,
                         "addressed in": "; ".join(f"{s.number}. {it.title}" for s, it in where) or "not addressed",
                         "status": "; ".join(dict.fromkeys(it.status for _, it in where)) or "missing"})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The number registry: key, kind, text printed, value and source."""
        return pd.DataFrame([{"key": n.key, "kind": n.kind, "text": n.text, "value": n.value, "source": n.source}
                             for n in self._ordered_numbers()])

    def summary(self) -> str:
        items = self.items()
        n_decide = sum(i.status == DECIDE for i in items)
        n_num = sum(n.kind == "number" for n in self.numbers.values())
        return (f"{self.title}: {len(self.sections)} sections, {len(items)} headings ({n_decide} to be decided by "
                f"the investigators), {len(self.amendments)} proposed protocol amendments, {n_num} computed numbers "
                f"with sources; guideline items covered: {int((self.checklist()['status'] != 'missing').sum())} of "
                f"{len(GUIDELINE)}")

    def _ordered_numbers(self) -> list[Number]:
        seen: dict[str, None] = {}
        for text in self.prose():
            for key in TOKEN.findall(text):
                seen.setdefault(key, None)
        return [self.numbers[k] for k in seen] + [n for k, n in self.numbers.items() if k not in seen]

    # --- rendering ---------------------------------------------------------------------
    def _ref_index(self) -> dict[str, int]:
        """Reference number of each computed number (quotes, citations and labels have none)."""
        nums = [n for n in self._ordered_numbers() if n.kind == "number"]
        return {n.key: i + 1 for i, n in enumerate(nums)}

    def _md(self, text: str) -> str:
        return TOKEN.sub(lambda m: self.numbers[m.group(1)].text, text)

    def _html(self, text: str, idx: dict[str, int]) -> str:
        out, pos = [], 0
        for m in TOKEN.finditer(text):
            out.append(html.escape(text[pos:m.start()]))
            n = self.numbers[m.group(1)]
            body = html.escape(n.text)
            if n.kind == "quote":
                out.append(f'<span class="quote" data-key="{n.key}">{body}</span>')
            elif n.kind in ("citation", "label"):
                out.append(f'<span class="{n.kind}" data-key="{n.key}">{body}</span>')
            else:
                out.append(f'<span class="num" data-key="{n.key}" title="{html.escape(n.source)}">{body}'
                           f'<sup><a href="#n{idx[n.key]}">[{idx[n.key]}]</a></sup></span>')
            pos = m.end()
        out.append(html.escape(text[pos:]))
        return "".join(out)

    def to_markdown(self) -> str:
        """The SAP as Markdown (GitHub tables), numbers printed plainly; the appendix gives sources."""
        L = [f"# {self.title}", "", f"*{self.subtitle}*", ""]
        L += [self._md(p) + "\n" for p in self.front]
        for s in self.sections:
            L += [f"## {s.number}. {s.title}", ""]
            for it in s.items:
                codes = f" (guideline item {', '.join(it.covers)})" if it.covers else ""
                L += [f"### {it.title}{codes}", "", f"*Status: {it.status}.*", ""]
                L += [self._md(p) + "\n" for p in it.paragraphs]
                if it.bullets:
                    L += [f"- {self._md(b)}" for b in it.bullets] + [""]
                if it.table:
                    L += _md_table([self._md(h) for h in it.table[0]], [[self._md(c) for c in r] for r in it.table[1]])
                if it.status == DECIDE:
                    L += [f"> **To be decided:** {self._md(it.decision)}", ">",
                          f"> **The companion recommends:** {self._md(it.recommendation)}", ""]
        L += ["## Proposed protocol amendments", ""]
        for i, a in enumerate(self.amendments, 1):
            L += [f"### A{i}. {self._md(a.title)}", "", f"*Found by: {a.origin}. Protocol section: {a.section}.*", "",
                  f"- **Protocol text:** {self._md(a.protocol_text)}",
                  f"- **Proposed text:** {self._md(a.proposed_text)}",
                  f"- **Reason:** {self._md(a.reason)}", ""]
        L += ["## Appendix A. Guideline checklist", ""]
        ck = self.checklist()
        L += _md_table(tuple(ck.columns), ck.astype(str).values.tolist())
        L += ["## Appendix B. Where every number comes from", ""]
        nums = [n for n in self._ordered_numbers() if n.kind == "number"]
        L += _md_table(("#", "printed", "source"), [[str(i + 1), n.text, n.source] for i, n in enumerate(nums)])
        L += [f"*{self.generator}; generated {self.generated}.*", ""]
        return "\n".join(L)

    def to_html(self) -> str:
        """One self-contained HTML document: inline CSS, no script, no external resource."""
        idx = self._ref_index()
        H = lambda t: self._html(t, idx)  # noqa: E731
        toc = "".join(f'<li><a href="#s{s.number}">{s.number}. {html.escape(s.title)}</a></li>' for s in self.sections)
        toc += '<li><a href="#amendments">Proposed protocol amendments</a></li>'
        toc += '<li><a href="#checklist">Appendix A. Guideline checklist</a></li>'
        toc += '<li><a href="#numbers">Appendix B. Where every number comes from</a></li>'
        P = [f"<h1>{html.escape(self.title)}</h1>", f'<p class="subtitle">{html.escape(self.subtitle)}</p>']
        P += [f'<p class="draft">{H(self.front[0])}</p>'] + [f"<p>{H(p)}</p>" for p in self.front[1:]]
        P += [f'<nav><h2 class="first">Contents</h2><ul class="toc">{toc}</ul></nav>']
        for s in self.sections:
            P.append(f'<section id="s{s.number}" data-section="{html.escape(s.title)}">'
                     f"<h2>{s.number}. {html.escape(s.title)}</h2>")
            for it in s.items:
                cls = "filled" if it.status == FILLED else "decide"
                P.append(f'<article id="{_slug(it.title)}" data-status="{cls}" data-covers="{" ".join(it.covers)}">'
                         f'<h3>{html.escape(it.title)} '
                         + (f'<span class="code">(item {", ".join(it.covers)})</span>' if it.covers else "")
                         + f'<span class="status status-{cls}">{html.escape(it.status)}</span></h3>')
                P += [f"<p>{H(p)}</p>" for p in it.paragraphs]
                if it.bullets:
                    P.append("<ul>" + "".join(f"<li>{H(b)}</li>" for b in it.bullets) + "</ul>")
                if it.table:
                    P.append(_html_table(it.table[0], it.table[1], H, header_fmt=H))
                if it.status == DECIDE:
                    P.append(f'<div class="decide"><p><strong>To be decided:</strong> {H(it.decision)}</p>'
                             f"<p><strong>The companion recommends:</strong> {H(it.recommendation)}</p></div>")
                P.append("</article>")
            P.append("</section>")
        P.append('<section id="amendments" data-section="Proposed protocol amendments">'
                 "<h2>Proposed protocol amendments</h2>")
        for i, a in enumerate(self.amendments, 1):
            P.append(f'<article id="amendment-{a.key}" data-origin="{html.escape(a.origin)}">'
                     f"<h3>A{i}. {H(a.title)}</h3>"
                     f'<p class="meta">Found by: {html.escape(a.origin)}. '
                     f"Protocol section: {html.escape(a.section)}.</p>"
                     + _html_table(("", ""), (("Protocol text", a.protocol_text), ("Proposed text", a.proposed_text),
                                              ("Reason", a.reason)), H, show_header=False) + "</article>")
        P.append("</section>")
        ck = self.checklist()
        P.append('<section id="checklist" data-section="Appendix A"><h2>Appendix A. Guideline checklist</h2>'
                 + _html_table(tuple(ck.columns), ck.astype(str).values.tolist(), html.escape) + "</section>")
        rows = "".join(f'<tr id="n{idx[n.key]}"><td>{idx[n.key]}</td><td>{html.escape(n.text)}</td>'
                       f"<td>{html.escape(n.source)}</td></tr>"
                       for n in self._ordered_numbers() if n.kind == "number")
        P.append('<section id="numbers" data-section="Appendix B"><h2>Appendix B. Where every number comes from</h2>'
                 "<table><thead><tr><th>#</th><th>Printed</th><th>Source</th></tr></thead>"
                 f"<tbody>{rows}</tbody></table></section>")
        return page(self.title, "\n".join(P), provenance_line=f"{self.generator}; generated {self.generated}.",
                    css=_CSS)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]], fmt: Any, show_header: bool = True,
                header_fmt: Any = html.escape) -> str:
    show = show_header
    head = ("<thead><tr>" + "".join(f"<th>{header_fmt(h)}</th>" for h in header) + "</tr></thead>") if show else ""
    body = "".join("<tr>" + "".join((f"<th>{fmt(c)}</th>" if (not show and j == 0) else f"<td>{fmt(c)}</td>")
                                    for j, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table>{head}<tbody>{body}</tbody></table>"
