"""Randomization console: enter a patient's factors, see the counts, the imbalance table per
candidate arm, the probabilities, and allocate.

:class:`RandomizationConsole` builds the controls and outputs. Its callbacks call the pure
functions of :mod:`trialnb.randomization` (a :class:`~trialnb.randomization.PocockSimon`
procedure wrapped in a hash-chained :class:`~trialnb.randomization.AllocationLog`) and only
assign the results to ``ipywidgets.HTML`` values. Seeded: the same seed and the same patients
give the same allocations.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

import ipywidgets as W

from ..protocol import FACTORS
from ..randomization import (
    IMBALANCE_MEASURES,
    AllocationLog,
    Assignment,
    PocockSimon,
    Procedure,
)
from ..report import fmt_n, fmt_num, fmt_prob

__all__ = ["RandomizationConsole", "build_dashboard", "counts_table_html", "imbalance_table_html"]

_TD = "style='padding:2px 8px;border-bottom:1px solid #ddd;text-align:{}'"


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _cell(x: Any, align: str = "right", tag: str = "td") -> str:
    return f"<{tag} {_TD.format(align)}>{_esc(x)}</{tag}>"


def counts_table_html(proc: PocockSimon, patient: Mapping[str, str] | None = None) -> str:
    """Patients on each arm by factor level; the newcomer's levels in bold."""
    rows = ["<table class='trialnb-counts'><tr>"
            + "".join(_cell(h, "left", "th") for h in ("Factor", "Level", "Arm A", "Arm B")) + "</tr>"]
    for f in proc.factors:
        for lv in f.levels:
            a, b = proc.counts[f.name][lv]
            label = f.level_labels.get(lv, lv)
            cur = patient is not None and patient.get(f.name) == lv
            style = " style='font-weight:bold;background:#f3f6fa'" if cur else ""
            rows.append(f"<tr{style}>" + _cell(f.label, "left") + _cell(label, "left")
                        + _cell(fmt_n(a)) + _cell(fmt_n(b)) + "</tr>")
    rows.append("<tr>" + _cell("All patients", "left") + _cell("", "left")
                + _cell(fmt_n(proc.n_a)) + _cell(fmt_n(proc.n_b)) + "</tr></table>")
    return "".join(rows)


def imbalance_table_html(table: list[dict[str, Any]] | tuple[dict[str, Any], ...], measure: str) -> str:
    """The minimization table: one row per factor, the imbalance if the newcomer joins A or B, and G."""
    head = ("Factor", "Newcomer's level", "Weight", "Now on A", "Now on B",
            f"{measure} if A", f"{measure} if B")
    rows = ["<table class='trialnb-imbalance'><tr>" + "".join(_cell(h, "left", "th") for h in head) + "</tr>"]
    for r in table:
        is_total = r["n_A"] is None
        vals = [
            _cell(r["factor"], "left"), _cell(r["level"], "left"),
            _cell("" if r["weight"] is None else fmt_num(r["weight"], 2)),
            _cell("" if is_total else fmt_n(r["n_A"])), _cell("" if is_total else fmt_n(r["n_B"])),
            _cell(fmt_num(r["d_if_A"], 3)), _cell(fmt_num(r["d_if_B"], 3)),
        ]
        style = " style='font-weight:bold'" if is_total else ""
        rows.append(f"<tr{style}>" + "".join(vals) + "</tr>")
    return "".join(rows) + "</table>"


