"""Randomization console: enter a patient's factors, see the counts, the imbalance table per
candidate arm, the probabilities, and allocate.

:class:`RandomizationConsole` builds the controls and outputs. Its callbacks call the pure
functions of :mod:`trialnb.randomization` (a :class:`~trialnb.randomization.PocockSimon`
procedure bound to a durable, keyed :class:`~trialnb.randomization.AllocationLog`) and only
assign the results to ``ipywidgets.HTML`` values. The same key, seed and patients give the
same allocations. The console never discards a log (see :class:`RandomizationConsole`).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Mapping

import ipywidgets as W

from ..errors import SettingsError
from ..protocol import FACTORS
from ..randomization import (
    IMBALANCE_MEASURES,
    AllocationLog,
    Assignment,
    PocockSimon,
    Procedure,
)
from ..report import fmt_n, fmt_num, fmt_prob
from .export import ExportBox, check_values
from .svg import esc

__all__ = ["RandomizationConsole", "build_dashboard", "counts_table_html", "imbalance_table_html"]

_TD = "style='padding:2px 8px;border-bottom:1px solid #ddd;text-align:{}'"



def _cell(x: Any, align: str = "right", tag: str = "td") -> str:
    return f"<{tag} {_TD.format(align)}>{esc(x)}</{tag}>"


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
    """Minimization console for the trial's three factors, writing a durable allocation log.

    Controls (set ``.value`` headless): ``dropdowns[factor name]`` (one per factor),
    ``patient_id`` (text; the next free ``P001``-style id is proposed), ``measure`` (imbalance
    measure) and ``p`` (probability for the minimizing arm), ``allocate_button`` (calls
    :meth:`allocate`) and ``new_log_button`` (calls :meth:`start_new_log`).

    The console never discards a log. Changing ``measure`` or ``p`` does not touch the current
    log: ``settings_html`` says that the log continues with its own settings and that
    **Start a new log** applies the new ones. A new log is a new file next to the old ones
    (``logs`` lists them all), each opened with :class:`~trialnb.randomization.AllocationLog`.

    Outputs: ``counts_html``, ``table_html`` (imbalance table per candidate arm for the patient
    entered), ``probs_html``, ``allocation_html`` (CSS class ``trialnb-allocation``),
    ``settings_html`` and ``log_html`` (log status). ``root`` is the panel (CSS class
    ``trialnb-randomization``). Latest results: ``preview``, ``last`` (the last
    :class:`~trialnb.randomization.Assignment`), ``last_entry`` and ``log``.

    ``log_dir``: where the log files go (default: a temporary folder of this console's own,
    deleted with it when the session ends, so a dashboard leaves nothing behind); ``key``: the
    log's secret key (default: 32 random bytes held by this console only).
    """

    def __init__(self, seed: int = 2026, p: float = 0.8, imbalance: str = "range",
                 procedure: Procedure | None = None, *, log_dir: str | os.PathLike | None = None,
                 key: bytes | None = None) -> None:
        self.seed = seed
        self.factors = FACTORS
        # a folder of our own when none is given: removed when the console is garbage-collected
        # or the kernel exits (TemporaryDirectory's finalizer), so no run leaves one behind
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if log_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="trialnb-console-")
            self.log_dir = Path(self._tmp.name)
        else:
            self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._key = key if key is not None else secrets.token_bytes(32)
        self.logs: list[Path] = []
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
        self.patient_id = W.Text(value="P001", description="Patient ID", style={"description_width": "190px"},
                                 layout=W.Layout(width="480px"))
        self.measure = W.Dropdown(options=list(IMBALANCE_MEASURES), value=imbalance,
                                  description="Imbalance measure", style={"description_width": "190px"})
        self.p = W.FloatSlider(value=p, min=0.55, max=1.0, step=0.05, description="p (minimizing arm)",
                               style={"description_width": "190px"}, readout_format=".2f",
                               layout=W.Layout(width="480px"))
        self.allocate_button = W.Button(description="Allocate", button_style="primary", icon="random")
        self.new_log_button = W.Button(description="Start a new log", icon="file",
                                       tooltip="Keep the current log file and start a new one with these settings")
        self.counts_html = W.HTML()
        self.table_html = W.HTML()
        self.probs_html = W.HTML()
        self.allocation_html = W.HTML("<i>No patient allocated yet.</i>")
        self.allocation_html.add_class("trialnb-allocation")
        self.settings_html = W.HTML()
        self.settings_html.add_class("trialnb-settings-note")
        self.log_html = W.HTML()
        self.export = ExportBox("randomization", self.panel_settings, self.apply_settings, lambda: self.root)
        self.last: Assignment | None = None
        self.last_entry: dict[str, Any] | None = None
        self.preview: dict[str, float] = {}
        self._open_log(procedure)

        for dd in self.dropdowns.values():
            dd.observe(self._on_patient, names="value")
        self.measure.observe(self._on_settings, names="value")
        self.p.observe(self._on_settings, names="value")
        self.allocate_button.on_click(lambda _b: self._click_allocate())
        self.new_log_button.on_click(lambda _b: self.start_new_log())

        self.root = W.VBox([
            W.HTML("<h3>Randomization console (minimization, Pocock &amp; Simon 1975)</h3>"),
            W.HBox([W.VBox(list(self.dropdowns.values()) + [self.patient_id, self.allocate_button]),
                    W.VBox([self.measure, self.p, self.new_log_button])]),
            self.settings_html,
            W.HBox([W.VBox([W.HTML("<b>Patients so far</b>"), self.counts_html]),
                    W.VBox([W.HTML("<b>Imbalance if this patient joins each arm</b>"), self.table_html,
                            self.probs_html])]),
            self.allocation_html,
            self.log_html,
            self.export.root,
        ])
        self.root.add_class("trialnb-randomization")

    # ---- state ---------------------------------------------------------------------------
    @property
    def procedure(self) -> Procedure:
        return self.log.procedure

    def patient(self) -> dict[str, str]:
        """The patient currently entered in the dropdowns."""
        return {name: dd.value for name, dd in self.dropdowns.items()}

    def _wanted(self) -> tuple[str, float]:
        return self.measure.value, round(float(self.p.value), 12)

    def _open_log(self, procedure: Procedure | None = None) -> None:
        proc = procedure if procedure is not None else PocockSimon(p=float(self.p.value), imbalance=self.measure.value)
        path = self.log_dir / f"allocation-log-{len(self.logs) + 1:03d}.jsonl"
        self.log = AllocationLog.create(path, proc, seed=self.seed, key=self._key)
        self.logs.append(path)
        self.last = None
        self.last_entry = None
        self.allocation_html.value = "<i>No patient allocated yet.</i>"
        self.patient_id.value = self._next_id()
        self._refresh()

    def _where(self) -> str:
        """Where the logs are, for the panel: the folder, or that it is this session's own."""
        if self._tmp is not None:
            return "a temporary folder of this session, deleted when it ends"
        return esc(self.log_dir)

    def _next_id(self) -> str:
        return f"P{len(self.log) + 1:03d}"

    def start_new_log(self) -> Path:
        """Close the current log (its file stays) and start a new one with the current settings."""
        old, n_old = self.logs[-1], len(self.log)
        self.log.close()
        self._open_log()
        self.settings_html.value = (
            f"<div class='trialnb-settings-note'>Started a new log ({esc(self.logs[-1].name)}) with "
            f"{esc(self.measure.value)}, p = {fmt_prob(self.p.value)}. The previous log ({fmt_n(n_old)} "
            f"entries) is kept unchanged: {esc(old.name)} in {self._where()}.</div>"
        )
        return self.logs[-1]

    # ---- settings (export) ------------------------------------------------------------------
    def panel_settings(self) -> dict[str, Any]:
        """The console's settings: ``p`` and ``imbalance`` of the log in use, ``seed``, the ``patient`` entered and
        ``patient_id``; and, for the code that reproduces the numbers, the ``history`` of the
        current log (each allocation's factors and arm). The key is never part of them."""
        proc = self.procedure
        p, measure = ((float(proc.p), proc.imbalance_measure) if isinstance(proc, PocockSimon)
                      else (float(self.p.value), self.measure.value))
        return {"p": p, "imbalance": measure, "seed": self.seed,
                "patient": self.patient(), "patient_id": self.patient_id.value,
                "history": [[dict(e["factors"]), e["arm"]] for e in self.log.entries]}

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls to saved settings (a value a control does not accept is refused, and
        so is another seed). When the procedure's settings differ from the current log's, a new
        log is started with them (the current one is kept, as **Start a new log** does). The
        ``history`` is the saved log's record, not a setting: it is not replayed (its arms came
        from that log's secret key)."""
        values = dict(settings)
        values.pop("history", None)
        seed = values.pop("seed", self.seed)
        if seed != self.seed:
            raise SettingsError(f"these settings allocate with seed {seed!r}, this console with {self.seed}")
        patient = values.pop("patient", None)
        if patient is not None and not isinstance(patient, Mapping):
            raise SettingsError(f"setting patient must map each factor to a level, got {patient!r}")
        levels = check_values(self.dropdowns, dict(patient or {}))
        rest = check_values({"p": self.p, "imbalance": self.measure, "patient_id": self.patient_id}, values)
        for name, value in levels.items():
            self.dropdowns[name].value = value
        if "p" in rest:
            self.p.value = rest["p"]
        if "imbalance" in rest:
            self.measure.value = rest["imbalance"]
        proc = self.procedure
        if not isinstance(proc, PocockSimon) or (proc.imbalance_measure, round(proc.p, 12)) != self._wanted():
            self.start_new_log()
        if "patient_id" in rest:
            self.patient_id.value = rest["patient_id"]
        self._refresh()

    # ---- callbacks -------------------------------------------------------------------------
    def _on_patient(self, _change: Any = None) -> None:
        self._refresh()

    def _on_settings(self, _change: Any = None) -> None:
        proc = self.procedure
        if not isinstance(proc, PocockSimon) or (proc.imbalance_measure, round(proc.p, 12)) != self._wanted():
            now = (f"{esc(proc.imbalance_measure)}, p = {fmt_prob(proc.p)}" if isinstance(proc, PocockSimon)
                   else esc(proc.name))
            self.settings_html.value = (
                "<div class='trialnb-settings-note' style='border-left:6px solid #e0a100;padding:4px'>"
                f"Settings changed, but the current log ({fmt_n(len(self.log))} entries) keeps its own: {now}. "
                "Nothing was discarded. Press <b>Start a new log</b> to allocate with the new settings "
                "in a new log file.</div>"
            )
        else:
            self.settings_html.value = ""

    def _refresh(self) -> None:
        pat = self.patient()
        proc = self.procedure
        self.preview = proc.probabilities(pat)
        if isinstance(proc, PocockSimon):
            self.counts_html.value = counts_table_html(proc, pat)
            self.table_html.value = imbalance_table_html(proc.table(pat), proc.imbalance_measure)
        else:
            self.counts_html.value = (f"Arm A: {fmt_n(proc.n_a)}, arm B: {fmt_n(proc.n_b)}")
            self.table_html.value = f"<i>{esc(proc.name)} has no imbalance table.</i>"
        note = ""
        if isinstance(proc, PocockSimon) and proc.random_element > 0:
            note = f" (effective p = {fmt_prob(proc.effective_p)})"
        self.probs_html.value = (
            f"<span class='trialnb-probabilities'>P(A) = {fmt_prob(self.preview['A'])}, "
            f"P(B) = {fmt_prob(self.preview['B'])}{esc(note)}</span>"
        )
        ok = self.log.verify()
        self.export.refresh()
        self.log_html.value = (
            f"<small>Allocation log {esc(self.logs[-1].name)}: {fmt_n(len(self.log))} entries, keyed chain "
            f"{'intact' if ok else 'BROKEN'}; head <span class='trialnb-run-id'>{self.log.head[:12]}…</span> "
            f"({fmt_n(len(self.logs))} log file(s) "
            f"in {self._where()})</small>"
        )

    def _click_allocate(self) -> None:
        try:
            self.allocate()
        except ValueError as exc:  # duplicate or empty id, bad record: say so, allocate nothing
            self.allocation_html.value = f"<div style='color:#b00020'>Not allocated: {esc(exc)}</div>"

    def allocate(self) -> Assignment:
        """Allocate the patient entered (factors and ``patient_id``), log it durably and update
        every output. Raises ``ValueError`` (nothing allocated) for a bad or duplicate id."""
        entry = self.log.allocate(self.patient(), patient_id=self.patient_id.value)
        self.last_entry = entry
        self.last = self.log.assignments[-1]
        a = self.last
        self.allocation_html.value = (
            f"<div style='font-size:1.2em;padding:6px;border-left:6px solid "
            f"{'#1b6ca8' if a.arm == 'A' else '#d1495b'}'>Patient {fmt_n(a.sequence)} "
            f"({esc(entry['patient_id'])}, {esc(entry['stratum'])}) → <b>arm {a.arm}</b> "
            f"with P(A) = {fmt_prob(a.probabilities['A'])}<br>"
            f"<small>{esc(a.explanation)}</small><br>"
            f"<small>Receipt for the patient's CRF: <code class='trialnb-receipt'>{esc(entry.receipt.code)}</code>"
            "</small></div>"
        )
        self.patient_id.value = self._next_id()
        self._refresh()
        return a


def build_dashboard(seed: int = 2026, log_dir: str | os.PathLike | None = None, key: bytes | None = None) -> W.VBox:
    """The console's root widget, for a Voilà dashboard (logs in ``log_dir``, default a
    temporary folder; ``key`` default: 32 random bytes, so the allocations are concealed)."""
    return RandomizationConsole(seed=seed, log_dir=log_dir, key=key).root
