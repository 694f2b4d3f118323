"""Sample-size explorer: move the design assumptions, solve for N, power or the detectable hazard
ratio, see when the deaths arrive and the power curve; save, load, report and reproduce.

:class:`SampleSizeExplorer` builds the controls and outputs; its one callback reads the
controls, calls the pure functions of :mod:`trialnb.sample_size` (:func:`~trialnb.sample_size.solve`)
and :mod:`trialnb.monitoring.timing` and assigns the results to output widgets. The power
curve is drawn as a small inline SVG (no matplotlib round trip), so an update takes a few
milliseconds and works the same in JupyterLab and Voilà.

Time unit: months. The control arm is given by its 2-year survival (exponential, hazard
``-ln S / 24`` per month); drop-out as the proportion lost to a competing drop-out process
by 2 years (hazard ``-ln(1 - p) / 24``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import ipywidgets as W
import numpy as np

from ..monitoring.timing import analysis_times
from ..plan import PLAN
from ..protocol import PROTOCOL
from ..report import fmt_n, fmt_num, fmt_pct
from ..reproduce import sample_size_kwargs
from ..sample_size import (DesignSolution, SampleSize, hazard_from_survival, median_from_hazard, power_curve,
                           sample_size, solve)
from .export import ExportBox, SettingsPanel
from .svg import esc, frame, SVG_GRID

__all__ = ["HR_GRID", "SampleSizeExplorer", "build_dashboard", "power_curve_svg", "protocol_note_html", "times_html"]

HORIZON = PROTOCOL.design.horizon_months  # 24 months: the 2-year horizon of the endpoint
HR_GRID = np.round(np.linspace(0.30, 1.00, 71), 4)
"""Hazard ratios at which the explorer draws the power curve."""

_STYLE = {"description_width": "270px"}
_SLIDER_WIDTH = "520px"



def power_curve_svg(
    hazard_ratios: Sequence[float] | np.ndarray,
    powers: Sequence[float] | np.ndarray,
    design_hr: float,
    target_power: float,
    events: int | str,
    width: int = 460,
    height: int = 290,
) -> str:
    """An inline SVG line chart of power (y, 0-1) against hazard ratio (x), with the design
    hazard ratio marked and the target power dashed. Pure string building."""
    ml, mr, mt, mb = 52, 26, 32, 44  # right margin: room for the last x tick label
    x0, x1 = float(min(hazard_ratios)), float(max(hazard_ratios))
    pw, ph = width - ml - mr, height - mt - mb

    def X(v: float) -> float:
        return ml + (v - x0) / (x1 - x0) * pw

    def Y(v: float) -> float:
        return mt + (1 - v) * ph

    pts = " ".join(f"{X(h):.1f},{Y(p):.1f}" for h, p in zip(hazard_ratios, powers, strict=True))
    label = fmt_n(events) if isinstance(events, (int, np.integer)) else str(events)
    parts = frame(width, height, ml, mt, pw, ph, f"Power with {label} events", "Power curve",
                  css_class="trialnb-power-curve")
    for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts.insert(1, f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(v):.1f}' y2='{Y(v):.1f}' stroke='{SVG_GRID}'/>")
        parts.append(
            f"<text x='{ml - 6}' y='{Y(v) + 4:.1f}' text-anchor='end' font-size='11'>{fmt_num(v, 1)}</text>"
        )
    for v in np.arange(math.ceil(x0 * 10) / 10, x1 + 1e-9, 0.1):
        parts.insert(1, f"<line x1='{X(v):.1f}' x2='{X(v):.1f}' y1='{mt}' y2='{mt + ph}' stroke='{SVG_GRID}'/>")
        parts.append(
            f"<text x='{X(v):.1f}' y='{mt + ph + 16}' text-anchor='middle' font-size='11'>{fmt_num(float(v), 1)}</text>"
        )
    parts += [
        f"<line x1='{ml}' x2='{ml + pw}' y1='{Y(target_power):.1f}' y2='{Y(target_power):.1f}' "
        "stroke='#555' stroke-dasharray='5,4'/>",
        f"<polyline points='{pts}' fill='none' stroke='#1b6ca8' stroke-width='2.2'/>",
    ]
    if x0 <= design_hr <= x1:
        parts.append(
            f"<line x1='{X(design_hr):.1f}' x2='{X(design_hr):.1f}' y1='{mt}' y2='{mt + ph}' stroke='#d1495b'/>"
        )
    parts += [
        f"<text x='{ml + pw / 2:.0f}' y='{height - 8}' text-anchor='middle' font-size='12'>"
        "True hazard ratio, arm A vs arm B (red: design value)</text>",
        f"<text transform='translate(14,{mt + ph / 2:.0f}) rotate(-90)' text-anchor='middle' font-size='12'>"
        "Power (dashed: target)</text>",
        "</svg>",
    ]
    return "".join(parts)


_SOLVE = (("Patients (N)", "n"), ("Power", "power"), ("Hazard ratio", "hazard_ratio"))


def times_html(solution: DesignSolution) -> str:
    """When the deaths arrive (:func:`trialnb.monitoring.analysis_times`): the month at which the
    design's deaths are expected under H1 (its hazard ratio) and H0 (no effect), with the
    patients randomized by then, as a small table (class ``trialnb-sample-size-times``)."""
    s = solution
    keep = 1 - s.loss_to_follow_up
    t = analysis_times([s.events], n_patients=s.n_evaluable, accrual_time=s.accrual_time,
                       hazard_ratio=s.hazard_ratio, control_hazard=s.control_hazard,
                       allocation_ratio=s.allocation_ratio, dropout_hazard=s.dropout_hazard)
    rows = []
    for label, month, randomized in ((f"H1, HR {fmt_num(s.hazard_ratio, 2)}", t.months_h1[0], t.randomized_h1[0]),
                                     ("H0, no effect", t.months_h0[0], t.randomized_h0[0])):
        when = "never" if math.isnan(month) else f"month {fmt_num(float(month), 1)}"
        who = "" if math.isnan(month) else fmt_num(float(randomized) / keep, 1)
        rows.append(f"<tr><td>{esc(label)}</td><td style='text-align:right'>{when}</td>"
                    f"<td style='text-align:right'>{who}</td></tr>")
    return ("<table class='trialnb-sample-size-times'><tr><th style='text-align:left'>When the "
            f"{fmt_num(s.events, 1)} deaths arrive</th><th>expected</th><th>randomized by then</th></tr>"
            + "".join(rows) + "</table>")


class SampleSizeExplorer(SettingsPanel):
    """A panel of design controls that solves for one quantity -- the patients (N), the power
    or the detectable hazard ratio (:func:`trialnb.sample_size.solve`) -- with when the deaths
    arrive, the power curve and the export section.

    Controls (attributes, set ``.value`` to drive it headless): ``solve_for`` ("n", "power",
    "hazard_ratio"), ``alpha``, ``power``, ``hazard_ratio``, ``n_patients`` (randomized; for
    power and the hazard ratio), ``control_form`` ("survival": ``control_survival`` at 2 years;
    "median": ``control_median`` in months), ``accrual_form`` ("duration": ``accrual`` months;
    "intensity": ``accrual_intensity`` patients per month), ``follow_up`` (months after the end
    of accrual), ``dropout_probability`` (by 2 years), ``loss_to_follow_up`` (the fraction N is
    inflated by), ``allocation_ratio`` (n_A / n_B), ``method``, ``sided``. The panel shows the
    controls the choice needs (the answer's own control and the unused forms are left out).
    Outputs: ``n_display`` (CSS class ``trialnb-n-total``: the answer), ``summary``, ``times``,
    ``curve``, ``steps``, ``message``; ``export`` (:class:`~trialnb.widgets.export.ExportBox`);
    ``root`` is the whole panel (CSS class ``trialnb-sample-size``). The latest
    :class:`~trialnb.sample_size.DesignSolution` is ``solution``, its rounded design
    (:class:`~trialnb.sample_size.SampleSize`, solving for N) ``result``, the power curve values
    ``curve_power`` (at :data:`HR_GRID`); ``error`` holds the last input problem.
    """

    def __init__(self, **initial: Any) -> None:
        d = PROTOCOL.design
        v: dict[str, Any] = dict(
            solve_for="n", alpha=d.alpha, power=d.power, hazard_ratio=d.hazard_ratio, n_patients=PLAN.design.n_patients,
            control_form="survival", control_survival=d.control_survival_exact,
            control_median=median_from_hazard(hazard_from_survival(d.control_survival_exact, HORIZON)),
            accrual_form="duration", accrual=0.0, accrual_intensity=round(PLAN.design.n_patients / d.accrual_months, 1),
            follow_up=d.horizon_months, dropout_probability=0.0, loss_to_follow_up=d.loss_to_follow_up,
            allocation_ratio=d.allocation_ratio, method="schoenfeld", sided=d.sided,
        )
        unknown = set(initial) - set(v)
        if unknown:
            raise ValueError(f"unknown initial setting(s) {sorted(unknown)}; allowed: {sorted(v)}")
        v.update(initial)

        def fs(desc: str, value: float, lo: float, hi: float, step: float, fmt: str) -> W.FloatSlider:
            # The browser's slider snaps its value to min + k * step and sends that back, so a
            # starting value off the grid (exp(-0.5) = 0.60653 with step 0.001) would silently
            # become 0.607. The grid is anchored at the starting value instead: the slider
            # carries it exactly (the readout rounds it for display only).
            lo = value - math.floor((value - lo) / step + 1e-9) * step if lo <= value <= hi else lo
            return W.FloatSlider(value=value, min=lo, max=hi, step=step, description=desc,
                                 readout_format=fmt, continuous_update=True, style=_STYLE,
                                 layout=W.Layout(width=_SLIDER_WIDTH))

        def toggle(desc: str, options: Any, value: Any) -> W.ToggleButtons:
            return W.ToggleButtons(options=options, value=value, description=desc, style=_STYLE)

        self.solve_for = toggle("Solve for", _SOLVE, v["solve_for"])
        self.alpha = fs("Significance level α", v["alpha"], 0.005, 0.20, 0.005, ".3f")
        self.power = fs("Power (1 − β)", v["power"], 0.50, 0.99, 0.01, ".2f")
        self.hazard_ratio = fs("Hazard ratio A vs B", v["hazard_ratio"], 0.30, 0.95, 0.01, ".2f")
        self.n_patients = W.IntSlider(value=v["n_patients"], min=20, max=2000, step=1,
                                      description="Patients randomized", continuous_update=True, style=_STYLE,
                                      layout=W.Layout(width=_SLIDER_WIDTH))
        self.control_form = toggle("Control arm given as", (("2-year survival", "survival"),
                                                            ("median (months)", "median")), v["control_form"])
        self.control_survival = fs("Control 2-year survival", v["control_survival"], 0.20, 0.95, 0.001, ".3f")
        self.control_median = fs("Control median (months)", v["control_median"], 6.0, 120.0, 0.5, ".1f")
        self.accrual_form = toggle("Accrual given as", (("duration", "duration"), ("patients per month", "intensity")),
                                   v["accrual_form"])
        self.accrual = fs("Accrual (months)", v["accrual"], 0.0, 72.0, 1.0, ".0f")
        self.accrual_intensity = fs("Patients per month", v["accrual_intensity"], 0.5, 50.0, 0.1, ".1f")
        self.follow_up = fs("Follow-up after accrual (months)", v["follow_up"], 1.0, 72.0, 1.0, ".0f")
        self.dropout_probability = fs("Drop-out by 2 years", v["dropout_probability"], 0.0, 0.40, 0.01, ".2f")
        self.loss_to_follow_up = fs("Loss to follow-up (inflation)", v["loss_to_follow_up"], 0.0, 0.40, 0.01, ".2f")
        self.allocation_ratio = fs("Allocation ratio n_A / n_B", v["allocation_ratio"], 0.5, 3.0, 0.25, ".2f")
        self.method = toggle("Events formula", [("Schoenfeld", "schoenfeld"), ("Freedman", "freedman")], v["method"])
        self.sided = toggle("Test", [("two-sided", 2), ("one-sided", 1)], v["sided"])
        self.named: dict[str, W.Widget] = {
            "solve_for": self.solve_for, "alpha": self.alpha, "power": self.power, "hazard_ratio": self.hazard_ratio,
            "n_patients": self.n_patients, "control_form": self.control_form, "control_survival": self.control_survival,
            "control_median": self.control_median, "accrual_form": self.accrual_form, "accrual": self.accrual,
            "accrual_intensity": self.accrual_intensity, "follow_up": self.follow_up,
            "dropout_probability": self.dropout_probability, "loss_to_follow_up": self.loss_to_follow_up,
            "allocation_ratio": self.allocation_ratio, "method": self.method, "sided": self.sided,
        }
        self.controls: tuple[W.Widget, ...] = tuple(self.named.values())

        self.n_display = W.HTML().add_class("trialnb-n-total")
        self.summary = W.HTML().add_class("trialnb-sample-size-summary")
        self.times = W.HTML().add_class("trialnb-sample-size-times")
        self.curve = W.HTML().add_class("trialnb-power-curve")
        self.message = W.HTML().add_class("trialnb-message")
        self.steps = W.HTML()
        self.export = ExportBox("sample_size", self.panel_settings, self.apply_settings, lambda: self.root)
        self._controls_box = W.VBox()
        steps_box = W.Accordion(children=[self.steps], titles=("Calculation steps",))
        self.root = W.VBox(
            [
                W.HTML("<h3>Sample-size explorer</h3>"),
                W.HBox([W.VBox([self._controls_box, W.HTML(protocol_note_html())]),
                        W.VBox([self.n_display, self.summary, self.times, self.message, self.curve])]),
                self.export.root,
                steps_box,
            ]
        ).add_class("trialnb-sample-size")

        self.solution: DesignSolution | None = None
        self.result: SampleSize | None = None
        self.curve_power: np.ndarray | None = None
        self.error: str = ""
        self._busy = False
        for c in self.controls:
            c.observe(self._update, names="value")
        self._update()

    def panel_settings(self) -> dict[str, Any]:
        """The control values (the settings file's content; :mod:`trialnb.reproduce`), the panel's
        only input. A value a browser's slider sends back as min + k x step with floating-point
        dust (0.049999999999999996 for 0.05) is the round number on its readout; the exact
        exp(-0.5) the control survival opens at stays exact."""
        def clean(v: Any) -> Any:
            if isinstance(v, float) and abs(v - round(v, 10)) <= 1e-12 * max(1.0, abs(v)):
                return round(v, 10)
            return v

        return {name: clean(w.value) for name, w in self.named.items()}

    def apply_settings(self, settings: Mapping[str, Any]) -> None:
        """Set the controls to ``settings`` (a subset of :meth:`panel_settings`' names) and
        compute once; a value a control does not accept is refused (``SettingsError``) before
        anything changes."""
        self.set_controls(settings)

    def settings(self) -> dict[str, Any]:
        """The current control values as keyword arguments of :func:`trialnb.sample_size.solve`
        (:func:`trialnb.reproduce.sample_size_kwargs`)."""
        return sample_size_kwargs(self.panel_settings())

    def _visible(self) -> list[W.Widget]:
        what = self.solve_for.value
        shown: list[W.Widget] = [self.solve_for, self.alpha]
        if what != "power":
            shown.append(self.power)
        if what != "hazard_ratio":
            shown.append(self.hazard_ratio)
        if what != "n":
            shown.append(self.n_patients)
        shown.append(self.control_form)
        shown.append(self.control_survival if self.control_form.value == "survival" else self.control_median)
        shown.append(self.accrual_form)
        shown.append(self.accrual if self.accrual_form.value == "duration" else self.accrual_intensity)
        shown += [self.follow_up, self.dropout_probability, self.loss_to_follow_up, self.allocation_ratio, self.method,
                  self.sided]
        return shown

    def _update(self, change: Any = None) -> None:
        """Callback: pure computation, then assignments only."""
        if self._busy:
            return
        self._controls_box.children = tuple(self._visible())
        try:
            kw = self.settings()
            sol = solve(**kw)
            events = sol.design.events_rounded if sol.design is not None else sol.events
            curve = power_curve(events, HR_GRID, sol.alpha, sol.allocation_ratio, sol.sided, sol.method)
            times = times_html(sol)
        except ValueError as exc:
            self.error = str(exc)
            self.message.value = f"<p style='color:#b00020'><b>Cannot compute:</b> {esc(str(exc))}</p>"
            self.export.refresh()
            return
        self.error = ""
        self.message.value = ""
        self.solution, self.result, self.curve_power = sol, sol.design, curve
        self.n_display.value = self._answer_html(sol)
        self.summary.value = self._summary_html(sol)
        self.times.value = times
        label = fmt_n(sol.design.events_rounded) if sol.design is not None else fmt_num(sol.events, 1)
        self.curve.value = power_curve_svg(HR_GRID, curve, sol.hazard_ratio, sol.power, label)
        self.steps.value = sol._repr_html_()
        self.export.refresh()

    @staticmethod
    def _answer_html(sol: DesignSolution) -> str:
        loss = fmt_pct(sol.loss_to_follow_up, 0)
        if sol.solved_for == "n" and sol.design is not None:  # the rounded design of solved_for="n"
            d = sol.design
            return (f"<div style='font-size:1.6em'><b>N = {fmt_n(d.n_total_after_loss)}</b> patients</div>"
                    f"<div>{fmt_n(d.n_treatment_after_loss)} in arm A + {fmt_n(d.n_control_after_loss)} in arm B "
                    f"(after {loss} loss)</div>")
        if sol.solved_for == "power":
            return (f"<div style='font-size:1.6em'><b>Power {fmt_pct(sol.power)}</b></div>"
                    f"<div>with {fmt_num(sol.n_patients, 0)} patients ({fmt_num(sol.events, 1)} deaths expected) at "
                    f"HR {fmt_num(sol.hazard_ratio, 2)}</div>")
        return (f"<div style='font-size:1.6em'><b>Detectable HR {fmt_num(sol.hazard_ratio, 3)}</b></div>"
                f"<div>with {fmt_num(sol.n_patients, 0)} patients and power {fmt_pct(sol.power)}: 2-year survival "
                f"{fmt_pct(sol.control_survival)} (B) vs {fmt_pct(sol.treatment_survival)} (A)</div>")

    @staticmethod
    def _summary_html(sol: DesignSolution) -> str:
        rows = []
        if sol.design is not None:
            d = sol.design
            rows += [("Events needed", f"<b>{fmt_n(d.events_rounded)}</b> ({fmt_num(d.events, 2)} unrounded)"),
                     ("Pr(event) per patient", fmt_num(d.event_probability, 3)),
                     ("N before loss", f"{fmt_n(d.n_total_rounded)} ({fmt_n(d.n_treatment)} A + {fmt_n(d.n_control)} "
                                       f"B; {fmt_num(d.n_total, 1)} unrounded)")]
        else:
            rows += [("Deaths expected", f"<b>{fmt_num(sol.events, 1)}</b>"),
                     ("Pr(event) per patient", fmt_num(sol.event_probability, 3)),
                     ("Evaluable patients", f"{fmt_num(sol.n_evaluable, 1)} (after {fmt_pct(sol.loss_to_follow_up, 0)} "
                                            "loss)")]
        if sol.accrual_time > 0 and math.isfinite(sol.accrual_intensity):
            rows.append(("Accrual", f"{fmt_num(sol.accrual_time, 1)} months at {fmt_num(sol.accrual_intensity, 1)} "
                                    "patients per month"))
        rows.append(("Study duration", f"{fmt_num(sol.study_duration, 1)} months"))
        return "<table>" + "".join(f"<tr><td>{k}</td><td style='text-align:right'>{v}</td></tr>" for k, v in rows) \
            + "</table>"


def protocol_note_html() -> str:
    """Why the panel, opened at the protocol's design, shows N = 240 and survival 0.607 where the
    protocol prints 236 and 0.60: the sentence shown on screen under the controls."""
    d, st = PROTOCOL.design, PROTOCOL.stated
    exact = sample_size(d.hazard_ratio, d.alpha, d.power, d.allocation_ratio, d.sided, "schoenfeld",
                        control_hazard=hazard_from_survival(d.control_survival_exact, HORIZON),
                        accrual_time=0.0, follow_up_time=HORIZON, loss_to_follow_up=d.loss_to_follow_up)
    return (
        "<p class='trialnb-protocol-note' style='max-width:560px;font-size:0.9em;line-height:1.35;color:#444'>"
        f"<b>Why not the protocol's {fmt_n(2 * st.n_per_arm_after_loss)}?</b> The panel opens at the "
        f"protocol's design, computed without its roundings: control 2-year survival "
        f"exp(−{fmt_num(d.control_cumulative_hazard, 1)}) = {fmt_num(d.control_survival_exact, 3)} (the protocol "
        f"prints {fmt_num(st.s1_2y, 2)}), Pr(event) {fmt_num(exact.event_probability, 4)} (protocol "
        f"{fmt_num(st.p_event, 2)}), and every step rounded up: {fmt_n(exact.events_rounded)} events → "
        f"{fmt_n(exact.n_control)} per arm → {fmt_n(exact.n_control_after_loss)} per arm after "
        f"{fmt_pct(d.loss_to_follow_up, 0)} loss = {fmt_n(exact.n_total_after_loss)}. The protocol divides "
        f"{fmt_n(st.events)} by {fmt_num(st.p_event, 2)} and rounds {fmt_num(st.events / st.p_event, 1)} "
        "<i>down</i> to "
        f"{fmt_n(st.n_total)}, hence {fmt_n(st.n_per_arm)} and {fmt_n(st.n_per_arm_after_loss)} per arm "
        "(notebook 02 shows each step).</p>"
    )


def build_dashboard(**initial: Any) -> W.Widget:
    """The explorer's root widget, ready to display (used by the Voilà dashboard)."""
    return SampleSizeExplorer(**initial).root