class RandomizationConsole:
    """Minimization console for the trial's three factors.

    Controls (set ``.value`` headless): ``dropdowns[factor name]`` (one per factor),
    ``measure`` (imbalance measure; changing it starts a new, empty trial), ``p`` (probability
    for the minimizing arm; also restarts), ``allocate_button`` (calls :meth:`allocate`).
    Outputs: ``counts_html`` (counts per arm by level), ``table_html`` (imbalance table per
    candidate arm for the patient currently entered), ``probs_html`` (the probabilities),
    ``allocation_html`` (CSS class ``trialnb-allocation``: the last allocation) and
    ``log_html`` (audit-log status). ``root`` is the panel (CSS class
    ``trialnb-randomization``). Latest results: ``preview`` (probabilities for the entered
    patient), ``last`` (the last :class:`~trialnb.randomization.Assignment`), ``last_entry``
    (its log entry) and ``log`` (the :class:`~trialnb.randomization.AllocationLog`).
    """

    def __init__(self, seed: int = 2026, p: float = 0.8, imbalance: str = "range",
                 procedure: Procedure | None = None) -> None:
        self.seed = seed
        self.factors = FACTORS
        self.dropdowns: dict[str, W.Dropdown] = {
            f.name: W.Dropdown(
                options=[(f.level_labels.get(lv, lv), lv) for lv in f.levels],
                value=f.levels[0],
                description=f.label,
                style={"description_width": "190px"},
                layout=W.Layout(width="480px"),
            )
            for f in self.factors
        }
        self.measure = W.Dropdown(options=list(IMBALANCE_MEASURES), value=imbalance,
                                  description="Imbalance measure", style={"description_width": "190px"})
        self.p = W.FloatSlider(value=p, min=0.55, max=1.0, step=0.05, description="p (minimizing arm)",
                               style={"description_width": "190px"}, readout_format=".2f",
                               layout=W.Layout(width="480px"))
        self.allocate_button = W.Button(description="Allocate", button_style="primary", icon="random")
        self.counts_html = W.HTML()
        self.table_html = W.HTML()
        self.probs_html = W.HTML()
        self.allocation_html = W.HTML("<i>No patient allocated yet.</i>")
        self.allocation_html.add_class("trialnb-allocation")
        self.log_html = W.HTML()
        self.last: Assignment | None = None
        self.last_entry: dict[str, Any] | None = None
        self.preview: dict[str, float] = {}
        self._custom = procedure
        self._restart()

        for dd in self.dropdowns.values():
            dd.observe(self._on_patient, names="value")
        self.measure.observe(self._on_settings, names="value")
        self.p.observe(self._on_settings, names="value")
        self.allocate_button.on_click(lambda _b: self.allocate())

        self.root = W.VBox([
            W.HTML("<h3>Randomization console (minimization, Pocock &amp; Simon 1975)</h3>"),
            W.HBox([W.VBox(list(self.dropdowns.values()) + [self.allocate_button]),
                    W.VBox([self.measure, self.p])]),
            W.HBox([W.VBox([W.HTML("<b>Patients so far</b>"), self.counts_html]),
                    W.VBox([W.HTML("<b>Imbalance if this patient joins each arm</b>"), self.table_html,
                            self.probs_html])]),
            self.allocation_html,
            self.log_html,
        ])
        self.root.add_class("trialnb-randomization")

    # ---- state ---------------------------------------------------------------------------
    @property
    def procedure(self) -> Procedure:
        return self.log.procedure

    def patient(self) -> dict[str, str]:
        """The patient currently entered in the dropdowns."""
        return {name: dd.value for name, dd in self.dropdowns.items()}

    def _restart(self) -> None:
        proc = self._custom if self._custom is not None else PocockSimon(
            p=float(self.p.value), imbalance=self.measure.value)
        self._custom = None
        self.log = AllocationLog(proc, seed=self.seed)
        self.last = None
        self.last_entry = None
        self.allocation_html.value = "<i>No patient allocated yet.</i>"
        self._refresh()

    # ---- callbacks -------------------------------------------------------------------------
    def _on_patient(self, _change: Any = None) -> None:
        self._refresh()

    def _on_settings(self, _change: Any = None) -> None:
        self._restart()

    def _refresh(self) -> None:
        pat = self.patient()
        proc = self.procedure
        self.preview = proc.probabilities(pat)
        if isinstance(proc, PocockSimon):
            self.counts_html.value = counts_table_html(proc, pat)
            self.table_html.value = imbalance_table_html(proc.table(pat), proc.imbalance_measure)
        else:
            self.counts_html.value = (f"Arm A: {fmt_n(proc.n_a)}, arm B: {fmt_n(proc.n_b)}")
            self.table_html.value = f"<i>{_esc(proc.name)} has no imbalance table.</i>"
        note = ""
        if isinstance(proc, PocockSimon) and proc.random_element > 0:
            note = f" (effective p = {fmt_prob(proc.effective_p)})"
        self.probs_html.value = (
            f"<span class='trialnb-probabilities'>P(A) = {fmt_prob(self.preview['A'])}, "
            f"P(B) = {fmt_prob(self.preview['B'])}{_esc(note)}</span>"
        )
        ok = self.log.verify()
        self.log_html.value = (
            f"<small>Audit log: {fmt_n(len(self.log))} entries, chain "
            f"{'intact' if ok else 'BROKEN'}; head {self.log.head[:12]}…; seed {self.seed}</small>"
        )

    def allocate(self) -> Assignment:
        """Allocate the patient entered in the dropdowns, log it and update every output."""
        entry = self.log.allocate(self.patient())
        self.last_entry = entry
        self.last = self.log.assignments[-1]
        a = self.last
        self.allocation_html.value = (
            f"<div style='font-size:1.2em;padding:6px;border-left:6px solid "
            f"{'#1b6ca8' if a.arm == 'A' else '#d1495b'}'>Patient {fmt_n(a.sequence)} "
            f"({_esc(entry['stratum'])}) → <b>arm {a.arm}</b> "
            f"with P(A) = {fmt_prob(a.probabilities['A'])}, u = {fmt_num(a.u, 4)}<br>"
            f"<small>{_esc(a.explanation)}</small></div>"
        )
        self._refresh()
        return a


def build_dashboard(seed: int = 2026) -> W.VBox:
    """The console's root widget, for a Voilà dashboard."""
    return RandomizationConsole(seed=seed).root
